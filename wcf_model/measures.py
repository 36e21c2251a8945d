"""What can be monitored: the measures an actuals file may hold, and the DfE figure each is.

One catalogue of the model's measures (:data:`MEASURES`: words, unit, kind and
when in the year each refers to), and the one map from a model measure to the
Department for Education's published measure it is compared with
(:data:`PUBLISHED`), which monitoring (:mod:`wcf_model.actuals`,
:mod:`wcf_model.monitoring`) and the back-test (:mod:`wcf_model.backtest`,
over :data:`BACKTESTED`) both read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .catalogue import STAFF_ROLES, sentence_case, word

# ---------------------------------------------------------------------------
# What can be monitored
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """A figure an actuals file may hold.

    Attributes
    ----------
    name : str
        The model's measure name (as in ``Results.caseloads``).
    words : str
        What it is, capitalised, for titles and tables.
    unit : str
        The unit its values are in.
    kind : str
        ``"stock"`` (at 31 March, the end of the period), ``"flow"`` (over the
        period), ``"census"`` (on a census date inside the period) or
        ``"share"`` (a ratio of two figures on the same date).
    when : str
        When in each financial year the figure refers to, in words.
    signed : bool
        Whether the figure may be negative (a surplus that is a deficit, an
        underspend written as a negative overspend).
    not_projected : str
        Why the model projects no counterpart, for measures it never projects.
    """

    name: str
    words: str
    unit: str
    kind: str
    when: str = ""
    signed: bool = False
    not_projected: str = ""


_STOCKS = {
    "cin": ("Children in need", "children", "children starting to be in need", "children ceasing to be in need"),
    "cpp": ("Children on child protection plans", "children", "child protection plans started",
            "child protection plans ended"),
    "cla": ("Children looked after", "children", "Children starting to be looked after",
            "Children ceasing to be looked after"),
    "care_leavers_18_21": ("Care leavers aged 18-21", "people", "care leavers turning 18",
                           "care leavers ageing out of 18-21"),
    "care_leavers_22_25": ("Care leavers aged 22-25", "people", "care leavers turning 22",
                           "care leavers ageing out of 22-25"),
    "ehcp": ("EHC plans in force", "plans", "New EHC plans", "EHC plans ceased"),
}

def _catalogue() -> dict[str, Measure]:
    over, workforce = "over each financial year", "at the 30 September workforce census in each financial year"
    out = [
        Measure("population_0_17", "Children aged 0-17", "children", "census",
                "at 30 June (ONS mid-year estimate) in each financial year"),
        Measure("referrals", "Referrals to children's social care", "referrals", "flow", over),
        Measure("rereferrals", "Re-referrals within 12 months", "referrals", "flow", over),
        Measure("early_help", "Early help episodes started", "episodes", "flow", over),
    ]
    for stock, (words, unit, starts, exits) in _STOCKS.items():
        closing = words if stock == "ehcp" else f"{words} at 31 March"
        at = "at the January census in each financial year" if stock == "ehcp" else "at 31 March, each year's end"
        out += [Measure(f"{stock}_closing", closing, unit, "stock", at),
                Measure(f"{stock}_starts", starts[0].upper() + starts[1:], unit, "flow", over),
                Measure(f"{stock}_exits", exits[0].upper() + exits[1:], unit, "flow", over)]
    for role in STAFF_ROLES:
        words = sentence_case(word("role", role))
        out += [Measure(f"{role}_in_post_fte", f"{words} in post (FTE)", "FTE", "census", workforce),
                Measure(f"{role}_agency_fte", f"Agency {words.lower()} (FTE)", "FTE", "census", workforce),
                Measure(f"{role}_posts_fte", f"{words}: posts (FTE)", "FTE", "census", workforce),
                Measure(f"{role}_agency_percent", f"Agency share of {words.lower()}", "percent", "share",
                        workforce)]
    out.append(Measure("cash", "Cash cost of the option", "GBP", "flow", over))
    # The money of a company that runs the service (a company or trust option)
    out += [
        Measure("gross_spend", "Gross spending of the company", "GBP", "flow",
                "over each financial year (outturn, or a forecast outturn where the year was not over), cash"),
        Measure("gross_budget", "Gross budget of the company", "GBP", "flow", "for each financial year, cash",
                not_projected="the business case costs the service; it sets no budget for the company "
                              "(give finance.budget_envelope to compare one)"),
        Measure("outturn_variance", "Overspend against budget", "GBP", "flow",
                "over each financial year, cash (an underspend is negative)", signed=True,
                not_projected="an overspend is measured against a budget the business case does not set"),
        Measure("company_surplus", "Company surplus before tax", "GBP", "flow",
                "over each financial year, cash (a deficit is negative)", signed=True),
        Measure("corporation_tax", "Corporation tax paid by the company", "GBP", "flow",
                "on each financial year's profits, cash"),
        Measure("staff_fte", "Staff employed by the company (FTE)", "FTE", "census", "at a date inside each "
                "financial year", not_projected="the model counts the social workers, managers and reviewing "
                "officers the caseloads need, not every member of the company's staff"),
        Measure("dsg_high_needs_cumulative_deficit", "DSG high-needs deficit carried", "GBP", "stock",
                "at 31 March, each year's end, cash (a surplus is negative)", signed=True),
    ]
    return {m.name: m for m in out}


def lower_first(words: str) -> str:
    """``"Children in need"`` -> ``"children in need"``, but ``"EHC plans"`` stays."""
    return words[:1].lower() + words[1:] if words[1:2].islower() else words


#: Every measure an actuals file may hold, by the model's name.
MEASURES: Mapping[str, Measure] = _catalogue()

#: Model measure -> the DfE extract measure (:mod:`wcf_model.data`) it is compared
#: with, in monitoring and in the back-test. How the years line up follows from the
#: measure's ``kind``: a "stock" at 31 March Y is the closing of financial year
#: (Y-1)-Y, a "flow" is the year to 31 March Y, a "census" on 30 September Y falls
#: in financial year Y-(Y+1).
PUBLISHED: Mapping[str, str] = {
    "population_0_17": "population_0_17",
    "referrals": "referrals",
    "rereferrals": "rereferrals",
    "cin_closing": "cin_at_31_march",
    "cpp_closing": "cpp_at_31_march",
    "cla_closing": "cla_at_31_march",
    "cla_starts": "cla_starts",
    "cla_exits": "cla_ceased",
    "ehcp_closing": "ehcp_total",
    "social_worker_in_post_fte": "sw_case_holders_fte",
    "social_worker_agency_percent": "sw_agency_percent",
}

#: The measures the back-test scores the model's forecasts on, in its order.
BACKTESTED = ("referrals", "cin_closing", "cpp_closing", "cla_closing", "cla_starts", "cla_exits",
              "ehcp_closing", "social_worker_in_post_fte")

#: Model measure -> what the published figure is, for an actual's note ({date} is its reference date).
PUBLISHED_NOTES = {
    "population_0_17": "ONS mid-year estimate of children aged 0-17, {date}",
    "referrals": "referrals to children's social care in the year to {date} (CIN census table C1)",
    "rereferrals": "re-referrals within 12 months of a previous referral, year to {date} (table C1)",
    "cin_closing": "children in need at {date} (CIN census table B1)",
    "cpp_closing": "children on child protection plans at {date} (CIN census table D5)",
    "cla_closing": "children looked after at {date} (SSDA903)",
    "cla_starts": "children who started to be looked after in the year to {date} (SSDA903)",
    "cla_exits": "children who ceased to be looked after in the year to {date} (SSDA903)",
    "ehcp_closing": "statements and EHC plans in force at the January census, {date} (SEN2, all ages)",
    "social_worker_in_post_fte": (
        "case-holding children's social workers (FTE) at the {date} workforce census: "
        "the published figure the model's social workers in post are compared with (as in back-tests)"),
    "social_worker_agency_percent": (
        "agency social workers as a percentage of agency plus in post, all children's social workers, "
        "{date} workforce census"),
}
