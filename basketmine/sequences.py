"""Sequential patterns and follow-up rules ("A, then B within 90 days").

A customer's baskets in time order form a sequence; each basket is one
element.  The functions here run Cython kernels (``_sequences.mine`` for
patterns, ``_sequences.follow_ups`` for follow-up rules) that enforce the gap
and span constraints inside the search.
"""
from __future__ import annotations

import datetime
import numbers
import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from . import _sequences
from ._validation import (FRACTION_OR_COUNT, NONE, InBody, Interval, InvalidParameterError, Kind, Options,
                          unitless_duration, user_stacklevel, validated)
from .itemset_array import ItemsetArray, SequenceArray, take_runs
from .itemsets import DEFAULT_MAX_ITEMSETS, MiningLimitError, MiningLimitWarning, min_count_of, run_kernel
from .transactions import TransactionMatrix

__all__ = ["DEFAULT_MAX_PATTERNS", "follow_ups", "sequential_patterns"]

#: The cap on the number of patterns when ``max_patterns`` is None.
DEFAULT_MAX_PATTERNS = DEFAULT_MAX_ITEMSETS

_INT32_MAX = int(np.iinfo(np.int32).max)
_NS_PER_DAY = 86_400 * 10**9

_COMMON = {
    "min_support": FRACTION_OR_COUNT,
    "time_limit": (NONE, Interval("real", 0, None, "neither")),
    "progress": (Kind(bool, "a bool"), Kind(callable, "a callable")),
}


@dataclass(frozen=True)
class _Gap:
    """A gap or span limit: an amount on an axis ("baskets" or "time", ns)."""

    axis: str
    amount: int


def _duration_error(owner, name, value, smallest_int):
    return InvalidParameterError(
        f"The {name!r} parameter of {owner} must be an int >= {smallest_int} (a number of "
        f"baskets), a duration such as '30D' or a pandas Timedelta >= 0, or None. "
        f"Got {value!r} instead.")


def _gap(owner: str, name: str, value, has_times: bool, smallest_int: int):
    """Read a gap/span parameter: None, baskets (int) or a duration."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _duration_error(owner, name, value, smallest_int)
    if isinstance(value, numbers.Integral):
        if value < smallest_int:
            raise _duration_error(owner, name, value, smallest_int)
        return _Gap("baskets", int(value))
    unitless_duration(owner, name, value, baskets=True)  # pandas would read "90" as 90 ns
    if isinstance(value, (str, pd.Timedelta, datetime.timedelta, np.timedelta64)):
        try:
            td = pd.Timedelta(value)
        except (ValueError, TypeError):
            raise _duration_error(owner, name, value, smallest_int) from None
        if td is pd.NaT or td < pd.Timedelta(0):
            raise _duration_error(owner, name, value, smallest_int)
        if not has_times:
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} is a duration ({value!r}), which needs basket "
                f"timestamps; this TransactionMatrix has none. Build it with time=<column>, or give "
                f"{name} as a number of baskets.")
        return _Gap("time", int(td.value))
    raise _duration_error(owner, name, value, smallest_int)


@dataclass
class _Encoded:
    """Customers' baskets in sequence order, restricted to frequent items."""

    n_sequences: int
    seq_ptr: np.ndarray     # baskets of each sequence
    el_ptr: np.ndarray      # items of each basket
    items: np.ndarray       # ranks of frequent items
    rank_to_code: np.ndarray
    times: np.ndarray | None   # int64 ns per basket
    customers: np.ndarray
    longest: int            # most items in one sequence
    labels: np.ndarray


