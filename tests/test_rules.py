import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import basketmine as bm
from basketmine import InvalidParameterError, TransactionMatrix
from basketmine.rules import MEASURES, measures_from_counts

from basketmine import _reference
from conftest import DATASETS, shared

# A hand-made 2x2 table: 100 baskets, 40 hold A, 30 hold C, 20 hold both.
N, NA, NC, NAC = 100, 40, 30, 20
a, b, c, d = 20, 20, 10, 50  # A&C, A&~C, ~A&C, ~A&~C

HAND = {
    "antecedent support": 0.4,
    "consequent support": 0.3,
    "support": 0.2,
    "confidence": 0.5,
    "lift": 0.5 / 0.3,
    "representativity": 1.0,
    "leverage": 0.2 - 0.12,
    "conviction": (1 - 0.3) / (1 - 0.5),
    "zhangs_metric": 0.08 / max(0.2 * 0.6, 0.4 * 0.1),
    "jaccard": 20 / 50,
    "certainty": (0.5 - 0.3) / 0.7,
    "kulczynski": (0.5 + 20 / 30) / 2,
    "added_value": 0.2,
    "all_confidence": 20 / 40,
    "max_confidence": 20 / 30,
    "cosine": 20 / math.sqrt(40 * 30),
    "odds_ratio": (20 * 50) / (20 * 10),
    "yules_q": (1000 - 200) / (1000 + 200),
    "yules_y": (math.sqrt(1000) - math.sqrt(200)) / (math.sqrt(1000) + math.sqrt(200)),
    "phi": (1000 - 200) / math.sqrt(40 * 60 * 30 * 70),
    "kappa": (0.2 + 0.5 - (0.12 + 0.42)) / (1 - 0.54),
    "collective_strength": (0.7 / 0.54) * ((1 - 0.54) / (1 - 0.7)),
    "imbalance_ratio": 10 / 50,
    "chi_squared": 100 * 800 ** 2 / (40 * 60 * 30 * 70),
    "chi_squared_p_value": stats.chi2_contingency([[20, 20], [10, 50]], correction=False)[1],
    "fisher_p_value": stats.fisher_exact([[20, 20], [10, 50]], alternative="greater")[1],
    "hyper_confidence": 1 - stats.fisher_exact([[20, 20], [10, 50]], alternative="greater")[1],
    "gini_index": 0.4 * (0.5 ** 2 + 0.5 ** 2) + 0.6 * ((10 / 60) ** 2 + (50 / 60) ** 2) - 0.09 - 0.49,
    "j_measure": 0.2 * math.log2(0.5 / 0.3) + 0.2 * math.log2(0.5 / 0.7),
    "mutual_information": (0.2 * math.log2(0.2 / 0.12) + 0.2 * math.log2(0.2 / 0.28)
                           + 0.1 * math.log2(0.1 / 0.18) + 0.5 * math.log2(0.5 / 0.42)),
    "klosgen": math.sqrt(0.2) * 0.2,
    "laplace": 21 / 42,
    "lerman": (20 - 12) / math.sqrt(12),
    "least_contradiction": (20 - 20) / 30,
    "counterexample": (20 - 20) / 20,
    "difference_of_confidence": 0.5 - 10 / 60,
    "relative_risk": 0.5 / (10 / 60),
    "rule_power_factor": 0.2 * 0.5,
    "sebag_schoenauer": 20 / 20,
    "confirmed_confidence": 0.5 - 0.5,
    "varying_rates_liaison": 0.5 / 0.3 - 1,
    "ralambondrainy": 0.2,
    "casual_support": 0.7,
    "casual_confidence": (0.5 + 50 / 70) / 2,
}
H_A = -(0.4 * math.log2(0.4) + 0.6 * math.log2(0.6))
H_C = -(0.3 * math.log2(0.3) + 0.7 * math.log2(0.7))
HAND["normalized_mutual_information"] = HAND["mutual_information"] / min(H_A, H_C)


