"""A calendar (seasonal) index of the repeat-purchase rate, and operational
time: calendar time stretched by the index, on which the BG/NBD family can
be fitted and forecast as if purchase rates did not move with the calendar."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import InBody, InvalidParameterError, Options, validated
from ..transactions import TransactionMatrix
from ._summary import (_NS_PER_DAY, OBSERVATION_END, _period_start_days, _periods, _summary_of,
                       last_complete_period, purchases)

__all__ = ["SEASON_PERIODS", "SeasonalIndex", "seasonal_index", "seasonal_summary"]

#: The calendars :func:`seasonal_index` knows: calendar months (12 seasons)
#: and weeks of the year (52 seasons, Monday to Sunday; an ISO year's week 53
#: counts as week 52).
SEASON_PERIODS = ("M", "W")
_SEASONS = {"M": 12, "W": 52}
_NAMES = {"M": "monthly", "W": "weekly"}
_TREND_TERMS = 2   # intercept and slope: P seasons add P - 1 effects, so P + 1 parameters


def min_periods(period: str) -> int:
    """Whole periods a seasonal index needs: the trend's two parameters and
    the season's P - 1 free effects make P + 1 parameters, identifiable from
    P + 1 periods; one more leaves a residual degree of freedom."""
    return _SEASONS[period] + _TREND_TERMS


def _season(ordinal: np.ndarray, period: str) -> np.ndarray:
    """Season position (1..12 or 1..52) of period ordinals of ``_periods``."""
    ordinal = np.asarray(ordinal, dtype=np.int64)
    if period == "M":
        return ordinal % 12 + 1
    # ISO week number: the week of the year holding the week's Thursday
    thursday = ordinal * 7   # Monday (ordinal * 7 - 3) + 3 days, in days since the epoch
    year_start = thursday.astype("datetime64[D]").astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    return np.minimum((thursday - year_start) // 7 + 1, 52)


def _as_ns(x) -> np.ndarray:
    """Times as a datetime64[ns] array (scalars become 0-d arrays)."""
    if isinstance(x, (pd.Series, pd.Index)):
        return pd.to_datetime(x).to_numpy(dtype="datetime64[ns]")
    arr = np.asarray(x)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[ns]")
    flat = pd.to_datetime(np.atleast_1d(arr).ravel()).to_numpy(dtype="datetime64[ns]")
    return flat.reshape(arr.shape)


@dataclass
class SeasonalIndex:
    """A multiplicative calendar effect on the repeat-purchase rate.

    Attributes
    ----------
    index : Series
        The effect per season position (calendar months 1..12 for
        ``period="M"``, weeks of the year 1..52 for ``"W"``), mean 1 over the
        positions: a customer's rate in a season is their base rate times it.
        All ones when not ``covered``.
    covered : bool
        Whether the history was long enough to estimate the index.
    note : str
        What the estimate rests on, or why there is none.
    periods : int
        Whole periods used.
    period : str
        ``"M"`` or ``"W"``.
    observation_end : Timestamp
        The end of the history the index was estimated on.
    trend : float
        The fitted change of the repeat-purchase rate per period (a factor,
        1.0 = flat; 1.0 when not covered).

    Examples
    --------
    A constant index leaves time as it is; a doubled January doubles its days:

    >>> import pandas as pd, basketmine as bm
    >>> flat = bm.value.SeasonalIndex(pd.Series(1.0, index=range(1, 13)), True, "", 36, "M",
    ...                               pd.Timestamp("2020-12-31"))
    >>> float(flat.operational_days("2021-01-20", "2021-02-10"))
    21.0
    >>> busy = flat.index.copy(); busy[1] = 2.0
    >>> jan = bm.value.SeasonalIndex(busy, True, "", 36, "M", pd.Timestamp("2020-12-31"))
    >>> float(jan.operational_days("2021-01-20", "2021-02-10"))   # 12 January days count twice
    33.0
    """

    index: pd.Series
    covered: bool
    note: str
    periods: int
    period: str
    observation_end: pd.Timestamp
    trend: float = 1.0

    def at(self, times) -> np.ndarray:
        """The index in force at each of ``times`` (its period's season)."""
        t = _as_ns(times)
        s = self._values()
        return s[_season(_periods(t.ravel(), self.period), self.period) - 1].reshape(t.shape)

    def _values(self) -> np.ndarray:
        v = self.index.reindex(range(1, _SEASONS[self.period] + 1)).to_numpy(dtype=np.float64)
        if not np.isfinite(v).all() or (v < 0).any():
            raise InvalidParameterError(
                f"The index of a SeasonalIndex must hold a finite value >= 0 for every season "
                f"1..{_SEASONS[self.period]}. Got {self.index.to_dict()!r:.120}.")
        return v

    def _cumulative(self, t: np.ndarray, lo: int, cum: np.ndarray, s: np.ndarray):
        ns = t.view(np.int64)
        day, frac = np.divmod(ns, _NS_PER_DAY)
        o = _periods(t, self.period)
        start = _period_start_days(o, self.period).astype(np.int64)
        # whole periods before o, then the part of o up to t (integer days first: exact for dates)
        return cum[o - lo] + s[o - lo] * ((day - start) + frac / _NS_PER_DAY)

    def operational_days(self, start, end):
        """Operational time from ``start`` to ``end``: the integral of the
        index over the interval, in days (``end`` before ``start`` gives a
        negative span).  The index is constant over each calendar month or
        week, so a constant index of 1 gives plain days.

        ``start`` and ``end`` are times (Timestamps, strings, datetime64, or
        arrays or Series of them) and broadcast against each other; a float
        for scalars, an array otherwise.
        """
        a, b = np.broadcast_arrays(_as_ns(start), _as_ns(end))
        shape = a.shape
        a, b = a.ravel(), b.ravel()
        if np.isnat(a).any() or np.isnat(b).any():
            raise InvalidParameterError("operational_days needs times, not missing values (NaT).")
        if a.size == 0:
            return np.zeros(shape)
        s_pos = self._values()
        oa, ob = _periods(a, self.period), _periods(b, self.period)
        lo, hi = int(min(oa.min(), ob.min())), int(max(oa.max(), ob.max()))
        ords = np.arange(lo, hi + 2)
        starts = _period_start_days(ords, self.period).astype(np.int64)
        s = s_pos[_season(ords[:-1], self.period) - 1]
        cum = np.concatenate([[0.0], np.cumsum(s * np.diff(starts))])
        out = self._cumulative(b, lo, cum, s) - self._cumulative(a, lo, cum, s)
        return float(out[0]) if shape == () else out.reshape(shape)


def _fit_poisson(y, offset, X, max_iter: int = 100, tol: float = 1e-10):
    """Poisson regression with a log link by iteratively reweighted least
    squares: log mu = offset + X beta."""
    rate = max(y.sum(), 0.5) / np.exp(offset).sum()
    beta = np.zeros(X.shape[1])
    beta[0] = np.log(rate)
    dev_old = np.inf
    for _ in range(max_iter):
        eta = offset + X @ beta
        mu = np.exp(eta)
        z = eta - offset + (y - mu) / mu
        w = np.sqrt(mu)
        beta = np.linalg.lstsq(X * w[:, None], z * w, rcond=None)[0]
        mu = np.exp(offset + X @ beta)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2 * np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu))
        if abs(dev_old - dev) <= tol * (abs(dev) + 1):
            break
        dev_old = dev
    return beta


