"""Probabilistic customer-base models fitted by maximum likelihood.

- :class:`BetaGeo` (BG/NBD; Fader, Hardie and Lee 2005): purchases at a
  gamma-distributed Poisson rate; after each purchase the customer drops out
  with a beta-distributed probability.
- :class:`ParetoNBD` (Schmittlein, Morrison and Colombo 1987): the same
  purchase process with an exponential lifetime of gamma-distributed rate.
- :class:`NBD` (Ehrenberg 1959): the purchase process alone, nobody leaves.
- :class:`GammaGamma` (Fader, Hardie and Lee 2005, "RFM and CLV"): the
  value of each purchase, gamma-distributed around a customer's own mean.

Each follows scikit-learn's estimator contract (``fit`` returns the model;
learned state ends in ``_``) and carries statsmodels-style results:
``params_``, ``bse_``, ``cov_params_``, ``conf_int()``, ``summary()``.
The likelihoods are vectorised over the distinct (frequency, recency, T)
rows, weighted by how many customers share them; BG/NBD, NBD and
Gamma-Gamma have analytic gradients.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from .._lazy import LazyModule
from .._validation import Interval, InvalidParameterError, NotFittedError, check, unitless_duration, user_stacklevel
from ..transactions import TransactionMatrix
from ._summary import _UNIT_DAYS, summary

optimize = LazyModule("scipy.optimize")
special = LazyModule("scipy.special")

__all__ = ["BetaGeo", "ConvergenceWarning", "GammaGamma", "NBD", "ParetoNBD"]


class ConvergenceWarning(UserWarning):
    """A maximum-likelihood fit stopped before it converged."""


#: Bounds of the log-parameters during the search: every parameter stays in [1e-6, 1e8].
_LOG_BOUNDS = (math.log(1e-6), math.log(1e8))
_BOUNDS_TEXT = "1e-06 .. 1e+08"


def _unit_days(attrs: dict) -> float | None:
    unit = attrs.get("unit")
    if unit is not None:
        return _UNIT_DAYS[unit]
    freq = attrs.get("freq")
    if freq in _UNIT_DAYS:
        return _UNIT_DAYS[freq]
    if freq == "M":
        return 365.25 / 12
    return None


def _as_summary(X, owner: str, need=("frequency", "recency", "T")) -> pd.DataFrame:
    if isinstance(X, TransactionMatrix):
        X = summary(X)
    if not isinstance(X, pd.DataFrame):
        raise InvalidParameterError(
            f"The 'X' parameter of {owner} must be a customer summary (a DataFrame from "
            f"basketmine.value.summary) or a TransactionMatrix. Got {type(X).__name__} instead.")
    missing = [c for c in need if c not in X.columns]
    if missing:
        raise InvalidParameterError(
            f"The 'X' parameter of {owner} must have the columns {', '.join(need)}; "
            f"{', '.join(missing)} missing (columns here: {', '.join(map(str, X.columns[:10]))}).")
    return X


def _rfT(X: pd.DataFrame, owner: str):
    x = X["frequency"].to_numpy(np.float64)
    tx = X["recency"].to_numpy(np.float64)
    T = X["T"].to_numpy(np.float64)
    bad = ~(np.isfinite(x) & np.isfinite(tx) & np.isfinite(T)) | (x < 0) | (tx < 0) | (tx > T) \
        | (x != np.round(x)) | ((x == 0) & (tx != 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidParameterError(
            f"The 'X' parameter of {owner} must hold whole frequencies >= 0 and "
            f"0 <= recency <= T (recency 0 without repeat purchases); {int(bad.sum())} rows do "
            f"not, e.g. customer {X.index[i]!r}: frequency={x[i]}, recency={tx[i]}, T={T[i]}.")
    return x, tx, T


def _duration(value, unit_days, owner: str, name: str) -> float:
    """A horizon in the model's time unit: a number, or a duration string /
    Timedelta converted with the unit the fit data was measured in."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if value < 0 or not np.isfinite(value):
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} must be >= 0. Got {value!r} instead.")
        return float(value)
    unitless_duration(owner, name, value)
    try:
        td = pd.Timedelta(value)
    except (ValueError, TypeError):
        td = None
    if td is None or td is pd.NaT or td < pd.Timedelta(0):
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be a number of time units or a duration "
            f"such as '90D'. Got {value!r} instead.")
    if unit_days is None:
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} is a duration, but the model's time unit is "
            f"unknown (fitted on a table without basketmine's summary attrs); give a number.")
    return td / pd.Timedelta(days=1) / unit_days


