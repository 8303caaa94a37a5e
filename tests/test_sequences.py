import gzip
import random
import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest

import basketmine as bm
from basketmine import InvalidParameterError, MiningLimitError, MiningLimitWarning, TransactionMatrix
from basketmine import _reference

from conftest import DATASETS, shared

DAY = pd.Timedelta("1D")


def random_log(seed, n_customers=12, n_items=5, most_baskets=5, items_per_basket=(1, 3)):
    """Customers' baskets with day timestamps; several baskets may share a day."""
    rng = random.Random(seed)
    seqs, times = [], []
    for _ in range(n_customers):
        day, seq, ts = 0, [], []
        for _ in range(rng.randint(1, most_baskets)):
            day += rng.choice([0, 0, 1, 2, 3])
            seq.append(rng.sample(range(n_items), rng.randint(*items_per_basket)))
            ts.append(pd.Timestamp("2024-01-01") + day * DAY)
        seqs.append(seq)
        times.append(ts)
    return seqs, times


def as_twin_gap(g):
    if g is None:
        return None
    return ("baskets", g) if isinstance(g, int) else ("time", pd.Timedelta(g))


def found(df):
    return dict(zip(df["sequence"], df["count"]))


CONSTRAINTS = [
    dict(),
    dict(min_gap=2),
    dict(max_gap=1),
    dict(max_span=2),
    dict(min_gap="1D"),
    dict(max_gap="0D"),
    dict(max_gap="2D", max_span="4D"),
    dict(min_gap="1D", max_gap="3D"),
    dict(min_gap=1, max_gap="1D", max_span=3),
]


@pytest.mark.parametrize("constraints", CONSTRAINTS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "none")
@pytest.mark.parametrize("items_per_basket", [(1, 1), (1, 3)], ids=["one-item", "multi-item"])
def test_patterns_equal_brute_force(constraints, items_per_basket):
    for seed in range(25):
        seqs, times = random_log(seed, items_per_basket=items_per_basket)
        tm = TransactionMatrix.from_sequences(seqs, times=times)
        db = [list(zip(t, s)) for s, t in zip(seqs, times)]
        for min_count, max_len in ((1, None), (2, 3), (3, None)):
            df = bm.sequential_patterns(tm, min_count, max_len=max_len, **constraints)
            twin = _reference.sequence_patterns(
                db, min_count, max_len, *(as_twin_gap(constraints.get(k))
                                          for k in ("min_gap", "max_gap", "max_span")))
            assert found(df) == twin
            assert len(df) == len(twin)
            assert (df["length"] == [sum(map(len, s)) for s in df["sequence"]]).all()
            assert np.allclose(df["support"], df["count"] / len(seqs))


@pytest.mark.parametrize("items_per_basket", [(1, 1), (1, 4), (2, 4)], ids=["one", "1-4", "2-4"])
def test_suffix_reduction_equals_brute_force_and_the_general_search(items_per_basket):
    # without gaps or spans the kernel mines reduced copies of the suffixes
    # (one path for one item per basket, one for several); a max_span no
    # sequence reaches sends the same question down the general search
    checked = 0
    for seed in range(30):
        rng = random.Random(seed)
        seqs, times = random_log(seed + 500, n_customers=rng.randint(1, 20), n_items=rng.randint(4, 7),
                                 most_baskets=rng.randint(1, 5), items_per_basket=items_per_basket)
        seqs = [[b[:rng.randint(1, len(b))] for b in s] for s in seqs]
        tm = TransactionMatrix.from_sequences(seqs, times=times)
        db = [list(zip(t, s)) for s, t in zip(seqs, times)]
        for min_count, max_len in ((1, 4), (2, 2), (2, None), (3, None)):
            df = bm.sequential_patterns(tm, min_count, max_len=max_len)
            assert found(df) == _reference.sequence_patterns(db, min_count, max_len)
            general = bm.sequential_patterns(tm, min_count, max_len=max_len, max_span=10**6)
            assert list(df["sequence"]) == list(general["sequence"])  # same rows, same order
            assert (df["count"].to_numpy() == general["count"].to_numpy()).all()
            checked += len(df)
    assert checked > 1000


