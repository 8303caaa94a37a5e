# Frequent itemset kernels.
#
# Depth-first miners sharing one output buffer, one cap/clock check and one
# emit routine.  Two ways to hold a conditional database:
#
# * "occurrence" (sparse data): LCM-style occurrence delivery.  A node keeps
#   positions in the rank-recoded transactions; one scan counts every
#   extension, a second scan delivers the occurrences of the frequent ones.
#   Work is proportional to the conditional database, never to the number of
#   candidate pairs.
# * "bitset" (dense data): a node's candidates are bit-vector tidsets; a
#   child is the AND of two of them and its support a popcount.
#
# and two enumerations over each:
#
# * target "all": every frequent itemset, extended by the items ranked after
#   its last item (Eclat / LCM ver. 1).
# * target "closed" / "maximal": LCM's prefix-preserving closure extension
#   (Uno et al., LCM ver. 2).  A closed set Q with core item c is extended by
#   each frequent item e > c outside Q; the child is clo(Q + e), kept only
#   when it adds no item ranked before e (the ppc test), so every closed set
#   is reached exactly once and nothing else is enumerated.  Occurrence: the
#   closure is the set of items counted |occ| times over the child's full
#   transactions (the same count gives its extensions).  Bitset: items before
#   e are tested by a subset test (tidset of Q + e inside the item's tidset)
#   with early exit; the later candidates by one AND + popcount, which also
#   gives the child's candidates.  A closed set is maximal when no item at
#   all (before or after e) extends it to a frequent set; every maximal set
#   is closed, so "maximal" is the closed enumeration with that test.
#
# Top-k (top_k > 0): the kernel keeps a min-heap of the k largest counts of
# the itemsets it emits and raises min_count to the heap's top once it holds
# k, so the search narrows as it goes; roots are visited most frequent first
# so the threshold rises early.  Emitted sets that fall below the threshold
# are dropped when the output buffer is compacted and, finally, by the
# Python wrapper.
#
# Items are recoded to ranks 0..m-1 by ascending support (ties by code) before
# mining.  "all" emits each itemset as its ranks in ascending order, in a fixed
# depth-first order; "closed"/"maximal" emit each set sorted by rank, in the
# depth-first order of the ppc tree.
#
# Working memory is bounded by the data: per-node scratch lives on a stack
# (arena) sized by the conditional databases, per-rank arrays by the number of
# frequent items, and per-depth buffers by what each node needs (the depth
# never exceeds the longest basket).
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

# Why a run stopped early (0: it did not).
STOP_REASONS = stop_reasons("max_itemsets")


cdef enum:
    TARGET_ALL = 0
    TARGET_CLOSED = 1
    TARGET_MAXIMAL = 2

TARGETS = {"all": TARGET_ALL, "closed": TARGET_CLOSED, "maximal": TARGET_MAXIMAL}

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
    int64_t max_items             # cap on the items of all itemsets stored (0: none)
    # search state
    int32_t* prefix           # the itemset being grown (closed: in insertion order)
    const int32_t* rank_to_code
    const uint8_t* root_rank  # per rank: 1 when itemsets may start (least supported item) there
    const int64_t* rank_count # per rank: baskets holding it (ascending)
    int64_t min_count
    int min_len
    int max_len
    int target
    int stop
    int64_t ticks
    double deadline           # monotonic seconds; <= 0: none
    int64_t* status           # [0] itemsets so far, [1] stop request, [2] nodes
    # top-k: min-heap of the k largest emitted counts
    int64_t top_k
    int64_t* heap
    int64_t heap_n
    # occurrence scratch
    int32_t* arena
    int64_t arena_len
    int64_t arena_cap
    int32_t* cnt              # per rank, zero between uses
    int64_t* cursor           # per rank, delivery cursor
    int32_t* touched          # per rank, one node's counted items (used before recursing)
    uint8_t* in_q             # per rank: 1 when in the current closed set
    # bitset scratch
    const uint64_t* G         # tidset of every rank
    int32_t* nzw              # the nonzero words of the tidset being closed
    int64_t* level_cap        # per depth: candidates the level buffers hold
    int m


cdef inline int _tick(Ctx* c) noexcept nogil:
    """Count a search node; every 1024 nodes look at the clock and the
    shared status block.  Returns the stop code."""
    c.ticks += 1
    c.stop = _poll(c.ticks, c.n_sets, c.status, c.deadline, c.stop)
    return c.stop


