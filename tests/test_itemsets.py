import warnings

import numpy as np
import pandas as pd
import pytest

import basketmine as bm
from basketmine import InvalidParameterError, MiningLimitError, MiningLimitWarning, TransactionMatrix
from basketmine import _itemsets, _reference
from basketmine import itemsets as itemsets_module
from basketmine.itemsets import choose_method, min_count_of

from conftest import DATASETS, shared


def as_dict(df):
    return dict(zip(df["itemsets"], df["count"]))


def random_baskets(seed, n=60, n_items=9, density=0.35):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, density * 2, n_items)
    return [[f"i{j}" for j in range(n_items) if rng.random() < p[j]] for _ in range(n)]


def kernel(tm, min_count, method, max_len=None, min_len=1, target="all"):
    status = np.zeros(4, dtype=np.int64)
    items, offsets, counts, r2c, stop = _itemsets.mine(
        tm.indptr.astype(np.int64), tm.indices,
        np.bincount(tm.indices, minlength=tm.n_items).astype(np.int64), min_count, min_len,
        max_len or 2**31 - 1, 10**9, 0.0, method, status, target=target)
    sets = _itemsets.frozensets(items, offsets, tm.labels)
    found = dict(zip(sets, counts.tolist()))
    assert len(found) == len(counts)  # each itemset once
    return found, stop


@pytest.fixture(params=["occurrence", "bitset"])
def method(request, monkeypatch):
    """Run frequent_itemsets with each kernel method, whatever the data's density."""
    monkeypatch.setattr(itemsets_module, "choose_method", lambda *args: request.param)
    return request.param


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("method", ["occurrence", "bitset"])
def test_both_kernels_equal_brute_force(seed, method):
    baskets = random_baskets(seed)
    tm = TransactionMatrix.from_baskets(baskets)
    for min_count in (1, 3, 8):
        for max_len in (None, 2):
            got, stop = kernel(tm, min_count, method, max_len)
            assert stop == 0
            assert got == _reference.frequent_itemsets(baskets, min_count, max_len=max_len)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("method", ["occurrence", "bitset"])
@pytest.mark.parametrize("target", ["closed", "maximal"])
def test_closed_and_maximal_kernels_equal_brute_force(seed, method, target):
    baskets = random_baskets(200 + seed, n=50, n_items=9, density=0.25 + 0.03 * seed)
    if seed % 3 == 0:  # items held by every basket: the closure of the empty set
        baskets = [b + ["everywhere", "always"] for b in baskets]
    tm = TransactionMatrix.from_baskets(baskets)
    for min_count in (1, 3, 8, 30):
        for min_len, max_len in ((1, None), (2, 3), (1, 2), (3, None), (1, 1)):
            got, stop = kernel(tm, min_count, method, max_len, min_len, target)
            assert stop == 0
            assert got == _reference.frequent_itemsets(baskets, min_count, target, min_len, max_len)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("target", ["all", "closed", "maximal"])
def test_frequent_itemsets_equals_brute_force_for_every_target(seed, target, method):
    baskets = random_baskets(100 + seed, n=40 + seed, n_items=8)
    if seed % 4 == 0:
        baskets = [b + ["everywhere"] for b in baskets]
    tm = TransactionMatrix.from_baskets(baskets)
    for min_support, min_len, max_len in ((0.1, 1, None), (3, 2, 3), (0.25, 1, 2), (1, 3, None)):
        df = bm.frequent_itemsets(tm, min_support, target=target, min_len=min_len, max_len=max_len)
        want = _reference.frequent_itemsets(baskets, min_count_of(min_support, len(baskets)),
                                            target, min_len, max_len)
        assert as_dict(df) == want
        assert df.attrs["method"] == method
        assert np.allclose(df["support"], df["count"] / len(baskets))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("target", ["all", "closed", "maximal"])
