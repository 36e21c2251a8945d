"""The tidy shape of published statistics: one long table, and its codes.

Every reader of the Department for Education's figures gives, and every user
of them takes, one long table, one row per authority, measure and year. The
DfE downloads are read into it by :mod:`wcf_model.dfe` (the scripts' side), the
shipped extract is read by :mod:`wcf_model.data` (the runtime side), and
:mod:`wcf_model.authorities` fills in reorganised authorities' years; this
module holds only what they share: the columns, the authority codes, and
stacking and selecting rows.

=================  ==========================================================
``la_code``        old three-digit code as text (``"885"``); England is
                   ``"E92000001"`` (its ONS code: the DfE files give England no
                   old code, and the wide tables' ``999`` is a placeholder);
                   joint returns keep both codes (``"940/941"``)
``new_la_code``    nine-character ONS code (``"E10000034"``), ``""`` if unknown
``la_name``        name as published (England is ``"England"``)
``region_code``    the region the DfE's tables place the authority in
                   (``"E12000005"``; London is split into Inner and Outer
                   London, ``"E13000001"`` and ``"E13000002"``, as the
                   children's statistics publish it), the same on every row of
                   the authority; ``""`` for England
``region_name``    its name (``"West Midlands"``)
``measure``        a stable name (``cla_at_31_march``; ``data/README.md`` lists them)
``year``           calendar year of ``reference_date`` [int]
``reference_date`` ISO date the figure refers to: the stock date, or the last
                   day of the period a flow is counted over
``value``          the figure [float; NaN when not published]
``marker``         DfE marker when ``value`` is NaN (``c``, ``x``, ``z``, ``low``,
                   ``u``, ``:``, ``..``, ``-``, ``.``; ``blank`` for an empty
                   cell), ``""`` when ``value`` is a number
``unit``           unit of ``value`` (``children``, ``percent``, ``FTE`` ...)
``source_file``    file name the row was read from (``""`` for a figure
                   estimated for a reorganised authority, see
                   :mod:`wcf_model.authorities`)
``publication``    the publication and release it belongs to (or how the
                   estimate was made)
``release``        year of that release [int]; a later release revises earlier
=================  ==========================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .errors import DataError

#: The identifier used for England in both code columns (its ONS code).
ENGLAND = "E92000001"

TIDY_COLUMNS = [
    "la_code",
    "new_la_code",
    "la_name",
    "region_code",
    "region_name",
    "measure",
    "year",
    "reference_date",
    "value",
    "marker",
    "unit",
    "source_file",
    "publication",
    "release",
]

#: The columns that say where an authority is (an extract built before they were added lacks them).
REGION_COLUMNS = ["region_code", "region_name"]


# ---------------------------------------------------------------------------
# Codes
# ---------------------------------------------------------------------------

_OLD = re.compile(r"\d{3}")
_NEW = re.compile(r"[EW]\d{8}")


def normalise_la_code(code: object) -> str:
    """Return the canonical text form of a local authority code.

    Parameters
    ----------
    code : int or str
        An old three-digit code (``885`` or ``"885"``), a new nine-character
        code (``"E10000034"``, any case), ``"England"``, or a joint code as the
        workforce census gives it (``"940 / 941"``).

    Returns
    -------
    str
        ``"885"``, ``"E10000034"``, :data:`ENGLAND` for England, or the parts
        joined by ``/`` for a joint code (``"940/941"``). A new code is not
        translated to an old one: that needs the data (see :func:`load_extract`).

    Raises
    ------
    DataError
        If ``code`` is none of these.
    """
    if isinstance(code, bool):
        raise DataError(_bad_code(code))
    if isinstance(code, (int, np.integer)) or (isinstance(code, float) and code.is_integer()):
        text = str(int(code))
    else:
        text = str(code).strip()
    if " ".join(text.split()).casefold() in {"england", "national", ENGLAND.casefold()}:
        return ENGLAND
    parts = [p.strip().upper() for p in text.split("/")]
    if not all(_OLD.fullmatch(p) or _NEW.fullmatch(p) for p in parts):
        raise DataError(_bad_code(code))
    return "/".join(parts)


def _bad_code(code: object) -> str:
    return (
        f"{code!r} is not a local authority code: expected a three-digit old code such "
        "as 885, a nine-character new code such as E10000034, or 'England'"
    )


# ---------------------------------------------------------------------------
# Tidy frames
# ---------------------------------------------------------------------------


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Fix column order and types, so frames read and re-read compare equal."""
    frame = frame.reindex(columns=TIDY_COLUMNS)
    for col in TIDY_COLUMNS:
        if col in ("year", "release"):
            frame[col] = frame[col].astype("int64")
        elif col == "value":
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        else:
            frame[col] = frame[col].astype(object).fillna("").astype(str)
    return frame


