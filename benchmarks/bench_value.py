"""Customer-value models: basketmine next to lifetimes 0.11.3, in one run.

What is measured
----------------
Per dataset, the same transactions (customer, date, value) go to both tools:

* basketmine -- ``value.summary`` from a TransactionMatrix (built before the
  clock starts), then ``BetaGeo().fit``, ``ParetoNBD().fit`` and
  ``GammaGamma().fit`` on that summary, in this process;
* lifetimes -- ``summary_data_from_transaction_data`` then ``BetaGeoFitter``,
  ``ParetoNBDFitter`` and ``GammaGammaFitter`` (on customers with repeat
  purchases and a positive mean), in its own venv with pandas 2
  (benchmarks/lifetimes_env.py builds it; lifetimes breaks beside pandas 3).

Times are the minimum over --repeat runs of each call alone.  The fitted
parameters are compared (largest relative difference), and so are the two
summaries, customer by customer.

Datasets (from ../shared/datasets):

* cdnow_sample -- 2,357 customers, calibration to 1997-09-30, weeks;
* cdnow_master -- 23,570 customers, same window;
* online_retail -- registered customers, positive quantities, to 2011-12-09, days.

Run it from the repository root::

    python benchmarks/bench_value.py [--repeat 3] [--cases cdnow_sample,online_retail]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SHARED = HERE.parent.parent / "shared" / "datasets"

import lifetimes_env  # noqa: E402

import basketmine as bm  # noqa: E402


def cdnow(path: Path) -> pd.DataFrame:
    tm = bm.read_cdnow(path)
    return pd.DataFrame({"customer": tm.customer_labels[tm.customer_codes].astype(str), "date": tm.times,
                         "value": tm.revenue})


def retail(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype={"CustomerID": str, "InvoiceNo": str})
    raw = raw[raw["CustomerID"].notna() & (raw["Quantity"] > 0)]
    raw = raw.assign(value=raw["Quantity"] * raw["UnitPrice"], date=pd.to_datetime(raw["InvoiceDate"]))
    inv = raw.groupby(["InvoiceNo", "CustomerID"], as_index=False).agg(date=("date", "first"),
                                                                     value=("value", "sum"))
    return inv.rename(columns={"CustomerID": "customer"})[["customer", "date", "value"]]


CASES = {
    "cdnow_sample": (lambda: cdnow(SHARED / "cdnow" / "CDNOW_sample.txt"), "1997-09-30", 7),
    "cdnow_master": (lambda: cdnow(SHARED / "cdnow" / "cdnow_master.csv.gz"), "1997-09-30", 7),
    "online_retail": (lambda: retail(SHARED / "online_retail" / "online_retail.csv.gz"), "2011-12-09", 1),
}
MODELS = (("BetaGeo", "BetaGeoFitter"), ("ParetoNBD", "ParetoNBDFitter"), ("GammaGamma", "GammaGammaFitter"))


def best(fn, repeat):
    out, t = None, float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - t0)
    return t, out


def run_basketmine(df, end, mult, repeat):
    tm = bm.TransactionMatrix.from_purchases(df, "customer", "date", "value")
    unit = "W" if mult == 7 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        st, s = best(lambda: bm.value.summary(tm, observation_end=end, unit=unit), repeat)
    res = {"summary_seconds": st, "summary": s, "models": {}}
    for name, _ in MODELS:
        cls = getattr(bm.value, name)
        data = s[(s.frequency > 0) & (s.monetary_value > 0)] if name == "GammaGamma" else s
        secs, m = best(lambda: cls().fit(data), repeat)
        res["models"][name] = {"params": m.params_.to_dict(), "loglik": m.loglik_, "fit_seconds": secs,
                               "converged": m.converged_}
    return res


def run_lifetimes(py, df, end, mult, repeat):
    with tempfile.TemporaryDirectory() as tmp:
        csv, out = Path(tmp) / "in.csv", Path(tmp) / "out.json"
        df.to_csv(csv, index=False)
        subprocess.run([str(py), str(HERE / "lifetimes_worker.py"), str(csv), str(out),
                        "--customer", "customer", "--time", "date", "--value", "value",
                        "--observation-end", end, "--freq", "D", "--freq-multiplier", str(mult),
                        "--repeat", str(repeat)], check=True)
        return json.loads(out.read_text())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    py = lifetimes_env.ensure_env()
    rows, dump = [], {}
    for case in a.cases.split(","):
        load, end, mult = CASES[case]
        df = load()
        mine = run_basketmine(df, end, mult, a.repeat)
        theirs = run_lifetimes(py, df, end, mult, a.repeat)
        lt = pd.DataFrame.from_dict(theirs["summary"], orient="index")
        ms = mine["summary"].copy()
        ms.index = ms.index.astype(str)
        common = lt.index.intersection(ms.index)
        cols = ["frequency", "recency", "T", "monetary_value"]
        diff = (ms.loc[common, cols] - lt.loc[common, cols]).abs().max().max()
        print(f"\n{case}: {len(ms)} customers (lifetimes {len(lt)}), summary max |difference| {diff:.3g}; "
              f"lifetimes {theirs['versions']}")
        rows.append((case, "summary", mine["summary_seconds"], theirs["summary_seconds"], float("nan")))
        for name, lname in MODELS:
            p1 = pd.Series(mine["models"][name]["params"])
            p2 = pd.Series(theirs["models"][lname]["params"]).rename({"v": "gamma"})
            rel = float(((p1 - p2[p1.index]).abs() / p2[p1.index].abs()).max())
            rows.append((case, name, mine["models"][name]["fit_seconds"],
                         theirs["models"][lname]["fit_seconds"], rel))
            print(f"  {name:10s} basketmine {dict(p1.round(4))}  lifetimes {dict(p2.round(4))}")
        dump[case] = {"basketmine": {k: v for k, v in mine.items() if k != "summary"},
                      "lifetimes": {k: v for k, v in theirs.items() if k != "summary"}}
    print(f"\n{'case':14s} {'step':11s} {'basketmine':>11s} {'lifetimes':>11s} {'speed-up':>9s} "
          f"{'max rel. param diff':>20s}")
    for case, step, t1, t2, rel in rows:
        print(f"{case:14s} {step:11s} {t1 * 1000:9.1f}ms {t2 * 1000:9.1f}ms {t2 / t1:8.1f}x "
              f"{'' if rel != rel else f'{rel:.2e}':>20s}")
    if a.json:
        Path(a.json).write_text(json.dumps(dump, indent=1, default=float))


if __name__ == "__main__":
    main()
