"""A pandas column of itemsets kept as flat item codes.

Mining can return millions of itemsets; a Python frozenset per itemset costs
several hundred bytes and most are never looked at.  :class:`ItemsetArray`
stores the itemsets as one int32 array of item codes, one int64 array of
offsets and the item labels, and gives out a ``frozenset`` of labels for
each element on access -- so ``df["itemsets"]`` behaves like mlxtend's column
of frozensets (``df.itemsets.iloc[0]``, iteration, ``==``, ``map(len)``,
``tolist()``, ``to_csv``) at a fraction of the memory.
"""
from __future__ import annotations

import gc

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray, ExtensionDtype, register_extension_dtype

from . import _itemsets, _sequences

__all__ = ["ItemsetArray", "ItemsetDtype", "SequenceArray", "SequenceDtype"]


@register_extension_dtype
class ItemsetDtype(ExtensionDtype):
    """The dtype of an :class:`ItemsetArray`: elements are frozensets.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.TransactionMatrix.from_baskets([["bread", "milk"], ["bread"]])
    >>> df = bm.frequent_itemsets(tm, 0.5)
    >>> df["itemsets"].dtype, isinstance(df["itemsets"].dtype, bm.ItemsetDtype)
    (ItemsetDtype(), True)
    """

    name = "itemset"
    type = frozenset
    kind = "O"
    na_value = None

    @classmethod
    def construct_array_type(cls):
        return ItemsetArray

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def take_runs(offsets: np.ndarray, keep) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pick runs of a flat collection (run ``i`` is lines ``offsets[i]`` to
    ``offsets[i + 1]``): ``keep`` is a boolean mask or run positions in the
    wanted order.  Returns the kept lines' positions, the new offsets and
    the kept runs' positions."""
    keep = np.asarray(keep)
    idx = np.flatnonzero(keep) if keep.dtype == bool else keep.astype(np.int64, copy=False)
    starts = offsets[idx]
    lens = offsets[idx + 1] - starts
    new_off = np.zeros(len(idx) + 1, dtype=np.int64)
    np.cumsum(lens, out=new_off[1:])
    lines = np.repeat(starts - new_off[:-1], lens) + np.arange(new_off[-1], dtype=np.int64)
    return lines, new_off, idx


def _materialise(build, *args) -> np.ndarray:
    """``build(*args)`` with the garbage collector paused."""
    was_enabled = gc.isenabled()
    gc.disable()  # millions of new containers would trigger needless collections
    try:
        return build(*args)
    finally:
        if was_enabled:
            gc.enable()