def combine(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Stack tidy frames, keeping the latest release of each figure.

    Parameters
    ----------
    frames : iterable of pandas.DataFrame
        Outputs of :func:`wcf_model.dfe.read_dfe` (or earlier :func:`combine` calls).

    Returns
    -------
    pandas.DataFrame
        One row per (``la_code``, ``measure``, ``year``): the row from the
        highest ``release`` (ties broken by ``source_file`` name so the result
        does not depend on the order of ``frames``). A later release wins even
        where it suppresses a figure an earlier one printed: it is the DfE's
        current word. Blank ``new_la_code`` cells (section 251 has none) are
        filled where the authority's other rows give exactly one new code.
        Every row of an authority carries one region: the one most of its
        rows give (the old wide LA tables and section 251 give none; the
        SEN2 tables place London boroughs in London, the children's tables
        in Inner or Outer London), the lowest code on a tie.
    """
    frames = [f for f in frames if len(f)]
    if not frames:
        return typed(pd.DataFrame(columns=TIDY_COLUMNS))
    stacked = pd.concat(frames, ignore_index=True)
    stacked = stacked.sort_values(["la_code", "measure", "year", "release", "source_file"], kind="mergesort")
    latest = stacked.drop_duplicates(["la_code", "measure", "year"], keep="last")
    known = latest.loc[latest["new_la_code"] != "", ["la_code", "new_la_code"]].drop_duplicates()
    single = known[~known["la_code"].duplicated(keep=False)].set_index("la_code")["new_la_code"]
    blank = latest["new_la_code"] == ""
    latest.loc[blank, "new_la_code"] = latest.loc[blank, "la_code"].map(single).fillna("")
    placed = stacked.loc[stacked["region_code"] != "", ["la_code", *REGION_COLUMNS]]
    counts = placed.value_counts().reset_index(name="rows")
    region = (counts.sort_values(["la_code", "rows", "region_code"], ascending=[True, False, True], kind="mergesort")
              .drop_duplicates("la_code").set_index("la_code"))
    for col in REGION_COLUMNS:
        latest[col] = latest["la_code"].map(region[col]).astype(object).fillna("")
    return typed(latest).reset_index(drop=True)


def series(frame: pd.DataFrame, measure: str) -> pd.Series:
    """One measure of one authority as a series indexed by year.

    Parameters
    ----------
    frame : pandas.DataFrame
        Tidy rows of a single authority (from :func:`load_extract`, or
        :func:`combine` filtered to one ``la_code``).
    measure : str
        The measure name.

    Returns
    -------
    pandas.Series
        Values [in the measure's unit, kept in ``attrs["unit"]``] indexed by
        ``year`` in ascending order; NaN where the figure was not published.

    Raises
    ------
    DataError
        If the measure is absent, the rows cover several authorities, or a
        year appears twice (releases not yet combined).
    """
    rows = frame[frame["measure"] == measure]
    if rows.empty:
        present = ", ".join(sorted(set(frame["measure"])))
        raise DataError(f"no rows for measure {measure!r}; present: {present}")
    if rows["la_code"].nunique() > 1:
        raise DataError(
            f"rows for {measure!r} cover several authorities ({', '.join(sorted(set(rows['la_code'])))}); "
            "select one first, e.g. with load_extract(la_code)"
        )
    if rows["year"].duplicated().any():
        raise DataError(
            f"{measure!r} has several rows for one year (several releases?); pass the frames through combine() first"
        )
    out = pd.Series(
        rows["value"].to_numpy(dtype=float),
        index=pd.Index(rows["year"].to_numpy(dtype="int64"), name="year"),
        name=measure,
    ).sort_index()
    out.attrs["unit"] = rows["unit"].iloc[0]
    return out





def rows_for(frame: pd.DataFrame, la_code: int | str) -> pd.DataFrame:
    """The rows of one authority in a frame of many, by old or new code.

    A new code selects every row of the old code(s) it is recorded against,
    including rows whose source gave no new code (section 251). Empty when the
    frame does not hold the authority.
    """
    code = normalise_la_code(la_code)
    olds = set(frame.loc[(frame["la_code"] == code) | (frame["new_la_code"] == code), "la_code"])
    return frame[frame["la_code"].isin(olds)].reset_index(drop=True)


def region_rows(frame: pd.DataFrame, la_code: int | str) -> pd.DataFrame:
    """The published rows of every authority in the same region as ``la_code``, itself included.

    What a forecast pooled towards the region's rate needs (as the DfE
    publishes regional figures, the region's authorities taken together).
    Empty when the frame names no region for the authority (an extract built
    before regions were added, or England).
    """
    own = rows_for(frame, la_code)
    codes = sorted(set(own["region_code"]) - {""}) if "region_code" in own else []
    if not codes:
        return frame.iloc[:0]
    return frame[(frame["region_code"] == codes[0]) & ~frame["la_code"].str.contains("/", regex=False)
                 ].reset_index(drop=True)
