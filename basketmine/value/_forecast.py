"""The (r, f, m) state-transition forecast.

At the end of each period a customer is in a state ``(r, f, m)``:

- ``r``: periods since the last period with a purchase (0: bought this
  period), capped at ``recency_bands - 1`` ("or more");
- ``f``: purchases in the last period with a purchase, in bands;
- ``m``: mean purchase value in that period, in quantile bands.

The chain's transition probabilities are counted from every customer's
period history.  A period without purchase moves ``r`` on and keeps ``f``
and ``m``; a period with purchases resets ``r`` to 0 with new bands.  With
``monetary="gamma-gamma"`` the band of the new mean value is drawn from the
customer's own Gamma-Gamma posterior instead of the population's counts, so
a big spender is forecast to stay one.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._lazy import LazyModule
from .._validation import Interval, InvalidParameterError, NotFittedError, Options, check
from ..transactions import TransactionMatrix
from ._models import GammaGamma
from ._summary import _PERIODS, last_complete_period, period_label, period_table, purchases, summary

stats = LazyModule("scipy.stats")

__all__ = ["StateTransitionForecast"]


class StateTransitionForecast:
    """Forecast each customer's purchases and value for the next periods
    with a Markov chain on (recency, frequency, monetary) states.

    Parameters
    ----------
    period : {"W", "M", "Q"}
        Period length (Monday weeks, calendar months or quarters).
    recency_bands : int
        Number of recency states: 0, 1, ..., ``recency_bands - 1`` or more
        idle periods.
    frequency_edges : sequence of int
        Lower edges of the purchase-count bands; ``(1, 2, 3)`` gives bands
        1, 2 and 3+.
    monetary_bands : int
        Number of quantile bands of the mean purchase value per period.
    monetary : {"gamma-gamma", "empirical"}
        Where the next mean-value band comes from: the customer's
        Gamma-Gamma posterior, or the population's transition counts.
    periods : int
        Default number of periods to forecast.
    observation_end : date, optional
        Last day of the history; only whole periods up to it are used.

    Attributes
    ----------
    states_ : MultiIndex of (r, f, m) states.
    transition_counts_, transition_matrix_ : DataFrame
        Observed transitions between states and their row-normalised
        probabilities (rows never observed borrow the pooled row of their
        recency band; failing that, the customer stays idle).
    current_state_ : DataFrame
        Each customer's state at the end of the history.
    band_purchases_ : Series
        Mean purchases per active period in each frequency band.
    monetary_edges_ : ndarray
        Inner edges of the mean-value bands.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> st = bm.value.StateTransitionForecast(period="M").fit(tm)
    >>> fc = st.forecast()
    >>> list(fc.columns)
    ['expected_purchases', 'expected_value', 'probability_active']
    """

    def __init__(self, period: str = "M", recency_bands: int = 5, frequency_edges=(1, 2, 3),
                 monetary_bands: int = 4, monetary: str = "gamma-gamma", periods: int = 3,
                 observation_end=None):
        self.period = period
        self.recency_bands = recency_bands
        self.frequency_edges = frequency_edges
        self.monetary_bands = monetary_bands
        self.monetary = monetary
        self.periods = periods
        self.observation_end = observation_end

    def _validate(self):
        owner = "StateTransitionForecast"
        check(owner, "period", self.period, Options(_PERIODS))
        check(owner, "recency_bands", self.recency_bands, Interval("int", 2, None, "left"))
        check(owner, "monetary_bands", self.monetary_bands, Interval("int", 1, None, "left"))
        check(owner, "monetary", self.monetary, Options(("gamma-gamma", "empirical")))
        check(owner, "periods", self.periods, Interval("int", 1, None, "left"))
        edges = list(self.frequency_edges)
        if not edges or edges[0] != 1 or any(not isinstance(e, (int, np.integer)) for e in edges) \
                or any(b <= a for a, b in zip(edges, edges[1:])):
            raise InvalidParameterError(
                f"The 'frequency_edges' parameter of {owner} must be increasing ints starting at 1, "
                f"e.g. (1, 2, 3). Got {self.frequency_edges!r} instead.")
        return np.asarray(edges, dtype=np.int64)

    def fit(self, tm: TransactionMatrix):
        """Count the transitions of every customer's period history."""
        owner = "StateTransitionForecast.fit"
        fedges = self._validate()
        p = purchases(tm, owner, self.observation_end)
        if p.revenue is None:
            raise InvalidParameterError(
                f"{owner} needs purchase values; build the TransactionMatrix with prices.")
        last = last_complete_period(p.end, self.period)
        pt = period_table(p, self.period, last)
        if len(pt.customer) == 0:
            raise InvalidParameterError(
                f"{owner}: no complete {self.period!r} period ends by {p.end:%Y-%m-%d}; give a "
                f"later observation_end or a shorter period.")
        R, F, M = self.recency_bands, len(fedges), self.monetary_bands
        mean_value = pt.revenue / pt.purchases
        qs = np.linspace(0, 1, M + 1)[1:-1]
        medges = np.quantile(mean_value, qs) if M > 1 else np.array([])
        fband = np.searchsorted(fedges, pt.purchases, side="right") - 1
        mband = np.searchsorted(medges, mean_value, side="right")
        state_id = (lambda r, f, m: (r * F + f) * M + m)
        S = R * F * M

        # every run of idle periods after an active one: between two active
        # periods of a customer, or from the last one to the end of the history
        cust, per = pt.customer, pt.period
        nxt_same = np.r_[cust[1:] == cust[:-1], False]
        run = np.where(nxt_same, np.r_[per[1:], 0] - per - 1, last - per)
        here = state_id(0, fband, mband)
        counts = np.zeros(S * S, dtype=np.int64)
        fm = fband * M + mband
        for r in range(R - 1):  # step r -> r + 1 taken by runs longer than r
            hit = run > r
            frm = r * F * M + fm[hit]
            np.add.at(counts, frm * S + (r + 1) * F * M + fm[hit], 1)
        top = (R - 1) * F * M + fm
        np.add.at(counts, top * S + top, np.maximum(run - (R - 1), 0))
        # the step that ends an idle run with the next active period
        ends_at = np.minimum(run, R - 1) * F * M + fm
        nx = np.flatnonzero(nxt_same)
        np.add.at(counts, ends_at[nx] * S + here[nx + 1], 1)
        counts = counts.reshape(S, S)
        lastrow = np.flatnonzero(~nxt_same)
        cur_r = np.minimum(run[lastrow], R - 1)
        cur_c = cust[lastrow]
        cur_state = np.column_stack([cur_r, fband[lastrow], mband[lastrow]])

        idx = pd.MultiIndex.from_product([range(R), range(F), range(M)], names=["r", "f", "m"])
        rows = counts.sum(axis=1)
        P = np.zeros((S, S))
        P[rows > 0] = counts[rows > 0] / rows[rows > 0, None]
        r_of = np.repeat(np.arange(R), F * M)
        succ = self._idle_successor(R, F, M)
        self.unseen_states_ = idx[rows == 0]
        for s in np.flatnonzero(rows == 0):
            # pool the rows of the same recency band: buy (to an active state) or stay idle
            same = np.flatnonzero((r_of == r_of[s]) & (rows > 0))
            if len(same):
                act = counts[same, :F * M].sum(axis=0)
                idle = counts[same, succ[same]].sum()
                tot = act.sum() + idle
                P[s, :F * M] = act / tot
                P[s, succ[s]] = idle / tot
            else:
                P[s, succ[s]] = 1.0

        self.states_ = idx
        self.transition_counts_ = pd.DataFrame(counts, index=idx, columns=idx)
        self.transition_matrix_ = pd.DataFrame(P, index=idx, columns=idx)
        self.frequency_edges_ = fedges
        self.monetary_edges_ = medges
        self.band_purchases_ = pd.Series(
            np.bincount(fband, weights=pt.purchases, minlength=F) / np.maximum(np.bincount(fband, minlength=F), 1),
            index=pd.Index(self._f_labels(fedges), name="f"), name="purchases")
        sv = np.bincount(state_id(0, fband, mband), weights=pt.revenue, minlength=S)
        sn = np.bincount(state_id(0, fband, mband), minlength=S)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.state_value_ = pd.Series(sv / sn, index=idx, name="value")
        self.current_state_ = pd.DataFrame(cur_state, index=pd.Index(p.labels[cur_c], name="customer"),
                                           columns=["r", "f", "m"])
        self.last_period_ = period_label(last, self.period)
        self._succ = succ
        self._dims = (R, F, M)
        if self.monetary == "gamma-gamma":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # already said by purchases() above
                X = summary(tm, observation_end=self.last_period_.end_time.normalize(), freq="D")
            X = X.loc[self.current_state_.index]
            self._gg_X = X
            gg = GammaGamma().fit(X[X["monetary_value"] > 0]) if (X["frequency"] > 0).any() else None
            self.gamma_gamma_ = gg
            self._posterior = gg.posterior(X) if gg is not None else None
        return self

    @staticmethod
    def _f_labels(fedges):
        out = [str(a) if b == a + 1 else f"{a}-{b - 1}" for a, b in zip(fedges, fedges[1:])]
        return out + [f"{fedges[-1]}+"]

    @staticmethod
    def _idle_successor(R, F, M):
        s = np.arange(R * F * M)
        r, fm = s // (F * M), s % (F * M)
        return np.minimum(r + 1, R - 1) * F * M + fm

    def _check(self, owner):
        if not hasattr(self, "transition_matrix_"):
            raise NotFittedError(f"StateTransitionForecast.{owner} needs a fitted model; call fit first.")

    def _monetary_probs(self, fcount):
        """Per customer and frequency band, the probability of each mean-value
        band under the customer's Gamma-Gamma posterior: N x F x M."""
        R, F, M = self._dims
        N = len(self.current_state_)
        gg = self.gamma_gamma_
        p = gg.params_["p"]
        post = self._posterior
        shape, rate = post["shape"].to_numpy()[:, None], post["rate"].to_numpy()[:, None]
        out = np.empty((N, F, M))
        for f in range(F):
            n = fcount[f]
            # mean of n purchases: S / n with S / rate ~ BetaPrime(p n, shape)
            cdf = [np.zeros((N, 1))]
            for e in self.monetary_edges_:
                cdf.append(stats.betaprime.cdf(e * n / rate, p * n, shape))
            cdf.append(np.ones((N, 1)))
            out[:, f, :] = np.diff(np.concatenate(cdf, axis=1), axis=1)
        return out

    def state_probabilities(self, periods: int | None = None) -> np.ndarray:
        """Each customer's state distribution after 1..``periods`` periods:
        an array (customers, periods, states) in the order of ``states_``."""
        self._check("state_probabilities")
        k = self.periods if periods is None else periods
        check("StateTransitionForecast.state_probabilities", "periods", k, Interval("int", 1, None, "left"))
        R, F, M = self._dims
        S = R * F * M
        N = len(self.current_state_)
        cs = self.current_state_.to_numpy()
        pi = np.zeros((N, S))
        pi[np.arange(N), (cs[:, 0] * F + cs[:, 1]) * M + cs[:, 2]] = 1.0
        P = self.transition_matrix_.to_numpy()
        out = np.empty((N, k, S))
        use_gg = self.monetary == "gamma-gamma" and getattr(self, "gamma_gamma_", None) is not None
        if use_gg:
            G = self._monetary_probs(self.band_purchases_.to_numpy())
            active = P.reshape(S, R, F, M)[:, 0].sum(axis=2)  # S x F: buy with f' next
            idle = P[np.arange(S), self._succ]
        for t in range(k):
            if use_gg:
                nxt = np.zeros((N, S))
                np.add.at(nxt.T, self._succ, (pi * idle).T)
                a = pi @ active  # N x F
                nxt[:, :F * M] += (a[:, :, None] * G).reshape(N, F * M)
                pi = nxt
            else:
                pi = pi @ P
            out[:, t] = pi
        return out

    def forecast(self, periods: int | None = None) -> pd.DataFrame:
        """Expected purchases, value and probability of buying, per customer
        and future period (1 = the period after the history)."""
        probs = self.state_probabilities(periods)
        R, F, M = self._dims
        N, k, S = probs.shape
        active = probs[:, :, :F * M].reshape(N, k, F, M)
        pf = active.sum(axis=3)  # N x k x F
        purchases_ = pf @ self.band_purchases_.to_numpy()
        if self.monetary == "gamma-gamma" and getattr(self, "gamma_gamma_", None) is not None:
            spend = self.gamma_gamma_.expected_spend(self._gg_X).to_numpy()
            value = purchases_ * spend[:, None]
        else:
            sv = np.nan_to_num(self.state_value_.to_numpy()[:F * M])
            value = active.reshape(N, k, F * M) @ sv
        idx = pd.MultiIndex.from_product([self.current_state_.index, range(1, k + 1)],
                                         names=["customer", "period"])
        return pd.DataFrame({"expected_purchases": purchases_.ravel(), "expected_value": value.ravel(),
                             "probability_active": pf.sum(axis=2).ravel()}, index=idx)

    def band_probabilities(self, period: int = 1) -> pd.DataFrame:
        """Per customer, the probability of each recency, frequency and
        monetary band ``period`` periods ahead (frequency and monetary bands
        are those of the last active period)."""
        check("StateTransitionForecast.band_probabilities", "period", period, Interval("int", 1, None, "left"))
        probs = self.state_probabilities(period)[:, period - 1]
        R, F, M = self._dims
        cube = probs.reshape(-1, R, F, M)
        cols = {f"r={r}" if r < R - 1 else f"r={r}+": cube[:, r].sum(axis=(1, 2)) for r in range(R)}
        for f, lab in enumerate(self._f_labels(self.frequency_edges_)):
            cols[f"f={lab}"] = cube[:, :, f].sum(axis=(1, 2))
        for m in range(M):
            cols[f"m={m + 1}"] = cube[:, :, :, m].sum(axis=(1, 2))
        return pd.DataFrame(cols, index=self.current_state_.index)