def _compress(cols):
    """Distinct rows of the given columns and how many times each occurs."""
    order = np.lexsort(cols[::-1])
    srt = [c[order] for c in cols]
    new = np.ones(len(order), dtype=bool)
    if len(order):
        new[1:] = np.any([np.diff(c) != 0 for c in srt], axis=0)
    starts = np.flatnonzero(new)
    inv = np.empty(len(order), dtype=np.int64)
    inv[order] = np.cumsum(new) - 1
    counts = np.diff(np.append(starts, len(order))).astype(np.float64)
    return _Cols(c[starts] for c in srt), counts, inv


class _Cols(list):
    """The likelihood's data columns, with per-column distinct values cached:
    special functions are evaluated once per distinct value, not per row."""

    def distinct(self, *js):
        key = ("d",) + js
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            cols = [self[j] for j in js]
            if len(cols) == 1:
                u, inv = np.unique(cols[0], return_inverse=True)
                cache[key] = ([u], inv.ravel())
            else:
                us, _, inv = _compress(cols)
                cache[key] = (list(us), inv)
        return cache[key]

    def per(self, f, *js):
        """``f(*columns)`` evaluated on the distinct values of ``columns``."""
        us, inv = self.distinct(*js)
        return f(*us)[inv]


def _cols(data) -> _Cols:
    return data if isinstance(data, _Cols) else _Cols(np.asarray(c, dtype=np.float64) for c in data)


