"""Association rules, closed and maximal itemsets, and import time: basketmine
next to mlxtend and pyfim, in one run.

Four targets, each shown side by side from the same baskets (a list of lists
of ints, parsed once per dataset from a FIMI file and inherited by every tool
run):

A. Rules -- basketmine at least 10x faster than mlxtend.
B. Closed and maximal itemsets -- basketmine no slower than pyfim.
C. All frequent itemsets -- basketmine no slower than pyfim: that is
   ``benchmarks/bench_itemsets.py``; cases ``all:DATASET:SUPPORT`` here run
   that script's harness and table unchanged.
D. Import -- ``import basketmine`` at most 1.5x the time of ``import pandas``,
   without pulling in scipy.stats, sklearn, statsmodels or pyspark.

What is measured
----------------
A. Rules.  The frequent itemsets are mined once per case by basketmine, in
the dataset's process (``frequent_itemsets(tm, min_count)``, not timed).  Then, each in its own
freshly forked process:

* basketmine -- ``bm.association_rules(itemsets, "confidence", conf)`` on that
  frame (timed: this call only);
* mlxtend -- ``mlxtend.frequent_patterns.association_rules(frame,
  num_itemsets=n_baskets, metric="confidence", min_threshold=conf)`` where
  ``frame`` holds the same itemsets as mlxtend's input format, a DataFrame with
  ``support`` and ``itemsets`` (frozensets of item codes), built before the
  clock starts (timed: this call only);
* pyfim -- ``fim.fpgrowth`` and ``fim.eclat`` with ``target="r"``,
  ``supp=-min_count``, ``conf=100*conf``, ``zmin=2``, ``mode="o"``,
  ``report="cl"``, from the baskets (pyfim has no entry point taking
  itemsets, so its time includes mining them); the faster is "pyfim".  For a
  like-for-like figure basketmine's own mining is timed as well
  (``TransactionMatrix.from_baskets`` + ``frequent_itemsets``), and "bm
  mine+rules" is that time plus the rules time (two separate minima).

Semantics.  basketmine and mlxtend produce every rule ``A -> C`` with A, C
non-empty, A | C frequent and confidence >= conf, consequents of any size;
their rule sets are compared in full: the same (antecedent, consequent) pairs
and confidence and lift equal to 1e-9 (relative) -- "=mlxtend".  pyfim's rules
have a single item as consequent, and by default its rule support is the
support of the antecedent alone; ``mode="o"`` makes it the support of A | C
as in the other two, and ``zmin=2`` drops its rules with an empty antecedent.
pyfim's rules are therefore compared (pairs, confidence, lift) with
basketmine's rules whose consequent has one item -- "=pyfim", the count of
those is "1-item C" -- and its time is not a like-for-like comparison
(basketmine and mlxtend also build the rules with longer consequents).

Confidence thresholds keep every case below ~10 million rules, the most a
rules DataFrame (45 measures in basketmine's) holds comfortably in memory (with measures="all"):

* 0.5 on the sparse sets, where rules are few: retail 0.1/0.05/0.02% give
  6,192 / 16,960 / 67,391 rules, T10I4D100K 0.05% gives 761,644;
* 0.9 on chess: at 80% support every rule already has confidence >= 0.8, so
  a lower threshold keeps all 553k candidate splits; 0.9 leaves 80,121 rules
  at 85% and 349,298 at 80%;
* mushroom at 10% is left out: its 574k itemsets give 380 million candidate
  splits and still 113 million rules at confidence 1.0.  mushroom runs at 30%
  (confidence 0.9: 24,408 rules) and 20% (0.99: 7.4 million rules out of 19
  million candidate splits, the large case of the table).

A case may set its own threshold: ``rules:mushroom:10@1``.

B. Closed and maximal itemsets, each tool from the parsed baskets to its
result, timed end to end as in bench_itemsets.py:

* basketmine -- ``TransactionMatrix.from_baskets`` then
  ``frequent_itemsets(tm, min_count, target="closed" | "maximal")``;
* pyfim -- ``fim.fpgrowth`` and ``fim.eclat`` with ``target="c" | "m"``,
  ``supp=-min_count``, ``report="a"``; the faster is "pyfim best";
* mlxtend (maximal only) -- ``TransactionEncoder`` (sparse), a sparse
  DataFrame, then ``fpmax``; once it times out on a dataset its lower
  supports are skipped (--no-mlxtend leaves it out).

Every tool gets the same minimum count, ceil(support * n_baskets); mlxtend
gets a fraction half a basket below it.  The results are compared in full
through an order-free 128-bit digest of the (itemset, count) pairs, not only
by count.  pyfim 6.28 leaves out itemsets made only of items present in every
basket (mushroom has one, item 85; chess none): the script lists, from the
data, the closed (or maximal) sets made only of such items -- the set of all
of them is always closed -- and accepts pyfim's result when it equals
basketmine's minus exactly those sets (marked with a dagger).

connect is not among the datasets in ../shared/datasets; its cases run when
``connect/connect.dat`` (or ``.dat.gz``) is there.

D. Import: the wall-clock time of a fresh ``python -c "import basketmine"``
and of ``python -c "import pandas"`` (interpreter start-up included in both,
minimum over --import-runs processes, run from the repository root), their
ratio, and which of scipy.stats, sklearn, statsmodels, pyspark are in
sys.modules after ``import basketmine``; ``-X importtime`` names the packages
that take the most time.

The harness is bench_itemsets.py's: one forked process per tool run under an
address-space limit (--mem-limit-gb) and a wall-clock limit on the timed call
(--timeout; the process is killed when it passes it), minimum time over
--repeat runs (not repeated past --no-repeat-above seconds), "MB" the growth
of the process's peak RSS during the call.  Preparing inputs before the clock
and checking results after it get --check-timeout more seconds per run.  A
tool that times out or runs out of memory is not run at the lower supports of
the same dataset and kind; a ratio against a timed-out tool is shown as a
lower bound (">").

Run it from the repository root::

    pip install -e .[bench]
    python benchmarks/bench_rules.py
    python benchmarks/bench_rules.py --cases rules:retail:0.05,closed:chess:80,import --repeat 1
    python benchmarks/bench_rules.py --cases rules,maximal --no-mlxtend --json /tmp/rules.json
    python benchmarks/bench_rules.py --cases all:chess:60   # target C, via bench_itemsets.py

--cases takes KIND[:DATASET[:SUPPORT_PERCENT[@CONFIDENCE]]] items, KIND one of
rules, closed, maximal, all, import.  The datasets are read from
../shared/datasets next to the repository (override with --data).  Progress
goes to stderr, the Markdown tables to stdout.
"""
from __future__ import annotations