cdef void _heap_push(Ctx* c, int64_t count) noexcept nogil:
    """Offer an emitted count to the top-k heap; raise min_count to the k-th
    largest count once the heap is full."""
    cdef int64_t* h = c.heap
    cdef int64_t i, j, n
    if c.heap_n < c.top_k:
        i = c.heap_n
        c.heap_n += 1
        while i > 0:
            j = (i - 1) >> 1
            if h[j] <= count:
                break
            h[i] = h[j]
            i = j
        h[i] = count
    elif count > h[0]:
        n = c.heap_n
        i = 0
        while True:
            j = 2 * i + 1
            if j >= n:
                break
            if j + 1 < n and h[j + 1] < h[j]:
                j += 1
            if h[j] >= count:
                break
            h[i] = h[j]
            i = j
        h[i] = count
    else:
        return
    if c.heap_n == c.top_k and h[0] > c.min_count:
        c.min_count = h[0]


cdef void _compact(Ctx* c) noexcept nogil:
    """Drop the emitted itemsets whose count is now below min_count (top-k)."""
    cdef int64_t i, k = 0, a, b, x = 0, p
    for i in range(c.n_sets):
        a = c.out_offsets[i]
        b = c.out_offsets[i + 1]
        if c.out_counts[i] >= c.min_count:
            for p in range(a, b):
                c.out_items[x] = c.out_items[p]
                x += 1
            c.out_counts[k] = c.out_counts[i]
            k += 1
            c.out_offsets[k] = x
    c.n_sets = k
    c.out_items_len = x


cdef int _cmp_int32(const void* a, const void* b) noexcept nogil:
    cdef int32_t x = (<const int32_t*>a)[0]
    cdef int32_t y = (<const int32_t*>b)[0]
    return (x > y) - (x < y)


cdef int _emit(Ctx* c, int length, int64_t count) noexcept nogil:
    """Append prefix[0:length] (as item codes in ascending rank) with its
    count.  Returns the stop code."""
    cdef int64_t need
    cdef void* p
    cdef int32_t* dst
    cdef int i, j
    cdef int32_t r
    cdef bint compacted = False
    if length < c.min_len:
        return c.stop
    if c.top_k:
        if count < c.min_count:
            return c.stop
        if c.n_sets >= c.max_sets or c.n_sets + 1 >= c.sets_cap:
            _compact(c)
            compacted = True
    if c.n_sets >= c.max_sets:
        c.stop = STOP_CAP
        return c.stop
    if c.n_sets + 1 >= c.sets_cap or (compacted and 2 * c.n_sets > c.sets_cap):
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
    if c.max_items and c.out_items_len + length > c.max_items:
        c.stop = STOP_SIZE
        return c.stop
    if c.out_items_len + length > c.out_items_cap:
        need = c.out_items_cap * 2
        while need < c.out_items_len + length:
            need *= 2
        if c.max_items and need > c.max_items:  # no larger than the cap lets it fill
            need = c.max_items
        p = realloc(c.out_items, need * sizeof(int32_t))
        if p == NULL:
            c.stop = STOP_NOMEM
            return c.stop
        c.out_items = <int32_t*>p
        c.out_items_cap = need
    dst = c.out_items + c.out_items_len
    if c.target == TARGET_ALL:
        for i in range(length):
            dst[i] = c.rank_to_code[c.prefix[i]]
    else:
        # a closed set is grown out of rank order: sort its ranks
        memcpy(dst, c.prefix, length * sizeof(int32_t))
        if length > 32:
            qsort(dst, length, sizeof(int32_t), _cmp_int32)
        else:
            for i in range(1, length):
                r = dst[i]
                j = i
                while j > 0 and dst[j - 1] > r:
                    dst[j] = dst[j - 1]
                    j -= 1
                dst[j] = r
        for i in range(length):
            dst[i] = c.rank_to_code[dst[i]]
    c.out_items_len += length
    c.out_counts[c.n_sets] = count
    c.n_sets += 1
    c.out_offsets[c.n_sets] = c.out_items_len
    if c.top_k:
        _heap_push(c, count)
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


