"""How the process keeps the memory the engine frees, so the next run reuses it.

A Monte Carlo run makes several hundred ``(draws, years)`` arrays: at 10,000
draws and ten years each is 800 kB, and the appraisal it returns holds about
400 MB of them. With its default settings the GNU C library hands memory back
to the operating system as soon as the top of the heap has more than a few
megabytes free, and serves each array of more than 128 kB with a mapping of
its own that is unmapped when the array goes. Either way the next run must
have every page of its arrays supplied afresh by the kernel, each at the cost
of a page fault: measured, 100,000 faults a run, half of the run's time.

:func:`keep_freed_memory` asks the C library to serve arrays of up to 32 MiB
(the ceiling its own dynamic rule reaches) from the heap and to keep up to
1 GiB of freed heap for reuse, so a second run, a sensitivity analysis or the
next authority of a sweep finds its pages already there. Nothing is computed
differently and the peak memory of a run is unchanged; the cost is that a
long-lived process (a notebook's kernel) keeps up to its largest run's memory
until it ends, as most numerical software does.

It is applied once, when :mod:`wcf_model` is imported, and only where it can
be: on the GNU C library (Linux), and only when the user has not set the
library's own ``MALLOC_*`` environment variables, which then decide alone.
Elsewhere (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import os

#: Arrays up to this size come from the heap, not a mapping of their own [bytes]
#: (glibc's ``M_MMAP_THRESHOLD``; 32 MiB is the most its dynamic rule allows on 64-bit).
MMAP_THRESHOLD_BYTES = 32 * 1024**2
#: Freed heap kept for reuse before any is returned to the system [bytes] (glibc's
#: ``M_TRIM_THRESHOLD``): above the 400 MB a 10,000-draw appraisal of the 2019 case holds.
TRIM_THRESHOLD_BYTES = 1024**3

# mallopt parameter numbers, from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> bool:
    """Set the C library's allocator to keep freed memory for reuse; whether it was set.

    False where there is no GNU C library ``mallopt`` or the user's own
    ``MALLOC_*`` environment variables are set.
    """
    if any(name.startswith("MALLOC_") for name in os.environ) or not _glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter itself is linked with
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success; setting the mapping threshold first keeps glibc from raising it again itself
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))


def _glibc() -> bool:
    """Whether this process runs on the GNU C library (whose ``mallopt`` numbers are those above)."""
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):
        return False


__all__ = ["keep_freed_memory"]
