"""Sequential patterns: basketmine next to prefixspan-py and Spark's PrefixSpan, in one run.

What is measured
----------------
Each SPMF file is parsed once (not timed) into a list of sequences, each a
list of elements (lists of ints).  Then, per dataset and support:

* basketmine -- ``TransactionMatrix.from_sequences`` then
  ``sequential_patterns`` (a DataFrame), in a freshly forked process;
* prefixspan-py -- ``PrefixSpan(db)`` (db: the item lists; every element of
  these datasets holds one item) then ``frequent(min_count)``, in a freshly
  forked process;
* Spark -- ``pyspark.ml.fpm.PrefixSpan(...).findFrequentSequentialPatterns(df)``
  followed by ``collect()`` ("Spark fit"), master ``local[2]``, on a cached
  DataFrame with a column ``sequence`` of type array<array<int>> (built and
  counted before the clock starts).  One SparkSession serves the whole run;
  its start-up is timed once and reported apart.  In the length-limited
  cases (below) the patterns are counted in the JVM instead of collected:
  twenty million Rows do not fit in the driver's Python.

Times are the minimum over --repeat runs (the forked tools under an
address-space limit and a wall-clock limit; Spark's jobs are cancelled at the
same wall-clock limit).  A tool that times out on a dataset is not run at its
lower supports.  "MB" is the growth of the forked process's peak RSS during the
call (as in bench_itemsets.py); "JVM MB" is the Spark JVM's peak RSS so far
(VmHWM), read after each case.  Every tool gets the same minimum count,
ceil(support * n_sequences); Spark's maxPatternLength is raised so it does not
cut patterns at its default of 10.

Elements with several items: online_retail (UCI Online Retail, each customer's
invoices as sets of stock codes, read from the CSV once, not timed) has them;
prefixspan-py mines single-item elements only, so there basketmine runs alone
(with Spark when on) and, outside the clock, its result is checked equal, row
for row, to its own general search (a max_span no sequence reaches turns the
suffix reduction off).  Its equality to a brute-force twin is tested on seeded
random data (tests/test_sequences.py).

Two cases explode: in bms1 some thirty sessions share a path of ~150 clicks,
so at 0.05% and below the number of patterns grows past 2^100.  Those cases are
run with a length limit (--bms1-max-len, default 4) for every tool.

Run it from the repository root::

    pip install -e .[bench]
    python benchmarks/bench_sequences.py
    python benchmarks/bench_sequences.py --cases sign:50,bms1:0.1 --repeat 1 --no-spark
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import sys
import threading
import time
from pathlib import Path

import bench_itemsets as harness

DATASETS = {
    "bms1": ("bms1/BMS1_spmf.txt.gz", (0.1, 0.05, 0.03)),
    "bms2": ("bms2/BMS2_spmf.txt.gz", (0.1, 0.05)),
    "sign": ("sign/SIGN.txt", (50, 40, 30)),
    "kosarak10k_seq": ("kosarak10k_seq/kosarak10k_spmf.txt", (1, 0.5, 0.2)),
    "online_retail": ("online_retail/online_retail.csv.gz", (3, 2, 1.5)),
}
#: datasets whose elements hold several items: prefixspan-py mines single-item
#: elements only, so basketmine runs alone there (and Spark, when on) and its
#: result is checked equal to its own general search instead
MULTI_ITEM = {"online_retail"}
#: (dataset, percent) -> why a length limit is needed
EXPLODING = {("bms1", 0.05), ("bms1", 0.03)}
NO_LIMIT = 10_000


def read_spmf(path: Path) -> list:
    opener = gzip.open if path.suffix == ".gz" else open
    seqs = []
    with opener(path, "rt") as fh:
        for line in fh:
            seq, element = [], []
            for tok in line.split():
                t = int(tok)
                if t == -1:
                    seq.append(element)
                    element = []
                elif t == -2:
                    break
                else:
                    element.append(t)
            if seq:
                seqs.append(seq)
    return seqs


def read_retail(path: Path) -> list:
    """UCI Online Retail as sequences: each customer's invoices (sets of stock
    codes, sorted) in time order; cancellations, returns and lines without a
    customer left out."""
    import pandas as pd

    df = pd.read_csv(path, usecols=["InvoiceNo", "StockCode", "CustomerID", "InvoiceDate", "Quantity"],
                     dtype={"InvoiceNo": str, "StockCode": str})
    df = df[df["CustomerID"].notna() & (df["Quantity"] > 0) & ~df["InvoiceNo"].str.startswith("C")]
    df = df.assign(InvoiceDate=pd.to_datetime(df["InvoiceDate"]))
    df = df.sort_values(["CustomerID", "InvoiceDate", "InvoiceNo"], kind="stable")
    return [[sorted(set(b)) for _, b in g.groupby("InvoiceNo", sort=False)["StockCode"]]
            for _, g in df.groupby("CustomerID", sort=True)]


def read_data(path: Path) -> list:
    return read_retail(path) if path.name.endswith(".csv.gz") else read_spmf(path)


def same_as_general_search(seqs, percent, max_len) -> bool:
    """basketmine's result equals, row for row, its general search (forced by
    a max_span no sequence reaches), which does not reduce suffixes."""
    import basketmine as bm

    tm = bm.TransactionMatrix.from_sequences(seqs)
    a = bm.sequential_patterns(tm, min_count(percent, len(seqs)), max_len=max_len,
                               max_patterns=harness.BM_MAX_ITEMSETS)
    b = bm.sequential_patterns(tm, min_count(percent, len(seqs)), max_len=max_len,
                               max_span=10**9, max_patterns=harness.BM_MAX_ITEMSETS)
    return list(a["sequence"]) == list(b["sequence"]) and (a["count"].to_numpy() == b["count"].to_numpy()).all()


def min_count(percent: float, n: int) -> int:
    return max(1, math.ceil(round(percent / 100 * n, 9)))


def prepare_basketmine(case, percent):
    import basketmine as bm

    seqs, max_len = case

    def call():
        tm = bm.TransactionMatrix.from_sequences(seqs)
        return bm.sequential_patterns(tm, min_count(percent, len(seqs)), max_len=max_len,
                                      max_patterns=harness.BM_MAX_ITEMSETS)

    def describe(df):
        return len(df), ("cap" if df.attrs["truncated"] else "ok"), ""

    return f"basketmine {harness.distribution_version('basketmine')}", call, describe


def prepare_prefixspan(case, percent):
    from prefixspan import PrefixSpan

    seqs, max_len = case
    db = [[e[0] for e in s] for s in seqs]

    def call():
        ps = PrefixSpan(db)
        ps.maxlen = max_len
        return ps.frequent(min_count(percent, len(seqs)))

    return (f"prefixspan-py {harness.distribution_version('prefixspan')}", call,
            lambda r: (len(r), "ok", ""))


PREPARE = {"basketmine": prepare_basketmine, "prefixspan-py": prepare_prefixspan}


class Spark:
    """One local[2] SparkSession for the run; start-up timed once."""

    def __init__(self):
        t0 = time.perf_counter()
        from pyspark.sql import SparkSession

        self.session = (SparkSession.builder.master("local[2]").appName("basketmine-bench")
                        .config("spark.driver.memory", "8g").config("spark.ui.enabled", "false")
                        .getOrCreate())
        self.session.sparkContext.setLogLevel("ERROR")
        self.session.range(1).count()
        self.startup = time.perf_counter() - t0
        from pyspark import __version__
        self.version = f"pyspark {__version__}"

    def frame(self, seqs):
        kind = "string" if seqs and isinstance(seqs[0][0][0], str) else "int"
        df = self.session.createDataFrame([(s,) for s in seqs], f"sequence array<array<{kind}>>").cache()
        df.count()
        return df

    def run(self, df, n, percent, max_len, timeout) -> dict:
        from pyspark.ml.fpm import PrefixSpan

        sc = self.session.sparkContext
        timer = threading.Timer(timeout, sc.cancelAllJobs)
        timer.start()
        t0 = time.perf_counter()
        try:
            # Spark's own minimum count is ceil(minSupport * n); give it exactly ours
            support = (min_count(percent, n) - 0.5) / n
            found = PrefixSpan(minSupport=support, maxPatternLength=max_len,
                               sequenceCol="sequence").findFrequentSequentialPatterns(df)
            # millions of rows do not fit in the driver's Python: count those in the JVM
            n_rows = found.count() if max_len != NO_LIMIT else len(found.collect())
            seconds = time.perf_counter() - t0
        except Exception as exc:  # a cancelled job surfaces as an error
            status = "timeout" if time.perf_counter() - t0 >= timeout else "error"
            return {"tool": "spark", "status": status, "note": f"{type(exc).__name__}: {str(exc)[:200]}"}
        finally:
            timer.cancel()
        return {"tool": "spark", "status": "ok", "count": n_rows, "seconds": seconds,
                "version": self.version, "jvm_mb": jvm_peak_mb()}

    def stop(self):
        self.session.stop()


def jvm_peak_mb():
    """VmHWM of the JVM started by pyspark (None when not found)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"java" in cmd and b"pyspark-shell" in cmd:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            continue
    return None


