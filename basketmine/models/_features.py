"""One temporal split and one feature builder for every model type.

Everything a model sees is computed from the baskets *before* the cut-off;
everything it is judged on comes from the holdout window after it.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from .._lazy import LazyModule
from .._validation import (InBody, Interval, InvalidParameterError, Kind, Options, check, unitless_duration,
                           user_stacklevel, validated)
from ..transactions import TransactionMatrix, _ns64, warn_returns_after
from ..value._summary import _timestamp

sp = LazyModule("scipy.sparse")

__all__ = ["Features", "Split", "features", "temporal_split"]

_DAY = np.timedelta64(1, "D")
_LEVELS = ("item", "category")
_FREQS = ("D", "W", "M")

#: The item-or-category choice of the feature builder, the recommender and compare.
LEVEL = Options(_LEVELS)
#: A log with customers and times, checked by :func:`_need_log`.
LOG = InBody("a TransactionMatrix with customers and times")
HORIZON = InBody("a positive duration with its unit, such as '90D' or a pandas Timedelta")
HIERARCHY = InBody("None, or a mapping (dict or Series) item -> category; needed with level='category'")


def _timedelta(owner: str, name: str, value) -> pd.Timedelta:
    unitless_duration(owner, name, value)
    try:
        td = pd.Timedelta(value)
    except (ValueError, TypeError):
        td = pd.NaT
    if td is pd.NaT or td <= pd.Timedelta(0):
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be a positive duration such as '90D' or a "
            f"pandas Timedelta. Got {value!r} instead.")
    return td


def _need_log(tm, owner: str, customers: bool = True) -> None:
    if not isinstance(tm, TransactionMatrix):
        raise InvalidParameterError(
            f"The 'tm' parameter of {owner} must be a TransactionMatrix. Got {type(tm).__name__} instead.")
    tm._need_times(owner)
    if customers:
        tm._need_customers(owner)


@dataclass
class Split:
    """A calibration period and the holdout window after it.

    Attributes
    ----------
    calibration : TransactionMatrix
        Baskets with ``time < cutoff``.
    holdout : TransactionMatrix
        Baskets with ``cutoff <= time < cutoff + horizon``.
    cutoff : Timestamp
    horizon : Timedelta
        The holdout length actually observed (shorter than asked when the log
        ends first; a warning says so).

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> split = bm.models.temporal_split(tm, "2011-09-01", "90D")
    >>> split.cutoff, split.horizon
    (Timestamp('2011-09-01 00:00:00'), Timedelta('90 days 00:00:00'))
    >>> split.calibration.times.max() < split.cutoff <= split.holdout.times.min()
    True
    """

    calibration: TransactionMatrix
    holdout: TransactionMatrix
    cutoff: pd.Timestamp
    horizon: pd.Timedelta


SPLIT_SPEC = {
    "tm": InBody("a TransactionMatrix with times"),
    "cutoff": InBody("a date inside the log, with baskets on both sides of it"),
    "horizon": InBody("a positive duration with its unit, such as '90D', whose window after the cut-off "
                      "holds a purchase"),
    "owner": Kind(str, "a str"),
}


@validated(SPLIT_SPEC)
def temporal_split(tm: TransactionMatrix, cutoff, horizon="90D", *, owner: str = "temporal_split") -> Split:
    """Split the log at ``cutoff`` into a calibration period and a holdout
    window of length ``horizon``.

    Raises :class:`~basketmine.InvalidParameterError` when the cut-off leaves
    no baskets on one side, or the holdout window holds no purchase.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo",
    ...                  "StockCode", customer="CustomerID", time="InvoiceDate")
    >>> s = bm.models.temporal_split(tm, "2011-09-01", "90D")
    >>> s.calibration.n_baskets, s.holdout.n_baskets
    (1542, 752)
    """
    _need_log(tm, owner, customers=False)
    cut = _timestamp(owner, "cutoff", cutoff, optional=False)
    h = _timedelta(owner, "horizon", horizon)
    lo, hi = pd.Timestamp(tm.times.min()), pd.Timestamp(tm.times.max())
    if not (lo < cut <= hi):
        raise InvalidParameterError(
            f"The 'cutoff' parameter of {owner} must fall inside the log ({lo} .. {hi}) so that "
            f"baskets lie on both sides. Got {cutoff!r} instead.")
    end = cut + h
    if end > hi + pd.Timedelta(1, "ns"):
        observed = hi + pd.Timedelta(1, "ns") - cut
        warnings.warn(f"{owner}: the log ends {observed} after the cut-off, before the horizon "
                      f"of {h}; the holdout is that shorter window.", UserWarning, stacklevel=user_stacklevel())
        h = observed
    warn_returns_after(tm, cut, owner)
    cal = tm.between(None, cut)
    hold = tm.between(cut, cut + h)
    if hold.n_baskets == 0:
        raise InvalidParameterError(
            f"The 'horizon' parameter of {owner} must leave at least one purchase in the holdout "
            f"window {cut} .. {cut + h}. Got {horizon!r}: the window is empty.")
    return Split(cal, hold, cut, h)


@dataclass
class History:
    """Per (customer, unit) purchase history before an as-of time.

    ``pairs`` has one row per customer and unit bought: ``customer``
    (row of ``customers``), ``unit`` (code), ``baskets``, ``first_days`` and
    ``last_days`` (days before ``asof``); ``matrix`` is the same counts as a
    sparse customers x units matrix.
    """

    asof: pd.Timestamp
    customers: np.ndarray          # labels, one per row
    customer_codes: np.ndarray     # codes into the log's customer_labels
    units: np.ndarray              # unit labels
    pairs: pd.DataFrame
    matrix: sp.csr_matrix

    def row_of(self, n_labels: int) -> np.ndarray:
        """Row of each customer code of the log (-1 for customers not here)."""
        out = np.full(n_labels, -1, dtype=np.int64)
        out[self.customer_codes] = np.arange(len(self.customer_codes))
        return out


def _line_frame(tm: TransactionMatrix) -> pd.DataFrame:
    """Lines of customers' baskets: customer code, basket row, unit, time, revenue, quantity."""
    lens = tm.basket_lengths()
    brow = np.repeat(np.arange(tm.n_baskets), lens)
    cc = tm.customer_codes[brow]
    keep = cc >= 0
    rev = tm.revenue
    q = tm.quantity
    return pd.DataFrame({
        "customer": cc[keep], "basket": brow[keep], "unit": tm.indices[keep],
        "time": tm.times[brow][keep],
        "revenue": np.nan_to_num(rev[keep]) if rev is not None else np.zeros(int(keep.sum())),
        "quantity": q[keep] if q is not None else np.ones(int(keep.sum())),
    })