class ItemsetArray(ExtensionArray):
    """Itemsets as flat codes: element ``i`` is the frozenset of
    ``labels[items[offsets[i]:offsets[i + 1]]]``.

    Examples
    --------
    >>> import pandas as pd
    >>> import basketmine as bm
    >>> arr = bm.ItemsetArray.from_sets([{"bread", "milk"}, {"beer"}])
    >>> [sorted(s) for s in arr], arr.lengths().tolist()
    ([['bread', 'milk'], ['beer']], [2, 1])
    >>> pd.Series(arr).dtype
    ItemsetDtype()
    """

    def __init__(self, items, offsets, labels):
        self._items = np.ascontiguousarray(items, dtype=np.int32)
        self._offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        self._labels = np.asarray(labels, dtype=object)
        self._dtype = ItemsetDtype()

    # ---------------------------------------------------------- construction
    @classmethod
    def from_sets(cls, sets) -> "ItemsetArray":
        """Encode an iterable of item collections."""
        sets = [frozenset(s) for s in sets]
        vocab = sorted(set().union(*sets), key=lambda x: (type(x).__name__, x)) if sets else []
        code = {lab: i for i, lab in enumerate(vocab)}
        lens = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
        offsets = np.zeros(len(sets) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        items = np.fromiter((code[x] for s in sets for x in s), dtype=np.int32, count=int(offsets[-1]))
        labels = np.empty(len(vocab), dtype=object)
        labels[:] = vocab
        return cls(items, offsets, labels)

    @classmethod
    def _from_sequence(cls, scalars, *, dtype=None, copy=False):
        if isinstance(scalars, cls):
            return scalars.copy() if copy else scalars
        return cls.from_sets(scalars)

    @classmethod
    def _from_factorized(cls, values, original):
        return cls.from_sets(values)

    # ---------------------------------------------------------- the contract
    @property
    def dtype(self) -> ItemsetDtype:
        return self._dtype

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @property
    def nbytes(self) -> int:
        return self._items.nbytes + self._offsets.nbytes

    def lengths(self) -> np.ndarray:
        """Number of items of each itemset."""
        return np.diff(self._offsets)

    def _one(self, i: int) -> frozenset:
        a, b = self._offsets[i], self._offsets[i + 1]
        return frozenset(self._labels[self._items[a:b]].tolist())

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            n = len(self)
            i = int(key)
            if i < 0:
                i += n
            if not 0 <= i < n:
                raise IndexError(f"index {key} is out of bounds for {n} itemsets")
            return self._one(i)
        if isinstance(key, slice):
            return self._take_positions(np.arange(len(self), dtype=np.int64)[key])
        key = pd.api.indexers.check_array_indexer(self, key)
        if key.dtype == bool:
            idx = np.flatnonzero(key)
        else:
            idx = key
        return self._take_positions(np.asarray(idx, dtype=np.int64))

    def _take_positions(self, idx: np.ndarray) -> "ItemsetArray":
        lines, offsets, _ = take_runs(self._offsets, idx)
        return self._rebuild(lines, offsets)

    def _rebuild(self, lines, offsets):
        """The array made of these flat positions, with these offsets."""
        return type(self)(self._items[lines], offsets, self._labels)

    def __iter__(self):
        step = 65536
        for start in range(0, len(self), step):
            yield from self[start:start + step].to_numpy()

    def to_numpy(self, dtype=None, copy=False, na_value=None):
        """The elements as an object array of frozensets (built on each call)."""
        out = _materialise(_itemsets.frozensets, self._items, self._offsets, self._labels)
        return out if dtype in (None, object) else out.astype(dtype)

    def __array__(self, dtype=None, copy=None):
        return self.to_numpy(dtype=dtype)

    def isna(self) -> np.ndarray:
        return np.zeros(len(self), dtype=bool)

    def take(self, indices, allow_fill=False, fill_value=None):
        idx = np.asarray(indices, dtype=np.int64)
        if allow_fill:
            if (idx < -1).any():
                raise ValueError("take: indices must be >= -1 when allow_fill is True")
            if (idx == -1).any():
                raise ValueError("an ItemsetArray cannot hold missing values")
        else:
            idx = np.where(idx < 0, idx + len(self), idx)
        if len(idx) and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError("take: index out of bounds")
        return self._take_positions(idx)

    def copy(self) -> "ItemsetArray":
        return self._rebuild(np.arange(len(self._items)), self._offsets.copy())

    @classmethod
    def _concat_same_type(cls, to_concat):
        arrays = list(to_concat)
        if all(a._labels is arrays[0]._labels for a in arrays):
            lens = np.concatenate([np.diff(a._offsets) for a in arrays])
            offsets = np.zeros(len(lens) + 1, dtype=np.int64)
            np.cumsum(lens, out=offsets[1:])
            return cls._from_lines(arrays, offsets)
        return cls._from_sequence([s for a in arrays for s in a])

    @classmethod
    def _from_lines(cls, arrays, offsets):
        return cls(np.concatenate([a._items for a in arrays]), offsets, arrays[0]._labels)

    @staticmethod
    def _coerce(value):
        """A scalar comparable with the elements, or None."""
        return frozenset(value) if isinstance(value, (set, frozenset)) else None

    @staticmethod
    def _size(value) -> int:
        return len(value)

    def _values_for_factorize(self):
        return self.to_numpy(), None

    def __eq__(self, other):
        if isinstance(other, (pd.Series, pd.Index, pd.DataFrame)):
            return NotImplemented
        target = self._coerce(other)
        if target is not None:
            lens = self.lengths()
            out = np.zeros(len(self), dtype=bool)
            for i in np.flatnonzero(lens == self._size(target)):
                out[i] = self._one(int(i)) == target
            return out
        other = list(other)
        if len(other) != len(self):
            raise ValueError(f"cannot compare {len(self)} itemsets with {len(other)} values")
        return np.array([a == b for a, b in zip(self, other)], dtype=bool)

    def __contains__(self, item) -> bool:
        return self._coerce(item) is not None and bool(self.__eq__(item).any())

    def _formatter(self, boxed: bool = False):
        return _format_set


def _format_set(s) -> str:
    try:
        inner = ", ".join(map(str, sorted(s)))
    except TypeError:
        inner = ", ".join(sorted(map(str, s)))
    return "{" + inner + "}"


@register_extension_dtype
class SequenceDtype(ExtensionDtype):
    """The dtype of a :class:`SequenceArray`: elements are tuples of frozensets.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.TransactionMatrix.from_sequences([[["tv"], ["soundbar"]], [["tv"], ["soundbar"]]])
    >>> df = bm.sequential_patterns(tm, 1.0)
    >>> df["sequence"].dtype, [[sorted(e) for e in s] for s in df["sequence"]]
    (SequenceDtype(), [[['soundbar']], [['tv']], [['tv'], ['soundbar']]])
    """

    name = "sequence"
    type = tuple
    kind = "O"
    na_value = None

    @classmethod
    def construct_array_type(cls):
        return SequenceArray

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SequenceArray(ItemsetArray):
    """Sequential patterns as flat codes: element ``i`` is a tuple of
    frozensets of labels, made of ``labels[items[offsets[i]:offsets[i + 1]]]``
    cut where ``starts`` is 1 (an item opening a new element).

    Examples
    --------
    >>> import basketmine as bm
    >>> arr = bm.SequenceArray.from_sequences([[{"tv"}, {"soundbar", "cable"}], [{"tv"}]])
    >>> [[sorted(e) for e in s] for s in arr]
    [[['tv'], ['cable', 'soundbar']], [['tv']]]
    """

    def __init__(self, items, starts, offsets, labels):
        super().__init__(items, offsets, labels)
        self._starts = np.ascontiguousarray(starts, dtype=np.uint8)
        self._dtype = SequenceDtype()

    @classmethod
    def from_sequences(cls, sequences) -> "SequenceArray":
        """Encode an iterable of patterns, each a sequence of item collections."""
        seqs = [tuple(frozenset(e) for e in s) for s in sequences]
        flat = [sorted(e, key=lambda x: (type(x).__name__, x)) for s in seqs for e in s]
        sets = ItemsetArray.from_sets(frozenset(e) for e in flat)
        lens = np.fromiter((sum(map(len, s)) for s in seqs), dtype=np.int64, count=len(seqs))
        offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        starts = np.zeros(len(sets._items), dtype=np.uint8)
        starts[sets._offsets[:-1][np.diff(sets._offsets) > 0]] = 1
        return cls(sets._items, starts, offsets, sets._labels)

    @classmethod
    def _from_sequence(cls, scalars, *, dtype=None, copy=False):
        if isinstance(scalars, cls):
            return scalars.copy() if copy else scalars
        return cls.from_sequences(scalars)

    @classmethod
    def _from_factorized(cls, values, original):
        return cls.from_sequences(values)

    @property
    def nbytes(self) -> int:
        return super().nbytes + self._starts.nbytes

    def _one(self, i: int) -> tuple:
        return _sequences.tuples(self._items, self._starts, self._offsets[i:i + 2], self._labels)[0]

    def to_numpy(self, dtype=None, copy=False, na_value=None):
        """The elements as an object array of tuples of frozensets (built on each call)."""
        out = _materialise(_sequences.tuples, self._items, self._starts, self._offsets, self._labels)
        return out if dtype in (None, object) else out.astype(dtype)

    def _rebuild(self, lines, offsets):
        return type(self)(self._items[lines], self._starts[lines], offsets, self._labels)

    @classmethod
    def _from_lines(cls, arrays, offsets):
        return cls(np.concatenate([a._items for a in arrays]),
                   np.concatenate([a._starts for a in arrays]), offsets, arrays[0]._labels)

    @staticmethod
    def _coerce(value):
        if isinstance(value, (tuple, list)) and all(isinstance(e, (set, frozenset)) for e in value):
            return tuple(frozenset(e) for e in value)
        return None

    @staticmethod
    def _size(value) -> int:
        return sum(map(len, value))

    def _formatter(self, boxed: bool = False):
        return lambda s: "<" + " ".join(map(_format_set, s)) + ">"

