"""What else will they buy, and when: candidate sources, a learned ranker,
baselines and holdout metrics."""
from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from .._lazy import LazyModule
from .._progress import Steps
from .._validation import BOOL, Interval, InvalidParameterError, Options, check
from ..itemsets import frequent_itemsets
from ..rules import association_rules
from ..sequences import follow_ups
from ..transactions import TransactionMatrix
from ._features import (History, _level_log, _need_log, _timedelta, _timestamp, customer_features,
                        first_purchases, history)
from ._metrics import evaluate_recommendations

sp = LazyModule("scipy.sparse")

__all__ = ["BASELINES", "METHODS", "Recommender", "baseline_recommendations", "evaluate_recommendations",
           "recommend", "recommendation_benchmark"]

#: Candidate sources of the recommender.
METHODS = ("repeat", "cooccurrence", "follow_ups", "rules", "popularity")
#: Single-source rankings usable as baselines (each padded with popularity).
BASELINES = ("popularity", "repeat", "cooccurrence", "rules", "follow_ups")

_CUSTOMER_COLS = ["n_baskets", "frequency", "recency_days", "tenure_days", "n_units", "basket_size",
                  "spend_total", "spend_mean", "ipt_median", "baskets_30d", "baskets_90d"]


def _top_per_row(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n: int):
    """Keep the ``n`` largest values of each row (ties by column)."""
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    start = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    rank = np.arange(len(rows)) - np.repeat(start, np.diff(np.r_[start, len(rows)]))
    keep = rank < n
    return rows[keep], cols[keep], vals[keep], rank[keep]


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
        self._parts: dict = {}
        self._units()
        self._bgnbd()

    # ---------------------------------------------------------------- units
    def _units(self):
        pairs = self.hist.pairs
        nU = self.log.n_items
        h_days = self.horizon / pd.Timedelta(days=1)
        u = pairs["unit"].to_numpy()
        self.n_buyers = np.bincount(u, minlength=nU).astype(np.float64)
        recent = pairs["last_days"].to_numpy() <= h_days
        self.pop_recent = np.bincount(u[recent], minlength=nU) / max(self.n_cust, 1)
        # customers buying each unit in the horizon before the recent one
        lines = self._lines_in(h_days, 2 * h_days)
        self.pop_prev = np.bincount(lines, minlength=nU) / max(self.n_cust, 1)
        self.pop_month = np.bincount(self._lines_in(-1.0, 30.0), minlength=nU) / max(self.n_cust, 1)
        rep = pairs["baskets"].to_numpy() >= 2
        with np.errstate(invalid="ignore", divide="ignore"):
            self.repeat_rate = np.bincount(u[rep], minlength=nU) / self.n_buyers
        self.pop_all = self.n_buyers / max(self.n_cust, 1)

    def _lines_in(self, lo_days: float, hi_days: float) -> np.ndarray:
        """Unit of each distinct (customer, unit) bought between lo and hi days before as-of."""
        tm = self.log
        brow = np.repeat(np.arange(tm.n_baskets), tm.basket_lengths())
        age = (np.datetime64(self.asof, "ns") - tm.times[brow]) / np.timedelta64(1, "D")
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
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                m = BetaGeo().fit(X)
            self.p_alive = m.probability_alive(X).to_numpy()
            self.expected = m.expected_purchases(self.horizon / pd.Timedelta(days=1), X).to_numpy()
            self.median_next = m.median_time_to_purchase(X).to_numpy()
            self.bgnbd = m
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):  # too little data to fit
            self.bgnbd = None

    # ------------------------------------------------------------- sources
    def repeat(self) -> pd.DataFrame:
        return self.hist.pairs[["customer", "unit"]]

    def popular_units(self, n: int) -> np.ndarray:
        score = self.pop_recent + 1e-9 * self.pop_all
        return np.lexsort((np.arange(len(score)), -score))[:n]

    def popularity(self) -> pd.DataFrame:
        top = self.popular_units(self.p["n_popular"])
        return pd.DataFrame({"customer": np.repeat(np.arange(self.n_cust), len(top)),
                             "unit": np.tile(top, self.n_cust)})

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
        C = C.tocoo()
        off = C.row != C.col
        r, c, v = C.row[off], C.col[off], C.data[off]
        v = v / np.sqrt(n[r] * n[c])
        r, c, v, _ = _top_per_row(r.astype(np.int64), c.astype(np.int64), v, self.p["n_neighbors"])
        K = sp.csr_matrix((v, (r, c)), shape=C.shape)
        S = (B @ K).tocoo()
        rr, cc, vv, _ = _top_per_row(S.row.astype(np.int64), S.col.astype(np.int64), S.data,
                                     self.p["n_cooccurrence"])
        nb = np.asarray(B.sum(axis=1)).ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = vv / nb[rr]
        return pd.DataFrame({"customer": rr, "unit": cc, "cooc": vv, "cooc_mean": mean})

    def follow_ups(self) -> pd.DataFrame:
        """Follow-up rules A -> B fired by the customer's purchases of A."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fu = follow_ups(self.log.select(self.log.customer_codes >= 0), within=self.horizon,
                            min_support=self.p["follow_up_support"], max_antecedent_len=1,
                            observation_end=self.asof)
        if fu.empty:
            return pd.DataFrame(columns=["customer", "unit", "fu_conf", "fu_conf_recent", "fu_lift",
                                         "fu_due", "fu_n", "fu_from", "fu_lag"])
        code = self.log.code_of
        a = code([next(iter(s)) for s in fu["antecedents"]])
        b = code(list(fu["consequent"]))
        rules = pd.DataFrame({"a": a, "unit": b, "conf": fu["confidence"].to_numpy(),
                              "lift": fu["lift"].to_numpy(), "lag": fu["lag_days_median"].to_numpy()})
        pairs = self.hist.pairs[["customer", "unit", "last_days"]].rename(columns={"unit": "a"})
        m = pairs.merge(rules, on="a")
        h_days = self.horizon / pd.Timedelta(days=1)
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
        return out

    def rules(self) -> pd.DataFrame:
        """Association rules A -> b fired by the items of the customer's last basket."""
        log = self.log
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            its = frequent_itemsets(log, self.p["rule_support"], max_len=2)
            ar = association_rules(its, "confidence", self.p["rule_confidence"], max_consequent_len=1)
        if ar.empty:
            return pd.DataFrame(columns=["customer", "unit", "ar_conf", "ar_lift", "ar_from"])
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
        return pd.DataFrame({"customer": best["customer"].to_numpy(), "unit": best["unit"].to_numpy(),
                             "ar_conf": best["conf"].to_numpy(), "ar_lift": best["lift"].to_numpy(),
                             "ar_from": best["a"].to_numpy()})

    # ------------------------------------------------------------ table
    def candidates(self, methods) -> pd.DataFrame:
        parts = {}
        for m in methods:  # each source is computed once per as-of time and shared
            if m not in self._parts:
                self._parts[m] = getattr(self, m)()
            parts[m] = self._parts[m]
        keys = pd.concat([p[["customer", "unit"]] for p in parts.values()], ignore_index=True)
        keys = keys.drop_duplicates().astype(np.int64)
        cand = keys.sort_values(["customer", "unit"], kind="stable").reset_index(drop=True)
        for m in ("cooccurrence", "follow_ups", "rules"):
            if m in parts:
                cand = cand.merge(parts[m].astype({"customer": np.int64, "unit": np.int64}),
                                  on=["customer", "unit"], how="left")
        for col in ("cooc", "cooc_mean", "fu_conf", "fu_conf_recent", "fu_lift", "fu_n", "ar_conf",
                    "ar_lift"):
            if col not in cand:
                cand[col] = 0.0
            cand[col] = cand[col].fillna(0.0).astype(np.float64)
        for col in ("fu_due", "fu_lag", "fu_from", "ar_from"):
            if col not in cand:
                cand[col] = np.nan
        hp = self.hist.pairs
        cand = cand.merge(hp, on=["customer", "unit"], how="left")
        cand["baskets"] = cand["baskets"].fillna(0.0)
        cand["bought_before"] = cand["baskets"] > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            interval = (cand["first_days"] - cand["last_days"]) / (cand["baskets"] - 1)
        cand["interval"] = interval.where(cand["baskets"] >= 2)
        cand["repeat_due"] = cand["interval"] - cand["last_days"]
        u = cand["unit"].to_numpy()
        cand["pop_all"] = self.pop_all[u]
        cand["pop_recent"] = self.pop_recent[u]
        cand["pop_prev"] = self.pop_prev[u]
        cand["pop_month"] = self.pop_month[u]
        cand["repeat_rate"] = self.repeat_rate[u]
        c = cand["customer"].to_numpy()
        for col in _CUSTOMER_COLS:
            cand[col] = self.cust[col].to_numpy()[c]
        cand["p_alive"] = self.p_alive[c]
        cand["expected_purchases"] = self.expected[c]
        cand["median_next"] = self.median_next[c]
        cand["share_of_customer"] = cand["baskets"] / cand["n_baskets"]
        # ranks within the customer's candidates: what a per-customer ordering needs
        g = cand.assign(neg_last=-cand["last_days"].fillna(1e9)).groupby("customer")
        cand["cooc_rank"] = g["cooc"].rank(ascending=False, method="first")
        cand["repeat_rank"] = (cand.assign(key=cand["baskets"] * 1e6 - cand["last_days"].fillna(1e6))
                               .groupby("customer")["key"].rank(ascending=False, method="first"))
        cand["recency_rank"] = g["neg_last"].rank(ascending=False, method="first")
        cand["fu_rank"] = g["fu_conf_recent"].rank(ascending=False, method="first")
        cand["pop_rank"] = g["pop_recent"].rank(ascending=False, method="first")
        cand["pop_month_rank"] = g["pop_month"].rank(ascending=False, method="first")
        # the repeat ranking with popularity breaking ties
        cand["repeat_pop_rank"] = (cand.assign(key=cand["baskets"] + cand["pop_recent"] / 2)
                                   .groupby("customer")["key"].rank(ascending=False, method="first"))
        return cand


