"""The model types on one split: the feature builder against a loop twin and
a leakage check, the recommender's pieces against brute force, metrics
against their textbook definitions, the comparison table, bad input."""
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import basketmine as bm
from basketmine import _reference as ref
from basketmine.models import _recommend as R

from conftest import DATASETS, shared

M = bm.models
SAMPLE = DATASETS / "online_retail" / "online_retail_sample.csv.gz"
CUT = "2011-09-01"
# backtests at a past cut-off drop returns: netting (the default) would set returns made after the
# cut-off against purchases before it (see test_netted_returns_after_the_cutoff_are_warned_of)
COLS = dict(customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice",
            cancellations="drop")


def read(path=SAMPLE, df=None):
    if df is not None:
        return bm.TransactionMatrix.from_frame(df, "InvoiceNo", "StockCode", **COLS)
    return bm.read_csv(path, "InvoiceNo", "StockCode", **COLS)


@pytest.fixture(scope="module")
def frame():
    return pd.read_csv(SAMPLE, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str})


@pytest.fixture(scope="module")
def tm():
    return read()


@pytest.fixture(scope="module")
def feats(tm):
    return M.features(tm, CUT, horizon="90D")


# ------------------------------------------------------------- features
def test_customer_features_equal_loop_twin(tm, feats):
    twin = ref.customer_features_loop(tm, CUT)
    got = feats.customers.loc[twin.index, twin.columns]
    assert list(feats.customers.index) == list(twin.index)
    pd.testing.assert_frame_equal(got.astype(float), twin.astype(float), check_names=False, rtol=1e-9)


def test_summary_columns_equal_value_summary(tm, feats):
    cal = feats.split.calibration
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        s = bm.value.summary(cal, observation_end="2011-08-31")
    # T counts to the cut-off day; the summary ending the day before counts one day less
    pd.testing.assert_series_equal(feats.customers["frequency"], s["frequency"].reindex(feats.customers.index),
                                   check_dtype=False, check_names=False)
    np.testing.assert_allclose(feats.customers["recency"], s["recency"].reindex(feats.customers.index))
    np.testing.assert_allclose(feats.customers["T"], s["T"].reindex(feats.customers.index) + 1)


