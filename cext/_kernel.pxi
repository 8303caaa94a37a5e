# Helpers shared by the mining kernels (included by _itemsets.pyx and
# _sequences.pyx).

from libc.stdlib cimport realloc
from libc.stdint cimport int64_t
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC


cdef inline double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <double>ts.tv_sec + 1e-9 * <double>ts.tv_nsec


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