def _check_tm(owner: str, tm) -> None:
    if not isinstance(tm, TransactionMatrix):
        raise InvalidParameterError(
            f"The 'tm' parameter of {owner} must be a TransactionMatrix. Got {type(tm).__name__} "
            f"instead; build one with TransactionMatrix.from_frame / from_sequences or read_spmf.")
    if tm.customer_codes is None:
        raise InvalidParameterError(
            f"The 'tm' parameter of {owner} must know each basket's customer; this "
            f"TransactionMatrix has no customers. Build it with customer=<column> "
            f"(TransactionMatrix.from_frame, read_csv), from_sequences or read_spmf.")
    if tm.nnz + tm.n_baskets >= _INT32_MAX:
        raise InvalidParameterError(
            f"The 'tm' parameter of {owner} holds {tm.nnz:,} lines; the in-memory miner takes "
            f"fewer than {_INT32_MAX:,}. Mine a sample of customers.")


def _encode(owner: str, tm: TransactionMatrix, min_count_fn, keep_item=None,
            squeeze=False) -> tuple:
    """Sequence arrays of tm's customers; items held by fewer than
    ``min_count_fn(n_sequences)`` customers are left out.  Baskets left
    empty stay (gaps counted in baskets count them), unless ``squeeze``."""
    n_guest = int((tm.customer_codes < 0).sum())
    if n_guest:
        warnings.warn(
            f"{owner}: {n_guest:,} of {tm.n_baskets:,} baskets have no customer and cannot be "
            f"part of a sequence; they are left out (df.attrs['baskets_without_customer']).",
            UserWarning, stacklevel=user_stacklevel())
    seqs = tm.customer_sequences()
    n_seq = len(seqs)
    if n_seq == 0:
        raise InvalidParameterError(f"The 'tm' parameter of {owner} holds no customer with a basket.")
    indptr = np.ascontiguousarray(tm.indptr, dtype=np.int64)
    order = np.ascontiguousarray(seqs.baskets, dtype=np.int64)
    seq_ptr = np.ascontiguousarray(seqs.indptr, dtype=np.int64)
    item_seqs = _sequences.item_sequence_counts(indptr, tm.indices, order, seq_ptr, tm.n_items)
    min_count = min_count_fn(n_seq)
    frequent = item_seqs >= min_count
    if keep_item is not None:
        frequent &= keep_item
    rank_to_code = np.flatnonzero(frequent).astype(np.int32)
    code_to_rank = np.full(tm.n_items, -1, dtype=np.int32)
    code_to_rank[rank_to_code] = np.arange(len(rank_to_code), dtype=np.int32)
    seq_ptr, el_ptr, ranks, rows, longest = _sequences.project(
        indptr, tm.indices, order, seq_ptr, code_to_rank, squeeze)
    times = None if tm.times is None else tm.times.view(np.int64)[rows]
    enc = _Encoded(n_seq, seq_ptr, el_ptr, ranks, rank_to_code, times, seqs.customers, int(longest),
                   tm.labels)
    return enc, min_count, n_guest


def _axis(enc: _Encoded, gap: _Gap | None):
    """The coordinates a gap is measured on: basket timestamps for a
    duration, None (the basket index) for a number of baskets."""
    return enc.times if gap is not None and gap.axis == "time" else None


def _finish(out, owner: str):
    """The kernel's arrays and the stop reason; running out of memory raises."""
    reason = _sequences.STOP_REASONS[out[-1]]
    if reason == "out_of_memory":
        raise MemoryError(
            f"{owner} ran out of memory after {len(out[3]):,} patterns; raise min_support or set "
            f"max_len / max_patterns.")
    return out[:-1], reason


def _mine(enc, min_count, max_len, min_gap, max_gap, max_span, cap, time_limit, progress, owner):
    args = (enc.seq_ptr, enc.el_ptr, enc.items, enc.rank_to_code, min_count,
            int(min(max_len, _INT32_MAX - 1)), cap, float(time_limit or 0.0))
    out = run_kernel(_sequences.mine, args, progress, owner, "patterns",
                     min_gap=1 if min_gap is None else min_gap.amount,
                     max_gap=-1 if max_gap is None else max_gap.amount,
                     max_span=-1 if max_span is None else max_span.amount,
                     min_gap_axis=_axis(enc, min_gap), max_gap_axis=_axis(enc, max_gap),
                     span_axis=_axis(enc, max_span))
    return _finish(out, owner)


