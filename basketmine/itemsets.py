"""Frequent itemsets: all, closed or maximal, above a support threshold or the
top k, mined by a Cython kernel."""
from __future__ import annotations

import math
import threading
import time
import warnings

import numpy as np
import pandas as pd

from . import _itemsets
from ._progress import Counter
from ._validation import (FRACTION_OR_COUNT, NONE, InBody, Interval, InvalidParameterError, Kind, Options,
                          user_stacklevel, validated)
from .itemset_array import ItemsetArray, take_runs
from .transactions import TransactionMatrix

__all__ = ["DEFAULT_MAX_ITEMSETS", "MiningLimitError", "MiningLimitWarning", "frequent_itemsets"]

#: The cap on the number of itemsets when ``max_itemsets`` is None.  Ten
#: million frozensets take several GB; ask for more explicitly.
DEFAULT_MAX_ITEMSETS = 10_000_000
#: The itemsets of a run may hold at most this many items per ``max_itemsets``
#: in all (and at least a million): the memory cap for long itemsets.
ITEMS_PER_ITEMSET = 16


def _items_cap(max_itemsets: int) -> int:
    """The items the itemsets of a run capped at ``max_itemsets`` may hold."""
    return max(int(max_itemsets) * ITEMS_PER_ITEMSET, 1 << 20)

_INT32_MAX = np.iinfo(np.int32).max


class MiningLimitWarning(UserWarning):
    """Mining stopped at ``max_itemsets`` or ``time_limit``; the result is partial."""


class MiningLimitError(RuntimeError):
    """Mining stopped at a cap where a partial result would be wrong."""