#: The ranker's feature columns.
FEATURES = ["baskets", "first_days", "last_days", "interval", "repeat_due", "share_of_customer",
            "cooc", "cooc_mean", "cooc_rank", "repeat_rank", "recency_rank", "fu_rank", "pop_rank", "pop_month_rank", "repeat_pop_rank", "fu_conf", "fu_conf_recent", "fu_lift", "fu_due", "fu_n",
            "ar_conf", "ar_lift", "pop_all", "pop_recent", "pop_prev", "pop_month", "repeat_rate", *_CUSTOMER_COLS,
            "p_alive", "expected_purchases"]


#: The timing model's features: the ranker's and the rule-based timings.
TIMING_FEATURES = FEATURES + ["median_next"]


def _matrix(cand: pd.DataFrame, columns=None) -> np.ndarray:
    """A model's input; a missing value (no interval, no rule fired) becomes -1e6, below any
    real value, so that a column missing throughout still trains."""
    return np.nan_to_num(cand[columns or FEATURES].to_numpy(np.float64), nan=-1e6)


def _labels(log: TransactionMatrix, hist: History, start: pd.Timestamp, end: pd.Timestamp) -> dict:
    """(customer row, unit) -> days from ``start`` to the first purchase in
    [start, end), for the customers of ``hist``."""
    first = first_purchases(log.between(start, end), hist, start)
    return dict(zip(zip(first["r"].tolist(), first["unit"].tolist()), first["days"].tolist()))


