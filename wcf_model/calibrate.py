"""Calibration: the model's demand and workforce parameters from published history.

:func:`calibrate` reads one authority's tidy rows (and England's) and returns an
:class:`Estimate` for each parameter it can estimate; :func:`to_parameters` turns
those into a scenario ``parameters:`` tree. Every estimate says in plain English
what was averaged over which years (``method``) and anything unusual (``note``).

Years
-----
``fit_to`` is the last data ``year`` that may be used: rows of later years are
dropped before anything is computed, so they cannot influence any estimate (a
back-test relies on this). The rule is on the data year, as the DfE dates it,
so for ``fit_to = 2018`` the mid-2018 population, the September 2018 workforce
census and the new EHC plans of calendar 2018 are used, although they post-date
31 March 2018. ``window`` is the number of years ending at ``fit_to`` whose
ratios are averaged (a plain mean of the yearly ratios, each year weighted alike).

The model works in financial years (FY "2018-19" = 1 April 2018 to 31 March
2019). A stock at 31 March Y closes FY (Y-1)-(Y) and opens FY Y-(Y+1). A flow
with data year Y (referrals, children in need started and ended, children
starting and ceasing to be looked after) is counted over FY (Y-1)-(Y), and is
divided by the mid-(Y-1) population, the estimate nearest the middle of that
year (the DfE's own rates do the same). Population figures are keyed by the FY
their mid-year date falls in (mid-2018 -> "2018-19"). Stock-flow parameters
follow the model, ``closing = (1 - exit_rate) x (opening + starts)``, so
``exit_rate = exits_Y / (stock_{Y-1} + starts_Y)``.

EHC plans: the SEN2 caseload counts plans in force on a January census day; it
is treated as the 31 March position of the same year. New plans are counted
over a calendar year c (data year c), which runs from about the January c
census to the January c+1 census, so its population is mid-c and plans ceased
over that interval are implied as ``total_c + new_c - total_{c+1}``.

Children in need: the published figures do not reconcile (opening + started -
ended exceeds the next 31 March count by about a tenth every year, for England
as for Worcestershire: the census counts episodes and children differently).
The model must reproduce the published stock, so ``demand.cin.exit_rate`` is
the rate the 31 March counts imply, ``1 - stock_Y / (stock_{Y-1} + started_Y)``;
when the published episodes ended give a rate more than 0.01 different,
``note`` says so.

Where the authority's figures are missing
-----------------------------------------
A ratio is averaged over the years of the window in which the authority's
figures are all published; the years left out are named in ``note``. When no
year of the window has them, England's ratio over the same window is used,
``fallback`` is True and ``note`` says so (an opening stock falls back to
England's stock per child times the authority's population). When England has
none either the parameter is left out of the result: :func:`missing` lists the
names of :data:`PARAMETERS` that a result lacks.

Children starting and ceasing to be looked after
------------------------------------------------
The DfE tables in the extract publish authorities' CLA starts and ceased only
from the year to 31 March 2019 (and England's too). For earlier years both are
derived from the children looked after at any time during the year
(``cla_during_year``), which is everyone looked after at the previous 31 March
plus everyone who started in the year::

    starts_Y    = during_Y - cla_{Y-1}
    exit_rate_Y = (during_Y - cla_Y) / during_Y

A child who left and came back within the year is counted once in ``during``
but in both the stock and the starts, so derived starts run slightly low: in
2019, the one year with both, Worcestershire's derived starts are 240 against
243 published (exit rate 0.196 against 0.199) and England's 31,180 against
31,780 (0.267 against 0.276). Published figures are used wherever they exist;
``note`` names the years that were derived.

Forecast rate paths (``method="pooled"``, the default)
-----------------------------------------------------
A flat mean of recent rates projects a stock towards the level those rates
imply, which the back-test showed is no better than carrying the last figure
forward. So the rates that drive the headline caseloads are given by year, as
paths that make the stock-flow model reproduce a forecast of each published
series (:mod:`wcf_model.forecast`: pooled damped-trend smoothing, partial
pooling towards England or the authority's region, and the last figure,
averaged), for ``horizon`` years from financial year ``fit_to``-(``fit_to``+1):

* ``demand.referrals.rate_per_10k`` = forecast referrals / the model's 0-17
  population of that year x 10,000;
* ``demand.cin.exit_rate`` and ``demand.cla.exit_rate``: the share leaving that
  takes (opening + starts) to the forecast 31 March stock, with starts from the
  windowed ``start_share_of_referrals`` and ``start_rate_per_10k``; a forecast
  rise larger than the starts would need a negative rate, so the rate is
  clipped to [0, 1] and ``note`` says so;
* ``demand.cpp.share_of_cin`` = forecast plans / the model's children in need.

Each carries a ``distribution``: a lognormal multiplier of the path (median 1)
whose spread reproduces, on average over the first five years, the 10th-90th
percentile band of the method's own errors at earlier forecast origins (pooled
over authorities, in logs, so the band is a share of the forecast). Referral uncertainty sits on the referral
rate; the further spread of children in need on ``start_share_of_referrals``,
of protection plans on ``share_of_cin`` and of children looked after on
``start_rate_per_10k`` (see :func:`rate_spreads`).

The pull towards the region needs the figures of the region's authorities
(``region``, :func:`wcf_model.tidy.region_rows`); without them it pulls
towards England, and the method says so.

The parameters shared across authorities come from ``pooling``
(:func:`wcf_model.forecast.fit_pooling` over every authority's figures up to
``fit_to``, or those shipped in ``data/forecast_pooling.json``). An authority
without a published figure for a measure at ``fit_to`` keeps the windowed
estimate, and ``method="window"`` keeps the windowed mean for every rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.special import ndtri

from . import forecast as fc
from .catalogue import UNITS, parameter_specs
from .demand import stock_flow
from .errors import DataError, UsageError
from .formats import financial_year_label, range_columns, range_label, years_text

#: Every parameter :func:`calibrate` estimates when the data allow, in order.
PARAMETERS: tuple[str, ...] = (
    "population.age_0_17",
    "population.growth_rate",
    "demand.referrals.rate_per_10k",
    "demand.referrals.rereferral_share",
    "demand.cin.opening_stock",
    "demand.cin.start_share_of_referrals",
    "demand.cin.exit_rate",
    "demand.cpp.opening_stock",
    "demand.cpp.share_of_cin",
    "demand.cla.opening_stock",
    "demand.cla.start_rate_per_10k",
    "demand.cla.exit_rate",
    "demand.cla.uasc_share",
    "demand.ehcp.opening_stock",
    "demand.ehcp.new_per_10k",
    "demand.ehcp.ceased_rate",
    "workforce.caseload_target",
    "workforce.cases_per_child_in_need",
    "workforce.agency_share",
    "workforce.vacancy_rate",
    "workforce.turnover_rate",
)

#: Confidence grade (1 audited outturn ... 5 judgement) of an estimate from the
#: authority's own figures, and of one that fell back to England's.
CONFIDENCE_OWN, CONFIDENCE_FALLBACK = 1, 4

POP = "population_0_17"


@dataclass(frozen=True)
class Estimate:
    """One calibrated parameter.

    Attributes
    ----------
    name : str
        Catalogue parameter name, e.g. ``"demand.cla.exit_rate"``.
    value : float or None
        The estimate [``unit``], or None when given by year in ``values``.
    values : dict of str to float, or None
        By financial year label (``"2018-19"``) [``unit``]; population only.
    unit : str
        The catalogue unit of ``name``.
    method : str
        What was averaged over which years, and the arithmetic.
    years : tuple of int
        Data years whose figures were used (the ``Y`` of each ratio averaged).
    fallback : bool
        True when England's figure was used instead of the authority's.
    note : str
        Gaps, fallbacks, derived years and clipping, in plain English.
    distribution : dict or None
        The uncertainty of the estimate as a scenario ``distribution`` (on a
        figure by year, a multiplier of the whole path), or None.
    """

    name: str
    value: float | None
    values: dict[str, float] | None
    unit: str
    method: str
    years: tuple[int, ...]
    fallback: bool
    note: str = ""
    distribution: dict | None = None


# ---------------------------------------------------------------------------
# One authority's figures up to fit_to
# ---------------------------------------------------------------------------

_MARKER_WORDS = {"c": "suppressed (c)", "x": "not available (x)", "z": "not applicable (z)",
                 "u": "of low reliability (u)", "low": "too low to publish (low)", "blank": "blank"}


class _Missing(Exception):
    """A figure a ratio needs is not published (``reason`` says why)."""

    def __init__(self, measure: str, year: int, reason: str):
        super().__init__(f"{measure} {reason} in {year}")
        self.measure, self.year, self.reason = measure, year, reason


class _History:
    """The figures of one authority with data year <= ``fit_to``; call it for one figure."""

    def __init__(self, frame: pd.DataFrame, fit_to: int, default_name: str):
        codes = sorted(set(frame["la_code"]))
        if len(codes) > 1:
            raise DataError(f"calibrate needs the rows of one authority at a time, got {', '.join(codes)}")
        rows = frame[frame["year"].astype(int) <= fit_to]
        dup = rows.duplicated(["measure", "year"])
        if dup.any():
            first = rows[dup].iloc[0]
            raise DataError(f"{first['measure']} has several rows for {first['year']} (several releases?); "
                            "pass the frames through combine() first")
        self.name = str(rows["la_name"].iloc[-1]) if len(rows) else default_name
        self.code = codes[0] if codes else ""
        self.cells = {(m, int(y)): (float(v), str(k))
                      for m, y, v, k in zip(rows["measure"], rows["year"], rows["value"], rows["marker"])}

    def __call__(self, measure: str, year: int) -> float:
        value, marker = self.cells.get((measure, year), (math.nan, ""))
        if math.isnan(value):
            reason = _MARKER_WORDS.get(marker, f"not published ({marker})") if marker else "not in the data"
            raise _Missing(measure, year, reason)
        return value

    def published(self, measure: str) -> dict[int, float]:
        """Years with a number for ``measure``, ascending."""
        return {y: v for (m, y), (v, _) in sorted(self.cells.items()) if m == measure and not math.isnan(v)}


# A ratio for one year: a number, or (number, remark) where the remark (the
# same words each year) is collected into the note with its years.
Ratio = Callable[[_History, int], "float | tuple[float, str]"]


def _derived(flow: str, y: int, figure: Callable[[], float]) -> float:
    """A figure for deriving a CLA flow; if it is missing, say the flow is missing too."""
    try:
        return figure()
    except _Missing as gap:
        raise _Missing(flow, y, f"not published and not derivable ({gap.measure} {gap.reason})") from None


def _cla_starts(h: _History, y: int) -> tuple[float, str]:
    try:
        return h("cla_starts", y), ""
    except _Missing:
        starts = _derived("cla_starts", y, lambda: h("cla_during_year", y) - h("cla_at_31_march", y - 1))
    if starts < 0:
        raise _Missing("cla_during_year", y, "below the previous 31 March stock")
    return starts, "starts derived as looked after during the year less the previous 31 March stock"


def _cla_start_rate(h: _History, y: int) -> tuple[float, str]:
    starts, remark = _cla_starts(h, y)
    return starts / h(POP, y - 1) * 1e4, remark


def _cla_exit(h: _History, y: int) -> tuple[float, str]:
    try:
        return h("cla_ceased", y) / (h("cla_at_31_march", y - 1) + h("cla_starts", y)), ""
    except _Missing:
        during = _derived("cla_ceased", y, lambda: h("cla_during_year", y))
        rate = (during - h("cla_at_31_march", y)) / during
    if not 0 <= rate <= 1:
        raise _Missing("cla_during_year", y, "below the 31 March stock")
    return rate, "exit rate derived as (looked after during the year - 31 March stock) / during the year"


def _ehcp_ceased(h: _History, y: int) -> tuple[float, str]:
    during = h("ehcp_total", y - 1) + h("ehcp_new", y - 1)
    ceased = during - h("ehcp_total", y)
    if ceased < 0:
        return 0.0, "implied ceased plans below zero, taken as 0,"
    return ceased / during, ""


def _growth(h: _History, y: int) -> float:
    return h(POP, y) / h(POP, y - 1) - 1


# name -> (ratio, what it is for one year Y, in words)
_RATIOS: dict[str, tuple[Ratio, str]] = {
    "population.growth_rate": (
        _growth, "the 0-17 population at mid-Y / at mid-(Y-1) - 1"),
    "demand.referrals.rate_per_10k": (
        lambda h, y: h("referrals", y) / h(POP, y - 1) * 1e4,
        "referrals in the year to 31 March Y / the 0-17 population at mid-(Y-1) x 10,000"),
    "demand.referrals.rereferral_share": (
        lambda h, y: h("rereferral_percent", y) / 100,
        "the percentage of referrals in the year to 31 March Y that were re-referrals / 100"),
    "demand.cin.start_share_of_referrals": (
        lambda h, y: h("cin_started", y) / h("referrals", y),
        "children in need episodes started in the year to 31 March Y / referrals in that year"),
    "demand.cin.exit_rate": (
        lambda h, y: 1 - h("cin_at_31_march", y) / (h("cin_at_31_march", y - 1) + h("cin_started", y)),
        "1 - children in need at 31 March Y / (children in need at 31 March Y-1 + episodes "
        "started in the year): the exits the published counts imply"),
    "demand.cpp.share_of_cin": (
        lambda h, y: h("cpp_at_31_march", y) / h("cin_at_31_march", y),
        "children on a child protection plan at 31 March Y / children in need at 31 March Y"),
    "demand.cla.start_rate_per_10k": (
        _cla_start_rate,
        "children starting to be looked after in the year to 31 March Y / the 0-17 population "
        "at mid-(Y-1) x 10,000"),
    "demand.cla.exit_rate": (
        _cla_exit,
        "children ceasing to be looked after in the year to 31 March Y / (looked after at "
        "31 March Y-1 + starting in the year)"),
    "demand.ehcp.new_per_10k": (
        lambda h, y: h("ehcp_new", y) / h(POP, y) * 1e4,
        "new EHC plans made in calendar year Y / the 0-17 population at mid-Y x 10,000"),
    "demand.ehcp.ceased_rate": (
        _ehcp_ceased,
        "plans ceased between the January Y-1 and January Y censuses, implied as (plans in "
        "January Y-1 + new plans in calendar Y-1 - plans in January Y), clipped at 0 / "
        "(plans in January Y-1 + new plans in calendar Y-1)"),
    "workforce.caseload_target": (
        lambda h, y: h("sw_caseload_per_fte", y),
        "the average caseload of case-holding children's social workers at 30 September Y"),
    "workforce.cases_per_child_in_need": (
        lambda h, y: h("sw_cases", y) / h("cin_at_31_march", y),
        "cases held by case-holding children's social workers at 30 September Y / children in need at "
        "31 March Y"),
    "workforce.agency_share": (
        lambda h, y: h("sw_agency_percent", y) / 100,
        "agency social workers as a percentage of agency plus in post at 30 September Y / 100"),
    "workforce.vacancy_rate": (
        lambda h, y: h("sw_vacancy_percent", y) / 100,
        "vacancies as a percentage of vacancies plus in post at 30 September Y / 100"),
    "workforce.turnover_rate": (
        lambda h, y: h("sw_turnover_percent", y) / 100,
        "leavers in the year to 30 September Y as a percentage of social workers in post / 100"),
}

# The published children in need figures do not reconcile: opening + started -
# ended exceeds the next 31 March count by about a tenth each year (England and
# Worcestershire alike). The exit rate is the one the counts imply (the model
# must reproduce the stock); the note gives the episodes-ended rate when they differ.
_CIN_EPISODES_ENDED: Ratio = (
    lambda h, y: h("cin_ended", y) / (h("cin_at_31_march", y - 1) + h("cin_started", y)))
_RECONCILE_TOLERANCE = 0.01

# name -> (measure, what the figure is)
_STOCKS = {
    "demand.cin.opening_stock": ("cin_at_31_march", "children in need at 31 March"),
    "demand.cpp.opening_stock": ("cpp_at_31_march", "children on a child protection plan at 31 March"),
    "demand.cla.opening_stock": ("cla_at_31_march", "children looked after at 31 March"),
    "demand.ehcp.opening_stock": ("ehcp_total", "EHC plans and statements in force at the January census "
                                                "(taken as the 31 March position) of"),
}


# ---------------------------------------------------------------------------
# Building estimates
# ---------------------------------------------------------------------------


def _gap_text(gaps: list[_Missing]) -> str:
    """'cin_ended suppressed (c) in 2016, 2017; referrals not in the data in 2016'."""
    grouped: dict[tuple[str, str], list[int]] = {}
    for g in gaps:
        grouped.setdefault((g.measure, g.reason), []).append(g.year)
    return "; ".join(f"{m} {r} in {years_text(sorted(set(ys)))}" for (m, r), ys in grouped.items())


def _collect(ratio: Ratio, h: _History, years: list[int]):
    values, used, gaps, remarks = [], [], [], {}
    for y in years:
        try:
            out = ratio(h, y)
        except _Missing as gap:
            gaps.append(gap)
            continue
        except ZeroDivisionError:
            gaps.append(_Missing("a denominator", y, "zero"))
            continue
        value, remark = out if isinstance(out, tuple) else (out, "")
        if remark:
            remarks.setdefault(remark, []).append(y)
        values.append(value)
        used.append(y)
    return values, used, gaps, remarks


def _bounded(name: str, value: float, note: list[str]) -> float:
    """Clip into the catalogue unit's range, saying so in ``note``."""
    unit = UNITS[parameter_specs()[name].unit]
    low = -math.inf if unit.low is None else unit.low
    high = math.inf if unit.high is None else unit.high
    clipped = min(max(value, low), high)
    if clipped != value:
        note.append(f"the estimate {value:.4g} was clipped to {clipped:g}, the limit of {unit.name}")
    return clipped