import argparse
import copy
import gc
import json
import math
import multiprocessing
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np

import bench_itemsets as harness

ROOT = Path(__file__).resolve().parents[1]

#: Dataset name -> file under the data directory (a missing ".gz" is also tried).
FILES = {name: path for name, (path, _) in harness.DATASETS.items()}
FILES["connect"] = "connect/connect.dat"

#: Default rules cases: (dataset, support %, minimum confidence); see the docstring.
RULES_CASES = (
    ("retail", 0.1, 0.5), ("retail", 0.05, 0.5), ("retail", 0.02, 0.5),
    ("T10I4D100K", 0.05, 0.5),
    ("chess", 85, 0.9), ("chess", 80, 0.9),
    ("mushroom", 30, 0.9), ("mushroom", 20, 0.99),
)
#: Default confidence of a rules case not listed above.
DEFAULT_CONF = {"retail": 0.5, "T10I4D100K": 0.5, "kosarak25k": 0.5}
DENSE_CONF = 0.9

#: Default closed / maximal cases: dataset -> supports in percent, high to low.
CLOSED_CASES = {"chess": (85, 80, 70), "mushroom": (10, 5), "connect": (95, 90)}

KINDS = ("rules", "closed", "maximal", "all", "import")
TOOLS = {
    "rules": ("basketmine", "mlxtend", "pyfim-fpgrowth", "pyfim-eclat", "basketmine-itemsets"),
    "closed": ("basketmine", "pyfim-fpgrowth", "pyfim-eclat"),
    "maximal": ("basketmine", "pyfim-fpgrowth", "pyfim-eclat", "mlxtend"),
}
RULES_TARGET = 10.0     # mlxtend time / basketmine time, at least
MINING_TARGET = 1.0     # basketmine time / pyfim time, at most
IMPORT_TARGET = 1.5     # basketmine import / pandas import, at most
HEAVY_MODULES = ("scipy.stats", "sklearn", "statsmodels", "pyspark")
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Case:
    kind: str
    dataset: str = ""
    percent: float = 0.0
    conf: float | None = None

    @property
    def label(self) -> str:
        text = f"{self.kind} {self.dataset} {self.percent:g}%"
        return text + (f" conf {self.conf:g}" if self.conf is not None else "")


def min_count(percent: float, n: int) -> int:
    """The smallest basket count meeting ``percent`` of ``n`` baskets (basketmine's rule)."""
    return max(1, math.ceil(round(percent / 100 * n, 9)))


# --------------------------------------------------------------------------
# order-free digests of results, computed in the tool's process after the clock


_GOLDEN = 0x9E3779B97F4A7C15
SALTS = (0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89)


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over a uint64 array (wrapping arithmetic)."""
    x = x + np.uint64(_GOLDEN)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def flat_items(sets) -> tuple[np.ndarray, np.ndarray]:
    """(length of each set, all items one set after the other) as int64 arrays.

    basketmine's ItemsetArray column holds exactly that (codes into its labels); it is read
    directly when it has the attributes, which skips building millions of frozensets, and
    iterated like any other column otherwise."""
    array = getattr(sets, "array", sets)
    if all(hasattr(array, name) for name in ("_items", "_offsets", "_labels")):
        offsets = np.asarray(array._offsets)
        codes = np.asarray(array._items)[offsets[0]:offsets[-1]] if len(offsets) else []
        return np.diff(offsets).astype(np.int64), np.asarray(array._labels)[codes].astype(np.int64)
    sets = list(sets)
    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    return lengths, np.fromiter(chain.from_iterable(sets), dtype=np.int64, count=int(lengths.sum()))


def set_hashes(sets, salt: int) -> np.ndarray:
    """One 64-bit hash per non-empty set of int items, independent of item order."""
    lengths, flat = flat_items(sets)
    if not len(lengths):
        return np.empty(0, dtype=np.uint64)
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return np.add.reduceat(mix(flat.astype(np.uint64) ^ np.uint64(salt)), starts)


def collection_digest(sets: list, counts) -> list[int]:
    """Two 64-bit sums over the (itemset, count) pairs: equal collections, equal digests."""
    counts = np.asarray(counts, dtype=np.int64).astype(np.uint64)
    out = []
    for k in (0, 1):
        per_set = mix(set_hashes(sets, SALTS[2 * k]) ^ mix(counts ^ np.uint64(SALTS[2 * k + 1])))
        out.append(int(per_set.sum(dtype=np.uint64)))
    return out


def add_digests(a: list[int], b: list[int]) -> list[int]:
    return [(x + y) % 2**64 for x, y in zip(a, b)]


def save_check(payload: dict, tool: str, **arrays) -> None:
    """Leave a tool's result digest in the case's directory (once; repeated runs agree)."""
    path = Path(payload["checkdir"]) / f"{tool}.npz"
    if not path.exists():
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)


def load_check(payload: dict, tool: str) -> dict | None:
    path = Path(payload["checkdir"]) / f"{tool}.npz"
    if not path.exists():
        return None
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def save_rules(payload, tool, antecedents, consequents, confidence, lift) -> None:
    save_check(payload, tool, ka=set_hashes(antecedents, SALTS[0]), kc=set_hashes(consequents, SALTS[1]),
               clen=flat_items(consequents)[0].astype(np.int32),
               conf=np.asarray(confidence, dtype=float), lift=np.asarray(lift, dtype=float))


def save_sets(payload, tool, sets, counts) -> None:
    save_check(payload, tool, digest=np.array(collection_digest(sets, counts), dtype=np.uint64),
               count=np.array(len(counts)))


# --------------------------------------------------------------------------
# one tool run, inside a forked process (harness.tool_worker calls these)


def with_limit(call, seconds: float):
    """``call`` under a wall-clock alarm: SIGALRM's default action ends the process."""
    def limited():
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return call()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    return limited


