"""The Excel round trip for finance officers (issue 6, item 5).

:func:`export_assumptions` writes every input of a scenario to a workbook a
finance officer can edit in Excel: one row per parameter, one per option cost
item and one per effect, with the editable cells in light blue.
:func:`import_assumptions` reads the edited workbook back and writes a scenario
*overlay*: a small YAML file that ``extends`` the original scenario and holds
only what changed, so a reviewer sees every edit with its new source.

Sheets
------
``Parameters``
    name, description, value, unit, price_year, source, confidence,
    distribution, note. ``value`` is blank for a figure given by year.
``By year``
    name, unit, then one column per financial year, for figures given by
    year (parameters, and option cost items named ``options.<id>.<kind>.<item>``).
``Option costs``
    one row per one-off or recurring cost item of each option.
``Effects``
    one row per effect an option claims.
``About``
    how to edit, and the scenario the workbook came from (with its sha256).

Rules on import
---------------
* Only the blue cells may change. An edit to another cell (a unit, a
  category, a description) is refused rather than silently ignored.
* A figure whose number changes (``value``, a value by year or
  ``price_year``) must come with a new source; an effect whose ``change``
  changes must come with new evidence; no figure may lose its source or
  confidence grade. A figure is replaced whole by an overlay (see
  :mod:`wcf_model.scenario`), so each changed figure is written complete,
  with its new source; an effect merges key by key, so only its changed keys
  are written.
* **A distribution moves with its value.** When a figure's central value
  (or an effect's ``change``) is edited and its ``distribution`` cell is
  left as it was, the distribution is scaled about the new value
  (:func:`wcf_model.distributions.scale_distribution`): triangular(low=700000,
  mode=1280000, high=1800000) on a value moved to 1500000 becomes
  triangular(low=820312.5, mode=1500000, high=2109375), so the Monte Carlo
  mean and range move with the central result. Where it cannot be scaled (the
  old value was 0, the sign changes, a beta distribution, or the scaled range
  leaves what the unit allows) the import refuses, naming the distribution
  cell to restate. A distribution edited together with its value is taken as
  written.
* A row may be added to ``Parameters`` for a catalogue parameter the scenario
  does not yet give (with a value, a source and a confidence); new cost items
  and effects belong in the scenario file. Deleting a row changes nothing.
* The About sheet records the sha256 of the scenario exported. A workbook
  from an older version of the base is refused, because its unedited cells
  would silently undo the base's newer figures.
* Every problem is reported at once, located as ``Sheet!Cell`` (for example
  ``Parameters!C14``) with the row number as the line; problems that only
  show once the overlay is validated are mapped back to the cell they come
  from. Nothing is written while there is any problem.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .catalogue import parameter_specs, suggest
from .distributions import REGISTRY as DISTRIBUTIONS
from .distributions import check_distribution, scale_distribution
from .errors import InputFileError, Problem, ScenarioError, UsageError
from .limits import (
    MAX_PROBLEMS_SHOWN,
    MAX_WORKBOOK_BYTES,
    MAX_WORKBOOK_CELLS,
    MAX_WORKBOOK_COLUMNS,
    MAX_WORKBOOK_PARTS,
    MAX_WORKBOOK_ROWS,
    MAX_WORKBOOK_UNCOMPRESSED,
    magnitude_problem,
    read_limited,
)
from .outputs import check_output_file, from_inert, write_file
from .register import CONFIDENCE
from .scenario import Scenario, load_scenario
from .schema import Figure, _check_fy

# ---------------------------------------------------------------------------
# Layout: the sheets, their columns, and which columns a user may edit
# ---------------------------------------------------------------------------

PARAMETERS, BY_YEAR, COSTS, EFFECTS, ABOUT = "Parameters", "By year", "Option costs", "Effects", "About"
#: Every sheet the workbook has, in order (About first, as a cover page).
SHEETS = (ABOUT, PARAMETERS, BY_YEAR, COSTS, EFFECTS)

PARAMETER_COLUMNS = ("name", "description", "value", "unit", "price_year", "source", "confidence",
                     "distribution", "note")
BY_YEAR_COLUMNS = ("name", "unit")  # then one column per financial year
COST_COLUMNS = ("option", "kind", "item", "category", "value", "unit", "price_year", "when", "start",
                "end", "funder", "optimism_bias", "source", "confidence", "distribution", "note")
EFFECT_COLUMNS = ("option", "effect", "driver", "mode", "change", "start", "ramp_years", "distribution",
                  "evidence", "confidence")

#: Columns whose cells are blue (editable); on "By year" every year cell is.
EDITABLE = {
    PARAMETERS: {"value", "price_year", "source", "confidence", "distribution", "note"},
    COSTS: {"value", "price_year", "source", "confidence", "distribution", "note"},
    EFFECTS: {"change", "distribution", "evidence", "confidence"},
}
#: Columns that name a row (they tie it to the scenario); never editable.
KEYS = {PARAMETERS: ("name",), BY_YEAR: ("name",), COSTS: ("option", "kind", "item"),
        EFFECTS: ("option", "effect")}

#: Workbook words for the scenario's cost kinds.
KINDS = {"one_off": "one_off_costs", "recurring": "recurring_costs"}

EDITABLE_FILL = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")  # light blue
HEADER_FILL = PatternFill("solid", start_color="D9D9D9", end_color="D9D9D9")  # light grey
HEADER_FONT = Font(bold=True)

_HEADER_NOTES = {
    "value": "The central value, in the unit shown. Type a plain number (no £ or commas). "
             "Blank when the figure is given by year: edit it on the 'By year' sheet.",
    "source": "Where the figure comes from. A changed number needs a new source.",
    "confidence": "1 = audited outturn or published statistic, 2 = council report or plan, "
                  "3 = press report of council papers, 4 = national default or proxy, 5 = judgement.",
    "distribution": "The uncertainty, as type(name=number, ...), e.g. "
                    "triangular(low=0.2, mode=0.25, high=0.3). Blank for none.",
    "price_year": "The financial year whose prices a money figure is in, e.g. 2019-20.",
    "change": "How the option changes the driver: added (add), as a proportion (multiply: -0.03 is "
              "a 3% fall) or replacing it (set).",
    "evidence": "What supports the size of the effect. A changed effect needs new evidence.",
}

# ---------------------------------------------------------------------------
# Small helpers: numbers, distributions as text
# ---------------------------------------------------------------------------


def _tidy(x: float | int | None) -> float | int | None:
    """A whole float as an int (833.0 -> 833), so cells and YAML read naturally."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return int(x)
    return x