def history(tm: TransactionMatrix, asof: pd.Timestamp) -> History:
    """The per (customer, unit) history of ``tm`` (all of it before ``asof``)."""
    lines = _line_frame(tm)
    present, r = np.unique(lines["customer"].to_numpy(), return_inverse=True)
    days = (_ns64(asof) - lines["time"].to_numpy()) / _DAY
    # one count per basket: a basket holds a unit once
    g = pd.DataFrame({"customer": r, "unit": lines["unit"].to_numpy(), "days": days})
    agg = g.groupby(["customer", "unit"], sort=True)["days"].agg(["size", "max", "min"])
    pairs = pd.DataFrame({"customer": agg.index.get_level_values(0).to_numpy(),
                          "unit": agg.index.get_level_values(1).to_numpy(),
                          "baskets": agg["size"].to_numpy(),
                          "first_days": agg["max"].to_numpy(), "last_days": agg["min"].to_numpy()})
    m = sp.csr_matrix((pairs["baskets"].to_numpy(np.float64), (pairs["customer"], pairs["unit"])),
                      shape=(len(present), tm.n_items))
    return History(asof, tm.customer_labels[present], present, tm.labels, pairs, m)


@dataclass
class Features:
    """What :func:`features` built: features from before the cut-off and
    targets from the holdout after it.

    Attributes
    ----------
    customers : DataFrame
        Per customer with a purchase before the cut-off (index: customer,
        sorted): ``n_baskets``, ``n_days`` (days with a purchase),
        ``frequency``, ``recency``, ``T`` (days; the BG/NBD summary of
        :func:`basketmine.value.summary` with ``freq="D"``),
        ``recency_days`` (cut-off minus last purchase), ``tenure_days``,
        ``n_units`` (distinct items or categories), ``basket_size``
        (mean lines per basket), ``spend_total``, ``spend_mean``,
        ``spend_max``, ``ipt_mean``, ``ipt_median``, ``ipt_std``
        (days between purchase days; NaN with fewer than two, and
        ``ipt_std`` NaN with fewer than three), ``baskets_<w>d`` and
        ``spend_<w>d`` for each recent window, ``share_<unit>`` (share of
        the customer's lines on each of the ``n_shares`` most bought units)
        and ``share_other``.
    series : DataFrame
        Long table of per-unit period sales before the cut-off: ``unit``,
        ``period`` (start), ``baskets``, ``quantity``, ``revenue``; only
        periods with sales are listed (:meth:`series_matrix` fills zeros).
    targets : DataFrame
        Per customer of ``customers``: ``holdout_baskets``,
        ``holdout_spend``, ``active`` (bought in the holdout),
        ``holdout_units`` (distinct units bought).
    holdout_pairs : DataFrame
        ``customer``, ``unit`` (label), ``days`` to its first purchase after
        the cut-off, ``bought_before`` — one row per customer and unit
        bought in the holdout (customers of ``customers`` only).
    holdout_series : DataFrame
        The same long table as ``series`` for the holdout window.
    history : History
        Per customer and unit counts and times (used by the recommender).
    split : Split
    level : str
    attrs : dict
        ``new_customers``: customers whose first purchase falls in the
        holdout (no features; left out of the targets), ``freq``.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice",
    ...                  cancellations="drop")  # a backtest: returns made later are not netted
    >>> f = bm.models.features(tm, "2011-09-01", horizon="90D")
    >>> len(f.customers), int(f.targets["active"].sum())
    (384, 201)
    >>> f.holdout_pairs.columns.tolist()
    ['customer', 'unit', 'days', 'bought_before']
    >>> f.series_matrix().shape
    (40, 2879)
    """

    customers: pd.DataFrame
    series: pd.DataFrame
    targets: pd.DataFrame
    holdout_pairs: pd.DataFrame
    holdout_series: pd.DataFrame
    history: History
    split: Split
    level: str
    attrs: dict = field(default_factory=dict)

    def series_matrix(self, value: str = "baskets", units=None, *, holdout: bool = False) -> pd.DataFrame:
        """Period x unit table of ``value`` with zeros filled, over the whole
        calibration period (or the holdout window)."""
        owner = "Features.series_matrix"
        check(owner, "value", value, Options(("baskets", "quantity", "revenue")))
        s = self.holdout_series if holdout else self.series
        if units is not None:
            s = s[s["unit"].isin(list(units))]
        wide = s.pivot_table(index="period", columns="unit", values=value, aggfunc="sum", fill_value=0)
        freq = self.attrs["freq"]
        lo, hi = self._period_bounds(holdout)
        full = pd.period_range(lo, hi, freq=freq).start_time
        wide = wide.reindex(full, fill_value=0)
        wide.index.name = "period"
        if units is not None:
            wide = wide.reindex(columns=list(units), fill_value=0)
        return wide

    def _period_bounds(self, holdout: bool):
        s = self.split
        if holdout:
            return s.cutoff, s.cutoff + s.horizon - pd.Timedelta(1, "ns")
        return pd.Timestamp(s.calibration.times.min()), s.cutoff - pd.Timedelta(1, "ns")


