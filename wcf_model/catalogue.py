"""What a scenario may say: units, vocabularies and the parameter catalogue.

Every input the model reads is named here with its fixed unit, so a scenario
file cannot misspell a parameter (it is refused with a suggestion) or give it in
the wrong unit (weekly where the model expects annual). This is the data side of
the "parameters as data" rule: adding an input to the model means adding a line
here, and the assumptions register, validation and the Excel round trip all
follow from it.

Names may contain a ``{vocabulary}`` placeholder, expanded from the tuples
below (``costs.placements.weekly.{placement}`` stands for one parameter per
placement type).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache

# ---------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A unit of measure and the range its values may take.

    ``kind`` groups units for messages and checks: ``count`` (children, staff),
    ``money`` [GBP], ``share`` (a fraction in [0, 1]), ``rate`` (per 10,000
    children), ``ratio`` (non-negative, unbounded: caseloads, multipliers),
    ``growth`` (a signed annual change, at least -1) and ``duration``.
    """

    name: str
    kind: str
    low: float | None
    high: float | None
    description: str


_UNITS = [
    Unit("children", "count", 0, None, "number of children or young people"),
    Unit("referrals", "count", 0, None, "number of referrals"),
    Unit("plans", "count", 0, None, "number of plans (EHC or child protection)"),
    Unit("families", "count", 0, None, "number of families"),
    Unit("FTE", "count", 0, None, "full-time-equivalent staff"),
    Unit("people", "count", 0, None, "number of people"),
    Unit("companies", "count", 0, None, "number of companies"),
    Unit("GBP", "money", 0, None, "pounds sterling, a one-off amount"),
    Unit("GBP/year", "money", 0, None, "pounds sterling a year"),
    Unit("GBP/week", "money", 0, None, "pounds sterling a week"),
    Unit("GBP/day", "money", 0, None, "pounds sterling a day"),
    Unit("GBP/hour", "money", 0, None, "pounds sterling an hour"),
    Unit("share", "share", 0, 1, "a fraction between 0 and 1 (0.25 = 25%)"),
    Unit("probability", "share", 0, 1, "a probability between 0 and 1"),
    Unit("per 10k children", "rate", 0, None, "a stock per 10,000 children aged 0-17"),
    Unit("per 10k children/year", "rate", 0, None, "a flow per 10,000 children aged 0-17 a year"),
    Unit("cases/FTE", "ratio", 0, None, "cases held per full-time-equivalent worker"),
    Unit("FTE/manager", "ratio", 0, None, "staff per manager (span of control)"),
    Unit("ratio", "ratio", 0, None, "a non-negative multiplier (1.5 = 150%)"),
    Unit("share/year", "growth", -1, None, "an annual proportional change (0.02 = +2% a year)"),
    Unit("share points", "difference", -1, 1, "a difference between two shares (0.02 = 2 percentage points)"),
    Unit("years", "duration", 0, None, "years"),
    Unit("weeks", "duration", 0, None, "weeks"),
]
UNITS: dict[str, Unit] = {u.name: u for u in _UNITS}

# ---------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------

#: Placement types of children looked after (docs/domain.md, Demand).
PLACEMENT_TYPES = (
    "in_house_fostering",
    "ifa",  # independent fostering agency
    "kinship",  # connected persons
    "council_home",
    "external_home",
    "secure",
    "supported_16_plus",
    "placed_with_parents",
    "placed_for_adoption",
    "other",
)

#: Settings of children and young people with an EHC plan.
EHCP_SETTINGS = (
    "mainstream",
    "resourced_base",
    "maintained_special",
    "independent_special",
    "post_16",
)

#: Service lines an option's scope is made of (docs/domain.md, "The options").
SERVICE_LINES = (
    "social_care",
    "education_services",
    "early_help",
    "commissioning",
    "community_health_commissioning",
    "virtual_school",
    "send",
    "participation_engagement",
    "cyp_plan",
)

#: Staff roles the workforce model counts.
STAFF_ROLES = (
    "social_worker",
    "team_manager",
    "iro",  # independent reviewing officer
    "personal_adviser",
    "early_help_worker",
)

#: Optimism bias categories (Mott MacDonald 2002, as in the Green Book guidance).
OPTIMISM_BIAS_CATEGORIES = (
    "outsourcing",
    "equipment_development",
    "standard_buildings",
    "non_standard_buildings",
)

#: Which kind of cost each optimism bias category is for. HM Treasury, Green Book
#: supplementary guidance on optimism bias (Mott MacDonald, 2002): the buildings and
#: equipment/development uplifts are for capital (one-off) costs, the outsourcing
#: uplift for the operating (recurring) costs of a service moved to a provider.
OPTIMISM_BIAS_KIND = {
    "outsourcing": "operating",
    "equipment_development": "capital",
    "standard_buildings": "capital",
    "non_standard_buildings": "capital",
}

#: Flows a shock (a multiplier by year) can act on.
SHOCK_FLOWS = ("referrals", "cla_starts", "early_help", "ehcp_new")

#: Cost lines that may carry real price growth above general inflation.
REAL_GROWTH_LINES = ("placements", "staff", "send", "other")

#: Ways an option can be delivered; the vehicle decides VAT and tax treatment.
DELIVERY_VEHICLES = ("council", "partnership", "company", "trust")

#: Who pays, in the financial case.
FUNDERS = ("council", "dsg_high_needs", "dfe_grant", "home_office_grant")

