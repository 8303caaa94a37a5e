"""value.margin_backtest: metrics by hand on a small log with costs and
expenses, the multiplicative margin-rate rule against the unchanged last
rate on a log whose firm-wide rate drifts, agreement with value.backtest's
Markov chain, and bad inputs."""
import warnings

import numpy as np
import pandas as pd
import pytest

import basketmine as bm

from conftest import DATASETS

V = bm.value
SAMPLE = DATASETS / "online_retail" / "online_retail_sample.csv.gz"


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


# ------------------------------------------------------------------ by hand
def _costed_log():
    # (customer, day, revenue, cost); monthly, cut-off 2021-04-01, horizon April and May (2 periods)
    rows = [("a", "2021-01-10", 100.0, 60.0),    # rate 0.4
            ("a", "2021-02-10", 200.0, 100.0),   # rate 0.5
            ("a", "2021-04-03", 100.0, 50.0),    # horizon
            ("a", "2021-05-05", 50.0, 20.0),     # horizon
            ("b", "2021-01-05", 50.0, 20.0),     # rate 0.6
            ("b", "2021-03-02", 80.0, 40.0),     # rate 0.5
            ("b", "2021-05-20", 100.0, 70.0),    # horizon
            ("c", "2021-02-14", 40.0, 30.0),     # rate 0.25; nothing in the horizon
            ("d", "2021-04-10", 60.0, 30.0),     # new in the horizon: not judged
            ("d", "2021-05-31", 20.0, 10.0)]     # the log ends on 31 May: the horizon is whole
    df = pd.DataFrame(rows, columns=["c", "t", "v", "cost"])
    return bm.TransactionMatrix.from_purchases(df, "c", "t", "v", cost="cost")


EXPENSES = pd.DataFrame({"customer": ["a", "c", "b"], "time": ["2021-02-01", "2021-03-15", "2021-05-01"],
                         "expense": [10.0, 4.0, 5.0]})


