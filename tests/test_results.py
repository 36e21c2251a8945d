"""wcf-model run: the results.json contract, CSVs, workbook, reproducibility."""

from __future__ import annotations

import json
import subprocess
import sys

import openpyxl
import pytest

from conftest import REPO
from wcf_model import load_scenario
from wcf_model.appraisal import appraise

OBC = REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml"


def wcf(*args):
    return subprocess.run([sys.executable, "-m", "wcf_model.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    r = wcf("run", OBC, "--out", out, "--draws", 200, "--seed", 4)
    assert r.returncode == 0, r.stderr
    return out


def test_run_writes_the_four_files(outputs):
    # and the hidden manifest that marks the folder as wcf-model's output set
    assert sorted(p.name for p in outputs.iterdir()) == [".wcf-model-outputs.json", "annual.csv", "results.json",
                                                         "results.xlsx", "summary.csv"]


def test_results_json_contract(outputs):
    doc = json.loads((outputs / "results.json").read_text())
    assert doc["schema"] == "wcf-model/results/1" and doc["model_version"]
    sc = doc["scenario"]
    assert (sc["name"], sc["base_year"], sc["years"], sc["draws"], sc["seed"]) == (
        "worcestershire-2018-obc", "2019-20", 10, 200, 4)
    assert sc["sha256"] == load_scenario(OBC).sha256
    ids = [o["id"] for o in doc["options"]]
    assert ids == ["in_house", "strategic_partnership", "company_csc"]
    for o in doc["options"]:
        assert {"npv_cost", "npv_vs_baseline", "p10", "p50", "p90"} <= set(o["economic"])
        assert {"nominal_total", "by_year"} <= set(o["financial"])
        assert list(o["financial"]["by_year"]) == [f"{y}-{(y + 1) % 100:02d}" for y in range(2019, 2029)]
        assert {"prob_least_cost", "mca_score", "passes_csf"} <= set(o)
        assert o["economic"]["p10"] <= o["economic"]["p50"] <= o["economic"]["p90"]
    assert sum(o["prob_least_cost"] for o in doc["options"]) == pytest.approx(1)
    # the partnership fails DfE operational independence; the company meets it
    passes = {o["id"]: o["passes_csf"] for o in doc["options"]}
    assert passes["strategic_partnership"] is False and passes["company_csc"] is True
    row = doc["annual"][0]
    assert set(row) == {"option", "year", "account", "line", "value"}


def test_results_json_and_summary_give_the_cost_to_the_council_beside_the_economic_case(outputs):
    import csv

    doc = json.loads((outputs / "results.json").read_text())
    by_id = {o["id"]: o for o in doc["options"]}
    company = by_id["company_csc"]["council_cash"]
    assert {"total", "vs_baseline", "p10", "p50", "p90", "by_year", "vs_baseline_by_year", "of_which"} <= set(company)
    # the council's cash against the baseline is its by-year differences added up, to the penny
    assert sum(company["vs_baseline_by_year"].values()) == pytest.approx(company["vs_baseline"], abs=0.06)
    # it includes the company's irrecoverable VAT and corporation tax, which the economic case leaves out
    assert company["of_which"]["irrecoverable_vat"] > 0 and company["of_which"]["corporation_tax"] > 0
    assert by_id["in_house"]["council_cash"]["vs_baseline"] == 0
    assert "irrecoverable_vat" not in by_id["strategic_partnership"]["council_cash"]["of_which"]
    assert "high_needs" in by_id["company_csc"]
    rows = {r["option"]: r for r in csv.DictReader((outputs / "summary.csv").open())}
    assert float(rows["company_csc"]["council_cash_vs_baseline"]) == pytest.approx(company["vs_baseline"], abs=0.01)
    assert float(rows["company_csc"]["irrecoverable_vat"]) == pytest.approx(
        company["of_which"]["irrecoverable_vat"], abs=0.01)


def test_same_inputs_give_a_byte_identical_results_json(outputs, tmp_path):
    r = wcf("run", OBC, "--out", tmp_path, "--draws", 200, "--seed", 4)
    assert r.returncode == 0
    assert (tmp_path / "results.json").read_bytes() == (outputs / "results.json").read_bytes()


def test_summary_matches_the_appraisal_and_the_json(outputs):
    import pandas as pd
    summary = pd.read_csv(outputs / "summary.csv").set_index("option")
    doc = {o["id"]: o for o in json.loads((outputs / "results.json").read_text())["options"]}
    for oid, o in doc.items():
        assert summary.loc[oid, "npv_cost"] == pytest.approx(o["economic"]["npv_cost"], abs=0.01)
        assert summary.loc[oid, "nominal_total"] == pytest.approx(o["financial"]["nominal_total"], abs=0.01)
        # the cash total is the sum of the years
        assert sum(o["financial"]["by_year"].values()) == pytest.approx(o["financial"]["nominal_total"], abs=0.1)


def test_workbook_sheets(outputs):
    wb = openpyxl.load_workbook(outputs / "results.xlsx")
    assert wb.sheetnames == ["About", "Summary", "Cost to the council", "Appraisal", "Cash by year", "Who pays",
                             "VAT and tax", "Annual economic", "Annual cash", "High-needs block", "Tornado",
                             "Switching values", "Value of information", "MCA", "MCA scores", "MCA weights",
                             "Caseloads", "Back-test", "Published history", "Options", "Effects", "MCA inputs",
                             "Assumptions", "Assumptions by year", "Warnings"]
    # option, line, ten years, and the line's name in annual.csv
    ws = wb["Annual economic"]
    assert ws["A1"].value == "Option" and ws["C1"].value == "2019-20 (£)" and ws.max_column == 2 + 10 + 1


def test_annual_economic_lines_sum_to_the_npv():
    res = appraise(load_scenario(OBC))
    a = res.central
    annual = res.annual
    for oid, r in a.options.items():
        econ = annual[(annual.option == oid) & (annual.account == "economic")]
        by_year = econ.groupby("year", sort=True)["value"].sum().to_numpy()
        assert by_year @ a.discount_factors == pytest.approx(r.npv_cost[0], rel=1e-12)


def test_bad_scenario_exits_2_and_writes_nothing(write, tmp_path):
    bad = write("bad.yaml", "scenario: {name: x}\n")
    r = wcf("run", bad, "--out", tmp_path / "o")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_monte_carlo_bands_of_npv_and_cash():
    res = appraise(load_scenario(OBC), draws=300, seed=2)
    s = res.summary().set_index("option")
    for oid in s.index:
        qs = [s.loc[oid, f"npv_cost_p{q}"] for q in (5, 10, 50, 90, 95)]
        assert qs == sorted(qs)
    bands = res.cash_bands()
    company = bands[(bands.option == "company_csc") & (bands.measure == "cash_vs_baseline")]
    assert len(company) == 10 and (company.p5 <= company.p95).all()
    # the baseline minus itself is nothing, in every draw
    base = bands[(bands.option == "in_house") & (bands.measure == "cash_vs_baseline")]
    assert (base[["mean", "p5", "p95"]] == 0).all().all()


def test_results_json_carries_the_mca(tmp_path):
    fbc = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"
    r = wcf("run", fbc, "--out", tmp_path, "--draws", 50)
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "results.json").read_text())
    options = {o["id"]: o for o in doc["options"]}
    assert all(0 <= o["mca_score"] <= 100 for o in options.values())
    # the partnership may score well, but it fails DfE operational independence,
    # so it is flagged and can never be the preferred option
    assert options["strategic_partnership"]["passes_csf"] is False
    assert options["strategic_partnership"]["mca_prob_preferred"] == 0
    assert doc["mca_preferred"] in {oid for oid, o in options.items() if o["passes_csf"]}
    assert sum(o["mca_prob_preferred"] for o in options.values()) == pytest.approx(1, abs=1e-3)


