"""What else will they buy, and when: candidate sources, a learned ranker,
baselines and holdout metrics."""
from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from .._lazy import LazyModule
from .._progress import Steps
from .._validation import (BOOL, FRACTION_OR_COUNT, NONE, InBody, Interval, InvalidParameterError, NotFittedError,
                           Options, check, user_stacklevel, validate, validated)
from ..itemsets import MiningLimitWarning, frequent_itemsets
from ..rules import association_rules
from ..sequences import follow_ups
from ..transactions import TransactionMatrix, _ns64, warn_returns_after
from ._features import (FEATURES_SPEC, HIERARCHY, HORIZON, LEVEL, LOG, History, _level_log, _need_log,
                        _timedelta, _timestamp, customer_features, first_purchases, history)
from ._metrics import evaluate_recommendations
from ._nbr import tifu_knn, tifu_parts, up_cf

sp = LazyModule("scipy.sparse")

__all__ = ["BASELINES", "METHODS", "Recommender", "baseline_recommendations",
           "evaluate_recommendations", "recommend", "recommendation_benchmark"]

#: Candidate sources of the recommender.
METHODS = ("repeat", "tifu_knn", "cooccurrence", "follow_ups", "rules", "popularity")
#: Rankings usable as baselines: the single sources (each padded with
#: popularity) and the two next-basket methods TIFU-KNN and UP-CF@r.
BASELINES = ("popularity", "repeat", "cooccurrence", "rules", "follow_ups", "tifu_knn", "up_cf")

_K = Interval("int", 1, None, "left")
#: A seed as numpy's ``default_rng`` and scikit-learn both take it.
RANDOM_STATE = (NONE, Interval("int", 0, 2**32 - 1, "both"))

#: The parameters of :class:`Recommender`, in the order its fit checks them
#: (``recommend`` and ``recommendation_benchmark`` pass them on).
RECOMMENDER_SPEC = {
    "horizon": HORIZON,
    "methods": InBody(f"a non-empty tuple of {', '.join(METHODS)}"),
    **dict.fromkeys(("n_popular", "n_repeat", "n_tifu", "n_knn", "n_neighbors", "n_cooccurrence",
                     "n_windows", "max_training_rows", "max_iter"), _K),
    "n_rules": (NONE, _K),
    "follow_up_support": FRACTION_OR_COUNT,
    "rule_support": FRACTION_OR_COUNT,
    "rule_confidence": Interval("real", 0, 1, "both"),
    "blend": Interval("real", 0, None, "left"),
    "diversity": Interval("real", 0, None, "left"),
    "level": LEVEL,
    "hierarchy": HIERARCHY,
}
#: The parameters of a ranking: :meth:`Recommender.recommend`, :func:`recommend`,
#: :func:`baseline_recommendations`.
RANKING_SPEC = {"k": _K, "exclude_purchased": BOOL}
_CUSTOMERS = InBody("None, a customer label or a list of customer labels (those without a purchase "
                    "before the as-of time get no recommendation, with a warning)")

_CUSTOMER_COLS = ["n_baskets", "frequency", "recency_days", "tenure_days", "n_units", "basket_size",
                  "spend_total", "spend_mean", "ipt_median", "baskets_30d", "baskets_90d"]
_DAY = pd.Timedelta(days=1)


def _top_per_csr_row(M, n: int, positive: bool = True):
    """Rows, columns and values of each row's ``n`` largest entries of a
    sparse matrix (ties by column; only positive ones with ``positive``),
    in row-major order."""
    M = M.tocsr()
    M.sum_duplicates()
    M.sort_indices()
    indptr, ind, dat = M.indptr, M.indices, M.data
    lens = np.diff(indptr)
    keep = dat > 0 if positive else np.ones(len(dat), bool)
    for i in np.flatnonzero(lens > n):
        a, b = indptr[i], indptr[i + 1]
        d = dat[a:b]
        kth = np.partition(d, len(d) - n)[len(d) - n]
        mk = d > kth
        need = n - int(mk.sum())
        mk[np.flatnonzero(d == kth)[:need]] = True
        keep[a:b] &= mk
    rows = np.repeat(np.arange(M.shape[0]), lens)
    return rows[keep].astype(np.int64), ind[keep].astype(np.int64), dat[keep]


def _find(keys: np.ndarray, query: np.ndarray):
    """Where each ``query`` value sits in the sorted ``keys`` and whether it is
    there: ``(pos, found)``; ``pos`` is a valid index whenever ``keys`` is not
    empty."""
    if len(keys) == 0:
        return np.zeros(len(query), np.int64), np.zeros(len(query), bool)
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return pos, keys[pos] == query


