# Frequent itemset kernels.
#
# Two depth-first miners share one output buffer, one cap/clock check and one
# emit routine; they differ only in how a conditional database is held:
#
# * "occurrence" (sparse data): LCM-style occurrence delivery.  A node keeps
#   the positions, in the rank-recoded transactions, of its last item; the
#   items after that position are the node's conditional transaction.  One
#   scan counts every extension, a second scan delivers the occurrences of
#   the frequent ones.  Work is proportional to the conditional database,
#   never to the number of candidate pairs.
# * "bitset" (dense data): Eclat on bit-vectors; a child is the AND of two
#   siblings and its support a popcount.
#
# Items are recoded to ranks 0..m-1 by ascending support (ties by code) before
# mining; an itemset is emitted as its ranks in ascending order, so every
# itemset has one canonical form and the enumeration order is fixed.
#
# Inputs are typed memoryviews (IN), outputs are numpy arrays (OUT).  The
# Python wrapper (basketmine/itemsets.py) validates and converts everything.

from libc.stdlib cimport malloc, realloc, free, calloc, qsort
from libc.string cimport memset, memcpy
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t, uint8_t
from cpython.object cimport PyObject

import numpy as np
cimport numpy as cnp

include "_kernel.pxi"

cnp.import_array()

cdef extern from "Python.h":
    object PyFrozenSet_New(PyObject* iterable)
    int PySet_Add(object s, object key) except -1

cdef extern from *:
    """
    static inline int bm_popcount64(unsigned long long x) { return __builtin_popcountll(x); }
    """
    int bm_popcount64(unsigned long long x) noexcept nogil

# Why a run stopped early (0: it did not).
STOP_REASONS = {
    0: None,
    1: "max_itemsets",
    2: "time_limit",
    3: "interrupted",
    4: "out_of_memory",
}

cdef enum:
    STOP_NONE = 0
    STOP_MAX_ITEMSETS = 1
    STOP_TIME = 2
    STOP_INTERRUPT = 3
    STOP_NOMEM = 4

cdef struct Ctx:
    # output (ranks of each itemset, its count)
    int32_t* out_items
    int64_t out_items_len
    int64_t out_items_cap
    int64_t* out_offsets      # n_sets + 1 entries used
    int64_t* out_counts
    int64_t n_sets
    int64_t sets_cap
    int64_t max_sets
    # search state
    int32_t* prefix
    const int32_t* rank_to_code
    const uint8_t* root_rank  # per rank: 1 when itemsets may start (least supported item) there
    int64_t min_count
    int min_len
    int max_len
    int stop
    int64_t ticks
    double deadline           # monotonic seconds; <= 0: none
    int64_t* status           # [0] itemsets so far, [1] stop request, [2] nodes
    # occurrence miner scratch
    int32_t* arena
    int64_t arena_len
    int64_t arena_cap
    int32_t* cnt              # per rank, zero between uses
    int64_t* cursor           # per rank, delivery cursor
    int32_t* touched_buf      # m entries per depth, indexed by depth
    int m


cdef inline int _tick(Ctx* c) noexcept nogil:
    """Count a search node; every 1024 nodes look at the clock and the
    shared status block.  Returns the stop code."""
    c.ticks += 1
    if (c.ticks & 1023) == 0:
        if c.status != NULL:
            c.status[0] = c.n_sets
            c.status[2] = c.ticks
            if c.status[1] != 0:
                c.stop = STOP_INTERRUPT
        if c.deadline > 0 and _now() > c.deadline:
            c.stop = STOP_TIME
    return c.stop


