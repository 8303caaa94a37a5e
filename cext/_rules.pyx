# Association rules from a complete collection of frequent itemsets.
#
# An ItemsetIndex holds the itemsets as sorted item codes and an open-addressing
# hash table over them, so the support of any subset of an itemset is one probe.
# Rules of an itemset Z are enumerated depth-first over their consequents, as
# bit masks over Z's sorted items: a consequent C is extended only by items
# after its last one, and, when the metric is confidence, only while
# Z \ C -> C meets the threshold (confidence can only fall as the consequent
# grows: Agrawal and Srikant's ap-genrules), so the failing rules below a
# failing one are never looked at.  Rules that pass are written as (itemset,
# antecedent mask, antecedent count, consequent count) and only the kept ones
# are turned into item lists; the measures are computed afterwards in numpy.
#
# Inputs are typed memoryviews (IN), outputs numpy arrays (OUT); the Python
# wrapper (basketmine/rules.py) validates and computes the measures.

from libc.stdlib cimport malloc, free, qsort
from libc.string cimport memcpy
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t, uint8_t

import numpy as np
cimport numpy as cnp

include "_kernel.pxi"

cnp.import_array()

#: The metrics the kernel filters on (the others are filtered by the wrapper).
KERNEL_METRICS = {"confidence": 1, "lift": 2, "leverage": 3, "support": 4}

#: Why a run stopped early (0: it did not).
STOP_REASONS = stop_reasons("max_rules")

cdef enum:
    M_NONE = 0
    M_CONFIDENCE = 1
    M_LIFT = 2
    M_LEVERAGE = 3
    M_SUPPORT = 4

#: Longest itemset the rule engine takes (consequents are 64-bit masks).
MAX_ITEMSET_LEN = 62


cdef struct Rule:
    int64_t set          # itemset index
    uint64_t amask       # antecedent, as bits over the itemset's sorted items
    int64_t n_a          # baskets holding the antecedent
    int64_t n_c          # baskets holding the consequent
    double value         # metric value (kernel metrics only)


cdef struct Gen:
    # the collection
    const int32_t* items
    const int64_t* offsets
    const int64_t* counts
    const int64_t* table
    int64_t mask
    double n
    # options
    int metric
    double threshold
    const uint8_t* con_ok     # per code
    const uint8_t* ant_ok     # per code
    int max_a
    int max_c
    int64_t max_rules
    int64_t top_k
    # the itemset being split
    int64_t z
    const int32_t* zc
    int k
    uint64_t full
    uint64_t forced           # items that must be in the consequent
    uint64_t con_allowed      # items that may be in the consequent
    int64_t n_ac
    int32_t buf[64]
    # output
    Rule* out
    int64_t n_out
    int64_t cap
    # top-k: a min-heap of the best values
    double* heap
    int64_t n_heap
    int stop
    int64_t ticks
    int64_t* status
    double deadline           # monotonic seconds; <= 0: none
    int64_t missing_set
    uint64_t missing_mask


cdef inline uint64_t _hash(const int32_t* s, int n) noexcept nogil:
    cdef uint64_t h = _hash_start()
    cdef int i
    for i in range(n):
        h = _mix(h, <uint64_t>(<uint32_t>s[i]))
    return h


cdef inline int64_t _find(const int32_t* items, const int64_t* offsets, const int64_t* table,
                          int64_t mask, const int32_t* key, int n) noexcept nogil:
    """Index of the itemset equal to key[0:n] (sorted codes), or -1."""
    cdef uint64_t slot = _hash(key, n) & <uint64_t>mask
    cdef int64_t idx, a
    cdef int i
    while True:
        idx = table[slot]
        if idx < 0:
            return -1
        a = offsets[idx]
        if offsets[idx + 1] - a == n:
            i = 0
            while i < n and items[a + i] == key[i]:
                i += 1
            if i == n:
                return idx
        slot = (slot + 1) & <uint64_t>mask


cdef inline int64_t _count_of(Gen* g, uint64_t m) noexcept nogil:
    """Count of the subset of the current itemset given by mask m; -1 (stop
    set) when the collection lacks it."""
    cdef int n = 0, i
    cdef int64_t idx
    for i in range(g.k):
        if (m >> i) & 1:
            g.buf[n] = g.zc[i]
            n += 1
    idx = _find(g.items, g.offsets, g.table, g.mask, g.buf, n)
    if idx < 0:
        g.stop = STOP_MISSING
        g.missing_set = g.z
        g.missing_mask = m
        return -1
    return g.counts[idx]