def test_margin_backtest_by_hand():
    tm = _costed_log()
    bt = quiet(V.margin_backtest, tm, ["2021-04-01"], periods=2, expenses=EXPENSES)
    assert all(n.startswith("margin_forecast at 2021-04-01: ") for n in bt.notes)
    pred = bt.predictions.set_index("customer")
    # judged: the customers who bought before April (d is new in April)
    assert sorted(pred.index) == ["a", "b", "c"]
    # realised margin over April-May = revenue - cost - expense:
    #   a: (100 - 50) + (50 - 20) = 80; b: 100 - 70 - 5 (the 1 May expense) = 25; c: nothing = 0
    assert pred["actual:margin"].tolist() == [80, 25, 0]
    # realised horizon rate (revenue - cost) / revenue: a 80/150; b 30/100; c no revenue: NaN
    assert pred["actual:margin_rate"].iloc[:2].tolist() == pytest.approx([80 / 150, 0.3])
    assert np.isnan(pred.loc["c", "actual:margin_rate"])
    # last_periods: February and March again
    #   a: Feb 200 - 100 - 10 (the 1 Feb expense) = 90; b: Mar 80 - 40 = 40; c: Feb 40 - 30, Mar expense 4 -> 6
    assert pred["last_periods:margin"].tolist() == [90, 40, 6]
    # idle periods since the last month with revenue, up to March: a Feb -> 1, b Mar -> 0, c Feb -> 1
    assert pred["idle_periods"].tolist() == [1, 0, 1]
    # last_rate: the last active month's rate unchanged: a 0.5 (Feb), b 0.5 (Mar), c 0.25 (Feb)
    assert pred["last_rate:margin_rate"].tolist() == pytest.approx([0.5, 0.5, 0.25])
    # margin_forecast's rate: firm-wide rate Feb (a 200/100 + c 40/30) = 110/240, Mar (b) 80/40 = 0.5;
    # slope over Feb..Mar = 0.5 - 110/240 = 1/24; idle 1 -> last rate x (1 + 1/24 x 1/2)
    grow = 1 + (0.5 - 110 / 240) * 1 / 2
    assert pred["margin_forecast:margin_rate"].tolist() == pytest.approx([0.5 * grow, 0.5, 0.25 * grow])

    m = bt.metrics.set_index(["model", "target"])
    assert list(m.index) == [("margin_forecast", "margin"), ("last_periods", "margin"),
                             ("margin_forecast", "margin_rate"), ("last_rate", "margin_rate")]
    assert (bt.metrics["cutoff"] == pd.Timestamp("2021-04-01")).all()
    # last_periods margin: errors 90 - 80 = 10, 40 - 25 = 15, 6 - 0 = 6
    row = m.loc[("last_periods", "margin")]
    assert row["customers"] == 3
    assert row["mae"] == pytest.approx(31 / 3) and row["rmse"] == pytest.approx(np.sqrt((100 + 225 + 36) / 3))
    assert row["predicted"] == 136 and row["actual"] == 105 and row["relative_error"] == pytest.approx(31 / 105)
    # rates, on a and b (c had no revenue in the horizon):
    #   margin_forecast: a 0.5 x grow - 80/150, b 0.5 - 0.3; last_rate: a 0.5 - 80/150, b 0.5 - 0.3
    err_fc = np.array([0.5 * grow - 80 / 150, 0.2])
    err_naive = np.array([0.5 - 80 / 150, 0.2])
    row = m.loc[("margin_forecast", "margin_rate")]
    assert row["customers"] == 2 and row["mae"] == pytest.approx(np.abs(err_fc).mean())
    assert row["rmse"] == pytest.approx(np.sqrt((err_fc ** 2).mean()))
    assert np.isnan(row["predicted"]) and np.isnan(row["relative_error"])
    row = m.loc[("last_rate", "margin_rate")]
    assert row["customers"] == 2 and row["mae"] == pytest.approx(np.abs(err_naive).mean())
    # here the firm's rate rose and so did a's: the rule's error is the smaller
    assert m.loc[("margin_forecast", "margin_rate"), "mae"] < m.loc[("last_rate", "margin_rate"), "mae"]

    # margin_forecast's margin is margin_forecast of the history before the cut-off (only the expenses
    # before it), summed over the two months; judged against the realised 80, 25, 0
    fc = quiet(V.margin_forecast, tm.between(None, "2021-04-01"), "M", 2, expenses=EXPENSES.iloc[:2],
               observation_end=pd.Timestamp("2021-04-01") - pd.Timedelta(1, "ns"))
    want = fc["value"].groupby(level="customer").sum().loc[["a", "b", "c"]].to_numpy()
    assert pred["margin_forecast:margin"].to_numpy() == pytest.approx(want)
    err = want - np.array([80, 25, 0])
    row = m.loc[("margin_forecast", "margin")]
    assert row["mae_mean"] == pytest.approx(np.abs(err).mean()) and row["predicted"] == pytest.approx(want.sum())
    # its mae is that of the projection fed with the chain's median revenue, spread over the months
    end = pd.Timestamp("2021-04-01") - pd.Timedelta(1, "ns")
    st = quiet(V.StateTransitionForecast(period="M", periods=2, observation_end=end).fit, tm.between(None, "2021-04-01"))
    med = quiet(V.margin_forecast, tm.between(None, "2021-04-01"), "M", 2, expenses=EXPENSES.iloc[:2],
                expected_revenue=st.totals(2)["median_value"] / 2, observation_end=end)
    want_med = med["value"].groupby(level="customer").sum().loc[["a", "b", "c"]].to_numpy()
    assert pred["margin_forecast:margin:median"].to_numpy() == pytest.approx(want_med)
    assert row["mae"] == pytest.approx(np.abs(want_med - np.array([80, 25, 0])).mean())
    assert row["relative_error"] == pytest.approx((want.sum() - 105) / 105)
    if not want.any():   # the chain's Gamma-Gamma on two repeat buyers may give no revenue at all: said
        assert any("expected revenue is 0 for every customer" in n for n in bt.notes)


