# Sequential pattern kernel: PrefixSpan over pseudo-projections that keep
# every embedding end.
#
# A sequence is one customer's baskets in time order; each basket is an
# element (a set of items).  A pattern <X1 X2 ... Xk> is held by a sequence
# when its elements sit, in order, inside increasing baskets that meet the
# gap and span constraints.
#
# The projection of a pattern P on a sequence is the set of pairs (e, s):
# e is a basket where P's last element can end in a valid embedding, and s
# the latest basket where such an embedding can start.  Whether P extends
# depends only on these pairs (gaps look at e, the span at s), so the
# constraints are enforced inside the search, exactly, and the projection
# never holds more than one pair per basket.
#
# One scan of a node's projection counts every extension -- items added to
# the last element (I-step) and new elements after it (S-step) -- and a second
# scan delivers the pairs of the frequent ones into their own buckets (the
# children's projections), all on one stack-like arena.
#
# Coordinates: a gap or span is measured on an "axis", one int64 per basket,
# non-decreasing inside a sequence: the basket's global index (counting
# baskets) or its timestamp in ns (durations).  The wrapper picks an axis for
# each constraint (basketmine/sequences.py).
#
# When the only constraint is "a later basket", the search runs instead on
# physical copies of the suffixes reduced level by level (_flat_node for one
# item per basket, _mflat_node for several).
#
# Entry points: mine (patterns) and follow_ups (an antecedent itemset, then
# one consequent within a window, with lag quartiles); both share the search
# above through one context (Ctx).
#
# Items are frequent-item ranks (ascending inside each basket); the output
# maps them back to item codes.

from libc.stdlib cimport malloc, realloc, free, calloc, qsort
from libc.string cimport memset, memcpy
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.math cimport NAN
from cpython.object cimport PyObject

import numpy as np
cimport numpy as cnp

include "_kernel.pxi"

cnp.import_array()

cdef extern from "Python.h":
    object PyFrozenSet_New(PyObject* iterable)
    int PySet_Add(object s, object key) except -1

STOP_REASONS = stop_reasons("max_patterns")


cdef int64_t NO_LIMIT = -1
cdef int64_t INT32_LIMIT = 2147483647

# follow_ups: what an item may be in a rule (bits of ``roles``)
ROLE_ANTECEDENT = 1
ROLE_CONSEQUENT = 2
cdef enum:
    ROLE_ANTE = 1
    ROLE_CONS = 2


cdef struct Child:
    int32_t x
    int32_t is_s          # 1: new element (S-step), 0: item added to the last element
    int64_t count
    int64_t off           # arena offset of its projection (int32 pairs)
    int64_t n             # pairs


cdef struct Ctx:
    # data
    const int64_t* el_ptr
    const int32_t* items
    const int32_t* seq_of
    const int64_t* seq_end
    const int64_t* ax_min
    const int64_t* ax_max
    const int64_t* ax_span
    const int64_t* times        # ns, for lags (follow mode)
    int64_t min_gap
    int64_t max_gap
    int64_t max_span
    bint has_max_gap
    bint has_span
    bint simple                  # only "a later basket", min_gap counted in baskets
    bint first_only              # simple, and no basket holds two items: an S-child
                                 # needs only its first basket in each sequence
    int m
    # follow-up mode: antecedent itemset then exactly one consequent item
    bint follow
    const uint8_t* roles         # per rank: ROLE_ANTE | ROLE_CONS
    # output
    int32_t* out_items
    uint8_t* out_start
    int64_t out_len
    int64_t out_cap
    int64_t* out_offsets
    int64_t* out_counts
    double* out_lag           # 3 per pattern (follow mode): q1, median, q3 (ns)
    int64_t n_pat
    int64_t pat_cap
    int64_t max_pat
    const int32_t* rank_to_code
    # search
    int32_t* pre_items
    uint8_t* pre_start
    int max_len
    int64_t min_count
    int stop
    int64_t ticks
    double deadline
    int64_t* status
    # scratch
    int32_t* arena
    int64_t arena_len
    int64_t arena_cap
    int64_t* icnt
    int64_t* itot
    int64_t* iseen
    int64_t* scnt
    int64_t* stot
    int64_t* sseen
    int64_t* icur
    int64_t* scur
    int64_t stamp
    int32_t* valid             # 2 per basket of the longest sequence: (p, s)
    int32_t* dq                # deque of pair indices
    double* lagbuf


cdef inline int _tick(Ctx* c) noexcept nogil:
    c.ticks += 1
    c.stop = _poll(c.ticks, c.n_pat, c.status, c.deadline, c.stop)
    return c.stop


cdef int _grow_patterns(Ctx* c, int64_t length) noexcept nogil:
    cdef int64_t need
    cdef void* p
    if c.n_pat + 1 >= c.pat_cap:
        need = c.pat_cap * 2
        p = realloc(c.out_offsets, (need + 1) * sizeof(int64_t))
        if p == NULL:
            return STOP_NOMEM
        c.out_offsets = <int64_t*>p
        p = realloc(c.out_counts, need * sizeof(int64_t))
        if p == NULL:
            return STOP_NOMEM
        c.out_counts = <int64_t*>p
        if c.follow:
            p = realloc(c.out_lag, 3 * need * sizeof(double))
            if p == NULL:
                return STOP_NOMEM
            c.out_lag = <double*>p
        c.pat_cap = need
    if c.out_len + length > c.out_cap:
        need = c.out_cap * 2
        while need < c.out_len + length:
            need *= 2
        p = realloc(c.out_items, need * sizeof(int32_t))
        if p == NULL:
            return STOP_NOMEM
        c.out_items = <int32_t*>p
        p = realloc(c.out_start, need * sizeof(uint8_t))
        if p == NULL:
            return STOP_NOMEM
        c.out_start = <uint8_t*>p
        c.out_cap = need
    return STOP_NONE


cdef int _emit(Ctx* c, int length, int64_t count) noexcept nogil:
    """Append the prefix (length items) with its count; returns the stop code."""
    cdef int i
    if c.n_pat >= c.max_pat:
        c.stop = STOP_CAP
        return c.stop
    if _grow_patterns(c, length):
        c.stop = STOP_NOMEM
        return c.stop
    for i in range(length):
        c.out_items[c.out_len + i] = c.rank_to_code[c.pre_items[i]]
        c.out_start[c.out_len + i] = c.pre_start[i]
    c.out_len += length
    c.out_counts[c.n_pat] = count
    if c.follow:
        c.out_lag[3 * c.n_pat] = NAN
        c.out_lag[3 * c.n_pat + 1] = NAN
        c.out_lag[3 * c.n_pat + 2] = NAN
    c.n_pat += 1
    c.out_offsets[c.n_pat] = c.out_len
    return c.stop


cdef int64_t _arena_alloc(Ctx* c, int64_t n) noexcept nogil:
    """Reserve n int32 slots on the arena stack; returns the offset, or -1
    (stop set) when out of memory."""
    cdef int64_t off = c.arena_len
    if _reserve(<void**>&c.arena, &c.arena_cap, off + n, sizeof(int32_t)):
        c.stop = STOP_NOMEM
        return -1
    c.arena_len = off + n
    return off


