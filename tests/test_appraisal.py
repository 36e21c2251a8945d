"""The Green Book appraisal: a two-option case worked by hand, and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from wcf_model import load_scenario
from wcf_model.appraisal import appraise_options as appraise
from wcf_model.prices import load_deflators

TWO_OPTIONS = """\
scenario:
  name: two-options
  title: Two options worked by hand
  authority: {{la_code: 885, name: Worcestershire}}
  base_year: "2019-20"
  years: 2
  deflator_vintage: "2020-03"
parameters:
  population:
    age_0_17: {{values: {{"2019-20": 100000}}, unit: children}}
  demand:
    cla:
      opening_stock: 100
      start_rate_per_10k: 10
      exit_rate: 0.5
      placement_mix:
        ifa: 1.0
  costs:
    placements:
      weekly:
        ifa: {{value: 1000, unit: GBP/week, price_year: "2019-20"}}
    overheads:
      support_services: {{value: 400000, unit: GBP/year, price_year: "2019-20"}}
  finance:
    weeks_per_year: 52
    vat_rate: 0.2
  appraisal:
    optimism_bias:
      outsourcing: {{upper: 0.41, lower: 0}}
      equipment_development: {{upper: 2.0, lower: 0.1}}
options:
  in_house: {{label: In-house, vehicle: council, baseline: true, scope: [social_care]}}
  company:
    label: Company
    vehicle: company
    go_live: 2019-10-01
    scope: [social_care]
    one_off_costs:
      set_up: {{value: 100000, category: other, when: "2019-20", optimism_bias: equipment_development}}
    recurring_costs:
      running: {{value: {running}, category: company_running, vat: {{treatment: outside_scope, reference: pay}}}}
