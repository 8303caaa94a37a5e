"""Per-customer summaries: the (frequency, recency, T, monetary) table of the
repeat-purchase models, RFM scores and segments, decile tables and the
Pareto curve."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import NONE, InBody, Interval, InvalidParameterError, Options, user_stacklevel, validated
from ..transactions import TransactionMatrix

_FREQS = ("D", "W", "M")
_PERIODS = ("W", "M", "Q")
_UNIT_DAYS = {"D": 1.0, "W": 7.0}
_NS_PER_DAY = 86_400 * 10**9


@dataclass
class Purchases:
    """The baskets that feed the value module: those with a customer, up to
    ``end``; per basket its customer code, time, revenue and cost."""

    customer: np.ndarray  # int codes into labels
    time: np.ndarray  # datetime64[ns]
    revenue: np.ndarray | None
    cost: np.ndarray | None
    labels: np.ndarray  # customer labels
    end: pd.Timestamp
    without_customer: int
    after_end: int


def _timestamp(owner: str, name: str, value, optional: bool = True) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = pd.NaT
    if ts is pd.NaT or ts is None:
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be a date or time (e.g. '2011-09-01')"
            f"{' or None' if optional else ''}. Got {value!r} instead.")
    return ts


def last_instant(end: pd.Timestamp) -> pd.Timestamp:
    """The last instant an observation end covers: a date-only end covers
    its whole day; an end with a time of day is taken as given."""
    return end + pd.Timedelta(days=1) - pd.Timedelta(1, "ns") if end == end.normalize() else end


def purchases(tm: TransactionMatrix, owner: str, observation_end=None, *,
              margin_rate=None) -> Purchases:
    """Collect the per-basket values every customer-value function uses.

    Baskets without a customer are left out (with a warning); so are baskets
    after ``observation_end`` (counted in the result's attrs by the callers).
    """
    if not isinstance(tm, TransactionMatrix):
        raise InvalidParameterError(
            f"The 'tm' parameter of {owner} must be a TransactionMatrix. Got {type(tm).__name__} instead.")
    tm._need_customers(owner)
    tm._need_times(owner)
    # margin_rate: checked by the public callers' declarations (MARGIN_RATE)
    cc = tm.customer_codes
    keep = cc >= 0
    without = int((~keep).sum())
    if without:
        warnings.warn(f"{owner}: {without} baskets have no customer and are left out.",
                      UserWarning, stacklevel=user_stacklevel())
    t = tm.times
    if observation_end is None:
        end = pd.Timestamp(t[keep].max()) if keep.any() else pd.Timestamp(t.max())
    else:
        end = _timestamp(owner, "observation_end", observation_end)
    first = pd.Timestamp(t[keep].min()) if keep.any() else None
    if first is None or end < first.normalize():
        raise InvalidParameterError(
            f"The 'observation_end' parameter of {owner} must not fall before the first purchase "
            f"({first}). Got {observation_end!r} instead.")
    after = keep & (t > np.datetime64(last_instant(end)))
    keep &= ~after
    rev = cost = None
    b_of_line = np.repeat(np.arange(tm.n_baskets), tm.basket_lengths())
    if tm.price is not None:
        line_rev = tm.revenue
        bad = np.isnan(line_rev)
        if bad[keep[b_of_line]].any():
            warnings.warn(f"{owner}: {int(bad[keep[b_of_line]].sum())} lines have no price and "
                          f"count as 0 revenue.", UserWarning, stacklevel=user_stacklevel())
        rev = np.bincount(b_of_line, weights=np.where(bad, 0.0, line_rev), minlength=tm.n_baskets)
        if tm.cost is not None:
            q = tm.quantity if tm.quantity is not None else 1.0
            line_cost = np.nan_to_num(q * tm.cost)
            cost = np.bincount(b_of_line, weights=line_cost, minlength=tm.n_baskets)
        elif margin_rate is not None:
            cost = rev * (1.0 - margin_rate)
    b = np.flatnonzero(keep)
    return Purchases(cc[b], t[b], None if rev is None else rev[b],
                     None if cost is None else cost[b], tm.customer_labels, end,
                     without, int(after.sum()))


def _need_revenue(p: Purchases, owner: str) -> np.ndarray:
    if p.revenue is None:
        raise InvalidParameterError(
            f"{owner} needs purchase values; build the TransactionMatrix with price=<column> "
            f"(and quantity=<column>), or with TransactionMatrix.from_purchases(amount=...).")
    return p.revenue


def _periods(times: np.ndarray, freq: str) -> np.ndarray:
    """Period ordinal of each time: days since the epoch, weeks (Monday to
    Sunday, as pandas' 'W' periods) or calendar months."""
    days = times.astype("datetime64[D]").astype(np.int64)
    if freq == "D":
        return days
    if freq == "W":
        return (days + 3) // 7  # 1970-01-01 was a Thursday; weeks start on Monday
    m = times.astype("datetime64[M]").astype(np.int64)
    return m // 3 if freq == "Q" else m


def period_label(ordinal, freq: str) -> pd.Period:
    """The pandas Period of an ordinal of :func:`_periods`."""
    if freq == "D":
        return pd.Period(np.datetime64(int(ordinal), "D"), "D")
    if freq == "W":
        return pd.Period(np.datetime64(int(ordinal) * 7 - 3, "D"), "W")
    if freq == "Q":
        return pd.Period(np.datetime64(int(ordinal) * 3, "M"), "Q")
    return pd.Period(np.datetime64(int(ordinal), "M"), "M")


def last_complete_period(end: pd.Timestamp, freq: str) -> int:
    """Ordinal of the last period that ends on or before ``end``'s day."""
    e = np.array([end.normalize().to_datetime64()], dtype="datetime64[ns]")
    nxt = e + np.timedelta64(1, "D")
    a, b = _periods(e, freq)[0], _periods(nxt, freq)[0]
    return int(a if b > a else a - 1)


@dataclass
class PeriodTable:
    """Per customer and period with a purchase: purchase days, revenue, cost."""

    customer: np.ndarray
    period: np.ndarray
    purchases: np.ndarray
    revenue: np.ndarray | None
    cost: np.ndarray | None


def period_table(p: Purchases, freq: str, last: int | None = None) -> PeriodTable:
    """Aggregate purchases by customer and period (up to ordinal ``last``);
    a customer's purchases on one day count as one purchase."""
    per = _periods(p.time, freq)
    keep = np.ones(len(per), dtype=bool) if last is None else per <= last
    day = p.time[keep].astype("datetime64[D]").astype(np.int64)
    c, per = p.customer[keep].astype(np.int64), per[keep]
    # distinct (customer, day) first, so that same-day baskets are one purchase
    dkey = np.unique(np.column_stack([c, per, day]), axis=0)
    key = np.column_stack([c, per])
    uk, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.ravel()
    _, dinv = np.unique(dkey[:, :2], axis=0, return_inverse=True)
    n = np.bincount(dinv.ravel(), minlength=len(uk))
    rev = None if p.revenue is None else np.bincount(inv, weights=p.revenue[keep], minlength=len(uk))
    cost = None if p.cost is None else np.bincount(inv, weights=p.cost[keep], minlength=len(uk))
    return PeriodTable(uk[:, 0], uk[:, 1], n, rev, cost)


def _period_start_days(ordinal: np.ndarray, freq: str) -> np.ndarray:
    if freq == "D":
        return ordinal.astype(np.float64)
    if freq == "W":
        return (ordinal * 7 - 3).astype(np.float64)
    if freq == "Q":
        ordinal = ordinal * 3
    return ordinal.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64).astype(np.float64)


def _span(start_days: np.ndarray, end_days: np.ndarray, first_ord, end_ord, freq: str, unit):
    """Time between period starts in ``unit`` (or in periods of ``freq``)."""
    if unit is None:
        if freq == "M":
            return (end_ord - first_ord).astype(np.float64)
        unit = freq
    return (end_days - start_days) / _UNIT_DAYS[unit]


#: Declarations shared by the customer-value functions.
OBSERVATION_END = InBody("None (the last purchase), or a date or time not before the first purchase")
MARGIN_RATE = (NONE, Interval("real", None, 1, "right"))
_PRICED_TM = InBody("a TransactionMatrix with customers, times and prices")

SUMMARY_SPEC = {"tm": InBody("a TransactionMatrix with customers and times"),
                "observation_end": InBody("None, or a time at or after the last basket"),
                "freq": Options(_FREQS), "unit": (NONE, Options(tuple(_UNIT_DAYS)))}


@validated(SUMMARY_SPEC)
def summary(tm: TransactionMatrix, observation_end=None, freq: str = "D", unit=None) -> pd.DataFrame:
    """Each customer's repeat-purchase summary, as the BG/NBD family uses it.

    Purchases are grouped into periods of ``freq``; a customer's purchases in
    one period count as one (their values are added).  Per customer:

    - ``frequency``: repeat purchases, i.e. periods with a purchase after the first;
    - ``recency``: time from the first to the last purchase period;
    - ``T``: time from the first purchase period to ``observation_end``'s;
    - ``monetary_value``: mean value of the repeat purchases (0 without any);
    - ``first_purchase``, ``last_purchase``, ``n_baskets``, ``total_spend``.

    Times are measured in periods of ``freq`` between period starts, or in
    ``unit`` when given: ``freq="D", unit="W"`` counts days and reports weeks,
    the convention of the published CDNOW analyses.  These are the
    definitions of ``lifetimes.utils.summary_data_from_transaction_data``.

    Parameters
    ----------
    tm : TransactionMatrix
        With customers and times; prices for the monetary columns.
    observation_end : date, optional
        End of the observation window (default: the last purchase).  Later
        baskets are left out and counted in ``attrs["baskets_after_end"]``.
    freq : {"D", "W", "M"}
        Period length: day, week (Monday to Sunday) or calendar month.
    unit : {"D", "W"}, optional
        Unit of ``recency`` and ``T`` (default: periods of ``freq``).

    Returns
    -------
    DataFrame indexed by customer (sorted), with attrs ``observation_end``,
    ``freq``, ``unit``, ``baskets_without_customer``, ``baskets_after_end``.

    Examples
    --------
    >>> import pandas as pd, basketmine as bm
    >>> log = pd.DataFrame({"id": [1, 1, 1, 2], "dollars": [10.0, 20.0, 40.0, 5.0],
    ...                     "date": ["1997-01-01", "1997-01-08", "1997-01-29", "1997-01-15"]})
    >>> tm = bm.TransactionMatrix.from_purchases(log, "id", "date", "dollars")
    >>> bm.value.summary(tm, observation_end="1997-02-05", unit="W")[["frequency", "recency", "T", "monetary_value"]]
              frequency  recency    T  monetary_value
    customer
    1                 2      4.0  5.0            30.0
    2                 0      0.0  3.0             0.0
    """
    owner = "summary"
    p = purchases(tm, owner, observation_end)
    table = _summary_of(p, freq, unit, owner)
    return table


def _summary_of(p: Purchases, freq: str, unit, owner: str) -> pd.DataFrame:
    n_c = len(p.labels)
    per = _periods(p.time, freq)
    end_ord = _periods(np.array([p.end.to_datetime64()], dtype="datetime64[ns]"), freq)[0]
    base = per.min() if len(per) else 0
    width = int(per.max() - base + 1) if len(per) else 1
    key = p.customer.astype(np.int64) * width + (per - base)
    uk, inv = np.unique(key, return_inverse=True)
    cust = uk // width
    ords = uk % width + base
    n_baskets = np.bincount(p.customer, minlength=n_c)
    present = np.flatnonzero(n_baskets)
    count = np.bincount(cust, minlength=n_c)[present]
    # per customer: first and last period (uk is sorted by customer, then period)
    first_idx = np.searchsorted(cust, present, side="left")
    last_idx = np.searchsorted(cust, present, side="right") - 1
    first_ord, last_ord = ords[first_idx], ords[last_idx]
    fs = _period_start_days(first_ord, freq)
    frequency = count - 1
    recency = _span(fs, _period_start_days(last_ord, freq), first_ord, last_ord, freq, unit)
    T = _span(fs, _period_start_days(np.full_like(first_ord, end_ord), freq), first_ord,
              np.full_like(first_ord, end_ord), freq, unit)
    first_t = np.full(n_c, np.iinfo(np.int64).max)
    np.minimum.at(first_t, p.customer, p.time.view(np.int64))
    last_t = np.full(n_c, np.iinfo(np.int64).min)
    np.maximum.at(last_t, p.customer, p.time.view(np.int64))
    out = {"frequency": frequency.astype(np.int64), "recency": recency, "T": T}
    if p.revenue is not None:
        pv = np.bincount(inv, weights=p.revenue, minlength=len(uk))
        total = np.bincount(cust, weights=pv, minlength=n_c)[present]
        repeat = total - pv[first_idx]
        with np.errstate(invalid="ignore", divide="ignore"):
            out["monetary_value"] = np.where(frequency > 0, repeat / np.maximum(frequency, 1), 0.0)
        nonpos = int((pv <= 0).sum())
        if nonpos:
            warnings.warn(f"{owner}: {nonpos} customer-periods have a purchase value <= 0 "
                          f"(free items or net returns); they count as purchases.",
                          UserWarning, stacklevel=user_stacklevel())
    out["first_purchase"] = first_t[present].view("datetime64[ns]")
    out["last_purchase"] = last_t[present].view("datetime64[ns]")
    out["n_baskets"] = n_baskets[present]
    if p.revenue is not None:
        out["total_spend"] = total
    df = pd.DataFrame(out, index=pd.Index(p.labels[present], name="customer"))
    df.attrs.update(observation_end=p.end, freq=freq, unit=unit,
                    baskets_without_customer=p.without_customer,
                    baskets_after_end=p.after_end)
    return df


# ---------------------------------------------------------------- customers
def customer_table(tm: TransactionMatrix, owner: str, observation_end=None, margin_rate=None):
    """Per customer: baskets, first and last purchase, revenue and profit."""
    p = purchases(tm, owner, observation_end, margin_rate=margin_rate)
    n_c = len(p.labels)
    n_b = np.bincount(p.customer, minlength=n_c)
    present = np.flatnonzero(n_b)
    last_t = np.full(n_c, np.iinfo(np.int64).min)
    np.maximum.at(last_t, p.customer, p.time.view(np.int64))
    first_t = np.full(n_c, np.iinfo(np.int64).max)
    np.minimum.at(first_t, p.customer, p.time.view(np.int64))
    cols = {"n_baskets": n_b[present],
            "first_purchase": first_t[present].view("datetime64[ns]"),
            "last_purchase": last_t[present].view("datetime64[ns]")}
    if p.revenue is not None:
        cols["revenue"] = np.bincount(p.customer, weights=p.revenue, minlength=n_c)[present]
        if p.cost is not None:
            cost = np.bincount(p.customer, weights=p.cost, minlength=n_c)[present]
            cols["profit"] = cols["revenue"] - cost
    df = pd.DataFrame(cols, index=pd.Index(p.labels[present], name="customer"))
    df.attrs.update(observation_end=p.end, baskets_without_customer=p.without_customer,
                    baskets_after_end=p.after_end)
    return df, p


#: RFM segments by recency score and frequency score (5 bins), first match
#: wins: ``(name, (r_lo, r_hi), (f_lo, f_hi))``.
RFM_SEGMENTS = (
    ("champions", (5, 5), (4, 5)),
    ("loyal", (3, 4), (4, 5)),
    ("potential loyalist", (4, 5), (2, 3)),
    ("new", (5, 5), (1, 1)),
    ("promising", (4, 4), (1, 1)),
    ("need attention", (3, 3), (3, 3)),
    ("about to sleep", (3, 3), (1, 2)),
    ("can't lose them", (1, 2), (5, 5)),
    ("at risk", (1, 2), (3, 4)),
    ("hibernating", (1, 2), (1, 2)),
)


def _scores(x: pd.Series, bins: int, ascending: bool) -> np.ndarray:
    """Quantile scores 1..bins of equal-sized groups; ties broken by index
    order so the result is stable.  Higher score = better."""
    order = np.lexsort((np.arange(len(x)), x.to_numpy() if ascending else -x.to_numpy()))
    rank = np.empty(len(x), dtype=np.int64)
    rank[order] = np.arange(len(x))
    return (rank * bins // max(len(x), 1)) + 1


_RFM_SPEC = {"tm": _PRICED_TM, "observation_end": OBSERVATION_END,
             "bins": Interval("int", 2, 10, "both"),
             "segments": InBody("a sequence of (name, (r_lo, r_hi), (f_lo, f_hi)) with scores 1..5")}


@validated(_RFM_SPEC)
def rfm(tm: TransactionMatrix, observation_end=None, bins: int = 5, segments=RFM_SEGMENTS) -> pd.DataFrame:
    """Recency, frequency and monetary scores and named segments.

    ``recency`` is days from the last purchase to ``observation_end``,
    ``frequency`` the number of baskets, ``monetary`` the total spend.  Each
    becomes a quantile score 1..``bins`` (equal-sized groups, ties broken by
    customer order; ``bins`` is the best: most recent, most frequent, highest
    spend); ``rfm_score`` is their sum and ``rfm_cell`` the three digits.
    ``segment`` names the customer by R and F score (scaled to 1..5) with
    ``segments``, a sequence of ``(name, (r_lo, r_hi), (f_lo, f_hi))``, first
    match wins; see :data:`RFM_SEGMENTS`.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> table = bm.value.rfm(tm)
    >>> list(table.columns)
    ['recency', 'frequency', 'monetary', 'R', 'F', 'M', 'rfm_score', 'rfm_cell', 'segment']
    >>> table["segment"].value_counts().head(3)
    segment
    hibernating    123
    loyal           94
    champions       71
    Name: count, dtype: int64
    """
    owner = "rfm"
    segs = _check_segments(owner, segments)
    table, p = customer_table(tm, owner, observation_end)
    if "revenue" not in table:
        _need_revenue(p, owner)
    end = p.end.to_datetime64()
    recency = (end - table["last_purchase"].to_numpy()) / np.timedelta64(1, "D")
    df = pd.DataFrame({"recency": recency, "frequency": table["n_baskets"],
                       "monetary": table["revenue"]}, index=table.index)
    low = int((df["monetary"] <= 0).sum())
    if low:  # returns or free lines: they are scored, lowest, but say so
        warnings.warn(f"{owner}: {low} customers have zero or negative total spend (returns, free lines); "
                      f"they get the lowest monetary score.", UserWarning, stacklevel=user_stacklevel())
    df["R"] = _scores(df["recency"], bins, ascending=False)
    df["F"] = _scores(df["frequency"], bins, ascending=True)
    df["M"] = _scores(df["monetary"], bins, ascending=True)
    df["rfm_score"] = df["R"] + df["F"] + df["M"]
    df["rfm_cell"] = df["R"].astype(str) + df["F"].astype(str) + df["M"].astype(str)
    r5 = -(-df["R"].to_numpy() * 5 // bins)
    f5 = -(-df["F"].to_numpy() * 5 // bins)
    seg = np.full(len(df), "other", dtype=object)
    done = np.zeros(len(df), dtype=bool)
    for name, (rl, rh), (fl, fh) in segs:
        hit = ~done & (r5 >= rl) & (r5 <= rh) & (f5 >= fl) & (f5 <= fh)
        seg[hit] = name
        done |= hit
    df["segment"] = seg
    df.attrs.update(table.attrs)
    return df


def _check_segments(owner, segments):
    try:
        segs = [(str(n), (int(a), int(b)), (int(c), int(d))) for n, (a, b), (c, d) in segments]
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"The 'segments' parameter of {owner} must be a sequence of (name, (r_lo, r_hi), "
            f"(f_lo, f_hi)) with scores 1..5. Got {segments!r:.80} instead.") from None
    return segs


# ---------------------------------------------------------------- deciles
def _spend(tm, owner, observation_end, margin_rate=None):
    table, p = customer_table(tm, owner, observation_end, margin_rate)
    _need_revenue(p, owner)
    rev = table["revenue"].to_numpy()
    order = np.lexsort((np.arange(len(rev)), -rev))  # top spenders first, ties by customer
    return table.iloc[order], p


_MONETARY_DECILES_SPEC = {"tm": _PRICED_TM, "n": Interval("int", 2, None, "left"),
                          "observation_end": OBSERVATION_END, "margin_rate": MARGIN_RATE}


@validated(_MONETARY_DECILES_SPEC)
def monetary_deciles(tm: TransactionMatrix, n: int = 10, observation_end=None,
                     margin_rate=None) -> pd.DataFrame:
    """Revenue (and profit) by each ``1/n`` of customers, top spenders first.

    Customers are sorted by total spend and cut into ``n`` groups of equal
    size (the first groups take one more when ``n`` does not divide the
    count).  Profit columns appear when the log has costs or ``margin_rate``
    is given.

    Examples
    --------
    >>> import pandas as pd, basketmine as bm
    >>> log = pd.DataFrame({"c": range(10), "t": "2011-01-01", "v": [100, 50, 9, 8, 7, 6, 5, 4, 3, 2]})
    >>> tm = bm.TransactionMatrix.from_purchases(log, "c", "t", "v")
    >>> bm.value.monetary_deciles(tm, n=5)[["customers", "revenue", "revenue_share"]]
            customers  revenue  revenue_share
    decile
    1               2    150.0       0.773196
    2               2     17.0       0.087629
    3               2     13.0       0.067010
    4               2      9.0       0.046392
    5               2      5.0       0.025773
    """
    owner = "monetary_deciles"
    table, _ = _spend(tm, owner, observation_end, margin_rate)
    N = len(table)
    size, extra = divmod(N, n)
    sizes = np.full(n, size) + (np.arange(n) < extra)
    group = np.repeat(np.arange(1, n + 1), sizes)
    g = table.assign(decile=group).groupby("decile", sort=True)
    out = pd.DataFrame({"customers": g.size(), "revenue": g["revenue"].sum(),
                        "mean_spend": g["revenue"].mean(), "min_spend": g["revenue"].min(),
                        "max_spend": g["revenue"].max()})
    tot = table["revenue"].sum()
    out.insert(2, "revenue_share", out["revenue"] / tot if tot else np.nan)
    out.insert(3, "cumulative_revenue_share", out["revenue_share"].cumsum())
    if "profit" in table:
        out["profit"] = g["profit"].sum()
        ptot = table["profit"].sum()
        out["profit_share"] = out["profit"] / ptot if ptot else np.nan
        out["cumulative_profit_share"] = out["profit_share"].cumsum()
    out.attrs.update(table.attrs, customers=N, revenue=float(tot))
    return out


_PURCHASE_DECILES_SPEC = {"tm": _PRICED_TM, "n": Interval("int", 2, None, "left"),
                          "observation_end": OBSERVATION_END}


@validated(_PURCHASE_DECILES_SPEC)
def purchase_deciles(tm: TransactionMatrix, n: int = 10, observation_end=None) -> pd.DataFrame:
    """How many customers make each ``1/n`` of revenue, top spenders first.

    Customers are sorted by spend, top first, and their spends laid end to
    end; a customer belongs to the revenue group holding the midpoint of
    their stretch.  A group can be empty when one customer spans it.

    Examples
    --------
    >>> import pandas as pd, basketmine as bm
    >>> log = pd.DataFrame({"c": range(10), "t": "2011-01-01", "v": [100, 50, 9, 8, 7, 6, 5, 4, 3, 2]})
    >>> tm = bm.TransactionMatrix.from_purchases(log, "c", "t", "v")
    >>> bm.value.purchase_deciles(tm, n=2)[["customers", "customer_share"]]
                   customers  customer_share
    revenue_group
    1                      1             0.1
    2                      9             0.9
    """
    owner = "purchase_deciles"
    table, _ = _spend(tm, owner, observation_end)
    rev = table["revenue"].to_numpy()
    tot = rev.sum()
    if not tot > 0:
        raise InvalidParameterError(f"{owner} needs a positive total revenue; the log's is {tot}.")
    mid = (np.cumsum(rev) - rev / 2) / tot
    group = np.clip(np.floor(mid * n).astype(np.int64) + 1, 1, n)
    counts = np.bincount(group, minlength=n + 1)[1:]
    revenue = np.bincount(group, weights=rev, minlength=n + 1)[1:]
    out = pd.DataFrame({"customers": counts, "customer_share": counts / len(rev),
                        "cumulative_customer_share": np.cumsum(counts) / len(rev),
                        "revenue": revenue, "revenue_share": revenue / tot},
                       index=pd.Index(np.arange(1, n + 1), name="revenue_group"))
    out.attrs.update(table.attrs, customers=len(rev), revenue=float(tot))
    return out


_PARETO_CURVE_SPEC = {"tm": _PRICED_TM, "observation_end": OBSERVATION_END}


@validated(_PARETO_CURVE_SPEC)
def pareto_curve(tm: TransactionMatrix, observation_end=None) -> pd.DataFrame:
    """The Pareto (concentration) curve: cumulative share of revenue against
    cumulative share of customers, top spenders first, from (0, 0) to (1, 1).

    ``attrs["gini"]`` holds the Gini coefficient of spend.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> curve = bm.value.pareto_curve(tm)
    >>> curve.iloc[[0, -1]]
         customer_share  revenue_share
    0               0.0            0.0
    493             1.0            1.0
    >>> round(curve.attrs["gini"], 3)
    0.725
    """
    table, _ = _spend(tm, "pareto_curve", observation_end)
    rev = table["revenue"].to_numpy()
    tot = rev.sum()
    N = len(rev)
    cs = np.concatenate([[0.0], np.cumsum(rev) / tot if tot else np.zeros(N)])
    out = pd.DataFrame({"customer_share": np.arange(N + 1) / N, "revenue_share": cs})
    # area between the curve and the diagonal, doubled
    area = np.trapezoid(cs, out["customer_share"].to_numpy()) if N else 0.5
    out.attrs.update(table.attrs, gini=float(2 * area - 1), customers=N, revenue=float(tot))
    return out


_REVENUE_SHARE_SPEC = {"tm": _PRICED_TM, "top": Interval("real", 0, 1, "both"),
                       "observation_end": OBSERVATION_END}


@validated(_REVENUE_SHARE_SPEC)
def revenue_share(tm: TransactionMatrix, top: float = 0.2, observation_end=None) -> float:
    """Share of revenue brought by the top ``top`` fraction of customers
    (by spend), read off the Pareto curve with linear interpolation.

    Examples
    --------
    >>> import pandas as pd, basketmine as bm
    >>> log = pd.DataFrame({"c": range(10), "t": "2011-01-01", "v": [100, 50, 9, 8, 7, 6, 5, 4, 3, 2]})
    >>> tm = bm.TransactionMatrix.from_purchases(log, "c", "t", "v")
    >>> round(bm.value.revenue_share(tm, 0.2), 4)   # the top 20% bring 77% of sales
    0.7732
    """
    c = pareto_curve(tm, observation_end)
    return float(np.interp(top, c["customer_share"], c["revenue_share"]))
