"""Monitoring: what was published, against what the business case projected.

Once an option is live, scrutiny asks how the service is doing against the
business case. This module reads a file of *actuals* (published or locally
reported figures), joins them to an appraisal's projected bands for the option
that was chosen, and says, measure by measure and year by year, how far the
actual was from the projected median and whether it fell outside the
projection's 10th-90th percentile band.

The actuals file
----------------
A UTF-8 CSV with one figure a line and these columns (any order):

``measure`` (required)
    A measure the model projects, by the model's name (:data:`MEASURES`):
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
    line. When given, :func:`compare` refuses to set them against a scenario
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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .catalogue import STAFF_ROLES, sentence_case, word
from .data import normalise_la_code
from .errors import DataError, InputFileError, Problem, UsageError, problem_list
from .formats import RANGE
from .limits import MAX_ACTUALS_BYTES, MAX_ACTUALS_ROWS, MAX_CSV_FIELD_CHARS, magnitude_problem, read_limited

# ---------------------------------------------------------------------------
# What can be monitored
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """A figure an actuals file may hold.

    Attributes
    ----------
    name : str
        The model's measure name (as in ``Results.caseloads``).
    words : str
        What it is, capitalised, for titles and tables.
    unit : str
        The unit its values are in.
    kind : str
        ``"stock"`` (at 31 March, the end of the period), ``"flow"`` (over the
        period), ``"census"`` (on a census date inside the period) or
        ``"share"`` (a ratio of two figures on the same date).
    when : str
        When in each financial year the figure refers to, in words.
    signed : bool
        Whether the figure may be negative (a surplus that is a deficit, an
        underspend written as a negative overspend).
    not_projected : str
        Why the model projects no counterpart, for measures it never projects.
    """

    name: str
    words: str
    unit: str
    kind: str
    when: str = ""
    signed: bool = False
    not_projected: str = ""


_STOCKS = {
    "cin": ("Children in need", "children", "children starting to be in need", "children ceasing to be in need"),
    "cpp": ("Children on child protection plans", "children", "child protection plans started",
            "child protection plans ended"),
    "cla": ("Children looked after", "children", "Children starting to be looked after",
            "Children ceasing to be looked after"),
    "care_leavers_18_21": ("Care leavers aged 18-21", "people", "care leavers turning 18",
                           "care leavers ageing out of 18-21"),
    "care_leavers_22_25": ("Care leavers aged 22-25", "people", "care leavers turning 22",
                           "care leavers ageing out of 22-25"),
    "ehcp": ("EHC plans in force", "plans", "New EHC plans", "EHC plans ceased"),
}

def _catalogue() -> dict[str, Measure]:
    over, workforce = "over each financial year", "at the 30 September workforce census in each financial year"
    out = [
        Measure("population_0_17", "Children aged 0-17", "children", "census",
                "at 30 June (ONS mid-year estimate) in each financial year"),
        Measure("referrals", "Referrals to children's social care", "referrals", "flow", over),
        Measure("rereferrals", "Re-referrals within 12 months", "referrals", "flow", over),
        Measure("early_help", "Early help episodes started", "episodes", "flow", over),
    ]
    for stock, (words, unit, starts, exits) in _STOCKS.items():
        closing = words if stock == "ehcp" else f"{words} at 31 March"
        at = "at the January census in each financial year" if stock == "ehcp" else "at 31 March, each year's end"
        out += [Measure(f"{stock}_closing", closing, unit, "stock", at),
                Measure(f"{stock}_starts", starts[0].upper() + starts[1:], unit, "flow", over),
                Measure(f"{stock}_exits", exits[0].upper() + exits[1:], unit, "flow", over)]
    for role in STAFF_ROLES:
        words = sentence_case(word("role", role))
        out += [Measure(f"{role}_in_post_fte", f"{words} in post (FTE)", "FTE", "census", workforce),
                Measure(f"{role}_agency_fte", f"Agency {words.lower()} (FTE)", "FTE", "census", workforce),
                Measure(f"{role}_posts_fte", f"{words}: posts (FTE)", "FTE", "census", workforce),
                Measure(f"{role}_agency_percent", f"Agency share of {words.lower()}", "percent", "share",
                        workforce)]
    out.append(Measure("cash", "Cash cost of the option", "GBP", "flow", over))
    # The money of a company that runs the service (a company or trust option)
    out += [
        Measure("gross_spend", "Gross spending of the company", "GBP", "flow",
                "over each financial year (outturn, or a forecast outturn where the year was not over), cash"),
        Measure("gross_budget", "Gross budget of the company", "GBP", "flow", "for each financial year, cash",
                not_projected="the business case costs the service; it sets no budget for the company "
                              "(give finance.budget_envelope to compare one)"),
        Measure("outturn_variance", "Overspend against budget", "GBP", "flow",
                "over each financial year, cash (an underspend is negative)", signed=True,
                not_projected="an overspend is measured against a budget the business case does not set"),
        Measure("company_surplus", "Company surplus before tax", "GBP", "flow",
                "over each financial year, cash (a deficit is negative)", signed=True),
        Measure("corporation_tax", "Corporation tax paid by the company", "GBP", "flow",
                "on each financial year's profits, cash"),
        Measure("staff_fte", "Staff employed by the company (FTE)", "FTE", "census", "at a date inside each "
                "financial year", not_projected="the model counts the social workers, managers and reviewing "
                "officers the caseloads need, not every member of the company's staff"),
        Measure("dsg_high_needs_cumulative_deficit", "DSG high-needs deficit carried", "GBP", "stock",
                "at 31 March, each year's end, cash (a surplus is negative)", signed=True),
    ]
    return {m.name: m for m in out}


#: Every measure an actuals file may hold, by the model's name.
MEASURES: Mapping[str, Measure] = _catalogue()

#: Model measure -> the DfE extract measure (``wcf_model.data``) it is compared
#: with. The years line up as in :data:`wcf_model.backtest.COMPARED`.
PUBLISHED: Mapping[str, str] = {
    "population_0_17": "population_0_17",
    "referrals": "referrals",
    "rereferrals": "rereferrals",
    "cin_closing": "cin_at_31_march",
    "cpp_closing": "cpp_at_31_march",
    "cla_closing": "cla_at_31_march",
    "cla_starts": "cla_starts",
    "cla_exits": "cla_ceased",
    "ehcp_closing": "ehcp_total",
    "social_worker_in_post_fte": "sw_case_holders_fte",
    "social_worker_agency_percent": "sw_agency_percent",
}

REQUIRED_COLUMNS = ("measure", "period", "value", "source")
OPTIONAL_COLUMNS = ("unit", "note", "la_code")
#: Columns of the frame :func:`read_actuals` returns, in order.
ACTUALS_COLUMNS = ("measure", "period", "value", "unit", "source", "note")
#: Columns of the frame :func:`compare` returns, in order.
COMPARISON_COLUMNS = ("measure", "period", "actual", "projected", "p10", "p90", "variance", "variance_pct",
                      "outside_band", "direction")

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


def _lower_first(words: str) -> str:
    """``"Children in need"`` -> ``"children in need"``, but ``"EHC plans"`` stays."""
    return words[:1].lower() + words[1:] if words[1:2].islower() else words


def _unknown_measure(name: str) -> str:
    if not name:
        return "is empty"
    dfe = {v: k for k, v in PUBLISHED.items()}
    if name in dfe:
        return f"{name!r} is the DfE's name: use the model's name {dfe[name]!r}"
    close = difflib.get_close_matches(name, list(MEASURES), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see wcf_model.monitoring.MEASURES"
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
        return None, f"{text} is negative; {_lower_first(measure.words)} cannot be"
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
    from .data import load_frame, rows_for

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


#: Model measure -> what the published figure is, for an actual's note ({date} is its reference date).
PUBLISHED_NOTES = {
    "population_0_17": "ONS mid-year estimate of children aged 0-17, {date}",
    "referrals": "referrals to children's social care in the year to {date} (CIN census table C1)",
    "rereferrals": "re-referrals within 12 months of a previous referral, year to {date} (table C1)",
    "cin_closing": "children in need at {date} (CIN census table B1)",
    "cpp_closing": "children on child protection plans at {date} (CIN census table D5)",
    "cla_closing": "children looked after at {date} (SSDA903)",
    "cla_starts": "children who started to be looked after in the year to {date} (SSDA903)",
    "cla_exits": "children who ceased to be looked after in the year to {date} (SSDA903)",
    "ehcp_closing": "statements and EHC plans in force at the January census, {date} (SEN2, all ages)",
    "social_worker_in_post_fte": (
        "case-holding children's social workers (FTE) at the {date} workforce census: "
        "the published figure the model's social workers in post are compared with (as in back-tests)"),
    "social_worker_agency_percent": (
        "agency social workers as a percentage of agency plus in post, all children's social workers, "
        "{date} workforce census"),
}


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
        in (:data:`PUBLISHED` says which DfE measure each model measure is); and a
        line for each figure the DfE did not publish (suppressed, not available),
        which is left out, never written as zero.
    """
    import datetime as dt

    from .data import load_extract
    from .schema import financial_year_of

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
    :func:`compare` (``not_compared``), not refused.

    Raises
    ------
    DataError
        Naming the file, its periods and the projection's years.
    """
    periods = sorted(set(actuals["period"]))
    if periods and not set(periods) & set(years):
        raise DataError(f"{actuals.attrs.get('path') or 'the actuals'}: none of its {len(actuals)} figure(s) falls "
                        f"in the projection's years ({years[0]} to {years[-1]}); its periods are "
                        f"{_period_text(periods)}. Is it the file for this scenario?")


# ---------------------------------------------------------------------------
# Projected bands for one option
# ---------------------------------------------------------------------------

#: The projection's band and median [percent]: the report's range (formats.RANGE).
BAND_PERCENTILES = (RANGE[0], 50, RANGE[1])


def _percentile_rows(values: Mapping[str, np.ndarray], years: list[str]) -> list[dict]:
    rows = []
    for measure, v in values.items():
        pct = np.percentile(v, BAND_PERCENTILES, axis=0)
        rows += [{"measure": measure, "period": year, "p10": pct[0, t], "p50": pct[1, t], "p90": pct[2, t]}
                 for t, year in enumerate(years)]
    return rows


def projected_bands(results, option: str | None = None) -> pd.DataFrame:
    """The projection's 10th, 50th and 90th percentiles for one option.

    Parameters
    ----------
    results : Results or pandas.DataFrame
        An appraisal (:func:`wcf_model.appraise`), or a table of bands with
        columns ``measure``, ``year`` (or ``period``), ``p10``, ``p50``,
        ``p90`` and optionally ``option`` (the layout of
        ``Results.caseloads``).
    option : str, optional
        The option to monitor; the scenario's baseline by default. A table of
        bands with one option (or no ``option`` column) needs none.

    Returns
    -------
    pandas.DataFrame
        Columns ``measure``, ``period``, ``p10``, ``p50``, ``p90`` [each in the
        measure's unit]. From an appraisal: every caseload and staff measure,
        each role's agency share (``<role>_agency_percent``, agency FTE / FTE in
        post x 100, computed draw by draw), the option's ``cash`` [GBP,
        nominal] and, where the option has them, the money measures of
        :func:`money_measures`. ``attrs`` holds ``option``, ``option_label``, ``authority``
        and ``draws``.

    Raises
    ------
    UsageError
        If the option is not in the results (the message lists those that are).
    """
    if isinstance(results, pd.DataFrame):
        return _bands_from_table(results, option)
    a = results.uncertain
    sc = results.scenario
    option = a.baseline if option is None else option
    if option not in a.options:
        raise UsageError(f"option {option!r} is not in the appraisal; its options are {', '.join(a.options)}")
    values = dict(a.options[option].projection.measures())
    for role in STAFF_ROLES:
        agency, in_post = values.get(f"{role}_agency_fte"), values.get(f"{role}_in_post_fte")
        if agency is not None and in_post is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                values[f"{role}_agency_percent"] = np.where(in_post > 0, agency / in_post * 100, np.nan)
    values["cash"] = a.options[option].financial_total
    values.update(money_measures(a.options[option], a.nominal_index))
    out = pd.DataFrame(_percentile_rows(values, list(a.years)))
    out.attrs.update(option=option, option_label=sc.options[option].label, authority=sc.header.authority.name,
                     draws=a.draws)
    return out


def money_measures(result, nominal_index: np.ndarray) -> dict[str, np.ndarray]:
    """The projected money an actuals file can be held against, for one option [GBP, cash], ``(draws, years)``.

    ``gross_spend``: what a company or trust spends, its turnover (the lines it
    buys, its own costs and its irrecoverable VAT); ``company_surplus`` and
    ``corporation_tax`` of a company; ``dsg_high_needs_cumulative_deficit``
    where the scenario gives the high-needs income. Absent where the option has
    no such money.
    """
    out: dict[str, np.ndarray] = {}
    company = getattr(result, "company", None)
    if company is not None:
        out["gross_spend"] = company.turnover * nominal_index
        if company.profits is not None:
            out["company_surplus"] = company.profits * nominal_index
        if "company.corporation_tax" in result.financial:
            out["corporation_tax"] = result.financial["company.corporation_tax"]
    if getattr(result, "high_needs", None) is not None:
        out["dsg_high_needs_cumulative_deficit"] = result.high_needs["cumulative_deficit"]
    return out


def _bands_from_table(table: pd.DataFrame, option: str | None) -> pd.DataFrame:
    frame = table.rename(columns={"year": "period"})
    missing = [c for c in ("measure", "period", "p10", "p50", "p90") if c not in frame.columns]
    if missing:
        raise UsageError(f"a table of projected bands needs the columns {', '.join(missing)}")
    if "option" in frame.columns:
        options = list(dict.fromkeys(frame["option"]))
        if option is None and len(options) > 1:
            raise UsageError(f"say which option to monitor: the bands hold {', '.join(map(str, options))}")
        option = options[0] if option is None else option
        if option not in options:
            raise UsageError(f"option {option!r} is not in the bands; they hold {', '.join(map(str, options))}")
        frame = frame[frame["option"] == option]
    out = frame[["measure", "period", "p10", "p50", "p90"]].reset_index(drop=True)
    out.attrs.update({"option": option, "option_label": option, "authority": None, "draws": None, **table.attrs})
    return out


# ---------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------


def _period_text(periods: list[str]) -> str:
    periods = sorted(periods)
    starts = [int(p[:4]) for p in periods]
    if len(periods) > 2 and starts == list(range(starts[0], starts[0] + len(starts))):
        return f"{periods[0]} to {periods[-1]}"
    return ", ".join(periods)


def compare(results, actuals, option: str | None = None) -> pd.DataFrame:
    """Join actuals with the projected bands of one option, by measure and period.

    Parameters
    ----------
    results : Results or pandas.DataFrame
        An appraisal, or a table of bands (see :func:`projected_bands`).
    actuals : pandas.DataFrame, str or Path
        The output of :func:`read_actuals`, or an actuals file to read.
    option : str, optional
        The option that went ahead, e.g. ``"company_broad"`` for Worcestershire
        (the company went live on 1 October 2019). By default the scenario's
        baseline (the in-house service), which is what to monitor when no
        option was taken up.

    Returns
    -------
    pandas.DataFrame
        One row per actual figure the projection covers, in the actuals'
        order of measures and then by period; columns :data:`COMPARISON_COLUMNS`:
        ``actual``; ``projected`` (the median, p50), ``p10`` and ``p90`` [all in
        the measure's unit]; ``variance`` = actual - projected [same unit];
        ``variance_pct`` = variance / projected x 100 [percent; NaN when the
        projection is 0]; ``outside_band`` (True when the actual is below p10
        or above p90: outside the band holding 8 draws in 10); ``direction``
        (``"above"``, ``"below"`` or ``"within"`` the band).

        With a central run (no draws) the band is a line, so any difference
        puts the actual outside it.

        :func:`not_compared` (from ``attrs["not_compared"]``) lists the actuals
        left out, never silently: measures this option's projection does not
        include, and periods outside the projection's years. ``attrs`` also
        holds ``option``, ``option_label``, ``authority``, ``draws`` and
        ``actuals`` (the file, when known).
    """
    if not isinstance(actuals, pd.DataFrame):
        actuals = read_actuals(actuals)
    if not isinstance(results, pd.DataFrame) and actuals.attrs.get("la_code"):
        check_authority(actuals, results.scenario)
    bands = projected_bands(results, option)
    merged = actuals.merge(bands, on=["measure", "period"], how="left", sort=False)
    found = merged["p50"].notna()

    left = merged[~found]
    projected_measures = set(bands["measure"])
    years = sorted(set(bands["period"]))
    gone = []
    for measure, rows in left.groupby("measure", sort=False):
        why = MEASURES[measure].not_projected if measure in MEASURES else ""
        reason = (f"outside the projection's years ({years[0]} to {years[-1]})" if measure in projected_measures
                  else f"not projected: {why}" if why
                  else "not projected for this option (the scenario has no parameters for it)")
        gone.append({"measure": measure, "periods": _period_text(list(rows["period"])), "figures": len(rows),
                     "reason": reason})

    if len(actuals) and not found.any():
        name = actuals.attrs.get("path") or "the actuals"
        raise DataError(f"{name}: none of its {len(actuals)} figure(s) can be compared with the projection of "
                        f"{bands.attrs.get('option_label') or 'this option'}: "
                        + "; ".join(f"{g['measure']} ({g['periods']}) is {g['reason']}" for g in gone[:10])
                        + ("" if len(gone) <= 10 else f"; and {len(gone) - 10} more measures"))
    out = merged[found].copy()
    order = {m: i for i, m in enumerate(dict.fromkeys(actuals["measure"]))}
    out = out.sort_values(["measure", "period"], key=lambda s: s.map(order) if s.name == "measure" else s,
                          kind="mergesort")
    out = out.rename(columns={"value": "actual", "p50": "projected"})
    out["variance"] = out["actual"] - out["projected"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["variance_pct"] = np.where(out["projected"] != 0, out["variance"] / out["projected"] * 100, np.nan)
    above, below = out["actual"] > out["p90"], out["actual"] < out["p10"]
    out["outside_band"] = above | below
    out["direction"] = np.select([above, below], ["above", "below"], default="within")
    out = out[list(COMPARISON_COLUMNS)].reset_index(drop=True)
    out["outside_band"] = out["outside_band"].astype(bool)
    out["direction"] = out["direction"].astype(object)
    out.attrs.update({k: bands.attrs.get(k) for k in ("option", "option_label", "authority", "draws")})
    out.attrs["actuals"] = actuals.attrs.get("path")
    # plain records, not a frame: pandas compares attrs when it combines frames
    out.attrs["not_compared"] = gone
    return out


def not_compared(comparison: pd.DataFrame) -> pd.DataFrame:
    """The actuals :func:`compare` could not compare, and why.

    Returns
    -------
    pandas.DataFrame
        Columns ``measure``, ``periods``, ``figures`` (how many lines of the
        actuals file) and ``reason``; empty when every actual was compared.
    """
    columns = ["measure", "periods", "figures", "reason"]
    return pd.DataFrame(comparison.attrs.get("not_compared", []), columns=columns)


def summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """How close the projection came, measure by measure.

    Parameters
    ----------
    comparison : pandas.DataFrame
        The output of :func:`compare`.

    Returns
    -------
    pandas.DataFrame
        One row per measure, in the comparison's order: ``measure``, ``label``
        (in words), ``unit``, ``years_compared``, ``first``, ``last`` (periods),
        ``mean_abs_variance_pct`` (mean of |variance_pct| over the years
        [percent]), ``years_outside_band``, ``years_above``, ``years_below``
        and ``outside_in`` (the periods outside the band, or ``""``).
    """
    rows = []
    for measure, g in comparison.groupby("measure", sort=False):
        m = MEASURES.get(measure)
        rows.append({
            "measure": measure, "label": m.words if m else measure, "unit": m.unit if m else "",
            "years_compared": len(g), "first": g["period"].min(), "last": g["period"].max(),
            "mean_abs_variance_pct": float(g["variance_pct"].abs().mean()),
            "years_outside_band": int(g["outside_band"].sum()),
            "years_above": int((g["direction"] == "above").sum()),
            "years_below": int((g["direction"] == "below").sum()),
            "outside_in": ", ".join(g.loc[g["outside_band"], "period"]),
        })
    return pd.DataFrame(rows, columns=["measure", "label", "unit", "years_compared", "first", "last",
                                       "mean_abs_variance_pct", "years_outside_band", "years_above",
                                       "years_below", "outside_in"])


# ---------------------------------------------------------------------------
# Chart
# ---------------------------------------------------------------------------


def _fmt(value: float, unit: str) -> str:
    if unit == "GBP":
        return f"£{value / 1e6:,.1f}m"
    if unit == "percent":
        return f"{value:.1f}%"
    return f"{value:,.1f}" if unit == "FTE" else f"{value:,.0f}"


def headline(comparison: pd.DataFrame, measure: str) -> str:
    """The finding for one measure in a sentence, computed from the comparison.

    For example "Children looked after at 31 March ran above the projection's
    80% band in 2 of 6 years (2022-23, 2023-24)".
    """
    g = comparison[comparison["measure"] == measure]
    if g.empty:
        raise UsageError(f"no comparison rows for {measure!r}; compared: "
                         f"{', '.join(dict.fromkeys(comparison['measure']))}")
    words = MEASURES[measure].words if measure in MEASURES else measure
    n = len(g)
    band = ("the central projection" if (g["p90"] == g["p10"]).all()
            else f"the projection's {RANGE[1] - RANGE[0]}% band")
    above, below = int((g["direction"] == "above").sum()), int((g["direction"] == "below").sum())
    outside = g.loc[g["outside_band"], "period"].tolist()
    of = f"{n} year{'s' if n != 1 else ''}"
    if not outside:
        within = "within" if band.endswith("band") else "on"
        return f"{words} stayed {within} {band} in {'all ' if n > 1 else ''}{of}"
    every = len(outside) == n and n > 1
    if above and below:
        when = f"all {of}" if every else f"{len(outside)} of {of}"
        return f"{words} fell outside {band} in {when} ({above} above, {below} below)"
    side = "above" if above else "below"
    when = f"every year, {_period_text(outside)}" if every else f"{len(outside)} of {of} ({', '.join(outside)})"
    return f"{words} ran {side} {band} in {when}"


def monitoring_chart(comparison: pd.DataFrame, measure: str, *, authority: str | None = None,
                     option_label: str | None = None):
    """Projected median and 10th-90th percentile band, with the actuals as points.

    Parameters
    ----------
    comparison : pandas.DataFrame
        The output of :func:`compare`.
    measure : str
        A measure in the comparison.
    authority, option_label : str, optional
        Words for the subtitle; by default from ``comparison.attrs``.

    Returns
    -------
    wcf_model.plots.Chart
        Headline title from :func:`headline`, a subtitle saying what is
        plotted and in which unit, and alt text listing every figure. Actuals
        outside the band are drawn as hollow squares and labelled "above" or
        "below", so the chart does not rely on colour.
    """
    import matplotlib.pyplot as plt

    from .formats import range_label, range_words
    from .plots import MARKERS, PALETTE, STYLE, Chart, mark_nonzero_start

    title = headline(comparison, measure)
    g = comparison[comparison["measure"] == measure].reset_index(drop=True)
    m = MEASURES.get(measure, Measure(measure, measure, "", "stock"))
    authority = authority or comparison.attrs.get("authority") or "The authority"
    option_label = option_label or comparison.attrs.get("option_label") or comparison.attrs.get("option") or ""
    draws = comparison.attrs.get("draws")
    has_band = bool((g["p90"] > g["p10"]).any())
    scale = 1e6 if m.unit == "GBP" else 1.0
    unit_words = "£ million" if m.unit == "GBP" else m.unit

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.2))
        x = np.arange(len(g))
        colour = PALETTE[3]
        if has_band:
            ax.fill_between(x, g["p10"] / scale, g["p90"] / scale, color=colour, alpha=0.18, hatch="//",
                            edgecolor=colour, linewidth=0)
            ax.annotate(f"{range_words()}\nin this band", (x[-1], g["p90"].iloc[-1] / scale), xytext=(8, 0),
                        textcoords="offset points", va="center", color="#3D3D3D", fontsize=9)
        ax.plot(x, g["projected"] / scale, color=colour, linestyle="--", marker="D", linewidth=2, markersize=4)
        ax.annotate("Projection (median)", (x[-1], g["projected"].iloc[-1] / scale), xytext=(8, 0),
                    textcoords="offset points", va="center", color=colour, fontsize=10)
        inside = ~g["outside_band"].to_numpy()
        ax.plot(x[inside], g["actual"][inside] / scale, linestyle="none", marker=MARKERS[0], markersize=8,
                color=PALETTE[0])
        ax.plot(x[~inside], g["actual"][~inside] / scale, linestyle="none", marker=MARKERS[1], markersize=9,
                markerfacecolor="white", markeredgewidth=2, color=PALETTE[0])
        for xi, r in zip(x, g.itertuples()):
            if r.outside_band:
                ax.annotate(r.direction, (xi, r.actual / scale), xytext=(0, 10 if r.direction == "above" else -14),
                            textcoords="offset points", ha="center", color=PALETTE[0], fontsize=9)
        ax.annotate("Published", (x[0], g["actual"].iloc[0] / scale), xytext=(-10, 0), textcoords="offset points",
                    ha="right", va="center", color=PALETTE[0], fontsize=10)
        ax.set_xticks(x, g["period"].tolist())
        ax.set_xlabel("Financial year")
        ax.set_ylabel(m.words if f"({unit_words})" in m.words else f"{m.words} ({unit_words})" if len(m.words) < 30
                      else unit_words[:1].upper() + unit_words[1:])
        ax.margins(x=0.25, y=0.2)
        from_zero = not mark_nonzero_start(ax, "£" if m.unit == "GBP" else "")
        fig.tight_layout()

    band = f"its {range_label().replace(' to ', '-')} band"     # "its 10th-90th percentile band"
    spread = (f"{band} over {draws:,} draws" if has_band and draws else band if has_band else "no band (a central run)")
    subtitle = (f"{authority}, {option_label}: published figures (points; hollow squares outside the band) "
                f"against the projection's median (dashed line) and {spread}; {unit_words}, "
                f"{m.when or 'by financial year'}"
                + ("" if from_zero else "; the vertical axis does not start at zero") + ".")
    alt = (f"Chart of {_lower_first(m.words)} in {authority} by financial year, published against projected: "
           + "; ".join(f"{r.period}: published {_fmt(r.actual, m.unit)}, projected median "
                       f"{_fmt(r.projected, m.unit)}"
                       + (f" ({RANGE[1] - RANGE[0]}% band {_fmt(r.p10, m.unit)} to {_fmt(r.p90, m.unit)})"
                          if has_band else "")
                       + (f", {r.direction} the band" if r.outside_band else ", within the band")
                       for r in g.itertuples()) + ".")
    return Chart(fig, title, subtitle, alt)


__all__ = [
    "ACTUALS_COLUMNS", "COMPARISON_COLUMNS", "MEASURES", "Measure", "PUBLISHED", "check_authority", "compare",
    "headline", "money_measures", "monitoring_chart", "not_compared", "period_problem", "projected_bands",
    "published_actuals", "read_actuals", "require_periods", "spend_gap", "summary",
]


# ---------------------------------------------------------------------------
# The company's money: how far the case was from what it spent, and why
# ---------------------------------------------------------------------------

#: Columns of the frame :func:`spend_gap` returns.
GAP_COLUMNS = ("step", "amount", "total", "explanation")


def spend_gap(sc, option: str, actuals: pd.DataFrame, year: str, vintage: str | None = None) -> pd.DataFrame:
    """The business case's projected company spending in one year against what was spent, step by step.

    Central run, cash [GBP]. Each step re-prices one thing the case could not
    know, with the model, and the last step is what is left:

    1. *projected*: the company's gross spending (:func:`money_measures`) in the
       case as written, with the inflation forecast of its deflator vintage;
    2. *inflation*: the same case re-run with the outturn GDP deflator
       (``vintage``, the latest by default): the change is general inflation
       the case did not foresee;
    3. *children looked after*: its placement lines scaled by the children
       looked after on average in the year as published (``cla_closing`` at the
       two 31 Marches) over the projected average: the change is demand;
    4. *the rest*: the published spending less all of that: placement prices
       above the case's real growth, and spending on services the case does not
       cost.

    Parameters
    ----------
    sc : Scenario
        The business case.
    option : str
        The company option that went ahead.
    actuals : pandas.DataFrame
        From :func:`read_actuals`; needs ``gross_spend`` for ``year``, and
        ``cla_closing`` for ``year`` and the year before for step 3.
    year : str
        Financial year, e.g. ``"2023-24"``.
    vintage : str, optional
        Deflator vintage with the outturn (the latest by default).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GAP_COLUMNS`: ``amount`` is each step's change, ``total``
        the running total, so the last row's total is the published figure.
    """
    from .appraisal import appraise_options
    from .prices import load_deflators
    from .scenario import scenario_from_document
    from .schema import financial_year_label, financial_year_start

    value = actuals.set_index(["measure", "period"])["value"]
    if ("gross_spend", year) not in value.index:
        raise UsageError(f"the actuals hold no gross_spend for {year}")
    actual = float(value["gross_spend", year])
    case = appraise_options(sc)
    if option not in case.options or case.options[option].company is None:
        raise UsageError(f"option {option!r} is not a company or trust in the appraisal")
    t = case.years.index(year)
    projected = float(money_measures(case.options[option], case.nominal_index)["gross_spend"][0, t])
    latest = vintage or str(load_deflators().name)
    doc = {**sc.document, "scenario": {**sc.document["scenario"], "deflator_vintage": latest}}
    outturn = appraise_options(scenario_from_document(doc, sc.path))
    r = outturn.options[option]
    inflated = float(money_measures(r, outturn.nominal_index)["gross_spend"][0, t])
    rows = [("projected", projected, f"the company's gross spending in {year} as the case projects it "
                                     f"(deflator vintage {sc.header.deflator_vintage or 'latest'})"),
            ("inflation", inflated - projected, f"general inflation as it turned out (deflator vintage {latest})")]
    before = financial_year_label(financial_year_start(year) - 1)
    if ("cla_closing", year) in value.index and ("cla_closing", before) in value.index:
        published = (float(value["cla_closing", before]) + float(value["cla_closing", year])) / 2
        modelled = float(r.projection.caseloads.cla.average[0, t])
        placements = sum(r.financial[ln.name][0, t] for ln in r.lines if ln.group == "placements")
        share = float(r.company.months[t]) / MONTHS_IN_YEAR
        demand = placements * share * (published / modelled - 1)
        rows.append(("children looked after", demand,
                     f"{published:,.0f} children looked after on average in {year} as published, against "
                     f"{modelled:,.0f} projected, at the case's placement costs"))
    explained = sum(v for _, v, _ in rows)
    rows.append(("the rest", actual - explained,
                 "placement prices above the case's real growth, and spending on services the case does not cost"))
    frame = pd.DataFrame(rows, columns=["step", "amount", "explanation"])
    frame["total"] = frame["amount"].cumsum()
    frame.attrs.update(option=option, year=year, actual=actual)
    return frame[list(GAP_COLUMNS)]


MONTHS_IN_YEAR = 12
