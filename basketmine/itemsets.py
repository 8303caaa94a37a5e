"""Frequent itemsets: all, closed or maximal, mined by a Cython kernel."""
from __future__ import annotations

import math
import threading
import time
import warnings

import numpy as np
import pandas as pd

from . import _itemsets
from ._progress import Counter
from ._validation import FRACTION_OR_COUNT, NONE, Interval, InvalidParameterError, Kind, Options, validate
from .itemset_array import ItemsetArray
from .transactions import TransactionMatrix

__all__ = ["DEFAULT_MAX_ITEMSETS", "MiningLimitError", "MiningLimitWarning", "frequent_itemsets"]

#: The cap on the number of itemsets when ``max_itemsets`` is None.  Ten
#: million frozensets take several GB; ask for more explicitly.
DEFAULT_MAX_ITEMSETS = 10_000_000

_INT32_MAX = np.iinfo(np.int32).max


class MiningLimitWarning(UserWarning):
    """Mining stopped at ``max_itemsets`` or ``time_limit``; the result is partial."""


class MiningLimitError(RuntimeError):
    """Mining stopped at a cap where a partial result would be wrong."""


_SPEC = {
    "min_support": FRACTION_OR_COUNT,
    "target": Options(("all", "closed", "maximal")),
    "min_len": Interval("int", 1, None, "left"),
    "max_len": (NONE, Interval("int", 1, None, "left")),
    "max_itemsets": (NONE, Interval("int", 1, None, "left")),
    "time_limit": (NONE, Interval("real", 0, None, "neither")),
    "progress": (Kind(bool, "a bool"), Kind(callable, "a callable")),
}


def min_count_of(min_support, n: int) -> int:
    """The smallest basket count that meets ``min_support`` over ``n`` baskets."""
    if isinstance(min_support, (int, np.integer)):
        return int(min_support)
    return max(1, math.ceil(round(min_support * n, 9)))


def choose_method(tm: TransactionMatrix, min_count: int, counts=None) -> str:
    """Bit-vectors for dense data, occurrence delivery for sparse data.

    Measured on the FIMI sets: bit-vectors win by 10-50x on chess and
    mushroom (density 0.2-0.5), occurrence delivery wins by 2-20x on retail
    and T10I4D100K (density ~0.01).  The switch sits at a density of 5% over
    the frequent items, and bit-vectors are never used when one level of
    them would pass 256 MB.
    """
    if counts is None:
        counts = np.bincount(tm.indices, minlength=tm.n_items)
    return method_for(tm.n_baskets, counts, min_count)


def method_for(n_baskets: int, counts: np.ndarray, min_count: int) -> str:
    """:func:`choose_method` from the basket count and the item counts."""
    freq = counts >= min_count
    m = int(freq.sum())
    if m == 0 or n_baskets == 0:
        return "occurrence"
    density = counts[freq].sum() / (m * n_baskets)
    words = (n_baskets + 63) // 64
    if density >= 0.05 and m * words * 8 <= 256 * 2**20:
        return "bitset"
    return "occurrence"


def run_kernel(kernel, args: tuple, progress, label: str, unit: str, **kw) -> tuple:
    """Run ``kernel(*args, status, **kw)``; with ``progress``, in a worker
    thread while this one reports the running count and passes Ctrl-C on to
    the kernel (through the shared ``status`` block)."""
    status = np.zeros(4, dtype=np.int64)
    if not progress:
        return kernel(*args, status, **kw)
    report = Counter(label, unit) if progress is True else progress
    box: dict = {}

    def work():
        try:
            box["out"] = kernel(*args, status, **kw)
        except BaseException as exc:  # handed to the caller below
            box["err"] = exc

    t0 = time.monotonic()
    worker = threading.Thread(target=work, name="basketmine-miner", daemon=True)
    worker.start()
    interrupted = False
    try:
        while worker.is_alive():
            try:
                worker.join(0.5)
            except KeyboardInterrupt:
                status[1] = 1  # the kernel sees it within 1024 nodes
                interrupted = True
            if worker.is_alive():
                report(int(status[0]), time.monotonic() - t0)
    finally:
        if isinstance(report, Counter):
            report.close(int(status[0]))
    if "err" in box:
        raise box["err"]
    if interrupted:
        raise KeyboardInterrupt
    return box["out"]


