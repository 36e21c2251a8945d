"""Every JSON wcf-model writes is strict JSON: no NaN, no Infinity, read back by a strict parser."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from conftest import REPO, DFE_DOWNLOADS
from wcf_model import cli, load_scenario
from wcf_model.errors import ScenarioError
from wcf_model.appraisal import appraise
from wcf_model.results import first_non_finite, json_text

WORCS = REPO / "scenarios" / "worcestershire"
OBC = WORCS / "2018-outline-business-case.yaml"
CRITERIA = ("pace_of_improvement", "democratic_accountability", "vat_tax_efficiency", "deliverability_risk",
            "integration", "staff_impact")


def strict(text: str):
    """json.loads that refuses NaN, Infinity and -Infinity (which Python's reader accepts by default)."""
    def refuse(constant: str):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def with_payback(folder: Path) -> Path:
    """The outline business case plus an option that pays back: £3.2m to set up, then fewer referrals."""
    scores = "\n".join(f"    {c}: {{lean: {{score: 50, rationale: test}}}}" for c in CRITERIA)
    path = folder / "payback.yaml"
    path.write_text(textwrap.dedent(f"""\
        scenario: {{name: payback, extends: {os.path.relpath(OBC, folder)}}}
        options:
          lean:
            label: Lean in-house
            vehicle: council
            go_live: 2019-10-01
            scope: [social_care]
            one_off_costs:
              setup: {{value: 3200000, category: other, source: test, confidence: 5}}
            effects:
              fewer_referrals: {{driver: demand.referrals.rate_per_10k, change: -0.3, mode: multiply, start: "2020-21",
                                evidence: test, confidence: 5}}
            csf:
              dfe_operational_independence: {{met: true, rationale: test}}
        """) + "mca:\n  scores:\n" + scores + "\n", encoding="utf-8")
    return path


def test_results_json_is_strict_when_one_option_pays_back_and_others_never_do(tmp_path):
    # Before: a column of the summary mixing a year with None held NaN for None,
    # and results.json carried "payback_year": NaN for every option without one.
    out = tmp_path / "out"
    assert cli.main(["run", str(with_payback(tmp_path)), "--out", str(out), "--draws", "20"]) == 0
    doc = strict((out / "results.json").read_text(encoding="utf-8"))
    payback = {o["id"]: o["financial"]["payback_year"] for o in doc["options"]}
    assert payback["lean"] is not None and payback["lean"] >= "2019-20"   # it does pay back
    assert [payback[o] for o in ("in_house", "strategic_partnership", "company_csc")] == [None, None, None]
    assert first_non_finite(doc) is None


@pytest.mark.parametrize("scenario", ["2018-outline-business-case.yaml", "2019-full-business-case.yaml"])
def test_shipped_scenarios_give_strict_json(scenario):
    res = appraise(load_scenario(WORCS / scenario), draws=50, seed=3)
    assert first_non_finite(strict(json_text(res))) is None


def test_an_overflowing_scenario_is_refused_naming_its_file(tmp_path):
    # a growth rate of 1e14 a year (under the 1e15 limit) compounds past the
    # largest float within sixty years: the results would hold Infinity
    path = tmp_path / "growth.yaml"
    path.write_text(textwrap.dedent(f"""\
        scenario: {{name: growth, years: 60, extends: {os.path.relpath(OBC, tmp_path)}}}
        parameters:
          population:
            growth_rate: {{value: 1.0e+14, unit: share/year, source: test, confidence: 5}}
        """), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"growth\.yaml: options\.in_house: the cash of this option comes out "
                                            r"infinite or undefined from \d{4}-\d{2}"):
        appraise(load_scenario(path), draws=3)


def test_diff_json_is_strict(capsys):
    assert cli.main(["diff", str(OBC), str(WORCS / "2019-full-business-case.yaml"), "--json"]) == 0
    assert first_non_finite(strict(capsys.readouterr().out)) is None


def test_backtest_json_is_strict(capsys):
    data = DFE_DOWNLOADS if DFE_DOWNLOADS.is_dir() else REPO / "data"
    assert cli.main(["backtest", "--la", "885", "--fit-to", "2018", "--json", "--data", str(data)]) == 0
    assert first_non_finite(strict(capsys.readouterr().out)) is None


def test_the_one_json_writer_refuses_nan_and_infinity():
    # Python's json.dumps writes NaN and Infinity by default; the project's writer never does
    from wcf_model.outputs import strict_json

    assert strict(strict_json({"a": [1.5, None, "x"]})) == {"a": [1.5, None, "x"]}
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
            strict_json({"payback_year": bad})


def test_sweep_about_json_is_strict(tmp_path):
    from wcf_model.sweep import load_option_set, write_sweep
    import pandas as pd

    # an empty sweep (every authority refused) still writes about.json, with no figure to round
    option_set = load_option_set(REPO / "scenarios" / "options" / "generic.yaml")
    refused = pd.DataFrame({"la_code": ["885"], "reason": ["test"]})
    write_sweep(tmp_path / "s", pd.DataFrame(columns=["la_code", "base_year"]), refused, option_set,
                "company_csc", 10, 1, None)
    about = strict((tmp_path / "s" / "about.json").read_text(encoding="utf-8"))
    assert about["authorities"] == 0 and about["refused"] == 1 and first_non_finite(about) is None


@pytest.mark.parametrize("name", ["dfe_extract.provenance.json", "forecast_pooling.json"])
def test_shipped_json_is_strict(name):
    assert first_non_finite(strict((REPO / "data" / name).read_text(encoding="utf-8"))) is None


def test_every_json_writer_is_the_strict_one():
    # Every JSON document wcf-model and its scripts write goes through outputs.strict_json; a bare
    # json.dumps would write NaN for a missing figure. (canonical_json is hashed, never written;
    # council.py quotes single YAML scalars with json.dumps of a string.)
    import re

    allowed = {("wcf_model/outputs.py", "strict_json"), ("wcf_model/scenario.py", "canonical_json")}
    found = []
    for path in [*(REPO / "wcf_model").glob("*.py"), *(REPO / "scripts").glob("*.py")]:
        rel = str(path.relative_to(REPO))
        current = None
        for line in path.read_text(encoding="utf-8").splitlines():
            if m := re.match(r"def (\w+)", line):  # the module-level function the line is in
                current = m.group(1)
            if "json.dumps(" in line and (rel, current) not in allowed and rel != "wcf_model/council.py":
                found.append(f"{rel}: {current}: {line.strip()}")
    assert found == []
