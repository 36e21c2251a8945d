"""wcf-model: open appraisal of how a council delivers its children's services.

The public API is what this module exports; everything else is internal.
"""

from .memory import keep_freed_memory

keep_freed_memory()  # before any array is made: see wcf_model.memory

from .appraisal import appraise, project  # noqa: E402
from .backtest import Backtest, NationalBacktest, backtest, national_backtest
from .discounting import discount_factors
from .errors import DataError, Problem, ScenarioError, UsageError, WcfModelError
from .projection import Projection
from .results import Results
from .scenario import Parameter, Scenario, load_scenario
from .version import __version__

__all__ = [
    "Backtest",
    "DataError",
    "NationalBacktest",
    "Parameter",
    "Problem",
    "Projection",
    "Results",
    "Scenario",
    "ScenarioError",
    "UsageError",
    "WcfModelError",
    "__version__",
    "appraise",
    "backtest",
    "discount_factors",
    "load_scenario",
    "national_backtest",
    "project",
]