def test_top_k_equals_brute_force_for_every_target(seed, target, method):
    baskets = random_baskets(300 + seed, n=30 + 2 * seed, n_items=8)
    if seed % 4 == 1:
        baskets = [b + ["everywhere"] for b in baskets]
    tm = TransactionMatrix.from_baskets(baskets)
    for k, min_len, max_len, floor in ((1, 1, None, None), (5, 1, None, None), (12, 2, 3, None),
                                       (40, 1, 2, None), (7, 3, None, None), (10, 1, None, 6),
                                       (10**4, 1, None, None)):
        df = bm.frequent_itemsets(tm, floor, top_k=k, target=target, min_len=min_len, max_len=max_len)
        want, threshold = _reference.top_k_itemsets(baskets, k, target, min_len, max_len, floor or 1)
        assert as_dict(df) == want, (k, min_len, max_len, floor)
        assert df.attrs["min_count"] == threshold and df.attrs["top_k"] == k
        assert df["count"].is_monotonic_decreasing
        if target != "maximal" and len(want) >= k:
            assert len(df) >= k  # ties at the k-th count are all in


def test_top_k_includes_ties_and_orders_by_count():
    baskets = [["a", "b"]] * 5 + [["c"]] * 3 + [["d"]] * 3 + [["e"]] * 2
    df = bm.frequent_itemsets(TransactionMatrix.from_baskets(baskets), top_k=4)
    # by descending count; ties in the enumeration order, most frequent items first
    assert [(sorted(s), n) for s, n in zip(df["itemsets"], df["count"])] == [
        (["b"], 5), (["a"], 5), (["a", "b"], 5), (["d"], 3), (["c"], 3)]
    assert df.attrs["min_count"] == 3
    # min_support is a floor
    df = bm.frequent_itemsets(TransactionMatrix.from_baskets(baskets), 4, top_k=4)
    assert len(df) == 3 and df.attrs["min_count"] == 4


def test_top_k_order_is_stable():
    baskets = random_baskets(11, n=120, n_items=12)
    a = bm.frequent_itemsets(TransactionMatrix.from_baskets(baskets), top_k=50, target="closed")
    b = bm.frequent_itemsets(TransactionMatrix.from_baskets(baskets[::-1]), top_k=50, target="closed")
    assert a["itemsets"].tolist() == b["itemsets"].tolist()


def test_large_vocabulary_at_min_support_one():
    # 60,000 three-item baskets over ~97,000 items: the working memory must
    # follow the data, not the vocabulary squared
    from collections import Counter
    from itertools import combinations

    rng = np.random.default_rng(5)
    baskets = [sorted(set(row)) for row in rng.integers(0, 130_000, size=(60_000, 3)).tolist()]
    tm = TransactionMatrix.from_baskets(baskets)
    assert tm.n_items > 90_000
    want = Counter(frozenset(c) for b in baskets for k in (1, 2, 3) for c in combinations(b, k))
    df = bm.frequent_itemsets(tm, 1)
    assert len(df) == len(want)
    assert as_dict(df) == dict(want)
    closed = bm.frequent_itemsets(tm, 1, target="closed", max_len=2)
    not_closed = {t - {x} for t, c in want.items() if len(t) > 1 for x in t if want[t - {x}] == c}
    want_closed = {s: c for s, c in want.items() if len(s) <= 2 and s not in not_closed}
    assert as_dict(closed) == want_closed


def test_result_order_is_stable_and_documented():
    baskets = random_baskets(7, n=80)
    tm = TransactionMatrix.from_baskets(baskets)
    a = bm.frequent_itemsets(tm, 0.05)
    b = bm.frequent_itemsets(TransactionMatrix.from_baskets(list(reversed(baskets))), 0.05)
    assert a["itemsets"].tolist() == b["itemsets"].tolist()
    assert list(a.columns) == ["support", "count", "itemsets"]
    # each itemset comes right after its parent prefix or a sibling subtree: the
    # singletons appear in ascending support order
    singles = a[a["itemsets"].map(len) == 1]
    assert singles["count"].is_monotonic_increasing


def test_dense_and_sparse_data_pick_their_kernel():
    dense = TransactionMatrix.from_baskets([list(range(10))] * 50)
    sparse = TransactionMatrix.from_baskets([[i] for i in range(500)])
    assert choose_method(dense, 5) == "bitset"
    assert choose_method(sparse, 1) == "occurrence"


