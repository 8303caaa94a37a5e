"""The (r, h, f, m) state-transition forecast.

At the end of each period a customer is in a state ``(r, h, f, m)``:

- ``r``: periods since the last period with a purchase (0: bought this
  period), capped at ``recency_bands - 1`` ("or more");
- ``h``: which of the ``memory - 1`` periods before that last active period
  had a purchase too (a bit per period, the nearest in bit 0; always 0 with
  ``memory=1``), so that a customer who bought in each of the last three
  months is told from one who bought once;
- ``f``: purchases in the last period with a purchase, in bands;
- ``m``: mean purchase value in that period, in quantile bands.

The chain's transition probabilities are counted from every customer's
period history.  A period without purchase moves ``r`` on and keeps ``h``,
``f`` and ``m``; a period with purchases resets ``r`` to 0 with new bands.
Customers differ within a state: with ``shrinkage=k`` each customer's odds of
buying are those of the state times ``(k + B) / (k + E)``, B being the
periods they bought in and E the periods the chain expected them to (a
Gamma-Poisson credibility factor: a short history stays near the state's
rate).  With ``monetary="gamma-gamma"`` the band of the new mean value is
drawn from the customer's own Gamma-Gamma posterior instead of the
population's counts, so a big spender is forecast to stay one.

Besides the expected values, the chain gives each customer's whole
distribution of the number of active periods ahead
(:meth:`StateTransitionForecast.active_periods_distribution`); its median is
the point forecast for an absolute error (:meth:`StateTransitionForecast.totals`).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._lazy import LazyModule
from .._validation import NONE, Interval, InvalidParameterError, NotFittedError, Options, check, user_stacklevel
from ..transactions import TransactionMatrix
from ._models import ConvergenceWarning, GammaGamma
from ._summary import (_PERIODS, _period_start_days, last_complete_period, period_label, period_table,
                       purchases, summary)

stats = LazyModule("scipy.stats")

__all__ = ["StateTransitionForecast"]

_CELLS = 4_000_000  # (customer, state, count) cells pushed through the chain at once


def _times_odds(prob, factor):
    """The probability whose odds are ``prob``'s times ``factor`` (certain
    stays certain, impossible stays impossible)."""
    prob, factor = np.broadcast_arrays(np.asarray(prob, dtype=np.float64), factor)
    out = np.where(prob >= 1, 1.0, 0.0)
    ok = (prob > 0) & (prob < 1)
    o = prob[ok] / (1 - prob[ok]) * factor[ok]
    out[ok] = o / (1 + o)
    return out


class StateTransitionForecast:
    """Forecast each customer's purchases and value for the next periods
    with a Markov chain on (recency, recent activity, frequency, monetary)
    states.

    Parameters
    ----------
    period : {"W", "M", "Q"}
        Period length (Monday weeks, calendar months or quarters).
    recency_bands : int
        Number of recency states: 0, 1, ..., ``recency_bands - 1`` or more
        idle periods; at least ``memory``.
    memory : int
        Periods of activity the state remembers, 1 to 4: the last active one
        and the ``memory - 1`` before it.  1 is the plain (r, f, m) chain.  The
        default 3 was chosen by :func:`backtest` on the Online Retail and
        CDNOW logs (see the guide).
    frequency_edges : sequence of int
        Lower edges of the purchase-count bands; ``(1, 2, 3)`` gives bands
        1, 2 and 3+.
    monetary_bands : int
        Number of quantile bands of the mean purchase value per period.
    monetary : {"gamma-gamma", "empirical"}
        Where the next mean-value band comes from: the customer's
        Gamma-Gamma posterior, or the population's transition counts.
    shrinkage : float or None
        Strength ``k`` of the customer's own buying rate against the state's
        (see above), in expected active periods; None treats every customer
        of a state alike.
    periods : int
        Default number of periods to forecast.
    observation_end : date, optional
        Last day of the history; only whole periods up to it are used.
    season : SeasonalIndex, optional
        A calendar index of the same period (:func:`seasonal_index`).  The
        chain's buying odds are those of an average period of the history;
        with a covered index, a future period's odds are multiplied by its
        index over the history's mean index (weighted by the transitions
        counted in each period).  An index that is not covered changes
        nothing.

    Attributes
    ----------
    states_ : MultiIndex of (r, h, f, m) states.
    transition_counts_, transition_matrix_ : DataFrame
        Observed transitions between states and their row-normalised
        probabilities (rows never observed borrow the pooled row of their
        recency band; failing that, the customer stays idle).
    current_state_ : DataFrame
        Each customer's state at the end of the history.
    unseen_states_ : MultiIndex
        States no customer left in the history (their rows are pooled).
    band_value_ : Series
        Mean revenue of an active period in each (f, m) band (the empirical
        value model).
    customer_effect_ : Series
        Each customer's odds multiplier ``(k + B) / (k + E)`` (1 without
        shrinkage).
    band_purchases_ : Series
        Mean purchases per active period in each frequency band (a band
        never seen: its lower edge).
    period_spend_ : Series or None
        Each customer's expected revenue in a period with purchases: the
        Gamma-Gamma posterior mean fitted on the customers' revenues per
        active period (None when it cannot be fitted).
    monetary_edges_ : ndarray
        Inner edges of the mean-value bands.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> st = bm.value.StateTransitionForecast(period="M").fit(tm)
    >>> list(st.forecast().columns)
    ['expected_purchases', 'expected_value', 'probability_active']
    >>> list(st.totals().columns)
    ['expected_active_periods', 'median_active_periods', 'expected_purchases', 'expected_value', 'median_value']
    """

    def __init__(self, period: str = "M", recency_bands: int = 5, memory: int = 3, frequency_edges=(1, 2, 3),
                 monetary_bands: int = 4, monetary: str = "gamma-gamma", shrinkage=2.0, periods: int = 3,
                 observation_end=None, season=None):
        self.period = period
        self.recency_bands = recency_bands
        self.memory = memory
        self.frequency_edges = frequency_edges
        self.monetary_bands = monetary_bands
        self.monetary = monetary
        self.shrinkage = shrinkage
        self.periods = periods
        self.observation_end = observation_end
        self.season = season

    def _validate(self):
        owner = "StateTransitionForecast"
        check(owner, "period", self.period, Options(_PERIODS))
        check(owner, "recency_bands", self.recency_bands, Interval("int", 2, None, "left"))
        check(owner, "memory", self.memory, Interval("int", 1, 4, "both"))
        if self.recency_bands < self.memory:
            raise InvalidParameterError(
                f"The 'recency_bands' parameter of {owner} must be at least memory ({self.memory}). "
                f"Got {self.recency_bands!r} instead.")
        check(owner, "monetary_bands", self.monetary_bands, Interval("int", 1, None, "left"))
        check(owner, "monetary", self.monetary, Options(("gamma-gamma", "empirical")))
        check(owner, "shrinkage", self.shrinkage, (NONE, Interval("real", 0, float("inf"), "neither")))
        check(owner, "periods", self.periods, Interval("int", 1, None, "left"))
        from ._seasonal import SeasonalIndex
        if self.season is not None and (not isinstance(self.season, SeasonalIndex)
                                        or self.season.period != self.period):
            raise InvalidParameterError(
                f"The 'season' parameter of {owner} must be None or a SeasonalIndex of period "
                f"{self.period!r} (from seasonal_index). Got {self.season!r:.80} instead.")
        edges = list(self.frequency_edges)
        if not edges or edges[0] != 1 or any(not isinstance(e, (int, np.integer)) for e in edges) \
                or any(b <= a for a, b in zip(edges, edges[1:])):
            raise InvalidParameterError(
                f"The 'frequency_edges' parameter of {owner} must be increasing ints starting at 1, "
                f"e.g. (1, 2, 3). Got {self.frequency_edges!r} instead.")
        return np.asarray(edges, dtype=np.int64)

    def fit(self, tm: TransactionMatrix):
        """Walk every customer's period history and count the transitions."""
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
        R, H, F, M = self.recency_bands, 2 ** (self.memory - 1), len(fedges), self.monetary_bands
        mean_value = pt.revenue / pt.purchases
        qs = np.linspace(0, 1, M + 1)[1:-1]
        medges = np.quantile(mean_value, qs) if M > 1 else np.array([])
        fband = np.searchsorted(fedges, pt.purchases, side="right") - 1
        mband = np.searchsorted(medges, mean_value, side="right")
        FM = F * M
        S = R * H * FM
        self._dims = (R, H, F, M)

        # every customer's state at the end of each period from their first to `last`
        codes, row = np.unique(pt.customer, return_inverse=True)
        row = row.ravel()
        lo = int(pt.period.min())
        col = pt.period - lo
        N, T = len(codes), last - lo + 1
        act = np.zeros((N, T), dtype=bool)
        act[row, col] = True
        fmat = np.zeros((N, T), dtype=np.int64)
        fmat[row, col] = fband * M + mband
        first = np.full(N, T)
        np.minimum.at(first, row, col)
        states = np.full((N, T), -1, dtype=np.int64)
        r = np.full(N, R - 1, dtype=np.int64)   # no activity before the first purchase
        h = np.zeros(N, dtype=np.int64)
        fm = np.zeros(N, dtype=np.int64)
        for t in range(T):
            a = act[:, t]
            # the periods before the new active one, nearest first: r idle ones, the last active, then h
            rr = np.minimum(r, self.memory)
            h = np.where(a, ((h << (rr + 1)) | (1 << rr)) & (H - 1), h)
            r = np.where(a, 0, np.minimum(r + 1, R - 1))
            fm = np.where(a, fmat[:, t], fm)
            states[:, t] = np.where(first <= t, (r * H + h) * FM + fm, -1)
        frm, to = states[:, :-1], states[:, 1:]
        seen = frm >= 0
        counts = np.bincount(frm[seen] * S + to[seen], minlength=S * S).reshape(S, S)

        idx = pd.MultiIndex.from_product([range(R), range(H), range(F), range(M)], names=["r", "h", "f", "m"])
        s_all = np.arange(S)
        r_of, h_of = s_all // (H * FM), (s_all // FM) % H
        succ = np.minimum(r_of + 1, R - 1) * H * FM + s_all % (H * FM)
        rr = np.minimum(r_of, self.memory)
        h_next = ((h_of << (rr + 1)) | (1 << rr)) & (H - 1)   # h after buying from each state
        rows = counts.sum(axis=1)
        P = np.zeros((S, S))
        P[rows > 0] = counts[rows > 0] / rows[rows > 0, None]
        self.unseen_states_ = idx[rows == 0]
        for s in np.flatnonzero(rows == 0):
            # pool the rows of the same recency band: buy (to an active state) or stay idle
            same = np.flatnonzero((r_of == r_of[s]) & (rows > 0))
            if len(same):
                act_fm = counts[same, :H * FM].reshape(len(same), H, FM).sum(axis=(0, 1))
                idle = counts[same, succ[same]].sum()
                tot = act_fm.sum() + idle
                P[s, h_next[s] * FM:(h_next[s] + 1) * FM] = act_fm / tot
                P[s, succ[s]] += idle / tot
            else:
                P[s, succ[s]] = 1.0
        buy = P[:, :H * FM].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            # where a buyer goes: the (f, m) bands of the new active period, given a purchase
            Q = np.where(buy[:, None] > 0, P[s_all[:, None], h_next[:, None] * FM + np.arange(FM)] / buy[:, None], 0.0)

        # each customer's odds of buying against the state's: (k + bought) / (k + expected)
        crow = np.broadcast_to(np.arange(N)[:, None], frm.shape)[seen]
        bought = np.bincount(crow, weights=act[:, 1:][seen], minlength=N)
        expected = np.bincount(crow, weights=buy[frm[seen]], minlength=N)
        k = self.shrinkage
        effect = np.ones(N) if k is None else (k + bought) / (k + expected)
        cur = states[:, -1]

        self.states_ = idx
        self.transition_counts_ = pd.DataFrame(counts, index=idx, columns=idx)
        self.transition_matrix_ = pd.DataFrame(P, index=idx, columns=idx)
        self.frequency_edges_ = fedges
        self.monetary_edges_ = medges
        fcount = np.bincount(fband, minlength=F)
        self.band_purchases_ = pd.Series(
            np.where(fcount > 0, np.bincount(fband, weights=pt.purchases, minlength=F) / np.maximum(fcount, 1),
                     fedges),
            index=pd.Index(self._f_labels(fedges), name="f"), name="purchases")
        # value of an active period by its (f, m) bands
        sv = np.bincount(fband * M + mband, weights=pt.revenue, minlength=FM)
        sn = np.bincount(fband * M + mband, minlength=FM)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.band_value_ = pd.Series(sv / sn, index=pd.MultiIndex.from_product([range(F), range(M)],
                                                                                  names=["f", "m"]), name="value")
        labels = pd.Index(p.labels[codes], name="customer")
        self.current_state_ = pd.DataFrame(np.column_stack([cur // (H * FM), (cur // FM) % H, (cur // M) % F,
                                                            cur % M]), index=labels, columns=["r", "h", "f", "m"])
        self.customer_effect_ = pd.Series(effect, index=labels, name="effect")
        self.last_period_ = period_label(last, self.period)
        self._chain = (succ, h_next, buy, Q, cur)
        self._calendar = None
        if self.season is not None and self.season.covered:
            w = seen.sum(axis=0)     # transitions counted into periods lo + 1 .. last
            at = self._index_at(np.arange(lo + 1, last + 1))
            base = float(at @ w / w.sum()) if w.sum() else 1.0
            if not base > 0:
                raise InvalidParameterError(
                    f"The 'season' parameter of {owner} must hold a positive index over the history; "
                    f"its mean over the periods fitted is {base!r}.")
            self._calendar = (base, last)
        # spend per active period: a Gamma-Gamma posterior on each customer's period revenues
        n_act = np.bincount(row, minlength=N).astype(float)
        per_period = np.bincount(row, weights=pt.revenue, minlength=N) / n_act
        X = pd.DataFrame({"frequency": n_act, "monetary_value": per_period}, index=labels)
        fit_on = X[X["monetary_value"] > 0]
        self.period_spend_ = self._period_gg = None
        why = "fewer than two customers with distinct positive revenues"
        if len(fit_on) >= 2 and fit_on["monetary_value"].nunique() > 1:
            try:
                with warnings.catch_warnings(record=True) as said:
                    warnings.simplefilter("always")
                    gg = GammaGamma().fit(fit_on)
                why = next((str(w.message) for w in said if issubclass(w.category, ConvergenceWarning)), None)
            except (InvalidParameterError, ValueError, np.linalg.LinAlgError) as exc:
                why = str(exc)
            if why is None:
                Xc = X.assign(monetary_value=X["monetary_value"].clip(lower=0))
                self.period_spend_ = gg.expected_spend(Xc).rename("spend")
                post = gg.posterior(Xc)
                self._period_gg = (gg.params_["p"], post["shape"].to_numpy(), post["rate"].to_numpy())
        if self._period_gg is None:
            warnings.warn(f"{owner}: the Gamma-Gamma of revenue per active period was not fitted ({why}); "
                          f"values come from the spend per purchase (or the bands' mean value), and "
                          f"median_value is the median active periods at the expected value of one.",
                          UserWarning, stacklevel=user_stacklevel())
        if self.monetary == "gamma-gamma":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # already said by purchases() above
                X = summary(tm, observation_end=self.last_period_.end_time.normalize(), freq="D")
            X = X.loc[labels]
            self._gg_X = X
            gg = GammaGamma().fit(X[X["monetary_value"] > 0]) if (X["frequency"] > 0).any() else None
            self.gamma_gamma_ = gg
            self._posterior = gg.posterior(X) if gg is not None else None
        return self

    @staticmethod
    def _f_labels(fedges):
        out = [str(a) if b == a + 1 else f"{a}-{b - 1}" for a, b in zip(fedges, fedges[1:])]
        return out + [f"{fedges[-1]}+"]

    def _check(self, owner):
        if not hasattr(self, "transition_matrix_"):
            raise NotFittedError(f"StateTransitionForecast.{owner} needs a fitted model; call fit first.")

    def _periods_arg(self, owner, periods):
        self._check(owner)
        k = self.periods if periods is None else periods
        check(f"StateTransitionForecast.{owner}", "periods", k, Interval("int", 1, None, "left"))
        return k

    def _use_gg(self):
        return self.monetary == "gamma-gamma" and getattr(self, "gamma_gamma_", None) is not None

    def _monetary_probs(self, fcount, rows=slice(None)):
        """Per customer and frequency band, the probability of each mean-value
        band under the customer's Gamma-Gamma posterior: N x F x M."""
        R, H, F, M = self._dims
        p = self.gamma_gamma_.params_["p"]
        post = self._posterior.iloc[rows]
        shape, rate = post["shape"].to_numpy()[:, None], post["rate"].to_numpy()[:, None]
        N = len(post)
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

    def _push(self, k: int, count: bool):
        """Push every customer's state through ``k`` periods, a chunk of
        customers at a time.  Yields (rows, per-period state probabilities
        n x k x S) or, with ``count``, (rows, n x S x (k + 1)): the joint
        distribution of the state and the number of active periods so far."""
        R, H, F, M = self._dims
        FM, S = F * M, R * H * F * M
        succ, h_next, buy, Q, cur = self._chain
        stay = np.flatnonzero(succ == np.arange(S))   # r capped: idle keeps the state
        move = np.flatnonzero(succ != np.arange(S))
        groups = [np.flatnonzero((h_next == g) & (buy > 0)) for g in range(H)]
        use_gg = self._use_gg()
        if use_gg:
            QF = Q.reshape(S, F, M).sum(axis=2)
        effect = self.customer_effect_.to_numpy()
        cal = None
        if self._calendar is not None:
            base, last = self._calendar
            cal = self._index_at(np.arange(last + 1, last + k + 1)) / base
        N = len(cur)
        chunk = max(16, _CELLS // (S * (k + 1 if count else k)))
        for lo in range(0, N, chunk):
            rows = slice(lo, min(lo + chunk, N))
            n = rows.stop - rows.start
            bc = _times_odds(buy[None, :], effect[rows, None])            # n x S
            G = self._monetary_probs(self.band_purchases_.to_numpy(), rows) if use_gg else None
            pi = np.zeros((n, S, 1))
            pi[np.arange(n), cur[rows], 0] = 1.0
            out = np.empty((n, k, S)) if not count else None
            for t in range(k):
                a = pi * (bc if cal is None else _times_odds(bc, cal[t]))[:, :, None]
                idle = pi - a
                # after t + 1 periods at most t + 1 were active: the count axis grows by one
                J = pi.shape[2] + 1 if count else 1
                nxt = np.zeros((n, S, J))
                nxt[:, succ[move], :idle.shape[2]] = idle[:, move]
                nxt[:, stay, :idle.shape[2]] += idle[:, stay]
                lo = 1 if count else 0   # a purchase adds one active period
                for g, src in enumerate(groups):
                    if not len(src):
                        continue
                    block = slice(g * FM, (g + 1) * FM)
                    if use_gg:
                        af = np.einsum("nsj,sf->nfj", a[:, src], QF[src])
                        nxt[:, block, lo:] += (af[:, :, None, :] * G[:, :, :, None]).reshape(n, FM, -1)
                    else:
                        nxt[:, block, lo:] += np.einsum("nsj,sx->nxj", a[:, src], Q[src])
                pi = nxt
                if not count:
                    out[:, t] = pi[:, :, 0]
            yield rows, (pi if count else out)

    def _index_at(self, ordinals):
        days = _period_start_days(ordinals, self.period).astype(np.int64)
        return self.season.at(days.astype("datetime64[D]").astype("datetime64[ns]"))

    def state_probabilities(self, periods: int | None = None) -> np.ndarray:
        """Each customer's state distribution after 1..``periods`` periods:
        an array (customers, periods, states) in the order of ``states_``."""
        k = self._periods_arg("state_probabilities", periods)
        N, S = len(self.current_state_), len(self.states_)
        out = np.empty((N, k, S))
        for rows, probs in self._push(k, count=False):
            out[rows] = probs
        return out

    def active_periods_distribution(self, periods: int | None = None) -> pd.DataFrame:
        """Each customer's probability of buying in exactly 0, 1, ...,
        ``periods`` of the next periods (rows sum to 1)."""
        k = self._periods_arg("active_periods_distribution", periods)
        out = np.empty((len(self.current_state_), k + 1))
        for rows, joint in self._push(k, count=True):
            out[rows] = joint.sum(axis=1)
        return pd.DataFrame(out, index=self.current_state_.index,
                            columns=pd.RangeIndex(k + 1, name="active_periods"))

    def forecast(self, periods: int | None = None) -> pd.DataFrame:
        """Expected purchases, value and probability of buying, per customer
        and future period (1 = the period after the history).

        The expected value is the probability of buying times the customer's
        expected revenue in an active period (``period_spend_``); with
        ``monetary="empirical"``, the mean value of the (f, m) bands the
        chain reaches."""
        probs = self.state_probabilities(periods)
        R, H, F, M = self._dims
        N, k, S = probs.shape
        active = probs[:, :, :H * F * M].reshape(N, k, H, F, M).sum(axis=2)
        pf = active.sum(axis=3)  # N x k x F
        purchases_ = pf @ self.band_purchases_.to_numpy()
        if self._use_gg() and self.period_spend_ is not None:   # an active period's expected revenue
            value = pf.sum(axis=2) * self.period_spend_.to_numpy()[:, None]
        elif self._use_gg():
            spend = self.gamma_gamma_.expected_spend(self._gg_X).to_numpy()
            value = purchases_ * spend[:, None]
        else:
            value = active.reshape(N, k, F * M) @ np.nan_to_num(self.band_value_.to_numpy())
        idx = pd.MultiIndex.from_product([self.current_state_.index, range(1, k + 1)],
                                         names=["customer", "period"])
        return pd.DataFrame({"expected_purchases": purchases_.ravel(), "expected_value": value.ravel(),
                             "probability_active": pf.sum(axis=2).ravel()}, index=idx)

    def totals(self, periods: int | None = None) -> pd.DataFrame:
        """Per customer, the whole horizon: expected and median number of
        active periods, expected purchases, and the expected and median
        value.

        The value of the horizon is the sum of its active periods' revenues:
        their number as :meth:`active_periods_distribution` says, each
        Gamma-distributed around the customer's Gamma-Gamma posterior of
        revenue per active period (``period_spend_``); ``expected_value``
        is the mean of that distribution (the sum of :meth:`forecast`'s) and
        ``median_value`` its median.  The expectations are the forecasts to
        sum (totals, squared errors); the medians are those to judge by
        absolute error, where a customer more likely to buy in none of the
        periods is forecast 0.
        """
        k = self._periods_arg("totals", periods)
        fc = self.forecast(k).groupby(level="customer", sort=False).sum(min_count=1)
        dist = self.active_periods_distribution(k).to_numpy()
        med = (dist.cumsum(axis=1) < 0.5).sum(axis=1).astype(float)
        ea = fc["probability_active"].to_numpy()
        ev = fc["expected_value"].to_numpy()
        if self._period_gg is not None:
            median_value = self._value_median(dist, *self._period_gg)
        else:   # no spend model: the median periods at the expected value of an active period
            with np.errstate(invalid="ignore", divide="ignore"):
                median_value = med * np.where(ea > 0, ev / ea, 0.0)
        return pd.DataFrame({"expected_active_periods": ea, "median_active_periods": med,
                             "expected_purchases": fc["expected_purchases"].to_numpy(), "expected_value": ev,
                             "median_value": median_value}, index=fc.index)

    @staticmethod
    def _value_median(dist, p, shape, rate, iterations: int = 64):
        """The median of the horizon's value: j active periods with
        probability ``dist[:, j]``, each period's revenue Gamma(p, nu) and nu
        the customer's Gamma(shape, rate) posterior, so that j periods sum to
        rate x BetaPrime(j p, shape).  Found by bisection on a log scale."""
        out = np.zeros(len(dist))
        need = np.flatnonzero(dist[:, 0] < 0.5)      # the others' median is 0
        dist, shape, rate = dist[need], shape[need], rate[need]
        # around p x rate / shape (finite for any posterior); e^40 either side holds the median
        centre = np.log(p * rate / shape)
        lo, hi = centre - 40.0, centre + 40.0 + np.log(dist.shape[1])
        for _ in range(iterations):
            mid = (lo + hi) / 2
            cdf = dist[:, 0].copy()
            for j in range(1, dist.shape[1]):
                cdf += dist[:, j] * stats.betaprime.cdf(np.exp(mid) / rate, j * p, shape)
            below = cdf < 0.5
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        out[need] = np.exp((lo + hi) / 2)
        return out

    def band_probabilities(self, period: int = 1) -> pd.DataFrame:
        """Per customer, the probability of each recency, frequency and
        monetary band ``period`` periods ahead (frequency and monetary bands
        are those of the last active period)."""
        check("StateTransitionForecast.band_probabilities", "period", period, Interval("int", 1, None, "left"))
        probs = self.state_probabilities(period)[:, period - 1]
        R, H, F, M = self._dims
        cube = probs.reshape(-1, R, H, F, M).sum(axis=2)
        cols = {f"r={r}" if r < R - 1 else f"r={r}+": cube[:, r].sum(axis=(1, 2)) for r in range(R)}
        for f, lab in enumerate(self._f_labels(self.frequency_edges_)):
            cols[f"f={lab}"] = cube[:, :, f].sum(axis=(1, 2))
        for m in range(M):
            cols[f"m={m + 1}"] = cube[:, :, :, m].sum(axis=(1, 2))
        return pd.DataFrame(cols, index=self.current_state_.index)
