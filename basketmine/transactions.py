"""The TransactionMatrix: one encoded log that every basketmine model reads.

Encode once, mine many times.  Baskets are rows of a CSR matrix over an item
vocabulary; each basket may carry a customer and a timestamp, each line
(basket x item) a quantity, unit price and unit cost.  Every input row that
is not used is counted, with the reason, in :attr:`TransactionMatrix.report`.
"""
from __future__ import annotations

import bisect
import re
import warnings
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Mapping

import numpy as np
import pandas as pd

from . import _encode, _sequences
from ._validation import InvalidParameterError, Options, UnknownLabelError, check, column_error, user_stacklevel

__all__ = ["CleaningReport", "CustomerSequences", "TransactionMatrix"]

_CANCEL = Options(("auto", "drop", "keep", "net"))


def net_returns(customer: np.ndarray, item: np.ndarray, t: np.ndarray, q: np.ndarray, keep: np.ndarray):
    """Net each return (a kept row of negative quantity) against the same
    customer's kept purchases of the item at or before it, latest first
    (rows of equal time: the later row first).

    ``customer`` and ``item`` are integer codes (-1: missing customer);
    returns ``(quantities after netting, the return rows, those that found
    nothing to net against, those without a customer, the (purchase row,
    return row) pairs netted)`` (masks but the last).  The return rows are to
    be dropped; purchases netted to zero or below are fully returned.
    """
    q = q.copy()
    pairs = []
    neg = np.flatnonzero(keep & (q < 0))
    returned = np.zeros(len(q), dtype=bool)
    returned[neg] = True
    no_customer = returned & (customer < 0)
    unmatched = np.zeros(len(q), dtype=bool)
    neg = neg[customer[neg] >= 0]
    if len(neg):
        pos = np.flatnonzero(keep & (q > 0) & (customer >= 0))
        pos = pos[np.argsort(t[pos], kind="stable")]
        groups: dict = {}
        for r in pos:
            groups.setdefault((customer[r], item[r]), []).append(r)
        for r in neg[np.argsort(t[neg], kind="stable")]:
            need = -q[r]
            stack = groups.get((customer[r], item[r]), [])  # purchases by time
            j = bisect.bisect_right(stack, t[r], key=lambda p: t[p]) - 1  # later ones are not its origin
            while need > 0 and j >= 0:
                p = stack[j]
                take = min(q[p], need)
                q[p] -= take
                need -= take
                pairs.append((p, r))
                if q[p] <= 0:
                    del stack[j]
                j -= 1
            unmatched[r] = need > 0
    return q, returned, unmatched, no_customer, np.array(pairs, dtype=np.int64).reshape(-1, 2)


def warn_returns_after(tm, asof, owner: str) -> None:
    """Warn when returns after ``asof`` were netted against purchases
    before it: a model fitted as of ``asof`` would see the future."""
    n = tm.report.returns_netted_after(asof)
    if n:
        warnings.warn(
            f"{owner}: {n:,} returns at or after {pd.Timestamp(asof)} were netted against purchases before "
            f"it, so the history before that time knows of them; for a backtest without that look-ahead, "
            f"read the log with cancellations='drop'.", UserWarning, stacklevel=user_stacklevel())


def _report_netting(report, returns: int, unmatched: int, no_customer: int, emptied: int) -> None:
    """The netting's counts in the cleaning report (local and Spark alike)."""
    report.add("return netted against an earlier purchase of the same customer",
               returns - unmatched - no_customer, "netted")
    report.add("return with no earlier purchase to net against", unmatched)
    report.add("return without a customer (cannot be netted)", no_customer)
    report.add("purchase line fully returned (netted to zero)", emptied, "netted")


@dataclass
class CleaningReport:
    """What became of every input row.

    ``entries`` is a list of ``(reason, rows, action)``; ``action`` is
    ``"dropped"`` (row not used), ``"merged"`` (folded into another line of
    the same basket), ``"netted"`` (a return set against a purchase) or
    ``"note"`` (kept, but worth knowing).

    Examples
    --------
    >>> import pandas as pd
    >>> import basketmine as bm
    >>> lines = pd.DataFrame({"invoice": ["1", "1", "2", "2", "C3"],
    ...                       "item": ["tea", "milk", "tea", None, "tea"],
    ...                       "qty": [2, 1, 1, 1, -2],
    ...                       "customer": ["ann", "ann", "bob", "bob", "ann"],
    ...                       "time": ["2024-01-05 10:00"] * 2 + ["2024-01-05 11:00"] * 2 + ["2024-01-05 10:12"]})
    >>> tm = bm.TransactionMatrix.from_frame(lines, basket="invoice", item="item", quantity="qty",
    ...                                      customer="customer", time="time")
    >>> tm.report       # ann's tea was cancelled 12 minutes later: it is not a purchase
    CleaningReport(rows_in=5, rows_dropped=1)
      dropped          1  missing item ('item')
       netted          1  return netted against an earlier purchase of the same customer
       netted          1  purchase line fully returned (netted to zero)
    >>> tm.report.rows_dropped
    1
    """

    rows_in: int = 0
    entries: list = field(default_factory=list)
    # (purchase times, return times) of each return netted against a purchase, for returns_netted_after
    _netted: tuple | None = field(default=None, compare=False, repr=False)

    def returns_netted_after(self, asof) -> int:
        """How many returns at or after ``asof`` were netted against
        purchases before it: a model fitted as of ``asof`` on this log sees
        those purchases reduced by what was only known later."""
        if self._netted is None:
            return 0
        bought, returned = self._netted
        cut = np.datetime64(pd.Timestamp(asof).as_unit("ns").to_datetime64())
        return int(((bought < cut) & (returned >= cut)).sum())

    def add(self, reason: str, rows: int, action: str = "dropped") -> None:
        """Record ``rows`` input rows that met ``reason``; zero rows records nothing."""
        if rows:
            self.entries.append((reason, int(rows), action))

    @property
    def rows_dropped(self) -> int:
        """Input rows not used at all (``action == "dropped"``)."""
        return sum(r for _, r, a in self.entries if a == "dropped")

    def to_frame(self) -> pd.DataFrame:
        """The entries as a table: ``reason``, ``rows``, ``action``."""
        return pd.DataFrame(self.entries, columns=["reason", "rows", "action"])

    def __repr__(self) -> str:
        head = f"CleaningReport(rows_in={self.rows_in}, rows_dropped={self.rows_dropped})"
        if not self.entries:
            return head + ": every row used as given"
        lines = [head]
        for reason, rows, action in self.entries:
            lines.append(f"  {action:>7}  {rows:>9,}  {reason}")
        return "\n".join(lines)


