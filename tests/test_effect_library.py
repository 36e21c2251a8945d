"""The effect library: entries checked, cited by name from a scenario, scaled and widened."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import yaml

from conftest import MINIMAL, REPO, SHARED_DFE
from wcf_model import load_scenario
from wcf_model.effect_library import (
    DEFAULT_LIBRARY,
    Evidence,
    effect_basis_table,
    grade,
    load_library,
    scaled_distribution,
)
from wcf_model.errors import ScenarioError
from wcf_model.scenario import scenario_from_document

ENTRY = textwrap.dedent("""\
    library:
      title: Test library
    effects:
      fewer_referrals:
        label: Referrals after a move
        driver: demand.referrals.rate_per_10k
        mode: multiply
        change: -0.05
        distribution: {type: normal, mean: -0.05, sd: 0.04}
        ramp_years: 0
        basis: reference_class
        evidence:
          citation: a test estimate
          population: 10 movers against 140 councils
          design: quasi_experimental
          method: difference in differences
          estimate: -5%
          interval: 90% interval -11.6% to +1.6%
          councils: 10
          pretrend_p: 0.4
        confidence: 2
        applies_to: [company, trust]
        limits: a test entry
    """)


def library(write, text: str = ENTRY, name: str = "lib/effects.yaml"):
    return write(name, text)


def scenario(write, effect: str, library_path: str = "lib") -> str:
    """MINIMAL with its company's effect replaced by ``effect`` (YAML lines under the effect's name)."""
    text = MINIMAL.replace("  title: A minimal scenario for tests\n",
                           f"  title: A minimal scenario for tests\n  effect_library: {library_path}\n")
    start = text.index("      fewer_referrals:")
    end = text.index("    csf:\n      independence: {met: true")
    body = textwrap.indent(textwrap.dedent(effect), "        ")
    return write("sc.yaml", text[:start] + "      fewer_referrals:\n" + body + text[end:])


def test_grades_follow_the_strength_of_the_design():
    ev = dict(citation="c", population="p", method="m", estimate="e", interval="i")
    assert grade(Evidence(design="rct", **ev)) == 1
    assert grade(Evidence(design="quasi_experimental", councils=10, pretrend_p=0.4, **ev)) == 2
    assert grade(Evidence(design="quasi_experimental", councils=6, pretrend_p=0.4, **ev)) == 3
    assert grade(Evidence(design="quasi_experimental", councils=12, pretrend_p=0.05, **ev)) == 3
    assert grade(Evidence(design="before_after", **ev)) == 4


def test_a_grade_the_design_does_not_support_is_refused_with_file_and_line(write):
    path = library(write, ENTRY.replace("confidence: 2", "confidence: 1"))
    entries, problems = load_library(path)
    assert entries == {}
    line = ENTRY.splitlines().index("    confidence: 2") + 1   # line 21
    assert [str(p) for p in problems] == [
        f"{path}:{line}: effects.fewer_referrals.confidence: a quasi-experimental design with 10 council(s) and "
        "pre-trend p = 0.4 supports confidence 2, got 1"]


def test_library_entries_are_checked_like_scenarios(write):
    bad = (ENTRY.replace("driver: demand.referrals.rate_per_10k", "driver: demand.referrals.rate_per_10")
           .replace("limits: a test entry", "limit: a test entry"))
    _, problems = load_library(library(write, bad))
    text = "\n".join(map(str, problems))
    assert "effects.fewer_referrals.limit: unknown key 'limit'; did you mean 'limits'?" in text
    assert "effects.fewer_referrals.limits: required key is missing" in text
    # a distribution whose range does not hold the central value
    _, problems = load_library(library(write, ENTRY.replace("{type: normal, mean: -0.05, sd: 0.04}",
                                                            "{type: uniform, low: 0.0, high: 0.1}")))
    assert "does not contain the central value -0.05" in str(problems[0])
    # a distribution that cannot be scaled about its centre
    _, problems = load_library(library(write, ENTRY.replace("{type: normal, mean: -0.05, sd: 0.04}",
                                                            "{type: beta, alpha: 2, beta: 3}")))
    assert "must be one of normal, truncnormal, triangular, pert, uniform" in str(problems[0])


def test_names_must_be_unique_across_library_files(write):
    library(write, ENTRY, "lib/a.yaml")
    library(write, ENTRY, "lib/b.yaml")
    entries, problems = load_library(write("lib/c.txt", "").parent)
    assert list(entries) == ["fewer_referrals"]
    assert "already defined in" in str(problems[0]) and "a.yaml:4" in str(problems[0])


def test_an_option_cites_a_library_effect_by_name(write):
    library(write)
    sc = load_scenario(scenario(write, "use: fewer_referrals\nramp_years: 2\n"))
    e = sc.options["company"].effects["fewer_referrals"]
    assert (e.driver, e.mode, e.change, e.ramp_years) == ("demand.referrals.rate_per_10k", "multiply", -0.05, 2)
    assert e.distribution == {"type": "normal", "mean": -0.05, "sd": 0.04}
    assert (e.basis, e.library, e.confidence) == ("evidence", "fewer_referrals", 2)
    assert "a test estimate" in e.source and "90% interval -11.6% to +1.6%" in e.source
    # the resolved scenario carries the whole effect, so it validates without the library
    doc = sc.document["options"]["company"]["effects"]["fewer_referrals"]
    assert doc["change"] == -0.05 and "use" not in doc and "effect_library" not in sc.document["scenario"]
    again = scenario_from_document(sc.document)
    assert again.options["company"].effects["fewer_referrals"] == e
    assert again.sha256 == sc.sha256


def test_an_unknown_name_is_refused_with_a_suggestion_and_its_line(write):
    library(write)
    path = scenario(write, "use: fewer_referral\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    line = path.read_text().splitlines().index("        use: fewer_referral") + 1
    assert str(err.value.problems[0]) == (
        f"{path}:{line}: options.company.effects.fewer_referrals.use: no library effect 'fewer_referral'; "
        "did you mean 'fewer_referrals'? (the library holds: fewer_referrals)")


def test_numbers_from_the_library_change_only_with_own_evidence_and_then_count_as_judgement(write):
    library(write)
    with pytest.raises(ScenarioError, match=r"effects.fewer_referrals.change: library effect 'fewer_referrals' with "
                                            r"its change changed is a judgement: give your own 'evidence'"):
        load_scenario(scenario(write, "use: fewer_referrals\nchange: -0.2\n"))
    with pytest.raises(ScenarioError, match=r"effects.fewer_referrals.driver: 'driver' comes from library effect"):
        load_scenario(scenario(write, "use: fewer_referrals\ndriver: demand.cla.exit_rate\n"))
    with pytest.raises(ScenarioError, match=r"'library' and 'basis: evidence' are written by wcf-model"):
        load_scenario(scenario(write, "driver: demand.referrals.rate_per_10k\nchange: -0.2\nmode: multiply\n"
                                      "evidence: mine\nconfidence: 5\nbasis: evidence\nlibrary: fewer_referrals\n"))
    # with its own evidence the size may change: a judgement, the entry's spread moved to the new centre
    sc = load_scenario(scenario(write, "use: fewer_referrals\nchange: -0.02\nevidence: our own pilot\n"))
    e = sc.options["company"].effects["fewer_referrals"]
    assert (e.basis, e.library, e.confidence, e.change) == ("judgement", None, 5, -0.02)
    assert e.distribution == {"type": "normal", "mean": pytest.approx(-0.02), "sd": 0.04}
    assert e.evidence.startswith("our own pilot (adjusted from library effect fewer_referrals:")


def test_scaling_and_widening_need_a_reason_and_change_the_distribution(write):
    library(write)
    with pytest.raises(ScenarioError, match="needs a 'note' saying why"):
        load_scenario(scenario(write, "use: fewer_referrals\nscale: 0.5\n"))
    with pytest.raises(ScenarioError, match=r"widen: must be at least 1, got 0.5"):
        load_scenario(scenario(write, "use: fewer_referrals\nwiden: 0.5\nnote: x\n"))
    sc = load_scenario(scenario(write, "use: fewer_referrals\nscale: 0.5\nwiden: 2\n"
                                       "note: only social care moves here, and a smaller council\n"))
    e = sc.options["company"].effects["fewer_referrals"]
    # half the size, twice the spread: -0.05 x 0.5 = -0.025; sd 0.04 x 0.5 x 2 = 0.04
    assert e.change == pytest.approx(-0.025)
    assert e.distribution == {"type": "normal", "mean": pytest.approx(-0.025), "sd": pytest.approx(0.04)}
    table = effect_basis_table(sc).set_index("effect")
    assert table.loc["fewer_referrals", "basis"] == "evidence (scaled x0.5, widened x2)"
    assert table.loc["fewer_referrals", "limits"] == "a test entry"


def test_triangular_distributions_widen_about_the_scaled_centre():
    # centre -0.05 x 0.5 = -0.025; bounds -0.05, 0 scaled then moved 2x as far from the centre
    assert scaled_distribution({"type": "triangular", "low": -0.1, "mode": -0.05, "high": 0.0}, -0.05, 0.5, 2.0) \
        == {"type": "triangular", "low": -0.075, "mode": -0.025, "high": 0.025}


def test_evidence_for_companies_does_not_apply_to_a_partnership(write):
    library(write)
    text = scenario(write, "use: fewer_referrals\n").read_text().replace(
        "    label: Company\n    vehicle: company", "    label: Company\n    vehicle: partnership")
    with pytest.raises(ScenarioError, match=r"was measured for company, trust and does not apply to a 'partnership'"):
        load_scenario(write("sc2.yaml", text))


def test_a_missing_library_is_named(write):
    with pytest.raises(ScenarioError, match=r"scenario.effect_library: no effect library at .*nowhere"):
        load_scenario(scenario(write, "use: fewer_referrals\n", library_path="nowhere"))


def test_a_library_effect_moves_the_model_exactly_as_the_same_effect_written_out(write):
    from wcf_model.effects import apply_option_effects
    from wcf_model.inputs import sample_parameters

    library(write)
    cited = load_scenario(scenario(write, "use: fewer_referrals\n"))
    inline = load_scenario(scenario(write, "driver: demand.referrals.rate_per_10k\nmode: multiply\n"
                                           "change: -0.05\ndistribution: {type: normal, mean: -0.05, sd: 0.04}\n"
                                           "evidence: the same\nconfidence: 2\n"))
    years = cited.financial_years
    runs = []
    for sc in (cited, inline):
        p = sample_parameters(sc.parameters, years, draws=200, seed=5)
        runs.append(apply_option_effects(p, "company", sc.options["company"], years, 200, 5)
                    ["demand.referrals.rate_per_10k"])
    np.testing.assert_array_equal(runs[0], runs[1])     # same draws, same effect
    assert cited.sha256 != inline.sha256                # but the provenance tells the versions apart


def test_the_hash_changes_when_the_library_entry_does(write):
    library(write)
    path = scenario(write, "use: fewer_referrals\n")
    first = load_scenario(path).sha256
    library(write, ENTRY.replace("sd: 0.04", "sd: 0.05"))
    assert load_scenario(path).sha256 != first


def test_the_shipped_library_is_valid_and_graded_by_design():
    entries, problems = load_library(DEFAULT_LIBRARY)
    assert problems == []
    assert {"moved_agency_share", "moved_turnover", "moved_excl_worcs_agency_share"} <= set(entries)
    for entry in entries.values():
        e = entry.effect
        assert e.confidence == grade(e.evidence)
        assert e.distribution["mean"] == e.change and e.limits


@pytest.mark.skipif(not SHARED_DFE.is_dir(), reason="DfE downloads not present")
@pytest.mark.parametrize("name, exclude, prefix", [("moves.yaml", [], "moved"),
                                                   ("moves_without_worcestershire.yaml", ["885"], "moved_excl_worcs")])
def test_the_shipped_library_numbers_are_the_estimates(name, exclude, prefix):
    # The library's sizes are computed, not typed: rebuilding from the DfE downloads
    # with the recorded settings gives the same entries.
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_effect_library", REPO / "scripts" / "build_effect_library.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = yaml.safe_load((DEFAULT_LIBRARY / name).read_text(encoding="utf-8"))
    settings = shipped["library"]["settings"]
    rebuilt = module.document(SHARED_DFE, prefix, exclude, settings["placebos"], settings["seed"])
    assert rebuilt["effects"] == shipped["effects"]


def test_the_worcestershire_cases_use_evidence_where_it_applies():
    fbc = load_scenario(REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml")
    table = effect_basis_table(fbc).set_index(["option", "effect"])
    for option in ("company_csc", "company_broad"):
        for effect in ("recruitment_agency", "recruitment_turnover"):
            assert table.loc[(option, effect), "basis"].startswith("evidence (scaled x")
            # the council's own move is not evidence for its own case
            assert fbc.options[option].effects[effect].library.startswith("moved_excl_worcs_")
    assert table.loc[("company_broad", "early_help_referrals"), "basis"] == "evidence"
    assert table.loc[("company_broad", "send_independent_special"), "basis"] == "judgement"
    assert "no evidence applies" in table.loc[("company_broad", "send_independent_special"), "source"]
    assert fbc.options["strategic_partnership"].effects == {}


@pytest.mark.skipif(not SHARED_DFE.is_dir(), reason="DfE downloads not present")
def test_the_worcestershire_scales_are_its_level_over_the_movers_level_before_their_moves():
    # The notes derive each scale as Worcestershire's base-year figure over the
    # average of the movers' last figure before their moves (Worcestershire left out).
    from wcf_model.reference_class import DRIVERS, build_panel, load_reference_class, load_statistics, timing

    panel = build_panel(load_statistics(SHARED_DFE)).set_index(["driver", "unit", "year"])["value"]
    fbc = load_scenario(REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml")
    spells = load_reference_class()
    for effect, driver, parameter in (("recruitment_agency", "agency_share", "workforce.agency_share"),
                                      ("recruitment_turnover", "turnover", "workforce.turnover_rate")):
        tm = timing(spells, DRIVERS[driver].reference, ("trust", "company"))
        before = [panel.get((driver, u, tm.first[u] - 1)) for u in tm.treated if u != "885"]
        movers = np.mean([b for b in before if b is not None]) / 100
        expected = fbc.parameters[parameter].value / movers
        for option in ("company_csc", "company_broad"):
            assert fbc.options[option].effects[effect].scale == pytest.approx(expected, abs=0.005)