cdef int _emit(Ctx* c, int length, int64_t count) noexcept nogil:
    """Append prefix[0:length] with its count.  Returns the stop code."""
    cdef int64_t need
    cdef void* p
    cdef int32_t* dst
    cdef int i
    if length < c.min_len:
        return c.stop
    if c.n_sets >= c.max_sets:
        c.stop = STOP_MAX_ITEMSETS
        return c.stop
    if c.n_sets + 1 >= c.sets_cap:
        need = c.sets_cap * 2
        p = realloc(c.out_offsets, (need + 1) * sizeof(int64_t))
        if p == NULL:
            c.stop = STOP_NOMEM
            return c.stop
        c.out_offsets = <int64_t*>p
        p = realloc(c.out_counts, need * sizeof(int64_t))
        if p == NULL:
            c.stop = STOP_NOMEM
            return c.stop
        c.out_counts = <int64_t*>p
        c.sets_cap = need
    if c.out_items_len + length > c.out_items_cap:
        need = c.out_items_cap * 2
        while need < c.out_items_len + length:
            need *= 2
        p = realloc(c.out_items, need * sizeof(int32_t))
        if p == NULL:
            c.stop = STOP_NOMEM
            return c.stop
        c.out_items = <int32_t*>p
        c.out_items_cap = need
    dst = c.out_items + c.out_items_len
    for i in range(length):
        dst[i] = c.rank_to_code[c.prefix[i]]
    c.out_items_len += length
    c.out_counts[c.n_sets] = count
    c.n_sets += 1
    c.out_offsets[c.n_sets] = c.out_items_len
    return c.stop


# ---------------------------------------------------------------- occurrence

cdef int64_t _arena_alloc(Ctx* c, int64_t n) noexcept nogil:
    """Reserve n int32 slots on the arena stack; returns the offset, or -1
    (stop set) when out of memory."""
    cdef int64_t off = c.arena_len
    if _reserve(<void**>&c.arena, &c.arena_cap, off + n, sizeof(int32_t)):
        c.stop = STOP_NOMEM
        return -1
    c.arena_len = off + n
    return off


cdef int _cmp_int32(const void* a, const void* b) noexcept nogil:
    cdef int32_t x = (<const int32_t*>a)[0]
    cdef int32_t y = (<const int32_t*>b)[0]
    return (x > y) - (x < y)


cdef void _occ_node(Ctx* c, const int32_t* root, int64_t db_off, int depth,
                    int64_t occ_off, int64_t n_occ) noexcept nogil:
    """Extend prefix[0:depth].

    The prefix's conditional database is a run of transactions, each ending
    with a -1 sentinel: the root transactions (db_off < 0) or a reduced copy
    on the arena at db_off.  arena[occ_off:+n_occ] are the positions in it of
    the prefix's last item; the items after a position form one conditional
    transaction.
    """
    cdef int32_t* touched = c.touched_buf + <int64_t>depth * c.m
    cdef int32_t* cnt = c.cnt
    cdef int64_t* cursor = c.cursor
    cdef int64_t i, nt = 0, nf = 0, k, total, kept, base, save, db, x, w
    cdef int32_t q, r
    cdef const int32_t* T
    cdef int32_t* occ
    cdef int32_t* ar
    cdef int32_t* D
    cdef int leaf = depth + 1 >= c.max_len

    if _tick(c):
        return
    T = root if db_off < 0 else c.arena + db_off
    occ = c.arena + occ_off
    # pass 1: count every item in the conditional transactions
    for i in range(n_occ):
        q = occ[i] + 1
        r = T[q]
        while r >= 0:
            if cnt[r] == 0:
                touched[nt] = r
                nt += 1
            cnt[r] += 1
            q += 1
            r = T[q]
    # keep the frequent extensions, in rank order
    for i in range(nt):
        r = touched[i]
        if cnt[r] >= c.min_count:
            touched[nf] = r
            nf += 1
        else:
            cnt[r] = 0
    if nf == 0:
        return
    if nf > 1:
        qsort(touched, nf, sizeof(int32_t), _cmp_int32)

    if leaf:
        for k in range(nf):
            r = touched[k]
            c.prefix[depth] = r
            if not c.stop:
                _emit(c, depth + 1, cnt[r])
            cnt[r] = 0
        return

    # frame on the arena:
    #   [ranks nf][counts nf][starts nf][reduced database][occurrences]
    # the reduced database keeps only the frequent extensions; the last
    # extension has no later item, so it needs no occurrences
    kept = 0
    total = 0
    for k in range(nf):
        kept += cnt[touched[k]]
        if k < nf - 1:
            total += cnt[touched[k]]
    save = c.arena_len
    base = _arena_alloc(c, 3 * nf + kept + n_occ + 1 + total)
    if base < 0:
        for k in range(nf):
            cnt[touched[k]] = 0
        return
    ar = c.arena
    T = root if db_off < 0 else ar + db_off
    occ = ar + occ_off
    db = base + 3 * nf
    D = ar + db
    # copy the conditional transactions, frequent extensions only
    x = 0
    for i in range(n_occ):
        w = x
        q = occ[i] + 1
        r = T[q]
        while r >= 0:
            if cnt[r] != 0:
                D[x] = r
                x += 1
            q += 1
            r = T[q]
        if x > w:
            D[x] = -1
            x += 1
    D[x] = -1
    total = db + x + 1
    for k in range(nf):
        r = touched[k]
        ar[base + k] = r
        ar[base + nf + k] = cnt[r]
        if k < nf - 1:
            ar[base + 2 * nf + k] = <int32_t>(total - base)
            cursor[r] = total
            total += cnt[r]
        else:
            cursor[r] = -1
    # pass 2: deliver occurrences, one sequential sweep of the copy
    for i in range(x):
        r = D[i]
        if r >= 0 and cursor[r] >= 0:
            ar[cursor[r]] = <int32_t>i
            cursor[r] += 1
    for k in range(nf):
        cnt[ar[base + k]] = 0
    # recurse
    for k in range(nf):
        ar = c.arena
        c.prefix[depth] = ar[base + k]
        if _emit(c, depth + 1, ar[base + nf + k]):
            break
        if k < nf - 1:
            _occ_node(c, root, db, depth + 1, base + ar[base + 2 * nf + k],
                      ar[base + nf + k])
            if c.stop:
                break
    c.arena_len = save


