"""Pure-Python twins of the kernels: slow, obvious, and the judge in tests."""
from __future__ import annotations

from itertools import combinations


def itemset_counts(baskets, min_count: int, max_len: int | None = None) -> dict:
    """Every itemset held by >= min_count baskets -> its count, by enumerating
    every subset of every basket."""
    counts: dict = {}
    for basket in baskets:
        items = sorted(set(basket), key=repr)
        top = len(items) if max_len is None else min(max_len, len(items))
        for k in range(1, top + 1):
            for combo in combinations(items, k):
                key = frozenset(combo)
                counts[key] = counts.get(key, 0) + 1
    return {s: c for s, c in counts.items() if c >= min_count}


def filter_target(found: dict, target: str) -> dict:
    """Keep the closed or maximal itemsets of a complete collection."""
    if target == "all":
        return dict(found)
    keep = {}
    for s, c in found.items():
        supersets = [t for t in found if len(t) == len(s) + 1 and s < t]
        if target == "closed" and all(found[t] < c for t in supersets):
            keep[s] = c
        if target == "maximal" and not supersets:
            keep[s] = c
    return keep


def frequent_itemsets(baskets, min_count: int, target: str = "all", min_len: int = 1,
                      max_len: int | None = None) -> dict:
    """The twin of basketmine.frequent_itemsets, as {frozenset: count}."""
    probe = None if max_len is None else (max_len if target == "all" else max_len + 1)
    found = filter_target(itemset_counts(baskets, min_count, probe), target)
    return {s: c for s, c in found.items()
            if len(s) >= min_len and (max_len is None or len(s) <= max_len)}