def quiet_mlxtend() -> str:
    import warnings

    import mlxtend

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    # its unused measures divide by zero on rules with confidence 1
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="mlxtend")
    return mlxtend.__version__


def basketmine_version() -> str:
    import basketmine as bm

    return f"{bm.__version__} build {harness.package_fingerprint(Path(bm.__file__).parent)}"


def rules_basketmine(payload, percent):
    import basketmine as bm

    itemsets, conf = payload["itemsets"], payload["conf"]

    def call():
        return bm.association_rules(itemsets, "confidence", conf)

    def describe(rules):
        save_rules(payload, "basketmine", rules["antecedents"], rules["consequents"],
                   rules["confidence"], rules["lift"])
        return len(rules), "ok", ""

    return basketmine_version(), with_limit(call, payload["limit"]), describe


def rules_basketmine_itemsets(payload, percent):
    import basketmine as bm

    baskets, count = payload["baskets"], payload["min_count"]

    def call():
        tm = bm.TransactionMatrix.from_baskets(baskets)
        return bm.frequent_itemsets(tm, count, max_itemsets=harness.BM_MAX_ITEMSETS)

    return basketmine_version(), with_limit(call, payload["limit"]), lambda df: (len(df), "ok", "")


def rules_mlxtend(payload, percent):
    import pandas as pd
    from mlxtend.frequent_patterns import association_rules

    version = quiet_mlxtend()
    itemsets, n, conf = payload["itemsets"], payload["n"], payload["conf"]
    frame = pd.DataFrame({
        "support": itemsets["support"].to_numpy(dtype=float),
        "itemsets": [frozenset(int(item) for item in s) for s in itemsets["itemsets"]],
    })

    def call():
        return association_rules(frame, num_itemsets=n, metric="confidence", min_threshold=conf)

    def describe(rules):
        save_rules(payload, "mlxtend", rules["antecedents"], rules["consequents"],
                   rules["confidence"], rules["lift"])
        return len(rules), "ok", ""

    return version, with_limit(call, payload["limit"]), describe


def rules_pyfim(algorithm):
    def prepare(payload, percent):
        import fim

        miner, baskets = getattr(fim, algorithm), payload["baskets"]
        supp, conf = -payload["min_count"], 100.0 * payload["conf"]

        def call():
            return miner(baskets, target="r", supp=supp, conf=conf, zmin=2, report="cl", mode="o")

        def describe(rules):
            save_rules(payload, f"pyfim-{algorithm}", [r[1] for r in rules], [(r[0],) for r in rules],
                       [r[2] for r in rules], [r[3] for r in rules])
            return len(rules), "ok", ""

        return harness.distribution_version("pyfim"), with_limit(call, payload["limit"]), describe

    return prepare


def sets_basketmine(payload, percent):
    import basketmine as bm

    baskets, count, target = payload["baskets"], payload["min_count"], payload["target"]

    def call():
        tm = bm.TransactionMatrix.from_baskets(baskets)
        return bm.frequent_itemsets(tm, count, target=target, max_itemsets=harness.BM_MAX_ITEMSETS)

    def describe(df):
        save_sets(payload, "basketmine", df["itemsets"], df["count"].to_numpy())
        return len(df), "ok", ""

    return basketmine_version(), with_limit(call, payload["limit"]), describe


def sets_pyfim(algorithm):
    def prepare(payload, percent):
        import fim

        miner, baskets = getattr(fim, algorithm), payload["baskets"]
        supp, target = -payload["min_count"], {"closed": "c", "maximal": "m"}[payload["target"]]

        def call():
            return miner(baskets, target=target, supp=supp, report="a")

        def describe(result):
            save_sets(payload, f"pyfim-{algorithm}", [r[0] for r in result], [r[1] for r in result])
            return len(result), "ok", ""

        return harness.distribution_version("pyfim"), with_limit(call, payload["limit"]), describe

    return prepare


def sets_mlxtend(payload, percent):
    import pandas as pd
    from mlxtend.frequent_patterns import fpmax
    from mlxtend.preprocessing import TransactionEncoder

    version = quiet_mlxtend()
    baskets, n = payload["baskets"], payload["n"]
    support = (payload["min_count"] - 0.5) / n
    encoder = TransactionEncoder()

    def call():
        onehot = encoder.fit(baskets).transform(baskets, sparse=True)
        # string column names, as in bench_itemsets.py (mlxtend refuses some integer ones)
        frame = pd.DataFrame.sparse.from_spmatrix(onehot, columns=[str(c) for c in encoder.columns_])
        return fpmax(frame, min_support=support, use_colnames=False)

    def describe(df):
        codes = encoder.columns_
        sets = [[int(codes[i]) for i in s] for s in df["itemsets"]]
        save_sets(payload, "mlxtend", sets, np.rint(df["support"].to_numpy() * n).astype(np.int64))
        return len(df), "ok", ""

    return version, with_limit(call, payload["limit"]), describe


PREPARE = {
    "rules": {"basketmine": rules_basketmine, "basketmine-itemsets": rules_basketmine_itemsets,
              "mlxtend": rules_mlxtend, "pyfim-fpgrowth": rules_pyfim("fpgrowth"),
              "pyfim-eclat": rules_pyfim("eclat")},
    "sets": {"basketmine": sets_basketmine, "pyfim-fpgrowth": sets_pyfim("fpgrowth"),
             "pyfim-eclat": sets_pyfim("eclat"), "mlxtend": sets_mlxtend},
}