def _windowed(name: str, la: _History, eng: _History, years: list[int]) -> Estimate | None:
    ratio, words = _RATIOS[name]
    values, used, gaps, remarks = _collect(ratio, la, years)
    who, fallback, note = la, False, []
    if not values:
        values, used, eng_gaps, remarks = _collect(ratio, eng, years)
        if not values:
            return None
        who, fallback = eng, True
        note.append(f"{la.name}: {_gap_text(gaps)}; {eng.name}'s figure used")
        if eng_gaps:
            note.append(f"{eng.name}: {_gap_text(eng_gaps)}")
    elif gaps:
        note.append(f"{la.name}: {_gap_text(gaps)}; mean of the {len(used)} year(s) with figures")
    note += [f"{who.name}'s {remark} for Y = {years_text(ys)}" for remark, ys in remarks.items()]
    value = _bounded(name, sum(values) / len(values), note)
    if name == "demand.cin.exit_rate":
        ended, _, _, _ = _collect(_CIN_EPISODES_ENDED, who, used)
        if len(ended) == len(used) and abs(sum(ended) / len(ended) - value) > _RECONCILE_TOLERANCE:
            note.append(f"the published episodes ended give {sum(ended) / len(ended):.3f} (ended / (at "
                        "31 March Y-1 + started)); they do not reconcile with the 31 March counts, which "
                        "the model must reproduce, so the rate the counts imply is used")
    method = (f"Mean over Y = {years_text(used)} (a window of {len(years)} year(s) ending {years[-1]}) "
              f"of {words}; {who.name}'s figures.")
    return Estimate(name, value, None, parameter_specs()[name].unit, method, tuple(used), fallback,
                    ". ".join(note))