class _Model:
    """Shared fitting, inference and display; subclasses give the likelihood."""

    _names: tuple = ()
    _need: tuple = ("frequency", "recency", "T")

    def __init__(self, penalizer: float = 0.0, max_iter: int = 1000, tol: float = 1e-10):
        self.penalizer = penalizer
        self.max_iter = max_iter
        self.tol = tol

    # -- subclass hooks
    def _data(self, X: pd.DataFrame, owner: str):
        raise NotImplementedError

    def _loglik(self, params, data, grad: bool):
        """Per-row log-likelihood (and its gradient in the natural params)."""
        raise NotImplementedError

    def _start(self, data, w):
        return np.ones(len(self._names))

    # -- fitting
    def fit(self, X, weights=None):
        """Fit by maximum likelihood.

        Parameters
        ----------
        X : DataFrame or TransactionMatrix
            A customer summary from :func:`basketmine.value.summary`, or a
            log (summarised with day periods).
        weights : array-like, optional
            Customers each row stands for (default 1).
        """
        owner = f"{type(self).__name__}.fit"
        check(owner, "penalizer", self.penalizer, Interval("real", 0, None, "left"))
        check(owner, "max_iter", self.max_iter, Interval("int", 1, None, "left"))
        X = _as_summary(X, owner, self._need)
        cols = self._data(X, owner)
        w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(X),) or (w < 0).any() or not np.isfinite(w).all():
            raise InvalidParameterError(
                f"The 'weights' parameter of {owner} must hold one finite weight >= 0 per row of X.")
        if len(X) == 0 or w.sum() == 0:
            raise InvalidParameterError(f"The 'X' parameter of {owner} holds no customers to fit.")
        data, counts, _ = _compress([np.asarray(c, dtype=np.float64) for c in cols])
        if weights is not None:
            # rows may carry their own weights: sum them per distinct row
            _, _, inv = _compress([np.asarray(c, dtype=np.float64) for c in cols])
            counts = np.bincount(inv, weights=w, minlength=len(counts))
        n = counts.sum()
        pen = float(self.penalizer)
        analytic = getattr(self, "_analytic", True)

        def objective(theta):
            params = np.exp(theta)
            if analytic:
                ll, g = self._loglik(params, data, True)
            else:
                ll, g = self._loglik(params, data, False), None
            f = -(counts @ ll) / n + pen * (params @ params)
            if not np.isfinite(f):
                return (1e300, np.zeros_like(theta)) if analytic else 1e300
            if g is None:
                return f
            grad = -(counts @ g) / n * params + 2 * pen * params * params
            return f, grad

        theta0 = np.log(self._start(data, counts))
        with np.errstate(all="ignore"):
            res = optimize.minimize(objective, np.clip(theta0, *_LOG_BOUNDS), jac=analytic,
                                    method="L-BFGS-B", bounds=[_LOG_BOUNDS] * len(theta0),
                                    options={"maxiter": self.max_iter, "ftol": self.tol,
                                             "gtol": 1e-9})
        params = np.exp(res.x)
        self.params_ = pd.Series(params, index=list(self._names), name="coef")
        # a parameter running off to 0 or infinity stops at a bound: not an optimum
        at_bound = (res.x <= _LOG_BOUNDS[0] + 1e-6) | (res.x >= _LOG_BOUNDS[1] - 1e-6)
        self.converged_ = bool(res.success) and bool(np.isfinite(res.fun)) and not at_bound.any()
        self.n_iter_ = int(res.nit)
        self.n_customers_ = int(round(n))
        with np.errstate(all="ignore"):
            self.loglik_ = float(counts @ self._ll_only(params, data))
        k = len(params)
        self.aic_ = 2 * k - 2 * self.loglik_
        self.bic_ = k * math.log(n) - 2 * self.loglik_
        self._fit_data = (params, data, counts)
        self.__dict__.pop("_cov", None)
        self.unit_days_ = _unit_days(X.attrs)
        self._fit_X = X
        if at_bound.any():
            edge = {k: float(v) for k, v in self.params_[at_bound].items()}
            warnings.warn(f"{owner}: {edge} ran to the bound of its range ({_BOUNDS_TEXT}): the "
                          f"likelihood keeps rising towards 0 or infinity there, so there is no finite "
                          f"optimum (for dropout parameters: hardly anyone is seen to leave; the NBD "
                          f"fits as well).", ConvergenceWarning, stacklevel=user_stacklevel())
        elif not self.converged_:
            warnings.warn(f"{owner} did not converge ({res.message}); parameters "
                          f"{dict(self.params_.round(4))} may not maximise the likelihood.",
                          ConvergenceWarning, stacklevel=user_stacklevel())
        elif (params < 1e-3).any():
            low = {k: float(v) for k, v in self.params_.items() if v < 1e-3}
            warnings.warn(f"{owner}: {low} is at the edge of its range; the data barely identify "
                          f"it (for dropout parameters: hardly anyone is seen to leave).",
                          ConvergenceWarning, stacklevel=user_stacklevel())
        return self

    @property
    def cov_params_(self) -> pd.DataFrame:
        """Covariance of the estimates: the inverse observed information
        (computed on first use)."""
        if "_cov" not in self.__dict__:
            if not hasattr(self, "_fit_data"):
                raise AttributeError("cov_params_")
            cov = self._covariance(*self._fit_data)
            if not np.isfinite(cov).all():
                warnings.warn(f"{type(self).__name__}: the likelihood is flat in some direction at "
                              f"the optimum; the standard errors are NaN.", ConvergenceWarning, stacklevel=user_stacklevel())
            self._cov = pd.DataFrame(cov, index=self.params_.index, columns=self.params_.index)
        return self._cov

    @property
    def bse_(self) -> pd.Series:
        """Standard errors of the estimates."""
        return pd.Series(np.sqrt(np.diag(self.cov_params_)), index=self.params_.index, name="std_err")

    def _ll_only(self, params, data):
        out = self._loglik(params, data, False)
        return out[0] if isinstance(out, tuple) else out

    def _score(self, params, data, counts):
        """Gradient of the total log-likelihood in the natural parameters."""
        if getattr(self, "_analytic", True):
            _, g = self._loglik(params, data, True)
            return counts @ g
        g = np.empty(len(params))
        for j in range(len(params)):
            h = 1e-5 * params[j]
            up, dn = params.copy(), params.copy()
            up[j] += h
            dn[j] -= h
            g[j] = counts @ (self._ll_only(up, data) - self._ll_only(dn, data)) / (2 * h)
        return g

    def _covariance(self, params, data, counts):
        """Inverse of the observed information: central differences of the score."""
        k = len(params)
        H = np.empty((k, k))
        with np.errstate(all="ignore"):
            for j in range(k):
                h = 1e-4 * params[j]
                up, dn = params.copy(), params.copy()
                up[j] += h
                dn[j] -= h
                H[:, j] = (self._score(up, data, counts) - self._score(dn, data, counts)) / (2 * h)
        H = (H + H.T) / 2
        try:
            cov = np.linalg.inv(-H)
        except np.linalg.LinAlgError:
            return np.full((k, k), np.nan)
        if (np.diag(cov) < 0).any():
            return np.full((k, k), np.nan)
        return cov

    # -- results
    def _check_fitted(self, owner):
        if not hasattr(self, "params_"):
            raise NotFittedError(f"{type(self).__name__}.{owner} needs a fitted model; call fit first.")

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals, ``params ± z * std_err``."""
        self._check_fitted("conf_int")
        check(f"{type(self).__name__}.conf_int", "alpha", alpha, Interval("float", 0, 1, "neither"))
        from scipy.stats import norm
        z = norm.ppf(1 - alpha / 2)
        return pd.DataFrame({"lower": self.params_ - z * self.bse_, "upper": self.params_ + z * self.bse_})

    def summary(self) -> pd.DataFrame:
        """Parameter table: estimate, standard error, 95% interval; fit
        statistics in ``attrs``."""
        self._check_fitted("summary")
        ci = self.conf_int()
        out = pd.DataFrame({"coef": self.params_, "std_err": self.bse_,
                            "lower_95": ci["lower"], "upper_95": ci["upper"]})
        out.attrs.update(model=type(self).__name__, customers=self.n_customers_,
                         loglik=self.loglik_, aic=self.aic_, bic=self.bic_,
                         converged=self.converged_, iterations=self.n_iter_)
        return out

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"{type(self).__name__}(penalizer={self.penalizer})"
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return (f"{type(self).__name__}({ps}; {self.n_customers_} customers, "
                f"log-likelihood {self.loglik_:.2f})")

    def get_params(self, deep: bool = True) -> dict:
        return {"penalizer": self.penalizer, "max_iter": self.max_iter, "tol": self.tol}

    def set_params(self, **params):
        for k, v in params.items():
            if k not in self.get_params():
                raise InvalidParameterError(f"{type(self).__name__} has no parameter {k!r}.")
            setattr(self, k, v)
        return self

    def _X(self, X, owner):
        self._check_fitted(owner)
        return self._fit_X if X is None else _as_summary(X, f"{type(self).__name__}.{owner}", self._need)

    def _t(self, t, owner):
        return _duration(t, self.unit_days_, f"{type(self).__name__}.{owner}", "t")


# ------------------------------------------------------------------ purchases
class _PurchaseModel(_Model):
    def _data(self, X, owner):
        x, tx, T = _rfT(X, owner)
        if not (x > 0).any():
            raise InvalidParameterError(
                f"The 'X' parameter of {owner} must hold some repeat purchases (frequency > 0); "
                f"all {len(x)} customers bought once, so purchase rates cannot be estimated. "
                f"Use a longer observation window.")
        if not (T > 0).any():
            raise InvalidParameterError(
                f"The 'X' parameter of {owner} must hold customers observed for some time (T > 0).")
        return [x, tx, T]

    def _start(self, data, w):
        # a scale near the typical age keeps the first steps well inside the domain
        T = data[2]
        scale = max(float(np.average(T, weights=w)), 1e-3)
        p = np.ones(len(self._names))
        for j, name in enumerate(self._names):
            if name in ("alpha", "beta"):
                p[j] = scale
        return p

    def expected_purchases(self, t, X=None) -> pd.Series:
        """Expected purchases of each customer in the next ``t`` time units
        (a number, or a duration such as ``"90D"``), given their history."""
        X = self._X(X, "expected_purchases")
        x, tx, T = _rfT(X, "expected_purchases")
        t = self._t(t, "expected_purchases")
        with np.errstate(all="ignore"):
            v = self._conditional(self.params_.to_numpy(), x, tx, T, t)
        return pd.Series(v, index=X.index, name="expected_purchases")

    def probability_alive(self, X=None) -> pd.Series:
        """Probability each customer is still active at the end of their history."""
        X = self._X(X, "probability_alive")
        x, tx, T = _rfT(X, "probability_alive")
        with np.errstate(all="ignore"):
            v = self._alive(self.params_.to_numpy(), x, tx, T)
        return pd.Series(v, index=X.index, name="probability_alive")

    def expected_purchases_new(self, t) -> np.ndarray | float:
        """Expected purchases in the first ``t`` time units of a new customer
        (after the first purchase); ``t`` may be an array."""
        self._check_fitted("expected_purchases_new")
        if np.ndim(t):
            tt = np.asarray(t, dtype=np.float64)
        else:
            tt = self._t(t, "expected_purchases_new")
        with np.errstate(all="ignore"):
            return self._unconditional(self.params_.to_numpy(), tt)


def _h2f1(a, b, c, z):
    """2F1(a, b; c; z).  Where scipy gives no finite value, which happens for
    a very large ``a`` (a purchase-rate shape r at the bound of a fit on a
    small log) and a small ``z``, its confluent limit 1F1(b; c; a z), exact as
    a -> infinity with a z fixed."""
    v = np.asarray(special.hyp2f1(a, b, c, z), dtype=np.float64)
    bad = ~np.isfinite(v)
    if bad.any():
        a, b, c, z = (np.broadcast_to(np.asarray(q, dtype=np.float64), v.shape) for q in (a, b, c, z))
        v = v.copy()
        v[bad] = special.hyp1f1(b[bad], c[bad], a[bad] * z[bad])
    return v if v.ndim else float(v)


class BetaGeo(_PurchaseModel):
    """BG/NBD: "buy till you die" with dropout right after a purchase.

    Parameters ``r, alpha`` (gamma purchase rates) and ``a, b`` (beta
    dropout probabilities), in the time unit of the fit data.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the parameters added to the mean negative
        log-likelihood (0: plain maximum likelihood).
    max_iter, tol : optimiser limits.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_cdnow("datasets/cdnow/CDNOW_sample.txt")
    >>> cal = bm.value.summary(tm, observation_end="1997-09-30", unit="W")
    >>> bg = bm.value.BetaGeo().fit(cal)
    >>> bg.params_.round(3).to_dict()     # Fader, Hardie and Lee (2005): 0.243, 4.414, 0.793, 2.426
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    """

    _names = ("r", "alpha", "a", "b")

    def _loglik(self, params, data, grad):
        r, alpha, a, b = params
        data = _cols(data)
        x, tx, T = data
        gl, dg = special.gammaln, special.digamma
        rep = x > 0
        lT = data.per(lambda u: np.log(alpha + u), 2)
        ltx = np.log(alpha + tx)
        bx1 = np.where(rep, b + x - 1, 1.0)
        L3 = -(r + x) * lT
        L4 = np.where(rep, np.log(a) - np.log(bx1) - (r + x) * ltx, -np.inf)
        lse = np.logaddexp(L3, L4)
        ll = data.per(lambda u: gl(r + u) + gl(b + u) - gl(a + b + u), 0) \
            + (-gl(r) + r * np.log(alpha) + gl(a + b) - gl(b)) + lse
        if not grad:
            return ll
        w3 = np.exp(L3 - lse)
        w4 = np.exp(L4 - lse)
        g = np.empty((len(x), 4))
        g[:, 0] = data.per(lambda u: dg(r + u), 0) - dg(r) + np.log(alpha) - w3 * lT - w4 * ltx
        g[:, 1] = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + tx))
        dab = dg(a + b) - data.per(lambda u: dg(a + b + u), 0)
        g[:, 2] = dab + w4 / a
        g[:, 3] = dab + data.per(lambda u: dg(b + u), 0) - dg(b) - w4 / bx1
        return ll, g

    @staticmethod
    def _alive(p, x, tx, T):
        r, alpha, a, b = p
        rep = x > 0
        odds = np.where(rep, a / np.where(rep, b + x - 1, 1.0)
                        * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + tx))), 0.0)
        return 1.0 / (1.0 + odds)

    def _conditional(self, p, x, tx, T, t):
        r, alpha, a, b = p
        # (1 - z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) with z = t / (alpha+T+t), by Pfaff's transformation
        # 2F1(r+x, a-1; a+b+x-1; -t / (alpha+T)): no 0 x inf when r and alpha are large (a Poisson-like fit)
        h = _h2f1(r + x, a - 1, a + b + x - 1, -t / (alpha + T))
        num = (a + b + x - 1) / (a - 1) * (1 - h)
        return num * self._alive(p, x, tx, T) if t > 0 else np.zeros_like(x)

    @staticmethod
    def _unconditional(p, t):
        r, alpha, a, b = p
        h = _h2f1(r, a - 1, a + b - 1, -np.asarray(t, dtype=np.float64) / alpha)  # Pfaff, as above
        return (a + b - 1) / (a - 1) * (1 - h)

    def probability_of_purchase(self, t, X=None) -> pd.Series:
        """Probability each customer buys again within the next ``t``: alive,
        and the next purchase comes within ``t``."""
        X = self._X(X, "probability_of_purchase")
        x, tx, T = _rfT(X, "probability_of_purchase")
        t = self._t(t, "probability_of_purchase")
        r, alpha = self.params_["r"], self.params_["alpha"]
        v = self._alive(self.params_.to_numpy(), x, tx, T) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x))
        return pd.Series(v, index=X.index, name="probability_of_purchase")

    def median_time_to_purchase(self, X=None) -> pd.Series:
        """Median time to each customer's next purchase if still active, in
        the model's time unit (days: multiply by ``unit_days_``)."""
        X = self._X(X, "median_time_to_purchase")
        x, tx, T = _rfT(X, "median_time_to_purchase")
        r, alpha = self.params_["r"], self.params_["alpha"]
        return pd.Series((alpha + T) * (2.0 ** (1.0 / (r + x)) - 1), index=X.index,
                         name="median_time_to_purchase")