def _exposure(first_day: np.ndarray, ords: np.ndarray, period: str, end_day: int) -> np.ndarray:
    """Customer-days at risk of a repeat purchase in each period of ``ords``:
    per customer, the days of the period after their first purchase day (and
    not after ``end_day``)."""
    starts = _period_start_days(ords, period).astype(np.int64)
    ends = np.minimum(_period_start_days(ords + 1, period).astype(np.int64), end_day + 1)  # exclusive
    f = np.sort(first_day + 1)   # at risk from the day after the first purchase
    # sum over customers of max(0, end - max(start, f)): customers with f <= start give the
    # whole period; those with start < f < end give end - f
    n_before = np.searchsorted(f, starts, side="right")
    n_inside_hi = np.searchsorted(f, ends, side="left")
    csum = np.concatenate([[0], np.cumsum(f)])
    inside = n_inside_hi - n_before
    inside_sum = csum[n_inside_hi] - csum[n_before]
    return n_before * (ends - starts) + np.maximum(inside * ends - inside_sum, 0)


_SPEC = {"tm": InBody("a TransactionMatrix with customers and times"),
         "period": Options(SEASON_PERIODS), "observation_end": OBSERVATION_END}


@validated(_SPEC)
def seasonal_index(tm: TransactionMatrix, period: str = "M", *, observation_end=None) -> SeasonalIndex:
    """Estimate the calendar effect on customers' repeat-purchase rate.

    The counted events are purchases as the BG/NBD family counts them:
    distinct (customer, day) pairs, each after the customer's first purchase
    day.  Per whole period ``t`` (calendar month or Monday-to-Sunday week) of
    the history, the count is modelled as Poisson with

        log mu_t = log(exposure_t) + a + b * t + s[season(t)],  sum(s) = 0,

    where ``exposure_t`` is the customer-days at risk in the period: for each
    customer, the days of the period after their first purchase.  The
    exposure takes out the growth of the customer base (acquisition) and the
    length of the period (28 to 31 days); the trend ``b`` takes the slow
    decline of the rate per exposed customer as customers drop out; first
    purchases (acquisition, itself often seasonal) are not counted, as the
    purchase models count repeat purchases only.  The fit is by iteratively
    reweighted least squares; the index is ``exp(s)`` scaled to mean 1 over
    the seasons.

    The trend's two parameters and the P - 1 free season effects (P = 12 or
    52) make P + 1 parameters, so the estimate needs at least P + 2 whole
    periods with exposure (14 months or 54 weeks; one degree of freedom
    spare).  With fewer, the index is all ones, ``covered`` is False and
    ``note`` says how many periods the history holds.  Between P + 2 and
    2 P periods the split between trend and season rests on a single
    repeated stretch of the calendar, and the note says so: two or more full
    years give a firmer index.

    Parameters
    ----------
    tm : TransactionMatrix
        With customers and times.
    period : {"M", "W"}
        Calendar months (index by month 1..12) or weeks (ISO week of the year
        1..52, week 53 counted as 52).
    observation_end : date, optional
        End of the history (default: the last purchase); later baskets are
        left out.  Periods not wholly inside the history (the one holding the
        first purchase unless it starts that day, and the one holding
        ``observation_end`` unless it ends that day) are not used.

    Returns
    -------
    SeasonalIndex
        Use :meth:`SeasonalIndex.operational_days` and
        :func:`seasonal_summary` to fit and forecast the purchase models in
        operational time.

    Examples
    --------
    The Online Retail sample covers one year, too little to tell season from
    trend; the CDNOW sample covers 18 months:

    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice", cancellations="drop")
    >>> si = bm.value.seasonal_index(tm, "M", observation_end="2011-09-30")
    >>> si.covered, si.periods
    (False, 10)
    >>> print(si.note)
    the history holds 10 monthly periods before 2011-09-30; a seasonal index needs at least 14 (one season of 12 plus 2)
    >>> cd = bm.read_cdnow("datasets/cdnow/CDNOW_sample.txt")
    >>> si = bm.value.seasonal_index(cd, "M")
    >>> si.covered, si.periods
    (True, 18)
    >>> print(si.note)
    estimated from 18 monthly periods (1.5 seasons of 12) from 1997-01-01 to the period starting 1998-06-01; fewer than two seasons: the split between trend and season is weak
    >>> si.index.round(2).tolist()
    [1.03, 1.3, 1.29, 0.96, 0.88, 0.96, 0.87, 0.78, 0.87, 0.92, 1.12, 1.03]

    That sample is one cohort (first purchases in January to March 1997),
    whose early repeat purchases come faster than a log-linear trend allows:
    part of February and March's high index is the cohort's youth, not the
    calendar.
    """
    owner = "seasonal_index"
    p = purchases(tm, owner, observation_end)
    P = _SEASONS[period]
    need = min_periods(period)
    day = p.time.astype("datetime64[D]").astype(np.int64)
    end_day = int(p.end.normalize().to_datetime64().astype("datetime64[D]").astype(np.int64))
    # distinct (customer, day) purchases; each customer's first day is not a repeat purchase
    key = np.unique(p.customer.astype(np.int64) * (1 << 32) + (day - day.min() if len(day) else day))
    cust = key >> 32
    pday = (key & ((1 << 32) - 1)) + (day.min() if len(day) else 0)
    is_first = np.r_[True, cust[1:] != cust[:-1]] if len(cust) else np.zeros(0, bool)
    first_day = pday[is_first]
    repeat_day = pday[~is_first]
    # whole periods: from the first one starting on or after the first purchase day
    # to the last one ending by observation_end
    first_day_all = int(first_day.min())
    o0 = int(_periods(np.array([first_day_all], dtype="datetime64[D]").astype("datetime64[ns]"), period)[0])
    if _period_start_days(np.array([o0]), period)[0] < first_day_all:
        o0 += 1
    o1 = last_complete_period(p.end, period)
    ords = np.arange(o0, o1 + 1, dtype=np.int64)
    expo = _exposure(first_day, ords, period, end_day).astype(np.float64) if len(ords) else np.zeros(0)
    ords, expo = ords[expo > 0], expo[expo > 0]
    n = len(ords)
    end_txt = f"{p.end:%Y-%m-%d}"
    ones = pd.Series(np.ones(P), index=pd.RangeIndex(1, P + 1, name="season"), name="index")
    if n < need:
        note = (f"the history holds {n} {_NAMES[period]} periods before {end_txt}; a seasonal index needs "
                f"at least {need} (one season of {P} plus 2)")
        return SeasonalIndex(ones, False, note, n, period, p.end)
    rep_ord = _periods(repeat_day.astype("datetime64[D]").astype("datetime64[ns]"), period)
    y = np.bincount(np.searchsorted(ords, rep_ord)[np.isin(rep_ord, ords)], minlength=n).astype(np.float64)
    season = _season(ords, period)
    counts = np.bincount(season, weights=y, minlength=P + 1)[1:]
    if (counts == 0).any():
        empty = ", ".join(str(s) for s in np.flatnonzero(counts == 0) + 1)
        note = (f"season(s) {empty} have no repeat purchases in the {n} {_NAMES[period]} periods before "
                f"{end_txt}; the index would be 0 there and cannot be estimated")
        return SeasonalIndex(ones, False, note, n, period, p.end)
    t = (ords - ords.mean()) / max(n - 1, 1)
    X = np.zeros((n, P + 1))
    X[:, 0] = 1.0
    X[:, 1] = t
    eff = np.zeros((n, P))
    eff[np.arange(n), season - 1] = 1.0
    X[:, 2:] = eff[:, :-1] - eff[:, -1:]   # sum-zero coding: s_P = -(s_1 + ... + s_{P-1})
    beta = _fit_poisson(y, np.log(expo), X)
    s = np.r_[beta[2:], -beta[2:].sum()]
    idx = np.exp(s - s.max())
    idx /= idx.mean()
    years = n / P
    first_lab, last_lab = (pd.Period(np.datetime64(int(d), "D"), "D")
                           for d in _period_start_days(ords[[0, -1]], period))
    note = (f"estimated from {n} {_NAMES[period]} periods ({years:.1f} seasons of {P}) from {first_lab} "
            f"to the period starting {last_lab}")
    if n < 2 * P:
        note += "; fewer than two seasons: the split between trend and season is weak"
    return SeasonalIndex(pd.Series(idx, index=ones.index, name="index"), True, note, n, period, p.end,
                         float(np.exp(beta[1] / max(n - 1, 1))))