def test_kernels_refuse_inconsistent_arrays():
    from basketmine import _sequences
    status = np.zeros(4, dtype=np.int64)
    seq_ptr = np.array([0, 2], dtype=np.int64)
    el_ptr = np.array([0, 1, 2], dtype=np.int64)
    ranks = np.array([0, 1], dtype=np.int32)
    codes = np.array([5, 7], dtype=np.int32)
    items, starts, offsets, counts, stop = _sequences.mine(seq_ptr, el_ptr, ranks, codes, 1, 5, 100,
                                                           0.0, status)
    assert counts.tolist() == [1, 1, 1] and items.tolist() == [5, 5, 7, 7] and stop == 0
    with pytest.raises(ValueError, match="one sequence database"):
        _sequences.mine(seq_ptr, el_ptr[:2], ranks, codes, 1, 5, 100, 0.0, status)
    with pytest.raises(ValueError, match="ascending within each basket"):
        _sequences.mine(seq_ptr, el_ptr, np.array([0, 2], dtype=np.int32), codes, 1, 5, 100, 0.0, status)
    with pytest.raises(ValueError, match="min_count"):
        _sequences.mine(seq_ptr, el_ptr, ranks, codes, 0, 5, 100, 0.0, status)
    times = np.array([0, 10], dtype=np.int64)
    ok = np.ones(2, dtype=np.uint8)
    roles = np.full(2, _sequences.ROLE_ANTECEDENT | _sequences.ROLE_CONSEQUENT, dtype=np.uint8)
    items, starts, offsets, counts, lags, stop = _sequences.follow_ups(
        seq_ptr, el_ptr, ranks, codes, times, ok, roles, 20, 1, 1, 100, 0.0, status)
    assert items.tolist() == [5, 5, 7, 7] and starts.tolist() == [1, 1, 1, 1]
    assert lags.shape == (3, 3) and lags[1].tolist() == [10.0, 10.0, 10.0] and np.isnan(lags[0]).all()
    with pytest.raises(ValueError, match="one value per basket"):
        _sequences.follow_ups(seq_ptr, el_ptr, ranks, codes, times[:1], ok, roles, 20, 1, 1, 100, 0.0,
                              status)
    with pytest.raises(ValueError, match="one value per rank"):
        _sequences.follow_ups(seq_ptr, el_ptr, ranks, codes, times, ok, roles[:1], 20, 1, 1, 100, 0.0,
                              status)


@pytest.mark.parametrize("target", ["closed", "maximal"])
@pytest.mark.parametrize("constraints", [dict(), dict(max_gap=1), dict(max_span="3D")])
def test_closed_and_maximal_equal_brute_force(target, constraints):
    for seed in range(20):
        seqs, times = random_log(seed + 100)
        tm = TransactionMatrix.from_sequences(seqs, times=times)
        db = [list(zip(t, s)) for s, t in zip(seqs, times)]
        for max_len in (None, 2):
            df = bm.sequential_patterns(tm, 2, target=target, max_len=max_len, **constraints)
            twin = _reference.sequence_patterns(
                db, 2, max_len, None, as_twin_gap(constraints.get("max_gap")),
                as_twin_gap(constraints.get("max_span")), target)
            assert found(df) == twin


def test_same_day_baskets_follow_each_other_unless_a_day_is_asked_for():
    tm = TransactionMatrix.from_sequences(
        [[["tv"], ["speakers"], ["cable"]]],
        times=[["2024-03-01 10:00", "2024-03-01 16:00", "2024-03-02 09:00"]])
    pairs = lambda df: {s for s in df["sequence"] if len(s) == 2}
    tv, sp, ca = frozenset({"tv"}), frozenset({"speakers"}), frozenset({"cable"})
    assert pairs(bm.sequential_patterns(tm, 1)) == {(tv, sp), (tv, ca), (sp, ca)}
    assert pairs(bm.sequential_patterns(tm, 1, min_gap="1D")) == set()  # 23 h is not a day
    assert pairs(bm.sequential_patterns(tm, 1, min_gap="12h")) == {(tv, ca), (sp, ca)}
    assert pairs(bm.sequential_patterns(tm, 1, max_gap="0D")) == set()
    assert pairs(bm.sequential_patterns(tm, 1, max_gap="6h")) == {(tv, sp)}
    assert pairs(bm.sequential_patterns(tm, 1, max_gap=1)) == {(tv, sp), (sp, ca)}
    assert (tv, sp, ca) not in found(bm.sequential_patterns(tm, 1, max_span="20h"))
    assert (tv, sp, ca) in found(bm.sequential_patterns(tm, 1, max_span="23h"))