def _follow(enc, min_count, max_antecedent_len, min_gap, win, anchor_ok, roles, cap, time_limit,
            progress, owner):
    args = (enc.seq_ptr, enc.el_ptr, enc.items, enc.rank_to_code, enc.times, anchor_ok, roles,
            win.amount, min_count, int(max_antecedent_len), cap, float(time_limit or 0.0))
    out = run_kernel(_sequences.follow_ups, args, progress, owner, "patterns",
                     min_gap=1 if min_gap is None else min_gap.amount,
                     min_gap_in_time=min_gap is not None and min_gap.axis == "time")
    return _finish(out, owner)


_GAP = InBody("None, an int number of baskets, or a duration with its unit such as '30D'")
_SPEC = {
    **_COMMON,
    "tm": InBody("a TransactionMatrix with customers"),
    "min_gap": _GAP, "max_gap": _GAP, "max_span": _GAP,
    "target": Options(("all", "closed", "maximal")),
    "max_len": (NONE, Interval("int", 1, None, "left")),
    "max_patterns": (NONE, Interval("int", 1, None, "left")),
}


@validated(_SPEC)
def sequential_patterns(tm: TransactionMatrix, min_support, *, max_len=None, min_gap=None,
                        max_gap=None, max_span=None, target="all", max_patterns=None,
                        time_limit=None, progress=False) -> pd.DataFrame:
    """Find the sequences of baskets that at least ``min_support`` of the
    customers follow.

    Each customer's baskets, oldest first (ties in input order), form a
    sequence; each basket is one element.  A pattern such as
    ``({tv, cable}, {speakers})`` is held by a customer who bought tv and
    cable in one basket and speakers in a later one.

    Parameters
    ----------
    tm : TransactionMatrix
        With customers (and timestamps when a gap is a duration).
    min_support : float in (0, 1] or int >= 1
        A fraction of the customers, or a customer count.
    max_len : int, optional
        Most items in a pattern (over all its elements).
    min_gap, max_gap : int or duration, optional
        Bounds on the distance between consecutive elements: an int counts
        baskets (1: the next basket), a duration (``"30D"``, a
        :class:`pandas.Timedelta`) is measured on the basket timestamps.
        ``min_gap`` defaults to one basket: an element always sits in a later
        basket than the one before it, even one with the same timestamp
        (give ``min_gap="1D"`` for a later day).
    max_span : int or duration, optional
        Bound on the distance from the first element to the last.
    target : {"all", "closed", "maximal"}
        All patterns, or those no pattern one item longer contains with the
        same support (closed) or at all (maximal).
    max_patterns : int, optional
        Stop after this many patterns (default :data:`DEFAULT_MAX_PATTERNS`).
    time_limit : float, optional
        Stop after this many seconds.
    progress : bool or callable
        As in :func:`frequent_itemsets`.

    Returns
    -------
    DataFrame
        ``support`` (fraction of customers), ``count`` (customers),
        ``sequence`` (a tuple of frozensets of item labels; the column is a
        :class:`SequenceArray`, flat item codes that build each tuple when it
        is read) and ``length`` (items).  Rows come depth first: each pattern is followed by its
        extensions, items added to the last element before new elements,
        each in item order.  ``df.attrs`` holds ``n_customers``,
        ``min_count``, ``target``, ``truncated``, ``stop_reason`` and
        ``baskets_without_customer``.

    Notes
    -----
    The constraints are enforced inside the search: a customer holds a
    pattern only through an embedding that meets every one of them.  Stopping
    at ``max_patterns`` or ``time_limit`` warns and flags
    ``df.attrs["truncated"]`` (target "all") or raises
    :class:`MiningLimitError` (closed, maximal).

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.TransactionMatrix.from_sequences([
    ...     [["tv", "cable"], ["speakers"]],
    ...     [["tv"], ["dvd"], ["speakers"]],
    ...     [["tv", "cable"]]])
    >>> df = bm.sequential_patterns(tm, 2)
    >>> [(tuple(sorted(e) for e in s), n) for s, n in zip(df["sequence"], df["count"])]
    [((['cable'],), 2), ((['cable', 'tv'],), 2), ((['speakers'],), 2), ((['tv'],), 3), ((['tv'], ['speakers']), 2)]
    >>> df = bm.sequential_patterns(tm, 2, max_gap=1)   # speakers in the very next basket
    >>> int(df["length"].max())
    2
    """
    owner = "sequential_patterns"
    _check_tm(owner, tm)
    has_times = tm.times is not None
    mn = _gap(owner, "min_gap", min_gap, has_times, 1)
    mx = _gap(owner, "max_gap", max_gap, has_times, 1)
    sp = _gap(owner, "max_span", max_span, has_times, 0)
    if mn is not None and mx is not None and mn.axis == mx.axis and mn.amount > mx.amount:
        raise InvalidParameterError(
            f"The 'min_gap' parameter of {owner} must not exceed max_gap ({max_gap!r}). "
            f"Got {min_gap!r} instead.")
    # empty baskets matter only to gaps and spans counted in baskets
    positional = any(g is not None and g.axis == "baskets" for g in (mx, sp)) or \
        (mn is not None and mn.axis == "baskets" and mn.amount > 1)
    enc, min_count, n_guest = _encode(owner, tm, lambda n: min_count_of(min_support, n),
                                      squeeze=not positional)
    cap = DEFAULT_MAX_PATTERNS if max_patterns is None else int(max_patterns)
    want = _INT32_MAX if max_len is None else int(max_len)
    kernel_len = want if target == "all" else min(want + 1, _INT32_MAX)
    (items, starts, offsets, counts), reason = _mine(
        enc, min_count, kernel_len, mn, mx, sp, cap, time_limit, progress, owner)
    if reason is not None and target != "all":
        raise MiningLimitError(
            f"{owner} stopped at {reason} after {len(counts):,} patterns; target={target!r} needs "
            f"the complete collection. Raise min_support, or raise max_patterns / time_limit.")
    if target != "all":
        keep = _sequences.closure_mask(items, starts, offsets, counts, target == "maximal").astype(bool)
        keep &= np.diff(offsets) <= want
        items, starts, offsets, counts = _take(items, starts, offsets, counts, keep)
    if reason is not None:
        warnings.warn(
            f"{owner} stopped at {reason} after {len(counts):,} patterns; the result is partial "
            f"(df.attrs['truncated'] is True)", MiningLimitWarning, stacklevel=user_stacklevel())
    n = enc.n_sequences
    df = pd.DataFrame({
        "support": counts / n,
        "count": counts,
        "sequence": SequenceArray(items, starts, offsets, tm.labels),
        "length": np.diff(offsets),
    }, copy=False)  # fresh arrays: no copy (a SequenceArray copy costs a gather per line)
    df.attrs.update(n_customers=n, min_count=min_count, target=target, truncated=reason is not None,
                    stop_reason=reason, baskets_without_customer=n_guest,
                    constraints={"min_gap": min_gap, "max_gap": max_gap, "max_span": max_span})
    return df


