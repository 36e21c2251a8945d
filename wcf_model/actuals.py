"""What was published since the decision: the actuals file, and the DfE's own figures as actuals.

Monitoring (:mod:`wcf_model.monitoring`) sets figures published or reported
since the decision against the projection. This module gives it those figures,
checked: read from a CSV a council writes (:func:`read_actuals`), or taken from
the shipped extract for the scenario's own authority (:func:`published_actuals`).

The actuals file
----------------
A UTF-8 CSV with one figure a line and these columns (any order):

``measure`` (required)
    A measure the model projects, by the model's name (:data:`~wcf_model.measures.MEASURES`):
    ``cla_closing`` for children looked after at 31 March, not the DfE's
    ``cla_at_31_march``.
``period`` (required)
    The financial year (``"2019-20"``, 1 April 2019 to 31 March 2020) the
    figure's reference date falls in. So a stock at 31 March 2020 and a flow
    over the year to 31 March 2020 are ``2019-20``; so are a census on
    30 September 2019 (social work workforce), in January 2020 (SEN2 EHC
    plans) and the ONS mid-2019 population estimate (30 June 2019). This is
    how the model labels its own years, so the file joins to the projection
    directly. Figures counted over calendar years (new EHC plans) straddle two
    financial years and have no period.
``value`` (required)
    A plain number in the measure's unit (no thousands separators, no ``%``).
    Only signed measures (an overspend, a surplus, a deficit) may be negative.
``source`` (required)
    Where the figure comes from: publication, release, table.
``unit`` (optional)
    If given, it must be the measure's unit (checked, so a share is not read
    as a percentage).
``note`` (optional)
    Anything a reader should know about the figure.
``la_code`` (optional)
    The authority the figures are for (old or new DfE code), the same on every
    line. When given, :func:`~wcf_model.monitoring.compare` refuses to set them against a scenario
    for another authority: a file of one council's figures can never be read
    as another's.

Without a file, :func:`published_actuals` takes the figures the DfE has
published since the base year for the scenario's own authority, from the
shipped extract (what ``scripts/build_actuals.py`` writes to a file).

:func:`read_actuals` checks all of this and reports every problem at once,
each with the file, line and column.
"""


from __future__ import annotations

import csv
import difflib
import io
import re
from pathlib import Path

import pandas as pd

from .errors import DataError, InputFileError, Problem, problem_list
from .formats import years_text
from .limits import MAX_ACTUALS_BYTES, MAX_ACTUALS_ROWS, MAX_CSV_FIELD_CHARS, magnitude_problem, read_limited
from .measures import MEASURES, PUBLISHED, PUBLISHED_NOTES, Measure, lower_first
from .tidy import normalise_la_code