def run_tool(tool: str, payload: dict, case: Case, options) -> dict:
    """harness.run_once, with room for the untimed preparation and checks; a run
    killed by the alarm of :func:`with_limit` is reported as a timeout."""
    outer = copy.copy(options)
    outer.timeout = options.timeout + options.check_timeout
    prepare = PREPARE["rules" if case.kind == "rules" else "sets"]
    report = harness.run_once(tool, payload, case.percent, outer, prepare)
    if report["status"] == "crash" and f"signal {signal.SIGALRM.value})" in report.get("note", ""):
        report = {"tool": tool, "status": "timeout", "note": f"killed after {options.timeout:g} s"}
    elif report["status"] == "timeout":
        report["note"] = f"no result after {outer.timeout:g} s (preparation and checks included)"
    return report


# --------------------------------------------------------------------------
# one dataset, inside its own process


@dataclass
class CaseResult:
    kind: str
    dataset: str
    percent: float
    conf: float | None
    n_baskets: int
    min_count: int
    all_basket_items: list
    n_itemsets: int | None = None          # rules: the frequent itemsets the rules come from
    runs: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)
    problem: str = ""                       # why the case could not be run


def compare_rules(a: dict, b: dict, threshold: float) -> dict:
    """Rule set ``a`` against ``b``: pairs in one only, and the largest confidence and lift gaps."""
    def keys(d):
        out = np.empty(len(d["ka"]), dtype=[("a", "<u8"), ("c", "<u8")])
        out["a"], out["c"] = d["ka"], d["kc"]
        return out

    ka, kb = keys(a), keys(b)
    common, ia, ib = np.intersect1d(ka, kb, assume_unique=True, return_indices=True)
    only_a = np.setdiff1d(np.arange(len(ka)), ia)
    only_b = np.setdiff1d(np.arange(len(kb)), ib)

    def gap(x, y):
        if not len(x):
            return 0.0
        return float(np.max(np.abs(x - y) / np.maximum(1.0, np.maximum(np.abs(x), np.abs(y)))))

    conf_gap = gap(a["conf"][ia], b["conf"][ib])
    lift_gap = gap(a["lift"][ia], b["lift"][ib])
    # rules one tool kept and the other dropped, whose confidence sits on the threshold
    at_threshold = int(np.sum(np.abs(a["conf"][only_a] - threshold) <= TOLERANCE)
                       + np.sum(np.abs(b["conf"][only_b] - threshold) <= TOLERANCE))
    equal = (len(ka) == len(kb) == len(common) and conf_gap <= TOLERANCE and lift_gap <= TOLERANCE)
    return {"equal": bool(equal), "common": int(len(common)), "only_first": int(len(only_a)),
            "only_second": int(len(only_b)), "at_threshold": at_threshold,
            "conf_gap": conf_gap, "lift_gap": lift_gap}


def subset(check: dict, mask: np.ndarray) -> dict:
    return {k: v[mask] for k, v in check.items()}


def omitted_by_pyfim(kind: str, baskets: list, common: list, count: int) -> list[tuple]:
    """The closed / maximal sets made only of items present in every basket, with their
    counts: the ones pyfim 6.28 leaves out."""
    if not common:
        return []
    everything = (tuple(common), len(baskets))   # closed: no other item is in every basket
    if kind == "closed":
        return [everything]
    counts = Counter(item for basket in baskets for item in basket)
    others = [item for item, c in counts.items() if c >= count and item not in common]
    return [] if others else [everything]


def check_sets(kind: str, payload: dict, case: CaseResult, baskets: list) -> None:
    """Fill case.checks[tool] with 'yes', 'yes+dagger' or 'NO' against basketmine's digest."""
    mine = load_check(payload, "basketmine")
    if mine is None:
        return
    omitted = omitted_by_pyfim(kind, baskets, case.all_basket_items, case.min_count)
    extra = collection_digest([s for s, _ in omitted], [c for _, c in omitted])
    for tool in TOOLS[kind][1:]:
        theirs = load_check(payload, tool)
        if theirs is None:
            continue
        ours, got = [int(x) for x in mine["digest"]], [int(x) for x in theirs["digest"]]
        if got == ours:
            verdict = "yes"
        elif omitted and add_digests(got, extra) == ours:
            verdict = "yes\u2020"
        else:
            verdict = "NO"
        case.checks[tool] = {"verdict": verdict, "count": int(theirs["count"]),
                             "omitted": [[list(s), c] for s, c in omitted] if verdict != "yes" else []}


def check_rules(payload: dict, case: CaseResult) -> None:
    mine = load_check(payload, "basketmine")
    if mine is None:
        return
    single = mine["clen"] == 1
    case.checks["basketmine"] = {"single_consequent": int(single.sum())}
    theirs = load_check(payload, "mlxtend")
    if theirs is not None:
        case.checks["mlxtend"] = compare_rules(mine, theirs, case.conf)
    for tool in ("pyfim-fpgrowth", "pyfim-eclat"):
        theirs = load_check(payload, tool)
        if theirs is not None:
            case.checks[tool] = compare_rules(subset(mine, single), theirs, case.conf)