def fmt(v, spec=".3f"):
    return "-" if v is None else format(v, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", help="e.g. sign:50,bms1:0.1 (support in percent)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--mem-limit-gb", type=float, default=12)
    ap.add_argument("--bms1-max-len", type=int, default=4)
    ap.add_argument("--no-prefixspan", action="store_true")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--data", type=Path, default=harness.DEFAULT_DATA)
    ap.add_argument("--json", type=Path)
    opt = ap.parse_args(argv)
    plan = {name: list(p) for name, (_, p) in DATASETS.items()}
    if opt.cases:
        plan = {}
        for part in opt.cases.split(","):
            name, pct = part.split(":")
            plan.setdefault(name, []).append(float(pct))
    tools = ["basketmine"] + ([] if opt.no_prefixspan else ["prefixspan-py"])
    spark = None if opt.no_spark else Spark()
    results = []
    for name, percents in plan.items():
        seqs = read_data(opt.data / DATASETS[name][0])
        sdf = spark.frame(seqs) if spark else None
        given_up = set()
        for pct in percents:
            max_len = opt.bms1_max_len if (name, pct) in EXPLODING else NO_LIMIT
            row = {"dataset": name, "percent": pct, "n": len(seqs), "min_count": min_count(pct, len(seqs)),
                   "max_len": None if max_len == NO_LIMIT else max_len, "runs": {}}
            case_tools = ["basketmine"] if name in MULTI_ITEM else tools
            for tool in case_tools + (["spark"] if spark else []):
                if tool in given_up:
                    row["runs"][tool] = {"status": "skipped"}
                    continue
                reports = []
                for k in range(opt.repeat):
                    if tool == "spark":
                        rep = spark.run(sdf, len(seqs), pct, max_len, opt.timeout)
                    else:
                        rep = harness.run_once(tool, (seqs, max_len), pct, opt, PREPARE)
                    reports.append(rep)
                    harness.log(f"  {name} {pct}% {tool} run {k + 1}/{opt.repeat}: "
                                f"{rep.get('status')} {fmt(rep.get('seconds'))} s, {rep.get('count')} patterns")
                    if rep.get("status") not in ("ok", "cap") or rep["seconds"] > 60:
                        break
                if tool == "spark":
                    done = [r for r in reports if r["status"] == "ok"]
                    summ = dict(min(done, key=lambda r: r["seconds"]), runs=reports) if done else reports[-1]
                else:
                    summ = harness.summarise(reports)
                if summ.get("status") in harness.HOPELESS:
                    given_up.add(tool)
                row["runs"][tool] = summ
            if name in MULTI_ITEM and row["runs"]["basketmine"].get("count") is not None:
                row["general"] = same_as_general_search(seqs, pct, None if max_len == NO_LIMIT else max_len)
            results.append(row)
        if sdf is not None:
            sdf.unpersist()
    if spark:
        startup = spark.startup
        spark.stop()
    head = ("dataset", "supp%", "minc", "maxlen", "patterns", "=ps", "=spark", "bm s", "prefixspan s",
            "spark s", "ps/bm", "spark/bm", "bm MB", "ps MB", "JVM MB")
    lines = [head]
    n_ps = n_spark = n_cases = 0
    for row in results:
        r = row["runs"]
        bm, ps, sp = r.get("basketmine", {}), r.get("prefixspan-py", {}), r.get("spark", {})
        t = bm.get("seconds")

        def same(o):
            return "-" if o.get("count") is None else ("yes" if o["count"] == bm.get("count") else "NO")

        def ratio(o):
            if t is None:
                return None
            if o.get("seconds") is not None:
                return o["seconds"] / t
            return None

        rp, rs = ratio(ps), ratio(sp)
        ps_s = fmt(ps.get("seconds")) if ps.get("seconds") is not None else (
            f">{opt.timeout:g}" if ps.get("status") == "timeout" else ps.get("status", "-"))
        rp_s = fmt(rp, ".0f") + "x" if rp else (f">{opt.timeout / t:.0f}x" if t and ps.get("status") == "timeout" else "-")
        n_cases += 1
        n_ps += bool((rp and rp >= 100) or (ps.get("status") == "timeout" and t and opt.timeout / t >= 100))
        n_spark += bool(rs and rs > 1)
        lines.append((row["dataset"], f"{row['percent']:g}", str(row["min_count"]), str(row["max_len"] or "-"),
                      f"{bm.get('count', '-'):,}" if bm.get("count") is not None else bm.get("status", "-"),
                      same(ps), same(sp), fmt(t), ps_s,
                      fmt(sp.get("seconds")) if sp.get("seconds") else sp.get("status", "-"),
                      rp_s, fmt(rs, ".1f") + "x" if rs else "-",
                      fmt(bm.get("peak_growth_mb"), ".0f"), fmt(ps.get("peak_growth_mb"), ".0f"),
                      fmt(sp.get("jvm_mb"), ".0f")))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = []
    for k, line in enumerate(lines):
        out.append("  ".join(str(v).ljust(w) for v, w in zip(line, widths)).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    print("\n".join(out))
    multi = [row for row in results if row["dataset"] in MULTI_ITEM]
    n_single = n_cases - len(multi)
    print(f"\nSummary: basketmine >= 100x faster than prefixspan-py in {n_ps} of {n_single} cases with "
          f"single-item elements; faster than Spark fit in {n_spark} of {n_cases} cases.")
    for row in multi:
        print(f"{row['dataset']} {row['percent']:g}%: elements with several items, which prefixspan-py "
              f"cannot mine; equal to basketmine's general search: "
              f"{ {True: 'yes', False: 'NO'}.get(row.get('general'), '-') }.")
    if spark:
        print(f"Spark session start-up (JVM, local[2]): {startup:.1f} s, not included in 'spark s'.")
    versions = sorted({r.get("version") for row in results for r in row["runs"].values() if r.get("version")})
    print(f"Times: seconds, minimum over runs, from the parsed sequences to each tool's result. "
          f"ps/bm, spark/bm: peer time / basketmine time.\nMB: peak-RSS growth of the forked process "
          f"during the call; JVM MB: the Spark JVM's peak RSS so far.\nLimits: {opt.timeout:g} s per run, "
          f"{opt.mem_limit_gb:g} GB address space.  maxlen: a length limit given to every tool (see the "
          f"docstring).\nbasketmine checkout {harness.basketmine_source()}; {', '.join(versions)}; "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs.")
    if opt.json:
        opt.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
