"""Freed memory is kept for the next run (wcf_model.memory), and the user's own settings win."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wcf_model.memory import _glibc, keep_freed_memory

REPO = Path(__file__).resolve().parents[1]
GLIBC = _glibc()

#: A second round of the arrays a 10,000-draw run makes and frees: 200 arrays of 10,000 x 10 numbers
#: (800 kB each, 160 MB in all), held together and freed together, as an appraisal's results are.
ROUNDS = textwrap.dedent("""
    import resource, sys
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    import wcf_model  # noqa: F401  (what importing it sets is what is measured)

    def round_():
        held = [np.ones((10_000, 10)) for _ in range(200)]
        del held

    round_()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    round_()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def _second_round_faults(env: dict[str, str]) -> int:
    out = subprocess.run([sys.executable, "-c", ROUNDS, str(REPO)], env=env, capture_output=True, text=True,
                         check=True)
    return int(out.stdout)


@pytest.mark.skipif(not GLIBC, reason="the allocator settings are the GNU C library's (Linux)")
def test_a_second_run_reuses_the_memory_the_first_freed():
    # 160 MB is 39,000 pages of 4 kB. With the C library's defaults the freed top of the heap goes back
    # to the system and every page faults again (about 39,000 faults); kept, the second round finds its
    # pages in place: a handful of faults, whatever the machine.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    kept = _second_round_faults(env)
    # the user's own setting (here the C library's default trim threshold, 128 kB) is left to decide
    default = _second_round_faults({**env, "MALLOC_TRIM_THRESHOLD_": str(128 * 1024)})
    pages = 200 * 10_000 * 10 * 8 // 4096
    assert kept < pages // 20
    assert default > pages // 2


def test_the_users_own_allocator_settings_are_left_alone(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    assert keep_freed_memory() is False