# -------------------------------------------------------------------- bitset

cdef void _bit_node(Ctx* c, uint64_t** level_bits, int32_t** level_ranks,
                    int64_t** level_counts, int W, int depth, int n) noexcept nogil:
    """Candidates of prefix[0:depth] are level_*[depth][0:n]."""
    cdef uint64_t* bits = level_bits[depth]
    cdef int32_t* ranks = level_ranks[depth]
    cdef int64_t* counts = level_counts[depth]
    cdef uint64_t* child
    cdef int32_t* child_ranks
    cdef int64_t* child_counts
    cdef uint64_t* a
    cdef uint64_t* b
    cdef uint64_t* dst
    cdef uint64_t x
    cdef int i, j, w, k
    cdef int64_t s
    cdef int leaf = depth + 1 >= c.max_len

    for i in range(n):
        if _tick(c):
            return
        if depth == 0 and not c.root_rank[ranks[i]]:
            continue
        c.prefix[depth] = ranks[i]
        if _emit(c, depth + 1, counts[i]):
            return
        if leaf or i == n - 1:
            continue
        if level_bits[depth + 1] == NULL:
            # depth d holds at most m - d candidates
            level_bits[depth + 1] = <uint64_t*>malloc(<int64_t>(c.m - depth - 1) * W * sizeof(uint64_t))
            level_ranks[depth + 1] = <int32_t*>malloc((c.m - depth - 1) * sizeof(int32_t))
            level_counts[depth + 1] = <int64_t*>malloc((c.m - depth - 1) * sizeof(int64_t))
            if (level_bits[depth + 1] == NULL or level_ranks[depth + 1] == NULL
                    or level_counts[depth + 1] == NULL):
                c.stop = STOP_NOMEM
                return
        child = level_bits[depth + 1]
        child_ranks = level_ranks[depth + 1]
        child_counts = level_counts[depth + 1]
        a = bits + <int64_t>i * W
        k = 0
        for j in range(i + 1, n):
            b = bits + <int64_t>j * W
            dst = child + <int64_t>k * W
            s = 0
            for w in range(W):
                x = a[w] & b[w]
                dst[w] = x
                s += bm_popcount64(x)
            if s >= c.min_count:
                child_ranks[k] = ranks[j]
                child_counts[k] = s
                k += 1
        if k:
            _bit_node(c, level_bits, level_ranks, level_counts, W, depth + 1, k)
            if c.stop:
                return


# ------------------------------------------------------------------- driver