class Recommender:
    """Each customer's next items, scored by a learned ranker over several
    candidate sources, with the reason and the expected timing.

    Candidates come from the customer's own items (``"repeat"``), item
    co-occurrence over customers (``"cooccurrence"``), follow-up rules
    within the horizon (``"follow_ups"``, :func:`basketmine.follow_ups`),
    association rules fired by the last basket (``"rules"``) and the items
    most bought in the last horizon (``"popularity"``).  Each candidate gets
    features (the customer's counts and intervals for the item, rule
    confidences and lifts, co-occurrence score, popularity and trend, the
    customer's RFM and BG/NBD figures), and a gradient-boosting classifier
    (scikit-learn's ``HistGradientBoostingClassifier``) learns to rank them:
    it is trained on an earlier split of the same log (history before
    ``end - horizon``, labels from the last ``horizon``), so nothing after
    the as-of time is used.  A second ranker is trained on candidates the
    customer never bought, for ``exclude_purchased=True``.

    Parameters
    ----------
    horizon : duration
        How far ahead "next" reaches (``"90D"``).
    methods : tuple of str
        Candidate sources, a subset of :data:`METHODS`.
    level : {"item", "category"}, hierarchy : mapping, optional
        Recommend categories instead of items.
    n_popular, n_neighbors, n_cooccurrence : int
        Popular items offered to everyone; neighbours kept per item; the
        co-occurrence candidates kept per customer.
    follow_up_support, rule_support : float or int
        ``min_support`` of the follow-up and association rules mined.
    rule_confidence : float
        Least confidence of an association rule used.
    diversity : float >= 0
        How much the list is spread over dissimilar items (maximal marginal
        relevance over the 30 best candidates; 0 keeps the ranker's order).
        The ``score`` column stays the ranker's probability, so with
        ``diversity > 0`` it need not fall with ``rank``.
    n_windows : int
        Training windows: the ranker learns from the last ``n_windows``
        horizons before the as-of time (each with its own history), as long
        as each has at least one horizon of history before it.
    max_training_rows : int
        Negatives are subsampled to keep the training table at most this long.
    random_state : int

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> rec = bm.models.Recommender("90D", methods=("repeat", "popularity")).fit(tm, "2011-09-01")
    >>> recs = rec.recommend(["12407"], k=3)
    >>> recs[["rank", "item", "reason"]]
       rank    item                                         reason
    0     1    POST  repeat: bought in 4 baskets, last 34 days ago
    1     2   23245                       bought once, 57 days ago
    2     3  84536B  repeat: bought in 3 baskets, last 34 days ago
    """

    def __init__(self, horizon="90D", methods=METHODS, *, level="item", hierarchy=None, n_popular=50,
                 n_neighbors=30, n_cooccurrence=50, follow_up_support=0.01, rule_support=0.01,
                 rule_confidence=0.1, diversity=1.0, n_windows=1, max_training_rows=400_000, random_state=0):
        self.horizon = horizon
        self.methods = methods
        self.level = level
        self.hierarchy = hierarchy
        self.n_popular = n_popular
        self.n_neighbors = n_neighbors
        self.n_cooccurrence = n_cooccurrence
        self.follow_up_support = follow_up_support
        self.rule_support = rule_support
        self.rule_confidence = rule_confidence
        self.diversity = diversity
        self.n_windows = n_windows
        self.max_training_rows = max_training_rows
        self.random_state = random_state

    def _check(self, owner):
        h = _timedelta(owner, "horizon", self.horizon)
        if isinstance(self.methods, str) or not isinstance(self.methods, (tuple, list)) or not self.methods:
            raise InvalidParameterError(
                f"The 'methods' parameter of {owner} must be a non-empty tuple of {', '.join(METHODS)}. "
                f"Got {self.methods!r} instead.")
        for m in self.methods:
            check(owner, "methods", m, Options(METHODS))
        for name in ("n_popular", "n_neighbors", "n_cooccurrence", "n_windows", "max_training_rows"):
            check(owner, name, getattr(self, name), Interval("int", 1, None, "left"))
        for name in ("follow_up_support", "rule_support"):
            check(owner, name, getattr(self, name),
                  (Interval("float", 0, 1, "right"), Interval("int", 1, None, "left")))
        check(owner, "rule_confidence", self.rule_confidence, Interval("real", 0, 1, "both"))
        check(owner, "diversity", self.diversity, Interval("real", 0, None, "left"))
        return h, tuple(dict.fromkeys(self.methods))

    def _params(self):
        return {k: getattr(self, k) for k in ("n_popular", "n_neighbors", "n_cooccurrence",
                                              "follow_up_support", "rule_support", "rule_confidence")}

    def fit(self, tm: TransactionMatrix, asof=None, *, progress=False) -> "Recommender":
        """Learn the rankers from ``tm`` and prepare recommendations as of
        ``asof`` (default: just after the last basket), using only baskets
        before it."""
        owner = "Recommender.fit"
        _need_log(tm, owner)
        h, methods = self._check(owner)
        check(owner, "progress", progress, BOOL)
        log = _level_log(tm, self.level, self.hierarchy, owner)
        last = pd.Timestamp(log.times.max())
        asof = last + pd.Timedelta(1, "ns") if asof is None else _timestamp(owner, "asof", asof)
        log = log.between(None, asof)
        train_asof = asof - h
        first = pd.Timestamp(log.times.min())
        if train_asof <= first:
            raise InvalidParameterError(
                f"The 'horizon' parameter of {owner} must leave history before the training cut-off "
                f"(as-of {asof} minus the horizon); the log starts {first}. Got {self.horizon!r}.")
        with Steps("recommender", self.n_windows + 2, progress) as say:
            return self._fit(log, asof, h, methods, owner, say)

    def _fit(self, log, asof, h, methods, owner, say) -> "Recommender":
        train_asof = asof - h
        first = pd.Timestamp(log.times.min())
        t0 = time.perf_counter()
        params = self._params()
        tables, labels, counts = [], [], {"any": 0, "new": 0}
        for w in range(1, self.n_windows + 1):
            t_asof = asof - w * h
            if w > 1 and t_asof - h <= first:
                break  # too little history before this window
            src = _Sources(log.between(None, t_asof), t_asof, h, params)
            cand = src.candidates(methods)
            pos = _labels(log, src.hist, t_asof, t_asof + h)
            if not pos:
                continue
            y = np.fromiter(((c, u) in pos for c, u in zip(cand["customer"].tolist(), cand["unit"].tolist())),
                            dtype=bool, count=len(cand))
            active = np.zeros(src.n_cust, dtype=bool)
            active[[c for c, _ in pos]] = True
            keep = active[cand["customer"].to_numpy()]
            tables.append(cand[keep].assign(window=w, _days=[pos.get((c, u), np.nan) for c, u in zip(
                cand["customer"].to_numpy()[keep].tolist(), cand["unit"].to_numpy()[keep].tolist())]))
            labels.append(y[keep])
            counts["any"] += len(pos)
            counts["new"] += _count_mode(pos, src.hist, "new")
            say(f"training window {w} (as of {t_asof:%Y-%m-%d}): {int(keep.sum()):,} candidates, "
                f"{int(y[keep].sum()):,} bought")
        if not tables:
            raise InvalidParameterError(
                f"The 'horizon' parameter of {owner} must leave purchases in the training window "
                f"{train_asof} .. {asof} to learn from; there are none. Got {self.horizon!r}.")
        cand = pd.concat(tables, ignore_index=True)
        y = np.concatenate(labels)
        self.models_ = {}
        self.training_ = {"windows": len(tables)}
        for mode, mask in (("any", np.ones(len(cand), bool)), ("new", ~cand["bought_before"].to_numpy())):
            self.models_[mode] = self._train(cand[mask], y[mask])
            self.training_[mode] = {"rows": int(mask.sum()), "positives": int(y[mask].sum()),
                                    "recall_of_candidates": float(y[mask].sum() / max(1, counts[mode]))}
        self.timing_model_ = self._train_timing(cand[y], cand["_days"].to_numpy()[y])
        say("rankers trained", advance=self.n_windows + 1 - len(tables))
        self.sources_ = _Sources(log, asof, h, params)
        self.candidates_ = self.sources_.candidates(methods)
        self.log_ = log
        self.asof_ = asof
        self.horizon_ = h
        self.methods_ = methods
        self.fit_seconds_ = time.perf_counter() - t0
        say("candidates as of the end")
        return self

    def _train(self, X: pd.DataFrame, y: np.ndarray):
        from sklearn.ensemble import HistGradientBoostingClassifier
        rng = np.random.default_rng(self.random_state)
        if len(y) > self.max_training_rows:
            neg = np.flatnonzero(~y)
            n_neg = max(self.max_training_rows - int(y.sum()), 1)
            take = np.sort(np.r_[np.flatnonzero(y), rng.choice(neg, min(n_neg, len(neg)), replace=False)])
            X, y = X.iloc[take], y[take]
        if y.all() or not y.any():
            return None
        model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1, max_leaf_nodes=31,
                                               min_samples_leaf=50, l2_regularization=1.0,
                                               early_stopping=False, random_state=self.random_state)
        # every (window, customer) weighs the same, however many candidates it has
        grp = X["customer"].to_numpy() * 1000 + X["window"].to_numpy()
        _, inv, cnt = np.unique(grp, return_inverse=True, return_counts=True)
        weight = 1.0 / cnt[inv]
        return model.fit(_matrix(X), y, sample_weight=weight * len(y) / weight.sum())

    def _train_timing(self, X: pd.DataFrame, days: np.ndarray):
        """Days to the purchase, learned on the training window's purchases."""
        from sklearn.ensemble import HistGradientBoostingRegressor
        if len(days) < 20:
            return None
        rng = np.random.default_rng(self.random_state)
        if len(days) > self.max_training_rows:
            take = np.sort(rng.choice(len(days), self.max_training_rows, replace=False))
            X, days = X.iloc[take], days[take]
        model = HistGradientBoostingRegressor(loss="absolute_error", max_iter=100, learning_rate=0.1,
                                              min_samples_leaf=50, random_state=self.random_state)
        return model.fit(_matrix(X, TIMING_FEATURES), days)

    def recommend(self, customers=None, k: int = 10, *, exclude_purchased: bool = False) -> pd.DataFrame:
        """The top ``k`` items per customer (see :func:`recommend`)."""
        owner = "Recommender.recommend"
        if not hasattr(self, "models_"):
            raise InvalidParameterError(f"{owner}: call fit(tm) first.")
        check(owner, "k", k, Interval("int", 1, None, "left"))
        check(owner, "exclude_purchased", exclude_purchased, BOOL)
        cand = self.candidates_
        src = self.sources_
        if customers is not None:
            rows = _customer_rows(src.hist, customers, owner)
            cand = cand[np.isin(cand["customer"].to_numpy(), rows)]
        mode = "new" if exclude_purchased else "any"
        if exclude_purchased:
            cand = cand[~cand["bought_before"].to_numpy()]
        model = self.models_[mode]
        if model is None or cand.empty:
            score = cand["pop_recent"].to_numpy(np.float64)
        else:
            score = model.predict_proba(_matrix(cand))[:, 1]
        cand = cand.assign(score=score)
        if self.diversity > 0 and len(cand):
            cand = _diversify(cand, src, k, self.diversity)
        out = _finish(cand, src, k, "model")
        if self.timing_model_ is not None and len(out):
            out = self._learned_timing(out, cand)
        return out

    def _learned_timing(self, out: pd.DataFrame, cand: pd.DataFrame) -> pd.DataFrame:
        src = self.sources_
        rows = {c: i for i, c in enumerate(src.hist.customers)}
        key = pd.MultiIndex.from_arrays([[rows[c] for c in out["customer"]], src.log.code_of(out["item"])])
        sub = cand.set_index(["customer", "unit"]).loc[key].reset_index()
        h_days = src.horizon / pd.Timedelta(days=1)
        days = np.clip(self.timing_model_.predict(_matrix(sub, TIMING_FEATURES)), 0.0, h_days)
        return out.assign(expected_days=days, expected_date=src.asof + pd.to_timedelta(days, unit="D"))


