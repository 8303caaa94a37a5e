"""basketmine.spark: the PFP reducer against the local miner (no Spark
needed), then every Spark job against its local twin on the same data."""
import shutil
import warnings
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

import basketmine as bm
from basketmine import InvalidParameterError
from basketmine.spark import mine_group

from conftest import DATASETS

SAMPLE = DATASETS / "online_retail" / "online_retail_sample.csv.gz"
COLS = dict(basket="InvoiceNo", item="StockCode", customer="CustomerID", time="InvoiceDate",
            quantity="Quantity", price="UnitPrice")


# ------------------------------------------------- the reducer, without Spark
def pfp_twin(baskets, min_count, n_groups, min_len=1, max_len=None):
    """Parallel FP-growth by hand: rank the frequent items by ascending
    support, send each group the suffix of every basket from the group's
    first item on, mine each group with its roots, concatenate by root."""
    counts = {}
    for b in baskets:
        for x in set(b):
            counts[x] = counts.get(x, 0) + 1
    freq = sorted((x for x in counts if counts[x] >= min_count), key=lambda x: (counts[x], x))
    rank = {x: r for r, x in enumerate(freq)}
    m = len(freq)
    found = []
    for g in range(n_groups):
        keys, ranks = [], []
        for k, b in enumerate(baskets):
            rs = sorted(rank[x] for x in set(b) if x in rank)
            mine = [r for r in rs if r % n_groups == g]
            if not mine:
                continue
            for r in rs:
                if r >= mine[0]:
                    keys.append(k)
                    ranks.append(r)
        if not keys:
            continue
        items, offsets, cnts, stop = mine_group(np.array(keys), np.array(ranks), g, n_groups, m, min_count,
                                                min_len, max_len or 10**9, 10**7)
        assert stop == 0
        for i in range(len(cnts)):
            sets = items[offsets[i]:offsets[i + 1]]
            found.append((int(sets[0]), i, frozenset(freq[r] for r in sets), int(cnts[i])))
    found.sort(key=lambda t: (t[0], t[1]))
    return [(s, c) for _, _, s, c in found]


@pytest.mark.parametrize("seed, n_groups, min_len, max_len", [(0, 1, 1, None), (1, 3, 1, None), (2, 7, 2, 3),
                                                               (3, 50, 1, 2)])
def test_pfp_groups_together_equal_the_local_miner(seed, n_groups, min_len, max_len):
    rng = np.random.default_rng(seed)
    baskets = [list(rng.choice(12, size=rng.integers(1, 8), replace=False, p=np.linspace(2, 1, 12) / 18))
               for _ in range(300)]
    tm = bm.TransactionMatrix.from_baskets(baskets)
    local = bm.frequent_itemsets(tm, 15, min_len=min_len, max_len=max_len)
    want = list(zip(local["itemsets"], local["count"].tolist()))
    assert pfp_twin(baskets, 15, n_groups, min_len, max_len) == want
    # the brute-force count of each itemset, for good measure
    for s, c in want[:40]:
        assert c == sum(s <= set(b) for b in baskets)


def test_pfp_finds_itemsets_of_items_in_every_basket():
    baskets = [[1, 2, 3], [1, 2], [1, 3], [1, 2, 3]]  # item 1 is in every basket
    got = dict(pfp_twin(baskets, 1, 2))
    assert got == {frozenset(c): sum(set(c) <= set(b) for b in baskets)
                   for k in (1, 2, 3) for c in combinations([1, 2, 3], k)}


# ------------------------------------------------------------ against Spark
@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("needs Java for pyspark (Java 17 is on the CI machines)")
    pytest.importorskip("pyspark", reason="pyspark is in the spark and test extras")
    from pyspark.sql import SparkSession
    s = (SparkSession.builder.master("local[2]").appName("basketmine-spark-tests")
         .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
         .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def frame():
    df = pd.read_csv(SAMPLE, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str})
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"])
    return df


@pytest.fixture(scope="module")
def pair(spark, frame):
    """The sample on Spark and locally."""
    import basketmine.spark as bms
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pyspark's note about pandas 3
        st = bms.transactions(spark.createDataFrame(frame), **COLS)
    tm = bm.TransactionMatrix.from_frame(frame, **COLS)
    yield st, tm
    st.unpersist()


def local_sets(df, *cols):
    out = df.copy()
    for c in cols:
        out[c] = pd.Series(list(out[c].astype(object)), dtype=object, index=out.index)
    return out


def same_result(got, local, *cols, **kw):
    """A collected Spark result is the local one: the type of its itemset
    columns, its values, and the metadata in attrs."""
    for c in cols:
        assert isinstance(got[c].dtype, bm.ItemsetDtype)
    pd.testing.assert_frame_equal(local_sets(got, *cols), local_sets(local, *cols), check_dtype=False, **kw)
    shared = set(got.attrs) & set(local.attrs)
    assert {k: got.attrs[k] for k in shared} == {k: local.attrs[k] for k in shared}