def _period_start(times: np.ndarray, freq: str) -> np.ndarray:
    return pd.PeriodIndex(pd.DatetimeIndex(times), freq=freq).start_time.to_numpy()


def _series(tm: TransactionMatrix, freq: str) -> pd.DataFrame:
    lens = tm.basket_lengths()
    brow = np.repeat(np.arange(tm.n_baskets), lens)
    rev = tm.revenue
    df = pd.DataFrame({
        "unit": tm.labels[tm.indices],
        "period": _period_start(tm.times[brow], freq) if tm.nnz else np.array([], "datetime64[ns]"),
        "baskets": 1,
        "quantity": tm.quantity if tm.quantity is not None else 1.0,
        "revenue": np.nan_to_num(rev) if rev is not None else 0.0,
    })
    out = df.groupby(["unit", "period"], sort=True, observed=True).sum().reset_index()
    return out


def _windows(owner, windows) -> tuple:
    if not isinstance(windows, (tuple, list)) or not windows:
        raise InvalidParameterError(
            f"The 'windows' parameter of {owner} must be a non-empty tuple of day counts "
            f"(ints >= 1). Got {windows!r} instead.")
    for w in windows:
        check(owner, "windows", w, Interval("int", 1, None, "left"))
    return tuple(windows)


def _level_log(tm, level, hierarchy, owner):
    """The log at ``level`` (``level`` is checked against :data:`LEVEL` by the caller)."""
    if level == "category":
        if hierarchy is None:
            raise InvalidParameterError(
                f"The 'hierarchy' parameter of {owner} must map each item to its category when "
                f"level='category'. Got None.")
        if isinstance(hierarchy, pd.Series):
            hierarchy = hierarchy.to_dict()
        if not isinstance(hierarchy, Mapping):
            raise InvalidParameterError(
                f"The 'hierarchy' parameter of {owner} must be a mapping (dict or Series) from item "
                f"to category. Got {type(hierarchy).__name__} instead.")
        return tm.aggregate(hierarchy)
    return tm


