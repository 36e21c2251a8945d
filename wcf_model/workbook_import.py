"""Reading an edited assumptions workbook and checking every edit against the scenario
it came from (the round trip's rules are in :mod:`wcf_model.workbook_io`).

:func:`read_edits` reads the workbook whole (its size, its archive and every
cell held to :mod:`wcf_model.limits`), compares each row with what
:mod:`wcf_model.workbook_layout` shows for the base scenario, and returns the
changes as :class:`Edit` records, or raises with every problem at once,
located as ``Sheet!Cell``.
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

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from .catalogue import option_input_name, parameter_specs, suggest
from .distributions import check_distribution, scale_distribution
from .errors import InputFileError, Problem, ScenarioError
from .grammar import format_distribution, parse_distribution, parse_number, tidy_number
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
from .outputs import from_inert
from .scenario import Scenario
from .schema import Figure, _check_fy
from .workbook_layout import (
    ABOUT,
    BY_YEAR,
    BY_YEAR_COLUMNS,
    COSTS,
    COST_COLUMNS,
    EDITABLE,
    EFFECTS,
    EFFECT_COLUMNS,
    KEYS,
    KINDS,
    PARAMETERS,
    PARAMETER_COLUMNS,
    SHEETS,
    by_year_figures,
    cost_name,
    cost_rows,
    effect_rows,
    parameter_rows,
)


def _show(x: Any) -> str:
    """A value for a human-readable change line."""
    if x is None:
        return "(none)"
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return f"{x:,.10g}"
    return str(x)


# ---------------------------------------------------------------------------
# Import: reading the workbook
# ---------------------------------------------------------------------------

#: Marks a cell that could not be read (its problem is already recorded).
BAD = object()


@dataclass
class _Table:
    """One sheet's header and rows, read with both formulas and their results."""

    title: str
    columns: dict[str, int]  # header name -> 1-based column
    rows: list[tuple[int, dict[str, Any]]]  # (row number, header name -> value)

    def ref(self, column: str, row: int) -> str:
        return f"{self.title}!{get_column_letter(self.columns[column])}{row}"


@dataclass
class Edit:
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
    edits: list[Edit] = field(default_factory=list)

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
        """A number, None for a blank cell, or BAD (problem recorded)."""
        if raw is BAD:
            return BAD
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, bool):
            self.problem(t, column, row, f"expected {what}, got {str(raw).upper()} (true/false)")
            return BAD
        if isinstance(raw, (int, float)):
            if (why := magnitude_problem(raw)) is not None:
                self.problem(t, column, row, f"expected {what}: this number {why}")
                return BAD
            return tidy_number(raw)
        if isinstance(raw, (dt.date, dt.datetime, dt.time)):
            self.problem(t, column, row, f"expected {what}, got a date ({raw}); Excel may have turned "
                                         "the number into a date: format the cell as a number and retype it")
            return BAD
        try:
            return tidy_number(parse_number(str(raw)))  # a number typed as text, e.g. '646'
        except ValueError as exc:
            shown = str(raw) if len(str(raw)) <= 60 else str(raw)[:60] + "..."
            detail = (str(exc) if "at most" in str(exc) else
                      "type the number alone, without £ signs, commas, % signs or words"
                      + (" (underscores are not read as digit separators)" if "_" in shown else ""))
            self.problem(t, column, row, f"expected {what}, got '{shown}' (text); {detail}")
            return BAD

    def text(self, t: _Table, column: str, row: int, raw: Any) -> Any:
        """Stripped text, None for a blank cell, or BAD."""
        if raw is None or raw is BAD:
            return raw
        if isinstance(raw, (dt.date, dt.datetime, dt.time)):
            self.problem(t, column, row, f"expected text, got a date ({raw}); Excel turned the text into a "
                                         "date: type it again with an apostrophe first (e.g. '2019-20)")
            return BAD
        if isinstance(raw, float):
            raw = tidy_number(raw)
        text = str(raw).strip()
        return text or None

    def confidence(self, t: _Table, row: int, raw: Any, required: bool = False) -> Any:
        value = self.number(t, "confidence", row, raw, "a whole number from 1 to 5")
        if value is BAD:
            return BAD
        if value is None:
            if required:
                self.problem(t, "confidence", row, "confidence is missing; give a whole number from "
                                                  "1 (audited outturn) to 5 (judgement)")
                return BAD
            return None
        if not isinstance(value, int) or not 1 <= value <= 5:
            self.problem(t, "confidence", row, f"confidence must be a whole number from 1 (audited outturn) "
                                              f"to 5 (judgement), got {_show(value)}")
            return BAD
        return value

    def financial_year(self, t: _Table, column: str, row: int, raw: Any) -> Any:
        text = self.text(t, column, row, raw)
        if text is None or text is BAD:
            return text
        try:
            return _check_fy(text)
        except ValueError as exc:
            self.problem(t, column, row, str(exc))
            return BAD

    def distribution(self, t: _Table, row: int, raw: Any) -> Any:
        text = self.text(t, "distribution", row, raw)
        if text is None or text is BAD:
            return text
        try:
            spec = parse_distribution(text)
        except ValueError as exc:
            self.problem(t, "distribution", row,
                         f"cannot read the distribution '{text}' ({exc}); write it as type(name=number, ...), "
                         "e.g. triangular(low=0.2, mode=0.25, high=0.3), or leave it blank")
            return BAD
        found = check_distribution(spec, None)
        for sub, msg in found:
            self.problem(t, "distribution", row, f"distribution {sub + ': ' if sub else ''}{msg}")
        return BAD if found else spec

    def read_only(self, t: _Table, row: int, got: dict[str, Any], expected: dict[str, Any]) -> None:
        """Refuse edits to cells that are not blue."""
        for column in t.columns:
            if column not in expected or column in EDITABLE.get(t.title, ()):
                continue
            want, have = expected[column], got.get(column)
            if have is not BAD and not _same_cell(want, have):
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
        return str(tidy_number(want)) == str(tidy_number(have))
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
                cv = BAD
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
        if value is None or value is BAD:
            return False
    return True


