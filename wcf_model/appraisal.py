"""The Green Book appraisal: economic and financial cases for every option.

``appraise_options`` is the one orchestrator (``wcf_model.appraise`` wraps it
with a central and a Monte Carlo run). For each option it applies the option's
effects to the sampled inputs, projects caseloads and staff, costs them with the
option's own items, and builds two accounts (DOMAIN.md, "Money"):

* economic case: real base-year prices, discounted with the STPR, transfers
  (VAT, corporation tax) left out, optimism bias added on the option's own
  items by category; each option's net present cost and its difference from
  the baseline;
* financial case: cash by financial year (base-year prices inflated with the
  GDP deflator), including VAT and tax, split by who pays.

All options share the same draws of every input (common random numbers), so a
difference between two options is the options' doing, not sampling noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .catalogue import FUNDERS
from .costs import (
    CostLine,
    budget_residuals,
    company_lines,
    option_items,
    residual_lines,
    service_costs,
    to_base_prices,
)
from .discounting import discount_factors, present_value
from .effects import apply_option_effects
from .inputs import sample_parameters, scenario_design
from .model import Projection, population_given, population_lead, project_arrays, require_population
from .prices import DEFAULT_INFLATION, deflator_path, load_deflators
from .scenario import Scenario


@dataclass(frozen=True)
class OptionResult:
    """One option's projection and accounts.

    Arrays have a leading draws axis. ``economic`` and ``financial`` map a cost
    line to ``(draws, years)``: economic in real base-year prices [GBP a year],
    with an ``optimism_bias`` line; financial in cash [GBP a year], including
    transfers.
    """

    option: str
    projection: Projection
    lines: list[CostLine] = field(repr=False)
    economic: dict[str, np.ndarray] = field(repr=False)
    financial: dict[str, np.ndarray] = field(repr=False)
    funders: dict[str, np.ndarray] = field(repr=False)
    npv_cost: np.ndarray = field(repr=False)            # (draws,) GBP, base-year prices, discounted
    npv_cost_contract: np.ndarray | None = field(default=None, repr=False)

    @property
    def economic_total(self) -> np.ndarray:
        """Real cost by year including optimism bias [GBP a year], ``(draws, years)``."""
        return sum(self.economic.values())

    @property
    def financial_total(self) -> np.ndarray:
        """Cash cost by year [GBP a year], ``(draws, years)``."""
        return sum(self.financial.values())


@dataclass(frozen=True)
class Appraisal:
    """Every option's result, with what produced it."""

    scenario: Scenario
    years: list[str]
    draws: int
    seed: int
    discount_factors: np.ndarray
    nominal_index: np.ndarray          # cash / real, by year
    deflator_vintage: str
    options: dict[str, OptionResult]
    warnings: list[str]

    @property
    def baseline(self) -> str:
        return self.scenario.baseline

    def npv_vs_baseline(self, option: str) -> np.ndarray:
        """Net present cost of an option minus the baseline's, per draw [GBP]."""
        return self.options[option].npv_cost - self.options[self.baseline].npv_cost


def optimism_bias_rates(p: dict[str, np.ndarray], categories: set[str]) -> dict[str, np.ndarray]:
    """The uplift for each category, between its lower and upper bound [ratio], ``(draws, years)``.

    ``appraisal.optimism_bias_mitigation`` moves it from the upper bound (0,
    the Green Book's starting point) to the lower (1) as risks are costed.
    """
    out = {}
    for cat in categories - {"none"}:
        upper = p.get(f"appraisal.optimism_bias.{cat}.upper")
        if upper is None:
            continue
        lower = p.get(f"appraisal.optimism_bias.{cat}.lower", np.zeros_like(upper))
        mitigation = p.get("appraisal.optimism_bias_mitigation", np.zeros_like(upper))
        out[cat] = upper - (upper - lower) * mitigation
    return out


def accounts(lines: list[CostLine], p: dict[str, np.ndarray], nominal_index: np.ndarray
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(economic by line, financial by line, financial by funder) from cost lines."""
    rates = optimism_bias_rates(p, {ln.optimism_bias for ln in lines})
    economic = {ln.name: ln.values for ln in lines if not ln.transfer}
    uplift = [ln.values * rates[ln.optimism_bias] for ln in lines if ln.optimism_bias in rates and not ln.transfer]
    if uplift:
        economic["optimism_bias"] = sum(uplift)
    financial = {ln.name: ln.values * nominal_index for ln in lines}
    funders = {f: sum((ln.values * nominal_index for ln in lines if ln.funder == f), np.zeros(1))
               for f in FUNDERS}
    return economic, financial, {f: v for f, v in funders.items() if np.any(v)}


def appraise_options(sc: Scenario, draws: int | None = None, seed: int | None = None,
                     design: Mapping[str, np.ndarray] | None = None) -> Appraisal:
    """Appraise every option of a scenario.

    Parameters
    ----------
    sc : Scenario
    draws : int, optional
        Monte Carlo draws; None for one run at central values.
    seed : int, optional
        Defaults to the scenario's seed.
    design : mapping, optional
        Uniform variates by input name, each ``(draws,)``, NaN for central; inputs
        it does not name are central (see :func:`wcf_model.inputs.variates`).
        Used by the sensitivity analyses to run chosen combinations at once.
    """
    seed = sc.header.seed if seed is None else seed
    years = sc.financial_years
    base_year = sc.header.base_year
    require_population(sc.parameters, str(sc.path))
    if design is None:
        design = scenario_design(sc, draws, seed)
    deflator = load_deflators(sc.header.deflator_vintage)
    inflation = (sc.parameters["finance.general_inflation"].central()
                 if "finance.general_inflation" in sc.parameters else DEFAULT_INFLATION)
    p = to_base_prices(sample_parameters(sc.parameters, years, draws, seed, design), sc.parameters, base_year,
                       deflator, inflation)
    known = population_given(sc.parameters["population.age_0_17"], years)
    lead = population_lead(sc.parameters["population.age_0_17"], years)
    factors = discount_factors(len(years))
    path = deflator_path(deflator, years, inflation)
    nominal = path / deflator_path(deflator, [base_year], inflation)[0]
    contract = sc.header.contract_years
    warnings: list[str] = []
    # Budgets describe the service before any option acts on it: their residual
    # other costs come from the projection without effects, the same for every option.
    reference = project_arrays(p, known, years, lead)
    residuals = budget_residuals(service_costs(reference.caseloads, reference.workforce, p, []), p, warnings)
    results = {}
    for oid, option in sc.options.items():
        p_opt = apply_option_effects(p, oid, option, years, draws, seed, design)
        projection = project_arrays(p_opt, known, years, lead)
        found: list[str] = []
        service = (service_costs(projection.caseloads, projection.workforce, p_opt, found)
                   + residual_lines(residuals, p_opt, projection.caseloads.population.shape))
        lines = (service + option_items(oid, option, years, base_year, deflator, draws, seed, inflation, design)
                 + company_lines(option, service, p_opt, years, found))
        warnings += [w for w in found if w not in warnings]
        economic, financial, funders = accounts(lines, p_opt, nominal)
        total = sum(economic.values())
        results[oid] = OptionResult(
            oid, projection, lines, economic, financial, funders, present_value(total, factors),
            present_value(total[:, :contract], factors[:contract]) if contract else None)
    return Appraisal(sc, years, results[sc.baseline].npv_cost.shape[0], seed, factors, nominal,
                     str(deflator.name), results, warnings)
