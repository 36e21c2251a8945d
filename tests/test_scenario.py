"""Scenario loading: every validation rule of issue 2, overlays and hashing.

Each test breaks one thing in the minimal valid scenario and checks the exact
file, line and key of the problem reported, because a scrutiny officer acts on
the message, not on the exception type.
"""

from __future__ import annotations

import pytest

from conftest import MINIMAL
from wcf_model import ScenarioError, load_scenario
from wcf_model.yamlio import MAX_SCENARIO_BYTES


def problems(path, strict=False):
    """Problems from loading ``path`` as (line, key, message) tuples."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, strict=strict)
    return [(p.line, p.key, p.message) for p in info.value.problems]


def edit(text: str, *pairs: tuple[str, str]) -> str:
    """Apply replacements, failing loudly if a fragment is absent (a test that
    edits nothing would pass for the wrong reason)."""
    for old, new in pairs:
        assert old in text, f"fragment not found: {old!r}"
        text = text.replace(old, new, 1)
    return text


def line_of(text: str, fragment: str) -> int:
    """1-based line of the first line containing ``fragment``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_minimal_scenario_is_valid_under_strict(write):
    sc = load_scenario(write("s.yaml", MINIMAL), strict=True)
    assert list(sc.options) == ["in_house", "company"]
    assert sc.baseline == "in_house"
    assert sc.parameters["demand.cla.opening_stock"].value == 833
    assert sc.parameters["demand.cla.opening_stock"].unit == "children"
    # base 2019-20 and 10 years: 2019-20 ... 2028-29
    assert sc.financial_years[0] == "2019-20" and sc.financial_years[-1] == "2028-29"
    assert len(sc.sha256) == 64


def test_parameter_location_is_recorded(write):
    path = write("s.yaml", MINIMAL)
    p = load_scenario(path).parameters["demand.cla.opening_stock"]
    assert (p.file, p.line) == (str(path), line_of(MINIMAL, "opening_stock"))


# --- file-level problems -------------------------------------------------------

def test_yaml_syntax_error_names_the_line(write):
    text = MINIMAL.replace("title: A minimal", "title: [unclosed")
    (line, key, msg), = problems(write("s.yaml", text))
    assert msg.startswith("YAML syntax error")
    # the parser notices the unclosed flow sequence at or after the line it opens on
    assert line >= line_of(text, "[unclosed")


@pytest.mark.parametrize("text, expected", [
    ("", "file is empty"),
    ("# only a comment\n", "file is empty"),
    ("- a\n- b\n", "expected a mapping of keys"),
    ("just words\n", "expected a mapping of keys"),
])
def test_empty_or_non_mapping_file(write, text, expected):
    (line, key, msg), = problems(write("s.yaml", text))
    assert expected in msg


def test_not_utf8_names_the_line(write):
    raw = MINIMAL.replace("Worcestershire", "Worcestershire\xa0").encode("latin-1")
    (line, key, msg), = problems(write("s.yaml", raw))
    assert "not UTF-8" in msg and "0xa0" in msg
    assert line == line_of(MINIMAL, "Worcestershire")


def test_binary_file_is_refused(write):
    (line, key, msg), = problems(write("s.yaml", b"\x89PNG\r\n\x1a\n\x00\x00"))
    assert "binary" in msg


def test_file_too_large(write):
    text = MINIMAL + "#" * (MAX_SCENARIO_BYTES + 1)
    (line, key, msg), = problems(write("s.yaml", text))
    assert "at most" in msg and line is None


def test_missing_file(tmp_path):
    (line, key, msg), = problems(tmp_path / "nope.yaml")
    assert msg == "file not found"


def test_byte_order_mark_is_accepted(write):
    assert load_scenario(write("s.yaml", "\ufeff" + MINIMAL)).name == "minimal"


# --- keys and types -----------------------------------------------------------

def test_duplicate_key_cites_both_lines(write):
    text = MINIMAL.replace("  years: 10\n", "  years: 10\n  years: 12\n")
    (line, key, msg), = problems(write("s.yaml", text))
    first = line_of(text, "years: 10")
    assert (line, key) == (first + 1, "years")
    assert f"first written on line {first}" in msg


