"""Association rules from frequent itemsets: mlxtend's columns plus the
interest measures of arules, rule templates, pruning, multi-level and
value-aware rules."""
from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np
import pandas as pd

from ._validation import NONE, Interval, InvalidParameterError, Options, validate
from .transactions import TransactionMatrix

__all__ = ["MEASURES", "association_rules", "measures_from_counts", "rule_value"]


def _div(a, b, zero=np.nan):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = a / b
    return np.where(b == 0, np.where(a == 0, zero, np.copysign(np.inf, a)), out)


def _xlogy(x, y):
    """x * log2(y) with 0 * log(0) = 0."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = x * np.log2(y)
    return np.where(x == 0, 0.0, v)


def measures_from_counts(n, n_a, n_c, n_ac) -> dict:
    """Every rule measure from the 2x2 contingency table of antecedent A and
    consequent C over ``n`` baskets: ``n_a`` hold A, ``n_c`` hold C, ``n_ac``
    hold both.  Returns ``{column: array}``; the keys are :data:`MEASURES`.
    """
    from scipy import stats

    N = np.asarray(n, dtype=float)
    A = np.asarray(n_a, dtype=float)
    C = np.asarray(n_c, dtype=float)
    a = np.asarray(n_ac, dtype=float)  # A and C
    b = A - a                          # A, not C
    c = C - a                          # C, not A
    d = N - A - C + a                  # neither
    pa, pc, pac = A / N, C / N, a / N
    pnn = d / N
    conf = _div(a, A)
    conf_not = _div(c, N - A)         # P(C | not A)
    ad, bc = a * d, b * c
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    expected_agree = pa * pc + (1 - pa) * (1 - pc)
    hyper_p = stats.hypergeom.sf(a - 1, N, C, A)
    chi2 = _div(N * (ad - bc) ** 2, denom, zero=0.0)
    zhang_den = np.maximum(pac * (1 - pa), pa * (pc - pac))
    h_a = -(_xlogy(pa, pa) + _xlogy(1 - pa, 1 - pa))
    h_c = -(_xlogy(pc, pc) + _xlogy(1 - pc, 1 - pc))
    cells = [(a, pa, pc), (b, pa, 1 - pc), (c, 1 - pa, pc), (d, 1 - pa, 1 - pc)]
    mi = sum(_xlogy(x / N, _div(x / N, pr * pcol)) for x, pr, pcol in cells)
    gini = (pa * (conf ** 2 + (1 - conf) ** 2) + (1 - pa) * (conf_not ** 2 + (1 - conf_not) ** 2)
            - pc ** 2 - (1 - pc) ** 2)
    return {
        "antecedent support": pa,
        "consequent support": pc,
        "support": pac,
        "confidence": conf,
        "lift": _div(conf, pc),
        "representativity": np.ones_like(pa),
        "leverage": pac - pa * pc,
        "conviction": _div(1 - pc, 1 - conf, zero=np.inf),
        "zhangs_metric": _div(pac - pa * pc, zhang_den, zero=0.0),
        "jaccard": _div(a, A + C - a),
        "certainty": _div(conf - pc, 1 - pc, zero=0.0),
        "kulczynski": 0.5 * (conf + _div(a, C)),
        "added_value": conf - pc,
        "all_confidence": _div(a, np.maximum(A, C)),
        "max_confidence": np.maximum(conf, _div(a, C)),
        "cosine": _div(a, np.sqrt(A * C)),
        "odds_ratio": _div(ad, bc),
        "yules_q": _div(ad - bc, ad + bc),
        "yules_y": _div(np.sqrt(ad) - np.sqrt(bc), np.sqrt(ad) + np.sqrt(bc)),
        "phi": _div(ad - bc, np.sqrt(denom), zero=0.0),
        "kappa": _div(pac + pnn - expected_agree, 1 - expected_agree, zero=0.0),
        "collective_strength": _div(pac + pnn, expected_agree) * _div(1 - expected_agree, 1 - pac - pnn),
        "imbalance_ratio": _div(np.abs(A - C), A + C - a),
        "chi_squared": chi2,
        "chi_squared_p_value": stats.chi2.sf(chi2, 1),
        "fisher_p_value": hyper_p,
        "hyper_confidence": 1.0 - hyper_p,
        "gini_index": gini,
        "j_measure": _xlogy(pac, _div(conf, pc)) + _xlogy(b / N, _div(1 - conf, 1 - pc)),
        "mutual_information": mi,
        "normalized_mutual_information": _div(mi, np.minimum(h_a, h_c), zero=0.0),
        "klosgen": np.sqrt(pac) * (conf - pc),
        "laplace": (a + 1) / (A + 2),
        "lerman": _div(a - A * C / N, np.sqrt(A * C / N)),
        "least_contradiction": _div(a - b, C),
        "counterexample": _div(a - b, a),
        "difference_of_confidence": conf - conf_not,
        "relative_risk": _div(conf, conf_not),
        "rule_power_factor": pac * conf,
        "sebag_schoenauer": _div(a, b),
        "confirmed_confidence": 2 * conf - 1,
        "varying_rates_liaison": _div(conf, pc) - 1,
        "ralambondrainy": b / N,
        "casual_support": pac + pnn,
        "casual_confidence": 0.5 * (conf + _div(d, N - C)),
    }


#: Every measure column, in output order (mlxtend's twelve first).
MEASURES = tuple(measures_from_counts(10, 5, 5, 3).keys())

_SPEC = {
    "metric": Options(MEASURES + ("improvement",)),
    "min_threshold": Interval("real", None, None),
    "max_antecedent_len": (NONE, Interval("int", 1, None, "left")),
    "max_consequent_len": (NONE, Interval("int", 1, None, "left")),
    "min_improvement": (NONE, Interval("real", None, None)),
    "significance": (NONE, Interval("float", 0, 1, "right")),
    "correction": Options(("holm", "bonferroni", "fdr_bh", "none")),
    "n_transactions": (NONE, Interval("int", 1, None, "left")),
}


def _label_set(value, owner: str, name: str):
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return frozenset([value])
    return frozenset(value)


def _sort_key(items):
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)


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


def association_rules(itemsets: pd.DataFrame, metric="confidence", min_threshold=0.8, *,
                      antecedents=None, consequents=None, max_antecedent_len=None,
                      max_consequent_len=None, min_improvement=None, significance=None,
                      correction="holm", n_transactions=None) -> pd.DataFrame:
    """Rules ``A -> C`` from frequent itemsets, with 45 interest measures.

    Parameters
    ----------
    itemsets : DataFrame
        From :func:`frequent_itemsets` with ``target="all"`` (every subset of
        an itemset must be present), or any frame with ``support`` and
        ``itemsets`` columns plus ``n_transactions``.
    metric, min_threshold
        Keep the rules with ``metric >= min_threshold``; ``metric`` is any
        column of :data:`MEASURES` or ``"improvement"``.
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
        over all candidate rules by ``correction`` ("holm", "bonferroni",
        "fdr_bh" or "none"), is at most this level.
    n_transactions : int, optional
        Number of baskets; taken from ``itemsets.attrs`` when omitted.

    Returns
    -------
    DataFrame
        ``antecedents``, ``consequents`` (frozensets), the columns of
        :data:`MEASURES`, ``improvement``, ``antecedent_count``,
        ``consequent_count``, ``count``, and ``adjusted_p_value`` when
        ``significance`` is set.  Rows follow the itemsets' order, then
        antecedent size, then label order.  When the itemsets came from a
        TransactionMatrix built with ``with_ancestors``, rules relating an
        item to its own category are left out.

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
    """
    owner = "association_rules"
    validate(owner, _SPEC, locals())
    if not isinstance(itemsets, pd.DataFrame) or not {"support", "itemsets"} <= set(itemsets.columns):
        raise InvalidParameterError(
            f"The 'itemsets' parameter of {owner} must be a DataFrame with 'support' and 'itemsets' "
            f"columns, as frequent_itemsets returns. Got {type(itemsets).__name__} instead.")
    attrs = itemsets.attrs
    n = n_transactions if n_transactions is not None else attrs.get("n_transactions")
    if n is None:
        raise InvalidParameterError(
            f"The 'n_transactions' parameter of {owner} must be given (an int >= 1) when the "
            f"itemsets frame does not carry it in attrs.")
    if attrs.get("target", "all") != "all":
        raise InvalidParameterError(
            f"The 'itemsets' parameter of {owner} must hold all frequent itemsets; these were mined "
            f"with target={attrs['target']!r}, which leaves out the subsets rules need.")
    ant_ok = _label_set(antecedents, owner, "antecedents")
    con_ok = _label_set(consequents, owner, "consequents")
    max_a = max_antecedent_len or 10**9
    max_c = max_consequent_len or 10**9
    ancestors = attrs.get("ancestors") or {}

    sets = itemsets["itemsets"].tolist()
    if "count" in itemsets.columns:
        counts = itemsets["count"].to_numpy(dtype=np.int64)
    else:
        counts = np.rint(itemsets["support"].to_numpy(dtype=float) * n).astype(np.int64)
    count_of = dict(zip(sets, counts.tolist()))
    if len(count_of) != len(sets):
        raise InvalidParameterError(f"The 'itemsets' parameter of {owner} holds repeated itemsets.")
    seen_items = set().union(*sets) if sets else set()
    for name, allowed in (("antecedents", ant_ok), ("consequents", con_ok)):
        if allowed is not None and not (allowed & seen_items):
            warnings.warn(f"{owner}: none of the {name} {sorted(map(str, allowed))[:5]} is in a "
                          f"frequent itemset; no rule can match.", UserWarning, stacklevel=2)

    rows_a, rows_c, n_a, n_c, n_ac, impr = [], [], [], [], [], []
    for z, cz in zip(sets, counts.tolist()):
        k = len(z)
        if k < 2:
            continue
        if ancestors and any(ancestors.get(x, frozenset()) & z for x in z):
            continue
        if ant_ok is not None and not (z & ant_ok):
            continue
        if con_ok is not None and not (z & con_ok):
            continue
        items = _sort_key(z)
        for ka in range(max(1, k - max_c), min(k - 1, max_a) + 1):
            for combo in combinations(items, ka):
                ant = frozenset(combo)
                if ant_ok is not None and not ant <= ant_ok:
                    continue
                con = z - ant
                if con_ok is not None and not con <= con_ok:
                    continue
                try:
                    ca, cc = count_of[ant], count_of[con]
                except KeyError:
                    raise InvalidParameterError(
                        f"The 'itemsets' parameter of {owner} must hold every subset of each "
                        f"itemset; {set(ant if ant not in count_of else con)!r} is missing "
                        f"(was it mined with max_itemsets, time_limit or min_len?).") from None
                best = cc / n  # the empty antecedent: P(C)
                for kb in range(1, ka):
                    for sub in combinations(combo, kb):
                        sub_s = frozenset(sub)
                        best = max(best, count_of[sub_s | con] / count_of[sub_s])
                rows_a.append(ant)
                rows_c.append(con)
                n_a.append(ca)
                n_c.append(cc)
                n_ac.append(cz)
                impr.append(cz / ca - best)

    m = measures_from_counts(n, np.array(n_a, dtype=float), np.array(n_c, dtype=float),
                             np.array(n_ac, dtype=float))
    out = pd.DataFrame({"antecedents": pd.Series(rows_a, dtype=object),
                        "consequents": pd.Series(rows_c, dtype=object), **m})
    out["improvement"] = np.asarray(impr, dtype=float)
    out["antecedent_count"] = np.asarray(n_a, dtype=np.int64)
    out["consequent_count"] = np.asarray(n_c, dtype=np.int64)
    out["count"] = np.asarray(n_ac, dtype=np.int64)
    keep = out[metric].to_numpy() >= min_threshold
    if min_improvement is not None:
        keep &= out["improvement"].to_numpy() >= min_improvement
    out = out[keep].reset_index(drop=True)
    if significance is not None:
        out["adjusted_p_value"] = _adjust(out["fisher_p_value"].to_numpy(), correction)
        out = out[out["adjusted_p_value"] <= significance].reset_index(drop=True)
    out.attrs.update(n_transactions=int(n))
    return out


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
    (['22386'], ['85099B'])
    >>> round(float(best["revenue_per_antecedent_basket"]), 2)
    19.89
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