def _take(items, starts, offsets, counts, keep):
    lines, new_off, idx = take_runs(offsets, keep)
    return items[lines], starts[lines], new_off, counts[idx]


_FOLLOW_SPEC = {
    **_COMMON,
    "tm": InBody("a TransactionMatrix with customers and times"),
    "within": InBody("a duration with its unit such as '90D', or an int number of baskets"),
    "min_gap": _GAP,
    "antecedents": InBody("None, or item labels of the log"),
    "consequents": InBody("None, or item labels of the log"),
    "hierarchy": InBody("None, or a mapping item -> category"),
    "observation_end": InBody("None, or a time at or after the last basket"),
    "min_confidence": Interval("real", 0, 1, "both"),
    "max_antecedent_len": Interval("int", 1, None, "left"),
    "max_rules": (NONE, Interval("int", 1, None, "left")),
}


def _label_mask(owner: str, name: str, labels, tm: TransactionMatrix, where: str = ""):
    if labels is None:
        return np.ones(tm.n_items, dtype=bool)
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__iter__"):
        labels = [labels]
    mask = np.zeros(tm.n_items, dtype=bool)
    try:
        mask[tm.code_of(list(labels))] = True
    except KeyError as exc:
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must name items of the TransactionMatrix"
            f"{where}; {exc.args[0]}.") from None
    return mask