def test_unknown_key_suggests_the_nearest(write):
    text = MINIMAL.replace("    vehicle: company", "    vehicle: company\n    go_lve: 2019-10-01")
    found = problems(write("s.yaml", text))
    assert (line_of(text, "go_lve"), "options.company.go_lve") in [(f[0], f[1]) for f in found]
    msg = next(m for _, k, m in found if k == "options.company.go_lve")
    assert "did you mean 'go_live'" in msg


def test_unknown_parameter_suggests_the_nearest(write):
    text = edit(MINIMAL, ("    referrals:", "    referals:"))
    found = problems(write("s.yaml", text))
    line, key, msg = next(f for f in found if f[1] == "parameters.demand.referals")
    assert line == line_of(text, "referals:")
    assert "did you mean 'referrals'" in msg


def test_unknown_top_level_key(write):
    (line, key, msg), = problems(write("s.yaml", MINIMAL + "optoins: {}\n"))
    assert key == "optoins" and "did you mean 'options'" in msg


@pytest.mark.parametrize("old, new, key, expected", [
    ("years: 10", "years: ten", "scenario.years", "expected a whole number, got 'ten' (text)"),
    ("value: 833,", "value: '833',", "parameters.demand.cla.opening_stock.value", "expected a number, got '833' (text)"),
    ("baseline: true", "baseline: 'yes'", "options.in_house.baseline", "expected true or false"),
    ("base_year: \"2019-20\"", "base_year: \"2019-21\"", "scenario.base_year", "expected a financial year such as '2019-20'"),
    ("scope: [social_care]\n    csf:\n      independence: {met: false",
     "scope: social_care\n    csf:\n      independence: {met: false", "options.in_house.scope", "expected a list"),
])
def test_wrong_types(write, old, new, key, expected):
    text = MINIMAL.replace(old, new, 1)
    assert text != MINIMAL
    found = problems(write("s.yaml", text))
    assert any(k == key and expected in m for _, k, m in found), found


@pytest.mark.parametrize("bad", [".nan", ".inf", "-.inf"])
def test_nan_and_infinity_are_refused(write, bad):
    text = MINIMAL.replace("value: 833,", f"value: {bad},")
    found = problems(write("s.yaml", text))
    assert any(k == "parameters.demand.cla.opening_stock.value" and "finite number" in m
               and line == line_of(text, "opening_stock") for line, k, m in found), found


def test_negative_count_is_refused(write):
    text = MINIMAL.replace("value: 833,", "value: -5,")
    found = problems(write("s.yaml", text))
    assert ("parameters.demand.cla.opening_stock.value",
            "a count in children cannot be below 0, got -5") in [(k, m) for _, k, m in found]


def test_negative_cost_is_refused(write):
    text = MINIMAL.replace("value: 1330000", "value: -1330000")
    found = problems(write("s.yaml", text))
    assert any(k == "options.company.one_off_costs.property.value" and "at least 0" in m
               for _, k, m in found), found


@pytest.mark.parametrize("value", ["1.25", "-0.1"])
def test_share_outside_unit_interval(write, value):
    text = MINIMAL.replace("value: 0.25\n", f"value: {value}\n").replace(
        "{type: triangular, low: 0.2, mode: 0.25, high: 0.3}", "{type: uniform, low: -0.5, high: 1.5}")
    found = problems(write("s.yaml", text))
    assert any(k == "parameters.demand.cla.exit_rate.value" and "share" in m for _, k, m in found), found


def test_share_distribution_reaching_beyond_one(write):
    text = MINIMAL.replace("high: 0.3}", "high: 1.2}")
    found = problems(write("s.yaml", text))
    assert any(k == "parameters.demand.cla.exit_rate.distribution" and "reaches 1.2" in m
               for _, k, m in found), found


def test_wrong_unit_for_a_catalogue_parameter(write):
    text = MINIMAL.replace("unit: children", "unit: GBP/week")
    (line, key, msg), = problems(write("s.yaml", text))
    assert key == "parameters.demand.cla.opening_stock.unit"
    assert "measured in 'children', got 'GBP/week'" in msg


