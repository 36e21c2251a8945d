"""Back-testing: how well would the model have forecast what was then published?

Fit the model on an authority's published figures up to a year (the forecast
origin), project the following years, and compare with what the DfE later
published, beside three naive forecasts made from the same figures: the last
figure carried flat, a straight line through the last five years, and a damped
trend (:mod:`wcf_model.forecast`). Scrutiny asks how accurate the last forecast
was; :func:`backtest` answers it for one authority and :func:`national_backtest`
for every authority in the data, from several origins (rolling origin).

Years: a projection fitted to ``fit_to`` starts with financial year
``fit_to``-(``fit_to``+1), whose opening stocks are the published 31 March
``fit_to`` figures. Its closing stocks are compared with the published 31 March
``fit_to``+1 figures, its flows with the figures for the year to that date,
and its social workers in post with the following 30 September census.

Errors
------
``pct_error`` is (projected - published) / published x 100; a published 0 has
none, and such years are left out of the MAPE and counted. The mean absolute
scaled error (MASE, Hyndman and Koehler 2006) divides the mean absolute error
by the mean absolute one-year change of the published series up to the origin
(the naive forecast's in-sample error), so a small authority's counts are
judged on their own scale and a 0 does no harm; it is undefined for a series
that never changed, or has fewer than two years, up to the origin. Years whose
figure was not published (suppressed, or the authority not yet or no longer in
existence) are not scored, and every measure says which years it covers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import forecast as fc
from .authorities import ESTIMATED, history, register
from .calibrate import Estimate, calibrate, missing
from .catalogue import parameter_specs
from .data import load_authority, load_frame
from .errors import DataError, UsageError
from .formats import RANGE, financial_year_label, range_columns, range_label
from .measures import BACKTESTED, MEASURES, PUBLISHED
from .projection import project_parameters
from .outputs import strict_json
from .schema import Parameter
from .tidy import ENGLAND, normalise_la_code, region_rows

#: The columns of the projection's band (the report's range, formats.RANGE): ``p10`` and ``p90``.
LOW, HIGH = range_columns()

#: Published measure -> (projected measure, how the years line up), for the measures
#: the back-test scores: the map monitoring reads too (:data:`wcf_model.measures.PUBLISHED`).
#: "stock": 31 March Y vs closing of FY (Y-1)-Y; "flow": the year to 31 March Y;
#: "census": 30 September Y vs FY Y-(Y+1).
COMPARED = {PUBLISHED[m]: (m, MEASURES[m].kind) for m in BACKTESTED}

#: The naive forecasts the model is compared with, by column name.
BASELINES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "flat": fc.flat_forecast,
    "linear": fc.linear_forecast,
    "damped": fc.damped_trend_forecast,
}

#: Forecasts scored: the model and the baselines.
FORECASTS = ("model", *BASELINES)

#: Draws of the Monte Carlo that gives the 10th-90th percentile band.
DRAWS = 500

#: Seed of those draws (a back-test is reproducible).
SEED = 20190401

#: The origins and horizon of the national back-test the issue of record set.
ORIGINS = (2016, 2017, 2018, 2019)


def _parameters(estimates: dict[str, Estimate]) -> dict[str, Parameter]:
    specs = parameter_specs()
    return {name: Parameter(name, e.value, e.values, e.unit, specs[name].description,
                            source="calibrated from published DfE statistics", confidence=1,
                            distribution=e.distribution, note=e.method) for name, e in estimates.items()}


def _published(la: pd.DataFrame) -> dict[str, pd.Series]:
    """The authority's published figures by measure, each a series by year (NaN where not published)."""
    out = {}
    for measure, rows in la.groupby("measure", sort=False):
        out[measure] = pd.Series(rows["value"].to_numpy(dtype=float),
                                 index=rows["year"].to_numpy(dtype="int64")).sort_index()
    return out


