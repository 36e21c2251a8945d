"""The money rules worked by hand: VAT line by line, partial exemption, corporation tax by
year, pensions, support services, optimism bias, exit and the high-needs account.

The fixture: 100 children looked after all year (100 + 100 starts - 0.5 x 200 exits), half
with independent fostering agencies at £1,000 a week and half in council-run homes at £4,000
a week, 52 weeks: £2,600,000 and £10,400,000 a year. Support services £400,000 a year. An
education services budget of £3,000,000 (all of it the line's other costs). VAT 20%. The
company runs everything from 1 April 2019, so 2019-20 is a full year and in 2019-20 prices
cash equals real (the nominal index is 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import REPO
from wcf_model import ScenarioError, load_scenario
from wcf_model.appraisal import appraise_options
from wcf_model.tax import corporation_tax, recovery_percentage, vat_on_lines

MONEY = """\
scenario:
  name: money
  title: Money rules worked by hand
  authority: {la_code: 885, name: Worcestershire}
  base_year: "2019-20"
  years: 2
  deflator_vintage: "2020-03"
parameters:
  population:
    age_0_17: {values: {"2019-20": 100000}, unit: children}
  demand:
    cla: {opening_stock: 100, start_rate_per_10k: 10, exit_rate: 0.5, placement_mix: {ifa: 0.5, council_home: 0.5}}
  costs:
    placements:
      weekly:
        ifa: {value: 1000, unit: GBP/week, price_year: "2019-20"}
        council_home: {value: 4000, unit: GBP/week, price_year: "2019-20"}
    overheads:
      support_services: {value: 400000, unit: GBP/year, price_year: "2019-20"}
  services:
    education_services:
      budget: {value: 3000000, unit: GBP/year, price_year: "2019-20"}
  finance:
    weeks_per_year: 52
    vat_rate: 0.2
    vat_standard_rated_share:
      placements: {council_home: 0.25}
      services: {education_services: {other: 0.2}}
EXTRA_PARAMETERS
options:
  in_house: {label: In-house, vehicle: council, baseline: true, scope: [social_care, education_services]}
  company:
    label: Company
    vehicle: company
    go_live: 2019-04-01
    scope: [social_care, education_services]
