"""Customer value: summaries against a loop twin, the models against their
integrals, simulations, published CDNOW parameters and statsmodels, the
state-transition chain against a step-by-step walk, margin rules by hand."""
import warnings

import numpy as np
import pandas as pd
import pytest

import basketmine as bm
from basketmine import _reference as ref
from basketmine.value._models import _rfT

from conftest import DATASETS, shared

V = bm.value


# ------------------------------------------------------------------ data
def cdnow_frame(path):
    return pd.read_csv(path, sep=r"\s+", header=None, names=["master", "id", "date", "cds", "dollars"],
                       dtype={"date": str})


@pytest.fixture(scope="module")
def cdnow():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return bm.read_cdnow(DATASETS / "cdnow" / "CDNOW_sample.txt")


@pytest.fixture(scope="module")
def cdnow_cal(cdnow):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return V.summary(cdnow, observation_end="1997-09-30", unit="W")


@pytest.fixture(scope="module")
def retail():
    return bm.read_csv(DATASETS / "online_retail" / "online_retail_sample.csv.gz", basket="InvoiceNo",
                       item="StockCode", customer="CustomerID", time="InvoiceDate", quantity="Quantity",
                       price="UnitPrice")


def random_log(seed, n_cust=40, n_rows=400, days=400, with_cost=False):
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2020-01-01")
    df = pd.DataFrame({
        "customer": rng.integers(0, n_cust, n_rows),
        "time": t0 + pd.to_timedelta(rng.integers(0, days * 24, n_rows), "h"),
        "amount": np.round(rng.gamma(2.0, 20.0, n_rows), 2),
    })
    if with_cost:
        df["cost"] = np.round(df["amount"] * rng.uniform(0.4, 0.9, n_rows), 2)
    return df


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*a, **k)


# ------------------------------------------------------------------ summary
@pytest.mark.parametrize("freq,unit", [("D", None), ("D", "W"), ("W", None), ("M", None), ("W", "D")])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_summary_equals_loop_twin(seed, freq, unit):
    df = random_log(seed)
    tm = bm.TransactionMatrix.from_purchases(df, "customer", "time", "amount")
    end = pd.Timestamp("2020-10-15")
    got = V.summary(tm, observation_end=end, freq=freq, unit=unit)
    unit_days = {"D": 1.0, "W": 7.0}[unit or freq] if (unit or freq) != "M" else None
    want = ref.customer_summary(df[["customer", "time", "amount"]].itertuples(index=False), end, freq,
                                unit_days)
    assert sorted(want) == list(got.index)
    w = pd.DataFrame.from_dict(want, orient="index", columns=["frequency", "recency", "T", "monetary_value"])
    pd.testing.assert_frame_equal(got[w.columns], w.loc[got.index], check_dtype=False, check_names=False,
                                  check_index_type=False)
    assert got.attrs["baskets_after_end"] == int((df["time"] >= end + pd.Timedelta(days=1)).sum())


def test_summary_on_cdnow_is_consistent(cdnow_cal):
    s = cdnow_cal
    assert len(s) == 2357  # the whole cohort bought in the calibration period
    assert (s["recency"] <= s["T"]).all() and (s["recency"] >= 0).all()
    assert ((s["frequency"] == 0) == (s["monetary_value"] == 0)).all()
    # T in weeks from the first purchase to 1997-09-30
    first = s["first_purchase"].dt.normalize()
    np.testing.assert_allclose(s["T"], (pd.Timestamp("1997-09-30") - first).dt.days / 7)


def test_summary_bad_input(cdnow):
    with pytest.raises(bm.InvalidParameterError, match="observation_end"):
        V.summary(cdnow, observation_end="1990-01-01")
    with pytest.raises(bm.InvalidParameterError, match="'freq'"):
        V.summary(cdnow, freq="Y")
    with pytest.raises(bm.InvalidParameterError, match="observation_end"):
        V.summary(cdnow, observation_end="not a date")
    tm = bm.TransactionMatrix.from_baskets([["a"], ["b"]])
    with pytest.raises(bm.InvalidParameterError, match="customers"):
        V.summary(tm)


def test_summary_warns_on_zero_spend_and_missing_customers():
    df = pd.DataFrame({"c": [1, 1, 2, None], "t": ["2020-01-01", "2020-02-01", "2020-01-05", "2020-01-07"],
                       "v": [10.0, 0.0, 5.0, 3.0]})
    tm = bm.TransactionMatrix.from_purchases(df, "c", "t", "v")
    with pytest.warns(UserWarning) as rec:
        s = V.summary(tm)
    text = " ".join(str(r.message) for r in rec)
    assert "1 baskets have no customer" in text and "<= 0" in text
    assert s.attrs["baskets_without_customer"] == 1


# ------------------------------------------------------------------ RFM, deciles, Pareto
def test_rfm_scores_and_segments(retail):
    r = quiet(V.rfm, retail)
    assert set(r["R"]) == set(range(1, 6))
    assert r["F"].value_counts().max() - r["F"].value_counts().min() <= 1  # equal-sized bins
    # a higher score never has a worse raw value
    for score, raw, better in (("R", "recency", -1), ("F", "frequency", 1), ("M", "monetary", 1)):
        g = r.groupby(score)[raw]
        assert (np.diff(g.min().to_numpy() * better) >= 0).all() or (np.diff(g.max().to_numpy() * better) >= 0).all()
    assert (r["rfm_score"] == r["R"] + r["F"] + r["M"]).all()
    assert r.loc[(r.R == 5) & (r.F >= 4), "segment"].eq("champions").all()
    assert r.loc[(r.R <= 2) & (r.F <= 2), "segment"].eq("hibernating").all()


