"""Cross-sell rules from the Groceries data: what goes with what, and what
goes with coffee in particular.

    python examples/groceries_rules.py
"""
from pathlib import Path

import pandas as pd

import basketmine as bm

HERE = Path(__file__).resolve().parent.parent / "datasets" / "groceries"

tm = bm.read_baskets(HERE / "groceries.csv")
print(tm)

itemsets = bm.frequent_itemsets(tm, min_support=0.005)
rules = bm.association_rules(itemsets, metric="confidence", min_threshold=0.4,
                             min_improvement=0.01, significance=0.05)
top = rules.sort_values("lift", ascending=False).head(10)
print(f"\n{len(rules)} rules (confidence >= 0.4, improving on their generalisations, "
      f"Holm-significant); top 10 by lift:")
for r in top.itertuples():
    print(f"  {', '.join(sorted(r.antecedents)):45s} -> {', '.join(sorted(r.consequents)):20s}"
          f" conf {r.confidence:.2f}  lift {r.lift:.2f}")

coffee = bm.association_rules(itemsets, metric="lift", min_threshold=1.0, antecedents=["coffee"])
print("\nWhat goes with coffee (lift > 1):")
for r in coffee.sort_values("lift", ascending=False).itertuples():
    print(f"  coffee -> {', '.join(sorted(r.consequents)):20s} conf {r.confidence:.2f}  lift {r.lift:.2f}")

hierarchy = pd.read_csv(HERE / "groceries_item_hierarchy.csv").set_index("item")
multi = tm.with_ancestors(hierarchy, levels=["level2"])
cat_rules = bm.association_rules(bm.frequent_itemsets(multi, 0.02), "lift", 1.5)
print(f"\n{len(cat_rules)} multi-level rules (items and their level-2 categories, lift >= 1.5)")
