"""basketmine.plot: each plot drawn with the Agg backend, and checked for what
it drew (points, bars, cells, labels, limits), not only that it ran."""
import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="basketmine.plot needs matplotlib (the test extras)")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import basketmine as bm  # noqa: E402
import basketmine.plot as bmp  # noqa: E402
from basketmine import InvalidParameterError  # noqa: E402

from conftest import DATASETS  # noqa: E402

SAMPLE = DATASETS / "online_retail" / "online_retail_sample.csv.gz"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def tm():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.read_csv(SAMPLE, "InvoiceNo", "Description", customer="CustomerID", time="InvoiceDate",
                           quantity="Quantity", price="UnitPrice")


@pytest.fixture(scope="module")
def rules():
    g = bm.read_baskets(DATASETS / "groceries" / "groceries.csv")
    return bm.association_rules(bm.frequent_itemsets(g, 0.01), "confidence", 0.3)


@pytest.fixture(scope="module")
def fu(tm):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.follow_ups(tm, "90D", 0.03)


def _texts(ax):
    return [t for t in ax.texts if t.get_visible() and t.get_text()]


def test_rules_scatter_draws_one_point_per_rule(rules):
    ax = bmp.rules_scatter(rules)
    pts = ax.collections[0]
    assert len(pts.get_offsets()) == len(rules)
    assert sorted(pts.get_offsets()[:, 0]) == pytest.approx(sorted(rules["support"]))
    assert pts.get_array().max() == pytest.approx(rules["lift"].max())
    assert ax.get_xlabel() == "support" and ax.get_ylabel() == "confidence"
    assert ax.figure.axes[1].get_ylabel() == "lift"   # the colour bar
    assert ax.get_title() == f"{len(rules):,} rules"


def test_rules_matrix_groups_antecedents_and_sums_support(rules):
    ax = bmp.rules_matrix(rules, k=6, n_consequents=8)
    cols = [t.get_text() for t in ax.get_xticklabels()]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert len(cols) <= 7 and len(rows) <= 8     # k groups and "other"
    pts = ax.collections[0]
    assert len(pts.get_offsets()) <= len(cols) * len(rows)
    # every rule whose consequent is shown is in one cell: the cells' rule count adds up
    shown = {t for t in rows}
    n_shown = sum(", ".join(sorted(map(str, c))) in shown for c in rules["consequents"])
    assert ax.get_title().startswith(f"{n_shown:,} rules in {len(pts.get_offsets()):,} cells")


def _overlaps(ax):
    ax.figure.canvas.draw()
    r = ax.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in _texts(ax)]
    return [(a, b) for a, b in itertools.combinations(range(len(boxes)), 2) if boxes[a].overlaps(boxes[b])]


def test_rules_graph_labels_do_not_overlap_and_it_says_when_it_cut(rules):
    ax = bmp.rules_graph(rules, max_rules=40)
    top = rules.sort_values("lift", ascending=False, kind="stable").head(40)
    items_left = {str(i) for a in top["antecedents"] for i in a}
    items_right = {str(i) for c in top["consequents"] for i in c}
    assert len(_texts(ax)) == len(items_left) + len(items_right)
    assert not _overlaps(ax)
    assert ax.get_title() == f"the 40 rules with the highest lift of {len(rules):,}"
    edges = sum(len(a) * len(c) for a, c in zip(top["antecedents"], top["consequents"]))
    assert len(ax.lines) == edges
    small = bmp.rules_graph(rules.head(5))
    assert small.get_title() == "5 rules (edge width: support)"


def test_follow_up_lags_on_one_day_axis(fu):
    ax = bmp.follow_up_lags(fu, top=8)
    bars = ax.patches
    top = fu.sort_values("lift", ascending=False, kind="stable").head(8)
    assert len(bars) == len(top) == 8
    assert [b.get_x() for b in bars] == pytest.approx(list(top["lag_days_q1"]))
    assert [b.get_width() for b in bars] == pytest.approx(list(top["lag_days_q3"] - top["lag_days_q1"]))
    assert ax.get_xlim()[0] == 0 and "days" in ax.get_xlabel()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 8 and all("→" in s and "customers)" in s for s in labels)


def test_follow_ups_scatter_marks_lift_one(fu):
    ax = bmp.follow_ups_scatter(fu)
    assert len(ax.collections[0].get_offsets()) == len(fu)
    assert any(line.get_xdata()[0] == 1.0 for line in ax.lines)
    assert "lift" in ax.get_xlabel() and "confidence" in ax.get_ylabel()