cdef inline void _heap_push(Gen* g, double v) noexcept nogil:
    """Keep the top_k largest values in a min-heap."""
    cdef int64_t i, p, l, r, s
    cdef double t
    if g.n_heap < g.top_k:
        i = g.n_heap
        g.n_heap += 1
        g.heap[i] = v
        while i > 0:
            p = (i - 1) >> 1
            if g.heap[p] <= g.heap[i]:
                break
            t = g.heap[p]; g.heap[p] = g.heap[i]; g.heap[i] = t
            i = p
    elif v > g.heap[0]:
        g.heap[0] = v
        i = 0
        while True:
            l = 2 * i + 1
            r = l + 1
            s = i
            if l < g.n_heap and g.heap[l] < g.heap[s]:
                s = l
            if r < g.n_heap and g.heap[r] < g.heap[s]:
                s = r
            if s == i:
                break
            t = g.heap[s]; g.heap[s] = g.heap[i]; g.heap[i] = t
            i = s


cdef inline double _bar(Gen* g) noexcept nogil:
    """The current threshold: the given one, raised by a full top-k heap."""
    if g.top_k > 0 and g.n_heap >= g.top_k and g.heap[0] > g.threshold:
        return g.heap[0]
    return g.threshold


cdef inline double _value(Gen* g, int64_t n_a, int64_t n_c) noexcept nogil:
    cdef double conf = <double>g.n_ac / <double>n_a
    if g.metric == M_CONFIDENCE:
        return conf
    if g.metric == M_LIFT:
        return conf / (<double>n_c / g.n)
    if g.metric == M_LEVERAGE:
        return <double>g.n_ac / g.n - (<double>n_a / g.n) * (<double>n_c / g.n)
    if g.metric == M_SUPPORT:
        return <double>g.n_ac / g.n
    return 0.0


cdef int _record(Gen* g, uint64_t amask, int64_t n_a, int64_t n_c, double v) noexcept nogil:
    cdef Rule* r
    if g.n_out >= g.max_rules:
        g.stop = STOP_CAP
        return g.stop
    if _reserve(<void**>&g.out, &g.cap, g.n_out + 1, sizeof(Rule)):
        g.stop = STOP_NOMEM
        return g.stop
    r = g.out + g.n_out
    r.set = g.z
    r.amask = amask
    r.n_a = n_a
    r.n_c = n_c
    r.value = v
    g.n_out += 1
    if g.top_k > 0 and g.metric != M_NONE:
        _heap_push(g, v)
    return 0


cdef void _grow(Gen* g, uint64_t cmask, int csize, int first) noexcept nogil:
    """Try every consequent cmask + {b}, b >= first."""
    cdef int b, size, asize
    cdef uint64_t c, a
    cdef int64_t n_a, n_c
    cdef double v
    cdef bint ok
    for b in range(first, g.k):
        if not (g.con_allowed >> b) & 1:
            continue
        c = cmask | ((<uint64_t>1) << b)
        a = g.full ^ c
        if a == 0:
            continue
        size = csize + 1
        asize = g.k - size
        g.ticks += 1
        g.stop = _poll(g.ticks, g.n_out, g.status, g.deadline, g.stop)
        if g.stop:
            return
        # the rule Z \ c -> c is a candidate when the length bounds and the
        # antecedent template allow it; with confidence, it is also looked at
        # to decide whether its consequent may grow
        ok = asize <= g.max_a and (g.forced & ~c) == 0
        if ok or g.metric == M_CONFIDENCE:
            n_a = _count_of(g, a)
            if n_a < 0:
                return
            if g.metric == M_CONFIDENCE and <double>g.n_ac / <double>n_a < _bar(g):
                continue  # no larger consequent can pass either
            if ok:
                n_c = _count_of(g, c)
                if n_c < 0:
                    return
                v = _value(g, n_a, n_c)
                if g.metric == M_NONE or v >= _bar(g):
                    if _record(g, a, n_a, n_c, v):
                        return
        if size < g.max_c and asize > 1:
            _grow(g, c, size, b + 1)
            if g.stop:
                return


