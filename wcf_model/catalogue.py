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

#: Placement types of children looked after (DOMAIN.md, Demand).
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

#: Service lines an option's scope is made of (DOMAIN.md, Options 4).
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

#: Flows a shock (a multiplier by year) can act on.
SHOCK_FLOWS = ("referrals", "cla_starts", "early_help", "ehcp_new")

#: Cost lines that may carry real price growth above general inflation.
REAL_GROWTH_LINES = ("placements", "staff", "send", "other")

#: Ways an option can be delivered; the vehicle decides VAT and tax treatment.
DELIVERY_VEHICLES = ("council", "partnership", "company", "trust")

#: Who pays, in the financial case.
FUNDERS = ("council", "dsg_high_needs", "dfe_grant", "home_office_grant")

VOCABULARIES: dict[str, tuple[str, ...]] = {
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
    ParamSpec("costs.overheads.support_services", "GBP/year", "support services (finance, HR, IT, legal, property) for the service"),
    ParamSpec("costs.real_growth.{growth_line}", "share/year", "annual price growth above general inflation"),
    # Service lines in scope
    ParamSpec("services.{line}.budget", "GBP/year", "whole base-year cost of the service line, including what the model builds up from caseloads (the rest is held as the line's other costs)"),
    # Finance and appraisal method
    ParamSpec("finance.vat_rate", "share", "standard rate of VAT"),
    ParamSpec("finance.vatable_share_of_spend", "share", "share of non-pay spend that bears VAT"),
    ParamSpec("finance.corporation_tax_rate", "share", "corporation tax rate on a company's surplus"),
    ParamSpec("finance.general_inflation", "share/year", "general inflation (GDP deflator) beyond the published series"),
    ParamSpec("finance.company_surplus_share", "share", "a company's surplus as a share of its turnover (taxed at the corporation tax rate)"),
    ParamSpec("finance.pension_rate_difference", "share points", "a company's LGPS employer rate minus the council's, on the pay of staff it employs"),
    ParamSpec("finance.weeks_per_year", "weeks", "weeks a placement is paid for in a year"),
    ParamSpec("finance.budget_envelope", "GBP/year", "cash budget available for the services appraised, by financial year (cash prices)"),
    ParamSpec("appraisal.optimism_bias_mitigation", "share", "how far optimism bias is reduced from its upper towards its lower bound as risks are costed (0 = upper, 1 = lower)"),
    ParamSpec("appraisal.optimism_bias.{ob}.upper", "ratio", "optimism bias upper bound (Green Book supplementary guidance)"),
    ParamSpec("appraisal.optimism_bias.{ob}.lower", "ratio", "optimism bias lower bound"),
]

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