def test_deciles_and_pareto_against_sorting(retail):
    spend = quiet(V.summary, retail)["total_spend"].sort_values(ascending=False)
    d = quiet(V.monetary_deciles, retail)
    assert d["customers"].sum() == len(spend)
    assert d["customers"].max() - d["customers"].min() <= 1
    np.testing.assert_allclose(d["revenue"].sum(), spend.sum())
    np.testing.assert_allclose(d["revenue"].iloc[0], spend.iloc[:d["customers"].iloc[0]].sum())
    assert np.isclose(d["cumulative_revenue_share"].iloc[-1], 1.0)
    k = len(spend) // 5
    share = quiet(V.revenue_share, retail, k / len(spend))
    np.testing.assert_allclose(share, spend.iloc[:k].sum() / spend.sum())
    p = quiet(V.purchase_deciles, retail)
    assert p["customers"].sum() == len(spend)
    np.testing.assert_allclose(p["revenue"].sum(), spend.sum())
    # twin: lay the spends end to end, top first; each customer's midpoint names its tenth
    counts = np.zeros(10, dtype=int)
    run = 0.0
    for v in spend:
        counts[min(int((run + v / 2) / spend.sum() * 10), 9)] += 1
        run += v
    np.testing.assert_array_equal(p["customers"], counts)
    c = quiet(V.pareto_curve, retail)
    assert 0 < c.attrs["gini"] < 1 and (np.diff(c["revenue_share"]) >= 0).all()


def test_profit_deciles_with_costs():
    df = random_log(3, with_cost=True)
    tm = bm.TransactionMatrix.from_purchases(df, "customer", "time", "amount", cost="cost")
    d = V.monetary_deciles(tm)
    np.testing.assert_allclose(d["profit"].sum(), (df["amount"] - df["cost"]).sum())
    with pytest.raises(bm.InvalidParameterError, match="'top'"):
        V.revenue_share(tm, 1.5)


# ------------------------------------------------------------------ model likelihoods
def random_rfT(rng, n=12, scale=40.0):
    x = rng.integers(0, 8, n).astype(float)
    T = rng.uniform(1, scale, n)
    tx = np.where(x > 0, T * rng.uniform(0.05, 1.0, n), 0.0)
    tx[0], x[0] = T[0], max(x[0], 1)  # a purchase right at the end
    return x, tx, T


@pytest.mark.parametrize("seed", range(4))
def test_closed_forms_equal_integration_twins(seed):
    rng = np.random.default_rng(seed)
    x, tx, T = random_rfT(rng)
    t = float(rng.uniform(1, 30))
    bg = np.array([rng.uniform(0.2, 2), rng.uniform(1, 20), rng.uniform(0.3, 3), rng.uniform(1.5, 5)])
    L, PA, E = ref.bgnbd_by_integration(bg, x, tx, T, t)
    m = V.BetaGeo()
    np.testing.assert_allclose(np.exp(m._ll_only(bg, [x, tx, T])), L, rtol=1e-8)
    np.testing.assert_allclose(m._alive(bg, x, tx, T), PA, rtol=1e-8)
    np.testing.assert_allclose(m._conditional(bg, x, tx, T, t), E, rtol=1e-7)
    # both branches of the Pareto/NBD likelihood: alpha >= beta and alpha < beta
    for pn in (np.array([0.6, 10.0, 0.7, 4.0]), np.array([rng.uniform(0.2, 2), 5.0, rng.uniform(1.2, 3), 15.0])):
        L, PA, E = ref.pareto_nbd_by_integration(pn, x, tx, T, t)
        m = V.ParetoNBD()
        np.testing.assert_allclose(np.exp(m._ll_only(pn, [x, tx, T])), L, rtol=1e-8)
        np.testing.assert_allclose(m._alive(pn, x, tx, T), PA, rtol=1e-8)
        np.testing.assert_allclose(m._conditional(pn, x, tx, T, t), E, rtol=1e-7)
    gg = np.array([rng.uniform(1, 8), rng.uniform(2, 5), rng.uniform(5, 30)])
    xs, ms = np.arange(1.0, 7.0), rng.uniform(5, 80, 6)
    np.testing.assert_allclose(np.exp(V.GammaGamma()._loglik(gg, [xs, ms], False)),
                               ref.gamma_gamma_by_integration(gg, xs, ms), rtol=1e-8)


@pytest.mark.parametrize("model,params", [
    (V.BetaGeo(), [0.4, 6.0, 0.9, 2.5]), (V.NBD(), [0.4, 6.0]), (V.GammaGamma(), [5.0, 3.0, 12.0])])
def test_analytic_gradients_equal_finite_differences(model, params):
    rng = np.random.default_rng(5)
    if isinstance(model, V.GammaGamma):
        data = [np.arange(1.0, 9.0), rng.uniform(5, 50, 8)]
    else:
        data = list(random_rfT(rng))
    params = np.asarray(params, dtype=float)
    _, g = model._loglik(params, data, True)
    for j in range(len(params)):
        h = 1e-6 * params[j]
        up, dn = params.copy(), params.copy()
        up[j] += h
        dn[j] -= h
        num = (model._ll_only(up, data) - model._ll_only(dn, data)) / (2 * h)
        np.testing.assert_allclose(g[:, j], num, rtol=1e-5, atol=1e-7)


def simulate_bgnbd(rng, n, r, alpha, a, b, T):
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    rows = []
    for i in range(n):
        t, x, tx = 0.0, 0, 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            x, tx = x + 1, t
            if rng.random() < p[i]:
                break
        rows.append((x, tx, T))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


def test_betageo_recovers_simulated_parameters():
    rng = np.random.default_rng(2005)
    true = {"r": 0.8, "alpha": 5.0, "a": 1.2, "b": 3.0}
    X = simulate_bgnbd(rng, 6000, T=40.0, **true)
    m = V.BetaGeo().fit(X)
    assert m.converged_
    z = (m.params_ - pd.Series(true)) / m.bse_
    assert (z.abs() < 4).all(), z


