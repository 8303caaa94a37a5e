"""Frequent-itemset mining: basketmine next to pyfim and mlxtend, in one run.

What is measured
----------------
Each tool starts from the same Python list of baskets (a list of lists of
ints, parsed once from a FIMI file) and ends with every frequent itemset and
its support in the tool's own result object:

* basketmine -- ``TransactionMatrix.from_baskets`` then ``frequent_itemsets``
  (a DataFrame of frozensets);
* pyfim -- ``fim.fpgrowth`` and ``fim.eclat`` (a list of tuples), both run,
  the faster of the two is "pyfim best";
* mlxtend -- ``TransactionEncoder`` (sparse), a sparse DataFrame (item codes
  as string column names), then ``fpgrowth`` (a DataFrame), timed end to end
  including the encoding.

Reading and parsing the file is not timed; the timed region (time.perf_counter)
is only the tool calls above.  Every tool run happens in its own freshly
forked process, which receives the parsed baskets by inheritance, imports its
tool, and then runs it under an address-space limit (RLIMIT_AS, --mem-limit-gb)
and a wall-clock limit (--timeout, the whole process, imports included).
Each dataset is parsed in its own process as well, so the memory left behind
by one dataset never flatters the next one.

Peak memory ("MB" columns) is the growth of the process's peak resident set
size during the call: ``ru_maxrss`` after the call minus ``ru_maxrss`` just
before it, when the tool is imported and the baskets are in memory.  The JSON
output (--json) holds both numbers for every run.  Times are the minimum over
--repeat runs (a run longer than --no-repeat-above seconds is not repeated);
memory is the largest growth seen over those runs.

Counts are checked between the tools.  pyfim 6.28 leaves out the itemsets made
only of items present in every basket (mushroom has one such item); with k
such items its count is short by exactly 2**k - 1, which the script computes
from the data and accepts as agreement (marked with a dagger).

mlxtend is slow at low support: once it times out or runs out of memory on a
dataset, its remaining lower supports on that dataset are skipped.  The same
rule holds for every tool.

Run it from the repository root::

    pip install -e .[bench]
    python benchmarks/bench_itemsets.py
    python benchmarks/bench_itemsets.py --cases chess:60,retail:0.1 --repeat 1
    python benchmarks/bench_itemsets.py --no-mlxtend --json /tmp/itemsets.json

The datasets are read from ../shared/datasets next to the repository (override
with --data).  Progress goes to stderr, the table to stdout.
"""
from __future__ import annotations

import argparse
import gc
import gzip
import hashlib
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: Dataset name -> (file under the data directory, supports in percent, high to low).
DATASETS = {
    "retail": ("retail/retail.dat.gz", (0.1, 0.05, 0.02, 0.01)),
    "T10I4D100K": ("T10I4D100K/T10I4D100K.dat.gz", (0.1, 0.05, 0.01)),
    "chess": ("chess/chess.dat", (80, 70, 60)),
    "mushroom": ("mushroom/mushroom.dat", (10, 5, 1)),
    "kosarak25k": ("kosarak25k/kosarak25k.dat", (0.5, 0.2)),
}

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"

#: basketmine's cap on the number of itemsets; far above any complete case here.
BM_MAX_ITEMSETS = 200_000_000

TOOLS = ("basketmine", "pyfim-fpgrowth", "pyfim-eclat", "mlxtend")

#: Outcomes after which lower supports of the same dataset are not tried.
HOPELESS = ("timeout", "out of memory")


# --------------------------------------------------------------------------
# data