def score(table: pd.DataFrame, scales: dict[str, float]) -> pd.DataFrame:
    """MAPE, MASE and coverage by measure from a back-test table.

    Parameters
    ----------
    table : DataFrame
        Rows ``measure, year, actual`` and one column per forecast in
        :data:`FORECASTS` present (NaN where a forecast has no value), ``p10``
        and ``p90`` where the projection has a band. Only years with a
        published figure.
    scales : dict
        Measure -> :func:`wcf_model.forecast.naive_scale` up to the origin.

    Returns
    -------
    DataFrame
        One row per measure: ``years`` scored, ``zero_years`` (published 0:
        no percentage error), ``mape_<forecast>`` [percent], ``mase_<forecast>``,
        ``covered`` (years inside the band) and ``banded`` (years with a band).
    """
    rows = []
    measures = table["measure"].to_numpy()
    actual_all = table["actual"].to_numpy(dtype=float)
    years_all = table["year"].to_numpy()
    present = [f for f in FORECASTS if f in table]
    columns = {f: table[f].to_numpy(dtype=float) for f in present}
    band = set(range_columns()) <= set(table)
    for measure in dict.fromkeys(measures):
        here = measures == measure
        actual, years = actual_all[here], years_all[here]
        nonzero = actual != 0
        row = {"measure": measure, "years": int(here.sum()), "first_year": int(years.min()),
               "last_year": int(years.max()), "zero_years": int((~nonzero).sum())}
        scale = scales.get(measure, np.nan)
        for f in present:
            forecast = columns[f][here]
            if np.isnan(forecast).all():
                continue
            err = np.abs(forecast - actual)
            row[f"mape_{f}"] = float(np.mean(err[nonzero] / np.abs(actual[nonzero])) * 100) if nonzero.any() else np.nan
            row[f"mase_{f}"] = float(err.mean() / scale) if np.isfinite(scale) and scale > 0 else np.nan
        if band:
            low, high = (table[name].to_numpy(dtype=float)[here] for name in range_columns())
            has = ~np.isnan(low)
            if has.any():
                inside = (actual >= low) & (actual <= high)
                row["covered"], row["banded"] = int(inside[has].sum()), int(has.sum())
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Backtest:
    """A back-test of one authority.

    Attributes
    ----------
    table : DataFrame
        One row per measure and published year after the origin: ``measure``,
        ``year``, ``horizon`` [years after the origin], ``projected`` (central),
        ``p10`` and ``p90`` (the projection's band), ``actual``, ``error``
        (projected - actual), ``pct_error`` (error / actual x 100; NaN for a
        published 0) and the naive forecasts ``flat``, ``linear``, ``damped``.
    mape : Series
        Mean absolute percentage error by measure [percent], over the years
        ``scores`` names (published zeros left out and counted).
    scores : DataFrame
        :func:`score` of the table: years covered, MAPE and MASE of the model
        and each naive forecast, band coverage.
    excluded : DataFrame
        Measure, year and reason for each year after the origin that is not
        scored (not published, or no projection of it).
    history : DataFrame
        ``measure, year, value``: the published figures of the five years up
        to the origin, what the forecast started from (for charts).
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
    scores: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    history: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    method: str = "pooled"
    pooling: str = ""
    draws: int = 0

    @property
    def mase(self) -> pd.Series:
        """Mean absolute scaled error of the model by measure."""
        if self.scores.empty or "mase_model" not in self.scores:
            return pd.Series(dtype=float, name="mase")
        return self.scores.set_index("measure")["mase_model"].rename("mase")

    def to_dict(self) -> dict:
        """Plain data for ``--json``: figures rounded to 0.01 (MASE to 0.001), NaN as null."""
        def clean(v, places=2):
            return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else round(float(v), places)
        scores = {}
        for r in self.scores.to_dict("records"):
            years = self.table.loc[self.table["measure"] == r["measure"], "year"].astype(int).tolist()
            entry = {"years": years, "zero_years_left_out_of_mape": r["zero_years"]}
            for f in FORECASTS:
                if f"mase_{f}" in r:
                    entry[f"mape_percent_{f}"] = clean(r[f"mape_{f}"])
                    entry[f"mase_{f}"] = clean(r[f"mase_{f}"], 3)
            if "banded" in r and r["banded"] == r["banded"]:
                entry["band_covered_years"] = int(r["covered"])
            scores[r["measure"]] = entry
        return {
            "la_code": self.la_code, "la_name": self.la_name, "fit_to": self.fit_to, "window": self.window,
            "method": self.method, "pooling": self.pooling, "draws": self.draws,
            "compared_years": ({"from": int(self.table["year"].min()), "to": int(self.table["year"].max())}
                               if len(self.table) else None),
            "mape_percent": {m: clean(v) for m, v in self.mape.items()},
            "scores": scores,
            "excluded": [{"measure": r.measure, "year": int(r.year), "reason": r.reason}
                         for r in self.excluded.itertuples()],
            "rows": [{k: (int(v) if k in ("year", "horizon") else v if k == "measure" else clean(v))
                      for k, v in r.items()} for r in self.table.to_dict("records")],
            "not_estimated": self.not_estimated,
            "estimates": {n: {"value": e.value, "values": e.values, "unit": e.unit, "years": list(e.years),
                              "fallback": e.fallback, "method": e.method, "note": e.note,
                              "distribution": e.distribution}
                          for n, e in self.estimates.items() if n != "population.age_0_17"},
        }

    def to_text(self) -> str:
        """A plain-text table for a terminal."""
        lines = [f"Back-test for {self.la_name} (LA {self.la_code}): fitted to {self.fit_to} "
                 f"({'pooled forecast' if self.method == 'pooled' else f'window {self.window} years'}), "
                 f"projected at central values" + (f", band from {self.draws} draws" if self.draws else ""), ""]
        wide = self.table.pivot(index="year", columns="measure", values="pct_error")
        lines.append("Error of the projection [% of the published figure] by year:")
        lines.append(wide.round(1).to_string(na_rep="-"))
        lines += ["", "Mean absolute percentage error (MAPE) and scaled error (MASE; below 1 beats the "
                      "last year's change) by measure, with the naive forecasts:"]
        for r in self.scores.to_dict("records"):
            years = f"{r['first_year']}-{r['last_year']}" if r["years"] else "-"
            parts = [f"{f} {r[f'mape_{f}']:5.1f}% / " + (f"{r[f'mase_{f}']:5.2f}" if np.isfinite(r[f"mase_{f}"])
                                                          else "    -")
                     for f in FORECASTS if f"mape_{f}" in r and np.isfinite(r[f"mape_{f}"])]
            lines.append(f"  {r['measure']:<22} {years:<10} " + "  ".join(parts))
        if len(self.excluded):
            lines += ["", "Not scored:"]
            lines += [f"  {r.measure} {r.year}: {r.reason}" for r in self.excluded.itertuples()]
        if self.not_estimated:
            lines += ["", "Not estimated (no published figures): " + ", ".join(self.not_estimated)]
        return "\n".join(lines)


def _score_authority(la: pd.DataFrame, england: pd.DataFrame, fit_to: int, end: int, window: int, method: str,
                     pooling: fc.Pooling | None, draws: int, measures: Iterable[str] = tuple(COMPARED),
                     region: pd.DataFrame | None = None) -> dict:
    """Calibrate, project and compare one authority; the core of both back-tests."""
    years = [financial_year_label(y) for y in range(fit_to, end + 1)]
    # rate paths for every projected year, so a longer comparison never changes a shorter one
    estimates = calibrate(la, england, fit_to, window, method=method, pooling=pooling, horizon=len(years),
                          region=region)
    if "population.age_0_17" not in estimates:
        raise DataError(f"no 0-17 population up to {fit_to}: cannot project")
    params = _parameters(estimates)
    central = project_parameters(params, years).measures()
    uncertain = any(e.distribution for e in estimates.values())
    banded = project_parameters(params, years, draws=draws, seed=SEED).measures() if uncertain and draws else {}
    rows, excluded, scales, history_rows = [], [], {}, []
    by_measure = _published(la)
    # a reorganised authority's years before it existed are apportioned estimates: fitted on, never scored
    estimated = set(zip(la.loc[la["publication"].str.startswith(ESTIMATED), "measure"],
                        la.loc[la["publication"].str.startswith(ESTIMATED), "year"]))
    for published in measures:
        projected_name, kind = COMPARED[published]
        if published not in by_measure:
            continue
        actual = by_measure[published]
        history = actual[actual.index <= fit_to]
        history_rows += [{"measure": published, "year": int(y), "value": v}
                         for y, v in history[history.index > fit_to - 5].dropna().items()]
        if projected_name not in central:
            excluded += [{"measure": published, "year": y, "reason": "not projected: the parameters it needs "
                          "could not be estimated"} for y in actual.index if fit_to < y <= end]
            continue
        grid = np.arange(int(history.index.min()), fit_to + 1) if len(history) else np.array([fit_to])
        past = history.reindex(grid).to_numpy(dtype=float)[None, :]
        scales[published] = float(fc.naive_scale(past)[0])
        horizon = end - fit_to + (1 if kind == "census" else 0)
        naive = {name: f(past, horizon)[0] for name, f in BASELINES.items()}
        band = np.percentile(banded[projected_name], RANGE, axis=0) if projected_name in banded else None
        for t, fy in enumerate(years):
            year = int(fy[:4]) + (0 if kind == "census" else 1)
            if year <= fit_to or year > end:  # a year the fit could use is no test of the forecast
                continue
            h = year - fit_to
            value = actual.get(year, np.nan)
            if (published, year) in estimated:
                excluded.append({"measure": published, "year": year, "reason": "an estimate apportioned from the "
                                 "authorities it replaced, not a published figure"})
                continue
            if not np.isfinite(value):
                reason = "not in the data" if year not in actual.index else "not published (suppressed or missing)"
                excluded.append({"measure": published, "year": year, "reason": reason})
                continue
            row = {"measure": published, "year": year, "horizon": h, "projected": central[projected_name][0, t],
                   LOW: band[0, t] if band is not None else np.nan,
                   HIGH: band[1, t] if band is not None else np.nan, "actual": value}
            row.update({name: v[h - 1] for name, v in naive.items()})
            rows.append(row)
    columns = ["measure", "year", "horizon", "projected", LOW, HIGH, "actual", *BASELINES]
    table = pd.DataFrame(rows, columns=columns)
    table["error"] = table["projected"] - table["actual"]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["pct_error"] = np.where(table["actual"] != 0, table["error"] / table["actual"] * 100, np.nan)
    table = table[["measure", "year", "horizon", "projected", LOW, HIGH, "actual", "error", "pct_error",
                   *BASELINES]]
    scores = score(table.rename(columns={"projected": "model"}), scales)
    return {"estimates": estimates, "table": table, "scores": scores,
            "excluded": pd.DataFrame(excluded, columns=["measure", "year", "reason"]), "scales": scales,
            "banded": bool(banded), "history": pd.DataFrame(history_rows, columns=["measure", "year", "value"])}


def pooling_for(frame: pd.DataFrame | None, fit_to: int, source: str) -> tuple[fc.Pooling | None, str]:
    """Pooled parameters fitted on ``frame`` when it holds enough authorities, else the shipped ones.

    Returns the pooling and a sentence saying where it came from.
    """
    if frame is not None and frame["la_code"].nunique() - 1 >= fc.MIN_AUTHORITIES:
        panel = fc.Panel.from_frame(frame)
        return fc.fit_pooling(panel, fit_to, source=source), (
            f"shared parameters fitted on the {len(panel.codes)} authorities in {source}, figures up to {fit_to}")
    shipped = fc.shipped_pooling(fit_to)
    if shipped is None:
        return None, f"no pooled parameters for {fit_to}: the windowed means were used"
    return shipped, (f"shared parameters fitted on every English authority's figures up to {shipped.fit_to} "
                     f"(data/{fc.POOLING_FILE})")


def backtest(la_code: int | str, fit_to: int, data_dir: str | Path | None = None, window: int = 3,
             last_year: int | None = None, method: str = "pooled", draws: int = DRAWS,
             pooling: fc.Pooling | None = None) -> Backtest:
    """Fit on published years up to ``fit_to``, project, and compare.

    Parameters
    ----------
    la_code : int or str
        Old (885) or new (E10000034) code of any English authority in the data.
    fit_to : int
        Last published year (31 March, or census year) the fit may use.
    data_dir : str or Path, optional
        Folder with ``dfe_extract.csv.gz`` or of DfE downloads; ``data/`` by default.
    window : int
        Years of history averaged for each windowed rate [years].
    last_year : int, optional
        Last published year to compare with; by default the latest in the data.
    method : {"pooled", "window"}
        The calibration method (:func:`wcf_model.calibrate.calibrate`).
    draws : int
        Monte Carlo draws for the 10th-90th percentile band (0 for none).
    pooling : wcf_model.forecast.Pooling, optional
        Shared parameters; by default fitted on the data when they hold at
        least :data:`wcf_model.forecast.MIN_AUTHORITIES` authorities, else the
        shipped ones.

    Raises
    ------
    DataError
        No published figures after ``fit_to`` to compare with, or none to fit.
    """
    if window < 1:
        raise UsageError("window must be at least one year")
    if draws < 0:
        raise UsageError("draws must be 0 or more")
    frame = load_frame(data_dir)
    # the authority's history with a reorganised authority's predecessors (wcf_model.authorities)
    la, england = load_authority(la_code, frame=frame)
    # reorganised authorities: why a year has no figures, for the messages below
    why = f" ({la.attrs['note']})" if la.attrs.get("note") else ""
    published = la[~la["publication"].str.startswith(ESTIMATED)]  # never scored against an estimate
    later = published[(published["year"] > fit_to) & published["measure"].isin(COMPARED)
                      & published["value"].notna()]
    end = last_year if last_year is not None else (int(later["year"].max()) if len(later) else None)
    if end is None or end <= fit_to:
        raise DataError(f"no published figures after {fit_to} for LA {la_code} to compare with{why}")
    if pooling is None and method == "pooled":
        # the shipped extract is what the shipped parameters were fitted on: use them rather than
        # fitting again; another folder's figures get parameters of their own
        pooling, source = pooling_for(frame if data_dir is not None else None, fit_to, str(data_dir or "data/"))
    else:
        source = "pooled parameters given by the caller" if pooling is not None else ""
    try:
        out = _score_authority(la, england, fit_to, end, window, method, pooling, draws,
                               region=region_rows(frame, la_code))
    except DataError as err:
        raise DataError(f"LA {la_code}: {err}{why}") from None
    scores = out["scores"]
    mape = (scores.set_index("measure")["mape_model"].rename("mape_percent") if len(scores)
            else pd.Series(dtype=float, name="mape_percent"))
    name = la["la_name"].iloc[-1] if len(la) else str(la_code)
    return Backtest(str(la["la_code"].iloc[0]), name, fit_to, window, out["table"], mape, out["estimates"],
                    missing(out["estimates"]), scores, out["excluded"], out["history"], method, source,
                    draws if out["banded"] else 0)


def backtest_json(result: Backtest) -> str:
    """Canonical JSON text of a back-test (sorted keys), for ``--json``."""
    return strict_json(result.to_dict(), sort_keys=True)


# ---------------------------------------------------------------------------
# Every authority, several origins
# ---------------------------------------------------------------------------

#: The headline measures of the national back-test, in the order reported.
HEADLINE = tuple(fc.MEASURES)


@dataclass(frozen=True)
class NationalBacktest:
    """A rolling-origin back-test of every authority in the data.

    Attributes
    ----------
    origins : tuple of int
    horizon : int
        Years scored after each origin [years].
    method : str
    forecasts : DataFrame
        One row per origin, authority, measure and scored year: the model's
        central forecast, its band, the naive forecasts and the published figure.
    scores : DataFrame
        One row per origin, authority and measure: years scored, MAPE and MASE
        of the model and each naive forecast, band coverage.
    unscored : DataFrame
        Origin, authority, measure and the reason for everything that could not
        be scored (nothing is dropped silently).
    """

    origins: tuple[int, ...]
    horizon: int
    method: str
    forecasts: pd.DataFrame
    scores: pd.DataFrame
    unscored: pd.DataFrame
    authorities: int
    source: str

    def summary(self) -> pd.DataFrame:
        """By origin and measure: medians across authorities, share beaten, band coverage.

        ``median_mase_<forecast>`` and ``median_mape_<forecast>`` over the
        authorities with every forecast's MASE defined; ``beats_all`` is the
        share of those where the model's MASE is below all three naive
        forecasts'; ``coverage`` the share of scored authority-years inside the
        10th-90th band.
        """
        s = self.scores.dropna(subset=[f"mase_{f}" for f in FORECASTS])
        rows = []
        for (origin, measure), t in s.groupby(["origin", "measure"], sort=True):
            row = {"origin": origin, "measure": measure, "authorities": len(t)}
            for f in FORECASTS:
                row[f"median_mase_{f}"] = float(t[f"mase_{f}"].median())
            for f in FORECASTS:
                row[f"median_mape_{f}"] = float(t[f"mape_{f}"].median())
            beats = np.logical_and.reduce([t["mase_model"] < t[f"mase_{b}"] for b in BASELINES])
            row["beats_all"] = float(beats.mean())
            row["beats_every_median"] = all(row["median_mase_model"] < row[f"median_mase_{b}"] for b in BASELINES)
            all_rows = self.scores[(self.scores["origin"] == origin) & (self.scores["measure"] == measure)]
            banded = all_rows["banded"].sum() if "banded" in all_rows else 0
            row["coverage"] = float(all_rows["covered"].sum() / banded) if banded else np.nan
            rows.append(row)
        out = pd.DataFrame(rows)
        order = {m: i for i, m in enumerate(HEADLINE)}
        return out.sort_values(["origin", "measure"], key=lambda c: c.map(order) if c.name == "measure" else c
                               ).reset_index(drop=True)

    def coverage(self) -> pd.DataFrame:
        """Band coverage by measure and horizon over every origin [share of authority-years]."""
        f = self.forecasts.dropna(subset=[LOW, HIGH])
        f = f.assign(inside=(f["actual"] >= f[LOW]) & (f["actual"] <= f[HIGH]))
        table = f.pivot_table(index="measure", columns="horizon", values="inside", aggfunc="mean")
        table["all"] = f.groupby("measure")["inside"].mean()
        return table.reindex([m for m in HEADLINE if m in table.index])

    def to_text(self) -> str:
        """The headline table for a terminal."""
        s = self.summary()
        source = f" ({self.source})" if self.source else ""
        lines = [f"Rolling-origin back-test of {self.authorities} authorities{source}; method "
                 f"{self.method}; horizon {self.horizon} years.", "",
                 "Median MASE across authorities (below 1: better than last year's change), share of "
                 f"authorities where the model beats all three naive forecasts, and {range_label('-')} band "
                 "coverage:", "",
                 f"{'origin':<7}{'measure':<17}{'model':>7}{'flat':>7}{'linear':>7}{'damped':>7}"
                 f"{'beats all':>10}{'coverage':>9}{'LAs':>5}"]
        for r in s.to_dict("records"):
            mark = "" if r["beats_every_median"] else "  *"
            coverage = f"{r['coverage']:9.0%}" if np.isfinite(r["coverage"]) else f"{'-':>9}"
            lines.append(f"{r['origin']:<7}{fc.MEASURES[r['measure']][:16]:<17}{r['median_mase_model']:7.3f}"
                         f"{r['median_mase_flat']:7.3f}{r['median_mase_linear']:7.3f}{r['median_mase_damped']:7.3f}"
                         f"{r['beats_all']:10.0%}{coverage}{r['authorities']:5d}{mark}")
        lost = s[~s["beats_every_median"]]
        lines += ["", f"The model's median MASE is below all three naive forecasts in {len(s) - len(lost)} of "
                      f"{len(s)} measure-origins" + (" (* marks the others)." if len(lost) else ".")]
        if len(self.unscored):
            counts = self.unscored.groupby("reason").size().sort_values(ascending=False)
            lines += ["", f"Not scored: {len(self.unscored)} authority-measure-origins (see unscored.csv):"]
            lines += [f"  {n:4d}  {reason}" for reason, n in counts.items()]
        return "\n".join(lines)


# The frame a worker process reads its authorities from (set once per worker).
_WORKER: dict = {}


def _init_worker(frame: pd.DataFrame) -> None:
    _WORKER["frame"] = frame
    _WORKER["england"] = frame[frame["la_code"] == ENGLAND].reset_index(drop=True)
    _WORKER["histories"] = {}
    _WORKER["regions"] = {}


def _history(code: str) -> pd.DataFrame:
    """An authority's rows as the one-authority back-test fits on them (kept for the worker's next origin)."""
    cache = _WORKER["histories"]
    if code not in cache:
        cache[code] = history(_WORKER["frame"], code)
    return cache[code]


def _region(code: str) -> pd.DataFrame:
    """The published rows of the authority's region (:func:`wcf_model.tidy.region_rows`), kept by region."""
    region = _history(code)["region_code"].iloc[0]
    cache = _WORKER["regions"]
    if region not in cache:
        cache[region] = region_rows(_WORKER["frame"], code)
    return cache[region]