def test_nbd_equals_statsmodels_negative_binomial(cdnow_cal):
    sm = pytest.importorskip("statsmodels.api")
    X = cdnow_cal
    m = V.NBD().fit(X)
    y = X["frequency"].to_numpy()
    res = sm.NegativeBinomial(y, np.ones((len(y), 1)), exposure=X["T"].to_numpy()).fit(disp=0)
    const, alpha_nb2 = res.params
    r = 1 / alpha_nb2
    np.testing.assert_allclose(m.params_["r"], r, rtol=1e-4)
    np.testing.assert_allclose(m.params_["alpha"], r / np.exp(const), rtol=1e-4)


# ------------------------------------------------------------------ published CDNOW values
# Fader, Hardie and Lee (2005), "Counting your customers the easy way" (NBD, Pareto/NBD,
# BG/NBD on the 2,357-customer CDNOW sample, 39-week calibration) and Fader and Hardie's
# Gamma-Gamma note on the same data; as printed, to their printed precision.
PUBLISHED = {
    "NBD": ({"r": 0.385, "alpha": 12.072}, -9763.7),
    "ParetoNBD": ({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),
    "BetaGeo": ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4),
    "GammaGamma": ({"p": 6.25, "q": 3.74, "gamma": 15.44}, None),
}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_published_cdnow_parameters(cdnow_cal, name):
    params, ll = PUBLISHED[name]
    m = getattr(V, name)().fit(cdnow_cal)
    assert m.converged_
    for k, v in params.items():
        # to the printed precision, or 1e-3 relative where the likelihood is flat (Pareto/NBD beta)
        half_digit = 0.5 * 10.0 ** -len(str(v).split(".")[1])
        assert abs(m.params_[k] - v) <= max(half_digit, 1e-3 * v), (k, m.params_[k])
    if ll is not None:
        assert round(m.loglik_, 1) == pytest.approx(ll)
    s = m.summary()
    assert list(s.columns) == ["coef", "std_err", "lower_95", "upper_95"]
    assert (s["std_err"] > 0).all() and (s["lower_95"] < s["coef"]).all()


def test_predictions_and_clv(cdnow_cal):
    bg = V.BetaGeo().fit(cdnow_cal)
    gg = V.GammaGamma().fit(cdnow_cal)
    e10 = bg.expected_purchases(10)
    e70d = bg.expected_purchases("70D")  # 70 days = 10 weeks
    np.testing.assert_allclose(e10, e70d)
    with pytest.raises(bm.InvalidParameterError, match="'t' parameter of BetaGeo.expected_purchases is a number "
                                                      "without a unit"):
        bg.expected_purchases("70")  # pandas would read 70 nanoseconds
    pa = bg.probability_alive()
    assert ((pa > 0) & (pa <= 1)).all() and (pa[cdnow_cal.frequency == 0] == 1).all()
    pp = bg.probability_of_purchase(10)
    assert (pp <= pa + 1e-12).all()
    spend = gg.expected_spend(cdnow_cal)
    pop = gg.params_["p"] * gg.params_["gamma"] / (gg.params_["q"] - 1)
    np.testing.assert_allclose(spend[cdnow_cal.frequency == 0], pop)
    clv = gg.clv(bg, cdnow_cal, periods=12, period="30D", discount_rate=0.01)
    undiscounted = gg.clv(bg, cdnow_cal, periods=12, period="30D", discount_rate=0.0)
    np.testing.assert_allclose(undiscounted, bg.expected_purchases("360D", cdnow_cal) * spend, rtol=1e-9)
    assert (clv <= undiscounted + 1e-9).all()
    assert np.isclose(bg.expected_purchases_new(0.0), 0.0)


def test_model_bad_input(cdnow_cal):
    X = cdnow_cal.copy()
    with pytest.raises(bm.InvalidParameterError, match="recency"):
        V.BetaGeo().fit(X.assign(recency=X["T"] + 1))
    with pytest.raises(bm.InvalidParameterError, match="repeat purchases"):
        V.BetaGeo().fit(X.assign(frequency=0, recency=0.0))
    with pytest.raises(bm.InvalidParameterError, match="monetary_value > 0"):
        V.GammaGamma().fit(X.assign(monetary_value=np.where(X.frequency > 0, -1.0, 0.0)))
    with pytest.raises(bm.InvalidParameterError, match="columns"):
        V.BetaGeo().fit(X.drop(columns="T"))
    with pytest.raises(bm.InvalidParameterError, match="fitted"):
        V.BetaGeo().expected_purchases(5)
    with pytest.raises(bm.InvalidParameterError, match="'t'"):
        V.BetaGeo().fit(X).expected_purchases("soon")
    with pytest.raises(bm.InvalidParameterError, match="penalizer"):
        V.BetaGeo(penalizer=-1).fit(X)


def test_degenerate_fit_warns_instead_of_silent_nan():
    X = pd.DataFrame({"frequency": [1] + [0] * 49, "recency": [3.0] + [0.0] * 49,
                      "T": np.linspace(5, 40, 50)})
    with pytest.warns(V.ConvergenceWarning):
        V.BetaGeo().fit(X)


