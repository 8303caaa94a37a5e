import numpy as np
import pandas as pd
import pytest

import basketmine as bm
from basketmine import _reference as ref
from basketmine import InvalidParameterError, TransactionMatrix

from conftest import DATASETS


def rows_of(tm):
    return [sorted(map(str, b)) for b in tm.to_baskets()]


def test_from_baskets_encodes_sorted_vocabulary_and_counts_drops():
    tm = TransactionMatrix.from_baskets([["b", "a", "b"], ["c", None], [], ["a", float("nan")]])
    assert list(tm.labels) == ["a", "b", "c"]
    assert tm.n_baskets == 4
    assert tm.to_baskets() == [["a", "b"], ["c"], [], ["a"]]
    rep = tm.report.to_frame().set_index("reason")
    assert rep.loc["missing item (None or NaN)", "rows"] == 2
    assert rep.loc["item repeated in a basket", "rows"] == 1
    assert tm.indices.dtype == np.int32


def test_from_baskets_rejects_bad_input():
    with pytest.raises(InvalidParameterError, match="baskets\\[1\\]"):
        TransactionMatrix.from_baskets([["a"], "abc"])
    with pytest.raises(InvalidParameterError, match="list"):
        TransactionMatrix.from_baskets([["a"], [["x"]]])
    with pytest.raises(InvalidParameterError, match="mix of"):
        TransactionMatrix.from_baskets([["a", 1]])
    with pytest.raises(InvalidParameterError, match="iterable of baskets"):
        TransactionMatrix.from_baskets(5)


def test_from_onehot_matches_from_baskets():
    df = pd.DataFrame({"x": [True, False, True], "y": [1, 1, 0], "z": [0, 0, 0]})
    tm = TransactionMatrix.from_onehot(df)
    assert tm.to_baskets() == [["x", "y"], ["y"], ["x"]]
    sparse = df.astype(pd.SparseDtype(bool, False))
    assert TransactionMatrix.from_onehot(sparse).to_baskets() == tm.to_baskets()
    with pytest.raises(InvalidParameterError, match="True/False or 0/1"):
        TransactionMatrix.from_onehot(pd.DataFrame({"x": [2, 0]}))


def lines():
    return pd.DataFrame({
        "inv": ["1", "1", "1", "2", "2", None, "3", "4", "4"],
        "item": ["tea", "milk", "tea", "tea", None, "tea", "milk", "tea", "jam"],
        "cust": ["c1", "c1", "c1", "c2", "c2", "c2", "c1", "c1", "c1"],
        "t": ["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02",
              "2024-01-02", "2024-01-05", "2024-01-09", "2024-01-09"],
        "q": [1, 2, 3, 1, 1, 1, -1, 5, 0],
        "p": [2.0, 1.0, 4.0, 2.0, 2.0, 2.0, 1.0, 2.0, 3.0],
    })


def test_from_frame_cleaning_report_accounts_for_every_row():
    df = lines()
    tm = TransactionMatrix.from_frame(df, "inv", "item", "cust", "t", "q", "p", cancellations="drop")
    rep = tm.report
    dropped = rep.to_frame().query("action == 'dropped'")["rows"].sum()
    merged = rep.to_frame().query("action == 'merged'")["rows"].sum()
    assert dropped == 4  # missing basket, missing item, zero quantity, negative quantity
    assert merged == 1   # tea twice in invoice 1
    assert tm.nnz + dropped + merged == len(df)
    assert list(tm.basket_ids) == ["1", "2", "4"]
    i = list(tm.labels).index("tea")
    line = tm.indptr[0] + list(tm.indices[tm.indptr[0]:tm.indptr[1]]).index(i)
    assert tm.quantity[line] == 4
    assert tm.price[line] == pytest.approx((1 * 2.0 + 3 * 4.0) / 4)
    assert list(tm.customer_labels[tm.customer_codes]) == ["c1", "c2", "c1"]


