"""Forecasting published caseload series: the method, the naive baselines, the error measures.

The projection's headline caseloads (referrals, children in need, child
protection plans and children looked after) are forecast here, one series per
authority, and :mod:`wcf_model.calibrate` turns the forecasts into the rate
paths the stock-flow model runs on. Every function is pure, over arrays whose
rows are authorities and whose columns are data years (NaN where nothing was
published), so all authorities are forecast at once.

The method (chosen on the rolling-origin back-test, see ``docs/forecasting.md``)
------------------------------------------------------------------------------
An equal-weight combination of three forecasts, as the forecasting
competitions favour (Makridakis, Spiliotis and Assimakopoulos 2020, "The M4
Competition"; equal weights are hard to beat: Smith and Wallis 2009):

1. **Damped-trend smoothing, pooled** (Gardner and McKenzie 1985) of the log of
   each series. The smoothing, trend and damping parameters are shared by all
   authorities and chosen to minimise the authorities' in-sample forecast
   errors at horizons 1 to ``horizon``, each horizon weighing alike as in the
   back-test, so a small authority's noisy history does not set its own
   parameters ("cross-learning").
2. **Partial pooling towards England or the authority's region.** Each year an
   authority's rate per child moves, relative to a reference rate, by
   ``c + a x gap + b x change``, where ``gap`` is how far (in logs) its rate
   stands from the reference and ``change`` is its own last movement relative
   to the reference's. ``c``, ``a`` and ``b`` are estimated by least squares
   over every authority and year up to the forecast origin; the reference is
   held at its last value. The reference is England's rate, or the rate of
   the authority's region (the other authorities of its region taken
   together: their counts over their children), whichever gave the method the smaller
   errors from earlier origins up to this one, judged the same way as the
   error band (:func:`fit_pooling`).
3. **The last published figure** (the naive forecast).

Nothing after the forecast origin is used by any part (a back-test relies on
it). Counts are taken as ``log(1 + count)`` so a published 0 stays finite.

Baselines and errors
--------------------
``flat_forecast`` (last value carried forward), ``linear_forecast`` (least
squares line through the last five years) and ``damped_trend_forecast``
(Gardner and McKenzie's damped trend fitted to each series on its own) are the
naive forecasts the method must beat. ``naive_scale`` is the denominator of
the mean absolute scaled error (Hyndman and Koehler 2006): the mean absolute
one-year change of the series up to the origin.

References
----------
Gardner, E. S. and McKenzie, E. (1985). Forecasting trends in time series.
Management Science 31(10), 1237-1246.
Hyndman, R. J. and Koehler, A. B. (2006). Another look at measures of forecast
accuracy. International Journal of Forecasting 22(4), 679-688.
Makridakis, S., Spiliotis, E. and Assimakopoulos, V. (2020). The M4
Competition: 100,000 time series and 61 forecasting methods. International
Journal of Forecasting 36(1), 54-74.
Smith, J. and Wallis, K. F. (2009). A simple explanation of the forecast
combination puzzle. Oxford Bulletin of Economics and Statistics 71(3), 331-355.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from .data import DEFAULT_DATA_DIR
from .tidy import ENGLAND
from .errors import DataError
from .formats import RANGE
from .outputs import strict_json

#: Published measures the method forecasts: measure -> words.
MEASURES: dict[str, str] = {
    "referrals": "referrals",
    "cin_at_31_march": "children in need",
    "cpp_at_31_march": "child protection plans",
    "cla_at_31_march": "children looked after",
}

POPULATION = "population_0_17"

#: Forecast horizon the pooled parameters and error bands are fitted for [years].
HORIZON = 5

#: Years of history the straight-line baseline is fitted to [years].
LINEAR_FIT_YEARS = 5

#: The grid the pooled smoothing parameters are chosen from: smoothing of the
#: level (alpha, in steps of 0.05: steps of 0.1 could not tell referrals' 0.75
#: from 0.7 or 0.8), of the trend (beta) and damping (phi). Gardner and McKenzie
#: (1985) use phi below 1; the lower end 0.5 lets the data choose a trend that
#: dies away within a few years.
ALPHAS = tuple(round(0.05 * k, 2) for k in range(1, 21))
BETAS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
PHIS = (0.5, 0.7, 0.8, 0.9, 0.98)

#: The grid the damped-trend baseline fits to each series alone (least squares
#: one-year errors): alpha and beta in steps of 0.1, phi in the range Hyndman's
#: forecast package allows.
BASELINE_ALPHAS = tuple(round(0.1 * k, 1) for k in range(1, 11))
BASELINE_PHIS = (0.8, 0.85, 0.9, 0.95, 0.98)

#: Percentiles of the scaled forecast errors kept for the uncertainty bands: the report's range (formats.RANGE).
BAND = RANGE

#: The fewest authorities whose figures a pooled fit needs (below this the
#: between-authority parameters cannot be estimated with any confidence).
MIN_AUTHORITIES = 30

#: The pooled parameters shipped for authorities whose data come alone.
POOLING_FILE = "forecast_pooling.json"


# ---------------------------------------------------------------------------
# Small array helpers
# ---------------------------------------------------------------------------


def log_count(y: np.ndarray) -> np.ndarray:
    """``log(1 + y)``: counts in logs, with a published 0 kept finite."""
    return np.log1p(np.asarray(y, dtype=float))


def last_value(y: np.ndarray) -> np.ndarray:
    """The last finite value of each row [the series' unit], NaN for an empty row."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    finite = np.isfinite(y)
    idx = np.where(finite, np.arange(y.shape[1]), -1).max(axis=1)
    out = y[np.arange(len(y)), np.maximum(idx, 0)]
    return np.where(idx >= 0, out, np.nan)


def naive_scale(y: np.ndarray) -> np.ndarray:
    """Mean absolute one-year change of each row, over years with both figures.

    The scale of the mean absolute scaled error (Hyndman and Koehler 2006):
    the in-sample error of the naive one-step forecast. NaN with fewer than two
    consecutive figures; 0 for a series that never changed (MASE undefined).
    """
    y = np.atleast_2d(np.asarray(y, dtype=float))
    with np.errstate(invalid="ignore"):
        diffs = np.abs(np.diff(y, axis=1))
    n = np.isfinite(diffs).sum(axis=1)
    total = np.nansum(diffs, axis=1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def population_path(population: np.ndarray, horizon: int, growth_window: int = 3) -> np.ndarray:
    """The 0-17 population divided into each forecast year's flows [children].

    A figure for data year Y is divided by the mid-(Y-1) population (as the
    model and the DfE's rates do). So for the years after the origin the path
    starts with the last estimate (mid-origin) and grows by the mean of the
    last ``growth_window`` yearly growth rates, as :mod:`wcf_model.calibrate`
    does.

    Parameters
    ----------
    population : ndarray, shape (rows, years)
        Mid-year estimates up to the origin [children].
    horizon : int
        Years to forecast.

    Returns
    -------
    ndarray, shape (rows, horizon)
    """
    pop = np.atleast_2d(np.asarray(population, dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        growth = pop[:, 1:] / pop[:, :-1] - 1
    recent = growth[:, -growth_window:]
    known = np.isfinite(recent)
    g = np.where(known, recent, 0.0).sum(axis=1) / np.maximum(known.sum(axis=1), 1)
    return last_value(pop)[:, None] * (1 + g[:, None]) ** np.arange(horizon)[None, :]


def per_child(y: np.ndarray, population: np.ndarray) -> np.ndarray:
    """``log((1 + y) / population at mid-(Y-1))`` for each data year Y (NaN in the first year)."""
    pop = np.atleast_2d(np.asarray(population, dtype=float))
    lagged = np.concatenate([np.full((len(pop), 1), np.nan), pop[:, :-1]], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return log_count(y) - np.log(lagged)


# ---------------------------------------------------------------------------
# Baselines
# ---------------------------------------------------------------------------


def flat_forecast(y: np.ndarray, horizon: int) -> np.ndarray:
    """The last published figure carried forward, shape ``(rows, horizon)``."""
    return np.repeat(last_value(y)[:, None], horizon, axis=1)


def linear_forecast(y: np.ndarray, horizon: int, fit_years: int = LINEAR_FIT_YEARS) -> np.ndarray:
    """A least-squares straight line through the last ``fit_years`` columns, extended.

    Rows with one figure in the window are carried flat; rows with none are NaN.
    """
    y = np.atleast_2d(np.asarray(y, dtype=float))[:, -fit_years:]
    x = np.arange(y.shape[1], dtype=float)[None, :]
    w = np.isfinite(y)
    n = w.sum(axis=1)
    xm = np.where(w, x, 0).sum(axis=1) / np.maximum(n, 1)
    ym = np.where(w, y, 0).sum(axis=1) / np.maximum(n, 1)
    sxx = np.where(w, (x - xm[:, None]) ** 2, 0).sum(axis=1)
    sxy = np.where(w, (x - xm[:, None]) * (np.nan_to_num(y) - ym[:, None]), 0).sum(axis=1)
    slope = np.where(sxx > 0, sxy / np.where(sxx > 0, sxx, 1), 0.0)
    ahead = y.shape[1] - 1 + np.arange(1, horizon + 1)[None, :]
    out = ym[:, None] + slope[:, None] * (ahead - xm[:, None])
    return np.where(n[:, None] > 0, out, np.nan)


def holt_damped(y: np.ndarray, alpha, beta, phi, initial_trend: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Damped-trend exponential smoothing (Gardner and McKenzie 1985), filtered.

    ``level_t = alpha y_t + (1 - alpha)(level_{t-1} + phi trend_{t-1})`` and
    ``trend_t = beta (level_t - level_{t-1}) + (1 - beta) phi trend_{t-1}``;
    a missing year carries the forecast. Each row starts at its first figure
    with ``initial_trend`` (0 by default).

    Parameters
    ----------
    y : ndarray, shape (rows, years)
    alpha, beta, phi : float or ndarray broadcastable to ``(grid, 1)``
        Several parameter sets at once give a leading grid axis.
    initial_trend : ndarray, shape (rows,), optional

    Returns
    -------
    level, trend : ndarray, shape (grid, rows, years)
        The states after each year (NaN before a row's first figure).
    """
    y = np.atleast_2d(np.asarray(y, dtype=float))
    alpha, beta, phi = (np.reshape(np.asarray(v, dtype=float), (-1, 1)) for v in (alpha, beta, phi))
    grid = max(len(alpha), len(beta), len(phi))
    rows, years = y.shape
    b0 = np.zeros(rows) if initial_trend is None else np.nan_to_num(np.asarray(initial_trend, dtype=float))
    levels = np.full((grid, rows, years), np.nan)
    trends = np.full((grid, rows, years), np.nan)
    level = np.full((grid, rows), np.nan)
    trend = np.zeros((grid, rows))
    for t in range(years):
        obs = y[:, t]
        has = np.isfinite(obs)[None, :]
        start = np.isnan(level) & has
        ahead = level + phi * trend
        new_level = np.where(start, obs, np.where(has, alpha * obs + (1 - alpha) * ahead, ahead))
        new_trend = np.where(start, b0, np.where(has, beta * (new_level - level) + (1 - beta) * phi * trend,
                                                 phi * trend))
        level, trend = new_level, np.where(np.isnan(new_level), 0.0, new_trend)
        levels[:, :, t], trends[:, :, t] = level, np.where(np.isnan(level), np.nan, trend)
    return levels, trends


def damping_sums(phi, horizon: int) -> np.ndarray:
    """``phi + phi^2 + ... + phi^h`` for h = 1..horizon, shape ``(grid, horizon)``."""
    phi = np.reshape(np.asarray(phi, dtype=float), (-1, 1))
    return np.cumsum(phi ** np.arange(1, horizon + 1)[None, :], axis=1)


def _insample_errors(y: np.ndarray, levels: np.ndarray, trends: np.ndarray, phi, horizon: int) -> np.ndarray:
    """Errors ``y[t + h] - forecast made at t``, shape ``(grid, horizon, rows, years)`` (NaN where none)."""
    sums = damping_sums(phi, horizon)
    grid, rows, years = levels.shape
    out = np.full((grid, horizon, rows, years), np.nan)
    for h in range(1, horizon + 1):
        if h >= years:
            break
        made = levels[:, :, :-h] + sums[:, h - 1][:, None, None] * trends[:, :, :-h]
        out[:, h - 1, :, h:] = y[None, :, h:] - made
    return out


def damped_trend_forecast(y: np.ndarray, horizon: int) -> np.ndarray:
    """Damped-trend baseline: each series fitted on its own.

    Parameters (alpha, beta, phi) minimise each row's sum of squared one-year
    in-sample errors over a grid (phi from 0.8 to 0.98); the level starts at the
    first figure and the trend at the first change, the usual simple start.
    Rows with one figure are carried flat.
    """
    y = np.atleast_2d(np.asarray(y, dtype=float))
    grid = np.array([(a, b, p) for a in BASELINE_ALPHAS for b in BASELINE_ALPHAS if b <= a for p in BASELINE_PHIS])
    first_two = np.full((len(y), 2), np.nan)
    for i, row in enumerate(y):
        fin = row[np.isfinite(row)]
        first_two[i, : min(2, len(fin))] = fin[:2]
    b0 = np.nan_to_num(first_two[:, 1] - first_two[:, 0])
    levels, trends = holt_damped(y, grid[:, 0], grid[:, 1], grid[:, 2], initial_trend=b0)
    errors = _insample_errors(y, levels, trends, grid[:, 2], 1)[:, 0]
    # The first update after the start uses the first change itself; it is no test.
    sse = np.nansum(errors ** 2, axis=2)
    best = np.argmin(sse, axis=0)
    rows = np.arange(len(y))
    level = last_value(levels[best, rows])
    trend = last_value(trends[best, rows])
    sums = damping_sums(grid[best, 2], horizon)
    return level[:, None] + sums * trend[:, None]


# ---------------------------------------------------------------------------
# The method's three members
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Smoothing:
    """Pooled damped-trend parameters: level ``alpha``, trend ``beta``, damping ``phi``."""

    alpha: float
    beta: float
    phi: float


@dataclass(frozen=True)
class GapModel:
    """Partial pooling towards a reference rate (England's, or the region's): yearly change
    relative to the reference's ``= const + gap x (log rate - reference's) + change x (last
    relative change)``."""

    const: float
    gap: float
    change: float


def horizon_weighted_loss(errors: np.ndarray) -> np.ndarray:
    """Mean absolute error of each horizon, averaged over the horizons that have any.

    Parameters
    ----------
    errors : ndarray, shape (..., horizon, rows, years)
        Forecast errors, NaN where there is none.

    Returns
    -------
    ndarray, shape (...)
        Each horizon weighs alike however many errors it has: a series of
        ``n`` years gives ``n - 1`` errors one year ahead but only ``n - 5``
        five years ahead, while a back-test scores each year ahead alike.
    """
    e = np.abs(np.asarray(errors, dtype=float))
    known = np.isfinite(e)
    n = known.sum(axis=(-2, -1))
    per = np.where(known, e, 0.0).sum(axis=(-2, -1)) / np.maximum(n, 1)
    has = n > 0
    return np.where(has, per, 0.0).sum(axis=-1) / np.maximum(has.sum(axis=-1), 1)


def fit_smoothing(log_y: np.ndarray, horizon: int = HORIZON) -> tuple[Smoothing, int]:
    """The grid parameters with the least mean absolute in-sample error at horizons 1..``horizon``.

    The errors of every row and year are pooled, so the parameters are shared
    by all authorities, and each horizon weighs alike
    (:func:`horizon_weighted_loss`), as in the back-test's mean absolute
    scaled error over the years ahead.

    Returns
    -------
    (Smoothing, int)
        The parameters and the number of errors they were judged on.
    """
    # Ordered from the naive forecast (alpha 1, no trend) outwards, so that
    # when the errors cannot tell parameters apart the naive one is kept.
    grid = np.array([(a, b, p) for a in sorted(ALPHAS, reverse=True) for b in BETAS for p in PHIS])
    levels, trends = holt_damped(log_y, grid[:, 0], grid[:, 1], grid[:, 2])
    errors = _insample_errors(np.atleast_2d(log_y), levels, trends, grid[:, 2], horizon)
    count = int(np.isfinite(errors[0]).sum())
    if count == 0:
        return Smoothing(1.0, 0.0, PHIS[0]), 0  # no pair of years: the naive forecast
    loss = horizon_weighted_loss(errors)
    # exact ties (the first years, where every parameter forecasts alike) go to the naive end
    a, b, p = grid[int(np.argmin(np.round(loss, 12)))]
    return Smoothing(float(a), float(b), float(p)), int(count)


def smoothing_forecast(log_y: np.ndarray, s: Smoothing, horizon: int) -> np.ndarray:
    """Forecast of ``log_y`` from the pooled parameters, shape ``(rows, horizon)``."""
    levels, trends = holt_damped(log_y, s.alpha, s.beta, s.phi)
    return last_value(levels[0])[:, None] + damping_sums(s.phi, horizon) * last_value(trends[0])[:, None]


def _gap_terms(rate: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gap to the reference and last relative change, by year, each ``(rows, years)``."""
    gap = rate - reference
    change = np.full_like(rate, np.nan)
    change[:, 1:] = np.diff(rate, axis=1) - np.diff(reference, axis=-1)
    return gap, change


def fit_gap_model(rate: np.ndarray, reference: np.ndarray) -> tuple[GapModel | None, int]:
    """Least-squares coefficients of the partial-pooling model over every row and year.

    Parameters
    ----------
    rate : ndarray, shape (rows, years)
        Authorities' log rates per child (:func:`per_child`).
    reference : ndarray, shape (years,) or (rows, years)
        The log rate per child each is pulled towards: England's (one row for
        all) or each authority's region's (:func:`region_rates`).

    Returns
    -------
    (GapModel or None, int)
        None when fewer than ten authority-years have a gap, a change and the
        next year's movement (too few to estimate three coefficients).
    """
    gap, change = _gap_terms(rate, reference)
    target = np.full_like(rate, np.nan)
    target[:, :-1] = np.diff(rate, axis=1) - np.diff(reference, axis=-1)
    x = np.stack([np.ones_like(gap), gap, change], axis=-1).reshape(-1, 3)
    t = target.reshape(-1)
    ok = np.isfinite(t) & np.isfinite(x).all(axis=1)
    if ok.sum() < 10:
        return None, int(ok.sum())
    coef, *_ = np.linalg.lstsq(x[ok], t[ok], rcond=None)
    return GapModel(*(float(c) for c in coef)), int(ok.sum())


def gap_forecast(rate: np.ndarray, reference: np.ndarray, m: GapModel, horizon: int) -> np.ndarray:
    """Log rates per child for the next ``horizon`` years, the reference held at its last rate.

    ``reference`` is England's log rate per child, shape ``(years,)``, or each
    row's region's, ``(rows, years)``; a row with no reference rate is NaN.
    """
    gap, change = _gap_terms(rate, reference)
    current, gap_now = last_value(rate), last_value(gap)
    change_now = np.nan_to_num(change[:, -1])
    # The reference is held flat, so the gap moves exactly as the relative change.
    out = np.empty((len(current), horizon))
    for h in range(horizon):
        step = m.const + m.gap * gap_now + m.change * change_now
        current, gap_now, change_now = current + step, gap_now + step, step
        out[:, h] = current
    return out


def member_forecasts(y: np.ndarray, population: np.ndarray, england_y: np.ndarray,
                     england_population: np.ndarray, smoothing: Smoothing, gap: GapModel | None,
                     horizon: int, future_population: np.ndarray | None = None,
                     region_rate: np.ndarray | None = None, region_gap: GapModel | None = None
                     ) -> dict[str, np.ndarray]:
    """The three members' forecasts of a published count, each ``(rows, horizon)`` [count].

    Parameters
    ----------
    y, population : ndarray, shape (rows, years)
        Published figures and mid-year 0-17 populations up to the origin.
    england_y, england_population : ndarray, shape (years,)
        England's, on the same years.
    smoothing, gap : Smoothing, GapModel or None
        The pooled parameters; ``gap`` pulls towards England.
    future_population : ndarray, shape (rows, horizon), optional
        Populations to divide each forecast year's figure by (mid-(Y-1) for
        year Y); by default :func:`population_path` of ``population``.
    region_rate : ndarray, shape (years,) or (rows, years), optional
        The log rate per child of each row's region (:func:`region_rates`).
    region_gap : GapModel, optional
        Given (with ``region_rate``), the partial-pooling member pulls towards
        the region instead of England; a row whose region has no rate at the
        origin falls back to ``gap``.
    """
    y = np.atleast_2d(np.asarray(y, dtype=float))
    out = {"flat": flat_forecast(y, horizon),
           "smoothing": np.expm1(smoothing_forecast(log_count(y), smoothing, horizon))}
    rate = per_child(y, population)
    pooled = np.full((len(y), horizon), np.nan)
    if region_gap is not None and region_rate is not None:
        reference = np.asarray(region_rate, dtype=float)
        # a region without a rate at the origin gives no reference to close on
        known = np.isfinite(np.atleast_2d(reference)[:, -1])
        pooled = np.where(known[:, None], gap_forecast(rate, reference, region_gap, horizon), np.nan)
    eng = per_child(np.atleast_2d(england_y), np.atleast_2d(england_population))[0]
    todo = np.isnan(pooled[:, 0])
    if gap is not None and todo.any() and np.isfinite(last_value(eng[None, :])[0]):
        pooled[todo] = gap_forecast(rate[todo], eng, gap, horizon)
    if gap is not None or region_gap is not None:
        pop_ahead = population_path(population, horizon) if future_population is None else future_population
        out["pooled"] = np.expm1(pooled + np.log(pop_ahead))
    return out


def pooled_rate(y: np.ndarray, population: np.ndarray) -> np.ndarray:
    """The log rate per child of several authorities taken together, by data year.

    ``log((1 + sum of y_Y) / sum of population at mid-(Y-1))``, summed over the
    rows with both figures that year, as :func:`per_child` is for one; NaN for
    a year no row has both.
    """
    y = np.atleast_2d(np.asarray(y, dtype=float))
    pop = np.atleast_2d(np.asarray(population, dtype=float))
    lagged = np.concatenate([np.full((len(pop), 1), np.nan), pop[:, :-1]], axis=1)
    both = np.isfinite(y) & np.isfinite(lagged)
    counts = np.where(both, y, 0.0).sum(axis=0)
    children = np.where(both, lagged, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(both.any(axis=0), np.log1p(counts) - np.log(children), np.nan)


def region_rates(panel: Panel, measure: str) -> np.ndarray:
    """Each authority's region's log rate per child, shape ``(rows, years)``.

    :func:`pooled_rate` over the *other* authorities of its region in
    ``panel``: the rate the rest of its region had, so that an authority is
    never pulled towards itself (which matters where one large authority
    weighs heavily in a small region). NaN without a region, or in a year no
    other authority of the region has both figures.
    """
    y = panel.values[measure]
    out = np.full(y.shape, np.nan)
    pop = panel.values[POPULATION]
    lagged = np.concatenate([np.full((len(pop), 1), np.nan), pop[:, :-1]], axis=1)
    both = np.isfinite(y) & np.isfinite(lagged)
    own_count, own_children = np.where(both, y, 0.0), np.where(both, lagged, 0.0)
    regions = np.array(panel.regions if panel.regions else [""] * len(panel.codes))
    for region in sorted(set(regions) - {""}):
        rows = regions == region
        counts = own_count[rows].sum(axis=0) - own_count[rows]
        children = own_children[rows].sum(axis=0) - own_children[rows]
        others = both[rows].sum(axis=0) - both[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[rows] = np.where(others > 0, np.log1p(counts) - np.log(children), np.nan)
    return out


def combine(members: Mapping[str, np.ndarray]) -> np.ndarray:
    """Equal-weight mean of the members available for each row and year (none negative)."""
    stacked = np.stack(list(members.values()))
    known = np.isfinite(stacked)
    count = known.sum(axis=0)
    mean = np.where(known, stacked, 0.0).sum(axis=0) / np.maximum(count, 1)
    return np.where(count > 0, np.maximum(mean, 0.0), np.nan)


# ---------------------------------------------------------------------------
# Pooled parameters for one forecast origin
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasurePooling:
    """The pooled parameters and error spread of one measure at one origin.

    Attributes
    ----------
    smoothing : Smoothing
    gap : GapModel or None
        None when too few authority-years allow the partial-pooling member.
    errors : dict
        ``{"p10": [...], "p90": [...]}``: percentiles of the method's log
        errors, ``log(1 + published) - log(1 + forecast)``, at horizons
        1..``horizon``, measured from earlier origins on figures published by
        this origin; horizons not yet observable are extended (see
        :func:`error_percentiles`).
    observed_horizons : int
        How many horizons the errors were measured at (the rest extended).
    error_count : int
        Authority-years the error percentiles were measured on.
    authorities : int
        Authorities with figures for this measure at the origin.
    region_gap : GapModel or None
        The partial-pooling model towards each authority's region (None when
        the figures name no regions, or too few authority-years allow it).
    reference : {"england", "region"}
        Which of ``gap`` and ``region_gap`` the method uses: the one whose
        forecasts from earlier origins erred less (``reference_errors``); the
        errors and band are the method's with it.
    reference_errors : dict
        The method's mean absolute log error from earlier origins with each
        reference (the same forecasts and years as ``errors``).
    """

    smoothing: Smoothing
    gap: GapModel | None
    errors: dict[str, list[float]]
    observed_horizons: int
    error_count: int
    authorities: int
    region_gap: GapModel | None = None
    reference: str = "england"
    reference_errors: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Pooling:
    """Parameters shared across authorities, fitted on figures up to ``fit_to``."""

    fit_to: int
    horizon: int
    measures: dict[str, MeasurePooling]
    source: str = ""

    def to_dict(self) -> dict:
        return {"fit_to": self.fit_to, "horizon": self.horizon, "source": self.source,
                "measures": {m: asdict(p) for m, p in self.measures.items()}}

    @classmethod
    def from_dict(cls, d: Mapping) -> Pooling:
        measures = {}
        for m, p in d["measures"].items():
            # parameters written before regions were added pull towards England
            region = p.get("region_gap")
            measures[m] = MeasurePooling(Smoothing(**p["smoothing"]),
                                         GapModel(**p["gap"]) if p["gap"] is not None else None,
                                         {k: [math.nan if x is None else float(x) for x in v]
                                          for k, v in p["errors"].items()}, p["observed_horizons"],
                                         p["error_count"], p["authorities"],
                                         GapModel(**region) if region is not None else None,
                                         p.get("reference", "england"),
                                         {k: float(v) for k, v in p.get("reference_errors", {}).items()})
        return cls(int(d["fit_to"]), int(d["horizon"]), measures, d.get("source", ""))


@dataclass(frozen=True)
class Panel:
    """Every authority's published figures on a common grid of data years.

    ``values[measure]`` has one row per authority (``codes``, ``names``) and one
    column per year in ``years``; England's figures are in ``england``;
    ``regions`` holds each authority's region code (``""`` where none is known).
    """

    codes: list[str]
    names: list[str]
    years: np.ndarray
    values: dict[str, np.ndarray]
    england: dict[str, np.ndarray]
    regions: list[str] = field(default_factory=list)
    _rows: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, measures=(*MEASURES, POPULATION)) -> Panel:
        """From tidy rows of many authorities and England (:func:`wcf_model.tidy.combine` output)."""
        rows = frame[frame["measure"].isin(measures)]
        if rows.empty:
            raise DataError("no published figures for " + ", ".join(measures))
        years = np.arange(int(rows["year"].min()), int(rows["year"].max()) + 1)
        codes = sorted(set(rows["la_code"]) - {ENGLAND})
        latest = rows.sort_values("year").drop_duplicates("la_code", keep="last").set_index("la_code")
        named = latest["la_name"]
        placed = latest["region_code"] if "region_code" in latest else pd.Series(dtype=str)
        values, england = {}, {}
        for m in measures:
            wide = rows[rows["measure"] == m].pivot_table(index="la_code", columns="year", values="value",
                                                          aggfunc="first", dropna=False)
            wide = wide.reindex(index=[*codes, ENGLAND], columns=years)
            values[m] = wide.iloc[:-1].to_numpy(dtype=float)
            england[m] = wide.iloc[-1].to_numpy(dtype=float)
        return cls(codes, [str(named.get(c, c)) for c in codes], years, values, england,
                   [str(placed.get(c, "")) for c in codes], {c: i for i, c in enumerate(codes)})

    def upto(self, year: int) -> Panel:
        """The figures of data years up to ``year``."""
        keep = self.years <= year
        return Panel(self.codes, self.names, self.years[keep], {m: v[:, keep] for m, v in self.values.items()},
                     {m: v[keep] for m, v in self.england.items()}, self.regions, self._rows)


#: What the partial-pooling member can pull an authority's rate towards.
REFERENCES = ("england", "region")


@dataclass(frozen=True)
class _Fitted:
    """The members' parameters fitted on one panel: smoothing, and a gap model per reference."""

    smoothing: Smoothing
    gaps: dict[str, GapModel | None]


def _members_for(panel: Panel, measure: str, fitted: _Fitted, reference: str,
                 horizon: int) -> dict[str, np.ndarray]:
    region = reference == "region" and fitted.gaps["region"] is not None
    return member_forecasts(panel.values[measure], panel.values[POPULATION], panel.england[measure],
                            panel.england[POPULATION], fitted.smoothing, fitted.gaps["england"], horizon,
                            region_rate=region_rates(panel, measure) if region else None,
                            region_gap=fitted.gaps["region"] if region else None)


def _fit_members(panel: Panel, measure: str, horizon: int) -> _Fitted:
    smoothing, _ = fit_smoothing(log_count(panel.values[measure]), horizon)
    rate = per_child(panel.values[measure], panel.values[POPULATION])
    eng_rate = per_child(panel.england[measure][None, :], panel.england[POPULATION][None, :])[0]
    gaps = {"england": fit_gap_model(rate, eng_rate)[0]}
    regions = region_rates(panel, measure)
    gaps["region"] = fit_gap_model(rate, regions)[0] if np.isfinite(regions).any() else None
    return _Fitted(smoothing, gaps)


def error_percentiles(errors: Mapping[int, np.ndarray], horizon: int) -> tuple[dict[str, list[float]], int]:
    """Percentiles :data:`BAND` of forecast errors by horizon, extended to ``horizon``.

    Where errors are observed at two or more horizons, the band's width is
    taken to grow as ``h ** gamma`` with ``gamma`` fitted by least squares on
    the logs (kept within 0 to 1); with one horizon, ``gamma = 0.5``, the
    growth of a random walk's errors. Later horizons scale the last observed
    percentiles by that growth.
    """
    observed = sorted(h for h, e in errors.items() if len(e))
    if not observed:
        return {f"p{q}": [math.nan] * horizon for q in BAND}, 0
    pct = {h: np.percentile(errors[h], BAND) for h in observed}
    width = np.array([pct[h][1] - pct[h][0] for h in observed])
    if len(observed) >= 2 and (width > 0).all():
        gamma = float(np.clip(np.polyfit(np.log(observed), np.log(width), 1)[0], 0.0, 1.0))
    else:
        gamma = 0.5
    last = observed[-1]
    out = {f"p{q}": [] for q in BAND}
    for h in range(1, horizon + 1):
        values = pct[h] if h in pct else pct[last] * (h / last) ** gamma
        for q, v in zip(BAND, values):
            out[f"p{q}"].append(float(v))
    return out, len(observed)


def fit_pooling(panel: Panel, fit_to: int, horizon: int = HORIZON, source: str = "") -> Pooling:
    """Pooled parameters and error percentiles from every authority's figures up to ``fit_to``.

    The error percentiles are the method's own rolling-origin errors: for each
    earlier origin ``o`` (parameters refitted on figures up to ``o``), the log
    errors of the forecasts for years ``o + 1 .. fit_to``, pooled over
    authorities. (Errors divided by each authority's mean yearly change were
    tried too; at the earliest origins that scale rests on one or two changes
    and its tiny values blow the far percentiles up, while log errors gave
    10th-90th bands holding 72-88% of later figures for every measure.)

    The same errors choose the partial-pooling member's reference: the method
    is run from every earlier origin pulling towards England and towards each
    authority's region, and the reference whose forecasts had the smaller mean
    absolute log error is kept (England on a tie, or where the panel names no
    regions); the band is that method's.

    Raises
    ------
    DataError
        If fewer than :data:`MIN_AUTHORITIES` authorities have figures.
    """
    past = panel.upto(fit_to)
    out = {}
    for measure in MEASURES:
        y = past.values[measure]
        authorities = int(np.isfinite(y).any(axis=1).sum())
        if authorities < MIN_AUTHORITIES:
            continue
        fitted = _fit_members(past, measure, horizon)
        errors: dict[str, dict[int, list[np.ndarray]]] = {r: {h: [] for h in range(1, horizon + 1)}
                                                          for r in REFERENCES}
        first = int(past.years[np.isfinite(y).any(axis=0)][0])
        for origin in range(first + 1, fit_to):
            earlier = past.upto(origin)
            fitted_then = _fit_members(earlier, measure, horizon)
            for reference in REFERENCES:
                forecast = combine(_members_for(earlier, measure, fitted_then, reference, horizon))
                for h in range(1, min(horizon, fit_to - origin) + 1):
                    col = int(np.searchsorted(past.years, origin + h))
                    e = log_count(y[:, col]) - log_count(forecast[:, h - 1])
                    errors[reference][h].append(e[np.isfinite(e)])
        merged = {r: {h: np.concatenate(v) if v else np.array([]) for h, v in by_h.items()}
                  for r, by_h in errors.items()}
        mean_abs = {}
        for r, by_h in merged.items():
            every = np.concatenate([v for v in by_h.values()] or [np.array([])])
            mean_abs[r] = float(np.abs(every).mean()) if len(every) else math.nan
        reference = ("region" if fitted.gaps["region"] is not None and mean_abs["region"] < mean_abs["england"]
                     else "england")
        pct, observed = error_percentiles(merged[reference], horizon)
        out[measure] = MeasurePooling(fitted.smoothing, fitted.gaps["england"], pct, observed,
                                      int(sum(len(v) for v in merged[reference].values())), authorities,
                                      fitted.gaps["region"], reference,
                                      {r: v for r, v in mean_abs.items() if math.isfinite(v)})
    if not out:
        raise DataError(f"fewer than {MIN_AUTHORITIES} authorities have figures up to {fit_to}: "
                        "the pooled forecast needs the figures of every authority")
    return Pooling(fit_to, horizon, out, source)


# ---------------------------------------------------------------------------
# The shipped pooled parameters
# ---------------------------------------------------------------------------


def pooling_json(poolings: list[Pooling], provenance: Mapping) -> str:
    """Pooled parameters by origin as canonical JSON text (sorted keys, no dates, floats to 6 figures)."""
    def rounded(v):
        if isinstance(v, float):
            return float(f"{v:.6g}") if math.isfinite(v) else None
        if isinstance(v, dict):
            return {k: rounded(x) for k, x in v.items()}
        if isinstance(v, list):
            return [rounded(x) for x in v]
        return v
    doc = {"schema": "wcf-model/forecast-pooling/1", "provenance": dict(provenance),
           "origins": {str(p.fit_to): rounded(p.to_dict()) for p in poolings}}
    return strict_json(doc, indent=1, sort_keys=True) + "\n"


@cache
def _read_pooling_file(path: str) -> dict[int, Pooling]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        return {int(k): Pooling.from_dict(v) for k, v in doc["origins"].items()}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"cannot read the pooled forecast parameters {path}: {err}; rebuild them with "
                        "python scripts/build_pooling.py --source DOWNLOADS") from None


def shipped_pooling(fit_to: int, data_dir: str | Path | None = None) -> Pooling | None:
    """The pooled parameters shipped in ``data/`` for origin ``fit_to`` (None if none fit).

    An origin after the last shipped one takes the last shipped parameters (the
    estimate does not look ahead either way); one before the first has none.
    """
    path = Path(data_dir if data_dir is not None else DEFAULT_DATA_DIR) / POOLING_FILE
    if not path.is_file():
        path = DEFAULT_DATA_DIR / POOLING_FILE
        if not path.is_file():
            return None
    by_origin = _read_pooling_file(str(path))
    earlier = [o for o in by_origin if o <= fit_to]
    return by_origin[max(earlier)] if earlier else None
