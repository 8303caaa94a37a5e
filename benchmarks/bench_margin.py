"""The CRM margin projection against the naive answer: ``value.margin_backtest``.

What is measured
----------------
At monthly cut-offs 2011-04-01 .. 2011-09-01 on the full Online Retail log
(registered customers, returns dropped: netting would use returns made after
the cut-off), ``margin_forecast`` sees the log before the cut-off and
projects each customer's margin over the next 3 months; the naive answer
``last_periods`` is each customer's margin of the last 3 months again.
Printed per cut-off: the per-customer MAE of both (the projection's fed with
the chain's median revenue, its point forecast for absolute error; beside it
the MAE of its expectation), their ratios (below 1: the projection wins), and
each total's relative error (of the expectation); then the margin-rate MAE of
``margin_forecast``'s rule and of the unchanged last rate.

What it cannot measure
----------------------
No shared log has product costs (see ../shared/datasets/*/SOURCE.md), so
the run assumes ``margin_rate=0.3``: the realised margin is then revenue x
0.3 minus expenses, every margin rate is 0.3, and the margin-rate rule
(last active rate x (1 + slope x r/2)) is NOT exercised on real data (its
rate MAE is 0 for both answers).  What is tested is the revenue forecast
(the StateTransitionForecast) and the expense rule, scaled into a margin.

Expenses
--------
The log holds two kinds of per-customer money the firm gives away, written
as cancellation lines (so ``cancellations="drop"`` leaves them out of the
revenue): StockCode ``D`` ("Discount", 77 lines, 24 customers, 5,696) and
``CRUK`` ("CRUK Commission", 16 lines, 1 customer, 7,933).  They are passed
as ``expenses`` (amount = -Quantity x UnitPrice): a discount or commission
lowers that customer's margin pound for pound, not by 0.3 of it.  Not used:
``M`` (Manual, mixed corrections of either sign), ``BANK CHARGES``,
``AMAZON FEE``, ``B`` (bad debt) and ``S`` (samples) -- no customer on their
negative lines -- and ``POST``/``DOT``/``C2`` (postage and carriage charged
to the customer: revenue, kept in the log).  ``--no-expenses`` runs without
them.

Run it from the repository root::

    python benchmarks/bench_margin.py [--no-expenses]
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

import basketmine as bm

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
LOG = SHARED / "online_retail" / "online_retail.csv.gz"
EXPENSE_CODES = ("D", "CRUK")   # Discount, CRUK Commission


def expenses() -> pd.DataFrame:
    raw = pd.read_csv(LOG, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str})
    lines = raw[raw["StockCode"].isin(EXPENSE_CODES) & raw["CustomerID"].notna()]
    return pd.DataFrame({"customer": lines["CustomerID"].to_numpy(), "time": lines["InvoiceDate"].to_numpy(),
                         "expense": (-lines["Quantity"] * lines["UnitPrice"]).to_numpy(),
                         "code": lines["StockCode"].to_numpy()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-expenses", action="store_true")
    a = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tm = bm.read_csv(LOG, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
                         quantity="Quantity", price="UnitPrice", cancellations="drop")
    ex = None if a.no_expenses else expenses()
    cuts = [f"2011-{m:02d}-01" for m in range(4, 10)]
    print("## online_retail: margin_backtest, monthly cut-offs 2011-04-01 .. 2011-09-01, 3 months ahead")
    print("NOTE: the log has no product costs; margin_rate=0.3 is assumed, so the realised margin is "
          "revenue x 0.3 minus expenses and the margin-rate rule is not exercised on real data.")
    if ex is None:
        print("expenses: none")
    else:
        by = ex.groupby("code")["expense"].agg(["size", "sum"])
        print("expenses: " + "; ".join(f"{c} {int(r['size'])} lines, {r['sum']:,.2f}" for c, r in by.iterrows())
              + f"; {ex['customer'].nunique()} customers (Discount and CRUK Commission lines)")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        bt = bm.value.margin_backtest(tm, cuts, 3, period="M", margin_rate=0.3,
                                      expenses=None if ex is None else ex.drop(columns="code"))
    secs = time.perf_counter() - t0
    print(f"({secs:.1f} s)\n")
    m = bt.metrics.assign(cutoff=lambda d: d["cutoff"].dt.strftime("%Y-%m-%d"))
    mg = m[m["target"] == "margin"].pivot(index="cutoff", columns="model", values=["customers", "mae", "mae_mean",
                                                                                  "relative_error"])
    out = pd.DataFrame({"customers": mg[("customers", "last_periods")],
                        "mae margin_forecast": mg[("mae", "margin_forecast")],
                        "mae_mean margin_forecast": mg[("mae_mean", "margin_forecast")],
                        "mae last_periods": mg[("mae", "last_periods")]})
    out["ratio"] = out["mae margin_forecast"] / out["mae last_periods"]
    out["ratio (mean)"] = out["mae_mean margin_forecast"] / out["mae last_periods"]
    out["rel.err margin_forecast"] = mg[("relative_error", "margin_forecast")]
    out["rel.err last_periods"] = mg[("relative_error", "last_periods")]
    tot = m[m["target"] == "margin"].pivot(index="cutoff", columns="model", values="actual")["last_periods"]
    out["actual total"] = tot
    rate = m[m["target"] == "margin_rate"].pivot(index="cutoff", columns="model", values="mae")
    out["rate mae margin_forecast"] = rate["margin_forecast"]
    out["rate mae last_rate"] = rate["last_rate"]
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(out.round(3).to_string())
    print(f"\nmean ratio of MAEs: {out['ratio'].mean():.3f}")
    for note in bt.notes:
        print("note:", note)


if __name__ == "__main__":
    main()