def mine(const int64_t[::1] indptr,        # IN  CSR of the transactions
         const int32_t[::1] indices,       # IN  item codes, sorted per row
         object item_count,                # IN  int64 baskets holding each item
         int64_t min_count,
         int min_len,
         int max_len,
         int64_t max_sets,
         double time_limit,
         str method,
         int64_t[::1] status,              # IN/OUT shared progress block
         object order=None,                # IN  optional item codes in rank order
         object roots=None):               # IN  optional uint8 per code: 1 = may be an itemset's root
    """Mine all itemsets with count >= min_count and min_len <= length <= max_len.

    Returns (items, offsets, counts, rank_to_code, stop_code).  ``items``
    holds item codes, each itemset listed in ascending rank (its canonical
    order); ``rank_to_code`` gives the ranking.

    By default items are ranked by ascending support (ties by code).
    ``order`` imposes another ranking (codes missing from it are left out);
    ``roots`` keeps only the itemsets whose first (lowest-ranked) item is
    flagged.  Together they let a partition of a distributed run mine
    exactly the itemsets rooted in its items, in the global order.
    """
    cdef Py_ssize_t n_tx = indptr.shape[0] - 1
    cdef Py_ssize_t t, p, q, r, m, i
    cdef int64_t nnz = indices.shape[0]
    cdef Ctx c
    cdef int32_t code

    # frequent items ranked by ascending support
    cdef Py_ssize_t n_items = len(item_count)
    if order is None:
        freq = np.flatnonzero(item_count >= min_count)
        rank_to_code = freq[np.lexsort((freq, item_count[freq]))].astype(np.int32)
    else:
        given = np.asarray(order, dtype=np.int32)
        rank_to_code = given[item_count[given] >= min_count]
    m = rank_to_code.shape[0]
    if roots is None:
        root_rank_arr = np.ones(max(m, 1), dtype=np.uint8)
    else:
        root_rank_arr = np.ascontiguousarray(np.asarray(roots, dtype=np.uint8)[rank_to_code])
        if m == 0:
            root_rank_arr = np.ones(1, dtype=np.uint8)
    cdef const uint8_t[::1] root_view = root_rank_arr
    code_to_rank_arr = np.full(n_items, -1, dtype=np.int32)
    code_to_rank_arr[rank_to_code] = np.arange(m, dtype=np.int32)
    cdef int32_t[::1] code_to_rank = code_to_rank_arr
    cdef const int32_t[::1] r2c_view = rank_to_code
    cdef int64_t[::1] rank_count = item_count[rank_to_code]

    memset(&c, 0, sizeof(Ctx))
    c.min_count = min_count
    c.min_len = min_len
    c.max_len = max_len
    c.max_sets = max_sets
    c.m = <int>m
    c.rank_to_code = &r2c_view[0] if m > 0 else NULL
    c.root_rank = &root_view[0]
    c.status = &status[0]
    c.deadline = _now() + time_limit if time_limit > 0 else 0.0
    c.sets_cap = 1024
    c.out_items_cap = 4096
    c.out_offsets = <int64_t*>malloc((c.sets_cap + 1) * sizeof(int64_t))
    c.out_counts = <int64_t*>malloc(c.sets_cap * sizeof(int64_t))
    c.out_items = <int32_t*>malloc(c.out_items_cap * sizeof(int32_t))
    c.prefix = <int32_t*>malloc((m + 1) * sizeof(int32_t))
    if (c.out_offsets == NULL or c.out_counts == NULL or c.out_items == NULL
            or c.prefix == NULL):
        free(c.out_offsets); free(c.out_counts); free(c.out_items); free(c.prefix)
        raise MemoryError("cannot allocate the itemset output buffer")
    c.out_offsets[0] = 0

    cdef int32_t* T = NULL
    cdef int64_t n_pos = 0, pos, start, w, W = 0
    cdef int32_t tmp
    cdef Py_ssize_t a, b
    cdef uint64_t** level_bits = NULL
    cdef int32_t** level_ranks = NULL
    cdef int64_t** level_counts = NULL
    cdef int depth_cap = <int>min(m, max_len)

    try:
        if m == 0 or max_len < 1:
            pass
        elif method == "occurrence":
            # rank-recoded transactions, ascending ranks, infrequent items removed
            T = <int32_t*>malloc((nnz + n_tx + 1) * sizeof(int32_t))
            c.cnt = <int32_t*>calloc(m, sizeof(int32_t))
            c.cursor = <int64_t*>malloc(m * sizeof(int64_t))
            c.touched_buf = <int32_t*>malloc((depth_cap + 1) * m * sizeof(int32_t))
            c.arena_cap = max(nnz, 1024)
            c.arena = <int32_t*>malloc(c.arena_cap * sizeof(int32_t))
            if (T == NULL or c.cnt == NULL or c.cursor == NULL
                    or c.touched_buf == NULL or c.arena == NULL):
                raise MemoryError("cannot allocate the miner's working memory")
            with nogil:
                for t in range(n_tx):
                    start = n_pos
                    for p in range(indptr[t], indptr[t + 1]):
                        r = code_to_rank[indices[p]]
                        if r >= 0:
                            # insertion sort by rank (rows are short)
                            q = n_pos
                            while q > start and T[q - 1] > r:
                                T[q] = T[q - 1]
                                q -= 1
                            T[q] = <int32_t>r
                            n_pos += 1
                    if n_pos > start:
                        T[n_pos] = -1
                        n_pos += 1
                # root: occurrences of every frequent item, one bucket per rank
                pos = 0
                for r in range(m):
                    c.cursor[r] = pos
                    pos += rank_count[r]
                c.arena_len = pos
                for q in range(n_pos):
                    r = T[q]
                    if r >= 0:
                        c.arena[c.cursor[r]] = <int32_t>q
                        c.cursor[r] += 1
                pos = 0
                for r in range(m):
                    if c.root_rank[r]:
                        c.prefix[0] = <int32_t>r
                        if _emit(&c, 1, rank_count[r]):
                            break
                        if max_len > 1 and r < m - 1:
                            _occ_node(&c, T, -1, 1, pos, rank_count[r])
                            if c.stop:
                                break
                    pos += rank_count[r]
        elif method == "bitset":
            W = (n_tx + 63) // 64
            level_bits = <uint64_t**>calloc(depth_cap + 1, sizeof(uint64_t*))
            level_ranks = <int32_t**>calloc(depth_cap + 1, sizeof(int32_t*))
            level_counts = <int64_t**>calloc(depth_cap + 1, sizeof(int64_t*))
            if level_bits == NULL or level_ranks == NULL or level_counts == NULL:
                raise MemoryError("cannot allocate the miner's working memory")
            level_bits[0] = <uint64_t*>calloc(m * W, sizeof(uint64_t))
            level_ranks[0] = <int32_t*>malloc(m * sizeof(int32_t))
            level_counts[0] = <int64_t*>malloc(m * sizeof(int64_t))
            if level_bits[0] == NULL or level_ranks[0] == NULL or level_counts[0] == NULL:
                raise MemoryError("cannot allocate the miner's working memory")
            with nogil:
                for t in range(n_tx):
                    for p in range(indptr[t], indptr[t + 1]):
                        r = code_to_rank[indices[p]]
                        if r >= 0:
                            level_bits[0][r * W + (t >> 6)] |= (<uint64_t>1) << (t & 63)
                for r in range(m):
                    level_ranks[0][r] = <int32_t>r
                    level_counts[0][r] = rank_count[r]
                _bit_node(&c, level_bits, level_ranks, level_counts, <int>W, 0, <int>m)
        else:
            raise ValueError(f"unknown method {method!r}")

        status[0] = c.n_sets
        status[2] = c.ticks
        n_sets = c.n_sets
        items = np.empty(c.out_items_len, dtype=np.int32)
        offsets = np.empty(n_sets + 1, dtype=np.int64)
        counts = np.empty(n_sets, dtype=np.int64)
        if c.out_items_len:
            memcpy(cnp.PyArray_DATA(items), c.out_items, c.out_items_len * sizeof(int32_t))
        memcpy(cnp.PyArray_DATA(offsets), c.out_offsets, (n_sets + 1) * sizeof(int64_t))
        if n_sets:
            memcpy(cnp.PyArray_DATA(counts), c.out_counts, n_sets * sizeof(int64_t))
        return items, offsets, counts, rank_to_code, c.stop
    finally:
        free(c.out_items); free(c.out_offsets); free(c.out_counts); free(c.prefix)
        free(T); free(c.cnt); free(c.cursor); free(c.touched_buf); free(c.arena)
        if level_bits != NULL:
            for i in range(depth_cap + 1):
                free(level_bits[i]); free(level_ranks[i]); free(level_counts[i])
            free(level_bits); free(level_ranks); free(level_counts)