def _stock(name: str, la: _History, eng: _History, fit_to: int) -> Estimate | None:
    measure, words = _STOCKS[name]
    unit = parameter_specs()[name].unit
    try:
        value = la(measure, fit_to)
        return Estimate(name, value, None, unit, f"{la.name}'s {words} {fit_to} ({measure}).", (fit_to,), False)
    except _Missing as missing_here:
        gap = missing_here
    try:
        rate, pop = eng(measure, fit_to) / eng(POP, fit_to - 1), la(POP, fit_to - 1)
    except (_Missing, ZeroDivisionError):
        return None
    method = (f"{eng.name}'s {words} {fit_to} ({measure}) per child aged 0-17 at mid-{fit_to - 1}, "
              f"times {la.name}'s 0-17 population at mid-{fit_to - 1}: {rate:.6g} x {pop:,.0f}.")
    return Estimate(name, rate * pop, None, unit, method, (fit_to - 1, fit_to), True,
                    f"{la.name}: {_gap_text([gap])}; {eng.name}'s figure used")


def _uasc_share(la: _History, eng: _History, fit_to: int) -> Estimate | None:
    name = "demand.cla.uasc_share"
    for who, fallback in ((la, False), (eng, True)):
        uasc, cla = who.published("cla_uasc"), who.published("cla_at_31_march")
        both = [y for y in uasc if y in cla and cla[y] > 0]
        if both:
            y = both[-1]
            note = []
            if fallback:
                note.append(f"{la.name}: no year up to {fit_to} with both cla_uasc and cla_at_31_march; "
                            f"{eng.name}'s figure used")
            if y < fit_to:
                note.append(f"the latest year up to {fit_to} with both figures is {y}")
            method = (f"Unaccompanied asylum-seeking children looked after / all children looked after, "
                      f"at 31 March {y}: {uasc[y]:,.0f} / {cla[y]:,.0f}; {who.name}'s figures.")
            value = _bounded(name, uasc[y] / cla[y], note)
            return Estimate(name, value, None, "share", method, (y,), fallback, ". ".join(note))
    return None


