"""wcf-model: open appraisal of how a council delivers its children's services.

The public API is what this module exports; everything else is internal.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wcf-model")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from .errors import DataError, Problem, ScenarioError, UsageError, WcfModelError
from .scenario import Parameter, Scenario, load_scenario

__all__ = [
    "DataError",
    "Parameter",
    "Problem",
    "Scenario",
    "ScenarioError",
    "UsageError",
    "WcfModelError",
    "__version__",
    "load_scenario",
]
