"""basketmine: what else will they buy, and when?

Market-basket and sequence mining from a shop's transaction log.  Encode the
log once as a :class:`TransactionMatrix`, then mine it.
"""
from ._show import inspect
from ._validation import InvalidParameterError, NotFittedError
from .io import read_baskets, read_cdnow, read_csv, read_fimi, read_parquet, read_spmf, write_fimi, write_spmf
from .itemset_array import ItemsetArray, ItemsetDtype, SequenceArray, SequenceDtype
from .itemsets import MiningLimitError, MiningLimitWarning, frequent_itemsets
from .rules import association_rules, rule_value
from .sequences import follow_ups, sequential_patterns
from .transactions import CleaningReport, CustomerSequences, TransactionMatrix
from . import models, plot, report, value
from .models import compare, recommend

__version__ = "0.1.0"

__all__ = sorted([
    "CleaningReport",
    "CustomerSequences",
    "InvalidParameterError",
    "ItemsetArray",
    "ItemsetDtype",
    "MiningLimitError",
    "MiningLimitWarning",
    "NotFittedError",
    "SequenceArray",
    "SequenceDtype",
    "TransactionMatrix",
    "association_rules",
    "compare",
    "follow_ups",
    "frequent_itemsets",
    "inspect",
    "read_baskets",
    "read_cdnow",
    "read_csv",
    "read_fimi",
    "read_parquet",
    "read_spmf",
    "recommend",
    "rule_value",
    "sequential_patterns",
    "write_fimi",
    "write_spmf",
])