def read_fimi(path: Path) -> list[list[int]]:
    """One basket per line, whitespace-separated item codes; .gz is read as gzip text."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as lines:
        return [list(map(int, line.split())) for line in lines]


def items_in_every_basket(baskets: list[list[int]]) -> list[int]:
    if not baskets:
        return []
    common = set(baskets[0])
    for basket in baskets:
        common.intersection_update(basket)
        if not common:
            break
    return sorted(common)


# --------------------------------------------------------------------------
# one tool run, inside a forked process


def distribution_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def package_fingerprint(package_dir: Path) -> str:
    """A short hash of a package's Python sources and compiled extensions, to tell builds apart."""
    digest = hashlib.sha256()
    for path in sorted(package_dir.iterdir()):
        if path.suffix in (".py", ".so", ".pyd"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def peak_kb() -> int:
    """The process's peak resident set size so far, in KiB (Linux units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def prepare_basketmine(baskets, percent):
    import warnings

    import basketmine as bm

    def call():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", bm.MiningLimitWarning)
            tm = bm.TransactionMatrix.from_baskets(baskets)
            df = bm.frequent_itemsets(tm, percent / 100.0, max_itemsets=BM_MAX_ITEMSETS)
        return df, [str(w.message) for w in caught if issubclass(w.category, bm.MiningLimitWarning)]

    def describe(result):
        df, limit_warnings = result
        if df.attrs.get("truncated") or limit_warnings:
            reason = df.attrs.get("stop_reason") or "limit"
            return len(df), "cap", f"stopped at {reason}: " + "; ".join(limit_warnings)
        return len(df), "ok", ""

    return f"{bm.__version__} build {package_fingerprint(Path(bm.__file__).parent)}", call, describe


def prepare_pyfim(algorithm):
    def prepare(baskets, percent):
        import fim

        miner = getattr(fim, algorithm)

        def call():
            return miner(baskets, supp=percent, zmin=1)

        return distribution_version("pyfim"), call, lambda result: (len(result), "ok", "")

    return prepare


def prepare_mlxtend(baskets, percent):
    import warnings

    import mlxtend
    import pandas as pd
    from mlxtend.frequent_patterns import fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)

    def call():
        encoder = TransactionEncoder()
        onehot = encoder.fit(baskets).transform(baskets, sparse=True)
        # mlxtend refuses sparse frames with integer column names not starting at 0
        # (chess, mushroom), so the item codes become strings, as its message advises.
        frame = pd.DataFrame.sparse.from_spmatrix(onehot, columns=[str(c) for c in encoder.columns_])
        return fpgrowth(frame, min_support=percent / 100.0, use_colnames=False)

    return mlxtend.__version__, call, lambda result: (len(result), "ok", "")


PREPARE = {
    "basketmine": prepare_basketmine,
    "pyfim-fpgrowth": prepare_pyfim("fpgrowth"),
    "pyfim-eclat": prepare_pyfim("eclat"),
    "mlxtend": prepare_mlxtend,
}


def raised_at(exc: BaseException) -> str:
    """'file:line in function' of the innermost Python frame an exception passed through."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "no traceback"
    last = frames[-1]
    return f"raised at {Path(last.filename).name}:{last.lineno} in {last.name}"


def tool_worker(conn, tool, baskets, percent, mem_limit_bytes, prepare=None):
    """Run one tool once and send back a dict; never returns.  ``prepare``
    maps tool names to their set-up functions (default: this script's)."""
    report = {"tool": tool}
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = mem_limit_bytes if hard == resource.RLIM_INFINITY else min(mem_limit_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        version, call, describe = (prepare or PREPARE)[tool](baskets, percent)
        report["version"] = version
        gc.collect()
        report["baseline_kb"] = peak_kb()
        t0 = time.perf_counter()
        result = call()
        report["seconds"] = time.perf_counter() - t0
        report["peak_kb"] = peak_kb()
        report["count"], report["status"], report["note"] = describe(result)
    except MemoryError as exc:
        report.update(status="out of memory", note=f"{str(exc) or 'MemoryError'} ({raised_at(exc)})",
                      peak_kb=peak_kb())
    except Exception as exc:  # reported, not hidden: the table shows "error"
        report.update(status="error", note=f"{type(exc).__name__}: {exc} ({raised_at(exc)})")
    try:
        conn.send(report)
        conn.close()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # skip tearing down millions of result objects


def run_once(tool, baskets, percent, options, prepare=None) -> dict:
    """One tool run in a fresh forked process, under the memory and time limits."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    limit = int(options.mem_limit_gb * 2**30)
    proc = ctx.Process(target=tool_worker, args=(send, tool, baskets, percent, limit, prepare),
                       daemon=True)
    proc.start()
    send.close()
    try:
        if receive.poll(options.timeout):
            report = receive.recv()
        else:
            report = {"tool": tool, "status": "timeout", "note": f"killed after {options.timeout:g} s"}
    except EOFError:
        report = None
    finally:
        receive.close()
    if report is None or report["status"] == "timeout":
        if proc.is_alive():
            proc.kill()
    proc.join()
    if report is None:
        code = proc.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        # A C extension that cannot get memory under RLIMIT_AS usually dies this way.
        report = {"tool": tool, "status": "crash", "note": f"worker died ({how}) without a result"}
    return report


# --------------------------------------------------------------------------
# one dataset, inside its own process


@dataclass
class CaseResult:
    dataset: str
    percent: float
    n_baskets: int
    n_items: int
    all_basket_items: list
    runs: dict = field(default_factory=dict)  # tool -> summary of its repeated runs


def summarise(reports: list[dict]) -> dict:
    """Fold repeated runs of one tool into one record: min time, max memory growth."""
    done = [r for r in reports if r.get("status") in ("ok", "cap")]
    if not done:
        last = reports[-1]
        return {"status": last["status"], "note": last.get("note", ""), "runs": reports}
    best = min(done, key=lambda r: r["seconds"])
    growth = max(r["peak_kb"] - r["baseline_kb"] for r in done)
    return {
        "status": best["status"], "note": best.get("note", ""), "version": best.get("version"),
        "count": best["count"], "seconds": best["seconds"], "peak_growth_mb": growth / 1024,
        "baseline_mb": best["baseline_kb"] / 1024, "peak_mb": best["peak_kb"] / 1024, "runs": reports,
    }


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_dataset(name: str, path: Path, percents, tools, options, conn) -> None:
    """Parse one dataset, run every case on it, send each CaseResult as it completes."""
    t0 = time.perf_counter()
    baskets = read_fimi(path)
    common = items_in_every_basket(baskets)
    n_items = len({item for basket in baskets for item in basket})
    log(f"{name}: {len(baskets):,} baskets, {n_items:,} items, parsed in "
        f"{time.perf_counter() - t0:.1f} s; items in every basket: {common or 'none'}")
    gc.collect()
    given_up: dict[str, float] = {}
    for percent in percents:
        case = CaseResult(name, percent, len(baskets), n_items, common)
        for tool in tools:
            if tool in given_up:
                case.runs[tool] = {"status": "skipped",
                                   "note": f"{given_up[tool]:g}% already failed", "runs": []}
                log(f"  {name} {percent:g}% {tool}: skipped")
                continue
            reports = []
            for attempt in range(options.repeat):
                report = run_once(tool, baskets, percent, options)
                reports.append(report)
                log(f"  {name} {percent:g}% {tool} run {attempt + 1}/{options.repeat}: "
                    f"{describe_run(report)}")
                if report["status"] not in ("ok", "cap") or report["seconds"] > options.no_repeat_above:
                    break
            case.runs[tool] = summarise(reports)
            if case.runs[tool]["status"] in HOPELESS:
                given_up[tool] = percent
        conn.send(asdict(case))
    conn.send(None)
    conn.close()


def describe_run(report: dict) -> str:
    if report["status"] in ("ok", "cap"):
        growth = (report["peak_kb"] - report["baseline_kb"]) / 1024
        text = f"{report['seconds']:.3f} s, {report['count']:,} itemsets, +{growth:,.0f} MB"
        return text + (f" [{report['note']}]" if report["status"] == "cap" else "")
    return f"{report['status']}: {report.get('note', '')}"


def dataset_worker(conn, name, path, percents, tools, options):
    try:
        run_dataset(name, path, percents, tools, options, conn)
    except Exception as exc:
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
        conn.close()


def run_all(plan, tools, options, results: list[dict]) -> None:
    """Each dataset in a forked process of its own; results stream back per case into ``results``."""
    ctx = multiprocessing.get_context("fork")
    for name, percents in plan.items():
        path = options.data / DATASETS[name][0]
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=dataset_worker, args=(send, name, path, percents, tools, options))
        proc.start()
        send.close()
        try:
            while True:
                try:
                    message = receive.recv()
                except EOFError:
                    log(f"{name}: the dataset process ended early (exit code {proc.exitcode})")
                    break
                if message is None:
                    break
                if "error" in message:
                    log(f"{name}: {message['error']}")
                    break
                results.append(message)
        finally:
            receive.close()
            proc.join()


# --------------------------------------------------------------------------
# the table


def fmt_seconds(run: dict | None) -> str:
    if run is None:
        return "-"
    if run["status"] in ("ok", "cap"):
        s = run["seconds"]
        text = f"{s:.3f}" if s < 10 else f"{s:.1f}"
        return text + ("*" if run["status"] == "cap" else "")
    return {"out of memory": "OOM"}.get(run["status"], run["status"])


def fmt_mb(run: dict | None) -> str:
    if run is None or run["status"] not in ("ok", "cap"):
        return "-"
    mb = run["peak_growth_mb"]
    return f"{mb:,.0f}" if mb >= 10 else f"{mb:.1f}"


def fmt_ratio(value: float | None, suffix: str = "") -> str:
    if value is None:
        return "-"
    return (f"{value:.2f}" if value < 10 else f"{value:,.0f}") + suffix


def completed(run: dict | None) -> bool:
    return run is not None and run["status"] == "ok"


def pyfim_best(case: dict) -> dict | None:
    runs = [case["runs"].get(t) for t in ("pyfim-fpgrowth", "pyfim-eclat")]
    runs = [r for r in runs if completed(r)]
    return min(runs, key=lambda r: r["seconds"]) if runs else None


def derive(case: dict) -> dict:
    """Ratios, agreement checks and notes of one case."""
    bm = case["runs"].get("basketmine")
    mlx = case["runs"].get("mlxtend")
    best = pyfim_best(case)
    k = len(case["all_basket_items"])
    pyfim_shortfall = 2**k - 1
    out = {"pyfim_best": best, "notes": []}
    bm_count = bm["count"] if completed(bm) else None

    verdicts = []
    for tool in ("pyfim-fpgrowth", "pyfim-eclat"):
        run = case["runs"].get(tool)
        if bm_count is None or not completed(run):
            continue
        gap = bm_count - run["count"]
        verdicts.append(gap == pyfim_shortfall)
        if gap != pyfim_shortfall:
            out["notes"].append(f"basketmine {bm_count:,} itemsets, {tool} {run['count']:,} "
                                f"(expected a gap of {pyfim_shortfall})")
    if not verdicts:
        out["agree_pyfim"] = "-"
    elif all(verdicts):
        out["agree_pyfim"] = "yes" + ("\u2020" if pyfim_shortfall else "")
    else:
        out["agree_pyfim"] = "NO"

    if bm_count is None or not completed(mlx):
        out["agree_mlxtend"] = "-"
    elif mlx["count"] == bm_count:
        out["agree_mlxtend"] = "yes"
    else:
        out["agree_mlxtend"] = "NO"
        out["notes"].append(f"basketmine {bm_count:,} itemsets, mlxtend {mlx['count']:,}")

    both = completed(bm) and best is not None
    out["time_ratio"] = bm["seconds"] / best["seconds"] if both else None
    out["mlxtend_speedup"] = mlx["seconds"] / bm["seconds"] if completed(bm) and completed(mlx) else None
    out["memory_ratio"] = (bm["peak_growth_mb"] / best["peak_growth_mb"]
                           if both and best["peak_growth_mb"] > 0 else None)
    for tool, run in case["runs"].items():
        if run["status"] not in ("ok", "skipped"):
            out["notes"].append(f"{tool}: {run['status']}: {run.get('note', '')}")
    return out


COLUMNS = [
    ("dataset", "<"), ("supp%", ">"), ("itemsets", ">"), ("=pyfim", "<"), ("=mlxtend", "<"),
    ("bm s", ">"), ("fpgrowth s", ">"), ("eclat s", ">"), ("bm/pyfim", ">"), ("mlxtend s", ">"),
    ("mlx/bm", ">"), ("bm MB", ">"), ("pyfim MB", ">"), ("mem bm/pyfim", ">"),
]


def table_rows(results: list[dict]) -> tuple[list[list[str]], list[str]]:
    rows, notes = [], []
    for case in results:
        d = derive(case)
        bm = case["runs"].get("basketmine")
        count = "-"
        if bm is not None and bm["status"] in ("ok", "cap"):
            count = f"{bm['count']:,}" + ("*" if bm["status"] == "cap" else "")
        rows.append([
            case["dataset"], f"{case['percent']:g}", count, d["agree_pyfim"], d["agree_mlxtend"],
            fmt_seconds(bm), fmt_seconds(case["runs"].get("pyfim-fpgrowth")),
            fmt_seconds(case["runs"].get("pyfim-eclat")), fmt_ratio(d["time_ratio"]),
            fmt_seconds(case["runs"].get("mlxtend")), fmt_ratio(d["mlxtend_speedup"], "x"),
            fmt_mb(bm), fmt_mb(d["pyfim_best"]), fmt_ratio(d["memory_ratio"]),
        ])
        notes += [f"{case['dataset']} {case['percent']:g}%: {n}" for n in d["notes"]]
    return rows, notes


def render(results: list[dict], options, source: str) -> str:
    rows, notes = table_rows(results)
    header = [name for name, _ in COLUMNS]
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(COLUMNS))]

    def line(cells):
        return "  ".join(f"{c:{align}{w}}" for c, (_, align), w in zip(cells, COLUMNS, widths)).rstrip()

    out = [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]
    out += ["", summary(results), "",
            "Times: seconds, minimum over runs; the timed region starts from the parsed list of baskets "
            "and ends with the tool's result object.",
            "bm/pyfim: basketmine time / the faster of pyfim fpgrowth and eclat (below 1: basketmine "
            "is faster). mlx/bm: mlxtend time / basketmine time.",
            "MB: growth of the peak RSS (ru_maxrss) during the call, beyond the process with the tool "
            "imported and the baskets loaded; pyfim MB is that of the faster pyfim algorithm.",
            f"Limits per run: {options.timeout:g} s wall clock, {options.mem_limit_gb:g} GB address "
            f"space (RLIMIT_AS). OOM = out of memory; * = basketmine stopped at a cap (partial result).",
            "=pyfim / =mlxtend: the number of itemsets equals basketmine's.",
            f"basketmine checkout {source}; " + ", ".join(sorted(tool_versions(results)))
            + f"; Python {platform.python_version()}, {os.cpu_count()} CPUs."]
    builds = basketmine_builds(results)
    if len(builds) > 1:
        out.append("WARNING: basketmine's files changed during the run; builds used: " + "; ".join(
            f"{build} for {', '.join(cases)}" for build, cases in builds.items()))
    daggers = [c for c in results if derive(c)["agree_pyfim"].endswith("\u2020")]
    if daggers:
        which = ", ".join(sorted({f"{c['dataset']} (items {c['all_basket_items']})" for c in daggers}))
        out.append("\u2020 pyfim 6.28 omits the itemsets made only of items present in every basket; "
                   f"with k such items its count is short by 2^k - 1. Such items: {which}.")
    if notes:
        out += ["", "Notes:"] + [f"  {n}" for n in notes]
    return "\n".join(out)


def basketmine_builds(results: list[dict]) -> dict[str, list[str]]:
    """basketmine version+build -> the cases run with it (several builds if it was rebuilt meanwhile)."""
    builds: dict[str, list[str]] = {}
    for case in results:
        for run in case["runs"].get("basketmine", {}).get("runs", []):
            if run.get("version"):
                builds.setdefault(run["version"], [])
                label = f"{case['dataset']} {case['percent']:g}%"
                if label not in builds[run["version"]]:
                    builds[run["version"]].append(label)
    return builds


def tool_versions(results: list[dict]) -> set[str]:
    return {f"{tool.split('-')[0]} {run['version']}" for case in results
            for tool, run in case["runs"].items() if run.get("version")}


def summary(results: list[dict]) -> str:
    derived = [derive(c) for c in results]
    ratios = [d["time_ratio"] for d in derived if d["time_ratio"] is not None]
    speedups = [d["mlxtend_speedup"] for d in derived if d["mlxtend_speedup"] is not None]
    memory = [d["memory_ratio"] for d in derived if d["memory_ratio"] is not None]
    parts = [f"basketmine time <= pyfim best in {sum(r <= 1 for r in ratios)} of {len(ratios)} cases"]
    if speedups:
        parts.append(f"speed-up vs mlxtend min {min(speedups):.1f}x, median "
                     f"{statistics.median(speedups):.1f}x over {len(speedups)} cases")
    else:
        parts.append("no mlxtend comparison")
    parts.append(f"basketmine memory <= pyfim memory in {sum(m <= 1 for m in memory)} of "
                 f"{len(memory)} cases")
    return "Summary: " + "; ".join(parts) + "."


# --------------------------------------------------------------------------
# command line


def parse_cases(text: str | None) -> dict[str, list[float]]:
    """'chess:60,retail:0.1,mushroom' -> {dataset: supports}, datasets and supports in table order."""
    if not text:
        return {name: list(supports) for name, (_, supports) in DATASETS.items()}
    wanted: dict[str, set[float]] = {}
    lookup = {name.lower(): name for name in DATASETS}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, support = item.partition(":")
        if name.strip().lower() not in lookup:
            raise argparse.ArgumentTypeError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
        name = lookup[name.strip().lower()]
        if support:
            try:
                value = float(support)
            except ValueError:
                raise argparse.ArgumentTypeError(f"support {support!r} of {name} is not a number") from None
            if not 0 < value <= 100:
                raise argparse.ArgumentTypeError(f"support {support!r} of {name} must be in (0, 100]")
            wanted.setdefault(name, set()).add(value)
        else:
            wanted.setdefault(name, set()).update(DATASETS[name][1])
    return {name: sorted(wanted[name], reverse=True) for name in DATASETS if name in wanted}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Time and measure frequent-itemset mining with basketmine, pyfim (fpgrowth, "
                    "eclat) and mlxtend (fpgrowth) on the FIMI benchmark datasets, each run in a "
                    "fresh process, and print a table of counts, times, memory and ratios.",
        epilog="Default cases: " + "; ".join(
            f"{name} {', '.join(f'{s:g}' for s in supports)}" for name, (_, supports) in DATASETS.items())
        + " (support in percent).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="directory holding retail/, T10I4D100K/, chess/, mushroom/, kosarak25k/")
    parser.add_argument("--cases", type=parse_cases, default=None,
                        help="comma-separated DATASET:SUPPORT_PERCENT pairs, or a bare DATASET for all its "
                             "supports, e.g. 'chess:60,retail:0.1,mushroom' (default: all cases)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per tool and case; the minimum time is reported")
    parser.add_argument("--no-repeat-above", type=float, default=30.0, metavar="SECONDS",
                        help="do not repeat a run that took longer than this")
    parser.add_argument("--no-mlxtend", action="store_true", help="leave mlxtend out")
    parser.add_argument("--timeout", type=float, default=300.0, help="wall-clock seconds per tool run")
    parser.add_argument("--mem-limit-gb", type=float, default=12.0,
                        help="address-space limit (RLIMIT_AS) of each tool run, in GiB")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also write the raw results to this JSON file")
    return parser


def basketmine_source() -> str:
    """The git commit of the basketmine checkout this script belongs to, '+dirty' if its
    basketmine/ or cext/ differ from that commit."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "basketmine", "cext"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def main(argv=None) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)
    if options.repeat < 1:
        parser.error("--repeat must be at least 1")
    plan = options.cases if options.cases is not None else parse_cases(None)
    files = [options.data / DATASETS[name][0] for name in plan]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        parser.error("dataset file(s) not found: " + ", ".join(missing) + " (see --data)")
    tools = [t for t in TOOLS if not (options.no_mlxtend and t == "mlxtend")]

    started = time.time()
    source = basketmine_source()
    log(f"basketmine checkout: {source}")
    interrupted, results = False, []
    try:
        run_all(plan, tools, options, results)
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted; the table shows the cases completed so far")
    print(render(results, options, source))
    if options.json:
        meta = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "wall_seconds": time.time() - started, "python": sys.version.split()[0],
            "platform": platform.platform(), "cpus": os.cpu_count(),
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()},
            "basketmine_checkout": source, "basketmine_max_itemsets": BM_MAX_ITEMSETS,
            "memory": "peak_growth_mb = (ru_maxrss after the call - ru_maxrss before it) / 1024",
        }
        for case in results:
            case["derived"] = {k: v for k, v in derive(case).items() if k != "pyfim_best"}
        options.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
        log(f"raw results written to {options.json}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
