"""The six model types on one temporal split, and "what else will they buy,
and when?" per customer.

- :func:`features` / :func:`temporal_split`: one feature builder and one
  split (calibration before a cut-off, holdout after it);
- :func:`recommend` / :class:`Recommender`: each customer's next items with
  a reason and an expected timing; :func:`baseline_recommendations` gives
  single-source rankings to beat;
- :func:`evaluate_recommendations` judges recommendations on the holdout
  (hit rate/PHR, precision, recall, MAP, NDCG, the repeat/explore split of
  the next-basket "reality check", Brier scores of predicted probabilities,
  timing error); :func:`calibration_table` bins predicted probabilities
  against observed hit shares;
- :func:`compare`: classification, regression, time series, clustering,
  association and sequence discovery side by side on one split.
"""
from ._compare import MODEL_TYPES, Comparison, compare
from ._features import Features, Split, features, temporal_split
from ._metrics import calibration_table, evaluate_recommendations
from ._recommend import BASELINES, METHODS, Recommender, baseline_recommendations, recommend, recommendation_benchmark

__all__ = ["BASELINES", "Comparison", "Features", "MODEL_TYPES", "METHODS", "Recommender", "Split",
           "baseline_recommendations", "calibration_table", "compare", "evaluate_recommendations", "features",
           "recommend", "recommendation_benchmark", "temporal_split"]