def test_pattern_order_is_stable_and_documented_shape():
    seqs, times = random_log(7)
    tm = TransactionMatrix.from_sequences(seqs, times=times)
    a = bm.sequential_patterns(tm, 2)
    b = bm.sequential_patterns(tm, 2)
    assert list(a["sequence"]) == list(b["sequence"])
    assert list(a.columns) == ["support", "count", "sequence", "length"]
    assert a.attrs["n_customers"] == len(seqs) and a.attrs["truncated"] is False


def test_sequence_column_behaves_like_tuples_of_frozensets():
    tm = TransactionMatrix.from_sequences([[["a", "b"], ["c"]], [["a", "b"], ["c"], ["a"]]])
    df = bm.sequential_patterns(tm, 2)
    col = df["sequence"]
    assert isinstance(col.array, bm.SequenceArray)
    pattern = (frozenset({"a", "b"}), frozenset({"c"}))
    assert pattern in col.tolist()
    assert (col == pattern).sum() == 1
    assert col.iloc[0] == col.tolist()[0]
    assert "<{a, b} {c}>" in repr(df)
    twice = pd.concat([df, df])
    assert len(twice) == 2 * len(df) and list(twice["sequence"]) == 2 * list(col)
    plain = col.astype(object)
    assert plain.dtype == object and plain.iloc[0] == col.iloc[0]
    rebuilt = bm.SequenceArray.from_sequences(col.tolist())
    assert list(rebuilt) == list(col)


def test_caps_warn_or_raise():
    seqs, times = random_log(3, n_customers=30, most_baskets=8)
    tm = TransactionMatrix.from_sequences(seqs, times=times)
    with pytest.warns(MiningLimitWarning, match="max_patterns"):
        df = bm.sequential_patterns(tm, 1, max_patterns=10)
    assert len(df) == 10 and df.attrs["truncated"] and df.attrs["stop_reason"] == "max_patterns"
    with pytest.raises(MiningLimitError, match="closed"):
        bm.sequential_patterns(tm, 1, max_patterns=10, target="closed")


def test_guest_baskets_are_reported_not_silently_dropped():
    df = pd.DataFrame({"basket": [1, 1, 2, 3], "item": ["a", "b", "a", "b"],
                       "customer": ["x", "x", None, "x"],
                       "time": pd.to_datetime(["2024-01-01"] * 2 + ["2024-01-02", "2024-01-05"])})
    tm = TransactionMatrix.from_frame(df, "basket", "item", customer="customer", time="time")
    with pytest.warns(UserWarning, match="1 of 3 baskets have no customer"):
        out = bm.sequential_patterns(tm, 1)
    assert out.attrs["baskets_without_customer"] == 1 and out.attrs["n_customers"] == 1


@pytest.mark.parametrize("kwargs, match", [
    (dict(max_gap="30D"), "needs basket timestamps"),
    (dict(min_gap="-1D"), "'min_gap' parameter .* duration"),
    (dict(max_span=-1), "'max_span' parameter"),
    (dict(min_gap=0), "'min_gap' parameter .* int >= 1"),
    (dict(min_gap=3, max_gap=2), "'min_gap' parameter .* must not exceed max_gap"),
    (dict(max_gap="soon"), "'max_gap' parameter"),
    (dict(target="longest"), "'target' parameter"),
    (dict(max_len=0), "'max_len' parameter"),
])
def test_bad_parameters_name_themselves(kwargs, match):
    tm = TransactionMatrix.from_sequences([[["a"], ["b"]], [["a"]]])
    with pytest.raises(InvalidParameterError, match=match):
        bm.sequential_patterns(tm, 1, **kwargs)