def _national_task(codes: list[str], origin: int, horizon: int, window: int, method: str,
                   pooling: fc.Pooling | None, draws: int) -> tuple[list, list, list]:
    """Back-test some authorities from one origin (runs in a worker process)."""
    forecasts, scores, unscored = [], [], []
    england = _WORKER["england"]
    for code in codes:
        # the same history as `backtest --la`: a reorganised authority's predecessors or successors
        # bridge the years it did not exist (fitted on, never scored: wcf_model.authorities)
        la = _history(code)
        name = str(la["la_name"].iloc[-1])

        def skip(measure: str, reason: str) -> None:
            unscored.append({"origin": origin, "la_code": code, "la_name": name, "measure": measure,
                             "reason": reason})

        have = la[la["value"].notna()]
        scoreable = have[~have["publication"].str.startswith(ESTIMATED)]
        measures = []
        for measure in HEADLINE:
            years = set(scoreable.loc[scoreable["measure"] == measure, "year"])
            if any(origin < y <= origin + horizon for y in years):
                measures.append(measure)
            else:
                skip(measure, f"no published figure in the {horizon} years after the origin")
        if not measures:
            continue
        no_start = [m for m in measures if origin not in set(have.loc[have["measure"] == m, "year"])]
        for m in no_start:
            skip(m, "no published figure at the origin to forecast from")
        measures = [m for m in measures if m not in no_start]
        if not measures:
            continue
        try:
            out = _score_authority(la, england, origin, origin + horizon, window, method, pooling, draws, measures,
                                   _region(code))
        except DataError as err:
            for m in measures:
                skip(m, str(err))
            continue
        table = out["table"].assign(origin=origin, la_code=code, la_name=name)
        forecasts.append(table)
        for r in out["scores"].to_dict("records"):
            if not np.isfinite(r.get("mase_model", np.nan)):
                scale = out["scales"].get(r["measure"], np.nan)
                skip(r["measure"], "MASE undefined: the published figures did not change up to the origin"
                     if scale == 0 else "MASE undefined: fewer than two published years up to the origin")
            scores.append({"origin": origin, "la_code": code, "la_name": name, **r})
    return forecasts, scores, unscored