# ---------------------------------------------------------------------------
# VAT: how each cost line and each service line is treated (data, not code)
# ---------------------------------------------------------------------------

#: VAT treatments of a purchase. Only a standard-rated purchase carries input VAT
#: (20%): pay, grants and allowances are outside the scope, welfare and education
#: supplies exempt, some transport zero-rated (HMRC, VAT Notice 700, section 4).
#: ``mixed`` lines hold several kinds of spending; their standard-rated share is
#: a figure the scenario gives (``finance.vat_standard_rated_share.<line>``).
VAT_TREATMENTS = ("outside_scope", "exempt", "zero_rated", "standard_rated", "mixed")


@dataclass(frozen=True)
class VatRule:
    """How one cost line is treated for VAT when a company buys it.

    ``treatment`` is one of :data:`VAT_TREATMENTS`; ``reference`` the statute or
    HMRC manual section; ``why`` the reason in plain words. ``disbursement``
    marks money a company pays on as the council's agent (DSG place and top-up
    funding passed to schools and colleges): not the company's input or output
    (HMRC, VAT Notice 700, section 25).
    """

    treatment: str
    reference: str
    why: str
    disbursement: bool = False

    @property
    def standard_rated_share(self) -> float | None:
        """0 or 1 for a single treatment; None for a mixed line (the scenario must say)."""
        return None if self.treatment == "mixed" else float(self.treatment == "standard_rated")


_WELFARE = ("VAT Act 1994 Sch 9 Group 7 item 9 and Notes (6)(b) and (8); HMRC VATWELF3030")
_PAY = "HMRC VAT Supply and Consideration manual VATSC03540: an employee's services to the employer are outside the scope"

#: The default VAT treatment of every line the model builds (the scenario may
#: override the standard-rated share of any of them with a sourced figure).
LINE_VAT: dict[str, VatRule] = {
    "placements.in_house_fostering": VatRule(
        "outside_scope", "VAT Act 1994 s5(2)(a) and s4(1); " + _PAY,
        "allowances paid to the service's own foster carers meet a child's costs and are not consideration for a "
        "supply by a business; the rest of the unit cost is the fostering service's own pay"),
    "placements.ifa": VatRule(
        "exempt", _WELFARE + "; VAT (Health and Welfare) Order 2003 (SI 2003/24)",
        "independent fostering agencies are registered with Ofsted (state-regulated), so their placements are "
        "exempt welfare supplies"),
    "placements.kinship": VatRule(
        "outside_scope", "VAT Act 1994 s5(2)(a)",
        "allowances to family and friends carers are not consideration for a supply"),
    "placements.council_home": VatRule(
        "mixed", _PAY + "; VAT Act 1994 Sch 8 Group 1 (food, zero-rated); s4 (repairs, supplies, standard-rated)",
        "running a children's home is mostly pay, with food (zero-rated) and repairs, cleaning and supplies "
        "(standard-rated)"),
    "placements.external_home": VatRule(
        "exempt", _WELFARE, "private and voluntary children's homes are registered with Ofsted, so their placements "
        "are exempt welfare supplies"),
    "placements.secure": VatRule(
        "exempt", _WELFARE, "secure children's homes are registered and approved, so their placements are exempt "
        "welfare supplies"),
    "placements.supported_16_plus": VatRule(
        "mixed", _WELFARE + " (item 9(a) charities; Ofsted-registered supported accommodation from 28 October 2023)",
        "exempt when bought from a charity or, from October 2023, a registered provider; support bought from an "
        "unregulated private provider before then was standard-rated"),
    "placements.placed_with_parents": VatRule(
        "outside_scope", "VAT Act 1994 s4(1)", "no placement fee is paid"),
    "placements.placed_for_adoption": VatRule(
        "outside_scope", "VAT Act 1994 s4(1)", "no placement fee is paid to prospective adopters"),
    "placements.other": VatRule("mixed", "depends on the provider", "a mix of placement types"),
    "staff.permanent_pay": VatRule("outside_scope", _PAY, "pay, employer national insurance and pension"),
    "staff.agency_pay": VatRule(
        "standard_rated", "HMRC VAT Notice 700/34 (staff); HMRC VTAXPER67050",
        "an employment business supplying a worker makes a standard-rated supply of staff, on the whole charge "
        "including the worker's pay"),
    "staff.agency_premium": VatRule(
        "standard_rated", "HMRC VAT Notice 700/34 (staff); HMRC VTAXPER67050",
        "part of the agency's standard-rated charge for the supply of staff"),
    "staff.recruitment": VatRule(
        "mixed", "VAT Act 1994 s4 (advertising and agency fees); " + _PAY,
        "advertising and recruitment agency fees are standard-rated; induction time is pay"),
    "early_help": VatRule("mixed", _PAY + "; " + _WELFARE,
                          "early help is mostly pay, with services commissioned from charities (exempt welfare)"),
    **{f"send.{setting}": VatRule(
        "outside_scope", "School and Early Years Finance (England) Regulations; VAT Act 1994 Sch 9 Group 6 item 1; "
        "HMRC VAT Notice 700, section 25 (disbursements)",
        "high-needs place and top-up funding paid to schools and colleges funds education by eligible bodies; a "
        "company passing it on pays it as the council's agent", disbursement=True)
       for setting in ("mainstream", "resourced_base", "maintained_special", "post_16")},
    "send.independent_special": VatRule(
        "exempt", "VAT Act 1994 Sch 9 Group 6 item 1 and Note (1)(a); HMRC VAT Notice 700, section 25",
        "independent special school fees were exempt education (from 1 January 2025 private school fees are "
        "standard-rated, Finance Act 2025, which a council recovers under s33 but a company could not); a company "
        "passing the fees on pays them as the council's agent", disbursement=True),
    "send.assessments": VatRule("mixed", _PAY + "; VAT Act 1994 s4",
                                "assessment is mostly staff time, with some bought-in reports"),
    "send.transport": VatRule(
        "mixed", "VAT Act 1994 Sch 8 Group 8 item 4(a) (vehicles of 10 or more seats, zero-rated); s4 (taxis)",
        "buses and coaches are zero-rated; taxis and private hire cars are standard-rated"),
    "overheads.support_services": VatRule(
        "standard_rated", "VAT Act 1994 s4 and s41A; HMRC VATGPB3210",
        "support services a council sells to its company are not supplied as a public authority (no special "
        "legal regime), so they are business supplies, standard-rated; bought elsewhere they are standard-rated too"),
}
for _line in SERVICE_LINES:
    LINE_VAT[f"services.{_line}.other"] = VatRule(
        "mixed", _PAY + "; VAT Act 1994 s4",
        "a service's other costs hold management and support staff (pay), legal and professional fees, buildings "
        "and supplies (mostly standard-rated) and grants (outside the scope)")

