"""Turning caseloads, staff and an option's own items into money.

Every cost line is an array ``(draws, years)`` in real terms at base-year
prices [GBP a year]. The appraisal (:mod:`wcf_model.appraisal`) discounts it
for the economic case and inflates it to cash for the financial case.

Lines and where they come from (DOMAIN.md, "Money")
---------------------------------------------------
* placements: average children in each placement type x weekly cost x weeks a year;
* staff: permanent pay, agency pay, the agency premium and recruitment
  (:func:`wcf_model.workforce.workforce_costs`);
* early help: episodes x cost per episode;
* SEND: plans by setting x annual cost, new plans x assessment cost, and
  home-to-school transport for a share of children with a plan;
* overheads: support services; the other costs of each service line whose
  budget the scenario gives (the budget less the lines above, in the first year);
* the option's own one-off and recurring items, counted for the months they run;
* company lines: irrecoverable VAT (a company supplying welfare makes exempt
  supplies and cannot recover input VAT, unless education dominates its scope
  so that the contract is one taxable supply), corporation tax on its surplus,
  and the difference in employer pension rate on the pay of the staff it employs.

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

from .catalogue import EHCP_SETTINGS, PLACEMENT_TYPES, SERVICE_LINES, UNITS
from .demand import Caseloads
from .effects import MONTHS, months_from_start
from .inputs import draw, variates
from .prices import DEFAULT_INFLATION, price_factor
from .scenario import Parameter
from .schema import OneOffCost, Option, RecurringCost, financial_year_of
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
    ``transfer`` lines (VAT, corporation tax) are left out of the economic case;
    ``optimism_bias`` names the category whose uplift applies, or ``"none"``.
    """

    name: str
    group: str
    values: np.ndarray
    funder: str = "council"
    service_line: str = "social_care"
    transfer: bool = False
    optimism_bias: str = "none"


def to_base_prices(p: Mapping[str, np.ndarray], parameters: Mapping[str, Parameter], base_year: str,
                   deflator: pd.Series, inflation: float = DEFAULT_INFLATION) -> dict[str, np.ndarray]:
    """Money parameters re-expressed in base-year prices; other parameters as they are."""
    out = dict(p)
    for name, param in parameters.items():
        if UNITS[param.unit].kind == "money" and param.price_year and param.price_year != base_year:
            out[name] = p[name] * price_factor(param.price_year, base_year, deflator, inflation)
    return out


def growth_index(p: Mapping[str, np.ndarray], line: str, shape: tuple[int, int]) -> np.ndarray:
    """Real price index from the base year: prod of (1 + growth) after year 0 [ratio]."""
    g = p.get(f"costs.real_growth.{line}")
    if g is None:
        return np.ones(shape)
    steps = np.concatenate([np.ones((shape[0], 1)), 1 + g[:, 1:]], axis=1)
    return np.cumprod(steps, axis=1)


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
    if c.early_help is not None and "costs.early_help.per_episode" in p:
        lines.append(CostLine("early_help", "early_help", c.early_help * p["costs.early_help.per_episode"],
                              service_line="early_help"))
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
        lines.append(CostLine("overheads.support_services", "overheads",
                              p["costs.overheads.support_services"] * growth_index(p, "other", shape)))
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
        inside = sum((ln.values[:, :1] for ln in modelled if ln.service_line == line), np.zeros((1, 1)))
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


