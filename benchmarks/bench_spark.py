"""basketmine on Spark next to Spark MLlib's FPGrowth, in one run.

What is measured
----------------
The FIMI retail log (../shared/datasets/retail) is replicated 1x, 2x, 4x and
8x (copy ``r`` of basket ``b`` becomes basket ``b + r * n``), so every
itemset keeps its support and its count grows with the copies.  At each
size, both miners start from the same cached Spark DataFrame of invoice
lines ``(basket, item)``, with the same master (``local[2]`` by default)
and the same support:

* basketmine -- ``basketmine.spark.transactions`` (encoding and the cleaning
  report) then ``basketmine.spark.frequent_itemsets`` and ``count()`` of the
  result ("total"); the mining step alone is reported too ("mine");
* MLlib -- ``groupBy(basket).agg(collect_set(item))`` then
  ``FPGrowth(minSupport).fit`` and ``freqItemsets.count()`` ("total"); the
  fit and count on baskets prepared and cached beforehand ("mine").

Both count an itemset when it is in at least ceil(support * baskets)
baskets.  The itemset counts must be equal; the script says so per row.
Both are warmed up first on a tenth of the log (untimed).  Times are the
minimum over --repeat runs; the ratio is MLlib / basketmine
(above 1: basketmine is faster); "growth" is the time relative to the 1x
run of the same tool.

Run: python benchmarks/bench_spark.py [--support 0.002] [--scales 1,2,4,8]
"""
from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RETAIL = ROOT.parent / "shared" / "datasets" / "retail" / "retail.dat.gz"


def read_lines(path: Path):
    baskets, items = [], []
    with gzip.open(path, "rt") as fh:
        for b, line in enumerate(fh):
            for tok in set(line.split()):
                baskets.append(b)
                items.append(int(tok))
    return baskets, items, b + 1


def best(fn, repeat: int):
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--support", type=float, default=0.002)
    ap.add_argument("--scales", default="1,2,4,8")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    if not RETAIL.exists():
        print(f"needs {RETAIL} (../shared/datasets beside the repository)", file=sys.stderr)
        return 2
    import pandas as pd
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import SparkSession, functions as F

    import basketmine.spark as bms

    t0 = time.perf_counter()
    spark = (SparkSession.builder.master(args.master).appName("bench_spark")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "8g")
             .config("spark.sql.shuffle.partitions", "16").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    print(f"Spark {spark.version} start-up {time.perf_counter() - t0:.1f} s, master {args.master}, "
          f"support {args.support}")
    b, i, n = read_lines(RETAIL)
    base = spark.createDataFrame(pd.DataFrame({"basket": b, "item": i})).cache()
    print(f"retail: {n:,} baskets, {base.count():,} lines")
    # warm both up (JIT, Python workers) on a tenth of the log, untimed
    warm = base.where(base["basket"] % 10 == 0).cache()
    st = bms.transactions(warm, basket="basket", item="item")
    bms.frequent_itemsets(st, args.support).count()
    st.unpersist()
    FPGrowth(itemsCol="items", minSupport=args.support).fit(
        warm.groupBy("basket").agg(F.collect_set("item").alias("items"))).freqItemsets.count()
    warm.unpersist()
    rows = []
    for k in [int(s) for s in args.scales.split(",")]:
        lines = (base.crossJoin(spark.range(k).withColumnRenamed("id", "rep"))
                 .select((F.col("basket") + F.col("rep") * n).alias("basket"), "item")
                 .repartition(16).cache())
        n_lines = lines.count()

        def bm_total():
            st = bms.transactions(lines, basket="basket", item="item")
            try:
                return bms.frequent_itemsets(st, args.support).count()
            finally:
                st.unpersist()

        def ml_total():
            baskets = lines.groupBy("basket").agg(F.collect_set("item").alias("items"))
            model = FPGrowth(itemsCol="items", minSupport=args.support, minConfidence=1.0).fit(baskets)
            return model.freqItemsets.count()

        # one tool's cached input at a time, so neither mines under the other's memory
        st = bms.transactions(lines, basket="basket", item="item")
        t_bm_mine, c_bm = best(lambda: bms.frequent_itemsets(st, args.support).count(), args.repeat)
        st.unpersist()
        prepared = lines.groupBy("basket").agg(F.collect_set("item").alias("items")).cache()
        prepared.count()
        t_ml_mine, c_ml = best(lambda: FPGrowth(itemsCol="items", minSupport=args.support, minConfidence=1.0)
                               .fit(prepared).freqItemsets.count(), args.repeat)
        prepared.unpersist()
        t_bm, c_bm2 = best(bm_total, args.repeat)
        t_ml, c_ml2 = best(ml_total, args.repeat)
        lines.unpersist()
        rows.append(dict(scale=f"{k}x", baskets=n * k, lines=n_lines, itemsets=c_bm,
                         equal=c_bm == c_ml == c_bm2 == c_ml2, bm_mine=t_bm_mine, ml_mine=t_ml_mine,
                         ratio_mine=t_ml_mine / t_bm_mine, bm_total=t_bm, ml_total=t_ml, ratio_total=t_ml / t_bm))
        r = rows[-1]
        print(f"{r['scale']:>3}: {r['itemsets']:,} itemsets (equal: {r['equal']}); mine: basketmine "
              f"{t_bm_mine:.2f} s, MLlib {t_ml_mine:.2f} s ({r['ratio_mine']:.2f}x); total: basketmine "
              f"{t_bm:.2f} s, MLlib {t_ml:.2f} s ({r['ratio_total']:.2f}x)", flush=True)
    table = pd.DataFrame(rows)
    for col in ("bm_mine", "ml_mine", "bm_total", "ml_total"):
        table[f"{col}_growth"] = table[col] / table[col].iloc[0]
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format", "{:.2f}".format):
        print(table.to_string(index=False))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