def test_bad_input_is_refused_clearly():
    with pytest.raises(InvalidParameterError, match="no customers"):
        bm.sequential_patterns(TransactionMatrix.from_baskets([["a"], ["b"]]), 1)
    with pytest.raises(InvalidParameterError, match="must not decrease within a sequence"):
        TransactionMatrix.from_sequences([[["a"], ["b"]]], times=[["2024-02-01", "2024-01-01"]])
    with pytest.raises(InvalidParameterError, match="one timestamp per basket"):
        TransactionMatrix.from_sequences([[["a"], ["b"]]], times=[["2024-02-01"]])
    with pytest.raises(InvalidParameterError, match="distinct labels"):
        TransactionMatrix.from_sequences([[["a"]], [["b"]]], customers=["x", "x"])
    with pytest.raises(InvalidParameterError, match="sequence 1 is str"):
        TransactionMatrix.from_sequences([[["a"]], "ab"])
    with pytest.raises(InvalidParameterError, match="'min_support' parameter"):
        bm.sequential_patterns(TransactionMatrix.from_sequences([[["a"]]]), 1.5)


def test_spmf_round_trip_keeps_multi_item_elements(tmp_path):
    seqs = [[[1, 2], [3]], [[3], [1, 2, 4]], [[5]]]
    tm = TransactionMatrix.from_sequences(seqs)
    path = tmp_path / "seq.txt"
    bm.write_spmf(tm, path)
    assert path.read_text().splitlines()[0] == "1 2 -1 3 -1 -2"
    back = bm.read_spmf(path)
    assert found(bm.sequential_patterns(back, 1)) == found(bm.sequential_patterns(tm, 1))


# ---------------------------------------------------------------- follow-ups

def follow_found(df):
    return {(r.antecedents, r.consequent): (r.customers, r.antecedent_customers, r.base_rate,
                                             (r.lag_days_q1, r.lag_days_median, r.lag_days_q3))
            for r in df.itertuples()}


@pytest.mark.parametrize("kwargs", [
    dict(within="2D"),
    dict(within="4D", max_antecedent_len=2),
    dict(within="10D", min_gap="1D"),
    dict(within="4D", min_gap=2),
    dict(within="4D", antecedents=[0, 1, 2], consequents=[2, 3]),
], ids=str)
def test_follow_ups_equal_brute_force(kwargs):
    checked = 0
    for seed in range(40):
        seqs, times = random_log(seed, n_customers=random.Random(seed).randint(3, 15), most_baskets=6)
        tm = TransactionMatrix.from_sequences(seqs, times=times)
        flat = [t for ts in times for t in ts]
        if max(flat) - min(flat) < pd.Timedelta(kwargs["within"]):
            continue  # no purchase observed for a whole window (an error, tested below)
        for name in ("antecedents", "consequents"):  # only items this log has
            if name in kwargs:
                kwargs = {**kwargs, name: [x for x in kwargs[name] if x in set(tm.labels)]}
        for min_count in (1, 2):
            df = bm.follow_ups(tm, min_support=min_count, **kwargs)
            db = [list(zip(t, s)) for s, t in zip(seqs, times)]
            twin = _reference.follow_up_rules(
                db, pd.Timedelta(kwargs["within"]), min_count, kwargs.get("max_antecedent_len", 1),
                as_twin_gap(kwargs.get("min_gap")),
                antecedents=set(kwargs["antecedents"]) if "antecedents" in kwargs else None,
                consequents=set(kwargs["consequents"]) if "consequents" in kwargs else None)
            got = follow_found(df)
            assert set(got) == set(twin)
            for key, (c, a, base, lags) in twin.items():
                quart = np.percentile([lag / DAY for lag in lags], [25, 50, 75])
                assert got[key][:2] == (c, a)
                assert got[key][2] == pytest.approx(base)
                assert np.allclose(got[key][3], quart)
            assert np.allclose(df["confidence"], df["customers"] / df["antecedent_customers"])
            assert np.allclose(df["lift"], df["confidence"] / df["base_rate"])
            checked += len(df)
    assert checked > 50


