"""Tornado, switching values and Sobol indices on a toy appraisal with known answers.

The toy: 100 children all year in IFA at £1,000 x 52 weeks (£5.2m a year), two
years, discounted at 3.5%. The company goes live on 1 October 2019 (half of the
first year), costs £100,000 to set up (+41% optimism bias) and R a year to run
(R ~ uniform 0-100,000), and changes the IFA price by c (c ~ uniform -10% to 0,
central -5%). With K = 0.5 + 1/1.035 = 1.4661836 (half of year 0, all of year 1
discounted), the NPV difference from in-house is

    diff = 141,000 + K R + 5,200,000 K c

so every answer below is arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest

from wcf_model import appraise, load_scenario
from wcf_model.uncertain import uncertain_inputs
from wcf_model.sensitivity import sobol, switching_values, tornado

K = 0.5 + 1 / 1.035

TOY = """\
scenario:
  name: toy
  title: Toy appraisal for sensitivity
  authority: {la_code: 885, name: Worcestershire}
  base_year: "2019-20"
  years: 2
  deflator_vintage: "2020-03"
parameters:
  population:
    age_0_17: {values: {"2019-20": 100000}, unit: children}
  demand:
    cla: {opening_stock: 100, start_rate_per_10k: 10, exit_rate: 0.5, placement_mix: {ifa: 1.0}}
  costs:
    placements:
      weekly:
        ifa: {value: 1000, unit: GBP/week, price_year: "2019-20"}
  finance: {weeks_per_year: 52}
  appraisal:
    optimism_bias:
      equipment_development: {upper: 0.41, lower: 0}
options:
  in_house: {label: In-house, vehicle: council, baseline: true, scope: [social_care]}
  company:
    label: Company
    vehicle: partnership
    go_live: 2019-10-01
    scope: [social_care]
    one_off_costs:
      set_up: {value: 100000, category: other, when: "2019-20", optimism_bias: equipment_development}
    recurring_costs:
      running:
        value: 50000
        category: company_running
        distribution: {type: uniform, low: 0, high: 100000}
    effects:
      cheaper_ifa:
        driver: costs.placements.weekly.ifa
        mode: multiply
        change: -0.05
        distribution: {type: uniform, low: -0.1, high: 0}
        evidence: toy
        confidence: 5
"""


def diff(running, c):
    return 141_000 + K * running + 5_200_000 * K * c


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    path = tmp_path_factory.mktemp("toy") / "toy.yaml"
    path.write_text(TOY, encoding="utf-8")
    return load_scenario(path)


def test_the_uncertain_inputs(toy):
    assert [i.name for i in uncertain_inputs(toy)] == [
        "options.company.recurring_costs.running", "options.company.effects.cheaper_ifa"]


def test_tornado_by_hand(toy):
    t = tornado(appraise(toy)).set_index("input")
    running = t.loc["options.company.recurring_costs.running"]
    # R at its 10th and 90th percentiles: 10,000 and 90,000, with c central (-5%)
    assert (running.low_value, running.high_value) == pytest.approx((10_000, 90_000))
    assert running.at_low == pytest.approx(diff(10_000, -0.05), abs=0.01)
    assert running.at_high == pytest.approx(diff(90_000, -0.05), abs=0.01)
    assert running.central == pytest.approx(diff(50_000, -0.05), abs=0.01)
    effect = t.loc["options.company.effects.cheaper_ifa"]
    assert effect.at_low == pytest.approx(diff(50_000, -0.09), abs=0.01)
    # the price effect swings the result far more: 5.2m x K x 8 points against K x 80,000
    assert list(t.index) == ["options.company.effects.cheaper_ifa", "options.company.recurring_costs.running"]


def test_switching_value_by_hand(toy):
    s = switching_values(appraise(toy)).set_index("input")
    # company costs the same as in-house when 141,000 + 50,000 K + 5.2m K c = 0
    c_star = -(141_000 + 50_000 * K) / (5_200_000 * K)            # -0.028109
    assert s.loc["options.company.effects.cheaper_ifa", "switching_value"] == pytest.approx(c_star, abs=1e-6)
    # no running cost between 0 and 100,000 makes the company dearer when c = -5%:
    # diff(R) = 0 needs R = 117,000 (outside the range)
    assert np.isnan(s.loc["options.company.recurring_costs.running", "switching_value"])


def test_sobol_indices_of_an_additive_model(toy):
    s = sobol(appraise(toy, seed=3), n=1024).set_index("input")
    # additive in independent uniforms: S1 = share of variance, ST = S1.
    # var(K R) = K^2 1e10 / 12; var(5.2m K c) = K^2 (5.2e6)^2 0.01 / 12
    share_running = 1e10 / (1e10 + 5.2e6 ** 2 * 0.01)               # 0.0357
    assert s.loc["options.company.recurring_costs.running", "S1"] == pytest.approx(share_running, abs=0.03)
    assert s.loc["options.company.effects.cheaper_ifa", "S1"] == pytest.approx(1 - share_running, abs=0.05)
    assert s.loc["options.company.effects.cheaper_ifa", "ST"] == pytest.approx(1 - share_running, abs=0.05)
    assert {"S1_conf", "ST_conf", "warning"} <= set(s.columns)