def test_cancellations_are_netted_by_default_when_the_log_allows():
    df = lines()
    tm = TransactionMatrix.from_frame(df, "inv", "item", "cust", "t", "q", "p")
    rep = tm.report.to_frame()
    # invoice 3's return of one milk is set against c1's two milks of invoice 1; the basket goes
    assert list(tm.basket_ids) == ["1", "2", "4"]
    milk = list(tm.labels).index("milk")
    first = dict(zip(tm.indices[tm.indptr[0]:tm.indptr[1]], tm.quantity[tm.indptr[0]:tm.indptr[1]]))
    assert first[milk] == 1
    assert rep.set_index("reason").loc["return netted against an earlier purchase of the same customer",
                                       "rows"] == 1
    assert tm.nnz + rep.loc[rep.action != "note", "rows"].sum() == len(df)
    assert tm.to_baskets() == TransactionMatrix.from_frame(df, "inv", "item", "cust", "t", "q", "p",
                                                           cancellations="net").to_baskets()
    # without a customer there is nothing to net against: returns are dropped, and the report says why
    tm = TransactionMatrix.from_frame(df, "inv", "item", time="t", quantity="q")
    rep = tm.report.to_frame().set_index("reason")
    assert rep.loc["negative quantity (return or cancellation); netting it needs the customer and time columns",
                   "rows"] == 1


