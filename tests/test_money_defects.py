"""Defects found in the money model, each pinned by a test that failed before the fix."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import MINIMAL, REPO
from wcf_model import ScenarioError, load_scenario
from wcf_model.appraisal import appraise_options
from wcf_model.prices import load_deflators

WORCS = REPO / "scenarios" / "worcestershire"


def test_nominal_index_after_the_last_deflator_year_grows_at_that_years_rate(write):
    # The March 2020 deflators end in 2024-25. general_inflation is given by year; 2025-26 and later
    # carry its last value, 2.11%, forward, so the cash index from 2024-25 to 2025-26 must grow 2.11%,
    # not the 1.92% of the first year.
    text = MINIMAL.replace("  demand:\n", "  finance:\n    general_inflation: {values: {\"2019-20\": 0.0192, "
                           "\"2024-25\": 0.0211}, unit: share/year}\n  population:\n    age_0_17: {values: "
                           "{\"2019-20\": 117000}, unit: children}\n  costs:\n    placements:\n      weekly:\n"
                           "        ifa: 820\n  demand:\n", 1)
    text = text.replace("    referrals:\n", "      placement_mix: {ifa: 1.0}\n"
                        "      start_rate_per_10k: 20\n    referrals:\n", 1)
    text = text.replace('  years: 10\n', '  years: 10\n  deflator_vintage: "2020-03"\n', 1)
    a = appraise_options(load_scenario(write("infl.yaml", text)))
    years = a.years
    t = years.index("2025-26")
    assert a.nominal_index[t] / a.nominal_index[t - 1] == pytest.approx(1.0211)
    assert a.nominal_index[t + 2] / a.nominal_index[t + 1] == pytest.approx(1.0211)
    # inside the series the published deflator decides: 2020-21 / 2019-20 as published
    d = load_deflators("2020-03")
    assert a.nominal_index[1] == pytest.approx(d["2020-21"] / d["2019-20"])


def test_the_safeguarding_staff_in_the_base_budget_are_not_counted_twice():
    # The £77m social care budget for 2019-20 includes the £1.2m of safeguarding staff added to the
    # base budget in 2018-19. In the base year the in-house service must therefore cost exactly its
    # budget: the modelled lines plus the budget's other costs, and nothing added on top of it.
    sc = load_scenario(WORCS / "2018-outline-business-case.yaml")
    base = appraise_options(sc).options["in_house"]
    social_care = sum(ln.values[0, 0] for ln in base.lines if ln.service_line == "social_care"
                      and not ln.name.startswith("overheads."))
    assert social_care == pytest.approx(sc.parameters["services.social_care.budget"].value, rel=1e-9)


def test_a_one_off_and_a_recurring_item_with_the_same_id_are_refused(write):
    text = MINIMAL.replace(
        "      running: {value: 2500000, category: company_running, source: press, confidence: 3}\n",
        "      running: {value: 2500000, category: company_running, source: press, confidence: 3}\n"
        "      property: {value: 100000, category: other, source: press, confidence: 3}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(write("dup.yaml", text))
    text = str(err.value)
    assert "options.company.recurring_costs.property" in text and "one_off_costs.property" in text


def _send_scenario(mainstream_price: bool, distribution: str | None = None) -> str:
    """MINIMAL with EHC plans in three settings, prices for two or three of them, and an option
    whose effect lowers independent special school places (optionally with a distribution)."""
    text = MINIMAL.replace("    referrals:\n", (
        "    ehcp:\n"
        "      opening_stock: 1000\n"
        "      new_per_10k: 40\n"
        "      ceased_rate: 0.01\n"
        "      setting_mix: {mainstream: 0.5, maintained_special: 0.3, independent_special: 0.2}\n"
        "    referrals:\n"), 1)
    text = text.replace("  demand:\n", "  costs:\n    send:\n      annual:\n        maintained_special: 20000\n"
                        "        independent_special: 54500\n"
                        + ("        mainstream: 7000\n" if mainstream_price else "") + "  demand:\n", 1)
    return text.replace("    effects:\n", (
        "    effects:\n"
        "      send_shift:\n"
        "        driver: demand.ehcp.setting_mix.independent_special\n"
        "        change: -0.05\n"
        "        mode: multiply\n"
        + (f"        distribution: {distribution}\n" if distribution else "")
        + "        evidence: none quantified\n"
        "        confidence: 5\n"), 1)


def test_an_effect_moving_children_into_an_unpriced_setting_is_refused(write):
    # The SEND effect lowers independent special school places; the mix is re-normalised, so the
    # children move to every other setting with a share. A setting with children but no price
    # would make them vanish from the costs.
    with pytest.raises(ScenarioError, match="mainstream"):
        load_scenario(write("send.yaml", _send_scenario(mainstream_price=False)))
    load_scenario(write("send_priced.yaml", _send_scenario(mainstream_price=True)))


@pytest.mark.parametrize("distribution, where, says", [
    # the type a mapping, not a name: TypeError looking it up among the distribution names
    ("{type: {triangular: 1}, low: -0.1, mode: -0.05, high: 0}", "send_shift.distribution.type",
     "expected the name of a distribution"),
    # `low:` left empty: the range came back as (None, 0), and TypeError comparing None with 0
    ("{type: triangular, low: null, mode: -0.05, high: 0}", "send_shift.distribution.low",
     "expected a number, got None"),
])
def test_an_effect_on_a_mix_with_a_malformed_distribution_is_a_problem_not_a_crash(write, distribution, where, says):
    # Found by the fuzzing campaign (make fuzz): an effect on a setting mix with a malformed
    # distribution reached the check that the settings are priced and raised an internal error.
    # It must be reported as a problem at the part that is wrong, like any other.
    with pytest.raises(ScenarioError) as err:
        load_scenario(write("send_bad.yaml", _send_scenario(mainstream_price=True, distribution=distribution)))
    assert f"{where}: {says}" in str(err.value)


def test_a_one_off_cost_cannot_take_an_operating_cost_optimism_bias(write):
    # Green Book supplementary guidance: the 'outsourcing' uplift is for operating costs; a one-off
    # set-up cost takes a capital category (equipment and development, buildings).
    text = MINIMAL.replace(
        'property: {value: 1330000, category: property, source: press, confidence: 3, price_year: "2017-18"}',
        'property: {value: 1330000, category: property, source: press, confidence: 3, price_year: "2017-18", '
        'optimism_bias: outsourcing}')
    with pytest.raises(ScenarioError, match="operating"):
        load_scenario(write("ob.yaml", text))


def test_foster_allowances_agency_fees_and_pay_are_not_taxed_alike():
    # The old base took VAT on 35% of everything but permanent pay. Placements with the council's
    # own foster carers (allowances), independent fostering agencies and children's homes (exempt
    # welfare supplies) and pay bear no VAT; agency staff (a standard-rated supply of staff) bear
    # it in full. So irrecoverable VAT on those lines alone is 20% of agency pay and premium.
    from wcf_model.tax import vat_on_lines
    sc = load_scenario(WORCS / "2018-outline-business-case.yaml")
    a = appraise_options(sc)
    company = a.options["company_csc"]
    by_line = vat_on_lines(company)
    for name in ("placements.in_house_fostering", "placements.ifa", "placements.external_home",
                 "staff.permanent_pay"):
        assert by_line[name][0].sum() == 0, name
    agency = sum(company.economic[n][0, 1] for n in ("staff.agency_pay", "staff.agency_premium"))
    assert by_line["staff.agency_pay"][0, 1] + by_line["staff.agency_premium"][0, 1] == pytest.approx(0.2 * agency)
