"""Backtests of the customer forecasts: every model and the naive answers at
several cut-offs, judged per customer on the periods after each cut-off."""
from __future__ import annotations

import datetime as _dt
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._validation import BOOL, InBody, Interval, InvalidParameterError, Options, validated
from ..transactions import TransactionMatrix, warn_returns_after
from ._seasonal import SEASON_PERIODS, seasonal_index
from ._summary import _PERIODS, _period_start_days, _periods, _timestamp, period_table, purchases

__all__ = ["FORECAST_MODELS", "ForecastBacktest", "backtest"]

#: The forecasts :func:`backtest` can run: the (r, h, f, m) Markov chain, BG/NBD
#: and Pareto/NBD (with Gamma-Gamma for value), and two naive answers: the
#: last ``periods`` periods again, and the customer's mean rate so far.
FORECAST_MODELS = ("markov", "bgnbd", "pareto_nbd", "last_periods", "mean_rate")
#: The forecasts a calendar index changes.
SEASONAL_MODELS = ("markov", "bgnbd", "pareto_nbd")
TARGETS = ("active_periods", "purchases", "value")


@dataclass
class ForecastBacktest:
    """What :func:`backtest` measured.

    Attributes
    ----------
    metrics : DataFrame
        One row per cut-off, model and target (``active_periods``,
        ``purchases``, ``value``): ``seasonal`` (whether a calendar effect
        was applied at that cut-off), ``customers``; per customer the ``mae`` of
        the model's point forecast for absolute error (the median of its
        forecast distribution: the Markov chain's for active periods and
        value, BG/NBD's and Pareto/NBD's by simulation from their posteriors
        (:func:`predictive_medians`); the naive answers' and the chain's
        purchases are their expectation), ``mae_mean`` and
        ``rmse`` of its expectation; the ``predicted`` (expected) and
        ``actual`` totals and the total's ``relative_error``.  A model that
        does not forecast a target (the purchase models' active periods) has
        no row for it.
    calibration : DataFrame
        Per cut-off, model, target and decile of the prediction (1: the
        highest predictions): customers, mean predicted and mean actual.
    predictions : DataFrame
        Per cut-off and customer, the actual values and each model's
        expectations (``<model>:<target>``) and medians
        (``<model>:<target>:median``, where it gives them).
    notes : list of str
        Models that could not be fitted at a cut-off, and cut-offs whose
        history is too short for a calendar effect, and why.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice", cancellations="drop")
    >>> bt = bm.value.backtest(tm, ["2011-06-01"], models=("last_periods",))
    >>> bt.metrics[["model", "target", "customers", "mae"]].round(3)
              model          target  customers      mae
    0  last_periods  active_periods        307    0.691
    1  last_periods       purchases        307    0.850
    2  last_periods           value        307  448.715
    """

    metrics: pd.DataFrame
    calibration: pd.DataFrame
    predictions: pd.DataFrame = field(repr=False)
    notes: list = field(default_factory=list)


def _actual(table, cut: int, k: int, n: int):
    """Active periods, purchases and value per customer code in periods
    ``cut .. cut + k - 1``."""
    inside = (table.period >= cut) & (table.period < cut + k)
    c = table.customer[inside]
    return (np.bincount(c, minlength=n).astype(float),
            np.bincount(c, weights=table.purchases[inside], minlength=n),
            np.bincount(c, weights=table.revenue[inside], minlength=n))


def _naive(table, cut: int, k: int, n: int):
    """The last ``k`` periods again; the customer's mean per period since
    their first purchase, times ``k``."""
    last = _actual(table, cut - k, k, n)
    before = table.period < cut
    c = table.customer[before]
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, c, table.period[before])
    span = np.where(first <= cut, cut - first, 1).astype(float)   # whole periods observed, >= 1
    sums = (np.bincount(c, minlength=n).astype(float), np.bincount(c, weights=table.purchases[before], minlength=n),
            np.bincount(c, weights=table.revenue[before], minlength=n))
    mean = tuple(s / span * k for s in sums)
    return last, mean