def frequent_itemsets(tm: TransactionMatrix, min_support, *, target="all", min_len=1,
                      max_len=None, max_itemsets=None, time_limit=None,
                      progress=False) -> pd.DataFrame:
    """Find the itemsets held by at least ``min_support`` of the baskets.

    Parameters
    ----------
    tm : TransactionMatrix
    min_support : float in (0, 1] or int >= 1
        A fraction of the baskets, or an absolute basket count.
    target : {"all", "closed", "maximal"}
        All frequent itemsets; only the closed ones (no superset has the
        same support); only the maximal ones (no superset is frequent).
    min_len, max_len : int
        Bounds on the number of items.  With ``target="closed"`` or
        ``"maximal"``, closedness is decided against all frequent itemsets
        (one item longer than ``max_len`` is mined to decide it).
    max_itemsets : int, optional
        Stop after this many itemsets.  None means
        :data:`DEFAULT_MAX_ITEMSETS` (10 million).
    time_limit : float, optional
        Stop after this many seconds.
    progress : bool or callable
        True prints a running count on stderr; a callable is called as
        ``progress(n_itemsets_so_far, seconds)`` about twice a second.

    Returns
    -------
    DataFrame
        Columns ``support`` (fraction of baskets), ``count`` (baskets) and
        ``itemsets`` -- mlxtend's schema.  Each element of ``itemsets`` is a
        frozenset of item labels; the column is an :class:`ItemsetArray`,
        which keeps them as flat item codes and builds each frozenset when
        it is read (``df["itemsets"].astype(object)`` gives a plain object
        column).  Rows
        come in a fixed order: a depth-first enumeration over the items
        ranked by ascending support (ties by label order), each itemset
        directly followed by its extensions.  ``df.attrs`` carries
        ``n_transactions``, ``min_count``, ``target``, ``truncated`` and
        ``stop_reason``.

    Notes
    -----
    When ``max_itemsets`` or ``time_limit`` stops a ``target="all"`` run, the
    itemsets found so far are returned, a :class:`MiningLimitWarning` is
    issued and ``df.attrs["truncated"]`` is True.  A ``"closed"`` or
    ``"maximal"`` run cannot tell closedness from a partial collection, so it
    raises :class:`MiningLimitError` instead.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.TransactionMatrix.from_baskets(
    ...     [["bread", "milk"], ["bread", "butter", "milk"], ["beer"], ["bread", "butter"]])
    >>> df = bm.frequent_itemsets(tm, 0.5)
    >>> [(sorted(s), n) for s, n in zip(df["itemsets"], df["count"])]
    [(['butter'], 2), (['bread', 'butter'], 2), (['milk'], 2), (['bread', 'milk'], 2), (['bread'], 3)]
    >>> rules = bm.association_rules(df, "confidence", 0.7)
    >>> [(sorted(a), sorted(c)) for a, c in zip(rules["antecedents"], rules["consequents"])]
    [(['butter'], ['bread']), (['milk'], ['bread'])]
    """
    owner = "frequent_itemsets"
    if not isinstance(tm, TransactionMatrix):
        raise InvalidParameterError(
            f"The 'tm' parameter of {owner} must be a TransactionMatrix. Got {type(tm).__name__} "
            f"instead; build one with TransactionMatrix.from_frame / from_baskets / from_onehot.")
    validate(owner, _SPEC, locals())
    if max_len is not None and max_len < min_len:
        raise InvalidParameterError(
            f"The 'max_len' parameter of {owner} must be >= min_len ({min_len}). Got {max_len} instead.")
    n = tm.n_baskets
    if n == 0:
        raise InvalidParameterError(f"The 'tm' parameter of {owner} must hold at least one basket; it is empty.")
    if tm.nnz + tm.n_baskets >= _INT32_MAX:
        raise InvalidParameterError(
            f"The 'tm' parameter of {owner} holds {tm.nnz:,} lines; the in-memory miner takes fewer "
            f"than {_INT32_MAX:,}. Mine a sample or split the log.")
    min_count = min_count_of(min_support, n)
    cap = DEFAULT_MAX_ITEMSETS if max_itemsets is None else int(max_itemsets)
    want_len = _INT32_MAX if max_len is None else int(max_len)
    kernel_len = want_len if target == "all" else min(want_len + 1, _INT32_MAX)
    kernel_min_len = min_len if target == "all" else 1
    item_count = np.bincount(tm.indices, minlength=tm.n_items).astype(np.int64, copy=False)
    method = choose_method(tm, min_count, item_count)
    indptr = np.ascontiguousarray(tm.indptr, dtype=np.int64)
    args = (indptr, tm.indices, item_count, min_count, kernel_min_len, kernel_len, cap,
            float(time_limit or 0.0), method)
    items, offsets, counts, rank_to_code, stop = run_kernel(_itemsets.mine, args, progress,
                                                            owner, "itemsets")
    reason = _itemsets.STOP_REASONS[stop]
    if reason == "out_of_memory":
        raise MemoryError(
            f"{owner} ran out of memory after {len(counts):,} itemsets; raise min_support or "
            f"set max_itemsets / max_len.")
    if reason is not None and target != "all":
        raise MiningLimitError(
            f"{owner} stopped at {reason} after {len(counts):,} itemsets; target={target!r} needs "
            f"the complete collection. Raise min_support, or raise max_itemsets / time_limit.")
    if target != "all":
        keep = _itemsets.closure_mask(items, offsets, counts, target == "maximal").astype(bool)
        lens = np.diff(offsets)
        keep &= (lens >= min_len) & (lens <= want_len)
        items, offsets, counts = _take_sets(items, offsets, counts, keep)
    if reason is not None:
        warnings.warn(
            f"{owner} stopped at {reason} after {len(counts):,} itemsets; the result is partial "
            f"(df.attrs['truncated'] is True)", MiningLimitWarning, stacklevel=2)
    sets = ItemsetArray(items, offsets, tm.labels)
    df = pd.DataFrame({"support": counts / n, "count": counts, "itemsets": sets}, copy=False)
    df.attrs.update(n_transactions=n, min_count=min_count, target=target,
                    truncated=reason is not None, stop_reason=reason, method=method,
                    ancestors=dict(tm.ancestors))
    return df


def _take_sets(items, offsets, counts, keep):
    """Keep some itemsets of a flat (items, offsets, counts) collection."""
    lens = np.diff(offsets)
    line_keep = np.repeat(keep, lens)
    new_off = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.cumsum(lens[keep], out=new_off[1:])
    return items[line_keep], new_off, counts[keep]
