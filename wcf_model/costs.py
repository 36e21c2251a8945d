"""Turning caseloads, staff and an option's own items into money.

Every cost line is an array ``(draws, years)`` in real terms at base-year
prices [GBP a year]. The appraisal (:mod:`wcf_model.appraisal`) discounts it
for the economic case and inflates it to cash for the financial case.

Lines and where they come from (docs/domain.md, "Money")
---------------------------------------------------
* placements: average children in each placement type x weekly cost x weeks a year;
* staff: permanent pay, agency pay, the agency premium and recruitment
  (:func:`wcf_model.workforce.workforce_costs`);
* early help: episodes x cost per episode;
* SEND: plans by setting x annual cost, new plans x assessment cost, and
  home-to-school transport for a share of children with a plan;
* overheads: support services; the other costs of each service line whose
  budget the scenario gives (the budget less the lines above, in the first year);
* the option's own one-off and recurring items, counted for the months they run
  (by default an option's recurring items stop when the option ends);
* company lines (:func:`company_lines`): irrecoverable VAT worked out line by
  line from each line's VAT treatment, with partial exemption over the
  company's mixed supplies (:mod:`wcf_model.tax`); corporation tax on its
  surplus at the rates in force each year; the LGPS employer-rate difference on
  the whole transferred pay bill, a pension bond and the cessation payment when
  the company ends; and the council's stranded support-service costs.

Money parameters are converted from their ``price_year`` to base-year prices
with the GDP deflator; real price growth above inflation compounds from the
base year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import catalogue
from .catalogue import EHCP_SETTINGS, PLACEMENT_TYPES, SERVICE_LINES, UNITS
from .demand import Caseloads
from .distributions import mean as distribution_mean
from .effects import MONTHS, months_from_start
from .inputs import Params, draw, multiply, one_row, variates
from .formats import financial_year_of
from .prices import DEFAULT_INFLATION, Inflation, price_factor
from .schema import OneOffCost, Option, Parameter, RecurringCost, VatTreatment
from .tax import VatPosition, company_vat, corporation_tax
from .workforce import Staffing, workforce_costs

#: Weeks in a year, 365.25 / 7, when a scenario does not say.
WEEKS_PER_YEAR = 365.25 / 7

#: Delivery vehicles that are separate legal entities (VAT and tax apply).
COMPANY_VEHICLES = ("company", "trust")


@dataclass(frozen=True)
class CostLine:
    """One line of cost [GBP a year, real base-year prices], ``values`` shaped ``(draws, years)``.

    ``group`` gathers lines for tables (placements, staff, ...); ``service_line``
    is the part of the service it belongs to (decides company scope and VAT);
    ``transfer`` lines (VAT, corporation tax, pension cessation) are left out of
    the economic case; ``optimism_bias`` names the category whose uplift
    applies, or ``"none"``, with ``ob_base`` the central values the uplift is
    applied to ``(1, years)`` and ``ob_skew`` the upward skew of the item's own
    Monte Carlo range (mean / central - 1), which the uplift is reduced by.
    ``buyer`` says who contracts for it: ``"service"`` whoever runs its service
    line, or ``"company"`` / ``"council"``; ``vat`` an option item's own VAT
    treatment (model lines take theirs from :data:`wcf_model.catalogue.LINE_VAT`).
    """

    name: str
    group: str
    values: np.ndarray
    funder: str = "council"
    service_line: str = "social_care"
    transfer: bool = False
    optimism_bias: str = "none"
    ob_base: np.ndarray | None = None
    ob_skew: float = 0.0
    buyer: str = "service"
    vat: VatTreatment | None = None
    category: str | None = None


def to_base_prices(p: Mapping[str, np.ndarray], parameters: Mapping[str, Parameter], base_year: str,
                   deflator: pd.Series, inflation: Inflation = DEFAULT_INFLATION) -> Params:
    """Money parameters re-expressed in base-year prices; other parameters as they are."""
    out = Params(p)
    for name, param in parameters.items():
        if UNITS[param.unit].kind == "money" and param.price_year and param.price_year != base_year:
            out[name] = multiply(p[name], price_factor(param.price_year, base_year, deflator, inflation))
    return out


def growth_index(p: Mapping[str, np.ndarray], line: str, shape: tuple[int, int]) -> np.ndarray:
    """Real price index from the base year: prod of (1 + growth) after year 0 [ratio]."""
    g = p.get(f"costs.real_growth.{line}")
    if g is None:
        return np.broadcast_to(1.0, shape)
    g = one_row(g)  # a growth rate the same in every draw compounds once, on its row
    steps = np.concatenate([np.ones((g.shape[0], 1)), 1 + g[:, 1:]], axis=1)
    return np.broadcast_to(np.cumprod(steps, axis=1), shape)


def active_share(n_years: int, first_year: str, start: dt.date | str | None,
                 end: dt.date | str | None = None) -> np.ndarray:
    """Share of each financial year in which something runs, counted by month [0-1].

    ``start`` None means from the first year; ``end`` None means to the last.
    """
    months = np.arange(n_years * MONTHS) + 0.5
    begin = 0.0 if start is None else months_from_start(start, first_year)
    stop = np.inf if end is None else months_from_start(end, first_year)
    return ((months > begin) & (months < stop)).reshape(n_years, MONTHS).mean(axis=1)


def service_costs(c: Caseloads, staff: Mapping[str, Staffing], p: Mapping[str, np.ndarray],
                  warnings: list[str]) -> list[CostLine]:
    """The costs the model builds up from caseloads and staff, whoever delivers them.

    A placement type or setting with children but no unit cost is left out and
    named in ``warnings``: a missing price must never read as free.
    """
    shape = c.population.shape
    lines: list[CostLine] = []
    weeks = p.get("finance.weeks_per_year", np.full(shape, WEEKS_PER_YEAR))
    if c.cla_by_placement is not None:
        grow = growth_index(p, "placements", shape)
        for k, kind in enumerate(PLACEMENT_TYPES):
            children = c.cla_by_placement[..., k]
            cost = p.get(f"costs.placements.weekly.{kind}")
            if cost is None:
                if children.max() > 0.5:
                    warnings.append(f"no weekly cost for placement type '{kind}' "
                                    f"(about {children[0].mean():,.0f} children a year): left out of the costs")
                continue
            lines.append(CostLine(f"placements.{kind}", "placements", children * cost * weeks * grow))
    grow = growth_index(p, "staff", shape)
    for name, values in workforce_costs(staff, p).items():
        lines.append(CostLine(f"staff.{name}", "staff", values * grow))
    if c.early_help is not None:
        if "costs.early_help.per_episode" in p:
            lines.append(CostLine("early_help", "early_help", c.early_help * p["costs.early_help.per_episode"],
                                  service_line="early_help"))
        else:
            warnings.append(f"no cost per early help episode (about {c.early_help[:, 0].mean():,.0f} episodes "
                            "in the first year): early help left out of the costs")
    if c.ehcp_by_setting is not None:
        grow = growth_index(p, "send", shape)
        for k, setting in enumerate(EHCP_SETTINGS):
            plans = c.ehcp_by_setting[..., k]
            cost = p.get(f"costs.send.annual.{setting}")
            if cost is None:
                if plans.max() > 0.5:
                    warnings.append(f"no annual cost for EHC plans in setting '{setting}': left out of the costs")
                continue
            lines.append(CostLine(f"send.{setting}", "send", plans * cost * grow, funder="dsg_high_needs",
                                  service_line="send"))
        if "costs.send.assessment" in p:
            lines.append(CostLine("send.assessments", "send", c.ehcp.starts * p["costs.send.assessment"],
                                  funder="dsg_high_needs", service_line="send"))
        if "costs.send.transport_share" in p and "costs.send.transport_per_pupil" in p:
            lines.append(CostLine("send.transport", "send", c.ehcp.average * p["costs.send.transport_share"]
                                  * p["costs.send.transport_per_pupil"] * grow, service_line="send"))
    if "costs.overheads.support_services" in p:
        # support services are for the whole service and sit outside the service lines' budgets
        lines.append(CostLine("overheads.support_services", "overheads",
                              p["costs.overheads.support_services"] * growth_index(p, "other", shape),
                              service_line="support"))
    return lines


def budget_residuals(modelled: list[CostLine], p: Mapping[str, np.ndarray],
                     warnings: list[str]) -> dict[str, np.ndarray]:
    """What each service line's budget holds beyond the costs the model builds up [GBP a year].

    A budget (``services.<line>.budget``) is the line's whole base-year cost:
    for social care it includes the placements and staff the model counts. The
    residual, budget minus the modelled lines in the first year, is the line's
    other costs (management, legal, commissioning, buildings ...), held in real
    terms; the modelled lines then carry the changes. Returns line -> ``(draws, 1)``.
    """
    out = {}
    for line in SERVICE_LINES:
        budget = p.get(f"services.{line}.budget")
        if budget is None:
            continue
        inside = sum((ln.values[:, :1] for ln in modelled if ln.service_line == line and ln.group != "overheads"),
                     np.zeros((1, 1)))
        residual = budget[:, :1] - inside
        if (residual < 0).any():
            warnings.append(f"the modelled costs of '{line}' exceed its budget in the first year in "
                            f"{(residual < 0).mean():.0%} of draws; its other costs are taken as nil there")
        out[line] = np.maximum(residual, 0)
    return out


def residual_lines(residuals: Mapping[str, np.ndarray], p: Mapping[str, np.ndarray],
                   shape: tuple[int, int]) -> list[CostLine]:
    """The service lines' other costs, grown at the 'other' real growth rate."""
    grow = growth_index(p, "other", shape)
    return [CostLine(f"services.{line}.other", "other_service_costs", np.broadcast_to(r, shape) * grow,
                     service_line=line) for line, r in residuals.items()]


