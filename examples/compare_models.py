"""The six model types on one split of the Online Retail sample, and each
customer's next items with the reason and the timing.

    python examples/compare_models.py
"""
import warnings
from pathlib import Path

import pandas as pd

import basketmine as bm

LOG = Path(__file__).resolve().parent.parent / "datasets" / "online_retail" / "online_retail_sample.csv.gz"
CUTOFF = "2011-09-01"

# a backtest at a past cut-off: returns are dropped (netting would set later returns against earlier purchases)
tm = bm.read_csv(LOG, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
                 quantity="Quantity", price="UnitPrice", cancellations="drop")
print(tm)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # guest baskets left out, noted in the cleaning report
    cmp = bm.compare(tm, CUTOFF, horizon="90D")
t = cmp.table
print(f"\nCut-off {CUTOFF}, 90-day holdout: {t.attrs['customers']} customers before it, "
      f"{t.attrs['active_in_holdout']} of them bought again.\n")
with pd.option_context("display.width", 200, "display.max_colwidth", 70, "display.max_rows", 100):
    print(t[["model_type", "model", "metric", "value", "baseline", "baseline_value"]].round(3).to_string(index=False))
    skipped = t[t["metric"] == "skipped"]
    for r in skipped.itertuples():
        print(f"\nskipped ({r.model_type}, {r.model}): {r.note}")
    print("\nCustomer segments (k-means):")
    print(cmp.plots["segments"]["profile"].round(2).to_string())

# What else will they buy, and when?  Three customers, items they never bought.
names = (pd.read_csv(LOG, usecols=["StockCode", "Description"], dtype=str).dropna()
         .drop_duplicates("StockCode").set_index("StockCode")["Description"].str.strip())
recs = bm.recommend(tm, k=3, exclude_purchased=True)
print("\nNext new items for three customers:")
for c, g in list(recs.groupby("customer", sort=True))[:3]:
    print(f"  customer {c}:")
    for r in g.itertuples():
        print(f"    {names.get(r.item, r.item)[:34]:34s} p={r.score:.2f}  in ~{r.expected_days:3.0f} days "
              f"({r.timing}); {r.reason}")