COMPANY
"""


def money(write, extra: str = "", company: str = "", name: str = "m.yaml"):
    text = MONEY.replace("EXTRA_PARAMETERS\n", extra).replace("COMPANY\n", company)
    return appraise_options(load_scenario(write(name, text)))


# ---------------------------------------------------------------------------
# VAT
# ---------------------------------------------------------------------------

def test_partial_exemption_standard_method_by_hand(write):
    a = money(write)
    c = a.options["company"]
    by_line = vat_on_lines(c)
    # Input VAT, line by line:
    #   IFA placements: exempt welfare supplies, no VAT charged                          0
    #   council homes: 25% standard-rated x £10,400,000 x 20% = 520,000, used only for care
    #     of children (exempt supplies): directly attributable, irrecoverable       520,000
    #   education services' other costs: 20% x £3,000,000 x 20% = 120,000, used only for
    #     educational support (taxable): recovered                                        0
    #   support services: 20% x £400,000 = 80,000, used for all supplies: residual
    # Supplies: care £13,000,000 exempt, education £3,000,000 taxable: 3 / 16 = 18.75%, rounded up
    # to 19% (VAT Regulations 1995 reg 101(4)); 81% of the residual 80,000 is irrecoverable: 64,800.
    assert c.company.vat.recovery[0, 0] == pytest.approx(0.19)
    assert c.company.vat.input_tax[0, 0] == pytest.approx(720_000)
    assert by_line["placements.ifa"][0, 0] == 0
    assert by_line["placements.council_home"][0, 0] == pytest.approx(520_000)
    assert by_line["services.education_services.other"][0, 0] == 0
    assert by_line["overheads.support_services"][0, 0] == pytest.approx(64_800)
    assert c.financial["company.irrecoverable_vat"][0, 0] == pytest.approx(584_800)
    # a transfer to HM Treasury: in the cash, not in the economic case
    assert "company.irrecoverable_vat" not in c.economic
    # the council recovers its VAT under s33: in-house there is none
    assert "company.irrecoverable_vat" not in a.options["in_house"].financial


def test_recovery_percentage_rounding_by_hand():
    # 1 / 3 = 33.33...%: up to the next whole number, 34%; with more than £400,000 of residual input
    # tax a month, up to two decimal places, 33.34% (reg 101(4)-(5); HMRC PE30500)
    assert recovery_percentage(np.array([1.0]), np.array([3.0]), np.array([400_000.0]))[0] == pytest.approx(0.34)
    assert recovery_percentage(np.array([1.0]), np.array([3.0]), np.array([400_001.0]))[0] == pytest.approx(0.3334)
    # an exact percentage is not pushed up by floating point: 35 of 100 stays 35%
    assert recovery_percentage(np.array([0.35]), np.array([1.0]), np.array([1.0]))[0] == pytest.approx(0.35)


def test_de_minimis_by_hand(write):
    # Only the IFA placements in care (£2.6m, no VAT) and education whose other costs are 5%
    # standard-rated: 20% x 5% x £3,000,000 = 30,000 recovered; a running cost of £30,000 all
    # standard-rated: 6,000 residual. Supplies: 3.0 / (2.6 + 3.0) = 53.57%, rounded up to 54%: 46% of
    # 6,000 = 2,760 exempt input tax, no more than £625 x 12 = £7,500 and no more than half of the
    # 36,000 of input tax: de minimis, so all of it is recovered (VAT Regulations 1995 reg 106).
    text = MONEY.replace("placement_mix: {ifa: 0.5, council_home: 0.5}", "placement_mix: {ifa: 0.5, other: 0.5}")
    text = text.replace("services: {education_services: {other: 0.2}}", "services: {education_services: {other: 0.05}}")
    text = text.replace("      support_services: {value: 400000, unit: GBP/year, price_year: \"2019-20\"}\n", "")
    text = text.replace("    overheads:\n", "")
    company = ("    recurring_costs:\n      running: {value: 30000, category: company_running,"
               " vat: {treatment: standard_rated, reference: VAT Act 1994 s4}}\n")
    a = appraise_options(load_scenario(write("dm.yaml", text.replace("EXTRA_PARAMETERS\n", "")
                                                .replace("COMPANY\n", company))))
    c = a.options["company"]
    assert c.company.vat.recovery[0, 0] == pytest.approx(0.54)
    assert c.company.vat.input_tax[0, 0] == pytest.approx(36_000)
    assert bool(c.company.vat.de_minimis[0, 0])
    assert c.financial["company.irrecoverable_vat"][0, 0] == 0


def test_single_supply_follows_its_larger_element(write):
    # As one supply (HMRC VATGPB8225) the contract is taxable only if education is at least as
    # large as welfare; here it is 3 against 13, so the whole contract is exempt and all 720,000
    # of input VAT is irrecoverable.
    a = money(write, company="    tax: {contract: single_supply}\n", name="single.yaml")
    assert a.options["company"].financial["company.irrecoverable_vat"][0, 0] == pytest.approx(720_000)


def test_council_contracting_for_placements_is_a_mitigation(write):
    # The council keeps buying the placements itself: their VAT is refunded to it under s33, and they
    # are no longer the company's supplies. The company then supplies only education (taxable):
    # recovery 100%, so the support services' 80,000 is recovered too.
    a = money(write, company="    tax: {council_contracts: [placements]}\n", name="mitigated.yaml")
    c = a.options["company"]
    assert c.financial["company.irrecoverable_vat"][0, 0] == 0
    assert "placements.council_home" not in c.company.inputs
    # the placements are still in the costs, at the council
    assert c.economic["placements.council_home"][0, 0] == pytest.approx(10_400_000)


def test_a_mixed_line_without_a_share_is_named_not_costed(write):
    text = MONEY.replace("      placements: {council_home: 0.25}\n", "")
    a = appraise_options(load_scenario(write("open.yaml", text.replace("EXTRA_PARAMETERS\n", "")
                                             .replace("COMPANY\n", ""))))
    assert any("'placements.council_home' is not stated" in w for w in a.warnings)


def test_vat_treatment_of_an_item_is_checked(write):
    company = ("    recurring_costs:\n      running: {value: 30000, category: company_running,"
               " vat: {treatment: mixed, reference: x}}\n")
    with pytest.raises(ScenarioError, match="standard_rated_share"):
        load_scenario(write("bad.yaml", MONEY.replace("EXTRA_PARAMETERS\n", "").replace("COMPANY\n", company)))


# ---------------------------------------------------------------------------
# Corporation tax
# ---------------------------------------------------------------------------

def _ct(profit, main, small=None, lower=50_000, upper=250_000, fraction=0.0, months=12.0, associated=0,
        index=1.0):
    one = np.ones((1, 1))
    small = main if small is None else small
    return float(corporation_tax(profit * one, main * one, small * one, lower * one, upper * one,
                                 fraction * one, np.array([months]), associated * one, np.array([index]))[0, 0])


def test_corporation_tax_rates_in_force_by_year():
    # FY2019: one rate, 19%: £625,000 -> £118,750 (WCF paid £122,500 on about £625,000 in 2019-20)
    assert _ct(625_000, 0.19) == pytest.approx(118_750)
    # FY2023 on: small profits rate 19% to £50,000, main rate 25% above £250,000, and between them the
    # main rate less 3/200 x (upper limit - profits) (CTA 2010 s18B; HMRC CTM03925)
    assert _ct(40_000, 0.25, 0.19, fraction=0.015) == pytest.approx(7_600)
    assert _ct(100_000, 0.25, 0.19, fraction=0.015) == pytest.approx(25_000 - 2_250)
    assert _ct(300_000, 0.25, 0.19, fraction=0.015) == pytest.approx(75_000)
    # at the lower limit marginal relief gives exactly the small profits rate: 25% x 50,000 - 3/200 x
    # 200,000 = 12,500 - 3,000 = 9,500 = 19% x 50,000
    assert _ct(50_000.01, 0.25, 0.19, fraction=0.015) == pytest.approx(9_500, abs=0.01)


def test_corporation_tax_limits_for_a_short_period_and_associated_companies():
    # six months of trading: limits £25,000 and £125,000; £100,000 -> 25,000 - 0.015 x 25,000 = 24,625
    assert _ct(100_000, 0.25, 0.19, fraction=0.015, months=6) == pytest.approx(24_625)
    # one associated company halves the limits too
    assert _ct(100_000, 0.25, 0.19, fraction=0.015, associated=1) == pytest.approx(24_625)
    # limits are cash: in a year whose prices are 10% above the base year, £250,000 is £227,272.73 of
    # base-year money: 25,000 - 0.015 x (227,272.73 - 100,000) = 23,090.91
    assert _ct(100_000, 0.25, 0.19, fraction=0.015, index=1.1) == pytest.approx(23_090.91, abs=0.01)


def test_corporation_tax_in_the_appraisal_switches_rate_in_april_2023(write):
    extra = ('    corporation_tax_rate: {values: {"2019-20": 0.19, "2020-21": 0.25}, unit: share}\n'
             '    corporation_tax_small_profits_rate: {values: {"2019-20": 0.19}, unit: share}\n'
             '    corporation_tax_lower_limit: 50000\n    corporation_tax_upper_limit: 250000\n'
             '    corporation_tax_marginal_fraction: {values: {"2019-20": 0, "2020-21": 0.015}, unit: ratio}\n'
             '    company_surplus_share: 0.01\n')
    a = money(write, extra, name="ct.yaml")
    c = a.options["company"]
    # turnover in 2019-20: 2,600,000 + 10,400,000 + 3,000,000 + 400,000 + 584,800 VAT = 16,984,800;
    # 1% surplus 169,848 at the flat 19%: 32,271.12
    assert c.company.turnover[0, 0] == pytest.approx(16_984_800)
    assert c.financial["company.corporation_tax"][0, 0] == pytest.approx(32_271.12)
    # 2020-21 (the test's stand-in for a year after April 2023): 25% less marginal relief, with the
    # cash limits deflated by the year's index
    profits = 0.01 * c.company.turnover[0, 1]
    upper = 250_000 / a.nominal_index[1]
    expected = (0.25 * profits - 0.015 * (upper - profits)) * a.nominal_index[1]
    assert c.financial["company.corporation_tax"][0, 1] == pytest.approx(expected)


# ---------------------------------------------------------------------------
# Pensions, support services, exit
# ---------------------------------------------------------------------------

def test_pensions_on_the_whole_transferred_pay_bill(write):
    # Social care's budget £20m: placements £13m, so £7m of other costs, half of it pay: £3.5m with
    # on-costs 10% and employer pension 20%, so £3,500,000 / 1.3 = £2,692,307.69 of pensionable
    # salaries. A rate 2 points above the council's: £53,846.15 a year. A bond of £2m at 1% a year:
    # £20,000. The company ends on 1 October 2020: half of 2020-21 for both, and a cessation payment of
    # £300,000 in 2020-21, cash only (a transfer).
    text = MONEY.replace("  services:\n    education_services:\n", "  services:\n    social_care:\n"
                         "      budget: {value: 20000000, unit: GBP/year, price_year: \"2019-20\"}\n"
                         "      pay_share_of_other: 0.5\n    education_services:\n")
    text = text.replace("    weeks_per_year: 52\n", "    weeks_per_year: 52\n    pension_rate_difference: 0.02\n"
                        "    pension_bond_cover: 2000000\n    pension_bond_premium_rate: 0.01\n"
                        "    pension_cessation_payment: {value: 300000, unit: GBP, price_year: \"2019-20\"}\n")
    text = text.replace("  costs:\n", "  costs:\n    staff: {on_cost_rate: 0.1, pension_employer_rate: 0.2}\n")
    text = text.replace("    go_live: 2019-04-01\n", "    go_live: 2019-04-01\n    end: 2020-10-01\n")
    a = appraise_options(load_scenario(write("pen.yaml", text.replace("EXTRA_PARAMETERS\n", "")
                                             .replace("COMPANY\n", ""))))
    c = a.options["company"]
    assert c.company.pensionable_pay[0, 0] == pytest.approx(3_500_000 / 1.3)
    np.testing.assert_allclose(c.economic["company.pension_rate_difference"][0],
                               [53_846.153846, 53_846.153846 / 2], rtol=1e-9)
    np.testing.assert_allclose(c.economic["company.pension_bond"][0], [20_000, 10_000])
    assert "company.pension_cessation" not in c.economic
    np.testing.assert_allclose(c.financial["company.pension_cessation"][0], [0, 300_000 * a.nominal_index[1]])


def test_support_services_bought_back_or_stranded(write):
    # A quarter of the £400,000 is bought elsewhere; the council sheds half of that: stranded £50,000
    # a year while the company runs (a real cost, in both accounts).
    text = MONEY.replace("      support_services: {value: 400000, unit: GBP/year, price_year: \"2019-20\"}\n",
                         "      support_services: {value: 400000, unit: GBP/year, price_year: \"2019-20\"}\n"
                         "      buy_back_share: 0.75\n      stranded_share: 0.5\n")
    a = appraise_options(load_scenario(write("str.yaml", text.replace("EXTRA_PARAMETERS\n", "")
                                             .replace("COMPANY\n", ""))))
    c = a.options["company"]
    np.testing.assert_allclose(c.economic["council.stranded_overheads"][0], [50_000, 50_000])
    assert "council.stranded_overheads" not in a.options["in_house"].economic


def test_a_company_that_returns_in_house_is_a_scenario_not_new_code(write):
    # based_on copies the company; end stops its recurring costs (board £200,000 a year) from
    # 1 October 2020, and a one-off exit cost falls at the end.
    company = ("    recurring_costs:\n      board: {value: 200000, category: board}\n"
               "  returned:\n    based_on: company\n    label: Company then in-house\n    end: 2020-10-01\n"
               "    one_off_costs:\n      exit: {value: 250000, category: exit, when: end}\n")
    a = money(write, company=company, name="ret.yaml")
    np.testing.assert_allclose(a.options["company"].economic["option.board"][0], [200_000, 200_000])
    np.testing.assert_allclose(a.options["returned"].economic["option.board"][0], [200_000, 100_000])
    np.testing.assert_allclose(a.options["returned"].economic["option.exit"][0], [0, 250_000])
    # the company's VAT stops at the end too: half of the year's
    vat = a.options["company"].financial["company.irrecoverable_vat"][0, 1]
    assert a.options["returned"].financial["company.irrecoverable_vat"][0, 1] == pytest.approx(vat / 2)


def test_based_on_names_an_option_that_exists(write):
    company = "  returned:\n    based_on: compnay\n    label: x\n    end: 2020-10-01\n"
    with pytest.raises(ScenarioError, match="did you mean 'company'"):
        load_scenario(write("bad.yaml", MONEY.replace("EXTRA_PARAMETERS\n", "").replace("COMPANY\n", company)))


@pytest.mark.parametrize("replaced", ["692", "[1, 2]"])
def test_based_on_an_option_that_is_not_a_mapping_is_a_problem_not_a_crash(write, replaced):
    # Found by the fuzzing campaign (make fuzz): a scenario extending the 2019 case that replaces
    # the broadened company (which "Company 2019-2024, then back in-house" copies with based_on) by a
    # number or a list raised AttributeError while copying it: an internal error. The user must see
    # the problem at the option that is not a mapping, and at the based_on that cannot copy it.
    fbc = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"
    text = (f"scenario:\n  extends: {fbc}\n  name: broken\n  title: Broken\n"
            f"options:\n  company_broad: {replaced}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(write("broken.yaml", text))
    assert "options.company_broad:" in str(err.value)
    assert "options.company_then_in_house.based_on: option 'company_broad' is not a mapping" in str(err.value)


# ---------------------------------------------------------------------------
# Optimism bias
# ---------------------------------------------------------------------------

OB = ("  appraisal:\n    optimism_bias:\n      outsourcing: {upper: 0.41, lower: 0}\n")


def test_optimism_bias_is_not_counted_twice_with_a_skewed_range(write):
    # A running cost of £100,000 with a range triangular(80,000, 100,000, 180,000): its mean is
    # £120,000, a 20% upward skew the Monte Carlo already carries. At mitigation 0.5 the outsourcing
    # uplift is 41% x 0.5 = 20.5%; the item takes only 20.5% - 20% = 0.5% of its central value: £500,
    # the same in every draw. Without mitigation: 41% - 20% = 21% -> £21,000.
    item = ("    recurring_costs:\n      running:\n        value: 100000\n        category: company_running\n"
            "        optimism_bias: outsourcing\n        vat: {treatment: outside_scope, reference: pay}\n"
            "        distribution: {type: triangular, low: 80000, mode: 100000, high: 180000}\n")
    mitigated = item + "    optimism_bias_mitigation: {value: 0.5, stage: outline business case, rationale: test}\n"
    a = money(write, OB, mitigated, name="ob1.yaml")
    np.testing.assert_allclose(a.options["company"].economic["optimism_bias"][0], [500, 500], atol=0.05)
    b = money(write, OB, item, name="ob2.yaml")
    np.testing.assert_allclose(b.options["company"].economic["optimism_bias"][0], [21_000, 21_000], atol=0.05)
    draws = appraise_options(load_scenario(write("ob2.yaml", MONEY.replace("EXTRA_PARAMETERS\n", OB)
                                                 .replace("COMPANY\n", item))), draws=50, seed=3)
    ob = draws.options["company"].economic["optimism_bias"]
    assert np.allclose(ob, ob[0])                                   # not scaled by the draw
    # the expected cost with optimism bias is the central value uplifted by the full 41%
    running = draws.options["company"].economic["option.running"]
    assert (running + ob).mean() == pytest.approx(141_000, rel=0.08)


# ---------------------------------------------------------------------------
# The DSG high-needs block
# ---------------------------------------------------------------------------

def test_high_needs_income_beside_send_spending(write):
    # 100 plans all year in mainstream schools at £7,000: £700,000 a year from the high-needs block.
    # Income £650,000 in 2019-20, growing 10% after: £715,000 in 2020-21 (cash).
    text = MONEY.replace("  demand:\n", "  demand:\n    ehcp: {opening_stock: 100, new_per_10k: 0, ceased_rate: 0, "
                         "setting_mix: {mainstream: 1.0}}\n", 1)
    text = text.replace("  costs:\n", "  costs:\n    send: {annual: {mainstream: {value: 7000, unit: GBP/year, "
                        "price_year: \"2019-20\"}}}\n", 1)
    extra = ('  funding:\n    dsg_high_needs:\n      allocation: {values: {"2019-20": 650000}, unit: GBP/year}\n'
             '      growth: 0.1\n')
    a = appraise_options(load_scenario(write("hn.yaml", text.replace("EXTRA_PARAMETERS\n", extra)
                                             .replace("COMPANY\n", ""))))
    hn = a.options["in_house"].high_needs
    np.testing.assert_allclose(hn["income"][0], [650_000, 715_000])
    np.testing.assert_allclose(hn["spending"][0], [700_000, 700_000 * a.nominal_index[1]])
    np.testing.assert_allclose(hn["cumulative_deficit"][0],
                               [50_000, 50_000 + 700_000 * a.nominal_index[1] - 715_000])
    # DSG spending is not the council's general fund cash
    assert a.options["in_house"].council_cash[0, 0] == pytest.approx(2_600_000 + 10_400_000 + 3_000_000 + 400_000)


def test_council_cash_against_the_baseline_includes_vat(write):
    a = money(write)
    # the company costs the same real resources as in-house here; its cash difference is its VAT
    vat = a.options["company"].financial["company.irrecoverable_vat"][0].sum()
    assert a.council_cash_vs_baseline("company")[0] == pytest.approx(vat)
    assert a.npv_vs_baseline("company")[0] == pytest.approx(0, abs=1e-6)


def test_a_problem_in_what_based_on_copies_is_reported_once_at_its_origin(write):
    # The copy inherits the company's recurring item; a bad range on that item is the company's
    # mistake, written once in the file: one problem, keyed to the company, not one per copy.
    company = ("    recurring_costs:\n      board: {value: 200000, category: board,"
               " distribution: {type: triangular, low: 250000, mode: 300000, high: 400000}}\n"
               "  returned:\n    based_on: company\n    label: Company then in-house\n    end: 2020-10-01\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(write("dup.yaml", MONEY.replace("EXTRA_PARAMETERS\n", "").replace("COMPANY\n", company)))
    keys = [p.key for p in exc.value.problems]
    assert keys == ["options.company.recurring_costs.board.distribution"], keys