def test_max_itemsets_stops_cleanly_with_a_warning_and_a_flag():
    tm = TransactionMatrix.from_baskets([list(range(20))] * 3)  # 2^20 - 1 itemsets
    with pytest.warns(MiningLimitWarning, match="max_itemsets"):
        df = bm.frequent_itemsets(tm, 1, max_itemsets=1000)
    assert len(df) == 1000 and df.attrs["truncated"] and df.attrs["stop_reason"] == "max_itemsets"
    # every subset of 16 items is closed when basket i holds all items but i
    everything_but_one = TransactionMatrix.from_baskets([[j for j in range(16) if j != i] for i in range(16)])
    assert len(bm.frequent_itemsets(everything_but_one, 1, target="closed")) == 2**16 - 2
    for target in ("closed", "maximal"):
        assert len(bm.frequent_itemsets(tm, 1, target=target, max_itemsets=1)) == 1
    with pytest.raises(MiningLimitError, match="target='closed'"):
        bm.frequent_itemsets(everything_but_one, 1, target="closed", max_itemsets=1000)


def test_time_limit_stops_cleanly():
    tm = TransactionMatrix.from_baskets([list(range(40))] * 2)  # 2^40 itemsets: never finishes
    with pytest.warns(MiningLimitWarning, match="time_limit"):
        df = bm.frequent_itemsets(tm, 1, time_limit=0.3, max_itemsets=10**9)
    assert df.attrs["stop_reason"] == "time_limit" and len(df) > 0
    everything_but_one = TransactionMatrix.from_baskets([[j for j in range(40) if j != i] for i in range(40)])
    for target in ("closed", "maximal"):
        with pytest.raises(MiningLimitError, match="time_limit"):
            bm.frequent_itemsets(everything_but_one, 1, target=target, time_limit=0.3, max_itemsets=10**9)


def test_progress_callback_reports_and_result_is_the_same():
    tm = TransactionMatrix.from_baskets([list(range(18))] * 2 + [list(range(9))])
    seen = []
    df = bm.frequent_itemsets(tm, 1, progress=lambda n, s: seen.append((n, s)))
    assert len(df) == 2**18 - 1
    assert as_dict(df) == as_dict(bm.frequent_itemsets(tm, 1))
    # the callback hears counts that never fall and never exceed the result, at growing times
    counts, secs = [n for n, _ in seen], [t for _, t in seen]
    assert counts == sorted(counts) and all(0 <= n <= len(df) for n in counts) and secs == sorted(secs)
    tm = TransactionMatrix.from_baskets([[j for j in range(18) if j != i] for i in range(18)])
    seen.clear()
    closed = bm.frequent_itemsets(tm, 1, target="closed", progress=lambda n, s: seen.append((n, s)))
    assert len(closed) == 2**18 - 2 and as_dict(closed) == as_dict(bm.frequent_itemsets(tm, 1))
    assert all(0 <= n <= len(closed) for n, _ in seen)


@pytest.mark.parametrize("kwargs, match", [
    (dict(min_support=0), "'min_support' parameter of frequent_itemsets must be a float in the range"),
    (dict(min_support=1.5), "Got 1.5"),
    (dict(min_support=0.1, target="closd"), "'target'"),
    (dict(min_support=0.1, max_len=0), "'max_len'"),
    (dict(min_support=0.1, min_len=3, max_len=2), "'max_len'"),
    (dict(min_support=0.1, max_itemsets=-1), "'max_itemsets'"),
    (dict(min_support=0.1, time_limit=0), "'time_limit'"),
    (dict(min_support=True), "'min_support'"),
    (dict(), "needs the 'min_support' parameter .* or the 'top_k' parameter .* Got neither"),
    (dict(top_k=0), "'top_k' parameter of frequent_itemsets must be None or an int >= 1. Got 0"),
    (dict(top_k=2.5), "'top_k'.*Got 2.5"),
    (dict(min_support=0.1, top_k=True), "'top_k'"),
])
def test_bad_parameters_get_one_clear_message(kwargs, match):
    tm = TransactionMatrix.from_baskets([["a", "b"], ["a"]])
    with pytest.raises(InvalidParameterError, match=match):
        bm.frequent_itemsets(tm, **kwargs)


def test_empty_log_and_wrong_type():
    with pytest.raises(InvalidParameterError, match="at least one basket"):
        bm.frequent_itemsets(TransactionMatrix.from_baskets([]), 0.5)
    with pytest.raises(InvalidParameterError, match="TransactionMatrix"):
        bm.frequent_itemsets([["a"]], 0.5)
    one = bm.frequent_itemsets(TransactionMatrix.from_baskets([["a", "b"]]), 1)
    assert len(one) == 3


