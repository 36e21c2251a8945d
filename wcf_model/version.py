"""The installed version of wcf-model, written into every results file and report.

A room of its own at the bottom of the house, so the modules that stamp their
outputs with it need not import the package's front door (``__init__``).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wcf-model")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
