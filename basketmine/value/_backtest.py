"""Calibration / holdout backtest of the repeat-purchase models."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._validation import InBody, Interval, InvalidParameterError, user_stacklevel, validated
from ..transactions import TransactionMatrix, warn_returns_after
from ._models import BetaGeo, _PurchaseModel, _unit_days
from ._summary import OBSERVATION_END, SUMMARY_SPEC, _period_start_days, _periods, _timestamp, purchases, summary

__all__ = ["Backtest", "calibration_holdout"]


@dataclass
class Backtest:
    """What :func:`calibration_holdout` measured.

    Attributes
    ----------
    model : the purchase model fitted on the calibration period.
    customers : DataFrame
        Per customer: calibration summary (``frequency_cal``, ``recency_cal``,
        ``T_cal``), ``frequency_holdout``, ``predicted_holdout``,
        ``probability_alive``.
    by_frequency : DataFrame
        Mean actual and predicted holdout purchases by calibration frequency
        (the last group pools ``max_frequency`` and more).
    tracking : DataFrame
        Cumulative repeat purchases of the cohort by time, actual and
        expected, over calibration and holdout.
    metrics : Series
        ``mae``, ``rmse``, total actual and predicted holdout purchases and
        their relative error.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_cdnow("datasets/cdnow/CDNOW_sample.txt")
    >>> bt = bm.value.calibration_holdout(tm, "1997-09-30", "1998-06-30", unit="W")
    >>> type(bt.model).__name__, list(bt.by_frequency.columns)
    ('BetaGeo', ['customers', 'actual', 'predicted'])
    >>> bt.metrics[["mae", "rmse", "actual", "predicted"]].round(3).to_dict()
    {'mae': 0.785, 'rmse': 1.608, 'actual': 1882.0, 'predicted': 1653.409}
    """

    model: _PurchaseModel
    customers: pd.DataFrame
    by_frequency: pd.DataFrame
    tracking: pd.DataFrame
    metrics: pd.Series = field(default_factory=pd.Series)


_CALIBRATION_HOLDOUT_SPEC = {
    "tm": InBody("a TransactionMatrix with customers and times"),
    "calibration_end": InBody("a date or time before the end of the holdout"),
    "observation_end": OBSERVATION_END,
    "model": InBody("None (a BetaGeo), or a BetaGeo, ParetoNBD or NBD"),
    "freq": SUMMARY_SPEC["freq"], "unit": SUMMARY_SPEC["unit"],
    "max_frequency": Interval("int", 0, None, "left"),
}


@validated(_CALIBRATION_HOLDOUT_SPEC)
def calibration_holdout(tm: TransactionMatrix, calibration_end, observation_end=None, *, model=None,
                        freq: str = "D", unit=None, max_frequency: int = 7) -> Backtest:
    """Fit a purchase model on the log up to ``calibration_end`` and compare
    its predictions with what the same customers did up to
    ``observation_end`` (default: the end of the log).

    Customers are those with a purchase in the calibration period; holdout
    purchases are counted in the same periods as the summary.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_cdnow("datasets/cdnow/CDNOW_sample.txt")
    >>> bt = bm.value.calibration_holdout(tm, "1997-09-30", "1998-06-30", unit="W")
    >>> bt.metrics[["actual", "predicted"]].round(0).to_dict()
    {'actual': 1882.0, 'predicted': 1653.0}
    """
    owner = "calibration_holdout"
    model = BetaGeo() if model is None else model
    if not isinstance(model, _PurchaseModel):
        raise InvalidParameterError(
            f"The 'model' parameter of {owner} must be a BetaGeo, ParetoNBD or NBD. Got {model!r:.60} instead.")
    cal_end = _timestamp(owner, "calibration_end", calibration_end)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        full = summary(tm, observation_end=observation_end, freq=freq, unit=unit)
    end = full.attrs["observation_end"]
    if not cal_end < end:
        raise InvalidParameterError(
            f"The 'calibration_end' parameter of {owner} must fall before the end of the holdout "
            f"({end:%Y-%m-%d}). Got {calibration_end!r} instead.")
    warn_returns_after(tm, cal_end, owner)
    cal = summary(tm, observation_end=cal_end, freq=freq, unit=unit)
    if (cal["frequency"] == 0).all():
        warnings.warn(f"{owner}: no customer repeats a purchase in the calibration period; the "
                      f"model has nothing to learn dropout from.", UserWarning, stacklevel=user_stacklevel())
    model.fit(cal)
    both = full.loc[cal.index]
    hold = (both["frequency"] - cal["frequency"]).astype(np.int64)
    duration = float(both["T"].iloc[0] - cal["T"].iloc[0]) if len(cal) else 0.0
    if duration <= 0:
        raise InvalidParameterError(
            f"{owner}: the holdout after {cal_end:%Y-%m-%d} is shorter than one {freq!r} period.")
    pred = model.expected_purchases(duration, cal)
    cust = pd.DataFrame({"frequency_cal": cal["frequency"], "recency_cal": cal["recency"],
                         "T_cal": cal["T"], "frequency_holdout": hold, "predicted_holdout": pred,
                         "probability_alive": model.probability_alive(cal)})
    grp = np.minimum(cust["frequency_cal"], max_frequency)
    g = cust.groupby(grp)
    by_f = pd.DataFrame({"customers": g.size(), "actual": g["frequency_holdout"].mean(),
                         "predicted": g["predicted_holdout"].mean()})
    by_f.index.name = f"frequency_cal (last: {max_frequency}+)"
    tracking = _tracking(tm, model, cal, end, freq, unit)
    err = cust["predicted_holdout"] - cust["frequency_holdout"]
    actual, predicted = float(hold.sum()), float(pred.sum())
    metrics = pd.Series({"customers": float(len(cust)), "holdout_length": duration,
                         "mae": float(err.abs().mean()), "rmse": float(np.sqrt((err ** 2).mean())),
                         "actual": actual, "predicted": predicted,
                         "relative_error": (predicted - actual) / actual if actual else np.nan})
    return Backtest(model, cust, by_f, tracking, metrics)


def _tracking(tm, model, cal, end, freq, unit):
    """Cumulative repeat purchases of the calibration cohort, by week."""
    unit_days = _unit_days(cal.attrs) or 1.0
    first = cal["first_purchase"].to_numpy().astype("datetime64[D]")
    start = first.min()
    stop = np.datetime64(end.normalize(), "D")
    grid = np.arange(start, stop + np.timedelta64(1, "D"), np.timedelta64(7, "D"))
    if grid[-1] != stop:
        grid = np.append(grid, stop)
    # actual: the cohort's repeat purchase periods (all but each customer's first), by start day
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        p = purchases(tm, "calibration_holdout", end)
    cohort = np.isin(p.labels[p.customer], cal.index.to_numpy())
    per = _periods(p.time[cohort], freq)
    key = np.unique(np.column_stack([p.customer[cohort], per]), axis=0)
    repeat = key[1:][key[1:, 0] == key[:-1, 0], 1]
    days = np.sort(_period_start_days(repeat, freq)).astype(np.int64)
    actual = np.searchsorted(days, grid.astype(np.int64), side="right").astype(np.float64)
    age = (grid[:, None] - first[None, :]).astype(np.float64) / unit_days
    expected = np.where(age > 0, model.expected_purchases_new(np.maximum(age, 0)), 0.0).sum(axis=1)
    return pd.DataFrame({"actual": actual, "expected": expected},
                        index=pd.DatetimeIndex(grid, name="date"))