def _num_text(x: Any) -> str:
    """A number as the shortest text that reads back to the same value."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    return repr(_tidy(x))


def _show(x: Any) -> str:
    """A value for a human-readable change line."""
    if x is None:
        return "(none)"
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return f"{x:,.10g}"
    return str(x)


def format_distribution(spec: dict[str, Any] | None) -> str:
    """A distribution mapping as the text the workbook shows (``""`` for none).

    >>> format_distribution({"type": "triangular", "low": 0.2, "mode": 0.25, "high": 0.3})
    'triangular(low=0.2, mode=0.25, high=0.3)'
    >>> format_distribution({"type": "choice", "values": [1, 2.5]})
    'choice(values=[1, 2.5])'
    """
    if not spec:
        return ""

    def arg(v: Any) -> str:
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(_num_text(x) for x in v) + "]"
        return _num_text(v)

    return f"{spec.get('type')}(" + ", ".join(f"{k}={arg(v)}" for k, v in spec.items() if k != "type") + ")"


_DIST = re.compile(r"^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", re.S)
_ARG = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:[=:]\s*|\s+)(\[[^\]]*\]|[^,\[\]]+?)\s*(?:,|$)")


#: A number as text: digits with an optional sign, decimal point and exponent, nothing else
#: (Python's own int() and float() would also read '8_50' as 850, and digits of other scripts).
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _parse_number(text: str) -> float | int:
    """A number typed as text; ValueError if it is not a plain number of at most 1e15 in size.

    >>> _parse_number(" 646 "), _parse_number("-0.03"), _parse_number("1.5e3")
    (646, -0.03, 1500.0)
    >>> _parse_number("8_50")
    Traceback (most recent call last):
    ...
    ValueError: '8_50' is not a plain number
    """
    text = text.strip()
    if len(text) > 40 or not _NUMBER.fullmatch(text):
        raise ValueError(f"{text[:40]!r} is not a plain number")
    value = float(text)
    if (why := magnitude_problem(value)) is not None:
        raise ValueError(f"{text!r} {why}")
    return int(text) if text.lstrip("+-").isdigit() else value


def parse_distribution(text: str) -> dict[str, Any]:
    """Read distribution text back into a mapping.

    ``low=1`` and ``low 1`` are both accepted (the latter is how the report's
    assumptions register writes them).

    Raises
    ------
    ValueError
        When the text is not of the form ``type(name=number, ...)``.

    >>> parse_distribution("triangular(low=0.2, mode=0.25, high=0.3)")
    {'type': 'triangular', 'low': 0.2, 'mode': 0.25, 'high': 0.3}
    >>> parse_distribution("choice(values=[1, 2], weights=[0.5, 0.5])")
    {'type': 'choice', 'values': [1, 2], 'weights': [0.5, 0.5]}
    """
    m = _DIST.match(text)
    if m is None:
        raise ValueError("expected the form type(name=number, ...)")
    spec: dict[str, Any] = {"type": m.group(1)}
    body, pos = m.group(2), 0
    while body[pos:].strip():
        a = _ARG.match(body, pos)
        if a is None:
            raise ValueError(f"cannot read '{body[pos:].strip()}'")
        key, raw = a.group(1), a.group(2).strip()
        if key in spec:
            raise ValueError(f"'{key}' is given twice")
        if raw.startswith("["):
            items = [t for t in raw[1:-1].split(",") if t.strip()]
            spec[key] = [_parse_number(t) for t in items]
        else:
            spec[key] = _parse_number(raw)
        pos = a.end()
    return spec


# ---------------------------------------------------------------------------
# What the workbook shows for a scenario (used to export, and on import as the
# "before" each row is compared with)
# ---------------------------------------------------------------------------


def _timing(t: Any) -> str | None:
    return None if t is None else str(t)


def _parameter_rows(sc: Scenario) -> list[dict[str, Any]]:
    return [{
        "name": name, "description": p.description, "value": _tidy(p.value) if p.values is None else None,
        "unit": p.unit, "price_year": p.price_year, "source": p.source, "confidence": p.confidence,
        "distribution": format_distribution(p.distribution), "note": p.note,
    } for name, p in sc.parameters.items()]


def _cost_rows(sc: Scenario) -> list[dict[str, Any]]:
    rows = []
    for oid, opt in sc.options.items():
        for kind, attr in KINDS.items():
            for item_id, item in getattr(opt, attr).items():
                rows.append({
                    "option": oid, "kind": kind, "item": item_id, "category": item.category,
                    "value": _tidy(item.value) if item.values is None else None, "unit": item.unit,
                    "price_year": item.price_year, "when": _timing(getattr(item, "when", None)),
                    "start": _timing(getattr(item, "start", None)), "end": _timing(getattr(item, "end", None)),
                    "funder": item.funder, "optimism_bias": item.optimism_bias, "source": item.source,
                    "confidence": item.confidence, "distribution": format_distribution(item.distribution),
                    "note": item.note,
                })
    return rows


def _effect_rows(sc: Scenario) -> list[dict[str, Any]]:
    return [{
        "option": oid, "effect": eid, "driver": e.driver, "mode": e.mode, "change": _tidy(e.change),
        "start": _timing(e.start), "ramp_years": _tidy(e.ramp_years),
        "distribution": format_distribution(e.distribution), "evidence": e.evidence, "confidence": e.confidence,
    } for oid, opt in sc.options.items() for eid, e in opt.effects.items()]


def _by_year_figures(sc: Scenario) -> dict[str, tuple[str, dict[str, float]]]:
    """Figure name -> (unit, values by year), for every figure given by year."""
    return {name: (fig.unit, dict(fig.values)) for name, fig in sc.iter_figures() if fig.values is not None}


def _cost_name(oid: str, kind: str, item: str) -> str:
    return f"options.{oid}.{KINDS.get(kind, kind)}.{item}"


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def _about_rows(sc: Scenario) -> list[tuple[str, str]]:
    from .version import __version__

    return [
        ("name", sc.name),
        ("title", sc.header.title),
        ("file", str(sc.path)),
        ("extends", " <- ".join(str(f) for f in reversed(sc.files[:-1])) or "(nothing)"),
        ("base_year", sc.header.base_year),
        ("sha256", sc.sha256),
        ("exported_by", f"wcf-model {__version__}"),
    ]


def _instructions(sc: Scenario) -> list[str]:
    types = ", ".join(f"{d.name}({', '.join(f'{p}=...' for p in d.required)})" for d in DISTRIBUTIONS.values())
    return [
        "How to edit this workbook",
        "1. Change the blue cells only. Other cells (names, units, categories, descriptions) tie each row "
        "to the scenario and the model; an edit to them is refused when the workbook is read back.",
        "2. Keep the names in the first columns as they are, and do not rename or delete sheets. "
        "Deleting a row changes nothing. Extra columns to the right of the tables on 'Parameters', "
        "'Option costs' and 'Effects' are ignored.",
        "3. Give a source for every figure you change: write in its 'source' cell where the new number "
        "comes from. A changed number that keeps its old source is refused. For an effect, update its "
        "'evidence'. If the 'note' explains the old number, update it too.",
        "4. Type numbers as plain numbers in the unit shown: 646 for £646 a week, 0.25 (or 25%) for a "
        "quarter. No £ signs, commas or words in a number cell.",
        "5. confidence is a whole number: " + "; ".join(f"{k} = {v}" for k, v in CONFIDENCE.items()) + ".",
        "6. distribution says how uncertain a figure is, written as type(name=number, ...), for example "
        "triangular(low=0.2, mode=0.25, high=0.3). Leave it blank for no uncertainty. Its range must "
        f"contain the value. Types: {types}. On a figure given by year it multiplies the whole path, "
        "so it is centred on 1. If you change a value and leave its distribution as it was, the "
        "distribution moves with the value, scaled in proportion (low, mode and high each times new / old); "
        "to set a different range, edit the distribution too.",
        "7. A figure given by year has a blank value on 'Parameters' (or 'Option costs') and its numbers on "
        "'By year'. To give one number instead, type it in 'value' and clear its row on 'By year'.",
        "8. You may add a row on 'Parameters' for a parameter the scenario does not give yet, using the "
        "model's name for it, with a value, a source and a confidence. New cost items and effects belong "
        "in the scenario file.",
        "9. When you are done, send the workbook back. It is read with:",
        f"   wcf-model import-assumptions THIS.xlsx --base {sc.path} -o NEW.yaml",
        "   which checks every change and writes a scenario file holding only what you changed.",
    ]


def _style_sheet(ws: Worksheet, columns: list[str], editable: set[str], freeze: str) -> None:
    """Bold, frozen header with notes; blue editable cells; readable widths; a filter."""
    for i, col in enumerate(columns, start=1):
        cell = ws.cell(1, i)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        if col in _HEADER_NOTES:
            cell.comment = Comment(_HEADER_NOTES[col], "wcf-model")
        longest = max([len(str(col)), *(len(str(c.value)) for c in ws[get_column_letter(i)][1:200]
                                         if c.value is not None)])
        ws.column_dimensions[get_column_letter(i)].width = min(max(10, longest + 2), 60)
        if col in editable:
            for row in range(2, ws.max_row + 1):
                ws.cell(row, i).fill = EDITABLE_FILL
    ws.freeze_panes = freeze
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(ws.max_row, 2)}"


def _confidence_validation(ws: Worksheet, columns: list[str]) -> None:
    letter = get_column_letter(columns.index("confidence") + 1)
    dv = DataValidation(type="whole", operator="between", formula1="1", formula2="5", allow_blank=True,
                        showErrorMessage=True, errorTitle="confidence",
                        error="confidence is a whole number from 1 (audited outturn) to 5 (judgement).",
                        showInputMessage=True, promptTitle="confidence",
                        prompt="1 audited/published ... 5 judgement")
    dv.add(f"{letter}2:{letter}{ws.max_row + 500}")  # room for added rows
    ws.add_data_validation(dv)


def _table(wb: Workbook, title: str, columns: list[str], rows: list[dict[str, Any]],
           editable: set[str], freeze: str) -> Worksheet:
    from .workbook import put   # the one way a value enters a workbook cell

    ws = wb.create_sheet(title)
    for j, column in enumerate(columns, start=1):
        put(ws, 1, j, column)
    for i, row in enumerate(rows, start=2):
        for j, column in enumerate(columns, start=1):
            put(ws, i, j, row.get(column))
    _style_sheet(ws, columns, editable, freeze)
    if "confidence" in columns:
        _confidence_validation(ws, columns)
    return ws


def build_workbook(sc: Scenario) -> Workbook:
    """The assumptions workbook of a scenario, in memory (see :func:`export_assumptions`)."""
    from .workbook import put

    wb = Workbook()
    about = wb.active
    about.title = ABOUT
    lines = _instructions(sc)
    for r, line in enumerate(lines, start=1):
        put(about, r, 1, line)
    about.cell(1, 1).font = Font(bold=True, size=14)
    r = len(lines) + 2
    put(about, r, 1, "Scenario").font = Font(bold=True, size=14)
    for key, value in _about_rows(sc):
        r += 1
        put(about, r, 1, key).font = HEADER_FONT
        put(about, r, 2, value)
    about.column_dimensions["A"].width = 110
    about.column_dimensions["B"].width = 70
    for row in about.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    params = _table(wb, PARAMETERS, list(PARAMETER_COLUMNS), _parameter_rows(sc), EDITABLE[PARAMETERS], "B2")
    by_year = _by_year_figures(sc)
    for r in range(2, params.max_row + 1):
        if params.cell(r, 1).value in by_year:
            params.cell(r, 3).comment = Comment("Given by year: edit it on the 'By year' sheet.", "wcf-model")

    years = sorted({y for _, values in by_year.values() for y in values})
    rows = [{"name": name, "unit": unit, **values} for name, (unit, values) in by_year.items()]
    ws = _table(wb, BY_YEAR, [*BY_YEAR_COLUMNS, *years], rows, set(years), "C2")
    ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width, 40)

    _table(wb, COSTS, list(COST_COLUMNS), _cost_rows(sc), EDITABLE[COSTS], "D2")
    _table(wb, EFFECTS, list(EFFECT_COLUMNS), _effect_rows(sc), EDITABLE[EFFECTS], "C2")
    return wb


def export_assumptions(scenario: Scenario, path: str | Path) -> None:
    """Write every input of a scenario to an Excel workbook a finance officer can edit.

    Parameters
    ----------
    scenario : Scenario
        A loaded scenario (:func:`wcf_model.load_scenario`).
    path : str or Path
        The ``.xlsx`` file to write. It is written to a temporary file and
        renamed into place, so an earlier file is replaced whole or not at all.

    Raises
    ------
    UsageError
        When ``path`` does not end in ``.xlsx``, or lies in ``scenarios/`` or
        ``data/`` of a wcf-model checkout (those hold inputs).
    OutputError
        When ``path`` is a folder or one of the scenario's files, or cannot be written.

    Notes
    -----
    Sheets: ``About`` (how to edit; the scenario's name, file and sha256),
    ``Parameters``, ``By year``, ``Option costs`` and ``Effects``. Editable
    cells are light blue; the header row is bold and frozen; numbers are
    numbers; ``confidence`` cells only accept a whole number from 1 to 5. Text
    that a spreadsheet would run as a formula (beginning ``=``, ``+``, ``-``,
    ``@``) is written with an apostrophe in front
    (:func:`~wcf_model.outputs.inert`), which :func:`import_assumptions` removes.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"{path}: an assumptions workbook must be an .xlsx file; give a name ending in .xlsx")
    from .workbook import save_workbook

    check_output_file(path, scenario.files)
    wb = build_workbook(scenario)
    write_file(path, lambda tmp: save_workbook(wb, tmp), inputs=scenario.files)