def _duplicate(r: _Reader, t: _Table, row: int, key: Any, seen: dict[Any, int]) -> bool:
    if key in seen:
        r.problem(t, KEYS[t.title][0], row, f"this row repeats row {seen[key]}; give each "
                                            f"{' / '.join(KEYS[t.title])} once")
        return True
    seen[key] = row
    return False


def _keyed_rows(r: _Reader, t: _Table):
    """The table's rows whose key cells are sound, each key once, as (row, cells, key).

    The key is the name for a sheet keyed by name, else the tuple of its key
    columns (:data:`~wcf_model.workbook_layout.KEYS`); a repeated key is a
    problem at the later row, which is skipped.
    """
    seen: dict[Any, int] = {}
    for row, cells in t.rows:
        if not _check_keys(r, t, row, cells):
            continue
        parts = tuple(str(cells[k]).strip() for k in KEYS[t.title])
        key = parts[0] if len(parts) == 1 else parts
        if _duplicate(r, t, row, key, seen):
            continue
        yield row, cells, key


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
    for row, cells, name in _keyed_rows(r, t):
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
    """What the workbook says about one figure (any field may be BAD)."""

    value: Any
    values: Any
    price_year: Any
    source: Any
    confidence: Any
    distribution: Any
    note: Any

    def bad(self) -> bool:
        return any(v is BAD for v in vars(self).values()) or (
            isinstance(self.values, dict) and any(v is BAD for v in self.values.values()))


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
            fig.value = BAD
    elif fig.value is None:
        r.problem(t, "value", row, f"{name} has no value: give a number here, or values by year on the "
                                   f"'{BY_YEAR}' sheet")
        fig.value = BAD
    return fig


class Flow(dict):
    """A mapping written on one line in the overlay (``{type: triangular, ...}``)."""


class _Scaled(dict):
    """A distribution scaled with its figure's value on import (said so in the change line)."""


def _follow_value(r: _Reader, t: _Table, row: int, name: str, old_value: float | None, old_spec: dict | None,
                  new_value: Any, new_spec: Any, column: str = "value") -> Any:
    """The distribution a moved value takes: scaled about the new value when the cell was left as it was.

    Returns the (possibly scaled) distribution, or BAD with the problem
    recorded at the distribution cell when it cannot move. A scaled range that
    leaves what the unit allows (a share above 1) is found when the overlay is
    validated, and mapped back to the same cell.
    """
    if (old_spec is None or new_spec != old_spec or old_value is None or new_value in (None, BAD)
            or _same_number(old_value, new_value) or old_spec.get("type") == "fixed"):
        return new_spec
    try:
        moved = _Scaled(scale_distribution(old_spec, old_value, new_value))
    except ValueError as exc:
        r.problem(t, "distribution", row, f"the {column} of {name} moved from {_show(old_value)} to "
                                          f"{_show(new_value)} but its distribution {format_distribution(old_spec)} "
                                          f"cannot move with it: {exc}; restate the distribution for the new {column}")
        return BAD
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
    body = {("value" if new.values is None else "values"): (tidy_number(new.value) if new.values is None
                                                            else {y: tidy_number(v) for y, v in sorted(new.values.items())}),
            **body}
    body.setdefault("unit", unit)
    for key in ("price_year", "source", "confidence", "distribution", "note"):
        value = getattr(new, key)
        if value is None:
            body.pop(key, None)
        else:
            body[key] = Flow(value) if key == "distribution" else value
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