def test_value_and_values_together_are_refused(write):
    text = MINIMAL.replace("value: 833,", "value: 833, values: {\"2019-20\": 833},")
    found = problems(write("s.yaml", text))
    assert any("exactly one of 'value'" in m for _, _, m in found), found


# --- distributions ------------------------------------------------------------

def test_distribution_must_contain_the_central_value(write):
    text = MINIMAL.replace("low: 0.2, mode: 0.25, high: 0.3", "low: 0.3, mode: 0.35, high: 0.4")
    (line, key, msg), = problems(write("s.yaml", text))
    assert key == "parameters.demand.cla.exit_rate.distribution"
    assert "does not contain the central value 0.25" in msg


def test_distribution_parameters_out_of_order(write):
    text = MINIMAL.replace("low: 0.2, mode: 0.25, high: 0.3", "low: 0.3, mode: 0.25, high: 0.2")
    found = problems(write("s.yaml", text))
    assert any("expected low <= mode <= high" in m for _, _, m in found), found


def test_unknown_distribution_type(write):
    text = MINIMAL.replace("{type: triangular, low: 0.2", "{type: triangle, low: 0.2")
    (line, key, msg), = problems(write("s.yaml", text))
    assert key == "parameters.demand.cla.exit_rate.distribution.type"
    assert "unknown distribution type 'triangle'" in msg and "did you mean 'triangular'" in msg


def test_distribution_with_a_misspelt_parameter(write):
    text = MINIMAL.replace("low: 0.2, mode: 0.25", "lo: 0.2, mode: 0.25")
    found = problems(write("s.yaml", text))
    assert ("parameters.demand.cla.exit_rate.distribution.lo") in [k for _, k, _ in found]


def test_effect_distribution_must_contain_its_change(write):
    text = MINIMAL.replace("{type: triangular, low: -0.08, mode: -0.03, high: 0}",
                           "{type: triangular, low: -0.08, mode: -0.06, high: -0.05}")
    (line, key, msg), = problems(write("s.yaml", text))
    assert key == "options.company.effects.fewer_referrals.distribution"
    assert "central value -0.03" in msg


# --- options, effects, MCA ----------------------------------------------------

def test_missing_baseline(write):
    text = MINIMAL.replace("    baseline: true\n", "")
    (line, key, msg), = problems(write("s.yaml", text))
    assert key == "options" and "exactly one option must be the baseline" in msg


def test_second_baseline(write):
    text = MINIMAL.replace("    vehicle: company\n", "    vehicle: company\n    baseline: true\n")
    (line, key, msg), = problems(write("s.yaml", text))
    assert key == "options.company.baseline" and "second baseline" in msg
    assert line == line_of(text, "vehicle: company") + 1


def test_effect_on_a_driver_that_does_not_exist(write):
    text = MINIMAL.replace("driver: demand.referrals.rate_per_10k", "driver: demand.referrals.rate_per_10")
    (line, key, msg), = problems(write("s.yaml", text))
    assert (line, key) == (line_of(text, "driver:"), "options.company.effects.fewer_referrals.driver")
    assert "did you mean 'demand.referrals.rate_per_10k'" in msg


def test_effect_on_a_driver_the_scenario_does_not_give(write):
    text = MINIMAL.replace("driver: demand.referrals.rate_per_10k", "driver: workforce.agency_share")
    (line, key, msg), = problems(write("s.yaml", text))
    assert "gives it no value" in msg


def test_every_problem_is_reported_at_once(write):
    text = (MINIMAL.replace("years: 10", "years: -1")
            .replace("value: 833,", "value: -1,")
            .replace("vehicle: company", "vehicle: compnay")
            .replace("driver: demand.referrals.rate_per_10k", "driver: nope"))
    keys = {k for _, k, _ in problems(write("s.yaml", text))}
    # the effect is still checked although its option has another problem
    assert {"scenario.years", "parameters.demand.cla.opening_stock.value",
            "options.company.vehicle", "options.company.effects.fewer_referrals.driver"} <= keys