def test_every_measure_against_the_hand_computed_table():
    got = measures_from_counts(N, NA, NC, NAC)
    assert set(got) == set(HAND)
    assert len(MEASURES) >= 25
    for name, want in HAND.items():
        assert float(got[name]) == pytest.approx(want, rel=1e-9, abs=1e-12), name


def test_odds_ratio_matches_scipy_and_edge_cases_do_not_crash():
    got = measures_from_counts(N, NA, NC, NAC)
    assert float(got["odds_ratio"]) == pytest.approx(stats.fisher_exact([[a, b], [c, d]])[0])
    perfect = measures_from_counts(10, 5, 5, 5)  # A and C always together
    assert perfect["confidence"] == 1 and np.isinf(perfect["conviction"])
    everywhere = measures_from_counts(10, 10, 10, 10)
    assert everywhere["lift"] == 1 and everywhere["certainty"] == 0


@pytest.fixture(scope="module")
def groceries():
    return bm.read_baskets(DATASETS / "groceries" / "groceries.csv")


def _random_itemsets(seed, n_baskets=60, n_items=9):
    rng = np.random.default_rng(seed)
    baskets = [[f"i{j}" for j in np.flatnonzero(rng.random(n_items) < rng.uniform(0.2, 0.6))]
               for _ in range(n_baskets)]
    tm = TransactionMatrix.from_baskets([b for b in baskets if b] or [["i0"]])
    return tm, bm.frequent_itemsets(tm, 3)


def _twin_rules(fi, metric, threshold, top_k=None, min_improvement=None, **kw):
    """The rules the brute-force enumeration keeps, in its order."""
    n = fi.attrs["n_baskets"]
    sets = fi["itemsets"].tolist()
    count_of = dict(zip(sets, fi["count"].tolist()))
    rows = _reference.rule_candidates(sets, count_of, n, **kw)
    if not rows:
        return []
    _, _, na, nc, nac, impr = map(np.array, zip(*rows))
    value = impr if metric == "improvement" else measures_from_counts(n, na, nc, nac, [metric])[metric]
    keep = value >= threshold
    if top_k is not None and keep.sum() > top_k:
        keep &= value >= np.sort(value[keep])[::-1][top_k - 1]
    if min_improvement is not None:
        keep &= impr >= min_improvement
    return [(r[0], r[1], r[2], r[3], r[4], round(r[5], 12)) for r, k in zip(rows, keep) if k]


def _as_rows(rules):
    return list(zip(rules["antecedents"], rules["consequents"], rules["antecedent_count"],
                    rules["consequent_count"], rules["count"], rules["improvement"].round(12)))


@pytest.mark.parametrize("seed", range(12))
def test_rule_kernel_equals_the_brute_force_twin(seed):
    tm, fi = _random_itemsets(seed)
    rng = np.random.default_rng(100 + seed)
    labels = list(tm.labels)
    cases = [
        dict(metric="confidence", threshold=0.6),
        dict(metric="confidence", threshold=0.0),
        dict(metric="lift", threshold=1.1),
        dict(metric="leverage", threshold=0.01),
        dict(metric="conviction", threshold=1.2),
        dict(metric="improvement", threshold=0.02),
        dict(metric="jaccard", threshold=0.3, max_antecedent_len=2),
        dict(metric="confidence", threshold=0.5, max_consequent_len=1, min_improvement=0.0),
        dict(metric="confidence", threshold=0.3,
             antecedents=frozenset(rng.choice(labels, 5, replace=False).tolist())),
        dict(metric="lift", threshold=1.0,
             consequents=frozenset(rng.choice(labels, 4, replace=False).tolist())),
        dict(metric="confidence", threshold=0.2, top_k=7),
        dict(metric="lift", threshold=-np.inf, top_k=5),
        dict(metric="kulczynski", threshold=-np.inf, top_k=4, max_antecedent_len=1),
    ]
    for case in cases:
        kw = {k: v for k, v in case.items() if k not in ("metric", "threshold")}
        want = _twin_rules(fi, case["metric"], case["threshold"], **kw)
        got = bm.association_rules(fi, case["metric"], None if case.get("top_k") else case["threshold"],
                                   measures="all", **kw)
        assert _as_rows(got) == want, case
        if case.get("top_k") and len(want) > case["top_k"]:  # ties at the k-th value are kept
            assert got[case["metric"]].min() == got[case["metric"]].nsmallest(
                len(got) - case["top_k"] + 1).max()