"""


@pytest.fixture
def two(write):
    return appraise(load_scenario(write("two.yaml", TWO_OPTIONS.format(running=50000))))


def test_baseline_by_hand(two):
    # 100 children all year (100 + 100 starts - 0.5 x 200 exits = 100) in IFA at £1,000 x 52 weeks:
    # £5,200,000 a year, plus £400,000 of support services: £5,600,000.
    # NPV = 5,600,000 + 5,600,000 / 1.035 = 11,010,628.02
    base = two.options["in_house"]
    np.testing.assert_allclose(base.economic["placements.ifa"], [[5_200_000, 5_200_000]])
    assert base.npv_cost[0] == pytest.approx(11_010_628.02, abs=0.005)


def test_company_by_hand(two):
    company = two.options["company"]
    # set-up £100,000 in 2019-20, a one-off change project: equipment and development optimism bias
    # at its upper bound (no mitigation stated), 200%: £200,000;
    # running £50,000 a year from 1 October 2019: half a year, £25,000, then £50,000
    np.testing.assert_allclose(company.economic["option.set_up"], [[100_000, 0]])
    np.testing.assert_allclose(company.economic["optimism_bias"], [[200_000, 0]])
    np.testing.assert_allclose(company.economic["option.running"], [[25_000, 50_000]])
    # irrecoverable VAT is a transfer: not in the economic case
    assert "company.irrecoverable_vat" not in company.economic
    # NPV = (5,600,000 + 325,000) + (5,600,000 + 50,000) / 1.035 = 11,383,937.20
    assert company.npv_cost[0] == pytest.approx(11_383_937.20, abs=0.005)
    # difference = 325,000 + 50,000 / 1.035 = 373,309.18
    assert two.npv_vs_baseline("company")[0] == pytest.approx(373_309.18, abs=0.005)


def test_financial_case_by_hand(two):
    company = two.options["company"]
    d = load_deflators("2020-03")
    inflate = d["2020-21"] / d["2019-20"]      # 103.924765 / 101.9169
    # VAT: the IFA placements are exempt welfare supplies (no VAT charged); the support services
    # the company buys are standard-rated: 20% x £400,000 = £80,000 a year, for the half year it
    # runs, then all year. Its only supplies (social care) are exempt, so none is recovered.
    np.testing.assert_allclose(company.financial["company.irrecoverable_vat"],
                               [[40_000, 80_000 * inflate]])
    # cash in 2020-21: (5,600,000 + 50,000 + 80,000) x inflation; optimism bias is not cash
    assert company.financial_total[0, 1] == pytest.approx((5_600_000 + 50_000 + 80_000) * inflate, abs=0.005)
    assert company.financial_total[0, 0] == pytest.approx(5_600_000 + 100_000 + 25_000 + 40_000, abs=0.005)
    assert company.funders["council"][0].sum() == pytest.approx(company.financial_total[0].sum())


def test_the_baselines_difference_from_itself_is_zero(two):
    assert two.npv_vs_baseline("in_house")[0] == 0


@settings(max_examples=15, deadline=None)
@given(extra=st.floats(0, 5e6))
def test_more_cost_never_lowers_the_npv_cost(tmp_path_factory, extra):
    path = tmp_path_factory.mktemp("more") / "s.yaml"
    npv = []
    for running in (50_000, 50_000 + extra):
        path.write_text(TWO_OPTIONS.format(running=running), encoding="utf-8")
        npv.append(appraise(load_scenario(path)).options["company"].npv_cost[0])
    assert npv[1] >= npv[0]


def test_zero_effects_make_an_option_the_baseline_plus_its_own_lines(write):
    fbc = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"
    text = (f"scenario: {{extends: {fbc}, name: no-effects, title: t}}\n"
            "options:\n  company_broad:\n    effects: null\n  company_then_in_house:\n    effects: null\n")
    a = appraise(load_scenario(write("z.yaml", text)), draws=50, seed=2)
    base, broad = a.options["in_house"], a.options["company_broad"]
    own = {n for n in broad.economic if n.startswith(("option.", "company.", "council.")) or n == "optimism_bias"}
    shared = set(broad.economic) - own
    assert shared == set(base.economic) - {n for n in base.economic if n.startswith("option.")}
    for name in shared:
        np.testing.assert_allclose(broad.economic[name], base.economic[name], rtol=1e-12, err_msg=name)
    # the difference in NPV is exactly the option's own lines less the baseline's own
    diff = a.npv_vs_baseline("company_broad")
    own_pv = sum(broad.economic[n] for n in own) @ a.discount_factors
    base_own_pv = sum((base.economic[n] for n in base.economic if n.startswith("option.")),
                      np.zeros_like(diff[:, None] * a.discount_factors)) @ a.discount_factors
    np.testing.assert_allclose(diff, own_pv - base_own_pv, rtol=1e-9)


def test_same_seed_same_answer_and_common_random_numbers():
    sc = load_scenario(REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml")
    a, b = appraise(sc, draws=200, seed=9), appraise(sc, draws=200, seed=9)
    np.testing.assert_array_equal(a.npv_vs_baseline("company_csc"), b.npv_vs_baseline("company_csc"))
    # with common random numbers the difference varies far less than the costs themselves
    spread_cost = a.options["company_csc"].npv_cost.std()
    spread_diff = a.npv_vs_baseline("company_csc").std()
    assert spread_diff < spread_cost / 3


def _company_variant(write, extra_params=""):
    text = TWO_OPTIONS.format(running=50000).replace(
        "    vat_rate: 0.2\n", "    vat_rate: 0.2\n" + extra_params)
    return appraise(load_scenario(write("v.yaml", text)))


def test_corporation_tax_on_the_surplus(write):
    a = _company_variant(write, "    corporation_tax_rate: 0.19\n    company_surplus_share: 0.01\n")
    # The company's turnover is what it costs the council: placements £5.2m + support services £0.4m +
    # running £50,000 + irrecoverable VAT £80,000 = £5,730,000 a year; a 1% surplus, £57,300, taxed at
    # a flat 19% (no small profits rate given): £10,887; in the go-live half year
    # (2,600,000 + 200,000 + 25,000 + 40,000) x 1% x 19% = £5,443.50
    np.testing.assert_allclose(a.options["company"].financial["company.corporation_tax"][0],
                               [5_443.50, 10_887 * a.nominal_index[1]])
    assert "company.corporation_tax" not in a.options["company"].economic   # a transfer


def test_education_dominated_scope_and_the_single_supply_rule(write):
    # An education services budget of £6m (its other costs, bought by the company; no VAT share given,
    # so its own input VAT is left out with a warning) beside £5.2m of care placements.
    params = "  services:\n    education_services:\n      budget: 6000000\n"
    text = TWO_OPTIONS.format(running=50000).replace("  appraisal:\n", params + "  appraisal:\n").replace(
        "    vehicle: company\n    go_live: 2019-10-01\n    scope: [social_care]",
        "    vehicle: company\n    go_live: 2019-10-01\n    scope: [social_care, education_services]")
    # Separate supplies (the default): taxable supplies 6.0 / all 11.2 = 53.57%, rounded up to 54%
    # (VAT Regulations 1995 reg 101(4)); the support services' £80,000 of VAT is residual, 46% of it
    # irrecoverable: £36,800 in 2020-21 (real).
    a = appraise(load_scenario(write("edu.yaml", text)))
    company = a.options["company"]
    assert company.company.vat.recovery[0, 1] == pytest.approx(0.54)
    assert company.economic["placements.ifa"][0, 1] == 5_200_000
    assert company.financial["company.irrecoverable_vat"][0, 1] == pytest.approx(36_800 * a.nominal_index[1])
    # One single supply (HMRC VATGPB8225): education is the larger element, so the whole contract is
    # taxable and all its input VAT recoverable
    single = text.replace("    scope: [social_care, education_services]",
                          "    scope: [social_care, education_services]\n    tax: {contract: single_supply}")
    b = appraise(load_scenario(write("edu_single.yaml", single)))
    np.testing.assert_array_equal(b.options["company"].financial["company.irrecoverable_vat"], 0)
    # the same budget outside the company's scope leaves the care contract exempt: all the VAT is due
    c = appraise(load_scenario(write("edu2.yaml", text.replace(", education_services]", "]"))))
    assert c.options["company"].financial["company.irrecoverable_vat"][0, 1] == pytest.approx(
        80_000 * c.nominal_index[1])


def test_pension_rate_difference_on_pay(write):
    text = TWO_OPTIONS.format(running=50000)
    text = text.replace("  demand:\n    cla:\n", "  demand:\n    cin: {opening_stock: 100, start_share_of_referrals: 0.5, exit_rate: 0.5}\n"
                        "    referrals: {rate_per_10k: 10}\n    cla:\n")
    text = text.replace("  costs:\n    placements:", "  workforce: {caseload_target: 10, cases_per_child_in_need: 0.8, "
                        "agency_share: 0, vacancy_rate: 0, "
                        "turnover_rate: 0}\n  costs:\n    staff:\n      salary: {social_worker: 40000}\n"
                        "      on_cost_rate: 0.1\n      pension_employer_rate: 0.2\n    placements:")
    text = text.replace("    vat_rate: 0.2\n", "    vat_rate: 0.2\n    pension_rate_difference: 0.03\n")
    a = appraise(load_scenario(write("pen.yaml", text)))
    # children in need: 100 + 0.5 x 100 referrals = 150, half leave: closing 75, average 87.5;
    # 0.8 cases each: 70 cases / 10 = 7 social workers; salaries 7 x 40,000 = £280,000; 3 points
    # more: £8,400 a year, half in the go-live year
    line = a.options["company"].economic["company.pension_rate_difference"][0]
    assert line[0] == pytest.approx(0.5 * 0.03 * 40_000 * 87.5 * 0.8 / 10)
    assert "company.pension_rate_difference" not in a.options["in_house"].economic


def test_a_company_that_ends_stops_its_company_costs(write):
    text = TWO_OPTIONS.format(running=50000).replace("    go_live: 2019-10-01\n",
                                                     "    go_live: 2019-10-01\n    end: 2020-04-01\n")
    a = appraise(load_scenario(write("end.yaml", text)))
    company = a.options["company"]
    # a return in-house on 1 April 2020: no VAT in 2020-21, and the running cost stops with the
    # option without saying so (an option's recurring items end when it ends)
    assert company.financial["company.irrecoverable_vat"][0, 1] == 0
    np.testing.assert_allclose(company.economic["option.running"], [[25_000, 0]])


def test_budget_envelope_headroom(write):
    from wcf_model.appraisal import appraise as appraise_results
    text = TWO_OPTIONS.format(running=50000).replace(
        "    weeks_per_year: 52\n",
        "    weeks_per_year: 52\n    budget_envelope: {values: {\"2019-20\": 5700000, \"2020-21\": 5700000}, unit: GBP/year}\n")
    res = appraise_results(load_scenario(write("env.yaml", text)))
    # in-house costs £5.6m in 2019-20: headroom £100,000
    assert res.budget_headroom("in_house")[0] == pytest.approx(100_000)
    # the company's 2019-20 cash is 5,600,000 + 100,000 + 25,000 + 40,000 VAT: £65,000 over
    assert res.budget_headroom("company")[0] == pytest.approx(-65_000)
    assert res.summary().set_index("option").loc["company", "years_over_budget"] == 2


def test_shadow_running_pays_for_both_structures_until_go_live(write):
    text = TWO_OPTIONS.format(running=50000).replace(
        "      running: {value: 50000, category: company_running, ",
        "      shadow: {value: 80000, category: company_running, start: 2019-04-01, end: go_live}\n"
        "      running: {value: 50000, category: company_running, ")
    company = appraise(load_scenario(write("shadow.yaml", text))).options["company"]
    # shadow running from 1 April to the 1 October go-live: half of £80,000 in 2019-20, nothing after
    np.testing.assert_allclose(company.economic["option.shadow"], [[40_000, 0]])


def test_options_whose_effects_leave_the_projection_alone_share_one():
    # The 2019 case: in-house and the partnership claim no effect, so both are the service as it
    # stands and share one projection; the companies' effects move referrals and staffing, so each has its own.
    sc = load_scenario(REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml")
    a = appraise(sc, draws=50, seed=3)
    p = {oid: r.projection for oid, r in a.options.items()}
    assert p["in_house"] is p["strategic_partnership"]
    assert p["company_broad"] is not p["in_house"] and p["company_csc"] is not p["in_house"]
    # sharing changes no figure: the companies' own projections still differ from the shared one
    assert not np.array_equal(p["company_broad"].caseloads.referrals, p["in_house"].caseloads.referrals)
    # the social-care company's effects move agency use and turnover only: it shares the caseloads, and
    # its staffing is what a projection of its own parameters gives, figure for figure
    assert p["company_csc"].caseloads is p["in_house"].caseloads
    assert p["company_broad"].caseloads is not p["in_house"].caseloads
    from wcf_model.appraisal import _inputs
    from wcf_model.effects import apply_option_effects
    from wcf_model.inputs import scenario_design
    from wcf_model.prices import load_deflators
    from wcf_model.projection import project_arrays

    design = scenario_design(sc, 50, 3)
    params, known, lead = _inputs(sc, 50, 3, design, load_deflators(sc.header.deflator_vintage))
    own = project_arrays(apply_option_effects(params, "company_csc", sc.options["company_csc"], sc.financial_years,
                                              50, 3, design), known, sc.financial_years, lead)
    for role, staff in own.workforce.items():
        np.testing.assert_array_equal(p["company_csc"].workforce[role].agency, staff.agency)
        np.testing.assert_array_equal(p["company_csc"].workforce[role].hires, staff.hires)
    assert not np.array_equal(p["company_csc"].workforce["social_worker"].agency,
                              p["in_house"].workforce["social_worker"].agency)


def test_an_effect_on_a_cost_alone_shares_the_projection(write):
    # An effect on the weekly price of a placement changes what the children cost, not how many
    # there are: the projection is the one every option without effects has, and the cost moves.
    text = TWO_OPTIONS.format(running=50000) + (
        "    effects:\n      cheaper_ifa: {driver: costs.placements.weekly.ifa, mode: multiply, change: -0.1, "
        "start: go_live, evidence: a worked example, confidence: 5}\n")
    a = appraise(load_scenario(write("price.yaml", text)))
    assert a.options["company"].projection is a.options["in_house"].projection
    # 10% off £1,000 a week in the second year, the first wholly after go-live
    assert a.options["company"].economic["placements.ifa"][0, 1] == pytest.approx(
        0.9 * a.options["in_house"].economic["placements.ifa"][0, 1])