def _purchase_model(name: str, history: TransactionMatrix, end: pd.Timestamp, days: float,
                    customers: pd.Index, season=None):
    """Expected and median purchases and value in the next ``days`` for
    every customer code; with a covered ``season``, in operational time
    (``days`` already converted)."""
    from ._models import BetaGeo, GammaGamma, ParetoNBD
    from ._seasonal import seasonal_summary
    from ._summary import summary

    s = (summary(history, observation_end=end, freq="D", unit="D") if season is None
         else seasonal_summary(history, season, observation_end=end))
    model = (BetaGeo() if name == "bgnbd" else ParetoNBD()).fit(s)
    ep = model.expected_purchases(days, s).to_numpy(dtype=float)
    gg = None
    value = np.full(len(s), np.nan)
    if "monetary_value" in s:
        gg = GammaGamma().fit(s[s["monetary_value"] > 0])   # a zero mean (returns netted) cannot be fitted
        value = ep * gg.expected_spend(s).to_numpy(dtype=float)
    med_p, med_v = predictive_medians(name, model, s, days, gg)
    idx = customers.get_indexer(s.index)
    out = [np.full(len(customers), np.nan) for _ in range(4)]
    # BG/NBD's purchases are repeat purchases: the same as purchase days after the first
    for o, v in zip(out, (ep, value, med_p, med_v)):
        o[idx] = v
    return out


def predictive_medians(name: str, model, s: pd.DataFrame, t: float, gg=None, draws: int = 400,
                       seed: int = 0, chunk: int = 4096):
    """Each customer's median purchases (and value) over the next ``t``
    under a fitted BG/NBD (``name="bgnbd"``) or Pareto/NBD, by simulation
    from the posterior given their history (frequency ``x``, recency,
    ``T``).

    A customer is alive with the model's probability; an alive one has
    purchase rate lambda ~ Gamma(r + x, alpha + T) and, for BG/NBD, a
    dropout probability p ~ Beta(a, b + x): they buy min(Poisson(lambda t),
    D) times, D ~ Geometric(p) being the purchase after which they drop;
    for Pareto/NBD a dropout rate mu ~ Gamma(s, beta + T) and a remaining
    lifetime tau ~ Exp(mu): Poisson(lambda min(t, tau)) purchases.  With a
    Gamma-Gamma ``gg``, each purchase's value is Gamma(p, nu), nu from the
    customer's posterior.  Seeded: the same data give the same medians."""
    med_p = np.empty(len(s))
    med_v = np.full(len(s), np.nan)
    for sl, bought, spent in posterior_draws(name, model, s, t, gg, draws, seed, chunk):
        med_p[sl] = np.median(bought, axis=1)
        if spent is not None:
            med_v[sl] = np.median(spent, axis=1)
    return med_p, med_v


def posterior_draws(name: str, model, s: pd.DataFrame, t: float, gg=None, draws: int = 400, seed: int = 0,
                    chunk: int = 4096):
    """The simulation behind :func:`predictive_medians`: per chunk of
    customers, (rows, purchases drawn, values drawn or None), each
    customers x ``draws``."""
    rng = np.random.default_rng(seed)
    x = s["frequency"].to_numpy(float)
    T = s["T"].to_numpy(float)
    alive = model.probability_alive(s).to_numpy(float)
    prm = model.params_
    if gg is not None:
        post = gg.posterior(s.assign(monetary_value=s["monetary_value"].clip(lower=0)))
        shape, rate = post["shape"].to_numpy(float), post["rate"].to_numpy(float)
        pv = float(gg.params_["p"])
    for lo in range(0, len(s), chunk):
        sl = slice(lo, min(lo + chunk, len(s)))
        n = sl.stop - sl.start
        lam = rng.gamma(prm["r"] + x[sl, None], 1.0 / (prm["alpha"] + T[sl, None]), (n, draws))
        if name == "bgnbd":
            p = rng.beta(prm["a"], prm["b"] + x[sl, None], (n, draws))
            bought = np.minimum(rng.poisson(lam * t), rng.geometric(np.clip(p, 1e-12, 1.0)))
        else:
            mu = rng.gamma(prm["s"], 1.0 / (prm["beta"] + T[sl, None]), (n, draws))
            bought = rng.poisson(lam * np.minimum(t, rng.exponential(1.0 / mu)))
        bought = np.where(rng.random((n, draws)) < alive[sl, None], bought, 0)
        spent = None
        if gg is not None:
            nu = rng.gamma(shape[sl, None], 1.0 / rate[sl, None], (n, draws))
            spent = np.where(bought > 0, rng.gamma(np.maximum(bought, 1) * pv, 1.0 / nu), 0.0)
        yield sl, bought, spent