cdef int64_t _valid_after(Ctx* c, const int32_t* P, int64_t k, int64_t g) noexcept nogil:
    """The baskets where a new element may follow the pairs P[k:g] (one
    sequence), each with the latest start that allows it.  Fills c.valid
    with (p, s) and returns how many."""
    cdef int64_t e_first = P[2 * k]
    cdef int64_t end = c.seq_end[c.seq_of[e_first]]
    cdef int64_t p, lo = k, hi = k, nout = 0, head = 0, tail = 0, sbest
    cdef int32_t* out = c.valid
    cdef int32_t* dq = c.dq
    if c.simple:
        for p in range(e_first + c.min_gap, end):
            out[2 * nout] = <int32_t>p
            out[2 * nout + 1] = P[2 * k + 1]
            nout += 1
        return nout
    for p in range(e_first + 1, end):
        # pairs that are far enough behind p join the window (a prefix of P[k:g])
        while hi < g and P[2 * hi] < p and c.ax_min[p] - c.ax_min[P[2 * hi]] >= c.min_gap:
            while tail > head and P[2 * dq[tail - 1] + 1] <= P[2 * hi + 1]:
                tail -= 1
            dq[tail] = <int32_t>hi
            tail += 1
            hi += 1
        if c.has_max_gap:
            # pairs too far behind p leave it (a prefix of the window)
            while lo < hi and c.ax_max[p] - c.ax_max[P[2 * lo]] > c.max_gap:
                lo += 1
            while tail > head and dq[head] < lo:
                head += 1
            if lo >= g:
                break
        if tail == head:
            continue
        sbest = P[2 * dq[head] + 1]
        if c.has_span and c.ax_span[p] - c.ax_span[sbest] > c.max_span:
            if hi >= g:
                break  # the window can only lose starts from here on
            continue
        out[2 * nout] = <int32_t>p
        out[2 * nout + 1] = <int32_t>sbest
        nout += 1
    return nout


cdef inline bint _kid_less(const Child* a, const Child* b) noexcept nogil:
    return a.is_s < b.is_s or (a.is_s == b.is_s and a.x < b.x)


cdef void _sort_kids(Child* k, int64_t n) noexcept nogil:
    """Children in emission order (I-steps first, then S-steps, items
    ascending; keys are distinct): quicksort, median of three, insertion
    sort for short runs.  A node sorts its children once, so this runs as
    often as nodes do; no comparison through a function pointer."""
    cdef int64_t i, j, lo, hi, mid
    cdef Child t, pivot
    while n > 16:
        mid = n // 2
        if _kid_less(&k[mid], &k[0]):
            t = k[mid]; k[mid] = k[0]; k[0] = t
        if _kid_less(&k[n - 1], &k[mid]):
            t = k[n - 1]; k[n - 1] = k[mid]; k[mid] = t
            if _kid_less(&k[mid], &k[0]):
                t = k[mid]; k[mid] = k[0]; k[0] = t
        pivot = k[mid]
        lo = 0
        hi = n - 1
        while True:
            while _kid_less(&k[lo], &pivot):
                lo += 1
            while _kid_less(&pivot, &k[hi]):
                hi -= 1
            if lo >= hi:
                break
            t = k[lo]; k[lo] = k[hi]; k[hi] = t
            lo += 1
            hi -= 1
        # k[:hi + 1] <= pivot <= k[hi + 1:]; recurse into the smaller side
        if hi + 1 < n - hi - 1:
            _sort_kids(k, hi + 1)
            k += hi + 1
            n -= hi + 1
        else:
            _sort_kids(k + hi + 1, n - hi - 1)
            n = hi + 1
    for i in range(1, n):
        t = k[i]
        j = i
        while j > 0 and _kid_less(&t, &k[j - 1]):
            k[j] = k[j - 1]
            j -= 1
        k[j] = t


cdef int _cmp_double(const void* a, const void* b) noexcept nogil:
    cdef double x = (<const double*>a)[0]
    cdef double y = (<const double*>b)[0]
    return (x > y) - (x < y)


cdef inline double _quantile(const double* v, int64_t n, double q) noexcept nogil:
    """Linear-interpolation quantile of sorted v (numpy's default)."""
    cdef double pos = q * (n - 1)
    cdef int64_t i = <int64_t>pos
    if i >= n - 1:
        return v[n - 1]
    return v[i] + (pos - i) * (v[i + 1] - v[i])


cdef void _record_lags(Ctx* c, int64_t off, int64_t n) noexcept nogil:
    """Lag of each customer of a follow-up pattern: from the earliest
    consequent basket back to the latest antecedent start before it."""
    cdef const int32_t* P = c.arena + off
    cdef int64_t k = 0, nl = 0, sid, last_sid = -1
    for k in range(n):
        sid = c.seq_of[P[2 * k]]
        if sid != last_sid:
            c.lagbuf[nl] = <double>(c.times[P[2 * k]] - c.times[P[2 * k + 1]])
            nl += 1
            last_sid = sid
    if nl == 0:
        return
    qsort(c.lagbuf, nl, sizeof(double), _cmp_double)
    c.out_lag[3 * (c.n_pat - 1)] = _quantile(c.lagbuf, nl, 0.25)
    c.out_lag[3 * (c.n_pat - 1) + 1] = _quantile(c.lagbuf, nl, 0.5)
    c.out_lag[3 * (c.n_pat - 1) + 2] = _quantile(c.lagbuf, nl, 0.75)


cdef void _scan(Ctx* c, int64_t off, int64_t n, int32_t last, bint allow_i, bint allow_s,
                bint deliver, int32_t* touch, int64_t* n_touch_i, int64_t* n_touch_s) noexcept nogil:
    """One pass over a node's projection arena[off:off+2n], sequence by
    sequence.  Counting (deliver False): customers and pairs of every
    extension, new items listed in touch (I-steps) and touch + m (S-steps).
    Delivering: the pairs of the extensions still counted (icnt/scnt > 0)
    into their buckets at icur/scur."""
    cdef const int32_t* P = c.arena + off
    cdef int64_t k = 0, g, j, q, e, sid, nv, v, x, pos
    cdef int32_t s
    while k < n:
        sid = c.seq_of[P[2 * k]]
        g = k + 1
        while g < n and c.seq_of[P[2 * g]] == sid:
            g += 1
        c.stamp += 1
        if allow_i:
            for j in range(k, g):
                e = P[2 * j]
                for q in range(c.el_ptr[e], c.el_ptr[e + 1]):
                    x = c.items[q]
                    if x <= last:
                        continue
                    if deliver:
                        if c.icnt[x] > 0:
                            pos = c.icur[x]
                            c.arena[pos] = <int32_t>e
                            c.arena[pos + 1] = P[2 * j + 1]
                            c.icur[x] = pos + 2
                        continue
                    if c.follow and not (c.roles[x] & ROLE_ANTE):
                        continue
                    if c.iseen[x] != c.stamp:
                        c.iseen[x] = c.stamp
                        if c.icnt[x] == 0:
                            touch[n_touch_i[0]] = <int32_t>x
                            n_touch_i[0] += 1
                        c.icnt[x] += 1
                    c.itot[x] += 1
        if allow_s:
            nv = _valid_after(c, P, k, g)
            for v in range(nv):
                e = c.valid[2 * v]
                s = c.valid[2 * v + 1]
                for q in range(c.el_ptr[e], c.el_ptr[e + 1]):
                    x = c.items[q]
                    if deliver:
                        if c.scnt[x] > 0:
                            if c.first_only:
                                if c.sseen[x] == c.stamp:
                                    continue
                                c.sseen[x] = c.stamp
                            pos = c.scur[x]
                            c.arena[pos] = <int32_t>e
                            c.arena[pos + 1] = s
                            c.scur[x] = pos + 2
                        continue
                    if c.follow and not (c.roles[x] & ROLE_CONS):
                        continue
                    if c.sseen[x] != c.stamp:
                        c.sseen[x] = c.stamp
                        if c.scnt[x] == 0:
                            touch[c.m + n_touch_s[0]] = <int32_t>x
                            n_touch_s[0] += 1
                        c.scnt[x] += 1
                    elif c.first_only:
                        continue
                    c.stot[x] += 1
        k = g