def test_margin_rate_instead_of_costs_and_the_markov_forecast():
    # without costs, margin_rate=0.3 and no expenses: the margin is 0.3 x revenue, so margin_forecast's
    # margin is 0.3 x the Markov chain's value in value.backtest, and every rate is 0.3 (no error)
    tm = quiet(bm.read_csv, SAMPLE, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
               quantity="Quantity", price="UnitPrice", cancellations="drop")
    with pytest.raises(bm.InvalidParameterError, match="margin_backtest needs revenue and product cost.*margin_rate"):
        quiet(V.margin_backtest, tm, ["2011-06-01"])
    cuts = ["2011-06-01", "2011-08-01"]
    mb = quiet(V.margin_backtest, tm, cuts, 3, margin_rate=0.3)
    fb = quiet(V.backtest, tm, cuts, 3, models=("markov", "last_periods"))
    a = mb.predictions.set_index(["cutoff", "customer"])
    b = fb.predictions.set_index(["cutoff", "customer"]).loc[a.index]
    np.testing.assert_allclose(a["actual:margin"], 0.3 * b["actual:value"])
    np.testing.assert_allclose(a["last_periods:margin"], 0.3 * b["last_periods:value"])
    np.testing.assert_allclose(a["margin_forecast:margin"], 0.3 * b["markov:value"])
    rate = mb.metrics[mb.metrics["target"] == "margin_rate"]
    assert (rate["mae"] < 1e-12).all() and (rate["customers"] > 0).all()
    assert len(mb.metrics) == 4 * len(cuts)


# ------------------------------------------------------------------ a drifting firm-wide rate
def _drifting_log(seed, step):
    """24 months; the firm's gross rate moves by ``step`` a month from 0.2 (or 0.55 when falling); each
    customer buys in a month with their own probability, at the firm's rate plus their own offset plus
    noise, so customers come back after 0, 1, 2, ... idle months."""
    rng = np.random.default_rng(seed)
    months = pd.period_range("2020-01", "2021-12", freq="M")
    base = 0.2 if step > 0 else 0.55
    n = 300
    p_buy = rng.uniform(0.08, 0.6, n)
    offset = rng.uniform(-0.05, 0.05, n)
    spend = rng.gamma(2.0, 30.0, n) + 5.0   # each customer's mean amount: Gamma-Gamma needs them to differ
    rows = []
    for k, m in enumerate(months):
        buys = rng.random(n) < p_buy
        for c in np.flatnonzero(buys):
            # one to a few purchase days in an active month (the chain's frequency bands all occur)
            for day in rng.choice(np.arange(1, 29), 1 + min(rng.poisson(0.6), 3), replace=False):
                amount = round(float(rng.gamma(4.0, spend[c] / 4)) + 1.0, 2)
                r = base + step * k + offset[c] + rng.normal(0, 0.01)
                rows.append((f"c{c:03d}", f"{m.year}-{m.month:02d}-{day:02d}", amount, round(amount * (1 - r), 2)))
    rows.append(("c000", "2021-12-31", 10.0, 5.0))   # the log ends with December: its horizons are whole
    df = pd.DataFrame(rows, columns=["c", "t", "v", "cost"])
    return bm.TransactionMatrix.from_purchases(df, "c", "t", "v", cost="cost"), df


