"""What else will they buy, and when? Next items for the customers of the
Online Retail sample, with the probability of each purchase within 90 days
and its expected date, then the recommender judged against TIFU-KNN and the
customer's own most-bought items on a holdout.

    python examples/next_items.py
"""
import warnings
from pathlib import Path

import pandas as pd

import basketmine as bm

DATA = Path(__file__).resolve().parents[1] / "datasets" / "online_retail" / "online_retail_sample.csv.gz"


def main():
    tm = bm.read_csv(DATA, "InvoiceNo", "StockCode", customer="CustomerID", time="InvoiceDate",
                     quantity="Quantity", price="UnitPrice")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        recs = bm.recommend(tm, k=5, horizon="90D", exclude_purchased=True)
    for w in {str(c.message) for c in caught}:
        print("note:", w)
    first = recs["customer"].iloc[0]
    with pd.option_context("display.width", 200, "display.max_colwidth", 70):
        print(f"Customer {first}: five items never bought before, as of {recs.attrs['asof']:%Y-%m-%d}")
        print(recs[recs["customer"] == first][["rank", "item", "probability", "expected_date", "reason"]]
              .round(3).to_string(index=False))
    print("\nCalibration on the training window (predicted against bought):")
    print(recs.attrs["calibration"].round(3).to_string())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tab = bm.models.recommendation_benchmark(tm, "2011-09-01", horizon="90D", k=10,
                                                 baselines=("repeat", "tifu_knn"))
    wide = tab.pivot_table(index=["mode", "model"], columns="metric", values="value")
    print(f"\nHoldout from 2011-09-01, {tab.attrs['customers']} customers active on both sides, k = 10:")
    print(wide[["phr", "recall", "ndcg", "recall_repeat", "recall_explore"]].round(3).to_string())


if __name__ == "__main__":
    main()
