"""Every limit wcf-model puts on what it reads and does, stated once.

A scenario, a workbook or an actuals file may come from anyone, so nothing in
one may make wcf-model hang, exhaust memory or print without end. Each limit
below is checked *before* the work it protects, against the thing itself (bytes
actually read, aliases as they are expanded, a zip's own record of its
contents), never by a timeout. They are generous: the largest shipped file uses
a few per cent of each. The README's "Limits" section lists them for users.

:func:`read_limited` is the one way input files are read: it opens only
regular files (a FIFO would block for ever and ``/dev/zero`` never ends; both
report a size of 0) and reads at most a stated number of bytes, whatever the
file system says its size is.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import MAX_PROBLEMS_SHOWN, InputFileError  # noqa: F401  (listed here with every limit)

# -- scenario files (YAML) ------------------------------------------------------

#: Bytes of YAML in a scenario and every file it extends, together. The
#: shipped Worcestershire chain is about 67,000 bytes.
MAX_SCENARIO_BYTES = 1_000_000
#: YAML nodes (mappings, lists and values) in a scenario and the files it
#: extends, counting every use of an alias as a full copy of what it names. The
#: largest shipped file has 1,300. This is what stops a "billion laughs" file
#: (nested aliases) before it is expanded.
MAX_YAML_NODES = 50_000
#: How deeply mappings and lists may nest. The shipped files nest 8 deep.
MAX_YAML_DEPTH = 30
#: Files in an ``extends`` chain, the scenario itself included (shipped: 3).
MAX_EXTENDS_CHAIN = 10
#: The largest size of any number in a scenario, an assumptions workbook, an
#: actuals file or on the command line. A council's whole budget is under 1e10
#: pounds; larger figures are typing mistakes, and beyond about 1e300 the
#: arithmetic overflows to infinity.
MAX_MAGNITUDE = 1e15

# -- assumptions workbooks (.xlsx) ----------------------------------------------

#: Bytes of the .xlsx file itself (a zip archive). An exported workbook is about 30,000.
MAX_WORKBOOK_BYTES = 20_000_000
#: Bytes once decompressed, as recorded in the zip's directory (Python's zip
#: reader stops at the recorded size, so a member cannot exceed it). This is
#: what stops a zip bomb: a small file that decompresses to gigabytes.
MAX_WORKBOOK_UNCOMPRESSED = 50_000_000
#: Parts (files) in the archive; an exported workbook has 22.
MAX_WORKBOOK_PARTS = 1_000
#: Rows, columns and cells of any one sheet, counted from the sheet's XML
#: before the workbook is loaded. An exported workbook has about 100 rows,
#: 16 columns and 5,000 cells in all.
MAX_WORKBOOK_ROWS = 10_000
MAX_WORKBOOK_COLUMNS = 200
MAX_WORKBOOK_CELLS = 200_000

# -- actuals files (CSV) --------------------------------------------------------

#: Bytes of an actuals file. The shipped Worcestershire file is about 12,000.
MAX_ACTUALS_BYTES = 5_000_000
#: Figures (lines) in an actuals file: every measure for 60 years is under 3,000.
MAX_ACTUALS_ROWS = 50_000
#: Characters in one field of an actuals file (a source or a note).
MAX_CSV_FIELD_CHARS = 10_000

# -- DfE downloads -----------------------------------------------------------------

#: Bytes of one DfE statistics download; the largest national table is about 30 MB.
MAX_DFE_FILE_BYTES = 500_000_000

# -- work ----------------------------------------------------------------------------

#: Memory the Monte Carlo arrays of one appraisal may take [bytes]. The draws a
#: run may ask for follow from what each draw of its scenario needs (measured
#: from the central run: years x options x lines); 2,000 draws of the 2019
#: Worcestershire case need about 80 MB.
MAX_DRAWS_MEMORY = 2 * 1024**3
#: Draws, whatever the scenario: beyond this the percentiles no longer move.
MAX_DRAWS = 1_000_000
#: Largest seed (seeds are whole numbers from 0).
MAX_SEED = 2**63 - 1

# -- messages ----------------------------------------------------------------------

# MAX_PROBLEMS_SHOWN, the problems printed for one file (the rest are counted: "... and 1,234
# more"), is defined in wcf_model.errors beside the message that counts them, and imported above.


def _kind(mode: int) -> str:
    for test, word in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return word
    return "not an ordinary file"


def read_limited(path: str | Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file, refusing anything else and anything over ``limit`` bytes.

    Parameters
    ----------
    path : str or Path
        The file, as the user named it (used in messages).
    limit : int
        Most bytes to accept [bytes]. At most ``limit + 1`` are ever read.
    what : str
        What the file should be, for messages ("a scenario file (.yaml)").

    Raises
    ------
    InputFileError
        The file is missing, a folder, not a regular file (a FIFO, a device, a
        socket: opening or reading them can block or never end), unreadable,
        or larger than ``limit``.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise InputFileError(path, f"is a folder; expected {what}")
    if not stat.S_ISREG(mode):
        raise InputFileError(path, f"is not a regular file but {_kind(mode)}; only ordinary files are read")
    # O_NONBLOCK: should the path be swapped for a FIFO after the check above,
    # opening it still returns at once, and fstat below refuses it.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputFileError(path, f"cannot open it ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputFileError(path, f"is not a regular file but {_kind(mode)}; only ordinary files are read")
        chunks, total = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise InputFileError(path, f"is over {limit:,} bytes, and {what} is at most {limit:,} bytes "
                                           "(see Limits in the README); is it the right file?")
    except OSError as exc:
        raise InputFileError(path, f"cannot read it ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def magnitude_problem(value: float | int) -> str | None:
    """None if ``value`` is a finite number no larger than :data:`MAX_MAGNITUDE` in size, else why not.

    >>> magnitude_problem(833) is None
    True
    >>> magnitude_problem(1e308)
    'is 1e+308; numbers are at most 1e+15 in size (is it a typing mistake?)'
    """
    try:
        size = abs(float(value))
    except OverflowError:          # an integer too large for a float (str() of it may be refused too)
        digits = int(abs(int(value)).bit_length() * 0.30103) + 1
        return f"is a whole number of about {digits:,} digits; numbers are at most {MAX_MAGNITUDE:g} in size"
    if size != size or size == float("inf"):
        return f"is {value!r}; expected a finite number"
    if size > MAX_MAGNITUDE:
        return f"is {float(value):g}; numbers are at most {MAX_MAGNITUDE:g} in size (is it a typing mistake?)"
    return None