def _count_mode(pos: set, hist: History, mode: str) -> int:
    if mode == "any":
        return len(pos)
    m = hist.matrix
    return sum(1 for c, u in pos if m[c, u] == 0)


def _customer_rows(hist: History, customers, owner: str) -> np.ndarray:
    if isinstance(customers, (str, bytes)) or not hasattr(customers, "__iter__"):
        customers = [customers]
    lookup = {c: i for i, c in enumerate(hist.customers)}
    rows, unknown = [], []
    for c in customers:
        (rows.append(lookup[c]) if c in lookup else unknown.append(c))
    if unknown:
        warnings.warn(f"{owner}: {len(unknown)} customers have no purchase before the as-of time and "
                      f"get no recommendation, e.g. {unknown[:3]!r}.", UserWarning, stacklevel=3)
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
    marginal relevance): the next item maximises its score minus
    ``diversity`` x the customer's best score x its largest cosine similarity
    (over customers) to an item already chosen.  Items bought by the same
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
        penalty = diversity * sc.max()
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
    out.attrs.update({"asof": src.asof, "horizon": src.horizon, "model": model_name})
    return out.reset_index(drop=True)


def recommend(tm: TransactionMatrix, customers=None, k: int = 10, *, horizon="90D", methods=METHODS,
              exclude_purchased: bool = False, asof=None, level="item", hierarchy=None,
              diversity: float = 1.0, random_state: int = 0, progress: bool = False) -> pd.DataFrame:
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
        ``customer``, ``rank``, ``item``, ``score`` (the ranker's
        probability of a purchase within the horizon), ``reason``,
        ``expected_days`` (from ``asof``) and ``expected_date``: a
        gradient-boosting regressor (absolute error) learned on the training
        window's purchases, from the ranker's features and three timing
        signals — the due follow-up's median lag, the customer's own repeat
        interval for the item, the BG/NBD median time to the next purchase —
        capped at the horizon; ``timing`` names the strongest signal
        present (``"follow-up lag"``, ``"repeat interval"`` or ``"BG/NBD"``);
        ``bought_before``.  The baselines of
        :func:`baseline_recommendations` use that signal itself as the
        timing.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", "InvoiceNo",
    ...                  "StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> recs = bm.recommend(tm, customers=["12407"], k=3, exclude_purchased=True)
    >>> list(recs.columns)
    ['customer', 'rank', 'item', 'score', 'reason', 'expected_days', 'expected_date', 'timing', 'bought_before']
    >>> len(recs), bool(recs["bought_before"].any())
    (3, False)
    """
    rec = Recommender(horizon, methods, level=level, hierarchy=hierarchy, diversity=diversity,
                      random_state=random_state)
    rec.fit(tm, asof, progress=progress)
    return rec.recommend(customers, k, exclude_purchased=exclude_purchased)


# ---------------------------------------------------------------- baselines

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
    check(owner, "kind", kind, Options(BASELINES))
    check(owner, "k", k, Interval("int", 1, None, "left"))
    check(owner, "exclude_purchased", exclude_purchased, BOOL)
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
    }[kind]
    # primary score first, popularity breaks ties and pads
    score = np.where(primary > 0, 1.0 + primary, 0.0) + pop / 2.0
    if kind == "popularity":
        score = pop
    return _finish(cand.assign(score=score), src, k, kind)


def recommendation_benchmark(tm: TransactionMatrix, cutoff, *, horizon="90D", k: int = 10,
                             baselines=BASELINES, level="item", hierarchy=None, random_state: int = 0,
                             progress: bool = False, **params) -> pd.DataFrame:
    """The recommender against the single-source baselines on one temporal
    holdout, in both modes ("any item" and "new items only").

    Customers judged: those with a purchase both before the cut-off and in
    the holdout window.  Returns a tidy table: ``model``, ``mode``,
    ``metric``, ``value``, plus ``fit_seconds`` per model.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_csv("datasets/online_retail/online_retail_sample.csv.gz", basket="InvoiceNo",
    ...                  item="StockCode", customer="CustomerID", time="InvoiceDate",
    ...                  quantity="Quantity", price="UnitPrice")
    >>> tab = bm.models.recommendation_benchmark(tm, "2011-09-01",
    ...                                          baselines=("popularity", "repeat", "cooccurrence"))
    >>> hits = tab[tab["metric"] == "hit_rate"].pivot(index="model", columns="mode", values="value")
    >>> hits.round(3)
    mode            any    new
    model                     
    cooccurrence  0.537  0.279
    popularity    0.478  0.318
    recommender   0.841  0.363
    repeat        0.856  0.318
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
    for excl in (False, True):
        t1 = time.perf_counter()
        recs = rec.recommend(active, k, exclude_purchased=excl)
        res["recommender", excl] = (evaluate_recommendations(recs, truth, k, new_only=excl, customers=active),
                                    fit_s + time.perf_counter() - t1)
        for b in baselines:
            t1 = time.perf_counter()
            br = _rank_baseline(rec.sources_, b, k, excl, rows)
            res[b, excl] = (evaluate_recommendations(br, truth, k, new_only=excl, customers=active),
                            time.perf_counter() - t1)
    return res, rec