def _population(la: _History, fit_to: int) -> Estimate | None:
    name = "population.age_0_17"
    pop = la.published(POP)
    if not pop:
        return None
    first = min(pop)
    gaps = [y for y in range(first, fit_to + 1) if y not in pop]
    values = {financial_year_label(y): v for y, v in pop.items()}
    method = (f"{la.name}'s ONS mid-year estimates of children aged 0-17, mid-{first} to mid-{max(pop)}, "
              "each keyed by the financial year its 30 June falls in (mid-2018 -> 2018-19).")
    note = f"no estimate for mid-{years_text(gaps)}" if gaps else ""
    return Estimate(name, None, values, "children", method, tuple(pop), False, note)


# ---------------------------------------------------------------------------
# Forecast rate paths (method="pooled")
# ---------------------------------------------------------------------------

#: Published measure forecast -> the rate path it sets.
_PATHS = {
    "referrals": "demand.referrals.rate_per_10k",
    "cin_at_31_march": "demand.cin.exit_rate",
    "cpp_at_31_march": "demand.cpp.share_of_cin",
    "cla_at_31_march": "demand.cla.exit_rate",
}

#: The width of the report's range (formats.RANGE) on a standard normal [sd]: a 10th-90th band is
#: 2 x 1.2816 sd wide.
_BAND_WIDTH_SD = float(ndtri(fc.BAND[1] / 100) - ndtri(fc.BAND[0] / 100))


