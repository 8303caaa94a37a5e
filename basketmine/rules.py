"""Association rules from frequent itemsets: mlxtend's columns plus the
interest measures of arules, rule templates, pruning, multi-level and
value-aware rules."""
from __future__ import annotations

import warnings
import numpy as np
import pandas as pd

from . import _rules
from ._validation import NONE, InBody, Interval, InvalidParameterError, Kind, Options, user_stacklevel, validated
from .itemset_array import ItemsetArray, ItemsetDtype
from .transactions import TransactionMatrix

__all__ = ["DEFAULT_MAX_RULES", "MEASURES", "MLXTEND_MEASURES", "association_rules", "measures_from_counts",
           "rule_value"]


def _div(a, b, zero=np.nan):
    """a / b, with x / 0 = +-inf and 0 / 0 = ``zero``."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(a / b)
    at_zero = b == 0
    if at_zero.any():
        a_b = np.broadcast_to(a, out.shape)[at_zero] if out.ndim else a
        out = out.copy() if out.ndim else out
        fixed = np.where(a_b == 0, zero, np.copysign(np.inf, a_b))
        if out.ndim:
            out[at_zero] = fixed
        else:
            out = fixed
    return out


def _xlogy(x, y):
    """x * log2(y) with 0 * log(0) = 0."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = x * np.log2(y)
    return np.where(x == 0, 0.0, v)


class _Table:
    """The 2x2 contingency table of antecedent A and consequent C, and the
    pieces the measures share, each computed on first use."""

    def __init__(self, n, n_a, n_c, n_ac):
        self.N = np.asarray(n, dtype=float)
        self.A = np.asarray(n_a, dtype=float)
        self.C = np.asarray(n_c, dtype=float)
        self.a = np.asarray(n_ac, dtype=float)  # A and C

    def __getattr__(self, name):  # called once per missing piece
        value = getattr(type(self), "_" + name)(self)
        setattr(self, name, value)
        return value

    _b = lambda t: t.A - t.a                    # A, not C  # noqa: E731
    _c = lambda t: t.C - t.a                    # C, not A  # noqa: E731
    _d = lambda t: t.N - t.A - t.C + t.a        # neither  # noqa: E731
    _pa = lambda t: t.A / t.N  # noqa: E731
    _pc = lambda t: t.C / t.N  # noqa: E731
    _pac = lambda t: t.a / t.N  # noqa: E731
    _pnn = lambda t: t.d / t.N  # noqa: E731
    _conf = lambda t: _div(t.a, t.A)  # noqa: E731
    _conf_c = lambda t: _div(t.a, t.C)  # P(A | C)  # noqa: E731
    _conf_not = lambda t: _div(t.c, t.N - t.A)  # P(C | not A)  # noqa: E731
    _ad = lambda t: t.a * t.d  # noqa: E731
    _bc = lambda t: t.b * t.c  # noqa: E731
    _denom = lambda t: (t.a + t.b) * (t.c + t.d) * (t.a + t.c) * (t.b + t.d)  # noqa: E731
    _agree = lambda t: t.pa * t.pc + (1 - t.pa) * (1 - t.pc)  # expected agreement  # noqa: E731
    _chi2 = lambda t: _div(t.N * (t.ad - t.bc) ** 2, t.denom, zero=0.0)  # noqa: E731

    def _hyper_p(self):
        from scipy import stats

        return stats.hypergeom.sf(self.a - 1, self.N, self.C, self.A)

    def _chi2_p(self):
        from scipy import stats

        return stats.chi2.sf(self.chi2, 1)

    def _mi(self):
        N, pa, pc = self.N, self.pa, self.pc
        cells = [(self.a, pa, pc), (self.b, pa, 1 - pc), (self.c, 1 - pa, pc), (self.d, 1 - pa, 1 - pc)]
        return sum(_xlogy(x / N, _div(x / N, pr * pcol)) for x, pr, pcol in cells)

    def _entropy_min(self):
        pa, pc = self.pa, self.pc
        h_a = -(_xlogy(pa, pa) + _xlogy(1 - pa, 1 - pa))
        h_c = -(_xlogy(pc, pc) + _xlogy(1 - pc, 1 - pc))
        return np.minimum(h_a, h_c)