def test_follow_up_confidence_ignores_purchases_too_late_to_be_followed():
    # b always comes 10 days after a; customers 3 and 4 bought a too late to be seen
    seqs = [[["a"], ["b"]]] * 2 + [[["a"]]] * 2
    times = [["2024-01-01", "2024-01-11"], ["2024-01-05", "2024-01-15"],
             ["2024-03-25"], ["2024-03-30"]]
    tm = TransactionMatrix.from_sequences(seqs, times=times)
    fu = bm.follow_ups(tm, within="30D", min_support=1)
    rule = fu[(fu["antecedents"] == {"a"}) & (fu["consequent"] == "b")].iloc[0]
    assert rule["antecedent_customers"] == 2 and rule["confidence"] == 1.0
    assert rule["lag_days_median"] == 10.0
    later = bm.follow_ups(tm, within="30D", min_support=1, observation_end="2024-12-31")
    rule = later[(later["antecedents"] == {"a"}) & (later["consequent"] == "b")].iloc[0]
    assert rule["antecedent_customers"] == 4 and rule["confidence"] == 0.5


def test_follow_ups_at_category_level():
    seqs = [[["tv-a"], ["spk-1"]], [["tv-b"], ["spk-2"]], [["tv-a"]]]
    times = [["2024-01-01", "2024-01-20"], ["2024-01-01", "2024-02-01"], ["2024-01-02"]]
    tm = TransactionMatrix.from_sequences(seqs, times=times)
    hierarchy = {"tv-a": "TV", "tv-b": "TV", "spk-1": "audio", "spk-2": "audio"}
    fu = bm.follow_ups(tm, within="60D", min_support=2, hierarchy=hierarchy,
                       observation_end="2024-06-01")
    assert list(zip(fu["antecedents"], fu["consequent"])) == [(frozenset({"TV"}), "audio")]
    assert fu["customers"].iloc[0] == 2 and fu["antecedent_customers"].iloc[0] == 3