def test_encoding_and_cleaning_report_equal_local(pair):
    st, tm = pair
    assert st.n_baskets == tm.n_baskets
    assert list(st.labels) == list(tm.labels)
    np.testing.assert_array_equal(st.item_counts, np.bincount(tm.indices, minlength=tm.n_items))
    pd.testing.assert_frame_equal(st.report.to_frame(), tm.report.to_frame())
    assert st.report.rows_in == tm.report.rows_in and st.report.rows_dropped == tm.report.rows_dropped
    assert "return netted against an earlier purchase of the same customer" in set(st.report.to_frame()["reason"])


def test_itemsets_and_rules_equal_local(pair):
    import basketmine.spark as bms
    st, tm = pair
    fi = bms.frequent_itemsets(st, 0.02, n_groups=5)
    local = bm.frequent_itemsets(tm, 0.02)
    got = bms.to_pandas(fi)
    same_result(got, local, "itemsets")
    # what comes back is the local type: local rules can be built from it
    assert len(bm.association_rules(got, "confidence", 0.3)) == len(bm.association_rules(local, "confidence", 0.3))
    for kw in (dict(metric="confidence", min_threshold=0.3), dict(metric="lift", min_threshold=5.0,
                                                                   min_improvement=0.01),
               dict(metric="confidence", min_threshold=0.1, significance=0.05, max_consequent_len=1),
               dict(metric="lift", top_k=7, measures="all")):
        want = bm.association_rules(local, **kw)
        same_result(bms.to_pandas(bms.association_rules(fi, **kw)), want, "antecedents", "consequents")
        assert len(want) > 0


def test_itemsets_equal_local_on_groceries(spark):
    import basketmine.spark as bms
    tm = bm.read_baskets(DATASETS / "groceries" / "groceries.csv")
    lines = pd.DataFrame({"basket": np.repeat(np.arange(tm.n_baskets), tm.basket_lengths()),
                          "item": tm.labels[tm.indices]})
    st = bms.transactions(spark.createDataFrame(lines), basket="basket", item="item")
    local = bm.frequent_itemsets(tm, 0.005)
    got = bms.to_pandas(bms.frequent_itemsets(st, 0.005))
    same_result(got, local, "itemsets")
    assert len(got) == 1001
    st.unpersist()


@pytest.mark.parametrize("kw", [dict(within="90D", min_support=0.03),
                                dict(within="60D", min_support=0.02, min_gap="1D", min_confidence=0.1)])
def test_follow_ups_equal_local(pair, kw):
    import basketmine.spark as bms
    st, tm = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # guest baskets are left out, in both
        local = bm.follow_ups(tm, **kw)
        got = bms.to_pandas(bms.follow_ups(st, **kw))
    assert len(local) > 10
    same_result(got, local, "antecedents")


@pytest.mark.parametrize("kw", [dict(), dict(freq="D", unit="W", observation_end="2011-10-31"), dict(freq="W"),
                                dict(freq="M")])
def test_summary_equals_local(pair, kw):
    import basketmine.spark as bms
    st, tm = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        local = bm.value.summary(tm, **kw)
        sdf = bms.summary(st, **kw)
    got = sdf.to_pandas()
    pd.testing.assert_frame_equal(got, local, check_dtype=False, check_index_type=False)
    assert got.attrs == local.attrs and sdf.attrs == local.attrs


def test_small_models_fit_locally_on_the_spark_summary(pair):
    import basketmine.spark as bms
    st, tm = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        s = bms.summary(st, unit="W").to_pandas()
        want = bm.value.BetaGeo().fit(bm.value.summary(tm, unit="W")).params_
    got = bm.value.BetaGeo().fit(s).params_
    pd.testing.assert_series_equal(got, want)