#: Lines whose VAT a scenario may state (``finance.vat_standard_rated_share.<line>``).
VAT_LINES = tuple(LINE_VAT)

#: How a company's supplies to the council in each service line are treated: the
#: share that is taxable (1) or exempt (0), and why. A scenario may override a
#: share with ``finance.vat_taxable_output_share.<line>``. Taxable supplies
#: to the council cost nothing: the council recovers the VAT under s33 VAT Act
#: 1994, and the company recovers the VAT on the inputs it uses for them.
OUTPUT_VAT: dict[str, VatRule] = {
    "social_care": VatRule(
        "exempt", _WELFARE + "; HMRC VATGPB8225 (children's services trusts)",
        "care and protection of children and young people delivered for the council are welfare services"),
    "early_help": VatRule("exempt", _WELFARE, "family support directly connected with the protection of children"),
    "education_services": VatRule(
        "standard_rated", "HMRC VATGPB8225", "educational support services supplied to the council are taxable"),
    "send": VatRule("standard_rated", "HMRC VATGPB8225",
                    "SEND assessment and casework for the council are educational support services, taxable"),
    "virtual_school": VatRule("standard_rated", "HMRC VATGPB8225",
                              "educational support for looked-after children, taxable"),
    "commissioning": VatRule("standard_rated", "VAT Act 1994 s4; no exemption in Sch 9 applies",
                             "commissioning services for the council are taxable business services"),
    "community_health_commissioning": VatRule("standard_rated", "VAT Act 1994 s4; no exemption in Sch 9 applies",
                                              "commissioning services, taxable"),
    "participation_engagement": VatRule("standard_rated", "VAT Act 1994 s4", "engagement services, taxable"),
    "cyp_plan": VatRule("standard_rated", "VAT Act 1994 s4", "planning and facilitation services, taxable"),
}

#: The default treatment of an option's own items, by category, when a company
#: buys them (an item's ``vat:`` overrides it). None: the item must say.
ITEM_VAT: dict[str, VatRule | None] = {
    "company_running": None,
    "board": VatRule("outside_scope", "VAT Act 1994 s94(4)",
                     "fees of office holders (chair, non-executive directors) are not business supplies"),
    "client_function": None,
    "commissioning": None,
    "support_services": LINE_VAT["overheads.support_services"],
    "audit_insurance": None,
    "pension": VatRule("outside_scope", "VAT Act 1994 s5(2)(a)",
                       "employer pension contributions are not consideration for a supply"),
    "partnership_fee": None,
    "improvement": None,
    "other": None,
    "property": None, "project_management": None, "leadership_board": None, "finance": None, "hr": None,
    "it": VatRule("standard_rated", "VAT Act 1994 s4", "IT equipment and services are standard-rated"),
    "legal": VatRule("standard_rated", "VAT Act 1994 s4", "legal services are standard-rated"),
    "branding": VatRule("standard_rated", "VAT Act 1994 s4", "design and printing services are standard-rated"),
    "redundancy": VatRule("outside_scope", "VAT Act 1994 s5(2)(a)", "compensation to staff is not a supply"),
    "exit": None,
}

#: Item categories that the council buys itself even under a company (its own
#: client team, a fee to a partner council): their VAT is refunded under s33.
COUNCIL_CATEGORIES = ("client_function", "partnership_fee")

#: Parameters given in cash by financial year, never in a price year.
CASH_PARAMETERS = ("finance.budget_envelope", "funding.dsg_high_needs.allocation",
                   "funding.dsg_high_needs.opening_deficit")

VOCABULARIES: dict[str, tuple[str, ...]] = {
    "vat_line": VAT_LINES,
    "placement": PLACEMENT_TYPES,
    "setting": EHCP_SETTINGS,
    "line": SERVICE_LINES,
    "role": STAFF_ROLES,
    "ob": OPTIMISM_BIAS_CATEGORIES,
    "growth_line": REAL_GROWTH_LINES,
    "flow": SHOCK_FLOWS,
}

# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    """One parameter the model reads: its dotted name, fixed unit and meaning."""

    name: str
    unit: str
    description: str


