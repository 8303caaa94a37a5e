"""CRM margin (revenue - product cost - relationship-marketing expense),
its projection, and customer classes."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._validation import InBody, Interval, InvalidParameterError, Options, check, user_stacklevel, validated
from ..transactions import TransactionMatrix
from ._summary import (MARGIN_RATE, OBSERVATION_END, _PERIODS, _periods, customer_table, last_complete_period,
                       period_label, period_table, purchases)

__all__ = ["CLASS_THRESHOLDS", "class_table", "customer_classes", "margin_forecast", "margin_history"]


def _expense_table(expenses, labels, period: str, owner: str):
    """Expenses per (customer code, period ordinal); unknown customers are
    kept under new codes and reported."""
    if expenses is None:
        return None, labels
    if not isinstance(expenses, pd.DataFrame) or not {"customer", "time", "expense"} <= set(expenses.columns):
        raise InvalidParameterError(
            f"The 'expenses' parameter of {owner} must be a DataFrame with the columns 'customer', "
            f"'time' and 'expense' (one row per marketing cost). Got "
            f"{type(expenses).__name__ if not isinstance(expenses, pd.DataFrame) else list(expenses.columns)!r} instead.")
    amount = pd.to_numeric(expenses["expense"], errors="coerce").to_numpy(np.float64)
    t = pd.to_datetime(expenses["time"], errors="coerce").to_numpy("datetime64[ns]")
    bad = np.isnan(amount) | np.isnat(t) | expenses["customer"].isna().to_numpy()
    if bad.any():
        raise InvalidParameterError(
            f"The 'expenses' parameter of {owner} must have a customer, a time and a numeric "
            f"expense on every row; {int(bad.sum())} rows do not (first: row {int(np.flatnonzero(bad)[0])}).")
    if (amount < 0).any():
        raise InvalidParameterError(
            f"The 'expenses' parameter of {owner} must hold expenses >= 0; {int((amount < 0).sum())} "
            f"are negative, e.g. {amount[amount < 0][0]}.")
    lookup = {c: i for i, c in enumerate(labels)}
    cust = expenses["customer"].to_numpy()
    unknown = [c for c in pd.unique(cust) if c not in lookup]
    if unknown:
        warnings.warn(f"{owner}: {len(unknown)} customers in 'expenses' have no purchases in the log "
                      f"(e.g. {unknown[0]!r}); they are kept with zero revenue.", UserWarning, stacklevel=user_stacklevel())
        labels = np.concatenate([labels, np.asarray(unknown, dtype=object)])
        lookup.update({c: len(lookup) + k for k, c in enumerate(unknown)})
    codes = np.fromiter((lookup[c] for c in cust), dtype=np.int64, count=len(cust))
    return (codes, _periods(t, period), amount), labels


_COSTED_TM = InBody("a TransactionMatrix with customers, times, prices and costs (or give margin_rate)")
_EXPENSES = InBody("None, or a DataFrame with the columns 'customer', 'time' and 'expense' (>= 0) on every row")

_MARGIN_HISTORY_SPEC = {"tm": _COSTED_TM, "period": Options(_PERIODS), "expenses": _EXPENSES,
                        "margin_rate": MARGIN_RATE, "observation_end": OBSERVATION_END}


@validated(_MARGIN_HISTORY_SPEC)
def margin_history(tm: TransactionMatrix, period: str = "M", *, expenses=None, margin_rate=None,
                   observation_end=None) -> pd.DataFrame:
    """Margin per customer and period: revenue, product cost, expense.

    Parameters
    ----------
    tm : TransactionMatrix
        With customers, times, prices and either costs or ``margin_rate``.
    period : {"W", "M", "Q"}
    expenses : DataFrame, optional
        Relationship-marketing costs: columns ``customer``, ``time``,
        ``expense``.
    margin_rate : float, optional
        Gross margin rate ``(revenue - cost) / revenue`` to assume when the
        log has no costs.

    Returns
    -------
    DataFrame indexed by (customer, period) for every period with revenue or
    expense: ``revenue``, ``cost``, ``expense``, ``margin`` (revenue - cost
    - expense) and ``margin_rate`` (gross, before expense).

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> hist = bm.value.margin_history(tm, "Q", margin_rate=0.3)
    >>> list(hist.columns)
    ['revenue', 'cost', 'expense', 'margin', 'margin_rate']
    >>> hist.attrs["baskets_without_customer"]   # left out, with a warning
    63
    >>> hist.groupby(level="period")["revenue"].sum().round(0).head(2)
    period
    2010Q4     46614.0
    2011Q1    173780.0
    Freq: Q-DEC, Name: revenue, dtype: float64
    """
    owner = "margin_history"
    p = costed_purchases(tm, owner, observation_end, margin_rate)
    hist = _history(p, period, expenses, owner)
    hist.attrs.pop("_ordinals")   # the callers' codes, not part of the result
    return hist


def costed_purchases(tm, owner: str, observation_end=None, margin_rate=None):
    """:func:`purchases` with revenue and product cost (or a margin rate), as
    every margin function needs them."""
    p = purchases(tm, owner, observation_end, margin_rate=margin_rate)
    if p.revenue is None or p.cost is None:
        raise InvalidParameterError(
            f"{owner} needs revenue and product cost: build the TransactionMatrix with price= and "
            f"cost= columns, or give margin_rate (e.g. 0.3 for a 30% gross margin).")
    return p


def _history(p, period, expenses, owner):
    pt = period_table(p, period)
    ex, labels = _expense_table(expenses, p.labels, period, owner)
    cust, per = pt.customer, pt.period
    rev, cost, exp = pt.revenue, pt.cost, np.zeros(len(cust))
    if ex is not None:
        ec, ep, ea = ex
        cust = np.concatenate([cust, ec])
        per = np.concatenate([per, ep])
        rev = np.concatenate([rev, np.zeros(len(ec))])
        cost = np.concatenate([cost, np.zeros(len(ec))])
        exp = np.concatenate([exp, ea])
    key = np.column_stack([cust, per])
    uk, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.ravel()

    def add(v):
        return np.bincount(inv, weights=v, minlength=len(uk))

    R, C, E = add(rev), add(cost), add(exp)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(R != 0, (R - C) / R, np.nan)
    idx = pd.MultiIndex.from_arrays([labels[uk[:, 0]], [period_label(o, period) for o in uk[:, 1]]],
                                    names=["customer", "period"])
    df = pd.DataFrame({"revenue": R, "cost": C, "expense": E, "margin": R - C - E,
                       "margin_rate": rate}, index=idx)
    df.attrs.update(period=period, observation_end=p.end, baskets_without_customer=p.without_customer,
                    baskets_after_end=p.after_end)
    df.attrs["_ordinals"] = uk
    return df


def _slope(y: np.ndarray) -> float:
    """Least-squares slope of y against 0, 1, ..., ignoring NaN."""
    x = np.arange(len(y), dtype=np.float64)
    ok = ~np.isnan(y)
    if ok.sum() < 2:
        return 0.0
    x, y = x[ok], y[ok]
    xm = x - x.mean()
    return float(xm @ (y - y.mean()) / (xm @ xm))


_OVERRIDABLE = ("expected_revenue", "margin_rate", "expected_expense")


_MARGIN_FORECAST_SPEC = {
    "tm": _COSTED_TM, "period": Options(_PERIODS), "periods": Interval("int", 1, None, "left"),
    "expected_revenue": InBody("None (a StateTransitionForecast), a Series by customer or by "
                               "(customer, period), or a forecast DataFrame"),
    "expenses": _EXPENSES, "margin_rate": MARGIN_RATE,
    "overrides": InBody("None, a dict or a DataFrame indexed by customers of the forecast, setting "
                        + ", ".join(_OVERRIDABLE)),
    "observation_end": OBSERVATION_END,
}


@validated(_MARGIN_FORECAST_SPEC)
def margin_forecast(tm: TransactionMatrix, period: str = "M", periods: int = 3, *,
                    expected_revenue=None, expenses=None, margin_rate=None, overrides=None,
                    observation_end=None) -> pd.DataFrame:
    """Project each customer's CRM margin over the next ``periods`` periods.

    Per customer and future period:

    - ``expected_revenue``: from ``expected_revenue`` (a Series by customer,
      or a DataFrame/Series indexed by (customer, period 1..k)); by default
      the :class:`StateTransitionForecast` of the same periods;
    - ``margin_rate``: the gross margin rate of the customer's last active
      period; a customer inactive for ``r`` periods since gets it times
      ``1 + Δ``, with ``Δ`` the slope (per period) of the firm-wide rate
      over those periods times ``r / 2``;
    - ``expected_expense``: expected revenue x the customer's historic
      expense / revenue ratio, floored at their smallest positive past
      expense unless the expected revenue is below that floor;
    - ``expected_cost`` = revenue x (1 - margin rate), and
      ``value`` = revenue - cost - expense.

    ``overrides`` replaces any of ``expected_revenue``, ``margin_rate``,
    ``expected_expense``: a dict of values for everyone, or a DataFrame
    indexed by customer (NaN keeps the computed value).  The projection is
    made from whole periods up to ``observation_end``.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> fc = bm.value.margin_forecast(tm, "M", periods=3, margin_rate=0.3)
    >>> list(fc.columns)
    ['expected_revenue', 'margin_rate', 'expected_expense', 'expected_cost', 'value', 'idle_periods']
    >>> fc.index.get_level_values(1).unique().tolist()
    [1, 2, 3]
    """
    owner = "margin_forecast"
    p = costed_purchases(tm, owner, observation_end, margin_rate)
    last = last_complete_period(p.end, period)
    keep = _periods(p.time, period) <= last
    from ._summary import Purchases
    p = Purchases(p.customer[keep], p.time[keep], p.revenue[keep], p.cost[keep], p.labels, p.end,
                  p.without_customer, p.after_end)
    hist = _history(p, period, expenses, owner)
    uk = hist.attrs.pop("_ordinals")
    hist = hist[uk[:, 1] <= last]
    uk = uk[uk[:, 1] <= last]
    cust_codes = np.unique(uk[:, 0])
    labels = hist.index.get_level_values("customer")
    # firm-wide gross margin rate per period
    R = hist["revenue"].to_numpy()
    C = hist["cost"].to_numpy()
    lo = int(uk[:, 1].min())
    firm_R = np.bincount(uk[:, 1] - lo, weights=R, minlength=last - lo + 1)
    firm_C = np.bincount(uk[:, 1] - lo, weights=C, minlength=last - lo + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        firm_rate = np.where(firm_R != 0, (firm_R - firm_C) / firm_R, np.nan)

    g = pd.DataFrame({"code": uk[:, 0], "per": uk[:, 1], "R": R, "rate": hist["margin_rate"].to_numpy(),
                      "E": hist["expense"].to_numpy(), "label": labels})
    active = g[g["R"] > 0]
    last_active = active.groupby("code").last()  # rows are sorted by (customer, period)
    totals = g.groupby("code")[["R", "E"]].sum()
    pos_exp = g[g["E"] > 0].groupby("code")["E"].min()
    first_label = g.groupby("code")["label"].first()
    rows = []
    for code in cust_codes:
        if code in last_active.index:
            la = last_active.loc[code]
            r = last - int(la["per"])
            rate = float(la["rate"])
            if r > 0:   # the rate moves with the firm's: multiplied by 1 + slope x r/2 (r idle periods)
                rate *= 1 + _slope(firm_rate[int(la["per"]) - lo:]) * r / 2
        else:
            r, rate = np.nan, np.nan
        tr, te = totals.loc[code, "R"], totals.loc[code, "E"]
        ratio = te / tr if tr > 0 else (np.nan if te > 0 else 0.0)
        rows.append((first_label.loc[code], r, rate, ratio, pos_exp.get(code, np.nan)))
    base = pd.DataFrame(rows, columns=["customer", "idle_periods", "margin_rate", "expense_ratio",
                                       "min_expense"]).set_index("customer")

    fidx = pd.MultiIndex.from_product([base.index, range(1, periods + 1)], names=["customer", "period"])
    er = _expected_revenue(expected_revenue, tm, period, periods, observation_end, base.index, fidx, owner)
    out = pd.DataFrame(index=fidx)
    out["expected_revenue"] = er
    out["margin_rate"] = np.repeat(base["margin_rate"].to_numpy(), periods)
    ratio = np.repeat(base["expense_ratio"].to_numpy(), periods)
    floor = np.repeat(base["min_expense"].to_numpy(), periods)
    e = out["expected_revenue"].to_numpy() * ratio
    use_floor = ~np.isnan(floor) & (out["expected_revenue"].to_numpy() >= floor)
    out["expected_expense"] = np.where(use_floor, np.maximum(e, np.nan_to_num(floor)), e)
    _apply_overrides(out, overrides, owner)
    out["expected_cost"] = out["expected_revenue"] * (1 - out["margin_rate"])
    out["value"] = out["expected_revenue"] - out["expected_cost"] - out["expected_expense"]
    out["idle_periods"] = np.repeat(base["idle_periods"].to_numpy(), periods)
    out.attrs.update(period=period, last_period=period_label(last, period),
                     firm_margin_rate=pd.Series(firm_rate, index=[period_label(o, period)
                                                                  for o in range(lo, last + 1)]))
    nan_rate = int(np.isnan(base["margin_rate"]).sum())
    if nan_rate:
        warnings.warn(f"{owner}: {nan_rate} customers have no period with revenue (expenses only); "
                      f"their margin rate and value are NaN unless overridden.", UserWarning, stacklevel=user_stacklevel())
    return out


def _expected_revenue(er, tm, period, periods, observation_end, customers, fidx, owner):
    if er is None:
        from ._forecast import StateTransitionForecast
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fc = StateTransitionForecast(period=period, periods=periods,
                                         observation_end=observation_end).fit(tm).forecast()
        return fc["expected_value"].reindex(fidx).fillna(0.0).to_numpy()
    if isinstance(er, pd.DataFrame):
        if "expected_value" in er.columns:
            er = er["expected_value"]
        elif "expected_revenue" in er.columns:
            er = er["expected_revenue"]
    if not isinstance(er, pd.Series):
        raise InvalidParameterError(
            f"The 'expected_revenue' parameter of {owner} must be a Series by customer or by "
            f"(customer, period), or a forecast DataFrame. Got {type(er).__name__} instead.")
    if er.index.nlevels == 2:
        v = er.reindex(fidx)
    else:
        v = er.reindex(fidx.get_level_values("customer"))
    missing = int(v.isna().sum())
    if missing:
        warnings.warn(f"{owner}: expected_revenue has no value for {missing} customer-periods; "
                      f"they are taken as 0.", UserWarning, stacklevel=user_stacklevel())
    return v.fillna(0.0).to_numpy()


def _apply_overrides(out, overrides, owner):
    if overrides is None:
        return
    if isinstance(overrides, dict):
        bad = [k for k in overrides if k not in _OVERRIDABLE]
        if bad:
            raise InvalidParameterError(
                f"The 'overrides' parameter of {owner} may set {', '.join(_OVERRIDABLE)}. Got {bad[0]!r}.")
        for k, v in overrides.items():
            out[k] = float(v)
        return
    if not isinstance(overrides, pd.DataFrame):
        raise InvalidParameterError(
            f"The 'overrides' parameter of {owner} must be a dict or a DataFrame indexed by customer. "
            f"Got {type(overrides).__name__} instead.")
    bad = [k for k in overrides.columns if k not in _OVERRIDABLE]
    if bad:
        raise InvalidParameterError(
            f"The 'overrides' parameter of {owner} may set {', '.join(_OVERRIDABLE)}. Got {bad[0]!r}.")
    unknown = overrides.index.difference(out.index.get_level_values("customer").unique())
    if len(unknown):
        raise InvalidParameterError(
            f"The 'overrides' parameter of {owner} names {len(unknown)} customers not in the "
            f"forecast, e.g. {unknown[0]!r}.")
    cust = out.index.get_level_values("customer")
    for k in overrides.columns:
        v = overrides[k].reindex(cust).to_numpy(np.float64)
        out[k] = np.where(np.isnan(v), out[k].to_numpy(), v)


# ------------------------------------------------------------------ classes
#: Default thresholds of :func:`customer_classes`.
CLASS_THRESHOLDS = {
    # a customer without a purchase for longer than this is lost
    "lost_after": "180D",
    # loyal: at least this many purchases, and at least the given quantile of
    # the purchases of the customers not lost
    "loyal_min_purchases": 2,
    "loyal_quantile": 0.75,
    # value tiers: the top share of customers by value is "high", the next "medium"
    "high_share": 0.2,
    "medium_share": 0.3,
}


_CUSTOMER_CLASSES_SPEC = {
    "tm": InBody("a TransactionMatrix with customers and times (and prices, without value=)"),
    "value": InBody("None, or a Series with a value for every customer"),
    "observation_end": OBSERVATION_END,
    "thresholds": InBody("None, or a dict with keys among " + ", ".join(CLASS_THRESHOLDS)),
    "margin_rate": MARGIN_RATE,
}


@validated(_CUSTOMER_CLASSES_SPEC)
def customer_classes(tm: TransactionMatrix, value=None, *, observation_end=None, thresholds=None,
                     margin_rate=None) -> pd.DataFrame:
    """Loyal, potential, marginal and lost customers, and value tiers.

    - ``lost``: no purchase for longer than ``lost_after``;
    - ``loyal``: not lost, with at least ``loyal_min_purchases`` purchases
      (baskets) and at least the ``loyal_quantile`` of the purchase counts
      of the customers not lost;
    - ``potential``: not lost, not loyal, in the high or medium value tier;
    - ``marginal``: the rest.

    Value tiers rank customers by ``value``: the top ``high_share`` are
    ``high``, the next ``medium_share`` ``medium``, the rest ``low``.
    ``value`` is a Series by customer (e.g. a CLV or margin forecast); by
    default the historic profit (with costs or ``margin_rate``) or revenue.
    ``thresholds`` overrides any of :data:`CLASS_THRESHOLDS`.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> classes = bm.value.customer_classes(tm)
    >>> list(classes.columns)
    ['recency_days', 'purchases', 'value', 'customer_class', 'value_tier']
    >>> classes["customer_class"].value_counts().sort_index().to_dict()
    {'loyal': 117, 'potential': 119, 'marginal': 153, 'lost': 104}
    """
    owner = "customer_classes"
    th = dict(CLASS_THRESHOLDS)
    if thresholds is not None:
        if not isinstance(thresholds, dict) or any(k not in th for k in thresholds):
            raise InvalidParameterError(
                f"The 'thresholds' parameter of {owner} must be a dict with keys among "
                f"{', '.join(th)}. Got {thresholds!r:.80} instead.")
        th.update(thresholds)
    check(owner, "loyal_quantile", th["loyal_quantile"], Interval("real", 0, 1, "both"))
    check(owner, "high_share", th["high_share"], Interval("real", 0, 1, "both"))
    check(owner, "medium_share", th["medium_share"], Interval("real", 0, 1, "both"))
    check(owner, "loyal_min_purchases", th["loyal_min_purchases"], Interval("int", 1, None, "left"))
    try:
        lost_after = pd.Timedelta(th["lost_after"])
    except (ValueError, TypeError):
        raise InvalidParameterError(
            f"The 'lost_after' threshold of {owner} must be a duration such as '180D'. "
            f"Got {th['lost_after']!r} instead.") from None
    if th["high_share"] + th["medium_share"] > 1:
        raise InvalidParameterError(
            f"The 'high_share' and 'medium_share' thresholds of {owner} must add up to at most 1. "
            f"Got {th['high_share']} + {th['medium_share']}.")
    table, p = customer_table(tm, owner, observation_end, margin_rate)
    recency = (p.end - table["last_purchase"]) / pd.Timedelta(days=1)
    if value is None:
        if "profit" in table:
            v = table["profit"]
        elif "revenue" in table:
            v = table["revenue"]
        else:
            raise InvalidParameterError(
                f"{owner} needs a value per customer: give value= or build the TransactionMatrix with prices.")
    else:
        if not isinstance(value, pd.Series):
            raise InvalidParameterError(
                f"The 'value' parameter of {owner} must be a Series indexed by customer. "
                f"Got {type(value).__name__} instead.")
        v = value.reindex(table.index)
        if v.isna().any():
            raise InvalidParameterError(
                f"The 'value' parameter of {owner} must have a value for every customer; "
                f"{int(v.isna().sum())} are missing, e.g. {v.index[v.isna()][0]!r}.")
    lost = recency.to_numpy() > lost_after / pd.Timedelta(days=1)
    freq = table["n_baskets"].to_numpy()
    cut = np.quantile(freq[~lost], th["loyal_quantile"]) if (~lost).any() else np.inf
    loyal = ~lost & (freq >= max(cut, th["loyal_min_purchases"]))
    vv = v.to_numpy(np.float64)
    order = np.lexsort((np.arange(len(vv)), -vv))
    rank = np.empty(len(vv), dtype=np.int64)
    rank[order] = np.arange(len(vv))
    n = len(vv)
    tier = np.where(rank < round(th["high_share"] * n), "high",
                    np.where(rank < round((th["high_share"] + th["medium_share"]) * n), "medium", "low"))
    cls = np.where(lost, "lost", np.where(loyal, "loyal", np.where(tier != "low", "potential", "marginal")))
    out = pd.DataFrame({"recency_days": recency, "purchases": freq, "value": vv,
                        "customer_class": pd.Categorical(cls, ["loyal", "potential", "marginal", "lost"]),
                        "value_tier": pd.Categorical(tier, ["high", "medium", "low"])}, index=table.index)
    out.attrs.update(table.attrs, thresholds=th, loyal_min_purchases_used=float(max(cut, th["loyal_min_purchases"])))
    return out


_CLASS_TABLE_SPEC = {"classes": InBody("a DataFrame of customer_classes (a 'value' column)"),
                     "by": InBody("columns of classes, such as ('customer_class', 'value_tier')")}


@validated(_CLASS_TABLE_SPEC)
def class_table(classes: pd.DataFrame, by=("customer_class",)) -> pd.DataFrame:
    """Size and share of value of each class (or class x tier with
    ``by=("customer_class", "value_tier")``).

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> bm.value.class_table(bm.value.customer_classes(tm)).round(3)
                    customers       value  customer_share  value_share  mean_value
    customer_class                                                                
    loyal                 117  688099.160           0.237        0.731    5881.189
    potential             119  165945.970           0.241        0.176    1394.504
    marginal              153   50844.281           0.310        0.054     332.316
    lost                  104   36499.290           0.211        0.039     350.955
    """
    by = list(by)
    g = classes.groupby(by, observed=False)
    out = pd.DataFrame({"customers": g.size(), "value": g["value"].sum()})
    out["customer_share"] = out["customers"] / max(len(classes), 1)
    tot = classes["value"].sum()
    out["value_share"] = out["value"] / tot if tot else np.nan
    out["mean_value"] = out["value"] / out["customers"].where(out["customers"] > 0)
    return out
