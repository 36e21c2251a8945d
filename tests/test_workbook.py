"""The results workbook as a finance officer opens it: numbers, units, labels, who pays, same bytes."""

from __future__ import annotations

import json
import re
import zipfile

import openpyxl
import pytest

from test_results import OBC, wcf
from wcf_model import load_scenario


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    r = wcf("run", OBC, "--out", out, "--draws", 80, "--seed", 2)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def book(run_out):
    return openpyxl.load_workbook(run_out / "results.xlsx")


def test_run_and_report_write_the_same_workbook_and_the_same_bytes_each_time(run_out, tmp_path):
    again = wcf("run", OBC, "--out", tmp_path / "again", "--draws", 80, "--seed", 2)
    report = wcf("report", OBC, "--out", tmp_path / "report", "--draws", 80, "--seed", 2, "--no-notebooks")
    assert again.returncode == 0 and report.returncode == 0, report.stderr
    first = (run_out / "results.xlsx").read_bytes()
    assert (tmp_path / "again" / "results.xlsx").read_bytes() == first
    assert (tmp_path / "report" / "results.xlsx").read_bytes() == first


def test_no_timestamps_in_the_file(run_out):
    with zipfile.ZipFile(run_out / "results.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "dcterms:created" not in core and "dcterms:modified" not in core


def test_numbers_are_numbers_with_formats_and_units_in_headings(book):
    looks_numeric = re.compile(r"[-+]?£?[\d,]+(\.\d+)?(e[-+]?\d+)?%?")
    for ws in book.worksheets[1:]:
        headings = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    # a number written as text ('1.2e+06', '3,588') is what the finance officer cannot add up
                    assert not looks_numeric.fullmatch(cell.value), (ws.title, cell.coordinate, cell.value)
                elif isinstance(cell.value, float) and "(£)" in headings[cell.column - 1]:
                    assert cell.number_format == '"£"#,##0;-"£"#,##0', (ws.title, cell.coordinate)
    summary = book["Summary"]
    headings = [c.value for c in summary[1]]
    assert "Economic cost against the baseline, 2019-20 prices, discounted (£)" in headings
    chance = headings.index("Chance of the lowest economic cost (%)") + 1
    assert summary.cell(2, chance).number_format == "0%" and 0 <= summary.cell(2, chance).value <= 1
    # no code names as headings anywhere
    for ws in book.worksheets[1:]:
        for c in ws[1]:
            assert not re.fullmatch(r"[a-z0-9_]+", str(c.value)), (ws.title, c.value)


def test_frozen_headers_and_option_labels_on_every_sheet(book):
    labels = {o.label for o in load_scenario(OBC).options.values()}
    ids = set(load_scenario(OBC).options)
    for ws in book.worksheets[1:]:
        assert ws.freeze_panes is not None and ws.freeze_panes[-1] == "2", ws.title
        headings = [c.value for c in ws[1]]
        if "Option" in headings:
            col = headings.index("Option") + 1
            shown = {ws.cell(r, col).value for r in range(2, ws.max_row + 1)}
            assert shown <= labels | {o + " (the baseline)" for o in labels}, (ws.title, shown - labels)
        # an option's id never stands in for its label (the register's names aside)
        if ws.title != "Assumptions":
            cells = {c.value for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)}
            assert not cells & ids, (ws.title, cells & ids)


def test_who_pays_reconciles_to_the_pound(book, run_out):
    doc = {o["id"]: o for o in json.loads((run_out / "results.json").read_text())["options"]}
    label_of = {o["label"]: oid for oid, o in doc.items()}
    ws = book["Who pays"]
    headings = [c.value for c in ws[1]]
    assert headings[:2] == ["Option", "Paid by"] and headings[2] == "2019-20 (£)"
    paid: dict[str, dict[str, float]] = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        paid.setdefault(label_of[row[0]], {})[row[1]] = sum(v for v in row[2:] if v is not None)
    for oid, o in doc.items():
        # every funder's cash over the years adds up to the option's cash total in results.json
        assert sum(paid[oid].values()) == pytest.approx(o["financial"]["nominal_total"], abs=0.1)
        for funder, total in o["financial"]["by_funder"].items():
            words = {"council": "Council", "dsg_high_needs": "DSG high-needs block", "dfe_grant": "DfE grant"}
            assert paid[oid][words[funder]] == pytest.approx(total, abs=0.1)


def test_about_sheet_says_what_each_sheet_holds(book):
    about = book["About"]
    rows = {r[0]: r[1] for r in about.iter_rows(values_only=True) if r[0]}
    assert rows["Monte Carlo draws"] == 80 and rows["Seed"] == 2
    assert "10th to 90th percentile" in rows["Ranges"] and "8 times in 10" in rows["Ranges"]
    for sheet in book.sheetnames[1:]:
        assert sheet in rows, sheet


def test_figures_given_by_year_keep_their_numbers(book):
    ws = book["Assumptions by year"]
    headings = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "population.age_0_17")
    # the ONS mid-2019 estimate of Worcestershire's children aged 0-17, as the scenario states it
    assert row[headings.index("2019-20")].value == 117645
    inflation = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "finance.general_inflation")
    assert inflation[headings.index("2019-20")].number_format == "0.00%"
