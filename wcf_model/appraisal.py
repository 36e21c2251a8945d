"""The orchestrator: a scenario in, one :class:`~wcf_model.results.Results` out.

Start reading the model here. :func:`appraise` (``wcf_model.appraise``) is
the one public entry point; every other step is a pure function it calls:

1. **Inputs.** Every parameter as a ``(draws, years)`` array, money in the
   base year's prices (:mod:`wcf_model.inputs`, :func:`wcf_model.costs.to_base_prices`).
   A run is driven by a *design*: the uniform variate of each uncertain input
   in each draw (:func:`monte_carlo_design`), NaN meaning "central". The
   Monte Carlo run, the sensitivity runs and the central run differ only in
   their design.
2. **Projection.** Population, caseloads and staff (:mod:`wcf_model.projection`),
   once for the service as it stands and once more for each option whose
   effects change an input the projection reads; every other option shares it,
   and one whose effects change only its staffing shares its caseloads. An
   option sharing the projection and its cost inputs shares its service's
   cost lines too.
3. **Accounts.** Each option's cost lines (:mod:`wcf_model.costs`) into the
   economic and financial cases (:mod:`wcf_model.accounts`).
4. **Results.** The central run, the Monte Carlo run, the value every
   uncertain input took in each draw, and the multi-criteria analysis
   (:mod:`wcf_model.mca`), as data: the analyses (:mod:`wcf_model.sensitivity`,
   :mod:`wcf_model.decision`) and the presentation read them and re-draw nothing.

All options share the same draws of every input (common random numbers), so a
difference between two options is the options' doing, not sampling noise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np
import pandas as pd

from .accounts import Appraisal, OptionResult, accounts, high_needs_account, mitigation, optimism_bias_rates
from .costs import budget_residuals, company_lines, option_items, residual_lines, service_costs, to_base_prices
from .discounting import discount_factors, present_value
from .effects import apply_option_effects
from .errors import Problem, ScenarioError, UsageError
from .inputs import Params, draw, sample_parameters, scenario_design, uniforms
from .uncertain import uncertain_inputs
from .limits import MAX_DRAWS_MEMORY
from .mca import mca_summary
from .prices import DEFAULT_INFLATION, deflator_path, load_deflators
from .projection import (Projection, population_given, population_lead, project_arrays,
                         project_population_and_caseloads, require_population)
from .results import Results
from .scenario import Scenario


def appraise(sc: Scenario, draws: int | None = None, seed: int | None = None,
             draws_from: str | None = None) -> Results:
    """Appraise every option at central values and, with ``draws`` above 1, by Monte Carlo.

    Use::

        res = wm.appraise(wm.load_scenario("scenarios/worcestershire/2018-outline-business-case.yaml"),
                          draws=2000, seed=1)
        res.summary(); res.annual; res.caseloads; res.mca; res.input_draws

    The draws are checked against :data:`~wcf_model.limits.MAX_DRAWS_MEMORY`
    before any is made (see :func:`check_draws`); ``draws_from`` says where
    the number came from, for the message (``"--draws"``; by default the
    scenario's ``draws`` when it equals them, else the ``draws`` argument).
    """
    seed = sc.header.seed if seed is None else seed
    inputs = uncertain_inputs(sc)
    # Overflow shows as inf or NaN in the arrays; check_finite says so in words,
    # so numpy's own warnings would only repeat it.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        central = appraise_options(sc, None, seed)
        check_finite(central)
        uncertain = None
        if draws and draws > 1:
            check_draws(sc, draws, central, draws_from)
            design = monte_carlo_design(sc, draws, seed)
            uncertain = appraise_options(sc, draws, seed, design)
            check_finite(uncertain)
            values = {i.name: draw(i.spec, design[i.name], i.central, draws) for i in inputs}
        else:
            values = {i.name: np.array([i.central]) for i in inputs}
    mca = mca_summary(sc, central, uncertain or central) if sc.mca.criteria else None
    return Results(central, uncertain, inputs, values, mca)


def monte_carlo_design(sc: Scenario, draws: int, seed: int) -> dict[str, np.ndarray]:
    """The uniform variate of every uncertain input in every draw, ``(draws,)`` by name.

    Each input has its own stream (:func:`wcf_model.inputs.uniforms`), rank-
    correlated as the scenario says (:func:`wcf_model.inputs.scenario_design`).
    The Monte Carlo run is driven by exactly this design, and the input draws
    :class:`~wcf_model.results.Results` holds are read from it.
    """
    return scenario_design(sc, draws, seed) or {i.name: uniforms(seed, i.name, draws) for i in uncertain_inputs(sc)}


class _NotedReads(Params):
    """Parameter arrays, checked as :class:`~wcf_model.inputs.Params` are, that note which names a step
    reads (all of them, once it walks the whole mapping)."""

    def __init__(self, data: Mapping[str, np.ndarray]):
        super().__init__(data)
        self.read: set[str] = set()
        self.walked = False

    def __getitem__(self, key: str) -> np.ndarray:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self.walked = True
        return super().__iter__()

    def keys(self):  # noqa: D102
        self.walked = True
        return super().keys()

    def items(self):  # noqa: D102
        self.walked = True
        return super().items()

    def values(self):  # noqa: D102
        self.walked = True
        return super().values()


def _same_inputs(p: Mapping[str, np.ndarray], q: Mapping[str, np.ndarray], noted: _NotedReads) -> bool:
    """Whether ``q`` holds the very arrays of ``p`` for every name the noted step read."""
    return not noted.walked and all(p.get(k) is q.get(k) for k in noted.read)


def _inputs(sc: Scenario, draws: int | None, seed: int, design: Mapping[str, np.ndarray] | None,
            deflator: pd.Series) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """Every parameter as arrays in base-year prices, and the population's given years and lead."""
    require_population(sc.parameters, str(sc.path))
    p = to_base_prices(sample_parameters(sc.parameters, sc.financial_years, draws, seed, design), sc.parameters,
                       sc.header.base_year, deflator, _inflation(sc))
    pop = sc.parameters["population.age_0_17"]
    return p, population_given(pop, sc.financial_years), population_lead(pop, sc.financial_years)


def _inflation(sc: Scenario) -> float:
    """General inflation beyond the deflator series [a year]: each year beyond it grows at that year's rate
    (a figure by year carries its last value forward), not at the first year's."""
    return (sc.parameters["finance.general_inflation"].central
            if "finance.general_inflation" in sc.parameters else DEFAULT_INFLATION)


def appraise_options(sc: Scenario, draws: int | None = None, seed: int | None = None,
                     design: Mapping[str, np.ndarray] | None = None) -> Appraisal:
    """One run of every option of a scenario: the engine under :func:`appraise`.

    Parameters
    ----------
    sc : Scenario
    draws : int, optional
        Rows of the run; None for one run at central values.
    seed : int, optional
        Defaults to the scenario's seed.
    design : mapping, optional
        Uniform variates by input name, each ``(draws,)``, NaN for central; inputs
        it does not name are central (see :func:`wcf_model.inputs.variates`).
        :func:`appraise` passes :func:`monte_carlo_design`; the sensitivity
        analyses pass chosen combinations, run at once. Without one, each input
        is drawn from its own stream.
    """
    seed = sc.header.seed if seed is None else seed
    years = sc.financial_years
    base_year = sc.header.base_year
    if design is None:
        design = scenario_design(sc, draws, seed)
    deflator = load_deflators(sc.header.deflator_vintage)
    p, known, lead = _inputs(sc, draws, seed, design, deflator)
    inflation = _inflation(sc)
    factors = discount_factors(len(years))
    path = deflator_path(deflator, years, inflation)
    nominal = path / deflator_path(deflator, [base_year], inflation)[0]
    contract = sc.header.contract_years
    warnings: list[str] = []
    # The service as it stands, before any option acts on it: its projection, and the names its caseloads
    # and its staffing read (an option whose effects leave all of them as they were shares the projection,
    # one that changes only staffing shares its caseloads); its service cost lines, and the names they read
    # (an option sharing the projection and those inputs shares the lines); and the budgets' residual other
    # costs, which come from it and are the same for every option.
    caseload_reads, staffing_reads, cost_reads = _NotedReads(p), _NotedReads(p), _NotedReads(p)
    reference = project_arrays(staffing_reads, known, years, lead,
                               project_population_and_caseloads(caseload_reads, known, lead))
    reference_warnings: list[str] = []
    reference_service = service_costs(reference.caseloads, reference.workforce, cost_reads, reference_warnings)
    residuals = budget_residuals(reference_service, p, warnings)
    results: dict[str, OptionResult] = {}
    cash_of: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # each line's cash, priced once (accounts)
    allocation = sc.parameters.get("funding.dsg_high_needs.allocation")
    given = sorted(allocation.values) if allocation is not None and allocation.values else None
    for oid, option in sc.options.items():
        p_opt = apply_option_effects(p, oid, option, years, draws, seed, design)
        if not _same_inputs(p, p_opt, caseload_reads):
            projection = project_arrays(p_opt, known, years, lead)
        elif not _same_inputs(p, p_opt, staffing_reads):
            projection = project_arrays(p_opt, known, years, lead, reference.caseloads)
        else:
            projection = reference
        shape = projection.caseloads.population.shape
        found: list[str] = []
        if projection is reference and _same_inputs(p, p_opt, cost_reads):
            found += reference_warnings
            service = reference_service + residual_lines(residuals, p_opt, shape)
        else:
            service = (service_costs(projection.caseloads, projection.workforce, p_opt, found)
                       + residual_lines(residuals, p_opt, shape))
        own = option_items(oid, option, years, base_year, deflator, draws, seed, inflation, design)
        company, company_accounts = company_lines(option, service + own, p_opt, years, nominal, found)
        lines = service + own + company
        warnings += [w for w in found if w not in warnings]
        rates = optimism_bias_rates(p_opt, {ln.optimism_bias for ln in lines}, mitigation(option, p_opt, shape))
        economic, financial, funders = accounts(lines, rates, nominal, cash_of)
        total = sum(economic.values(), np.zeros(shape))
        results[oid] = OptionResult(
            oid, projection, lines, economic, financial, funders, present_value(total, factors),
            present_value(total[:, :contract], factors[:contract]) if contract else None,
            company_accounts, high_needs_account(financial, lines, p_opt, given, years))
    return Appraisal(sc, years, results[sc.baseline].npv_cost.shape[0], seed, factors, nominal,
                     str(deflator.name), results, warnings)


def project(sc: Scenario, draws: int | None = None, seed: int | None = None) -> Projection:
    """A scenario's baseline caseloads and workforce, with the baseline option's own effects.

    The projection :func:`appraise` makes for the baseline, without costing
    anything. ``draws``: Monte Carlo draws, None for one run at central values;
    ``seed`` defaults to the scenario's.
    """
    seed = sc.header.seed if seed is None else seed
    design = scenario_design(sc, draws, seed)
    p, known, lead = _inputs(sc, draws, seed, design, load_deflators(sc.header.deflator_vintage))
    p = apply_option_effects(p, sc.baseline, sc.options[sc.baseline], sc.financial_years, draws, seed, design)
    return project_arrays(p, known, sc.financial_years, lead)


# ---------------------------------------------------------------------------
# What the appraisal refuses
# ---------------------------------------------------------------------------


def check_finite(a: Appraisal) -> None:
    """Refuse an appraisal in which a figure came out infinite or undefined.

    Every input is finite and at most 1e15, but products and compounding can
    still pass the largest number a computer holds (a growth rate of 1e14 a
    year for sixty years); the results would then hold Infinity and NaN,
    which no file may.

    Raises
    ------
    ScenarioError
        Naming the scenario file, the option and the first year affected.
    """
    for oid, r in a.options.items():
        for what, values in (("cash", r.financial_total), ("net present cost", r.npv_cost[:, None])):
            bad = ~np.isfinite(values)
            if bad.any():
                year = a.years[int(np.flatnonzero(bad.any(axis=0))[0])] if what == "cash" else None
                raise ScenarioError([Problem(
                    str(a.scenario.path), None, f"options.{oid}",
                    f"the {what} of this option comes out infinite or undefined"
                    + (f" from {year}" if year else "") + ": some figure in the scenario is too large for the "
                    "arithmetic (look for a growth rate, multiplier or cost many times larger than it should be)")])


def bytes_per_draw(central: Appraisal) -> int:
    """Memory one Monte Carlo draw of a scenario needs [bytes], from its central run.

    Every array of an appraisal has one row per draw, so the central run (one
    row) holds exactly what each draw adds; twice that allows for the
    temporaries made while computing and for the analyses that read the draws
    (measured: the 2019 Worcestershire case holds 33.5 kB a draw and peaks at
    about 40 kB a draw over 20,000 draws, 52 kB with the report's analyses).
    """
    return 2 * _array_bytes(central, set())


def _array_bytes(obj: Any, seen: set[int]) -> int:
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, dict):
        return sum(_array_bytes(v, seen) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_array_bytes(v, seen) for v in obj)
    if is_dataclass(obj) and not isinstance(obj, type):
        return sum(_array_bytes(getattr(obj, f.name), seen) for f in fields(obj) if f.name != "scenario")
    return 0