def _progress(total: int, enabled: bool | None):
    """A tqdm bar on a terminal (stderr), silent otherwise."""
    from tqdm import tqdm

    show = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(total=total, desc="back-testing", unit="task", disable=not show, file=sys.stderr)


def national_backtest(frame: pd.DataFrame, origins: Iterable[int] = ORIGINS, horizon: int = fc.HORIZON,
                      method: str = "pooled", window: int = 3, draws: int = DRAWS, jobs: int | None = None,
                      progress: bool | None = None, source: str = "",
                      authorities: Iterable[str] | None = None) -> NationalBacktest:
    """Back-test every authority in ``frame`` from each origin, against the naive forecasts.

    Parameters
    ----------
    frame : DataFrame
        Tidy rows of every authority and England (:func:`wcf_model.data.load_frame`).
    origins : iterable of int
        Forecast origins (last data year each fit may use).
    horizon : int
        Years scored after each origin [years].
    method : {"pooled", "window"}
    draws : int
        Monte Carlo draws for each projection's band (0 for none).
    jobs : int, optional
        Worker processes; by default one per processor. 1 runs in this process.
    progress : bool, optional
        Show a progress bar; by default only when stderr is a terminal.
    authorities : iterable of str, optional
        Old codes of the authorities to score (the shared parameters are still
        fitted on every authority in ``frame``); by default all.

    Returns
    -------
    NationalBacktest
        The same whatever ``jobs`` is (every task is seeded alike).
    """
    origins = tuple(sorted(set(int(o) for o in origins)))
    if not origins:
        raise UsageError("give at least one origin")
    if horizon < 1:
        raise UsageError(f"horizon must be at least 1 year, got {horizon}")
    # every authority (a joint workforce return is not one: wcf_model.authorities.register)
    everyone = sorted(register(frame)["la_code"])
    codes = everyone if authorities is None else sorted({normalise_la_code(c) for c in authorities} - {ENGLAND})
    for code in codes:
        if "/" in code:
            history(frame, code)  # raises, naming the authorities whose joint return it is
    unknown = sorted(set(codes) - set(everyone))
    if unknown:
        raise DataError(f"no rows for la_code {', '.join(unknown)} in the data")
    if not codes:
        raise DataError("the data hold no local authority, only England")
    poolings = {}
    for o in origins:
        if method == "pooled":
            if len(everyone) < fc.MIN_AUTHORITIES:
                raise DataError(f"the data hold {len(everyone)} authorities; the pooled method needs at least "
                                f"{fc.MIN_AUTHORITIES} (give --data a folder of DfE downloads for every authority)")
            poolings[o] = fc.fit_pooling(fc.Panel.from_frame(frame), o, source=source)
        else:
            poolings[o] = None
    jobs = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    size = max(1, len(codes) // (4 * jobs))
    chunks = [codes[i:i + size] for i in range(0, len(codes), size)]
    tasks = [(chunk, o, horizon, window, method, poolings[o], draws) for o in origins for chunk in chunks]
    results = []
    with _progress(len(tasks), progress) as bar:
        if jobs == 1:
            _init_worker(frame)
            for t in tasks:
                results.append(_national_task(*t))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(frame,)) as pool:
                for r in pool.map(_national_task, *zip(*tasks)):
                    results.append(r)
                    bar.update()
    forecasts = [t for r in results for t in r[0]]
    cols = ["origin", "la_code", "la_name", "measure", "year", "horizon", "actual", "projected", LOW, HIGH,
            *BASELINES]
    forecast_table = (pd.concat(forecasts, ignore_index=True)[cols] if forecasts else pd.DataFrame(columns=cols))
    scores = pd.DataFrame([s for r in results for s in r[1]])
    unscored = pd.DataFrame([u for r in results for u in r[2]],
                            columns=["origin", "la_code", "la_name", "measure", "reason"])
    return NationalBacktest(origins, horizon, method, forecast_table, scores, unscored, len(codes), source)