_SPECS = [
    # Population
    ParamSpec("population.age_0_17", "children", "resident children aged 0-17 (ONS mid-year estimate)"),
    ParamSpec("population.growth_rate", "share/year", "annual growth of the 0-17 population after the last estimate"),
    # Front door and statutory caseloads
    ParamSpec("demand.referrals.rate_per_10k", "per 10k children/year", "referrals to children's social care"),
    ParamSpec("demand.referrals.rereferral_share", "share", "share of referrals within 12 months of a previous one"),
    ParamSpec("demand.early_help.episodes_per_10k", "per 10k children/year", "early help episodes started"),
    ParamSpec("demand.cin.opening_stock", "children", "children in need at the start of the first year (includes CPP and CLA)"),
    ParamSpec("demand.cin.start_share_of_referrals", "share", "children in need episodes started per referral"),
    ParamSpec("demand.cin.exit_rate", "share", "share of children in need during the year (opening + starts) whose episode ends"),
    ParamSpec("demand.cpp.opening_stock", "children", "children on a child protection plan at the start of the first year"),
    ParamSpec("demand.cpp.share_of_cin", "share", "children on a child protection plan as a share of children in need at 31 March"),
    ParamSpec("demand.cla.opening_stock", "children", "children looked after at the start of the first year"),
    ParamSpec("demand.cla.start_rate_per_10k", "per 10k children/year", "children starting to be looked after"),
    ParamSpec("demand.cla.exit_rate", "share", "share of children looked after during the year (opening + starts) who leave care"),
    ParamSpec("demand.cla.placement_mix.{placement}", "share", "share of looked-after children in each placement type"),
    ParamSpec("demand.cla.uasc_share", "share", "share of looked-after children who are unaccompanied asylum seekers (recorded; the Home Office grant is not yet modelled)"),
    ParamSpec("demand.care_leavers.opening_18_21", "children", "care leavers aged 18-21 at the start of the first year"),
    ParamSpec("demand.care_leavers.opening_22_25", "children", "care leavers aged 22-25 receiving support at the start"),
    ParamSpec("demand.care_leavers.leaver_share_of_exits", "share", "share of care exits that are young people leaving care at 18 or over"),
    ParamSpec("demand.care_leavers.support_22_25_share", "share", "share of care leavers reaching 22 who keep support to 25"),
    ParamSpec("demand.ehcp.opening_stock", "plans", "EHC plans (and statements) in force at the start of the first year"),
    ParamSpec("demand.ehcp.new_per_10k", "per 10k children/year", "new EHC plans made in a year"),
    ParamSpec("demand.ehcp.ceased_rate", "share", "share of plans in force during the year (opening + new) that cease"),
    ParamSpec("demand.ehcp.setting_mix.{setting}", "share", "share of EHC plans in each setting"),
    ParamSpec("demand.shocks.{flow}", "ratio", "multiplier on a flow by year, for shocks such as a pandemic (1 = none; give 1 for the year after the shock, as a figure by year carries its last value forward)"),
    # Workforce
    ParamSpec("workforce.caseload_target", "cases/FTE", "children's cases per case-holding social worker in post (DfE caseload per FTE)"),
    ParamSpec("workforce.cases_per_child_in_need", "ratio", "cases held by social workers per child in need (DfE workforce census cases at 30 September / children in need at 31 March): what turns children in need into the cases the caseload counts"),
    ParamSpec("workforce.manager_span", "FTE/manager", "social workers per team manager"),
    ParamSpec("workforce.iro_caseload", "cases/FTE", "children looked after or on a protection plan per independent reviewing officer"),
    ParamSpec("workforce.personal_adviser_caseload", "cases/FTE", "care leavers per personal adviser"),
    ParamSpec("workforce.early_help_caseload", "cases/FTE", "early help episodes one worker supports in a year"),
    ParamSpec("workforce.agency_share", "share", "agency social workers as a share of social workers in post (DfE agency rate)"),
    ParamSpec("workforce.vacancy_rate", "share", "vacant posts as a share of all posts (DfE vacancy rate)"),
    ParamSpec("workforce.turnover_rate", "share", "share of permanent social workers leaving in a year"),
    # Unit costs
    ParamSpec("costs.placements.weekly.{placement}", "GBP/week", "weekly cost of one child in the placement type"),
    ParamSpec("costs.staff.salary.{role}", "GBP/year", "mid-point salary for the role, before on-costs"),
    ParamSpec("costs.staff.on_cost_rate", "share", "employer national insurance and other on-costs, as a share of salary"),
    ParamSpec("costs.staff.pension_employer_rate", "share", "employer pension contribution rate (LGPS), as a share of salary"),
    ParamSpec("costs.staff.agency_premium", "ratio", "extra cost of an agency worker over a permanent one, as a share of permanent cost"),
    ParamSpec("costs.staff.recruitment_per_hire", "GBP", "recruitment and induction cost of one permanent hire"),
    ParamSpec("costs.early_help.per_episode", "GBP", "cost of one early help episode"),
    ParamSpec("costs.send.annual.{setting}", "GBP/year", "annual cost of provision for one plan in the setting"),
    ParamSpec("costs.send.assessment", "GBP", "cost of one EHC needs assessment"),
    ParamSpec("costs.send.transport_share", "share", "share of children with an EHC plan given home-to-school transport"),
    ParamSpec("costs.send.transport_per_pupil", "GBP/year", "annual home-to-school transport cost per pupil transported"),
    ParamSpec("costs.overheads.support_services", "GBP/year", "support services (finance, HR, IT, legal, property) for the service, outside the service lines' budgets"),
    ParamSpec("costs.overheads.buy_back_share", "share", "share of the support services a company buys back from the council (the rest it buys elsewhere)"),
    ParamSpec("costs.overheads.stranded_share", "share", "share of the support services a company does not buy back that the council cannot shed (stranded costs), by year"),
    ParamSpec("costs.real_growth.{growth_line}", "share/year", "annual price growth above general inflation"),
    # Service lines in scope
    ParamSpec("services.{line}.budget", "GBP/year", "whole base-year cost of the service line, including what the model builds up from caseloads (the rest is held as the line's other costs)"),
    ParamSpec("services.{line}.pay_share_of_other", "share", "share of the line's other costs that is staff pay (transferred to a company with the service, and pensionable)"),
    # Finance and appraisal method
    ParamSpec("finance.vat_rate", "share", "standard rate of VAT"),
    ParamSpec("finance.vat_standard_rated_share.{vat_line}", "share", "share of a cost line that is standard-rated purchases (VAT-exclusive), when a company buys it"),
    ParamSpec("finance.vat_taxable_output_share.{line}", "share", "share of a company's supplies to the council in a service line that is taxable (the rest exempt)"),
    ParamSpec("finance.corporation_tax_rate", "share", "corporation tax main rate, by financial year"),
    ParamSpec("finance.corporation_tax_small_profits_rate", "share", "corporation tax small profits rate, by financial year (from FY2023)"),
    ParamSpec("finance.corporation_tax_lower_limit", "GBP/year", "profits up to which the small profits rate applies (12-month period, no associated companies)"),
    ParamSpec("finance.corporation_tax_upper_limit", "GBP/year", "profits above which the main rate applies in full (12-month period, no associated companies)"),
    ParamSpec("finance.corporation_tax_marginal_fraction", "ratio", "marginal relief standard fraction between the limits, by financial year (3/200 = 0.015 from FY2023)"),
    ParamSpec("finance.company_associated_companies", "companies", "companies associated with the company for corporation tax (the limits are divided by this plus one)"),
    ParamSpec("finance.general_inflation", "share/year", "general inflation (GDP deflator) beyond the published series"),
    ParamSpec("finance.company_surplus_share", "share", "a company's surplus as a share of its turnover (taxed at the corporation tax rate)"),
    ParamSpec("finance.pension_rate_difference", "share points", "a company's LGPS employer rate minus the council's, on the pensionable pay of all the staff it employs"),
    ParamSpec("finance.pension_bond_cover", "GBP", "indemnity or bond the LGPS admission agreement requires of a company (0 or absent: the council guarantees)"),
    ParamSpec("finance.pension_bond_premium_rate", "share", "annual premium of the pension bond, as a share of its cover"),
    ParamSpec("finance.pension_cessation_payment", "GBP", "exit payment to the pension fund when a company's admission ends (LGPS Regulations 2013, reg 64)"),
    ParamSpec("finance.weeks_per_year", "weeks", "weeks a placement is paid for in a year"),
    ParamSpec("finance.budget_envelope", "GBP/year", "cash budget available for the services appraised, by financial year (cash prices)"),
    ParamSpec("funding.dsg_high_needs.allocation", "GBP/year", "dedicated schools grant high-needs block income, by financial year (cash)"),
    ParamSpec("funding.dsg_high_needs.growth", "share/year", "growth of the high-needs block income after the last year given (cash)"),
    ParamSpec("funding.dsg_high_needs.opening_deficit", "GBP", "cumulative DSG high-needs deficit carried into the first year (cash)"),
    ParamSpec("appraisal.optimism_bias_mitigation", "share", "default for options that state none: how far optimism bias is reduced from its upper towards its lower bound (0 = upper, 1 = lower)"),
    ParamSpec("appraisal.optimism_bias.{ob}.upper", "ratio", "optimism bias upper bound (Green Book supplementary guidance)"),
    ParamSpec("appraisal.optimism_bias.{ob}.lower", "ratio", "optimism bias lower bound"),
]

