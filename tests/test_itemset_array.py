import numpy as np
import pandas as pd
import pytest

import basketmine as bm
from basketmine import ItemsetArray


@pytest.fixture
def df():
    tm = bm.TransactionMatrix.from_baskets([["tea", "jam"], ["tea"], ["jam", "tea", "bun"], ["bun"]])
    return bm.frequent_itemsets(tm, 1)


def test_behaves_like_a_column_of_frozensets(df):
    plain = df["itemsets"].astype(object)
    assert isinstance(df["itemsets"].array, ItemsetArray)
    assert all(type(s) is frozenset for s in df["itemsets"])
    assert df["itemsets"].tolist() == plain.tolist()
    assert df["itemsets"].iloc[-1] == plain.iloc[-1]
    assert (df["itemsets"].map(len) == plain.map(len)).all()
    assert (df["itemsets"] == frozenset({"tea"})).sum() == 1
    assert frozenset({"jam", "tea"}) in df["itemsets"].array
    assert frozenset({"nope"}) not in df["itemsets"].array


def test_selection_sorting_concat_and_export(df, tmp_path):
    plain = df.assign(itemsets=df["itemsets"].astype(object))
    top = df.sort_values(["count", "support"], ascending=False, kind="stable")
    assert top["itemsets"].tolist() == plain.sort_values(
        ["count", "support"], ascending=False, kind="stable")["itemsets"].tolist()
    mask = df["count"] >= 2
    assert df[mask]["itemsets"].tolist() == plain[mask]["itemsets"].tolist()
    both = pd.concat([df.head(2), df.tail(2)], ignore_index=True)
    assert both["itemsets"].tolist() == plain.head(2)["itemsets"].tolist() + plain.tail(2)["itemsets"].tolist()
    df.to_csv(tmp_path / "x.csv", index=False)
    back = pd.read_csv(tmp_path / "x.csv")
    assert len(back) == len(df) and back["itemsets"].str.startswith("frozenset").all()
    assert "itemsets" in repr(df) and "{" in repr(df)
    assert df["itemsets"].array.nbytes < plain["itemsets"].map(lambda s: 200).sum()


def test_from_sets_round_trip_and_errors():
    arr = ItemsetArray.from_sets([{"a", "b"}, {"c"}, set()])
    assert list(arr) == [frozenset({"a", "b"}), frozenset({"c"}), frozenset()]
    assert list(arr.take([2, 0])) == [frozenset(), frozenset({"a", "b"})]
    with pytest.raises(ValueError, match="missing"):
        arr.take([0, -1], allow_fill=True)
    with pytest.raises(IndexError):
        arr[5]
    assert arr[-1] == frozenset()
    assert pd.Series(arr).isna().sum() == 0


def test_mlxtend_reads_the_frame():
    from mlxtend.frequent_patterns import association_rules

    tm = bm.read_baskets(__import__("conftest").DATASETS / "groceries" / "groceries.csv")
    fi = bm.frequent_itemsets(tm, 0.01)
    theirs = association_rules(fi, num_itemsets=tm.n_baskets, min_threshold=0.5)
    ours = bm.association_rules(fi, "confidence", 0.5)
    assert len(theirs) == len(ours) == 15
    assert set(zip(theirs.antecedents, theirs.consequents)) == set(zip(ours.antecedents, ours.consequents))