cdef void _node(Ctx* c, int64_t off, int64_t n, int L, int32_t last, int n_elem) noexcept nogil:
    """Extend the pattern in c.pre_*[0:L] whose projection is arena[off:off+2n]."""
    cdef int64_t save = c.arena_len
    cdef int64_t k, g, j, q, e, sid, nv, v, x, tot, pos
    cdef int64_t n_touch_i = 0, n_touch_s = 0, nchild = 0, ci
    cdef int64_t t_off
    cdef int32_t* P
    cdef int32_t* touch
    cdef Child* kids = NULL
    cdef bint allow_i, allow_s, deliver
    cdef int child_len = L + 1
    if _tick(c):
        return
    if L >= c.max_len:
        return
    allow_i = True
    allow_s = True
    if c.follow:
        allow_s = n_elem == 1            # the consequent is the second and last element
        allow_i = n_elem == 1            # antecedent items grow before it
        if L >= c.max_len - 1:
            allow_i = False              # keep one item of room for the consequent
    t_off = _arena_alloc(c, 2 * c.m)
    if t_off < 0:
        return
    # ---- count every extension
    touch = c.arena + t_off
    _scan(c, off, n, last, allow_i, allow_s, False, touch, &n_touch_i, &n_touch_s)
    # ---- the frequent ones become children, each with a bucket
    kids = <Child*>malloc((n_touch_i + n_touch_s + 1) * sizeof(Child))
    if kids == NULL:
        c.stop = STOP_NOMEM
    tot = 0
    for j in range(n_touch_i):
        x = touch[j]
        if kids != NULL and c.icnt[x] >= c.min_count:
            kids[nchild].x = <int32_t>x
            kids[nchild].is_s = 0
            kids[nchild].count = c.icnt[x]
            kids[nchild].n = c.itot[x]
            nchild += 1
        else:
            c.icnt[x] = 0
        c.itot[x] = 0
    for j in range(n_touch_s):
        x = touch[c.m + j]
        if kids != NULL and c.scnt[x] >= c.min_count:
            kids[nchild].x = <int32_t>x
            kids[nchild].is_s = 1
            kids[nchild].count = c.scnt[x]
            kids[nchild].n = c.stot[x]
            nchild += 1
        else:
            c.scnt[x] = 0
        c.stot[x] = 0
    if nchild == 0 or c.stop:
        for ci in range(nchild):
            if kids[ci].is_s:
                c.scnt[kids[ci].x] = 0
            else:
                c.icnt[kids[ci].x] = 0
        free(kids)
        c.arena_len = save
        return
    _sort_kids(kids, nchild)
    # children's projections are needed unless every child is a leaf that
    # needs nothing more (follow-up consequents need theirs for the lags)
    deliver = child_len < c.max_len or c.follow
    if deliver:
        for ci in range(nchild):
            kids[ci].off = _arena_alloc(c, 2 * kids[ci].n)
            if kids[ci].off < 0:
                deliver = False
                break
            if kids[ci].is_s:
                c.scur[kids[ci].x] = kids[ci].off
            else:
                c.icur[kids[ci].x] = kids[ci].off
    if deliver and not c.stop:
        _scan(c, off, n, last, allow_i, allow_s, True, NULL, NULL, NULL)
    for ci in range(nchild):
        if kids[ci].is_s:
            c.scnt[kids[ci].x] = 0
        else:
            c.icnt[kids[ci].x] = 0
    # ---- emit and recurse, I-steps first, then S-steps, items ascending
    if not c.stop:
        for ci in range(nchild):
            c.pre_items[L] = kids[ci].x
            c.pre_start[L] = <uint8_t>kids[ci].is_s
            if _emit(c, child_len, kids[ci].count):
                break
            if c.follow and kids[ci].is_s:
                _record_lags(c, kids[ci].off, kids[ci].n)
            elif deliver:
                _node(c, kids[ci].off, kids[ci].n, child_len, kids[ci].x,
                      n_elem + kids[ci].is_s)
                if c.stop:
                    break
    free(kids)
    c.arena_len = save


# ------------------------------------------------------- one item per basket
#
# When no basket holds two items (after dropping infrequent ones) and the only
# constraint is "a later basket", a sequence is a run of items and only the
# first occurrence of a pattern matters.  A node then keeps a physical copy of
# its suffixes, reduced to the items that extend it (a child's extensions are
# among its parent's, so each level scans less) -- the database reduction
# that makes the itemset miner fast, applied to suffixes.
#
# Layout of a node's database on the arena: suffixes one after the other,
# each as its length then its items.

cdef void _flat_node(Ctx* c, int64_t db_off, int64_t db_len, int L) noexcept nogil:
    cdef int64_t save = c.arena_len
    cdef int64_t i, j, end, x, n_f = 0, t_off, b_off, pos, k, fi, size, start, ln, w
    cdef int32_t* D
    cdef int32_t* touch
    cdef Child* kids = NULL
    if _tick(c) or L >= c.max_len:
        return
    t_off = _arena_alloc(c, c.m)
    if t_off < 0:
        return
    # ---- count: suffixes holding each item
    D = c.arena + db_off
    touch = c.arena + t_off
    i = 0
    while i < db_len:
        end = i + 1 + D[i]
        c.stamp += 1
        for j in range(i + 1, end):
            x = D[j]
            if c.sseen[x] != c.stamp:
                c.sseen[x] = c.stamp
                if c.scnt[x] == 0:
                    touch[n_f] = <int32_t>x
                    n_f += 1
                c.scnt[x] += 1
        i = end
    kids = <Child*>malloc((n_f + 1) * sizeof(Child))
    if kids == NULL:
        c.stop = STOP_NOMEM
    k = 0
    for j in range(n_f):
        x = touch[j]
        if kids != NULL and c.scnt[x] >= c.min_count:
            kids[k].x = <int32_t>x
            kids[k].is_s = 1
            kids[k].count = c.scnt[x]
            kids[k].n = 0
            k += 1
        c.scnt[x] = 0
    n_f = k
    if n_f == 0 or c.stop:
        free(kids)
        c.arena_len = save
        return
    _sort_kids(kids, n_f)
    # ---- deliver: where each frequent item first occurs in each suffix,
    # as (position after it, end of its suffix) pairs
    if L + 1 < c.max_len:
        pos = 0
        for fi in range(n_f):
            c.icnt[kids[fi].x] = fi + 1     # item -> child, 0: not extending
            kids[fi].off = pos
            pos += 2 * kids[fi].count
        b_off = _arena_alloc(c, pos)
        if b_off < 0:
            n_f = 0
        else:
            for fi in range(n_f):
                kids[fi].off += b_off
                c.scur[kids[fi].x] = kids[fi].off
            D = c.arena + db_off
            i = 0
            while i < db_len:
                end = i + 1 + D[i]
                c.stamp += 1
                for j in range(i + 1, end):
                    x = D[j]
                    if c.icnt[x] and c.sseen[x] != c.stamp:
                        c.sseen[x] = c.stamp
                        if j + 1 < end:
                            w = c.scur[x]
                            c.arena[w] = <int32_t>(j + 1)
                            c.arena[w + 1] = <int32_t>end
                            c.scur[x] = w + 2
                i = end
            for fi in range(n_f):
                kids[fi].n = (c.scur[kids[fi].x] - kids[fi].off) // 2
    # ---- emit and recurse, items ascending
    for fi in range(n_f):
        c.pre_items[L] = kids[fi].x
        c.pre_start[L] = 1
        if _emit(c, L + 1, kids[fi].count):
            break
        if L + 1 >= c.max_len or kids[fi].n == 0:
            continue
        # the child's database: its suffixes reduced to this node's frequent items
        for k in range(n_f):
            c.icnt[kids[k].x] = 1
        size = 0
        for k in range(kids[fi].n):
            size += c.arena[kids[fi].off + 2 * k + 1] - c.arena[kids[fi].off + 2 * k] + 1
        start = _arena_alloc(c, size)
        if start < 0:
            break
        w = start
        D = c.arena + db_off
        for k in range(kids[fi].n):
            j = c.arena[kids[fi].off + 2 * k]
            end = c.arena[kids[fi].off + 2 * k + 1]
            ln = 0
            for i in range(j, end):
                x = D[i]
                if c.icnt[x]:
                    c.arena[w + 1 + ln] = <int32_t>x
                    ln += 1
            if ln:
                c.arena[w] = <int32_t>ln
                w += ln + 1
        for k in range(n_f):
            c.icnt[kids[k].x] = 0
        c.arena_len = w
        if w > start:
            _flat_node(c, start, w - start, L + 1)
        c.arena_len = start
        if c.stop:
            break
    for k in range(n_f):
        c.icnt[kids[k].x] = 0
    free(kids)
    c.arena_len = save


