import subprocess
import sys

import pytest

from scipy import stats


def test_import_is_lean():
    # the heavy libraries are imported where first used, not by `import basketmine`
    code = ("import sys, basketmine; "
            "print(' '.join(m for m in ('scipy.stats', 'scipy.optimize', 'scipy.sparse', 'sklearn', "
            "'statsmodels', 'pyspark', 'tqdm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_lazy_modules_load_on_first_use():
    code = ("import sys, numpy as np, basketmine as bm; "
            "r = bm.rules.measures_from_counts(100, 40, 30, 20, ['lift']); "
            "a = 'scipy.stats' in sys.modules; "
            "p = bm.rules.measures_from_counts(100, 40, 30, 20, ['fisher_p_value']); "
            "print(a, 'scipy.stats' in sys.modules, float(p['fisher_p_value']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, p = out.stdout.split()
    assert (before, after) == ("False", "True")
    assert abs(float(p) - stats.fisher_exact([[20, 20], [10, 50]], alternative="greater")[1]) < 1e-12


def test_an_unfitted_model_raises_not_fitted_error():
    import basketmine as bm
    for model, call in ((bm.models.Recommender(), lambda m: m.recommend()),
                        (bm.value.BetaGeo(), lambda m: m.expected_purchases(10)),
                        (bm.value.StateTransitionForecast(), lambda m: m.forecast(3))):
        with pytest.raises(bm.NotFittedError, match="fit"):
            call(model)
    assert issubclass(bm.NotFittedError, bm.InvalidParameterError) and issubclass(bm.NotFittedError, AttributeError)
