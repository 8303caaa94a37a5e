"""Customer forecasts against the naive answers, in one run: ``value.backtest``.

What is measured
----------------
At each cut-off, every model sees the log before it and predicts each
customer's active periods, purchases (purchase days) and value over the next
``--periods`` periods; the naive answers are "the last periods again"
(``last_periods``) and "the mean rate so far" (``mean_rate``).  Printed:
per model and cut-off the per-customer MAE of each target (of the median
where the model gives a distribution, as the Markov chain does), its ratio to
``last_periods`` (the target is <= 0.9), and the total's relative error; then
the Markov chain's rows with the MAE of its expectation beside the median's.
Cut-offs whose history covers a season (one season plus two periods) get the
calendar index; the notes name the others.

Datasets (from ../shared/datasets):

* online_retail -- the full log, registered customers, returns dropped (a
  backtest: netting would use returns made after the cut-off), monthly
  cut-offs 2011-04-01 .. 2011-09-01, 3 months ahead;
* cdnow -- the master file (23,570 customers), weekly cut-offs from week 40
  to week 64, 13 weeks ahead (the last horizon ends with the log).

Run it from the repository root::

    python benchmarks/bench_forecast.py [--cases online_retail,cdnow]
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

import basketmine as bm

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def online_retail():
    tm = bm.read_csv(SHARED / "online_retail" / "online_retail.csv.gz", "InvoiceNo", "StockCode",
                     customer="CustomerID", time="InvoiceDate", quantity="Quantity", price="UnitPrice",
                     cancellations="drop")
    cuts = [f"2011-{m:02d}-01" for m in range(4, 10)]
    return tm, cuts, "M", 3


def cdnow():
    tm = bm.read_cdnow(SHARED / "cdnow" / "CDNOW_master.txt.gz")
    start = pd.Timestamp("1997-01-06")   # the first Monday: weeks run Monday to Sunday
    cuts = [f"{start + pd.Timedelta(weeks=w):%Y-%m-%d}" for w in (40, 46, 52, 58, 64)]
    return tm, cuts, "W", 13


CASES = {"online_retail": online_retail, "cdnow": cdnow}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=",".join(CASES))
    a = ap.parse_args()
    for case in a.cases.split(","):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            tm, cuts, period, k = CASES[case]()
            t0 = time.perf_counter()
            bt = bm.value.backtest(tm, cuts, k, period=period)
            secs = time.perf_counter() - t0
        m = bt.metrics
        naive = m[m["model"] == "last_periods"].set_index(["cutoff", "target"])["mae"]
        m = m.assign(ratio=[r.mae / naive.get((r.cutoff, r.target), float("nan")) for r in m.itertuples()])
        print(f"\n## {case}: {len(cuts)} cut-offs, {k} {period} periods ahead ({secs:.1f} s)\n")
        wide = m.pivot_table(index=["cutoff", "model"], columns="target", values=["mae", "ratio", "relative_error"])
        wide.columns = [f"{t} {v}" for v, t in wide.columns]
        cols = [c for t in ("active_periods", "purchases", "value") for c in
                (f"{t} mae", f"{t} ratio", f"{t} relative_error") if c in wide]
        with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_rows", 200):
            print(wide[cols].round(3).to_string())
        for note in bt.notes:
            print("note:", note)
        # the target: the Markov chain's per-customer MAE at most 0.9x the naive answer's
        mk = m[(m["model"] == "markov") & m["target"].isin(["active_periods", "value"])]
        t = mk.pivot_table(index="cutoff", columns="target", values=["ratio", "mae", "mae_mean"])
        t.columns = [f"{tg} {v}" for v, tg in t.columns]
        t["both <= 0.9"] = (t["active_periods ratio"] <= 0.9) & (t["value ratio"] <= 0.9)
        print(f"\n{case}: the Markov chain against last_periods (mae: the median; mae_mean: the expectation)")
        with pd.option_context("display.width", 250, "display.max_columns", 20):
            print(t.round(3).to_string())


if __name__ == "__main__":
    main()
