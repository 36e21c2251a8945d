"""The projection orchestrator and parameter sampling, through scenario files."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import REPO
from wcf_model import load_scenario, project
from wcf_model.inputs import sample_parameters

FBC = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"

SHOCKED = """\
scenario:
  extends: {base}
  name: pandemic
  title: A pandemic year written in a scenario file
parameters:
  demand:
    shocks:
      referrals:
        values: {{"2019-20": 1.0, "2020-21": 0.85, "2021-22": 1.12, "2022-23": 1.0}}
        unit: ratio
        source: illustration
        confidence: 5
"""


def test_a_shock_written_in_a_scenario_file(write):
    path = write("pandemic.yaml", SHOCKED.format(base=REPO / "scenarios" / "worcestershire" / "base.yaml"))
    base = project(load_scenario(REPO / "scenarios" / "worcestershire" / "base.yaml"))
    hit = project(load_scenario(path))
    ratio = hit.caseloads.referrals[0] / base.caseloads.referrals[0]
    # referrals down 15% in 2020-21, a delayed surge of 12% in 2021-22, then as before
    np.testing.assert_allclose(ratio, [1, 0.85, 1.12] + [1] * 7)
    assert hit.caseloads.cin.closing[0, 1] < base.caseloads.cin.closing[0, 1]


def test_same_seed_same_draws_and_a_central_run_is_one_draw():
    sc = load_scenario(FBC)
    a, b = project(sc, draws=300, seed=5), project(sc, draws=300, seed=5)
    np.testing.assert_array_equal(a.caseloads.cla.closing, b.caseloads.cla.closing)
    assert not np.array_equal(project(sc, draws=300, seed=6).caseloads.cla.closing, a.caseloads.cla.closing)
    central = project(sc)
    assert central.draws == 1 and central.caseloads.cla.closing.shape == (1, 10)
    assert central.caseloads.cla.opening[0, 0] == 833


def test_population_is_grown_after_the_last_estimate():
    sc = load_scenario(FBC)
    pop = project(sc).caseloads.population[0]
    p = sc.parameters["population.age_0_17"]
    growth = sc.parameters["population.growth_rate"].central()
    last_given = max(y for y in p.values if y in sc.financial_years)
    t = sc.financial_years.index(last_given)
    assert pop[t] == p.values[last_given]
    assert pop[t + 1] == pytest.approx(p.values[last_given] * (1 + growth))


def test_each_input_has_its_own_stream():
    # dropping one uncertain input leaves every other input's draws unchanged
    sc = load_scenario(FBC)
    years = sc.financial_years
    everything = sample_parameters(sc.parameters, years, draws=50, seed=3)
    fewer = dict(sc.parameters)
    dropped = next(n for n, p in fewer.items() if p.distribution is not None)
    del fewer[dropped]
    some = sample_parameters(fewer, years, draws=50, seed=3)
    for name in some:
        np.testing.assert_array_equal(some[name], everything[name])


def test_bands_are_ordered_and_cover_the_mean():
    b = project(load_scenario(FBC), draws=500).bands()
    assert (b["p10"] <= b["p50"]).all() and (b["p50"] <= b["p90"]).all()
    cla = b[b["measure"] == "cla_closing"]
    assert ((cla["p10"] <= cla["mean"]) & (cla["mean"] <= cla["p90"])).all()


def test_the_baselines_own_effects_are_part_of_its_projection(write):
    base = REPO / "scenarios" / "worcestershire" / "base.yaml"
    text = (f"scenario: {{extends: {base}, name: plan, title: t}}\n"
            "options:\n  in_house:\n    effects:\n      lower_caseloads:\n"
            "        driver: workforce.caseload_target\n        mode: set\n        change: 15\n"
            "        start: \"2020-21\"\n        evidence: an improvement plan target\n        confidence: 2\n")
    with_plan = project(load_scenario(write("plan.yaml", text)))
    without = project(load_scenario(base))
    sw = with_plan.measures()["social_worker_in_post_fte"][0]
    # unchanged in 2019-20; from 2020-21 cases / 15 rather than cases / 18.1, where cases are
    # the children in need x 0.944 cases each (Worcestershire's 2019 censuses)
    assert sw[0] == pytest.approx(without.measures()["social_worker_in_post_fte"][0, 0])
    cin_avg = with_plan.caseloads.cin.average[0, 1]
    assert sw[1] == pytest.approx(cin_avg * 0.944 / 15)


LATEST_ESTIMATE_BEFORE_BASE_YEAR = """\
scenario:
  extends: {base}
  name: from-the-latest-estimate
  title: Appraised from 2021-22 with the mid-2019 estimate as the latest
  base_year: "2021-22"
parameters:
  population:
    age_0_17:
      values: {{"2018-19": 117046, "2019-20": 117645}}
      unit: children
      source: ONS mid-year estimates
      confidence: 1
"""


def test_a_population_estimate_before_the_base_year_is_grown_to_it(write):
    # The failure: a case appraised from a year after the latest ONS
    # estimate ("internal error: the population needs a figure for at least one
    # year"). The first year is the mid-2019 figure grown for two years at the
    # scenario's growth rate, 0.0041: 117,645 x 1.0041^2 = 118,611.
    path = write("later.yaml", LATEST_ESTIMATE_BEFORE_BASE_YEAR.format(base=REPO / "scenarios" / "worcestershire" / "base.yaml"))
    sc = load_scenario(path)
    pop = project(sc).caseloads.population[0]
    assert pop[0] == pytest.approx(117_645 * 1.0041 ** 2)
    assert pop[0] == pytest.approx(118_611, abs=1)
    assert pop[1] == pytest.approx(pop[0] * 1.0041)
    # the appraisal uses the same path
    from wcf_model import appraise
    assert appraise(sc).central.options["in_house"].projection.caseloads.population[0, 0] == pytest.approx(pop[0])