REQUIRED_COLUMNS = ("measure", "period", "value", "source")
OPTIONAL_COLUMNS = ("unit", "note", "la_code")
#: Columns of the frame :func:`read_actuals` returns, in order.
ACTUALS_COLUMNS = ("measure", "period", "value", "unit", "source", "note")

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def period_problem(text: str) -> str | None:
    """None if ``text`` is a financial year label such as ``2019-20``, else what is wrong."""
    m = _PERIOD.match(text)
    if m is None:
        return f"expected a financial year such as 2019-20, got {text!r}" if text else "is empty"
    if (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        return f"{text!r} is not a financial year: the second part must be the year after the first (e.g. 2019-20)"
    return None


# ---------------------------------------------------------------------------
# Reading an actuals file
# ---------------------------------------------------------------------------


def _unknown_measure(name: str) -> str:
    if not name:
        return "is empty"
    dfe = {v: k for k, v in PUBLISHED.items()}
    if name in dfe:
        return f"{name!r} is the DfE's name: use the model's name {dfe[name]!r}"
    close = difflib.get_close_matches(name, list(MEASURES), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see wcf_model.measures.MEASURES"
    return f"unknown measure {name!r}{hint}"


def _check_value(text: str, measure: Measure | None) -> tuple[float | None, str | None]:
    if not text:
        return None, "is empty: give a number (leave the line out if the figure was not published)"
    if not _NUMBER.match(text):
        hint = " (write numbers without thousands separators, % or £)" if re.search(r"[,%£$]", text) else ""
        return None, f"{text!r} is not a number{hint}"
    value = float(text)
    if (why := magnitude_problem(value)) is not None:
        return None, f"{text!r} {why}"
    if measure is not None and value < 0 and not measure.signed:
        return None, f"{text} is negative; {lower_first(measure.words)} cannot be"
    if measure is not None and measure.unit == "percent" and value > 100:
        return None, f"{text} is over 100 but the unit is percent"
    return value, None


def _rows(text: str, name: str):
    """(line number the record starts on, fields) for each non-empty CSV record.

    Raises
    ------
    DataError
        At the first field longer than :data:`~wcf_model.limits.MAX_CSV_FIELD_CHARS`
        (the csv module's own limit, 131,072, is far above it), or a record
        the csv module cannot read (a NUL byte), naming the line.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    last = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:  # a field past the csv module's limit, a NUL byte
            raise DataError(f"{name}:{last + 1}: cannot read this line as CSV ({err}); a field holds at most "
                            f"{MAX_CSV_FIELD_CHARS:,} characters") from None
        start, last = last + 1, reader.line_num
        for i, field in enumerate(fields, start=1):
            if len(field) > MAX_CSV_FIELD_CHARS:
                raise DataError(f"{name}:{start}: field {i} is {len(field):,} characters long; a field of an "
                                f"actuals file holds at most {MAX_CSV_FIELD_CHARS:,} characters (a missing "
                                "closing quote makes one field of the rest of the file)")
        if any(f.strip() for f in fields):
            yield start, [f.strip() for f in fields]


def read_actuals(path: str | Path) -> pd.DataFrame:
    """Read and check an actuals file.

    Parameters
    ----------
    path : str or Path
        A UTF-8 CSV in the format described in this module's docstring.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ACTUALS_COLUMNS`: ``measure``, ``period`` (financial
        year label), ``value`` (float, in ``unit``), ``unit`` (the measure's
        unit, filled in where the file leaves it out), ``source``, ``note``
        (``""`` when none), in the file's order. ``attrs["path"]`` is the file.

    Raises
    ------
    DataError
        If the file is missing, not a regular file, over the limits of
        :mod:`wcf_model.limits` (bytes, lines, characters in a field), not
        UTF-8, or has any problem: unknown or missing columns, unknown
        measures, bad periods, values that are not finite non-negative numbers
        (at most 1e15), a unit that is not the measure's, an empty source, or
        a measure and period given twice. The message lists the problems, one
        a line, as ``FILE:LINE: column: what is wrong`` (the first 50, then a
        count); the exception's ``problems`` attribute holds all of them as
        :class:`~wcf_model.errors.Problem` objects.
    """
    name = str(path)
    path = Path(path)
    try:
        raw = read_limited(path, MAX_ACTUALS_BYTES, "an actuals file")
    except InputFileError as exc:
        if exc.reason == "file not found":
            raise DataError(f"no actuals file at {name}") from None
        raise DataError(f"actuals file {exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(f"{name}:{line}: the file is not UTF-8 (byte {err.start}); save it as UTF-8 CSV") from None

    problems: list[Problem] = []
    records = []
    for record in _rows(text, name):
        records.append(record)
        if len(records) > MAX_ACTUALS_ROWS + 1:
            raise DataError(f"{name}: more than {MAX_ACTUALS_ROWS:,} figures; an actuals file holds at most "
                            f"{MAX_ACTUALS_ROWS:,} (one a line), is it the right file?")
    if not records:
        raise DataError(f"{name}: the file is empty; the first line must name the columns "
                        f"{', '.join(REQUIRED_COLUMNS)} (and optionally {', '.join(OPTIONAL_COLUMNS)})")
    header_line, header = records[0]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    for col in header:
        if col not in known:
            problems.append(Problem(name, header_line, col or "(blank)",
                                    f"unknown column; the columns are {', '.join(REQUIRED_COLUMNS)} "
                                    f"and optionally {', '.join(OPTIONAL_COLUMNS)}"))
    for col in sorted({c for c in header if header.count(c) > 1}):
        problems.append(Problem(name, header_line, col, "column appears more than once"))
    for col in REQUIRED_COLUMNS:
        if col not in header:
            problems.append(Problem(name, header_line, col, "required column is missing"))
    index = {c: header.index(c) for c in known if c in header}

    rows, seen, codes = [], {}, {}
    for line, fields in records[1:]:
        if len(fields) != len(header):
            problems.append(Problem(name, line, "", f"{len(fields)} fields but the header has {len(header)}"))
            continue
        get = {c: fields[i] for c, i in index.items()}
        bad = []
        measure = MEASURES.get(get.get("measure", ""))
        if "measure" in get and measure is None:
            bad.append(("measure", _unknown_measure(get["measure"])))
        if "period" in get and (why := period_problem(get["period"])):
            bad.append(("period", why))
        value = None
        if "value" in get:
            value, why = _check_value(get["value"], measure)
            if why:
                bad.append(("value", why))
        if "source" in get and not get["source"]:
            bad.append(("source", "is empty: say where the figure comes from (publication, release, table)"))
        unit = get.get("unit", "")
        if measure is not None and unit and unit.casefold() != measure.unit.casefold():
            bad.append(("unit", f"{unit!r} is not the unit of {measure.name}, which is {measure.unit!r}"))
        key = (get.get("measure"), get.get("period"))
        if None not in key and key in seen:
            bad.append(("period", f"{key[0]} for {key[1]} is already given on line {seen[key]}"))
        seen.setdefault(key, line)
        problems += [Problem(name, line, col, why) for col, why in bad]
        if "la_code" in get:
            try:
                code = normalise_la_code(get["la_code"])
            except DataError as err:
                bad.append(("la_code", str(err)))
            else:
                codes.setdefault(code, line)
        if not bad and all(c in index for c in REQUIRED_COLUMNS):
            rows.append({"measure": measure.name, "period": get["period"], "value": value,
                         "unit": measure.unit, "source": get["source"], "note": get.get("note", "")})
    if len(records) == 1:
        problems.append(Problem(name, None, "", "the file has a header but no figures"))
    if len(codes) > 1:
        first, *others = codes.items()
        problems += [Problem(name, line, "la_code", f"{code} differs from {first[0]} on line {first[1]}: a file holds "
                                                    "one authority's figures") for code, line in others]
    if problems:
        problems = sorted(set(problems), key=lambda p: (p.line or 0, p.key, p.message))
        err = DataError(problem_list(problems, f"in actuals file {name}"))
        err.problems = problems
        raise err
    frame = pd.DataFrame(rows, columns=list(ACTUALS_COLUMNS))
    frame["value"] = frame["value"].astype("float64")
    frame.attrs["path"] = name
    frame.attrs["la_code"] = next(iter(codes), None)
    return frame


def check_authority(actuals: pd.DataFrame, sc) -> None:
    """Refuse actuals for another authority than the scenario's.

    Raises
    ------
    DataError
        Naming both authorities, when the actuals' ``la_code`` is not the scenario's.
    """
    from .data import load_frame
    from .tidy import rows_for

    theirs, ours = actuals.attrs.get("la_code"), normalise_la_code(sc.header.authority.la_code)
    if theirs is None or theirs == ours:
        return
    frame = load_frame()  # old and new codes of the same authority are the same authority
    a, b = rows_for(frame, theirs), rows_for(frame, ours)
    if len(a) and len(b) and set(a["la_code"]) == set(b["la_code"]):
        return
    who = f"{a['la_name'].iloc[-1]} ({theirs})" if len(a) else theirs
    raise DataError(f"{actuals.attrs.get('path') or 'the actuals'} holds figures for {who}, but the scenario is for "
                    f"{sc.header.authority.name} ({ours}): give that authority's actuals, or none to take its "
                    "published figures from the data")


def _date_words(iso: str) -> str:
    import datetime as dt

    d = dt.date.fromisoformat(iso)
    if d.month == 1 and d.day == 15:  # SEN2: the census day moves; the extract records 15 January
        return f"January {d.year}"
    return f"{d.day} {d:%B} {d.year}"


def published_actuals(la_code: int | str, first: str, last: str,
                      data_dir: str | Path | None = None) -> tuple[pd.DataFrame, list[str]]:
    """An authority's published figures as actuals, for the financial years ``first`` to ``last``.

    Parameters
    ----------
    la_code : int or str
        The authority (old or new code).
    first, last : str
        Financial years, e.g. ``"2019-20"``, ``"2024-25"``.
    data_dir : str or Path, optional
        Folder holding ``dfe_extract.csv.gz`` (``data/`` by default).

    Returns
    -------
    (DataFrame, list of str)
        The actuals (columns :data:`ACTUALS_COLUMNS`, ``attrs`` ``la_code`` and
        ``path``), each labelled with the financial year its reference date falls
        in (:data:`~wcf_model.measures.PUBLISHED` says which DfE measure each model measure is); and a
        line for each figure the DfE did not publish (suppressed, not available),
        which is left out, never written as zero.
    """
    import datetime as dt

    from .data import load_extract
    from .formats import financial_year_of

    extract = load_extract(la_code, list(dict.fromkeys(PUBLISHED.values())), data_dir=data_dir)
    rows, skipped = [], []
    for measure, published in PUBLISHED.items():
        found = extract[extract["measure"] == published].sort_values("reference_date")
        unit = MEASURES[measure].unit
        for r in found.itertuples():
            period = financial_year_of(dt.date.fromisoformat(r.reference_date))
            if not first <= period <= last:
                continue
            if r.unit != unit:
                raise DataError(f"{published} is in {r.unit!r} in the extract but {measure} is in {unit!r}")
            if pd.isna(r.value):
                skipped.append(f"{measure} {period}: not published ({r.marker or 'blank'}) in {r.source_file}")
                continue
            rows.append({
                "measure": measure, "period": period, "value": float(r.value), "unit": unit,
                "source": f"{'' if 'DfE' in r.publication else 'DfE, '}{r.publication} ({r.source_file})",
                "note": PUBLISHED_NOTES[measure].format(date=_date_words(r.reference_date)),
            })
    frame = pd.DataFrame(rows, columns=list(ACTUALS_COLUMNS))
    frame["value"] = frame["value"].astype("float64")
    frame.attrs.update(path=f"the published statistics for LA {extract['la_code'].iloc[0]}",
                       la_code=str(extract["la_code"].iloc[0]))
    return frame, skipped


def require_periods(actuals: pd.DataFrame, years: list[str]) -> None:
    """Refuse an actuals file none of whose figures falls in the projection's years.

    Checked as soon as the file is read, before any appraisal: such a file
    can compare nothing, and a report that said "None." under monitoring would
    hide it. Figures outside the years when others are inside are listed by
    :func:`~wcf_model.monitoring.compare` (``not_compared``), not refused.

    Raises
    ------
    DataError
        Naming the file, its periods and the projection's years.
    """
    periods = sorted(set(actuals["period"]))
    if periods and not set(periods) & set(years):
        raise DataError(f"{actuals.attrs.get('path') or 'the actuals'}: none of its {len(actuals)} figure(s) falls "
                        f"in the projection's years ({years[0]} to {years[-1]}); its periods are "
                        f"{years_text(periods)}. Is it the file for this scenario?")