def test_pareto_marks_the_top_fifth(tm):
    curve = bm.value.pareto_curve(tm)
    ax = bmp.pareto(curve)
    share = np.interp(0.2, curve["customer_share"], curve["revenue_share"])
    assert any(f"top 20% bring {share:.0%} of revenue" == t.get_text() for t in ax.texts)
    assert ax.get_xlim() == (0, 1) and ax.get_ylabel() == "share of revenue"
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["0%", "20%"]


def test_deciles_bars_and_their_shares(tm):
    table = bm.value.monetary_deciles(tm)
    ax = bmp.deciles(table)
    assert len(ax.patches) == len(table) == 10
    assert [p.get_height() for p in ax.patches] == pytest.approx(list(table["revenue"]))
    shares = [float(t.get_text().rstrip("%")) for t in ax.texts]
    assert sum(shares) == pytest.approx(100, abs=6)   # rounded to whole percents


def test_rfm_grid_cells_count_every_customer(tm):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = bm.value.rfm(tm)
    ax = bmp.rfm_grid(table)
    img = ax.images[0].get_array()
    assert np.nansum(img) == len(table)
    assert img.shape == (table["F"].nunique(), table["R"].nunique())
    assert "recency" in ax.get_xlabel() and "frequency" in ax.get_ylabel()
    ax = bmp.rfm_grid(table, "monetary")
    assert np.nanmax(ax.images[0].get_array()) == pytest.approx(table.groupby(["F", "R"])["monetary"].mean().max())


def test_frequency_recency_matrix_is_the_models_own_values():
    cd = bm.read_cdnow(DATASETS / "cdnow" / "CDNOW_sample.txt")
    s = bm.value.summary(cd, unit="W")
    bg = bm.value.BetaGeo().fit(s)
    ax = bmp.frequency_recency(bg, s, "expected", t=10, max_frequency=6)
    z = ax.images[0].get_array()
    T = s["T"].max()
    corner = pd.DataFrame({"frequency": [6], "recency": [T], "T": [T]})
    assert z.shape == (7, 41)
    assert z[6, -1] == pytest.approx(float(bg.expected_purchases(10, corner).iloc[0]))
    ax = bmp.frequency_recency(bg, s, "alive", max_frequency=6)
    z = ax.images[0].get_array()
    assert z.min() >= 0 and z.max() <= 1 and z[0].min() == pytest.approx(1.0)   # no repeat: alive


def test_calibration_bars_are_the_backtests_table():
    cd = bm.read_cdnow(DATASETS / "cdnow" / "CDNOW_sample.txt")
    bt = bm.value.calibration_holdout(cd, "1997-09-30", "1998-06-30", unit="W")
    ax = bmp.calibration(bt)
    heights = [p.get_height() for p in ax.patches]
    n = len(bt.by_frequency)
    assert heights[:n] == pytest.approx(list(bt.by_frequency["actual"]))
    assert heights[n:] == pytest.approx(list(bt.by_frequency["predicted"]))


@pytest.fixture(scope="module")
def comparison(tm):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.compare(tm, "2011-09-01", model_types=("classification", "time series", "clustering"))


def test_roc_curves_carry_their_auc(comparison):
    ax = bmp.roc(comparison)
    labels = [line.get_label() for line in ax.lines]
    curves = comparison.plots["churn_roc"]
    assert len(ax.lines) == len(curves) + 1 and labels[-1] == "chance"
    table = comparison.table.query("metric == 'auc'")
    for name in curves:
        if name == "BG/NBD":
            continue
        auc = table[table["model"].str.startswith(name)]["value"].iloc[0]
        assert any(lab.startswith(f"{name} (AUC {auc:.2f})") for lab in labels)


def test_forecast_draws_actuals_models_and_intervals(comparison):
    data = comparison.plots["forecasts"]
    key = next(iter(data))
    ax = bmp.forecast(comparison)
    d = data[key]
    models = [c for c in d.columns if c != "actual" and not c.endswith((" lower", " upper"))]
    assert [line.get_label() for line in ax.lines] == ["actual", *models]
    assert len(ax.collections) == sum(f"{m} lower" in d for m in models)
    assert list(ax.lines[0].get_ydata()) == pytest.approx(list(d["actual"]))
    with pytest.raises(InvalidParameterError, match="'series' parameter of forecast"):
        bmp.forecast(comparison, "no such series")


def test_cluster_profiles_one_bar_per_segment_and_measure(comparison):
    prof = comparison.plots["segments"]["profile"]
    ax = bmp.cluster_profiles(comparison)
    cols = [c for c in ("recency_days", "baskets", "spend", "basket_size", "active_in_holdout") if c in prof]
    assert len(ax.patches) == len(prof) * len(cols)
    assert max(p.get_height() for p in ax.patches) == pytest.approx(1.0)


