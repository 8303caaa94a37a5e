"""The six classic model types on one temporal split, side by side."""
from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._progress import Steps
from .._validation import BOOL, InBody, Interval, InvalidParameterError, Options, check, user_stacklevel, validated
from ..transactions import TransactionMatrix
from ._features import FEATURES_SPEC, LEVEL, Features, features
from ._recommend import BASELINES, RANDOM_STATE, _judge

__all__ = ["Comparison", "MODEL_TYPES", "compare"]

#: The model types :func:`compare` runs, in its table's order.
MODEL_TYPES = ("classification", "regression", "time series", "clustering", "association",
               "sequence discovery")

_COLUMNS = ["model_type", "model", "metric", "value", "baseline", "baseline_value", "fit_seconds", "note"]


@dataclass
class Comparison:
    """What :func:`compare` measured.

    Attributes
    ----------
    table : DataFrame
        One row per model type, model and metric: ``model_type``, ``model``,
        ``metric``, ``value``, ``baseline`` (the model it is judged
        against), ``baseline_value``, ``fit_seconds``, ``note`` (why a model
        was skipped, when it was, and the notes of ``value.backtest``).
    plots : dict
        Data for plots: ``"churn_roc"`` (false/true positive rates per
        classifier), ``"spend"`` (actual vs predicted holdout spend per
        customer), ``"forecasts"`` (weekly actuals, forecasts and intervals
        per series), ``"segments"`` (the cluster profile table and the
        cross-table with the value module's customer classes),
        ``"silhouette"`` (score per k).
    features : Features

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> cmp = bm.compare(tm, "2011-09-01", model_types=("regression",))
    >>> cmp.table[["model", "metric", "baseline"]].head(3)
                                  model metric          baseline
    0     linear (ridge): holdout spend    mae  naive spend rate
    1     linear (ridge): holdout spend   rmse  naive spend rate
    2  gradient boosting: holdout spend    mae  naive spend rate
    >>> sorted(cmp.plots)
    ['spend']
    """

    table: pd.DataFrame
    plots: dict = field(default_factory=dict)
    features: Features | None = None


class _Table:
    def __init__(self):
        self.rows = []

    def add(self, mtype, model, metric, value, baseline=None, baseline_value=np.nan, secs=np.nan, note=""):
        self.rows.append((mtype, model, metric, float(value) if value is not None else np.nan,
                          baseline, float(baseline_value), float(secs), note))

    def skip(self, mtype, model, reason):
        self.add(mtype, model, "skipped", np.nan, note=reason)

    def frame(self):
        return pd.DataFrame(self.rows, columns=_COLUMNS)


@contextmanager
def _quiet_value_fits():
    """The value models' convergence, numeric and data warnings, silenced:
    compare reports their outcome in its table."""
    from ..value import ConvergenceWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def _X(f: Features) -> pd.DataFrame:
    return f.customers.drop(columns=[c for c in ("n_days",) if c in f.customers])


