"""Backtest of the CRM margin projection: :func:`margin_forecast` and the
naive answers at several cut-offs, judged on the margin each customer
brought in the periods after each cut-off, and the margin-rate rule on its
own."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._validation import InBody, Interval, InvalidParameterError, Options, validated
from ..transactions import TransactionMatrix, warn_returns_after
from ._models import ConvergenceWarning
from ._forecast import StateTransitionForecast
from ._forecast_backtest import cutoff_periods, metric_row
from ._margin import _COSTED_TM, _EXPENSES, _history, costed_purchases, margin_forecast
from ._summary import MARGIN_RATE, _PERIODS, period_table

__all__ = ["MARGIN_MODELS", "MarginBacktest", "margin_backtest"]

#: The answers :func:`margin_backtest` judges: ``margin_forecast`` (margin
#: and margin rate), ``last_periods`` (each customer's margin of the last
#: ``periods`` periods again) and ``last_rate`` (the last active period's
#: margin rate unchanged, without the firm-wide drift).
MARGIN_MODELS = ("margin_forecast", "last_periods", "last_rate")
MARGIN_TARGETS = ("margin", "margin_rate")
_METRIC_COLUMNS = ["cutoff", "model", "target", "customers", "mae", "mae_mean", "rmse", "predicted", "actual",
                   "relative_error"]


@dataclass
class MarginBacktest:
    """What :func:`margin_backtest` measured.

    Attributes
    ----------
    metrics : DataFrame
        One row per cut-off, model and target: ``customers``, per-customer
        ``mae`` (for ``margin_forecast``'s margin: of the projection fed
        with the chain's median revenue, the point forecast for absolute
        error, as in :func:`backtest`), ``mae_mean`` and ``rmse`` of the
        expectation, and for the ``margin`` target the
        ``predicted`` and ``actual`` totals and the total's
        ``relative_error`` ((predicted - actual) / \\|actual\\|).  The
        ``margin_rate`` target (``margin_forecast`` against ``last_rate``,
        on the customers with revenue in the horizon) has no totals: NaN.
    predictions : DataFrame
        Per cut-off and customer who bought before it: ``idle_periods``
        (whole periods since the last one with revenue), the actual
        ``actual:revenue``, ``actual:margin``, ``actual:margin_rate`` and
        each model's predictions (``<model>:<target>``; the median-fed
        projection as ``margin_forecast:margin:median``).
    notes : list of str
        Forecasts that could not be made at a cut-off, and why.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice", cancellations="drop")
    >>> bt = bm.value.margin_backtest(tm, "2011-06-01", margin_rate=0.3)
    >>> list(bt.predictions.columns[:4])
    ['cutoff', 'customer', 'idle_periods', 'actual:revenue']
    """

    metrics: pd.DataFrame
    predictions: pd.DataFrame = field(repr=False)
    notes: list = field(default_factory=list)


_SPEC = {"tm": _COSTED_TM,
         "cutoffs": InBody("dates at the start of a period, each leaving `periods` whole periods after it"),
         "periods": Interval("int", 1, None, "left"), "period": Options(_PERIODS),
         "margin_rate": MARGIN_RATE, "expenses": _EXPENSES}


@validated(_SPEC)
def margin_backtest(tm: TransactionMatrix, cutoffs, periods: int = 3, *, period: str = "M", margin_rate=None,
                    expenses=None) -> MarginBacktest:
    """Run :func:`margin_forecast` at each cut-off and judge it on the
    margin the customers brought in the ``periods`` whole periods after it.

    At every cut-off the forecasts see only the baskets (and expenses)
    before it; every customer who bought before it is judged.

    - ``margin_forecast``: :func:`margin_forecast` of the history (expected
      revenue from the :class:`StateTransitionForecast`, ``observation_end``
      one instant before the cut-off), its ``value`` summed over the
      periods; its ``mae`` is that of the same projection fed with the
      chain's median revenue (the point forecast for absolute error, spread
      evenly over the periods), ``mae_mean`` that of the expectation;
    - ``last_periods``: the customer's realised margin in the last
      ``periods`` periods before the cut-off, again.

    The realised margin is revenue - product cost - expense over the
    horizon periods, as :func:`margin_history` of the whole log counts it.

    The margin-rate rule is judged on its own, on the customers with
    revenue in the horizon: the realised horizon rate (revenue - cost) /
    revenue against ``margin_forecast``'s ``margin_rate`` (the last active
    rate x (1 + slope x r/2) for a customer idle r periods) and against
    ``last_rate``, the last active period's rate unchanged.  With a fixed
    ``margin_rate`` and no costs every rate is that number: the rule is
    not exercised.

    Parameters
    ----------
    tm : TransactionMatrix
        With customers, times, prices and either costs (``cost=``) or
        ``margin_rate``.
    cutoffs : date or list of dates
        Each at the start of a ``period`` period, leaving ``periods`` whole
        periods before the log ends and a whole period before it.
    periods : int, default 3
        The horizon, in periods.
    period : {"W", "M", "Q"}, default "M"
    margin_rate : float, optional
        Gross margin rate to assume when the log has no costs.
    expenses : DataFrame, optional
        Relationship-marketing costs (columns ``customer``, ``time``,
        ``expense``), as in :func:`margin_history`; the forecasts see those
        before the cut-off, the realised margin subtracts those in the
        horizon.

    Returns
    -------
    MarginBacktest
        ``metrics``, ``predictions`` and ``notes``.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice", cancellations="drop")
    >>> bt = bm.value.margin_backtest(tm, ["2011-06-01"], 3, margin_rate=0.3)
    >>> bt.metrics[["model", "target", "customers", "mae", "relative_error"]].round(3)
                 model       target  customers      mae  relative_error
    0  margin_forecast       margin        307  109.897          -0.017
    1     last_periods       margin        307  134.614           0.161
    2  margin_forecast  margin_rate        147    0.000             NaN
    3        last_rate  margin_rate        147    0.000             NaN
    """
    owner = "margin_backtest"
    p = costed_purchases(tm, owner, margin_rate=margin_rate)
    pt = period_table(p, period)
    cuts = cutoff_periods(owner, cutoffs, period, periods, p.end, int(pt.period.min()))
    hist = _history(p, period, expenses, owner)   # checks expenses once, for the whole log
    uk = hist.attrs.pop("_ordinals")
    code, per = uk[:, 0], uk[:, 1]
    R, C, E = (hist[c].to_numpy(np.float64) for c in ("revenue", "cost", "expense"))
    n = int(code.max()) + 1
    labels = np.empty(n, dtype=object)
    labels[code] = hist.index.get_level_values("customer").to_numpy()
    customers = pd.Index(labels)
    if expenses is not None:
        ex_time = pd.to_datetime(expenses["time"]).to_numpy("datetime64[ns]")

    rows, preds, notes = [], [], []
    for cut_ts, cut in cuts:
        bought = np.zeros(n, dtype=bool)
        bought[pt.customer[pt.period < cut]] = True
        who = np.flatnonzero(bought)

        inside = (per >= cut) & (per < cut + periods)
        Rh = np.bincount(code[inside], weights=R[inside], minlength=n)
        Ch = np.bincount(code[inside], weights=C[inside], minlength=n)
        Eh = np.bincount(code[inside], weights=E[inside], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(Rh > 0, (Rh - Ch) / Rh, np.nan)
        last = (per >= cut - periods) & (per < cut)
        naive = np.bincount(code[last], weights=(R - C - E)[last], minlength=n)
        # the last period with revenue before the cut-off (rows are sorted by customer, period)
        act = np.flatnonzero((per < cut) & (R > 0))
        lastrow = act[np.r_[code[act][1:] != code[act][:-1], True]] if len(act) else act
        last_rate = np.full(n, np.nan)
        idle = np.full(n, np.nan)
        last_rate[code[lastrow]] = (R[lastrow] - C[lastrow]) / R[lastrow]
        idle[code[lastrow]] = cut - 1 - per[lastrow]

        fc_margin = np.full(n, np.nan)
        fc_rate = np.full(n, np.nan)
        warn_returns_after(tm, cut_ts, owner)
        history = tm.between(None, cut_ts)
        seen = None if expenses is None else expenses[ex_time < cut_ts.to_datetime64()]
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            try:
                # one chain for both projections: its expected revenue, and its median revenue
                # (the point forecast for absolute error) spread evenly over the periods
                st = StateTransitionForecast(period=period, periods=periods,
                                             observation_end=cut_ts - pd.Timedelta(1, "ns")).fit(history)
                kw = dict(expenses=seen, margin_rate=margin_rate, observation_end=cut_ts - pd.Timedelta(1, "ns"))
                fc = margin_forecast(history, period, periods, expected_revenue=st.forecast(periods), **kw)
                fc_med = margin_forecast(history, period, periods,
                                         expected_revenue=st.totals(periods)["median_value"] / periods, **kw)
            except (InvalidParameterError, ValueError, np.linalg.LinAlgError) as exc:
                notes.append(f"margin_forecast at {cut_ts:%Y-%m-%d}: not made ({exc})")
                fc = fc_med = None
        notes += [f"margin_forecast at {cut_ts:%Y-%m-%d}: {w.message}" for w in said
                  if issubclass(w.category, ConvergenceWarning)]
        if fc is not None and not (fc["expected_revenue"] != 0).any():
            notes.append(f"margin_forecast at {cut_ts:%Y-%m-%d}: the expected revenue is 0 for every customer "
                         f"(the StateTransitionForecast gave none); its margins are judged as they are")
        fc_median = np.full(n, np.nan)
        if fc is not None:
            for frame, out in ((fc, fc_margin), (fc_med, fc_median)):
                value = frame["value"]
                total = value.groupby(level="customer", sort=False).sum()
                missing = value.isna().groupby(level="customer", sort=False).any()
                total[missing.reindex(total.index).to_numpy()] = np.nan
                idx = customers.get_indexer(total.index)
                out[idx[idx >= 0]] = total.to_numpy()[idx >= 0]
            first = fc.xs(1, level="period")["margin_rate"]
            idx = customers.get_indexer(first.index)
            fc_rate[idx[idx >= 0]] = first.to_numpy()[idx >= 0]

        actual = Rh - Ch - Eh
        if fc is not None:
            rows.append(metric_row(cut_ts, "margin_forecast", "margin", actual[who], fc_margin[who], True,
                                fc_median[who]))
        rows.append(metric_row(cut_ts, "last_periods", "margin", actual[who], naive[who], True))
        if fc is not None:
            rows.append(metric_row(cut_ts, "margin_forecast", "margin_rate", rate[who], fc_rate[who], False))
        rows.append(metric_row(cut_ts, "last_rate", "margin_rate", rate[who], last_rate[who], False))
        preds.append(pd.DataFrame({
            "cutoff": cut_ts, "customer": labels[who], "idle_periods": idle[who], "actual:revenue": Rh[who],
            "actual:margin": actual[who], "actual:margin_rate": rate[who],
            "margin_forecast:margin": fc_margin[who], "margin_forecast:margin:median": fc_median[who],
            "last_periods:margin": naive[who],
            "margin_forecast:margin_rate": fc_rate[who], "last_rate:margin_rate": last_rate[who]}))
    metrics = pd.DataFrame(rows, columns=_METRIC_COLUMNS)
    return MarginBacktest(metrics, pd.concat(preds, ignore_index=True), notes)