#: Parameters the model no longer reads, and what replaced them.
RETIRED_PARAMETERS = {
    "finance.vatable_share_of_spend": (
        "VAT is costed line by line from each line's treatment (wcf_model.catalogue.LINE_VAT); give the "
        "standard-rated share of a mixed line as finance.vat_standard_rated_share.<line> (docs/money.md)"),
}

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def parameter_specs() -> dict[str, ParamSpec]:
    """Every concrete parameter name -> its spec, placeholders expanded."""
    out: dict[str, ParamSpec] = {}
    for spec in _SPECS:
        names = [spec.name]
        while any(_PLACEHOLDER.search(n) for n in names):
            expanded = []
            for n in names:
                m = _PLACEHOLDER.search(n)
                if m is None:
                    expanded.append(n)
                    continue
                for word in VOCABULARIES[m.group(1)]:
                    expanded.append(n[: m.start()] + word + n[m.end():])
            names = expanded
        for n in names:
            out[n] = ParamSpec(n, spec.unit, spec.description)
    return out


@cache
def _children() -> dict[str, tuple[str, ...]]:
    """Group prefix ('' for the root) -> allowed child keys, in catalogue order."""
    kids: dict[str, dict[str, None]] = {}
    for name in parameter_specs():
        parts = name.split(".")
        for i in range(len(parts)):
            kids.setdefault(".".join(parts[:i]), {})[parts[i]] = None
    return {k: tuple(v) for k, v in kids.items()}