def test_mca_score_for_unknown_option_and_missing_score(write):
    text = edit(MINIMAL, ("      company: {score: 100", "      compnay: {score: 100"))
    found = problems(write("s.yaml", text))
    assert any(k == "mca.scores.pace.compnay" and "did you mean 'company'" in m for _, k, m in found)
    assert any(k == "mca.criteria.pace" and "no score for option(s) company" in m for _, k, m in found)


def test_score_outside_0_to_100(write):
    text = MINIMAL.replace("score: 100", "score: 120")
    found = problems(write("s.yaml", text))
    assert any(k == "mca.scores.pace.company.score" and "at most 100" in m for _, k, m in found)


def test_csf_must_be_assessed_for_every_option(write):
    text = edit(MINIMAL, ("    csf:\n      independence: {met: true, rationale: an arm's-length company}\n", ""))
    found = problems(write("s.yaml", text))
    assert any(k == "options.company" and "critical success factor 'independence'" in m for _, k, m in found)


def test_go_live_outside_the_appraisal_period(write):
    text = MINIMAL.replace("go_live: 2019-10-01", "go_live: 2035-10-01")
    found = problems(write("s.yaml", text))
    assert any(k == "options.company.go_live" and "outside the appraisal period" in m for _, k, m in found)


def test_placement_mix_must_add_to_one(write):
    text = edit(MINIMAL, ("      exit_rate:", (
        "      placement_mix:\n"
        "        in_house_fostering: {value: 0.5, source: s, confidence: 1}\n"
        "        ifa: {value: 0.4, source: s, confidence: 1}\n"
        "      exit_rate:")))
    (line, key, msg), = problems(write("s.yaml", text))
    assert key == "parameters.demand.cla.placement_mix" and "got 0.9000" in msg


def test_a_caseload_target_needs_the_cases_a_child_in_need_brings(write):
    # the DfE's caseload counts cases held, not children in need (about 0.84 cases per child in
    # need in England); without the ratio the model would count a fifth too many social workers
    text = edit(MINIMAL, ("parameters:\n", (
        "parameters:\n"
        "  workforce:\n"
        "    caseload_target: {value: 18.1, unit: cases/FTE, source: DfE CSWW 2019, confidence: 1}\n")))
    (line, key, msg), = problems(write("s.yaml", text))
    assert key == "parameters.workforce.caseload_target" and line is not None
    assert "workforce.cases_per_child_in_need" in msg and "cases held" in msg
    fixed = text.replace("confidence: 1}\n  demand", "confidence: 1}\n    cases_per_child_in_need: "
                         "{value: 0.944, unit: ratio, source: DfE CSWW and CIN census 2019, confidence: 1}\n  demand")
    load_scenario(write("fixed.yaml", fixed), strict=True)


# --- strict -------------------------------------------------------------------

def test_strict_fails_figures_without_source(write):
    text = MINIMAL.replace(", source: DfE CIN census 2019, confidence: 1", "")
    path = write("s.yaml", text)
    load_scenario(path)  # fine without --strict
    found = problems(path, strict=True)
    assert {(k, "no source" in m or "no confidence" in m) for _, k, m in found} == {
        ("parameters.demand.referrals.rate_per_10k", True)}


def test_strict_fails_bare_numbers(write):
    text = MINIMAL.replace(
        "rate_per_10k: {value: 421, unit: per 10k children/year, source: DfE CIN census 2019, confidence: 1}",
        "rate_per_10k: 421")
    path = write("s.yaml", text)
    assert load_scenario(path).parameters["demand.referrals.rate_per_10k"].value == 421
    (line, key, msg), = problems(path, strict=True)
    assert "has no source" in msg


# --- extends ------------------------------------------------------------------

CHILD = """\
scenario:
  extends: base.yaml
  name: child
  title: Child
parameters:
  demand:
    cla:
      opening_stock: {value: 900, unit: children, source: later release, confidence: 1}
options:
  company:
    go_live: 2020-04-01
  in_house: null
  new_baseline:
    label: New baseline
    vehicle: council
    baseline: true
    scope: [social_care]
    csf:
      independence: {met: false, rationale: r}
mca:
  scores:
    pace:
      in_house: null
      new_baseline: {score: 0, rationale: r}
"""