def lifetimes_python():
    """The python of lifetimes' own venv (pandas < 3), built on first use by
    benchmarks/lifetimes_env.py; skip when it cannot be built here."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "lifetimes_env.py"
    spec = importlib.util.spec_from_file_location("lifetimes_env", path)
    env = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(env)
    try:
        return env.ensure_env()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"the lifetimes cross-check needs its own pandas<3 venv, which could not be "
                    f"built here: {str(exc)[-300:]}")


def test_equal_to_lifetimes_on_cdnow(tmp_path, cdnow_cal):
    import json
    import subprocess
    import sys
    from pathlib import Path
    py = lifetimes_python()
    raw = cdnow_frame(DATASETS / "cdnow" / "CDNOW_sample.txt")
    csv = tmp_path / "cdnow.csv"
    pd.DataFrame({"customer": raw["id"], "date": pd.to_datetime(raw["date"]),
                  "value": raw["dollars"]}).to_csv(csv, index=False)
    out = tmp_path / "out.json"
    worker = Path(__file__).resolve().parents[1] / "benchmarks" / "lifetimes_worker.py"
    subprocess.run([str(py), str(worker), str(csv), str(out), "--customer", "customer", "--time", "date",
                    "--value", "value", "--observation-end", "1997-09-30", "--freq", "D",
                    "--freq-multiplier", "7", "--repeat", "1"], check=True, capture_output=True)
    got = json.loads(out.read_text())
    lt = pd.DataFrame.from_dict(got["summary"], orient="index")
    lt.index = lt.index.astype(int)
    mine = cdnow_cal.loc[lt.index]
    for col in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(mine[col], lt[col], rtol=1e-9, atol=1e-9)
    for name, cls in (("BetaGeoFitter", V.BetaGeo), ("ParetoNBDFitter", V.ParetoNBD),
                      ("GammaGammaFitter", V.GammaGamma)):
        theirs = got["models"][name]["params"]
        m = cls().fit(cdnow_cal)
        keymap = {"v": "gamma"}
        for k, v in theirs.items():
            assert m.params_[keymap.get(k, k)] == pytest.approx(v, rel=1e-3), (name, k)


# ------------------------------------------------------------------ state transitions
def _walk_history(df, end):
    d = df[df["time"] <= end + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")].copy()
    d["per"] = d["time"].dt.to_period("M").map(lambda p: p.ordinal)
    d["day"] = d["time"].dt.normalize()
    hist = {}
    for (c, per), g in d.groupby(["customer", "per"]):
        hist.setdefault(c, {})[per] = (g["day"].nunique(), g["amount"].sum())
    return hist, pd.Period(end, "M").ordinal


def _fit_chain(seed, memory, shrinkage):
    df = random_log(seed, n_cust=30, n_rows=300, days=700)
    tm = bm.TransactionMatrix.from_purchases(df, "customer", "time", "amount")
    end = pd.Timestamp("2021-10-31")
    st = V.StateTransitionForecast(period="M", recency_bands=4, memory=memory, monetary_bands=3,
                                   monetary="empirical", shrinkage=shrinkage, observation_end=end).fit(tm)
    hist, last = _walk_history(df, end)
    return st, hist, last


def _chain_dict(st):
    return {s: {s2: q for s2, q in row.items() if q} for s, row in st.transition_matrix_.iterrows()}


@pytest.mark.parametrize("memory", [1, 3])
@pytest.mark.parametrize("seed", [0, 1, 4])
def test_transition_counts_equal_walk_twin(seed, memory):
    st, hist, last = _fit_chain(seed, memory, shrinkage=None)
    counts, current = ref.state_transitions(hist, last, 4, st.frequency_edges_, st.monetary_edges_, memory)
    got = st.transition_counts_
    assert got.index.names == ["r", "h", "f", "m"] and len(got) == 4 * 2 ** (memory - 1) * 3 * 3
    want = pd.DataFrame(0, index=got.index, columns=got.columns)
    for (s1, s2), n in counts.items():
        want.loc[s1, s2] = n
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert list(st.current_state_.columns) == ["r", "h", "f", "m"]
    cur = {c: tuple(v) for c, v in st.current_state_.iterrows()}
    assert cur == current
    if memory > 1:   # the memory is used: some customer's state remembers an earlier active period
        assert any(s[1] for s in current.values())
    # the empirical forecast (no customer effect) equals pushing each customer's state through the chain
    np.testing.assert_allclose(st.customer_effect_, 1.0)
    P = _chain_dict(st)
    F = len(st.frequency_edges_)
    reward = (lambda s: st.band_purchases_.iloc[s[2]] if s[0] == 0 else 0.0)
    fc = st.forecast(3)
    for c in list(cur)[:8]:
        want_c = ref.chain_forecast(P, cur[c], 3, reward)
        np.testing.assert_allclose(fc.loc[c, "expected_purchases"].to_numpy(), want_c, rtol=1e-10)
    assert F == 3


@pytest.mark.parametrize("memory", [1, 3])
@pytest.mark.parametrize("seed", [0, 1, 4])
def test_customer_effect_and_active_periods_equal_path_twin(seed, memory):
    st, hist, last = _fit_chain(seed, memory, shrinkage=2.0)
    walks = ref.state_walks(hist, last, 4, st.frequency_edges_, st.monetary_edges_, memory)
    P = _chain_dict(st)
    # (2 + B) / (2 + E): B active periods after the first, E the chain's expected number of them
    effect = {c: ref.customer_effect(walks[c], P, 2.0) for c in walks}
    got = st.customer_effect_
    np.testing.assert_allclose(got.to_numpy(), [effect[c][0] for c in got.index], rtol=1e-12)
    assert any(effect[c][1] != effect[c][2] for c in walks)   # the effect is not 1 throughout
    # each customer's distribution of active periods, every path of their own chain enumerated
    dist = st.active_periods_distribution(3)
    assert list(dist.columns) == [0, 1, 2, 3]
    np.testing.assert_allclose(dist.sum(axis=1), 1.0)
    reward = (lambda s: st.band_purchases_.iloc[s[2]] if s[0] == 0 else 0.0)
    fc = st.forecast(3)
    for c in list(got.index)[:8]:
        Pc = ref.customer_chain(P, effect[c][0], 4)
        start = walks[c][-1]
        want = ref.active_periods_distribution(Pc, start, 3, lambda s: s[0] == 0)
        np.testing.assert_allclose(dist.loc[c].to_numpy(), want, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(fc.loc[c, "expected_purchases"].to_numpy(),
                                   ref.chain_forecast(Pc, start, 3, reward), rtol=1e-10)
    # totals: the median is the smallest j whose cumulative probability reaches 0.5; the expectation
    # is the summed probability of being active
    tot = st.totals(3)
    cum = dist.to_numpy().cumsum(axis=1)
    med = [next(j for j in range(4) if cum[i, j] >= 0.5) for i in range(len(cum))]
    np.testing.assert_array_equal(tot["median_active_periods"].to_numpy(), med)
    np.testing.assert_allclose(tot["expected_active_periods"],
                               fc["probability_active"].groupby(level="customer", sort=False).sum()
                               .loc[tot.index], rtol=1e-12)
    np.testing.assert_allclose(tot["expected_active_periods"], dist.to_numpy() @ np.arange(4), rtol=1e-10)


def test_state_forecast_gamma_gamma(retail):
    st = quiet(V.StateTransitionForecast(period="M").fit, retail)
    P = st.transition_matrix_.to_numpy()
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    probs = st.state_probabilities(3)
    np.testing.assert_allclose(probs.sum(axis=2), 1.0)
    bands = st.band_probabilities(2)
    for prefix in ("r=", "f=", "m="):
        np.testing.assert_allclose(bands.filter(like=prefix).sum(axis=1), 1.0)
    G = st._monetary_probs(st.band_purchases_.to_numpy())
    np.testing.assert_allclose(G.sum(axis=2), 1.0)
    fc = st.forecast()
    assert (fc["probability_active"].between(0, 1)).all() and (fc["expected_value"] >= 0).all()
    # a customer's expected value is their probability of buying x their Gamma-Gamma revenue per
    # active period, fitted on each customer's mean revenue over their active months
    from basketmine.value._summary import period_table, purchases
    p = quiet(purchases, retail, "test")
    pt = period_table(p, "M", int(st.last_period_.ordinal))
    per = pd.DataFrame({"c": pt.customer, "rev": pt.revenue}).groupby("c")["rev"].agg(["size", "mean"])
    per.index = pd.Index(p.labels[per.index], name="customer")
    gg = quiet(V.GammaGamma().fit, per.rename(columns={"size": "frequency", "mean": "monetary_value"})
               .query("monetary_value > 0"))
    X = per.rename(columns={"size": "frequency", "mean": "monetary_value"}).loc[st.current_state_.index]
    spend = gg.expected_spend(X.assign(monetary_value=X["monetary_value"].clip(lower=0)))
    np.testing.assert_allclose(st.period_spend_, spend)
    c = fc.index.get_level_values(0)[0]
    np.testing.assert_allclose(fc.loc[c, "expected_value"], fc.loc[c, "probability_active"] * spend[c])
    # totals: the expectation is the forecast's sum
    tot = st.totals()
    np.testing.assert_allclose(tot["expected_value"], fc["expected_value"].groupby(level=0, sort=False).sum())
    with pytest.raises(bm.InvalidParameterError, match="frequency_edges"):
        V.StateTransitionForecast(frequency_edges=(2, 1)).fit(retail)


def test_totals_median_value_is_the_median_of_the_forecast_distribution(retail):
    st = quiet(V.StateTransitionForecast(period="M").fit, retail)
    tot = st.totals(3)
    dist = st.active_periods_distribution(3).to_numpy()
    p, shape, rate = st._period_gg
    # a customer more likely to buy in none of the periods: 0
    none = dist[:, 0] >= 0.5
    assert none.any() and (tot["median_value"].to_numpy()[none] == 0).all()
    # otherwise half of the simulated horizons stay at or under it: periods from the chain's
    # distribution, the customer's nu from their posterior, each period's revenue Gamma(p, nu)
    rng = np.random.default_rng(7)
    some = np.flatnonzero(~none)[:6]
    for i in some:
        j = rng.choice(dist.shape[1], size=400_000, p=dist[i] / dist[i].sum())
        nu = rng.gamma(shape[i], 1 / rate[i], size=j.size)
        v = np.where(j > 0, rng.gamma(np.maximum(j, 1) * p, 1 / nu), 0.0)
        assert np.mean(v <= tot["median_value"].iloc[i]) == pytest.approx(0.5, abs=0.005)
    # the period spend is the Gamma-Gamma posterior mean of revenue per active period
    np.testing.assert_allclose(st.period_spend_.to_numpy(), rate * p / (shape - 1))


# ------------------------------------------------------------------ margin and classes
@pytest.mark.parametrize("idle", [0, 1, 3])
def test_margin_rate_moves_with_the_firm_multiplicatively(idle):
    # customer a buys every month up to the last active one; z buys every month to June, so the
    # firm-wide rate exists in every month: 0.2, 0.3, ..., a straight line of slope 0.1 a month
    months = pd.period_range("2021-01", "2021-06", freq="M")
    rates = np.array([0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    last = len(months) - 1 - idle
    rows = [("z", f"{m}-15", 100.0, 100.0 * (1 - r)) for m, r in zip(months, rates)]
    rows += [("a", f"{months[k]}-10", 50.0, 50.0 * (1 - rates[k])) for k in range(last + 1)]
    df = pd.DataFrame(rows, columns=["c", "t", "v", "cost"])
    tm = bm.TransactionMatrix.from_purchases(df, "c", "t", "v", cost="cost")
    fc = V.margin_forecast(tm, "M", periods=1, observation_end="2021-06-30",
                           expected_revenue=pd.Series({"a": 100.0, "z": 100.0}))
    a = fc.loc[("a", 1)]
    assert a["idle_periods"] == idle
    # the firm's slope over the idle months (from a's last active one) is 0.1 wherever it is measured
    want = rates[last] * (1 + 0.1 * idle / 2)
    assert a["margin_rate"] == pytest.approx(want)
    if idle:   # not the additive rule
        assert a["margin_rate"] != pytest.approx(rates[last] + 0.1 * idle / 2)


def test_margin_rules_by_hand():
    # two customers, monthly; costs on the log and marketing expenses
    df = pd.DataFrame({
        "c": ["a", "a", "a", "b", "b"],
        "t": ["2021-01-10", "2021-02-10", "2021-03-10", "2021-01-05", "2021-04-20"],
        "v": [100.0, 200.0, 100.0, 50.0, 80.0],
        "cost": [60.0, 100.0, 70.0, 20.0, 40.0]})
    tm = bm.TransactionMatrix.from_purchases(df, "c", "t", "v", cost="cost")
    ex = pd.DataFrame({"customer": ["a", "a", "b"], "time": ["2021-01-15", "2021-03-01", "2021-04-01"],
                       "expense": [10.0, 4.0, 8.0]})
    h = V.margin_history(tm, "M", expenses=ex)
    assert h.loc[("a", pd.Period("2021-03", "M")), "margin"] == 100 - 70 - 4
    fc = V.margin_forecast(tm, "M", periods=2, expenses=ex, observation_end="2021-06-30",
                           expected_revenue=pd.Series({"a": 100.0, "b": 5.0}))
    # firm-wide gross margin rate per month Jan..Jun: Jan (150-80)/150, Feb 0.5, Mar 0.3, Apr 0.5, May, Jun none
    firm = np.array([70 / 150, 0.5, 0.3, 0.5, np.nan, np.nan])
    # a: last active March (rate 0.3), idle April..June = 3 periods; slope over March..June
    y = firm[2:]
    ok = ~np.isnan(y)
    slope = np.polyfit(np.arange(4)[ok], y[ok], 1)[0]
    rate_a = 0.3 * (1 + slope * 3 / 2)   # multiplicative: last rate x (1 + slope x r/2)
    a1 = fc.loc[("a", 1)]
    assert a1["margin_rate"] == pytest.approx(rate_a)
    # expense: ratio 14/400 of 100 = 3.5, floored at the smallest past expense 4 (revenue 100 >= 4)
    assert a1["expected_expense"] == pytest.approx(4.0)
    assert a1["value"] == pytest.approx(100 * rate_a - 4.0)
    # b: revenue 5 is below b's smallest expense 8, so no floor: 5 * 8/130
    b1 = fc.loc[("b", 1)]
    assert b1["expected_expense"] == pytest.approx(5 * 8 / 130)
    # b: last active April (rate 0.5); no firm-wide rate after April, so no slope to adjust by
    assert b1["margin_rate"] == pytest.approx(0.5)
    # overrides: bulk and per customer
    o = V.margin_forecast(tm, "M", periods=2, expenses=ex, observation_end="2021-06-30",
                          expected_revenue=pd.Series({"a": 100.0, "b": 5.0}),
                          overrides=pd.DataFrame({"margin_rate": [0.9, np.nan]}, index=["a", "b"]))
    assert o.loc[("a", 2), "margin_rate"] == 0.9 and o.loc[("b", 2), "margin_rate"] == b1["margin_rate"]
    o2 = V.margin_forecast(tm, "M", periods=1, expenses=ex, observation_end="2021-06-30",
                           expected_revenue=pd.Series({"a": 100.0, "b": 5.0}), overrides={"expected_expense": 0})
    assert (o2["expected_expense"] == 0).all()
    with pytest.raises(bm.InvalidParameterError, match="overrides"):
        V.margin_forecast(tm, "M", overrides={"colour": 1}, expected_revenue=pd.Series({"a": 1.0, "b": 1.0}))


def test_margin_needs_costs(retail):
    with pytest.raises(bm.InvalidParameterError, match="margin_rate"):
        V.margin_history(retail)
    h = quiet(V.margin_history, retail, margin_rate=0.25)
    np.testing.assert_allclose(h["margin"].sum(), 0.25 * h["revenue"].sum())


def test_customer_classes(retail):
    cl = quiet(V.customer_classes, retail)
    assert set(cl["customer_class"].astype(str)) <= {"loyal", "potential", "marginal", "lost"}
    lost = cl["recency_days"] > 180
    assert (cl.loc[lost, "customer_class"] == "lost").all()
    assert (cl.loc[~lost, "customer_class"] != "lost").all()
    assert (cl.loc[cl.customer_class == "marginal", "value_tier"] == "low").all()
    tiers = cl["value_tier"].value_counts()
    assert tiers["high"] == round(0.2 * len(cl))
    assert cl.loc[cl.value_tier == "high", "value"].min() >= cl.loc[cl.value_tier != "high", "value"].max()
    t = V.class_table(cl)
    assert t["customers"].sum() == len(cl) and np.isclose(t["value_share"].sum(), 1.0)
    tighter = quiet(V.customer_classes, retail, thresholds={"lost_after": "60D"})
    assert (tighter["customer_class"] == "lost").sum() > (cl["customer_class"] == "lost").sum()
    with pytest.raises(bm.InvalidParameterError, match="thresholds"):
        V.customer_classes(retail, thresholds={"colour": 1})


# ------------------------------------------------------------------ backtest
def test_calibration_holdout_counts(cdnow):
    bt = quiet(V.calibration_holdout, cdnow, "1997-09-30", "1998-06-30", unit="W")
    raw = cdnow_frame(DATASETS / "cdnow" / "CDNOW_sample.txt")
    d = pd.to_datetime(raw["date"])
    per_day = raw.assign(d=d).drop_duplicates(["id", "d"])
    hold = per_day[(per_day.d > "1997-09-30") & (per_day.d <= "1998-06-30")].groupby("id").size()
    np.testing.assert_array_equal(bt.customers["frequency_holdout"], hold.reindex(bt.customers.index).fillna(0))
    assert bt.metrics["actual"] == hold.sum()
    assert bt.metrics["holdout_length"] == pytest.approx(273 / 7)
    assert bt.tracking["actual"].is_monotonic_increasing
    assert bt.by_frequency["customers"].sum() == len(bt.customers)
    with pytest.raises(bm.InvalidParameterError, match="calibration_end"):
        V.calibration_holdout(cdnow, "1999-01-01")


# ------------------------------------------------------------------ full data
def test_summary_on_full_online_retail_matches_twin():
    path = shared("online_retail", "online_retail.csv.gz")
    tm = quiet(bm.read_csv, path, basket="InvoiceNo", item="StockCode", customer="CustomerID",
               time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    s = quiet(V.summary, tm, observation_end="2011-12-09")
    df = tm.to_frame()
    df = df[df["customer"].notna()]
    basket_val = (df["quantity"] * df["price"]).groupby([df["customer"], df["basket"]]).sum()
    bt = df.groupby(["customer", "basket"])["time"].first()
    rows = zip(bt.index.get_level_values(0), bt.to_list(), basket_val.loc[bt.index].to_list())
    want = ref.customer_summary(rows, pd.Timestamp("2011-12-09"), "D", 1.0)
    w = pd.DataFrame.from_dict(want, orient="index", columns=["frequency", "recency", "T", "monetary_value"])
    pd.testing.assert_frame_equal(s[w.columns], w.loc[s.index], check_dtype=False, check_names=False,
                                  check_index_type=False)
    bg = V.BetaGeo().fit(s)
    assert bg.converged_ and (bg.bse_ > 0).all()


def test_read_cdnow_formats(tmp_path):
    sample = bm.read_cdnow(DATASETS / "cdnow" / "CDNOW_sample.txt")
    raw = cdnow_frame(DATASETS / "cdnow" / "CDNOW_sample.txt")
    assert sample.n_baskets == len(raw) and len(sample.customer_labels) == raw["id"].nunique()
    np.testing.assert_allclose(sample.revenue.sum(), raw["dollars"].sum())
    # the same rows as a master-format file (header line, four columns) and as CSV
    master = tmp_path / "master.txt"
    master.write_text(" customer_id  date number_of_cds  dollar_value\n" + "".join(
        f" {r.id:05d} {r.date} {r.cds} {r.dollars:.2f}\n" for r in raw.itertuples()))
    csv = tmp_path / "m.csv"
    raw.rename(columns={"id": "customer_id", "cds": "number_of_cds", "dollars": "dollar_value"})[
        ["customer_id", "date", "number_of_cds", "dollar_value"]].to_csv(csv, index=False)
    for other in (bm.read_cdnow(master), bm.read_cdnow(csv)):
        np.testing.assert_array_equal(other.times, sample.times)
        np.testing.assert_allclose(other.revenue, sample.revenue)
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 3\n")
    with pytest.raises(bm.InvalidParameterError, match="columns"):
        bm.read_cdnow(bad)


def test_summary_equal_to_lifetimes_on_full_online_retail(tmp_path):
    import json
    import subprocess
    from pathlib import Path
    path = shared("online_retail", "online_retail.csv.gz")
    py = lifetimes_python()
    tm = quiet(bm.read_csv, path, basket="InvoiceNo", item="StockCode", customer="CustomerID",
               time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    s = quiet(V.summary, tm, observation_end="2011-12-09")
    # the same invoices, one row each, for lifetimes
    df = tm.to_frame()
    df = df[df["customer"].notna()]
    inv = df.assign(value=df["quantity"] * df["price"]).groupby("basket").agg(
        customer=("customer", "first"), date=("time", "first"), value=("value", "sum"))
    csv, out = tmp_path / "retail.csv", tmp_path / "out.json"
    inv.to_csv(csv, index=False)
    worker = Path(__file__).resolve().parents[1] / "benchmarks" / "lifetimes_worker.py"
    subprocess.run([str(py), str(worker), str(csv), str(out), "--customer", "customer", "--time", "date",
                    "--value", "value", "--observation-end", "2011-12-09", "--freq", "D",
                    "--repeat", "1", "--models", "BetaGeoFitter,GammaGammaFitter"],
                   check=True, capture_output=True)
    got = json.loads(out.read_text())
    lt = pd.DataFrame.from_dict(got["summary"], orient="index")
    mine = s.set_axis(s.index.astype(str)).loc[lt.index]
    assert len(lt) == len(s)
    for col in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(mine[col], lt[col], rtol=1e-9, atol=1e-8)
    gg = V.GammaGamma().fit(s[s.monetary_value > 0])
    theirs = pd.Series(got["models"]["GammaGammaFitter"]["params"]).rename({"v": "gamma"})
    np.testing.assert_allclose(gg.params_[theirs.index], theirs, rtol=1e-3)


def test_bgnbd_predictions_stay_finite_at_a_poisson_like_fit():
    """r and alpha at the bounds of a fit (r ~ 6e5 on small logs): the
    predictions are finite and continuous with a moderate r of the same rate."""
    X = pd.DataFrame({"frequency": [0, 2, 5], "recency": [0, 20, 50], "T": [60, 60, 60]})
    out = []
    for r in (6e3, 6e5, 6e7):
        m = V.BetaGeo()
        m.params_ = pd.Series({"r": r, "alpha": 10 * r, "a": 1.5, "b": 10.0})
        m.unit_days_ = None
        out.append(m.expected_purchases(30, X).to_numpy())
        assert np.isfinite(out[-1]).all() and np.isfinite(m.expected_purchases_new(30.0))
    np.testing.assert_allclose(out[1], out[2], rtol=1e-4)
    np.testing.assert_allclose(out[0], out[1], rtol=2e-3)


def test_rfm_says_when_customers_spent_nothing():
    df = pd.DataFrame({"b": ["1", "2", "3"], "i": ["a", "b", "a"], "c": ["x", "y", "z"],
                       "t": ["2011-01-01", "2011-01-02", "2011-01-03"], "q": [1, 1, 1], "p": [2.0, 0.0, 3.0]})
    tm = bm.TransactionMatrix.from_frame(df, "b", "i", customer="c", time="t", quantity="q", price="p")
    with pytest.warns(UserWarning, match="1 customers have zero or negative total spend"):
        table = V.rfm(tm, bins=3)
    assert table.loc["y", "M"] == 1


# ------------------------------------------------------------------ forecast backtest
def _small_log():
    # monthly purchases (customer, day, amount): a buys Jan, Feb, Apr; b buys Mar twice (one day) and May;
    # c buys only in April; the horizon after the 2021-04-01 cut-off is April and May (2 periods)
    rows = [("a", "2021-01-05", 10.0), ("a", "2021-02-07", 20.0), ("a", "2021-04-03", 30.0),
            ("b", "2021-03-02", 5.0), ("b", "2021-03-02", 5.0), ("b", "2021-05-20", 40.0),
            ("c", "2021-04-10", 7.0), ("a", "2021-06-30", 1.0)]
    df = pd.DataFrame(rows, columns=["c", "t", "v"])
    df["inv"] = [str(i) for i in range(len(df))]
    return bm.TransactionMatrix.from_frame(df.assign(q=1.0), "inv", "c", customer="c", time="t", quantity="q",
                                           price="v")


def test_forecast_backtest_metrics_by_hand():
    tm = _small_log()
    bt = quiet(V.backtest, tm, ["2021-04-01"], periods=2, models=("last_periods", "mean_rate"))
    pred = bt.predictions.set_index("customer")
    # customers who bought before April: a and b (c is new in April, not judged)
    assert sorted(pred.index) == ["a", "b"]
    # actual over April-May: a 1 active month, 1 purchase, 30; b 1, 1, 40
    assert pred["actual:active_periods"].tolist() == [1, 1] and pred["actual:value"].tolist() == [30, 40]
    # last_periods: Feb-Mar again; a: Feb (1 month, 1 purchase, 20); b: Mar (1 month, 1 purchase day, 10)
    assert pred["last_periods:active_periods"].tolist() == [1, 1]
    assert pred["last_periods:purchases"].tolist() == [1, 1]
    assert pred["last_periods:value"].tolist() == [20, 10]
    # mean_rate: per month since the first purchase, times 2; a: 2 months of 3 (Jan..Mar), 30 in all;
    # b: 1 month of 1 (Mar), 10
    assert pred["mean_rate:active_periods"].tolist() == pytest.approx([2 / 3 * 2, 2.0])
    assert pred["mean_rate:value"].tolist() == pytest.approx([30 / 3 * 2, 20.0])
    m = bt.metrics.set_index(["model", "target"])
    # value of last_periods: errors -10 and -30
    row = m.loc[("last_periods", "value")]
    assert row["mae"] == pytest.approx(20.0) and row["rmse"] == pytest.approx(np.sqrt((100 + 900) / 2))
    assert row["predicted"] == 30 and row["actual"] == 70 and row["relative_error"] == pytest.approx(-40 / 70)
    # calibration: two customers in two deciles, the higher prediction first
    cal = bt.calibration.query("model == 'last_periods' and target == 'value'")
    assert cal["predicted"].tolist() == [20, 10] and cal["actual"].tolist() == [30, 40]


def test_forecast_backtest_runs_every_model_on_the_sample_and_checks_its_cutoffs():
    tm = quiet(bm.read_csv, DATASETS / "online_retail" / "online_retail_sample.csv.gz", "InvoiceNo", "StockCode",
               customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice",
               cancellations="drop")
    bt = quiet(V.backtest, tm, ["2011-06-01", "2011-09-01"], periods=3)
    got = bt.metrics.groupby(["cutoff", "model"]).size()
    assert set(bt.metrics["model"]) == set(V.FORECAST_MODELS)
    # the Markov chain's predictions are the forecast's own, summed over the horizon
    st = quiet(V.StateTransitionForecast(period="M", observation_end=pd.Timestamp("2011-06-01")
                                         - pd.Timedelta(1, "ns")).fit, tm.between(None, "2011-06-01"))
    fc = st.forecast(3).groupby(level="customer").sum()
    pred = bt.predictions[bt.predictions["cutoff"] == pd.Timestamp("2011-06-01")].set_index("customer")
    np.testing.assert_allclose(pred.loc[fc.index, "markov:value"], fc["expected_value"])
    assert (got.xs("markov", level="model") == 3).all() and (got.xs("bgnbd", level="model") == 2).all()
    with pytest.raises(bm.InvalidParameterError, match="start of a 'M' period"):
        V.backtest(tm, ["2011-06-15"])
    with pytest.raises(bm.InvalidParameterError, match="leave 3 whole periods before the log ends"):
        V.backtest(tm, ["2011-11-01"])
    with pytest.raises(bm.InvalidParameterError, match="'models' parameter of backtest"):
        V.backtest(tm, ["2011-06-01"], models=("tarot",))
    # a log read with returns netted: the look-ahead is said, as in every other backtest
    netted = quiet(bm.read_csv, DATASETS / "online_retail" / "online_retail_sample.csv.gz", "InvoiceNo",
                   "StockCode", customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    with pytest.warns(UserWarning, match="returns at or after 2011-06-01 .*cancellations='drop'"):
        V.backtest(netted, ["2011-06-01"], models=("last_periods",))


@pytest.mark.parametrize("name", ["bgnbd", "pareto_nbd"])
def test_posterior_simulation_has_the_models_expectations(cdnow, name):
    # the draws behind backtest's BG/NBD and Pareto/NBD medians: their means are the closed-form
    # expected purchases (and purchases x Gamma-Gamma spend) of the same fit
    from basketmine.value._forecast_backtest import posterior_draws, predictive_medians
    s = quiet(V.summary, cdnow, observation_end="1997-09-30", unit="D")
    model = quiet((V.BetaGeo if name == "bgnbd" else V.ParetoNBD)().fit, s)
    gg = quiet(V.GammaGamma().fit, s[s["monetary_value"] > 0])
    rows = s.sort_values("frequency", ascending=False).iloc[::60].head(12)   # from heavy to one-off buyers
    t = 180.0
    (_, bought, spent), = posterior_draws(name, model, rows, t, gg, draws=60_000, seed=3)
    want = model.expected_purchases(t, rows).to_numpy()
    np.testing.assert_allclose(bought.mean(axis=1), want, rtol=0.03, atol=0.01)
    np.testing.assert_allclose(spent.mean(axis=1), want * gg.expected_spend(rows).to_numpy(), rtol=0.05, atol=0.5)
    med_p, med_v = predictive_medians(name, model, rows, t, gg, draws=60_000, seed=3)
    np.testing.assert_array_equal(med_p, np.median(bought, axis=1))
    assert (med_p >= 0).all() and ((med_v == 0) == (med_p == 0)).all()