def allowed_keys(prefix: str) -> tuple[str, ...]:
    """The keys the catalogue allows directly under a group (``""`` = top level)."""
    return _children().get(prefix, ())


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """A ' did you mean ...?' phrase for the nearest choice, or ''."""
    near = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{near[0]}'?" if near else ""


# ---------------------------------------------------------------------------
# The names of an option's own inputs and cost lines (written here only)
# ---------------------------------------------------------------------------

#: The kinds of an option's own inputs, as the scenario file's keys name them.
OPTION_COST_KINDS = ("one_off_costs", "recurring_costs")
OPTION_INPUT_KINDS = (*OPTION_COST_KINDS, "effects")

#: The prefix of the cost line an option's own item becomes in the accounts.
OPTION_LINE_PREFIX = "option."


def option_input_name(option_id: str, kind: str, item_id: str) -> str:
    """An option's own input by name: its random stream, its row in the register and
    in the workbook, and its key in the scenario file.

    ``kind`` is one of :data:`OPTION_INPUT_KINDS`:
    ``option_input_name("company", "recurring_costs", "board") -> "options.company.recurring_costs.board"``.
    """
    if kind not in OPTION_INPUT_KINDS:
        raise ValueError(f"an option's input is one of {', '.join(OPTION_INPUT_KINDS)}, not {kind!r}")
    return f"options.{option_id}.{kind}.{item_id}"


def option_cost_line(item_id: str) -> str:
    """The cost line an option's own cost item becomes: ``"board" -> "option.board"``."""
    return OPTION_LINE_PREFIX + item_id


def option_item_of_line(line: str) -> str | None:
    """The item of an option's own cost line (``"option.board" -> "board"``), None for any other line."""
    return line.removeprefix(OPTION_LINE_PREFIX) if line.startswith(OPTION_LINE_PREFIX) else None


# ---------------------------------------------------------------------------
# Words a reader sees
# ---------------------------------------------------------------------------
# Every identifier above has a label here, so the report, the notebooks and the
# workbook show "independent fostering agency", not "ifa". An identifier this
# section does not know (a parameter or cost line added later) still reads as
# words: its underscores become spaces and, for a parameter, its description is
# used. Option, criterion and critical success factor labels live in the
# scenario file itself.

#: Vocabulary -> word -> what a reader sees.
WORDS: dict[str, dict[str, str]] = {
    "placement": {
        "in_house_fostering": "in-house fostering", "ifa": "independent fostering agency",
        "kinship": "kinship (connected persons) care", "council_home": "council children's home",
        "external_home": "external children's home", "secure": "secure unit",
        "supported_16_plus": "supported accommodation (16+)", "placed_with_parents": "placed with parents",
        "placed_for_adoption": "placed for adoption", "other": "other placements",
    },
    "setting": {
        "mainstream": "mainstream schools", "resourced_base": "resourced bases",
        "maintained_special": "maintained special schools", "independent_special": "independent special schools",
        "post_16": "post-16 provision",
    },
    "line": {
        "social_care": "children's social care", "education_services": "education services",
        "early_help": "early help", "commissioning": "commissioning for vulnerable children and families",
        "community_health_commissioning": "commissioning of community health services",
        "virtual_school": "virtual school", "send": "SEND services",
        "participation_engagement": "participation and engagement",
        "cyp_plan": "children and young people plan",
    },
    "role": {
        "social_worker": "social workers", "team_manager": "team managers",
        "iro": "independent reviewing officers", "personal_adviser": "personal advisers",
        "early_help_worker": "early help workers",
    },
    "ob": {
        "outsourcing": "outsourcing", "equipment_development": "equipment and development",
        "standard_buildings": "standard buildings", "non_standard_buildings": "non-standard buildings",
    },
    "growth_line": {"placements": "placements", "staff": "staff", "send": "SEND provision", "other": "other costs"},
    "flow": {
        "referrals": "referrals", "cla_starts": "children starting to be looked after",
        "early_help": "early help episodes", "ehcp_new": "new EHC plans",
    },
    "vehicle": {
        "council": "the council", "partnership": "a partnership with another council",
        "company": "a council-owned company", "trust": "a children's trust",
    },
    "funder": {
        "council": "Council", "dsg_high_needs": "DSG high-needs block", "dfe_grant": "DfE grant",
        "home_office_grant": "Home Office grant",
    },
    "one_off": {
        "property": "property", "project_management": "project management",
        "leadership_board": "leadership and board", "finance": "finance", "hr": "HR", "it": "IT",
        "legal": "legal", "branding": "branding", "pension": "pension", "redundancy": "redundancy",
        "other": "other set-up costs",
    },
    "recurring": {
        "company_running": "company running costs", "board": "board and governance",
        "client_function": "council client function", "commissioning": "commissioning",
        "support_services": "support services", "audit_insurance": "audit and insurance",
        "pension": "pension", "partnership_fee": "partner's fee", "improvement": "improvement programme",
        "other": "other running costs",
    },
    "mode": {"add": "added", "multiply": "proportional change", "set": "set to"},
}


def humanise(identifier: str) -> str:
    """Words from an identifier nobody has labelled: ``"audit_insurance" -> "audit insurance"``."""
    return identifier.replace("_", " ").replace(".", ": ").strip()


def word(vocabulary: str, key: str) -> str:
    """What a reader sees for a word of a vocabulary: ``word("placement", "ifa")``."""
    return WORDS.get(vocabulary, {}).get(key) or humanise(key)