# ---------------------------------------------------------------------------
# Import: reading the workbook
# ---------------------------------------------------------------------------

#: Marks a cell that could not be read (its problem is already recorded).
_BAD = object()


@dataclass
class _Table:
    """One sheet's header and rows, read with both formulas and their results."""

    title: str
    columns: dict[str, int]  # header name -> 1-based column
    rows: list[tuple[int, dict[str, Any]]]  # (row number, header name -> value)

    def ref(self, column: str, row: int) -> str:
        return f"{self.title}!{get_column_letter(self.columns[column])}{row}"


@dataclass
class _Edit:
    """One changed row, ready for the overlay."""

    path: tuple[str, ...]  # where it goes in the overlay
    body: dict[str, Any]  # a whole figure, or the changed keys of an effect
    line: str  # human-readable description
    cells: dict[str, tuple[str, int]]  # dotted scenario key -> (Sheet!Cell, row)
    key: str  # its dotted key in a scenario (parameters.<name> or options.<id>.<kind>.<item>)


@dataclass
class _Reader:
    """Reads an edited workbook against the scenario it came from, collecting problems."""

    file: str
    base: Scenario
    problems: list[Problem] = field(default_factory=list)
    edits: list[_Edit] = field(default_factory=list)

    # -- recording ---------------------------------------------------------

    def problem(self, t: _Table, column: str, row: int, message: str) -> None:
        self.problems.append(Problem(self.file, row, t.ref(column, row), message))

    def hint(self, word: str, candidates: list[str]) -> str:
        """"; did you mean ...?" while problems are still being shown; nothing once
        :data:`~wcf_model.limits.MAX_PROBLEMS_SHOWN` are found, since only a count of
        the rest is printed (and finding close matches for every row of a
        sheet of 10,000 bad rows takes minutes)."""
        return suggest(word, candidates) if len(self.problems) < MAX_PROBLEMS_SHOWN else ""

    # -- cells -------------------------------------------------------------

    def number(self, t: _Table, column: str, row: int, raw: Any, what: str = "a number") -> Any:
        """A number, None for a blank cell, or _BAD (problem recorded)."""
        if raw is _BAD:
            return _BAD
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, bool):
            self.problem(t, column, row, f"expected {what}, got {str(raw).upper()} (true/false)")
            return _BAD
        if isinstance(raw, (int, float)):
            if (why := magnitude_problem(raw)) is not None:
                self.problem(t, column, row, f"expected {what}: this number {why}")
                return _BAD
            return _tidy(raw)
        if isinstance(raw, (dt.date, dt.datetime, dt.time)):
            self.problem(t, column, row, f"expected {what}, got a date ({raw}); Excel may have turned "
                                         "the number into a date: format the cell as a number and retype it")
            return _BAD
        try:
            return _tidy(_parse_number(str(raw)))  # a number typed as text, e.g. '646'
        except ValueError as exc:
            shown = str(raw) if len(str(raw)) <= 60 else str(raw)[:60] + "..."
            detail = (str(exc) if "at most" in str(exc) else
                      "type the number alone, without £ signs, commas, % signs or words"
                      + (" (underscores are not read as digit separators)" if "_" in shown else ""))
            self.problem(t, column, row, f"expected {what}, got '{shown}' (text); {detail}")
            return _BAD

    def text(self, t: _Table, column: str, row: int, raw: Any) -> Any:
        """Stripped text, None for a blank cell, or _BAD."""
        if raw is None or raw is _BAD:
            return raw
        if isinstance(raw, (dt.date, dt.datetime, dt.time)):
            self.problem(t, column, row, f"expected text, got a date ({raw}); Excel turned the text into a "
                                         "date: type it again with an apostrophe first (e.g. '2019-20)")
            return _BAD
        if isinstance(raw, float):
            raw = _tidy(raw)
        text = str(raw).strip()
        return text or None

    def confidence(self, t: _Table, row: int, raw: Any, required: bool = False) -> Any:
        value = self.number(t, "confidence", row, raw, "a whole number from 1 to 5")
        if value is _BAD:
            return _BAD
        if value is None:
            if required:
                self.problem(t, "confidence", row, "confidence is missing; give a whole number from "
                                                  "1 (audited outturn) to 5 (judgement)")
                return _BAD
            return None
        if not isinstance(value, int) or not 1 <= value <= 5:
            self.problem(t, "confidence", row, f"confidence must be a whole number from 1 (audited outturn) "
                                              f"to 5 (judgement), got {_show(value)}")
            return _BAD
        return value

    def financial_year(self, t: _Table, column: str, row: int, raw: Any) -> Any:
        text = self.text(t, column, row, raw)
        if text is None or text is _BAD:
            return text
        try:
            return _check_fy(text)
        except ValueError as exc:
            self.problem(t, column, row, str(exc))
            return _BAD

    def distribution(self, t: _Table, row: int, raw: Any) -> Any:
        text = self.text(t, "distribution", row, raw)
        if text is None or text is _BAD:
            return text
        try:
            spec = parse_distribution(text)
        except ValueError as exc:
            self.problem(t, "distribution", row,
                         f"cannot read the distribution '{text}' ({exc}); write it as type(name=number, ...), "
                         "e.g. triangular(low=0.2, mode=0.25, high=0.3), or leave it blank")
            return _BAD
        found = check_distribution(spec, None)
        for sub, msg in found:
            self.problem(t, "distribution", row, f"distribution {sub + ': ' if sub else ''}{msg}")
        return _BAD if found else spec

    def read_only(self, t: _Table, row: int, got: dict[str, Any], expected: dict[str, Any]) -> None:
        """Refuse edits to cells that are not blue."""
        for column in t.columns:
            if column not in expected or column in EDITABLE.get(t.title, ()):
                continue
            want, have = expected[column], got.get(column)
            if have is not _BAD and not _same_cell(want, have):
                shown = "blank" if want in (None, "") else f"'{want}'"
                if column == "unit":
                    msg = (f"the unit is fixed by the model: {shown}, got '{have}'; convert the value to "
                           f"{want} and put the unit back")
                else:
                    msg = (f"'{column}' is not editable here (only the blue cells are); put back {shown}, "
                           "or change it in the scenario file")
                self.problem(t, column, row, msg)


