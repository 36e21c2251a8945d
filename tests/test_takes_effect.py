"""Settings that could not take effect are validation errors naming them, not silent.

Each was once accepted as "valid" and then dropped or cut back by the model:
a cost dated outside the appraisal period, a recurring cost or an option that
ends before it starts, an effect that starts after the last year, the same pair
of inputs correlated twice, a contract longer than the appraisal, and an effect
that takes its driver out of the driver's range. The tests also check that the
boundary cases still pass, so the rules refuse only what cannot work.
"""

from __future__ import annotations

import pytest

from conftest import MINIMAL
from wcf_model import load_scenario
from wcf_model.errors import ScenarioError


def problems(path) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    return [(p.line, p.key, p.message) for p in exc.value.problems]


def edit(old: str, new: str) -> str:
    assert old in MINIMAL
    return MINIMAL.replace(old, new)


ONE_OFF = "property: {value: 1330000, category: property, source: press, confidence: 3, price_year: \"2017-18\"}"
RUNNING = "running: {value: 2500000, category: company_running, source: press, confidence: 3}"


@pytest.mark.parametrize("when,ok", [('"2019-20"', True), ('"2028-29"', True), ('"2029-30"', False),
                                     ("2019-03-31", False), ("2019-04-01", True)])
def test_a_one_off_cost_must_fall_in_the_appraisal_period(write, when, ok):
    path = write("s.yaml", edit(ONE_OFF, ONE_OFF[:-1] + f", when: {when}}}"))
    if ok:
        load_scenario(path)
    else:
        (line, key, message), = problems(path)
        assert key == "options.company.one_off_costs.property.when"
        assert "outside the appraisal period 2019-20 to 2028-29" in message and "left out of every result" in message


def test_a_one_off_cost_by_year_must_fall_in_the_period(write):
    path = write("s.yaml", edit(ONE_OFF, "property: {values: {\"2019-20\": 1000, \"2030-31\": 5000}, "
                                         "category: property, source: press, confidence: 3}"))
    (line, key, message), = problems(path)
    assert key == "options.company.one_off_costs.property.values.2030-31" and "outside the appraisal" in message


@pytest.mark.parametrize("start,end,ok", [
    ('"2021-22"', '"2021-22"', True),          # a single year
    ("2021-10-01", '"2021-22"', True),         # a date and its own year
    ("2021-10-01", "2021-06-30", False),       # same year, ends before it starts
    ('"2022-23"', '"2020-21"', False),
])
def test_a_recurring_cost_may_not_end_before_it_starts(write, start, end, ok):
    path = write("s.yaml", edit(RUNNING, RUNNING[:-1] + f", start: {start}, end: {end}}}"))
    if ok:
        load_scenario(path)
    else:
        (line, key, message), = problems(path)
        assert key == "options.company.recurring_costs.running.end" and "before it starts" in message


def test_a_recurring_cost_starting_after_the_period_is_refused(write):
    (line, key, message), = problems(write("s.yaml", edit(RUNNING, RUNNING[:-1] + ', start: "2031-32"}')))
    assert key == "options.company.recurring_costs.running.start" and "never be counted" in message


def test_an_option_may_not_end_before_it_goes_live(write):
    (line, key, message), = problems(write("s.yaml", edit("go_live: 2019-10-01", 'go_live: 2019-10-01\n    end: 2019-06-30')))
    assert (line, key) == (31, "options.company.end") and "before it goes live (2019-10-01)" in message


def test_an_effect_starting_after_the_last_year_is_refused(write):
    path = write("s.yaml", edit("ramp_years: 3", 'ramp_years: 3\n        start: "2029-30"'))
    (line, key, message), = problems(path)
    assert key == "options.company.effects.fewer_referrals.start" and "after the last year appraised" in message
    load_scenario(write("t.yaml", edit("ramp_years: 3", 'ramp_years: 3\n        start: "2028-29"')))


def test_the_same_pair_correlated_twice_is_refused_whatever_the_order(write):
    pair = ("demand.cla.exit_rate", "options.company.effects.fewer_referrals")
    text = MINIMAL + (f"correlations:\n  a: {{inputs: [{pair[0]}, {pair[1]}], rank_correlation: 0.5}}\n"
                      f"  b: {{inputs: [{pair[1]}, {pair[0]}], rank_correlation: -0.5}}\n")
    (line, key, message), = problems(write("s.yaml", text))
    assert key == "correlations.b.inputs" and "same two inputs as correlations.a" in message


@pytest.mark.parametrize("years,ok", [(10, True), (11, False)])
def test_a_contract_may_not_be_longer_than_the_appraisal(write, years, ok):
    path = write("s.yaml", edit("years: 10", f"years: 10\n  contract_years: {years}"))
    if ok:
        load_scenario(path)
    else:
        (line, key, message), = problems(path)
        assert key == "scenario.contract_years" and "longer than the 10 years appraised" in message


def test_a_set_effect_must_stay_in_its_drivers_range(write):
    # exit_rate is a share: a 'set' effect drawn from a normal can go below 0 or above 1,
    # and the model would cut each such draw back to the range without a word
    effect = ("      leaving:\n        driver: demand.cla.exit_rate\n        change: 0.3\n        mode: set\n"
              "        distribution: {type: normal, mean: 0.3, sd: 0.2}\n        evidence: test\n        confidence: 5\n")
    text = edit("    csf:\n      independence: {met: true", effect + "    csf:\n      independence: {met: true")
    (line, key, message), = problems(write("s.yaml", text))
    assert key == "options.company.effects.leaving.distribution"
    # its 0.1st percentile is 0.3 - 3.09 x 0.2 = -0.318: more than one draw in a thousand is cut back
    assert "0.1st and 99.9th percentiles" in message and "to -0.318" in message and "below its range [0, 1]" in message
    bounded = text.replace("{type: normal, mean: 0.3, sd: 0.2}", "{type: triangular, low: 0.2, mode: 0.3, high: 0.5}")
    load_scenario(write("t.yaml", bounded))


def test_a_multiply_effect_may_not_push_a_share_past_one(write):
    # exit_rate 0.25 x (1 + 4) = 1.25: more children leaving than there are
    effect = ("      leaving:\n        driver: demand.cla.exit_rate\n        change: 4\n        mode: multiply\n"
              "        evidence: test\n        confidence: 5\n")
    text = edit("    csf:\n      independence: {met: true", effect + "    csf:\n      independence: {met: true")
    (line, key, message), = problems(write("s.yaml", text))
    assert key == "options.company.effects.leaving.change" and "to 1.25, above its range [0, 1]" in message


def test_an_effect_that_would_take_its_driver_past_the_largest_figure_is_refused(write):
    # 421 referrals per 10,000 x (1 + 1e13) = 4.2e15, past the 1e15 the model accepts
    path = write("s.yaml", edit("change: -0.03\n        mode: multiply\n        ramp_years: 3\n"
                                "        distribution: {type: triangular, low: -0.08, mode: -0.03, high: 0}",
                                "change: 1.0e+13\n        mode: multiply\n        ramp_years: 3"))
    (line, key, message), = problems(path)
    assert key == "options.company.effects.fewer_referrals.change" and "past the largest figure" in message