def cutoff_periods(owner: str, cutoffs, period: str, periods: int, end: pd.Timestamp, first: int) -> list:
    """``(timestamp, period ordinal)`` of each cut-off, checked for every
    backtest: at the start of a period, leaving ``periods`` whole periods
    before the log ends, with a period with purchases (``first``: the
    first one's ordinal) before it."""
    if isinstance(cutoffs, (str, _dt.date, np.datetime64)):
        cuts = [cutoffs]
    else:
        try:
            cuts = list(cutoffs)
        except TypeError:
            raise InvalidParameterError(f"The 'cutoffs' parameter of {owner} must be a date or a list of dates. "
                                        f"Got {cutoffs!r} instead.") from None
    if not cuts:
        raise InvalidParameterError(f"The 'cutoffs' parameter of {owner} must hold at least one date.")
    out = []
    for raw in cuts:
        cut_ts = _timestamp(owner, "cutoffs", raw, optional=False)
        t = np.array([cut_ts.to_datetime64(), (cut_ts - pd.Timedelta(1, "ns")).to_datetime64()],
                     dtype="datetime64[ns]")
        cut, before = (int(x) for x in _periods(t, period))
        if cut == before:
            raise InvalidParameterError(
                f"The 'cutoffs' parameter of {owner} must hold dates at the start of a {period!r} period "
                f"(e.g. '2011-06-01' for months). Got {raw!r}.")
        horizon_end = pd.Timestamp(_period_start_days(np.array([cut + periods]), period)[0], unit="D")  # day after
        if horizon_end > end.normalize() + pd.Timedelta(days=1):
            raise InvalidParameterError(
                f"The 'cutoffs' parameter of {owner} must leave {periods} whole periods before the log ends "
                f"({end:%Y-%m-%d}). Got {raw!r}.")
        if cut <= first:
            raise InvalidParameterError(
                f"The 'cutoffs' parameter of {owner} must leave a whole period with purchases before each "
                f"cut-off (the first purchase falls in the period starting "
                f"{pd.Timestamp(_period_start_days(np.array([first]), period)[0], unit='D'):%Y-%m-%d}). "
                f"Got {raw!r}.")
        out.append((cut_ts, cut))
    return out


def metric_row(cut_ts, model: str, target: str, y: np.ndarray, f: np.ndarray, totals: bool = True,
               point=None) -> tuple:
    """(cut-off, model, target, customers, mae, mae_mean, rmse, predicted,
    actual, relative_error) of the expectation ``f`` against ``y`` on the
    customers both give; ``mae`` of ``point`` where the model has a point
    forecast for absolute error of its own.  The total's relative error is
    (predicted - actual) / |actual| (a margin total can be negative)."""
    ok = ~np.isnan(f) & ~np.isnan(y)
    err = f[ok] - y[ok]
    mae_mean = float(np.mean(np.abs(err))) if ok.any() else np.nan
    mae = mae_mean if point is None or not ok.any() else float(np.mean(np.abs(point[ok] - y[ok])))
    rmse = float(np.sqrt(np.mean(err ** 2))) if ok.any() else np.nan
    if not totals:
        return cut_ts, model, target, int(ok.sum()), mae, mae_mean, rmse, np.nan, np.nan, np.nan
    tot_p, tot_a = float(f[ok].sum()), float(y[ok].sum())
    return (cut_ts, model, target, int(ok.sum()), mae, mae_mean, rmse, tot_p, tot_a,
            (tot_p - tot_a) / abs(tot_a) if tot_a else np.nan)