def _same_cell(want: Any, have: Any) -> bool:
    if isinstance(have, str):
        have = have.strip() or None
    if isinstance(want, str):
        want = want.strip() or None
    if isinstance(want, (int, float)) and isinstance(have, (int, float)) and not isinstance(have, bool):
        return _same_number(want, have)
    if want is not None and have is not None:
        return str(_tidy(want)) == str(_tidy(have))
    return want is None and have is None


def _same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)


def _same_values(a: dict[str, float] | None, b: dict[str, float] | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return set(a) == set(b) and all(_same_number(a[y], b[y]) for y in a)


@dataclass
class _Sheet:
    """One worksheet as read: each row's saved values, and which of its cells hold a formula.

    Rows are numbered from 1 as in Excel (``values[0]`` is row 1); a row is as
    long as its last cell, and missing rows are empty.
    """

    values: list[tuple[Any, ...]]
    formulas: list[tuple[bool, ...]]


@dataclass
class _Book:
    """The sheets of a workbook in order; a chart sheet is None."""

    sheetnames: list[str]
    sheets: dict[str, _Sheet | None]


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


class _TooBig(Exception):
    """A workbook part reached a limit of :mod:`wcf_model.limits`, or declares a DOCTYPE."""


def _scan_part(archive: zipfile.ZipFile, part: zipfile.ZipInfo,
               start: Callable[[str, dict[str, str]], None] | None = None) -> None:
    """Stream one XML part through expat: refuse a DOCTYPE, and call ``start`` per element.

    Raises _TooBig, expat.ExpatError, or the zip reader's errors for a damaged part.
    """
    from xml.parsers import expat

    def refuse_doctype(*_: Any) -> None:
        raise _TooBig(f"the part {part.filename} declares a DOCTYPE (XML entities), which no Excel "
                      "workbook needs and which can expand without end; it is not opened")

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    if start is not None:
        parser.StartElementHandler = start
    with archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _sheet_parts(archive: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> tuple[dict[str, str], list[str]]:
    """Sheet title by part name (``xl/worksheets/sheet2.xml`` -> ``Parameters``), and the chart sheets' titles.

    Read from ``xl/workbook.xml`` and its relationships, so that limits and
    damage can be reported by sheet title; an unreadable pair gives nothing.
    """
    sheets: dict[str, str] = {}   # relationship id -> title
    targets: dict[str, tuple[str, str]] = {}  # relationship id -> (part, type)

    def workbook(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "sheet":
            rid = next((v for k, v in attrs.items() if k.rpartition(":")[2] == "id" and k != "sheetId"), None)
            if rid is not None:
                sheets[rid] = attrs.get("name", "")

    def rels(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "Relationship" and "Id" in attrs:
            target = attrs.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            targets[attrs["Id"]] = (os.path.normpath(part).replace(os.sep, "/"), attrs.get("Type", ""))

    try:
        _scan_part(archive, names["xl/workbook.xml"], workbook)
        _scan_part(archive, names["xl/_rels/workbook.xml.rels"], rels)
    except Exception:  # noqa: BLE001 - the full scan below reports what is wrong with these parts
        return {}, []
    titles = {targets[rid][0]: title for rid, title in sheets.items() if rid in targets}
    charts = [title for rid, title in sheets.items() if rid in targets and targets[rid][1].endswith("/chartsheet")]
    return titles, charts


def check_workbook_archive(data: bytes, shown: str,
                           formulas: dict[str, set[tuple[int, int]]] | None = None) -> list[Problem]:
    """What makes a workbook unsafe or impossible to load, found before it is loaded.

    An .xlsx file is a zip archive of XML parts. From the zip's own directory
    (Python's zip reader stops each part at its recorded size, so a part
    cannot decompress past it) this checks the number of parts and their
    decompressed size: a zip bomb, a small file that decompresses to
    gigabytes, is refused here. Each XML part is then streamed through a
    parser that refuses a DOCTYPE (entity declarations are how an "XML bomb"
    expands; a workbook never needs them), names a damaged part (truncated or
    not well-formed XML), and counts each sheet's rows, columns and cells
    against the limits, stopping at the first one crossed. A chart sheet in
    the place of one of the workbook's sheets is named.

    Parameters
    ----------
    formulas : dict, optional
        Filled, by sheet title, with the (row, column) of every cell holding a
        formula, so the workbook need only be loaded once (with the formulas'
        saved results). Left empty if the sheet titles cannot be found.

    Returns
    -------
    list of Problem
        Empty when the workbook may be loaded.
    """
    from xml.parsers import expat

    def problem(message: str, key: str = "") -> list[Problem]:
        return [Problem(shown, None, key, message)]

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        return problem(f"cannot open it as an Excel workbook (.xlsx): it is not a zip archive as an .xlsx file "
                       f"is ({exc}); expected a workbook written by wcf-model export-assumptions")
    if len(parts) > MAX_WORKBOOK_PARTS:
        return problem(f"the archive holds {len(parts):,} parts; an .xlsx workbook has a few dozen (at most "
                       f"{MAX_WORKBOOK_PARTS:,} are read)")
    unpacked = sum(p.file_size for p in parts)
    if unpacked > MAX_WORKBOOK_UNCOMPRESSED:
        return problem(f"it would decompress to {unpacked:,} bytes from {len(data):,}; a workbook of assumptions "
                       f"decompresses to at most {MAX_WORKBOOK_UNCOMPRESSED:,} bytes (see Limits in the README), "
                       "so it is not opened")
    names = {p.filename: p for p in parts}
    titles, charts = _sheet_parts(archive, names) if {"xl/workbook.xml", "xl/_rels/workbook.xml.rels"} <= set(names) \
        else ({}, [])
    for title in charts:
        if title in SHEETS:
            return problem("is a chart sheet, not a sheet of cells; do not replace the sheets of the "
                           "workbook (export a fresh one if need be)", title)
    cells = 0
    for part in parts:
        if not part.filename.endswith((".xml", ".rels")):
            continue
        sheet = f"the sheet '{titles[part.filename]}'" if part.filename in titles else f"the sheet in {part.filename}"
        state = {"row": 0, "col": 0}
        found: set[tuple[int, int]] = set()
        if formulas is not None and part.filename in titles:
            formulas[titles[part.filename]] = found

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal cells
            local = name.rpartition(":")[2]
            if local == "f":
                found.add((state["row"], state["col"]))
            elif local == "row":
                r = attrs.get("r", "")
                state["row"] = int(r) if r.isdigit() and len(r) < 10 else state["row"] + 1
                state["col"] = 0
                if state["row"] > MAX_WORKBOOK_ROWS:
                    raise _TooBig(f"{sheet} has rows down to {state['row']:,}; a sheet is read to at most "
                                  f"{MAX_WORKBOOK_ROWS:,} rows (an exported workbook has a few hundred)")
            elif local == "c":
                cells += 1
                m = _CELL_REF.fullmatch(attrs.get("r", ""))
                state["col"] = _column_number(m.group(1)) if m else state["col"] + 1
                if state["col"] > MAX_WORKBOOK_COLUMNS:
                    raise _TooBig(f"{sheet} has cells out to column {get_column_letter(min(state['col'], 18278))} "
                                  f"({state['col']:,}); a sheet is read to at most {MAX_WORKBOOK_COLUMNS} columns: "
                                  "delete the columns to the right of the table")
                if cells > MAX_WORKBOOK_CELLS:
                    raise _TooBig(f"the workbook has more than {MAX_WORKBOOK_CELLS:,} cells; an exported workbook "
                                  "has a few thousand")

        try:
            _scan_part(archive, part, start if part.filename.startswith("xl/worksheets/") else None)
        except _TooBig as exc:
            return problem(str(exc))
        except expat.ExpatError as exc:
            where = f"{sheet} ({part.filename})" if part.filename in titles else f"the part {part.filename}"
            return problem(f"{where} is damaged (not well-formed XML: {exc}); save the workbook again from "
                           "Excel, or export a fresh one")
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError,
                ValueError) as exc:  # a bad checksum, truncated data, encryption, an unknown compression
            return problem(f"the part {part.filename} cannot be read ({exc}); save the workbook again from "
                           "Excel, or export a fresh one")
    return []


def _open(path: Path, shown: str) -> tuple[_Book | None, list[Problem]]:
    """Every sheet of a workbook, with formulas and saved results, once it is known to be safe to load."""
    try:
        data = read_limited(path, MAX_WORKBOOK_BYTES, "an assumptions workbook (.xlsx)")
    except InputFileError as exc:
        return None, [Problem(shown, None, "", f"{exc.reason}; expected an .xlsx workbook written by "
                                               "wcf-model export-assumptions")]
    formulas: dict[str, set[tuple[int, int]]] = {}
    problems = check_workbook_archive(data, shown, formulas)
    if problems:
        return None, problems
    try:
        return _load(data, formulas), []
    # openpyxl reports a damaged workbook in many ways (KeyError for a missing
    # part, TypeError or AttributeError for a part of the wrong kind...); the
    # archive has passed the checks above, so each of them means the file is
    # not a workbook openpyxl can read, not a fault of wcf-model's.
    except Exception as exc:
        return None, [Problem(shown, None, "", f"cannot open it as an Excel workbook (.xlsx): "
                                               f"{type(exc).__name__}: {exc}")]


def _load(data: bytes, formulas: dict[str, set[tuple[int, int]]]) -> _Book:
    """Read every sheet into memory (the archive checks bound how much there is).

    The saved results are read with openpyxl; which cells hold a formula comes
    from ``formulas`` (found while checking the archive), or, for a sheet it
    does not cover, from a second reading of the workbook with its formulas.
    """
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    with_formulas = None
    try:
        book = _Book(list(values.sheetnames), {})
        for title in book.sheetnames:
            ws_v = values[title]
            if not isinstance(ws_v, ReadOnlyWorksheet):
                book.sheets[title] = None
                continue
            ws_v.reset_dimensions()  # the rows' own extent, not the recorded dimension, which may claim any size
            rows = [tuple(from_inert(c.value) for c in row) for row in ws_v.iter_rows()]
            if title in formulas:
                found = formulas[title]
                flags = [tuple((r, c) in found for c in range(1, len(row) + 1)) for r, row in enumerate(rows, 1)]
            else:
                if with_formulas is None:
                    with_formulas = load_workbook(io.BytesIO(data), read_only=True)
                ws_f = with_formulas[title]
                ws_f.reset_dimensions()
                flags = [tuple(c.data_type == "f" for c in row) for row in ws_f.iter_rows()]
            book.sheets[title] = _Sheet(rows, flags)
        return book
    finally:
        values.close()
        if with_formulas is not None:
            with_formulas.close()


def _missing_sheet(r: _Reader, title: str, present: list[str]) -> None:
    r.problems.append(Problem(r.file, None, title, f"sheet '{title}' is missing{r.hint(title, present)} "
                                                    f"(the workbook has: {', '.join(present)}); "
                                                    "do not rename or delete the sheets"))


def _sheet(r: _Reader, book: _Book, title: str) -> _Sheet | None:
    """A worksheet by title; None (problem recorded) when it is missing or a chart sheet."""
    if title not in book.sheets:
        _missing_sheet(r, title, book.sheetnames)
        return None
    sheet = book.sheets[title]
    if sheet is None:
        r.problems.append(Problem(r.file, None, title, f"'{title}' is a chart sheet, not a sheet of cells; "
                                                        "do not replace the sheets of the workbook"))
    return sheet


def _read_table(r: _Reader, book: _Book, title: str, required: tuple[str, ...],
                extra: Callable[[str], bool] = lambda h: False) -> _Table | None:
    """Read a sheet by its header names; None (problems recorded) if it is unusable."""
    sheet = _sheet(r, book, title)
    if sheet is None:
        return None
    header = sheet.values[0] if sheet.values else ()
    columns: dict[str, int] = {}
    ok = True
    for i, h in enumerate(header, start=1):
        name = str(h).strip() if h is not None else ""
        if name in columns:
            r.problems.append(Problem(r.file, 1, f"{title}!{get_column_letter(i)}1",
                                      f"column '{name}' appears twice in the header row"))
            ok = False
        elif name in required or extra(name):
            columns[name] = i
    for name in required:
        if name not in columns:
            r.problems.append(Problem(r.file, 1, f"{title}!A1",
                                      f"the header row has no '{name}' column (expected: {', '.join(required)}); "
                                      "do not rename, move out or delete the header cells"))
            ok = False
    if not ok:
        return None
    table = _Table(title, columns, [])
    for number, (row_v, row_f) in enumerate(zip(sheet.values[1:], sheet.formulas[1:]), start=2):
        cells: dict[str, Any] = {}
        for name, i in columns.items():
            cv = row_v[i - 1] if i - 1 < len(row_v) else None
            if i - 1 < len(row_f) and row_f[i - 1] and cv is None:
                r.problems.append(Problem(r.file, number, f"{title}!{get_column_letter(i)}{number}",
                                          "holds a formula whose result was never saved; open and save the "
                                          "workbook in Excel, or type the number"))
                cv = _BAD
            cells[name] = cv
        if any(v is not None and not (isinstance(v, str) and not v.strip()) for v in cells.values()):
            table.rows.append((number, cells))
    return table


def _check_keys(r: _Reader, t: _Table, row: int, cells: dict[str, Any]) -> bool:
    """Every key cell is filled in; otherwise a problem on the first empty one."""
    for column in KEYS[t.title]:
        value = r.text(t, column, row, cells.get(column))
        if value is None:
            r.problem(t, column, row, f"'{column}' is blank; every row needs its {', '.join(KEYS[t.title])} "
                                      "as exported")
        if value is None or value is _BAD:
            return False
    return True


def _duplicate(r: _Reader, t: _Table, row: int, key: Any, seen: dict[Any, int]) -> bool:
    if key in seen:
        r.problem(t, KEYS[t.title][0], row, f"this row repeats row {seen[key]}; give each "
                                            f"{' / '.join(KEYS[t.title])} once")
        return True
    seen[key] = row
    return False


def _read_by_year(r: _Reader, t: _Table, figure_units: dict[str, str]) -> dict[str, tuple[int, dict[str, Any]]]:
    """Name -> (row, values by year given) for every row of the 'By year' sheet."""
    years: dict[str, str] = {}
    for column, i in t.columns.items():
        if column in BY_YEAR_COLUMNS:
            continue
        try:
            years[column] = _check_fy(column)
        except ValueError as exc:
            r.problems.append(Problem(r.file, 1, f"{t.title}!{get_column_letter(i)}1",
                                      f"a column heading here must be a financial year: {exc}"))
    out: dict[str, tuple[int, dict[str, Any]]] = {}
    seen: dict[Any, int] = {}
    for row, cells in t.rows:
        if not _check_keys(r, t, row, cells):
            continue
        name = str(cells["name"]).strip()
        if _duplicate(r, t, row, name, seen):
            continue
        if name not in figure_units:
            r.problem(t, "name", row, f"'{name}' is not a parameter or option cost item of this workbook"
                                      f"{r.hint(name, list(figure_units))}; keep the names as exported")
            continue
        r.read_only(t, row, cells, {"unit": figure_units[name]})
        values = {fy: r.number(t, col, row, cells.get(col)) for col, fy in years.items()}
        out[name] = (row, {fy: v for fy, v in values.items() if v is not None})
    return out


# ---------------------------------------------------------------------------
# Import: comparing with the base and building the overlay
# ---------------------------------------------------------------------------


@dataclass
class _FigureRead:
    """What the workbook says about one figure (any field may be _BAD)."""

    value: Any
    values: Any
    price_year: Any
    source: Any
    confidence: Any
    distribution: Any
    note: Any

    def bad(self) -> bool:
        return any(v is _BAD for v in vars(self).values()) or (
            isinstance(self.values, dict) and any(v is _BAD for v in self.values.values()))


def _read_figure(r: _Reader, t: _Table, row: int, cells: dict[str, Any], name: str,
                 by_year: dict[str, tuple[int, dict[str, Any]]], by_year_table: _Table | None) -> _FigureRead:
    fig = _FigureRead(
        value=r.number(t, "value", row, cells.get("value")),
        values=None,
        price_year=r.financial_year(t, "price_year", row, cells.get("price_year")),
        source=r.text(t, "source", row, cells.get("source")),
        confidence=r.confidence(t, row, cells.get("confidence")),
        distribution=r.distribution(t, row, cells.get("distribution")),
        note=r.text(t, "note", row, cells.get("note")),
    )
    year_row, values = by_year.get(name, (None, {}))
    if values and by_year_table is not None:
        fig.values = values
        if fig.value is not None:
            r.problems.append(Problem(r.file, year_row, by_year_table.ref("name", year_row),
                                      f"{name} has values by year here and a single value on {t.ref('value', row)}; "
                                      "give one or the other (clear this row, or clear the value)"))
            fig.value = _BAD
    elif fig.value is None:
        r.problem(t, "value", row, f"{name} has no value: give a number here, or values by year on the "
                                   f"'{BY_YEAR}' sheet")
        fig.value = _BAD
    return fig


class _Scaled(dict):
    """A distribution scaled with its figure's value on import (said so in the change line)."""


def _follow_value(r: _Reader, t: _Table, row: int, name: str, old_value: float | None, old_spec: dict | None,
                  new_value: Any, new_spec: Any, column: str = "value") -> Any:
    """The distribution a moved value takes: scaled about the new value when the cell was left as it was.

    Returns the (possibly scaled) distribution, or _BAD with the problem
    recorded at the distribution cell when it cannot move. A scaled range that
    leaves what the unit allows (a share above 1) is found when the overlay is
    validated, and mapped back to the same cell.
    """
    if (old_spec is None or new_spec != old_spec or old_value is None or new_value in (None, _BAD)
            or _same_number(old_value, new_value) or old_spec.get("type") == "fixed"):
        return new_spec
    try:
        moved = _Scaled(scale_distribution(old_spec, old_value, new_value))
    except ValueError as exc:
        r.problem(t, "distribution", row, f"the {column} of {name} moved from {_show(old_value)} to "
                                          f"{_show(new_value)} but its distribution {format_distribution(old_spec)} "
                                          f"cannot move with it: {exc}; restate the distribution for the new {column}")
        return _BAD
    return moved


#: Changes to these fields change the figure's number, so it needs a new source.
_NUMBER_FIELDS = {"value", "values", "price_year"}


def _figure_changes(old: Figure | Any | None, new: _FigureRead) -> list[tuple[str, str]]:
    """The fields of a figure the workbook changes, as ``(field, phrase)`` pairs."""
    before = {"value": None, "values": None, "price_year": None, "source": None, "confidence": None,
              "distribution": None, "note": None} if old is None else {
        "value": old.value if old.values is None else None, "values": old.values, "price_year": old.price_year,
        "source": (old.source or "").strip() or None, "confidence": old.confidence,
        "distribution": old.distribution or None, "note": (old.note or "").strip() or None}
    out = []
    if not _same_number(before["value"], new.value):
        out.append(("value", f"value {_show(before['value'])} -> {_show(new.value)}"))
    if not _same_values(before["values"], new.values):
        old_v, new_v = before["values"] or {}, new.values or {}
        diffs = [f"{y}: {_show(old_v.get(y))} -> {_show(new_v.get(y))}" for y in sorted({*old_v, *new_v})
                 if not _same_number(old_v.get(y), new_v.get(y))]
        out.append(("values", "values by year " + ", ".join(diffs)))
    if before["price_year"] != new.price_year:
        out.append(("price_year", f"price_year {_show(before['price_year'])} -> {_show(new.price_year)}"))
    if before["distribution"] != new.distribution:
        how = " scaled with the value" if isinstance(new.distribution, _Scaled) else ""
        out.append(("distribution", f"distribution{how} {format_distribution(before['distribution']) or '(none)'} "
                                    f"-> {format_distribution(new.distribution) or '(none)'}"))
    if before["confidence"] != new.confidence:
        out.append(("confidence", f"confidence {_show(before['confidence'])} -> {_show(new.confidence)}"))
    if before["note"] != new.note:
        out.append(("note", "note edited"))
    if before["source"] != new.source:
        out.append(("source", "source changed"))
    return out


def _source_tail(old_source: str | None, new_source: str | None, word: str = "source") -> str:
    if (old_source or "").strip() != (new_source or ""):
        return f' [new {word}: "{new_source}"]'
    return f' [{word} unchanged: "{new_source}"]'


def _check_provenance(r: _Reader, t: _Table, row: int, name: str, old: Any | None, new: _FigureRead,
                      changes: list[tuple[str, str]]) -> None:
    """A new or changed number must bring a source of its own, and no figure loses
    its source or confidence grade."""
    old_source = ((old.source or "").strip() or None) if old is not None else None
    numbers_changed = any(f in _NUMBER_FIELDS for f, _ in changes)
    if new.source is None and old is None:
        r.problem(t, "source", row, f"a new figure needs a source: say where the value of {name} comes from")
    elif numbers_changed and new.source in (None, old_source):
        r.problem(t, "source", row, f"a changed figure needs its own source: the number of {name} changed but "
                                    + ("its source is blank" if new.source is None else
                                       "its source is the old one") + "; say where the new figure comes from")
    elif new.source is None and old_source is not None:
        r.problem(t, "source", row, f"the source of {name} is blank; every figure keeps a source (put it back, "
                                    "or give a better one)")
    if new.confidence is None and (old is None or old.confidence is not None):
        r.problem(t, "confidence", row, f"the confidence grade of {name} is blank; give a whole number from "
                                        "1 (audited outturn) to 5 (judgement)")


def _figure_body(raw: Any, new: _FigureRead, unit: str) -> dict[str, Any]:
    """The whole figure mapping for the overlay: the base's, with the workbook's fields."""
    body = dict(raw) if isinstance(raw, dict) else {}
    for key in ("value", "values"):
        body.pop(key, None)
    body = {("value" if new.values is None else "values"): (_tidy(new.value) if new.values is None
                                                            else {y: _tidy(v) for y, v in sorted(new.values.items())}),
            **body}
    body.setdefault("unit", unit)
    for key in ("price_year", "source", "confidence", "distribution", "note"):
        value = getattr(new, key)
        if value is None:
            body.pop(key, None)
        else:
            body[key] = _Flow(value) if key == "distribution" else value
    return body


def _cells(prefix: str, t: _Table, row: int, fields: tuple[str, ...]) -> dict[str, tuple[str, int]]:
    first = KEYS[t.title][-1]
    out = {prefix: (t.ref(first, row), row)}
    out.update({f"{prefix}.{f}": (t.ref(f, row), row) for f in fields if f in t.columns})
    return out


def _by_year_cells(prefix: str, by_year_table: _Table | None, year_row: int | None,
                   years: dict[str, Any] | None) -> dict[str, tuple[str, int]]:
    if by_year_table is None or year_row is None:
        return {}
    out = {f"{prefix}.values": (by_year_table.ref("name", year_row), year_row)}
    for fy in years or {}:
        if fy in by_year_table.columns:
            out[f"{prefix}.values.{fy}"] = (by_year_table.ref(fy, year_row), year_row)
    return out


_FIGURE_FIELDS = ("value", "unit", "price_year", "source", "confidence", "distribution", "note")


def _read_parameters(r: _Reader, t: _Table, by_year: dict[str, tuple[int, dict[str, Any]]],
                     by_year_table: _Table | None) -> None:
    specs = parameter_specs()
    expected = {row["name"]: row for row in _parameter_rows(r.base)}
    raw_tree = r.base.document.get("parameters", {})
    seen: dict[Any, int] = {}
    for row, cells in t.rows:
        if not _check_keys(r, t, row, cells):
            continue
        name = str(cells["name"]).strip()
        if _duplicate(r, t, row, name, seen):
            continue
        if name not in specs:
            r.problem(t, "name", row, f"unknown parameter '{name}'{r.hint(name, list(specs))}; keep the names "
                                      "as exported (a new row must use a parameter name from the model's catalogue)")
            continue
        old = r.base.parameters.get(name)
        unit = specs[name].unit
        r.read_only(t, row, cells, expected[name] if old else {"unit": unit})
        new = _read_figure(r, t, row, cells, name, by_year, by_year_table)
        if old is not None and old.values is None and new.values is None:
            new.distribution = _follow_value(r, t, row, name, old.value, old.distribution or None, new.value,
                                             new.distribution)
        if new.bad():
            continue
        changes = _figure_changes(old, new)
        if not changes:
            continue
        _check_provenance(r, t, row, name, old, new, changes)
        raw: Any = raw_tree
        for part in name.split("."):
            raw = raw.get(part) if isinstance(raw, dict) else None
        prefix = f"parameters.{name}"
        r.edits.append(_Edit(
            path=("parameters", *name.split(".")),
            body=_figure_body(raw, new, unit),
            line=f"{name}: " + ("new figure, " if old is None else "")
                 + "; ".join(p for _, p in changes) + _source_tail(old.source if old else None, new.source),
            cells={**_cells(prefix, t, row, _FIGURE_FIELDS),
                   **_by_year_cells(prefix, by_year_table, by_year.get(name, (None,))[0], new.values)},
            key=prefix,
        ))


def _read_costs(r: _Reader, t: _Table, by_year: dict[str, tuple[int, dict[str, Any]]],
                by_year_table: _Table | None) -> None:
    expected = {(row["option"], row["kind"], row["item"]): row for row in _cost_rows(r.base)}
    seen: dict[Any, int] = {}
    for row, cells in t.rows:
        if not _check_keys(r, t, row, cells):
            continue
        oid, kind, item_id = (str(cells[k]).strip() for k in KEYS[COSTS])
        if _duplicate(r, t, row, (oid, kind, item_id), seen):
            continue
        if oid not in r.base.options:
            r.problem(t, "option", row, f"no option '{oid}'{r.hint(oid, list(r.base.options))} "
                                        f"(options: {', '.join(r.base.options)})")
            continue
        if kind not in KINDS:
            r.problem(t, "kind", row, f"kind must be one_off or recurring, got '{kind}'")
            continue
        items = getattr(r.base.options[oid], KINDS[kind])
        if item_id not in items:
            r.problem(t, "item", row, f"option '{oid}' has no {kind} cost item '{item_id}'"
                                      f"{r.hint(item_id, list(items))}; new cost items belong in the scenario file")
            continue
        old = items[item_id]
        name = _cost_name(oid, kind, item_id)
        r.read_only(t, row, cells, expected[(oid, kind, item_id)])
        new = _read_figure(r, t, row, cells, name, by_year, by_year_table)
        if old.values is None and new.values is None:
            new.distribution = _follow_value(r, t, row, name, old.value, old.distribution or None, new.value,
                                             new.distribution)
        if new.bad():
            continue
        changes = _figure_changes(old, new)
        if not changes:
            continue
        _check_provenance(r, t, row, name, old, new, changes)
        raw = r.base.document["options"][oid][KINDS[kind]][item_id]
        prefix = name
        r.edits.append(_Edit(
            path=("options", oid, KINDS[kind], item_id),
            body=_figure_body(raw, new, old.unit),
            line=f"{name}: " + "; ".join(p for _, p in changes) + _source_tail(old.source, new.source),
            cells={**_cells(prefix, t, row, _FIGURE_FIELDS + ("category", "when", "start", "end", "funder",
                                                              "optimism_bias")),
                   **_by_year_cells(prefix, by_year_table, by_year.get(name, (None,))[0], new.values)},
            key=prefix,
        ))


def _read_effects(r: _Reader, t: _Table) -> None:
    expected = {(row["option"], row["effect"]): row for row in _effect_rows(r.base)}
    seen: dict[Any, int] = {}
    for row, cells in t.rows:
        if not _check_keys(r, t, row, cells):
            continue
        oid, eid = (str(cells[k]).strip() for k in KEYS[EFFECTS])
        if _duplicate(r, t, row, (oid, eid), seen):
            continue
        if oid not in r.base.options:
            r.problem(t, "option", row, f"no option '{oid}'{r.hint(oid, list(r.base.options))} "
                                        f"(options: {', '.join(r.base.options)})")
            continue
        effects = r.base.options[oid].effects
        if eid not in effects:
            r.problem(t, "effect", row, f"option '{oid}' has no effect '{eid}'{r.hint(eid, list(effects))}; "
                                        "new effects belong in the scenario file")
            continue
        old = effects[eid]
        r.read_only(t, row, cells, expected[(oid, eid)])
        change = r.number(t, "change", row, cells.get("change"))
        if change is None:
            r.problem(t, "change", row, "change is blank; give the size of the effect as a number")
            change = _BAD
        new = {
            "change": change,
            "distribution": r.distribution(t, row, cells.get("distribution")),
            "evidence": r.text(t, "evidence", row, cells.get("evidence")),
            "confidence": r.confidence(t, row, cells.get("confidence"), required=True),
        }
        if new["evidence"] is None:
            r.problem(t, "evidence", row, "evidence is blank; say what supports the size of the effect")
            new["evidence"] = _BAD
        new["distribution"] = _follow_value(r, t, row, f"options.{oid}.effects.{eid}", old.change,
                                            old.distribution or None, new["change"], new["distribution"],
                                            column="change")
        if any(v is _BAD for v in new.values()):
            continue
        before = {"change": old.change, "distribution": old.distribution or None,
                  "evidence": old.evidence.strip(), "confidence": old.confidence}
        changed = [k for k in new if not (_same_number(before[k], new[k]) if k == "change" else before[k] == new[k])]
        if not changed:
            continue
        name = f"options.{oid}.effects.{eid}"
        if "change" in changed and "evidence" not in changed:
            r.problem(t, "evidence", row, f"a changed effect needs its own evidence: the change of {name} changed "
                                          "but its evidence is the old one; say what supports the new size")
        phrases = []
        for k in changed:
            if k == "distribution":
                how = " scaled with the change" if isinstance(new[k], _Scaled) else ""
                phrases.append(f"distribution{how} {format_distribution(before[k]) or '(none)'} -> "
                               f"{format_distribution(new[k]) or '(none)'}")
            elif k == "evidence":
                phrases.append("evidence changed")
            else:
                phrases.append(f"{k} {_show(before[k])} -> {_show(new[k])}")
        body = {k: (_Flow(new[k]) if k == "distribution" and new[k] is not None else new[k]) for k in changed}
        r.edits.append(_Edit(
            path=("options", oid, "effects", eid), body=body,
            line=f"{name}: " + "; ".join(phrases) + _source_tail(before["evidence"], new["evidence"], "evidence"),
            cells=_cells(name, t, row, ("driver", "mode", "change", "start", "ramp_years", "distribution",
                                        "evidence", "confidence")),
            key=name,
        ))


def _check_about(r: _Reader, book: _Book) -> str:
    """Whether the workbook came from the base scenario as it is now: "same",
    "changed" or "unknown" (the last two with a problem recorded)."""
    sheet = _sheet(r, book, ABOUT)
    if sheet is None:
        return "unknown"
    for number, row in enumerate(sheet.values, start=1):
        if row[:1] == ("sha256",):
            got = str((row[1] if len(row) > 1 else None) or "").strip()
            if got != r.base.sha256:
                r.problems.append(Problem(
                    r.file, number, f"{ABOUT}!B{number}",
                    f"this workbook was exported from a different version of the scenario (sha256 {got[:12]}...) "
                    f"than {r.base.path} is now (sha256 {r.base.sha256[:12]}...): cells you did not edit "
                    "would overwrite its newer figures. Export a fresh workbook from the scenario and make "
                    "your edits there"))
                return "changed"
            return "same"
    r.problems.append(Problem(r.file, None, ABOUT, "no 'sha256' row on the About sheet, so the scenario this "
                                                   "workbook came from cannot be checked; was it written by "
                                                   "wcf-model export-assumptions?"))
    return "unknown"


def _check_orphans(r: _Reader, by_year_t: _Table, by_year: dict[str, tuple[int, dict[str, Any]]],
                   params: _Table, costs: _Table) -> None:
    """A changed "By year" row whose figure has no row on its main sheet would be lost."""
    listed = {str(c.get("name")).strip() for _, c in params.rows}
    listed |= {_cost_name(*(str(c.get(k)).strip() for k in KEYS[COSTS])) for _, c in costs.rows}
    before = _by_year_figures(r.base)
    for name, (row, given) in by_year.items():
        if any(v is _BAD for v in given.values()):
            continue  # a cell that could not be read; its problem is recorded
        unchanged = name in before and _same_values(before[name][1], given)
        if given and name not in listed and not unchanged:
            r.problems.append(Problem(r.file, row, by_year_t.ref("name", row),
                                      f"{name} has values by year but no row on the "
                                      f"'{COSTS if name.startswith('options.') else PARAMETERS}' sheet "
                                      "(which holds its source and confidence); add the row there"))


def _read_edits(workbook_path: str | Path, base: Scenario, *, check_base: bool = True) -> list[_Edit]:
    """Every change an edited workbook makes to ``base`` (internal; see :func:`import_assumptions`).

    Raises
    ------
    ScenarioError
        With every problem in the workbook, each keyed ``Sheet!Cell``.
    """
    path = Path(workbook_path)
    r = _Reader(str(workbook_path), base)
    book, problems = _open(path, r.file)
    if problems or book is None:
        raise ScenarioError(problems)
    if check_base:
        if _check_about(r, book) == "changed":  # every other difference would be a symptom of it
            raise ScenarioError(r.problems)
    params = _read_table(r, book, PARAMETERS, PARAMETER_COLUMNS)
    by_year_t = _read_table(r, book, BY_YEAR, BY_YEAR_COLUMNS, extra=lambda h: h != "")
    costs = _read_table(r, book, COSTS, COST_COLUMNS)
    effects = _read_table(r, book, EFFECTS, EFFECT_COLUMNS)
    # Names a "By year" row may use: every parameter in the catalogue, and the
    # base's cost items (by their full dotted names).
    units = {n: s.unit for n, s in parameter_specs().items()}
    units.update({name: fig.unit for name, fig in base.iter_figures() if name.startswith("options.")})
    by_year = _read_by_year(r, by_year_t, units) if by_year_t is not None else {}
    if params is not None:
        _read_parameters(r, params, by_year, by_year_t)
    if costs is not None:
        _read_costs(r, costs, by_year, by_year_t)
    if effects is not None:
        _read_effects(r, effects)
    if by_year_t is not None and params is not None and costs is not None:
        _check_orphans(r, by_year_t, by_year, params, costs)
    if r.problems:
        raise ScenarioError(r.problems)
    return r.edits


# ---------------------------------------------------------------------------
# Import: writing and validating the overlay
# ---------------------------------------------------------------------------


class _Flow(dict):
    """A mapping written on one line in the overlay (``{type: triangular, ...}``)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))
# Financial years quoted ("2019-20"), as the scenario files write them.
_Dumper.add_representer(str, lambda d, data: d.represent_scalar(
    "tag:yaml.org,2002:str", data, style='"' if re.fullmatch(r"\d{4}-\d{2}", data) else None))


def _overlay_text(base_path: Path, out_path: Path, workbook_path: Path, edits: list[_Edit],
                  name: str, title: str) -> str:
    extends = Path(os.path.relpath(base_path.resolve(), out_path.resolve().parent)).as_posix()
    doc: dict[str, Any] = {"scenario": {"name": name, "title": title, "extends": extends}}
    for edit in edits:
        node = doc
        for part in edit.path[:-1]:
            node = node.setdefault(part, {})
        node[edit.path[-1]] = edit.body
    header = [
        f"# Changes to {base_path.name} made in the workbook {workbook_path.name},",
        "# written by wcf-model import-assumptions. This file holds only what changed;",
        f"# everything else comes from the file it extends. {len(edits)} change(s):",
        *(f"#   - {' '.join(e.line.split())}" for e in edits),
        "",
    ]
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)
    return "\n".join(header) + body


def _map_back(problems: list[Problem], edits: list[_Edit], workbook: str) -> list[Problem]:
    """Problems found in the generated overlay, located at the workbook cells they came from.

    A problem keyed inside a changed row (``parameters.x.distribution``) goes
    to that cell; one keyed on a group (shares that no longer add up to 1)
    goes to the first changed row of the group; anything else keeps its
    scenario key.
    """
    cells: dict[str, tuple[str, int]] = {k: v for e in edits for k, v in e.cells.items()}
    owner: dict[str, str] = {k: e.key for e in edits for k in e.cells}
    longest_first = sorted(cells, key=len, reverse=True)
    out = []
    for p in problems:
        match = next((k for k in longest_first if p.key == k or p.key.startswith(k + ".")), None)
        if match is None and p.key:
            below = sorted((cells[k][1], k) for k in cells if k.startswith(p.key + "."))
            match = below[0][1] if below else None
        if match is None:
            out.append(Problem(workbook, None, p.key, f"{p.message} (after applying the workbook's changes)"))
            continue
        ref, row = cells[match]
        key = owner[match]
        name = key.removeprefix("parameters.")
        if p.key == key:
            where = name
        elif p.key.startswith(key + "."):
            where = f"{name} ({p.key.removeprefix(key + '.')})"
        else:  # a problem with the group the changed row belongs to
            where = f"{p.key.removeprefix('parameters.')}, after the change to {name}"
        out.append(Problem(workbook, row, ref, f"{where}: {p.message}"))
    return out


def import_assumptions(workbook_path: str | Path, base_scenario_path: str | Path, out_path: str | Path, *,
                       name: str | None = None, title: str | None = None, check_base: bool = True) -> list[str]:
    """Turn an edited assumptions workbook into a scenario overlay holding only the changes.

    Parameters
    ----------
    workbook_path : str or Path
        The workbook, as written by :func:`export_assumptions` and edited.
    base_scenario_path : str or Path
        The scenario it was exported from; the overlay ``extends`` it.
    out_path : str or Path
        The overlay YAML to write. Its ``extends`` is the base's path relative
        to this file's folder. An existing file is replaced atomically, and
        only when everything is valid. It may not be a file of the base's
        ``extends`` chain.
    name : str, optional
        The overlay's scenario name; ``<base name>-edited`` by default.
    title : str, optional
        Its title; the base's title with "(edited in <workbook>)" by default.
    check_base : bool
        Refuse a workbook exported from a different version of the base (its
        sha256 on the About sheet differs), because its unedited cells would
        then overwrite the base's newer figures. True by default.

    Returns
    -------
    list of str
        One line per changed row, e.g.
        ``costs.placements.weekly.ifa: value 820 -> 900 [new source: "..."]``.
        **Empty when nothing changed; then no file is written** (and an existing
        ``out_path`` is left as it was), so the caller can say "no changes".

    Raises
    ------
    ScenarioError
        With every problem at once, each ``Problem(file=<workbook>, line=<row>,
        key="<Sheet>!<Cell>", message)``: numbers that are not numbers, unknown
        names (with a suggestion), a changed figure without its own source, a
        missing sheet or column, distribution text that cannot be read,
        confidence outside 1-5, edits to cells that are not editable, and the
        problems :func:`load_scenario` finds in the resulting overlay, mapped
        back to the cells they come from. Problems in the base scenario itself
        are raised as they are, against the base file.
    UsageError
        When ``out_path`` is a file of the base scenario's chain.
    OutputError
        When ``out_path`` is the workbook being read, a folder, or cannot be written.
    """
    workbook_path, base_path, out_path = Path(workbook_path), Path(base_scenario_path), Path(out_path)
    base = load_scenario(base_path)
    if out_path.resolve() in {f.resolve() for f in base.files}:
        raise UsageError(f"refusing to write the overlay over {out_path}, which the base scenario "
                         f"{base_path} is made from; choose a new file name with -o")
    inputs = [workbook_path, *base.files]
    # Writing a scenario is this command's job, so scenarios/ is allowed; it may
    # not write over the workbook it reads nor the files the overlay extends.
    check_output_file(out_path, inputs, allow_inputs=True)
    edits = _read_edits(workbook_path, base, check_base=check_base)
    if not edits:
        return []
    text = _overlay_text(base_path, out_path, workbook_path, edits, name or f"{base.name}-edited",
                         title or f"{base.header.title} (edited in {workbook_path.name})")

    def write_checked(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")
        try:
            load_scenario(tmp)
        except ScenarioError as exc:
            raise ScenarioError(_map_back(exc.problems, edits, str(workbook_path))) from None

    write_file(out_path, write_checked, inputs=inputs, allow_inputs=True)
    return [e.line for e in edits]

