"""Next-basket baselines as vectorised scorers: TIFU-KNN and UP-CF@r.

Both take the history to score from as plain arrays (one entry per basket,
plus the basket -> item CSR), so that the caller decides what history is
used, and return each customer's top ``k`` items.  Their pure-Python twins,
written from the papers' formulas with loops and dicts, are
:func:`basketmine._reference.tifu_knn_scores` and
:func:`basketmine._reference.up_cf_scores`.

The customer x customer part (distances, similarities) is computed densely
in blocks of rows, and every score is first assembled for a slab of a few
hundred customers at a time, so memory stays bounded by the block size:
no dense customers x items matrix is ever built.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._lazy import LazyModule
from .._validation import NONE, Interval, InvalidParameterError, check

sp = LazyModule("scipy.sparse")

__all__ = ["tifu_knn", "tifu_parts", "up_cf"]

#: Most customers scored in one block.
_BLOCK_ROWS = 256
#: Cells of one dense block (rows x items or rows x customers): ~16 MB of float64.
_BLOCK_CELLS = 1 << 21

_COUNT = Interval("int", 0, None, "left")
_POSITIVE = Interval("int", 1, None, "left")
_UNIT = Interval("real", 0, 1, "both")

#: Scores (relative to themselves) and squared distances (relative to
#: |x|^2 + max |y|^2) closer than this are ties: rounding noise of the order
#: of summation must not decide a rank or a neighbour.
_TIE = 1e-12


# ------------------------------------------------------------------ input

class _History:
    """The baskets of the customers, ordered, with repeated items dropped.

    ``cust`` and ``pos`` are per basket kept (a customer, at least one item),
    sorted by customer, then time, then input order; ``pos`` is 0 for the
    customer's newest basket, 1 for the one before, ...  ``line_basket`` /
    ``line_item`` are the distinct (basket, item) pairs, ``line_basket``
    indexing the sorted baskets.  ``n_baskets`` counts each customer's
    baskets.
    """

    def __init__(self, owner, basket_customer, basket_time, indptr, indices, n_customers, n_items):
        check(owner, "n_customers", n_customers, _COUNT)
        check(owner, "n_items", n_items, _COUNT)
        indptr = np.asarray(indptr)
        indices = np.asarray(indices)
        bc = np.asarray(basket_customer)
        bt = np.asarray(basket_time)
        if indptr.ndim != 1 or len(indptr) < 1 or not np.issubdtype(indptr.dtype, np.integer):
            raise InvalidParameterError(
                f"The 'indptr' parameter of {owner} must be a 1-d integer array of n_baskets + 1 "
                f"offsets. Got {indptr.dtype} with shape {indptr.shape} instead.")
        n_b = len(indptr) - 1
        if (indices.ndim != 1 or not (np.issubdtype(indices.dtype, np.integer) or len(indices) == 0)
                or indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0)):
            raise InvalidParameterError(
                f"The 'indptr' and 'indices' parameters of {owner} must form a CSR matrix: "
                f"indptr non-decreasing from 0 to len(indices). Got indptr from {indptr[0]} to "
                f"{indptr[-1]} and {len(indices)} indices instead.")
        if len(indices) and (indices.min() < 0 or indices.max() >= n_items):
            bad = indices[(indices < 0) | (indices >= n_items)][0]
            raise InvalidParameterError(
                f"The 'indices' parameter of {owner} must hold item codes in [0, n_items) = "
                f"[0, {n_items}). Got {bad} instead.")
        for name, a in (("basket_customer", bc), ("basket_time", bt)):
            if a.ndim != 1 or len(a) != n_b:
                raise InvalidParameterError(
                    f"The {name!r} parameter of {owner} must be a 1-d array with one entry per "
                    f"basket ({n_b}). Got shape {a.shape} instead.")
        if n_b and not np.issubdtype(bc.dtype, np.integer):
            raise InvalidParameterError(
                f"The 'basket_customer' parameter of {owner} must hold integer customer rows. "
                f"Got dtype {bc.dtype} instead.")
        if n_b and bc.max() >= n_customers:
            raise InvalidParameterError(
                f"The 'basket_customer' parameter of {owner} must hold customer rows below "
                f"n_customers ({n_customers}), or < 0 for no customer. Got {bc.max()} instead.")
        if np.issubdtype(bt.dtype, np.datetime64):
            bt = bt.astype("datetime64[ns]").view(np.int64)
        elif n_b and not (np.issubdtype(bt.dtype, np.number) and not np.issubdtype(bt.dtype, np.complexfloating)):
            raise InvalidParameterError(
                f"The 'basket_time' parameter of {owner} must be datetime64 or real numbers. "
                f"Got dtype {bt.dtype} instead.")
        lengths = np.diff(indptr).astype(np.int64)
        keep = np.flatnonzero((bc >= 0) & (lengths > 0))
        order = keep[np.lexsort((keep, bt[keep], bc[keep]))]
        cust = bc[order].astype(np.int64)
        n_baskets = np.bincount(cust, minlength=n_customers).astype(np.int64)
        first = np.cumsum(n_baskets) - n_baskets
        pos = n_baskets[cust] - 1 - (np.arange(len(order)) - first[cust])
        # distinct (basket, item) lines of the kept baskets, in sorted-basket order
        lens = lengths[order]
        starts = indptr[order].astype(np.int64)
        offsets = np.cumsum(lens) - lens
        lines = np.repeat(starts - offsets, lens) + np.arange(lens.sum())
        key = (np.repeat(np.arange(len(order), dtype=np.int64), lens) * max(n_items, 1)
               + indices[lines].astype(np.int64))
        if len(key) > 1 and np.any(key[1:] <= key[:-1]):  # items unsorted or repeated in a basket
            key = np.sort(key)
            key = key[np.r_[True, key[1:] != key[:-1]]]
        self.n_customers, self.n_items = int(n_customers), int(n_items)
        self.cust, self.pos, self.n_baskets = cust, pos, n_baskets
        self.line_basket = key // max(n_items, 1)
        self.line_item = key % max(n_items, 1)
        self.active = np.flatnonzero(n_baskets > 0)

    def matrix(self, values) -> "sp.csr_matrix":
        """Customers x items: the sum over each customer's (basket, item) lines of ``values`` (per line)."""
        m = sp.csr_matrix((values, (self.cust[self.line_basket], self.line_item)),
                          shape=(self.n_customers, self.n_items))
        m.sum_duplicates()
        m.eliminate_zeros()
        return m