def window(owner: str, within, min_gap):
    """Read follow-ups' ``within`` (a positive duration) and ``min_gap``
    (baskets or a duration, at most ``within``) as :class:`_Gap` values."""
    def bad_within():
        return InvalidParameterError(
            f"The 'within' parameter of {owner} must be a duration such as '90D' or a pandas "
            f"Timedelta > 0. Got {within!r} instead.")
    if isinstance(within, numbers.Integral) and not isinstance(within, bool):
        raise bad_within()
    win = _gap(owner, "within", within, True, 1)
    if win is None or win.amount <= 0:
        raise bad_within()
    mn = _gap(owner, "min_gap", min_gap, True, 1)
    if mn is not None and mn.axis == "time" and mn.amount > win.amount:
        raise InvalidParameterError(
            f"The 'min_gap' parameter of {owner} must not exceed within ({within!r}). "
            f"Got {min_gap!r} instead.")
    return win, mn


def observation_end_ns(owner: str, observation_end, last_ns: int) -> int:
    """The end of the log in ns: ``observation_end``, which may not fall
    before the last basket (``last_ns``), or that last basket."""
    if observation_end is None:
        return last_ns
    try:
        end = pd.Timestamp(observation_end).as_unit("ns").value
    except (ValueError, TypeError):
        end = None
    if end is None or end < last_ns:
        raise InvalidParameterError(
            f"The 'observation_end' parameter of {owner} must be a timestamp at or after the "
            f"last basket ({pd.Timestamp(last_ns)}). Got {observation_end!r} instead; select the "
            f"baskets first with tm.between(...).")
    return end