def test_items_present_in_every_basket_are_reported():
    # a peer omits itemsets made only of such items; the brute-force twin decides
    baskets = [["all", "x"], ["all"], ["all", "x", "y"]]
    got = as_dict(bm.frequent_itemsets(TransactionMatrix.from_baskets(baskets), 1))
    assert got == _reference.frequent_itemsets(baskets, 1)
    assert got[frozenset(["all"])] == 3


def mlxtend_itemsets(baskets, min_support):
    from mlxtend.frequent_patterns import fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    te = TransactionEncoder()
    X = te.fit(baskets).transform(baskets, sparse=True)
    onehot = pd.DataFrame.sparse.from_spmatrix(X, columns=te.columns_)
    df = fpgrowth(onehot, min_support=min_support, use_colnames=True)
    return {s: round(v * len(baskets)) for s, v in zip(df["itemsets"], df["support"])}


def read_lists(path):
    with open(path) as fh:
        return [line.split() for line in fh if line.strip()]


@pytest.mark.parametrize("case", ["groceries", "chess", "mushroom"])
def test_equal_to_mlxtend_on_real_data(case):
    pytest.importorskip("mlxtend")
    if case == "groceries":
        path, support = DATASETS / "groceries" / "groceries.csv", 0.005
        baskets = [line.split(",") for line in open(path).read().splitlines()]
    else:
        path, support = shared(case, f"{case}.dat"), {"chess": 0.8, "mushroom": 0.2}[case]
        baskets = read_lists(path)
    tm = TransactionMatrix.from_baskets(baskets)
    assert as_dict(bm.frequent_itemsets(tm, support)) == mlxtend_itemsets(baskets, support)


@pytest.mark.parametrize("case, support", [("chess", 70), ("mushroom", 10), ("retail", 0.05)])
def test_equal_to_pyfim_on_real_data(case, support):
    fim = pytest.importorskip("fim", reason="pyfim is in the bench extra")
    import gzip
    path = shared(case, f"{case}.dat.gz" if case == "retail" else f"{case}.dat")
    with (gzip.open(path, "rt") if path.suffix == ".gz" else open(path)) as fh:
        baskets = [line.split() for line in fh if line.strip()]
    tm = TransactionMatrix.from_baskets(baskets)
    ours = as_dict(bm.frequent_itemsets(tm, support / 100))
    theirs = {frozenset(s): c for s, c in fim.fpgrowth(baskets, supp=support, zmin=1)}
    # pyfim 6.28 leaves out itemsets made only of items present in every basket
    everywhere = set.intersection(*map(set, baskets))
    missing = {s: c for s, c in ours.items() if s not in theirs}
    assert all(s <= everywhere for s in missing)
    assert len(missing) == 2 ** len(everywhere) - 1
    assert {s: c for s, c in ours.items() if s in theirs} == theirs


@pytest.mark.parametrize("case, supports", [("chess", (85, 80, 70)), ("mushroom", (10, 5))])
@pytest.mark.parametrize("target", ["closed", "maximal"])
def test_closed_and_maximal_equal_to_pyfim_on_real_data(case, supports, target):
    fim = pytest.importorskip("fim", reason="pyfim is in the bench extra")
    baskets = read_lists(shared(case, f"{case}.dat"))
    tm = TransactionMatrix.from_baskets(baskets)
    everywhere = frozenset.intersection(*map(frozenset, baskets))
    for support in supports:
        ours = as_dict(bm.frequent_itemsets(tm, support / 100, target=target))
        theirs = {frozenset(s): c for s, c in fim.fpgrowth(baskets, target=target[0], supp=support, zmin=1)}
        # pyfim 6.28 leaves out itemsets made only of items present in every
        # basket: for closed sets that is the closure of the empty set (mushroom's
        # item 85), which the brute-force twin reports with the count of every basket
        missing = {s: c for s, c in ours.items() if s not in theirs}
        assert missing == ({everywhere: len(baskets)} if everywhere and target == "closed" else {})
        assert {s: c for s, c in ours.items() if s in theirs} == theirs
        # and the same sets as filtering every frequent itemset (small cases)
        if support >= 85:
            complete = as_dict(bm.frequent_itemsets(tm, support / 100))
            assert ours == _reference.filter_target(complete, target)


def test_a_huge_max_len_means_no_limit():
    tm = TransactionMatrix.from_baskets([["a", "b"], ["a"]])
    assert as_dict(bm.frequent_itemsets(tm, 1, max_len=10**12)) == as_dict(bm.frequent_itemsets(tm, 1))