# ------------------------------------------------------ several items per basket
#
# The same reduction when baskets hold several items (the only constraint
# still "a later basket").  A node's database keeps, for each sequence that
# holds its pattern, the baskets from the anchor on -- the anchor is the first
# basket where the pattern's last element can end -- reduced to the items
# that can still extend a child:
#
#   record:  [size, basket, basket, ...]     size: words after this one
#   basket:  [2 * n_items + is_end, items...]
#
# The anchor (a record's first basket, is_end 1) keeps only the items that may
# join the last element (I-steps).  Every later basket serves S-steps with all
# its items, and the ones flagged is_end -- where the last element can end too
# -- serve I-steps with their items above the last one.  A child's
# extensions are among its parent's frequent ones (an S-child's: the parent's
# frequent S-items; an I-child's: those, and for I-steps the parent's frequent
# I-items), so each level keeps less; empty baskets and records are dropped.

cdef void _mflat_count(Ctx* c, const int32_t* D, int64_t db_len, int32_t last, int32_t* touch,
                       int64_t* n_i, int64_t* n_s) noexcept nogil:
    """Customers (records) holding each I- and S-extension of the node."""
    cdef int64_t i = 0, j, b, bend, rend, x
    cdef int32_t hdr
    cdef bint first
    while i < db_len:
        rend = i + 1 + D[i]
        c.stamp += 1
        b = i + 1
        first = True
        while b < rend:
            hdr = D[b]
            bend = b + 1 + (hdr >> 1)
            for j in range(b + 1, bend):
                x = D[j]
                if (hdr & 1) and x > last and c.iseen[x] != c.stamp:
                    c.iseen[x] = c.stamp
                    if c.icnt[x] == 0:
                        touch[n_i[0]] = <int32_t>x
                        n_i[0] += 1
                    c.icnt[x] += 1
                if not first and c.sseen[x] != c.stamp:
                    c.sseen[x] = c.stamp
                    if c.scnt[x] == 0:
                        touch[c.m + n_s[0]] = <int32_t>x
                        n_s[0] += 1
                    c.scnt[x] += 1
            first = False
            b = bend
        i = rend


cdef void _mflat_anchors(Ctx* c, const int32_t* D, int64_t db_len, int32_t last) noexcept nogil:
    """For every child (icnt / scnt > 0), the (anchor basket, record end)
    pair of each record holding it, written at icur / scur."""
    cdef int64_t i = 0, j, b, bend, rend, x, w
    cdef int32_t hdr
    cdef bint first
    while i < db_len:
        rend = i + 1 + D[i]
        c.stamp += 1
        b = i + 1
        first = True
        while b < rend:
            hdr = D[b]
            bend = b + 1 + (hdr >> 1)
            for j in range(b + 1, bend):
                x = D[j]
                if (hdr & 1) and x > last and c.icnt[x] and c.iseen[x] != c.stamp:
                    c.iseen[x] = c.stamp
                    w = c.icur[x]
                    c.arena[w] = <int32_t>b
                    c.arena[w + 1] = <int32_t>rend
                    c.icur[x] = w + 2
                if not first and c.scnt[x] and c.sseen[x] != c.stamp:
                    c.sseen[x] = c.stamp
                    w = c.scur[x]
                    c.arena[w] = <int32_t>b
                    c.arena[w + 1] = <int32_t>rend
                    c.scur[x] = w + 2
            first = False
            b = bend
        i = rend


cdef int64_t _mflat_child(Ctx* c, const int32_t* D, const int32_t* A, int64_t n_rec, int32_t x,
                          bint is_s, int64_t w) noexcept nogil:
    """Write the database of child x (I- or S-step) at arena[w:] from its
    anchors A (pairs) in the parent's database D; the parent's frequent
    S-items are marked in scnt, its frequent I-items in icnt.  Returns the
    end of what was written."""
    cdef int64_t k, j, b, bend, rend, rec, bh, n, total, y
    cdef int32_t hdr
    cdef bint can_end, has_x
    cdef const int64_t* icand = c.scnt if is_s else c.icnt
    for k in range(n_rec):
        b = A[2 * k]
        rend = A[2 * k + 1]
        rec = w
        w += 1
        # the anchor: items that may join x's element
        hdr = D[b]
        bend = b + 1 + (hdr >> 1)
        bh = w
        w += 1
        n = 0
        for j in range(b + 1, bend):
            y = D[j]
            if y > x and icand[y]:
                c.arena[w] = <int32_t>y
                w += 1
                n += 1
        c.arena[bh] = <int32_t>(2 * n + 1)
        total = n
        b = bend
        while b < rend:
            hdr = D[b]
            bend = b + 1 + (hdr >> 1)
            can_end = is_s or (hdr & 1)
            has_x = False
            bh = w
            w += 1
            n = 0
            for j in range(b + 1, bend):
                y = D[j]
                if y == x:
                    has_x = can_end
                if c.scnt[y] or (has_x and y > x and icand[y]):
                    c.arena[w] = <int32_t>y
                    w += 1
                    n += 1
            if n:
                c.arena[bh] = <int32_t>(2 * n + has_x)
                total += n
            else:
                w = bh
            b = bend
        if total:
            c.arena[rec] = <int32_t>(w - rec - 1)
        else:
            w = rec
    return w