_SPEC = {"tm": InBody("a TransactionMatrix with customers, times and prices"),
         "cutoffs": InBody("dates at the start of a period, each leaving `periods` whole periods after it"),
         "periods": Interval("int", 1, None, "left"), "period": Options(_PERIODS),
         "models": InBody(f"a tuple of {', '.join(FORECAST_MODELS)}"), "deciles": Interval("int", 2, None, "left"),
         "seasonal": BOOL}


@validated(_SPEC)
def backtest(tm: TransactionMatrix, cutoffs, periods: int = 3, *, period: str = "M", models=FORECAST_MODELS,
             deciles: int = 10, seasonal: bool = True) -> ForecastBacktest:
    """Run each customer forecast at each cut-off and judge it on what the
    customers did in the ``periods`` whole periods after it.

    At every cut-off, each model sees only the baskets before it and
    predicts, for every customer who bought before it, the number of
    periods with a purchase (``active_periods``; the Markov chain and the
    naive answers), the purchases (distinct purchase days) and the value
    (revenue) over the horizon.  The naive answers are ``last_periods``
    (each customer does what they did in the last ``periods`` periods) and
    ``mean_rate`` (their mean per period since their first purchase).

    With ``seasonal`` (and monthly or weekly periods), a calendar index is
    estimated from each cut-off's history (:func:`seasonal_index`); where
    the history covers a season, the Markov chain's buying odds follow it
    and BG/NBD and Pareto/NBD are fitted and forecast in operational time
    (:func:`seasonal_summary`).  Where it does not, ``notes`` says so and
    the models run without it.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice", cancellations="drop")
    >>> bt = bm.value.backtest(tm, ["2011-06-01"], models=("markov", "last_periods"))
    >>> sorted(bt.metrics["model"].unique()), sorted(bt.metrics["target"].unique())
    (['last_periods', 'markov'], ['active_periods', 'purchases', 'value'])
    """
    from ._forecast import StateTransitionForecast

    owner = "backtest"
    if not isinstance(tm, TransactionMatrix):
        raise InvalidParameterError(f"The 'tm' parameter of {owner} must be a TransactionMatrix. "
                                    f"Got {type(tm).__name__} instead.")
    models = (models,) if isinstance(models, str) else tuple(models)
    bad = [m for m in models if m not in FORECAST_MODELS]
    if not models or bad:
        raise InvalidParameterError(f"The 'models' parameter of {owner} must name some of "
                                    f"{', '.join(FORECAST_MODELS)}. Got {bad or models!r}.")
    p = purchases(tm, owner)
    if p.revenue is None:
        raise InvalidParameterError(f"{owner} needs purchase values; build the TransactionMatrix with prices.")
    table = period_table(p, period)
    cuts = cutoff_periods(owner, cutoffs, period, periods, p.end, int(table.period.min()))
    n = len(p.labels)
    customers = pd.Index(p.labels)   # customer code -> label, and back with get_indexer
    uses_season = seasonal and any(mdl in models for mdl in SEASONAL_MODELS)
    rows, cal, preds, notes = [], [], [], []
    for cut_ts, cut in cuts:
        horizon_end = pd.Timestamp(_period_start_days(np.array([cut + periods]), period)[0], unit="D")  # day after
        seen = np.zeros(n, dtype=bool)
        seen[table.customer[table.period < cut]] = True
        who = np.flatnonzero(seen)
        actual = _actual(table, cut, periods, n)
        pred: dict = {}
        point: dict = {}   # a model's point forecast for absolute error, where not its mean
        last, mean = _naive(table, cut, periods, n)
        if "last_periods" in models:
            pred["last_periods"] = last
        if "mean_rate" in models:
            pred["mean_rate"] = mean
        warn_returns_after(tm, cut_ts, owner)
        history = tm.between(None, cut_ts)
        hist_end = cut_ts - pd.Timedelta(1, "ns")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            season = None
            if uses_season and period in SEASON_PERIODS:
                try:
                    si = seasonal_index(history, period, observation_end=hist_end)
                except (InvalidParameterError, ValueError, np.linalg.LinAlgError) as exc:
                    si = None
                    notes.append(f"at {cut_ts:%Y-%m-%d}: no calendar effect: the index could not be estimated ({exc})")
                if si is not None and si.covered:
                    season = si
                elif si is not None:
                    notes.append(f"at {cut_ts:%Y-%m-%d}: no calendar effect: {si.note}")
            elif uses_season:
                notes.append(f"at {cut_ts:%Y-%m-%d}: no calendar effect: the seasonal index is monthly or weekly, "
                             f"not {period!r}")
            if "markov" in models:
                st = StateTransitionForecast(period=period, periods=periods, observation_end=hist_end,
                                             season=season).fit(history)
                tot = st.totals(periods)
                idx = customers.get_indexer(tot.index)
                m = [np.full(n, np.nan) for _ in range(5)]
                for j, col in enumerate(("expected_active_periods", "expected_purchases", "expected_value",
                                         "median_active_periods", "median_value")):
                    m[j][idx] = tot[col].to_numpy()
                # the medians are the point forecasts for absolute error; the chain's purchases have none
                pred["markov"] = (m[0], m[1], m[2])
                point["markov"] = (m[3], None, m[4])
            days = (float((horizon_end - cut_ts) / pd.Timedelta(days=1)) if season is None
                    else float(season.operational_days(cut_ts, horizon_end)))
            for name in ("bgnbd", "pareto_nbd"):
                if name in models:
                    try:
                        ep, ev, mp, mv = _purchase_model(name, history, hist_end, days, customers, season)
                    except (InvalidParameterError, ValueError, np.linalg.LinAlgError) as exc:
                        notes.append(f"{name} at {cut_ts:%Y-%m-%d}: not fitted ({exc})")
                        continue
                    pred[name] = (None, ep, ev)
                    point[name] = (None, mp, mv)   # medians by simulation from the posterior
        frame = {"cutoff": cut_ts, "customer": p.labels[who]}
        for j, target in enumerate(TARGETS):
            frame[f"actual:{target}"] = actual[j][who]
        for name, vals in pred.items():
            for j, target in enumerate(TARGETS):
                if vals[j] is None:
                    continue
                y, f = actual[j][who], vals[j][who]
                pt = point.get(name, (None,) * 3)[j]
                row = metric_row(cut_ts, name, target, y, f, point=None if pt is None else pt[who])
                rows.append(row[:3] + (season is not None and name in SEASONAL_MODELS,) + row[3:])
                if pt is not None:
                    frame[f"{name}:{target}:median"] = pt[who]
                ok = ~np.isnan(f)
                frame[f"{name}:{target}"] = f
                rank = pd.Series(f[ok]).rank(method="first", ascending=False).to_numpy()
                dec = np.minimum((rank - 1) * deciles // max(ok.sum(), 1) + 1, deciles).astype(int)
                g = pd.DataFrame({"decile": dec, "predicted": f[ok], "actual": y[ok]}).groupby("decile")
                c = g.agg(customers=("actual", "size"), predicted=("predicted", "mean"), actual=("actual", "mean"))
                cal.append(c.reset_index().assign(cutoff=cut_ts, model=name, target=target))
        preds.append(pd.DataFrame(frame))
    metrics = pd.DataFrame(rows, columns=["cutoff", "model", "target", "seasonal", "customers", "mae", "mae_mean",
                                          "rmse", "predicted", "actual", "relative_error"])
    calibration = pd.concat(cal, ignore_index=True)[["cutoff", "model", "target", "decile", "customers",
                                                     "predicted", "actual"]]
    return ForecastBacktest(metrics, calibration, pd.concat(preds, ignore_index=True), notes)