@validated(_FOLLOW_SPEC)
def follow_ups(tm: TransactionMatrix, within="90D", min_support=0.01, min_confidence=0.0, *,
               antecedents=None, consequents=None, max_antecedent_len=1, min_gap=None,
               hierarchy=None, observation_end=None, max_rules=None, time_limit=None,
               progress=False) -> pd.DataFrame:
    """Rules "customers who bought A went on to buy B within a window".

    Parameters
    ----------
    tm : TransactionMatrix
        With customers and timestamps.
    within : duration
        The window after A (``"90D"``, a :class:`pandas.Timedelta`).
    min_support : float in (0, 1] or int >= 1
        Least share (or number) of all customers who follow the rule.
    min_confidence : float in [0, 1]
        Least confidence of a rule kept.
    antecedents, consequents : iterable of labels, optional
        Only rules whose antecedent items / consequent come from these.
    max_antecedent_len : int
        Most items in A, bought together in one basket.
    min_gap : int or duration, optional
        B must come at least this long after A: by default in a later
        basket (``1``); ``"1D"`` asks for a later day.
    hierarchy : mapping item -> category, optional
        Mine categories instead of items (see
        :meth:`TransactionMatrix.aggregate`).
    observation_end : timestamp, optional
        The end of the log (default: its last basket); decides which
        customers were observed long enough after buying A.
    max_rules, time_limit, progress
        Caps and progress reporting, as in :func:`sequential_patterns`.

    Returns
    -------
    DataFrame
        One row per rule, strongest first (confidence, then customers):

        ``antecedents`` (frozenset), ``consequent`` (label);
        ``antecedent_customers``: customers who bought A at least ``within``
        before the end of the log (only they could be seen to follow up);
        ``customers``: those of them who bought B within ``within`` after
        such a purchase of A; ``support``: ``customers`` / all customers;
        ``confidence``: ``customers / antecedent_customers``;
        ``base_rate``: the same share for B after any purchase (customers who
        bought B within ``within`` after some purchase made at least
        ``within`` before the end, over all customers with such a purchase);
        ``lift``: ``confidence / base_rate``;
        ``lag_days_q1``, ``lag_days_median``, ``lag_days_q3``: quartiles, over
        the customers, of the days from A to B (each customer's first B that
        follows an A in the window, from the latest A before it).

    Notes
    -----
    Censoring: a purchase of A made less than ``within`` before the end of
    the log cannot show a follow-up and is ignored, in the numerator and the
    denominator alike, so a short tail of the log does not bias confidence
    down.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.TransactionMatrix.from_sequences(
    ...     [[["tv"], ["speakers"]], [["tv"], ["cable"]], [["tv", "cable"], ["speakers"]], [["cable"]]],
    ...     times=[["2024-01-01", "2024-02-01"], ["2024-01-05", "2024-01-06"],
    ...            ["2024-01-10", "2024-03-01"], ["2024-06-30"]])
    >>> fu = bm.follow_ups(tm, within="90D", min_support=1)
    >>> fu[["antecedents", "consequent", "customers", "antecedent_customers", "confidence"]]
      antecedents consequent  customers  antecedent_customers  confidence
    0        {tv}   speakers          2                     3    0.666667
    1     {cable}   speakers          1                     2    0.500000
    2        {tv}      cable          1                     3    0.333333
    """
    owner = "follow_ups"
    _check_tm(owner, tm)
    if tm.times is None:
        raise InvalidParameterError(
            f"The 'tm' parameter of {owner} must carry basket timestamps; build it with "
            f"time=<column> (TransactionMatrix.from_frame, read_csv) or from_sequences(times=...).")
    win, mn = window(owner, within, min_gap)
    if hierarchy is not None:
        if not isinstance(hierarchy, (Mapping, pd.Series)):
            raise InvalidParameterError(
                f"The 'hierarchy' parameter of {owner} must be a mapping item -> category "
                f"(dict or Series). Got {type(hierarchy).__name__} instead.")
        tm = tm.aggregate(dict(hierarchy))
    last = int(tm.times.view(np.int64).max())
    end = observation_end_ns(owner, observation_end, last)
    where = "" if hierarchy is None else " (categories, as the hierarchy is given)"
    ante_mask = _label_mask(owner, "antecedents", antecedents, tm, where)
    cons_mask = _label_mask(owner, "consequents", consequents, tm, where)
    enc, min_count, n_guest = _encode(owner, tm, lambda n: min_count_of(min_support, n),
                                      keep_item=ante_mask | cons_mask)
    anchor_ok = (enc.times + win.amount <= end).astype(np.uint8)
    if not anchor_ok.any():
        raise InvalidParameterError(
            f"The 'within' parameter of {owner} ({within!r}) is longer than the log allows: no "
            f"basket was bought that long before its end ({pd.Timestamp(end)}).")
    cap = DEFAULT_MAX_PATTERNS if max_rules is None else int(max_rules)
    roles = (ante_mask[enc.rank_to_code] * _sequences.ROLE_ANTECEDENT
             + cons_mask[enc.rank_to_code] * _sequences.ROLE_CONSEQUENT).astype(np.uint8)
    (items, starts, offsets, counts, lags), reason = _follow(
        enc, min_count, max_antecedent_len, mn, win, anchor_ok, roles, cap, time_limit, progress,
        owner)
    if reason is not None:
        warnings.warn(f"{owner} stopped at {reason} after {len(counts):,} patterns; the result is "
                      f"partial (df.attrs['truncated'] is True)", MiningLimitWarning, stacklevel=user_stacklevel())
    base, n_eligible, base_reason = _base_rates(enc, min_count, mn, win, anchor_ok,
                                                cons_mask[enc.rank_to_code], tm.n_items)
    if base_reason is not None:  # base rates missing for some consequents: their lift is NaN
        warnings.warn(f"{owner}: the base-rate run stopped at {base_reason}; some base rates and lifts are "
                      f"missing (df.attrs['truncated'] is True)", MiningLimitWarning, stacklevel=user_stacklevel())
        reason = reason or f"base rates: {base_reason}"

    n_elem = np.add.reduceat(starts, offsets[:-1]) if len(counts) else np.zeros(0, np.int64)
    is_rule = n_elem == 2
    ante_count = {}
    for i in np.flatnonzero(~is_rule):
        ante_count[items[offsets[i]:offsets[i + 1]].tobytes()] = counts[i]
    rules = np.flatnonzero(is_rule)
    ante_items = np.concatenate([items[offsets[i]:offsets[i + 1] - 1] for i in rules]) \
        if len(rules) else np.zeros(0, np.int32)
    ante_off = np.zeros(len(rules) + 1, dtype=np.int64)
    np.cumsum(offsets[rules + 1] - offsets[rules] - 1, out=ante_off[1:])
    n_ante = np.array([ante_count[ante_items[ante_off[k]:ante_off[k + 1]].tobytes()]
                       for k in range(len(rules))], dtype=np.int64)
    cons = items[offsets[rules + 1] - 1]
    n_rule = counts[rules]
    conf = n_rule / np.maximum(n_ante, 1)
    base_b = base[cons] if len(rules) else np.zeros(0)
    lag_days = lags[rules] / _NS_PER_DAY
    df = pd.DataFrame({
        "antecedents": ItemsetArray(ante_items, ante_off, tm.labels),
        "consequent": tm.labels[cons],
        "customers": n_rule,
        "antecedent_customers": n_ante,
        "support": n_rule / enc.n_sequences,
        "confidence": conf,
        "base_rate": base_b,
        "lift": conf / base_b,
        "lag_days_q1": lag_days[:, 0],
        "lag_days_median": lag_days[:, 1],
        "lag_days_q3": lag_days[:, 2],
    })
    df = df[df["confidence"] >= min_confidence]
    order = np.lexsort((np.arange(len(df)), -df["customers"].to_numpy(), -df["confidence"].to_numpy()))
    df = df.iloc[order].reset_index(drop=True)
    df.attrs.update(n_customers=enc.n_sequences, n_eligible_customers=n_eligible, min_count=min_count,
                    within=pd.Timedelta(win.amount), observation_end=pd.Timestamp(end),
                    truncated=reason is not None, stop_reason=reason,
                    baskets_without_customer=n_guest)
    return df