cdef void _mflat_node(Ctx* c, int64_t db_off, int64_t db_len, int L, int32_t last) noexcept nogil:
    cdef int64_t save = c.arena_len
    cdef int64_t j, k, fi, x, t_off, b_off, pos, size, start, w
    cdef int64_t n_i = 0, n_s = 0, nk = 0
    cdef int32_t* touch
    cdef const int32_t* A
    cdef Child* kids = NULL
    if _tick(c) or L >= c.max_len:
        return
    t_off = _arena_alloc(c, 2 * c.m)
    if t_off < 0:
        return
    # ---- count
    touch = c.arena + t_off
    _mflat_count(c, c.arena + db_off, db_len, last, touch, &n_i, &n_s)
    kids = <Child*>malloc((n_i + n_s + 1) * sizeof(Child))
    if kids == NULL:
        c.stop = STOP_NOMEM
    for j in range(n_i):
        x = touch[j]
        if kids != NULL and c.icnt[x] >= c.min_count:
            kids[nk].x = <int32_t>x
            kids[nk].is_s = 0
            kids[nk].count = c.icnt[x]
            kids[nk].n = 0
            nk += 1
        c.icnt[x] = 0
    for j in range(n_s):
        x = touch[c.m + j]
        if kids != NULL and c.scnt[x] >= c.min_count:
            kids[nk].x = <int32_t>x
            kids[nk].is_s = 1
            kids[nk].count = c.scnt[x]
            kids[nk].n = 0
            nk += 1
        c.scnt[x] = 0
    if nk == 0 or c.stop:
        free(kids)
        c.arena_len = save
        return
    _sort_kids(kids, nk)
    # ---- deliver each child's anchors
    if L + 1 < c.max_len:
        pos = 0
        for fi in range(nk):
            kids[fi].off = pos
            kids[fi].n = kids[fi].count
            pos += 2 * kids[fi].count
        b_off = _arena_alloc(c, pos)
        if b_off >= 0:
            for fi in range(nk):
                kids[fi].off += b_off
                if kids[fi].is_s:
                    c.scnt[kids[fi].x] = 1
                    c.scur[kids[fi].x] = kids[fi].off
                else:
                    c.icnt[kids[fi].x] = 1
                    c.icur[kids[fi].x] = kids[fi].off
            _mflat_anchors(c, c.arena + db_off, db_len, last)
    # (icnt / scnt now mark this node's frequent I- / S-items)
    # ---- emit and recurse, I-steps first, then S-steps, items ascending
    for fi in range(nk):
        c.pre_items[L] = kids[fi].x
        c.pre_start[L] = <uint8_t>kids[fi].is_s
        if _emit(c, L + 1, kids[fi].count):
            break
        if L + 1 >= c.max_len or c.stop:
            continue
        for k in range(nk):
            if kids[k].is_s:
                c.scnt[kids[k].x] = 1
            else:
                c.icnt[kids[k].x] = 1
        A = c.arena + kids[fi].off
        size = 0
        for k in range(kids[fi].n):
            size += A[2 * k + 1] - A[2 * k] + 1
        start = _arena_alloc(c, size)
        w = start
        if start >= 0:
            w = _mflat_child(c, c.arena + db_off, c.arena + kids[fi].off, kids[fi].n,
                             kids[fi].x, kids[fi].is_s, start)
        for k in range(nk):
            c.icnt[kids[k].x] = 0
            c.scnt[kids[k].x] = 0
        if start < 0:
            break
        c.arena_len = w
        if w > start:
            _mflat_node(c, start, w - start, L + 1, kids[fi].x)
        c.arena_len = start
        if c.stop:
            break
    for k in range(nk):
        c.icnt[kids[k].x] = 0
        c.scnt[kids[k].x] = 0
    free(kids)
    c.arena_len = save


# ------------------------------------------------------------------- roots

cdef void _flat_root(Ctx* c, const int64_t* seq_ptr, int64_t n_seq) noexcept nogil:
    """One item per basket: the root database is every sequence's items."""
    cdef int64_t i, q, total, pos = 0, need = 0
    for i in range(n_seq):
        total = c.el_ptr[seq_ptr[i + 1]] - c.el_ptr[seq_ptr[i]]
        if total:
            need += total + 1
    if _arena_alloc(c, need) < 0:
        return
    for i in range(n_seq):
        total = c.el_ptr[seq_ptr[i + 1]] - c.el_ptr[seq_ptr[i]]
        if total:
            c.arena[pos] = <int32_t>total
            for q in range(c.el_ptr[seq_ptr[i]], c.el_ptr[seq_ptr[i + 1]]):
                pos += 1
                c.arena[pos] = c.items[q]
            pos += 1
    _flat_node(c, 0, pos, 0)


cdef void _mflat_root(Ctx* c, const int64_t* seq_ptr, int64_t n_seq) noexcept nogil:
    """Several items per basket: every sequence as a record whose anchor is
    empty and whose baskets all serve S-steps."""
    cdef int64_t i, e, q, n, rec, w = 0, need = 0
    for i in range(n_seq):
        n = c.el_ptr[seq_ptr[i + 1]] - c.el_ptr[seq_ptr[i]]
        if n:
            need += 2 + (seq_ptr[i + 1] - seq_ptr[i]) + n
    if _arena_alloc(c, need) < 0:
        return
    for i in range(n_seq):
        if c.el_ptr[seq_ptr[i + 1]] == c.el_ptr[seq_ptr[i]]:
            continue
        rec = w
        c.arena[w + 1] = 1          # the anchor: no item, the empty pattern ends before
        w += 2
        for e in range(seq_ptr[i], seq_ptr[i + 1]):
            n = c.el_ptr[e + 1] - c.el_ptr[e]
            if n == 0:
                continue
            c.arena[w] = <int32_t>(2 * n)
            w += 1
            for q in range(c.el_ptr[e], c.el_ptr[e + 1]):
                c.arena[w] = c.items[q]
                w += 1
        c.arena[rec] = <int32_t>(w - rec - 1)
    _mflat_node(c, 0, w, 0, -1)


