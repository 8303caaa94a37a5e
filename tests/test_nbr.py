"""The next-basket baselines (TIFU-KNN, UP-CF@r) against their loop twins on
seeded random logs and on the shipped sample; exclusions, hand-worked
values, the tie rules, bad parameters."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import basketmine as bm
from basketmine import _reference as ref
from basketmine._validation import InvalidParameterError
from basketmine.models._nbr import tifu_knn, up_cf

from conftest import DATASETS

SAMPLE = DATASETS / "online_retail" / "online_retail_sample.csv.gz"
SCORE_TOL = 1e-9
TIE = 1e-12  # scores this close (relative) are ties, as in basketmine.models._nbr


def random_log(seed, n_customers=36, n_items=30):
    """Baskets in shuffled order: customers with 0, 1, a few and more than
    2 x 7 baskets, items repeated within a basket, tied times, and baskets
    without a customer."""
    rng = np.random.default_rng(seed)
    rows = []  # (customer, time, items)
    for c in range(n_customers):
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5, 8, 15, 16, 23])):
            items = rng.integers(0, n_items, rng.integers(1, 7)).tolist()
            if rng.random() < 0.3:
                items += items[:2]  # repeats count once
            rows.append((c, float(rng.integers(0, 40)), items))
    for _ in range(4):
        rows.append((-1, float(rng.integers(0, 40)), rng.integers(0, n_items, 3).tolist()))
    rows = [rows[i] for i in rng.permutation(len(rows))]
    indptr = np.r_[0, np.cumsum([len(r[2]) for r in rows])]
    return dict(basket_customer=np.array([r[0] for r in rows], dtype=np.int64),
                basket_time=np.array([r[1] for r in rows]), indptr=indptr,
                indices=np.concatenate([r[2] for r in rows]).astype(np.int32),
                n_customers=n_customers, n_items=n_items)


def histories(log):
    """{customer: [item lists, oldest first]} by plain sorting (time, then input order)."""
    out = {}
    bc, bt, ptr, idx = log["basket_customer"], log["basket_time"], log["indptr"], log["indices"]
    for b in sorted(range(len(bc)), key=lambda b: (bt[b], b)):
        if bc[b] >= 0:
            out.setdefault(int(bc[b]), []).append(idx[ptr[b]:ptr[b + 1]].tolist())
    return out


def top_items(scores, k):
    """The API's top ``k`` of a twin's scores: past the k-th largest score
    (the edge), those within a relative TIE of it tie for the last places,
    taken by smaller unit; then largest first, a score within a relative
    TIE of the one before tying with it, and ties by smaller unit."""
    chosen = sorted(scores, key=lambda i: (-scores[i], i))
    if len(chosen) > k:
        edge = scores[chosen[k - 1]]
        inside = [i for i in chosen if scores[i] > edge + TIE * edge]
        tied = sorted(i for i in chosen if abs(scores[i] - edge) <= TIE * edge)
        chosen = sorted(inside + tied[:k - len(inside)], key=lambda i: (-scores[i], i))
    runs, run = [], 0
    for a, b in zip([None] + chosen, chosen):
        if a is not None and scores[a] - scores[b] > TIE * scores[a]:
            run += 1
        runs.append((run, b))
    return [i for _, i in sorted(runs)]


def check_against_twin(got, twin, k, excluded=frozenset(), customers=None):
    """``got`` holds each customer's top ``k`` of the twin's positive scores
    (outside ``excluded``) in the API's rank order, scores within SCORE_TOL."""
    assert list(got.columns) == ["customer", "unit", "score", "rank"]
    assert [str(t) for t in got.dtypes] == ["int64", "int64", "float64", "int64"]
    assert got.equals(got.sort_values(["customer", "rank"]).reset_index(drop=True))
    if customers is not None:
        got = got[got["customer"].isin(customers)]
    expected = {}
    for c, scores in twin.items():
        eligible = {i: s for i, s in scores.items() if s > 0 and (c, i) not in excluded}
        if eligible:
            expected[c] = (eligible, top_items(eligible, k))
    assert set(got["customer"]) == set(expected)
    for c, g in got.groupby("customer"):
        eligible, top = expected[c]
        assert g["unit"].tolist() == top, c
        assert g["rank"].tolist() == list(range(1, len(top) + 1))
        for u, s in zip(g["unit"], g["score"]):
            assert abs(s - eligible[u]) <= SCORE_TOL * max(1.0, eligible[u]), (c, u)