_SPEC = {
    "tm": InBody("a TransactionMatrix"),
    "min_support": FRACTION_OR_COUNT + (NONE,),
    "top_k": (NONE, Interval("int", 1, None, "left")),
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


@validated(_SPEC)
def frequent_itemsets(tm: TransactionMatrix, min_support=None, *, top_k=None, target="all",
                      min_len=1, max_len=None, max_itemsets=None, time_limit=None,
                      progress=False) -> pd.DataFrame:
    """Find the itemsets held by at least ``min_support`` of the baskets, or
    the ``top_k`` most frequent ones.

    Parameters
    ----------
    tm : TransactionMatrix
    min_support : float in (0, 1] or int >= 1, optional
        A fraction of the baskets, or an absolute basket count.  Needed
        unless ``top_k`` is given; with ``top_k`` it is a floor (itemsets
        below it are never reported).
    top_k : int >= 1, optional
        Report the ``top_k`` most frequent itemsets (of ``target``, within
        the length bounds) without a support threshold: every such itemset
        whose count reaches the ``top_k``-th largest count, so ties at that
        count are all included and the result may hold more than
        ``top_k`` rows (fewer when fewer itemsets exist).  The threshold is
        raised while mining.  With ``target="maximal"`` the threshold is the
        one ``target="closed"`` finds, and the maximal itemsets at that
        threshold are reported (at most as many as the closed ones, possibly
        fewer than ``top_k``).  ``df.attrs["min_count"]`` is the final
        threshold.
    target : {"all", "closed", "maximal"}
        All frequent itemsets; only the closed ones (no superset has the
        same support); only the maximal ones (no superset is frequent).
        Closed and maximal itemsets are mined directly (LCM's
        prefix-preserving closure extension), never by filtering all
        itemsets.
    min_len, max_len : int
        Bounds on the number of items.  With ``target="closed"`` or
        ``"maximal"``, closedness is decided against all frequent itemsets
        whatever the bounds: a closed set longer than ``max_len`` is not
        reported, and a shorter itemset whose closure is longer is not
        closed, so it is not reported either.
    max_itemsets : int, optional
        Stop after reporting this many itemsets.  None means
        :data:`DEFAULT_MAX_ITEMSETS` (10 million).  The itemsets found may
        also hold at most :data:`ITEMS_PER_ITEMSET` times as many items in
        all (and at least a million; 160 million by default, 640 MB): very
        long baskets at a low support give long itemsets, and that cap
        stops them first.
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
        column).  Rows come in a fixed order.  ``target="all"``: a
        depth-first enumeration over the items ranked by ascending support
        (ties by label order), each itemset directly followed by its
        extensions.  ``"closed"``/``"maximal"``: the depth-first order of
        the closure tree over the same ranking, each closed itemset directly
        followed by the closed itemsets grown from it.  With ``top_k``: by
        descending count, ties in the enumeration order (most frequent
        first items first).  ``df.attrs`` carries ``n_baskets``,
        ``min_count``, ``target``, ``top_k``, ``truncated`` and
        ``stop_reason``.

    Notes
    -----
    When ``max_itemsets`` (or the items cap above) or ``time_limit`` stops a ``target="all"`` run, the
    itemsets found so far are returned, a :class:`MiningLimitWarning` is
    issued and ``df.attrs["truncated"]`` is True.  A ``"closed"`` or
    ``"maximal"`` run cannot tell closedness from a partial search, so it
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

    Closed itemsets drop ``{butter}`` and ``{milk}``: each is always bought
    with bread.  The maximal ones keep only the largest frequent sets:

    >>> closed = bm.frequent_itemsets(tm, 0.5, target="closed")
    >>> [(sorted(s), n) for s, n in zip(closed["itemsets"], closed["count"])]
    [(['bread', 'butter'], 2), (['bread', 'milk'], 2), (['bread'], 3)]
    >>> maximal = bm.frequent_itemsets(tm, 0.5, target="maximal")
    >>> [sorted(s) for s in maximal["itemsets"]]
    [['bread', 'butter'], ['bread', 'milk']]

    Without a threshold, the two most frequent pairs (a tie at the second
    count brings in a third):

    >>> top = bm.frequent_itemsets(tm, top_k=2, min_len=2)
    >>> [(sorted(s), n) for s, n in zip(top["itemsets"], top["count"])], top.attrs["min_count"]
    ([(['bread', 'milk'], 2), (['bread', 'butter'], 2)], 2)
    """
    owner = "frequent_itemsets"
    if not isinstance(tm, TransactionMatrix):
        raise InvalidParameterError(
            f"The 'tm' parameter of {owner} must be a TransactionMatrix. Got {type(tm).__name__} "
            f"instead; build one with TransactionMatrix.from_frame / from_baskets / from_onehot.")
    if min_support is None and top_k is None:
        raise InvalidParameterError(
            f"{owner} needs the 'min_support' parameter (a float in the range (0.0, 1.0] or an int "
            f">= 1) or the 'top_k' parameter (an int >= 1), or both (min_support is then a floor). "
            f"Got neither.")
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
    min_count = 1 if min_support is None else min_count_of(min_support, n)
    cap = DEFAULT_MAX_ITEMSETS if max_itemsets is None else int(max_itemsets)
    want_len = _INT32_MAX if max_len is None else min(int(max_len), _INT32_MAX)  # no itemset is longer
    item_count = np.bincount(tm.indices, minlength=tm.n_items).astype(np.int64, copy=False)
    k = int(top_k or 0)
    if k and target == "all" and min_len == 1 and k <= len(item_count):
        # the k most frequent items are k itemsets: the answer's threshold is
        # at least the k-th largest item count
        min_count = max(min_count, int(kth_largest(item_count, k)))
    indptr = np.ascontiguousarray(tm.indptr, dtype=np.int64)
    deadline = None if time_limit is None else time.monotonic() + time_limit

    def run(target_, min_count_, k_):
        method_ = choose_method(tm, min_count_, item_count)
        left = 0.0 if deadline is None else max(deadline - time.monotonic(), 1e-9)
        args = (indptr, tm.indices, item_count, min_count_, min_len, want_len, cap, left, method_)
        out = run_kernel(_itemsets.mine, args, progress, owner, "itemsets", target=target_, top_k=k_,
                         max_items=_items_cap(cap))
        return out, method_

    if k and target == "maximal":
        # the threshold of the top-k closed itemsets, then the maximal ones there
        (items, offsets, counts, _, stop), method = run("closed", min_count, k)
        if stop == 0:
            min_count = _kth_count(counts, k, min_count)
            (items, offsets, counts, _, stop), method = run("maximal", min_count, 0)
    else:
        (items, offsets, counts, _, stop), method = run(target, min_count, k)
    reason = _itemsets.STOP_REASONS[stop]
    what = f"{reason} after {len(counts):,} itemsets"
    if reason == "max_items":
        longest = int(np.diff(indptr).max())
        what = (f"the items cap after {len(counts):,} itemsets holding {len(items):,} items in all "
                f"({ITEMS_PER_ITEMSET} x max_itemsets, at least 2**20; the longest basket holds "
                f"{longest:,} items, and every subset of its frequent items is an itemset)")
    if reason == "out_of_memory":
        raise MemoryError(
            f"{owner} ran out of memory after {len(counts):,} itemsets; raise min_support or "
            f"set max_itemsets / max_len.")
    if reason is not None and target != "all":
        raise MiningLimitError(
            f"{owner} stopped at {what}; target={target!r} needs "
            f"the complete search. Raise min_support, or raise max_itemsets / time_limit.")
    if k and target != "maximal":
        min_count = _kth_count(counts, k, min_count)
        keep = counts >= min_count
        if not keep.all():
            items, offsets, counts = _take_sets(items, offsets, counts, keep)
    if k:
        order = np.argsort(-counts, kind="stable")
        items, offsets, counts = _take_sets(items, offsets, counts, order)
    if reason is not None:
        warnings.warn(
            f"{owner} stopped at {what}; the result is partial "
            f"(df.attrs['truncated'] is True)", MiningLimitWarning, stacklevel=user_stacklevel())
    sets = ItemsetArray(items, offsets, tm.labels)
    df = pd.DataFrame({"support": counts / n, "count": counts, "itemsets": sets}, copy=False)
    df.attrs.update(n_baskets=n, min_count=min_count, target=target, top_k=top_k,
                    truncated=reason is not None, stop_reason=reason, method=method,
                    ancestors=dict(tm.ancestors))
    return df


def kth_largest(values: np.ndarray, k: int):
    """The k-th largest of ``values`` (the top-k threshold), or None when
    there are fewer than k."""
    if len(values) < k:
        return None
    return np.partition(values, len(values) - k)[len(values) - k]


def _kth_count(counts: np.ndarray, k: int, floor: int) -> int:
    """The top-k count threshold, never below ``floor``."""
    kth = kth_largest(counts, k)
    return floor if kth is None else max(floor, int(kth))


def _take_sets(items, offsets, counts, keep):
    """Some itemsets of a flat (items, offsets, counts) collection: ``keep``
    is a boolean mask or an array of positions (in the wanted order)."""
    lines, new_off, idx = take_runs(offsets, keep)
    return items[lines], new_off, counts[idx]
