"""Readable text of itemsets, rules and follow-ups (arules' ``inspect``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import NONE, InBody, Interval, InvalidParameterError, validated

_DEFAULT = {"rules": ("support", "confidence", "lift", "count"),
            "follow_ups": ("customers", "confidence", "lift", "lag_days_median"),
            "itemsets": ("support", "count"),
            "sequences": ("support", "count")}


def _braces(items) -> str:
    if isinstance(items, str):
        return items
    return "{" + ", ".join(sorted((str(i) for i in items))) + "}"


def _number(v) -> str:
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        if v != v:
            return "NaN"
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    return str(v)


@validated({"result": InBody("an itemsets, rules, sequential patterns or follow-ups frame"),
            "n": (NONE, Interval("int", 1, None, "left")),
            "measures": InBody("None (the usual columns for the result), or column names of it"),
            "width": Interval("int", 20, None, "left")})
def inspect(result: pd.DataFrame, n=20, measures=None, width: int = 60) -> str:
    """The first ``n`` rows of a result as text: ``{Coffee, Cake} => {Tea}``
    with the chosen measures, one row a line, as arules' ``inspect`` prints
    (frozenset columns otherwise collapse to ``frozenset({...``).

    Works for :func:`~basketmine.association_rules`,
    :func:`~basketmine.follow_ups`, :func:`~basketmine.frequent_itemsets`
    and :func:`~basketmine.sequential_patterns` frames, in their order
    (sort first to choose which rows).  Labels longer than ``width``
    characters are shortened with "…".

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.TransactionMatrix.from_baskets(
    ...     [["coffee", "cake", "tea"], ["coffee", "cake", "tea"], ["coffee", "milk"], ["tea"]])
    >>> rules = bm.association_rules(bm.frequent_itemsets(tm, 0.5), "confidence", 1.0)
    >>> print(bm.inspect(rules.sort_values("lift", ascending=False), n=2))
        if a basket holds    it also holds  support  confidence  lift  count
    [1] {cake}            => {coffee, tea}      0.5           1     2      2
    [2] {coffee, tea}     => {cake}             0.5           1     2      2
    (2 of 6 rules)
    """
    cols = set(result.columns) if isinstance(result, pd.DataFrame) else set()
    if {"antecedents", "consequents"} <= cols:
        kind, left, right, joiner = "rules", "antecedents", "consequents", "=>"
    elif {"antecedents", "consequent"} <= cols:
        kind, left, right, joiner = "follow_ups", "antecedents", "consequent", "=> later"
    elif "itemsets" in cols:
        kind, left, right, joiner = "itemsets", "itemsets", None, ""
    elif "sequence" in cols:
        kind, left, right, joiner = "sequences", "sequence", None, ""
    else:
        raise InvalidParameterError(
            "The 'result' parameter of inspect must be an itemsets, rules, sequential patterns or follow-ups "
            f"frame. Got {type(result).__name__}" + (f" with columns {sorted(cols)[:8]}" if cols else "") + ".")
    if measures is None:
        measures = [m for m in _DEFAULT[kind] if m in cols]
    else:
        measures = [measures] if isinstance(measures, str) else list(measures)
        missing = [m for m in measures if m not in cols]
        if missing:
            raise InvalidParameterError(f"The 'measures' parameter of inspect must name columns of the result "
                                        f"({', '.join(sorted(map(str, cols)))}). Got {missing}.")
    shown = result if n is None else result.head(n)

    def cut(text: str) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    def pattern(seq) -> str:
        return " → ".join(_braces(e) for e in seq)

    texts = {left: [cut(pattern(v) if kind == "sequences" else _braces(v)) for v in shown[left]]}
    if right is not None:
        texts[right] = [cut(_braces(v)) for v in shown[right]]
    heads = {"rules": ("if a basket holds", "it also holds"), "follow_ups": ("who bought", "later bought"),
             "itemsets": ("itemset", None), "sequences": ("sequence of baskets", None)}[kind]
    index = [f"[{i + 1}]" for i in range(len(shown))]
    iw = max([len(s) for s in index] + [0])
    lw = max([len(heads[0])] + [len(s) for s in texts[left]])
    rows = []
    header = " " * iw + " " + heads[0].ljust(lw)
    if right is not None:
        rw = max([len(heads[1])] + [len(s) for s in texts[right]])
        header += " " * (len(joiner) + 2) + heads[1].ljust(rw)
    values = {m: [_number(v) for v in shown[m]] for m in measures}
    mw = {m: max([len(m)] + [len(v) for v in values[m]]) for m in measures}
    header += "".join("  " + m.rjust(mw[m]) for m in measures)
    rows.append(header.rstrip())
    for k in range(len(shown)):
        line = index[k].ljust(iw) + " " + texts[left][k].ljust(lw)
        if right is not None:
            line += f" {joiner} " + texts[right][k].ljust(rw)
        line += "".join("  " + values[m][k].rjust(mw[m]) for m in measures)
        rows.append(line.rstrip())
    noun = {"rules": "rules", "follow_ups": "follow-ups", "itemsets": "itemsets", "sequences": "patterns"}[kind]
    rows.append(f"({len(shown):,} of {len(result):,} {noun})")
    return "\n".join(rows)