def _classification(f: Features, tab: _Table, plots: dict, rs: int, k_share: float):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss, roc_auc_score, roc_curve
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mt = "classification"
    X = _X(f).to_numpy(np.float64)
    y = f.targets["active"].to_numpy()
    if y.all() or not y.any():
        tab.skip(mt, "purchase in holdout", "every customer (or none) bought in the holdout: nothing to classify")
        return
    # customers are split in two: models learn on one half, are judged on the other
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.5, random_state=rs, stratify=y)
    if y[tr].all() or not y[tr].any() or y[te].all() or not y[te].any():
        tab.skip(mt, "purchase in holdout", "too few customers of one class to split")
        return
    n_top = max(1, int(round(k_share * len(te))))
    base_p = np.full(len(te), y[tr].mean())

    def prec_at(p):
        top = np.argsort(-p, kind="stable")[:n_top]
        return y[te][top].mean()

    # the BG/NBD probability of a purchase within the horizon is the competitor
    from ..value import BetaGeo, ConvergenceWarning
    hd = f.split.horizon / pd.Timedelta(days=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        bg = BetaGeo().fit(f.customers[["frequency", "recency", "T"]])
    p_bg = np.clip(bg.probability_of_purchase(hd, f.customers).to_numpy()[te], 1e-6, 1 - 1e-6)
    models = {
        "logistic regression": make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                                             LogisticRegression(max_iter=2000)),
        "gradient boosting (calibrated)": CalibratedClassifierCV(
            HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=rs),
            method="isotonic", cv=3),
    }
    roc = {}
    for name, model in models.items():
        t0 = time.perf_counter()
        model.fit(X[tr], y[tr])
        secs = time.perf_counter() - t0
        p = np.clip(model.predict_proba(X[te])[:, 1], 1e-6, 1 - 1e-6)
        tab.add(mt, f"{name}: purchase in holdout", "auc", roc_auc_score(y[te], p), "BG/NBD P(purchase)",
                roc_auc_score(y[te], p_bg), secs)
        tab.add(mt, f"{name}: purchase in holdout", "log_loss", log_loss(y[te], p), "base rate",
                log_loss(y[te], base_p), secs)
        tab.add(mt, f"{name}: purchase in holdout", f"precision@{k_share:.0%}", prec_at(p),
                "BG/NBD P(purchase)", prec_at(p_bg), secs)
        fpr, tpr, _ = roc_curve(y[te], p)
        roc[name] = pd.DataFrame({"fpr": fpr, "tpr": tpr})
    fpr, tpr, _ = roc_curve(y[te], p_bg)
    roc["BG/NBD"] = pd.DataFrame({"fpr": fpr, "tpr": tpr})
    plots["churn_roc"] = roc
    _unit_classification(f, tab, plots, rs, tr, te)


