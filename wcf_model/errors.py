"""The one exception family of wcf-model.

Every mistake a user can make in their own files (a scenario, a data download,
a command-line argument) raises a subclass of :class:`WcfModelError`. The
command line turns these into a one-paragraph message and exit code 2; any
other exception is a bug in wcf-model and exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass


class WcfModelError(Exception):
    """Base class for every error wcf-model raises on purpose."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can.

    Attributes
    ----------
    file : str
        Path of the file the problem is in, as the user named it.
    line : int or None
        1-based line number, or None when the problem is about the whole file.
    key : str
        Dotted key inside the file (``parameters.demand.referral_rate``), or ``""``.
    message : str
        What is wrong, saying what was expected and what was found.
    """

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class ScenarioError(WcfModelError):
    """A scenario file (or a chain of them) is not valid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.key, p.message))
        super().__init__(self._summary())

    def _summary(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class DataError(WcfModelError):
    """A data file is missing, unreadable or not in a layout wcf-model recognises."""


class UsageError(WcfModelError):
    """The command line or an API call was given arguments that cannot work."""