def test_extends_overlays_key_by_key(write):
    write("cases/base.yaml", MINIMAL)
    sc = load_scenario(write("cases/child.yaml", CHILD), strict=True)
    assert sc.name == "child" and [f.name for f in sc.files] == ["base.yaml", "child.yaml"]
    # the child's figure replaces the parent's whole, source included
    p = sc.parameters["demand.cla.opening_stock"]
    assert (p.value, p.source) == (900, "later release")
    assert p.file.endswith("child.yaml")
    # untouched parameters come from the parent, with the parent's location
    assert sc.parameters["demand.cla.exit_rate"].file.endswith("base.yaml")
    # one field of an option overridden, the rest inherited
    assert str(sc.options["company"].go_live) == "2020-04-01"
    assert sc.options["company"].recurring_costs["running"].value == 2_500_000
    # null removes a key
    assert "in_house" not in sc.options and sc.baseline == "new_baseline"


def test_problem_in_parent_cites_the_parent_file(write):
    # exit_rate is wrong in the parent and the child does not override it
    broken = edit(MINIMAL, ("value: 0.25\n", "value: 1.25\n"), ("high: 0.3}", "high: 1.3}"))
    base = write("cases/base.yaml", broken)
    problems_found = problems(write("cases/child.yaml", CHILD))
    assert (line_of(broken, "value: 1.25"), "parameters.demand.cla.exit_rate.value") in [
        (line, key) for line, key, _ in problems_found]
    with pytest.raises(ScenarioError) as info:
        load_scenario(base.parent / "child.yaml")
    assert {p.file for p in info.value.problems} == {str(base)}


def test_child_override_removes_the_parents_problem(write):
    write("cases/base.yaml", edit(MINIMAL, ("value: 833,", "value: -1,")))
    # the child replaces opening_stock whole, so the parent's -1 is never used
    assert load_scenario(write("cases/child.yaml", CHILD)).parameters["demand.cla.opening_stock"].value == 900


def test_extends_missing_target(write):
    path = write("child.yaml", CHILD.replace("base.yaml", "nowhere.yaml"))
    (line, key, msg), = problems(path)
    assert (line, key) == (2, "scenario.extends") and "no file is there" in msg


def test_extends_cycle(write):
    write("a.yaml", MINIMAL.replace("  name: minimal", "  extends: b.yaml\n  name: a"))
    write("b.yaml", CHILD.replace("base.yaml", "a.yaml"))
    (line, key, msg), = problems(write("b.yaml", CHILD.replace("base.yaml", "a.yaml")))
    assert key == "scenario.extends" and "cycle" in msg


def test_child_without_its_own_name_is_refused(write):
    write("base.yaml", MINIMAL)
    found = problems(write("child.yaml", CHILD.replace("  name: child\n", "")))
    assert any(k == "scenario.name" and "name of its own" in m for _, k, m in found)


# --- hashing --------------------------------------------------------------------

def test_sha256_ignores_layout_and_comments_but_not_values(write):
    a = load_scenario(write("a.yaml", MINIMAL)).sha256
    reordered = "# a comment\n" + MINIMAL.replace("  years: 10\n", "").replace(
        "  base_year: \"2019-20\"\n", "  base_year: \"2019-20\"\n  years: 10\n")
    assert load_scenario(write("b.yaml", reordered)).sha256 == a
    changed = MINIMAL.replace("value: 833,", "value: 834,")
    assert load_scenario(write("c.yaml", changed)).sha256 != a


def test_sha256_is_the_same_for_a_chain_and_its_flattened_equivalent(write):
    write("base.yaml", MINIMAL)
    chained = load_scenario(write("child.yaml", CHILD))
    flat = write("flat.yaml", _flatten_yaml(chained.document))
    assert load_scenario(flat).sha256 == chained.sha256


def _flatten_yaml(document):
    import yaml
    return yaml.safe_dump(document, sort_keys=False)