def run_dataset(name: str, path: Path, cases: list[Case], options, conn) -> None:
    t0 = time.perf_counter()
    baskets = harness.read_fimi(path)
    common = harness.items_in_every_basket(baskets)
    n = len(baskets)
    harness.log(f"{name}: {n:,} baskets, parsed in {time.perf_counter() - t0:.1f} s; "
                f"items in every basket: {common or 'none'}")
    tm = None
    given_up: dict[tuple[str, str], float] = {}
    for case in cases:
        count = min_count(case.percent, n)
        result = CaseResult(case.kind, name, case.percent, case.conf, n, count, common)
        checkdir = tempfile.mkdtemp(prefix="bench_rules_")
        payload = {"baskets": baskets, "n": n, "min_count": count, "conf": case.conf,
                   "target": case.kind, "checkdir": checkdir, "limit": options.timeout}
        try:
            if case.kind == "rules":
                try:
                    import basketmine as bm

                    if tm is None:
                        tm = bm.TransactionMatrix.from_baskets(baskets)
                    payload["itemsets"] = bm.frequent_itemsets(tm, count,
                                                               max_itemsets=harness.BM_MAX_ITEMSETS)
                except Exception as exc:  # reported in the notes; the other cases go on
                    result.problem = f"mining the itemsets failed: {type(exc).__name__}: {exc}"
                    harness.log(f"  {case.label}: {result.problem}")
                    conn.send(asdict(result))
                    continue
                result.n_itemsets = len(payload["itemsets"])
                harness.log(f"  {case.label}: {result.n_itemsets:,} frequent itemsets (min count {count})")
            gc.collect()
            for tool in TOOLS[case.kind]:
                if options.no_mlxtend and tool == "mlxtend":
                    continue
                if (case.kind, tool) in given_up:
                    result.runs[tool] = {"status": "skipped", "runs": [],
                                         "note": f"{given_up[case.kind, tool]:g}% already failed"}
                    harness.log(f"  {case.label} {tool}: skipped")
                    continue
                reports = []
                for attempt in range(options.repeat):
                    t0 = time.perf_counter()
                    report = run_tool(tool, payload, case, options)
                    reports.append(report)
                    harness.log(f"  {case.label} {tool} run {attempt + 1}/{options.repeat}: "
                                f"{describe_run(report)} ({time.perf_counter() - t0:.0f} s with "
                                f"preparation and checks)")
                    if report["status"] != "ok" or report["seconds"] > options.no_repeat_above:
                        break
                result.runs[tool] = harness.summarise(reports)
                if result.runs[tool]["status"] in harness.HOPELESS:
                    given_up[case.kind, tool] = case.percent
            if case.kind == "rules":
                check_rules(payload, result)
            else:
                check_sets(case.kind, payload, result, baskets)
        finally:
            shutil.rmtree(checkdir, ignore_errors=True)
        conn.send(asdict(result))
    conn.send(None)
    conn.close()


def describe_run(report: dict) -> str:
    if report["status"] == "ok":
        growth = (report["peak_kb"] - report["baseline_kb"]) / 1024
        return f"{report['seconds']:.3f} s, {report['count']:,} results, +{growth:,.0f} MB"
    return f"{report['status']}: {report.get('note', '')}"


def dataset_worker(conn, name, path, cases, options):
    try:
        run_dataset(name, path, cases, options, conn)
    except Exception as exc:
        conn.send({"failed": f"{type(exc).__name__}: {exc} ({harness.raised_at(exc)})"})
        conn.close()


def run_datasets(plan: dict[str, list[Case]], options, results: list[dict]) -> None:
    """Each dataset in a forked process of its own; one message per case comes back."""
    ctx = multiprocessing.get_context("fork")
    for name, cases in plan.items():
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=dataset_worker, args=(send, name, data_file(options.data, name), cases,
                                                        options))
        proc.start()
        send.close()
        try:
            while True:
                try:
                    message = receive.recv()
                except EOFError:
                    harness.log(f"{name}: the dataset process ended early (exit code {proc.exitcode})")
                    break
                if message is None:
                    break
                if "failed" in message:
                    harness.log(f"{name}: {message['failed']}")
                    break
                results.append(message)
        finally:
            receive.close()
            proc.join()


# --------------------------------------------------------------------------
# D. import time