def test_bad_input_gets_one_clear_message(spark, frame, pair):
    import basketmine.spark as bms
    st, _ = pair
    sdf = spark.createDataFrame(frame.head(50))
    with pytest.raises(InvalidParameterError, match="'df' parameter of basketmine.spark.transactions must be a "
                                                    "pyspark.sql.DataFrame"):
        bms.transactions(frame, basket="InvoiceNo", item="StockCode")
    with pytest.raises(InvalidParameterError, match="'item' parameter .* Got 'Sku'"):
        bms.transactions(sdf, basket="InvoiceNo", item="Sku")
    with pytest.raises(InvalidParameterError, match="'cancellations' .* 'net' only with the customer, time"):
        bms.transactions(sdf, basket="InvoiceNo", item="StockCode", cancellations="net")
    with pytest.raises(InvalidParameterError, match="'min_support' parameter"):
        bms.frequent_itemsets(st, 1.5)
    with pytest.raises(InvalidParameterError, match="'st' parameter .* SparkTransactions"):
        bms.frequent_itemsets(frame, 0.1)
    with pytest.raises(InvalidParameterError, match="'itemsets' parameter"):
        bms.association_rules(frame)
    with pytest.raises(InvalidParameterError, match="'within' parameter .* Got 'soon'"):
        bms.follow_ups(st, within="soon")
    with pytest.raises(InvalidParameterError, match="'antecedents' parameter .* 'no such item'"):
        bms.follow_ups(st, antecedents=["no such item"])
    no_time = bms.transactions(sdf, basket="InvoiceNo", item="StockCode")
    with pytest.raises(InvalidParameterError, match="must carry customers"):
        bms.summary(no_time)
    with pytest.raises(bm.MiningLimitError, match="no partial collection"):
        bms.frequent_itemsets(st, 0.02, max_itemsets=5, n_groups=2)
    empty = frame.head(5).assign(Quantity=0)
    with pytest.raises(InvalidParameterError, match="all 5 rows were dropped"):
        bms.transactions(spark.createDataFrame(empty), **COLS)


def test_to_local_gives_back_the_same_log(pair):
    st, tm = pair
    back = st.to_local()
    assert back.n_baskets == tm.n_baskets and list(back.labels) == list(tm.labels)
    np.testing.assert_array_equal(back.indptr, tm.indptr)
    np.testing.assert_array_equal(back.indices, tm.indices)
    np.testing.assert_array_equal(back.times, tm.times)
    np.testing.assert_allclose(back.price, tm.price)
    assert list(back.customer_labels) == list(tm.customer_labels)


def test_malformed_frames_on_spark_give_the_local_answer(spark):
    """The bad-input corpus's frames through the Spark encoder: the local
    error, or the same cleaning report as locally."""
    import basketmine.spark as bms
    from test_bad_input import FRAMES

    outcomes = {"error": 0, "same report": 0, "not a Spark frame": 0}
    for name, frame, kw in FRAMES:
        kw = {k: v for k, v in kw.items() if k != "date_format"}   # local only: Spark casts timestamps
        if name in ("basket column is None", "time pair of three") or isinstance(kw.get("time"), list):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sdf = spark.createDataFrame(frame.astype(object).where(frame.notna(), None)) \
                    if len(frame) else None
        except Exception:  # mixed or unhashable types Spark itself cannot hold
            outcomes["not a Spark frame"] += 1
            continue
        if sdf is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                local = bm.TransactionMatrix.from_frame(frame, "b", "i", **kw)
        except InvalidParameterError:
            local = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                st = bms.transactions(sdf, "b", "i", **kw)
        except InvalidParameterError as exc:
            assert "parameter" in str(exc), (name, str(exc))
            outcomes["error"] += 1
            continue
        if local is None:   # Spark reads what pandas could not (e.g. its own timestamp casts): still accounted
            rep = st.report
            assert rep.rows_in == len(frame), name
            outcomes["same report"] += 1
            continue
        if "date" in name or "epoch" in name or "time" in name:   # Spark's own date parser: counts may differ
            assert st.report.rows_in == local.report.rows_in, name
        else:
            pd.testing.assert_frame_equal(st.report.to_frame(), local.report.to_frame(), obj=name)
            assert st.n_baskets == local.n_baskets, name
        outcomes["same report"] += 1
        st.unpersist()
    assert outcomes["error"] > 0 and outcomes["same report"] > 10, outcomes


EDGES = [  # (name, where the local function lives, the call on a module and a log)
    ("support of customers 1.5", bm, lambda m, t: m.follow_ups(t, min_support=1.5)),
    ("max_len 0", bm, lambda m, t: m.frequent_itemsets(t, 0.1, max_len=0)),
    ("within without unit", bm, lambda m, t: m.follow_ups(t, within="90")),
    ("confidence 1.5", bm, lambda m, t: m.follow_ups(t, min_confidence=1.5)),
    ("significance 1", bm, lambda m, t: m.association_rules(m.frequent_itemsets(t, 0.05), "confidence", 0.1,
                                                            significance=1)),
    ("metric unknown", bm, lambda m, t: m.association_rules(m.frequent_itemsets(t, 0.05), "zest", 0.1)),
    ("freq Y", bm.value, lambda m, t: m.summary(t, freq="Y")),
]


@pytest.mark.parametrize("name, local_mod, call", EDGES, ids=[e[0] for e in EDGES])
def test_shared_parameters_are_checked_alike_on_spark(pair, name, local_mod, call):
    import basketmine.spark as bms
    st, tm = pair
    with pytest.raises(InvalidParameterError) as local_err, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call(local_mod, tm)
    with pytest.raises(InvalidParameterError) as spark_err, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call(bms, st)
    strip = lambda e: str(e.value).replace("basketmine.spark.", "")
    assert strip(spark_err) == strip(local_err)
