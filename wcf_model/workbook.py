"""The results workbook a finance officer opens: one writer for ``wcf-model run`` and ``report``.

Both commands write ``results.xlsx`` through :func:`write_results_workbook`,
so for the same scenario, draws, seed and actuals they write the same file,
byte for byte: the workbook carries no timestamps (:func:`save_workbook`).

Every sheet is a :class:`~wcf_model.tables.Table`, the same definition the
HTML report renders: here numbers stay numbers, money is in full pounds with
a number format (stored to the penny, so sheets reconcile with
``results.json``), shares are percentages, every heading carries its unit,
the header row is frozen with the row names beside it, and every sheet about
the options names them by label. The About sheet says what each sheet holds.

Every cell is written by :func:`put`, the one place a value enters a sheet.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .version import __version__
from .formats import range_label, range_words
from .outputs import inert
from .tables import KINDS, Column, Table, _blank

if TYPE_CHECKING:
    from .analysis import Analysis, History, Study
    from .backtest import Backtest
    from .scenario import Scenario

HEADER_FILL = PatternFill("solid", start_color="D9D9D9", end_color="D9D9D9")
HEADER_FONT = Font(bold=True)
#: The created and modified dates openpyxl writes into docProps/core.xml (optional elements).
_UNDATED = re.compile(rb"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>")
#: The date every entry of the workbook's zip archive carries (the earliest a zip can hold),
#: so that the same inputs give the same bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# ---------------------------------------------------------------------------
# Writing cells and saving
# ---------------------------------------------------------------------------


def put(ws: Worksheet, row: int, column: int, value: Any, number_format: str | None = None):
    """Write one value to a cell: the only way a value enters a results sheet.

    NaN and None leave the cell empty; numpy numbers become Python numbers;
    text is always text, never a formula, whatever it starts with: text beginning
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets an apostrophe in
    front (:func:`~wcf_model.outputs.inert`, the OWASP guidance on CSV injection).
    """
    if _blank(value):
        value = None
    elif isinstance(value, (np.bool_, bool)):
        value = bool(value)
    elif isinstance(value, np.integer):
        value = int(value)
    elif isinstance(value, (np.floating, float)):
        value = float(value)
    elif not isinstance(value, (int, str)):
        value = str(value)
    cell = ws.cell(row, column, inert(value))  # text a spreadsheet would run gets an apostrophe in front
    if number_format is not None and value is not None:
        cell.number_format = number_format
    return cell


def save_workbook(wb: Workbook, path: str | Path) -> None:
    """Save a workbook so that the same content gives the same bytes.

    openpyxl stamps the time of saving into ``docProps/core.xml`` and into
    every entry of the zip archive; both are removed here (the workbook's
    properties keep no created or modified date, and every zip entry carries
    :data:`ZIP_DATE`).
    """
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _UNDATED.sub(b"", data)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            out.writestr(entry, data)


def unit_format(unit: str | None) -> str:
    """The Excel number format of a figure in a catalogue unit: pounds, percentages, or as it is."""
    from .catalogue import UNITS

    kind = UNITS[unit].kind if unit in UNITS else ""
    if kind == "money":
        return '"£"#,##0.00;-"£"#,##0.00'
    if kind in ("share", "growth", "difference"):
        return "0.00%"
    return "General"


def _width(values: list[str], heading: str) -> float:
    longest = max([len(w) for w in heading.split()] + [min(len(v), 60) for v in values[:300]] + [8])
    return min(max(10, longest + 2), 62)


def _display(v: Any, col: Column) -> str:
    if _blank(v):
        return ""
    if col.kind == "money":
        return f"£{float(v):,.0f}"
    return str(v)


def write_table(wb: Workbook, title: str, table: Table) -> Worksheet:
    """One sheet from a table: headings with units, formatted numbers, frozen header and row names, a filter."""
    ws = wb.create_sheet(title)
    cols = [(k, c) for k, c in table.columns.items() if k not in table.workbook_hidden]
    for j, (_, col) in enumerate(cols, start=1):
        cell = put(ws, 1, j, col.workbook_heading())
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, (_, row) in enumerate(table.frame.iterrows(), start=2):
        for j, (key, col) in enumerate(cols, start=1):
            value = row[key]
            if col.kind == "money" and not _blank(value):
                value = round(float(value), 2)   # to the penny, as results.json
            fmt = KINDS[col.kind][2] if not isinstance(value, (str, bool, np.bool_)) else None
            if col.kind == "number" and col.digits:
                fmt = "#,##0." + "0" * col.digits
            if col.kind == "quantity":
                fmt = unit_format(row[col.unit_from])
            put(ws, i, j, value, fmt)
    for j, (key, col) in enumerate(cols, start=1):
        values = [_display(v, col) for v in table.frame[key]]
        ws.column_dimensions[get_column_letter(j)].width = _width(values, col.workbook_heading())
    ws.freeze_panes = ws.cell(2, table.freeze_columns + 1)
    if len(table.frame):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(table.frame) + 1}"
    return ws


# ---------------------------------------------------------------------------
# The sheets
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """A sheet of the results workbook: its name, its table and a sentence saying what it holds."""

    name: str
    table: Table
    about: str


def results_sheets(sc: Scenario, analysis: Analysis | None, history: History | None = None,
                   bt: Backtest | None = None) -> list[Sheet]:
    """Every sheet of ``results.xlsx`` after the About sheet, in order."""
    from . import tables as T

    out: list[Sheet] = []
    base = sc.header.base_year
    if analysis is not None:
        res = analysis.res
        years = f"{res.central.years[0]} to {res.central.years[-1]}"
        out += [
            Sheet("Summary", T.options_summary(analysis),
                  f"One row per option: economic cost against the baseline ({base} prices, discounted) with the "
                  f"range it falls in {range_words()}; cash against the baseline; chances; multi-criteria score."),
            Sheet("Cost to the council", T.cost_to_council(res),
                  "Each option against the baseline in the economic case and in cash to the council, and what the "
                  "cash holds that the economic case does not: VAT, corporation tax, pensions, stranded costs, "
                  "the high-needs deficit."),
            Sheet("Appraisal", T.appraisal_table(res),
                  "Each option's net present cost and its spread against the baseline, and its cash total."),
            Sheet("Cash by year", T.cash_by_year(res), "Cash cost by option and financial year, including VAT and "
                                                          "tax, in each year's prices (central values)."),
            Sheet("Who pays", T.who_pays_by_year(res), "Cash by option, funder and financial year: the council, "
                                                       "the DSG high-needs block, DfE and Home Office grants."),
            Sheet("VAT and tax", T.transfers_table(res), f"VAT and corporation tax in each option's cash, {years}: "
                                                         "the economic case leaves them out as transfers."),
            Sheet("Annual economic", T.annual_lines(res, "economic"),
                  f"Real costs by option, line and year, £ in {base} prices, not discounted (central values); "
                  "the last column is the line's name in annual.csv."),
            Sheet("Annual cash", T.annual_lines(res, "financial"),
                  "Cash costs by option, line and year, £ in each year's prices (central values)."),
            *([Sheet("High-needs block", T.annual_lines(res, "high_needs"),
                     "The DSG high-needs block by option and year: its income, the spending it funds and the "
                     "deficit the council carries (cash).")]
              if res.central.options[sc.baseline].high_needs is not None else []),
            Sheet("Tornado", T.tornado_table(analysis),
                  f"Each uncertain input at its {range_label().replace(' to ', ' and ')} with the rest central: "
                  "the option's cost against the baseline."),
            Sheet("Switching values", T.switching_table(analysis, found_only=False),
                  "The value of one input at which an option would cost the same as the baseline (blank: none "
                  "in the input's range)."),
        ]
        if analysis.voi is not None:
            out.append(Sheet("Value of information", T.voi_table(analysis),
                             "What knowing each input (or group) before choosing would be worth, among the options "
                             "that meet every critical success factor."))
        if analysis.mca is not None:
            out += [Sheet("MCA", T.mca_table(analysis), "Multi-criteria totals, ranks and chances."),
                    Sheet("MCA scores", T.mca_scores_table(analysis), "Every option's score on every criterion, "
                                                                      "with the criteria's shares of the weight."),
                    Sheet("MCA weights", T.weight_switching_table(analysis),
                          "How far each criterion's weight would have to move for the top option to change.")]
        if analysis.monitoring is not None:
            out.append(Sheet("Monitoring", T.monitoring_detail(analysis.monitoring),
                             f"Published figures against the projection for "
                             f"{sc.options[analysis.monitored_option].label}, by measure and financial year."))
        if analysis.spend_gap is not None:
            out.append(Sheet("Spending gap", T.spend_gap_table(analysis.spend_gap),
                             f"The case's projected company spending for {analysis.spend_gap.attrs['year']} against "
                             "what was spent, step by step."))
        out.append(Sheet("Caseloads", T.caseload_table(res.uncertain.options[sc.baseline].projection),
                         f"The in-house baseline's caseloads and staff by financial year ({sc.options[sc.baseline].label})."))
    if bt is not None:
        out.append(Sheet("Back-test", T.backtest_table(bt), f"The model fitted to figures published up to "
                                                             f"{bt.fit_to}, against what was published later."))
    if history is not None and not history.table.empty:
        out.append(Sheet("Published history", T.history_table(history), history.note))
    out += [Sheet("Options", T.options_inputs(sc), "The options as the scenario states them."),
            Sheet("Effects", T.effects_inputs(sc), "Every effect an option claims, with its evidence."),
            Sheet("MCA inputs", T.mca_inputs(sc), "Criteria, swing weights and each option's stated score."),
            Sheet("Assumptions", T.register_table(sc), "Every figure the scenario uses, with its source and "
                                                       "confidence grade (a figure given by year has its values "
                                                       "on the next sheet)."),
            Sheet("Assumptions by year", T.register_by_year(sc), "The figures the scenario gives by financial "
                                                                 "year, in their own units.")]
    if analysis is not None:
        out.append(Sheet("Warnings", T.warnings_table(analysis.res), "What the costs leave out."))
    return out


def _about(ws: Worksheet, sc: Scenario, analysis: Analysis | None, sheets: list[Sheet]) -> None:
    res = analysis.res if analysis is not None else None
    draws = (res.uncertain.draws if res.draws is not None else 1) if res is not None else None
    rows: list[tuple[str, Any]] = [
        ("Title", sc.header.title), ("Scenario", sc.name), ("Authority", sc.header.authority.name),
        ("Local authority code", str(sc.header.authority.la_code)),
        ("Base year and price base", sc.header.base_year), ("Years appraised", sc.header.years),
        ("Monte Carlo draws", draws), ("Seed", res.uncertain.seed if res is not None else None),
        ("Scenario sha256", sc.sha256), ("wcf-model version", __version__),
        ("Placeholders left in the scenario", len(sc.placeholders)),
        ("Scenario files", " extends ".join(Path(f).name for f in reversed(sc.files))),
        ("Ranges", f"Every range is the {range_label()} of the Monte Carlo draws: the figure falls in it "
                   f"{range_words()}."),
        ("Money", "Full pounds, stored to the penny. Economic figures are in base-year prices, discounted where "
                  "the heading says so; cash figures are in each year's prices and include VAT and tax."),
    ]
    put(ws, 1, 1, "About this workbook").font = Font(bold=True, size=14)
    r = 2
    for key, value in rows:
        put(ws, r, 1, key).font = HEADER_FONT
        put(ws, r, 2, value)
        r += 1
    r += 1
    put(ws, r, 1, "Sheet").font = HEADER_FONT
    put(ws, r, 2, "What it holds").font = HEADER_FONT
    for s in sheets:
        r += 1
        put(ws, r, 1, s.name)
        put(ws, r, 2, s.about + (f" {s.table.note}" if s.table.note else ""))
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")


def results_workbook(st: Study) -> Workbook:
    """The results workbook in memory: About, then :func:`results_sheets`."""
    sc, analysis = st.scenario, st.analysis
    wb = Workbook()
    about = wb.active
    about.title = "About"
    sheets = results_sheets(sc, analysis, st.history, st.backtest)
    _about(about, sc, analysis, sheets)
    for s in sheets:
        write_table(wb, s.name, s.table)
    wb.properties.creator = f"wcf-model {__version__}"
    wb.properties.title = sc.header.title
    return wb


def write_results_workbook(path: str | Path, st: Study) -> None:
    """Write ``results.xlsx`` (see the module docstring); the same inputs give the same bytes."""
    save_workbook(results_workbook(st), path)