def test_recommender_cutoffs_one_line_per_model():
    tidy = pd.DataFrame({"cutoff": ["2011-03-01", "2011-05-01"] * 3, "mode": "any", "metric": "recall",
                         "model": ["recommender"] * 2 + ["tifu_knn"] * 2 + ["popularity"] * 2,
                         "value": [0.16, 0.17, 0.15, 0.16, 0.05, 0.06]})
    other = tidy.assign(mode="new", value=0.01)
    ax = bmp.recommender_cutoffs(pd.concat([tidy, other]))
    assert sorted(line.get_label() for line in ax.lines) == ["popularity", "recommender", "tifu_knn"]
    rec = next(line for line in ax.lines if line.get_label() == "recommender")
    assert list(rec.get_ydata()) == [0.16, 0.17] and rec.get_linewidth() > 2
    assert ax.get_ylabel() == "recall (any item)"
    with pytest.raises(InvalidParameterError, match="'metric' parameter of recommender_cutoffs"):
        bmp.recommender_cutoffs(tidy, "zest")


def test_plots_draw_on_a_given_axes_and_refuse_the_wrong_result(rules, fu):
    fig, (a, b) = plt.subplots(1, 2)
    assert bmp.rules_scatter(rules, ax=a) is a and bmp.follow_ups_scatter(fu, ax=b) is b
    with pytest.raises(InvalidParameterError, match="must be an association_rules frame"):
        bmp.rules_scatter(fu)
    with pytest.raises(InvalidParameterError, match="'x' parameter of rules_scatter"):
        bmp.rules_scatter(rules, x="zest")
    with pytest.raises(InvalidParameterError, match="must hold at least one row"):
        bmp.rules_graph(rules.head(0))
    with pytest.raises(InvalidParameterError, match="'ax' parameter"):
        bmp.pareto(pd.DataFrame({"customer_share": [0, 1], "revenue_share": [0, 1]}), ax="left")


def test_importing_basketmine_does_not_import_matplotlib():
    import subprocess
    import sys
    code = "import sys, basketmine, basketmine.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------- inspect
def test_inspect_prints_rules_as_arules_does():
    tm = bm.TransactionMatrix.from_baskets([["coffee", "cake", "tea"], ["coffee", "cake", "tea"],
                                            ["coffee", "milk"], ["tea"]])
    rules = bm.association_rules(bm.frequent_itemsets(tm, 0.5), "confidence", 1.0)
    text = bm.inspect(rules, n=None)
    lines = text.splitlines()
    assert lines[0].split() == ["if", "a", "basket", "holds", "it", "also", "holds", "support", "confidence",
                                "lift", "count"]
    assert len(lines) == len(rules) + 2 and lines[-1] == f"({len(rules)} of {len(rules)} rules)"
    for line, a, c, lift in zip(lines[1:], rules["antecedents"], rules["consequents"], rules["lift"]):
        assert "{" + ", ".join(sorted(a)) + "}" in line and "=> {" + ", ".join(sorted(c)) + "}" in line
        assert line.split()[-2] == f"{lift:.4g}"
    assert "frozenset" not in text
    # the measures asked for, and a clear error for one that is not there
    assert bm.inspect(rules, 1, measures="lift").splitlines()[0].split()[-1] == "lift"
    with pytest.raises(InvalidParameterError, match="'measures' parameter of inspect"):
        bm.inspect(rules, measures=["zest"])
    with pytest.raises(InvalidParameterError, match="'result' parameter of inspect"):
        bm.inspect(pd.DataFrame({"a": [1]}))


def test_inspect_reads_follow_ups_itemsets_and_sequences(fu, tm):
    text = bm.inspect(fu, n=3, width=30)
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["who", "bought", "later", "bought"]
    assert all("=> later" in line for line in lines[1:4]) and lines[-1] == f"(3 of {len(fu)} follow-ups)"
    # labels are shortened to the width: the antecedent field and the consequent field
    for line in lines[1:4]:
        left, right = line[4:].split(" => later ")
        assert len(left.rstrip()) <= 30 and len(right.split("  ")[0].rstrip()) <= 30
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seq = bm.sequential_patterns(tm, 0.05, max_len=2)
    text = bm.inspect(seq, n=None, width=500)
    for line, pattern in zip(text.splitlines()[1:], seq["sequence"]):
        assert " → ".join("{" + ", ".join(sorted(map(str, e))) + "}" for e in pattern) in line
    assert " → " in text and text.splitlines()[-1] == f"({len(seq)} of {len(seq)} patterns)"
