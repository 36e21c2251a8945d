"""The one exception family of wcf-model.

Every mistake a user can make in their own files (a scenario, a data download,
a command-line argument) raises a subclass of :class:`WcfModelError`. The
command line turns these into a one-paragraph message and exit code 2; any
other exception is a bug in wcf-model and exits 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


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


#: Problems printed for one file; the rest are counted ("... and 1,234 more").
#: :mod:`wcf_model.limits` lists it with every other limit.
MAX_PROBLEMS_SHOWN = 50


def problem_list(problems: Sequence[Problem], where: str = "found") -> str:
    """A count and the problems one a line, at most :data:`MAX_PROBLEMS_SHOWN` of them.

    A file with a hundred thousand bad rows gives a short message that says how
    many there are, not a hundred thousand lines.

    >>> print(problem_list([Problem("s.yaml", 3, "scenario.years", "must be at least 1, got 0")]))
    1 problem found:
      s.yaml:3: scenario.years: must be at least 1, got 0
    """
    n = len(problems)
    lines = [f"{n:,} problem{'s' if n != 1 else ''} {where}:", *(f"  {p}" for p in problems[:MAX_PROBLEMS_SHOWN])]
    if n > MAX_PROBLEMS_SHOWN:
        lines.append(f"  ... and {n - MAX_PROBLEMS_SHOWN:,} more (only the first {MAX_PROBLEMS_SHOWN} are "
                     "shown; fix these and run again to see the rest)")
    return "\n".join(lines)


class ScenarioError(WcfModelError):
    """A scenario file (or a chain of them) is not valid; carries every problem found.

    ``problems`` holds all of them; the message shows the first
    :data:`MAX_PROBLEMS_SHOWN` and counts the rest.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.key, p.message))
        super().__init__(problem_list(self.problems))


class DataError(WcfModelError):
    """A data file is missing, unreadable or not in a layout wcf-model recognises."""


class UsageError(WcfModelError):
    """The command line or an API call was given arguments that cannot work."""


class InputFileError(WcfModelError):
    """An input file that cannot or must not be read: missing, a folder, not a
    regular file (a pipe or a device), unreadable, or over its size limit."""

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


class OutputError(WcfModelError):
    """Outputs that cannot or must not be written where they were asked for:
    over an input, into a system folder, a file where a folder is needed, or
    a write the operating system refused (a full or read-only disk). Nothing
    of the user's has been changed when this is raised."""


class SkippedFileWarning(UserWarning):
    """A file left out of a folder of inputs (not a DfE download wcf-model reads): said, never silent.
    The command line shows it as a note."""