def sentence_case(text: str) -> str:
    """First letter capitalised, the rest left alone ("SEND" stays "SEND")."""
    return text[:1].upper() + text[1:]


#: Short labels of parameters, by catalogue name; ``{vocabulary}`` is filled with
#: :func:`word`. For charts and tables; the description says more.
PARAMETER_LABELS: dict[str, str] = {
    "population.age_0_17": "Children aged 0-17",
    "population.growth_rate": "Growth of the 0-17 population",
    "demand.referrals.rate_per_10k": "Referral rate",
    "demand.referrals.rereferral_share": "Share of referrals that are re-referrals",
    "demand.early_help.episodes_per_10k": "Early help episodes started",
    "demand.cin.opening_stock": "Children in need at the start",
    "demand.cin.start_share_of_referrals": "Children in need episodes per referral",
    "demand.cin.exit_rate": "Children in need whose episode ends in a year",
    "demand.cpp.opening_stock": "Child protection plans at the start",
    "demand.cpp.share_of_cin": "Child protection plans as a share of children in need",
    "demand.cla.opening_stock": "Children looked after at the start",
    "demand.cla.start_rate_per_10k": "Rate of children starting to be looked after",
    "demand.cla.exit_rate": "Children looked after who leave care in a year",
    "demand.cla.placement_mix.{placement}": "Share of looked-after children in {placement}",
    "demand.cla.uasc_share": "Unaccompanied asylum-seeking children's share of children looked after",
    "demand.care_leavers.opening_18_21": "Care leavers aged 18-21 at the start",
    "demand.care_leavers.opening_22_25": "Care leavers aged 22-25 at the start",
    "demand.care_leavers.leaver_share_of_exits": "Care leavers' share of exits from care",
    "demand.care_leavers.support_22_25_share": "Care leavers keeping support to 25",
    "demand.ehcp.opening_stock": "EHC plans at the start",
    "demand.ehcp.new_per_10k": "New EHC plans a year",
    "demand.ehcp.ceased_rate": "EHC plans that cease in a year",
    "demand.ehcp.setting_mix.{setting}": "Share of EHC plans in {setting}",
    "demand.shocks.{flow}": "Shock to {flow}",
    "workforce.caseload_target": "Social worker caseload",
    "workforce.manager_span": "Social workers per team manager",
    "workforce.iro_caseload": "Independent reviewing officer caseload",
    "workforce.personal_adviser_caseload": "Personal adviser caseload",
    "workforce.early_help_caseload": "Early help worker caseload",
    "workforce.agency_share": "Agency share of social workers",
    "workforce.vacancy_rate": "Social worker vacancy rate",
    "workforce.turnover_rate": "Social worker turnover",
    "costs.placements.weekly.{placement}": "Weekly cost: {placement}",
    "costs.staff.salary.{role}": "Salary: {role}",
    "costs.staff.on_cost_rate": "Staff on-costs",
    "costs.staff.pension_employer_rate": "Employer pension rate",
    "costs.staff.agency_premium": "Agency premium",
    "costs.staff.recruitment_per_hire": "Recruitment cost per hire",
    "costs.early_help.per_episode": "Cost of an early help episode",
    "costs.send.annual.{setting}": "Yearly cost of an EHC plan in {setting}",
    "costs.send.assessment": "Cost of an EHC needs assessment",
    "costs.send.transport_share": "Share of EHC plans with home-to-school transport",
    "costs.send.transport_per_pupil": "Home-to-school transport per pupil",
    "costs.overheads.support_services": "Support services",
    "costs.real_growth.{growth_line}": "Real price growth: {growth_line}",
    "services.{line}.budget": "Budget: {line}",
    "finance.vat_rate": "VAT rate",
    "finance.vatable_share_of_spend": "Share of spending that bears VAT",
    "finance.corporation_tax_rate": "Corporation tax rate",
    "finance.general_inflation": "General inflation",
    "finance.company_surplus_share": "Company surplus",
    "finance.pension_rate_difference": "Company pension rate above the council's",
    "finance.weeks_per_year": "Weeks paid a year",
    "finance.budget_envelope": "Budget envelope",
    "appraisal.optimism_bias_mitigation": "Optimism bias mitigation",
    "appraisal.optimism_bias.{ob}.upper": "Optimism bias, upper bound: {ob}",
    "appraisal.optimism_bias.{ob}.lower": "Optimism bias, lower bound: {ob}",
}


@cache
def _label_patterns() -> list[tuple[re.Pattern, str]]:
    out = []
    for pattern, template in PARAMETER_LABELS.items():
        regex = re.escape(pattern)
        for vocab in _PLACEHOLDER.findall(pattern):
            regex = regex.replace(re.escape("{" + vocab + "}"), f"(?P<{vocab}>[a-z0-9_]+)")
        out.append((re.compile(f"^{regex}$"), template))
    return out


def parameter_label(name: str) -> str:
    """A parameter's short label: ``"costs.placements.weekly.ifa" -> "Weekly cost: independent fostering agency"``.

    Falls back on the catalogue's description, then on the name's last part in words.
    """
    for regex, template in _label_patterns():
        m = regex.match(name)
        if m:
            return template.format(**{k: word(k, v) for k, v in m.groupdict().items()})
    spec = parameter_specs().get(name)
    return sentence_case(spec.description if spec else humanise(name.rsplit(".", 1)[-1]))