class ParetoNBD(_PurchaseModel):
    """Pareto/NBD: gamma purchase rates ``r, alpha``, exponential lifetimes
    with gamma dropout rates ``s, beta``.

    The likelihood needs Gauss' hypergeometric function; its gradient is
    taken numerically.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_cdnow("datasets/cdnow/CDNOW_sample.txt")
    >>> pn = bm.value.ParetoNBD().fit(bm.value.summary(tm, observation_end="1997-09-30", unit="W"))
    >>> pn.params_.round(2).to_dict()     # published: 0.55, 10.58, 0.61, 11.67
    {'r': 0.55, 'alpha': 10.58, 's': 0.61, 'beta': 11.67}
    """

    _names = ("r", "alpha", "s", "beta")
    _analytic = False

    def _start(self, data, w):
        # the purchase process alone (NBD) is fast to fit and a good start for r, alpha
        x, tx, T = data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbd = NBD().fit(pd.DataFrame({"frequency": x, "recency": tx, "T": T}), weights=w)
        r, alpha = nbd.params_
        return np.array([r, alpha, 1.0, max(float(np.average(T, weights=w)), 1e-3)])

    @staticmethod
    def _log_a0(p, x, tx, T, data=None):
        """log of the A0 term of the likelihood (Fader and Hardie 2005)."""
        r, alpha, s, beta = p
        big = alpha if alpha >= beta else beta
        d = abs(alpha - beta)

        def term(xx, t):
            rsx = r + s + xx
            b2 = s + 1 if alpha >= beta else r + xx
            return np.log(_h2f1(rsx, b2, rsx + 1, d / (big + t))) - rsx * np.log(big + t)

        data = _cols([x, tx, T]) if data is None else data
        t1 = data.per(term, 0, 1)
        t2 = data.per(term, 0, 2)
        # t1 >= t2; when tx == T the term vanishes (log 0 = -inf, on purpose)
        with np.errstate(divide="ignore"):
            return t1 + np.log1p(-np.exp(np.minimum(t2 - t1, 0.0)))

    def _loglik(self, params, data, grad):
        r, alpha, s, beta = params
        data = _cols(data)
        x, tx, T = data
        head = data.per(lambda u: special.gammaln(r + u), 0) - special.gammaln(r) + r * np.log(alpha) \
            + s * np.log(beta)
        l1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        l2 = np.log(s / (r + s + x)) + self._log_a0(params, x, tx, T, data)
        return head + np.logaddexp(l1, l2)

    def _alive(self, p, x, tx, T):
        r, alpha, s, beta = p
        l1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        l2 = np.log(s / (r + s + x)) + self._log_a0(p, x, tx, T)
        return np.exp(l1 - np.logaddexp(l1, l2))

    def _conditional(self, p, x, tx, T, t):
        r, alpha, s, beta = p
        scale = (r + x) * (beta + T) / ((alpha + T) * (s - 1))
        return scale * (1 - ((beta + T) / (beta + T + t)) ** (s - 1)) * self._alive(p, x, tx, T)

    @staticmethod
    def _unconditional(p, t):
        r, alpha, s, beta = p
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))


