"""Follow-up purchases in the Online Retail sample: what do customers buy
within 90 days of buying something, and how soon?

    python examples/online_retail_follow_ups.py
"""
import warnings
from pathlib import Path

import pandas as pd

import basketmine as bm

HERE = Path(__file__).resolve().parent.parent / "datasets" / "online_retail"
LOG = HERE / "online_retail_sample.csv.gz"

tm = bm.read_csv(LOG, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
                 quantity="Quantity", price="UnitPrice")
print(tm)
names = (pd.read_csv(LOG, usecols=["StockCode", "Description"], dtype=str)
         .dropna().drop_duplicates("StockCode").set_index("StockCode")["Description"].str.strip())

# Guest invoices have no customer and cannot be followed; keep the registered ones.
registered = tm.select(tm.customer_codes >= 0)
fu = bm.follow_ups(registered, within="90D", min_support=0.03, min_confidence=0.2)
print(f"\n{len(fu)} follow-ups within 90 days (>= 3% of customers, confidence >= 0.2); "
      f"{fu.attrs['n_eligible_customers']} of {fu.attrs['n_customers']} customers were observed "
      f"for 90 days after a purchase.")
new = fu[[c not in a for a, c in zip(fu["antecedents"], fu["consequent"])]]
print("\nTop 10 cross-sell follow-ups (a different item), by confidence:")
for r in new.head(10).itertuples():
    a = " + ".join(names.get(x, x) for x in sorted(r.antecedents))
    print(f"  {r.confidence:4.0%} of {r.antecedent_customers:3d} who bought {a[:34]:34s} then bought "
          f"{names.get(r.consequent, r.consequent)[:34]:34s} (lift {r.lift:4.1f}, after "
          f"{r.lag_days_median:3.0f} days median)")

again = fu[[c in a for a, c in zip(fu["antecedents"], fu["consequent"])]]
print(f"\nTop 5 repeat purchases within 90 days ({len(again)} items):")
for r in again.head(5).itertuples():
    print(f"  {r.confidence:4.0%} bought {names.get(r.consequent, r.consequent)[:40]:40s} again, "
          f"median {r.lag_days_median:3.0f} days later")

# The general patterns behind them: sequences of baskets held by 5% of customers,
# each next basket within 30 days of the one before.
seq = bm.sequential_patterns(registered, 0.05, max_gap="30D")
longest = seq[seq["length"] == seq["length"].max()].sort_values("count", ascending=False)
print(f"\n{len(seq)} sequential patterns (5% of customers, gaps <= 30 days); the longest:")
for s, n in zip(longest["sequence"].head(3), longest["count"].head(3)):
    steps = "  ->  ".join(" + ".join(names.get(x, x)[:22] for x in sorted(e)) for e in s)
    print(f"  {n:3d} customers: {steps}")