cdef void _occ_node(Ctx* c, const int32_t* root, int64_t db_off, int depth,
                    int64_t occ_off, int64_t n_occ) noexcept nogil:
    """Extend prefix[0:depth] (target "all").

    The prefix's conditional database is a run of transactions, each ending
    with a -1 sentinel: the root transactions (db_off < 0) or a reduced copy
    on the arena at db_off.  arena[occ_off:+n_occ] are the positions in it of
    the prefix's last item; the items after a position form one conditional
    transaction.
    """
    cdef int32_t* touched = c.touched
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
    # extension has no later item, so it needs no occurrences.  touched is
    # shared scratch: everything the recursion needs is copied here first.
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
    # recurse (top-k: min_count may have risen since the count)
    for k in range(nf):
        ar = c.arena
        if ar[base + nf + k] < c.min_count:
            continue
        c.prefix[depth] = ar[base + k]
        if _emit(c, depth + 1, ar[base + nf + k]):
            break
        if k < nf - 1:
            _occ_node(c, root, db, depth + 1, base + ar[base + 2 * nf + k],
                      ar[base + nf + k])
            if c.stop:
                break
    c.arena_len = save


cdef void _clo_occ_node(Ctx* c, const int32_t* root, int64_t db_off, int qlen, int32_t e,
                        int64_t occ_off, int64_t n_occ) noexcept nogil:
    """Close prefix[0:qlen] + e (target "closed"/"maximal").

    prefix[0:qlen] is a closed set Q (flagged in in_q).  The node's database
    is the root transactions (db_off < 0) or a reduced copy on the arena at
    db_off, each transaction ending with -1; arena[occ_off:+n_occ] are the
    start positions in it of the transactions holding Q + e.  The closure is
    the items counted n_occ times over those transactions (Q's own items may
    be left out of a reduced copy: in_q stands for them); when it adds no
    item ranked before e, it is emitted and extended by the frequent items
    after e, over a copy of the transactions reduced to the items that can
    still matter (frequent here and not in the closure).
    """
    cdef int32_t* cnt = c.cnt
    cdef int32_t* touched = c.touched
    cdef uint8_t* in_q = c.in_q
    cdef int64_t* cursor = c.cursor
    cdef int64_t i, nt = 0, nf = 0, k, total, kept, base, save, pos, q, start, db, x, w
    cdef int32_t r, n
    cdef const int32_t* T
    cdef int32_t* occ
    cdef int32_t* ar
    cdef int32_t* D
    cdef int qnew = qlen, bad = 0, extendable = 0
    # emitting may raise min_count (top-k): this node keeps the value on entry
    cdef int64_t mc = c.min_count

    if _tick(c):
        return
    if n_occ < mc:
        return
    T = root if db_off < 0 else c.arena + db_off
    occ = c.arena + occ_off
    for i in range(n_occ):
        q = occ[i]
        r = T[q]
        while r >= 0:
            if cnt[r] == 0:
                touched[nt] = r
                nt += 1
            cnt[r] += 1
            q += 1
            r = T[q]
    # ppc test: nothing before e outside Q is in every transaction
    total = 0
    kept = 0
    for i in range(nt):
        r = touched[i]
        if cnt[r] == n_occ:
            if r < e and not in_q[r]:
                bad = 1
                break
        elif cnt[r] >= mc:
            extendable = 1
            kept += cnt[r]
            if r > e:
                nf += 1
                total += cnt[r]
    if bad:
        for i in range(nt):
            cnt[touched[i]] = 0
        return
    for i in range(nt):
        r = touched[i]
        if cnt[r] == n_occ and not in_q[r]:
            in_q[r] = 1
            c.prefix[qnew] = r
            qnew += 1
    if qnew > c.max_len:
        nf = 0
    else:
        if c.target == TARGET_CLOSED or not extendable:
            _emit(c, qnew, n_occ)
        if qnew >= c.max_len or c.stop:
            nf = 0
    if nf > 0:
        # frame: [ranks nf][counts nf][reduced database][transactions of each candidate]
        save = c.arena_len
        base = _arena_alloc(c, 2 * nf + kept + n_occ + 1 + total)
        if base >= 0:
            ar = c.arena
            T = root if db_off < 0 else ar + db_off
            occ = ar + occ_off
            k = 0
            for i in range(nt):
                r = touched[i]
                if r > e and cnt[r] < n_occ and cnt[r] >= mc:
                    ar[base + k] = r
                    k += 1
            if nf > 1:
                qsort(ar + base, nf, sizeof(int32_t), _cmp_int32)
            # the reduced copy: items frequent here and not in the closure
            db = base + 2 * nf
            D = ar + db
            x = 0
            for i in range(n_occ):
                w = x
                q = occ[i]
                r = T[q]
                while r >= 0:
                    if cnt[r] < n_occ and cnt[r] >= mc:
                        D[x] = r
                        x += 1
                    q += 1
                    r = T[q]
                if x > w:
                    D[x] = -1
                    x += 1
            D[x] = -1
            pos = db + x + 1
            for k in range(nf):
                r = ar[base + k]
                ar[base + nf + k] = cnt[r]
                cursor[r] = pos
                pos += cnt[r]
            start = 0
            for i in range(x):
                r = D[i]
                if r < 0:
                    start = i + 1
                elif r > e and cursor[r] >= 0:
                    ar[cursor[r]] = <int32_t>start
                    cursor[r] += 1
            for k in range(nf):
                cursor[ar[base + k]] = -1
            for i in range(nt):
                cnt[touched[i]] = 0
            nt = 0
            pos = db + x + 1
            for k in range(nf):
                r = c.arena[base + k]
                n = c.arena[base + nf + k]
                _clo_occ_node(c, root, db, qnew, r, pos, n)
                pos += n
                if c.stop:
                    break
            c.arena_len = save
    for i in range(nt):
        cnt[touched[i]] = 0
    for i in range(qlen, qnew):
        in_q[c.prefix[i]] = 0