def _base_rates(enc: _Encoded, min_count, mn, win, anchor_ok, cons_ok, n_codes):
    """Per item code: the share of customers with an eligible purchase who
    bought it within the window after one; how many such customers; and why
    the run stopped early (None when it did not).

    Runs the follow-up search once more on the baskets with a virtual item
    ("any purchase") added to each, as the only antecedent."""
    m = len(enc.rank_to_code)
    n_el = len(enc.el_ptr) - 1
    el_ptr = enc.el_ptr + np.arange(n_el + 1, dtype=np.int64)
    items = np.insert(enc.items, enc.el_ptr[1:], m).astype(np.int32)
    any_enc = _Encoded(enc.n_sequences, enc.seq_ptr, el_ptr, items,
                       np.append(enc.rank_to_code, n_codes).astype(np.int32), enc.times,
                       enc.customers, enc.longest + 1, enc.labels)
    roles = np.append(np.where(cons_ok, _sequences.ROLE_CONSEQUENT, 0),
                      _sequences.ROLE_ANTECEDENT).astype(np.uint8)
    (it, st, off, counts, _), reason = _follow(
        any_enc, min_count, 1, mn, win, anchor_ok, roles, DEFAULT_MAX_PATTERNS, 0.0, False,
        "follow_ups")
    seq_of = np.repeat(np.arange(enc.n_sequences), np.diff(enc.seq_ptr))
    n_eligible = len(np.unique(seq_of[anchor_ok.astype(bool)]))
    base = np.full(n_codes + 1, np.nan)
    rules = np.flatnonzero(np.diff(off) == 2)
    base[it[off[rules] + 1]] = counts[rules] / n_eligible
    return base, n_eligible, reason
