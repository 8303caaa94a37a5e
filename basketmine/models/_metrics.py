"""Holdout metrics of next-item recommendations: ranking quality, the
repeat/explore split of the next-basket "reality check" (Li et al., ACM
TOIS 2023) and the calibration of predicted purchase probabilities."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import BOOL, NONE, InBody, Interval, InvalidParameterError, check, validated

__all__ = ["calibration_table", "evaluate_recommendations"]

_K = Interval("int", 1, None, "left")

#: The parameters :func:`evaluate_recommendations` and :func:`calibration_table` share.
JUDGED_SPEC = {
    "recs": InBody("a DataFrame with the columns 'customer', 'rank' and 'item' (optionally 'expected_days', "
                   "'bought_before', 'probability' in [0, 1])"),
    "truth": InBody("a DataFrame with the columns 'customer' and 'unit' (or 'item'), and 'bought_before' "
                    "with new_only=True"),
    "k": (_K, NONE),
    "new_only": BOOL,
    "customers": InBody("None, or a list of customer labels"),
}


def _judged_rows(recs: pd.DataFrame, truth: pd.DataFrame, k, new_only: bool, customers, owner: str):
    """The recommended rows at rank <= k of the judged customers, each
    marked a hit or not, and the relevant holdout purchases.

    Returns ``(rows, relevant, customers, k)``: ``rows`` holds the recs'
    ``customer``, ``rank``, ``item`` (and ``expected_days``,
    ``bought_before``, ``probability`` when present), ``hit``, the truth's
    ``days`` of a hit (when the truth has it) and ``_truth_repeat`` (1.0 when
    the hit item was bought before per the truth, 0.0 when not, NaN for a
    miss or a truth without ``bought_before``), sorted by customer and rank;
    ``relevant`` is the truth of the judged customers (items never bought
    before only, with ``new_only``); ``customers`` an Index of the judged.
    """
    for col in ("customer", "rank", "item"):
        if col not in recs.columns:
            raise InvalidParameterError(
                f"The 'recs' parameter of {owner} must have a {col!r} column. Got columns {list(recs.columns)}.")
    truth = truth.rename(columns={"unit": "item"})
    for col in ("customer", "item"):
        if col not in truth.columns:
            raise InvalidParameterError(
                f"The 'truth' parameter of {owner} must have a {col!r} column. Got columns {list(truth.columns)}.")
    if k is None:  # the largest rank in recs (``k`` itself is checked by the callers' @validated)
        k = int(recs["rank"].max()) if len(recs) else 1
        check(owner, "k", k, _K)
    if customers is None:
        customers = pd.unique(truth["customer"])
    cust = pd.Index(customers)
    rel = truth[truth["customer"].isin(cust)]
    if new_only:
        if "bought_before" not in rel.columns:
            raise InvalidParameterError(
                f"The 'truth' parameter of {owner} needs a 'bought_before' column when new_only=True.")
        rel = rel[~rel["bought_before"].to_numpy(bool)]
    keep = [c for c in ("customer", "rank", "item", "expected_days", "bought_before", "probability")
            if c in recs.columns]
    r = recs.loc[(recs["rank"] <= k) & recs["customer"].isin(cust), keep]
    right = rel[["customer", "item"] + (["days"] if "days" in rel.columns else [])]
    if "bought_before" in rel.columns:
        right = right.assign(_truth_repeat=rel["bought_before"].to_numpy(bool).astype(float))
    m = r.merge(right, on=["customer", "item"], how="left", indicator=True)
    m["hit"] = m["_merge"] == "both"
    m = m.drop(columns="_merge").sort_values(["customer", "rank"], kind="stable")
    return m, rel, cust, k


def _per_customer(values, m: pd.DataFrame, cust: pd.Index) -> pd.Series:
    """Sum of ``values`` (one per row of ``m``) per judged customer, 0 for none."""
    return pd.Series(values, index=m.index).groupby(m["customer"]).sum().reindex(cust, fill_value=0)


def _mean_over(num: pd.Series, den: pd.Series) -> float:
    """Mean of ``num / den`` over the customers with ``den > 0`` (NaN if none)."""
    some = den > 0
    return float((num[some] / den[some]).mean()) if some.any() else np.nan


@validated(JUDGED_SPEC)
def evaluate_recommendations(recs: pd.DataFrame, truth: pd.DataFrame, k: int | None = None, *,
                             new_only: bool = False, customers=None) -> pd.Series:
    """Ranking, repeat/explore and probability metrics at ``k`` of
    recommendations against what the customers bought in the holdout.

    The ranking metrics and the repeat/explore split follow the next-basket
    "reality check" (Li, Jullien, Ariannezhad and de Rijke, ACM TOIS 2023):
    an item is *relevant* to a customer if bought in the holdout (with
    ``new_only``, if also never bought before); a *hit* is a recommended
    row at rank <= ``k`` whose item is relevant; a *repeat* item is one the
    customer bought before the as-of time, an *explore* item one never
    bought.

    Parameters
    ----------
    recs : DataFrame
        ``customer``, ``rank``, ``item`` (as :func:`recommend` returns);
        ``expected_days`` too for the timing error; ``bought_before`` for
        the repeat/explore split; ``probability`` (the predicted
        probability, in [0, 1], that the customer buys the item within the
        horizon) for the Brier scores.
    truth : DataFrame
        ``customer``, ``unit`` (or ``item``), ``days`` to the first purchase
        after the as-of time, ``bought_before`` — as
        :attr:`Features.holdout_pairs`.
    k : int, optional
        Cut-off rank (default: the largest rank in ``recs``).
    new_only : bool
        Count only items the customer had never bought: the relevant items
        are restricted to the explore items, and every metric below is
        computed on that restricted set.
    customers : list, optional
        Customers judged (default: every customer with a holdout purchase
        in ``truth``).  A customer without recommendations counts as a miss.

    Returns
    -------
    Series
        Over all customers judged:

        - ``hit_rate``: share with at least one hit;
        - ``precision``: hits / k, averaged;
        - ``phr``: the reality check's name for ``hit_rate`` (the same
          number).

        Over the customers with at least one relevant item, averaged:

        - ``recall``: hits / relevant items;
        - ``map``: average precision at k (the sum over hits of the
          precision at the hit's rank, divided by min(k, relevant items));
        - ``ndcg``: binary relevance, DCG = the sum over hits at rank i of
          1 / log2(i + 1), divided by the ideal DCG, the same sum over ranks
          1 .. min(k, relevant items).

        Repeat/explore split (NaN unless both ``recs`` and ``truth`` have a
        ``bought_before`` column; a recommended row is labelled by the recs'
        column, a relevant item by the truth's):

        - ``repeat_share``: share of the recommended rows at rank <= k of
          the customers judged whose item was bought before (pooled over
          rows; NaN without rows);
        - ``hit_repeat_share``: share of the hits whose item was bought
          before (pooled; NaN without hits);
        - ``recall_repeat`` / ``recall_explore``: hits among the relevant
          repeat (explore) items / the number of relevant repeat (explore)
          items, averaged over the customers with at least one relevant
          repeat (explore) item.

        Brier scores (NaN unless ``recs`` has a ``probability`` column),
        over the recommended rows at rank <= k of the customers judged with
        a probability, with bought = 1 for a hit and 0 otherwise:

        - ``brier``: mean of (probability - bought)²;
        - ``brier_base_rate``: the same for the constant probability equal
          to the observed hit share of those rows (the best constant in
          hindsight: hit share x (1 - hit share));
        - ``brier_skill``: 1 - brier / brier_base_rate (NaN when the base
          rate's Brier is 0: all hits or none).

        Timing (when ``recs`` has ``expected_days`` and ``truth`` has
        ``days``): ``timing_mae_days`` and ``timing_median_ae_days`` over
        hits with a predicted timing, and ``timing_mae_half_horizon_days``,
        the error of always answering half the horizon, for scale.

        The counts ``customers``, ``customers_with_relevant``.

    See Also
    --------
    calibration_table : predicted probability against the observed hit
        share, bin by bin.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice",
    ...                  cancellations="drop")  # a backtest: returns made later are not netted
    >>> f = bm.models.features(tm, "2011-09-01", horizon="90D")
    >>> recs = bm.models.baseline_recommendations(tm, "repeat", k=10, asof="2011-09-01")
    >>> scores = bm.models.evaluate_recommendations(recs, f.holdout_pairs)
    >>> scores[["hit_rate", "precision", "recall", "map"]].round(3)
    hit_rate     0.841
    precision    0.319
    recall       0.150
    map          0.255
    Name: value, dtype: float64
    >>> # the personal-repeat baseline recommends repeat items and finds only those
    >>> scores[["ndcg", "repeat_share", "recall_repeat", "recall_explore"]].round(3)
    ndcg              0.369
    repeat_share      0.968
    recall_repeat     0.484
    recall_explore    0.001
    Name: value, dtype: float64

    A probability per recommendation gives the Brier scores:

    >>> import pandas as pd
    >>> recs = pd.DataFrame({"customer": ["a", "a", "b", "b"], "rank": [1, 2, 1, 2],
    ...                      "item": ["x", "y", "x", "z"], "probability": [0.8, 0.3, 0.6, 0.1]})
    >>> truth = pd.DataFrame({"customer": ["a", "b"], "item": ["x", "y"]})
    >>> s = bm.models.evaluate_recommendations(recs, truth)
    >>> s[["phr", "recall", "brier", "brier_base_rate", "brier_skill"]].round(3)
    phr                0.500
    recall             0.500
    brier              0.125
    brier_base_rate    0.188
    brier_skill        0.333
    Name: value, dtype: float64
    """
    owner = "evaluate_recommendations"
    m, rel, cust, k = _judged_rows(recs, truth, k, new_only, customers, owner)
    hit = m["hit"].to_numpy(bool)
    n_rel = rel.groupby("customer").size().reindex(cust, fill_value=0)
    hits = m.groupby("customer")["hit"].sum().reindex(cust, fill_value=0)
    has_rel = n_rel > 0
    # average precision: sum over hits of precision at the hit's rank
    m["cum_hits"] = m.groupby("customer")["hit"].cumsum()
    prec_at = np.where(m["hit"], m["cum_hits"] / m["rank"], 0.0)
    ap_sum = pd.Series(prec_at, index=m.index).groupby(m["customer"]).sum().reindex(cust, fill_value=0.0)
    ap = ap_sum[has_rel] / np.minimum(n_rel[has_rel], k)
    # NDCG: a hit at rank i gains 1 / log2(i + 1); the ideal puts min(k, |relevant|) hits on top
    dcg = _per_customer(np.where(hit, 1.0 / np.log2(m["rank"].to_numpy(float) + 1.0), 0.0), m, cust)
    ideal = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2, dtype=float)))])
    idcg = pd.Series(ideal[np.minimum(n_rel.to_numpy(), k)], index=cust)
    out = {
        "hit_rate": float((hits > 0).mean()),
        "precision": float((hits / k).mean()),
        "recall": float((hits[has_rel] / n_rel[has_rel]).mean()) if has_rel.any() else np.nan,
        "map": float(ap.mean()) if has_rel.any() else np.nan,
        "ndcg": _mean_over(dcg, idcg),
        "phr": float((hits > 0).mean()),
    }
    out.update(_repeat_explore(m, rel, cust, hit))
    out.update(_brier(m, hit))
    if "expected_days" in m.columns and "days" in m.columns:
        e = (m["expected_days"] - m["days"]).abs()[m["hit"]].dropna()
        out["timing_mae_days"] = float(e.mean()) if len(e) else np.nan
        out["timing_median_ae_days"] = float(e.median()) if len(e) else np.nan
        if "horizon_days" in recs.attrs or "horizon" in recs.attrs:
            half = recs.attrs["horizon"] / pd.Timedelta(days=1) / 2
            e0 = (half - m["days"]).abs()[m["hit"] & m["expected_days"].notna()]
            out["timing_mae_half_horizon_days"] = float(e0.mean()) if len(e0) else np.nan
    out["customers"] = len(cust)
    out["customers_with_relevant"] = int(has_rel.sum())
    return pd.Series(out, name="value")


def _repeat_explore(m: pd.DataFrame, rel: pd.DataFrame, cust: pd.Index, hit: np.ndarray) -> dict:
    """``repeat_share``, ``hit_repeat_share``, ``recall_repeat``, ``recall_explore``."""
    keys = ("repeat_share", "hit_repeat_share", "recall_repeat", "recall_explore")
    if "bought_before" not in m.columns or "bought_before" not in rel.columns:
        return dict.fromkeys(keys, np.nan)
    row_repeat = m["bought_before"].to_numpy(bool)
    rel_repeat = rel["bought_before"].to_numpy(bool)
    n_rep = rel[rel_repeat].groupby("customer").size().reindex(cust, fill_value=0)
    n_exp = rel[~rel_repeat].groupby("customer").size().reindex(cust, fill_value=0)
    truth_repeat = m["_truth_repeat"].to_numpy(float)
    return dict(zip(keys, (
        float(row_repeat.mean()) if len(m) else np.nan,
        float((row_repeat & hit).sum() / hit.sum()) if hit.any() else np.nan,
        _mean_over(_per_customer(hit & (truth_repeat == 1.0), m, cust), n_rep),
        _mean_over(_per_customer(hit & (truth_repeat == 0.0), m, cust), n_exp),
    )))


def _probabilities(m: pd.DataFrame, owner: str) -> np.ndarray:
    """The recs' ``probability`` of each row (NaN where missing), checked to lie in [0, 1]."""
    p = pd.to_numeric(m["probability"], errors="coerce").to_numpy(float)
    bad = ~np.isnan(p) & ((p < 0) | (p > 1))
    if bad.any():
        raise InvalidParameterError(
            f"The 'probability' column of the 'recs' parameter of {owner} must lie in [0, 1]. "
            f"Got {p[bad][0]!r}.")
    return p


def _brier(m: pd.DataFrame, hit: np.ndarray) -> dict:
    """``brier``, ``brier_base_rate``, ``brier_skill`` over the rows with a probability."""
    keys = ("brier", "brier_base_rate", "brier_skill")
    if "probability" not in m.columns:
        return dict.fromkeys(keys, np.nan)
    p = _probabilities(m, "evaluate_recommendations")
    ok = ~np.isnan(p)
    if not ok.any():
        return dict.fromkeys(keys, np.nan)
    y = hit[ok].astype(float)
    brier = float(np.mean((p[ok] - y) ** 2))
    base = float(np.mean((y.mean() - y) ** 2))
    return dict(zip(keys, (brier, base, 1.0 - brier / base if base > 0 else np.nan)))


CALIBRATION_SPEC = {
    "bins": _K,
    **JUDGED_SPEC,
    "recs": InBody("a DataFrame with the columns 'customer', 'rank', 'item' and 'probability' (in [0, 1]; "
                   "optionally 'expected_days')"),
}


@validated(CALIBRATION_SPEC)
def calibration_table(recs: pd.DataFrame, truth: pd.DataFrame, k: int | None = None, *,
                      new_only: bool = False, customers=None, bins: int = 10) -> pd.DataFrame:
    """Predicted purchase probability against the observed hit share, in
    equal-count bins: the data of a calibration (reliability) plot.

    The rows judged are those of :func:`evaluate_recommendations`'s Brier
    scores: the recommended rows at rank <= ``k`` of the customers judged,
    with a probability; a row is bought if it is a hit.

    Parameters
    ----------
    recs : DataFrame
        ``customer``, ``rank``, ``item``, ``probability`` (the predicted
        probability, in [0, 1], that the customer buys the item within the
        horizon; rows without one are left out); ``expected_days`` for the
        timing columns.
    truth, k, new_only, customers
        As for :func:`evaluate_recommendations`.
    bins : int
        Number of quantile bins of ``probability``.

    Returns
    -------
    DataFrame
        One row per non-empty bin, by increasing probability: ``bin`` (1 to
        ``bins``), ``n`` (rows), ``mean_probability``, ``observed_rate``
        (share of the rows that are hits); with ``expected_days`` in
        ``recs``, also ``mean_expected_days`` and ``mean_days`` (the actual
        days to the purchase, NaN when ``truth`` has no ``days``), both
        over the bin's hits with a predicted timing.

        A row goes to bin ``1 + floor(bins * below / n)``, where ``below``
        counts the rows with a strictly lower probability and ``n`` the
        rows judged: without ties the bins hold equal counts (up to one
        row); tied probabilities always share a bin, so the table does not
        depend on the order of the rows, and a bin the ties leave empty is
        absent.

    Examples
    --------
    >>> import basketmine as bm
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"customer": ["a"] * 4 + ["b"] * 4, "rank": [1, 2, 3, 4] * 2,
    ...                      "item": ["w", "x", "y", "z"] * 2,
    ...                      "probability": [0.9, 0.7, 0.4, 0.1, 0.8, 0.6, 0.4, 0.2]})
    >>> truth = pd.DataFrame({"customer": ["a", "a", "b", "b"], "item": ["w", "y", "w", "x"]})
    >>> bm.models.calibration_table(recs, truth, bins=4)
       bin  n  mean_probability  observed_rate
    0    1  2              0.15            0.0
    1    2  2              0.40            0.5
    2    3  2              0.65            0.5
    3    4  2              0.85            1.0

    The two rows at 0.4 share the second bin.
    """
    owner = "calibration_table"
    if "probability" not in recs.columns:
        raise InvalidParameterError(
            f"The 'recs' parameter of {owner} must have a 'probability' column. Got columns {list(recs.columns)}.")
    m, _, _, _ = _judged_rows(recs, truth, k, new_only, customers, owner)
    p = _probabilities(m, owner)
    ok = ~np.isnan(p)
    m, p = m[ok], p[ok]
    cols = ["bin", "n", "mean_probability", "observed_rate"]
    timed = "expected_days" in m.columns
    if timed:
        cols += ["mean_expected_days", "mean_days"]
    if not len(m):
        return pd.DataFrame({c: pd.Series(dtype=int if c in ("bin", "n") else float) for c in cols})
    below = np.searchsorted(np.sort(p), p, side="left")
    b = 1 + below * bins // len(p)
    hit = m["hit"].to_numpy(bool)
    frame = pd.DataFrame({"bin": b, "probability": p, "hit": hit.astype(float)})
    if timed:
        t = hit & m["expected_days"].notna().to_numpy()
        days = m["days"].to_numpy(float) if "days" in m.columns else np.full(len(m), np.nan)
        frame["expected_days"] = np.where(t, m["expected_days"].to_numpy(float), np.nan)
        frame["days"] = np.where(t, days, np.nan)
    g = frame.groupby("bin", sort=True)
    out = pd.DataFrame({"n": g.size(), "mean_probability": g["probability"].mean(),
                        "observed_rate": g["hit"].mean()})
    if timed:
        out["mean_expected_days"] = g["expected_days"].mean()
        out["mean_days"] = g["days"].mean()
    return out.reset_index()[cols]