def test_value_of_information_over_the_options_that_pass():
    from wcf_model.decision import candidates, value_of_information

    res = appraise(load_scenario(REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"), draws=400)
    # in-house and the partnership fail DfE operational independence, and the return in-house of
    # 2024 was not open in 2019: the choice is between the two companies
    assert candidates(res) == ["company_csc", "company_broad"]
    v = value_of_information(res)
    assert v.evpi >= 0 and v.prob_least_cost.sum() == pytest.approx(1)
    assert (v.table["evppi"] <= v.evpi + 1e-6).all()
    assert "all effects of option company_broad" in set(v.table["input"])


def test_the_analyses_read_the_stored_draws_and_draw_nothing(monkeypatch):
    # Results holds the value each uncertain input took in each draw of the Monte Carlo run;
    # tornado, switching values and value of information read those (and the inputs' list)
    # rather than drawing the inputs again: with every random stream taken away after the
    # appraisal, the analyses still run.
    import numpy as np

    import wcf_model.inputs
    from wcf_model.analysis import analyse_results
    from wcf_model.appraisal import monte_carlo_design

    sc = load_scenario(OBC)
    res = appraise(sc, draws=300, seed=8)
    assert set(res.input_draws) == {i.name for i in res.inputs}
    assert all(v.shape == (300,) for v in res.input_draws.values())
    # the stored draws are the run's own: the company's running costs, one of its own lines
    # (a Monte Carlo multiplier of its central path), move draw by draw with its net present cost
    name = "options.company_csc.recurring_costs.company_running"
    design = monte_carlo_design(sc, 300, 8)
    np.testing.assert_array_equal(res.input_draws[name],
                                  next(i for i in res.inputs if i.name == name).value(design[name]))
    assert np.corrcoef(res.input_draws[name], res.draws.options["company_csc"].npv_cost)[0, 1] > 0

    def no_drawing(*args, **kwargs):
        raise AssertionError("an analysis drew inputs again")

    monkeypatch.setattr(wcf_model.inputs, "stream", no_drawing)
    a = analyse_results(res)
    assert a.voi is not None and len(a.tornado) and a.mca is res.mca
