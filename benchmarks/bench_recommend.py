"""The recommender against its baselines on temporal holdouts of the full
Online Retail log (registered customers, cancellations removed), several
cut-offs, 90-day holdouts, k = 10.

    python benchmarks/bench_recommend.py [--cutoffs 2011-06-01,2011-09-01] [--k 10]

Prints, per cut-off and mode ("any item", "new items only"), hit rate,
precision, recall and MAP at k of the learned ranker and of each baseline,
the best baseline and the ratio of the ranker's hit rate to it.
"""
import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

import basketmine as bm

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "online_retail" / "online_retail.csv.gz"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--cutoffs", default="2011-06-01,2011-07-01,2011-08-01,2011-09-01")
    ap.add_argument("--horizon", default="90D")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--diversity", type=float, default=None,
                    help="the recommender's diversity (default: its own default)")
    a = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tm = bm.read_csv(a.data, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
                         quantity="Quantity", price="UnitPrice")
    print(tm)
    summary = []
    for cut in a.cutoffs.split(","):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            extra = {} if a.diversity is None else {"diversity": a.diversity}
            tab = bm.models.recommendation_benchmark(tm, cut, horizon=a.horizon, k=a.k, **extra)
        secs = time.perf_counter() - t0
        wide = tab.pivot_table(index=["mode", "model"], columns="metric", values="value")
        print(f"\ncut-off {cut}: {tab.attrs['customers']} customers active on both sides, {secs:.0f} s")
        with pd.option_context("display.width", 200):
            print(wide[["hit_rate", "precision", "recall", "map", "timing_mae_days",
                        "timing_mae_half_horizon_days"]].round(3).to_string())
        fit = tab[(tab["model"] == "recommender")]["fit_seconds"].max()
        for mode in ("any", "new"):
            hr = wide.loc[mode, "hit_rate"]
            base = hr.drop("recommender")
            best = base.idxmax()
            summary.append((cut, mode, hr["recommender"], best, base[best], hr["recommender"] / base[best], fit))
    s = pd.DataFrame(summary, columns=["cutoff", "mode", "recommender", "best baseline", "baseline",
                                       "ratio", "ranker fit s"])
    print(f"\nhit rate@{a.k}, recommender vs the best baseline")
    print(s.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