def first_purchases(window: TransactionMatrix, hist: History, start: pd.Timestamp) -> pd.DataFrame:
    """``r`` (row of ``hist``), ``unit`` and ``days`` from ``start`` to the
    first purchase of the unit in ``window``, for the customers of ``hist``;
    sorted by row and unit."""
    lines = _line_frame(window)
    r = hist.row_of(len(window.customer_labels))[lines["customer"].to_numpy()]
    ok = r >= 0
    days = (lines["time"].to_numpy()[ok] - _ns64(start)) / _DAY
    g = pd.DataFrame({"r": r[ok], "unit": lines["unit"].to_numpy()[ok], "days": days})
    return g.groupby(["r", "unit"], sort=True)["days"].min().reset_index()


def customer_features(tm: TransactionMatrix, asof: pd.Timestamp, hist: History,
                      windows=(30, 90, 365), n_shares: int = 10) -> pd.DataFrame:
    """Per customer features of ``tm`` (all before ``asof``), rows as ``hist``."""
    lines = _line_frame(tm)
    row_of = hist.row_of(len(tm.customer_labels))
    n = len(hist.customer_codes)
    asof64 = _ns64(asof)
    cc = tm.customer_codes
    b = np.flatnonzero(cc >= 0)
    r = row_of[cc[b]]
    b, r = b[r >= 0], r[r >= 0]
    t = tm.times[b]
    lens = tm.basket_lengths()[b].astype(np.float64)
    spend_line = lines.groupby("basket")["revenue"].sum()
    spend = spend_line.reindex(b, fill_value=0.0).to_numpy()
    out = pd.DataFrame(index=pd.Index(hist.customers, name="customer"))
    out["n_baskets"] = np.bincount(r, minlength=n)
    # purchase days (the BG/NBD summary with freq="D")
    day = t.astype("datetime64[D]")
    dkey = pd.DataFrame({"r": r, "day": day}).drop_duplicates().sort_values(["r", "day"])
    dr = dkey["r"].to_numpy()
    dd = dkey["day"].to_numpy().astype("datetime64[D]").astype(np.int64)
    n_days = np.bincount(dr, minlength=n)
    first_d = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_d, dr, dd)
    last_d = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last_d, dr, dd)
    asof_day = np.datetime64(asof, "D").astype(np.int64)
    out["n_days"] = n_days
    out["frequency"] = n_days - 1
    out["recency"] = (last_d - first_d).astype(np.float64)
    out["T"] = (asof_day - first_d).astype(np.float64)
    first_t = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_t, r, t.view(np.int64))
    last_t = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last_t, r, t.view(np.int64))
    ns_day = 86_400e9
    out["recency_days"] = (asof64.view(np.int64) - last_t) / ns_day
    out["tenure_days"] = (asof64.view(np.int64) - first_t) / ns_day
    out["n_units"] = np.bincount(hist.pairs["customer"].to_numpy(), minlength=n)
    out["basket_size"] = np.bincount(r, weights=lens, minlength=n) / out["n_baskets"].to_numpy()
    out["spend_total"] = np.bincount(r, weights=spend, minlength=n)
    out["spend_mean"] = out["spend_total"] / out["n_baskets"]
    smax = np.full(n, -np.inf)
    np.maximum.at(smax, r, spend)
    out["spend_max"] = smax
    # inter-purchase times between purchase days
    gaps = np.diff(dd).astype(np.float64)
    same = dr[1:] == dr[:-1]
    gr, gv = dr[1:][same], gaps[same]
    gdf = pd.DataFrame({"r": gr, "g": gv}).groupby("r")["g"]
    out["ipt_mean"] = gdf.mean().reindex(range(n)).to_numpy()
    out["ipt_median"] = gdf.median().reindex(range(n)).to_numpy()
    out["ipt_std"] = gdf.std(ddof=1).reindex(range(n)).to_numpy()
    age = (asof64 - t) / _DAY
    for w in windows:
        inw = age <= w
        out[f"baskets_{w}d"] = np.bincount(r[inw], minlength=n)
        out[f"spend_{w}d"] = np.bincount(r[inw], weights=spend[inw], minlength=n)
    # shares of the customer's lines on the most bought units
    if n_shares:
        lr = row_of[lines["customer"].to_numpy()]
        lok = lr >= 0
        lu = lines["unit"].to_numpy()[lok]
        lr = lr[lok]
        top = np.argsort(-np.bincount(lu, minlength=tm.n_items), kind="stable")[:n_shares]
        tot = np.bincount(lr, minlength=n).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            covered = np.zeros(n)
            for u in top:
                s = np.bincount(lr[lu == u], minlength=n) / tot
                out[f"share_{tm.labels[u]}"] = s
                covered += s
            out["share_other"] = 1.0 - covered
    return out