def test_no_leakage_from_the_holdout(frame, feats):
    """Rewriting every row after the cut-off changes no feature, only the targets."""
    df = frame.copy()
    t = pd.to_datetime(df["InvoiceDate"])
    after = (t >= pd.Timestamp(CUT)).to_numpy()
    rng = np.random.default_rng(0)
    df.loc[after, "StockCode"] = rng.permutation(df.loc[after, "StockCode"].to_numpy())
    df.loc[after, "Quantity"] = df.loc[after, "Quantity"] * 3
    df.loc[after, "UnitPrice"] = df.loc[after, "UnitPrice"] + 1.0
    extra = df[after].head(50).assign(InvoiceNo=lambda d: "X" + d["InvoiceNo"].astype(str))
    df = pd.concat([df, extra], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        f2 = M.features(read(df=df), CUT, horizon="90D")
    pd.testing.assert_frame_equal(feats.customers, f2.customers)
    pd.testing.assert_frame_equal(feats.series, f2.series)
    def pairs(f):  # unit codes depend on the whole vocabulary; compare labels
        return f.history.pairs.assign(unit=f.history.units[f.history.pairs["unit"]])
    pd.testing.assert_frame_equal(pairs(feats), pairs(f2))
    # the targets did see the change: the test is not vacuous
    assert not feats.targets["holdout_spend"].equals(f2.targets["holdout_spend"])
    assert not feats.holdout_pairs.reset_index(drop=True).equals(f2.holdout_pairs.reset_index(drop=True))


def test_targets_count_holdout_purchases(tm, feats):
    hold = feats.split.holdout
    lab = hold.customer_labels
    active = {lab[c] for c in hold.customer_codes if c >= 0} & set(feats.customers.index)
    assert set(feats.targets.index[feats.targets["active"]]) == active
    assert feats.attrs["new_customers"] == len({lab[c] for c in hold.customer_codes if c >= 0} - active)
    pairs = set(zip(feats.holdout_pairs["customer"], feats.holdout_pairs["unit"]))
    brute = set()
    for b in range(hold.n_baskets):
        c = hold.customer_codes[b]
        if c >= 0 and lab[c] in active:
            for i in hold.indices[hold.indptr[b]:hold.indptr[b + 1]]:
                brute.add((lab[c], hold.labels[i]))
    assert pairs == brute


def test_series_matrix_sums_to_lines(feats):
    wide = feats.series_matrix("baskets")
    assert int(wide.to_numpy().sum()) == feats.split.calibration.nnz
    assert wide.index.is_monotonic_increasing


def test_category_level(tm):
    hierarchy = {i: str(i)[:3] for i in tm.labels}
    f = M.features(tm, CUT, level="category", hierarchy=hierarchy)
    assert set(f.series["unit"]) <= set(hierarchy.values())
    with pytest.raises(bm.InvalidParameterError, match="'hierarchy' parameter of features"):
        M.features(tm, CUT, level="category")


# ------------------------------------------------------------- pieces
@pytest.mark.parametrize("positive", [True, False])
def test_top_per_csr_row_equals_sorting(positive):
    rng = np.random.default_rng(1)
    for _ in range(5):
        dense = rng.integers(-2, 5, (20, 50)).astype(float) * (rng.random((20, 50)) < 0.3)
        M = sp.csr_matrix(dense)
        r, c, v = R._top_per_csr_row(M, 3, positive=positive)
        assert np.all(np.diff(r) >= 0)
        got = set(zip(r.tolist(), c.tolist()))
        want = set()
        for row in range(M.shape[0]):
            cols = M[row].indices
            vals = M[row].toarray().ravel()[cols]
            top = sorted(zip(-vals, cols))[:3]
            want |= {(row, int(cc)) for mv, cc in top if not positive or -mv > 0}
        assert got == want
        np.testing.assert_array_equal(v, dense[r, c])


def test_pair_lookup_equals_indexing():
    rng = np.random.default_rng(2)
    dense = rng.random((30, 40)) * (rng.random((30, 40)) < 0.2)
    rows, cols = rng.integers(0, 30, 300), rng.integers(0, 40, 300)
    np.testing.assert_array_equal(R._pair_lookup(sp.csr_matrix(dense), rows, cols), dense[rows, cols])


def test_cooccurrence_equals_brute_force():
    rng = np.random.default_rng(2)
    lines = []
    for c in range(40):
        for _ in range(rng.integers(1, 4)):
            day = f"2011-01-{rng.integers(1, 28):02d}"
            for i in rng.choice(15, rng.integers(1, 5), replace=False):
                lines.append((f"{c}-{day}", f"i{i:02d}", c, day))
    df = pd.DataFrame(lines, columns=["b", "item", "c", "t"])
    tm = bm.TransactionMatrix.from_frame(df, "b", "item", customer="c", time="t")
    src = R._Sources(tm, pd.Timestamp("2011-02-01"), pd.Timedelta("30D"),
                     R.Recommender(n_neighbors=4, n_cooccurrence=1000)._params())
    got = src.cooccurrence()
    custs = {}
    for c, u in zip(src.hist.pairs["customer"], src.hist.pairs["unit"]):
        custs.setdefault(int(c), set()).add(int(u))
    want = ref.cooccurrence_scores(custs, 4)
    gd = {(int(c), int(u)): v for c, u, v in zip(got["customer"], got["unit"], got["cooc"])}
    wd = {(c, u): v for c, sc in want.items() for u, v in sc.items()}
    assert gd.keys() == wd.keys()
    np.testing.assert_allclose([gd[k] for k in sorted(gd)], [wd[k] for k in sorted(wd)])


def test_metrics_equal_textbook_twin():
    rng = np.random.default_rng(3)
    recs, rel, rows, truth = {}, {}, [], []
    for c in range(60):
        ranked = list(rng.choice(30, 10, replace=False))
        recs[c] = ranked
        rows += [(c, r + 1, it) for r, it in enumerate(ranked)]
        bought = set(rng.choice(30, rng.integers(0, 8), replace=False).tolist())
        rel[c] = bought
        truth += [(c, it, 1.0, False) for it in bought]
    got = M.evaluate_recommendations(pd.DataFrame(rows, columns=["customer", "rank", "item"]),
                                     pd.DataFrame(truth, columns=["customer", "item", "days", "bought_before"]),
                                     5, customers=list(rel))
    want = ref.ranking_metrics(recs, rel, 5)
    for m in want:
        assert got[m] == pytest.approx(want[m], nan_ok=True)
    assert got["phr"] == got["hit_rate"]


def random_holdout(seed, n_customers=60, n_items=30):
    """Seeded recommendations and holdout: (twin inputs, recs frame, truth frame).

    Customers by ``c % 6``: no relevant item, only repeat, only explore,
    mixed; some without recommendations or with short lists; a few
    recommended and bought but not judged; probabilities with ties and
    gaps, timings with gaps."""
    rng = np.random.default_rng(seed)
    recs, rel, before, prob = {}, {}, {}, {}
    rows, truth = [], []
    for c in range(n_customers + 5):
        before[c] = set(rng.choice(n_items, rng.integers(0, 14), replace=False).tolist())
        n_recs = 0 if c % 11 == 3 else int(rng.integers(1, 11)) if c % 4 == 1 else 10
        ranked = [int(i) for i in rng.choice(n_items, n_recs, replace=False)]
        recs[c] = ranked
        for r, it in enumerate(ranked, 1):
            p = np.nan if rng.random() < 0.1 else round(float(rng.random()), 1)
            prob[c, it] = p
            days = np.nan if rng.random() < 0.2 else float(rng.integers(0, 90))
            rows.append((c, r, it, it in before[c], p, days))
        # half of the holdout from the list, so that there are hits
        pool = list(set(ranked[:6]) | set(rng.choice(n_items, 8, replace=False).tolist()))
        bought = {int(i) for i in rng.choice(pool, rng.integers(0, min(8, len(pool)) + 1), replace=False)}
        kind = c % 6
        if kind == 0:
            bought = set()
        elif kind == 1:
            bought = (bought & before[c]) or set(list(before[c])[:2])
        elif kind == 2:
            bought -= before[c]
        if c < n_customers:
            rel[c] = bought
        truth += [(c, it, float(rng.integers(1, 90)), it in before[c]) for it in bought]
    frame = pd.DataFrame(rows, columns=["customer", "rank", "item", "bought_before", "probability",
                                        "expected_days"]).sample(frac=1.0, random_state=seed)
    truth = pd.DataFrame(truth, columns=["customer", "unit", "days", "bought_before"])
    return recs, rel, before, prob, frame, truth


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_nbr_reality_check_metrics_equal_textbook_twin(seed):
    recs, rel, before, prob, frame, truth = random_holdout(seed)
    kinds = {"repeat only": 0, "explore only": 0, "none": 0}
    for c, r in rel.items():
        kinds["none"] += not r
        kinds["repeat only"] += bool(r) and r <= before[c]
        kinds["explore only"] += bool(r) and not (r & before[c])
    assert min(kinds.values()) > 0
    for k in (3, 10):
        for new_only in (False, True):
            judged = {c: {i for i in r if not new_only or i not in before[c]} for c, r in rel.items()}
            want = ref.ranking_metrics(recs, judged, k, bought_before=before, probability=prob)
            got = M.evaluate_recommendations(frame, truth, k, new_only=new_only, customers=list(rel))
            for m in want:
                assert got[m] == pytest.approx(want[m], nan_ok=True), (k, new_only, m)
            assert got["brier_skill"] == pytest.approx(1 - want["brier"] / want["brier_base_rate"])
            assert got["phr"] == got["hit_rate"]
            assert got["customers"] == len(rel)
            assert got["customers_with_relevant"] == sum(bool(r) for r in judged.values())
            if new_only:
                # every relevant item is an explore item: no repeat hit
                assert np.isnan(got["recall_repeat"])
                assert np.isnan(got["hit_repeat_share"]) or got["hit_repeat_share"] == 0
                assert got["recall_explore"] == pytest.approx(got["recall"])
    # the split needs bought_before on both sides, Brier a probability
    plain = M.evaluate_recommendations(frame.drop(columns=["bought_before", "probability"]), truth, 10,
                                       customers=list(rel))
    no_truth_flag = M.evaluate_recommendations(frame, truth.drop(columns="bought_before"), 10, customers=list(rel))
    split = ["repeat_share", "hit_repeat_share", "recall_repeat", "recall_explore"]
    brier = ["brier", "brier_base_rate", "brier_skill"]
    assert plain[split + brier].isna().all() and no_truth_flag[split].isna().all()
    assert no_truth_flag[brier].notna().all()
    full = M.evaluate_recommendations(frame, truth, 10, customers=list(rel))
    kept = ["hit_rate", "precision", "recall", "map", "ndcg", "phr"]
    pd.testing.assert_series_equal(plain[kept], full[kept])


def test_brier_metrics_of_perfect_and_constant_forecasts():
    recs = pd.DataFrame({"customer": [1, 1, 2, 2], "rank": [1, 2, 1, 2], "item": ["a", "b", "a", "c"]})
    truth = pd.DataFrame({"customer": [1, 2], "item": ["a", "c"]})
    perfect = M.evaluate_recommendations(recs.assign(probability=[1.0, 0.0, 0.0, 1.0]), truth)
    assert perfect["brier"] == 0 and perfect["brier_base_rate"] == 0.25 and perfect["brier_skill"] == 1
    const = M.evaluate_recommendations(recs.assign(probability=0.5), truth)
    assert const["brier"] == const["brier_base_rate"] == 0.25 and const["brier_skill"] == 0
    with pytest.raises(bm.InvalidParameterError, match="probability"):
        M.evaluate_recommendations(recs.assign(probability=[2.0, 0.1, 0.1, 0.1]), truth)


def hand_calibration(recs, rel, prob, timing, days, k, bins):
    """Calibration bins by counting: (bin -> [n, sum p, hits, expected days, days])."""
    judged = [(prob[c, i], i in r, c, i) for c, r in rel.items() for i in recs.get(c, [])[:k]
              if not np.isnan(prob[c, i])]
    table = {}
    for p, h, c, i in judged:
        below = sum(q < p for q, *_ in judged)
        b = 1 + below * bins // len(judged)
        t = table.setdefault(b, [0, 0.0, 0, [], []])
        t[0] += 1
        t[1] += p
        t[2] += h
        if h and not np.isnan(timing[c, i]):
            t[3].append(timing[c, i])
            t[4].append(days[c, i])
    return len(judged), table


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_calibration_table_metric_equals_a_hand_count(seed):
    recs, rel, before, prob, frame, truth = random_holdout(seed)
    timing = {(c, i): d for c, i, d in zip(frame["customer"], frame["item"], frame["expected_days"])}
    days = {(c, i): d for c, i, d in zip(truth["customer"], truth["unit"], truth["days"])}
    for k, bins in ((10, 10), (4, 7), (10, 1)):
        tab = M.calibration_table(frame, truth, k, customers=list(rel), bins=bins)
        assert list(tab.columns) == ["bin", "n", "mean_probability", "observed_rate", "mean_expected_days",
                                     "mean_days"]
        n, want = hand_calibration(recs, rel, prob, timing, days, k, bins)
        assert tab["n"].sum() == n
        assert tab["bin"].tolist() == sorted(want) and tab["bin"].between(1, bins).all()
        for row in tab.itertuples():
            cnt, psum, hits, te, td = want[row.bin]
            assert row.n == cnt
            assert row.mean_probability == pytest.approx(psum / cnt)
            assert row.observed_rate == pytest.approx(hits / cnt)
            assert row.mean_expected_days == pytest.approx(np.mean(te) if te else np.nan, nan_ok=True)
            assert row.mean_days == pytest.approx(np.mean(td) if td else np.nan, nan_ok=True)
        # ties share a bin whatever the row order; the bins' hits are the Brier rows' hits
        again = M.calibration_table(frame.iloc[::-1], truth, k, customers=list(rel), bins=bins)
        pd.testing.assert_frame_equal(tab, again)
        s = M.evaluate_recommendations(frame, truth, k, customers=list(rel))
        rate = (tab["observed_rate"] * tab["n"]).sum() / n
        assert s["brier_base_rate"] == pytest.approx(rate * (1 - rate))


def test_calibration_table_metric_bins_hold_equal_counts_without_ties():
    rng = np.random.default_rng(5)
    recs = pd.DataFrame({"customer": np.repeat(np.arange(50), 4), "rank": np.tile([1, 2, 3, 4], 50),
                         "item": rng.integers(0, 20, 200), "probability": rng.permutation(200) / 200})
    recs = recs.drop_duplicates(["customer", "item"])
    truth = pd.DataFrame({"customer": np.arange(50), "item": rng.integers(0, 20, 50)})
    tab = M.calibration_table(recs, truth, bins=8)
    assert list(tab.columns) == ["bin", "n", "mean_probability", "observed_rate"]
    assert tab["n"].sum() == len(recs) and tab["n"].max() - tab["n"].min() <= 1 and len(tab) == 8
    assert tab["mean_probability"].is_monotonic_increasing
    with pytest.raises(bm.InvalidParameterError, match="probability"):
        M.calibration_table(recs.drop(columns="probability"), truth)
    with pytest.raises(bm.InvalidParameterError, match="bins"):
        M.calibration_table(recs, truth, bins=0)
    empty = M.calibration_table(recs.assign(probability=np.nan), truth)
    assert len(empty) == 0 and list(empty.columns) == ["bin", "n", "mean_probability", "observed_rate"]


# ------------------------------------------------------------- recommend
@pytest.fixture(scope="module")
def recommender(tm):
    return M.Recommender("90D").fit(tm, CUT)


def test_recommend_shape_reasons_timing(recommender):
    recs = recommender.recommend(k=5)
    n = len(recommender.sources_.hist.customers)
    assert recs.groupby("customer").size().eq(5).all() and recs["customer"].nunique() == n
    assert recs.groupby("customer")["rank"].apply(lambda r: list(r) == list(range(1, 6))).all()
    assert recs["reason"].str.len().gt(0).all()
    assert recs["expected_days"].between(0, 90).all()
    assert set(recs["timing"]) <= {"follow-up lag", "repeat interval", "BG/NBD"}
    again = recommender.recommend(k=5)
    pd.testing.assert_frame_equal(recs, again)


def test_diversity_zero_keeps_the_ranker_order(recommender):
    before = recommender.diversity
    try:
        recommender.diversity = 0.0
        recs = recommender.recommend(k=5)
    finally:
        recommender.diversity = before
    assert recs.groupby("customer")["score"].apply(lambda s: s.is_monotonic_decreasing).all()


def test_diversify_equals_greedy_twin():
    rng = np.random.default_rng(4)
    lines = []
    for c in range(30):
        for i in rng.choice(12, rng.integers(2, 7), replace=False):
            lines.append((f"b{c}", f"i{i:02d}", c, "2011-01-05"))
    tm = bm.TransactionMatrix.from_frame(pd.DataFrame(lines, columns=["b", "item", "c", "t"]), "b", "item",
                                         customer="c", time="t")
    src = R._Sources(tm, pd.Timestamp("2011-02-01"), pd.Timedelta("30D"), R.Recommender()._params())
    cand = pd.DataFrame({"customer": np.repeat([0, 1], 12), "unit": np.tile(np.arange(12), 2),
                         "score": rng.random(24)})
    got = R._diversify(cand, src, 5, 0.7)
    B = src.hist.matrix.toarray() > 0
    n = B.sum(0)

    def sim(i, j):
        return (B[:, i] & B[:, j]).sum() / np.sqrt(n[i] * n[j]) if n[i] and n[j] else 0.0
    for c in (0, 1):
        g = cand[cand["customer"] == c].sort_values(["score", "unit"], ascending=[False, True])
        items = g["unit"].tolist()
        want = ref.mmr_order(items, dict(zip(g["unit"], g["score"])), sim, 5, 0.7)
        mine = got[got["customer"] == c].sort_values("_order")["unit"].tolist()[:5]
        assert mine == want


def test_exclude_purchased_gives_only_new_items(recommender, feats):
    recs = recommender.recommend(k=10, exclude_purchased=True)
    bought = set(zip(feats.history.customers[feats.history.pairs["customer"]],
                     feats.history.units[feats.history.pairs["unit"]]))
    assert not recs["bought_before"].any()
    assert not any((c, i) in bought for c, i in zip(recs["customer"], recs["item"]))


def _boundary_log(seed=0):
    """Twenty customers buying from ten items weekly; customer c0 buys item
    'edge' one minute before the as-of time."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2011-01-03")
    for c in range(20):
        for w in range(20):
            if rng.random() < 0.6:
                t = start + pd.Timedelta(days=7 * w + int(rng.integers(0, 7)), hours=10)
                for it in rng.choice(10, int(rng.integers(1, 4)), replace=False):
                    rows.append((f"b{c}-{w}", f"i{it}", f"c{c}", t))
    asof = start + pd.Timedelta(days=7 * 20)
    for c in range(1, 12):  # many customers buy 'edge': a strong candidate for c0
        rows.append((f"e{c}", "edge", f"c{c}", asof - pd.Timedelta(days=3 + c)))
    rows.append(("last", "edge", "c0", asof - pd.Timedelta(minutes=1)))
    rows.append(("after", "i1", "c0", asof + pd.Timedelta(days=2)))
    df = pd.DataFrame(rows, columns=["basket", "item", "customer", "time"])
    return bm.TransactionMatrix.from_frame(df, "basket", "item", customer="customer", time="time"), asof


def test_exclude_purchased_at_the_cut_off_boundary():
    """An item bought one minute before the as-of time is bought before:
    never a "new" recommendation, but still a candidate for repeat."""
    log, asof = _boundary_log()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rec = M.Recommender("14D").fit(log, asof)
    new = rec.recommend(["c0"], k=20, exclude_purchased=True)
    assert "edge" not in set(new["item"])
    assert not new["bought_before"].any()
    anyr = rec.recommend(["c0"], k=20)
    assert anyr.set_index("item").loc["edge", "bought_before"]
    # and the one after the as-of time is not known
    hist = rec.sources_.hist
    assert hist.asof == asof and (hist.pairs["last_days"] > 0).all()


@pytest.mark.parametrize("days", [10, 35, 75])
def test_recommend_from_a_short_log(tm, days):
    """From the first days of a log: sources needing more history are
    skipped with one warning each, the rest still recommends."""
    first = pd.Timestamp(tm.times.min())
    asof = first + pd.Timedelta(days=days)
    with pytest.warns(UserWarning) as caught:
        rec = M.Recommender("90D").fit(tm, asof)
    notes = rec.notes_
    assert any("follow_ups" in n for n in notes)
    if days < 28:
        assert any("too little history to learn a ranker" in n for n in notes)
        assert rec.models_["any"] is None
    else:
        assert any("window instead of 90 days" in n for n in notes)
    msgs = [str(w.message) for w in caught if "Recommender.fit" in str(w.message)]
    assert len(msgs) == len(set(msgs)) == len(notes)
    recs = rec.recommend(k=5)
    assert recs["customer"].nunique() == len(rec.sources_.hist.customers)
    assert recs.attrs["notes"] == notes
    new = rec.recommend(k=5, exclude_purchased=True)
    assert not new["bought_before"].any()


def test_recommend_from_a_single_basket():
    """One basket: the default as-of time (just after it) keeps it, and the
    recommender answers without a ranker, saying so."""
    df = pd.DataFrame({"b": ["1", "1"], "i": ["a", "b"], "c": ["x", "x"], "t": ["2011-01-01 10:00"] * 2})
    one = bm.TransactionMatrix.from_frame(df, "b", "i", customer="c", time="t")
    with pytest.warns(UserWarning, match="too little history"):
        recs = bm.recommend(one)
    assert sorted(recs["item"]) == ["a", "b"] and recs["bought_before"].all()
    assert recs["probability"].isna().all()


def test_recommend_before_the_log_is_a_clear_error(tm):
    with pytest.raises(bm.InvalidParameterError, match="asof.*first basket"):
        M.Recommender("90D").fit(tm, "2000-01-01")


def test_probability_is_calibrated_on_the_training_window(recommender, feats):
    recs = recommender.recommend(k=10)
    assert recs["probability"].between(0, 1).all()
    cal = recs.attrs["calibration"]
    assert list(cal.columns) == ["n", "mean_probability", "observed_rate"]
    assert cal["n"].sum() > 0
    # calibrated where it was fitted: the weighted means agree overall
    assert abs(np.average(cal["mean_probability"], weights=cal["n"])
               - np.average(cal["observed_rate"], weights=cal["n"])) < 0.05


@pytest.mark.parametrize("kind", ["tifu_knn", "up_cf"])
def test_next_basket_baselines_equal_their_scorers(tm, kind):
    """baseline_recommendations' TIFU-KNN / UP-CF@r lists are the scorers' own top k."""
    from basketmine.models import _nbr
    recs = M.baseline_recommendations(tm, kind, k=5, asof=CUT)
    src = R._Sources(tm.between(None, pd.Timestamp(CUT)), pd.Timestamp(CUT), pd.Timedelta("90D"),
                     M.Recommender()._params())
    row, times, indptr, indices = src._basket_arrays()
    fn = _nbr.tifu_knn if kind == "tifu_knn" else _nbr.up_cf
    want = fn(row, times, indptr, indices, src.n_cust, tm.n_items, 5)
    want = want.assign(customer=src.hist.customers[want["customer"]], item=tm.labels[want["unit"]])
    got = recs.merge(want, on=["customer", "rank"], suffixes=("", "_want"))
    assert len(got) == len(want)
    assert (got["item"] == got["item_want"]).all()


def test_recommend_function_matches_class(tm, monkeypatch, capsys):
    monkeypatch.setattr("basketmine._progress.DELAY", 0)
    recs = bm.recommend(tm, customers=["12407", "12427"], k=3, asof=CUT)
    assert capsys.readouterr().err == ""  # progress is off unless asked for
    assert list(recs["customer"].unique()) == ["12407", "12427"] and len(recs) == 6
    by_class = M.Recommender("90D").fit(tm, CUT).recommend(["12407", "12427"], k=3)
    pd.testing.assert_frame_equal(recs, by_class)



def test_unknown_customer_warns(recommender):
    with pytest.warns(UserWarning, match="no purchase before"):
        recs = recommender.recommend(["12407", "nobody"], k=2)
    assert list(recs["customer"].unique()) == ["12407"]


def test_netted_returns_after_the_cutoff_are_warned_of(frame):
    netted = bm.TransactionMatrix.from_frame(frame, "InvoiceNo", "StockCode", **{**COLS, "cancellations": "net"})
    t = pd.to_datetime(frame["InvoiceDate"])
    q = frame["Quantity"]
    # the returns after the cut-off of an item the customer bought before it
    before = frame[(t < pd.Timestamp(CUT)) & (q > 0)][["CustomerID", "StockCode"]].drop_duplicates()
    late = frame[(t >= pd.Timestamp(CUT)) & (q < 0)].merge(before, on=["CustomerID", "StockCode"])
    n = netted.report.returns_netted_after(CUT)
    assert 0 < n <= len(late)
    with pytest.warns(UserWarning, match=f"{n:,} returns at or after 2011-09-01 .*cancellations='drop'"):
        M.temporal_split(netted, CUT, "90D")
    dropped = bm.TransactionMatrix.from_frame(frame, "InvoiceNo", "StockCode", **COLS)
    assert dropped.report.returns_netted_after(CUT) == 0


def test_no_candidate_source_sees_the_holdout(frame, tm):
    """Candidates as of the cut-off are the same whatever happens after it."""
    df = frame.copy()
    after = (pd.to_datetime(df["InvoiceDate"]) >= pd.Timestamp(CUT)).to_numpy()
    df.loc[after, "StockCode"] = np.random.default_rng(5).permutation(df.loc[after, "StockCode"].to_numpy())
    p = R.Recommender()._params()
    a = R._Sources(tm.between(None, CUT), pd.Timestamp(CUT), pd.Timedelta("90D"), p).candidates(R.METHODS)
    tm2 = read(df=df)
    b = R._Sources(tm2.between(None, CUT), pd.Timestamp(CUT), pd.Timedelta("90D"), p).candidates(R.METHODS)
    a["unit"], b["unit"] = tm.labels[a["unit"]], tm2.labels[b["unit"]]
    for col in ("fu_from", "ar_from"):
        a[col] = [tm.labels[int(x)] if x == x else None for x in a[col]]
        b[col] = [tm2.labels[int(x)] if x == x else None for x in b[col]]
    pd.testing.assert_frame_equal(a, b)


def test_baselines_rank_as_documented(tm):
    pop = M.baseline_recommendations(tm, "popularity", 5, asof=CUT)
    # any item: everyone gets the same five, the items most customers bought in the last horizon
    lists = pop.groupby("customer")["item"].apply(tuple)
    assert lists.nunique() == 1 and len(lists.iloc[0]) == 5
    f90 = M.features(tm, CUT)
    recent = f90.history.pairs[f90.history.pairs["last_days"] <= 90]
    buyers = recent.groupby("unit").size().sort_values(ascending=False, kind="stable")
    assert set(lists.iloc[0]) <= set(f90.history.units[buyers.index[:8]])
    assert f90.history.units[buyers.index[0]] == lists.iloc[0][0]
    rep = M.baseline_recommendations(tm, "repeat", 3, asof=CUT, customers=["12407"])
    f = M.features(tm, CUT)
    h = f.history
    mine = h.pairs[h.customers[h.pairs["customer"]] == "12407"]
    top = mine.sort_values("baskets", ascending=False)["baskets"].to_numpy()[:3]
    got = [mine.set_index(h.units[mine["unit"]]).loc[i, "baskets"] for i in rep["item"]]
    assert got == list(top)


def test_recommender_beats_baselines_for_new_items_on_full_retail():
    """On the full Online Retail, new items only: the learned ranker's
    recall and NDCG above every baseline's, no leak (measured at more
    cut-offs by benchmarks/bench_recommend.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tm = read(shared("online_retail", "online_retail.csv.gz"))
    tab = M.recommendation_benchmark(tm, CUT, baselines=("popularity", "cooccurrence", "tifu_knn", "up_cf"))
    new = tab[tab["mode"] == "new"]
    assert tab.attrs["customers"] == 1864
    for metric in ("recall", "ndcg"):
        v = new[new["metric"] == metric].set_index("model")["value"]
        assert v["recommender"] > v.drop("recommender").max()
    assert new[(new["model"] == "recommender") & (new["metric"] == "leaks")]["value"].item() == 0


# ------------------------------------------------------------- compare
def test_compare_table(tm, monkeypatch, capsys):
    monkeypatch.setattr("basketmine._progress.DELAY", 0)  # show the bar at once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cmp = bm.compare(tm, CUT, horizon="91D", progress=True)   # September to November: three whole months
    bar = capsys.readouterr().err
    assert "compare:" in bar and "7/7, sequence discovery" in bar  # one step per model type, after features
    t = cmp.table
    assert list(t.columns) == ["model_type", "model", "metric", "value", "baseline", "baseline_value",
                               "fit_seconds", "note"]
    assert list(dict.fromkeys(t["model_type"])) == list(M.MODEL_TYPES)
    skipped = t[t["metric"] == "skipped"]
    assert skipped["note"].str.contains("two seasons").any()
    real = t[t["metric"] != "skipped"]
    assert real["value"].notna().all()
    auc = real[real["metric"] == "auc"]["value"]
    assert ((auc > 0.5) & (auc <= 1)).all()
    assert {"churn_roc", "spend", "forecasts", "segments", "recommendations", "unit_auc"} <= set(cmp.plots)
    unit = real[real["model"].str.contains("buys item X")]
    assert len(unit) == 2 and unit["value"].between(0, 1).all()
    assert cmp.plots["unit_auc"].shape == (5, 3)
    prof = cmp.plots["segments"]["profile"]
    assert prof["customers"].sum() == len(cmp.features.customers)
    # the value module's forecasts: one value.backtest over the three months, the numbers of a direct call
    assert t.attrs["backtest"] == {"period": "M", "periods": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        bt = bm.value.backtest(tm, [CUT], 3, period="M")
    # nine months of history: no calendar effect, and the note says so (on every value.backtest row)
    assert len(bt.notes) == 1 and bt.notes[0].startswith("at 2011-09-01: no calendar effect")
    m = bt.metrics.set_index(["model", "target"])
    names = {"markov": "Markov chain (value.backtest)", "bgnbd": "BG/NBD x Gamma-Gamma (value.backtest)",
             "pareto_nbd": "Pareto/NBD x Gamma-Gamma (value.backtest)"}
    rows = t[t["model"].str.endswith("(value.backtest)")]
    assert (rows["baseline"] == "last periods again").all() and (rows["note"] == bt.notes[0]).all()
    expected = []
    for key, name in names.items():
        expected += [("regression", name, "mae", key, "value", "mae"),
                     ("regression", name, "rmse", key, "value", "rmse")]
        if key == "markov":
            expected.append(("regression", name, "mae (active periods)", key, "active_periods", "mae"))
    for key, name in names.items():
        expected += [("time series", name, "total relative error (purchases)", key, "purchases", "relative_error"),
                     ("time series", name, "total relative error (value)", key, "value", "relative_error")]
    assert list(zip(rows["model_type"], rows["model"], rows["metric"])) == [e[:3] for e in expected]
    for (_, _, _, key, target, col), (_, row) in zip(expected, rows.iterrows()):
        assert row["value"] == pytest.approx(m.loc[(key, target), col], rel=1e-12)
        assert row["baseline_value"] == pytest.approx(m.loc[("last_periods", target), col], rel=1e-12)
    # the rows that were there before stay first in their model type
    reg = t[t["model_type"] == "regression"]
    assert not reg["model"].iloc[:6].str.contains("value.backtest").any()


@pytest.mark.parametrize("cutoff, horizon, expected", [
    ("2011-09-01", "90D", ("M", 2)),   # compare's default horizon: September and October
    ("2011-09-01", "91D", ("M", 3)),
    ("2011-08-01", "30D", ("W", 4)),   # a Monday, but August has 31 days: weeks
    ("2011-09-05", "90D", ("W", 12)),
    ("2011-10-01", "30D", "holds no whole month"),   # a Saturday
    ("2011-09-05", "6D", "holds no whole week"),
    ("2011-09-03", "90D", "the cut-off 2011-09-03 is neither the first of a month nor a Monday"),
    ("2011-09-01 10:00", "90D", "neither the first of a month nor a Monday"),
])
def test_compare_backtest_period(cutoff, horizon, expected):
    from basketmine.models._compare import _backtest_period
    period, periods, why = _backtest_period(pd.Timestamp(cutoff), pd.Timedelta(horizon))
    if isinstance(expected, tuple):
        assert (period, periods, why) == (*expected, None)
    else:
        assert period is None and expected in why and "value.backtest needs" in why


def test_compare_backtest_skips_and_notes(tm, feats, monkeypatch):
    """A backtest that raises is a skip row; a model it could not fit is a skip row with its note."""
    from basketmine.models import _compare as C
    real = bm.value.backtest

    def short(*a, **k):
        raise bm.InvalidParameterError("The 'cutoffs' parameter of backtest must leave 3 whole periods")

    monkeypatch.setattr(bm.value, "backtest", short)
    tab = C._Table()
    C._backtest_rows("regression", C._run_backtest(tm, feats), tab)
    row = tab.frame().iloc[0]
    assert len(tab.rows) == 1 and row["model"] == "value.backtest" and row["metric"] == "skipped"
    assert "could not run" in row["note"] and "whole periods" in row["note"]

    def without_bgnbd(tm, cutoffs, periods, **k):
        bt = real(tm, cutoffs, periods, period=k["period"], models=("markov", "last_periods"))
        bt.notes.append("bgnbd at 2011-09-01: not fitted (no repeat customer)")
        return bt

    monkeypatch.setattr(bm.value, "backtest", without_bgnbd)
    tab = C._Table()
    C._backtest_rows("time series", C._run_backtest(tm, feats), tab)
    t = tab.frame().set_index(["model", "metric"])
    assert "not fitted (no repeat customer)" in t.loc[("BG/NBD x Gamma-Gamma (value.backtest)", "skipped"), "note"]
    # the other notes (here: no calendar effect on nine months) go to the rows of every model
    note = t.loc[("Markov chain (value.backtest)", "total relative error (value)"), "note"]
    assert note.startswith("at 2011-09-01: no calendar effect") and "not fitted" not in note


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    (dict(cutoff="2009-01-01"), "'cutoff' parameter of features must fall inside the log"),
    (dict(cutoff="not a date"), "'cutoff' parameter of features must be a date"),
    (dict(cutoff=CUT, horizon="-3D"), "'horizon' parameter of features must be a positive duration"),
    (dict(cutoff=CUT, horizon="90"), "'horizon' parameter of features is a number without a unit"),
    (dict(cutoff=CUT, level="brand"), "'level' parameter of features must be one of"),
    (dict(cutoff=CUT, windows=(0,)), "'windows' parameter of features"),
])
def test_features_bad_input(tm, kwargs, match):
    with pytest.raises(bm.InvalidParameterError, match=match):
        M.features(tm, **kwargs)