def test_rules_from_a_plain_frame_of_frozensets_equal_those_from_the_itemset_column():
    tm, fi = _random_itemsets(7)
    plain = fi.copy()
    plain["itemsets"] = pd.Series(fi["itemsets"].tolist(), dtype=object)
    a = bm.association_rules(fi, "lift", 1.0)
    b = bm.association_rules(plain, "lift", 1.0)
    assert list(zip(a["antecedents"], a["consequents"])) == list(zip(b["antecedents"], b["consequents"]))
    np.testing.assert_array_equal(a["lift"], b["lift"])


def test_measures_parameter_chooses_the_columns(groceries):
    fi = bm.frequent_itemsets(groceries, 0.01)
    default = bm.association_rules(fi, "confidence", 0.3)
    assert list(default.columns[2:14]) == list(bm.rules.MLXTEND_MEASURES)
    assert "fisher_p_value" not in default and "improvement" not in default
    every = bm.association_rules(fi, "confidence", 0.3, measures="all")
    assert set(bm.rules.MEASURES) | {"improvement"} <= set(every.columns)
    few = bm.association_rules(fi, "cosine", 0.1, measures=["lift"])
    assert list(few.columns) == ["antecedents", "consequents", "lift", "cosine", "antecedent_count",
                                 "consequent_count", "count"]
    for col in ("lift", "cosine"):
        np.testing.assert_allclose(few[col], bm.association_rules(fi, "cosine", 0.1, measures="all")[col])
    with pytest.raises(InvalidParameterError, match="'measures'.*'lyft'"):
        bm.association_rules(fi, measures=["lyft"])


def test_rule_cap_stops_with_a_warning(groceries):
    fi = bm.frequent_itemsets(groceries, 0.005)
    with pytest.warns(bm.MiningLimitWarning, match="max_rules"):
        capped = bm.association_rules(fi, "confidence", 0.0, max_rules=50)
    assert len(capped) == 50 and capped.attrs["truncated"]


def test_long_itemsets_are_refused_clearly():
    sets = [frozenset(range(70))]
    frame = pd.DataFrame({"support": [0.5], "itemsets": sets})
    with pytest.raises(InvalidParameterError, match="70 items"):
        bm.association_rules(frame, n_baskets=10)


def _mlxtend_equal(fi, n, metric, threshold, measures):
    from mlxtend.frequent_patterns import association_rules as mlx_rules

    plain = pd.DataFrame({"support": fi["support"], "itemsets": fi["itemsets"].astype(object)})
    ours = bm.association_rules(fi, metric, threshold, measures=measures)
    theirs = mlx_rules(plain, num_itemsets=n, metric=metric, min_threshold=threshold)
    key = ["antecedents", "consequents"]
    m = ours.astype({"antecedents": object, "consequents": object}).merge(theirs, on=key,
                                                                           suffixes=("", "_mlx"))
    assert len(m) == len(ours) == len(theirs) > 0
    for col in bm.rules.MLXTEND_MEASURES:
        if col in ours:
            np.testing.assert_allclose(m[col], m[col + "_mlx"], rtol=1e-9, err_msg=col)
    return ours