class NBD(_PurchaseModel):
    """NBD: Poisson purchases at gamma-distributed rates ``r, alpha``; no
    customer ever leaves (``probability_alive`` is 1).  Uses frequency and
    T only.

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_cdnow("datasets/cdnow/CDNOW_sample.txt")
    >>> cal = bm.value.summary(tm, observation_end="1997-09-30", unit="W")
    >>> nbd = bm.value.NBD().fit(cal)
    >>> nbd.params_.round(3).to_dict()
    {'r': 0.385, 'alpha': 12.072}
    >>> float(nbd.probability_alive(cal).min())
    1.0
    """

    _names = ("r", "alpha")

    def _loglik(self, params, data, grad):
        r, alpha = params
        x, tx, T = data
        lT = np.log(alpha + T)
        ll = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - (r + x) * lT
        if not grad:
            return ll
        g = np.empty((len(x), 2))
        g[:, 0] = special.digamma(r + x) - special.digamma(r) + np.log(alpha) - lT
        g[:, 1] = r / alpha - (r + x) / (alpha + T)
        return ll, g

    @staticmethod
    def _alive(p, x, tx, T):
        return np.ones_like(x)

    @staticmethod
    def _conditional(p, x, tx, T, t):
        r, alpha = p
        return (r + x) / (alpha + T) * t

    @staticmethod
    def _unconditional(p, t):
        r, alpha = p
        return r / alpha * t


