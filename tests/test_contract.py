"""One contract for every public function: each parameter has a declared
constraint (checked on every call, shared by the local and Spark
functions), results carry their metadata in ``attrs`` through filtering
and sorting, and one vocabulary names the same things."""
import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

import basketmine as bm
from basketmine import InvalidParameterError

from conftest import DATASETS


def _public_functions():
    mods = [bm, bm.models, bm.value]
    try:
        import basketmine.spark as bms
        mods.append(bms)
    except ImportError:  # pragma: no cover - spark.py imports pyspark lazily
        pass
    seen = {}
    for mod in mods:
        names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
        for name in names:
            obj = getattr(mod, name)
            if inspect.isfunction(obj) and getattr(obj, "__module__", "").startswith("basketmine"):
                seen.setdefault(f"{obj.__module__}.{obj.__name__}", obj)
    return sorted(seen.items())


FUNCTIONS = _public_functions()


@pytest.mark.parametrize("name,fn", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_every_public_parameter_has_a_declared_constraint(name, fn):
    declared = getattr(fn, "constraints", None)
    assert declared is not None, f"{name} is not bound to its constraints (@validated)"
    params = [p for p in inspect.signature(fn).parameters if p not in ("self", "args", "kwargs", "read_kw")]
    missing = [p for p in params if p not in declared]
    assert not missing, f"{name}: no constraint declared for {missing}"


SAMPLE = DATASETS / "online_retail" / "online_retail_sample.csv.gz"


@pytest.fixture(scope="module")
def sample():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.read_csv(SAMPLE, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
                           quantity="Quantity", price="UnitPrice")


WARNING_CALLS = [  # each warns (guest baskets, a cap): the warning names the caller's line
    ("frequent_itemsets capped", lambda tm: bm.frequent_itemsets(tm, 0.01, max_itemsets=10)),
    ("rules of a capped run", lambda tm: bm.association_rules(bm.frequent_itemsets(tm, 0.01, max_itemsets=50),
                                                              "confidence", 0.1)),
    ("rules with unmatched antecedents", lambda tm: bm.association_rules(bm.frequent_itemsets(tm, 0.05),
                                                                        "confidence", 0.1,
                                                                        antecedents=[tm.labels[0]])),
    ("sequential_patterns with guests", lambda tm: bm.sequential_patterns(tm, 0.2)),
    ("follow_ups with guests", lambda tm: bm.follow_ups(tm, "90D", 0.05)),
    ("summary with guests", lambda tm: bm.value.summary(tm)),
    ("rfm with guests", lambda tm: bm.value.rfm(tm)),
    ("pareto_curve with guests", lambda tm: bm.value.pareto_curve(tm)),
    ("margin_history with guests", lambda tm: bm.value.margin_history(tm, "Q", margin_rate=0.3)),
    ("temporal_split over netted returns", lambda tm: bm.models.temporal_split(tm, "2011-09-01", "90D")),
    ("baseline for unknown customers", lambda tm: bm.models.baseline_recommendations(
        tm, "popularity", 3, asof="2011-09-01", customers=["12407", "nobody"])),
]


@pytest.mark.parametrize("name, call", WARNING_CALLS, ids=[c[0] for c in WARNING_CALLS])
def test_warnings_point_at_the_callers_line(sample, name, call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(sample)
    assert caught, f"{name} gave no warning"
    assert all(w.filename == __file__ for w in caught), [(w.filename, str(w.message)[:80]) for w in caught]


def test_metadata_survives_filtering_and_feeds_rules():
    tm = bm.read_baskets(DATASETS / "groceries" / "groceries.csv")
    fi = bm.frequent_itemsets(tm, 0.01)
    kept = pd.concat([fi[fi["support"] >= 0.02], fi[fi["support"] < 0.02]]).sort_values("count").head(len(fi))
    assert kept.attrs == fi.attrs and kept.attrs["n_baskets"] == tm.n_baskets
    # a downward-closed part (support >= 2%) gives the full run's rules above it
    part = bm.association_rules(fi[fi["support"] >= 0.02], "confidence", 0.3)
    full = bm.association_rules(fi, "confidence", 0.3)
    full = full[full["support"] >= 0.02]
    assert len(part) == len(full) > 0 and part.attrs["n_baskets"] == tm.n_baskets
    # a frame that lost its metadata needs the basket count said
    bare = pd.DataFrame({"support": fi["support"], "itemsets": list(fi["itemsets"])})
    with pytest.raises(InvalidParameterError, match="'n_baskets' parameter of association_rules must be given"):
        bm.association_rules(bare, "confidence", 0.3)
    again = bm.association_rules(bare, "confidence", 0.3, n_baskets=tm.n_baskets)
    assert len(again) == len(bm.association_rules(fi, "confidence", 0.3))


def test_one_vocabulary_in_the_metadata(sample):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fi = bm.frequent_itemsets(sample, 0.05)
        sp = bm.sequential_patterns(sample, 0.2)
        fu = bm.follow_ups(sample, "90D", 0.05)
    n_customers = len(np.unique(sample.customer_codes[sample.customer_codes >= 0]))
    assert fi.attrs["n_baskets"] == sample.n_baskets
    assert sp.attrs["n_customers"] == fu.attrs["n_customers"] == n_customers
    for df in (fi, sp, fu, bm.association_rules(fi)):
        assert df.attrs["truncated"] is False and df.attrs["stop_reason"] is None
    # an unfitted model and an unknown label: the package's errors, and the built-in kinds callers expect
    with pytest.raises(bm.NotFittedError) as e:
        bm.value.BetaGeo().expected_purchases(10)
    assert isinstance(e.value, AttributeError) and isinstance(e.value, InvalidParameterError)
    with pytest.raises(KeyError):
        sample.code_of(["no such item"])
