"""Writing a scenario's assumptions workbook, the file a finance officer edits in Excel
(the round trip's rules are in :mod:`wcf_model.workbook_io`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .catalogue import option_input_name
from .distributions import REGISTRY as DISTRIBUTIONS
from .errors import UsageError
from .outputs import check_output_file, write_file
from .register import CONFIDENCE
from .scenario import Scenario
from .workbook_layout import (
    ABOUT,
    BY_YEAR,
    BY_YEAR_COLUMNS,
    COSTS,
    COST_COLUMNS,
    EDITABLE,
    EDITABLE_FILL,
    EFFECTS,
    EFFECT_COLUMNS,
    HEADER_FILL,
    HEADER_FONT,
    HEADER_NOTES,
    MONTE_CARLO_COLUMNS,
    PARAMETERS,
    PARAMETER_COLUMNS,
    by_year_figures,
    cost_name,
    cost_rows,
    effect_rows,
    monte_carlo_cells,
    parameter_rows,
)

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
        "'Option costs' and 'Effects' are ignored, and so are their last two columns, "
        f"'{MONTE_CARLO_COLUMNS[0]}' and '{MONTE_CARLO_COLUMNS[1]}': they say how the model's Monte Carlo run "
        "reads each figure's distribution when the workbook was written; to change them, change the distribution.",
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
        if col in HEADER_NOTES:
            cell.comment = Comment(HEADER_NOTES[col], "wcf-model")
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


def _derived(ws: Worksheet) -> Worksheet:
    """Grey italic text in the sheet's read-only Monte Carlo columns (worked out, not typed)."""
    for i, cell in enumerate(ws[1], start=1):
        if cell.value in MONTE_CARLO_COLUMNS:
            for row in range(2, ws.max_row + 1):
                ws.cell(row, i).font = DERIVED_FONT
    return ws


DERIVED_FONT = Font(italic=True, color="595959")


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

    # each figure's last two cells say whether the Monte Carlo run varies it, and over what range
    drawn = monte_carlo_cells(sc)
    extra = list(MONTE_CARLO_COLUMNS)
    params = _derived(_table(wb, PARAMETERS, [*PARAMETER_COLUMNS, *extra],
                             [{**r, **drawn[r["name"]]} for r in parameter_rows(sc)], EDITABLE[PARAMETERS], "B2"))
    by_year = by_year_figures(sc)
    for r in range(2, params.max_row + 1):
        if params.cell(r, 1).value in by_year:
            params.cell(r, 3).comment = Comment("Given by year: edit it on the 'By year' sheet.", "wcf-model")

    years = sorted({y for _, values in by_year.values() for y in values})
    rows = [{"name": name, "unit": unit, **values} for name, (unit, values) in by_year.items()]
    ws = _table(wb, BY_YEAR, [*BY_YEAR_COLUMNS, *years], rows, set(years), "C2")
    ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width, 40)

    _derived(_table(wb, COSTS, [*COST_COLUMNS, *extra],
                    [{**r, **drawn[cost_name(r["option"], r["kind"], r["item"])]} for r in cost_rows(sc)],
                    EDITABLE[COSTS], "D2"))
    _derived(_table(wb, EFFECTS, [*EFFECT_COLUMNS, *extra],
                    [{**r, **drawn[option_input_name(r["option"], "effects", r["effect"])]} for r in effect_rows(sc)],
                    EDITABLE[EFFECTS], "C2"))
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
    ``Parameters``, ``By year``, ``Option costs`` and ``Effects``; the last
    two columns of the last three say whether the Monte Carlo run varies
    each figure and over what range, from the same list of uncertain inputs
    the sampler draws (:data:`~wcf_model.workbook_layout.MONTE_CARLO_COLUMNS`,
    not read back). Editable
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