@pytest.mark.parametrize("measures", [None, "all", ["lift", "conviction", "certainty"]])
def test_rules_equal_mlxtend_on_chess_and_mushroom(measures):
    for name, support, metric, threshold in (("chess", 0.9, "confidence", 0.95),
                                             ("mushroom", 0.3, "lift", 1.5)):
        tm = bm.read_fimi(shared(name, f"{name}.dat"))
        fi = bm.frequent_itemsets(tm, support)
        ours = _mlxtend_equal(fi, tm.n_baskets, metric, threshold, measures)
        want = set(bm.rules.MLXTEND_MEASURES) if measures is None else (
            set(bm.rules.MEASURES) if measures == "all" else set(measures) | {metric})
        assert want <= set(ours.columns)


@pytest.mark.parametrize("measures", [None, "all"])
def test_rules_equal_mlxtend_on_groceries(groceries, measures):
    from mlxtend.frequent_patterns import association_rules as mlx_rules, fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    fi = bm.frequent_itemsets(groceries, 0.005)
    ours = bm.association_rules(fi, "confidence", 0.3, measures=measures)
    baskets = groceries.to_baskets()
    te = TransactionEncoder()
    onehot = pd.DataFrame.sparse.from_spmatrix(te.fit(baskets).transform(baskets, sparse=True),
                                               columns=te.columns_)
    mfi = fpgrowth(onehot, min_support=0.005, use_colnames=True)
    theirs = mlx_rules(mfi, num_itemsets=len(baskets), metric="confidence", min_threshold=0.3)
    key = ["antecedents", "consequents"]
    m = ours.merge(theirs, on=key, suffixes=("", "_mlx"))
    assert len(m) == len(ours) == len(theirs) > 100
    for col in ["antecedent support", "consequent support", "support", "confidence", "lift",
                "leverage", "conviction", "zhangs_metric", "jaccard", "certainty", "kulczynski"]:
        np.testing.assert_allclose(m[col], m[col + "_mlx"], rtol=1e-9, err_msg=col)


def test_famous_groceries_figures(groceries):
    # arules: apriori(Groceries, supp=0.01, conf=0.5) gives 15 rules
    fi = bm.frequent_itemsets(groceries, 0.01)
    assert len(fi) == 333
    assert len(bm.association_rules(fi, "confidence", 0.5)) == 15


def test_templates_answer_what_goes_with_an_item(groceries):
    fi = bm.frequent_itemsets(groceries, 0.005)
    every = bm.association_rules(fi, "confidence", 0.1)
    coffee = bm.association_rules(fi, "confidence", 0.1, antecedents="coffee")
    want = every[every["antecedents"] == frozenset(["coffee"])]
    assert len(coffee) == len(want) > 0
    assert set(coffee["consequents"]) == set(want["consequents"])
    right = bm.association_rules(fi, "confidence", 0.1, consequents=["whole milk", "yogurt"],
                                 max_antecedent_len=1)
    assert all(c <= {"whole milk", "yogurt"} for c in right["consequents"])
    assert (right["antecedents"].map(len) == 1).all()


def test_improvement_pruning_keeps_only_rules_better_than_their_generalisations(groceries):
    fi = bm.frequent_itemsets(groceries, 0.005)
    rules = bm.association_rules(fi, "confidence", 0.0)
    conf = {(r.antecedents, r.consequents): r.confidence for r in rules.itertuples()}
    pc = dict(zip(rules["consequents"], rules["consequent support"]))
    pruned = bm.association_rules(fi, "confidence", 0.0, min_improvement=0.01)
    assert 0 < len(pruned) < len(rules)
    for r in pruned.itertuples():
        general = [v for (s, cons), v in conf.items() if cons == r.consequents and s < r.antecedents]
        assert r.confidence - max(general + [pc[r.consequents]]) >= 0.01 - 1e-12