def _changed_figure(r: _Reader, t: _Table, row: int, cells: dict[str, Any], name: str, old: Any,
                    by_year: dict[str, tuple[int, dict[str, Any]]], by_year_table: _Table | None
                    ) -> tuple[_FigureRead, list[tuple[str, str]]] | None:
    """The figure a row gives and its changes against ``old`` (None for a new figure).

    None when the row cannot be read or changes nothing; every problem is recorded on
    ``r``. A moved central value takes its distribution with it (:func:`_follow_value`),
    and a changed number must bring a new source (:func:`_check_provenance`).
    """
    new = _read_figure(r, t, row, cells, name, by_year, by_year_table)
    if old is not None and old.values is None and new.values is None:
        new.distribution = _follow_value(r, t, row, name, old.value, old.distribution or None, new.value,
                                         new.distribution)
    if new.bad():
        return None
    changes = _figure_changes(old, new)
    if not changes:
        return None
    _check_provenance(r, t, row, name, old, new, changes)
    return new, changes


def _read_parameters(r: _Reader, t: _Table, by_year: dict[str, tuple[int, dict[str, Any]]],
                     by_year_table: _Table | None) -> None:
    specs = parameter_specs()
    expected = {row["name"]: row for row in parameter_rows(r.base)}
    raw_tree = r.base.document.get("parameters", {})
    for row, cells, name in _keyed_rows(r, t):
        if name not in specs:
            r.problem(t, "name", row, f"unknown parameter '{name}'{r.hint(name, list(specs))}; keep the names "
                                      "as exported (a new row must use a parameter name from the model's catalogue)")
            continue
        old = r.base.parameters.get(name)
        unit = specs[name].unit
        r.read_only(t, row, cells, expected[name] if old else {"unit": unit})
        read = _changed_figure(r, t, row, cells, name, old, by_year, by_year_table)
        if read is None:
            continue
        new, changes = read
        raw: Any = raw_tree
        for part in name.split("."):
            raw = raw.get(part) if isinstance(raw, dict) else None
        prefix = f"parameters.{name}"
        r.edits.append(Edit(
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
    expected = {(row["option"], row["kind"], row["item"]): row for row in cost_rows(r.base)}
    for row, cells, (oid, kind, item_id) in _keyed_rows(r, t):
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
        name = cost_name(oid, kind, item_id)
        r.read_only(t, row, cells, expected[(oid, kind, item_id)])
        read = _changed_figure(r, t, row, cells, name, old, by_year, by_year_table)
        if read is None:
            continue
        new, changes = read
        raw = r.base.document["options"][oid][KINDS[kind]][item_id]
        prefix = name
        r.edits.append(Edit(
            path=("options", oid, KINDS[kind], item_id),
            body=_figure_body(raw, new, old.unit),
            line=f"{name}: " + "; ".join(p for _, p in changes) + _source_tail(old.source, new.source),
            cells={**_cells(prefix, t, row, _FIGURE_FIELDS + ("category", "when", "start", "end", "funder",
                                                              "optimism_bias")),
                   **_by_year_cells(prefix, by_year_table, by_year.get(name, (None,))[0], new.values)},
            key=prefix,
        ))


def _read_effects(r: _Reader, t: _Table) -> None:
    expected = {(row["option"], row["effect"]): row for row in effect_rows(r.base)}
    for row, cells, (oid, eid) in _keyed_rows(r, t):
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
            change = BAD
        new = {
            "change": change,
            "distribution": r.distribution(t, row, cells.get("distribution")),
            "evidence": r.text(t, "evidence", row, cells.get("evidence")),
            "confidence": r.confidence(t, row, cells.get("confidence"), required=True),
        }
        if new["evidence"] is None:
            r.problem(t, "evidence", row, "evidence is blank; say what supports the size of the effect")
            new["evidence"] = BAD
        new["distribution"] = _follow_value(r, t, row, option_input_name(oid, "effects", eid), old.change,
                                            old.distribution or None, new["change"], new["distribution"],
                                            column="change")
        if any(v is BAD for v in new.values()):
            continue
        before = {"change": old.change, "distribution": old.distribution or None,
                  "evidence": old.evidence.strip(), "confidence": old.confidence}
        changed = [k for k in new if not (_same_number(before[k], new[k]) if k == "change" else before[k] == new[k])]
        if not changed:
            continue
        name = option_input_name(oid, "effects", eid)
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
        body = {k: (Flow(new[k]) if k == "distribution" and new[k] is not None else new[k]) for k in changed}
        r.edits.append(Edit(
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
    keys = [tuple(str(c.get(k)).strip() for k in KEYS[COSTS]) for _, c in costs.rows]
    # a row of no known kind names no input; its own problem is recorded where it is read
    listed |= {cost_name(oid, kind, item) for oid, kind, item in keys if kind in KINDS}
    before = by_year_figures(r.base)
    for name, (row, given) in by_year.items():
        if any(v is BAD for v in given.values()):
            continue  # a cell that could not be read; its problem is recorded
        unchanged = name in before and _same_values(before[name][1], given)
        if given and name not in listed and not unchanged:
            r.problems.append(Problem(r.file, row, by_year_t.ref("name", row),
                                      f"{name} has values by year but no row on the "
                                      f"'{COSTS if name.startswith('options.') else PARAMETERS}' sheet "
                                      "(which holds its source and confidence); add the row there"))


def read_edits(workbook_path: str | Path, base: Scenario, *, check_base: bool = True) -> list[Edit]:
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
