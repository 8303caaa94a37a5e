"""The ``basketmine`` command line.

Exit codes: 0 done, 2 bad input (one line on stderr naming the option, the
value and what is allowed), 1 any other failure.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings

import pandas as pd

EXAMPLES = """examples:
  basketmine rules datasets/groceries/groceries.csv --min-support 0.01 --min-confidence 0.4
  basketmine rules sales.csv --basket InvoiceNo --item Description --min-support 0.02 -o rules.csv
  basketmine rules retail.dat.gz --min-support 0.001 --metric lift --min-threshold 2 -o rules.parquet
  basketmine rules groceries.csv --antecedents "whole milk" --min-confidence 0.2
"""


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
    cols = dict(basket=args.basket, item=args.item, customer=args.customer, time=args.time,
                quantity=args.quantity, price=args.price, cost=args.cost)
    if fmt in ("csv", "parquet") and (args.basket is None or args.item is None):
        raise UserError(f"--basket and --item: a {fmt} file of invoice lines needs both columns "
                        f"(got --basket={args.basket!r}, --item={args.item!r})")
    if fmt == "csv":
        return bm.read_csv(path, cancellations=args.cancellations, **cols)
    if fmt == "parquet":
        return bm.read_parquet(path, cancellations=args.cancellations, **cols)
    if fmt == "fimi":
        return bm.read_fimi(path)
    if fmt == "spmf":
        return bm.read_spmf(path)
    return bm.read_baskets(path, sep=args.sep)


def _write(df: pd.DataFrame, path: str) -> None:
    out = df.copy()
    for col in ("antecedents", "consequents", "itemsets"):
        if col in out:
            out[col] = [", ".join(sorted(map(str, s))) for s in out[col]]
    low = path.lower()
    if low.endswith((".parquet", ".pq")):
        out.to_parquet(path, index=False)
    elif low.endswith(".json"):
        out.to_json(path, orient="records", indent=1)
    else:
        out.to_csv(path, index=False)


def _show(rules: pd.DataFrame, top: int) -> str:
    if rules.empty:
        return "no rule meets the thresholds; lower --min-support or --min-confidence"
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


def cmd_rules(args) -> int:
    import basketmine as bm

    tm = _read(args)
    quiet = args.quiet or not sys.stderr.isatty()
    if not quiet:
        print(f"{tm}", file=sys.stderr)
    min_support = args.min_support
    if min_support >= 1 and float(min_support).is_integer():
        min_support = int(min_support)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        itemsets = bm.frequent_itemsets(tm, min_support, max_len=args.max_len,
                                        max_itemsets=args.max_itemsets, time_limit=args.time_limit,
                                        progress=not quiet)
        metric = args.metric
        threshold = args.min_confidence if metric == "confidence" and args.min_threshold is None \
            else (args.min_threshold if args.min_threshold is not None else 0.0)
        rules = bm.association_rules(
            itemsets, metric=metric, min_threshold=threshold,
            antecedents=args.antecedents, consequents=args.consequents,
            max_antecedent_len=args.max_antecedent_len, max_consequent_len=args.max_consequent_len,
            min_improvement=args.min_improvement, significance=args.significance)
        if metric != "confidence" and args.min_confidence:
            rules = rules[rules["confidence"] >= args.min_confidence].reset_index(drop=True)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.output:
        _write(rules, args.output)
        print(f"{len(rules)} rules from {len(itemsets)} frequent itemsets written to {args.output}",
              file=sys.stderr)
    else:
        print(f"{len(rules)} rules from {len(itemsets)} frequent itemsets "
              f"over {tm.n_baskets} baskets (top {min(args.top, len(rules))} by lift)")
        print(_show(rules, args.top))
    return 0


def _add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="LOG", help="CSV / Parquet of invoice lines, a basket-per-line "
                   "text file, a FIMI .dat(.gz) or an SPMF file")
    p.add_argument("--format", default="auto",
                   choices=["auto", "csv", "parquet", "baskets", "fimi", "spmf"],
                   help="input format (default: by extension; CSV with --item is invoice lines, "
                        "without it one basket per line)")
    p.add_argument("--sep", default=",", help="item separator for one-basket-per-line files")
    for name in ("basket", "item", "customer", "time", "quantity", "price", "cost"):
        p.add_argument(f"--{name}", metavar="COLUMN", help=f"the {name} column of invoice lines")
    p.add_argument("--cancellations", default="drop", choices=["drop", "keep", "net"],
                   help="negative quantities: drop them, keep them, or net them against purchases")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="basketmine", description="What else will they buy, and when? Mine a transaction log.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("rules", help="cross-sell rules (frequent itemsets + association rules)",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_input_options(p)
    p.add_argument("--min-support", type=float, default=0.01,
                   help="fraction of baskets in (0, 1], or a basket count >= 1 (default 0.01)")
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
    p.add_argument("--max-itemsets", type=int, default=None, help="stop mining after this many itemsets")
    p.add_argument("--time-limit", type=float, default=None, help="stop mining after this many seconds")
    p.add_argument("--top", type=int, default=20, help="rules to print when no -o is given")
    p.add_argument("-o", "--output", help="write all rules to .csv, .parquet or .json")
    p.set_defaults(func=cmd_rules)
    return parser


def main(argv=None) -> int:
    from ._validation import InvalidParameterError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UserError, InvalidParameterError, KeyError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        print(f"basketmine {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"basketmine {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