# ------------------------------------------------------------------ spend
class GammaGamma(_Model):
    """Gamma-Gamma model of spend per purchase.

    A customer's purchases are Gamma(p, nu) with nu ~ Gamma(q, gamma), so
    their mean spend is ``p * gamma / (q - 1)`` on average.  Fitted on
    customers with at least one repeat purchase from their number of repeat
    purchases (``frequency``) and mean repeat spend (``monetary_value``);
    the model assumes spend does not depend on frequency (see
    :meth:`independence`).

    Examples
    --------
    >>> import basketmine as bm
    >>> tm = bm.read_cdnow("datasets/cdnow/CDNOW_sample.txt")
    >>> cal = bm.value.summary(tm, observation_end="1997-09-30", unit="W")
    >>> gg = bm.value.GammaGamma().fit(cal)
    >>> gg.params_.round(2).to_dict()     # Fader, Hardie and Lee: 6.25, 3.74, 15.44
    {'p': 6.25, 'q': 3.74, 'gamma': 15.44}
    """

    _names = ("p", "q", "gamma")
    _need = ("frequency", "monetary_value")

    def _data(self, X, owner):
        x = X["frequency"].to_numpy(np.float64)
        m = X["monetary_value"].to_numpy(np.float64)
        use = x > 0
        bad = use & ~(m > 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidParameterError(
                f"The 'X' parameter of {owner} must have monetary_value > 0 for every customer "
                f"with repeat purchases; {int(bad.sum())} do not, e.g. customer {X.index[i]!r} "
                f"with monetary_value={m[i]}. Drop them (X[X.monetary_value > 0]) or net their "
                f"returns differently.")
        if not use.any():
            raise InvalidParameterError(
                f"The 'X' parameter of {owner} must hold customers with repeat purchases "
                f"(frequency > 0); none has one.")
        self._use = use
        return [x[use], m[use]]

    def fit(self, X, weights=None):
        """Fit by maximum likelihood on the customers with repeat purchases
        (``frequency > 0``); ``X`` and ``weights`` as for :meth:`BetaGeo.fit`."""
        X = _as_summary(X, f"{type(self).__name__}.fit", self._need)
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)[X["frequency"].to_numpy() > 0]
        return super().fit(X[X["frequency"] > 0], weights)

    def _start(self, data, w):
        x, m = data
        mean = float(np.average(m, weights=w))
        return np.array([1.0, 2.0, mean])

    def _loglik(self, params, data, grad):
        p, q, gam = params
        data = _cols(data)
        x, m = data
        lgm = np.log(gam + m * x)
        lm = np.log(m)
        ll = (data.per(lambda u: special.gammaln(p * u + q) - special.gammaln(p * u) + p * u * np.log(u), 0)
              - special.gammaln(q) + q * np.log(gam) + (p * x - 1) * lm - (p * x + q) * lgm)
        if not grad:
            return ll
        dpxq = data.per(lambda u: special.digamma(p * u + q), 0)
        g = np.empty((len(x), 3))
        g[:, 0] = x * (dpxq + lm - lgm) + data.per(lambda u: u * (np.log(u) - special.digamma(p * u)), 0)
        g[:, 1] = dpxq - special.digamma(q) + np.log(gam) - lgm
        g[:, 2] = q / gam - (p * x + q) / (gam + m * x)
        return ll, g

    @staticmethod
    def _repeat(X):
        """Repeat purchases and their mean value; customers whose mean is not
        positive (net returns) count as having no repeat information."""
        x = X["frequency"].to_numpy(np.float64)
        m = X["monetary_value"].to_numpy(np.float64)
        ok = (x > 0) & (m > 0)
        return np.where(ok, x, 0.0), np.where(ok, m, 0.0)

    def expected_spend(self, X=None) -> pd.Series:
        """Each customer's expected spend per purchase given their history:
        the population mean shrunk towards their own repeat-purchase mean.
        Customers without repeat purchases (or with a mean <= 0) get the
        population mean."""
        X = self._X(X, "expected_spend")
        p, q, gam = self.params_.to_numpy()
        x, m = self._repeat(X)
        v = (gam + m * x) * p / (p * x + q - 1)
        return pd.Series(v, index=X.index, name="expected_spend")

    def posterior(self, X=None) -> pd.DataFrame:
        """Posterior Gamma(shape, rate) of each customer's nu (the inverse
        scale of their spend): ``shape = q + p x``, ``rate = gamma + x m``."""
        X = self._X(X, "posterior")
        p, q, gam = self.params_.to_numpy()
        x, m = self._repeat(X)
        return pd.DataFrame({"shape": q + p * x, "rate": gam + m * x}, index=X.index)

    def independence(self, X=None) -> float:
        """Correlation of frequency and mean spend among repeat buyers; the
        model assumes it is near 0."""
        X = self._X(X, "independence")
        r = X[X["frequency"] > 0]
        return float(np.corrcoef(r["frequency"], r["monetary_value"])[0, 1])

    def clv(self, purchase_model: _PurchaseModel, X=None, periods: int = 12, period="30D",
            discount_rate: float = 0.01, margin: float = 1.0) -> pd.Series:
        """Customer lifetime value over ``periods`` periods of ``period``:
        the sum over periods of expected purchases in the period x expected
        spend x ``margin``, discounted at ``discount_rate`` per period.

        ``purchase_model`` is a fitted BetaGeo, ParetoNBD or NBD on the same
        customers (``X`` must have frequency, recency, T and monetary_value).
        """
        owner = "GammaGamma.clv"
        if not isinstance(purchase_model, _PurchaseModel) or not hasattr(purchase_model, "params_"):
            raise InvalidParameterError(
                f"The 'purchase_model' parameter of {owner} must be a fitted BetaGeo, ParetoNBD "
                f"or NBD. Got {purchase_model!r:.60} instead.")
        check(owner, "periods", periods, Interval("int", 1, None, "left"))
        check(owner, "discount_rate", discount_rate, Interval("real", 0, None, "left"))
        check(owner, "margin", margin, Interval("real", None, None))
        X = purchase_model._X(X, "clv")
        _as_summary(X, owner, ("frequency", "recency", "T", "monetary_value"))
        step = _duration(period, purchase_model.unit_days_, owner, "period")
        spend = self.expected_spend(X).to_numpy()
        x, tx, T = _rfT(X, owner)
        p = purchase_model.params_.to_numpy()
        total = np.zeros(len(X))
        prev = np.zeros(len(X))
        with np.errstate(all="ignore"):
            for i in range(1, periods + 1):
                cum = purchase_model._conditional(p, x, tx, T, i * step)
                total += (cum - prev) * spend * margin / (1 + discount_rate) ** i
                prev = cum
        return pd.Series(total, index=X.index, name="clv")
