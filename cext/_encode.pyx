# Encoding kernels for the TransactionMatrix builder: turn Python baskets
# into codes, and put each CSR row in ascending order without repeats.

from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport qsort

import numpy as np
cimport numpy as cnp

include "_kernel.pxi"

cnp.import_array()


class UnhashableItemError(TypeError):
    """An item cannot be a dictionary key (e.g. a list)."""


class BadBasketError(TypeError):
    """A basket is not an iterable of items (e.g. a str or a number)."""


cdef object _encode_small_ints(list baskets):
    """encode_baskets for the common FIMI case -- lists of ints in
    [0, 2**24) -- by a lookup table instead of a dict; None as soon as a
    basket is not a list or an item is anything else."""
    cdef Py_ssize_t n = len(baskets), b, k = 0, total = 0, j, m
    cdef object basket, item
    cdef list lst
    cdef long v
    cdef int32_t code
    cdef int64_t size = 1024
    for b in range(n):
        basket = baskets[b]
        if type(basket) is not list:
            return None
        total += len(<list>basket)
    table_arr = np.full(size, -1, dtype=np.int32)
    cdef int32_t[::1] table = table_arr
    codes_arr = np.empty(max(total, 1), dtype=np.int32)
    indptr_arr = np.empty(n + 1, dtype=np.int64)
    cdef int32_t[::1] codes = codes_arr
    cdef int64_t[::1] indptr = indptr_arr
    cdef list labels = []
    indptr[0] = 0
    for b in range(n):
        lst = <list>baskets[b]
        m = len(lst)
        for j in range(m):
            item = lst[j]
            if type(item) is not int:
                return None
            v = item
            if v < 0 or v >= 16777216:
                return None
            if v >= size:
                while size <= v:
                    size *= 2
                grown = np.full(size, -1, dtype=np.int32)
                grown[:table.shape[0]] = table_arr
                table_arr = grown
                table = table_arr
            code = table[v]
            if code < 0:
                code = <int32_t>len(labels)
                table[v] = code
                labels.append(item)
            codes[k] = code
            k += 1
        indptr[b + 1] = k
    return labels, codes_arr[:k], indptr_arr, 0


def encode_baskets(list baskets):
    """Give every distinct item a code in order of first appearance.

    ``baskets`` is a list of iterables of items.  Items that are None or
    float NaN are missing: skipped and counted.

    Returns (labels, codes, indptr, n_missing).
    """
    fast = _encode_small_ints(baskets)
    if fast is not None:
        return fast
    cdef dict vocab = {}
    cdef list labels = []
    cdef list lst
    cdef Py_ssize_t n = len(baskets), b, k = 0, n_missing = 0, cap
    cdef object basket, item, code, it
    cap = max(16, 8 * n)
    codes_arr = np.empty(cap, dtype=np.int32)
    indptr_arr = np.empty(n + 1, dtype=np.int64)
    cdef int32_t[::1] codes = codes_arr
    cdef int64_t[::1] indptr = indptr_arr
    indptr[0] = 0
    for b in range(n):
        basket = baskets[b]
        if type(basket) is list or type(basket) is tuple:
            it = basket
        elif isinstance(basket, (str, bytes)):
            raise BadBasketError(f"baskets[{b}] is {basket!r}; a basket must be a list of items "
                                 f"(wrap a single item in a list)")
        else:
            try:
                it = list(basket)
            except TypeError:
                raise BadBasketError(f"baskets[{b}] is {basket!r}; a basket must be an iterable "
                                     f"of items") from None
        if k + len(it) > cap:
            cap = max(2 * cap, k + len(it))
            grown = np.empty(cap, dtype=np.int32)
            grown[:k] = codes_arr[:k]
            codes_arr = grown
            codes = codes_arr
        if type(it) is list:
            lst = <list>it
        else:
            lst = list(it)
        for item in lst:
            if item is None or (type(item) is float and item != item):
                n_missing += 1
                continue
            try:
                code = vocab.get(item)
            except TypeError as exc:
                raise UnhashableItemError(
                    f"baskets[{b}] holds an item of type {type(item).__name__}, "
                    f"which cannot be an item label (labels must be hashable, "
                    f"e.g. str or int)"
                ) from exc
            if code is None:
                code = len(labels)
                vocab[item] = code
                labels.append(item)
            codes[k] = <int32_t>code
            k += 1
        indptr[b + 1] = k
    return labels, codes_arr[:k], indptr_arr, n_missing


cdef int _cmp_int32(const void* a, const void* b) noexcept nogil:
    cdef int32_t x = (<const int32_t*>a)[0]
    cdef int32_t y = (<const int32_t*>b)[0]
    return (x > y) - (x < y)


def sort_dedupe(const int64_t[::1] indptr,     # IN  row pointers
                int32_t[::1] codes):           # IN/OUT codes, sorted in place
    """Sort each row ascending and drop repeated codes within a row.

    Returns (new_indptr, new_codes, n_repeats); ``codes`` is reordered.
    """
    cdef Py_ssize_t n = indptr.shape[0] - 1, r, p, w = 0, start, end
    cdef int32_t x, v = 0
    cdef int64_t n_rep = 0
    out_ptr = np.empty(n + 1, dtype=np.int64)
    cdef int64_t[::1] optr = out_ptr
    optr[0] = 0
    with nogil:
        for r in range(n):
            start = indptr[r]
            end = indptr[r + 1]
            if end - start <= 16:
                _sort_small(&codes[start], end - start)
            else:
                qsort(&codes[start], end - start, sizeof(int32_t), _cmp_int32)
            for p in range(start, end):
                x = codes[p]
                if p > start and x == v:
                    n_rep += 1
                    continue
                codes[w] = x
                v = x
                w += 1
            optr[r + 1] = w
    return out_ptr, np.asarray(codes)[:w].copy(), n_rep