# -------------------------------------------------------------------- bitset

cdef int _grow_level(Ctx* c, uint64_t** level_bits, int32_t** level_ranks,
                     int64_t** level_counts, int W, int d, int64_t need) noexcept nogil:
    """Make the depth-d buffers hold ``need`` candidates; -1 (stop set) when
    out of memory."""
    cdef void* p
    if c.level_cap[d] >= need:
        return 0
    p = realloc(level_bits[d], need * W * sizeof(uint64_t))
    if p == NULL:
        c.stop = STOP_NOMEM
        return -1
    level_bits[d] = <uint64_t*>p
    p = realloc(level_ranks[d], need * sizeof(int32_t))
    if p == NULL:
        c.stop = STOP_NOMEM
        return -1
    level_ranks[d] = <int32_t*>p
    p = realloc(level_counts[d], need * sizeof(int64_t))
    if p == NULL:
        c.stop = STOP_NOMEM
        return -1
    level_counts[d] = <int64_t*>p
    c.level_cap[d] = need
    return 0


cdef void _bit_node(Ctx* c, uint64_t** level_bits, int32_t** level_ranks,
                    int64_t** level_counts, int W, int depth, int n) noexcept nogil:
    """Candidates of prefix[0:depth] are level_*[depth][0:n] (target "all")."""
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
    cdef int i, ii, j, w, k
    cdef int64_t s
    cdef int leaf = depth + 1 >= c.max_len
    cdef bint reverse = depth == 0 and c.top_k > 0

    for ii in range(n):
        # top-k visits the roots most frequent first
        i = n - 1 - ii if reverse else ii
        if _tick(c):
            return
        if depth == 0 and not c.root_rank[ranks[i]]:
            continue
        if counts[i] < c.min_count:
            continue
        c.prefix[depth] = ranks[i]
        if _emit(c, depth + 1, counts[i]):
            return
        if leaf or i == n - 1:
            continue
        if _grow_level(c, level_bits, level_ranks, level_counts, W, depth + 1, n - i - 1):
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


