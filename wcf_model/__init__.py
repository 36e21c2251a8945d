"""wcf-model: open appraisal of how a council delivers its children's services.

The public API is what this module exports; everything else is internal.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wcf-model")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from .backtest import Backtest, NationalBacktest, backtest, national_backtest
from .discounting import discount_factors
from .errors import DataError, Problem, ScenarioError, UsageError, WcfModelError
from .model import Projection, project
from .results import Results, appraise
from .scenario import Parameter, Scenario, load_scenario

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