FEATURES_SPEC = {
    "tm": LOG,
    "cutoff": InBody("a date inside the log, with purchases of registered customers before it and "
                     "baskets after it"),
    "horizon": HORIZON,
    "freq": Options(_FREQS),
    "n_shares": Interval("int", 0, None, "left"),
    "windows": InBody("a non-empty tuple of day counts (ints >= 1)"),
    "level": LEVEL,
    "hierarchy": HIERARCHY,
}


@validated(FEATURES_SPEC)
def features(tm: TransactionMatrix, cutoff, *, horizon="90D", level: str = "item", hierarchy=None,
             freq: str = "W", windows=(30, 90, 365), n_shares: int = 10) -> Features:
    """Build per customer and per unit features from the log before
    ``cutoff`` and the targets from the holdout window after it.

    Parameters
    ----------
    tm : TransactionMatrix
        With customers and times (prices for the spend columns).
    cutoff : date
        Features use baskets before it; targets the ``horizon`` after it.
    horizon : duration
        Length of the holdout window.
    level : {"item", "category"}
        Units of the series and shares: items, or categories through
        ``hierarchy`` (a mapping item -> category).
    freq : {"D", "W", "M"}
        Period of the sales series (weeks start on Monday).
    windows : tuple of int
        Recent windows, in days, for the ``baskets_<w>d`` / ``spend_<w>d``
        counts.
    n_shares : int
        How many of the most bought units get a ``share_`` column.

    Returns
    -------
    Features

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo",
    ...                  "StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice",
    ...                  cancellations="drop")  # a backtest: returns made later are not netted
    >>> f = bm.models.features(tm, "2011-09-01", horizon="90D")
    >>> f.customers[["n_baskets", "frequency", "recency_days", "spend_total"]].round(1).head(3)
              n_baskets  frequency  recency_days  spend_total
    customer
    12407             4          3          34.3       1407.4
    12427             1          0         271.6        303.5
    12434             1          0         160.5        286.2
    >>> int(f.targets["active"].sum()), len(f.targets)
    (201, 384)
    """
    owner = "features"
    _need_log(tm, owner)
    windows = _windows(owner, windows)
    ulog = _level_log(tm, level, hierarchy, owner)
    split = temporal_split(ulog, cutoff, horizon, owner=owner)
    cal, hold = split.calibration, split.holdout
    hist = history(cal, split.cutoff)
    if len(hist.customer_codes) == 0:
        raise InvalidParameterError(
            f"The 'cutoff' parameter of {owner} must leave purchases of registered customers before "
            f"it. Got {cutoff!r}: none of the {cal.n_baskets} baskets before it has a customer.")
    cust = customer_features(cal, split.cutoff, hist, windows, n_shares)
    # targets
    hlines = _line_frame(hold)
    hr = hist.row_of(len(tm.customer_labels))[hlines["customer"].to_numpy()]
    new_customers = int(len(np.unique(hlines["customer"].to_numpy()[hr < 0])))
    known = hr >= 0
    n = len(hist.customer_codes)
    hb = hlines[known].assign(r=hr[known])
    bask = hb.drop_duplicates("basket")
    tg = pd.DataFrame(index=cust.index)
    tg["holdout_baskets"] = np.bincount(bask["r"].to_numpy(), minlength=n)
    tg["holdout_spend"] = np.bincount(hb["r"].to_numpy(), weights=hb["revenue"].to_numpy(), minlength=n)
    tg["active"] = tg["holdout_baskets"] > 0
    first = first_purchases(hold, hist, split.cutoff)
    tg["holdout_units"] = np.bincount(first["r"].to_numpy(), minlength=n)
    before = set(zip(hist.pairs["customer"].to_numpy().tolist(), hist.pairs["unit"].to_numpy().tolist()))
    hp = pd.DataFrame({
        "customer": hist.customers[first["r"].to_numpy()],
        "unit": ulog.labels[first["unit"].to_numpy()],
        "days": first["days"].to_numpy(),
        "bought_before": [(a, u) in before for a, u in zip(first["r"].tolist(), first["unit"].tolist())],
    })
    return Features(cust, _series(cal, freq), tg, hp, _series(hold, freq), hist, split, level,
                    {"new_customers": new_customers, "freq": freq, "horizon": split.horizon,
                     "cutoff": split.cutoff})