def test_significance_with_holm_correction(groceries):
    fi = bm.frequent_itemsets(groceries, 0.01)
    rules = bm.association_rules(fi, "confidence", 0.0, measures=["fisher_p_value"])
    sig = bm.association_rules(fi, "confidence", 0.0, significance=0.05, correction="holm")
    p = np.sort(rules["fisher_p_value"].to_numpy())
    n = len(p)
    holm = np.minimum(np.maximum.accumulate(p * (n - np.arange(n))), 1)
    assert len(sig) == int((holm <= 0.05).sum())
    assert (sig["adjusted_p_value"] <= 0.05).all()
    bonf = bm.association_rules(fi, "confidence", 0.0, significance=0.05, correction="bonferroni")
    assert len(bonf) <= len(sig)


def test_multi_level_rules_skip_item_to_own_category(groceries):
    h = pd.read_csv(DATASETS / "groceries" / "groceries_item_hierarchy.csv").set_index("item")
    ml = groceries.with_ancestors(h, levels=["level2"])
    assert ml.n_items == 169 + len(set(h["level2"]) - set(h.index))
    fi = bm.frequent_itemsets(ml, 0.02)
    rules = bm.association_rules(fi, "confidence", 0.1)
    anc = ml.ancestors
    for r in rules.itertuples():
        both = r.antecedents | r.consequents
        assert not any(anc.get(x, frozenset()) & both for x in both)
    assert any(x in set(h["level2"]) for s in rules["antecedents"] for x in s)


def test_rule_value_sums_consequent_revenue():
    df = pd.DataFrame({"inv": [1, 1, 2, 2, 3], "item": ["tea", "jam", "tea", "jam", "tea"],
                       "q": [1, 2, 1, 1, 1], "p": [3.0, 2.0, 3.0, 5.0, 3.0]})
    tm = TransactionMatrix.from_frame(df, "inv", "item", quantity="q", price="p")
    rules = bm.association_rules(bm.frequent_itemsets(tm, 1), "confidence", 0.0,
                                 antecedents="tea", consequents="jam")
    v = bm.rule_value(rules, tm)
    assert v["consequent_revenue"].tolist() == [2 * 2.0 + 1 * 5.0]
    assert v["revenue_per_antecedent_basket"].tolist() == [9.0 / 3]
    with pytest.raises(InvalidParameterError, match="prices"):
        bm.rule_value(rules, TransactionMatrix.from_baskets([["tea", "jam"]]))


def test_rule_errors_are_clear(groceries):
    fi = bm.frequent_itemsets(groceries, 0.02)
    with pytest.raises(InvalidParameterError, match="'metric'"):
        bm.association_rules(fi, "lyft", 1)
    with pytest.raises(InvalidParameterError, match="target='closed'"):
        bm.association_rules(bm.frequent_itemsets(groceries, 0.02, target="closed"))
    bare = fi.copy()
    bare.attrs = {}
    with pytest.raises(InvalidParameterError, match="'n_baskets'"):
        bm.association_rules(bare)
    assert len(bm.association_rules(bare, n_baskets=groceries.n_baskets, min_threshold=0.3)) > 0
    with pytest.warns(UserWarning, match="no rule can match"):
        bm.association_rules(fi, antecedents=["caviar"])


@pytest.mark.parametrize("metric, value", [("confidence", 1.5), ("support", -0.1), ("jaccard", 2)])
def test_a_threshold_outside_a_bounded_measure_is_an_error(metric, value):
    its = bm.frequent_itemsets(bm.TransactionMatrix.from_baskets([["a", "b"], ["a"], ["b", "c"]]), 1)
    with pytest.raises(bm.InvalidParameterError, match=f"'min_threshold' parameter .* in \\[0, 1\\] for "
                                                       f"metric='{metric}'"):
        bm.association_rules(its, metric, value)