#: Each measure as a formula over the table, in output order (mlxtend's twelve first).
_FORMULAS = {
    "antecedent support": lambda t: t.pa,
    "consequent support": lambda t: t.pc,
    "support": lambda t: t.pac,
    "confidence": lambda t: t.conf,
    "lift": lambda t: _div(t.conf, t.pc),
    "representativity": lambda t: np.ones_like(t.pa),
    "leverage": lambda t: t.pac - t.pa * t.pc,
    "conviction": lambda t: _div(1 - t.pc, 1 - t.conf, zero=np.inf),
    "zhangs_metric": lambda t: _div(t.pac - t.pa * t.pc,
                                    np.maximum(t.pac * (1 - t.pa), t.pa * (t.pc - t.pac)), zero=0.0),
    "jaccard": lambda t: _div(t.a, t.A + t.C - t.a),
    "certainty": lambda t: _div(t.conf - t.pc, 1 - t.pc, zero=0.0),
    "kulczynski": lambda t: 0.5 * (t.conf + t.conf_c),
    "added_value": lambda t: t.conf - t.pc,
    "all_confidence": lambda t: _div(t.a, np.maximum(t.A, t.C)),
    "max_confidence": lambda t: np.maximum(t.conf, t.conf_c),
    "cosine": lambda t: _div(t.a, np.sqrt(t.A * t.C)),
    "odds_ratio": lambda t: _div(t.ad, t.bc),
    "yules_q": lambda t: _div(t.ad - t.bc, t.ad + t.bc),
    "yules_y": lambda t: _div(np.sqrt(t.ad) - np.sqrt(t.bc), np.sqrt(t.ad) + np.sqrt(t.bc)),
    "phi": lambda t: _div(t.ad - t.bc, np.sqrt(t.denom), zero=0.0),
    "kappa": lambda t: _div(t.pac + t.pnn - t.agree, 1 - t.agree, zero=0.0),
    "collective_strength": lambda t: _div(t.pac + t.pnn, t.agree) * _div(1 - t.agree, 1 - t.pac - t.pnn),
    "imbalance_ratio": lambda t: _div(np.abs(t.A - t.C), t.A + t.C - t.a),
    "chi_squared": lambda t: t.chi2,
    "chi_squared_p_value": lambda t: t.chi2_p,
    "fisher_p_value": lambda t: t.hyper_p,
    "hyper_confidence": lambda t: 1.0 - t.hyper_p,
    "gini_index": lambda t: (t.pa * (t.conf ** 2 + (1 - t.conf) ** 2)
                             + (1 - t.pa) * (t.conf_not ** 2 + (1 - t.conf_not) ** 2)
                             - t.pc ** 2 - (1 - t.pc) ** 2),
    "j_measure": lambda t: _xlogy(t.pac, _div(t.conf, t.pc)) + _xlogy(t.b / t.N, _div(1 - t.conf, 1 - t.pc)),
    "mutual_information": lambda t: t.mi,
    "normalized_mutual_information": lambda t: _div(t.mi, t.entropy_min, zero=0.0),
    "klosgen": lambda t: np.sqrt(t.pac) * (t.conf - t.pc),
    "laplace": lambda t: (t.a + 1) / (t.A + 2),
    "lerman": lambda t: _div(t.a - t.A * t.C / t.N, np.sqrt(t.A * t.C / t.N)),
    "least_contradiction": lambda t: _div(t.a - t.b, t.C),
    "counterexample": lambda t: _div(t.a - t.b, t.a),
    "difference_of_confidence": lambda t: t.conf - t.conf_not,
    "relative_risk": lambda t: _div(t.conf, t.conf_not),
    "rule_power_factor": lambda t: t.pac * t.conf,
    "sebag_schoenauer": lambda t: _div(t.a, t.b),
    "confirmed_confidence": lambda t: 2 * t.conf - 1,
    "varying_rates_liaison": lambda t: _div(t.conf, t.pc) - 1,
    "ralambondrainy": lambda t: t.b / t.N,
    "casual_support": lambda t: t.pac + t.pnn,
    "casual_confidence": lambda t: 0.5 * (t.conf + _div(t.d, t.N - t.C)),
}

#: Every measure column, in output order (mlxtend's twelve first).
MEASURES = tuple(_FORMULAS)