_SUMMARY_SPEC = {"tm": InBody("a TransactionMatrix with customers and times"),
                 "index": InBody("a SeasonalIndex (from seasonal_index)"), "observation_end": OBSERVATION_END}


@validated(_SUMMARY_SPEC)
def seasonal_summary(tm: TransactionMatrix, index: SeasonalIndex, observation_end=None) -> pd.DataFrame:
    """The customer summary of :func:`summary` (``freq="D"``) with recency
    and T in operational days: the integral of the seasonal index from the
    first purchase day to the last purchase day and to ``observation_end``.

    A model fitted on it has rates per operational day; forecast it over
    ``index.operational_days(start, end)`` of the horizon.  Duration strings
    (``"90D"``) given to such a model count operational days, not calendar
    days.  With an index of all ones the result equals
    ``summary(tm, observation_end, freq="D")``.

    Parameters
    ----------
    tm : TransactionMatrix
        With customers and times; prices for ``monetary_value``.
    index : SeasonalIndex
        From :func:`seasonal_index` (on this or another log).
    observation_end : date, optional
        End of the observation window (default: the last purchase).

    Returns
    -------
    DataFrame
        The columns of :func:`summary`; ``attrs`` also hold ``seasonal_period``
        and ``operational=True``.

    Examples
    --------
    >>> import pandas as pd, basketmine as bm
    >>> cd = bm.read_cdnow("datasets/cdnow/CDNOW_sample.txt")
    >>> si = bm.value.seasonal_index(cd, "M", observation_end="1997-12-31")
    >>> s = bm.value.seasonal_summary(cd, si, observation_end="1997-12-31")
    >>> plain = bm.value.summary(cd, observation_end="1997-12-31")
    >>> bool((s["frequency"] == plain["frequency"]).all()), s.attrs["operational"]
    (True, True)
    >>> model = bm.value.BetaGeo().fit(s)
    >>> end = pd.Timestamp("1997-12-31")
    >>> horizon = si.operational_days(end, end + pd.Timedelta(days=90))
    >>> forecast = model.expected_purchases(horizon, s)
    """
    owner = "seasonal_summary"
    if not isinstance(index, SeasonalIndex):
        raise InvalidParameterError(f"The 'index' parameter of {owner} must be a SeasonalIndex (from "
                                    f"seasonal_index). Got {type(index).__name__} instead.")
    p = purchases(tm, owner, observation_end)
    table = _summary_of(p, "D", None, owner)
    first = table["first_purchase"].to_numpy().astype("datetime64[D]").astype("datetime64[ns]")
    day = np.timedelta64(1, "D")
    rec = index.operational_days(first, first + table["recency"].to_numpy().astype(np.int64) * day)
    T = index.operational_days(first, first + table["T"].to_numpy().astype(np.int64) * day)
    table["recency"] = np.asarray(rec, dtype=np.float64)
    table["T"] = np.asarray(T, dtype=np.float64)
    table.attrs.update(seasonal_period=index.period, operational=True)
    return table