def _unit_classification(f: Features, tab: _Table, plots: dict, rs: int, tr, te, n_units: int = 5):
    """Will the customer buy unit X in the holdout, for the most bought units."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mt = "classification"
    hist = f.history
    pairs = hist.pairs
    n = len(hist.customers)
    buyers = np.bincount(pairs["unit"].to_numpy(), minlength=len(hist.units))
    top = np.argsort(-buyers, kind="stable")[:n_units]
    base = _X(f).to_numpy(np.float64)
    hp = f.holdout_pairs
    row = {c: i for i, c in enumerate(hist.customers)}
    results = {"logistic regression": [], "gradient boosting": [], "own purchases of X": []}
    secs = {"logistic regression": 0.0, "gradient boosting": 0.0}
    used = []
    for u in top:
        label = hist.units[u]
        y = np.zeros(n, dtype=bool)
        y[[row[c] for c in hp.loc[hp["unit"] == label, "customer"]]] = True
        if y[tr].all() or not y[tr].any() or y[te].all() or not y[te].any():
            continue
        mine = pairs[pairs["unit"] == u]
        count = np.zeros(n)
        count[mine["customer"].to_numpy()] = mine["baskets"].to_numpy()
        since = np.full(n, np.nan)
        since[mine["customer"].to_numpy()] = mine["last_days"].to_numpy()
        X = np.column_stack([base, count, since])
        for name, model in (("logistic regression", make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                                                                  LogisticRegression(max_iter=2000))),
                            ("gradient boosting", HistGradientBoostingClassifier(max_iter=100, random_state=rs))):
            t0 = time.perf_counter()
            model.fit(X[tr], y[tr])
            secs[name] += time.perf_counter() - t0
            results[name].append(roc_auc_score(y[te], model.predict_proba(X[te])[:, 1]))
        # the personal-repeat score: own baskets with the unit, the latest first
        own = count - 1e-6 * np.nan_to_num(since, nan=1e6)
        results["own purchases of X"].append(roc_auc_score(y[te], own[te]))
        used.append(label)
    if not used:
        tab.skip(mt, "buys item X in holdout", "no frequent unit has buyers on both sides of the customer split")
        return
    label = f"buys {f.level} X in holdout (top {len(used)} {f.level}s)"
    for name in ("logistic regression", "gradient boosting"):
        tab.add(mt, f"{name}: {label}", "auc (mean)", np.mean(results[name]), "own purchases of X",
                np.mean(results["own purchases of X"]), secs[name])
    plots["unit_auc"] = pd.DataFrame(results, index=pd.Index(used, name=f.level))


def _regression(f: Features, tab: _Table, plots: dict, rs: int):
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mt = "regression"
    X = _X(f).to_numpy(np.float64)
    y = f.targets["holdout_spend"].to_numpy(np.float64)
    if f.split.calibration.price is None:
        tab.skip(mt, "holdout spend", "the log has no prices: no spend to predict")
        return
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.5, random_state=rs)
    hd = f.split.horizon / pd.Timedelta(days=1)
    cust = f.customers
    # naive: the customer's calibration spend rate over the horizon
    naive = (cust["spend_total"] / np.maximum(cust["tenure_days"], 1.0) * hd).to_numpy()[te]
    mae = lambda p: float(np.mean(np.abs(y[te] - p)))  # noqa: E731
    rmse = lambda p: float(np.sqrt(np.mean((y[te] - p) ** 2)))  # noqa: E731
    preds = {}
    for name, model in {
        "linear (ridge)": make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), Ridge(alpha=1.0)),
        "gradient boosting": HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, loss="absolute_error",
                                                           random_state=rs),
    }.items():
        t0 = time.perf_counter()
        model.fit(X[tr], y[tr])
        secs = time.perf_counter() - t0
        p = np.maximum(model.predict(X[te]), 0.0)
        preds[name] = p
        tab.add(mt, f"{name}: holdout spend", "mae", mae(p), "naive spend rate", mae(naive), secs)
        tab.add(mt, f"{name}: holdout spend", "rmse", rmse(p), "naive spend rate", rmse(naive), secs)
    # the value module's CLV: BG/NBD expected purchases x Gamma-Gamma expected spend
    from ..value import BetaGeo, GammaGamma
    t0 = time.perf_counter()
    try:
        with _quiet_value_fits():
            from ..value import summary
            s = summary(f.split.calibration, observation_end=f.split.cutoff - pd.Timedelta(1, "ns"))
            s = s.reindex(cust.index)
            bg = BetaGeo().fit(s)
            rep = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
            gg = GammaGamma().fit(rep)
            spend = gg.expected_spend(s.assign(monetary_value=s["monetary_value"].clip(lower=0))).to_numpy()
            p = bg.expected_purchases(hd, s).to_numpy() * spend
        secs = time.perf_counter() - t0
        preds["BG/NBD x Gamma-Gamma"] = p[te]
        tab.add(mt, "BG/NBD x Gamma-Gamma: holdout spend", "mae", mae(p[te]), "naive spend rate", mae(naive), secs)
        tab.add(mt, "BG/NBD x Gamma-Gamma: holdout spend", "rmse", rmse(p[te]), "naive spend rate", rmse(naive),
                secs)
    except (InvalidParameterError, ValueError) as exc:
        tab.skip(mt, "BG/NBD x Gamma-Gamma: holdout spend", f"the value models could not be fitted: {exc}")
    plots["spend"] = pd.DataFrame({"actual": y[te], "naive": naive, **preds}, index=cust.index[te])


#: The value module's customer forecasts that :func:`compare` reports, with their names in the table;
#: ``last_periods`` (each customer does again what they did in the last periods) is their baseline.
_BACKTEST_MODELS = {"markov": "Markov chain (value.backtest)",
                    "bgnbd": "BG/NBD x Gamma-Gamma (value.backtest)",
                    "pareto_nbd": "Pareto/NBD x Gamma-Gamma (value.backtest)"}
_BACKTEST_BASELINE = "last periods again"


def _backtest_period(cutoff: pd.Timestamp, horizon: pd.Timedelta):
    """``(period, periods, reason)``: the period of :func:`~basketmine.value.backtest`
    and the whole periods of it inside compare's horizon, or why there are none.

    Months when the cut-off is the first of a month and the horizon holds a
    whole month, else weeks when the cut-off is a Monday.
    """
    midnight = cutoff == cutoff.normalize()
    why = []
    if midnight and cutoff.day == 1:
        months = 0
        while cutoff + pd.DateOffset(months=months + 1) <= cutoff + horizon:
            months += 1
        if months:
            return "M", months, None
        why.append(f"the horizon of {horizon} after the cut-off {cutoff:%Y-%m-%d} holds no whole month")
    if midnight and cutoff.day_of_week == 0:
        weeks = int(horizon // pd.Timedelta(days=7))
        if weeks:
            return "W", weeks, None
        why.append(f"the horizon of {horizon} after the cut-off {cutoff:%Y-%m-%d} holds no whole week")
    if why:
        return None, 0, "; ".join(why) + ": value.backtest needs whole periods"
    at = f"{cutoff:%Y-%m-%d}" if midnight else f"{cutoff} (not midnight)"
    return None, 0, (f"the cut-off {at} is neither the first of a month nor a Monday: "
                     f"value.backtest needs a period start")


def _run_backtest(tm: TransactionMatrix, f: Features) -> dict:
    """:func:`~basketmine.value.backtest` once at compare's cut-off over the
    whole periods of its horizon, for the regression and time-series rows:
    ``{"skip": reason}`` or the backtest with its period, periods and seconds."""
    s = f.split
    if tm.price is None:
        return {"skip": "the log has no prices: value.backtest needs purchase values"}
    period, periods, why = _backtest_period(s.cutoff, s.horizon)
    if why:
        return {"skip": why}
    from ..value import backtest
    t0 = time.perf_counter()
    try:
        # the log as given: the split has already warned of returns netted across the cut-off
        with _quiet_value_fits():
            bt = backtest(tm, [s.cutoff], periods, period=period, models=(*_BACKTEST_MODELS, "last_periods"))
    except (InvalidParameterError, ValueError, np.linalg.LinAlgError) as exc:
        return {"skip": f"value.backtest could not run at this cut-off: {str(exc).splitlines()[0]}"}
    return {"backtest": bt, "period": period, "periods": periods, "secs": time.perf_counter() - t0}


def _backtest_rows(mt: str, bt: dict | None, tab: _Table):
    """The rows of one model type from the shared backtest: per customer value
    and active periods (regression), the base's totals (time series)."""
    if bt is None:
        return
    if "skip" in bt:
        tab.skip(mt, "value.backtest", bt["skip"])
        return
    m = bt["backtest"].metrics.set_index(["model", "target"])
    notes = bt["backtest"].notes
    general = "; ".join(n for n in notes if not any(n.startswith(f"{k} ") for k in _BACKTEST_MODELS))
    if mt == "regression":
        wanted = [("value", "mae", "mae"), ("value", "rmse", "rmse"),
                  ("active_periods", "mae", "mae (active periods)")]
    else:
        wanted = [("purchases", "relative_error", "total relative error (purchases)"),
                  ("value", "relative_error", "total relative error (value)")]
    for key, name in _BACKTEST_MODELS.items():
        own = "; ".join([n for n in notes if n.startswith(f"{key} ")] + ([general] if general else []))
        rows = [(target, col, metric) for target, col, metric in wanted if (key, target) in m.index]
        if not rows:   # the model could not be fitted at the cut-off: its note says why
            tab.skip(mt, name, own or "value.backtest gave no forecast")
            continue
        for target, col, metric in rows:
            base = m.loc[("last_periods", target), col] if ("last_periods", target) in m.index else np.nan
            tab.add(mt, name, metric, m.loc[(key, target), col], _BACKTEST_BASELINE, base, bt["secs"], own)


