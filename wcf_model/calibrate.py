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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from .catalogue import UNITS, parameter_specs
from .errors import DataError, UsageError
from .schema import financial_year_label

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
    """

    name: str
    value: float | None
    values: dict[str, float] | None
    unit: str
    method: str
    years: tuple[int, ...]
    fallback: bool
    note: str = ""


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


def _years_text(years: Iterable[int]) -> str:
    return ", ".join(str(y) for y in years)


def _gap_text(gaps: list[_Missing]) -> str:
    """'cin_ended suppressed (c) in 2016, 2017; referrals not in the data in 2016'."""
    grouped: dict[tuple[str, str], list[int]] = {}
    for g in gaps:
        grouped.setdefault((g.measure, g.reason), []).append(g.year)
    return "; ".join(f"{m} {r} in {_years_text(sorted(set(ys)))}" for (m, r), ys in grouped.items())


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
    note += [f"{who.name}'s {remark} for Y = {_years_text(ys)}" for remark, ys in remarks.items()]
    value = _bounded(name, sum(values) / len(values), note)
    if name == "demand.cin.exit_rate":
        ended, _, _, _ = _collect(_CIN_EPISODES_ENDED, who, used)
        if len(ended) == len(used) and abs(sum(ended) / len(ended) - value) > _RECONCILE_TOLERANCE:
            note.append(f"the published episodes ended give {sum(ended) / len(ended):.3f} (ended / (at "
                        "31 March Y-1 + started)); they do not reconcile with the 31 March counts, which "
                        "the model must reproduce, so the rate the counts imply is used")
    method = (f"Mean over Y = {_years_text(used)} (a window of {len(years)} year(s) ending {years[-1]}) "
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
    note = f"no estimate for mid-{_years_text(gaps)}" if gaps else ""
    return Estimate(name, None, values, "children", method, tuple(pop), False, note)


def calibrate(la: pd.DataFrame, england: pd.DataFrame, fit_to: int, window: int = 3) -> dict[str, Estimate]:
    """Estimate the demand and workforce parameters from an authority's history.

    Parameters
    ----------
    la : pandas.DataFrame
        Tidy rows of one authority (:func:`wcf_model.data.load_extract`, or
        :func:`wcf_model.data.combine` output filtered to one ``la_code``).
    england : pandas.DataFrame
        Tidy rows of England, the fallback where the authority's figures are
        missing.
    fit_to : int
        Last data year that may be used [calendar year of the reference date];
        later rows are ignored.
    window : int, default 3
        Number of years ending at ``fit_to`` whose yearly ratios are averaged.

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
        If ``window`` is below 1.
    DataError
        If a frame holds several authorities or several rows for one figure.
    """
    if window < 1:
        raise UsageError(f"window must be at least 1 year, got {window}")
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
    return {name: est for name, est in out.items() if est is not None}


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
        node = tree
        *groups, last = name.split(".")
        for group in groups:
            node = node.setdefault(group, {})
        node[last] = leaf
    return tree