cdef void _clo_bit_node(Ctx* c, uint64_t** level_bits, int32_t** level_ranks,
                        int64_t** level_counts, int W, int depth, int n,
                        int qlen) noexcept nogil:
    """Close prefix[0:qlen] + e for each candidate e of level_*[depth][0:n]
    (target "closed"/"maximal"); see the header."""
    cdef uint64_t* bits = level_bits[depth]
    cdef int32_t* ranks = level_ranks[depth]
    cdef int64_t* counts = level_counts[depth]
    cdef const uint64_t* G = c.G
    cdef const int64_t* rc = c.rank_count
    cdef uint8_t* in_q = c.in_q
    cdef int32_t* nzw = c.nzw
    cdef uint64_t* child
    cdef int32_t* child_ranks
    cdef int64_t* child_counts
    cdef uint64_t* a
    cdef uint64_t* b
    cdef uint64_t* dst
    cdef const uint64_t* g
    cdef uint64_t x
    cdef int i, ii, j, jj, w, k, t, nz, qnew, bad, extendable
    cdef int32_t e, r
    cdef int64_t s, sc
    cdef bint reverse = depth == 0 and c.top_k > 0
    cdef bint sparse_words

    for ii in range(n):
        i = n - 1 - ii if reverse else ii
        if _tick(c):
            return
        e = ranks[i]
        s = counts[i]
        if in_q[e] or s < c.min_count:
            continue
        a = bits + <int64_t>i * W
        nz = 0
        for w in range(W):
            if a[w]:
                nzw[nz] = w
                nz += 1
        # ppc test: no item before e outside Q holds every transaction of Q + e
        # (only items at least as frequent as Q + e can; ranks ascend by support)
        bad = 0
        j = e - 1
        while j >= 0 and rc[j] >= s:
            if not in_q[j]:
                g = G + <int64_t>j * W
                bad = 1
                for t in range(nz):
                    w = nzw[t]
                    if a[w] & ~g[w]:
                        bad = 0
                        break
                if bad:
                    break
            j -= 1
        if bad:
            continue
        qnew = qlen
        c.prefix[qnew] = e
        qnew += 1
        in_q[e] = 1
        # later candidates: in the closure, or a frequent extension of it
        k = 0
        if i < n - 1:
            if _grow_level(c, level_bits, level_ranks, level_counts, W, depth + 1, n - i - 1):
                in_q[e] = 0
                return
            child = level_bits[depth + 1]
            child_ranks = level_ranks[depth + 1]
            child_counts = level_counts[depth + 1]
            sparse_words = 2 * nz < W
            for jj in range(i + 1, n):
                r = ranks[jj]
                if in_q[r]:
                    continue
                b = bits + <int64_t>jj * W
                dst = child + <int64_t>k * W
                sc = 0
                if sparse_words:
                    memset(dst, 0, W * sizeof(uint64_t))
                    for t in range(nz):
                        w = nzw[t]
                        x = a[w] & b[w]
                        dst[w] = x
                        sc += bm_popcount64(x)
                else:
                    for w in range(W):
                        x = a[w] & b[w]
                        dst[w] = x
                        sc += bm_popcount64(x)
                if sc == s:
                    in_q[r] = 1
                    c.prefix[qnew] = r
                    qnew += 1
                elif sc >= c.min_count:
                    child_ranks[k] = r
                    child_counts[k] = sc
                    k += 1
        if qnew <= c.max_len:
            extendable = k > 0
            if c.target == TARGET_MAXIMAL and not extendable:
                # an item before e that extends the closure to a frequent set?
                j = e - 1
                while j >= 0 and not extendable:
                    if not in_q[j] and rc[j] >= c.min_count:
                        g = G + <int64_t>j * W
                        sc = 0
                        for t in range(nz):
                            w = nzw[t]
                            sc += bm_popcount64(a[w] & g[w])
                            if sc >= c.min_count:
                                extendable = 1
                                break
                    j -= 1
            if c.target == TARGET_CLOSED or not extendable:
                _emit(c, qnew, s)
            if k > 0 and qnew < c.max_len and not c.stop:
                _clo_bit_node(c, level_bits, level_ranks, level_counts, W, depth + 1, k, qnew)
        for t in range(qlen, qnew):
            in_q[c.prefix[t]] = 0
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
         object roots=None,                # IN  optional uint8 per code: 1 = may be an itemset's root
         *,
         str target="all",
         int64_t top_k=0,
         int64_t max_items=0):
    """Mine the itemsets with count >= min_count and min_len <= length <= max_len.

    Returns (items, offsets, counts, rank_to_code, stop_code).  ``items``
    holds item codes, each itemset listed in ascending rank (its canonical
    order); ``rank_to_code`` gives the ranking.

    ``target`` is "all" (every frequent itemset), "closed" or "maximal"
    (only those, mined directly; closedness is decided against every
    frequent itemset whatever the length bounds).  ``top_k`` > 0 raises
    min_count as mining goes to the k-th largest count emitted so far; the
    output then holds every wanted itemset whose count reaches the final
    threshold (the k-th largest count), and possibly some below it.

    By default items are ranked by ascending support (ties by code).
    ``order`` imposes another ranking (codes missing from it are left out);
    ``roots`` keeps only the itemsets whose first (lowest-ranked) item is
    flagged.  Together they let a partition of a distributed run mine
    exactly the itemsets rooted in its items, in the global order (target
    "all" only).
    """
    cdef Py_ssize_t n_tx = indptr.shape[0] - 1
    cdef Py_ssize_t t, p, q, r, m, i, rr
    cdef int64_t nnz = indices.shape[0]
    cdef Ctx c
    cdef int32_t code
    cdef int tcode

    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}")
    tcode = TARGETS[target]
    if tcode != TARGET_ALL and (order is not None or roots is not None):
        raise ValueError("order and roots apply to target 'all' only")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, got {top_k}")

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
    rank_count_arr = np.ascontiguousarray(item_count[rank_to_code], dtype=np.int64)
    if m == 0:
        rank_count_arr = np.zeros(1, dtype=np.int64)
    cdef int64_t[::1] rank_count = rank_count_arr
    # bucket starts of the root occurrences, per rank
    root_start_arr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(rank_count_arr[:m], out=root_start_arr[1:])
    cdef int64_t[::1] root_start = root_start_arr
    # the longest basket over the frequent items bounds the search depth
    cdef int longest = 0
    if m > 0 and n_tx > 0:
        seen = np.zeros(nnz + 1, dtype=np.int64)
        np.cumsum(code_to_rank_arr[np.asarray(indices)] >= 0, out=seen[1:])
        ind = np.asarray(indptr)
        longest = int((seen[ind[1:]] - seen[ind[:n_tx]]).max())
    cdef int depth_cap = min(longest, max_len)

    memset(&c, 0, sizeof(Ctx))
    c.min_count = min_count
    c.min_len = min_len
    c.max_len = max_len
    c.max_sets = max_sets
    c.max_items = max_items
    c.target = tcode
    c.top_k = top_k
    c.m = <int>m
    c.rank_to_code = &r2c_view[0] if m > 0 else NULL
    c.root_rank = &root_view[0]
    c.rank_count = &rank_count[0]
    c.status = &status[0]
    c.deadline = _now() + time_limit if time_limit > 0 else 0.0
    c.sets_cap = 1024
    c.out_items_cap = 4096
    c.out_offsets = <int64_t*>malloc((c.sets_cap + 1) * sizeof(int64_t))
    c.out_counts = <int64_t*>malloc(c.sets_cap * sizeof(int64_t))
    c.out_items = <int32_t*>malloc(c.out_items_cap * sizeof(int32_t))
    c.prefix = <int32_t*>malloc((m + 1) * sizeof(int32_t))
    c.heap = <int64_t*>malloc(max(top_k, 1) * sizeof(int64_t)) if top_k > 0 else NULL
    if (c.out_offsets == NULL or c.out_counts == NULL or c.out_items == NULL
            or c.prefix == NULL or (top_k > 0 and c.heap == NULL)):
        free(c.out_offsets); free(c.out_counts); free(c.out_items); free(c.prefix); free(c.heap)
        raise MemoryError("cannot allocate the itemset output buffer")
    c.out_offsets[0] = 0

    cdef int32_t* T = NULL
    cdef int64_t n_pos = 0, pos, start, w, W = 0, q0 = 0
    cdef uint64_t** level_bits = NULL
    cdef int32_t** level_ranks = NULL
    cdef int64_t** level_counts = NULL

    try:
        if m == 0 or max_len < 1:
            pass
        elif method == "occurrence":
            # rank-recoded transactions, ascending ranks, infrequent items removed
            T = <int32_t*>malloc((nnz + n_tx + 1) * sizeof(int32_t))
            c.cnt = <int32_t*>calloc(m, sizeof(int32_t))
            c.cursor = <int64_t*>malloc(m * sizeof(int64_t))
            c.touched = <int32_t*>malloc(m * sizeof(int32_t))
            c.in_q = <uint8_t*>calloc(m, sizeof(uint8_t))
            c.arena_cap = max(nnz, 1024)
            c.arena = <int32_t*>malloc(c.arena_cap * sizeof(int32_t))
            if (T == NULL or c.cnt == NULL or c.cursor == NULL or c.touched == NULL
                    or c.in_q == NULL or c.arena == NULL):
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
                # root: occurrences of every frequent item, one bucket per rank:
                # its positions ("all") or the starts of its transactions
                for r in range(m):
                    c.cursor[r] = root_start[r]
                c.arena_len = root_start[m]
                start = 0
                for q in range(n_pos):
                    r = T[q]
                    if r >= 0:
                        c.arena[c.cursor[r]] = <int32_t>(q if tcode == TARGET_ALL else start)
                        c.cursor[r] += 1
                    else:
                        start = q + 1
                if tcode == TARGET_ALL:
                    for rr in range(m):
                        r = m - 1 - rr if top_k > 0 else rr
                        if not c.root_rank[r] or rank_count[r] < c.min_count:
                            continue
                        c.prefix[0] = <int32_t>r
                        if _emit(&c, 1, rank_count[r]):
                            break
                        if max_len > 1 and r < m - 1:
                            _occ_node(&c, T, -1, 1, root_start[r], rank_count[r])
                            if c.stop:
                                break
                else:
                    for r in range(m):
                        c.cursor[r] = -1
                    q0 = _closure_of_nothing(&c, n_tx)
                    if q0 < max_len:
                        for rr in range(m):
                            r = m - 1 - rr if top_k > 0 else rr
                            if not c.in_q[r]:
                                _clo_occ_node(&c, T, -1, <int>q0, <int32_t>r, root_start[r], rank_count[r])
                                if c.stop:
                                    break
        elif method == "bitset":
            W = (n_tx + 63) // 64
            level_bits = <uint64_t**>calloc(depth_cap + 1, sizeof(uint64_t*))
            level_ranks = <int32_t**>calloc(depth_cap + 1, sizeof(int32_t*))
            level_counts = <int64_t**>calloc(depth_cap + 1, sizeof(int64_t*))
            c.level_cap = <int64_t*>calloc(depth_cap + 1, sizeof(int64_t))
            c.in_q = <uint8_t*>calloc(m, sizeof(uint8_t))
            c.nzw = <int32_t*>malloc(max(W, 1) * sizeof(int32_t))
            if (level_bits == NULL or level_ranks == NULL or level_counts == NULL
                    or c.level_cap == NULL or c.in_q == NULL or c.nzw == NULL):
                raise MemoryError("cannot allocate the miner's working memory")
            level_bits[0] = <uint64_t*>calloc(m * W, sizeof(uint64_t))
            level_ranks[0] = <int32_t*>malloc(m * sizeof(int32_t))
            level_counts[0] = <int64_t*>malloc(m * sizeof(int64_t))
            if level_bits[0] == NULL or level_ranks[0] == NULL or level_counts[0] == NULL:
                raise MemoryError("cannot allocate the miner's working memory")
            c.level_cap[0] = m
            c.G = level_bits[0]
            with nogil:
                for t in range(n_tx):
                    for p in range(indptr[t], indptr[t + 1]):
                        r = code_to_rank[indices[p]]
                        if r >= 0:
                            level_bits[0][r * W + (t >> 6)] |= (<uint64_t>1) << (t & 63)
                for r in range(m):
                    level_ranks[0][r] = <int32_t>r
                    level_counts[0][r] = rank_count[r]
                if tcode == TARGET_ALL:
                    _bit_node(&c, level_bits, level_ranks, level_counts, <int>W, 0, <int>m)
                else:
                    q0 = _closure_of_nothing(&c, n_tx)
                    if q0 < max_len:
                        _clo_bit_node(&c, level_bits, level_ranks, level_counts, <int>W, 0,
                                      <int>m, <int>q0)
        else:
            raise ValueError(f"unknown method {method!r}")

        if c.top_k:
            _compact(&c)
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
        free(c.out_items); free(c.out_offsets); free(c.out_counts); free(c.prefix); free(c.heap)
        free(T); free(c.cnt); free(c.cursor); free(c.touched); free(c.arena); free(c.in_q)
        free(c.nzw); free(c.level_cap)
        if level_bits != NULL:
            for i in range(depth_cap + 1):
                free(level_bits[i]); free(level_ranks[i]); free(level_counts[i])
            free(level_bits); free(level_ranks); free(level_counts)


cdef int64_t _closure_of_nothing(Ctx* c, int64_t n_tx) noexcept nogil:
    """Put the items held by every basket (the closure of the empty set) in
    prefix/in_q and emit them when they form a wanted itemset; returns their
    number."""
    cdef int64_t q0 = 0
    cdef int r
    for r in range(c.m):
        if c.rank_count[r] == n_tx:
            c.in_q[r] = 1
            c.prefix[q0] = r
            q0 += 1
    # maximal: the set is extendable when any other item is frequent
    if 0 < q0 <= c.max_len and n_tx >= c.min_count and (c.target == TARGET_CLOSED or q0 == c.m):
        _emit(c, <int>q0, n_tx)
    return q0

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