def test_rules_from_a_capped_run_are_the_full_runs_rules_on_the_part_it_completed():
    tm = bm.read_baskets(DATASETS / "groceries" / "groceries.csv")
    full = bm.association_rules(bm.frequent_itemsets(tm, 0.005), "confidence", 0.1)
    with pytest.warns(bm.MiningLimitWarning) as caught:
        capped_its = bm.frequent_itemsets(tm, 0.005, max_itemsets=800)
        capped = bm.association_rules(capped_its, "confidence", 0.1)
    assert any("whose subsets the run did not reach are left out" in str(w.message) for w in caught)
    assert capped.attrs["truncated"] and capped.attrs["stop_reason"] == "itemsets: max_itemsets"
    assert 0 < len(capped) < len(full)
    key = lambda df: {(frozenset(a), frozenset(c)): round(v, 12)
                      for a, c, v in zip(df["antecedents"], df["consequents"], df["confidence"])}
    want, got = key(full), key(capped)
    assert all(want[k] == v for k, v in got.items())


def test_subset_closed_equals_its_twin_on_random_collections():
    from basketmine.rules import _encoded, _subset_closed
    rng = np.random.default_rng(11)
    for trial in range(30):
        baskets = [rng.choice(12, rng.integers(1, 8), replace=False).tolist() for _ in range(40)]
        fi = bm.frequent_itemsets(TransactionMatrix.from_baskets(baskets), 2)
        items, offsets, _ = _encoded(fi, "test")
        keep = rng.random(len(fi)) < 0.8   # leave some out: their supersets lose closure
        part = np.flatnonzero(keep)
        sets = [items[offsets[i]:offsets[i + 1]].tolist() for i in part]
        sub_items = np.concatenate([items[offsets[i]:offsets[i + 1]] for i in part])
        sub_offsets = np.r_[0, np.cumsum(np.diff(offsets)[part])]
        got = _subset_closed(sub_items, sub_offsets)
        assert got.tolist() == _reference.subset_closed(sets)
        assert 0 < got.sum() <= len(sets)


def test_rules_of_a_run_stopped_by_the_items_cap_come_quickly():
    # one basket of 3,000 items at support 1: every subset is frequent; the items cap stops the run
    tm = TransactionMatrix.from_baskets([list(range(3000))] + [[1, 2]] * 5)
    with pytest.warns(bm.MiningLimitWarning, match="the items cap after .* the longest basket holds 3,000 items"):
        fi = bm.frequent_itemsets(tm, 1, max_itemsets=2000)
    from basketmine.itemsets import _items_cap
    from basketmine.rules import _encoded
    assert fi.attrs["stop_reason"] == "max_items" and len(fi) < 2000
    assert len(_encoded(fi, "test")[0]) <= _items_cap(2000)
    with pytest.warns(bm.MiningLimitWarning, match="whose subsets the run did not reach"):
        rules = bm.association_rules(fi, "confidence", 0.5)
    assert rules.attrs["truncated"]
    full = {frozenset(s) for s in fi["itemsets"]}
    assert all(frozenset(a) | frozenset(c) in full for a, c in zip(rules["antecedents"], rules["consequents"]))


def test_rule_generation_stops_at_its_time_limit():
    tm = bm.read_baskets(DATASETS / "groceries" / "groceries.csv")
    its = bm.frequent_itemsets(tm, 0.0005)
    with pytest.warns(bm.MiningLimitWarning, match="association_rules stopped at time_limit"):
        part = bm.association_rules(its, "confidence", 0.0, time_limit=1e-4)
    assert part.attrs["truncated"] and part.attrs["stop_reason"] == "time_limit"
    full = bm.association_rules(its, "confidence", 0.0)
    assert 0 < len(part) < len(full) and not full.attrs["truncated"]
    # what a stopped run gives is exact: rules of the full run with the same values
    key = lambda df: {(frozenset(a), frozenset(c)): v for a, c, v in zip(df["antecedents"], df["consequents"],
                                                                          df["confidence"])}
    want = key(full)
    assert all(want[k] == v for k, v in key(part).items())