#: How a unit reads after a number ("£646 a week") and in a heading ("£ a week").
UNIT_WORDS: dict[str, str] = {
    "children": "children", "referrals": "referrals", "plans": "plans", "families": "families",
    "FTE": "FTE", "people": "people", "GBP": "£", "GBP/year": "£ a year",
    "GBP/week": "£ a week", "GBP/day": "£ a day", "GBP/hour": "£ an hour", "share": "%",
    "probability": "%", "per 10k children": "per 10,000 children",
    "per 10k children/year": "per 10,000 children a year", "cases/FTE": "cases per worker",
    "FTE/manager": "workers per manager", "ratio": "times", "share/year": "% a year",
    "share points": "percentage points", "years": "years", "weeks": "weeks",
    "percent": "%", "episodes": "episodes", "cases": "cases",
}


def unit_words(unit: str | None) -> str:
    """A unit in words: ``"GBP/year" -> "£ a year"``, ``"share" -> "%"``."""
    return UNIT_WORDS.get(unit or "", humanise(unit or ""))


def figure_text(value: float, unit: str | None) -> str:
    """A stated figure with its unit, as a reader writes it.

    ``(646, "GBP/week") -> "£646 a week"``, ``(0.25, "share") -> "25%"``,
    ``(20.8, "per 10k children/year") -> "20.8 per 10,000 children a year"``,
    ``(0.02, "share points") -> "2 percentage points"``, ``(1.5, "ratio") -> "1.5 times"``.
    """
    from .formats import percent_exact, quantity

    kind = UNITS[unit].kind if unit in UNITS else ""
    if kind == "money":
        per = unit.split("/", 1)[1] if "/" in unit else ""
        return f"{'-' if value < 0 else ''}£{quantity(abs(value))}" + (f" {unit_words(unit)[2:]}" if per else "")
    if unit in ("share", "probability", "share/year"):
        return percent_exact(value) + (" a year" if unit == "share/year" else "")
    if unit == "share points":
        return f"{quantity(round(100 * value, 6))} percentage points"
    return f"{quantity(value)} {unit_words(unit)}".strip()


#: Cost lines of the accounts: fixed names, and groups ``prefix.{word}``.
COST_LINES: dict[str, str] = {
    "optimism_bias": "Optimism bias",
    "early_help": "Early help",
    "staff.permanent_pay": "Staff: permanent pay",
    "staff.agency_pay": "Staff: agency pay",
    "staff.agency_premium": "Staff: agency premium",
    "staff.recruitment": "Staff: recruitment",
    "send.assessments": "SEND: needs assessments",
    "send.transport": "SEND: home-to-school transport",
    "overheads.support_services": "Support services",
    "company.irrecoverable_vat": "Irrecoverable VAT (company)",
    "company.corporation_tax": "Corporation tax (company)",
    "company.pension_rate_difference": "Company's higher pension rate",
}
#: Prefix of a cost line -> (vocabulary of its second part, template).
COST_LINE_GROUPS: dict[str, tuple[str, str]] = {
    "placements": ("placement", "Placements: {}"),
    "send": ("setting", "SEND: {}"),
    "services": ("line", "Other costs of {}"),
}


def cost_line_label(line: str, items: dict[str, str] | None = None) -> str:
    """A cost line of the accounts in words.

    ``"placements.ifa" -> "Placements: independent fostering agency"``; an
    option's own item (:func:`option_cost_line`) takes its label from ``items`` (id ->
    label, see :func:`item_label`).
    """
    if line in COST_LINES:
        return COST_LINES[line]
    if item := option_item_of_line(line):
        return (items or {}).get(item) or sentence_case(humanise(item))
    head, _, rest = line.partition(".")
    if head in COST_LINE_GROUPS and rest:
        vocab, template = COST_LINE_GROUPS[head]
        return template.format(word(vocab, rest.split(".", 1)[0]))
    return sentence_case(humanise(line))


def item_label(item_id: str, category: str, kind: str, label: str | None = None,
               categories_in_option: list[str] | None = None) -> str:
    """An option's cost item in words.

    The scenario's own ``label`` wins; otherwise the category's words when the
    item is the only one of its category in the option (``audit_insurance`` ->
    "Audit and insurance"), else the item's name in words.

    Parameters
    ----------
    kind : str
        ``"one_off"`` or ``"recurring"``.
    categories_in_option : list of str, optional
        The categories of all the option's items of this kind.
    """
    if label:
        return label
    categories = categories_in_option or [category]
    if category == "other" and len(categories) == 1:   # the option's only item of this kind
        return "Set-up costs" if kind == "one_off" else "Running costs"
    if item_id == category or categories.count(category) == 1:
        text = word(kind, category)
        return sentence_case(text) + (" (set-up)" if kind == "one_off" and category not in ("other",) else "")
    return sentence_case(humanise(item_id))


def effect_label(driver: str, label: str | None = None) -> str:
    """An effect in words: its own ``label``, or "Effect on" the label of the driver it changes."""
    if label:
        return label
    words = parameter_label(driver)
    return f"Effect on the {words[:1].lower() + words[1:] if not words[:2].isupper() else words}"


def option_item_labels(option) -> dict[str, str]:
    """Item id -> label for every one-off and recurring cost item of an option (see :func:`item_label`)."""
    out = {}
    for kind, attr in (("one_off", "one_off_costs"), ("recurring", "recurring_costs")):
        items = getattr(option, attr)
        categories = [i.category for i in items.values()]
        for iid, item in items.items():
            out[iid] = item_label(iid, item.category, kind, getattr(item, "label", None), categories)
    return out