def _arrays(h: _History, measures: Iterable[str], fit_to: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Published figures by data year up to ``fit_to``, NaN where none."""
    series = {m: h.published(m) for m in measures}
    first = min([min(v) for v in series.values() if v] or [fit_to])
    years = np.arange(first, fit_to + 1)
    return years, {m: np.array([v.get(int(y), np.nan) for y in years]) for m, v in series.items()}


def _lognormal(sigma: float, median: float = 1.0) -> dict | None:
    """A lognormal with ``median`` and log-scale sd ``sigma``, in the registry's terms (mean and sd)."""
    if not (np.isfinite(sigma) and sigma > 1e-6 and median > 0):
        return None
    mean = median * math.exp(sigma ** 2 / 2)
    return {"type": "lognormal", "mean": float(f"{mean:.6g}"),
            "sd": float(f"{mean * math.sqrt(math.expm1(sigma ** 2)):.6g}")}


def _beta(sigma: float, mean: float) -> dict | None:
    """A beta on [0, 1] with ``mean`` and the sd a lognormal of log-scale sd ``sigma`` would have there."""
    sd = mean * math.sqrt(math.expm1(sigma ** 2)) if np.isfinite(sigma) else math.nan
    if not (0 < mean < 1 and 0 < sd) or sd ** 2 >= mean * (1 - mean):
        return None
    k = mean * (1 - mean) / sd ** 2 - 1
    return {"type": "beta", "alpha": float(f"{mean * k:.6g}"), "beta": float(f"{(1 - mean) * k:.6g}")}


def rate_spreads(band_log_sd: Mapping[str, np.ndarray], response: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Log-scale sds of the rate multipliers that give each measure its error band.

    Parameters
    ----------
    band_log_sd : mapping
        Measure -> the log-scale sd its forecast error band implies at each
        horizon (half the log width of the 10th-90th band / 1.2816).
    response : mapping
        ``"cin"`` and ``"cla"`` -> how a stock responds to a multiplier of its
        starts at each horizon (d log stock / d log starts, from 0 to 1).

    Returns
    -------
    dict
        Multiplier sds for ``referrals`` (referral rate), ``cin`` (start share
        of referrals), ``cpp`` (share of children in need) and ``cla`` (start
        rate). Each measure's band averaged over the horizons is matched:
        referrals directly; children in need by the referral and start-share
        multipliers together (both scale its starts), so the start share adds
        only what referrals do not explain; plans by the children in need
        spread plus their share's; children looked after by the start rate.
        A source whose share of the spread is already covered gets 0.
    """
    out = {}
    mean = {m: float(np.nanmean(v)) for m, v in band_log_sd.items()}
    # the stocks' responses over the same years as the bands
    n = min([len(v) for v in band_log_sd.values()] or [0])
    response = {k: np.asarray(v, dtype=float)[:n] for k, v in response.items()}
    if "referrals" in mean:
        out["referrals"] = mean["referrals"]
    if "cin_at_31_march" in mean and "cin" in response:
        total = mean["cin_at_31_march"] / float(np.mean(response["cin"]))
        out["cin"] = math.sqrt(max(0.0, total ** 2 - out.get("referrals", 0.0) ** 2))
        if "cpp_at_31_march" in mean:
            cin_spread = response["cin"] * math.hypot(out.get("referrals", 0.0), out["cin"])
            own = mean["cpp_at_31_march"] ** 2 - float(np.mean(cin_spread)) ** 2
            out["cpp"] = math.sqrt(max(0.0, own))
    if "cla_at_31_march" in mean and "cla" in response:
        out["cla"] = mean["cla_at_31_march"] / float(np.mean(response["cla"]))
    return {k: v for k, v in out.items() if np.isfinite(v)}


def _response(opening: float, starts: np.ndarray, exit_rate: np.ndarray) -> np.ndarray:
    """d log closing stock / d log starts at each year (a 1% finite difference)."""
    base = stock_flow(np.array([opening]), starts[None, :], exit_rate[None, :]).closing[0]
    up = stock_flow(np.array([opening]), 1.01 * starts[None, :], exit_rate[None, :]).closing[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(up / base) / math.log(1.01)


def _exit_path(opening: float, starts: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Exit rates taking (opening + starts) to ``target`` each year, clipped to [0, 1].

    Returns the rates, the stock they give, and the indexes of clipped years.
    """
    rates, stock, clipped = np.empty(len(target)), np.empty(len(target)), []
    current = float(opening)
    for k, (s, goal) in enumerate(zip(starts.tolist(), target.tolist())):
        during = current + s
        # with nobody in the year (during = 0) no rate can reach a positive forecast
        rate = 1 - goal / during if during > 0 else (0.0 if goal == 0 else -math.inf)
        if not 0 <= rate <= 1:
            clipped.append(k)
            rate = min(max(rate, 0.0), 1.0)
        rates[k], current = rate, (1 - rate) * during
        stock[k] = current
    return rates, stock, clipped


def _model_population(est: Mapping[str, Estimate], fit_to: int, horizon: int) -> np.ndarray:
    """The population the model divides each year's flows by: mid-``fit_to`` onwards [children]."""
    pop = est["population.age_0_17"].values or {}
    growth = est["population.growth_rate"].value if "population.growth_rate" in est else 0.0
    labels = [financial_year_label(fit_to + k) for k in range(horizon)]
    known = [label for label in sorted(pop) if label <= labels[0]]
    out, current = [], pop[known[-1]] if known else math.nan
    for label in labels:
        current = pop[label] if label in pop else (current if label == labels[0] else current * (1 + growth))
        out.append(current)
    return np.array(out, dtype=float)


def _forecast_words(measure: str, m: fc.MeasurePooling, members: Mapping[str, np.ndarray], last: float,
                    fit_to: int, horizon: int, region: str | None) -> str:
    """What the forecast averaged; ``region`` names the region pulled towards (None: England)."""
    s = m.smoothing
    g = m.region_gap if region else m.gap
    parts = [f"pooled damped-trend smoothing of log(1 + figure) (alpha {s.alpha:g}, beta {s.beta:g}, "
             f"phi {s.phi:g})"]
    if "pooled" in members and g is not None:
        where, towards = (f"its region ({region})", "the region's") if region else ("England", "England's")
        why = ""
        if m.reference == "region" and not region:
            why = ("; the shared parameters pull towards the authority's region, but the region's figures were "
                   "not given")
        elif len(m.reference_errors) == 2:
            other = "England" if region else "the region"
            why = (f"; {'the region' if region else 'England'} rather than {other} because, from earlier origins, "
                   "the forecasts pulled towards it erred less")
        parts.append(f"partial pooling towards {where} (each year the rate per child moves, relative to "
                     f"{towards}, by {g.const:+.4f} {g.gap:+.3f} x the log gap {g.change:+.3f} x the last "
                     f"relative change{why})")
    parts.append(f"the last published figure ({last:,.0f} in {fit_to})")
    return (f"{fc.MEASURES[measure].capitalize()} forecast for {fit_to + 1} to {fit_to + horizon} as the "
            f"average of {len(parts)}: " + "; ".join(parts) + f". Shared parameters fitted on every "
            f"authority's figures up to {fit_to}.")


def _band_log_sd(m: fc.MeasurePooling, horizon: int) -> np.ndarray | None:
    """Log-scale sd implied at each horizon by the pooled 10th-90th percentile log errors."""
    low, high = (np.asarray(m.errors[name], dtype=float)[:horizon] for name in range_columns())
    sd = (high - low) / _BAND_WIDTH_SD
    return sd if len(sd) and np.isfinite(sd).all() else None


def _region_rates(region: pd.DataFrame | None, own_code: str, years: np.ndarray,
                  fit_to: int) -> tuple[dict[str, np.ndarray], str]:
    """The log rate per child of each headline measure of the other authorities of the region
    (``own_code`` left out, as :func:`wcf_model.forecast.region_rates` does) on ``years``
    (NaN where none), and the region's name."""
    if region is None or region.empty:
        return {}, ""
    rows = region[(region["year"].astype(int) <= fit_to) & (region["la_code"] != own_code)]
    if rows.empty:
        return {}, ""
    panel = fc.Panel.from_frame(rows) if rows["measure"].isin(list(fc.MEASURES)).any() else None
    if panel is None:
        return {}, ""
    at = {int(y): k for k, y in enumerate(panel.years)}
    out = {}
    for m in fc.MEASURES:
        rate = fc.pooled_rate(panel.values[m], panel.values[fc.POPULATION])
        out[m] = np.array([rate[at[int(y)]] if int(y) in at else np.nan for y in years])
    names = sorted({n for n in rows.get("region_name", pd.Series(dtype=object)) if isinstance(n, str) and n})
    return out, names[0] if names else ""


def _pooled_paths(own: _History, eng: _History, est: dict[str, Estimate], fit_to: int, pooling: fc.Pooling,
                  horizon: int, region: pd.DataFrame | None = None) -> dict[str, Estimate]:
    """Replace the windowed headline rates by forecast rate paths (see the module docstring)."""
    measures = [*fc.MEASURES, fc.POPULATION]
    years, la = _arrays(own, measures, fit_to)
    eng_years, england = _arrays(eng, measures, fit_to)
    # England on the authority's years (its history may start elsewhere)
    england = {m: np.array([dict(zip(eng_years, v)).get(y, np.nan) for y in years]) for m, v in england.items()}
    regional, region_name = _region_rates(region, own.code, years, fit_to)
    if "population.age_0_17" not in est:
        return est
    pop = _model_population(est, fit_to, horizon)
    labels = [financial_year_label(fit_to + k) for k in range(horizon)]
    forecasts, words, bands = {}, {}, {}
    for measure, mp in pooling.measures.items():
        if measure not in _PATHS or _PATHS[measure] not in est or not np.isfinite(la[measure][-1]):
            continue
        # towards the region where the shared parameters chose it and the region's figures are here
        toward = (mp.reference == "region" and mp.region_gap is not None and measure in regional
                  and np.isfinite(regional[measure][-1]))
        members = fc.member_forecasts(la[measure], la[fc.POPULATION], england[measure],
                                      england[fc.POPULATION], mp.smoothing, mp.gap, horizon,
                                      future_population=pop[None, :],
                                      region_rate=regional[measure] if toward else None,
                                      region_gap=mp.region_gap if toward else None)
        path = fc.combine(members)[0]
        if not np.isfinite(path).all():
            continue
        forecasts[measure] = path
        words[measure] = _forecast_words(measure, mp, members, la[measure][-1], fit_to, horizon,
                                         (region_name or "its region") if toward else None)
        sd = _band_log_sd(mp, horizon)
        if sd is not None:
            bands[measure] = (sd, mp)
    if not forecasts:
        return est
    out = dict(est)
    years_used = tuple(int(y) for y in years)

    def path_estimate(name: str, values: np.ndarray, method: str, note: list[str]) -> None:
        values = np.array([_bounded(name, float(v), note) for v in values])
        out[name] = Estimate(name, None, {lab: float(v) for lab, v in zip(labels, values)},
                             parameter_specs()[name].unit, method, years_used, False, ". ".join(note))

    referrals = pop / 1e4 * est["demand.referrals.rate_per_10k"].value if (
        est["demand.referrals.rate_per_10k"].values is None) else None
    if "referrals" in forecasts:
        referrals = forecasts["referrals"]
        path_estimate("demand.referrals.rate_per_10k", referrals / pop * 1e4,
                      words["referrals"] + " Divided by the model's 0-17 population of each year x 10,000.", [])
    response: dict[str, np.ndarray] = {}

    def exit_rates(measure: str, name: str, key: str, starts: np.ndarray, starting: str) -> np.ndarray:
        """Set the exit-rate path that meets the forecast of a stock; return the stock it gives."""
        opening = la[measure][-1]
        rates, stock, clipped = _exit_path(opening, starts, forecasts[measure])
        note = ([f"the forecast rises faster than the starts allow in {', '.join(labels[k] for k in clipped)}: "
                 "the rate is clipped to 0 there"] if clipped else [])
        path_estimate(name, rates, words[measure] + (
            f" The exit rate of each year is the one that takes the {fc.MEASURES[measure]} at the start of the "
            f"year plus {starting} to the forecast."), note)
        response[key] = _response(opening, starts, rates)
        return stock

    share = est.get("demand.cin.start_share_of_referrals")
    cin_stock = None
    if "cin_at_31_march" in forecasts and share is not None and referrals is not None:
        cin_stock = exit_rates("cin_at_31_march", "demand.cin.exit_rate", "cin", share.value * referrals,
                               f"the episodes started ({share.value:.3f} x the year's referrals)")
    if "cpp_at_31_march" in forecasts and cin_stock is not None:
        path_estimate("demand.cpp.share_of_cin", forecasts["cpp_at_31_march"] / cin_stock,
                      words["cpp_at_31_march"] + " Divided by the model's children in need at 31 March.", [])
    cla_rate = est.get("demand.cla.start_rate_per_10k")
    if "cla_at_31_march" in forecasts and cla_rate is not None:
        exit_rates("cla_at_31_march", "demand.cla.exit_rate", "cla", pop / 1e4 * cla_rate.value,
                   f"those starting ({cla_rate.value:.2f} per 10,000 children)")
    return _with_spreads(out, bands, response)


#: Which parameter carries each spread of :func:`rate_spreads`.
_SPREAD_ON = {"referrals": "demand.referrals.rate_per_10k", "cin": "demand.cin.start_share_of_referrals",
              "cpp": "demand.cpp.share_of_cin", "cla": "demand.cla.start_rate_per_10k"}
_SPREAD_OF = {"referrals": "referrals", "cin": "cin_at_31_march", "cpp": "cpp_at_31_march",
              "cla": "cla_at_31_march"}


def _with_spreads(est: dict[str, Estimate], bands: Mapping, response: Mapping[str, np.ndarray]) -> dict[str, Estimate]:
    spreads = rate_spreads({m: b[0] for m, b in bands.items()}, response)
    out = dict(est)
    for key, sigma in spreads.items():
        name, measure = _SPREAD_ON[key], _SPREAD_OF[key]
        if name not in out:
            continue
        # on a path the distribution multiplies it; on a single figure it is the figure's own,
        # and a share stays within [0, 1] (a beta with the same spread)
        by_year = out[name].values is not None
        if by_year:
            dist = _lognormal(sigma)
        elif UNITS[out[name].unit].kind == "share":
            dist = _beta(sigma, float(out[name].value))
        else:
            dist = _lognormal(sigma, float(out[name].value))
        if dist is None:
            continue
        sd, mp = bands[measure]
        low, high = (mp.errors[name] for name in range_columns())
        what = ("lognormal multiplier of the path (median 1, log-scale sd" if by_year else
                f"{dist['type']} distribution (centred on {out[name].value:.4g}, spread as a log-scale sd of")
        words = (f" Uncertainty: a {what} {sigma:.3f}) chosen so that "
                 f"{fc.MEASURES[measure]} have, on average over the first {len(sd)} years, the "
                 f"{range_label('-')} band of the method's errors at earlier origins ({mp.error_count:,} authority-years: "
                 f"{math.expm1(low[0]):+.0%} to {math.expm1(high[0]):+.0%} one year ahead, "
                 f"{math.expm1(low[len(sd) - 1]):+.0%} to {math.expm1(high[len(sd) - 1]):+.0%} {len(sd)} years ahead).")
        out[name] = replace(out[name], method=out[name].method + words, distribution=dist)
    return out


def calibrate(la: pd.DataFrame, england: pd.DataFrame, fit_to: int, window: int = 3, method: str = "pooled",
              pooling: fc.Pooling | None = None, horizon: int = 10,
              region: pd.DataFrame | None = None) -> dict[str, Estimate]:
    """Estimate the demand and workforce parameters from an authority's history.

    Parameters
    ----------
    la : pandas.DataFrame
        Tidy rows of one authority (:func:`wcf_model.data.load_extract`, or
        :func:`wcf_model.tidy.combine` output filtered to one ``la_code``).
    england : pandas.DataFrame
        Tidy rows of England, the fallback where the authority's figures are
        missing.
    fit_to : int
        Last data year that may be used [calendar year of the reference date];
        later rows are ignored.
    window : int, default 3
        Number of years ending at ``fit_to`` whose yearly ratios are averaged.
    method : {"pooled", "window"}
        ``"pooled"`` gives the headline rates as forecast paths by year with
        their uncertainty (module docstring); ``"window"`` the windowed mean.
    pooling : wcf_model.forecast.Pooling, optional
        Parameters shared across authorities, fitted up to ``fit_to``; by
        default those shipped in ``data/`` (:func:`wcf_model.forecast.shipped_pooling`).
    horizon : int, default 10
        Years of each rate path [years]; a scenario carries the last value on.
    region : pandas.DataFrame, optional
        Tidy rows of every authority in the authority's region
        (:func:`wcf_model.tidy.region_rows`), for a partial-pooling member that
        pulls towards the region's rate when ``pooling`` chose it; without
        them it pulls towards England's, and the method says so.

    Returns
    -------
    dict of str to Estimate
        By parameter name, in :data:`PARAMETERS` order. Parameters for which
        neither the authority nor England has figures are absent (see
        :func:`missing`). The method of each is in the module docstring and
        in each estimate's ``method``.

    Raises
    ------
    UsageError
        If ``window`` or ``horizon`` is below 1, ``method`` is unknown, or
        ``pooling`` was fitted to a later year than ``fit_to``.
    DataError
        If a frame holds several authorities or several rows for one figure.
    """
    if window < 1:
        raise UsageError(f"window must be at least 1 year, got {window}")
    if horizon < 1:
        raise UsageError(f"horizon must be at least 1 year, got {horizon}")
    if method not in ("pooled", "window"):
        raise UsageError(f"method must be 'pooled' or 'window', got {method!r}")
    if pooling is not None and pooling.fit_to > fit_to:
        raise UsageError(f"the pooled parameters were fitted to {pooling.fit_to}, after fit_to {fit_to}: "
                         "they would use figures the forecast may not see")
    own = _History(la, fit_to, "the authority")
    eng = _History(england, fit_to, "England")
    years = list(range(fit_to - window + 1, fit_to + 1))
    out: dict[str, Estimate | None] = {}
    for name in PARAMETERS:
        if name == "population.age_0_17":
            out[name] = _population(own, fit_to)
        elif name == "demand.cla.uasc_share":
            out[name] = _uasc_share(own, eng, fit_to)
        elif name in _STOCKS:
            out[name] = _stock(name, own, eng, fit_to)
        else:
            out[name] = _windowed(name, own, eng, years)
    est = {name: e for name, e in out.items() if e is not None}
    if method == "pooled":
        pooling = pooling if pooling is not None else fc.shipped_pooling(fit_to)
        if pooling is not None:
            est = _pooled_paths(own, eng, est, fit_to, pooling, horizon, region)
        else:
            why = (f"no forecast parameters shared across authorities for {fit_to} (data/{fc.POOLING_FILE} "
                   "starts later or is missing), so the windowed mean is used")
            for name in _PATHS.values():
                if name in est:
                    est[name] = replace(est[name], note=". ".join(filter(None, [est[name].note, why])))
    return {name: est[name] for name in PARAMETERS if name in est}


def missing(estimates: dict[str, Estimate]) -> list[str]:
    """Names in :data:`PARAMETERS` that ``estimates`` lacks (no figures anywhere)."""
    return [name for name in PARAMETERS if name not in estimates]


def to_parameters(estimates: dict[str, Estimate], source: str) -> dict:
    """A scenario ``parameters:`` tree from estimates.

    Parameters
    ----------
    estimates : dict of str to Estimate
        As returned by :func:`calibrate`.
    source : str
        The ``source`` written on every figure (e.g. the extract and releases).

    Returns
    -------
    dict
        Nested by the dotted name; each leaf holds ``value`` or ``values``,
        ``unit``, ``source``, ``confidence`` (1 for the authority's own
        figures, 4 where England's were used) and ``note`` (the method, then
        the estimate's note).

    Raises
    ------
    UsageError
        If a name is not in the catalogue or a unit is not its catalogue unit.
    """
    specs = parameter_specs()
    tree: dict = {}
    for name, est in estimates.items():
        if name not in specs or est.unit != specs[name].unit:
            raise UsageError(f"{name} [{est.unit}] is not a catalogue parameter with that unit")
        leaf: dict = {"values": dict(est.values)} if est.values is not None else {"value": float(est.value)}
        leaf.update(unit=est.unit, source=source,
                    confidence=CONFIDENCE_FALLBACK if est.fallback else CONFIDENCE_OWN,
                    note=f"{est.method} {est.note}".strip() if est.note else est.method)
        if est.distribution is not None:
            leaf["distribution"] = dict(est.distribution)
        node = tree
        *groups, last = name.split(".")
        for group in groups:
            node = node.setdefault(group, {})
        node[last] = leaf
    return tree