#: The measure columns of mlxtend's ``association_rules``: the default of ``measures=``.
MLXTEND_MEASURES = MEASURES[:12]


def measures_from_counts(n, n_a, n_c, n_ac, measures=None) -> dict:
    """Rule measures from the 2x2 contingency table of antecedent A and
    consequent C over ``n`` baskets: ``n_a`` hold A, ``n_c`` hold C, ``n_ac``
    hold both.  Returns ``{column: array}`` for ``measures`` (names from
    :data:`MEASURES`; all of them when None), in :data:`MEASURES` order.
    Only what the asked-for measures need is computed (scipy.stats only for
    the p-values).

    Examples
    --------
    >>> from basketmine.rules import measures_from_counts
    >>> m = measures_from_counts(100, 40, 30, 20, ["confidence", "lift"])
    >>> {k: round(float(v), 4) for k, v in m.items()}
    {'confidence': 0.5, 'lift': 1.6667}
    """
    table = _Table(n, n_a, n_c, n_ac)
    wanted = MEASURES if measures is None else [m for m in MEASURES if m in set(measures)]
    return {m: np.asarray(_FORMULAS[m](table)) for m in wanted}


#: Rules kept when ``max_rules`` is None.
DEFAULT_MAX_RULES = 10_000_000

_SPEC = {
    "itemsets": InBody("a DataFrame with 'support' and 'itemsets' columns, as frequent_itemsets returns"),
    "metric": Options(MEASURES + ("improvement",)),
    "measures": InBody("None, 'all' or a list of measure names"),
    "antecedents": InBody("None, or item labels of the itemsets"),
    "consequents": InBody("None, or item labels of the itemsets"),
    "min_threshold": (NONE, Interval("real", None, None)),
    "max_antecedent_len": (NONE, Interval("int", 1, None, "left")),
    "max_consequent_len": (NONE, Interval("int", 1, None, "left")),
    "min_improvement": (NONE, Interval("real", None, None)),
    "significance": (NONE, Interval("float", 0, 1, "right")),
    "correction": Options(("holm", "bonferroni", "fdr_bh", "none")),
    "n_baskets": (NONE, Interval("int", 1, None, "left")),
    "top_k": (NONE, Interval("int", 1, None, "left")),
    "max_rules": (NONE, Interval("int", 1, None, "left")),
    "time_limit": (NONE, Interval("real", 0, None, "neither")),
    "progress": (Kind(bool, "a bool"), Kind(callable, "a callable")),
}


def _label_set(value, owner: str, name: str):
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return frozenset([value])
    return frozenset(value)


