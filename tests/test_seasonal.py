"""The seasonal index against simulated logs with a known calendar effect,
operational time by hand, and the seasonal summary against the plain one."""
import warnings

import numpy as np
import pandas as pd
import pytest

import basketmine as bm
from basketmine import InvalidParameterError

V = bm.value


def month_of(days: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(days.month)


def week_of(days: pd.DatetimeIndex) -> np.ndarray:
    return np.minimum(np.asarray(days.isocalendar().week), 52)


def simulate(seed, season_of, index, n_cust, years, start, mean_rate=0.02, mean_life=600.0,
             acquisition=None):
    """A log of customers acquired over time (a growing stream, optionally
    shaped by ``acquisition`` per day), each buying on a day after their
    first with probability ``rate x index[season of the day]`` (individual
    rates Gamma(2) around ``mean_rate``) until an exponential lifetime ends."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start)
    days = (t0 + pd.DateOffset(years=years) - t0).days
    calendar = pd.date_range(t0, periods=days, freq="D")
    by_day = index[season_of(calendar) - 1]
    w = np.linspace(0.5, 1.5, days) * (1.0 if acquisition is None else acquisition(calendar))
    first = rng.choice(days, n_cust, p=w / w.sum())
    first[0] = 0   # the log starts on the first day
    rate = rng.gamma(2.0, mean_rate / 2.0, n_cust)
    stop = np.minimum(first + np.ceil(rng.exponential(mean_life, n_cust)).astype(int), days - 1)
    n_after = np.maximum(stop - first, 0)
    cust = np.repeat(np.arange(n_cust), n_after)
    day = np.repeat(first, n_after) + np.arange(n_after.sum()) - np.repeat(np.cumsum(n_after) - n_after, n_after) + 1
    buy = rng.random(len(day)) < np.minimum(rate[cust] * by_day[day], 1.0)
    c, d = np.r_[np.arange(n_cust), cust[buy]], np.r_[first, day[buy]]
    # a second basket on some purchase days: still one purchase
    extra = rng.random(len(c)) < 0.1
    c, d = np.r_[c, c[extra]], np.r_[d, d[extra]]
    log = pd.DataFrame({"customer": c,
                        "time": t0 + pd.to_timedelta(d, "D") + pd.to_timedelta(rng.integers(8, 20, len(c)), "h"),
                        "amount": np.round(rng.gamma(2.0, 15.0, len(c)), 2)})
    return bm.TransactionMatrix.from_purchases(log, "customer", "time", "amount"), t0 + pd.Timedelta(days=days - 1)


def relative_error(si, truth):
    return float(np.max(np.abs(si.index.to_numpy() / truth - 1)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_monthly_index_recovered_despite_growth_dropout_and_seasonal_acquisition(seed):
    truth = np.random.default_rng(100 + seed).uniform(0.6, 1.6, 12)
    truth /= truth.mean()
    december_rush = lambda days: 1.0 + 2.0 * (np.asarray(days.month) == 12)   # noqa: E731
    tm, end = simulate(seed, month_of, truth, n_cust=8000, years=3, start="2017-01-01",
                       acquisition=december_rush if seed == 1 else None)
    si = V.seasonal_index(tm, "M", observation_end=end)
    assert si.covered and si.periods == 36 and si.period == "M" and si.observation_end == end
    assert list(si.index.index) == list(range(1, 13)) and si.index.mean() == pytest.approx(1.0)
    assert relative_error(si, truth) < 0.10
    assert si.trend < 1.0   # dropout: the rate per exposed customer-day falls
    assert "36 monthly periods" in si.note


@pytest.mark.parametrize("seed", [0, 1])
def test_weekly_smooth_index_recovered(seed):
    w = np.arange(1, 53)
    truth = 1 + 0.35 * np.sin(2 * np.pi * w / 52) + 0.15 * np.cos(4 * np.pi * w / 52)
    truth /= truth.mean()
    tm, end = simulate(seed, week_of, truth, n_cust=30000, years=4, start="2016-01-04")
    si = V.seasonal_index(tm, "W", observation_end=end)
    assert si.covered and si.periods == 208 and len(si.index) == 52
    assert relative_error(si, truth) < 0.10


def test_week_positions_are_iso_weeks_with_53_counted_as_52():
    si = V.SeasonalIndex(pd.Series(np.arange(1.0, 53.0), index=range(1, 53)), True, "", 0, "W",
                         pd.Timestamp("2020-12-31"))
    days = pd.date_range("2014-12-20", "2021-01-10", freq="D")
    want = np.minimum(np.asarray(days.isocalendar().week), 52)
    np.testing.assert_array_equal(si.at(days.to_numpy()), want.astype(float))
    assert 53 in set(np.asarray(days.isocalendar().week))   # 2015 and 2020 have a week 53


def test_short_history_is_not_covered_and_says_why():
    truth = np.ones(12)
    tm, end = simulate(3, month_of, truth, n_cust=500, years=1, start="2017-01-01")
    si = V.seasonal_index(tm, "M", observation_end="2017-09-15")
    assert not si.covered and si.periods == 8 and si.trend == 1.0
    assert (si.index == 1.0).all() and len(si.index) == 12
    assert si.note == ("the history holds 8 monthly periods before 2017-09-15; a seasonal index needs at "
                       "least 14 (one season of 12 plus 2)")
    sw = V.seasonal_index(tm, "W")   # 2017-01-01 is a Sunday: weeks from 2017-01-02 to 2017-12-25
    assert not sw.covered and sw.periods == 52 and "at least 54 (one season of 52 plus 2)" in sw.note
    # the first and last partial months do not count; 14 whole months do
    tm2, _ = simulate(4, month_of, truth, n_cust=800, years=2, start="2017-01-10")
    assert V.seasonal_index(tm2, "M", observation_end="2018-03-15").periods == 13
    assert V.seasonal_index(tm2, "M", observation_end="2018-03-31").covered


def test_operational_days_by_hand():
    flat = V.SeasonalIndex(pd.Series(1.0, index=range(1, 13)), True, "", 36, "M", pd.Timestamp("2020-12-31"))
    rng = np.random.default_rng(7)
    a = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 10**6, 50), "min")
    b = a + pd.to_timedelta(rng.integers(0, 10**6, 50), "min")
    plain = (b - a) / pd.Timedelta(days=1)
    np.testing.assert_allclose(flat.operational_days(a.to_numpy(), b.to_numpy()), plain, rtol=0, atol=1e-9)
    assert flat.operational_days(pd.Timestamp("2020-02-27"), pd.Timestamp("2020-03-02")) == 4.0
    # a known index across month ends: 2021-01-20 12:00 .. 2021-03-03 06:00
    idx = pd.Series(np.linspace(0.5, 1.6, 12), index=range(1, 13))
    si = V.SeasonalIndex(idx, True, "", 36, "M", pd.Timestamp("2020-12-31"))
    want = 11.5 * idx[1] + 28 * idx[2] + 2.25 * idx[3]
    got = si.operational_days("2021-01-20 12:00", "2021-03-03 06:00")
    assert got == pytest.approx(want, rel=1e-12)
    assert si.operational_days("2021-03-03 06:00", "2021-01-20 12:00") == pytest.approx(-want, rel=1e-12)
    # across a year end and a leap February, vectorised against scalars
    starts = np.array(["2019-12-31", "2020-02-28"], dtype="datetime64[ns]")
    ends = np.array(["2020-01-02", "2020-03-01"], dtype="datetime64[ns]")
    np.testing.assert_allclose(si.operational_days(starts, ends),
                               [idx[12] + idx[1], 2 * idx[2]], rtol=1e-12)
    # weeks: Monday 2021-01-04 is ISO week 1; 10 days from Saturday 2021-01-02 (week 53 -> 52)
    wk = pd.Series(np.arange(1.0, 53.0), index=range(1, 53))
    sw = V.SeasonalIndex(wk, True, "", 104, "W", pd.Timestamp("2020-12-31"))
    assert sw.operational_days("2021-01-02", "2021-01-12") == pytest.approx(2 * 52 + 7 * 1 + 1 * 2)


def test_seasonal_summary_with_ones_equals_summary_and_forecasts():
    truth = np.random.default_rng(5).uniform(0.6, 1.6, 12)
    truth /= truth.mean()
    tm, end = simulate(5, month_of, truth, n_cust=3000, years=2, start="2018-01-01")
    ones = V.SeasonalIndex(pd.Series(1.0, index=range(1, 13)), False, "", 0, "M", end)
    cut = "2019-06-30"
    plain = V.summary(tm, observation_end=cut, freq="D")
    got = V.seasonal_summary(tm, ones, observation_end=cut)
    pd.testing.assert_frame_equal(got[plain.columns], plain, check_dtype=False)
    assert got.attrs["operational"] is True and got.attrs["seasonal_period"] == "M"
    # with the index: recency and T are integrals of it; frequency unchanged
    si = V.seasonal_index(tm, "M", observation_end=cut)
    assert si.covered
    s = V.seasonal_summary(tm, si, observation_end=cut)
    first = plain["first_purchase"].dt.normalize()
    np.testing.assert_allclose(s["T"], si.operational_days(first, pd.Timestamp(cut)), rtol=1e-12)
    assert (s["frequency"] == plain["frequency"]).all()
    model = V.BetaGeo().fit(s)
    c = pd.Timestamp(cut) + pd.Timedelta(days=1)
    ep = model.expected_purchases(si.operational_days(c, c + pd.Timedelta(days=90)), s)
    assert np.isfinite(ep).all() and (ep >= 0).all()


def test_bad_parameters_name_themselves():
    tm, end = simulate(6, month_of, np.ones(12), n_cust=200, years=1, start="2017-01-01")
    with pytest.raises(InvalidParameterError, match="'period' parameter of seasonal_index must be one of 'M', 'W'"):
        V.seasonal_index(tm, "Q")
    with pytest.raises(InvalidParameterError, match="'tm' parameter of seasonal_index"):
        V.seasonal_index(pd.DataFrame(), "M")
    with pytest.raises(InvalidParameterError, match="'observation_end' parameter of seasonal_index"):
        V.seasonal_index(tm, "M", observation_end="not a date")
    with pytest.raises(InvalidParameterError, match="'observation_end' parameter of seasonal_index"):
        V.seasonal_index(tm, "M", observation_end="1990-01-01")
    with pytest.raises(InvalidParameterError, match="'index' parameter of seasonal_summary"):
        V.seasonal_summary(tm, np.ones(12))
    with pytest.raises(InvalidParameterError, match="seasonal_index"):
        V.seasonal_index(tm, "M", "2017-06-30")   # observation_end is keyword-only
    broken = V.SeasonalIndex(pd.Series(1.0, index=range(1, 12)), True, "", 0, "M", end)
    with pytest.raises(InvalidParameterError, match="every season 1..12"):
        broken.operational_days("2017-01-01", "2017-02-01")


def test_guest_baskets_warn_at_the_callers_line():
    df = pd.DataFrame({"b": [1, 2, 3], "i": ["x", "y", "x"], "c": ["a", None, "a"],
                       "t": ["2017-01-02", "2017-01-03", "2017-02-02"]})
    tm = bm.TransactionMatrix.from_frame(df, "b", "i", customer="c", time="t")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        si = V.seasonal_index(tm)
    assert not si.covered and si.periods == 0   # January starts before the log, February is cut
    assert caught and all(w.filename == __file__ for w in caught)


# ------------------------------------------------------------------ the index in the forecasts
def seasonal_log(seed=0, years=2):
    truth = np.array([1.0, 0.9, 0.9, 0.9, 0.8, 0.7, 0.5, 0.6, 0.9, 1.2, 1.6, 2.0])
    truth /= truth.mean()
    return simulate(seed, month_of, truth, n_cust=2500, years=years, start="2017-01-01", mean_rate=0.03)


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


def test_the_chain_follows_the_calendar_in_its_buying_odds():
    tm, end = seasonal_log()
    factors = {}
    for month_end in ("2018-06-30", "2018-11-30"):
        cut = pd.Timestamp(month_end)
        si = V.seasonal_index(tm, "M", observation_end=cut)
        assert si.covered
        plain = quiet(V.StateTransitionForecast(period="M", observation_end=cut).fit, tm)
        cal = quiet(V.StateTransitionForecast(period="M", observation_end=cut, season=si).fit, tm)
        a = plain.forecast(1)["probability_active"].to_numpy()
        b = cal.forecast(1)["probability_active"].to_numpy()
        ok = (a > 0) & (a < 1)
        ratio = (b[ok] / (1 - b[ok])) / (a[ok] / (1 - a[ok]))
        # one factor for every customer: the next month's index over the history's mean index
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
        factors[month_end] = ratio[0]
    # July is quiet and December busy in the simulated calendar
    assert factors["2018-06-30"] < 1 < factors["2018-11-30"]
    # an index of another period is refused; one that is not covered changes nothing
    si_w = V.seasonal_index(tm, "W", observation_end=end)
    with pytest.raises(InvalidParameterError, match="'season' parameter of StateTransitionForecast"):
        V.StateTransitionForecast(period="M", season=si_w).fit(tm)
    short = V.seasonal_index(tm, "M", observation_end="2017-09-30")
    assert not short.covered
    a = quiet(V.StateTransitionForecast(period="M", observation_end="2017-09-30").fit, tm).forecast(2)
    b = quiet(V.StateTransitionForecast(period="M", observation_end="2017-09-30", season=short).fit, tm).forecast(2)
    pd.testing.assert_frame_equal(a, b)


def test_backtest_applies_the_calendar_where_the_history_covers_a_season():
    tm, end = seasonal_log()
    models = ("markov", "bgnbd", "last_periods")
    on = quiet(V.backtest, tm, ["2018-10-01"], 3, models=models)
    off = quiet(V.backtest, tm, ["2018-10-01"], 3, models=models, seasonal=False)
    # the calendar reaches the models it changes, not the naive answer
    assert (on.metrics["seasonal"] == on.metrics["model"].isin(["markov", "bgnbd"])).all()
    assert not off.metrics["seasonal"].any()
    assert not any("calendar" in n for n in on.notes)
    # the autumn rise is forecast: the totals of purchases and active periods come closer
    def err(bt, model, target):
        m = bt.metrics.set_index(["model", "target"])
        return abs(m.loc[(model, target), "relative_error"])
    assert err(on, "bgnbd", "purchases") < err(off, "bgnbd", "purchases")
    assert err(on, "markov", "active_periods") < err(off, "markov", "active_periods")
    # the naive answer does not change
    pd.testing.assert_series_equal(on.predictions["last_periods:value"], off.predictions["last_periods:value"])
    # a history shorter than a season: said in the notes, the models run without it
    short = quiet(V.backtest, tm, ["2017-10-01"], 3, models=models)
    assert not short.metrics["seasonal"].any()
    assert any(n.startswith("at 2017-10-01: no calendar effect") and "needs at least 14" in n for n in short.notes)