def test_empty_holdout_and_missing_customer():
    df = pd.DataFrame({"b": [1, 2, 3, 4], "i": ["a", "b", "a", "c"], "c": [1, 1, 2, 2],
                       "t": ["2011-01-01", "2011-01-02", "2011-01-03", "2011-06-01"]})
    tm = bm.TransactionMatrix.from_frame(df, "b", "i", customer="c", time="t")
    with pytest.raises(bm.InvalidParameterError, match="holdout window .* is empty"):
        M.temporal_split(tm, "2011-01-04", "30D")
    nocust = bm.TransactionMatrix.from_frame(df, "b", "i", time="t")
    with pytest.raises(bm.InvalidParameterError, match="needs customers"):
        M.features(nocust, "2011-01-03")
    with pytest.raises(bm.InvalidParameterError, match="needs customers"):
        bm.recommend(nocust)


def test_recommender_bad_parameters(tm, recommender):
    with pytest.raises(bm.InvalidParameterError, match="'methods' parameter of Recommender.fit"):
        M.Recommender(methods=("magic",)).fit(tm)
    with pytest.raises(bm.InvalidParameterError, match="'k' parameter of Recommender.recommend"):
        recommender.recommend(k=0)
    with pytest.raises(bm.InvalidParameterError, match="'kind' parameter of baseline_recommendations"):
        M.baseline_recommendations(tm, "astrology")
    with pytest.raises(bm.InvalidParameterError, match="'model_types' parameter of compare"):
        bm.compare(tm, CUT, model_types=("regression", "tarot"))


