"""Scenario comparison for scrutiny: changed assumptions and their attribution."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from conftest import REPO
from test_appraisal import TWO_OPTIONS
from wcf_model import load_scenario
from wcf_model.compare import attribute, changes_table, waterfall_frame

K = 0.5 + 1 / 1.035      # half of year 0 and all of year 1, discounted


def test_changes_listed_with_sources(write):
    old = load_scenario(write("old.yaml", TWO_OPTIONS.format(running=50000)))
    new_text = TWO_OPTIONS.format(running=70000).replace(
        "set_up: {value: 100000,", "set_up: {value: 150000, source: revised estimate,")
    new = load_scenario(write("new.yaml", new_text.replace("name: two-options", "name: two-options-v2")))
    t = changes_table(old, new).set_index("key")
    assert list(t.index) == ["options.company.one_off_costs.set_up", "options.company.recurring_costs.running"]
    assert t.loc["options.company.one_off_costs.set_up", "new_source"] == "revised estimate"
    assert (t["change"] == "changed").all()


def test_attribution_by_hand(write):
    old = load_scenario(write("old.yaml", TWO_OPTIONS.format(running=50000)))
    new = load_scenario(write("new.yaml", TWO_OPTIONS.format(running=70000).replace(
        "set_up: {value: 100000,", "set_up: {value: 150000,")))
    att = attribute(old, new)
    # running +£20,000 a year: K x 20,000 = 29,323.67; set-up +£50,000 with the equipment and
    # development optimism bias at its upper bound, 200%: 150,000
    by_hand = {"options.company.recurring_costs.running": 20_000 * K,
               "options.company.one_off_costs.set_up": 50_000 * 3}
    for key, value in by_hand.items():
        assert att.shapley.loc[key, "company"] == pytest.approx(value, abs=0.01)
        # an additive model: the order does not matter, so one at a time gives the same
        assert att.sequential.loc[key, "company"] == pytest.approx(value, abs=0.01)
    assert att.new["company"] - att.old["company"] == pytest.approx(sum(by_hand.values()), abs=0.01)
    assert att.exact and att.invalid_hybrids == 0
    steps = waterfall_frame(att, "company")
    assert list(steps["step"])[0] == "old" and list(steps["step"])[-1] == "new"


def test_contributions_add_up_to_the_total_change(write):
    # fewer paid weeks lower both options' placement costs alike, so against the baseline they
    # contribute nothing; the running cost contributes K x 30,000. Either way the contributions
    # add up to the total change (Shapley's efficiency property).
    old = load_scenario(write("old.yaml", TWO_OPTIONS.format(running=50000)))
    text = TWO_OPTIONS.format(running=50000).replace("weeks_per_year: 52", "weeks_per_year: 26").replace(
        "running: {value: 50000, category: company_running,",
        "running: {value: 80000, category: company_running,")
    new = load_scenario(write("new.yaml", text))
    att = attribute(old, new)
    total = att.new["company"] - att.old["company"]
    assert total == pytest.approx(30_000 * K, abs=0.01)
    assert att.shapley.loc["parameters.finance.weeks_per_year", "company"] == pytest.approx(0, abs=0.01)
    assert att.shapley["company"].sum() == pytest.approx(total, abs=0.01)
    assert att.sequential["company"].sum() == pytest.approx(total, abs=0.01)


def test_worcestershire_2018_to_2019():
    old = load_scenario(REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml")
    new = load_scenario(REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml")
    t = changes_table(old, new)
    assert "options.company_broad" in set(t["key"]) and "parameters.services.education_services.budget" in set(t["key"])
    added = t.set_index("key").loc["options.company_broad", "new"]
    assert added.startswith("option 'Wholly owned company: broadened scope'")
    att = attribute(old, new)
    # the options both versions have are not moved by the added option or by a budget that anchors costs
    assert att.options == ["strategic_partnership", "company_csc"]
    for o in att.options:
        assert att.new[o] == pytest.approx(att.old[o], abs=1)


def test_diff_command(tmp_path):
    old = REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml"
    new = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"
    r = subprocess.run([sys.executable, "-m", "wcf_model.cli", "diff", old, new, "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["old"]["name"] == "worcestershire-2018-obc" and doc["new"]["name"] == "worcestershire-2019-fbc"
    assert any(c["key"] == "options.company_broad" for c in doc["changes"])
    text = subprocess.run([sys.executable, "-m", "wcf_model.cli", "diff", old, new],
                          capture_output=True, text=True, timeout=300)
    assert text.returncode == 0 and "assumption(s) changed" in text.stdout


def test_diff_reports_every_option_and_never_minus_zero():
    old = REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml"
    new = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"
    r = subprocess.run([sys.executable, "-m", "wcf_model.cli", "diff", old, new, "--json"],
                       capture_output=True, text=True, timeout=300)
    doc = json.loads(r.stdout)
    options = {o["id"]: o for o in doc["options"]}
    # every option of either version but the baseline; those only the 2019 case has (the broadened
    # company, and the company that returns in-house) reported, with their results, as added
    before, after = load_scenario(old), load_scenario(new)
    assert set(options) == (set(before.options) | set(after.options)) - {"in_house"}
    assert {o for o, row in options.items() if row["status"] == "added"} == set(after.options) - set(before.options)
    broad = options["company_broad"]
    assert broad["status"] == "added" and broad["old_npv_vs_baseline"] is None
    assert broad["new_npv_vs_baseline"] == pytest.approx(
        attribute(load_scenario(old), load_scenario(new)).new["company_broad"], abs=0.01)
    assert broad["new_npv_vs_baseline"] > 1e7
    assert options["company_csc"]["change"] == 0 and "-0.0" not in r.stdout
    text = subprocess.run([sys.executable, "-m", "wcf_model.cli", "diff", old, new],
                          capture_output=True, text=True, timeout=300).stdout
    assert "Wholly owned company: broadened scope (company_broad): added in worcestershire-2019-fbc: £" in text
    csc = options["company_csc"]["new_npv_vs_baseline"]
    assert f"Wholly owned company: children's social care (company_csc): £{csc:,.0f} -> £{csc:,.0f} (no change)" in text
    # a change that rounds to nothing has no sign
    assert not re.search(r"-£?0(?![\d,.])", text)
