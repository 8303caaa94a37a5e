"""Every plot of basketmine.plot, saved to PNG, with the data it is drawn from.

    python examples/plots.py [FOLDER]        # default: ./plots

Rules from the Groceries data; follow-ups, customer value and the model
comparison from the Online Retail sample; BG/NBD from the CDNOW sample.
"""
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")   # files only, no window

import pandas as pd  # noqa: E402

import basketmine as bm  # noqa: E402
import basketmine.plot as bmp  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "datasets"
OUT = Path(sys.argv[1] if __name__ == "__main__" and len(sys.argv) > 1 and not sys.argv[1].startswith("-")
           else "plots")
OUT.mkdir(parents=True, exist_ok=True)


def save(ax, name: str, source: str) -> None:
    path = OUT / f"{name}.png"
    ax.figure.savefig(path, dpi=150, bbox_inches="tight")
    matplotlib.pyplot.close(ax.figure)
    print(f"{path}  <- {source}")


groceries = bm.read_baskets(DATA / "groceries" / "groceries.csv")
rules = bm.association_rules(bm.frequent_itemsets(groceries, 0.01), "confidence", 0.3)
src = f"Groceries, {len(rules)} rules (support >= 1%, confidence >= 30%)"
save(bmp.rules_scatter(rules), "rules_scatter", src)
save(bmp.rules_matrix(rules), "rules_matrix", src)
save(bmp.rules_graph(rules), "rules_graph", src)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)   # guest baskets are left out of customer results
    retail = bm.read_csv(DATA / "online_retail" / "online_retail_sample.csv.gz", "InvoiceNo", "Description",
                         customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice")
    fu = bm.follow_ups(retail, "90D", 0.03)
    src = f"Online Retail sample, {len(fu)} follow-ups within 90 days (support >= 3% of customers)"
    save(bmp.follow_up_lags(fu), "follow_up_lags", src)
    save(bmp.follow_ups_scatter(fu), "follow_ups_scatter", src)
    save(bmp.pareto(bm.value.pareto_curve(retail)), "pareto", "Online Retail sample, spend per customer")
    save(bmp.deciles(bm.value.monetary_deciles(retail)), "deciles", "Online Retail sample, spend per customer")
    save(bmp.rfm_grid(bm.value.rfm(retail)), "rfm_grid", "Online Retail sample, RFM scores")
    comparison = bm.compare(retail, "2011-09-01", model_types=("classification", "time series", "clustering"))
    src = "Online Retail sample, models fitted before 2011-09-01 and judged on the 90 days after"
    save(bmp.roc(comparison), "roc", src)
    save(bmp.forecast(comparison), "forecast", src)
    save(bmp.cluster_profiles(comparison), "cluster_profiles", src)

cdnow = bm.read_cdnow(DATA / "cdnow" / "CDNOW_sample.txt")
summary = bm.value.summary(cdnow, unit="W")
bg = bm.value.BetaGeo().fit(summary)
src = "CDNOW sample, BG/NBD in weeks"
save(bmp.frequency_recency(bg, summary, "expected", t=13), "frequency_recency_expected", src)
save(bmp.frequency_recency(bg, summary, "alive"), "frequency_recency_alive", src)
bt = bm.value.calibration_holdout(cdnow, "1997-09-30", "1998-06-30", unit="W")
save(bmp.calibration(bt), "calibration", "CDNOW sample, BG/NBD fitted to 1997-09-30, holdout to 1998-06-30")

# the recommender against its baselines by cut-off: recommendation_benchmark at three cut-offs
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    drop = bm.read_csv(DATA / "online_retail" / "online_retail_sample.csv.gz", "InvoiceNo", "StockCode",
                       customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice",
                       cancellations="drop")   # backtests: no later return netted against the past
    cuts = ("2011-07-01", "2011-08-01", "2011-09-01")
    bench = pd.concat([bm.models.recommendation_benchmark(drop, cut, baselines=("popularity", "repeat", "tifu_knn"))
                       .assign(cutoff=cut) for cut in cuts])
save(bmp.recommender_cutoffs(bench), "recommender_cutoffs",
     "Online Retail sample, recall@10 of any item over 90 days at three cut-offs")