def test_short_series_is_a_documented_skip(tm):
    cmp = bm.compare(tm.between("2011-08-01", None), "2011-09-15", horizon="30D", model_types=("time series",))
    row = cmp.table.iloc[0]
    assert row["metric"] == "skipped" and "too short" in row["note"]
    # a Thursday: no period start for value.backtest
    row = cmp.table.iloc[1]
    assert len(cmp.table) == 2 and row["model"] == "value.backtest" and row["metric"] == "skipped"
    assert "the cut-off 2011-09-15 is neither the first of a month nor a Monday" in row["note"]


def test_learned_timing_beats_the_rule_timing_on_the_sample(tm, feats, recommender):
    """The timing regressor against the signal it learns from, on the holdout."""
    rec = recommender
    active = feats.targets.index[feats.targets["active"]]
    learned = rec.recommend(active, 10)
    m_learned = M.evaluate_recommendations(learned, feats.holdout_pairs, 10, customers=active)
    fu = M.baseline_recommendations(tm, "follow_ups", 10, asof=CUT, customers=active)
    m_rule = M.evaluate_recommendations(fu, feats.holdout_pairs, 10, customers=active)
    assert m_learned["timing_mae_days"] < m_rule["timing_mae_days"]
    assert learned["expected_date"].ge(pd.Timestamp(CUT)).all()


