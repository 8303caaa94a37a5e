"""The recommender against its baselines on temporal holdouts of the full
Online Retail log (registered customers, cancellations removed), at
cut-offs across the whole log, for two horizons (90 and 30 days), k = 10.

    python benchmarks/bench_recommend.py [--runs 90D:2011-03-01,2011-05-01 30D:2011-02-01] [--k 10]

Prints, per horizon and cut-off, for the recommender and every baseline
(TIFU-KNN, UP-CF@r, P-TopFreq ("repeat"), popularity, co-occurrence,
association and follow-up rules) in both modes ("any item" and "new items
only"): hit rate (PHR), recall, NDCG, the repeat / explore split of the
recommendations and of the hits, the timing error of ``expected_days`` on
the hits against the constant "half the horizon", the Brier score of the
recommender's ``probability`` against the base rate's (over the customers
judged, and over every customer with a history), the leak check of the new
items mode, and the fit and ranking seconds.  Then the summary: recall and
NDCG of the recommender over the best baseline, per cut-off and mode.

The recommender's hyper-parameters (ranker size, the rank blend with the
strongest source) were chosen on the earliest 90-day cut-offs only
(2011-03-01 and 2011-05-01).
"""
import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

import basketmine as bm

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "online_retail" / "online_retail.csv.gz"
RUNS = ["90D:2011-03-01,2011-05-01,2011-07-01,2011-09-01",
        "30D:2011-02-01,2011-04-01,2011-06-01,2011-08-01,2011-10-01,2011-11-01"]
COLS = ["phr", "recall", "ndcg", "repeat_share", "hit_repeat_share", "recall_repeat", "recall_explore",
        "timing_mae_days", "timing_mae_half_horizon_days", "brier", "brier_base_rate", "brier_all",
        "brier_base_rate_all", "leaks"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--runs", nargs="+", default=RUNS, help="HORIZON:cutoff,cutoff,...")
    ap.add_argument("--k", type=int, default=10)
    a = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        # backtests at past cut-offs: returns are dropped, since netting would use returns made later
        tm = bm.read_csv(a.data, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
                         quantity="Quantity", price="UnitPrice", cancellations="drop")
    print(tm)
    summary = []
    for run in a.runs:
        horizon, cuts = run.split(":")
        for cut in cuts.split(","):
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UserWarning)
                tab = bm.models.recommendation_benchmark(tm, cut, horizon=horizon, k=a.k)
            secs = time.perf_counter() - t0
            wide = tab.pivot_table(index=["mode", "model"], columns="metric", values="value")
            fit = tab[tab["model"] == "recommender"].groupby("mode")["fit_seconds"].max()
            print(f"\n=== horizon {horizon}, cut-off {cut}: {tab.attrs['customers']} customers active on both "
                  f"sides; benchmark {secs:.0f} s; recommender fit + rank {fit['any']:.1f} s "
                  f"(any), {fit['new']:.1f} s (new)")
            for w in dict.fromkeys(str(c.message) for c in caught if "Recommender.fit" in str(c.message)):
                print("  note:", w)
            with pd.option_context("display.width", 250, "display.max_columns", 30):
                print(wide[[c for c in COLS if c in wide.columns]].round(3).to_string())
            for mode in ("any", "new"):
                row = wide.loc[mode]
                base = row.drop("recommender")
                for metric in ("recall", "ndcg"):
                    best = base[metric].idxmax()
                    summary.append((horizon, cut, mode, metric, row.loc["recommender", metric], best,
                                    base.loc[best, metric], row.loc["recommender", metric] / base.loc[best, metric]))
    s = pd.DataFrame(summary, columns=["horizon", "cutoff", "mode", "metric", "recommender", "best baseline",
                                       "baseline", "ratio"])
    print(f"\nrecall@{a.k} and NDCG@{a.k}: the recommender over the best baseline (target >= 1.05)")
    print(s.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