cdef void _general_root(Ctx* c, const int64_t* seq_ptr, int64_t n_seq,
                        const uint8_t* anchor_ok) noexcept nogil:
    """Projections (e, e) of every basket where each item may start a
    pattern (every basket when anchor_ok is NULL), then the search."""
    cdef int64_t i, e, q, x, total, pos
    cdef int64_t* cursor = <int64_t*>malloc((c.m + 1) * sizeof(int64_t))
    cdef int64_t* seen = <int64_t*>malloc((c.m + 1) * sizeof(int64_t))
    cdef int64_t* root_count = <int64_t*>calloc(c.m + 1, sizeof(int64_t))
    if cursor == NULL or seen == NULL or root_count == NULL:
        c.stop = STOP_NOMEM
    else:
        for x in range(c.m):
            seen[x] = -1
            cursor[x] = 0
        for i in range(n_seq):
            for e in range(seq_ptr[i], seq_ptr[i + 1]):
                if anchor_ok != NULL and not anchor_ok[e]:
                    continue
                for q in range(c.el_ptr[e], c.el_ptr[e + 1]):
                    x = c.items[q]
                    cursor[x] += 1
                    if seen[x] != i:
                        seen[x] = i
                        root_count[x] += 1
        pos = 0
        for x in range(c.m):
            total = cursor[x]
            cursor[x] = pos
            pos += 2 * total
        if _arena_alloc(c, pos) >= 0:
            for i in range(n_seq):
                for e in range(seq_ptr[i], seq_ptr[i + 1]):
                    if anchor_ok != NULL and not anchor_ok[e]:
                        continue
                    for q in range(c.el_ptr[e], c.el_ptr[e + 1]):
                        x = c.items[q]
                        c.arena[cursor[x]] = <int32_t>e
                        c.arena[cursor[x] + 1] = <int32_t>e
                        cursor[x] += 2
            pos = 0
            for x in range(c.m):
                total = cursor[x] - pos
                if root_count[x] >= c.min_count and (not c.follow or (c.roles[x] & ROLE_ANTE)):
                    c.pre_items[0] = <int32_t>x
                    c.pre_start[0] = 1
                    if _emit(c, 1, root_count[x]):
                        break
                    if c.max_len > 1:
                        _node(c, pos, total // 2, 1, <int32_t>x, 1)
                        if c.stop:
                            break
                pos = cursor[x]
    free(cursor)
    free(seen)
    free(root_count)


# ------------------------------------------------------------- entry points

cdef object _open(Ctx* c, const int64_t[::1] seq_ptr, const int64_t[::1] el_ptr,
                  const int32_t[::1] items, const int32_t[::1] rank_to_code, int64_t min_count,
                  int max_len, int64_t max_patterns, double time_limit, int64_t[::1] status,
                  bint follow):
    """Check the sequence database, point c at it and allocate c's buffers
    (c zeroed first, so _close can always run).  Returns the arrays c
    borrows; keep them alive while mining."""
    cdef int64_t n_seq = seq_ptr.shape[0] - 1, n_el = el_ptr.shape[0] - 1, i, q, e
    cdef int64_t longest = 0, most_items = 0
    cdef int m = rank_to_code.shape[0]
    cdef bint first_only = True
    memset(c, 0, sizeof(Ctx))
    if n_seq < 0 or n_el < 0 or seq_ptr[0] != 0 or seq_ptr[n_seq] != n_el or el_ptr[0] != 0 \
            or el_ptr[n_el] != items.shape[0]:
        raise ValueError("seq_ptr / el_ptr / items do not describe one sequence database: "
                         "seq_ptr must run from 0 to len(el_ptr) - 1, el_ptr from 0 to len(items)")
    if status.shape[0] < 4:
        raise ValueError(f"status must hold 4 int64, got {status.shape[0]}")
    if min_count < 1 or max_patterns < 0:
        raise ValueError(f"min_count must be >= 1 and max_patterns >= 0, got {min_count}, {max_patterns}")
    for i in range(n_seq):
        if seq_ptr[i + 1] < seq_ptr[i]:
            raise ValueError(f"seq_ptr must not decrease (at sequence {i})")
        longest = max(longest, seq_ptr[i + 1] - seq_ptr[i])
        most_items = max(most_items, el_ptr[seq_ptr[i + 1]] - el_ptr[seq_ptr[i]])
    for e in range(n_el):
        if el_ptr[e + 1] < el_ptr[e]:
            raise ValueError(f"el_ptr must not decrease (at basket {e})")
        if el_ptr[e + 1] - el_ptr[e] > 1:
            first_only = False
        for q in range(el_ptr[e], el_ptr[e + 1]):
            if items[q] < 0 or items[q] >= m or (q > el_ptr[e] and items[q] <= items[q - 1]):
                raise ValueError(f"items must be ranks in [0, {m}), ascending within each "
                                 f"basket; basket {e} breaks this")
    seq_of_arr = np.repeat(np.arange(n_seq, dtype=np.int32), np.diff(np.asarray(seq_ptr)))
    cdef const int32_t[::1] seq_of = seq_of_arr
    c.m = m
    if n_el > 0:
        c.el_ptr = &el_ptr[0]
        c.seq_of = &seq_of[0]
        c.seq_end = &seq_ptr[1]
    if items.shape[0] > 0:
        c.items = &items[0]
    c.first_only = first_only
    c.min_count = min_count
    # a pattern is never longer than the most items of a sequence
    c.max_len = <int>min(max(max_len, 0), most_items)
    c.max_pat = max_patterns
    c.rank_to_code = &rank_to_code[0] if m > 0 else NULL
    c.status = &status[0]
    c.deadline = _now() + time_limit if time_limit > 0 else 0.0
    c.follow = follow
    c.pat_cap = 1024
    c.out_cap = 4096
    c.out_offsets = <int64_t*>malloc((c.pat_cap + 1) * sizeof(int64_t))
    c.out_counts = <int64_t*>malloc(c.pat_cap * sizeof(int64_t))
    c.out_items = <int32_t*>malloc(c.out_cap * sizeof(int32_t))
    c.out_start = <uint8_t*>malloc(c.out_cap * sizeof(uint8_t))
    c.out_lag = <double*>malloc(3 * c.pat_cap * sizeof(double)) if follow else NULL
    c.pre_items = <int32_t*>malloc((c.max_len + 1) * sizeof(int32_t))
    c.pre_start = <uint8_t*>malloc((c.max_len + 1) * sizeof(uint8_t))
    c.icnt = <int64_t*>calloc(m + 1, sizeof(int64_t))
    c.itot = <int64_t*>calloc(m + 1, sizeof(int64_t))
    c.iseen = <int64_t*>calloc(m + 1, sizeof(int64_t))
    c.scnt = <int64_t*>calloc(m + 1, sizeof(int64_t))
    c.stot = <int64_t*>calloc(m + 1, sizeof(int64_t))
    c.sseen = <int64_t*>calloc(m + 1, sizeof(int64_t))
    c.icur = <int64_t*>malloc((m + 1) * sizeof(int64_t))
    c.scur = <int64_t*>malloc((m + 1) * sizeof(int64_t))
    c.valid = <int32_t*>malloc((2 * longest + 2) * sizeof(int32_t))
    c.dq = <int32_t*>malloc((longest + 2) * sizeof(int32_t))
    c.lagbuf = <double*>malloc((n_seq + 1) * sizeof(double)) if follow else NULL
    c.arena_cap = max(2 * items.shape[0] + 2 * m, 1024)
    c.arena = <int32_t*>malloc(c.arena_cap * sizeof(int32_t))
    if (c.out_offsets == NULL or c.out_counts == NULL or c.out_items == NULL
            or c.out_start == NULL or c.pre_items == NULL or c.pre_start == NULL
            or c.icnt == NULL or c.itot == NULL or c.iseen == NULL or c.scnt == NULL
            or c.stot == NULL or c.sseen == NULL or c.icur == NULL or c.scur == NULL
            or c.valid == NULL or c.dq == NULL or c.arena == NULL
            or (follow and (c.out_lag == NULL or c.lagbuf == NULL))):
        raise MemoryError("cannot allocate the sequence miner's working memory")
    c.out_offsets[0] = 0
    return seq_of_arr


cdef void _close(Ctx* c) noexcept:
    free(c.out_offsets); free(c.out_counts); free(c.out_items); free(c.out_start)
    free(c.out_lag); free(c.pre_items); free(c.pre_start)
    free(c.icnt); free(c.itot); free(c.iseen); free(c.scnt); free(c.stot); free(c.sseen)
    free(c.icur); free(c.scur); free(c.valid); free(c.dq); free(c.lagbuf); free(c.arena)


cdef tuple _results(Ctx* c):
    """(items, starts, offsets, counts) of the patterns found, as arrays."""
    cdef int64_t n = c.n_pat
    if c.status != NULL:
        c.status[0] = c.n_pat
        c.status[2] = c.ticks
    out_items = np.empty(c.out_len, dtype=np.int32)
    out_start = np.empty(c.out_len, dtype=np.uint8)
    offsets = np.empty(n + 1, dtype=np.int64)
    counts = np.empty(n, dtype=np.int64)
    if c.out_len:
        memcpy(cnp.PyArray_DATA(out_items), c.out_items, c.out_len * sizeof(int32_t))
        memcpy(cnp.PyArray_DATA(out_start), c.out_start, c.out_len * sizeof(uint8_t))
    memcpy(cnp.PyArray_DATA(offsets), c.out_offsets, (n + 1) * sizeof(int64_t))
    if n:
        memcpy(cnp.PyArray_DATA(counts), c.out_counts, n * sizeof(int64_t))
    return out_items, out_start, offsets, counts


cdef const int64_t* _axis(object axis, int64_t n_el, str name, list keep) except? NULL:
    """The coordinates of a gap: ``axis`` (one int64 per basket), or the
    basket index when None."""
    cdef const int64_t[::1] v
    if axis is None:
        axis = np.arange(max(n_el, 1), dtype=np.int64)
    v = axis
    if v.shape[0] < n_el:
        raise ValueError(f"{name} must hold one int64 per basket ({n_el}), got {v.shape[0]}")
    keep.append(axis)
    return &v[0] if v.shape[0] > 0 else NULL


def mine(const int64_t[::1] seq_ptr,     # IN  baskets of each sequence (global basket index)
         const int64_t[::1] el_ptr,      # IN  items of each basket
         const int32_t[::1] items,       # IN  frequent-item ranks, ascending per basket
         const int32_t[::1] rank_to_code,
         int64_t min_count, int max_len, int64_t max_patterns, double time_limit,
         int64_t[::1] status,            # IN/OUT shared progress block
         *, int64_t min_gap=1, int64_t max_gap=-1, int64_t max_span=-1,
         object min_gap_axis=None, object max_gap_axis=None, object span_axis=None):
    """Mine the patterns held by >= min_count sequences, up to max_len items.

    Consecutive elements sit at least ``min_gap`` and at most ``max_gap``
    apart, the last at most ``max_span`` after the first (< 0: no limit),
    each measured on its axis: an int64 per basket, non-decreasing inside a
    sequence (None: the basket index).

    Returns (items, starts, offsets, counts, stop_code): item codes, 1 where
    an item opens a new element, per-pattern offsets, counts.
    """
    cdef Ctx c
    cdef int64_t n_seq = seq_ptr.shape[0] - 1, n_el = el_ptr.shape[0] - 1
    cdef list keep = []
    cdef bint simple
    if min_gap < 1:
        raise ValueError(f"min_gap must be >= 1, got {min_gap}")
    try:
        keep.append(_open(&c, seq_ptr, el_ptr, items, rank_to_code, min_count, max_len,
                          max_patterns, time_limit, status, False))
        simple = min_gap_axis is None and max_gap < 0 and max_span < 0
        c.simple = simple
        c.first_only = simple and c.first_only
        c.min_gap = min_gap
        c.max_gap = max_gap
        c.max_span = max_span
        c.has_max_gap = max_gap >= 0
        c.has_span = max_span >= 0
        if not simple:
            c.ax_min = _axis(min_gap_axis, n_el, "min_gap_axis", keep)
            c.ax_max = _axis(max_gap_axis, n_el, "max_gap_axis", keep)
            c.ax_span = _axis(span_axis, n_el, "span_axis", keep)
        with nogil:
            if c.m > 0 and c.max_len >= 1:
                if simple and min_gap == 1 and c.first_only:
                    _flat_root(&c, &seq_ptr[0], n_seq)
                elif simple and min_gap == 1 and 2 * n_seq + n_el + items.shape[0] < INT32_LIMIT:
                    _mflat_root(&c, &seq_ptr[0], n_seq)
                else:
                    _general_root(&c, &seq_ptr[0], n_seq, NULL)
        return _results(&c) + (c.stop,)
    finally:
        _close(&c)


def follow_ups(const int64_t[::1] seq_ptr,     # IN  baskets of each sequence
               const int64_t[::1] el_ptr,      # IN  items of each basket
               const int32_t[::1] items,       # IN  ranks, ascending per basket
               const int32_t[::1] rank_to_code,
               const int64_t[::1] times,       # IN  ns per basket
               const uint8_t[::1] anchor_ok,   # IN  baskets where an antecedent may be bought
               const uint8_t[::1] roles,       # IN  per rank: ROLE_ANTECEDENT | ROLE_CONSEQUENT
               int64_t within, int64_t min_count, int max_antecedent_len, int64_t max_rules,
               double time_limit,
               int64_t[::1] status,            # IN/OUT shared progress block
               *, int64_t min_gap=1, bint min_gap_in_time=False):
    """Mine follow-up patterns: an antecedent itemset (bought in one basket
    of anchor_ok, at most max_antecedent_len items) then one consequent
    item in a later basket, at most ``within`` ns after it and at least
    ``min_gap`` baskets (ns with ``min_gap_in_time``) after it.

    Returns (items, starts, offsets, counts, lags, stop_code): every
    antecedent held by >= min_count sequences, each followed by its rules
    (two-element patterns); lags (n, 3) holds each rule's quartiles over its
    customers of the ns from the latest antecedent to the first consequent
    (NaN for antecedents).
    """
    cdef Ctx c
    cdef int64_t n_seq = seq_ptr.shape[0] - 1, n_el = el_ptr.shape[0] - 1, n
    cdef list keep = []
    if min_gap < 0 or within < 0 or max_antecedent_len < 1:
        raise ValueError(f"min_gap and within must be >= 0 and max_antecedent_len >= 1, got "
                         f"{min_gap}, {within}, {max_antecedent_len}")
    if times.shape[0] != n_el or anchor_ok.shape[0] != n_el:
        raise ValueError(f"times and anchor_ok must hold one value per basket ({n_el}), got "
                         f"{times.shape[0]} and {anchor_ok.shape[0]}")
    if roles.shape[0] != rank_to_code.shape[0]:
        raise ValueError(f"roles must hold one value per rank ({rank_to_code.shape[0]}), got "
                         f"{roles.shape[0]}")
    try:
        keep.append(_open(&c, seq_ptr, el_ptr, items, rank_to_code, min_count,
                          max_antecedent_len + 1, max_rules, time_limit, status, True))
        c.first_only = False
        c.min_gap = min_gap
        c.max_gap = within
        c.has_max_gap = True
        c.has_span = False
        if n_el > 0:
            c.times = &times[0]
            c.ax_max = &times[0]
            c.ax_span = &times[0]
        c.ax_min = c.ax_max if min_gap_in_time else _axis(None, n_el, "", keep)
        if c.m > 0:
            c.roles = &roles[0]
        with nogil:
            if c.m > 0 and c.max_len >= 1:
                _general_root(&c, &seq_ptr[0], n_seq, &anchor_ok[0] if n_el > 0 else NULL)
        out = _results(&c)
        n = c.n_pat
        lags = np.empty((n, 3), dtype=np.float64)
        if n:
            memcpy(cnp.PyArray_DATA(lags), c.out_lag, 3 * n * sizeof(double))
        return out + (lags, c.stop)
    finally:
        _close(&c)


# ------------------------------------------------------------ closed/maximal

cdef int64_t _drop_one(const int32_t* it, const uint8_t* st, int64_t n, int64_t j,
                       int32_t* out_it, uint8_t* out_st) noexcept nogil:
    """The pattern without its item j (an element left empty disappears)."""
    cdef int64_t i, k = 0
    for i in range(n):
        if i == j:
            continue
        out_it[k] = it[i]
        out_st[k] = st[i]
        if i == j + 1 and st[j] and not st[i]:
            out_st[k] = 1  # item j opened its element; the next item now does
        k += 1
    return k


cdef uint64_t _hash_pattern(const int32_t* it, const uint8_t* st, int64_t n) noexcept nogil:
    cdef uint64_t h = _hash_start()
    cdef int64_t i
    for i in range(n):
        h = _mix(h, (<uint64_t>(<uint32_t>it[i]) << 1) | st[i])
    return h


def closure_mask(const int32_t[::1] items, const uint8_t[::1] starts,
                 const int64_t[::1] offsets, const int64_t[::1] counts, bint maximal):
    """Flag the closed (or maximal) patterns of a complete collection.

    A pattern is closed when no pattern of the collection one item longer
    contains it with the same count, maximal when none contains it at all.
    Returns a uint8 array, 1 for the patterns to keep.
    """
    cdef int64_t n = counts.shape[0]
    cdef int64_t size = 1, i, j, k, slot, idx, a0, ln, longest = 0, m
    cdef uint64_t h
    cdef int64_t* table = NULL
    cdef int32_t* tmp_it = NULL
    cdef uint8_t* tmp_st = NULL
    cdef bint same
    keep_arr = np.ones(n, dtype=np.uint8)
    cdef uint8_t[::1] keep = keep_arr
    if n == 0:
        return keep_arr
    while size < 2 * n:
        size *= 2
    for i in range(n):
        longest = max(longest, offsets[i + 1] - offsets[i])
    table = <int64_t*>malloc(size * sizeof(int64_t))
    tmp_it = <int32_t*>malloc((longest + 1) * sizeof(int32_t))
    tmp_st = <uint8_t*>malloc((longest + 1) * sizeof(uint8_t))
    try:
        if table == NULL or tmp_it == NULL or tmp_st == NULL:
            raise MemoryError("cannot allocate the closure table")
        with nogil:
            for slot in range(size):
                table[slot] = -1
            for i in range(n):
                a0 = offsets[i]
                h = _hash_pattern(&items[a0], &starts[a0], offsets[i + 1] - a0)
                slot = <int64_t>(h & <uint64_t>(size - 1))
                while table[slot] >= 0:
                    slot = (slot + 1) & (size - 1)
                table[slot] = i
            for i in range(n):
                a0 = offsets[i]
                ln = offsets[i + 1] - a0
                if ln < 2:
                    continue
                for j in range(ln):
                    m = _drop_one(&items[a0], &starts[a0], ln, j, tmp_it, tmp_st)
                    h = _hash_pattern(tmp_it, tmp_st, m)
                    slot = <int64_t>(h & <uint64_t>(size - 1))
                    while True:
                        idx = table[slot]
                        if idx < 0:
                            break
                        if offsets[idx + 1] - offsets[idx] == m:
                            same = True
                            for k in range(m):
                                if (items[offsets[idx] + k] != tmp_it[k]
                                        or starts[offsets[idx] + k] != tmp_st[k]):
                                    same = False
                                    break
                            if same:
                                if maximal or counts[idx] == counts[i]:
                                    keep[idx] = 0
                                break
                        slot = (slot + 1) & (size - 1)
    finally:
        free(table); free(tmp_it); free(tmp_st)
    return keep_arr


# ------------------------------------------------------------------- output

def tuples(const int32_t[::1] items, const uint8_t[::1] starts,
           const int64_t[::1] offsets, object[::1] labels):
    """One tuple of frozensets of labels per pattern, as an object array."""
    cdef Py_ssize_t n = offsets.shape[0] - 1, i, k, a, b, ne
    out = np.empty(n, dtype=object)
    cdef object[::1] view = out
    cdef object fs
    cdef list elems
    for i in range(n):
        elems = []
        a = offsets[i]
        b = offsets[i + 1]
        while a < b:
            fs = PyFrozenSet_New(NULL)   # filled before anything else holds it
            k = a
            while k < b and (k == a or not starts[k]):
                PySet_Add(fs, labels[items[k]])
                k += 1
            elems.append(fs)
            fs = None
            a = k
        view[i] = tuple(elems)
    return out


# ------------------------------------------------------------------ encoding

def flatten(list sequences):
    """Customers' sequences as one list of baskets: (baskets, lengths, bad),
    ``lengths`` the baskets of each sequence and ``bad`` the index of the
    first entry that is not a sequence of baskets (a str, bytes, set, dict or
    anything not iterable; the rest is then left out), else -1."""
    cdef Py_ssize_t n = len(sequences), k
    cdef list flat = []
    cdef object seq
    lengths_arr = np.zeros(n, dtype=np.int64)
    cdef int64_t[::1] lengths = lengths_arr
    for k in range(n):
        seq = sequences[k]
        if type(seq) is not list and type(seq) is not tuple:
            if isinstance(seq, (str, bytes, set, frozenset, dict)) or not hasattr(seq, "__iter__"):
                return flat, lengths_arr, k
            seq = list(seq)
        flat.extend(seq)
        lengths[k] = len(seq)
    return flat, lengths_arr, -1


def item_sequence_counts(const int64_t[::1] indptr, const int32_t[::1] indices,
                         const int64_t[::1] order, const int64_t[::1] seq_ptr, int64_t n_items):
    """How many sequences hold each item code.  ``order`` lists the rows
    (baskets) of the CSR sequence by sequence, as cut by ``seq_ptr``."""
    counts_arr = np.zeros(n_items, dtype=np.int64)
    seen_arr = np.full(n_items, -1, dtype=np.int64)
    cdef int64_t[::1] counts = counts_arr
    cdef int64_t[::1] seen = seen_arr
    cdef Py_ssize_t n_seq = seq_ptr.shape[0] - 1, i, k, q
    cdef int64_t b
    cdef int32_t x
    with nogil:
        for i in range(n_seq):
            for k in range(seq_ptr[i], seq_ptr[i + 1]):
                b = order[k]
                for q in range(indptr[b], indptr[b + 1]):
                    x = indices[q]
                    if seen[x] != i:
                        seen[x] = i
                        counts[x] += 1
    return counts_arr


def project(const int64_t[::1] indptr, const int32_t[::1] indices,
            const int64_t[::1] order, const int64_t[::1] seq_ptr,
            const int32_t[::1] code_to_rank, bint squeeze):
    """The sequences as (seq_ptr, el_ptr, ranks, rows, longest): items with a
    rank >= 0 only, baskets left empty dropped when ``squeeze``; ``rows`` is
    the CSR row of each basket kept, ``longest`` the most items in a sequence."""
    cdef Py_ssize_t n_seq = seq_ptr.shape[0] - 1, i, k, q
    cdef int64_t nb = 0, nq = 0, b, start, longest = 0, seq_start
    cdef int32_t r
    new_seq_arr = np.zeros(n_seq + 1, dtype=np.int64)
    el_arr = np.zeros(order.shape[0] + 1, dtype=np.int64)
    items_arr = np.empty(indices.shape[0], dtype=np.int32)
    rows_arr = np.empty(order.shape[0], dtype=np.int64)
    cdef int64_t[::1] new_seq = new_seq_arr
    cdef int64_t[::1] el = el_arr
    cdef int32_t[::1] items = items_arr
    cdef int64_t[::1] rows = rows_arr
    with nogil:
        for i in range(n_seq):
            seq_start = nq
            for k in range(seq_ptr[i], seq_ptr[i + 1]):
                b = order[k]
                start = nq
                for q in range(indptr[b], indptr[b + 1]):
                    r = code_to_rank[indices[q]]
                    if r >= 0:
                        items[nq] = r
                        nq += 1
                if squeeze and nq == start:
                    continue
                rows[nb] = b
                nb += 1
                el[nb] = nq
            new_seq[i + 1] = nb
            longest = max(longest, nq - seq_start)
    return new_seq_arr, el_arr[:nb + 1].copy(), items_arr[:nq].copy(), rows_arr[:nb].copy(), longest