def test_compare_without_prices_skips_spend_and_still_clusters():
    tm = bm.read_csv(SAMPLE, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
                     quantity="Quantity")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        t = bm.compare(tm, CUT, model_types=("regression", "clustering")).table
    reg = t[t["model_type"] == "regression"]
    assert list(reg["metric"]) == ["skipped", "skipped"] and reg["note"].str.contains("no prices").all()
    assert list(reg["model"]) == ["holdout spend", "value.backtest"]
    assert t[t["model_type"] == "clustering"]["value"].notna().all()


def test_compare_returns_only_the_model_types_asked_for(tm):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = M.compare(tm, CUT, model_types=("clustering", "sequence discovery"))
    assert set(cmp.table["model_type"]) == {"clustering", "sequence discovery"}


def test_a_capped_source_is_said_not_silenced(tm, monkeypatch):
    """A mining limit met by a candidate source reaches the notes and a warning."""
    import basketmine.models._recommend as RR
    real = RR.follow_ups

    def capped(*a, **k):
        warnings.warn("follow_ups stopped at the pattern cap after 10 patterns; the result is partial",
                      bm.MiningLimitWarning)
        return real(*a, **k)

    monkeypatch.setattr(RR, "follow_ups", capped)
    with pytest.warns(UserWarning, match="source 'follow_ups' is partial: follow_ups stopped at the pattern cap"):
        rec = M.Recommender("30D", methods=("repeat", "follow_ups")).fit(tm, CUT)
    assert any("is partial" in n for n in rec.notes_)


def test_compare_on_a_tiny_log_gives_skip_rows_not_errors(tm):
    small = tm.for_customers(list(tm.customer_labels[:8]))
    with pytest.warns(UserWarning, match="could not be fitted on this split"):
        cmp = M.compare(small, CUT)
    skipped = cmp.table[cmp.table["metric"] == "skipped"]
    assert skipped["note"].str.contains("could not be fitted on this split").any()
    assert set(cmp.table["model_type"]) <= set(M.MODEL_TYPES)
