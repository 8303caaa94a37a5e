"""The ``basketmine`` command line.

Exit codes: 0 done, 2 bad input (one line on stderr naming the option, the
value and what is allowed), 1 any other failure.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd

_RETAIL = ("datasets/online_retail/online_retail_sample.csv.gz --basket InvoiceNo --item StockCode "
           "--customer CustomerID --time InvoiceDate --quantity Quantity --price UnitPrice")
EXAMPLE_LINES = [
    "basketmine rules datasets/groceries/groceries.csv --min-support 0.01 --min-confidence 0.4",
    "basketmine rules sales.csv --basket InvoiceNo --item Description --min-support 0.02 -o rules.csv",
    "basketmine rules retail.dat.gz --min-support 0.001 --metric lift --min-threshold 2 -o rules.parquet",
    'basketmine rules datasets/groceries/groceries.csv --antecedents "whole milk" --min-confidence 0.2',
    f"basketmine sequences {_RETAIL} --within 90D --min-support 0.03",
    f"basketmine value {_RETAIL} -o customers.csv",
    f"basketmine recommend {_RETAIL} --k 5 --exclude-purchased -o next_items.csv",
    f"basketmine compare {_RETAIL} --cutoff 2011-09-01 -o comparison.csv",
    f"basketmine report {_RETAIL} -o report.html",
]


def _examples(command: str | None = None) -> str:
    """The epilog of ``basketmine --help`` (all examples) or of one subcommand."""
    lines = [e for e in EXAMPLE_LINES if command is None or e.split()[1] == command]
    return "examples:\n" + "".join(f"  {e}\n" for e in lines)


#: Memory an itemset and a rule take while they are built: about twice what
#: they hold once built (60-113 bytes an itemset, 171-179 a rule, measured on
#: chess and mushroom with the default measure columns).
_ITEMSET_BYTES = 240
_RULE_BYTES = 400


def _available_memory() -> int | None:
    """Bytes of memory available to this process now, when the system says."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _memory_cap(given, default: int, each: int) -> int | None:
    """``given``, or the library's default cap lowered so that the results
    take at most a quarter of the memory available."""
    if given is not None:
        return given
    avail = _available_memory()
    if avail is None:
        return None
    return int(max(10_000, min(default, avail // 4 // each)))


class UserError(Exception):
    """A mistake in the command line or the input; printed without traceback."""


def _read(args):
    import basketmine as bm

    path = args.path
    if not os.path.exists(path):
        raise UserError(f"LOG: no such file {path!r}")
    fmt = args.format
    low = path.lower()
    if fmt == "auto":
        if low.endswith((".parquet", ".pq")):
            fmt = "parquet"
        elif low.endswith((".dat", ".dat.gz")):
            fmt = "fimi"
        elif args.item is not None:
            fmt = "csv"
        else:
            fmt = "baskets"
    time = args.time[0] if args.time and len(args.time) == 1 else args.time
    cols = dict(basket=args.basket, item=args.item, customer=args.customer, time=time,
                quantity=args.quantity, price=args.price, cost=args.cost)
    given = [n for n in ("basket", "customer", "time", "quantity", "price", "cost") if getattr(args, n) is not None]
    if fmt in ("baskets", "fimi", "spmf") and given and args.item is None:
        raise UserError(f"--item: the columns given (--{', --'.join(given)}) are for a file of invoice lines, "
                        f"which needs --item too; without them the file is read as one basket per line")
    if fmt in ("csv", "parquet") and (args.basket is None or args.item is None):
        raise UserError(f"--basket and --item: a {fmt} file of invoice lines needs both columns "
                        f"(got --basket={args.basket!r}, --item={args.item!r})")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if fmt == "csv":
            tm = bm.read_csv(path, cancellations=args.cancellations, date_format=args.date_format, **cols)
        elif fmt == "parquet":
            tm = bm.read_parquet(path, cancellations=args.cancellations, date_format=args.date_format, **cols)
        elif fmt == "fimi":
            tm = bm.read_fimi(path)
        elif fmt == "spmf":
            tm = bm.read_spmf(path)
        else:
            tm = bm.read_baskets(path, sep=args.sep)
        if args.exclude or args.exclude_pattern is not None:
            tm = tm.exclude(args.exclude, args.exclude_pattern)
    _warn(caught)
    if not args.quiet:
        print(_cleaning_summary(tm, args.command), file=sys.stderr)
    rep = tm.report
    args.meta = {"log": repr(tm), "rows_in": rep.rows_in, "rows_dropped": rep.rows_dropped,
                 "cleaning": [{"reason": r, "rows": n, "action": a} for r, n, a in rep.entries]}
    return tm


def _cleaning_summary(tm, command: str) -> str:
    """What became of the input rows, in a few lines for stderr."""
    rep = getattr(tm, "report", None)
    head = f"basketmine {command}: {tm!r}"
    if rep is None:
        return head
    # the report's own lines, under a head that names the log
    entries = repr(rep).splitlines()[1:] if rep.entries else []
    return "\n".join([f"{head}; {rep.rows_in:,} rows read, {rep.rows_dropped:,} not used", *entries])


def _plain(x):
    """An item label as JSON can hold it (numbers stay numbers)."""
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return x if isinstance(x, (str, int, float)) else str(x)


def _items(s) -> list:
    return sorted((_plain(x) for x in s), key=lambda x: (str(type(x)), x))


def _check_output(path: str) -> None:
    """-o must name a format basketmine writes, in a folder that exists (checked before the work)."""
    if not path.lower().endswith((".csv", ".parquet", ".pq", ".json")):
        raise UserError(f"-o: the output must end in .csv, .parquet or .json; got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"-o: the folder {folder!r} does not exist")


def _write_meta(df: pd.DataFrame, path: str, meta: dict | None) -> None:
    """``<output>.meta.json`` beside the output: the cleaning report of the log read and the
    result's own flags (truncated, stop reason, thresholds), which a CSV cannot carry."""
    out = dict(meta or {})
    out["result"] = {str(k): v for k, v in df.attrs.items()}
    with open(path + ".meta.json", "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1, default=str, ensure_ascii=False)


def _write(df: pd.DataFrame, path: str, meta: dict | None = None) -> None:
    """Write a result; itemsets are lists, never joined text (labels can hold commas): list
    columns in Parquet, arrays in JSON, and JSON arrays as the cell text in CSV
    (``["PAPER CRAFT , LITTLE BIRDIE", "POST"]``, quoted by the CSV writer)."""
    out = df.copy()
    out.attrs = {}
    low = path.lower()
    _check_output(path)
    as_text = not low.endswith((".parquet", ".pq", ".json"))
    for col in ("antecedents", "consequents", "itemsets"):
        if col in out:
            v = [_items(s) for s in out[col]]
            out[col] = [json.dumps(x, ensure_ascii=False) for x in v] if as_text else v
    if "sequence" in out:
        v = [[_items(e) for e in seq] for seq in out["sequence"]]
        out["sequence"] = [json.dumps(x, ensure_ascii=False) for x in v] if as_text else v
    if low.endswith((".parquet", ".pq")):
        out.to_parquet(path, index=False)
    elif low.endswith(".json"):
        out.to_json(path, orient="records", indent=1, date_format="iso", force_ascii=False)
    else:
        out.to_csv(path, index=False)
    _write_meta(df, path, meta)


def _no_rules_hint(tm, itemsets) -> str:
    """Why no rule came out, for this log: what to change, with the figures that show it."""
    import basketmine as bm

    if tm.n_baskets == 0 or tm.basket_lengths().max(initial=0) < 2:
        return "no rule: every basket holds a single item, so no two items are ever bought together"
    if itemsets.attrs.get("truncated"):
        return ("no rule: mining stopped early (see the warning above) before the itemsets rules are built "
                "from were complete; raise --min-support, or set --max-len for long baskets")
    col = itemsets["itemsets"]
    lengths = col.array.lengths() if hasattr(col.array, "lengths") else col.map(len).to_numpy()
    if not (lengths >= 2).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            best = bm.frequent_itemsets(tm, top_k=1, min_len=2, max_len=2)
        top_item = tm.item_frequencies(normalize=True).max()
        pair = float(best["support"].max()) if len(best) else 0.0
        return (f"no rule: no two items are bought together in enough baskets; the most frequent pair is in "
                f"{pair:.4%} of baskets (the most frequent item in {top_item:.2%}): use --min-support at or "
                f"below {pair:.4g}")
    return "no rule meets the thresholds; lower --min-confidence (or --min-support for more itemsets)"


def _show(rules: pd.DataFrame, top: int, hint: str = "") -> str:
    if rules.empty:
        return hint or "no rule meets the thresholds; lower --min-support or --min-confidence"
    view = rules.sort_values(["lift", "confidence", "support"], ascending=False, kind="stable").head(top)
    table = pd.DataFrame({
        "if a basket holds": [", ".join(sorted(map(str, s))) for s in view["antecedents"]],
        "it also holds": [", ".join(sorted(map(str, s))) for s in view["consequents"]],
        "support": view["support"].map("{:.4f}".format),
        "confidence": view["confidence"].map("{:.3f}".format),
        "lift": view["lift"].map("{:.2f}".format),
        "baskets": view["count"],
    })
    with pd.option_context("display.max_colwidth", 60, "display.width", 200):
        return table.to_string(index=False)


def _measures(text):
    """--measures: None, 'all' or a comma-separated list (to which the
    columns the command filters and prints by are added)."""
    if text is None or text.strip() == "all":
        return None if text is None else "all"
    return [m.strip() for m in text.split(",") if m.strip()] + ["support", "confidence", "lift"]


def cmd_rules(args) -> int:
    import basketmine as bm
    from .rules import top_k_mask

    tm = _read(args)
    quiet = args.quiet or not sys.stderr.isatty()
    if not 0.0 <= args.min_confidence <= 1.0:
        raise UserError(f"--min-confidence must be in [0, 1]; got {args.min_confidence}")
    min_support = args.min_support
    from .itemsets import DEFAULT_MAX_ITEMSETS
    from .rules import DEFAULT_MAX_RULES
    for name in ("max_itemsets", "max_rules"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be a whole number >= 1, got {getattr(args, name)}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        itemsets = bm.frequent_itemsets(
            tm, min_support, max_len=args.max_len, time_limit=args.time_limit, progress=not quiet,
            max_itemsets=_memory_cap(args.max_itemsets, DEFAULT_MAX_ITEMSETS, _ITEMSET_BYTES))
        metric = args.metric
        if args.top_k is not None and args.top_k < 1:
            raise UserError(f"--top-k must be a whole number >= 1, got {args.top_k}")
        floor = metric != "confidence" and bool(args.min_confidence)
        threshold = args.min_confidence if metric == "confidence" and args.min_threshold is None \
            else (args.min_threshold if args.min_threshold is not None else 0.0)
        rules = bm.association_rules(
            itemsets, metric=metric, min_threshold=threshold,
            antecedents=args.antecedents, consequents=args.consequents,
            max_antecedent_len=args.max_antecedent_len, max_consequent_len=args.max_consequent_len,
            min_improvement=args.min_improvement, significance=args.significance,
            top_k=None if floor else args.top_k, measures=_measures(args.measures), progress=not quiet,
            time_limit=args.time_limit, max_rules=_memory_cap(args.max_rules, DEFAULT_MAX_RULES, _RULE_BYTES))
        if floor:  # --min-confidence holds for every metric; --top-k ranks what passes it
            rules = rules[rules["confidence"] >= args.min_confidence]
            if args.top_k is not None:
                rules = rules[top_k_mask(rules[metric].to_numpy(), args.top_k)]
            rules = rules.reset_index(drop=True)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.output:
        _write(rules, args.output, getattr(args, "meta", None))
        print(f"{len(rules)} rules from {len(itemsets)} frequent itemsets written to {args.output}",
              file=sys.stderr)
    else:
        print(f"{len(rules)} rules from {len(itemsets)} frequent itemsets "
              f"over {tm.n_baskets} baskets (top {min(args.top, len(rules))} by lift)")
        print(_show(rules, args.top, _no_rules_hint(tm, itemsets) if rules.empty else ""))
    return 0


def _quiet(args) -> bool:
    return args.quiet or not sys.stderr.isatty()


def _need(args, *names):
    missing = [n for n in names if getattr(args, n) is None]
    if missing:
        raise UserError(", ".join(f"--{n}" for n in missing) + f": basketmine {args.command} needs "
                        f"{' and '.join(missing)} columns of invoice lines (got none)")


def _warn(caught) -> None:
    """Print each warning once; the same note from several steps ("summary: 63 baskets ...",
    "rfm: 63 baskets ...") counts as one."""
    seen = {}
    for w in caught:
        msg = str(w.message)
        seen.setdefault(msg.split(": ", 1)[-1], msg)
    for msg in seen.values():
        print(f"warning: {msg}", file=sys.stderr)


def _emit(df: pd.DataFrame, args, what: str, show) -> None:
    if args.output:
        _write(df, args.output, getattr(args, "meta", None))
        print(f"{len(df)} {what} written to {args.output} (and what was read, in {args.output}.meta.json)",
              file=sys.stderr)
    else:
        with pd.option_context("display.max_colwidth", 70, "display.width", 200, "display.max_rows", 500):
            print(show)


def cmd_sequences(args) -> int:
    import basketmine as bm

    _need(args, "customer", "time")
    tm = _read(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fu = bm.follow_ups(tm.select(tm.customer_codes >= 0), within=args.within, min_support=args.min_support,
                           min_confidence=args.min_confidence, max_antecedent_len=args.max_antecedent_len,
                           progress=not _quiet(args))
    _warn(caught)
    n_all = len(fu)
    attrs = dict(fu.attrs)
    # what a shop wants first: follow-ups that make B likelier than after any purchase, strongest first
    fu = fu[fu["lift"] > args.min_lift]
    by = {"lift": ["lift", "confidence"], "confidence": ["confidence", "lift"],
          "customers": ["customers", "lift"]}[args.sort]
    fu = fu.sort_values(by, ascending=False, kind="stable").reset_index(drop=True)
    fu.attrs.update(attrs)
    view = fu.head(args.top)
    table = pd.DataFrame({
        "who bought": [", ".join(sorted(map(str, a))) for a in view["antecedents"]],
        "then bought": view["consequent"].astype(str),
        "confidence": view["confidence"].map("{:.3f}".format),
        "lift": view["lift"].map("{:.2f}".format),
        "customers": view["customers"],
        "median days": view["lag_days_median"].map("{:.0f}".format),
    })
    head = (f"{len(fu)} follow-ups within {args.within} with lift above {args.min_lift:g} (of {n_all}) from "
            f"{fu.attrs['n_customers']} customers (top {min(args.top, len(fu))} by {args.sort})")
    _emit(fu, args, "follow-ups", head + "\n" + (table.to_string(index=False) if len(fu) else _no_follow_up_hint(tm)))
    return 0


def _no_follow_up_hint(tm) -> str:
    """Why no follow-up came out, for this log."""
    cc = tm.customer_codes[tm.customer_codes >= 0]
    if len(cc) == 0 or np.bincount(cc).max() < 2:
        return ("no follow-up: every customer has a single basket, and a follow-up needs customers who "
                "come back (is --customer the customer column, not the basket?)")
    return "no follow-up meets the thresholds; lower --min-support, --min-confidence or --min-lift"


def cmd_value(args) -> int:
    from basketmine import value as V

    _need(args, "customer", "time", "price")
    tm = _read(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = V.summary(tm, observation_end=args.observation_end, unit="W")
        classes = V.customer_classes(tm, observation_end=args.observation_end)
        r = V.rfm(tm, observation_end=args.observation_end)
        bg = V.BetaGeo().fit(s)
        rep = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
        gg = V.GammaGamma().fit(rep)
        table = s.join(r[["R", "F", "M", "segment"]]).join(classes[["customer_class", "value_tier"]])
        table["probability_alive"] = bg.probability_alive(s)
        table["expected_purchases"] = bg.expected_purchases(args.horizon, s)
        table["clv"] = gg.clv(bg, s.assign(monetary_value=s["monetary_value"].clip(lower=0)),
                              periods=args.periods, period=args.period, discount_rate=args.discount_rate)
        share = V.revenue_share(tm, 0.2, observation_end=args.observation_end)
        table = table.reset_index()
        head = [f"{len(table)} customers; the top 20% bring {share:.0%} of revenue",
                "", "BG/NBD (weeks):", bg.summary().round(4).to_string(),
                "", "Gamma-Gamma:", gg.summary().round(4).to_string(),
                "", "Customer classes:", V.class_table(classes).round(3).to_string(),
                "", f"Top {args.top} customers by CLV ({args.periods} x {args.period}, "
                    f"discount {args.discount_rate} per period):",
                table.sort_values("clv", ascending=False).head(args.top)[
                    ["customer", "frequency", "recency", "T", "monetary_value", "probability_alive", "clv",
                     "customer_class"]].round(3).to_string(index=False)]
    _warn(caught)
    _emit(table, args, "customers", "\n".join(head))
    return 0


def cmd_recommend(args) -> int:
    import basketmine as bm

    _need(args, "customer", "time")
    tm = _read(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recs = bm.recommend(tm, args.customers or None, args.k, horizon=args.horizon,
                            exclude_purchased=args.exclude_purchased, asof=args.asof,
                            progress=not _quiet(args))
    _warn(caught)
    view = recs[recs["customer"].isin(recs["customer"].unique()[:args.top])]
    head = (f"top {args.k} {'new ' if args.exclude_purchased else ''}items for {recs['customer'].nunique()} "
            f"customers within {args.horizon} (first {min(args.top, recs['customer'].nunique())} customers)")
    _emit(recs, args, "recommendations", head + "\n" + view[
        ["customer", "rank", "item", "probability", "expected_days", "reason"]].round(3).to_string(index=False))
    return 0


def cmd_compare(args) -> int:
    import basketmine as bm

    _need(args, "customer", "time")
    tm = _read(args)
    types = tuple(args.model_types) if args.model_types else bm.models.MODEL_TYPES
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cmp = bm.compare(tm, args.cutoff, horizon=args.horizon, k=args.k, model_types=types,
                         progress=not _quiet(args))
    _warn(caught)
    t = cmp.table
    days = t.attrs["horizon"] / pd.Timedelta(days=1)
    head = (f"cut-off {t.attrs['cutoff']:%Y-%m-%d}, holdout {days:g} days: {t.attrs['customers']} "
            f"customers, {t.attrs['active_in_holdout']} bought again")
    _emit(t, args, "rows", head + "\n" + t.drop(columns=["note"]).round(3).to_string(index=False) + "".join(
        f"\nskipped ({r.model_type}: {r.model}): {r.note}" for r in t[t["metric"] == "skipped"].itertuples()))
    return 0


def cmd_report(args) -> int:
    from basketmine.report import report

    if not args.output:
        raise UserError("-o/--output: basketmine report writes one HTML file; name it with -o report.html")
    tm = _read(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report(tm, args.output, title=args.title, min_support=args.min_support, min_confidence=args.min_confidence,
               within=args.within, cutoff=args.cutoff, horizon=args.horizon, progress=not _quiet(args))
    _warn(caught)
    print(f"report written to {args.output}", file=sys.stderr)
    return 0


def _add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="LOG", help="CSV / Parquet of invoice lines, a basket-per-line "
                   "text file, a FIMI .dat(.gz) or an SPMF file")
    p.add_argument("--format", default="auto",
                   choices=["auto", "csv", "parquet", "baskets", "fimi", "spmf"],
                   help="input format (default: by extension; CSV with --item is invoice lines, "
                        "without it one basket per line)")
    p.add_argument("--sep", default=",", help="item separator for one-basket-per-line files")
    for name in ("basket", "item", "customer", "quantity", "price", "cost"):
        p.add_argument(f"--{name}", metavar="COLUMN", help=f"the {name} column of invoice lines")
    p.add_argument("--time", metavar="COLUMN", action="append", default=None,
                   help="the date-and-time column; for a log with separate date and time columns, give "
                        "both: --time Date --time Time")
    p.add_argument("--date-format", default=None, metavar="FORMAT",
                   help="the dates' format, e.g. '%%d/%%m/%%Y %%H:%%M' (day-first logs)")
    p.add_argument("--cancellations", default="auto", choices=["auto", "net", "drop", "keep"],
                   help="negative quantities (returns, cancellations): net each against the customer's "
                        "earlier purchase of the item, drop them, or keep them; auto (the default) nets "
                        "when --customer, --time and --quantity are given and drops otherwise")
    p.add_argument("--exclude", action="append", default=[], metavar="ITEM",
                   help="leave out this item (postage, a fee, a placeholder such as NONE); repeatable")
    p.add_argument("--exclude-pattern", default=None, metavar="REGEX",
                   help="leave out every item whose label fully matches this regular expression, "
                        "e.g. 'POST|DOT|M|BANK CHARGES'")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output and no cleaning report")


def _command(sub, name: str, help: str, func, output_help: str) -> argparse.ArgumentParser:
    """A subcommand with the shared input options and ``-o``."""
    p = sub.add_parser(name, help=help, epilog=_examples(name), formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_input_options(p)
    p.add_argument("-o", "--output", help=output_help)
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="basketmine", description="What else will they buy, and when? Mine a transaction log.",
        epilog=_examples(), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = _command(sub, "rules", "cross-sell rules (frequent itemsets + association rules)", cmd_rules,
                 "write all rules to .csv, .parquet or .json")
    p.add_argument("--min-support", type=_support, default=0.01,
                   help="fraction of baskets in (0, 1] (1.0 = every basket; 2%% also works), or a basket count "
                        "written without a decimal point (5) (default 0.01)")
    p.add_argument("--min-confidence", type=float, default=0.3, help="default 0.3")
    p.add_argument("--metric", default="confidence", help="measure to threshold (default confidence)")
    p.add_argument("--min-threshold", type=float, default=None, help="threshold for --metric")
    p.add_argument("--max-len", type=int, default=None, help="largest itemset size")
    p.add_argument("--antecedents", nargs="+", metavar="ITEM", help="only these items on the left")
    p.add_argument("--consequents", nargs="+", metavar="ITEM", help="only these items on the right")
    p.add_argument("--max-antecedent-len", type=int, default=None)
    p.add_argument("--max-consequent-len", type=int, default=None)
    p.add_argument("--min-improvement", type=float, default=None,
                   help="drop rules not beating their more general rules by this confidence")
    p.add_argument("--significance", type=float, default=None,
                   help="keep rules whose Holm-adjusted Fisher p-value is at most this")
    p.add_argument("--top-k", type=int, default=None,
                   help="keep only the k best rules by --metric (rules tied with the k-th are kept)")
    p.add_argument("--measures", default=None,
                   help="measure columns: 'all' or a comma-separated list (default: mlxtend's twelve)")
    p.add_argument("--max-itemsets", type=int, default=None,
                   help="stop mining after this many itemsets (default: 10 million, fewer when they would "
                        "take more than a quarter of the memory available)")
    p.add_argument("--max-rules", type=int, default=None,
                   help="stop rule generation after this many rules (default: as --max-itemsets)")
    p.add_argument("--time-limit", type=float, default=None,
                   help="stop mining after this many seconds, and rule generation after as many again; "
                        "a stopped run gives the rules it can and says it was stopped")
    p.add_argument("--top", type=int, default=20, help="rules to print when no -o is given")

    p = _command(sub, "sequences", "follow-ups: who bought A went on to buy B within a window", cmd_sequences,
                 "write all follow-ups to .csv, .parquet or .json")
    p.add_argument("--within", default="90D", help="the window after A (default 90D)")
    p.add_argument("--min-support", type=_support, default=0.01,
                   help="fraction of customers in (0, 1] (2%% also works), or a customer count written "
                        "without a decimal point (default 0.01)")
    p.add_argument("--min-confidence", type=float, default=0.1, help="default 0.1")
    p.add_argument("--max-antecedent-len", type=int, default=1, help="items in A (default 1)")
    p.add_argument("--min-lift", type=float, default=1.0,
                   help="keep follow-ups with lift above this (default 1: B is likelier after A than after "
                        "any purchase; 0 keeps all)")
    p.add_argument("--sort", choices=["lift", "confidence", "customers"], default="lift",
                   help="order of the follow-ups (default lift, then confidence)")
    p.add_argument("--top", type=int, default=20, help="follow-ups to print when no -o is given")

    p = _command(sub, "value", "customer value: RFM, classes, BG/NBD and Gamma-Gamma CLV", cmd_value,
                 "write the per-customer table to .csv, .parquet or .json")
    p.add_argument("--observation-end", default=None, help="end of the observation (default: last purchase)")
    p.add_argument("--horizon", default="13W", help="expected purchases over this duration (default 13W)")
    p.add_argument("--periods", type=int, default=12, help="CLV periods (default 12)")
    p.add_argument("--period", default="30D", help="CLV period length (default 30D)")
    p.add_argument("--discount-rate", type=float, default=0.01, help="per period (default 0.01)")
    p.add_argument("--top", type=int, default=10, help="customers to print when no -o is given")

    p = _command(sub, "recommend", "each customer's next items, with reason and timing", cmd_recommend,
                 "write all recommendations to .csv, .parquet or .json")
    p.add_argument("--k", type=int, default=10, help="items per customer (default 10)")
    p.add_argument("--horizon", default="90D", help="how far ahead (default 90D)")
    p.add_argument("--exclude-purchased", action="store_true", help="only items the customer never bought")
    p.add_argument("--customers", nargs="+", metavar="ID", help="only these customers")
    p.add_argument("--asof", default=None, help="recommend as of this date (default: end of the log)")
    p.add_argument("--top", type=int, default=5, help="customers to print when no -o is given")

    p = _command(sub, "compare", "the six model types with their baselines on one holdout", cmd_compare,
                 "write the table to .csv, .parquet or .json")
    p.add_argument("--cutoff", required=True, help="models see the log before this date")
    p.add_argument("--horizon", default="90D", help="holdout length (default 90D)")
    p.add_argument("--k", type=int, default=10, help="items per customer for the recommendation metrics")
    p.add_argument("--model-types", nargs="+", metavar="TYPE",
                   help="a subset of: classification, regression, 'time series', clustering, association, "
                        "'sequence discovery'")

    p = _command(sub, "report", "one self-contained HTML report: rules, follow-ups, value, models", cmd_report,
                 "the HTML file to write")
    p.add_argument("--title", default="basketmine report")
    p.add_argument("--min-support", type=_support, default=0.01, help="for the rules (default 0.01)")
    p.add_argument("--min-confidence", type=float, default=0.3, help="for the rules (default 0.3)")
    p.add_argument("--within", default="90D", help="follow-up window (default 90D)")
    p.add_argument("--cutoff", default=None, help="model comparison cut-off (default: end minus horizon)")
    p.add_argument("--horizon", default="90D", help="holdout length (default 90D)")
    return parser


def _support(text: str):
    """A support as in Python: a fraction of baskets ("0.01", "1.0" = every
    basket, "2%"), or a basket count ("5", digits only)."""
    t = text.strip()
    try:
        if t.endswith("%"):
            return float(t[:-1]) / 100.0
        if t.isdigit():
            return int(t)
        return float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a support is a fraction of baskets in (0, 1] such as 0.01 or 2%, or a basket count such as 5 "
            f"(digits only); got {text!r}") from None


def main(argv=None) -> int:
    from ._validation import InvalidParameterError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command != "report" and getattr(args, "output", None):
            _check_output(args.output)
        return args.func(args)
    except (UserError, InvalidParameterError) as exc:  # anything else is a bug: let it show
        msg = exc.args[0] if exc.args else str(exc)
        print(f"basketmine {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"basketmine {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