@dataclass
class CustomerSequences:
    """Each customer's baskets in time order.

    ``baskets[indptr[k]:indptr[k + 1]]`` are the basket indices (rows of the
    TransactionMatrix) of ``customers[k]``, oldest first.

    Examples
    --------
    >>> import pandas as pd
    >>> import basketmine as bm
    >>> lines = pd.DataFrame({"invoice": ["1", "2", "3", "3"], "customer": ["ann", "ann", "bob", "bob"],
    ...                       "time": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-01-10", "2024-01-10"]),
    ...                       "item": ["tv", "soundbar", "tv", "cable"]})
    >>> tm = bm.TransactionMatrix.from_frame(lines, basket="invoice", item="item", customer="customer", time="time")
    >>> seqs = tm.customer_sequences()
    >>> list(seqs.customers), seqs.to_lists()
    (['ann', 'bob'], {'ann': [['tv'], ['soundbar']], 'bob': [['cable', 'tv']]})
    """

    customers: np.ndarray
    indptr: np.ndarray
    baskets: np.ndarray
    tm: "TransactionMatrix"

    def __len__(self) -> int:
        return len(self.customers)

    def to_lists(self) -> dict:
        """``{customer: [[item, ...], ...]}`` with items as labels."""
        rows = self.tm.to_baskets()
        return {
            c: [rows[b] for b in self.baskets[self.indptr[k]:self.indptr[k + 1]]]
            for k, c in enumerate(self.customers)
        }


def _index_dtype(n: int):
    return np.int32 if n < np.iinfo(np.int32).max else np.int64


def _sorted_vocabulary(labels: list, owner: str, name: str):
    """Sort labels; return (sorted labels as object array, old code -> new code)."""
    kinds = {type(x) for x in labels}
    numeric = all(issubclass(k, (int, float, np.integer, np.floating)) and not issubclass(k, bool)
                  for k in kinds)
    if len(kinds) > 1 and not numeric:
        names = ", ".join(sorted(k.__name__ for k in kinds))
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must hold items of one type; "
            f"got a mix of {names}. Convert them first, e.g. with astype(str)."
        )
    arr = np.empty(len(labels), dtype=object)
    arr[:] = labels
    try:
        order = sorted(range(len(labels)), key=labels.__getitem__)
    except TypeError as exc:
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must hold items that can be "
            f"ordered; got {exc}."
        ) from exc
    order = np.asarray(order, dtype=np.int64)
    perm = np.empty(len(labels), dtype=np.int32)
    perm[order] = np.arange(len(labels), dtype=np.int32)
    return arr[order], perm



_TIME_OF_DAY = r"\s*\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([AaPp]\.?[Mm]\.?)?\s*"


def _time_columns(owner: str, time) -> list:
    """The time parameter as a list of one column, or of a date and a time column."""
    if time is None:
        return []
    if isinstance(time, (list, tuple)):
        if len(time) not in (1, 2):
            raise InvalidParameterError(
                f"The 'time' parameter of {owner} must be a column, or a [date, time] pair of columns. "
                f"Got {time!r} instead.")
        return list(time)
    return [time]


def _parse_times(df: pd.DataFrame, cols: list, owner: str, date_format) -> np.ndarray:
    """The basket times of ``cols`` (one column, or a date and a time column) as datetime64[ns]."""
    if len(cols) == 2:
        d, t = df[cols[0]], df[cols[1]]
        raw = (d.astype(str).str.strip() + " " + t.astype(str).str.strip()).where(d.notna() & t.notna())
    else:
        raw = df[cols[0]]
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        sample = raw.dropna().astype(str).head(1000)
        if len(sample) and sample.str.fullmatch(_TIME_OF_DAY).all():
            raise InvalidParameterError(
                f"The 'time' parameter of {owner} names {cols[0]!r}, which holds times of day without dates "
                f"(e.g. {sample.iloc[0]!r}); they would be read as today's date. Give the date column too: "
                f"time=[<date column>, {cols[0]!r}] (--time DATE --time {cols[0]} on the command line).")
    unit = None
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw) and date_format is None:
        # numbers since 1970: pandas would take them as nanoseconds; take the unit their size says
        big = float(np.nanmax(np.abs(raw.to_numpy(np.float64)))) if raw.notna().any() else 0.0
        unit = "s" if big < 1e11 else "ms" if big < 1e14 else "us" if big < 1e17 else "ns"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            t = pd.to_datetime(raw, format=date_format, unit=unit).to_numpy(dtype="datetime64[ns]")
        except (ValueError, TypeError) as exc:
            raise InvalidParameterError(
                f"The 'time' parameter of {owner} must name a column of dates or times; "
                f"{' + '.join(map(repr, cols))} could not be read as such"
                f"{'' if date_format is None else f' with date_format={date_format!r}'} "
                f"({str(exc).splitlines()[0].split('. You might')[0]}).") from None
    if unit is not None:
        names = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
        ok = t[~np.isnat(t)]
        span = f" ({pd.Timestamp(ok.min())} .. {pd.Timestamp(ok.max())})" if len(ok) else ""
        warnings.warn(f"{owner}: {cols[0]!r} holds numbers; read as {names[unit]} since 1970-01-01{span}.",
                      UserWarning, stacklevel=user_stacklevel())
    for w in caught:
        msg = str(w.message)
        if "dayfirst" in msg or "infer format" in msg or "format" in msg:
            warnings.warn(f"{owner}: the dates of {' + '.join(map(repr, cols))} are ambiguous or mixed "
                          f"({msg.split('. ')[0]}); give date_format= (e.g. '%d/%m/%Y %H:%M') to read every "
                          f"date the same way.", UserWarning, stacklevel=user_stacklevel())
            break
    return t


def _ns64(t) -> np.datetime64:
    """A time as datetime64[ns], to the nanosecond (``np.datetime64(Timestamp)``
    goes through datetime and drops the nanoseconds)."""
    return pd.Timestamp(t).as_unit("ns").to_datetime64()