def _item_values(item: OneOffCost | RecurringCost, name: str, draws: int | None, seed: int,
                 years: list[str], design: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """An item's central amount by year, times its drawn multiplier [GBP], ``(draws, years)``."""
    if item.values is not None:
        path = np.array([item.values.get(y, 0.0) for y in years]) if isinstance(item, OneOffCost) else \
            np.array([_carry(item.values, y) for y in years])
        central = 1.0
    else:
        path, central = np.ones(len(years)), float(item.value)
    u = variates(name, draws, seed, design) if item.distribution is not None else None
    return draw(item.distribution, u, central, draws)[:, None] * path[None, :]


def _carry(values: Mapping[str, float], year: str) -> float:
    earlier = [y for y in sorted(values) if y <= year]
    return values[earlier[-1]] if earlier else 0.0


def _timing(t, option: Option):
    return option.go_live if t == "go_live" else t


def option_items(option_id: str, option: Option, years: list[str], base_year: str, deflator: pd.Series,
                 draws: int | None, seed: int, inflation: float = DEFAULT_INFLATION,
                 design: Mapping[str, np.ndarray] | None = None) -> list[CostLine]:
    """An option's own one-off and recurring costs [GBP, base-year prices]."""
    lines = []
    for item_id, item in option.one_off_costs.items():
        name = f"options.{option_id}.one_off_costs.{item_id}"
        values = _item_values(item, name, draws, seed, years, design)
        if item.values is None:
            when = _timing(item.when, option)
            fy = financial_year_of(when) if isinstance(when, dt.date) else when
            values = values * (np.array(years) == fy)[None, :]
        factor = price_factor(item.price_year, base_year, deflator, inflation) if item.price_year else 1.0
        lines.append(CostLine(f"option.{item_id}", f"one_off.{item.category}", values * factor,
                              funder=item.funder, optimism_bias=item.optimism_bias))
    for item_id, item in option.recurring_costs.items():
        name = f"options.{option_id}.recurring_costs.{item_id}"
        share = active_share(len(years), years[0], _timing(item.start, option), _timing(item.end, option))
        factor = price_factor(item.price_year, base_year, deflator, inflation) if item.price_year else 1.0
        lines.append(CostLine(f"option.{item_id}", f"recurring.{item.category}",
                              _item_values(item, name, draws, seed, years, design) * share * factor,
                              funder=item.funder, optimism_bias=item.optimism_bias))
    return lines


def company_lines(option: Option, service: list[CostLine], p: Mapping[str, np.ndarray],
                  years: list[str], warnings: list[str]) -> list[CostLine]:
    """VAT, corporation tax and pension lines of a company or trust [GBP a year].

    The company delivers the service lines in its scope from go-live to its end.
    """
    if option.vehicle not in COMPANY_VEHICLES or option.go_live is None:
        return []
    share = active_share(len(years), years[0], option.go_live, option.end)
    in_scope = [ln for ln in service if ln.service_line in option.scope]
    if not in_scope:
        return []
    out: list[CostLine] = []
    education = sum((ln.values for ln in in_scope if ln.service_line == "education_services"), np.zeros(1))
    welfare = sum((ln.values for ln in in_scope if ln.service_line != "education_services"), np.zeros(1))
    turnover = (education + welfare) * share
    # HMRC VATGPB8225: where education is at least as large as the welfare element the
    # contract may be one taxable supply, and input VAT becomes recoverable.
    single_taxable_supply = np.broadcast_to(education >= welfare, turnover.shape)
    if {"finance.vat_rate", "finance.vatable_share_of_spend"} <= set(p):
        pay = sum((ln.values for ln in in_scope if ln.name == "staff.permanent_pay"), np.zeros(1)) * share
        vat = p["finance.vat_rate"] * p["finance.vatable_share_of_spend"] * (turnover - pay)
        out.append(CostLine("company.irrecoverable_vat", "company_tax", np.where(single_taxable_supply, 0.0, vat),
                            transfer=True))
    else:
        warnings.append(f"option '{option.label}': no VAT rate or vatable share of spend, so irrecoverable VAT "
                        "is not costed")
    if option.vehicle == "company" and {"finance.corporation_tax_rate", "finance.company_surplus_share"} <= set(p):
        out.append(CostLine("company.corporation_tax", "company_tax",
                            p["finance.corporation_tax_rate"] * p["finance.company_surplus_share"] * turnover,
                            transfer=True))
    if "finance.pension_rate_difference" in p and "costs.staff.salary.social_worker" in p:
        pay = sum((ln.values for ln in in_scope if ln.name in ("staff.permanent_pay",)), np.zeros(1))
        base_rate = 1 + p.get("costs.staff.on_cost_rate", 0) + p.get("costs.staff.pension_employer_rate", 0)
        out.append(CostLine("company.pension_rate_difference", "company_running",
                            pay / base_rate * p["finance.pension_rate_difference"] * share))
    return out