def _adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Multiple-testing adjusted p-values."""
    n = len(p)
    if n == 0 or method == "none":
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * n, 1.0)
    order = np.argsort(p, kind="stable")
    ps = p[order]
    if method == "holm":
        adj = np.maximum.accumulate(ps * (n - np.arange(n)))
    else:  # fdr_bh
        adj = np.minimum.accumulate((ps * n / np.arange(1, n + 1))[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adj, 1.0)
    return out


def _measure_names(measures, metric: str, owner: str) -> tuple[list, bool]:
    """The measure columns asked for (the metric always among them), and
    whether ``improvement`` is one of them."""
    if measures is None:
        names = set(MLXTEND_MEASURES)
    elif isinstance(measures, str) and measures == "all":
        names = set(MEASURES) | {"improvement"}
    else:
        given = [measures] if isinstance(measures, str) else list(measures)
        unknown = [m for m in given if m not in MEASURES and m != "improvement"]
        if unknown:
            raise InvalidParameterError(
                f"The 'measures' parameter of {owner} must be None (mlxtend's columns), 'all' or "
                f"names from basketmine.rules.MEASURES or 'improvement'. Got {unknown[0]!r} instead.")
        names = set(given)
    names.add(metric)
    return [m for m in MEASURES if m in names], "improvement" in names


def _encoded(itemsets: pd.DataFrame, owner: str):
    """The itemsets column as flat codes: (items, offsets, labels)."""
    col = itemsets["itemsets"]
    arr = col.array if isinstance(col.dtype, ItemsetDtype) else None
    if arr is None:
        values = col.tolist()
        bad = next((v for v in values if not isinstance(v, (set, frozenset))), None)
        if bad is not None:
            raise InvalidParameterError(
                f"The 'itemsets' parameter of {owner} must hold sets of items in its 'itemsets' "
                f"column. Got {type(bad).__name__} {bad!r} instead.")
        arr = ItemsetArray.from_sets(values)
    return arr._items, arr._offsets, arr._labels


@validated(_SPEC)
def association_rules(itemsets: pd.DataFrame, metric="confidence", min_threshold=None, *,
                      measures=None, antecedents=None, consequents=None, max_antecedent_len=None,
                      max_consequent_len=None, min_improvement=None, significance=None,
                      correction="holm", top_k=None, n_baskets=None, max_rules=None, time_limit=None,
                      progress=False) -> pd.DataFrame:
    """Rules ``A -> C`` from frequent itemsets, with 45 interest measures.

    Parameters
    ----------
    itemsets : DataFrame
        From :func:`frequent_itemsets` with ``target="all"`` (every subset of
        an itemset must be present), or any frame with ``support`` and
        ``itemsets`` columns plus ``n_baskets`` (mlxtend's frames work).
    metric, min_threshold
        Keep the rules with ``metric >= min_threshold``; ``metric`` is any
        column of :data:`MEASURES` or ``"improvement"``.  ``min_threshold``
        defaults to 0.8, or to no threshold when ``top_k`` is given.
    measures : None, "all" or list of str
        The measure columns to compute: None gives mlxtend's twelve
        (:data:`MLXTEND_MEASURES`), ``"all"`` every column of
        :data:`MEASURES` and ``improvement``.  ``metric`` is always
        included.  Measures are computed only for the rules kept.
    antecedents, consequents : item label or iterable of labels, optional
        Rule templates: only these items may appear on that side ("what goes
        with coffee?" is ``antecedents=["coffee"]``).
    max_antecedent_len, max_consequent_len : int, optional
    min_improvement : float, optional
        Drop a rule unless its confidence beats every more general rule with
        the same consequent (a proper subset of the antecedent, the empty
        one included) by at least this much.
    significance : float in (0, 1], optional
        Drop a rule unless its one-sided Fisher exact test p-value, adjusted
        over the rules that pass the other filters by ``correction``
        ("holm", "bonferroni", "fdr_bh" or "none"), is at most this level.
    top_k : int, optional
        Keep the ``top_k`` rules with the highest ``metric`` (at or above
        ``min_threshold`` when that is given); rules tied with the k-th are
        all kept, so more than ``top_k`` rows can come back.  The threshold
        rises while the rules are generated.
    n_baskets : int, optional
        Number of baskets; taken from ``itemsets.attrs`` when omitted.
    max_rules : int, optional
        Stop after this many rules (None: :data:`DEFAULT_MAX_RULES`); the
        result is then partial, a :class:`MiningLimitWarning` is issued and
        ``df.attrs["truncated"]`` is True.
    time_limit : float, optional
        Stop after this many seconds, in the same way.
    progress : bool or callable
        True prints a running count of rules on stderr; a callable is
        called as ``progress(n_rules_so_far, seconds)``.

    Returns
    -------
    DataFrame
        ``antecedents``, ``consequents`` (itemset columns of frozensets,
        like ``frequent_itemsets``), the measure columns in
        :data:`MEASURES` order, ``improvement`` when asked for or filtered
        on, ``antecedent_count``, ``consequent_count``, ``count``, and
        ``adjusted_p_value`` when ``significance`` is set.  Rows follow the
        itemsets' order, then antecedent size, then the antecedent's items
        in label order.  When the itemsets came from a TransactionMatrix
        built with ``with_ancestors``, rules relating an item to its own
        category are left out.

    Notes
    -----
    Rules are generated by a Cython kernel from a hash table of the
    itemsets.  With ``metric="confidence"`` a consequent is only extended
    while its rule meets the threshold (confidence can only fall as the
    consequent grows), so most failing rules are never looked at.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_baskets("datasets/groceries/groceries.csv")
    >>> itemsets = bm.frequent_itemsets(tm, 0.01)
    >>> rules = bm.association_rules(itemsets, "lift", 2.5)
    >>> len(rules)
    54
    >>> top = rules.sort_values("lift", ascending=False).iloc[0]
    >>> sorted(top["antecedents"]), sorted(top["consequents"]), round(float(top["lift"]), 2)
    (['curd'], ['whole milk', 'yogurt'], 3.37)
    >>> best = bm.association_rules(itemsets, "lift", top_k=3)
    >>> best["lift"].round(2).tolist()
    [3.37, 3.37, 3.3]
    """
    from .itemsets import MiningLimitWarning

    owner = "association_rules"
    if not isinstance(itemsets, pd.DataFrame) or not {"support", "itemsets"} <= set(itemsets.columns):
        raise InvalidParameterError(
            f"The 'itemsets' parameter of {owner} must be a DataFrame with 'support' and 'itemsets' "
            f"columns, as frequent_itemsets returns. Got {type(itemsets).__name__} instead.")
    attrs = itemsets.attrs
    n = n_baskets if n_baskets is not None else attrs.get("n_baskets")
    if n is None:
        raise InvalidParameterError(
            f"The 'n_baskets' parameter of {owner} must be given (an int >= 1) when the "
            f"itemsets frame does not carry it in attrs.")
    if attrs.get("target", "all") != "all":
        raise InvalidParameterError(
            f"The 'itemsets' parameter of {owner} must hold all frequent itemsets; these were mined "
            f"with target={attrs['target']!r}, which leaves out the subsets rules need.")
    items, offsets, labels = _encoded(itemsets, owner)
    if "count" in itemsets.columns:
        counts = itemsets["count"].to_numpy(dtype=np.int64)
    else:
        counts = np.rint(itemsets["support"].to_numpy(dtype=float) * int(n)).astype(np.int64)
    capped = bool(attrs.get("truncated"))
    if capped:  # a capped run need not hold every subset: use the part that does
        keep = _subset_closed(items, offsets)
        if not keep.all():
            warnings.warn(f"{owner}: the itemsets are partial ({attrs.get('stop_reason')}); the "
                          f"{int((~keep).sum()):,} whose subsets the run did not reach are left out and the rules "
                          f"come from the other {int(keep.sum()):,}", MiningLimitWarning, stacklevel=user_stacklevel())
            lens = np.diff(offsets)[keep]
            items = np.concatenate([items[offsets[i]:offsets[i + 1]] for i in np.flatnonzero(keep)]) \
                if keep.any() else items[:0]
            offsets = np.r_[0, np.cumsum(lens)].astype(offsets.dtype)
            counts = counts[keep]
    job = RuleJob(owner, items, offsets, counts, labels, int(n), metric, min_threshold, measures=measures,
                  antecedents=antecedents, consequents=consequents, max_antecedent_len=max_antecedent_len,
                  max_consequent_len=max_consequent_len, min_improvement=min_improvement, top_k=top_k,
                  max_rules=max_rules, time_limit=time_limit, ancestors=attrs.get("ancestors"))
    job.warn_unmatched()
    found = job.candidates(progress=progress)
    if significance is not None:
        found.correct(correction, significance)
    out = job.frame(found, ItemsetArray)
    if found.reason is not None:
        warnings.warn(f"{owner} stopped at {found.reason} after {len(found):,} rules; the result is "
                      f"partial (df.attrs['truncated'] is True)", MiningLimitWarning, stacklevel=user_stacklevel())
    out.attrs.update(n_baskets=int(n), truncated=capped or found.reason is not None,
                     stop_reason=found.reason or (f"itemsets: {attrs.get('stop_reason')}" if capped else None))
    return out


def _subset_closed(items: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Which itemsets have every subset in the collection (by induction on
    size: all of their one-smaller subsets are there and have theirs).

    Each itemset is known by two 64-bit sums of random keys of its items,
    so that a one-smaller subset's key is the set's key minus the key of
    the item left out: a level is checked in a few array operations, in
    time linear in its items (``_reference.subset_closed`` is the twin)."""
    n = len(offsets) - 1
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    offsets = np.asarray(offsets, dtype=np.int64)
    lens = np.diff(offsets)
    n_codes = int(items.max()) + 1 if len(items) else 1
    rng = np.random.default_rng(0x5EED)
    keys = rng.integers(0, 2**63, size=(2, n_codes), dtype=np.int64).view(np.uint64)
    # unsigned sums wrap around: modulo 2**64 (every itemset holds an item, so reduceat is exact)
    h = [np.add.reduceat(keys[k][items], offsets[:-1]) for k in range(2)]
    present = None
    for length in np.unique(lens):
        at = np.flatnonzero(lens == length)
        if length == 1:
            keep[at] = True
        elif present is not None:
            pos = np.repeat(offsets[at], length) + np.tile(np.arange(length), len(at))
            owner = np.repeat(at, length)
            with np.errstate(over="ignore"):
                sub = [h[k][owner] - keys[k][items[pos]] for k in range(2)]
            found = _pairs_in(sub[0], sub[1], present)
            keep[at] = found.reshape(len(at), length).all(axis=1)
        kept = at[keep[at]]
        present = (h[0][kept], h[1][kept])
    return keep


def _pairs_in(a: np.ndarray, b: np.ndarray, present: tuple) -> np.ndarray:
    """Which ``(a[i], b[i])`` are among the pairs ``present``."""
    pa, pb = present
    if len(pa) == 0:
        return np.zeros(len(a), dtype=bool)
    order = np.lexsort((pb, pa))
    pa, pb = pa[order], pb[order]
    i = np.minimum(np.searchsorted(pa, a, side="left"), len(pa) - 1)
    out = (pa[i] == a) & (pb[i] == b)
    for r in np.flatnonzero((pa[i] == a) & ~out):  # first keys shared by two sets: all but never
        j = np.searchsorted(pa, a[r], side="right")
        out[r] = bool((pb[i[r]:j] == b[r]).any())
    return out


class Found:
    """Rules as arrays: itemset index, antecedent mask, the three counts,
    the metric value, improvement (when computed) and adjusted p-values
    (with ``significance``)."""

    def __init__(self, sets, amask, n_a, n_c, n_ac, value, reason=None):
        self.sets, self.amask, self.n_a, self.n_c, self.n_ac, self.value = sets, amask, n_a, n_c, n_ac, value
        self.improvement = None
        self.adjusted = None
        self.reason = reason
        self.n = None

    def __len__(self) -> int:
        return len(self.sets)

    def keep(self, mask) -> None:
        for name in ("sets", "amask", "n_a", "n_c", "n_ac", "value", "improvement", "adjusted"):
            v = getattr(self, name)
            if v is not None:
                setattr(self, name, v[mask])

    def correct(self, correction: str, significance: float) -> None:
        """Keep the rules whose Fisher p-value, adjusted over all of them, is
        at most ``significance``."""
        p = measures_from_counts(self.n, self.n_a, self.n_c, self.n_ac, ["fisher_p_value"])["fisher_p_value"]
        self.adjusted = _adjust(np.asarray(p, dtype=float), correction)
        self.keep(self.adjusted <= significance)


def top_k_mask(value: np.ndarray, k: int) -> np.ndarray:
    """The values at or above the k-th largest (ties at the k-th all kept)."""
    from .itemsets import kth_largest

    kth = kth_largest(value, k)
    return np.ones(len(value), dtype=bool) if kth is None else value >= kth


#: Measures whose values lie in [0, 1]: a threshold outside it is a mistake.
_UNIT_MEASURES = frozenset({"antecedent support", "consequent support", "support", "confidence", "jaccard",
                            "kulczynski", "all_confidence", "max_confidence", "cosine", "representativity"})


class RuleJob:
    """Checked options and the hash of the itemsets, for rule generation
    over all itemsets or a slice of them (the Spark backend runs one slice
    per task)."""

    def __init__(self, owner, items, offsets, counts, labels, n: int, metric, min_threshold, *, measures=None,
                 antecedents=None, consequents=None, max_antecedent_len=None, max_consequent_len=None,
                 min_improvement=None, top_k=None, max_rules=None, time_limit=None, ancestors=None):
        self.owner, self.labels, self.n, self.metric = owner, labels, n, metric
        self.counts = np.ascontiguousarray(counts, dtype=np.int64)
        self.names, self.want_improvement = _measure_names(measures, metric, owner)
        self.threshold = (0.8 if top_k is None else -np.inf) if min_threshold is None else float(min_threshold)
        if min_threshold is not None and metric in _UNIT_MEASURES and not 0.0 <= self.threshold <= 1.0:
            raise InvalidParameterError(
                f"The 'min_threshold' parameter of {owner} must be in [0, 1] for metric={metric!r}, whose "
                f"values lie there ({'no rule could reach it' if self.threshold > 1 else 'every rule passes'}). "
                f"Got {min_threshold!r} instead.")
        self.min_improvement, self.top_k = min_improvement, top_k
        index = self.index = _rules.ItemsetIndex(items, offsets, self.counts)
        if index.duplicate >= 0:
            raise InvalidParameterError(f"The 'itemsets' parameter of {owner} holds repeated itemsets "
                                        f"(row {index.duplicate}).")
        if index.longest > _rules.MAX_ITEMSET_LEN:
            raise InvalidParameterError(
                f"The 'itemsets' parameter of {owner} holds an itemset of {index.longest} items; rules "
                f"are generated from itemsets of at most {_rules.MAX_ITEMSET_LEN}. Mine with max_len.")
        code_of = {lab: i for i, lab in enumerate(labels.tolist())} \
            if antecedents is not None or consequents is not None or ancestors else None
        self.sides, self.unmatched = {}, []
        for name, value in (("antecedents", antecedents), ("consequents", consequents)):
            allowed = _label_set(value, owner, name)
            ok = np.ones(max(len(labels), 1), dtype=np.uint8)
            if allowed is not None:
                ok[:] = 0
                codes = [code_of[x] for x in allowed if x in code_of]
                ok[codes] = 1
                if not np.isin(items, codes).any():
                    self.unmatched.append((name, allowed))
            self.sides[name] = ok
        self.anc_ptr, self.anc_idx = _ancestor_codes(ancestors or {}, code_of, len(labels))
        big = 2**31 - 1
        self.max_a = min(max_antecedent_len or big, big)
        self.max_c = min(max_consequent_len or big, big)
        self.max_rules = DEFAULT_MAX_RULES if max_rules is None else int(max_rules)
        self.time_limit = 0.0 if time_limit is None else float(time_limit)

    def warn_unmatched(self) -> None:
        for name, allowed in self.unmatched:
            warnings.warn(f"{self.owner}: none of the {name} {sorted(map(str, allowed))[:5]} is in a "
                          f"frequent itemset; no rule can match.", UserWarning, stacklevel=user_stacklevel())

    def candidates(self, only=None, progress=False) -> Found:
        """The rules that pass the metric, top-k and improvement filters."""
        from .itemsets import run_kernel

        kernel_metric = self.metric if self.metric in _rules.KERNEL_METRICS else "none"
        args = (float(self.n), kernel_metric, self.threshold, self.sides["antecedents"],
                self.sides["consequents"], self.anc_ptr, self.anc_idx, self.max_a, self.max_c,
                self.max_rules, 0 if self.top_k is None else int(self.top_k), self.time_limit)
        sets, amask, n_a, n_c, value, stop = run_kernel(self.index.rules, args, progress, self.owner, "rules",
                                                        only=only)
        reason = _rules.STOP_REASONS[stop]
        if reason == "missing_subset":
            self._missing()
        if reason == "out_of_memory":
            raise MemoryError(f"{self.owner} ran out of memory after {len(sets):,} rules; raise "
                              f"min_threshold or set max_rules / max_antecedent_len.")
        found = Found(sets, amask, n_a, n_c, self.counts[sets], value, reason)
        found.n = self.n
        if kernel_metric == "none":
            if self.metric == "improvement":
                found.value = found.improvement = self._improvement(sets, amask)
            else:
                found.value = measures_from_counts(self.n, n_a, n_c, found.n_ac, [self.metric])[self.metric]
        keep = found.value >= self.threshold
        if self.top_k is not None:
            keep[keep] = top_k_mask(found.value[keep], int(self.top_k))
        if not keep.all():
            found.keep(keep)
        if self.min_improvement is not None:
            if found.improvement is None:
                found.improvement = self._improvement(found.sets, found.amask)
            found.keep(found.improvement >= self.min_improvement)
        return found

    def frame(self, found: Found, sets_column) -> pd.DataFrame:
        """The rules frame; ``sets_column(items, offsets, labels)`` builds
        the antecedent and consequent columns."""
        impr = found.improvement
        if impr is None and (self.want_improvement or self.min_improvement is not None):
            impr = self._improvement(found.sets, found.amask)
        ant_items, ant_off, con_items, con_off = self.index.split(found.sets, found.amask)
        columns = {"antecedents": sets_column(ant_items, ant_off, self.labels),
                   "consequents": sets_column(con_items, con_off, self.labels),
                   **measures_from_counts(self.n, found.n_a, found.n_c, found.n_ac, self.names)}
        if impr is not None:
            columns["improvement"] = impr
        columns.update(antecedent_count=found.n_a, consequent_count=found.n_c, count=found.n_ac)
        if found.adjusted is not None:
            columns["adjusted_p_value"] = found.adjusted
        return pd.DataFrame(columns, copy=False)

    def _missing(self):
        subset = set(self.labels[self.index.missing_].tolist())
        raise InvalidParameterError(
            f"The 'itemsets' parameter of {self.owner} must hold every subset of each itemset; {subset!r} "
            f"is missing (was it mined with max_itemsets, time_limit or min_len?).")

    def _improvement(self, sets, amask) -> np.ndarray:
        out = self.index.improvement(float(self.n), np.ascontiguousarray(sets), np.ascontiguousarray(amask))
        if out is None:
            self._missing()
        return out


def _ancestor_codes(ancestors: dict, code_of: dict, n_items: int):
    """Each code's ancestors' codes, as CSR arrays (empty without a hierarchy)."""
    ptr = np.zeros(n_items + 1, dtype=np.int64)
    if not ancestors:
        return ptr, np.zeros(0, dtype=np.int32)
    per = [sorted(code_of[a] for a in ancestors.get(lab, ()) if a in code_of) for lab in code_of]
    np.cumsum([len(p) for p in per], out=ptr[1:])
    idx = np.fromiter((c for p in per for c in p), dtype=np.int32, count=int(ptr[-1]))
    return ptr, idx


_RULE_VALUE_SPEC = {"rules": InBody("a rules DataFrame with 'antecedents' and 'consequents' columns"),
                    "tm": InBody("a TransactionMatrix with prices")}


@validated(_RULE_VALUE_SPEC)
def rule_value(rules: pd.DataFrame, tm: TransactionMatrix) -> pd.DataFrame:
    """Add what each rule's consequent earns where the antecedent is bought.

    Needs a TransactionMatrix with prices.  Adds ``consequent_revenue`` (the
    revenue of the consequent's items in the baskets holding antecedent and
    consequent) and ``revenue_per_antecedent_basket`` (that revenue divided
    by the number of baskets holding the antecedent: what a basket with the
    antecedent is worth in consequent sales).

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> rules = bm.association_rules(bm.frequent_itemsets(tm, 0.03), "confidence", 0.5)
    >>> valued = bm.rule_value(rules, tm)
    >>> best = valued.sort_values("revenue_per_antecedent_basket", ascending=False).iloc[0]
    >>> sorted(best["antecedents"]), sorted(best["consequents"])
    (['21733'], ['85123A'])
    >>> round(float(best["revenue_per_antecedent_basket"]), 2)
    156.7
    """
    owner = "rule_value"
    if not isinstance(tm, TransactionMatrix):
        raise InvalidParameterError(f"The 'tm' parameter of {owner} must be a TransactionMatrix. "
                                    f"Got {type(tm).__name__} instead.")
    if tm.price is None:
        raise InvalidParameterError(
            f"The 'tm' parameter of {owner} must carry prices; build it with price=<column>.")
    revenue = tm.revenue
    colptr, rows, line_of = tm.item_columns()

    def column(code):
        return rows[colptr[code]:colptr[code + 1]]

    total, per = [], []
    for ant, con in zip(rules["antecedents"], rules["consequents"]):
        a_codes = tm.code_of(ant)
        c_codes = tm.code_of(con)
        tids_a = column(a_codes[0])
        for code in a_codes[1:]:
            tids_a = np.intersect1d(tids_a, column(code), assume_unique=True)
        tids = tids_a
        for code in c_codes:
            tids = np.intersect1d(tids, column(code), assume_unique=True)
        rev = 0.0
        for code in c_codes:
            col = column(code)
            pos = np.searchsorted(col, tids)
            rev += float(np.nansum(revenue[line_of[colptr[code] + pos]]))
        total.append(rev)
        per.append(rev / len(tids_a) if len(tids_a) else np.nan)
    out = rules.copy()
    out["consequent_revenue"] = total
    out["revenue_per_antecedent_basket"] = per
    return out