@pytest.mark.parametrize("kwargs, match", [
    (dict(within=90), "'within' parameter .* duration"),
    (dict(within="0D"), "'within' parameter"),
    (dict(within="5D", min_gap="10D"), "'min_gap' parameter .* must not exceed within"),
    (dict(observation_end="2023-01-01"), "'observation_end' parameter .* at or after the last basket"),
    (dict(antecedents=["nope"]), "'antecedents' parameter .* 'nope'"),
    (dict(within="999D"), "longer than the log allows"),
    (dict(min_confidence=2), "'min_confidence' parameter"),
    (dict(hierarchy=["x"]), "'hierarchy' parameter"),
])
def test_follow_up_bad_parameters(kwargs, match):
    tm = TransactionMatrix.from_sequences([[["a"], ["b"]], [["a"]]],
                                          times=[["2024-01-01", "2024-01-03"], ["2024-01-02"]])
    kwargs = {"within": "1D", **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        bm.follow_ups(tm, min_support=1, **kwargs)


def test_follow_ups_need_times():
    with pytest.raises(InvalidParameterError, match="timestamps"):
        bm.follow_ups(TransactionMatrix.from_sequences([[["a"], ["b"]]]), "30D", 1)


def test_follow_ups_on_the_shipped_online_retail_sample():
    tm = bm.read_csv(DATASETS / "online_retail" / "online_retail_sample.csv.gz", "InvoiceNo",
                     "StockCode", customer="CustomerID", time="InvoiceDate", quantity="Quantity",
                     price="UnitPrice")
    with pytest.warns(UserWarning, match="have no customer"):
        fu = bm.follow_ups(tm, "90D", min_support=0.03, min_confidence=0.1)
    assert len(fu) > 0
    assert fu["confidence"].is_monotonic_decreasing
    assert ((fu["lag_days_q1"] <= fu["lag_days_median"]) & (fu["lag_days_median"] <= fu["lag_days_q3"])).all()
    assert fu["lag_days_q3"].max() <= 90 and fu["lag_days_q1"].min() >= 0
    assert (fu["customers"] <= fu["antecedent_customers"]).all()
    assert fu.attrs["n_eligible_customers"] <= fu.attrs["n_customers"]


# ---------------------------------------------------------------- real data

def spmf_lists(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as fh:
        return [[int(x) for x in line.split() if int(x) >= 0] for line in fh if line.strip()]


@pytest.mark.parametrize("name, file, min_count", [
    ("sign", "SIGN.txt", 365),
    ("bms1", "BMS1_spmf.txt.gz", 60),
    ("kosarak10k_seq", "kosarak10k_spmf.txt", 100),
])
def test_equal_to_prefixspan_py_on_real_sequences(name, file, min_count):
    prefixspan = pytest.importorskip("prefixspan")
    path = shared(name, file)
    expected = {tuple(p): c for c, p in prefixspan.PrefixSpan(spmf_lists(path)).frequent(min_count)}
    df = bm.sequential_patterns(bm.read_spmf(path), min_count)
    got = {tuple(next(iter(e)) for e in s): c for s, c in zip(df["sequence"], df["count"])}
    assert len(got) == len(expected) > 100
    assert got == expected


def test_equal_to_spark_prefixspan_on_multi_item_baskets():
    if shutil.which("java") is None:
        pytest.skip("needs Java for pyspark")
    pytest.importorskip("pyspark")
    from pyspark.ml.fpm import PrefixSpan
    from pyspark.sql import SparkSession

    tm = bm.read_csv(DATASETS / "online_retail" / "online_retail_sample.csv.gz", "InvoiceNo",
                     "StockCode", customer="CustomerID", time="InvoiceDate", quantity="Quantity")
    tm = tm.select(tm.customer_codes >= 0)
    seqs = tm.customer_sequences()
    rows = [[sorted(tm.labels[tm.indices[tm.indptr[b]:tm.indptr[b + 1]]].tolist()) for b in
             seqs.baskets[seqs.indptr[k]:seqs.indptr[k + 1]]] for k in range(len(seqs))]
    assert max(len(e) for r in rows for e in r) > 1  # multi-item elements
    spark = (SparkSession.builder.master("local[2]").appName("basketmine-test")
             .config("spark.ui.enabled", "false").getOrCreate())
    try:
        spark.sparkContext.setLogLevel("ERROR")
        sdf = spark.createDataFrame([(r,) for r in rows], "sequence array<array<string>>")
        result = PrefixSpan(minSupport=0.06, maxPatternLength=1000).findFrequentSequentialPatterns(sdf)
        expected = {tuple(frozenset(e) for e in row.sequence): row.freq for row in result.collect()}
    finally:
        spark.stop()
    df = bm.sequential_patterns(tm, 0.06)
    assert len(expected) > 100 and any(len(e) > 1 for s in expected for e in s)
    assert found(df) == expected


@pytest.mark.parametrize("within", ["90", " 7 ", "1.5", "1e3"])
def test_follow_ups_reject_a_duration_string_without_a_unit(within):
    """pandas reads '90' as 90 nanoseconds; basketmine asks for the unit."""
    tm = bm.TransactionMatrix.from_frame(
        pd.DataFrame({"b": ["1", "2"], "i": ["a", "b"], "c": ["x", "x"],
                      "t": ["2011-01-01", "2011-02-01"]}), "b", "i", customer="c", time="t")
    with pytest.raises(bm.InvalidParameterError, match=r"'within'.*without a unit.*'D' \(days\)|without a unit"):
        bm.follow_ups(tm, within=within)
    assert bm.follow_ups(tm, within="20D", min_support=1).attrs["n_customers"] == 1


def test_a_stopped_base_rate_run_is_surfaced(monkeypatch):
    """If the second (base-rate) search stops early, the result says so."""
    from basketmine import sequences as S
    real, calls = S._follow, []

    def follow(*a, **k):
        out, reason = real(*a, **k)
        calls.append(1)
        return out, (reason if len(calls) == 1 else "the time limit")

    monkeypatch.setattr(S, "_follow", follow)
    tm = bm.TransactionMatrix.from_frame(
        pd.DataFrame({"b": ["1", "2", "3", "4"], "i": ["a", "b", "a", "b"], "c": ["x", "x", "y", "y"],
                      "t": ["2011-01-01", "2011-01-05", "2011-01-02", "2011-01-04"]}), "b", "i", customer="c", time="t")
    with pytest.warns(MiningLimitWarning, match="base-rate run stopped at the time limit"):
        fu = bm.follow_ups(tm, within="2D", min_support=1)
    assert fu.attrs["truncated"] and fu.attrs["stop_reason"] == "base rates: the time limit"