def _pair_lookup(M, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``M[rows[i], cols[i]]`` for many pairs of a sparse matrix (0 where absent)."""
    M = M.tocsr()
    M.sum_duplicates()
    M.sort_indices()
    n_cols = M.shape[1]
    key = np.repeat(np.arange(M.shape[0], dtype=np.int64), np.diff(M.indptr)) * n_cols + M.indices
    q = np.asarray(rows, np.int64) * n_cols + np.asarray(cols, np.int64)
    pos, found = _find(key, q)
    return np.where(found, M.data[pos] if len(key) else 0.0, 0.0)


class _Sources:
    """Everything known at an as-of time, from the log before it."""

    def __init__(self, log: TransactionMatrix, asof: pd.Timestamp, horizon: pd.Timedelta, params: dict):
        self.log = log
        self.asof = asof
        self.horizon = horizon
        self.p = params
        self.hist: History = history(log, asof)
        self.cust = customer_features(log, asof, self.hist, windows=(30, 90), n_shares=0)
        self.n_cust = len(self.hist.customer_codes)
        self.span = asof - pd.Timestamp(log.times.min()) if log.n_baskets else pd.Timedelta(0)
        self.skipped: dict = {}      # source -> why it could not run on this history
        self.partial: dict = {}      # source -> the mining limit it met
        self._parts: dict = {}
        self._units()
        self._bgnbd()

    # ---------------------------------------------------------------- units
    def _units(self):
        pairs = self.hist.pairs
        nU = self.log.n_items
        h_days = self.horizon / _DAY
        u = pairs["unit"].to_numpy()
        self.n_buyers = np.bincount(u, minlength=nU).astype(np.float64)
        recent = pairs["last_days"].to_numpy() <= h_days
        self.pop_recent = np.bincount(u[recent], minlength=nU) / max(self.n_cust, 1)
        # customers buying each unit in the horizon before the recent one
        lines = self._lines_in(h_days, 2 * h_days)
        self.pop_prev = np.bincount(lines, minlength=nU) / max(self.n_cust, 1)
        self.pop_month = np.bincount(self._lines_in(-1.0, 30.0), minlength=nU) / max(self.n_cust, 1)
        b = pairs["baskets"].to_numpy()
        rep = b >= 2
        with np.errstate(invalid="ignore", divide="ignore"):
            self.repeat_rate = np.bincount(u[rep], minlength=nU) / self.n_buyers
            # each unit's typical re-purchase interval over its repeat buyers
            span = (pairs["first_days"].to_numpy() - pairs["last_days"].to_numpy())[rep]
            iv = pd.Series(span / (b[rep] - 1)).groupby(u[rep]).median()
        self.unit_interval = np.full(nU, np.nan)
        self.unit_interval[iv.index.to_numpy()] = iv.to_numpy()
        self.pop_all = self.n_buyers / max(self.n_cust, 1)
        # each customer's share of purchases that were of items bought before
        c = pairs["customer"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            self.repeat_ratio = (np.bincount(c, weights=b - 1.0, minlength=self.n_cust)
                                 / np.bincount(c, weights=b.astype(np.float64), minlength=self.n_cust))

    def _lines_in(self, lo_days: float, hi_days: float) -> np.ndarray:
        """Unit of each distinct (customer, unit) bought between lo and hi days before as-of."""
        tm = self.log
        brow = np.repeat(np.arange(tm.n_baskets), tm.basket_lengths())
        age = (_ns64(self.asof) - tm.times[brow]) / np.timedelta64(1, "D")
        cc = tm.customer_codes[brow]
        m = (age > lo_days) & (age <= hi_days) & (cc >= 0)
        key = np.unique(cc[m].astype(np.int64) * tm.n_items + tm.indices[m])
        return (key % tm.n_items).astype(np.int64)

    def _bgnbd(self):
        from ..value import BetaGeo, ConvergenceWarning
        X = self.cust[["frequency", "recency", "T"]]
        self.p_alive = np.ones(self.n_cust)
        self.expected = np.full(self.n_cust, np.nan)
        self.median_next = np.full(self.n_cust, np.nan)
        self.bgnbd = None
        if self.n_cust < 20 or not (X["frequency"] > 0).any():
            self.skipped["BG/NBD"] = "fewer than 20 customers or no repeat customer before the as-of time"
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                m = BetaGeo().fit(X)
            self.p_alive = m.probability_alive(X).to_numpy()
            self.expected = m.expected_purchases(self.horizon / _DAY, X).to_numpy()
            self.median_next = m.median_time_to_purchase(X).to_numpy()
            self.bgnbd = m
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as e:  # too little data to fit
            self.skipped["BG/NBD"] = f"the fit failed on this history ({e})"

    def _basket_arrays(self):
        """Per basket: customer row (-1 without one), time; and the baskets' items."""
        log = self.log
        cc = log.customer_codes
        row = np.where(cc >= 0, self.hist.row_of(len(log.customer_labels))[np.maximum(cc, 0)], -1)
        return row, log.times, log.indptr, log.indices

    # ------------------------------------------------------------- sources
    def repeat(self) -> pd.DataFrame:
        """The customer's own items: the ``n_repeat`` with the largest decayed frequency."""
        V, _ = self.tifu()
        r, c, _ = _top_per_csr_row(V, self.p["n_repeat"])
        return pd.DataFrame({"customer": r, "unit": c})

    def popular_units(self, n: int) -> np.ndarray:
        score = self.pop_recent + 1e-9 * self.pop_all
        return np.lexsort((np.arange(len(score)), -score))[:n]

    def popularity(self) -> pd.DataFrame:
        top = self.popular_units(self.p["n_popular"])
        return pd.DataFrame({"customer": np.repeat(np.arange(self.n_cust), len(top)),
                             "unit": np.tile(top, self.n_cust)})

    def tifu(self):
        """The customers' time-decayed item-frequency vectors and their
        nearest neighbours' mean (TIFU-KNN's two parts), computed once."""
        if "tifu" not in self._parts:
            row, times, indptr, indices = self._basket_arrays()
            self._parts["tifu"] = tifu_parts(row, times, indptr, indices, self.n_cust, self.log.n_items,
                                             n_top=self.p["n_tifu"] * 4, n_neighbors=self.p["n_knn"])
        return self._parts["tifu"]

    def tifu_scores(self, alpha: float = 0.5):
        V, N = self.tifu()
        return (alpha * V + (1.0 - alpha) * N).tocsr()

    def tifu_knn(self) -> pd.DataFrame:
        """The best items of TIFU-KNN's score (own decayed frequencies and
        the neighbours')."""
        r, c, v = _top_per_csr_row(self.tifu_scores(), self.p["n_tifu"])
        return pd.DataFrame({"customer": r, "unit": c})

    def similarity_counts(self):
        """Customers per item (``n``) and per item pair (``C``, sparse), computed once."""
        if "similarity" not in self._parts:
            B = self.hist.matrix.copy()
            B.data[:] = 1.0
            self._parts["similarity"] = (B, np.asarray(B.sum(axis=0)).ravel(), (B.T @ B).tocsr())
        return self._parts["similarity"]

    def cooccurrence(self) -> pd.DataFrame:
        """Item-to-item cosine over customers, pruned to each item's nearest
        neighbours, summed over the customer's items."""
        B, n, C = self.similarity_counts()
        inv = 1.0 / np.sqrt(np.maximum(n, 1.0))
        lens = np.diff(C.indptr)
        data = C.data * inv[C.indices]
        data *= np.repeat(inv, lens)
        data[C.indices == np.repeat(np.arange(C.shape[0], dtype=C.indices.dtype), lens)] = 0.0  # not itself
        C = sp.csr_matrix((data, C.indices, C.indptr), shape=C.shape)
        r, c, v = _top_per_csr_row(C, self.p["n_neighbors"])
        K = sp.csr_matrix((v, (r, c)), shape=C.shape)
        rr, cc, vv = _top_per_csr_row((B @ K).tocsr(), self.p["n_cooccurrence"])
        nb = np.asarray(B.sum(axis=1)).ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = vv / nb[rr]
        return pd.DataFrame({"customer": rr, "unit": cc, "cooc": vv, "cooc_mean": mean})

    def _note_partial(self, source: str, caught) -> None:
        """Keep a mining cap or time limit met by a source (its candidates are partial)."""
        for w in caught:
            if issubclass(w.category, MiningLimitWarning):
                self.partial[source] = str(w.message)

    def _skip(self, source: str, why: str) -> pd.DataFrame:
        self.skipped[source] = why
        return pd.DataFrame({"customer": np.zeros(0, np.int64), "unit": np.zeros(0, np.int64)})

    def follow_ups(self) -> pd.DataFrame:
        """Follow-up rules A -> B fired by the customer's purchases of A."""
        within = self.horizon
        if self.span <= within:  # no purchase could be followed for a whole horizon
            return self._skip("follow_ups", f"the history ({self.span.days} days) is not longer than the "
                                            f"horizon ({within.days} days)")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fu = follow_ups(self.log.select(self.log.customer_codes >= 0), within=within,
                            min_support=self.p["follow_up_support"], max_antecedent_len=1,
                            observation_end=self.asof)
        self._note_partial("follow_ups", caught)
        if fu.empty:
            return self._skip("follow_ups", "no follow-up rule reaches the least support")
        code = self.log.code_of
        a = code([next(iter(s)) for s in fu["antecedents"]])
        b = code(list(fu["consequent"]))
        rules = pd.DataFrame({"a": a, "unit": b, "conf": fu["confidence"].to_numpy(),
                              "lift": fu["lift"].to_numpy(), "lag": fu["lag_days_median"].to_numpy()})
        pairs = self.hist.pairs[["customer", "unit", "last_days"]].rename(columns={"unit": "a"})
        m = pairs.merge(rules, on="a")
        h_days = self.horizon / _DAY
        m["recent_conf"] = np.where(m["last_days"].to_numpy() < h_days, m["conf"].to_numpy(), 0.0)
        m["due"] = m["lag"] - m["last_days"]
        m = m.sort_values(["customer", "unit", "recent_conf", "conf", "a"],
                          ascending=[True, True, False, False, True], kind="stable")
        g = m.groupby(["customer", "unit"], sort=False)
        best = g.head(1).reset_index(drop=True)
        out = pd.DataFrame({"customer": best["customer"].to_numpy(), "unit": best["unit"].to_numpy(),
                            "fu_conf": g["conf"].max().to_numpy(),
                            "fu_conf_recent": best["recent_conf"].to_numpy(),
                            "fu_lift": best["lift"].to_numpy(), "fu_due": best["due"].to_numpy(),
                            "fu_n": g.size().to_numpy(), "fu_from": best["a"].to_numpy(),
                            "fu_lag": best["lag"].to_numpy()})
        return _best_per_customer(out, ["fu_conf_recent", "fu_conf"], self.p["n_rules"])

    def rules(self) -> pd.DataFrame:
        """Association rules A -> b fired by the items of the customer's last basket."""
        log = self.log
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            its = frequent_itemsets(log, self.p["rule_support"], max_len=2)
            ar = association_rules(its, "confidence", self.p["rule_confidence"], max_consequent_len=1)
        self._note_partial("rules", caught)
        if ar.empty:
            return self._skip("rules", "no association rule reaches the least support and confidence")
        code = log.code_of
        a = code([next(iter(s)) for s in ar["antecedents"]])
        b = code([next(iter(s)) for s in ar["consequents"]])
        rules = pd.DataFrame({"a": a, "unit": b, "conf": ar["confidence"].to_numpy(),
                              "lift": ar["lift"].to_numpy()})
        pairs = self.hist.pairs
        rec = self.cust["recency_days"].to_numpy()[pairs["customer"].to_numpy()]
        last = pairs[pairs["last_days"].to_numpy() <= rec + 1e-9][["customer", "unit"]]
        m = last.rename(columns={"unit": "a"}).merge(rules, on="a")
        m = m.sort_values(["customer", "unit", "conf", "a"], ascending=[True, True, False, True],
                          kind="stable")
        best = m.groupby(["customer", "unit"], sort=False).head(1)
        out = pd.DataFrame({"customer": best["customer"].to_numpy(), "unit": best["unit"].to_numpy(),
                            "ar_conf": best["conf"].to_numpy(), "ar_lift": best["lift"].to_numpy(),
                            "ar_from": best["a"].to_numpy()})
        return _best_per_customer(out, ["ar_conf"], self.p["n_rules"])

    def baseline_top(self, kind: str, k: int, exclude_purchased: bool) -> pd.DataFrame:
        """TIFU-KNN's or UP-CF@r's own top ``k`` per customer (as baselines)."""
        row, times, indptr, indices = self._basket_arrays()
        ex = self.hist.matrix if exclude_purchased else None
        if kind == "tifu_knn":
            return tifu_knn(row, times, indptr, indices, self.n_cust, self.log.n_items, k, exclude=ex,
                            n_neighbors=self.p["n_knn"])
        return up_cf(row, times, indptr, indices, self.n_cust, self.log.n_items, k, exclude=ex)

    # ------------------------------------------------------------ table
    def candidates(self, methods, rows=None) -> pd.DataFrame:
        """Every source's (customer, unit) pairs with the ranker's features
        (only for the customer rows ``rows``, when given)."""
        parts = {}
        for m in methods:  # each source is computed once per as-of time and shared
            if m not in self._parts:
                self._parts[m] = getattr(self, m)()
            parts[m] = self._parts[m]
        keys = np.concatenate([p["customer"].to_numpy(np.int64) * self.log.n_items + p["unit"].to_numpy(np.int64)
                               for p in parts.values()] or [np.zeros(0, np.int64)])
        if rows is not None:
            keys = keys[np.isin(keys // self.log.n_items, rows)]
        keys = np.unique(keys)
        cand = pd.DataFrame({"customer": keys // self.log.n_items, "unit": keys % self.log.n_items})
        for m in ("cooccurrence", "follow_ups", "rules"):
            if m in parts and len(parts[m]):
                p = parts[m]
                pk = p["customer"].to_numpy(np.int64) * self.log.n_items + p["unit"].to_numpy(np.int64)
                pos, there = _find(keys, pk)
                pos = pos[there]
                for col in p.columns.drop(["customer", "unit"]):
                    full = np.full(len(keys), np.nan)
                    full[pos] = p[col].to_numpy(np.float64)[there]
                    cand[col] = full
        for col in ("cooc", "cooc_mean", "fu_conf", "fu_conf_recent", "fu_lift", "fu_n", "ar_conf",
                    "ar_lift"):
            cand[col] = cand[col].fillna(0.0) if col in cand else 0.0
        for col in ("fu_due", "fu_lag", "fu_from", "ar_from"):
            if col not in cand:
                cand[col] = np.nan
        c = cand["customer"].to_numpy()
        u = cand["unit"].to_numpy()
        hp = self.hist.pairs
        hk = hp["customer"].to_numpy(np.int64) * self.log.n_items + hp["unit"].to_numpy(np.int64)
        pos, had = _find(hk, keys)
        for col in ("baskets", "first_days", "last_days"):
            v = hp[col].to_numpy(np.float64)[pos] if len(hk) else np.zeros(len(keys))
            cand[col] = np.where(had, v, 0.0 if col == "baskets" else np.nan)
        cand["bought_before"] = had
        with np.errstate(invalid="ignore", divide="ignore"):
            interval = (cand["first_days"] - cand["last_days"]) / (cand["baskets"] - 1)
        cand["interval"] = interval.where(cand["baskets"] >= 2)
        cand["repeat_due"] = cand["interval"] - cand["last_days"]
        cand["unit_interval"] = self.unit_interval[u]
        with np.errstate(invalid="ignore", divide="ignore"):
            cand["due_ratio"] = cand["last_days"] / cand["interval"]
            cand["unit_due_ratio"] = cand["last_days"] / cand["unit_interval"]
        V, N = self.tifu()
        cand["tifu_own"] = _pair_lookup(V, c, u)
        cand["tifu_nbr"] = _pair_lookup(N, c, u)
        cand["tifu"] = 0.5 * cand["tifu_own"] + 0.5 * cand["tifu_nbr"]
        cand["pop_all"] = self.pop_all[u]
        cand["pop_recent"] = self.pop_recent[u]
        cand["pop_prev"] = self.pop_prev[u]
        cand["pop_month"] = self.pop_month[u]
        cand["repeat_rate"] = self.repeat_rate[u]
        for col in _CUSTOMER_COLS:
            cand[col] = self.cust[col].to_numpy()[c]
        cand["repeat_ratio"] = self.repeat_ratio[c]
        cand["p_alive"] = self.p_alive[c]
        cand["expected_purchases"] = self.expected[c]
        cand["median_next"] = self.median_next[c]
        cand["share_of_customer"] = cand["baskets"] / cand["n_baskets"]
        # ranks within the customer's candidates: what a per-customer ordering needs
        for col, key in (("tifu_rank", cand["tifu"]), ("tifu_nbr_rank", cand["tifu_nbr"]),
                         ("cooc_rank", cand["cooc"]), ("fu_rank", cand["fu_conf_recent"]),
                         ("pop_rank", cand["pop_recent"]), ("pop_month_rank", cand["pop_month"]),
                         ("recency_rank", -cand["last_days"].fillna(1e9)),
                         ("repeat_rank", cand["baskets"] * 1e6 - cand["last_days"].fillna(1e6))):
            cand[col] = _rank_within(c, key.to_numpy(np.float64))
        return cand


def _best_per_customer(df: pd.DataFrame, by: list, n) -> pd.DataFrame:
    """Each customer's ``n`` rows with the largest ``by`` (ties by unit), in (customer, unit) order
    (all of them when ``n`` is None)."""
    if n is None:
        return df
    df = df.sort_values(["customer", *by, "unit"], ascending=[True] + [False] * len(by) + [True], kind="stable")
    return df.groupby("customer", sort=False).head(n).sort_values(["customer", "unit"]).reset_index(drop=True)


def _rank_within(groups: np.ndarray, key: np.ndarray) -> np.ndarray:
    """1-based rank of ``key`` (largest first, ties by position) within each
    group of a sorted ``groups`` array."""
    order = np.lexsort((np.arange(len(key)), -key, groups))
    g = groups[order]
    start = np.r_[0, np.flatnonzero(np.diff(g)) + 1] if len(g) else np.zeros(0, np.int64)
    rank = np.arange(len(g)) - np.repeat(start, np.diff(np.r_[start, len(g)])) + 1
    out = np.empty(len(key))
    out[order] = rank
    return out


#: The ranker's feature columns.
FEATURES = ["baskets", "first_days", "last_days", "interval", "repeat_due", "share_of_customer",
            "unit_interval", "due_ratio", "unit_due_ratio", "tifu_own", "tifu_nbr", "tifu", "tifu_rank",
            "tifu_nbr_rank", "cooc", "cooc_mean", "cooc_rank", "repeat_rank", "recency_rank", "fu_rank",
            "pop_rank", "pop_month_rank", "fu_conf", "fu_conf_recent", "fu_lift", "fu_due", "fu_n",
            "ar_conf", "ar_lift", "pop_all", "pop_recent", "pop_prev", "pop_month", "repeat_rate",
            *_CUSTOMER_COLS, "repeat_ratio", "p_alive", "expected_purchases"]


#: The timing model's features: the ranker's and the rule-based timings.
TIMING_FEATURES = FEATURES + ["median_next"]


def _matrix(cand: pd.DataFrame, columns=None) -> np.ndarray:
    """A model's input; a missing value (no interval, no rule fired) becomes -1e6, below any
    real value, so that a column missing throughout still trains."""
    cols = columns or FEATURES
    X = np.empty((len(cols), len(cand)))  # filled by rows, handed over as its (column-major) transpose
    for j, col in enumerate(cols):
        X[j] = cand[col].to_numpy(np.float64)
    X[np.isnan(X)] = -1e6
    return X.T


def _labels(first: pd.DataFrame, cand: pd.DataFrame, n_items: int) -> np.ndarray:
    """Days to each candidate's first purchase in the label window (NaN:
    not bought), from :func:`first_purchases`' table of that window."""
    fk = first["r"].to_numpy(np.int64) * n_items + first["unit"].to_numpy(np.int64)
    ck = cand["customer"].to_numpy(np.int64) * n_items + cand["unit"].to_numpy(np.int64)
    pos, hit = _find(fk, ck)
    return np.where(hit, first["days"].to_numpy(np.float64)[pos] if len(fk) else 0.0, np.nan)


class Recommender:
    """Each customer's next items, scored by a learned ranker over several
    candidate sources, with the reason, the probability and the expected
    timing of the purchase.

    Candidates come from the customer's own items (``"repeat"``: the
    ``n_repeat`` with the largest time-decayed frequency), TIFU-KNN's best
    items (``"tifu_knn"``: the customer's decayed item frequencies blended
    with those of the ``n_knn`` nearest customers), item co-occurrence over
    customers (``"cooccurrence"``), follow-up rules within the horizon
    (``"follow_ups"``, :func:`basketmine.follow_ups`), association rules
    fired by the last basket (``"rules"``) and the items most bought in the
    last horizon (``"popularity"``).  Each candidate gets features: the
    customer's counts and intervals for the item and how due it is against
    the customer's own and the item's typical re-purchase interval, both
    TIFU-KNN parts, rule confidences and lifts, co-occurrence, popularity
    and trend, the customer's RFM and BG/NBD figures and repeat ratio.

    A gradient-boosting classifier (scikit-learn's
    ``HistGradientBoostingClassifier``) learns which candidates are bought
    within the horizon on an earlier split of the same log (history before
    ``asof - horizon``, labels from the last horizon; when the log holds
    less than two horizons, the label window is half the history), so
    nothing after the as-of time is used.  A second ranker is trained on
    candidates the customer never bought, for ``exclude_purchased=True``.
    The final order averages the ranker's rank with the rank by the
    strongest single source (TIFU-KNN for any item, co-occurrence for new
    items), which held up better from the training window to the as-of time
    on the tuning cut-offs.

    ``probability`` is the ranker's score mapped to the share bought
    (logistic calibration on the training window's top 20 per customer)
    times the customer's probability of buying anything within the horizon
    (a classifier on the customer figures, learned on the same window).
    ``expected_days`` comes from a gradient-boosting regressor (absolute
    error) learned on the training window's purchases.

    Sources that need more history than the log holds are skipped (say, the
    follow-up rules when the log is not longer than the horizon), and with
    less than two weeks of history no ranker is learned: the candidates are
    then ordered by TIFU-KNN's score.  Each such case is said once in a
    ``UserWarning`` and kept in ``notes_`` and in the recommendations'
    ``attrs["notes"]``.

    Parameters
    ----------
    horizon : duration
        How far ahead "next" reaches (``"90D"``).
    methods : tuple of str
        Candidate sources, a subset of :data:`METHODS`.
    level : {"item", "category"}, hierarchy : mapping, optional
        Recommend categories instead of items.
    n_popular, n_repeat, n_tifu, n_cooccurrence : int
        Candidates per customer from popularity, the customer's own items,
        TIFU-KNN and co-occurrence.
    n_rules : int, optional
        Candidates per customer from each of the two rule sources (default:
        every item a rule fires; capping at 30 was faster but lost new items
        on the tuning cut-offs).
    n_knn : int
        Nearest customers in TIFU-KNN (300, as its authors).
    n_neighbors : int
        Neighbours kept per item for co-occurrence.
    follow_up_support, rule_support : float or int
        ``min_support`` of the follow-up and association rules mined.
    rule_confidence : float
        Least confidence of an association rule used.
    blend : float >= 0
        Weight of the strongest single source's rank beside the ranker's in
        the final order (0: the ranker alone).
    diversity : float >= 0
        How much the list is spread over dissimilar items (maximal marginal
        relevance over the 30 best candidates).  Off (0) by default: on the
        tuning cut-offs it lowered NDCG.
    n_windows : int
        Training windows: the ranker learns from the last ``n_windows``
        horizons before the as-of time, as long as each has history before it.
    max_training_rows : int
        Negatives are subsampled to keep the training table at most this long.
    max_iter : int
        Boosting iterations of the ranker and of the timing model.
    random_state : int

    Attributes
    ----------
    training_ : dict
        Windows used, the training label window (``horizon``) and, per mode,
        rows, positives and the share of the window's purchases that were
        among the candidates (``recall_of_candidates``).
    calibration_table_ : DataFrame
        Predicted probability against the share bought, by decile, on the
        training window's top 20 per customer ("any item" ranker).
    notes_ : list of str
        Sources skipped and fallbacks taken.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice",
    ...                  cancellations="drop")  # a backtest: returns made later are not netted
    >>> rec = bm.models.Recommender("90D", methods=("repeat", "popularity")).fit(tm, "2011-09-01")
    >>> recs = rec.recommend(["12407"], k=3)
    >>> recs[["rank", "item", "reason"]]
       rank    item                                         reason
    0     1    POST  repeat: bought in 4 baskets, last 34 days ago
    1     2  84536B  repeat: bought in 3 baskets, last 34 days ago
    2     3   21975  repeat: bought in 2 baskets, last 57 days ago
    >>> bool(recs["probability"].between(0, 1).all())
    True
    """

    def __init__(self, horizon="90D", methods=METHODS, *, level="item", hierarchy=None, n_popular=10,
                 n_repeat=50, n_tifu=30, n_knn=300, n_neighbors=30, n_cooccurrence=30, n_rules=None, follow_up_support=0.01,
                 rule_support=0.01, rule_confidence=0.1, blend=0.5, diversity=0.0, n_windows=1,
                 max_training_rows=100_000, max_iter=50, random_state=0):
        self.horizon = horizon
        self.methods = methods
        self.level = level
        self.hierarchy = hierarchy
        self.n_popular = n_popular
        self.n_repeat = n_repeat
        self.n_tifu = n_tifu
        self.n_knn = n_knn
        self.n_neighbors = n_neighbors
        self.n_cooccurrence = n_cooccurrence
        self.n_rules = n_rules
        self.follow_up_support = follow_up_support
        self.rule_support = rule_support
        self.rule_confidence = rule_confidence
        self.blend = blend
        self.diversity = diversity
        self.n_windows = n_windows
        self.max_training_rows = max_training_rows
        self.max_iter = max_iter
        self.random_state = random_state

    def _check(self, owner):
        h = _timedelta(owner, "horizon", self.horizon)
        if isinstance(self.methods, str) or not isinstance(self.methods, (tuple, list)) or not self.methods:
            raise InvalidParameterError(
                f"The 'methods' parameter of {owner} must be a non-empty tuple of {', '.join(METHODS)}. "
                f"Got {self.methods!r} instead.")
        for m in self.methods:
            check(owner, "methods", m, Options(METHODS))
        validate(owner, RECOMMENDER_SPEC, {name: getattr(self, name) for name in RECOMMENDER_SPEC})
        return h, tuple(dict.fromkeys(self.methods))

    def _params(self):
        return {k: getattr(self, k) for k in ("n_popular", "n_repeat", "n_tifu", "n_knn", "n_neighbors", "n_cooccurrence",
                                              "n_rules", "follow_up_support", "rule_support", "rule_confidence")}

    def fit(self, tm: TransactionMatrix, asof=None, *, progress=False) -> "Recommender":
        """Learn the rankers from ``tm`` and prepare recommendations as of
        ``asof`` (default: just after the last basket), using only baskets
        before it."""
        owner = "Recommender.fit"
        _need_log(tm, owner)
        h, methods = self._check(owner)
        check(owner, "progress", progress, BOOL)
        log = _level_log(tm, self.level, self.hierarchy, owner)
        first = pd.Timestamp(log.times.min())
        asof = pd.Timestamp(log.times.max()) + pd.Timedelta(1, "ns") if asof is None else \
            _timestamp(owner, "asof", asof)
        if asof <= first:
            raise InvalidParameterError(
                f"The 'asof' parameter of {owner} must come after the log's first basket ({first}), so that "
                f"there is a history to recommend from. Got {asof}.")
        warn_returns_after(log, asof, owner)
        log = log.between(None, asof)
        with Steps("recommender", self.n_windows + 3, progress) as say:
            return self._fit(log, asof, h, methods, say)

    def _training_horizon(self, span: pd.Timedelta, h: pd.Timedelta) -> pd.Timedelta:
        """The label window of the training split: the horizon itself when
        the log holds at least two of them, else half the history."""
        return h if span >= 2 * h else pd.Timedelta(span / 2).floor("D")

    def _fit(self, log, asof, h, methods, say) -> "Recommender":
        first = pd.Timestamp(log.times.min())
        params = self._params()
        self.notes_ = []
        ht = self._training_horizon(asof - first, h)
        if ht < h:
            self.notes_.append(f"the log holds {(asof - first).days} days before the as-of time, less than "
                               f"two horizons: the ranker learns from purchases in a {ht.days}-day window "
                               f"instead of {h.days} days")
        tables = []
        for w in range(1, self.n_windows + 1):
            t_asof = asof - w * ht
            if ht < pd.Timedelta(days=7) or (w > 1 and t_asof - first < pd.Timedelta(days=28)):
                break
            src = _Sources(log.between(None, t_asof), t_asof, h, params)
            first_buys = first_purchases(log.between(t_asof, t_asof + ht), src.hist, t_asof)
            if first_buys.empty:
                continue
            active = np.zeros(src.n_cust, dtype=bool)
            active[first_buys["r"].to_numpy()] = True
            # the ranker learns to order the items of customers who come back
            cand = src.candidates(methods, rows=np.flatnonzero(active))
            days = _labels(first_buys, cand, log.n_items)
            tables.append((cand.assign(window=w, _days=days * (h / ht)), src, active, first_buys))
            say(f"training window {w} (as of {t_asof:%Y-%m-%d}): {len(cand):,} candidates, "
                f"{int(np.isfinite(days).sum()):,} bought")
        self.models_ = {"any": None, "new": None}
        self.timing_model_ = None
        self.active_model_ = None
        self.calibration_ = {"any": None, "new": None}
        self.calibration_table_ = None
        self.training_ = {"windows": len(tables), "horizon": ht}
        if tables:
            cand = pd.concat([t[0] for t in tables], ignore_index=True)
            y = np.isfinite(cand["_days"].to_numpy())
            for mode, mask in (("any", np.ones(len(cand), bool)), ("new", ~cand["bought_before"].to_numpy())):
                self.models_[mode], self.calibration_[mode], table = self._train(cand[mask], y[mask])
                if mode == "any":
                    self.calibration_table_ = table
                n_bought = sum(len(t[3]) if mode == "any" else _count_new(t[3], t[1].hist) for t in tables)
                self.training_[mode] = {"rows": int(mask.sum()), "positives": int(y[mask].sum()),
                                        "recall_of_candidates": float(y[mask].sum() / max(1, n_bought))}
            self.timing_model_ = self._train_timing(cand[y], cand["_days"].to_numpy()[y])
            self.active_model_ = self._train_active(tables)
        else:
            self.notes_.append("too little history to learn a ranker: candidates are ordered by TIFU-KNN's "
                               "score (decayed own purchases and nearest customers')")
        say("rankers trained", advance=self.n_windows + 1 - len(tables))
        self.sources_ = _Sources(log, asof, h, params)
        self.candidates_ = self.sources_.candidates(methods)
        self.notes_ += [f"source {s!r} skipped: {why}" for s, why in self.sources_.skipped.items()]
        self.notes_ += [f"source {s!r} is partial: {why}" for s, why in self.sources_.partial.items()]
        for note in self.notes_:
            warnings.warn(f"Recommender.fit: {note}.", UserWarning, stacklevel=user_stacklevel())
        self.asof_ = asof
        self.horizon_ = h
        self.methods_ = methods
        say("candidates as of the end")
        return self

    def _sample(self, n: int, y: np.ndarray, rng) -> np.ndarray:
        if n <= self.max_training_rows:
            return np.arange(n)
        neg = np.flatnonzero(~y)
        n_neg = max(self.max_training_rows - int(y.sum()), 1)
        return np.sort(np.r_[np.flatnonzero(y), rng.choice(neg, min(n_neg, len(neg)), replace=False)])

    def _train(self, X: pd.DataFrame, y: np.ndarray):
        """The ranker, and its calibration: a logistic map from the ranker's
        log-odds to the share bought, fitted on the customers held out of
        the ranker's training (one in five), on each one's top 20 candidates
        (the rows a recommendation shows).  Fitted in-sample, the map would
        believe the ranker's training-set confidence."""
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        if y.all() or not y.any():
            return None, None, None
        rng = np.random.default_rng(self.random_state)
        grp = X["customer"].to_numpy(np.int64) * 1000 + X["window"].to_numpy(np.int64)
        groups, inv = np.unique(grp, return_inverse=True)
        held = (rng.random(len(groups)) < 0.2)[inv]
        if not (y[held].any() and y[~held].any()):
            held = np.zeros(len(y), bool)
        fit = np.flatnonzero(~held)
        fit = fit[self._sample(len(fit), y[fit], rng)]
        model = HistGradientBoostingClassifier(max_iter=self.max_iter, learning_rate=0.1, max_leaf_nodes=31,
                                               min_samples_leaf=50, l2_regularization=1.0,
                                               early_stopping=False, random_state=self.random_state)
        # unweighted: weighing each customer the same measured no better on the tuning cut-offs,
        # and scikit-learn bins weighted features ten times slower
        model.fit(_matrix(X.iloc[fit]), y[fit])
        cal, table = None, None
        h = np.flatnonzero(held)
        if len(h):
            z = model.decision_function(_matrix(X.iloc[h]))
            g = grp[h]
            order = np.argsort(g, kind="stable")
            rank = np.empty(len(z))
            rank[order] = _rank_within(g[order], z[order])
            shown = rank <= 20
            yh = y[h][shown]
            if yh.any() and not yh.all():
                cal = LogisticRegression().fit(z[shown, None], yh)
                p = cal.predict_proba(z[shown, None])[:, 1]
                decile = np.minimum((pd.Series(p).rank(method="first").to_numpy() - 1) * 10 // len(p), 9)
                table = (pd.DataFrame({"bin": decile.astype(int) + 1, "n": 1, "mean_probability": p,
                                       "observed_rate": yh.astype(float)})
                         .groupby("bin").agg({"n": "sum", "mean_probability": "mean", "observed_rate": "mean"}))
        return model, cal, table

    def _train_timing(self, X: pd.DataFrame, days: np.ndarray):
        """Days to the purchase, learned on the training window's purchases."""
        from sklearn.ensemble import HistGradientBoostingRegressor
        if len(days) < 20:
            return None
        rng = np.random.default_rng(self.random_state)
        if len(days) > self.max_training_rows:
            take = np.sort(rng.choice(len(days), self.max_training_rows, replace=False))
            X, days = X.iloc[take], days[take]
        model = HistGradientBoostingRegressor(loss="absolute_error", max_iter=self.max_iter, learning_rate=0.1,
                                              min_samples_leaf=50, random_state=self.random_state)
        return model.fit(_matrix(X, TIMING_FEATURES), days)

    def _train_active(self, tables):
        """P(the customer buys anything within the horizon), from the
        customer's own figures, learned on the training windows."""
        from sklearn.ensemble import HistGradientBoostingClassifier
        X, y = [], []
        for _, src, active, _ in tables:
            X.append(_customer_matrix(src))
            y.append(active)
        X, y = np.vstack(X), np.concatenate(y)
        if y.all() or not y.any():
            return float(y.mean())
        model = HistGradientBoostingClassifier(max_iter=50, learning_rate=0.1, min_samples_leaf=20,
                                               random_state=self.random_state)
        return model.fit(X, y)

    def _scores(self, cand: pd.DataFrame, mode: str):
        """The ranker's score and the probability of a purchase within the horizon."""
        src = self.sources_
        model = self.models_[mode]
        if model is None or cand.empty:
            score = cand["tifu"].to_numpy(np.float64) + 1e-6 * cand["pop_recent"].to_numpy(np.float64)
            return score, np.full(len(cand), np.nan)
        z = model.decision_function(_matrix(cand))
        # the ranker's order averaged with the strongest single source's (TIFU-KNN for any item,
        # co-occurrence for new ones): more robust to the drift between training and as-of time
        c = cand["customer"].to_numpy()
        base = cand["cooc"] if mode == "new" and "cooccurrence" in self.methods_ else cand["tifu"]
        order = -(_rank_within(c, z) + self.blend * _rank_within(c, base.to_numpy(np.float64)))
        cal = self.calibration_[mode]
        p_item = cal.predict_proba(z[:, None])[:, 1] if cal is not None else model.predict_proba(_matrix(cand))[:, 1]
        am = self.active_model_
        if am is None:
            p_active = np.ones(src.n_cust)
        elif isinstance(am, float):
            p_active = np.full(src.n_cust, am)
        else:
            p_active = am.predict_proba(_customer_matrix(src))[:, 1]
        return order, p_item * p_active[c]

    def recommend(self, customers=None, k: int = 10, *, exclude_purchased: bool = False) -> pd.DataFrame:
        """The top ``k`` items per customer (see :func:`recommend`)."""
        owner = "Recommender.recommend"
        if not hasattr(self, "models_"):
            raise NotFittedError(f"{owner} needs a fitted model; call fit(tm) first.")
        validate(owner, RANKING_SPEC, {"k": k, "exclude_purchased": exclude_purchased})
        cand = self.candidates_
        src = self.sources_
        if customers is not None:
            rows = _customer_rows(src.hist, customers, owner)
            cand = cand[np.isin(cand["customer"].to_numpy(), rows)]
        mode = "new" if exclude_purchased else "any"
        if exclude_purchased:
            cand = cand[~cand["bought_before"].to_numpy()]
        score, prob = self._scores(cand, mode)
        cand = cand.assign(score=score, probability=prob)
        if self.diversity > 0 and len(cand):
            cand = _diversify(cand, src, k, self.diversity)
        out = _finish(cand, src, k, "recommender")
        if self.timing_model_ is not None and len(out):
            out = self._learned_timing(out, cand)
        out.attrs.update({"notes": list(self.notes_), "training": self.training_,
                          "calibration": self.calibration_table_})
        return out

    def _learned_timing(self, out: pd.DataFrame, cand: pd.DataFrame) -> pd.DataFrame:
        src = self.sources_
        rows = {c: i for i, c in enumerate(src.hist.customers)}
        key = pd.MultiIndex.from_arrays([[rows[c] for c in out["customer"]], src.log.code_of(out["item"])])
        sub = cand.set_index(["customer", "unit"]).loc[key].reset_index()
        h_days = src.horizon / _DAY
        days = np.clip(self.timing_model_.predict(_matrix(sub, TIMING_FEATURES)), 0.0, h_days)
        return out.assign(expected_days=days, expected_date=src.asof + pd.to_timedelta(days, unit="D"))


def _customer_matrix(src: _Sources) -> np.ndarray:
    X = src.cust[_CUSTOMER_COLS].to_numpy(np.float64)
    X = np.c_[X, src.repeat_ratio, src.p_alive, src.expected]
    return np.nan_to_num(X, nan=-1e6)


def _count_new(first_buys: pd.DataFrame, hist: History) -> int:
    """Purchases in ``first_buys`` of items the customer had not bought before."""
    before = _pair_lookup(hist.matrix, first_buys["r"].to_numpy(), first_buys["unit"].to_numpy())
    return int((before == 0).sum())


def _customer_rows(hist: History, customers, owner: str) -> np.ndarray:
    if isinstance(customers, (str, bytes)) or not hasattr(customers, "__iter__"):
        customers = [customers]
    lookup = {c: i for i, c in enumerate(hist.customers)}
    rows, unknown = [], []
    for c in customers:
        (rows.append(lookup[c]) if c in lookup else unknown.append(c))
    if unknown:
        warnings.warn(f"{owner}: {len(unknown)} customers have no purchase before the as-of time and "
                      f"get no recommendation, e.g. {unknown[:3]!r}.", UserWarning, stacklevel=user_stacklevel())
    return np.asarray(rows, dtype=np.int64)


def _reason(r, labels) -> str:
    if r.fu_conf_recent > 0:
        return (f"follow-up: {r.fu_conf_recent:.0%} of buyers of {labels[int(r.fu_from)]} bought it within "
                f"the horizon (median {r.fu_lag:.0f} days)")
    if r.baskets >= 2:
        return f"repeat: bought in {r.baskets:.0f} baskets, last {r.last_days:.0f} days ago"
    if r.baskets == 1:
        return f"bought once, {r.last_days:.0f} days ago"
    if r.ar_conf > 0:
        return f"rule: {labels[int(r.ar_from)]} -> it in the last basket (confidence {r.ar_conf:.0%})"
    if r.fu_conf > 0:
        return (f"follow-up: {r.fu_conf:.0%} of buyers of {labels[int(r.fu_from)]} bought it within "
                f"the horizon (median {r.fu_lag:.0f} days)")
    if r.cooc > 0:
        return f"co-occurrence: bought by customers with similar items (similarity {r.cooc:.2f})"
    return f"popular: bought by {r.pop_recent:.1%} of customers in the last horizon"


def _diversify(cand: pd.DataFrame, src: _Sources, k: int, diversity: float, pool: int = 30) -> pd.DataFrame:
    """Re-order each customer's ``pool`` best candidates greedily (maximal
    marginal relevance): the next item maximises its relevance (the score
    scaled to [0, 1] within the pool) minus ``diversity`` x its largest
    cosine similarity (over customers) to an item already chosen.  Items bought by the same
    customers tend to be bought or skipped together; spreading the list
    raises the chance that at least one of the k is bought."""
    _, n, C = src.similarity_counts()
    cand = cand.sort_values(["customer", "score", "unit"], ascending=[True, False, True], kind="stable")
    top = cand.groupby("customer", sort=False).head(pool)
    cust = top["customer"].to_numpy()
    units = top["unit"].to_numpy()
    score = top["score"].to_numpy(np.float64)
    starts = np.r_[0, np.flatnonzero(np.diff(cust)) + 1, len(cust)]
    order = np.empty(len(top), dtype=np.int64)
    for a, b in zip(starts[:-1], starts[1:]):
        u, sc = units[a:b], score[a:b]
        with np.errstate(invalid="ignore", divide="ignore"):
            sim = C[u][:, u].toarray() / np.sqrt(np.outer(n[u], n[u]))
        sim = np.nan_to_num(sim)
        np.fill_diagonal(sim, 0.0)
        free = np.ones(b - a, dtype=bool)
        near = np.zeros(b - a)
        # relevance scaled to [0, 1] within the pool: the ranking score may be any real number
        span = sc.max() - sc.min()
        sc = (sc - sc.min()) / span if span > 0 else np.ones(b - a)
        penalty = diversity
        for step in range(min(k, b - a)):
            j = int(np.argmax(np.where(free, sc - penalty * near, -np.inf)))
            order[a + j] = step
            free[j] = False
            near = np.maximum(near, sim[j])
        order[a:b][free] = np.arange(min(k, b - a), min(k, b - a) + int(free.sum()))
    return top.assign(_order=order)


def _finish(cand: pd.DataFrame, src: _Sources, k: int, model_name: str) -> pd.DataFrame:
    """Top k per customer (by score, or by ``_order`` when given), with reason and timing."""
    if "_order" in cand:
        cand = cand.sort_values(["customer", "_order"], kind="stable")
    else:
        cand = cand.sort_values(["customer", "score", "unit"], ascending=[True, False, True], kind="stable")
    top = cand.groupby("customer", sort=False).head(k).copy()
    top["rank"] = top.groupby("customer", sort=False).cumcount() + 1
    labels = src.log.labels
    # timing: the follow-up's median lag, else the customer's own repeat interval, else BG/NBD
    fu_due = top["fu_due"].where(top["fu_conf_recent"] > 0)
    rep_due = top["repeat_due"]
    bg = pd.Series(src.median_next[top["customer"].to_numpy()], index=top.index)
    h_days = src.horizon / pd.Timedelta(days=1)
    days = np.where(fu_due >= 0, fu_due, np.where(rep_due >= 0, rep_due, bg))
    # a recommendation says "within the horizon": its timing is too
    days = np.clip(days, 0.0, h_days)
    source = np.where(fu_due >= 0, "follow-up lag", np.where(rep_due >= 0, "repeat interval", "BG/NBD"))
    out = pd.DataFrame({
        "customer": src.hist.customers[top["customer"].to_numpy()],
        "rank": top["rank"].to_numpy(),
        "item": labels[top["unit"].to_numpy()],
        "score": top["score"].to_numpy(),
        "reason": [_reason(r, labels) for r in top.itertuples()],
        "expected_days": days,
        "expected_date": src.asof + pd.to_timedelta(np.nan_to_num(days, nan=h_days), unit="D"),
        "timing": source,
        "bought_before": top["bought_before"].to_numpy(),
    })
    if "probability" in top:
        out.insert(4, "probability", top["probability"].to_numpy())
    out.attrs.update({"asof": src.asof, "horizon": src.horizon, "model": model_name})
    return out.reset_index(drop=True)


RECOMMEND_SPEC = {
    "tm": LOG,
    "customers": _CUSTOMERS,
    **{name: RECOMMENDER_SPEC[name] for name in ("horizon", "methods", "diversity")},
    "progress": BOOL,
    **{name: RECOMMENDER_SPEC[name] for name in ("level", "hierarchy")},
    "asof": InBody("None (just after the last basket), or a date after the log's first basket"),
    "random_state": RANDOM_STATE,
    **RANKING_SPEC,
}


@validated(RECOMMEND_SPEC)
def recommend(tm: TransactionMatrix, customers=None, k: int = 10, *, horizon="90D", methods=METHODS,
              exclude_purchased: bool = False, asof=None, level="item", hierarchy=None,
              diversity: float = 0.0, random_state: int = 0, progress: bool = False) -> pd.DataFrame:
    """What else will each customer buy next, and when?

    Fits a :class:`Recommender` on ``tm`` (everything before ``asof``,
    default the end of the log) and returns each customer's top ``k`` items.

    Parameters
    ----------
    tm : TransactionMatrix
        With customers and times.
    customers : label or list of labels, optional
        Whom to recommend for (default: every customer with a purchase).
    k : int
        Items per customer.
    horizon : duration
        How far ahead "next" reaches.
    methods : tuple of str
        Candidate sources (:data:`METHODS`).
    exclude_purchased : bool
        False (default): repeat purchases count as next purchases. True:
        only items the customer has never bought ("what *else*").
    asof : date, optional
        Recommend as of this time, from the baskets before it.
    diversity : float
        Spread of the list over dissimilar items (see :class:`Recommender`).

    Returns
    -------
    DataFrame
        ``customer``, ``rank``, ``item``, ``score`` (the ranking score:
        higher is better, comparable within a customer), ``probability``
        (that the customer buys the item within the horizon, calibrated on
        the training window; see :class:`Recommender`; NaN when the log is
        too short to learn a ranker), ``reason``,
        ``expected_days`` (from ``asof``) and ``expected_date``: a
        gradient-boosting regressor (absolute error) learned on the training
        window's purchases, from the ranker's features and three timing
        signals — the due follow-up's median lag, the customer's own repeat
        interval for the item, the BG/NBD median time to the next purchase —
        capped at the horizon; ``timing`` names the strongest signal
        present (``"follow-up lag"``, ``"repeat interval"`` or ``"BG/NBD"``);
        ``bought_before``.  ``attrs`` holds ``notes`` (sources skipped,
        fallbacks), ``training`` and ``calibration`` (predicted against
        bought on the training window, by decile).  The baselines of
        :func:`baseline_recommendations` use the strongest signal itself as the
        timing.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo",
    ...                  "StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> recs = bm.recommend(tm, customers=["12407"], k=3, exclude_purchased=True)
    >>> list(recs.columns)
    ['customer', 'rank', 'item', 'score', 'probability', 'reason', 'expected_days', 'expected_date', 'timing', 'bought_before']
    >>> len(recs), bool(recs["bought_before"].any())
    (3, False)
    """
    rec = Recommender(horizon, methods, level=level, hierarchy=hierarchy, diversity=diversity,
                      random_state=random_state)
    rec.fit(tm, asof, progress=progress)
    return rec.recommend(customers, k, exclude_purchased=exclude_purchased)


# ---------------------------------------------------------------- baselines

_SOURCE_PARAMS = ("n_popular", "n_repeat", "n_tifu", "n_knn", "n_neighbors", "n_cooccurrence", "n_rules",
                  "follow_up_support", "rule_support", "rule_confidence")
BASELINE_SPEC = {
    "tm": LOG,
    "kind": Options(BASELINES),
    **RANKING_SPEC,
    "horizon": HORIZON,
    "level": LEVEL,
    "hierarchy": HIERARCHY,
    "asof": InBody("None (just after the last basket), or a date"),
    "customers": _CUSTOMERS,
    "params": InBody("keyword parameters of Recommender; those of the candidate sources are used ("
                     + ", ".join(_SOURCE_PARAMS) + ")"),
}


@validated(BASELINE_SPEC)
def baseline_recommendations(tm: TransactionMatrix, kind: str, k: int = 10, *, horizon="90D", asof=None,
                             exclude_purchased: bool = False, customers=None, level="item",
                             hierarchy=None, **params) -> pd.DataFrame:
    """Single-source rankings, each padded with the most popular items:

    - ``"popularity"``: items bought by the most customers in the last
      ``horizon`` (items the customer never bought, with
      ``exclude_purchased``);
    - ``"repeat"``: the customer's own most-bought items (most baskets, then
      most recent); with ``exclude_purchased`` there are none, so it is
      popularity;
    - ``"cooccurrence"``: items most similar (cosine over customers) to the
      customer's items;
    - ``"rules"``: association rules fired by the last basket, by confidence
      (the association model type);
    - ``"follow_ups"``: follow-up rules fired by a purchase within the
      horizon, by confidence, with their median lag as timing (the sequence
      model type).

    Same columns as :func:`recommend`.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> recs = bm.models.baseline_recommendations(tm, "repeat", k=3, asof="2011-09-01",
    ...                                          customers=["12407"])
    >>> recs[["customer", "rank", "item", "reason"]]
      customer  rank    item                                         reason
    0    12407     1    POST  repeat: bought in 4 baskets, last 34 days ago
    1    12407     2  84536B  repeat: bought in 3 baskets, last 34 days ago
    2    12407     3   21975  repeat: bought in 2 baskets, last 57 days ago
    """
    owner = "baseline_recommendations"
    _need_log(tm, owner)
    defaults = Recommender(horizon, **params)._params()
    h = _timedelta(owner, "horizon", horizon)
    log = _level_log(tm, level, hierarchy, owner)
    asof = pd.Timestamp(log.times.max()) + pd.Timedelta(1, "ns") if asof is None else _timestamp(owner, "asof", asof)
    src = _Sources(log.between(None, asof), asof, h, defaults)
    rows = None if customers is None else _customer_rows(src.hist, customers, owner)
    return _rank_baseline(src, kind, k, exclude_purchased, rows)


def _rank_baseline(src: _Sources, kind: str, k: int, exclude_purchased: bool, rows=None) -> pd.DataFrame:
    """One baseline's top k from prepared sources (``rows``: customer rows, or all)."""
    methods = ("popularity",) if kind in ("popularity", "repeat") and exclude_purchased else \
        tuple(dict.fromkeys((kind, "popularity")))
    nbr = None
    if kind in ("tifu_knn", "up_cf"):  # the method's own top k, not the recommender's candidates
        key = f"{kind} top {k}" + (" new" if exclude_purchased else "")
        if key not in src._parts:
            src._parts[key] = src.baseline_top(kind, k, exclude_purchased)
        nbr = src._parts[key]
        methods = (key, "popularity")
    cand = src.candidates(methods)
    if rows is not None:
        cand = cand[np.isin(cand["customer"].to_numpy(), rows)]
    if exclude_purchased:
        cand = cand[~cand["bought_before"].to_numpy()]
    pop = cand["pop_recent"].to_numpy() + 1e-9 * cand["pop_all"].to_numpy()
    primary = {
        "popularity": np.zeros(len(cand)),
        "repeat": cand["baskets"].to_numpy() - 1e-6 * np.nan_to_num(cand["last_days"].to_numpy(), nan=1e5),
        "cooccurrence": cand["cooc"].to_numpy(),
        "rules": cand["ar_conf"].to_numpy(),
        "follow_ups": cand["fu_conf_recent"].to_numpy(),
    }[kind] if nbr is None else _pair_lookup(  # the method's own order: k + 1 - rank
        sp.csr_matrix((k + 1.0 - nbr["rank"].to_numpy(), (nbr["customer"].to_numpy(), nbr["unit"].to_numpy())),
                      shape=(src.n_cust, src.log.n_items)), cand["customer"].to_numpy(), cand["unit"].to_numpy())
    # primary score first; popularity only breaks its ties and pads the list
    score = np.where(primary > 0, 2.0 + primary, pop / 2.0) + np.where(primary > 0, pop * 1e-9, 0.0)
    if kind == "popularity":
        score = pop
    return _finish(cand.assign(score=score), src, k, kind)


BENCHMARK_SPEC = {
    "baselines": InBody(f"a tuple of {', '.join(BASELINES)}"),
    "tm": LOG,
    "cutoff": FEATURES_SPEC["cutoff"],
    "horizon": HORIZON,
    "level": LEVEL,
    "hierarchy": HIERARCHY,
    "k": _K,
    "random_state": RANDOM_STATE,
    "progress": BOOL,
    "params": InBody("keyword parameters of Recommender (but horizon, level, hierarchy and random_state), "
                     "checked as its fit checks them"),
}


@validated(BENCHMARK_SPEC)
def recommendation_benchmark(tm: TransactionMatrix, cutoff, *, horizon="90D", k: int = 10,
                             baselines=BASELINES, level="item", hierarchy=None, random_state: int = 0,
                             progress: bool = False, **params) -> pd.DataFrame:
    """The recommender against the single-source baselines on one temporal
    holdout, in both modes ("any item" and "new items only").

    Customers judged: those with a purchase both before the cut-off and in
    the holdout window (the metrics of :func:`evaluate_recommendations`).
    The recommender's probabilities are also judged over every customer
    with a purchase before the cut-off, since a probability of buying must
    allow for customers who do not come back: ``brier_all`` and
    ``brier_base_rate_all`` (the constant equal to the share bought).
    ``leaks`` counts recommendations of items the customer had bought
    before in the "new items" mode (it must be 0).  Returns a tidy table:
    ``model``, ``mode``, ``metric``, ``value``, plus ``fit_seconds`` per
    model (the recommender's: fit and ranking; a baseline's: ranking).

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> tab = bm.models.recommendation_benchmark(tm, "2011-09-01", baselines=("repeat", "tifu_knn"))
    >>> sorted(tab["model"].unique())
    ['recommender', 'repeat', 'tifu_knn']
    >>> ndcg = tab[tab["metric"] == "ndcg"].pivot(index="model", columns="mode", values="value")
    >>> bool((ndcg.loc["recommender"] > 0).all())
    True
    """
    from ._features import features
    owner = "recommendation_benchmark"
    for b in baselines:
        check(owner, "baselines", b, Options(BASELINES))
    f = features(tm, cutoff, horizon=horizon, level=level, hierarchy=hierarchy, n_shares=0)
    active = f.targets.index[f.targets["active"].to_numpy()]
    res, rec = _judge(tm, f, k, baselines, hierarchy=hierarchy, random_state=random_state, progress=progress,
                      **params)
    rows = [(model, "new" if excl else "any", metric, v, secs)
            for excl in (False, True) for model in ("recommender", *baselines)
            for metric, v in res[model, excl][0].items() for secs in [res[model, excl][1]]]
    out = pd.DataFrame(rows, columns=["model", "mode", "metric", "value", "fit_seconds"])
    out.attrs.update({"cutoff": f.split.cutoff, "horizon": f.split.horizon, "k": k, "customers": len(active),
                      "training": rec.training_})
    return out


def _judge(tm: TransactionMatrix, f, k: int, baselines=BASELINES, *, hierarchy=None, random_state: int = 0,
           progress: bool = False, **params):
    """Fit the recommender at ``f``'s cut-off and judge it and the
    baselines on ``f``'s holdout, in both modes.

    The baselines rank the recommender's own candidate sources (mined once
    at the cut-off).  Returns ``({(model, exclude_purchased): (metrics,
    seconds)}, recommender)``: the recommender's seconds are fit plus
    ranking, a baseline's its ranking alone.
    """
    h = f.split.horizon
    active = f.targets.index[f.targets["active"].to_numpy()]
    truth = f.holdout_pairs
    t0 = time.perf_counter()
    rec = Recommender(h, level=f.level, hierarchy=hierarchy, random_state=random_state, **params)
    rec.fit(tm, f.split.cutoff, progress=progress)
    fit_s = time.perf_counter() - t0
    rows = _customer_rows(rec.sources_.hist, active, "recommendation_benchmark")
    res = {}
    everyone = rec.sources_.hist.customers
    for excl in (False, True):
        t1 = time.perf_counter()
        recs = rec.recommend(active, k, exclude_purchased=excl)
        m = evaluate_recommendations(recs, truth, k, new_only=excl, customers=active)
        secs = fit_s + time.perf_counter() - t1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            every = evaluate_recommendations(rec.recommend(None, k, exclude_purchased=excl), truth, k,
                                             new_only=excl, customers=everyone)
        m["brier_all"], m["brier_base_rate_all"] = every["brier"], every["brier_base_rate"]
        if excl:  # checked against the feature builder's own history of the calibration period
            hp = f.history.pairs
            before = pd.MultiIndex.from_arrays([f.history.customers[hp["customer"].to_numpy()],
                                                f.history.units[hp["unit"].to_numpy()]])
            m["leaks"] = float(pd.MultiIndex.from_arrays([recs["customer"], recs["item"]]).isin(before).sum())
        res["recommender", excl] = (m, secs)
        for b in baselines:
            t1 = time.perf_counter()
            br = _rank_baseline(rec.sources_, b, k, excl, rows)
            res[b, excl] = (evaluate_recommendations(br, truth, k, new_only=excl, customers=active),
                            time.perf_counter() - t1)
    return res, rec
