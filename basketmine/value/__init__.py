"""Customer value: who matters, and what each customer will be worth.

- summaries: :func:`summary` (frequency, recency, T, monetary), :func:`rfm`,
  :func:`monetary_deciles`, :func:`purchase_deciles`, :func:`pareto_curve`,
  :func:`revenue_share`;
"""
from ._forecast import StateTransitionForecast
from ._models import BetaGeo, ConvergenceWarning, GammaGamma, NBD, ParetoNBD
from ._summary import (RFM_SEGMENTS, monetary_deciles, pareto_curve, purchase_deciles, revenue_share,
                       rfm, summary)

__all__ = ["BetaGeo", "ConvergenceWarning", "GammaGamma", "NBD", "ParetoNBD", "RFM_SEGMENTS", "StateTransitionForecast", "monetary_deciles", "pareto_curve", "purchase_deciles", "revenue_share",
           "rfm", "summary"]