def import_seconds(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return min(times)


def import_breakdown(module: str, top: int = 6) -> list[tuple[str, float]]:
    """The packages ``module`` imports itself that take the most time (-X importtime,
    cumulative ms; what they import in turn is counted with them)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=ROOT,
                          check=True, capture_output=True, text=True)
    totals: Counter = Counter()
    stack: list[tuple[int, str]] = []      # (depth, root package) of the enclosing imports
    entries = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            entries.append((int(m.group(2)), len(m.group(3)) // 2, m.group(4).split(".")[0]))
    # lines come innermost first; walk them backwards to see each import's parent
    for cumulative, depth, root in reversed(entries):
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else None
        if parent == module and root != module:
            totals[root] += cumulative / 1000
        stack.append((depth, root))
    return [(name, ms) for name, ms in totals.most_common(top) if ms >= 1]


def run_import(runs: int) -> dict:
    harness.log(f"import: timing {runs} fresh processes each")
    probe = ("import sys, basketmine; print(','.join(m for m in %r if m in sys.modules))"
             % (HEAVY_MODULES,))
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout.strip()
    out = {
        "python_seconds": import_seconds("pass", runs),
        "pandas_seconds": import_seconds("import pandas", runs),
        "basketmine_seconds": import_seconds("import basketmine", runs),
        "heavy_loaded": [m for m in loaded.split(",") if m],
        "breakdown_ms": import_breakdown("basketmine"),
    }
    out["ratio"] = out["basketmine_seconds"] / out["pandas_seconds"]
    return out


# --------------------------------------------------------------------------
# the tables


def markdown(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if i in right else ":---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def done(run: dict | None) -> bool:
    return run is not None and run.get("status") == "ok"


def seconds(run: dict | None, options) -> str:
    if run is not None and run.get("status") == "timeout":
        return f">{options.timeout:g}"
    return harness.fmt_seconds(run)


def ratio(num: dict | None, den: dict | None, options) -> tuple[str, float | None]:
    """num/den as text and value; a timed-out numerator gives a lower bound."""
    if not done(den):
        return "-", None
    if done(num):
        value = num["seconds"] / den["seconds"]
        return harness.fmt_ratio(value, "x"), value
    if num is not None and num.get("status") == "timeout":
        value = options.timeout / den["seconds"]
        return ">" + harness.fmt_ratio(value, "x"), value
    return "-", None


def faster(case: dict, tools=("pyfim-fpgrowth", "pyfim-eclat")) -> dict | None:
    runs = [case["runs"].get(t) for t in tools]
    runs = [r for r in runs if done(r)]
    return min(runs, key=lambda r: r["seconds"]) if runs else None


def rules_verdict(check: dict | None, other: str) -> str:
    if check is None:
        return "-"
    if check["equal"]:
        return "yes"
    parts = []
    if check["only_first"] or check["only_second"]:
        parts.append(f"{check['only_first']:,} only in basketmine, {check['only_second']:,} only in {other}")
        if check["at_threshold"]:
            parts.append(f"{check['at_threshold']:,} of them at the threshold")
    if check["conf_gap"] > TOLERANCE or check["lift_gap"] > TOLERANCE:
        parts.append(f"conf gap {check['conf_gap']:.1e}, lift gap {check['lift_gap']:.1e}")
    return "no (" + "; ".join(parts) + ")"


def rules_table(results: list[dict], options) -> tuple[str, list[str]]:
    rows, notes, hits, total = [], [], 0, 0
    for case in results:
        runs, checks = case["runs"], case["checks"]
        bm, mlx, mine = runs.get("basketmine"), runs.get("mlxtend"), runs.get("basketmine-itemsets")
        pyfim = faster(case)
        speed_text, speed = ratio(mlx, bm, options)
        if speed is not None:
            total += 1
            hits += speed >= RULES_TARGET
        pyfim_checks = [checks[t] for t in ("pyfim-fpgrowth", "pyfim-eclat") if t in checks]
        pyfim_verdict = "-"
        if pyfim_checks:
            pyfim_verdict = "yes" if all(c["equal"] for c in pyfim_checks) else rules_verdict(
                next(c for c in pyfim_checks if not c["equal"]), "pyfim")
        total_run = None
        if done(bm) and done(mine):
            total_run = {"status": "ok", "seconds": bm["seconds"] + mine["seconds"]}
        rows.append([
            case["dataset"], f"{case['percent']:g}", f"{case['conf']:g}",
            f"{case['n_itemsets']:,}" if case["n_itemsets"] is not None else "-",
            f"{bm['count']:,}" if done(bm) else "-",
            seconds(bm, options), seconds(mlx, options), speed_text,
            rules_verdict(checks.get("mlxtend"), "mlxtend"), harness.fmt_mb(bm), harness.fmt_mb(mlx),
            f"{checks['basketmine']['single_consequent']:,}" if "basketmine" in checks else "-",
            seconds(pyfim, options), pyfim_verdict, seconds(mine, options),
            seconds(total_run, options), ratio(total_run, pyfim, options)[0],
        ])
        label = f"rules {case['dataset']} {case['percent']:g}%"
        notes += [f"{label}: {case['problem']}"] if case["problem"] else []
        notes += [f"{label}: {tool}: {run['status']}: {run.get('note', '')}"
                  for tool, run in runs.items() if run["status"] not in ("ok", "skipped")]
    header = ["dataset", "supp%", "conf", "itemsets", "rules", "bm s", "mlxtend s", "mlx/bm",
              "=mlxtend", "bm MB", "mlxtend MB", "1-item C", "pyfim s", "=pyfim", "bm mine s",
              "bm mine+rules s", "(mine+rules)/pyfim"]
    table = markdown(header, rows, right={1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16})
    summary = (f"Summary: mlxtend/basketmine >= {RULES_TARGET:g}x in {hits} of {total} cases "
               f"(a timed-out mlxtend counts as timeout/basketmine).")
    return table + "\n\n" + summary, notes


def sets_table(results: list[dict], options) -> tuple[str, list[str], list[dict]]:
    rows, notes, daggers, hits, total = [], [], [], 0, 0
    for case in results:
        runs, checks = case["runs"], case["checks"]
        bm, mlx = runs.get("basketmine"), runs.get("mlxtend")
        best = faster(case)
        verdicts = [checks[t]["verdict"] for t in ("pyfim-fpgrowth", "pyfim-eclat") if t in checks]
        agree = "-" if not verdicts else ("NO" if "NO" in verdicts else max(verdicts, key=len))
        if agree.endswith("\u2020"):
            daggers.append(case)
        mlx_agree = checks["mlxtend"]["verdict"] if "mlxtend" in checks else "-"
        time_text, value = ratio(bm, best, options)
        if value is not None and done(bm):
            total += 1
            hits += value <= MINING_TARGET
        rows.append([
            case["kind"], case["dataset"], f"{case['percent']:g}", f"{case['min_count']:,}",
            f"{bm['count']:,}" if done(bm) else "-", agree, mlx_agree,
            seconds(bm, options), seconds(runs.get("pyfim-fpgrowth"), options),
            seconds(runs.get("pyfim-eclat"), options), time_text.rstrip("x"),
            seconds(mlx, options) if mlx is not None else "-", ratio(mlx, bm, options)[0],
            harness.fmt_mb(bm), harness.fmt_mb(best),
        ])
        label = f"{case['kind']} {case['dataset']} {case['percent']:g}%"
        notes += [f"{label}: {case['problem']}"] if case["problem"] else []
        for tool, check in checks.items():
            if check.get("verdict") == "NO":
                notes.append(f"{label}: {tool} found {check['count']:,} sets, basketmine "
                             f"{bm['count'] if done(bm) else '?'}; the contents differ")
        notes += [f"{label}: {tool}: {run['status']}: {run.get('note', '')}"
                  for tool, run in runs.items() if run["status"] not in ("ok", "skipped")]
    header = ["target", "dataset", "supp%", "min count", "sets", "=pyfim", "=mlxtend", "bm s",
              "fpgrowth s", "eclat s", "bm/pyfim", "mlxtend s", "mlx/bm", "bm MB", "pyfim MB"]
    table = markdown(header, rows, right={2, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14})
    summary = f"Summary: basketmine time <= {MINING_TARGET:.1f}x pyfim best in {hits} of {total} cases."
    return table + "\n\n" + summary, notes, daggers


def import_section(imp: dict, runs: int) -> str:
    rows = [["python -c pass", f"{imp['python_seconds']:.3f}", "-"],
            ["import pandas", f"{imp['pandas_seconds']:.3f}", "1.00"],
            ["import basketmine", f"{imp['basketmine_seconds']:.3f}", f"{imp['ratio']:.2f}"]]
    loaded = ", ".join(imp["heavy_loaded"]) or "none"
    verdict = "met" if imp["ratio"] <= IMPORT_TARGET and not imp["heavy_loaded"] else "not met"
    return "\n".join([
        markdown(["command (fresh process)", "s", "/ pandas"], rows, right={1, 2}), "",
        f"Target (<= {IMPORT_TARGET:g}x pandas, none of {', '.join(HEAVY_MODULES)} loaded): {verdict}. "
        f"Loaded after `import basketmine`: {loaded}. Minimum over {runs} processes each.",
        "Packages basketmine imports that take longest (-X importtime, cumulative ms, one run): "
        + (", ".join(f"{name} {ms:.0f}" for name, ms in imp["breakdown_ms"]) or "-") + ".",
    ])


def versions(results: list[dict]) -> list[str]:
    return sorted({f"{tool.split('-')[0]} {run['version']}" for case in results
                   for tool, run in case["runs"].items() if run.get("version")})


def render(rules, sets, items, imp, options, source, skipped) -> str:
    out, notes = [], []
    if rules:
        table, more = rules_table(rules, options)
        notes += more
        out += ["## A. Association rules", "", table, "",
                "bm s / mlxtend s: the rules call alone, from the same frequent itemsets (each tool's "
                "own input format); mlx/bm: mlxtend time / basketmine time.",
                "=mlxtend: the same (antecedent, consequent) pairs, confidence and lift equal to 1e-9.",
                "pyfim (the faster of fpgrowth and eclat, target 'r', mode 'o') mines from the baskets "
                "and gives 1-item consequents only: =pyfim compares it with basketmine's rules with a "
                "1-item consequent (their number: 1-item C); bm mine+rules = basketmine's mining time "
                "(bm mine s) + its rules time, for a comparison with pyfim's.", ""]
    if sets:
        table, more, daggers = sets_table(sets, options)
        notes += more
        out += ["## B. Closed and maximal itemsets", "", table, "",
                "Times from the parsed baskets to each tool's result. bm/pyfim: basketmine time / the "
                "faster of pyfim fpgrowth and eclat; mlx/bm: mlxtend fpmax (maximal only) / basketmine.",
                "=pyfim / =mlxtend: the same itemsets with the same counts (an order-free digest of all "
                "(itemset, count) pairs)."]
        if daggers:
            which = "; ".join(sorted({f"{c['kind']} {c['dataset']}: items {c['all_basket_items']}"
                                      for c in daggers}))
            out.append("\u2020 pyfim 6.28 leaves out the sets made only of items present in every "
                       "basket; it agrees once those, computed from the data, are added back "
                       f"({which}).")
        out.append("")
    out += ["## C. All frequent itemsets", ""]
    if items:
        out += [harness.render(items, options, source), ""]
    else:
        out += ["See `python benchmarks/bench_itemsets.py` (or `--cases all:DATASET:SUPPORT` here), "
                "target: basketmine <= 1.0x pyfim best.", ""]
    if imp is not None:
        out += ["## D. Import", "", import_section(imp, options.import_runs), ""]
    out.append(f"Limits per run: {options.timeout:g} s wall clock for the timed call (>N: killed "
               f"there), {options.mem_limit_gb:g} GB address space. Times: seconds, minimum over up to "
               f"{options.repeat} runs. MB: peak-RSS growth during the call.")
    out.append(f"basketmine checkout {source}; " + ", ".join(versions(rules + sets))
               + f"; Python {platform.python_version()}, {os.cpu_count()} CPUs.")
    builds = {run["version"] for case in rules + sets for tool, summary in case["runs"].items()
              if tool.startswith("basketmine") for run in summary.get("runs", []) if run.get("version")}
    if len(builds) > 1:
        out.append("WARNING: basketmine's files changed during the run; builds used: "
                   + ", ".join(sorted(builds)))
    notes += skipped
    if notes:
        out += ["", "Notes:"] + [f"- {n}" for n in notes]
    return "\n".join(out)


# --------------------------------------------------------------------------
# command line


def data_file(data: Path, name: str) -> Path:
    path = data / FILES[name]
    gz = path.with_name(path.name + ".gz")
    return gz if not path.is_file() and gz.is_file() else path


def default_cases() -> list[Case]:
    cases = [Case("rules", d, p, c) for d, p, c in RULES_CASES]
    for kind in ("closed", "maximal"):
        cases += [Case(kind, d, p) for d, supports in CLOSED_CASES.items() for p in supports]
    cases += [Case("all", d, p) for d, (_, supports) in harness.DATASETS.items() for p in supports]
    return cases + [Case("import")]


def parse_cases(text: str) -> list[Case]:
    """'rules:retail:0.05,closed:chess:80,maximal,import' -> cases.  A bare KIND or KIND:DATASET
    takes the default cases of that kind (and dataset); 'all' alone takes bench_itemsets.py's."""
    defaults = default_cases()
    names = {name.lower(): name for name in FILES}
    cases: list[Case] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind, _, rest = item.partition(":")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise argparse.ArgumentTypeError(f"unknown case kind {kind!r} in {item!r}; choose from "
                                             f"{', '.join(KINDS)}")
        if kind == "import":
            cases.append(Case("import"))
            continue
        dataset, _, support = rest.partition(":")
        if dataset and dataset.lower() not in names:
            raise argparse.ArgumentTypeError(f"unknown dataset {dataset!r} in {item!r}; choose from "
                                             f"{', '.join(FILES)}")
        dataset = names.get(dataset.lower(), "")
        if kind == "all" and dataset and dataset not in harness.DATASETS:
            raise argparse.ArgumentTypeError(f"{dataset} is not a bench_itemsets.py dataset")
        if not support:
            chosen = [c for c in defaults if c.kind == kind and (not dataset or c.dataset == dataset)]
            if not chosen:
                raise argparse.ArgumentTypeError(f"no default {kind} cases for {dataset}; give a support")
            cases += chosen
            continue
        support, _, conf = support.partition("@")
        try:
            percent = float(support)
            confidence = float(conf) if conf else None
        except ValueError:
            raise argparse.ArgumentTypeError(f"support or confidence in {item!r} is not a number") from None
        if not 0 < percent <= 100:
            raise argparse.ArgumentTypeError(f"support {percent:g} in {item!r} must be in (0, 100]")
        if confidence is not None and (kind != "rules" or not 0 < confidence <= 1):
            raise argparse.ArgumentTypeError(f"a confidence in (0, 1] goes with rules cases only: {item!r}")
        if kind == "rules" and confidence is None:
            listed = [c.conf for c in defaults if c.kind == "rules" and c.dataset == dataset
                      and c.percent == percent]
            confidence = listed[0] if listed else DEFAULT_CONF.get(dataset, DENSE_CONF)
        cases.append(Case(kind, dataset, percent, confidence))
    return list(dict.fromkeys(cases))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Time association rules (basketmine, mlxtend, pyfim), closed and maximal itemsets "
                    "(basketmine, pyfim, mlxtend fpmax) and the import of basketmine, each tool run in a "
                    "fresh process, and print Markdown tables of counts, checks, times and ratios.",
        epilog="Default cases: rules " + ", ".join(f"{d} {p:g}%@{c:g}" for d, p, c in RULES_CASES)
        + "; closed and maximal " + ", ".join(f"{d} {'/'.join(f'{p:g}' for p in s)}%"
                                              for d, s in CLOSED_CASES.items())
        + " (connect only when its file is there); import. 'all' cases (bench_itemsets.py) run only "
          "when asked for.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", type=Path, default=harness.DEFAULT_DATA,
                        help="directory holding retail/, T10I4D100K/, chess/, mushroom/ (connect/)")
    parser.add_argument("--cases", type=parse_cases, default=None,
                        help="comma-separated KIND[:DATASET[:SUPPORT_PERCENT[@CONFIDENCE]]], KIND one of "
                             f"{', '.join(KINDS)}; e.g. 'rules:retail:0.05,closed:chess:80,import'")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per tool and case; the minimum time is reported")
    parser.add_argument("--no-repeat-above", type=float, default=30.0, metavar="SECONDS",
                        help="do not repeat a run that took longer than this")
    parser.add_argument("--no-mlxtend", action="store_true", help="leave mlxtend out")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="wall-clock seconds for each timed call")
    parser.add_argument("--check-timeout", type=float, default=300.0,
                        help="extra seconds per run for the untimed preparation and result checks")
    parser.add_argument("--mem-limit-gb", type=float, default=12.0,
                        help="address-space limit (RLIMIT_AS) of each tool run, in GiB")
    parser.add_argument("--import-runs", type=int, default=5,
                        help="fresh processes per import timing; the minimum is reported")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also write the raw results to this JSON file")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)
    if options.repeat < 1 or options.import_runs < 1:
        parser.error("--repeat and --import-runs must be at least 1")
    cases = options.cases if options.cases is not None else [c for c in default_cases() if c.kind != "all"]
    skipped = []
    for name in sorted({c.dataset for c in cases if c.kind not in ("all", "import")}):
        if not data_file(options.data, name).is_file():
            if name != "connect":
                parser.error(f"dataset file not found: {data_file(options.data, name)} (see --data)")
            skipped.append(f"{name}: {data_file(options.data, name)} not found; its cases were skipped")
            harness.log(skipped[-1])
    missing = {name for name in FILES if not data_file(options.data, name).is_file()}
    plan: dict[str, list[Case]] = {}
    for case in cases:
        if case.kind not in ("all", "import") and case.dataset not in missing:
            plan.setdefault(case.dataset, []).append(case)
    for name in plan:   # within a dataset: rules, closed, maximal, each from high to low support
        plan[name].sort(key=lambda c: (KINDS.index(c.kind), -c.percent))
    items_plan: dict[str, list[float]] = {}
    for case in cases:
        if case.kind == "all":
            items_plan.setdefault(case.dataset, []).append(case.percent)
    items_plan = {name: sorted(set(items_plan[name]), reverse=True)
                  for name in harness.DATASETS if name in items_plan}

    started = time.time()
    source = harness.basketmine_source()
    harness.log(f"basketmine checkout: {source}")
    results: list[dict] = []
    items: list[dict] = []
    imp = None
    interrupted = False
    try:
        run_datasets(plan, options, results)
        if items_plan:
            tools = [t for t in harness.TOOLS if not (options.no_mlxtend and t == "mlxtend")]
            harness.run_all(items_plan, tools, options, items)
        if any(c.kind == "import" for c in cases):
            imp = run_import(options.import_runs)
    except KeyboardInterrupt:
        interrupted = True
        harness.log("interrupted; the tables show the cases completed so far")
    order = {case: i for i, case in enumerate(cases)}

    def position(r):
        return order.get(Case(r["kind"], r["dataset"], r["percent"], r["conf"]), len(order))

    rules = sorted((r for r in results if r["kind"] == "rules"), key=position)
    sets = sorted((r for r in results if r["kind"] != "rules"), key=position)
    print(render(rules, sets, items, imp, options, source, skipped))
    if options.json:
        meta = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "wall_seconds": time.time() - started, "python": sys.version.split()[0],
            "platform": platform.platform(), "cpus": os.cpu_count(),
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()
                        if k != "cases"},
            "cases": [asdict(c) for c in cases], "basketmine_checkout": source,
            "memory": "peak_growth_mb = (ru_maxrss after the call - ru_maxrss before it) / 1024",
        }
        options.json.write_text(json.dumps({"meta": meta, "rules": rules, "closed_maximal": sets,
                                            "all_itemsets": items, "import": imp}, indent=1))
        harness.log(f"raw results written to {options.json}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