@pytest.mark.parametrize("step", [0.012, -0.012], ids=["rising", "falling"])
def test_the_multiplicative_rule_beats_the_unchanged_rate_when_the_firm_rate_drifts(step):
    tm, df = _drifting_log(7, step)
    cuts = ["2021-01-01", "2021-04-01", "2021-07-01"]
    bt = quiet(V.margin_backtest, tm, cuts, 3)
    assert bt.notes == []
    m = bt.metrics.set_index(["cutoff", "model", "target"])
    for cut in map(pd.Timestamp, cuts):
        fc = m.loc[(cut, "margin_forecast", "margin_rate")]
        naive = m.loc[(cut, "last_rate", "margin_rate")]
        assert fc["customers"] == naive["customers"] > 100
        assert fc["mae"] < naive["mae"]
        # the unchanged rate misses by about the drift since the customer's last purchase: a few steps
        assert abs(step) < naive["mae"] < 6 * abs(step)
        # margin_forecast's total margin is of the right size (the chain forecasts revenue)
        assert abs(m.loc[(cut, "margin_forecast", "margin"), "relative_error"]) < 0.5
    pred = bt.predictions
    # active in the last month: both rules give the last rate; idle: the rule moves it with the firm
    busy = pred["idle_periods"] == 0
    np.testing.assert_allclose(pred.loc[busy, "margin_forecast:margin_rate"], pred.loc[busy, "last_rate:margin_rate"])
    idle = pred["idle_periods"] > 0
    assert idle.sum() > 50
    moved = pred.loc[idle, "margin_forecast:margin_rate"] - pred.loc[idle, "last_rate:margin_rate"]
    assert (np.sign(moved) == np.sign(step)).all()
    # the realised horizon (Jan..Mar 2021 for the first cut-off) straight from the log
    first = pred[pred["cutoff"] == pd.Timestamp(cuts[0])].set_index("customer")
    t = pd.to_datetime(df["t"])
    h = df[(t >= "2021-01-01") & (t < "2021-04-01")].groupby("c")[["v", "cost"]].sum()
    h = h[h.index.isin(first.index)]
    np.testing.assert_allclose(first.loc[h.index, "actual:margin"], h["v"] - h["cost"])
    np.testing.assert_allclose(first.loc[h.index, "actual:margin_rate"], (h["v"] - h["cost"]) / h["v"])


# ------------------------------------------------------------------ inputs and warnings
def test_bad_inputs_name_the_parameter():
    tm = _costed_log()
    bad = [
        ({"tm": "not a log", "cutoffs": "2021-04-01"}, "'tm' parameter of margin_backtest"),
        ({"cutoffs": "2021-04-15"}, "'cutoffs' parameter of margin_backtest must hold dates at the start"),
        ({"cutoffs": ["2021-04-01", "2021-05-01"]}, "'cutoffs' parameter .* leave 2 whole periods"),
        ({"cutoffs": "2021-01-01"}, "'cutoffs' parameter .* a whole period with purchases before"),
        ({"cutoffs": []}, "'cutoffs' parameter .* at least one date"),
        ({"cutoffs": "someday"}, "'cutoffs' parameter of margin_backtest must be a date"),
        ({"cutoffs": 5}, "'cutoffs' parameter of margin_backtest must be a date or a list"),
        ({"cutoffs": "2021-04-01", "periods": 0}, "'periods' parameter of margin_backtest"),
        ({"cutoffs": "2021-04-01", "period": "D"}, "'period' parameter of margin_backtest"),
        ({"cutoffs": "2021-04-01", "margin_rate": 1.5}, "'margin_rate' parameter of margin_backtest"),
        ({"cutoffs": "2021-04-01", "expenses": pd.DataFrame({"who": [1]})}, "'expenses' parameter of margin_backtest"),
        ({"cutoffs": "2021-04-01", "expenses": EXPENSES.assign(expense=-1.0)}, "'expenses' parameter .* >= 0"),
    ]
    for kw, msg in bad:
        kw = {"tm": tm, "periods": 2, **kw}
        with pytest.raises(bm.InvalidParameterError, match=msg):
            V.margin_backtest(**kw)


def test_warnings_point_at_the_callers_line():
    netted = quiet(bm.read_csv, SAMPLE, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
                   quantity="Quantity", price="UnitPrice")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        V.margin_backtest(netted, ["2011-06-01"], margin_rate=0.3)
    said = [str(w.message) for w in caught]
    assert any("baskets have no customer" in s for s in said)
    assert any("returns at or after 2011-06-01" in s and "cancellations='drop'" in s for s in said)
    assert all(w.filename == __file__ for w in caught), [(w.filename, str(w.message)[:80]) for w in caught]
    # an expense of a customer who never bought: kept with zero revenue, said once
    ex = pd.DataFrame({"customer": ["nobody"], "time": ["2021-02-01"], "expense": [1.0]})
    with pytest.warns(UserWarning, match="1 customers in 'expenses' have no purchases") as rec:
        V.margin_backtest(_costed_log(), "2021-04-01", 2, expenses=ex)
    assert len(rec) == 1 and rec[0].filename == __file__
