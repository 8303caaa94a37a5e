"""Customer value: who matters, and what each customer will be worth.

- summaries: :func:`summary` (frequency, recency, T, monetary), :func:`rfm`,
  :func:`monetary_deciles`, :func:`purchase_deciles`, :func:`pareto_curve`,
  :func:`revenue_share`;
- seasonality: :func:`seasonal_index` (a calendar index of the repeat-purchase
  rate, :class:`SeasonalIndex`) and :func:`seasonal_summary` (the summary in
  operational time, for seasonal BG/NBD forecasts);
"""
from ._backtest import Backtest, calibration_holdout
from ._forecast import StateTransitionForecast
from ._forecast_backtest import FORECAST_MODELS, ForecastBacktest, backtest
from ._models import BetaGeo, ConvergenceWarning, GammaGamma, NBD, ParetoNBD
from ._seasonal import SEASON_PERIODS, SeasonalIndex, seasonal_index, seasonal_summary
from ._margin import CLASS_THRESHOLDS, class_table, customer_classes, margin_forecast, margin_history
from ._margin_backtest import MARGIN_MODELS, MarginBacktest, margin_backtest
from ._summary import (RFM_SEGMENTS, monetary_deciles, pareto_curve, purchase_deciles, revenue_share,
                       rfm, summary)

__all__ = [
    "Backtest",
    "BetaGeo",
    "CLASS_THRESHOLDS",
    "ConvergenceWarning",
    "FORECAST_MODELS",
    "ForecastBacktest",
    "GammaGamma",
    "MARGIN_MODELS",
    "MarginBacktest",
    "NBD",
    "ParetoNBD",
    "RFM_SEGMENTS",
    "SEASON_PERIODS",
    "SeasonalIndex",
    "StateTransitionForecast",
    "backtest",
    "calibration_holdout",
    "class_table",
    "customer_classes",
    "margin_backtest",
    "margin_forecast",
    "margin_history",
    "monetary_deciles",
    "pareto_curve",
    "purchase_deciles",
    "revenue_share",
    "rfm",
    "seasonal_index",
    "seasonal_summary",
    "summary",
]