def _mase_smape(actual, fc, scale):
    a, p = np.asarray(actual, float), np.asarray(fc, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mase = np.mean(np.abs(a - p)) / scale if scale > 0 else np.nan
        den = np.abs(a) + np.abs(p)
        smape = np.mean(np.where(den > 0, 2 * np.abs(a - p) / den, 0.0))
    return mase, smape


def _time_series(f: Features, tab: _Table, plots: dict, n_series: int, season: int):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    mt = "time series"
    if f.attrs["freq"] != "W":
        tab.skip(mt, "weekly sales", f"features were built with freq={f.attrs['freq']!r}; the series models use 'W'")
        return
    cal = f.series_matrix("baskets")
    hold = f.series_matrix("baskets", holdout=True)
    # whole weeks only: drop a partial first / last week on either side
    cal = cal.iloc[1:-1] if len(cal) > 2 else cal
    hold = hold.iloc[1:-1] if len(hold) > 2 else hold
    top = cal.sum().sort_values(ascending=False, kind="stable").index[:n_series]
    hold = hold.reindex(columns=top, fill_value=0)
    H = len(hold)
    if H == 0 or len(cal) < 8:
        tab.skip(mt, "weekly sales", f"{len(cal)} calibration and {H} whole holdout weeks: too short to forecast")
        return
    seasonal = len(cal) >= 2 * season
    if not seasonal:
        note = (f"{len(cal)} weeks of history is under two seasons of {season} weeks: seasonal models "
                f"skipped; non-seasonal ETS and ARIMA against the naive forecast")
        tab.skip(mt, "seasonal ETS / SARIMA, seasonal naive", note)
    per = {}
    fc_data = {}
    for u in top:
        yv = cal[u].to_numpy(np.float64)
        av = hold[u].to_numpy(np.float64)
        m = season if seasonal else 1
        scale = np.mean(np.abs(yv[m:] - yv[:-m])) if len(yv) > m else np.nan
        naive = np.resize(yv[-m:], H) if seasonal else np.full(H, yv[-1])
        fcs = {"naive" if not seasonal else "seasonal naive": (naive, None, None, 0.0)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            try:
                ets = ExponentialSmoothing(yv, trend="add", damped_trend=True,
                                           seasonal="add" if seasonal else None,
                                           seasonal_periods=season if seasonal else None).fit()
                pe = ets.forecast(H)
                sd = np.std(ets.resid, ddof=1) * np.sqrt(np.arange(1, H + 1))
                fcs["ETS (damped Holt-Winters)"] = (pe, pe - 1.96 * sd, pe + 1.96 * sd, time.perf_counter() - t0)
            except (ValueError, np.linalg.LinAlgError) as exc:
                fcs["ETS (damped Holt-Winters)"] = (None, None, str(exc), 0.0)
            t0 = time.perf_counter()
            try:
                order = (1, 1, 1)
                sar = SARIMAX(yv, order=order, seasonal_order=(1, 0, 0, season) if seasonal else (0, 0, 0, 0)).fit(
                    disp=False)
                fr = sar.get_forecast(H)
                ci = np.asarray(fr.conf_int(alpha=0.05))
                fcs["SARIMAX(1,1,1)"] = (np.asarray(fr.predicted_mean), ci[:, 0], ci[:, 1], time.perf_counter() - t0)
            except (ValueError, np.linalg.LinAlgError) as exc:
                fcs["SARIMAX(1,1,1)"] = (None, None, str(exc), 0.0)
        rows = {}
        for name, (p, lo, hi, secs) in fcs.items():
            if p is None:
                rows[name] = (np.nan, np.nan, np.nan, secs, hi)
                continue
            p = np.maximum(p, 0.0)
            mase, smape = _mase_smape(av, p, scale)
            cover = np.mean((av >= lo) & (av <= hi)) if lo is not None else np.nan
            rows[name] = (mase, smape, cover, secs, "")
        per[u] = rows
        fc_data[u] = pd.DataFrame({"actual": av, **{n: np.maximum(v[0], 0) for n, v in fcs.items() if v[0] is not None},
                                   **{f"{n} lower": v[1] for n, v in fcs.items() if v[1] is not None},
                                   **{f"{n} upper": v[2] for n, v in fcs.items()
                                      if v[0] is not None and v[2] is not None}},
                                  index=hold.index)
    base_name = "seasonal naive" if seasonal else "naive"
    for name in next(iter(per.values())):
        if name == base_name:
            continue
        vals = np.array([per[u][name][:4] for u in top], dtype=float)
        base = np.array([per[u][base_name][:4] for u in top], dtype=float)
        fails = [per[u][name][4] for u in top if per[u][name][4]]
        note = f"{len(fails)} of {len(top)} series failed to fit" if fails else ""
        label = f"{name}: weekly baskets of the top {len(top)} items"
        tab.add(mt, label, "mase (mean)", np.nanmean(vals[:, 0]), base_name, np.nanmean(base[:, 0]),
                np.nansum(vals[:, 3]), note)
        tab.add(mt, label, "smape (mean)", np.nanmean(vals[:, 1]), base_name, np.nanmean(base[:, 1]),
                np.nansum(vals[:, 3]), note)
        tab.add(mt, label, "95% interval coverage", np.nanmean(vals[:, 2]), None, np.nan, np.nansum(vals[:, 3]),
                note)
    # aggregated series (all top series summed)
    plots["forecasts"] = fc_data
    plots["forecast_metrics"] = pd.DataFrame(
        [(u, n, *v[:3]) for u, rows in per.items() for n, v in rows.items()],
        columns=["series", "model", "mase", "smape", "coverage"])


def _clustering(f: Features, tm_cal: TransactionMatrix, tab: _Table, plots: dict, rs: int, n_clusters):
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, silhouette_score
    from sklearn.preprocessing import StandardScaler

    mt = "clustering"
    cust = f.customers
    cols = ["recency_days", "n_baskets", "spend_total"] + [c for c in cust.columns if c.startswith("share_")]
    Z = cust[cols].to_numpy(np.float64)
    Z[:, 1] = np.log1p(Z[:, 1])
    Z[:, 2] = np.log1p(np.maximum(Z[:, 2], 0))
    Z = StandardScaler().fit_transform(np.nan_to_num(Z))
    n = len(Z)
    if n < 4:
        tab.skip(mt, "k-means", f"{n} customers: too few to cluster")
        return
    t0 = time.perf_counter()
    sample = np.random.default_rng(rs).choice(n, min(n, 3000), replace=False)
    scores = {}
    if n_clusters is None:
        for k in range(2, min(8, n - 1) + 1):
            lab = KMeans(k, n_init=4, random_state=rs).fit_predict(Z)
            if len(np.unique(lab[sample])) > 1:
                scores[k] = silhouette_score(Z[sample], lab[sample])
        k = max(scores, key=scores.get) if scores else 2
    else:
        k = n_clusters
    km = KMeans(k, n_init=4, random_state=rs).fit(Z)
    secs = time.perf_counter() - t0
    lab = km.labels_
    sil = silhouette_score(Z[sample], lab[sample]) if len(np.unique(lab[sample])) > 1 else np.nan
    from ..value import customer_classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        # without prices the classes rank customers by their number of baskets
        value = None if tm_cal.price is not None else f.customers["n_baskets"].astype(float)
        classes = customer_classes(tm_cal, value, observation_end=f.split.cutoff - pd.Timedelta(1, "ns"))
    cls = classes["customer_class"].reindex(cust.index).astype(str).to_numpy()
    ari = adjusted_rand_score(cls, lab)
    # RFM quintile cells as the baseline segmentation
    from ..value import rfm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            r = rfm(tm_cal, observation_end=f.split.cutoff - pd.Timedelta(1, "ns")).reindex(cust.index)
            seg = r["segment"].astype(str).to_numpy()
            sil_rfm = silhouette_score(Z[sample], seg[sample]) if len(np.unique(seg[sample])) > 1 else np.nan
            ari_rfm = adjusted_rand_score(cls, seg)
        except InvalidParameterError:
            sil_rfm = ari_rfm = np.nan
    tab.add(mt, f"k-means (k={k})", "silhouette", sil, "RFM segments", sil_rfm, secs)
    tab.add(mt, f"k-means (k={k})", "adjusted Rand vs customer classes", ari, "RFM segments", ari_rfm, secs)
    prof = cust[["recency_days", "n_baskets", "spend_total", "basket_size"]].assign(segment=lab, active=f.targets["active"])
    profile = prof.groupby("segment").agg(customers=("n_baskets", "size"), recency_days=("recency_days", "median"),
                                          baskets=("n_baskets", "median"), spend=("spend_total", "median"),
                                          basket_size=("basket_size", "median"),
                                          active_in_holdout=("active", "mean"))
    profile["share_of_spend"] = prof.groupby("segment")["spend_total"].sum() / max(prof["spend_total"].sum(), 1e-12)
    plots["segments"] = {"profile": profile,
                         "classes": pd.crosstab(pd.Series(lab, name="segment"), pd.Series(cls, name="class"))}
    plots["silhouette"] = pd.Series(scores, name="silhouette", dtype=float)


def _recommendations(tm, f: Features, tab: _Table, plots: dict, k: int, rs: int, hierarchy):
    active = f.targets.index[f.targets["active"].to_numpy()]
    if len(active) == 0:
        for mt in ("association", "sequence discovery"):
            tab.skip(mt, "next items", "no customer of the calibration period bought in the holdout")
        return
    res, _ = _judge(tm, f, k, BASELINES, hierarchy=hierarchy, random_state=rs)
    names = {"rules": ("association", "association rules on the last basket"),
             "follow_ups": ("sequence discovery", "follow-up rules within the horizon"),
             "recommender": ("association", "learned ranker over TIFU-KNN, rules, follow-ups and co-occurrence")}
    for kind, (mt, label) in names.items():
        for excl in (False, True):
            mode = "new items" if excl else "any item"
            m, secs = res[kind, excl]
            # the strongest other method for this mode (by NDCG)
            bases = [b for b in BASELINES if b != kind]
            best = max(bases, key=lambda b: res[b, excl][0]["ndcg"])
            for metric in ("hit_rate", "precision", "recall", "ndcg", "map"):
                tab.add(mt, f"{label} ({mode})", f"{metric}@{k}", m[metric], best, res[best, excl][0][metric],
                        secs)
            if kind in ("follow_ups", "recommender") and "timing_mae_days" in m:
                tab.add(mt, f"{label} ({mode})", "timing MAE (days)", m["timing_mae_days"], "half the horizon",
                        m["timing_mae_half_horizon_days"], secs)
    order = [*BASELINES, "recommender"]
    plots["recommendations"] = pd.DataFrame(
        {(kind, "new items" if excl else "any item"): res[kind, excl][0] for kind in order
         for excl in (False, True)}).T


_SPEC = {
    "k": Interval("int", 1, None, "left"),
    "n_series": Interval("int", 1, None, "left"),
    "season": Interval("int", 2, None, "left"),
    "n_clusters": (Options((None,)), Interval("int", 2, None, "left")),
    "progress": BOOL,
    "model_types": InBody(f"a non-empty tuple of {', '.join(MODEL_TYPES)}"),
    "tm": InBody("a TransactionMatrix with customers and times (prices for the spend models)"),
    "cutoff": FEATURES_SPEC["cutoff"],
    "horizon": FEATURES_SPEC["horizon"],
    "level": LEVEL,
    "hierarchy": FEATURES_SPEC["hierarchy"],
    "random_state": RANDOM_STATE,
}


@validated(_SPEC)
def compare(tm: TransactionMatrix, cutoff, *, horizon="90D", k: int = 10, level: str = "item", hierarchy=None,
            model_types=MODEL_TYPES, n_series: int = 10, season: int = 52, n_clusters=None,
            random_state: int = 0, progress: bool = False) -> Comparison:
    """Run the six model types, each with its baselines, on one temporal split.

    Parameters
    ----------
    tm : TransactionMatrix
        With customers and times (prices for the spend models).
    cutoff : date
        Models see the baskets before it; they are judged on the ``horizon``
        after it.
    k : int
        Items per customer for the recommendation metrics.
    level, hierarchy
        Items or categories (see :func:`features`).
    model_types : tuple of str
        A subset of :data:`MODEL_TYPES`.
    n_series : int
        How many of the most bought units get a weekly sales forecast.
    season : int
        Season length in weeks; seasonal models need two seasons of history
        and are skipped (with the reason in the table) otherwise.
    n_clusters : int, optional
        k of k-means (default: chosen by silhouette among 2..8).

    What each model type does:

    - classification: will the customer buy at all in the holdout — logistic
      regression and calibrated gradient boosting on the customer features
      (learned on half the customers, judged on the other half); AUC, log
      loss, precision at the top 10%; against the BG/NBD probability of a
      purchase and the base rate; and will the customer buy unit X, for the
      five most bought units (customer features plus the customer's own
      history with X), mean AUC against ranking by the customer's own
      purchases of X;
    - regression: holdout spend per customer — ridge and gradient boosting;
      MAE, RMSE; against the naive spend rate, with the value module's
      BG/NBD x Gamma-Gamma prediction as a competitor; and the value
      module's own forecasts from :func:`~basketmine.value.backtest` (the
      Markov chain, BG/NBD and Pareto/NBD x Gamma-Gamma, rows named
      ``... (value.backtest)``): value per customer over the horizon (MAE of
      the point forecast, for the Markov chain its median; RMSE of the
      expectation) and the Markov chain's active periods (MAE), judged on
      every customer who bought before the cut-off, against the last
      periods again;
    - time series: weekly baskets of the top ``n_series`` units —
      damped Holt-Winters ETS and SARIMAX with 95% intervals; MASE, sMAPE,
      interval coverage; against the (seasonal) naive forecast; and the
      customer base's total purchases and value over the horizon from the
      same backtest (signed relative error of the total, negative when too
      low), against the last periods again;
    - clustering: k-means on scaled recency, log frequency, log spend and
      unit shares; silhouette and agreement (adjusted Rand index) with the
      value module's customer classes, against RFM segments;
    - association: next items from association rules fired by the last
      basket, and the learned recommender; hit rate, precision, recall,
      NDCG, MAP at k, for any item and for new items only, against the
      other method with the best NDCG (popularity, personal repeat,
      co-occurrence, rules, follow-ups, TIFU-KNN, UP-CF@r);
    - sequence discovery: next items from follow-up rules within the
      horizon, with the timing error of their median lag.

    The backtest runs once, over the whole periods of the horizon: months
    when the cut-off is the first of a month and the horizon holds a whole
    month (the default 90 days from 1 September hold two, 91 days three),
    else weeks when the cut-off is a Monday; ``table.attrs["backtest"]``
    says which.  Otherwise, and without prices or with too few periods left
    in the log, each of the two model types gets a ``value.backtest`` skip
    row saying why.  The rows' ``fit_seconds`` is that of the one run for
    all models; backtest's notes (a model it could not fit) are in the
    ``note`` column.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo",
    ...                  "StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> cmp = bm.compare(tm, "2011-09-01", model_types=("classification", "clustering"))
    >>> sorted(cmp.table["model_type"].unique())
    ['classification', 'clustering']
    """
    owner = "compare"
    if isinstance(model_types, str) or not isinstance(model_types, (tuple, list)) or not model_types:
        raise InvalidParameterError(
            f"The 'model_types' parameter of {owner} must be a non-empty tuple of "
            f"{', '.join(MODEL_TYPES)}. Got {model_types!r} instead.")
    for m in model_types:
        check(owner, "model_types", m, Options(MODEL_TYPES))
    chosen = [mt for mt in MODEL_TYPES if mt in model_types]
    with Steps("compare", len(chosen) + 1, progress) as say:
        f = features(tm, cutoff, horizon=horizon, level=level, hierarchy=hierarchy, freq="W")
        say("features")
        tab = _Table()
        plots: dict = {}
        bt = None   # value.backtest, run once for the regression and time-series rows
        for mt in chosen:
            n_rows = len(tab.rows)
            try:
                if mt == "classification":
                    _classification(f, tab, plots, random_state, 0.1)
                elif mt == "regression":
                    _regression(f, tab, plots, random_state)
                elif mt == "time series":
                    _time_series(f, tab, plots, n_series, season)
                elif mt == "clustering":
                    _clustering(f, f.split.calibration, tab, plots, random_state, n_clusters)
                elif mt == "association" or (mt == "sequence discovery" and "association" not in model_types):
                    _recommendations(tm, f, tab, plots, k, random_state, hierarchy)
            except (ValueError, np.linalg.LinAlgError) as exc:
                # too few customers or periods on this split for a model: a skip row that says why
                del tab.rows[n_rows:]
                msg = f"could not be fitted on this split ({str(exc).splitlines()[0]})"
                for t in ((mt,) if mt not in ("association", "sequence discovery")
                          else ("association", "sequence discovery")):
                    tab.skip(t, "all models", msg)
                warnings.warn(f"{owner}: {mt} {msg}.", UserWarning, stacklevel=user_stacklevel())
            if mt in ("regression", "time series"):
                bt = bt or _run_backtest(tm, f)
                _backtest_rows(mt, bt, tab)
            say(mt)
    table = tab.frame()
    order = {m: i for i, m in enumerate(MODEL_TYPES)}
    table = table.sort_values("model_type", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    # association and sequence discovery are judged in one run: keep only the rows asked for
    table = table[table["model_type"].isin(chosen)].reset_index(drop=True)
    table.attrs.update({"cutoff": f.split.cutoff, "horizon": f.split.horizon, "customers": len(f.customers),
                        "active_in_holdout": int(f.targets["active"].sum())})
    if bt and "backtest" in bt:
        table.attrs["backtest"] = {"period": bt["period"], "periods": bt["periods"]}
    return Comparison(table, plots, f)