def _exclusions(owner, exclude, n_customers, n_items):
    if exclude is None:
        return None
    if not sp.issparse(exclude) or exclude.shape != (n_customers, n_items):
        shape = getattr(exclude, "shape", None)
        raise InvalidParameterError(
            f"The 'exclude' parameter of {owner} must be None or a scipy.sparse matrix of shape "
            f"(n_customers, n_items) = ({n_customers}, {n_items}). Got {type(exclude).__name__} "
            f"with shape {shape} instead.")
    ex = sp.csr_matrix(exclude, copy=True)
    ex.eliminate_zeros()
    return ex


# --------------------------------------------------------------- kernels

def _block_rows(width: int) -> int:
    return max(1, min(_BLOCK_ROWS, _BLOCK_CELLS // max(width, 1)))


def _transpose(a: np.ndarray) -> np.ndarray:
    """A C-ordered transpose, copied in tiles that stay in cache."""
    out = np.empty(a.shape[::-1])
    for j in range(0, a.shape[0], 256):
        out[:, j:j + 256] = a[j:j + 256].T
    return out


def _select(a: np.ndarray, n: int, largest: bool, tol=None) -> np.ndarray:
    """Column indices of each row's ``n`` smallest (or largest) values of
    ``a``, unordered; values within ``tol`` (per row; by default a relative
    ``_TIE`` of the boundary value) of the boundary value count as tied with
    it and go to the leftmost columns.  ``n`` is less than the number of
    columns."""
    width = a.shape[1]
    idx = np.argpartition(a, width - n if largest else n - 1, axis=1)
    idx = idx[:, width - n:] if largest else idx[:, :n]
    picked = np.take_along_axis(a, idx, axis=1)
    edge = (picked.min if largest else picked.max)(axis=1, keepdims=True)
    if tol is None:
        tol = _TIE * np.abs(edge)
    # rows where values tied with the boundary were left out: redo them by the rule
    # (a boundary at 0 among the largest is left alone: zero scores are dropped)
    if largest:
        bound = edge - tol
        redo = (np.count_nonzero(a >= bound, axis=1) > n) & (edge[:, 0] > 0)
    else:
        bound = edge + tol
        redo = np.count_nonzero(a <= bound, axis=1) > n
    redo = np.flatnonzero(redo)
    if len(redo):
        sub, e, t = a[redo], edge[redo], tol[redo]
        inside = sub > e + t if largest else sub < e - t
        tied = np.abs(sub - e) <= t
        need = n - np.count_nonzero(inside, axis=1)
        take = inside | (tied & (np.cumsum(tied, axis=1) <= need[:, None]))
        idx[redo] = np.nonzero(take)[1].reshape(len(redo), n)
    return idx


def _top_k(scores: np.ndarray, k: int, excluded=None):
    """Each row's ``k`` largest positive scores as (row, column, score,
    rank), sorted by row then rank; scores within a relative ``_TIE`` of
    each other count as tied and rank by column.  ``excluded`` (sparse, same
    shape) cells are left out.  ``scores`` is overwritten."""
    if excluded is not None and excluded.nnz:
        ex = excluded.tocoo()
        scores[ex.row, ex.col] = 0.0
    b, n = scores.shape
    if k < n:
        cols = _select(scores, k, True)
    else:
        cols = np.broadcast_to(np.arange(n), (b, n))
    cols = np.sort(cols, axis=1)
    vals = np.take_along_axis(scores, cols, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    cols = np.take_along_axis(cols, order, axis=1)
    vals = np.take_along_axis(vals, order, axis=1)
    # runs of near-equal scores (rounding) are ordered by column
    tied = np.zeros(vals.shape, dtype=bool)
    tied[:, 1:] = vals[:, :-1] - vals[:, 1:] <= _TIE * vals[:, :-1]
    if tied.any():
        run = np.cumsum(~tied, axis=1)
        order = np.argsort(run * np.int64(n) + cols, axis=1)
        cols = np.take_along_axis(cols, order, axis=1)
        vals = np.take_along_axis(vals, order, axis=1)
    rows, at = np.nonzero(vals > 0)  # the positive scores lead each row
    return rows, cols[rows, at], vals[rows, at], at + 1


def _frame(parts) -> pd.DataFrame:
    if parts:
        cols = [np.concatenate([p[i] for p in parts]) for i in range(4)]
    else:
        cols = [np.zeros(0)] * 4
    return pd.DataFrame({"customer": cols[0].astype(np.int64), "unit": cols[1].astype(np.int64),
                         "score": cols[2].astype(np.float64), "rank": cols[3].astype(np.int64)})


# --------------------------------------------------------------- TIFU-KNN

def _tifu_weights(h: _History, group_size: int, n_groups, within_decay: float, group_decay: float):
    """The weight of each sorted basket in its customer's vector."""
    t = h.n_baskets[h.cust]
    p = h.pos
    if n_groups is None:
        g, j = p // group_size, p % group_size
        g_len = np.minimum(group_size, t - g * group_size)
        n_g = -(-t // group_size)
    else:
        n_g = np.minimum(n_groups, t)
        base, extra = t // n_g, t % n_g
        in_big = p < extra * (base + 1)  # the newest `extra` groups hold base + 1 baskets
        g = np.where(in_big, p // (base + 1), extra + (p - extra * (base + 1)) // base)
        g_start = np.where(in_big, g * (base + 1), extra * (base + 1) + (g - extra) * base)
        j = p - g_start
        g_len = np.where(in_big, base + 1, base)
    return np.power(float(within_decay), j) / g_len * np.power(float(group_decay), g) / n_g


def tifu_knn(basket_customer, basket_time, indptr, indices, n_customers, n_items, k, *, exclude=None,
             group_size=7, within_decay=0.9, group_decay=0.7, n_neighbors=300, alpha=0.5,
             n_groups=None) -> pd.DataFrame:
    """TIFU-KNN: each customer's top ``k`` items from their time-decayed item
    frequencies blended with those of their nearest customers.

    After Hu, He, Gao and Zhang, "Modeling Personalized Item Frequency
    Information for Next-basket Recommendation", SIGIR 2020.

    Customer vector.  A customer's baskets, in time order (ties by basket
    index), are split into groups of ``group_size`` consecutive baskets
    counted back from the newest one, so the newest group is full and the
    oldest may hold fewer.  Within a group the basket ``j`` places before the
    group's newest gets weight ``within_decay ** j``, and the group vector is
    the weighted sum of its baskets' 0/1 item vectors divided by the group's
    number of baskets; the group ``g`` places before the newest gets
    ``group_decay ** g``, and the customer vector is the weighted sum of the
    group vectors divided by the number of groups.

    With ``n_groups`` set instead, the history is cut into ``n_groups``
    groups of near-equal length (the newer groups take the extra baskets;
    a customer with fewer baskets than that has one basket per group), the
    partition of the authors' published code, where the paper's ``m`` is the
    number of groups.  The weights are the same as above.

    Score.  ``alpha * own vector + (1 - alpha) * mean of the vectors of the
    customer's n_neighbors nearest other customers``, by Euclidean distance
    between customer vectors (as in the authors' code); neighbours are drawn
    from the customers with a basket, and when fewer than ``n_neighbors``
    others exist the mean is over all of them.  Distances tied with the
    ``n_neighbors``-th nearest go by customer row; "tied" means within
    ``1e-12 * (|x|^2 + max |y|^2)`` in squared distance, so that rounding
    in the order of summation never picks a neighbour.

    Parameters
    ----------
    basket_customer : array of int, one per basket
        Customer row (``0 .. n_customers - 1``); a row < 0 marks a basket
        without a customer, which is ignored.
    basket_time : array of datetime64 or float, one per basket
        Used only to order each customer's baskets (ties by basket index).
    indptr, indices : arrays
        CSR of basket -> item codes (``0 .. n_items - 1``); an item repeated
        within a basket counts once, and a basket without items is ignored.
    n_customers, n_items : int
    k : int
        Items returned per customer.
    exclude : scipy.sparse matrix (n_customers x n_items), optional
        Items never returned for a customer (where it is nonzero); the top
        ``k`` is taken among the rest.
    group_size : int, default 7
        Baskets per group.  7 is the value the authors publish for TaFeng
        (there as the number of groups, see ``n_groups``).
    within_decay, group_decay : float in [0, 1], defaults 0.9 and 0.7
        The within-group and across-group decay rates (the paper's r_b and
        r_g; 0.9 and 0.7 are the authors' published values for TaFeng).
    n_neighbors : int, default 300
        Neighbours averaged (the paper's k; 300 for TaFeng).
    alpha : float in [0, 1], default 0.5
        Weight of the customer's own vector; 0.5 weighs both parts evenly
        (the paper tunes it per data set, 0.7 for TaFeng).
    n_groups : int, optional
        Split each history into this many groups (``group_size`` is then
        unused).

    Returns
    -------
    DataFrame
        ``customer`` (row), ``unit`` (item code), ``score``, ``rank``
        (1 ..): each customer's top ``k`` items with a positive score, sorted
        by customer then rank, ties by smaller item code (scores within a
        relative 1e-12 of each other count as tied, for the same reason).
        Customers without baskets get no rows.

    Examples
    --------
    >>> import numpy as np
    >>> from basketmine.models._nbr import tifu_knn
    >>> # customer 0: baskets {0, 1} then {1}; customer 1: {1, 2}.  Customer 0's one
    >>> # group: item 1 (1 + 0.9) / 2 = 0.95, item 0 0.9 / 2 = 0.45; each is the
    >>> # other's neighbour: 0.8 x own + 0.2 x neighbour's
    >>> recs = tifu_knn(np.array([0, 0, 1]), np.array([1.0, 2.0, 1.5]), np.array([0, 2, 3, 5]),
    ...                 np.array([0, 1, 1, 1, 2]), 2, 3, k=2, group_size=2, alpha=0.8)
    >>> recs.round(3)
       customer  unit  score  rank
    0         0     1   0.96     1
    1         0     0   0.36     2
    2         1     1   0.99     1
    3         1     2   0.80     2
    """
    owner = "tifu_knn"
    check(owner, "k", k, _POSITIVE)
    check(owner, "alpha", alpha, _UNIT)
    h, X, act = _tifu_history(owner, basket_customer, basket_time, indptr, indices, n_customers, n_items,
                              group_size, within_decay, group_decay, n_neighbors, n_groups)
    ex = _exclusions(owner, exclude, h.n_customers, h.n_items)
    parts = []
    for lo, hi, mean in _neighbour_means(X, n_neighbors if alpha < 1 else 0):
        S = mean
        S *= 1.0 - alpha
        own = X[lo:hi].tocoo()
        S[own.row, own.col] += alpha * own.data
        r, c, v, rank = _top_k(S, k, None if ex is None else ex[act[lo:hi]])
        parts.append((act[lo + r], c, v, rank))
    return _frame(parts)


def tifu_parts(basket_customer, basket_time, indptr, indices, n_customers, n_items, *, n_top=200,
               group_size=7, within_decay=0.9, group_decay=0.7, n_neighbors=300, n_groups=None):
    """TIFU-KNN's two parts, for use as features: each customer's own
    time-decayed item-frequency vector, and the mean of the vectors of their
    ``n_neighbors`` nearest customers with only its ``n_top`` largest entries
    per customer kept (the rest of it is small and would make the matrix
    dense).  Parameters as :func:`tifu_knn`; returns two sparse matrices
    (``n_customers x n_items``).  ``alpha * own + (1 - alpha) * mean`` is
    TIFU-KNN's score wherever the mean was kept.

    Examples
    --------
    >>> import numpy as np
    >>> from basketmine.models._nbr import tifu_parts
    >>> own, mean = tifu_parts(np.array([0, 0, 1]), np.array([1.0, 2.0, 1.5]), np.array([0, 2, 3, 5]),
    ...                        np.array([0, 1, 1, 1, 2]), 2, 3, group_size=2)
    >>> own.toarray().round(2)
    array([[0.45, 0.95, 0.  ],
           [0.  , 1.  , 1.  ]])
    >>> mean.toarray().round(2)
    array([[0.  , 1.  , 1.  ],
           [0.45, 0.95, 0.  ]])
    """
    owner = "tifu_parts"
    check(owner, "n_top", n_top, _POSITIVE)
    h, X, act = _tifu_history(owner, basket_customer, basket_time, indptr, indices, n_customers, n_items,
                              group_size, within_decay, group_decay, n_neighbors, n_groups)
    rows, cols, vals = [], [], []
    for lo, hi, mean in _neighbour_means(X, n_neighbors):
        r, c, v, _ = _top_k(mean, n_top)
        rows.append(act[lo + r])
        cols.append(c)
        vals.append(v)
    shape = (h.n_customers, h.n_items)
    x = X.tocoo()
    own = sp.csr_matrix((x.data, (act[x.row], x.col)), shape=shape)
    if not rows:
        return own, sp.csr_matrix(shape)
    mean = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape)
    return own, mean


def _tifu_history(owner, basket_customer, basket_time, indptr, indices, n_customers, n_items, group_size,
                  within_decay, group_decay, n_neighbors, n_groups):
    """The checked history, the customers' vectors (rows: customers with a basket) and those customers."""
    check(owner, "group_size", group_size, _POSITIVE)
    check(owner, "n_groups", n_groups, (NONE, _POSITIVE))
    check(owner, "within_decay", within_decay, _UNIT)
    check(owner, "group_decay", group_decay, _UNIT)
    check(owner, "n_neighbors", n_neighbors, _POSITIVE)
    h = _History(owner, basket_customer, basket_time, indptr, indices, n_customers, n_items)
    act = h.active
    X = h.matrix(_tifu_weights(h, group_size, n_groups, within_decay, group_decay)[h.line_basket])[act]
    return h, X, act


def _neighbour_means(X, n_neighbors: int):
    """For blocks of rows of ``X``: (lo, hi, dense mean of each row's
    ``n_neighbors`` nearest other rows by Euclidean distance); zeros when
    ``n_neighbors`` is 0 or there is no other row."""
    n_a, n_items = X.shape
    n_nb = min(n_neighbors, n_a - 1)
    if n_nb > 0:
        sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        sq_max = sq.max()
        XT = X.T.tocsr()
    step = _block_rows(max(n_items, n_a))
    for lo in range(0, n_a, step):
        hi = min(lo + step, n_a)
        if n_nb > 0:
            dist = (X[lo:hi] @ XT).toarray()  # squared distances |x|^2 + |y|^2 - 2 x.y
            dist *= -2.0
            dist += sq[None, :]
            dist += sq[lo:hi, None]
            dist[np.arange(hi - lo), np.arange(lo, hi)] = np.inf  # not one's own neighbour
            nbrs = _select(dist, n_nb, False, _TIE * (sq[lo:hi, None] + sq_max))
            weight = np.zeros((n_a, hi - lo))  # neighbours' weights, transposed for XT @ weight
            weight[nbrs.ravel(), np.repeat(np.arange(hi - lo), n_nb)] = 1.0 / n_nb
            yield lo, hi, _transpose(XT @ weight)
        else:
            yield lo, hi, np.zeros((hi - lo, n_items))


# ---------------------------------------------------------------- UP-CF@r

def up_cf(basket_customer, basket_time, indptr, indices, n_customers, n_items, k, *, exclude=None,
          recency=5, asymmetry=0.25, locality=5) -> pd.DataFrame:
    """UP-CF@r: each customer's top ``k`` items by recency-aware user
    popularity, spread over similar customers.

    After Faggioli, Polato and Aiolli, "Recency Aware Collaborative
    Filtering for Next Basket Recommendation", UMAP 2020.

    - Recency-aware user-wise popularity: ``pi_v(i)`` is the number of
      customer ``v``'s last ``r`` baskets holding item ``i``, divided by
      ``min(r, |B_v|)`` (``r = recency``; ``None`` uses every basket).
    - Asymmetric cosine between customers, on the sets of items each bought
      in the history given (``I_u``): ``s(u, v) = |I_u & I_v| / (|I_u| **
      alpha * |I_v| ** (1 - alpha))`` with ``alpha = asymmetry``, ``u`` the
      customer scored; ``s(u, u) = 1``, and 0 without common items.
    - Score: ``score_u(i) = sum over every customer v of s(u, v) ** q *
      pi_v(i)`` with ``q = locality``.  The sum includes ``v = u`` (weight
      1), so it is the customer's own recency-aware popularity plus their
      neighbours' weighted by similarity to the power ``q``: no neighbour
      cut-off, the locality exponent does that job.

    Parameters
    ----------
    basket_customer, basket_time, indptr, indices, n_customers, n_items, k, exclude
        As :func:`tifu_knn`.
    recency : int or None, default 5
        The window ``r`` in baskets (None: all of them).
    asymmetry : float in [0, 1], default 0.25
        The asymmetric cosine's ``alpha`` (0.5 is the plain cosine).
    locality : float > 0, default 5
        The exponent ``q`` on similarities.

    The defaults are points of the grid the paper searches (r in {1, 5, 25,
    100, inf}, alpha in {0, 0.25, 0.5, 0.75, 1}, q in {1, 5, 10, 50, 100,
    1000}); the paper tunes them per data set, and so should a caller.

    Returns
    -------
    DataFrame
        As :func:`tifu_knn`.

    Examples
    --------
    >>> import numpy as np
    >>> from basketmine.models._nbr import up_cf
    >>> recs = up_cf(np.array([0, 0, 1]), np.array([1.0, 2.0, 1.5]), np.array([0, 2, 3, 5]),
    ...              np.array([0, 1, 1, 1, 2]), 2, 3, k=3, recency=1, locality=1)
    >>> recs.round(3)
       customer  unit  score  rank
    0         0     1    1.5     1
    1         0     2    0.5     2
    2         1     1    1.5     1
    3         1     2    1.0     2
    """
    owner = "up_cf"
    check(owner, "k", k, _POSITIVE)
    check(owner, "recency", recency, (NONE, _POSITIVE))
    check(owner, "asymmetry", asymmetry, _UNIT)
    check(owner, "locality", locality, Interval("real", 0, None, "neither"))
    h = _History(owner, basket_customer, basket_time, indptr, indices, n_customers, n_items)
    ex = _exclusions(owner, exclude, h.n_customers, h.n_items)
    act = h.active
    n_a = len(act)
    B = h.matrix(np.ones(len(h.line_basket), dtype=np.int32))[act]
    B.data[:] = 1
    n_bought = np.diff(B.indptr).astype(np.float64)
    left, right = n_bought ** float(asymmetry), n_bought ** (1.0 - float(asymmetry))
    # popularity: baskets among the customer's last r holding the item, over min(r, |B|)
    window = h.n_baskets if recency is None else np.minimum(recency, h.n_baskets)
    recent = h.pos[h.line_basket] < window[h.cust[h.line_basket]]
    pop = h.matrix(recent.astype(np.float64))[act]
    pop.data /= np.repeat(window[act], np.diff(pop.indptr))
    popT = pop.T.tocsr()
    parts = []
    step = _block_rows(max(h.n_items, n_a))
    q = float(locality)
    for lo in range(0, n_a, step):
        hi = min(lo + step, n_a)
        # similarity of every customer (rows) to the block's (columns); 0 without common items
        weight = np.multiply.outer(right, left[lo:hi])
        np.divide((B @ B[lo:hi].T.tocsr()).toarray(), weight, out=weight)
        np.power(weight, q, out=weight)
        S = _transpose(popT @ weight)
        r, c, v, rank = _top_k(S, k, None if ex is None else ex[act[lo:hi]])
        parts.append((act[lo + r], c, v, rank))
    return _frame(parts)