def check_draws(sc: Scenario, draws: int, central: Appraisal, draws_from: str | None = None) -> None:
    """Refuse more draws than fit in :data:`~wcf_model.limits.MAX_DRAWS_MEMORY`, before any is made.

    Raises
    ------
    ScenarioError
        When the number is the scenario's own ``draws`` (naming the file and line).
    UsageError
        When it was given on the command line or in the call.
    """
    per = bytes_per_draw(central)
    most = max(1, MAX_DRAWS_MEMORY // max(per, 1))
    if draws <= most:
        return
    message = (f"{draws:,} draws of this scenario would need about {draws * per / 1e9:,.1f} GB of memory "
               f"({per / 1e3:,.0f} kB a draw for {len(central.years)} years and {len(central.options)} options); "
               f"at most {most:,} draws fit in the {MAX_DRAWS_MEMORY / 2**30:g} GB wcf-model allows itself "
               "(see Limits in the README). A few thousand draws give stable percentiles")
    if draws_from is None and draws == sc.header.draws:
        file, line = _draws_written(sc)
        raise ScenarioError([Problem(file, line, "scenario.draws", message)])
    raise UsageError(f"{draws_from or 'draws'} {draws}: {message}")


def _draws_written(sc: Scenario) -> tuple[str, int | None]:
    """The file (and line) of the chain that sets ``scenario.draws``."""
    from .yamlio import LocDict, parse_yaml, read_text

    for path in reversed(sc.files):
        text, _ = read_text(path, str(path))
        doc, _ = parse_yaml(text or "", str(path))
        header = doc.get("scenario") if isinstance(doc, LocDict) else None
        if isinstance(header, LocDict) and "draws" in header:
            return str(path), header.locs["draws"].line
    return str(sc.path), None


__all__ = ["appraise", "appraise_options", "check_draws", "check_finite", "monte_carlo_design", "project"]
