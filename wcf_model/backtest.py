"""Back-testing: how well would the model have forecast what was then published?

Fit the model on an authority's published figures up to a year, project the
following years at central values, and compare with what the DfE later
published. Scrutiny asks how accurate the last forecast was; this answers it
for any English authority in the DfE files.

Years: a projection fitted to ``fit_to`` starts with financial year
``fit_to``-(``fit_to``+1), whose opening stocks are the published 31 March
``fit_to`` figures. Its closing stocks are compared with the published 31 March
``fit_to``+1 figures, its flows with the figures for the year to that date,
and its social workers in post with the following 30 September census.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .calibrate import Estimate, calibrate, missing
from .catalogue import parameter_specs
from .data import load_authority, series
from .errors import DataError, UsageError
from .model import project_parameters
from .scenario import Parameter
from .schema import financial_year_label

#: Published measure -> (projected measure, how the years line up).
#: "stock": 31 March Y vs closing of FY (Y-1)-Y; "flow": the year to 31 March Y;
#: "census": 30 September Y vs FY Y-(Y+1).
COMPARED = {
    "referrals": ("referrals", "flow"),
    "cin_at_31_march": ("cin_closing", "stock"),
    "cpp_at_31_march": ("cpp_closing", "stock"),
    "cla_at_31_march": ("cla_closing", "stock"),
    "cla_starts": ("cla_starts", "flow"),
    "cla_ceased": ("cla_exits", "flow"),
    "ehcp_total": ("ehcp_closing", "stock"),
    "sw_case_holders_fte": ("social_worker_in_post_fte", "census"),
}


@dataclass(frozen=True)
class Backtest:
    """A back-test of one authority.

    Attributes
    ----------
    table : DataFrame
        One row per measure and year: ``measure``, ``year`` (the published
        year), ``projected``, ``actual``, ``error`` (projected - actual) and
        ``pct_error`` (error / actual x 100).
    mape : Series
        Mean absolute percentage error by measure [percent].
    estimates : dict
        The calibrated parameters the projection used.
    not_estimated : list of str
        Parameters no published figure could give (their parts of the model
        are left out, not set to zero).
    """

    la_code: str
    la_name: str
    fit_to: int
    window: int
    table: pd.DataFrame
    mape: pd.Series
    estimates: dict[str, Estimate] = field(repr=False)
    not_estimated: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain data for ``--json``: figures rounded to 0.01, NaN and infinity as null (strict JSON)."""
        def clean(v):
            return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else round(float(v), 2)
        return {
            "la_code": self.la_code, "la_name": self.la_name, "fit_to": self.fit_to, "window": self.window,
            "mape_percent": {m: clean(v) for m, v in self.mape.items()},
            "rows": [{"measure": r.measure, "year": int(r.year), "projected": clean(r.projected),
                      "actual": clean(r.actual), "error": clean(r.error), "pct_error": clean(r.pct_error)}
                     for r in self.table.itertuples()],
            "not_estimated": self.not_estimated,
            "estimates": {n: {"value": e.value, "unit": e.unit, "years": list(e.years),
                              "fallback": e.fallback, "method": e.method, "note": e.note}
                          for n, e in self.estimates.items() if e.values is None},
        }

    def to_text(self) -> str:
        """A plain-text table for a terminal."""
        lines = [f"Back-test for {self.la_name} (LA {self.la_code}): fitted to {self.fit_to} "
                 f"(window {self.window} years), projected at central values", ""]
        wide = self.table.pivot(index="year", columns="measure", values="pct_error")
        lines.append("Error of the projection [% of the published figure] by year:")
        lines.append(wide.round(1).to_string(na_rep="-"))
        lines += ["", "Mean absolute percentage error by measure:"]
        lines += [f"  {m:<22} {v:6.1f}%" for m, v in self.mape.items()]
        if self.not_estimated:
            lines += ["", "Not estimated (no published figures): " + ", ".join(self.not_estimated)]
        return "\n".join(lines)


def _parameters(estimates: dict[str, Estimate]) -> dict[str, Parameter]:
    specs = parameter_specs()
    return {name: Parameter(name, e.value, e.values, e.unit, specs[name].description,
                            source="calibrated from published DfE statistics", confidence=1,
                            note=e.method) for name, e in estimates.items()}


def backtest(la_code: int | str, fit_to: int, data_dir: str | Path | None = None, window: int = 3,
             last_year: int | None = None) -> Backtest:
    """Fit on published years up to ``fit_to``, project, and compare.

    Parameters
    ----------
    la_code : int or str
        Old (885) or new (E10000034) code of any English authority in the data.
    fit_to : int
        Last published year (31 March, or census year) the fit may use.
    data_dir : str or Path, optional
        Folder with ``dfe_extract.csv`` or of DfE downloads; ``data/`` by default.
    window : int
        Years of history averaged for each rate [years].
    last_year : int, optional
        Last published year to compare with; by default the latest in the data.

    Raises
    ------
    DataError
        No published figures after ``fit_to`` to compare with, or none to fit.
    """
    if window < 1:
        raise UsageError("window must be at least one year")
    la, england = load_authority(la_code, data_dir)
    estimates = calibrate(la, england, fit_to, window)
    if "population.age_0_17" not in estimates:
        raise DataError(f"no 0-17 population for LA {la_code} up to {fit_to}: cannot project")
    later = la[(la["year"] > fit_to) & la["measure"].isin(COMPARED) & la["value"].notna()]
    end = last_year if last_year is not None else (int(later["year"].max()) if len(later) else None)
    if end is None or end <= fit_to:
        raise DataError(f"no published figures after {fit_to} for LA {la_code} to compare with")
    years = [financial_year_label(y) for y in range(fit_to, end + 1)]
    projection = project_parameters(_parameters(estimates), years)
    measures = projection.measures()
    rows = []
    for published, (projected_name, kind) in COMPARED.items():
        if projected_name not in measures or published not in set(la["measure"]):
            continue
        actual = series(la, published)
        values = measures[projected_name][0]
        for t, fy in enumerate(years):
            year = int(fy[:4]) + (0 if kind == "census" else 1)
            # a year the fit could use is no test of the forecast
            if year <= fit_to or year > end or year not in actual.index:
                continue
            rows.append({"measure": published, "year": year, "projected": values[t],
                         "actual": actual[year]})
    table = pd.DataFrame(rows, columns=["measure", "year", "projected", "actual"])
    table["error"] = table["projected"] - table["actual"]
    table["pct_error"] = table["error"] / table["actual"] * 100
    mape = table.dropna(subset=["pct_error"]).groupby("measure", sort=False)["pct_error"].apply(
        lambda e: e.abs().mean()).rename("mape_percent")
    name = la["la_name"].iloc[0] if len(la) else str(la_code)
    return Backtest(str(la["la_code"].iloc[0]), name, fit_to, window, table, mape, estimates,
                    missing(estimates))


def backtest_json(result: Backtest) -> str:
    """Canonical JSON text of a back-test (sorted keys), for ``--json``."""
    return json.dumps(result.to_dict(), indent=2, sort_keys=True, allow_nan=False)
