"""The inputs report and workbook: content, accessibility basics, atomic writes."""

from __future__ import annotations

import re
import subprocess
import sys

import openpyxl
import pytest

from conftest import MINIMAL, REPO
from wcf_model import UsageError, load_scenario
from wcf_model.outputs import write_all
from wcf_model.register import assumptions_register, options_table
from wcf_model.report import write_report


@pytest.fixture
def minimal(write):
    return load_scenario(write("s.yaml", MINIMAL))


def test_register_lists_every_figure_with_its_source(minimal):
    reg = assumptions_register(minimal)
    # 3 parameters + 1 one-off cost + 1 recurring cost in MINIMAL
    assert list(reg["name"]) == [
        "demand.cla.opening_stock", "demand.cla.exit_rate", "demand.referrals.rate_per_10k",
        "options.company.one_off_costs.property", "options.company.recurring_costs.running"]
    row = reg.set_index("name").loc["demand.cla.exit_rate"]
    assert (row["value"], row["unit"], row["source"], row["confidence"]) == ("0.25", "share", "judgement", 5)
    assert row["distribution"] == "triangular(low 0.2, mode 0.25, high 0.3)"


def test_options_table_sums_stated_costs(minimal):
    t = options_table(minimal).set_index("option")
    assert t.loc["company", "one_off_costs_stated_gbp"] == 1_330_000
    assert t.loc["company", "recurring_costs_stated_gbp_per_year"] == 2_500_000
    assert t.loc["in_house", "critical_success_factors"] == "fails DfE operational independence"


def test_report_html_and_workbook(minimal, tmp_path):
    out = tmp_path / "out"
    written = write_report(minimal, out_dir=out, notebooks=False)
    assert [p.name for p in written] == ["report.html", "results.xlsx"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "In-house (the baseline) against Company" in page
    assert "It rests on 5 figures: 2 are published statistics" in page
    # without a population nothing can be projected: the report says so and shows no invented result
    assert "No projection: the scenario gives no 0-17 population" in page and "The appraisal" not in page
    for img in re.findall(r"<img [^>]*>", page):
        assert re.search(r'alt="[^"]{20,}"', img), img
    wb = openpyxl.load_workbook(out / "results.xlsx")
    # MINIMAL has no population, so there is no appraisal: the inputs' sheets only
    assert wb.sheetnames == ["About", "Assumptions", "Options", "Effects", "MCA inputs", "Caseloads",
                             "Back-test", "Published history"]
    assert wb["Assumptions"].max_row == 1 + 5


def test_history_comes_from_the_shipped_extract(minimal, tmp_path):
    # a folder of its own: the output folder is replaced whole, so it may not hold the scenario
    write_report(minimal, out_dir=tmp_path / "r", notebooks=False)
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    # Worcestershire's published CLA at 31 March 2019 is 833 (DfE SSDA903, 2019 release)
    row_2019 = re.search(r"<tr><td class=\"num\">2019</td>(.*?)</tr>", page).group(1)
    assert ">833<" in row_2019
    # two history charts; MINIMAL has no population, so no projection charts; one back-test chart
    assert page.count("<figure>") == 3


def test_missing_history_is_a_note_not_a_failure(minimal, tmp_path):
    write_report(minimal, out_dir=tmp_path / "o", data_dir=tmp_path / "no-data", notebooks=False)
    assert "No published history is shown" in (tmp_path / "o" / "report.html").read_text()


def test_failed_write_leaves_earlier_outputs_untouched(tmp_path):
    (tmp_path / "a.txt").write_text("old a")
    (tmp_path / "b.txt").write_text("old b")

    def boom(path):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_all(tmp_path, {"a.txt": lambda p: p.write_text("new a"), "b.txt": boom})
    assert (tmp_path / "a.txt").read_text() == "old a" and (tmp_path / "b.txt").read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]  # no temporaries left


def test_outputs_are_never_written_into_scenarios_or_data():
    with pytest.raises(UsageError, match="holds inputs"):
        write_all(REPO / "scenarios" / "x", {"f": lambda p: p.write_text("x")})
    assert not (REPO / "scenarios" / "x").exists()


def test_report_command(write, tmp_path):
    path = write("s.yaml", MINIMAL)
    r = subprocess.run([sys.executable, "-m", "wcf_model.cli", "report", str(path), "--out", str(tmp_path / "r"),
                        "--no-notebooks"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"wrote {tmp_path / 'r' / 'report.html'}",
                                     f"wrote {tmp_path / 'r' / 'results.xlsx'}"]


def test_worcestershire_report_shows_projection_bands_and_backtest(tmp_path):
    written = write_report(REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml", out_dir=tmp_path,
                           draws=50)
    # the executed notebook set, each also as HTML without code
    notebooks = sorted(p.name for p in (tmp_path / "notebooks").iterdir())
    assert "00_overview.ipynb" in notebooks and "00_overview.html" in notebooks
    assert len(written) == 2 + len(notebooks)
    overview = (tmp_path / "notebooks" / "00_overview.html").read_text(encoding="utf-8")
    assert "import wcf_model" not in overview       # no code cells in the rendering
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    # NPV and cash charts, NPV distribution, 3 tornados, 3 caseload projections, 1 back-test chart,
    # 2 published-history charts
    assert page.count("<figure>") == 12
    assert "Children looked after are projected to number" in page and "8 in 10 draws between" in page
    # the back-test: the 2018 forecast against what happened, the naive forecasts beside it, and
    # one sentence on how far to trust the projection
    assert "Forecast from 2018, the model was out by" in page and "the best naive forecast" in page
    assert "How far to trust it: had this method been used in 2018" in page
    summary = re.search(r'<ul class="summary">(.*?)</ul>', page).group(1)
    for label in ("Strategic partnership with another council", "Wholly owned company: children&#x27;s social care",
                  "Wholly owned company: broadened scope", "Company 2019-2024, then back in-house"):
        assert label in summary
    assert summary.count("<li>") == 4 and "in 9 draws out of 10 the difference lies between" in summary
    assert "It turns most on" in summary
    assert "Multi-criteria analysis" in page and "Value of information" in page
    wb = openpyxl.load_workbook(tmp_path / "results.xlsx")
    assert wb.sheetnames[:8] == ["About", "Summary", "Cost to the council", "Annual real", "Annual nominal",
                                 "High-needs block", "Assumptions", "Warnings"]
    # caseloads by financial year: 10 years from 2019-20
    assert wb["Caseloads"].max_row == 1 + 10 and wb["Caseloads"]["A2"].value == "2019-20"


def test_report_monitoring_section(tmp_path):
    write_report(REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml", out_dir=tmp_path,
                 draws=50, notebooks=False, actuals=REPO / "data" / "actuals" / "worcestershire.csv",
                 option="company_broad")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Monitoring: what happened against what was projected" in page
    assert "Children looked after at 31 March ran" in page
    # the company's money against the case, and the gap in its spending explained step by step
    assert "money against the business case" in page
    assert "How far the case was from what was spent." in page and "children looked after" in page
    wb = openpyxl.load_workbook(tmp_path / "results.xlsx")
    assert "Monitoring" in wb.sheetnames
