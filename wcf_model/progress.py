"""Progress of a long run: a bar on a terminal, nothing when the output goes elsewhere.

The library's long functions (:func:`wcf_model.report.write_report`, the
``run`` command) take a ``progress`` callable and call it with the stage they
are starting and the number of stages; they print nothing themselves. The
command line passes a :class:`Bar`, which draws with tqdm on standard error
when that is a terminal and stays silent in a pipe, a log or a test.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

#: Seconds before a bar appears: a run that ends sooner shows nothing.
DELAY = 0.5

#: ``progress(stage, total)``: called as each stage starts.
Progress = Callable[[str, int], None]


def quiet(stage: str, total: int) -> None:
    """A progress callable that shows nothing."""


class Bar:
    """A tqdm bar over the stages of one run, drawn only on a terminal.

    Call it with each stage as it starts; :meth:`close` (or leaving a ``with``
    block) finishes the bar and clears it from the terminal.
    """

    def __init__(self, description: str, enabled: bool | None = None):
        self.description = description
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar = None

    def __call__(self, stage: str, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            import shutil

            from tqdm import tqdm

            # a terminal that reports no size (some consoles, a bare pty) still gets a bar, 80 columns wide
            size = shutil.get_terminal_size((80, 20))
            self._bar = tqdm(total=total, desc=self.description, unit="step", leave=False, file=sys.stderr,
                             ncols=min(size.columns, 120), nrows=max(size.lines, 2), delay=DELAY,
                             bar_format="{desc}: {n_fmt}/{total_fmt} {bar} {elapsed}{postfix}")
        else:
            self._bar.update(1)
        self._bar.set_postfix_str(stage, refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.update(self._bar.total - self._bar.n)
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
