"""Text a spreadsheet would execute is never written as a formula (OWASP, "CSV Injection").

A scenario whose title, labels, descriptions, sources, notes, rationales and
even an option's id begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (the DDE form ``=cmd|' /C calc'!A0`` among them) is written to all three
workbooks (the exported assumptions, ``run``'s results and ``report``'s
results) and both CSVs (``summary.csv``, ``annual.csv``). In none of them may a
cell be a formula or a text begin with one of those characters; each such text
is written with an apostrophe in front. Numbers are not text: a negative
number stays a number.
"""

from __future__ import annotations

import csv
import os
import textwrap
from pathlib import Path

import openpyxl
import pytest

from conftest import REPO
from wcf_model import cli
from wcf_model.outputs import FORMULA_TRIGGERS, from_inert, inert

OBC = REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml"
DDE = "=cmd|' /C calc'!A0"
CRITERIA = ("pace_of_improvement", "democratic_accountability", "vat_tax_efficiency", "deliverability_risk",
            "integration", "staff_impact")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("injection")
    scores = "\n".join(f'    {c}: {{"=evil": {{score: 10, rationale: "-{c} @SUM(A1)"}}}}' for c in CRITERIA)
    path = folder / "hostile.yaml"
    path.write_text(textwrap.dedent(f"""\
        scenario:
          name: hostile
          title: "{DDE}"
          description: "+1+1"
          extends: {os.path.relpath(OBC, folder)}
        options:
          company_csc:
            label: '=HYPERLINK("http://example.com","click")'
            recurring_costs:
              client_function: {{value: 800000, unit: GBP/year, category: client_function, price_year: "2019-20",
                                source: "@SUM(1+1)*cmd|' /C calc'!A0", confidence: 5, note: "-2+3"}}
          "=evil":
            label: "\\t=1+1"
            description: "\\r=2+2"
            vehicle: council
            go_live: 2019-10-01
            scope: [social_care]
            effects:
              fewer: {{driver: demand.referrals.rate_per_10k, change: -0.2, mode: multiply, evidence: "=1",
                      confidence: 5}}
            csf:
              dfe_operational_independence: {{met: false, rationale: "=1+1"}}
        """) + "mca:\n  scores:\n" + scores + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def written(hostile, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("written")
    assert cli.main(["export-assumptions", str(hostile), str(out / "assumptions.xlsx")]) == 0
    assert cli.main(["run", str(hostile), "--out", str(out / "run"), "--draws", "5"]) == 0
    assert cli.main(["report", str(hostile), "--out", str(out / "report"), "--draws", "5", "--no-notebooks"]) == 0
    return {"assumptions": out / "assumptions.xlsx", "run": out / "run" / "results.xlsx",
            "report": out / "report" / "results.xlsx", "summary": out / "run" / "summary.csv",
            "annual": out / "run" / "annual.csv"}


def live(text: object) -> bool:
    return isinstance(text, str) and text.startswith(FORMULA_TRIGGERS)


@pytest.mark.parametrize("book", ["assumptions", "run", "report"])
def test_no_workbook_cell_is_a_formula_or_starts_like_one(written, book):
    wb = openpyxl.load_workbook(written[book])
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [(c.parent.title, c.coordinate, c.value) for c in cells if live(c.value)] == []
    escaped = [c.value for c in cells if isinstance(c.value, str) and c.value.startswith("'")]
    # the hostile texts did reach the workbook, escaped (so this test can fail)
    assert any(v.startswith("'=") for v in escaped), escaped[:5]
    # and negative numbers are still numbers
    assert any(isinstance(c.value, (int, float)) and c.value < 0 for c in cells)


@pytest.mark.parametrize("name", ["summary", "annual"])
def test_no_csv_field_starts_like_a_formula(written, name):
    with open(written[name], newline="", encoding="utf-8") as f:
        fields = [x for row in csv.reader(f) for x in row]
    for x in fields:
        if live(x):
            float(x)  # only a number may start with '-' (or '+'): it is written as a number
    assert "'=evil" in fields  # the option's id, escaped
    if name == "summary":
        assert "'=HYPERLINK(\"http://example.com\",\"click\")" in fields and "'\t=1+1" in fields
        assert any(x.startswith("-") and float(x) < 0 for x in fields)  # negative figures, unescaped


def test_the_exported_workbook_reads_back_unchanged(hostile, written, tmp_path, capsys):
    # the apostrophes export adds are removed on import: no edit means no change
    assert cli.main(["import-assumptions", str(written["assumptions"]), "--base", str(hostile),
                     "-o", str(tmp_path / "new.yaml")]) == 0
    assert "no changes" in capsys.readouterr().out
    assert not (tmp_path / "new.yaml").exists()


@pytest.mark.parametrize("text", [DDE, "+1", "-1", "@A1", "\t=1", "\r=1", "'=1", "'quoted", "plain", "", "-"])
def test_inert_is_undone_exactly(text):
    escaped = inert(text)
    assert not live(escaped) and from_inert(escaped) == text


def test_inert_leaves_numbers_and_other_values_alone():
    assert inert(-3.5) == -3.5 and inert(0) == 0 and inert(None) is None and inert(True) is True
