"""The same jobs on Apache Spark: cross-sell rules, follow-ups and the
customer summary from a Spark DataFrame of invoice lines, checked against
the local result.  Runs on local[2]; submit it to a cluster unchanged with

    spark-submit --master yarn examples/spark_cross_sell.py

(basketmine must be installed on the executors too:
``pip install "basketmine[spark]"``; Java 17 for Spark itself).
"""
import warnings
from pathlib import Path

import pandas as pd
from pyspark.sql import SparkSession

import basketmine as bm
import basketmine.spark as bms

SAMPLE = Path(__file__).resolve().parent.parent / "datasets" / "online_retail" / "online_retail_sample.csv.gz"
COLS = dict(basket="InvoiceNo", item="Description", customer="CustomerID", time="InvoiceDate",
            quantity="Quantity", price="UnitPrice")

spark = (SparkSession.builder.appName("basketmine example").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "4").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
warnings.simplefilter("ignore", FutureWarning)  # pyspark's note about pandas 3

# On a cluster this would be spark.read.csv / spark.read.parquet of the till export.
frame = pd.read_csv(SAMPLE, dtype={"InvoiceNo": str, "CustomerID": str}, parse_dates=["InvoiceDate"])
lines = spark.createDataFrame(frame)

st = bms.transactions(lines, **COLS)
print(st)
print(st.report)

itemsets = bms.frequent_itemsets(st, 0.02)
rules = bms.association_rules(itemsets, "lift", 5.0)
print(f"\n{rules.count()} rules with lift >= 5; the first five:")
for r in rules.limit(5).collect():
    print(f"  {', '.join(r.antecedents)} -> {', '.join(r.consequents)}  "
          f"conf {r.confidence:.2f}  lift {r.lift:.1f}")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # guest baskets are left out of follow-ups
    fu = bms.follow_ups(st, within="90D", min_support=0.03)
print("\nFollow-ups within 90 days, strongest first:")
for r in fu.limit(5).collect():
    print(f"  {r.antecedents[0]} -> {r.consequent}  {r.customers} customers, conf {r.confidence:.2f}, "
          f"median lag {r.lag_days_median:.0f} days")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    customers = bms.summary(st, unit="W").to_pandas()  # one row per customer: small
bg = bm.value.BetaGeo().fit(customers)
print("\nBG/NBD fitted locally on the Spark summary:", bg.params_.round(3).to_dict())

# the same answer as on one machine
local = bm.frequent_itemsets(bm.TransactionMatrix.from_frame(frame, **COLS), 0.02)
same = bms.to_pandas(itemsets)["itemsets"].tolist() == local["itemsets"].tolist()
print(f"\nSpark itemsets equal to the local ones: {same}")
st.unpersist()
spark.stop()