TIFU_PARAMS = [
    dict(group_size=3, n_neighbors=5),
    dict(),  # the defaults: 300 neighbours is more than there are, so all others
    dict(group_size=2, within_decay=0.6, group_decay=0.3, n_neighbors=1, alpha=0.2),
    dict(n_groups=3, n_neighbors=4, alpha=0.7),
    dict(n_groups=7, group_decay=1.0, n_neighbors=10),
    dict(group_size=1, within_decay=0.0, group_decay=0.5, alpha=0.0, n_neighbors=3),
    dict(group_size=4, alpha=1.0),
]
UPCF_PARAMS = [
    dict(),
    dict(recency=1, asymmetry=0.5, locality=1),
    dict(recency=None, asymmetry=1.0, locality=10),
    dict(recency=3, asymmetry=0.0, locality=2.5),
    dict(recency=100, asymmetry=0.75, locality=50),
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("params", TIFU_PARAMS, ids=lambda p: ",".join(f"{a}={v}" for a, v in p.items()) or "defaults")
def test_tifu_knn_equals_twin(seed, params):
    log = random_log(seed)
    twin = ref.tifu_knn_scores(histories(log), **params)
    for k in (4, 100):  # below and above n_items
        check_against_twin(tifu_knn(**log, k=k, **params), twin, k)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("params", UPCF_PARAMS, ids=lambda p: ",".join(f"{a}={v}" for a, v in p.items()) or "defaults")
def test_up_cf_equals_twin(seed, params):
    log = random_log(seed + 10)
    twin = ref.up_cf_scores(histories(log), **params)
    for k in (4, 100):
        check_against_twin(up_cf(**log, k=k, **params), twin, k)


@pytest.mark.parametrize("fn,twin_fn", [(tifu_knn, ref.tifu_knn_scores), (up_cf, ref.up_cf_scores)])
def test_datetime_times_order_like_floats(fn, twin_fn):
    log = random_log(99)
    as_dates = dict(log, basket_time=np.datetime64("2011-01-01", "ns")
                    + (log["basket_time"] * 86400e9).astype("timedelta64[ns]"))
    a, b = fn(**log, k=5), fn(**as_dates, k=5)
    pd.testing.assert_frame_equal(a, b)
    check_against_twin(b, twin_fn(histories(log)), 5)


@pytest.mark.parametrize("fn,twin_fn,params", [(tifu_knn, ref.tifu_knn_scores, dict(group_size=3, n_neighbors=6)),
                                               (tifu_knn, ref.tifu_knn_scores, dict(n_groups=2)),
                                               (up_cf, ref.up_cf_scores, dict(recency=2))])
def test_exclude_removes_exactly_the_excluded_items(fn, twin_fn, params):
    log = random_log(5)
    rng = np.random.default_rng(5)
    n_c, n_i = log["n_customers"], log["n_items"]
    mask = rng.random((n_c, n_i)) < 0.25
    stored_zero = rng.random((n_c, n_i)) < 0.1  # stored explicit zeros exclude nothing
    r, c = np.nonzero(mask | stored_zero)
    exclude = sp.coo_matrix((mask[r, c].astype(float) * rng.integers(1, 4, len(r)), (r, c)), shape=(n_c, n_i))
    excluded = set(zip(*np.nonzero(mask)))
    twin = twin_fn(histories(log), **params)
    for k in (3, 100):
        got = fn(**log, k=k, exclude=exclude.tocsc(), **params)
        assert not any((c, u) in excluded for c, u in zip(got["customer"], got["unit"]))
        check_against_twin(got, twin, k, excluded={(int(a), int(b)) for a, b in excluded})
        plain = fn(**log, k=k, **params)
        # the customers' other items keep their scores
        merged = got.merge(plain, on=["customer", "unit"], suffixes=("", "_plain"))
        np.testing.assert_array_equal(merged["score"], merged["score_plain"])


def test_tifu_vector_by_hand():
    # oldest -> newest: {a}, {a, b}, {b}; groups of 2 from the newest: [{b}, {a, b}] and [{a}]
    # newest group: b (1 + 0.9) / 2 = 0.95, a 0.9 / 2 = 0.45; older group: a 1 / 1
    # vector: (newest + 0.7 x older) / 2 -> a 0.575, b 0.475
    log = dict(basket_customer=np.array([0, 0, 0]), basket_time=np.array([1.0, 2.0, 3.0]),
               indptr=np.array([0, 1, 3, 4]), indices=np.array([0, 0, 1, 1]), n_customers=1, n_items=2)
    got = tifu_knn(**log, k=5, group_size=2, alpha=1.0)
    assert got["unit"].tolist() == [0, 1]
    np.testing.assert_allclose(got["score"], [0.575, 0.475], rtol=1e-15)
    twin = ref.tifu_knn_scores({0: [[0], [0, 1], [1]]}, group_size=2, alpha=1.0)
    assert twin[0] == pytest.approx({0: 0.575, 1: 0.475})
    # two groups by count instead (the authors' partition): [{a}] and [{b}, {a, b}] -> the same here;
    # with 3 groups each basket is a group: (b + 0.7 (a + b) + 0.49 a) / 3
    got = tifu_knn(**log, k=5, n_groups=3, alpha=1.0)
    np.testing.assert_allclose(got.sort_values("unit")["score"], [(0.7 + 0.49) / 3, 1.7 / 3], rtol=1e-15)


def test_up_cf_by_hand():
    # u: {0, 1} then {1}; v: {1, 2}.  r = 1: pi_u = {1: 1}, pi_v = {1: 1, 2: 1};
    # s(u, v) = 1 / (2^a 2^(1-a)) = 1/2, q = 2 -> weight 1/4
    log = dict(basket_customer=np.array([0, 0, 1]), basket_time=np.array([1.0, 2.0, 1.5]),
               indptr=np.array([0, 2, 3, 5]), indices=np.array([0, 1, 1, 1, 2]), n_customers=3, n_items=3)
    got = up_cf(**log, k=5, recency=1, asymmetry=0.3, locality=2)
    assert got[["customer", "unit", "rank"]].values.tolist() == [[0, 1, 1], [0, 2, 2], [1, 1, 1], [1, 2, 2]]
    np.testing.assert_allclose(got["score"], [1.25, 0.25, 1.25, 1.0], rtol=1e-14)
    # r = 2 for u: item 1 in both baskets, item 0 in one
    got = up_cf(**log, k=5, recency=2, asymmetry=0.3, locality=2)
    np.testing.assert_allclose(got[got["customer"] == 0]["score"], [1.25, 0.5, 0.25], rtol=1e-14)


def test_tie_rules():
    # customer 0 bought item 0; customers 1..3 one item each, all equally far from customer 0:
    # the nearest is the first row; equal scores rank by smaller unit
    log = dict(basket_customer=np.array([3, 2, 1, 0]), basket_time=np.zeros(4),
               indptr=np.array([0, 1, 2, 3, 4]), indices=np.array([7, 6, 5, 0]), n_customers=4, n_items=8)
    got = tifu_knn(**log, k=3, n_neighbors=1, alpha=0.5)
    assert got[got["customer"] == 0][["unit", "score"]].values.tolist() == [[0, 0.5], [5, 0.5]]
    assert got[got["customer"] == 1]["unit"].tolist() == [0, 5]  # neighbour's 0 and own 5, both 0.5
    # one basket holding items 2 and 1 (unsorted): equal popularity, smaller unit first
    got = up_cf(basket_customer=np.array([0]), basket_time=np.zeros(1), indptr=np.array([0, 2]),
                indices=np.array([2, 1]), n_customers=1, n_items=3, k=3)
    assert got[["unit", "rank"]].values.tolist() == [[1, 1], [2, 2]]
    np.testing.assert_allclose(got["score"], 1.0, rtol=1e-14)  # own similarity 2 / (2^a 2^(1-a))


def test_customers_without_baskets_and_baskets_without_customers():
    log = random_log(3)
    counts = np.bincount(log["basket_customer"][log["basket_customer"] >= 0], minlength=log["n_customers"])
    for fn in (tifu_knn, up_cf):
        got = fn(**log, k=3)
        assert set(got["customer"]) == set(np.flatnonzero(counts))
    empty = dict(basket_customer=np.array([-1]), basket_time=np.zeros(1), indptr=np.array([0, 1]),
                 indices=np.array([0]), n_customers=2, n_items=1)
    for fn in (tifu_knn, up_cf):
        got = fn(**empty, k=3)
        assert got.empty and list(got.columns) == ["customer", "unit", "score", "rank"]


LOG = random_log(0, n_customers=5, n_items=4)
BAD = [
    (tifu_knn, dict(k=0), "k"), (tifu_knn, dict(k=2.5), "k"), (up_cf, dict(k=-1), "k"),
    (tifu_knn, dict(group_size=0), "group_size"), (tifu_knn, dict(n_groups=0), "n_groups"),
    (tifu_knn, dict(within_decay=1.5), "within_decay"), (tifu_knn, dict(group_decay=-0.1), "group_decay"),
    (tifu_knn, dict(n_neighbors=0), "n_neighbors"), (tifu_knn, dict(alpha=2), "alpha"),
    (tifu_knn, dict(alpha="x"), "alpha"),
    (up_cf, dict(recency=0), "recency"), (up_cf, dict(asymmetry=-1.0), "asymmetry"),
    (up_cf, dict(locality=0), "locality"), (up_cf, dict(locality=True), "locality"),
    (tifu_knn, dict(exclude=sp.csr_matrix((5, 3))), "exclude"), (up_cf, dict(exclude=np.zeros((5, 4))), "exclude"),
    (tifu_knn, dict(indices=LOG["indices"] + 4), "indices"),
    (up_cf, dict(basket_customer=LOG["basket_customer"][:-1]), "basket_customer"),
    (up_cf, dict(basket_customer=LOG["basket_customer"] + 5), "basket_customer"),
    (tifu_knn, dict(basket_time=LOG["basket_time"][1:]), "basket_time"),
    (tifu_knn, dict(n_items=-1), "n_items"),
]


@pytest.mark.parametrize("fn,bad,name", BAD, ids=[f"{f.__name__}-{n}-{i}" for i, (f, _, n) in enumerate(BAD)])
def test_bad_parameters_are_named(fn, bad, name):
    args = dict(LOG, k=3)
    args.update(bad)
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of {fn.__name__}"):
        fn(**args)


@pytest.fixture(scope="module")
def sample_history():
    tm = bm.read_csv(SAMPLE, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
                     quantity="Quantity", price="UnitPrice")
    h = tm.between(None, pd.Timestamp("2011-09-01"))
    log = dict(basket_customer=h.customer_codes, basket_time=h.times, indptr=h.indptr,
               indices=h.indices, n_customers=len(h.customer_labels), n_items=h.n_items)
    n_baskets = np.bincount(log["basket_customer"][log["basket_customer"] >= 0], minlength=log["n_customers"])
    # the busiest, some one-basket customers and every 15th customer
    order = np.argsort(-n_baskets, kind="stable")
    pick = set(order[:3]) | set(np.flatnonzero(n_baskets == 1)[:3]) | set(np.flatnonzero(n_baskets)[::15])
    return log, histories(log), sorted(int(c) for c in pick)


@pytest.mark.parametrize("fn,twin_fn,params", [(tifu_knn, ref.tifu_knn_scores, dict()),
                                               (tifu_knn, ref.tifu_knn_scores, dict(n_groups=7, n_neighbors=50)),
                                               (up_cf, ref.up_cf_scores, dict()),
                                               (up_cf, ref.up_cf_scores, dict(recency=None, locality=1))])
def test_sample_customers_equal_twin(sample_history, fn, twin_fn, params):
    log, hist, customers = sample_history
    got = fn(**log, k=20, **params)
    twin = twin_fn(hist, customers=customers, **params)
    assert set(twin) == set(customers)
    check_against_twin(got, twin, 20, customers=customers)
    assert got["customer"].nunique() == len(hist)


@pytest.mark.parametrize("seed", range(3))
def test_tifu_parts_blend_to_the_twin(seed):
    """The two parts the recommender uses as features: alpha x own + (1 -
    alpha) x the neighbours' mean equals the twin's TIFU-KNN score wherever
    the mean was kept, and the own part equals the twin with alpha = 1."""
    from basketmine.models._nbr import tifu_parts
    log = random_log(seed)
    hist = histories(log)
    own, mean = tifu_parts(**log, n_top=log["n_items"], group_size=3, n_neighbors=6)
    assert own.shape == mean.shape == (log["n_customers"], log["n_items"])
    for alpha in (0.3, 1.0):
        twin = ref.tifu_knn_scores(hist, group_size=3, n_neighbors=6, alpha=alpha)
        blend = (alpha * own + (1 - alpha) * mean).toarray()
        for c, scores in twin.items():
            for item, v in scores.items():
                assert blend[c, item] == pytest.approx(v, rel=SCORE_TOL, abs=SCORE_TOL)
            assert np.count_nonzero(blend[c]) == sum(1 for v in scores.values() if v > 0)
    # only the n_top largest of each customer's mean are kept
    _, few = tifu_parts(**log, n_top=2, group_size=3, n_neighbors=6)
    assert np.diff(few.indptr).max() <= 2