class TransactionMatrix:
    """An encoded transaction log.

    Build it with one of the constructors (:meth:`from_frame`,
    :meth:`from_baskets`, :meth:`from_onehot`) or a reader
    (:func:`basketmine.read_csv`, ...), then hand it to any miner.

    Attributes
    ----------
    indptr, indices : ndarray
        CSR rows: the item codes of basket ``b`` are
        ``indices[indptr[b]:indptr[b + 1]]``, ascending, without repeats.
        ``indices`` is int32; ``indptr`` int32 or int64 by size.
    labels : ndarray of object
        Item label of each code, sorted.
    basket_ids : ndarray
        The input's basket identifier of each row.
    customer_codes : ndarray of int32 or None
        Customer of each basket as a code into ``customer_labels``.
    times : ndarray of datetime64[ns] or None
        Timestamp of each basket.
    quantity, price, cost : ndarray of float64 or None
        Per line (aligned with ``indices``): total quantity, and
        quantity-weighted unit price and unit cost.
    report : CleaningReport
        Every input row not used, and why.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.TransactionMatrix.from_baskets([["tea", "milk"], ["tea"], ["milk", "bread"]])
    >>> tm
    TransactionMatrix(3 baskets, 3 items, 5 lines)
    >>> tm.item_frequencies()
    item
    milk     2
    tea      2
    bread    1
    Name: count, dtype: int64
    """

    def __init__(self, indptr, indices, labels, *, basket_ids=None, customer_codes=None,
                 customer_labels=None, times=None, quantity=None, price=None, cost=None,
                 report=None):
        self.indptr = np.ascontiguousarray(indptr, dtype=_index_dtype(len(indices)))
        self.indices = np.ascontiguousarray(indices, dtype=np.int32)
        self.labels = np.asarray(labels, dtype=object)
        n = len(self.indptr) - 1
        self.basket_ids = np.arange(n) if basket_ids is None else np.asarray(basket_ids)
        self.customer_codes = None if customer_codes is None else np.asarray(customer_codes, np.int32)
        self.customer_labels = None if customer_labels is None else np.asarray(customer_labels, dtype=object)
        self.times = None if times is None else np.asarray(times, dtype="datetime64[ns]")
        self.quantity = None if quantity is None else np.asarray(quantity, np.float64)
        self.price = None if price is None else np.asarray(price, np.float64)
        self.cost = None if cost is None else np.asarray(cost, np.float64)
        self.report = report if report is not None else CleaningReport(rows_in=len(self.indices))
        self._code_of = None
        # item -> frozenset of its categories, when built by with_ancestors
        self.ancestors: dict = {}

    # ------------------------------------------------------------ basics
    @property
    def n_baskets(self) -> int:
        """Number of baskets (rows)."""
        return len(self.indptr) - 1

    @property
    def n_items(self) -> int:
        """Number of distinct items in the vocabulary (columns)."""
        return len(self.labels)

    @property
    def nnz(self) -> int:
        """Number of basket lines (stored basket x item entries)."""
        return len(self.indices)

    @property
    def shape(self) -> tuple:
        """``(n_baskets, n_items)``."""
        return (self.n_baskets, self.n_items)

    def __len__(self) -> int:
        return self.n_baskets

    def __repr__(self) -> str:
        extra = []
        if self.customer_codes is not None:
            extra.append(f"{len(self.customer_labels)} customers")
        if self.times is not None and self.n_baskets:
            extra.append(f"{pd.Timestamp(self.times.min()):%Y-%m-%d} .. "
                         f"{pd.Timestamp(self.times.max()):%Y-%m-%d}")
        tail = (", " + ", ".join(extra)) if extra else ""
        return (f"TransactionMatrix({self.n_baskets} baskets, {self.n_items} items, "
                f"{self.nnz} lines{tail})")

    @property
    def revenue(self) -> np.ndarray | None:
        """Per line quantity x unit price, or None without prices."""
        if self.price is None:
            return None
        q = self.quantity if self.quantity is not None else 1.0
        return q * self.price

    def code_of(self, items: Iterable) -> np.ndarray:
        """Codes of the given item labels; an unknown label raises
        :class:`~basketmine.InvalidParameterError` (also a ``KeyError``)."""
        if self._code_of is None:
            self._code_of = {lab: i for i, lab in enumerate(self.labels)}
        out = []
        for it in items:
            try:
                out.append(self._code_of[it])
            except KeyError:
                raise UnknownLabelError(f"item {it!r} is not in the vocabulary of this TransactionMatrix") from None
        return np.asarray(out, dtype=np.int32)

    def basket_lengths(self) -> np.ndarray:
        """Number of distinct items in each basket."""
        return np.diff(self.indptr)

    def item_frequencies(self, normalize: bool = False) -> pd.Series:
        """Baskets holding each item, most frequent first (ties by label)."""
        counts = np.bincount(self.indices, minlength=self.n_items)
        order = np.lexsort((np.arange(self.n_items), -counts))
        s = pd.Series(counts[order], index=pd.Index(self.labels[order], name="item"), name="count")
        if normalize:
            s = (s / max(self.n_baskets, 1)).rename("support")
        return s

    def to_baskets(self) -> list:
        """The baskets as lists of labels."""
        lab = self.labels
        ind = self.indices
        return [list(lab[ind[a:b]]) for a, b in zip(self.indptr[:-1], self.indptr[1:])]

    def to_frame(self) -> pd.DataFrame:
        """One row per line: basket, item and whatever per-line values exist."""
        rows = np.repeat(np.arange(self.n_baskets), self.basket_lengths())
        df = pd.DataFrame({"basket": self.basket_ids[rows], "item": self.labels[self.indices]})
        if self.customer_codes is not None:
            cc = self.customer_codes[rows]
            df["customer"] = np.where(cc >= 0, self.customer_labels[np.maximum(cc, 0)], None)
        if self.times is not None:
            df["time"] = self.times[rows]
        for name in ("quantity", "price", "cost"):
            v = getattr(self, name)
            if v is not None:
                df[name] = v
        return df

    def item_columns(self):
        """The matrix as CSC: (colptr, basket rows) — each item's baskets, ascending."""
        order = np.argsort(self.indices, kind="stable")
        rows = np.repeat(np.arange(self.n_baskets, dtype=np.int64), self.basket_lengths())[order]
        colptr = np.zeros(self.n_items + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.indices, minlength=self.n_items), out=colptr[1:])
        return colptr, rows, order

    # ------------------------------------------------------------ views
    def select(self, baskets) -> "TransactionMatrix":
        """A TransactionMatrix of some baskets (boolean mask or indices), same vocabulary."""
        idx = np.asarray(baskets)
        if idx.dtype == bool:
            if len(idx) != self.n_baskets:
                raise InvalidParameterError(
                    f"The 'baskets' parameter of TransactionMatrix.select must be a boolean mask of "
                    f"length {self.n_baskets} or basket indices. Got a mask of length {len(idx)} instead.")
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64)
        starts = self.indptr[idx].astype(np.int64)
        lens = (self.indptr[idx + 1] - self.indptr[idx]).astype(np.int64)
        new_ptr = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(lens, out=new_ptr[1:])
        lines = np.repeat(starts - new_ptr[:-1], lens) + np.arange(new_ptr[-1])

        def take(a):
            return None if a is None else a[lines]

        return TransactionMatrix(
            new_ptr, self.indices[lines], self.labels, basket_ids=self.basket_ids[idx],
            customer_codes=None if self.customer_codes is None else self.customer_codes[idx],
            customer_labels=self.customer_labels,
            times=None if self.times is None else self.times[idx],
            quantity=take(self.quantity), price=take(self.price), cost=take(self.cost),
            report=self.report,
        )

    def _need_times(self, owner: str) -> None:
        if self.times is None:
            raise InvalidParameterError(
                f"{owner} needs basket timestamps; build the TransactionMatrix with time=<column>.")

    def between(self, start=None, end=None) -> "TransactionMatrix":
        """Baskets with ``start <= time < end`` (either bound may be None)."""
        self._need_times("TransactionMatrix.between")
        mask = np.ones(self.n_baskets, dtype=bool)
        if start is not None:
            mask &= self.times >= _ns64(start)
        if end is not None:
            mask &= self.times < _ns64(end)
        return self.select(mask)

    def split(self, cutoff) -> tuple:
        """``(before, after)``: baskets before the cut-off date and from it on."""
        self._need_times("TransactionMatrix.split")
        cut = pd.Timestamp(cutoff)
        lo, hi = pd.Timestamp(self.times.min()), pd.Timestamp(self.times.max())
        if not (lo < cut <= hi):
            raise InvalidParameterError(
                f"The 'cutoff' parameter of TransactionMatrix.split must fall inside the log "
                f"({lo} .. {hi}, leaving baskets on both sides). Got {cutoff!r} instead.")
        return self.between(None, cut), self.between(cut, None)

    def _need_customers(self, owner: str) -> None:
        if self.customer_codes is None:
            raise InvalidParameterError(
                f"{owner} needs customers; build the TransactionMatrix with customer=<column>.")

    def for_customers(self, customers: Iterable) -> "TransactionMatrix":
        """Baskets of the given customers (labels)."""
        self._need_customers("TransactionMatrix.for_customers")
        lookup = {c: i for i, c in enumerate(self.customer_labels)}
        codes = [lookup[c] for c in customers if c in lookup]
        return self.select(np.isin(self.customer_codes, codes))

    def customer_sequences(self) -> CustomerSequences:
        """Each customer's baskets, oldest first (ties kept in input order).

        Baskets without a customer are left out of the sequences.
        """
        self._need_customers("TransactionMatrix.customer_sequences")
        cc = self.customer_codes
        has = np.flatnonzero(cc >= 0)
        keys = [has] if self.times is None else [has, self.times[has]]
        # lexsort: last key is primary -> customer, then time, then basket index
        order = np.lexsort(tuple(keys) + (cc[has],)) if self.times is not None else \
            np.lexsort((has, cc[has]))
        b = has[order]
        cust = cc[b]
        bounds = np.flatnonzero(np.diff(cust)) + 1
        indptr = np.concatenate([[0], bounds, [len(b)]]).astype(np.int64)
        custs = self.customer_labels[cust[indptr[:-1]]] if len(b) else np.array([], dtype=object)
        return CustomerSequences(custs, indptr, b.astype(np.int64), self)

    # ------------------------------------------------------------ hierarchy
    def _map_items(self, mapping: Mapping, owner: str):
        missing = [lab for lab in self.labels if lab not in mapping]
        if missing:
            raise InvalidParameterError(
                f"The 'hierarchy' parameter of {owner} must map every item to a category; "
                f"{len(missing)} items have none, e.g. {missing[:3]!r}.")
        return [mapping[lab] for lab in self.labels]

    def aggregate(self, hierarchy: Mapping) -> "TransactionMatrix":
        """Replace each item by its category (``hierarchy[item]``); lines
        falling on the same category in a basket are merged."""
        cats = self._map_items(hierarchy, "TransactionMatrix.aggregate")
        cat_labels, cat_codes = _sorted_vocabulary(sorted(set(cats), key=lambda x: (str(type(x)), x)),
                                                   "TransactionMatrix.aggregate", "hierarchy")
        lookup = {c: i for i, c in enumerate(cat_labels)}
        code_map = np.asarray([lookup[c] for c in cats], dtype=np.int32)
        return self._recode(code_map[self.indices], cat_labels)

    def with_ancestors(self, hierarchy: Mapping | pd.DataFrame, levels=None) -> "TransactionMatrix":
        """Add to each basket the categories of its items (multi-level mining).

        ``hierarchy`` maps item -> category, or is a DataFrame indexed by item
        with one column per level (``levels`` picks columns).  The result
        remembers which added item is an ancestor of which
        (:attr:`ancestors`), so rule generation can drop rules that relate an
        item to its own category.
        """
        if isinstance(hierarchy, pd.DataFrame):
            cols = list(hierarchy.columns) if levels is None else list(levels)
            maps = [hierarchy[c].to_dict() for c in cols]
        else:
            maps = [dict(hierarchy)]
        item_labels = list(self.labels)
        per_item = [[m.get(lab) for m in maps] for lab in item_labels]
        missing = [lab for lab, cats in zip(item_labels, per_item) if any(c is None for c in cats)]
        if missing:
            raise InvalidParameterError(
                f"The 'hierarchy' parameter of TransactionMatrix.with_ancestors must map every item "
                f"to a category; {len(missing)} items have none, e.g. {missing[:3]!r}.")
        cat_set = sorted({c for cats in per_item for c in cats} - set(item_labels), key=str)
        new_labels = item_labels + cat_set
        all_labels, perm = _sorted_vocabulary(new_labels, "TransactionMatrix.with_ancestors", "hierarchy")
        pos = {lab: i for i, lab in enumerate(new_labels)}
        extra_codes = [[perm[pos[c]] for c in cats] for cats in per_item]
        lens = self.basket_lengths()
        rows = np.repeat(np.arange(self.n_baskets), lens)
        n_levels = len(maps)
        extra = np.asarray(extra_codes, dtype=np.int32).reshape(len(item_labels), n_levels)
        add_codes = extra[self.indices].ravel()
        add_rows = np.repeat(rows, n_levels)
        all_rows = np.concatenate([rows, add_rows])
        all_codes = np.concatenate([perm[self.indices], add_codes])
        key = all_rows.astype(np.int64) * len(all_labels) + all_codes
        uniq = np.unique(key)
        r = uniq // len(all_labels)
        indptr = np.zeros(self.n_baskets + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=self.n_baskets), out=indptr[1:])
        out = TransactionMatrix(indptr, (uniq % len(all_labels)).astype(np.int32), all_labels,
                                basket_ids=self.basket_ids, customer_codes=self.customer_codes,
                                customer_labels=self.customer_labels, times=self.times,
                                report=self.report)
        anc = {}
        for k, codes in enumerate(extra_codes):
            anc[int(perm[k])] = {int(c) for c in codes if c != perm[k]}
        out.ancestors = {all_labels[k]: frozenset(all_labels[c] for c in v) for k, v in anc.items()}
        return out

    def _flag_common_items(self, share: float = 0.3, least: int = 20) -> "TransactionMatrix":
        """Note in the report each item held by at least ``share`` of the
        baskets (with ``least`` baskets or more): a placeholder (``NONE``),
        postage or a fee looks like that, and mining it as a product gives
        rules about it; :meth:`exclude` removes it."""
        if self.n_baskets >= least and self.nnz:
            count = np.bincount(self.indices, minlength=self.n_items)
            for i in np.flatnonzero(count >= share * self.n_baskets):
                self.report.add(f"item {self.labels[i]!r} is in {count[i] / self.n_baskets:.0%} of baskets: if it "
                                f"is not a product (a placeholder, postage, a fee), exclude it", count[i], "note")
        return self

    def exclude(self, items: Iterable = (), pattern: str | None = None) -> "TransactionMatrix":
        """The log without some items (postage, bank charges, placeholders
        such as ``NONE``): lines of the ``items`` labels, and of labels that
        fully match the regular expression ``pattern``, are dropped, and
        baskets left empty with them; both are counted in :attr:`report`.

        Examples
        --------
        >>> import basketmine as bm
        >>> tm = bm.TransactionMatrix.from_baskets([["tea", "POST"], ["POST"], ["milk", "DOT"]])
        >>> clean = tm.exclude(["POST"], pattern="DOT|BANK CHARGES")
        >>> clean.to_baskets()
        [['tea'], ['milk']]
        >>> for reason, rows, action in clean.report.entries:
        ...     print(action, rows, reason)
        dropped 3 excluded item (exclude: 'POST'; pattern 'DOT|BANK CHARGES')
        note 1 basket left empty by the exclusion
        """
        owner = "TransactionMatrix.exclude"
        if isinstance(items, (str, bytes)):
            items = [items]
        items = list(items)
        if pattern is not None and not isinstance(pattern, str):
            raise InvalidParameterError(
                f"The 'pattern' parameter of {owner} must be a regular expression (str) or None. "
                f"Got {type(pattern).__name__} instead.")
        try:
            rx = None if pattern is None else re.compile(pattern)
        except re.error as exc:
            raise InvalidParameterError(
                f"The 'pattern' parameter of {owner} must be a valid regular expression. Got {pattern!r} ({exc}).") from None
        lookup = {lab: i for i, lab in enumerate(self.labels)}
        unknown = [it for it in items if it not in lookup]
        if unknown:
            warnings.warn(f"{owner}: {len(unknown)} of the items to exclude are not in the log, e.g. "
                          f"{unknown[:3]!r}.", UserWarning, stacklevel=user_stacklevel())
        out = np.zeros(self.n_items, dtype=bool)
        out[[lookup[it] for it in items if it in lookup]] = True
        if rx is not None:
            out |= np.fromiter((rx.fullmatch(str(lab)) is not None for lab in self.labels), bool, self.n_items)
        gone = out[self.indices]
        rows = np.repeat(np.arange(self.n_baskets, dtype=np.int64), self.basket_lengths())
        left = np.bincount(rows[~gone], minlength=self.n_baskets)
        report = CleaningReport(self.report.rows_in, list(self.report.entries))
        what = "; ".join(([f"exclude: {', '.join(map(repr, items))}"] if items else [])
                         + ([f"pattern {pattern!r}"] if pattern is not None else []))
        report.add(f"excluded item ({what})", int(gone.sum()))
        report.add("basket left empty by the exclusion", int(((left == 0) & (self.basket_lengths() > 0)).sum()),
                   "note")
        keep_lines = ~gone
        indptr = np.zeros(self.n_baskets + 1, dtype=np.int64)
        np.cumsum(left, out=indptr[1:])

        def take(a):
            return None if a is None else a[keep_lines]

        kept = TransactionMatrix(
            indptr, self.indices[keep_lines], self.labels, basket_ids=self.basket_ids,
            customer_codes=self.customer_codes, customer_labels=self.customer_labels, times=self.times,
            quantity=take(self.quantity), price=take(self.price), cost=take(self.cost), report=report)
        return kept.select(left > 0)

    def _recode(self, codes, labels) -> "TransactionMatrix":
        """Rebuild with new per-line codes, merging repeats within a basket."""
        rows = np.repeat(np.arange(self.n_baskets, dtype=np.int64), self.basket_lengths())
        key = rows * max(len(labels), 1) + codes
        uniq, inv = np.unique(key, return_inverse=True)
        r = uniq // max(len(labels), 1)
        indptr = np.zeros(self.n_baskets + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=self.n_baskets), out=indptr[1:])
        q = self.quantity if self.quantity is not None else np.ones(self.nnz)
        qsum = np.bincount(inv, weights=q, minlength=len(uniq))

        def wmean(v):
            if v is None:
                return None
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.bincount(inv, weights=v * q, minlength=len(uniq)) / qsum

        return TransactionMatrix(
            indptr, (uniq % max(len(labels), 1)).astype(np.int32), labels,
            basket_ids=self.basket_ids, customer_codes=self.customer_codes,
            customer_labels=self.customer_labels, times=self.times,
            quantity=None if self.quantity is None else qsum,
            price=wmean(self.price), cost=wmean(self.cost), report=self.report)

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_baskets(cls, baskets) -> "TransactionMatrix":
        """Encode a list of baskets, each an iterable of hashable item labels.

        ``None`` and NaN items are dropped and counted; an item repeated in a
        basket is kept once and counted as merged.
        """
        owner = "TransactionMatrix.from_baskets"
        if isinstance(baskets, (str, bytes)) or not hasattr(baskets, "__iter__"):
            raise InvalidParameterError(
                f"The 'baskets' parameter of {owner} must be an iterable of baskets "
                f"(lists of items). Got {type(baskets).__name__} instead.")
        if not isinstance(baskets, list):
            baskets = list(baskets)
        try:
            labels, codes, indptr, n_missing = _encode.encode_baskets(baskets)
        except (_encode.UnhashableItemError, _encode.BadBasketError) as exc:
            raise InvalidParameterError(f"The 'baskets' parameter of {owner}: {exc}.") from None
        total = int(len(codes) + n_missing)
        sorted_labels, perm = _sorted_vocabulary(labels, owner, "baskets")
        codes = perm[codes] if len(codes) else codes.astype(np.int32)
        indptr, codes, n_rep = _encode.sort_dedupe(indptr, np.ascontiguousarray(codes, np.int32))
        report = CleaningReport(rows_in=total)
        report.add("missing item (None or NaN)", n_missing)
        report.add("item repeated in a basket", n_rep, "merged")
        return cls(indptr, codes, sorted_labels, report=report)._flag_common_items()

    @classmethod
    def from_sequences(cls, sequences, times=None, customers=None) -> "TransactionMatrix":
        """Encode customers' purchase histories: one sequence of baskets each.

        Parameters
        ----------
        sequences : list
            One entry per customer: a list of baskets, oldest first, each an
            iterable of items.
        times : list, optional
            One list per customer with one timestamp per basket (anything
            :func:`pandas.to_datetime` reads).  Times may repeat but must not
            decrease within a customer.
        customers : list, optional
            A distinct label per customer; 0, 1, ... by default.

        A customer without baskets cannot hold a pattern; such sequences are
        counted in the report.

        Examples
        --------
        >>> import basketmine as bm
        >>> tm = bm.TransactionMatrix.from_sequences(
        ...     [[["tv", "cable"], ["speakers"]], [["tv"]]], customers=["ann", "bob"])
        >>> tm
        TransactionMatrix(3 baskets, 3 items, 4 lines, 2 customers)
        """
        owner = "TransactionMatrix.from_sequences"
        if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__iter__"):
            raise InvalidParameterError(
                f"The 'sequences' parameter of {owner} must be a list of sequences (lists of "
                f"baskets). Got {type(sequences).__name__} instead.")
        sequences = list(sequences)
        flat, lengths, bad = _sequences.flatten(sequences)
        if bad >= 0:
            seq = sequences[bad]
            raise InvalidParameterError(
                f"The 'sequences' parameter of {owner} must hold one list of baskets per "
                f"customer; sequence {bad} is {type(seq).__name__}: {seq!r:.60}.")
        n = len(sequences)
        if customers is None:
            cust_labels = np.arange(n)
        else:
            cust_labels = np.asarray(list(customers), dtype=object)
            if len(cust_labels) != n:
                raise InvalidParameterError(
                    f"The 'customers' parameter of {owner} must give one label per sequence "
                    f"({n}). Got {len(cust_labels)} labels instead.")
            if len(pd.unique(cust_labels)) != n:
                raise InvalidParameterError(
                    f"The 'customers' parameter of {owner} must hold distinct labels; "
                    f"some repeat, e.g. {pd.Series(cust_labels)[pd.Series(cust_labels).duplicated()].iloc[0]!r}.")
        tm = cls.from_baskets(flat)
        ts = None
        if times is not None:
            times = list(times)
            tl = np.fromiter((len(t) for t in times), dtype=np.int64, count=len(times)) \
                if len(times) == n else None
            if tl is None or not np.array_equal(tl, lengths):
                raise InvalidParameterError(
                    f"The 'times' parameter of {owner} must hold one timestamp per basket, in "
                    f"lists shaped like 'sequences'.")
            try:
                ts = pd.to_datetime(pd.Series([t for tt in times for t in tt], dtype=object))
            except (ValueError, TypeError) as exc:
                raise InvalidParameterError(
                    f"The 'times' parameter of {owner} must hold dates or times ({exc}).") from None
            ts = ts.to_numpy(dtype="datetime64[ns]")
            if np.isnat(ts).any():
                raise InvalidParameterError(
                    f"The 'times' parameter of {owner} must not hold missing times.")
            seq_of = np.repeat(np.arange(n), lengths)
            back = np.flatnonzero((np.diff(ts.view(np.int64)) < 0) & (np.diff(seq_of) == 0))
            if len(back):
                k = int(seq_of[back[0]])
                raise InvalidParameterError(
                    f"The 'times' parameter of {owner} must not decrease within a sequence; "
                    f"sequence {k} ({cust_labels[k]!r}) goes from {ts[back[0]]} back to "
                    f"{ts[back[0] + 1]}. Sort each customer's baskets by time first.")
        tm.customer_codes = np.repeat(np.arange(n, dtype=np.int32), lengths)
        tm.customer_labels = np.asarray(cust_labels, dtype=object)
        tm.times = ts
        tm.report.add("customer with no baskets (empty sequence)", int((lengths == 0).sum()), "note")
        return tm

    #: The one item label of a log read with :meth:`from_purchases`.
    PURCHASE_ITEM = "(purchase)"

    @classmethod
    def from_purchases(cls, df: pd.DataFrame, customer, time, amount, quantity=None,
                       cost=None) -> "TransactionMatrix":
        """Encode a log of purchase occasions without item identities.

        Each row (customer, time, amount spent) becomes one basket holding
        the single item :attr:`PURCHASE_ITEM`, with ``price = amount /
        quantity`` (``amount`` when no quantity is given), so that revenue
        per basket equals ``amount``.  Logs like CDNOW's feed the customer-value
        models this way; cleaning is :meth:`from_frame`'s.

        Parameters
        ----------
        df : DataFrame
        customer, time, amount : column names
        quantity, cost : column names, optional
            Units bought and the total cost of the occasion.

        Examples
        --------
        >>> import pandas as pd, basketmine as bm
        >>> log = pd.DataFrame({"id": [1, 1, 2], "date": ["1997-01-01", "1997-02-03", "1997-01-05"],
        ...                     "dollars": [29.33, 14.96, 12.0]})
        >>> bm.TransactionMatrix.from_purchases(log, "id", "date", "dollars")
        TransactionMatrix(3 baskets, 1 items, 3 lines, 2 customers, 1997-01-01 .. 1997-02-03)
        """
        owner = "TransactionMatrix.from_purchases"
        if not isinstance(df, pd.DataFrame):
            raise InvalidParameterError(
                f"The 'df' parameter of {owner} must be a pandas DataFrame. Got {type(df).__name__} instead.")
        for name, col in (("customer", customer), ("time", time), ("amount", amount),
                          ("quantity", quantity), ("cost", cost)):
            if (col is not None or name in ("customer", "time", "amount")) and col not in df.columns:
                raise column_error(owner, name, col, df.columns)
        amt = pd.to_numeric(df[amount], errors="coerce").to_numpy(np.float64)
        lines = pd.DataFrame({"basket": np.arange(len(df)), "item": cls.PURCHASE_ITEM,
                              "customer": df[customer].to_numpy(), "time": df[time].to_numpy()})
        kw = {}
        if quantity is not None:
            q = pd.to_numeric(df[quantity], errors="coerce").to_numpy(np.float64)
            lines["quantity"] = q
            kw["quantity"] = "quantity"
            with np.errstate(invalid="ignore", divide="ignore"):
                lines["price"] = amt / q
                if cost is not None:
                    lines["cost"] = pd.to_numeric(df[cost], errors="coerce").to_numpy(np.float64) / q
        else:
            lines["price"] = amt
            if cost is not None:
                lines["cost"] = pd.to_numeric(df[cost], errors="coerce").to_numpy(np.float64)
        if cost is not None:
            kw["cost"] = "cost"
        return cls.from_frame(lines, "basket", "item", customer="customer", time="time",
                              price="price", **kw)

    @classmethod
    def from_onehot(cls, df: pd.DataFrame) -> "TransactionMatrix":
        """Encode an mlxtend-style one-hot frame (bool, 0/1 or sparse columns);
        columns are items, rows baskets."""
        owner = "TransactionMatrix.from_onehot"
        if not isinstance(df, pd.DataFrame):
            raise InvalidParameterError(
                f"The 'df' parameter of {owner} must be a pandas DataFrame. Got {type(df).__name__} instead.")
        dup = df.columns[df.columns.duplicated()]
        if len(dup):
            raise InvalidParameterError(
                f"The 'df' parameter of {owner} must have one column per item; {list(dict.fromkeys(dup))[:5]!r} "
                f"appear more than once. Merge them first (e.g. df.T.groupby(level=0).max().T).")
        rows_l, cols_l = [], []
        n_missing = 0
        for j, col in enumerate(df.columns):
            s = df.iloc[:, j]
            if isinstance(s.dtype, pd.SparseDtype):
                arr = s.sparse.to_dense().to_numpy()
            else:
                arr = s.to_numpy(dtype=object) if s.hasnans else s.to_numpy()
            if arr.dtype != bool:
                na = pd.isna(arr)
                n_missing += int(na.sum())
                arr = np.where(na, 0, arr)
                ok = np.isin(arr, [0, 1])
                if not ok.all():
                    raise InvalidParameterError(
                        f"The 'df' parameter of {owner} must hold only True/False or 0/1; "
                        f"column {col!r} holds {arr[~ok][0]!r}.")
                arr = arr.astype(float) != 0
            r = np.flatnonzero(arr)
            rows_l.append(r)
            cols_l.append(np.full(len(r), j, dtype=np.int64))
        rows = np.concatenate(rows_l) if rows_l else np.array([], dtype=np.int64)
        cols = np.concatenate(cols_l) if cols_l else np.array([], dtype=np.int64)
        labels, perm = _sorted_vocabulary(list(df.columns), owner, "df")
        codes = perm[cols] if len(cols) else cols.astype(np.int32)
        order = np.lexsort((codes, rows))
        indptr = np.zeros(len(df) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(df)), out=indptr[1:])
        report = CleaningReport(rows_in=int(len(rows)))
        report.add("missing (NA) cell read as the item being absent", n_missing, "note")
        return cls(indptr, codes[order], labels, basket_ids=df.index.to_numpy(), report=report)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, basket, item, customer=None, time=None,
                   quantity=None, price=None, cost=None, *, cancellations="auto",
                   date_format=None) -> "TransactionMatrix":
        """Encode a long frame of invoice lines (one row per basket x item).

        Parameters
        ----------
        df : DataFrame
        basket, item : column names
            Basket (invoice) id and item label.  Rows missing either are
            dropped and counted.
        customer, time, quantity, price, cost : column names, optional
            A basket's customer is that of its first row and its time the
            earliest of its rows (conflicts are counted as notes); per-line values are summed
            (quantity) or quantity-weighted (price, cost) when an item repeats
            in a basket.
        time : column name, or a pair of them
            The basket's date and time, or ``[date_column, time_column]``
            for logs that keep them apart.  A column of times of day alone
            is an error (it would be read as today's date).
        date_format : str, optional
            The dates' format for :func:`pandas.to_datetime` (``"%d/%m/%Y
            %H:%M"``): say it when the log's dates are day-first or mixed.
        cancellations : {"auto", "net", "drop", "keep"}
            What to do with rows of negative quantity (returns and
            cancellations).  ``"net"`` sets each against the same customer's
            earlier purchases of the item, latest first, so that a cancelled
            order is not counted as bought (needs ``customer``, ``time`` and
            ``quantity``); returns with nothing to net against are dropped
            and counted.  ``"drop"`` drops them and keeps the purchases;
            ``"keep"`` keeps them as lines.  ``"auto"`` (the default) nets
            when the customer, time and quantity columns are given and drops
            otherwise.  Zero quantities are always dropped.
        """
        owner = "TransactionMatrix.from_frame"
        if not isinstance(df, pd.DataFrame):
            raise InvalidParameterError(
                f"The 'df' parameter of {owner} must be a pandas DataFrame. Got {type(df).__name__} instead.")
        check(owner, "cancellations", cancellations, _CANCEL)
        auto = cancellations == "auto"
        if auto:
            cancellations = "drop" if customer is None or time is None or quantity is None else "net"
        cols = {"basket": basket, "item": item, "customer": customer, "time": time,
                "quantity": quantity, "price": price, "cost": cost}
        time_cols = _time_columns(owner, time)
        for name, col in cols.items():
            for c in (time_cols if name == "time" else [col]):
                if c is not None and c not in df.columns:
                    raise column_error(owner, name, c, df.columns)
        for name, col in (("basket", basket), ("item", item), ("customer", customer)):
            if col is not None and df[col].dtype == object and \
                    pd.api.types.infer_dtype(df[col], skipna=True) in ("mixed", "mixed-integer"):
                bad = df[col].map(lambda x: not isinstance(x, Hashable) or isinstance(x, tuple)).to_numpy()
                if bad.any():
                    raise InvalidParameterError(
                        f"The {name!r} parameter of {owner} names column {col!r}, whose values must be single "
                        f"labels (text or numbers); row {int(np.argmax(bad))} holds "
                        f"{df[col].iloc[int(np.argmax(bad))]!r}. Explode or join such values first.")
            if col is None and name in ("basket", "item"):
                raise column_error(owner, name, col, df.columns)
        if cancellations == "net" and (customer is None or time is None or quantity is None):
            raise InvalidParameterError(
                f"The 'cancellations' parameter of {owner} may be 'net' only with the customer, "
                f"time and quantity columns given. Got customer={customer!r}, time={time!r}, "
                f"quantity={quantity!r}.")
        report = CleaningReport(rows_in=len(df))
        keep = np.ones(len(df), dtype=bool)

        def drop(mask, reason):
            mask = np.asarray(mask, dtype=bool) & keep
            report.add(reason, int(mask.sum()))
            keep[mask] = False

        drop(df[basket].isna().to_numpy(), f"missing basket id ({basket!r})")
        drop(df[item].isna().to_numpy(), f"missing item ({item!r})")
        if customer is not None:
            nc = df[customer].isna().to_numpy() & keep
            report.add(f"missing customer ({customer!r}); basket kept without customer",
                       int(nc.sum()), "note")
        t = None
        if time is not None:
            t = _parse_times(df, time_cols, owner, date_format)
            drop(np.isnat(t), f"missing or unreadable time ({time!r})")
        q = None
        if quantity is not None:
            q = pd.to_numeric(df[quantity], errors="coerce").to_numpy(dtype=np.float64)
            drop(np.isnan(q), f"missing or non-numeric quantity ({quantity!r})")
            drop(np.isinf(q), f"infinite quantity ({quantity!r})")
            drop(q == 0, "zero quantity")
            if cancellations == "drop":
                drop(q < 0, "negative quantity (return or cancellation)"
                     + ("; netting it needs the customer and time columns" if auto else ""))
        pr = None if price is None else pd.to_numeric(df[price], errors="coerce").to_numpy(np.float64)
        co = None if cost is None else pd.to_numeric(df[cost], errors="coerce").to_numpy(np.float64)
        def finite(name, col, v):  # an infinite price would make every total infinite: read it as missing
            if v is None:
                return None
            report.add(f"infinite {name} ({col!r}); line kept with NaN {name}", int((np.isinf(v) & keep).sum()),
                       "note")
            return np.where(np.isinf(v), np.nan, v)

        pr, co = finite("price", price, pr), finite("cost", cost, co)
        if pr is not None:
            report.add(f"missing or non-numeric price ({price!r}); line kept with NaN price",
                       int((np.isnan(pr) & keep).sum()), "note")

        if cancellations == "net":
            cust_codes = pd.factorize(df[customer].to_numpy())[0]
            item_codes = pd.factorize(df[item].to_numpy())[0]
            q, returned, unmatched, no_customer, pairs = net_returns(cust_codes, item_codes, t, q, keep)
            report._netted = (t[pairs[:, 0]], t[pairs[:, 1]])
            keep &= ~returned
            gone = keep & (q <= 0)
            _report_netting(report, int(returned.sum()), int(unmatched.sum()), int(no_customer.sum()),
                            int(gone.sum()))
            keep &= ~gone

        rows = np.flatnonzero(keep)
        if len(rows) == 0:
            raise InvalidParameterError(
                f"The 'df' parameter of {owner} must hold at least one usable row; "
                + (f"all {len(df)} rows were dropped ("
                   + "; ".join(f"{reason}: {n}" for reason, n, a in report.entries if a == "dropped") + ")."
                   if len(df) else "it has none."))
        item_vals = df[item].to_numpy()[rows]
        try:
            item_codes_raw, item_uniques = pd.factorize(item_vals, sort=False)
        except TypeError as exc:
            raise InvalidParameterError(
                f"The 'item' parameter of {owner} must name a column of hashable labels; "
                f"column {item!r} holds unhashable values ({exc}).") from None
        labels, perm = _sorted_vocabulary(list(item_uniques), owner, "item")
        item_codes = perm[item_codes_raw]
        bvals = df[basket].to_numpy()[rows]
        bcodes, buniq = pd.factorize(bvals, sort=False)
        n_b = len(buniq)
        # basket order: by time (the earliest of each basket's rows), then first appearance
        first = np.full(n_b, len(rows), dtype=np.int64)
        np.minimum.at(first, bcodes, np.arange(len(rows)))
        if t is not None:
            tb = t[rows]
            bt_min = np.full(n_b, np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(bt_min, bcodes, tb.view(np.int64))
            bt_max = np.full(n_b, np.iinfo(np.int64).min, dtype=np.int64)
            np.maximum.at(bt_max, bcodes, tb.view(np.int64))
            report.add("basket whose rows carry different times; earliest used",
                       int((bt_min != bt_max).sum()), "note")
            border = np.lexsort((first, bt_min))
        else:
            border = np.argsort(first, kind="stable")
        bpos = np.empty(n_b, dtype=np.int64)
        bpos[border] = np.arange(n_b)
        brow = bpos[bcodes]
        nI = max(len(labels), 1)
        key = brow * nI + item_codes
        uniq, inv = np.unique(key, return_inverse=True)
        report.add("item repeated in a basket", len(key) - len(uniq), "merged")
        indptr = np.zeros(n_b + 1, dtype=np.int64)
        np.cumsum(np.bincount(uniq // nI, minlength=n_b), out=indptr[1:])
        codes = (uniq % nI).astype(np.int32)

        qq = q[rows] if q is not None else None
        qsum = None
        if qq is not None:
            qsum = np.bincount(inv, weights=qq, minlength=len(uniq))
        w = qq if qq is not None else np.ones(len(rows))
        wsum = np.bincount(inv, weights=w, minlength=len(uniq))

        def wmean(v):
            if v is None:
                return None
            v = v[rows]
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.bincount(inv, weights=v * w, minlength=len(uniq)) / wsum

        cust_codes = cust_labels = None
        if customer is not None:
            cvals = df[customer].to_numpy()[rows][first[border]]
            ccodes, cuniq = pd.factorize(cvals, sort=True)
            cust_codes = ccodes.astype(np.int32)
            cust_labels = np.asarray(cuniq, dtype=object)
            cv_all = pd.factorize(df[customer].to_numpy()[rows])[0]
            cmin = np.full(n_b, np.iinfo(np.int64).max)
            np.minimum.at(cmin, brow, cv_all)
            cmax = np.full(n_b, -2, dtype=np.int64)
            np.maximum.at(cmax, brow, cv_all)
            cconf = cmin != cmax
            report.add("basket whose rows name different customers; first used",
                       int(cconf.sum()), "note")
        times = None
        if t is not None:
            times = bt_min[border].view("datetime64[ns]")
        return cls(indptr, codes, labels, basket_ids=np.asarray(buniq)[border],
                   customer_codes=cust_codes, customer_labels=cust_labels, times=times,
                   quantity=qsum, price=wmean(pr), cost=wmean(co), report=report)._flag_common_items()
