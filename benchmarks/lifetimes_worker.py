"""Run lifetimes on a transaction CSV and write its results as JSON.

Runs inside the lifetimes venv (see lifetimes_env.py); never imports
basketmine.  Usage:

    python lifetimes_worker.py IN.csv OUT.json --customer C --time T --value V
        --observation-end 1997-09-30 --freq D --freq-multiplier 7 [--repeat 3]
"""
import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd


def best_time(fn, repeat):
    best, out = None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--customer", required=True)
    ap.add_argument("--time", required=True)
    ap.add_argument("--value", required=True)
    ap.add_argument("--observation-end", required=True)
    ap.add_argument("--freq", default="D")
    ap.add_argument("--freq-multiplier", type=float, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--models", default="BetaGeoFitter,ParetoNBDFitter,GammaGammaFitter")
    a = ap.parse_args()
    import lifetimes
    import scipy
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
    from lifetimes.utils import summary_data_from_transaction_data
    warnings.simplefilter("ignore")
    df = pd.read_csv(a.inp, dtype={a.customer: str})
    df[a.time] = pd.to_datetime(df[a.time])
    st, s = best_time(lambda: summary_data_from_transaction_data(
        df, a.customer, a.time, monetary_value_col=a.value, observation_period_end=a.observation_end,
        freq=a.freq, freq_multiplier=a.freq_multiplier), a.repeat)
    out = {"versions": {"lifetimes": lifetimes.__version__, "pandas": pd.__version__,
                        "numpy": np.__version__, "scipy": scipy.__version__},
           "summary_seconds": st,
           "summary": {str(k): {c: float(v[c]) for c in ("frequency", "recency", "T", "monetary_value")}
                       for k, v in s.iterrows()},
           "models": {}}
    classes = {"BetaGeoFitter": BetaGeoFitter, "ParetoNBDFitter": ParetoNBDFitter,
               "GammaGammaFitter": GammaGammaFitter}
    for name in a.models.split(","):
        cls = classes[name]
        if name == "GammaGammaFitter":
            rep = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
            fit = lambda: cls().fit(rep["frequency"], rep["monetary_value"])
        else:
            fit = lambda: cls().fit(s["frequency"], s["recency"], s["T"])
        secs, m = best_time(fit, a.repeat)
        ll = getattr(m, "log_likelihood_", None)
        out["models"][name] = {"params": {k: float(v) for k, v in m.params_.items()},
                               "loglik": None if ll is None else float(ll), "fit_seconds": secs}
    with open(a.out, "w") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main()
