"""The projection: parameter arrays -> population -> caseloads -> staff.

:func:`project_arrays` strings the demand and workforce functions together
for one set of parameter arrays; everything it returns keeps the leading
draws axis, so a Monte Carlo run is the same call on arrays of ``N`` rows.
The appraisal (:mod:`wcf_model.appraisal`) calls it once per distinct set of
demand inputs; back-testing and the council generator call
:func:`project_parameters`, which needs no scenario file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .demand import Caseloads, Stock, project_caseloads, project_population
from .errors import ScenarioError, Problem
from .formats import RANGE
from .inputs import sample_parameters
from .schema import Parameter
from .formats import financial_year_start
from .workforce import Staffing, project_workforce

#: Percentiles reported for bands [percent].
BAND_PERCENTILES = (RANGE[0], 50, RANGE[1])  # the report's range (formats.RANGE) and the median


@dataclass(frozen=True)
class Projection:
    """Caseloads and workforce over the financial years, for every draw.

    Attributes
    ----------
    years : list of str
        Financial years, e.g. ``["2019-20", ...]``.
    draws : int
        Number of draws (1 for a central run).
    caseloads : Caseloads
    workforce : dict
        Role -> :class:`~wcf_model.workforce.Staffing`.
    """

    years: list[str]
    draws: int
    caseloads: Caseloads
    workforce: dict[str, Staffing]

    def measures(self) -> dict[str, np.ndarray]:
        """Headline measures by name, each ``(draws, years)``.

        Stocks are at the close of each financial year (31 March); flows are
        totals over the year; staff are FTE in post (permanent + agency).
        """
        c = self.caseloads
        out: dict[str, np.ndarray] = {"population_0_17": c.population}
        for name in ("referrals", "rereferrals", "early_help"):
            if getattr(c, name) is not None:
                out[name] = getattr(c, name)
        for name, s in c.stocks().items():
            out[f"{name}_closing"] = s.closing
            out[f"{name}_starts"] = s.starts
            out[f"{name}_exits"] = s.exits
        for role, s in self.workforce.items():
            out[f"{role}_in_post_fte"] = s.permanent + s.agency
            out[f"{role}_agency_fte"] = s.agency
            out[f"{role}_posts_fte"] = s.posts
        return out

    def bands(self, percentiles: tuple[int, ...] = BAND_PERCENTILES) -> pd.DataFrame:
        """Tidy table: measure, year, mean and the given percentiles across draws."""
        rows = []
        for name, values in self.measures().items():
            pct = np.percentile(values, percentiles, axis=0)
            mean = values.mean(axis=0)
            for t, year in enumerate(self.years):
                row = {"measure": name, "year": year, "mean": mean[t]}
                row.update({f"p{q}": pct[i, t] for i, q in enumerate(percentiles)})
                rows.append(row)
        return pd.DataFrame(rows)


def population_given(param: Parameter, years: list[str]) -> np.ndarray:
    """Which projection years have a population figure of their own [bool, (years,)].

    A single ``value`` counts as the first year's figure; later years grow. When
    the first year has no figure but an earlier year has (the latest ONS estimate
    is usually a year or two old), the first year counts as given once grown
    from that figure: see :func:`population_lead`.
    """
    if param.values is None:
        return np.arange(len(years)) == 0
    given = np.array([y in param.values for y in years]) | (np.array(years) < min(param.values))
    if population_lead(param, years):
        given[0] = True
    return given


def population_lead(param: Parameter, years: list[str]) -> int:
    """Years from the last population figure before the first projection year to that year.

    0 when the first year has a figure of its own (or the figure is a single
    ``value``). Otherwise the first year's population is that earlier figure
    grown at ``population.growth_rate`` for this many years: a case appraised
    from 2026-27 with the mid-2024 estimate as its latest grows it for two.
    """
    if param.values is None or years[0] in param.values:
        return 0
    earlier = [y for y in param.values if y < years[0]]
    if not earlier:
        return 0
    return financial_year_start(years[0]) - financial_year_start(max(earlier))


def project_arrays(p: Mapping[str, np.ndarray], population_known: np.ndarray, years: list[str],
                   population_lead: int = 0, caseloads: Caseloads | None = None) -> Projection:
    """Project caseloads and workforce from parameter arrays ``(draws, years)``.

    ``population_known`` marks the years with a population figure of their own
    (see :func:`population_given`); later years grow at ``population.growth_rate``.
    ``population_lead`` is the years between the latest figure before the first
    year and the first year (:func:`population_lead`), grown at the first year's rate.
    ``caseloads``, when given, are the caseloads these parameters project (an
    option whose effects change only its staffing shares its baseline's): only
    the workforce is projected from ``p``.
    """
    if caseloads is None:
        caseloads = project_population_and_caseloads(p, population_known, population_lead)
    return Projection(years, caseloads.population.shape[0], caseloads, project_workforce(caseloads, p))


def project_population_and_caseloads(p: Mapping[str, np.ndarray], population_known: np.ndarray,
                                     population_lead: int = 0) -> Caseloads:
    """The population and caseloads of :func:`project_arrays`, without the workforce."""
    path = p["population.age_0_17"]
    growth = p.get("population.growth_rate", np.zeros_like(path))
    if population_lead:
        path = path.copy()
        path[:, 0] = path[:, 0] * (1 + growth[:, 0]) ** population_lead
    return project_caseloads(p, project_population(path, population_known, growth))


def require_population(parameters: Mapping[str, Parameter], file: str = "") -> None:
    """Refuse a projection without the 0-17 population, which drives every caseload."""
    if "population.age_0_17" not in parameters:
        raise ScenarioError([Problem(file, None, "parameters.population.age_0_17",
                                     "the projection needs the 0-17 population; give it as values by year")])


def project_parameters(parameters: Mapping[str, Parameter], years: list[str], draws: int | None = None,
                       seed: int = 0, file: str = "") -> Projection:
    """Project caseloads and workforce from parameters (no scenario file needed).

    Used by back-testing and the council generator, which calibrate
    parameters from published history instead of reading a scenario.
    """
    require_population(parameters, file)
    p = sample_parameters(parameters, years, draws, seed)
    pop = parameters["population.age_0_17"]
    return project_arrays(p, population_given(pop, years), years, population_lead(pop, years))


__all__ = ["Projection", "Stock", "project_arrays", "project_parameters"]