def _item_path(item: OneOffCost | RecurringCost, years: list[str]) -> tuple[np.ndarray, float]:
    """An item's central path by year and the central value its distribution is drawn around."""
    if item.values is not None:
        path = np.array([item.values.get(y, 0.0) for y in years]) if isinstance(item, OneOffCost) else \
            np.array([_carry(item.values, y) for y in years])
        return path, 1.0
    return np.ones(len(years)), float(item.value)


def _item_values(item: OneOffCost | RecurringCost, name: str, draws: int | None, seed: int,
                 years: list[str], design: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """An item's amount by year, times its drawn multiplier [GBP], ``(draws, years)``."""
    path, central = _item_path(item, years)
    u = variates(name, draws, seed, design) if item.distribution is not None else None
    return multiply(draw(item.distribution, u, central, draws)[:, None], path[None, :])


def _carry(values: Mapping[str, float], year: str) -> float:
    earlier = [y for y in sorted(values) if y <= year]
    return values[earlier[-1]] if earlier else 0.0


def _buyer(item: OneOffCost | RecurringCost) -> str:
    """Who contracts for an option's item under a company: set-up is the council's project (its VAT is
    refunded under s33); running costs are the company's, except the council's own client team."""
    if item.bought_by is not None:
        return item.bought_by
    if isinstance(item, OneOffCost) or item.category in catalogue.COUNCIL_CATEGORIES:
        return "council"
    return "company"


def option_items(option_id: str, option: Option, years: list[str], base_year: str, deflator: pd.Series,
                 draws: int | None, seed: int, inflation: Inflation = DEFAULT_INFLATION,
                 design: Mapping[str, np.ndarray] | None = None) -> list[CostLine]:
    """An option's own one-off and recurring costs [GBP, base-year prices].

    A recurring item runs from its ``start`` to its ``end``; with no ``end`` it
    stops when the option ends (if it does), unless it starts at the end.
    """
    lines = []
    for kind, items in (("one_off_costs", option.one_off_costs), ("recurring_costs", option.recurring_costs)):
        for item_id, item in items.items():
            name = catalogue.option_input_name(option_id, kind, item_id)
            path, central = _item_path(item, years)
            if isinstance(item, OneOffCost):
                when = np.ones(len(years))
                if item.values is None:
                    at = option.resolve(item.when)
                    fy = financial_year_of(at) if isinstance(at, dt.date) else at
                    when = (np.array(years) == fy).astype(float)
                group = f"one_off.{item.category}"
            else:
                end = item.end if item.end is not None else (None if item.start == "end" else option.end)
                when = active_share(len(years), years[0], option.resolve(item.start), option.resolve(end))
                group = f"recurring.{item.category}"
            factor = price_factor(item.price_year, base_year, deflator, inflation) if item.price_year else 1.0
            values = multiply(multiply(_item_values(item, name, draws, seed, years, design), when[None, :]), factor)
            skew = distribution_mean(item.distribution, central) / central - 1 if central else 0.0
            lines.append(CostLine(catalogue.option_cost_line(item_id), group, values, funder=item.funder,
                                  optimism_bias=item.optimism_bias,
                                  ob_base=(central * path * when * factor)[None, :], ob_skew=max(skew, 0.0),
                                  buyer=_buyer(item), vat=item.vat, category=item.category))
    return lines


# ---------------------------------------------------------------------------
# Company lines: VAT, corporation tax, pensions, stranded costs
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyAccounts:
    """What a company option's own lines rest on [GBP, real base-year prices], each ``(draws, years)``.

    ``vat`` is the VAT position (by input line, recovery rate, de minimis);
    ``turnover`` the company's supplies to the council (its costs, without
    disbursements); ``profits`` the taxable surplus; ``pensionable_pay`` the
    transferred pay bill's pensionable salaries; ``months`` the months it trades
    in each year; ``inputs`` the lines it buys; ``vat_rules`` each input's VAT
    treatment (treatment, standard-rated share, reference).
    """

    vat: VatPosition
    turnover: np.ndarray
    profits: np.ndarray | None
    pensionable_pay: np.ndarray
    months: np.ndarray
    inputs: tuple[str, ...]
    vat_rules: dict[str, tuple[str, str, str]]


def _matches(name: str, patterns: list[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in patterns)


def _line_vat(ln: CostLine, p: Mapping[str, np.ndarray]) -> tuple[np.ndarray | float | None, str, str]:
    """(standard-rated share, treatment, reference) of a line bought by a company; share None if unknown."""
    if ln.vat is not None:
        return ln.vat.share, ln.vat.treatment, ln.vat.reference
    own_item = catalogue.option_item_of_line(ln.name) is not None
    rule = catalogue.ITEM_VAT.get(ln.category or "") if own_item else catalogue.LINE_VAT.get(ln.name)
    # an option's own item states its VAT on the item (vat:), never as a parameter
    stated = None if own_item else p.get(f"finance.vat_standard_rated_share.{ln.name}")
    if stated is not None:
        return stated, "as the scenario states", rule.reference if rule else "the scenario"
    if rule is None:
        return None, "not stated", ""
    return rule.standard_rated_share, rule.treatment, rule.reference


def company_inputs(option: Option, lines: list[CostLine]) -> list[CostLine]:
    """The lines a company or trust buys: its service lines' costs (less what the council keeps
    contracting for, and less disbursements), the support services, and its own items."""
    out = []
    for ln in lines:
        rule = catalogue.LINE_VAT.get(ln.name)
        if ln.buyer == "council" or _matches(ln.name, option.tax.council_contracts) or (rule and rule.disbursement):
            continue
        if ln.buyer == "company" or ln.service_line in option.scope or ln.group == "overheads":
            out.append(ln)
    return out


def company_lines(option: Option, lines: list[CostLine], p: Mapping[str, np.ndarray], years: list[str],
                  nominal_index: np.ndarray, warnings: list[str]) -> tuple[list[CostLine], CompanyAccounts | None]:
    """The lines a company or trust adds, and what they rest on.

    Parameters
    ----------
    option : Option
    lines : list of CostLine
        The option's service lines and its own items [GBP, real].
    p : mapping
        Parameters under the option, ``(draws, years)``.
    years : list of str
    nominal_index : ndarray, shape (years,)
        Cash / real by year (statutory thresholds are cash).
    warnings : list of str
        Gains a line for every input whose VAT treatment the scenario leaves open.

    Returns
    -------
    (list of CostLine, CompanyAccounts or None)
        ``company.irrecoverable_vat`` and ``company.corporation_tax`` (transfers),
        ``company.pension_rate_difference``, ``company.pension_bond``,
        ``company.pension_cessation`` (a transfer) and ``council.stranded_overheads``;
        nothing for a council or partnership.
    """
    if option.vehicle not in COMPANY_VEHICLES or option.go_live is None:
        return [], None
    share = active_share(len(years), years[0], option.go_live, option.end)
    months = share * MONTHS
    inputs = company_inputs(option, lines)
    if not any(ln.buyer == "service" for ln in inputs):
        return [], None
    shape = next(ln.values.shape for ln in inputs)
    zero = np.broadcast_to(0.0, shape)  # the same in every draw (inputs.one_row)

    # each input while the company trades, made once: the option's own company items are dated already;
    # service lines run through the company while it trades
    during = {id(ln): ln.values if ln.buyer == "company" else multiply(ln.values, share[None, :]) for ln in inputs}

    def while_company(ln: CostLine) -> np.ndarray:
        return during[id(ln)]

    # -- VAT: line by line, then partial exemption over the company's supplies ------------------------
    rate = p.get("finance.vat_rate")
    outputs = {line: sum((while_company(ln) for ln in inputs if ln.service_line == line), zero)
               for line in option.scope}
    taxable_share = {}
    for line in option.scope:
        stated = p.get(f"finance.vat_taxable_output_share.{line}")
        taxable_share[line] = stated if stated is not None else catalogue.OUTPUT_VAT[line].standard_rated_share
    all_outputs = sum(outputs.values(), zero)
    taxable_outputs = sum((outputs[line] * taxable_share[line] for line in option.scope), zero)
    # one taxable-use array per service line, shared by its inputs (company_vat works each out once)
    line_use = {line: np.broadcast_to(taxable_share[line], shape) for line in option.scope}
    input_tax, use, rules = {}, {}, {}
    for ln in inputs:
        srs, treatment, reference = _line_vat(ln, p)
        rules[ln.name] = (treatment, "" if srs is None or np.ndim(srs) else f"{float(srs):g}", reference)
        if srs is None:
            warnings.append(f"option '{option.label}': the VAT treatment of '{ln.name}' is not stated, so VAT on "
                            f"it is not costed (give its vat:, or finance.vat_standard_rated_share.{ln.name})")
            continue
        if rate is None or not np.any(srs):
            continue
        input_tax[ln.name] = one_row(rate) * srs * while_company(ln)
        use[ln.name] = line_use[ln.service_line] if ln.service_line in option.scope and ln.buyer == "service" else None
    if rate is None:
        warnings.append(f"option '{option.label}': no VAT rate (finance.vat_rate), so irrecoverable VAT is not costed")
    vat = company_vat(input_tax, use, taxable_outputs, all_outputs, months, nominal_index,
                      single_supply=option.tax.contract == "single_supply")
    out = [CostLine("company.irrecoverable_vat", "company_tax", vat.irrecoverable, transfer=True,
                    service_line="company")]

    # -- corporation tax on the surplus --------------------------------------------------------------
    turnover = sum((while_company(ln) for ln in inputs), zero) + vat.irrecoverable
    profits = None
    if option.vehicle == "company" and {"finance.corporation_tax_rate", "finance.company_surplus_share"} <= set(p):
        main = p["finance.corporation_tax_rate"]
        profits = p["finance.company_surplus_share"] * turnover
        tax = corporation_tax(profits, main, p.get("finance.corporation_tax_small_profits_rate", main),
                              p.get("finance.corporation_tax_lower_limit", zero),
                              p.get("finance.corporation_tax_upper_limit", zero),
                              p.get("finance.corporation_tax_marginal_fraction", zero), months,
                              p.get("finance.company_associated_companies", zero), nominal_index)
        out.append(CostLine("company.corporation_tax", "company_tax", tax, transfer=True, service_line="company"))

    # -- pensions: LGPS admission of the transferred staff -----------------------------------------
    # LGPS Regulations 2013 Sch 2 Part 3 para 1(d): a body providing a service transferred by a scheme
    # employer may be admitted; the whole transferred workforce's pensionable pay carries the company's rate.
    on_costs = 1 + p.get("costs.staff.on_cost_rate", 0) + p.get("costs.staff.pension_employer_rate", 0)
    pay = zero
    for ln in inputs:
        if ln.name == "staff.permanent_pay":
            pay = pay + while_company(ln)
        elif ln.name.startswith("services.") and ln.name.endswith(".other"):
            pay_share = p.get(f"services.{ln.service_line}.pay_share_of_other")
            if pay_share is not None:
                pay = pay + pay_share * while_company(ln)
    pensionable = pay / on_costs
    if "finance.pension_rate_difference" in p:
        out.append(CostLine("company.pension_rate_difference", "company_running",
                            pensionable * p["finance.pension_rate_difference"], service_line="company"))
    if {"finance.pension_bond_cover", "finance.pension_bond_premium_rate"} <= set(p):
        # Sch 2 Part 3 paras 5-8: where the risk assessment calls for it, an indemnity or bond; the
        # premium is an insurance cost (exempt, VAT Act 1994 Sch 9 Group 2, so no input VAT).
        out.append(CostLine("company.pension_bond", "company_running",
                            multiply(multiply(p["finance.pension_bond_cover"], p["finance.pension_bond_premium_rate"]),
                                     share[None, :]),
                            service_line="company"))
    if "finance.pension_cessation_payment" in p and option.end is not None:
        # reg 64: when the admission agreement ends, the fund's actuary values the company's liabilities
        # and certifies an exit payment. It funds liabilities that exist whoever employs the staff, so it
        # is a transfer: in the financial case, not the economic case.
        at = np.array(years) == financial_year_of(option.end) if isinstance(option.end, dt.date) else \
            np.array(years) == option.end
        out.append(CostLine("company.pension_cessation", "company_running",
                            p["finance.pension_cessation_payment"] * at[None, :], transfer=True,
                            service_line="company"))

    # -- support services: bought back, or stranded at the council ------------------------------------
    support = next((ln for ln in inputs if ln.name == "overheads.support_services"), None)
    if support is not None and "costs.overheads.stranded_share" in p:
        not_bought = 1 - p.get("costs.overheads.buy_back_share", np.ones(shape))
        out.append(CostLine("council.stranded_overheads", "overheads",
                            support.values * share[None, :] * not_bought * p["costs.overheads.stranded_share"],
                            service_line="council"))
    accounts = CompanyAccounts(vat, turnover, profits, pensionable, months, tuple(ln.name for ln in inputs), rules)
    return out, accounts