cdef int _cmp_rule(const void* x, const void* y) noexcept nogil:
    """Antecedent size, then the antecedents' items in lexicographic order."""
    cdef uint64_t a = (<const Rule*>x).amask
    cdef uint64_t b = (<const Rule*>y).amask
    cdef int pa = bm_popcount64(a), pb = bm_popcount64(b)
    cdef uint64_t d
    if pa != pb:
        return -1 if pa < pb else 1
    d = a ^ b
    if d == 0:
        return 0
    d &= (~d + 1)
    return -1 if (a & d) else 1


cdef class ItemsetIndex:
    """Itemsets as sorted codes with a hash table for support lookups.

    Built from (items, offsets, counts); ``items`` need not be sorted
    within an itemset.  ``duplicate`` is the index of a repeated itemset
    (or -1).
    """
    cdef readonly object items_, offsets_, counts_, table_, missing_
    cdef readonly int64_t duplicate
    cdef readonly int longest

    def __init__(self, const int32_t[::1] items,      # IN  item codes
                 const int64_t[::1] offsets,          # IN
                 const int64_t[::1] counts):          # IN
        cdef int64_t n = counts.shape[0], size = 1, i, a, b, j, q, slot, idx
        cdef int32_t v
        cdef int longest = 0
        sorted_arr = np.array(items, dtype=np.int32, copy=True)
        cdef int32_t[::1] s = sorted_arr
        cdef uint64_t umask
        self.duplicate = -1
        while size < 2 * n + 2:
            size *= 2
        table_arr = np.full(size, -1, dtype=np.int64)
        cdef int64_t[::1] table = table_arr
        umask = <uint64_t>(size - 1)
        if s.shape[0] == 0:
            n = 0  # nothing to index: only empty itemsets
        with nogil:
            for i in range(n):
                a = offsets[i]
                b = offsets[i + 1]
                if b - a > longest:
                    longest = <int>(b - a)
                _sort_small(&s[a], b - a)
            for i in range(n):
                a = offsets[i]
                b = offsets[i + 1]
                if b - a > 64:
                    continue
                idx = _find(&s[0], &offsets[0], &table[0], size - 1, &s[a], <int>(b - a))
                if idx >= 0:
                    self.duplicate = i
                    break
                slot = <int64_t>(_hash(&s[a], <int>(b - a)) & umask)
                while table[slot] >= 0:
                    slot = (slot + 1) & (size - 1)
                table[slot] = i
        self.items_ = sorted_arr
        self.offsets_ = np.asarray(offsets)
        self.counts_ = np.asarray(counts)
        self.table_ = table_arr
        self.longest = longest

    def rules(self, double n,
              str metric,
              double threshold,
              const uint8_t[::1] ant_ok,         # IN  per code: may be in an antecedent
              const uint8_t[::1] con_ok,         # IN  per code: may be in a consequent
              const int64_t[::1] anc_ptr,        # IN  per code: its ancestors' codes (CSR)
              const int32_t[::1] anc_idx,        # IN
              int max_a,
              int max_c,
              int64_t max_rules,
              int64_t top_k,
              double time_limit,                 # seconds; <= 0: none
              int64_t[::1] status,               # IN/OUT shared progress block
              object only=None):                 # IN  optional int64 itemset indices to split
        """Enumerate the rules Z \\ C -> C of every itemset Z (of the
        itemsets ``only``, in that order, when given).

        ``metric`` is a key of :data:`KERNEL_METRICS` (filtered here,
        ``>= threshold``; with ``top_k``, the threshold rises to the k-th
        best value found so far) or anything else (no filtering here).
        Returns (set, antecedent mask, n_a, n_c, value, stop code), rules
        in the itemsets' order, then antecedent size, then the antecedent's
        items in code order.
        """
        cdef Gen g
        cdef int64_t n_sets = self.counts_.shape[0], z, a, b, start, i, j, p
        cdef const int32_t[::1] it = self.items_
        cdef const int64_t[::1] off = self.offsets_
        cdef const int64_t[::1] cnt = self.counts_
        cdef const int64_t[::1] tab = self.table_
        cdef bint has_anc = anc_idx.shape[0] > 0
        cdef bint skip
        cdef int64_t t, n_only
        cdef const int64_t[::1] which
        cdef int32_t x, y
        cdef int lo, hi, mid, q
        memset_gen(&g)
        if n_sets == 0 or it.shape[0] == 0:
            return (np.empty(0, np.int64), np.empty(0, np.uint64), np.empty(0, np.int64),
                    np.empty(0, np.int64), np.empty(0, np.float64), 0)
        g.items = &it[0]
        g.offsets = &off[0]
        g.counts = &cnt[0]
        g.table = &tab[0]
        g.mask = tab.shape[0] - 1
        g.n = n
        g.metric = KERNEL_METRICS.get(metric, M_NONE)
        g.threshold = threshold
        g.ant_ok = &ant_ok[0]
        g.con_ok = &con_ok[0]
        g.max_a = max_a
        g.max_c = max_c
        g.max_rules = max_rules
        g.top_k = top_k if g.metric != M_NONE else 0
        g.status = &status[0]
        g.deadline = _now() + time_limit if time_limit > 0 else 0.0
        g.cap = 1024
        g.out = <Rule*>malloc(g.cap * sizeof(Rule))
        if g.top_k > 0:
            g.heap = <double*>malloc(g.top_k * sizeof(double))
        if g.out == NULL or (g.top_k > 0 and g.heap == NULL):
            free(g.out); free(g.heap)
            raise MemoryError("cannot allocate the rule buffer")
        which_arr = np.arange(n_sets, dtype=np.int64) if only is None else \
            np.ascontiguousarray(only, dtype=np.int64)
        if len(which_arr) and (which_arr.min() < 0 or which_arr.max() >= n_sets):
            raise IndexError("only: itemset index out of range")
        which = which_arr
        n_only = which_arr.shape[0]
        try:
            with nogil:
                for t in range(n_only):
                    z = which[t]
                    a = off[z]
                    b = off[z + 1]
                    if b - a < 2:
                        continue
                    g.z = z
                    g.zc = &it[a]
                    g.k = <int>(b - a)
                    g.full = ((<uint64_t>1) << g.k) - 1
                    g.n_ac = cnt[z]
                    g.forced = 0
                    g.con_allowed = 0
                    for i in range(g.k):
                        if not g.ant_ok[g.zc[i]]:
                            g.forced |= (<uint64_t>1) << i
                        if g.con_ok[g.zc[i]]:
                            g.con_allowed |= (<uint64_t>1) << i
                    if g.con_allowed == 0 or g.forced == g.full or (g.forced & ~g.con_allowed) != 0:
                        continue
                    if has_anc:
                        # an item and its own category make no rule
                        skip = False
                        for i in range(g.k):
                            x = g.zc[i]
                            for p in range(anc_ptr[x], anc_ptr[x + 1]):
                                y = anc_idx[p]
                                lo = 0
                                hi = g.k - 1
                                while lo <= hi:
                                    mid = (lo + hi) >> 1
                                    if g.zc[mid] < y:
                                        lo = mid + 1
                                    elif g.zc[mid] > y:
                                        hi = mid - 1
                                    else:
                                        skip = True
                                        break
                                if skip:
                                    break
                            if skip:
                                break
                        if skip:
                            continue
                    start = g.n_out
                    _grow(&g, 0, 0, 0)
                    if g.n_out - start > 1:
                        qsort(g.out + start, g.n_out - start, sizeof(Rule), _cmp_rule)
                    if g.stop:
                        break
            status[0] = g.n_out
            n_out = g.n_out
            sets = np.empty(n_out, dtype=np.int64)
            amask = np.empty(n_out, dtype=np.uint64)
            n_a = np.empty(n_out, dtype=np.int64)
            n_c = np.empty(n_out, dtype=np.int64)
            value = np.empty(n_out, dtype=np.float64)
            _unpack(g.out, n_out, sets, amask, n_a, n_c, value)
            if g.stop == STOP_MISSING:
                self.missing_ = self._subset(g.missing_set, g.missing_mask)
            return sets, amask, n_a, n_c, value, g.stop
        finally:
            free(g.out)
            free(g.heap)

    def _subset(self, int64_t z, uint64_t m):
        """The codes of itemset z picked by mask m."""
        a, b = int(self.offsets_[z]), int(self.offsets_[z + 1])
        bits = np.array([(m >> i) & 1 for i in range(b - a)], dtype=bool)
        return self.items_[a:b][bits]

    def improvement(self, double n,
                    const int64_t[::1] sets,        # IN  itemset of each rule
                    const uint64_t[::1] amask):     # IN  antecedent of each rule
        """Confidence minus the best confidence of a more general rule with
        the same consequent (a proper subset of the antecedent, the empty
        one included: P(C))."""
        cdef int64_t r, z, a0, n_r = sets.shape[0], ca, cc, cb, cbc
        cdef uint64_t am, cm, full, sub
        cdef double best, v
        cdef Gen g
        cdef const int32_t[::1] it = self.items_
        cdef const int64_t[::1] off = self.offsets_
        cdef const int64_t[::1] cnt = self.counts_
        cdef const int64_t[::1] tab = self.table_
        out_arr = np.empty(n_r, dtype=np.float64)
        cdef double[::1] out = out_arr
        if n_r == 0:
            return out_arr
        memset_gen(&g)
        g.items = &it[0]
        g.offsets = &off[0]
        g.counts = &cnt[0]
        g.table = &tab[0]
        g.mask = tab.shape[0] - 1
        with nogil:
            for r in range(n_r):
                z = sets[r]
                a0 = off[z]
                g.z = z
                g.zc = &it[a0]
                g.k = <int>(off[z + 1] - a0)
                full = ((<uint64_t>1) << g.k) - 1
                am = amask[r]
                cm = full ^ am
                ca = _count_of(&g, am)
                cc = _count_of(&g, cm)
                if ca < 0 or cc < 0:
                    break
                best = <double>cc / n
                # every non-empty proper subset of the antecedent
                sub = (am - 1) & am
                while sub != 0:
                    cb = _count_of(&g, sub)
                    cbc = _count_of(&g, sub | cm)
                    if cb < 0 or cbc < 0:
                        break
                    v = <double>cbc / <double>cb
                    if v > best:
                        best = v
                    sub = (sub - 1) & am
                if g.stop:
                    break
                out[r] = <double>cnt[z] / <double>ca - best
        if g.stop:
            self.missing_ = self._subset(g.missing_set, g.missing_mask)
            return None
        return out_arr

    def split(self, const int64_t[::1] sets,        # IN  itemset of each rule
              const uint64_t[::1] amask):           # IN  antecedent of each rule
        """Antecedent and consequent item codes of each rule, flat:
        (ant_items, ant_offsets, con_items, con_offsets)."""
        cdef int64_t n_r = sets.shape[0], r, z, a0, na = 0, nc = 0, total = 0
        cdef int k, i
        cdef uint64_t am
        cdef const int32_t[::1] it = self.items_
        cdef const int64_t[::1] off = self.offsets_
        for r in range(n_r):
            total += off[sets[r] + 1] - off[sets[r]]
        ant_off_arr = np.empty(n_r + 1, dtype=np.int64)
        con_off_arr = np.empty(n_r + 1, dtype=np.int64)
        ant_arr = np.empty(total, dtype=np.int32)
        con_arr = np.empty(total, dtype=np.int32)
        cdef int64_t[::1] ant_off = ant_off_arr
        cdef int64_t[::1] con_off = con_off_arr
        cdef int32_t[::1] ant = ant_arr
        cdef int32_t[::1] con = con_arr
        with nogil:
            ant_off[0] = 0
            con_off[0] = 0
            for r in range(n_r):
                z = sets[r]
                a0 = off[z]
                k = <int>(off[z + 1] - a0)
                am = amask[r]
                for i in range(k):
                    if (am >> i) & 1:
                        ant[na] = it[a0 + i]
                        na += 1
                    else:
                        con[nc] = it[a0 + i]
                        nc += 1
                ant_off[r + 1] = na
                con_off[r + 1] = nc
        return ant_arr[:na], ant_off_arr, con_arr[:nc], con_off_arr


cdef inline void memset_gen(Gen* g) noexcept nogil:
    cdef char* p = <char*>g
    cdef size_t i
    for i in range(sizeof(Gen)):
        p[i] = 0


cdef void _unpack(const Rule* rules, int64_t n, int64_t[::1] sets, uint64_t[::1] amask,
                  int64_t[::1] n_a, int64_t[::1] n_c, double[::1] value) noexcept:
    cdef int64_t i
    for i in range(n):
        sets[i] = rules[i].set
        amask[i] = rules[i].amask
        n_a[i] = rules[i].n_a
        n_c[i] = rules[i].n_c
        value[i] = rules[i].value