def test_cancellations_net_against_earlier_purchases():
    df = pd.DataFrame({
        "inv": ["1", "2", "C3", "4"], "item": ["tea", "tea", "tea", "jam"],
        "cust": ["a", "a", "a", "a"],
        "t": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"], "q": [2, 3, -4, 1]})
    tm = TransactionMatrix.from_frame(df, "inv", "item", "cust", "t", "q", cancellations="net")
    # the return of 4 takes the 3 of invoice 2 (latest first) and 1 of invoice 1
    assert list(tm.basket_ids) == ["1", "4"]
    assert tm.quantity.tolist() == [1.0, 1.0]
    rep = tm.report.to_frame().set_index("reason")["rows"]
    assert rep["return netted against an earlier purchase of the same customer"] == 1
    assert rep["purchase line fully returned (netted to zero)"] == 1
    kept = TransactionMatrix.from_frame(df, "inv", "item", "cust", "t", "q", cancellations="keep")
    assert kept.n_baskets == 4 and kept.quantity.min() == -4
    with pytest.raises(InvalidParameterError, match="'cancellations'"):
        TransactionMatrix.from_frame(df, "inv", "item", cancellations="net")
    with pytest.raises(InvalidParameterError, match="'cancellations'"):
        TransactionMatrix.from_frame(df, "inv", "item", cancellations="ignore")


def test_from_frame_errors_name_the_parameter():
    df = lines()
    with pytest.raises(InvalidParameterError, match="'item' parameter .* Got 'sku'"):
        TransactionMatrix.from_frame(df, "inv", "sku")
    with pytest.raises(InvalidParameterError, match="at least one usable row"):
        TransactionMatrix.from_frame(df.assign(item=None), "inv", "item")
    mixed = df.assign(item=["tea", 1, "x", "y", "z", "w", "v", "u", "s"])
    with pytest.raises(InvalidParameterError, match="mix of"):
        TransactionMatrix.from_frame(mixed, "inv", "item")
    with pytest.raises(InvalidParameterError, match="'time'"):
        TransactionMatrix.from_frame(df.assign(t="soon"), "inv", "item", time="t")


def test_views_split_sequences_and_frequencies():
    tm = TransactionMatrix.from_frame(lines(), "inv", "item", "cust", "t", "q", "p",
                                      cancellations="keep")
    before, after = tm.split("2024-01-03")
    assert before.n_baskets + after.n_baskets == tm.n_baskets
    assert (before.times < np.datetime64("2024-01-03")).all()
    assert (after.times >= np.datetime64("2024-01-03")).all()
    with pytest.raises(InvalidParameterError, match="'cutoff'"):
        tm.split("2030-01-01")
    seqs = tm.customer_sequences()
    as_lists = seqs.to_lists()
    assert as_lists["c1"] == [["milk", "tea"], ["milk"], ["jam", "tea"]] or \
        as_lists["c1"] == [["milk", "tea"], ["milk"], ["tea"]]
    assert as_lists["c2"] == [["tea"]]
    freq = tm.item_frequencies()
    assert freq.iloc[0] == freq.max() and freq.index[0] == "tea"
    sub = tm.for_customers(["c2"])
    assert sub.n_baskets == 1 and sub.to_baskets() == [["tea"]]
    assert tm.select(np.array([True, False, True, False])).n_baskets == 2


def test_readers_round_trip(tmp_path):
    tm = TransactionMatrix.from_baskets([[3, 1], [2], [1, 2, 3, 3]])
    p = tmp_path / "x.dat"
    bm.write_fimi(tm, p)
    back = bm.read_fimi(p)
    assert back.to_baskets() == tm.to_baskets()
    s = tmp_path / "x.txt"
    s.write_text("1 2 -1 3 -1 -2\n4 -1 1 -2\n")
    seq = bm.read_spmf(s)
    assert seq.to_baskets() == [[1, 2], [3], [4], [1]]
    assert seq.customer_sequences().to_lists() == {0: [[1, 2], [3]], 1: [[4], [1]]}
    bm.write_spmf(seq, tmp_path / "y.txt")
    assert bm.read_spmf(tmp_path / "y.txt").to_baskets() == seq.to_baskets()
    with pytest.raises(InvalidParameterError, match="integers"):
        (tmp_path / "bad.dat").write_text("1 a\n")
        bm.read_fimi(tmp_path / "bad.dat")
    with pytest.raises(InvalidParameterError, match="existing file"):
        bm.read_fimi(tmp_path / "missing.dat")


def test_read_csv_and_parquet_agree(tmp_path):
    df = lines()
    df.to_csv(tmp_path / "l.csv", index=False)
    df.to_parquet(tmp_path / "l.parquet", index=False)
    cols = dict(basket="inv", item="item", customer="cust", time="t", quantity="q", price="p")
    a = bm.read_csv(tmp_path / "l.csv", **cols)
    b = bm.read_parquet(tmp_path / "l.parquet", **cols)
    assert a.to_baskets() == b.to_baskets()
    assert np.allclose(a.revenue, b.revenue)


def test_shipped_datasets_load():
    g = bm.read_baskets(DATASETS / "groceries" / "groceries.csv")
    assert g.shape == (9835, 169) and g.nnz == 43367
    tm = bm.read_csv(DATASETS / "online_retail" / "online_retail_sample.csv.gz",
                     basket="InvoiceNo", item="StockCode", customer="CustomerID",
                     time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    rep = tm.report.to_frame()
    assert tm.report.rows_in == 47928
    assert rep.loc[rep.action != "note", "rows"].sum() + tm.nnz == 47928
    assert rep.set_index("reason").loc["return netted against an earlier purchase of the same customer",
                                       "rows"] > 0
    assert tm.times.min() >= np.datetime64("2010-12-01")
    h = pd.read_csv(DATASETS / "groceries" / "groceries_item_hierarchy.csv").set_index("item")
    agg = g.aggregate(h["level2"].to_dict())
    assert agg.n_items == 55 and agg.n_baskets == g.n_baskets


def test_small_int_baskets_encode_as_the_general_path_does():
    # lists of small ints take a lookup-table path; tuples take the general one
    rng = np.random.default_rng(5)
    baskets = [rng.integers(0, 3000, rng.integers(0, 12)).tolist() for _ in range(500)]
    fast = TransactionMatrix.from_baskets(baskets)
    general = TransactionMatrix.from_baskets([tuple(b) for b in baskets])
    assert list(fast.labels) == list(general.labels)
    np.testing.assert_array_equal(fast.indptr, general.indptr)
    np.testing.assert_array_equal(fast.indices, general.indices)
    assert fast.report.to_frame().equals(general.report.to_frame())
    big = TransactionMatrix.from_baskets([[5, 2**40], [5]])  # past the table: the general path
    assert list(big.labels) == [5, 2**40] and big.n_items == 2


def test_between_keeps_nanosecond_bounds():
    """A bound one nanosecond after the last basket keeps it (a conversion
    through datetime would drop the nanosecond and the basket)."""
    df = pd.DataFrame({"b": ["1", "2"], "i": ["a", "b"], "t": ["2011-01-01 10:00", "2011-01-02 10:00"]})
    tm = bm.TransactionMatrix.from_frame(df, "b", "i", time="t")
    last = pd.Timestamp(tm.times.max())
    assert tm.between(None, last + pd.Timedelta(1, "ns")).n_baskets == 2
    assert tm.between(None, last).n_baskets == 1
    assert tm.between(last, None).n_baskets == 1
    assert tm.between(last + pd.Timedelta(1, "ns"), None).n_baskets == 0


def test_net_matches_the_latest_earlier_purchase():
    """A return nets against the purchase before it, even when the customer
    bought the item again later."""
    df = pd.DataFrame({"inv": ["1", "C2", "3"], "item": ["a"] * 3, "cust": ["x"] * 3,
                       "t": ["2011-01-01", "2011-01-02", "2011-02-01"], "q": [2, -2, 3]})
    tm = TransactionMatrix.from_frame(df, "inv", "item", customer="cust", time="t", quantity="q",
                                      cancellations="net")
    assert tm.n_baskets == 1 and tm.quantity.tolist() == [3.0]
    assert tm.times[0] == np.datetime64("2011-02-01")


@pytest.mark.parametrize("seed", range(5))
def test_net_equals_twin(seed):
    rng = np.random.default_rng(seed)
    n = 60
    rows = [(f"c{rng.integers(3)}", f"i{rng.integers(3)}", int(rng.integers(0, 20)),
             int(rng.choice([-3, -2, -1, 1, 2, 3, 4]))) for _ in range(n)]
    df = pd.DataFrame(rows, columns=["cust", "item", "day", "q"])
    df["inv"] = [f"b{i}" for i in range(n)]  # one line per basket: quantities stay per row
    df["t"] = pd.Timestamp("2011-01-01") + pd.to_timedelta(df["day"], unit="D")
    tm = TransactionMatrix.from_frame(df, "inv", "item", customer="cust", time="t", quantity="q",
                                      cancellations="net")
    want, unmatched = ref.net_returns(rows)
    got = dict(zip(tm.basket_ids, tm.quantity))
    assert got == {f"b{i}": float(q) for i, q in want.items()}
    rep = tm.report.to_frame().set_index("reason")["rows"]
    assert rep.get("return with no earlier purchase to net against", 0) == unmatched


def test_exclude_drops_lines_and_emptied_baskets_and_counts_them():
    df = pd.DataFrame({"b": ["1", "1", "2", "3", "3"], "i": ["tea", "POST", "POST", "milk", "DOT"],
                       "c": ["x", "x", "y", "x", "z"], "t": ["2011-01-01", "2011-01-01", "2011-01-02",
                                                              "2011-01-03", "2011-01-03"],
                       "q": [1, 1, 1, 2, 1]})
    tm = TransactionMatrix.from_frame(df, "b", "i", customer="c", time="t", quantity="q")
    clean = tm.exclude(["POST"], pattern="D.T")
    assert clean.to_baskets() == [["tea"], ["milk"]]
    assert clean.quantity.tolist() == [1.0, 2.0] and list(clean.basket_ids) == ["1", "3"]
    assert clean.customer_labels[clean.customer_codes].tolist() == ["x", "x"]
    rep = clean.report.to_frame().set_index("reason")
    assert rep["rows"].iloc[-2:].tolist() == [3, 1]
    assert clean.report.rows_in == 5 and clean.report.rows_dropped == 3
    assert tm.report.rows_dropped == 0  # the original is untouched
    with pytest.warns(UserWarning, match="not in the log"):
        tm.exclude(["NOPE"])
    with pytest.raises(InvalidParameterError, match="'pattern' parameter"):
        tm.exclude(pattern="(")


def test_an_item_in_most_baskets_is_flagged_in_the_report():
    tm = TransactionMatrix.from_baskets([["NONE", "a"], ["NONE"], ["b", "NONE"], ["c"]] * 10)
    notes = [r for r, _, a in tm.report.entries if a == "note"]
    assert any("'NONE' is in 75% of baskets" in n for n in notes)
    assert not any("'a'" in n for n in notes)


BAKERY = pd.DataFrame({"Date": ["30/10/2016", "30/10/2016", "31/10/2016", "13/11/2016"],
                       "Time": ["09:58:11", "10:05:34", "10:08:41", "10:13:03"],
                       "Transaction": ["1", "2", "3", "4"], "Item": ["Bread", "Jam", "Muffin", "NONE"]})


def test_separate_date_and_time_columns():
    tm = TransactionMatrix.from_frame(BAKERY, "Transaction", "Item", time=["Date", "Time"],
                                      date_format="%d/%m/%Y %H:%M:%S")
    assert pd.Timestamp(tm.times.min()) == pd.Timestamp("2016-10-30 09:58:11")
    assert pd.Timestamp(tm.times.max()) == pd.Timestamp("2016-11-13 10:13:03")


def test_a_time_of_day_column_alone_is_a_clear_error():
    with pytest.raises(InvalidParameterError, match=r"'Time', which holds times of day without dates.*"
                                                    r"time=\[<date column>, 'Time'\]"):
        TransactionMatrix.from_frame(BAKERY, "Transaction", "Item", time="Time")


def test_day_first_dates_without_a_format_warn_with_the_remedy():
    with pytest.warns(UserWarning, match="give date_format="):
        TransactionMatrix.from_frame(BAKERY, "Transaction", "Item", time=["Date", "Time"])
    with pytest.raises(InvalidParameterError, match="with date_format='%Y'"):
        TransactionMatrix.from_frame(BAKERY, "Transaction", "Item", time="Date", date_format="%Y")


def test_infinite_prices_and_quantities_are_counted_not_used():
    df = pd.DataFrame({"b": ["1", "1", "2", "3"], "i": ["a", "b", "a", "c"],
                       "q": [1, np.inf, 2, 1], "p": [1.0, 2.0, np.inf, -np.inf]})
    tm = TransactionMatrix.from_frame(df, "b", "i", quantity="q", price="p")
    rep = tm.report.to_frame().set_index("reason")["rows"]
    assert rep["infinite quantity ('q')"] == 1
    assert rep["infinite price ('p'); line kept with NaN price"] == 2
    assert np.isfinite(np.nan_to_num(tm.revenue)).all() and np.isnan(tm.price).sum() == 2
    assert tm.report.rows_in == 4 and tm.report.rows_dropped == 1


@pytest.mark.parametrize("scale, unit", [(1, "seconds"), (1000, "milliseconds")])
def test_epoch_numbers_are_read_in_the_unit_their_size_says(scale, unit):
    secs = np.array([1293840000, 1293926400])  # 2011-01-01, 2011-01-02
    df = pd.DataFrame({"b": ["1", "2"], "i": ["a", "b"], "t": secs * scale})
    with pytest.warns(UserWarning, match=f"'t' holds numbers; read as {unit} since 1970-01-01 "
                                         r"\(2011-01-01 00:00:00 \.\. 2011-01-02 00:00:00\)"):
        tm = TransactionMatrix.from_frame(df, "b", "i", time="t")
    assert pd.Timestamp(tm.times.min()) == pd.Timestamp("2011-01-01")


@pytest.mark.parametrize("frame, kw, match", [
    ({"b": [[1], [2]], "i": ["x", "y"]}, {}, "'basket' parameter .* single labels"),
    ({"b": ["1", "2"], "i": ["x", "y"], "c": [[1], [2]]}, {"customer": "c"}, "'customer' parameter .* row 0 holds"),
    ({"b": ["1", "2"], "i": [{"x"}, "y"]}, {}, "'item' parameter"),
])
def test_list_valued_ids_are_a_clear_error(frame, kw, match):
    with pytest.raises(InvalidParameterError, match=match):
        TransactionMatrix.from_frame(pd.DataFrame(frame), "b", "i", **kw)


def test_onehot_duplicate_columns_and_missing_cells():
    with pytest.raises(InvalidParameterError, match=r"one column per item; \['a'\] appear more than once"):
        TransactionMatrix.from_onehot(pd.DataFrame([[1, 0, 1]], columns=["a", "a", "b"]).astype(bool))
    df = pd.DataFrame({"a": pd.array([True, pd.NA], dtype="boolean"), "b": pd.array([False, True], dtype="boolean")})
    tm = TransactionMatrix.from_onehot(df)
    assert tm.to_baskets() == [["a"], ["b"]]
    assert tm.report.to_frame()["reason"].tolist() == ["missing (NA) cell read as the item being absent"]
