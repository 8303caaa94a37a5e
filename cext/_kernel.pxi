# The mining runtime shared by the kernels (included by _itemsets.pyx,
# _sequences.pyx and _rules.pyx): stop codes, the progress/Ctrl-C/clock poll,
# growable buffers, the hash step, small sorts and popcount.

from libc.stdlib cimport realloc
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC

cdef extern from *:
    """
    static inline int bm_popcount64(unsigned long long x) { return __builtin_popcountll(x); }
    """
    int bm_popcount64(unsigned long long x) noexcept nogil

# Why a run stopped early.
cdef enum:
    STOP_NONE = 0
    STOP_CAP = 1          # the result cap: max_itemsets, max_patterns, max_rules
    STOP_TIME = 2
    STOP_INTERRUPT = 3
    STOP_NOMEM = 4
    STOP_MISSING = 5      # rules: the itemsets lack a subset
    STOP_SIZE = 6         # the result's items (its memory) reached the size cap


def stop_reasons(str cap):
    """Stop code -> the reason a wrapper reports (None: the run finished)."""
    return {STOP_NONE: None, STOP_CAP: cap, STOP_TIME: "time_limit", STOP_INTERRUPT: "interrupted",
            STOP_NOMEM: "out_of_memory", STOP_MISSING: "missing_subset", STOP_SIZE: "max_items"}


cdef inline double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <double>ts.tv_sec + 1e-9 * <double>ts.tv_nsec


cdef inline int _poll(int64_t ticks, int64_t found, int64_t* status, double deadline,
                      int stop) noexcept nogil:
    """Every 1024 ticks of a search: publish the running count (status[0])
    and the ticks (status[2]), see a stop request (status[1], Ctrl-C) and the
    deadline.  Returns the stop code."""
    if (ticks & 1023) == 0:
        if status != NULL:
            status[0] = found
            status[2] = ticks
            if status[1] != 0:
                return STOP_INTERRUPT
        if deadline > 0 and _now() > deadline:
            return STOP_TIME
    return stop


cdef inline int _reserve(void** buf, int64_t* cap, int64_t need, size_t elsize) noexcept nogil:
    """Grow buf (by doubling) to hold at least ``need`` elements; -1 when
    out of memory (buf is then unchanged)."""
    cdef int64_t size = cap[0]
    cdef void* p
    if need <= size:
        return 0
    while size < need:
        size *= 2
    p = realloc(buf[0], size * elsize)
    if p == NULL:
        return -1
    buf[0] = p
    cap[0] = size
    return 0


cdef inline uint64_t _hash_start() noexcept nogil:
    return 1469598103934665603ULL


cdef inline uint64_t _mix(uint64_t h, uint64_t v) noexcept nogil:
    """One step of the hash of a run of codes (FNV-style, with a final shift)."""
    h ^= v + 0x9e3779b97f4a7c15ULL
    h *= 1099511628211ULL
    return h ^ (h >> 29)


cdef inline void _sort_small(int32_t* a, int64_t n) noexcept nogil:
    """Insertion sort, for the short runs of codes a basket or an itemset holds."""
    cdef int64_t j, q
    cdef int32_t v
    for j in range(1, n):
        v = a[j]
        q = j
        while q > 0 and a[q - 1] > v:
            a[q] = a[q - 1]
            q -= 1
        a[q] = v