# ------------------------------------------------------------ closed/maximal

cdef inline uint64_t _hash_seq(const int32_t* s, int64_t n, int64_t skip) noexcept nogil:
    cdef uint64_t h = 1469598103934665603ULL
    cdef int64_t i
    for i in range(n):
        if i != skip:
            h ^= <uint64_t>(<uint32_t>s[i]) + 0x9e3779b97f4a7c15ULL
            h *= 1099511628211ULL
            h ^= h >> 29
    return h



def closure_mask(const int32_t[::1] items,      # IN  canonical (ascending) itemsets
                 const int64_t[::1] offsets,    # IN
                 const int64_t[::1] counts,     # IN
                 bint maximal):
    """Flag the closed (or maximal) itemsets of a complete collection
    (every itemset listed in one canonical item order).

    An itemset is closed when no immediate superset in the collection has the
    same count, maximal when no immediate superset is in the collection.
    Returns a uint8 array, 1 for the itemsets to keep.
    """
    cdef int64_t n = counts.shape[0]
    cdef int64_t size = 1, i, j, k, slot, idx, a0, a1, b0, ln, slot_k
    cdef uint64_t h
    cdef int64_t* table
    cdef bint same
    keep_arr = np.ones(n, dtype=np.uint8)
    cdef uint8_t[::1] keep = keep_arr
    if n == 0:
        return keep_arr
    while size < 2 * n:
        size *= 2
    table = <int64_t*>malloc(size * sizeof(int64_t))
    if table == NULL:
        raise MemoryError("cannot allocate the closure table")
    try:
        with nogil:
            for slot in range(size):
                table[slot] = -1
            for i in range(n):
                a0 = offsets[i]
                h = _hash_seq(&items[a0], offsets[i + 1] - a0, -1)
                slot = <int64_t>(h & <uint64_t>(size - 1))
                while table[slot] >= 0:
                    slot = (slot + 1) & (size - 1)
                table[slot] = i
            for i in range(n):
                a0 = offsets[i]
                a1 = offsets[i + 1]
                ln = a1 - a0
                if ln < 2:
                    continue
                for j in range(ln):
                    h = _hash_seq(&items[a0], ln, j)
                    slot = <int64_t>(h & <uint64_t>(size - 1))
                    while True:
                        idx = table[slot]
                        if idx < 0:
                            break
                        b0 = offsets[idx]
                        if offsets[idx + 1] - b0 == ln - 1:
                            same = True
                            k = 0
                            for slot_k in range(ln):
                                if slot_k == j:
                                    continue
                                if items[a0 + slot_k] != items[b0 + k]:
                                    same = False
                                    break
                                k += 1
                            if same:
                                if maximal or counts[idx] == counts[i]:
                                    keep[idx] = 0
                                break
                        slot = (slot + 1) & (size - 1)
    finally:
        free(table)
    return keep_arr


# ------------------------------------------------------------------- output

def frozensets(const int32_t[::1] items,       # IN  item codes
               const int64_t[::1] offsets,     # IN
               object[::1] labels):            # IN  label of each code
    """One frozenset of labels per itemset, as an object array."""
    cdef Py_ssize_t n = offsets.shape[0] - 1, i, k
    out = np.empty(n, dtype=object)
    cdef object[::1] view = out
    cdef object fs
    for i in range(n):
        fs = PyFrozenSet_New(NULL)
        for k in range(offsets[i], offsets[i + 1]):
            PySet_Add(fs, labels[items[k]])
        view[i] = fs
    return out
