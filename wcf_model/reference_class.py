"""What happened elsewhere: the councils that moved children's services out, and what changed.

Since 2014 about a dozen English councils have moved their children's
services into a trust or a company (``data/reference_class.csv`` lists them,
with a published source for every date). This module measures, for each
driver the DfE statistics hold, how that driver changed after the move
compared with councils that had not (yet) moved, and summarises how far the
trusts' and companies' budgets were overrun (``data/reference_class_overruns.csv``).

Method
------
Councils moved in different years (staggered adoption). A two-way fixed
effects regression of the driver on a "moved" dummy would then compare late
movers with early movers as if the early ones were untreated, and is biased
whenever the effect grows or shrinks over time (Goodman-Bacon 2021; de
Chaisemartin and D'Haultfoeuille 2020). We use instead the group-time
estimator of Callaway and Sant'Anna (2021), one council at a time:

* for a council that moved so that its first published figure after the move
  is for year ``g``, and any year ``t``, the effect estimate is its change from
  ``g - 1`` (the last figure before the move) to ``t``, minus the average change
  over the same two years among the comparison councils: those that had not
  moved by either year (never-movers and not-yet-movers);
* the event-study estimate for ``e`` years after the move is the average of
  those council estimates at ``t = g + e``; ``e = -1`` is zero by construction,
  and the estimates for ``e <= -2`` compare the years *before* the move, which
  is the pre-trend check;
* the overall estimate averages every council-year from ``e = 0`` to the
  horizon (each council-year weighs the same).

Years after a council took its services back in-house are not counted as
moved years. Rates (per 10,000 children) are compared on a log scale, so the
effect is a proportional change; shares and caseloads in their own units.

Identifying assumption (parallel trends), in plain words: had the movers not
moved, their drivers would have risen or fallen by as much as the comparison
councils' did over the same years. It cannot be proved; the pre-trend check
shows whether movers and comparison councils already drifted apart before the
moves (if they did, the estimate is suspect). Moves were usually ordered after
an inadequate Ofsted judgement, so movers were councils in trouble: a driver
that recovers anyway after a crisis (regression to the mean) would show up as
an "effect" of the move. No anticipation is assumed either: nothing changed
because a move was coming.

Interval: placebo (randomisation) inference. With only six to twelve movers a
council-level bootstrap has too few clusters to be trusted, so we learn how
large an estimate arises by chance from the ~140 councils that never moved:
each placebo draw gives the movers' dates to randomly chosen non-movers and
runs the same estimator; the spread of those placebo estimates (which have no
effect in them) is the sampling error of the real one (Conley and Taber 2011).
The interval is the estimate minus the placebo quantiles, which assumes the
movers' year-to-year noise is like that of other councils.

References
----------
Callaway, B. and Sant'Anna, P. (2021). Difference-in-differences with multiple
time periods. Journal of Econometrics 225(2), 200-230.
Conley, T. and Taber, C. (2011). Inference with "difference in differences"
with a small number of policy changes. Review of Economics and Statistics
93(1), 113-125.
Goodman-Bacon, A. (2021). Difference-in-differences with variation in
treatment timing. Journal of Econometrics 225(2), 254-277.
HM Treasury (2022). The Green Book, section on optimism bias (reference class
forecasting).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .data import DEFAULT_DATA_DIR, load_frame
from .tidy import ENGLAND
from .errors import DataError, UsageError

#: The reference class and the overruns, shipped in ``data/``.
REFERENCE_CLASS_FILE = DEFAULT_DATA_DIR / "reference_class.csv"
OVERRUNS_FILE = DEFAULT_DATA_DIR / "reference_class_overruns.csv"

#: Kinds of move the reference class records.
MODELS = ("trust", "company", "partnership")

#: Columns of ``reference_class.csv`` and of ``reference_class_overruns.csv``.
SPELL_COLUMNS = ("council", "la_code", "vehicle", "model", "ownership", "scope", "transfer_date",
                 "transfer_source", "return_date", "return_source", "note")
OVERRUN_COLUMNS = ("council", "vehicle", "financial_year", "budget_gbp", "overspend_gbp", "status",
                   "source", "note")

#: Councils whose series must be joined to run on: a unit and the sets of DfE
#: codes that make it up, one set per period (the first set whose members all
#: publish a figure in a year gives that year's figure, as their sum).
#: Northamptonshire split into North (940) and West (941) on 1 April 2021 and
#: the workforce census reports the two jointly; Kingston and Richmond make one
#: workforce return (Achieving for Children); Cumbria split in 2023; Dorset,
#: Bournemouth and Poole became Dorset and Bournemouth, Christchurch and Poole
#: in 2019 (Christchurch moved between them, so only the total runs on).
UNIT_GROUPS: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "928": ("Northamptonshire (North and West Northamptonshire from 2021)",
            (("928",), ("940", "941"), ("940/941",))),
    "314/318": ("Kingston upon Thames and Richmond upon Thames",
                (("314/318",), ("314", "318"))),
    "909": ("Cumbria (Cumberland and Westmorland and Furness from 2023)",
            (("909",), ("942", "943"))),
    "835/836/837": ("Dorset, Bournemouth and Poole (Dorset and BCP from 2019)",
                    (("835", "836", "837"), ("838", "839"))),
}

#: Counts each driver is built from (summed across a unit's members).
COMPONENTS = ("sw_fte", "sw_agency_fte", "sw_leavers_fte", "sw_vacancy_fte", "sw_cases",
              "sw_case_holders_fte", "referrals", "rereferrals", "cla_starts", "cla_at_31_march",
              "cpp_at_31_march", "population_0_17")

#: Reference day of the figures: the workforce census is at 30 September, the
#: children's statistics at (or for the year to) 31 March.
CENSUS, YEAR_END = (9, 30), (3, 31)


@dataclass(frozen=True)
class Driver:
    """One driver measured in the reference class.

    Attributes
    ----------
    name, label : str
        Identifier and words for a reader.
    unit : str
        Unit of the published figure.
    scale : str
        ``"level"`` (effects in the unit) or ``"log"`` (proportional effects).
    reference : tuple of int
        (month, day) the figure refers to.
    model_driver, model_mode : str or None
        The catalogue parameter and effect mode an estimate becomes, if any.
    model_factor : float
        Multiplies a level estimate into the model driver's unit (percent -> share).
    why_not_model : str
        Why no model driver is given, when none is.
    """

    name: str
    label: str
    unit: str
    scale: str
    reference: tuple[int, int]
    model_driver: str | None = None
    model_mode: str | None = None
    model_factor: float = 1.0
    why_not_model: str = ""

    def values(self, w: pd.DataFrame) -> pd.Series:
        """The driver from a unit-year table of :data:`COMPONENTS` (with ``population_lag``)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return _FORMULAS[self.name](w)


_FORMULAS = {
    # DfE definitions, reproduced from the published components to within rounding
    # (agency rate = agency FTE / (agency + employed FTE) and so on).
    "agency_share": lambda w: 100 * w.sw_agency_fte / (w.sw_agency_fte + w.sw_fte),
    "turnover": lambda w: 100 * w.sw_leavers_fte / w.sw_fte,
    "vacancy": lambda w: 100 * w.sw_vacancy_fte / (w.sw_vacancy_fte + w.sw_fte),
    "caseload": lambda w: w.sw_cases / w.sw_case_holders_fte,
    # rates divide by the ONS 0-17 estimate of the previous 30 June, as the DfE does
    "referral_rate": lambda w: 1e4 * w.referrals / w.population_lag,
    "rereferral_share": lambda w: 100 * w.rereferrals / w.referrals,
    "cla_starts_rate": lambda w: 1e4 * w.cla_starts / w.population_lag,
    "cla_rate": lambda w: 1e4 * w.cla_at_31_march / w.population_lag,
    "cpp_rate": lambda w: 1e4 * w.cpp_at_31_march / w.population_lag,
}

DRIVERS: dict[str, Driver] = {d.name: d for d in [
    Driver("agency_share", "Agency social workers", "% of social workers", "level", CENSUS,
           "workforce.agency_share", "add", 0.01),
    Driver("turnover", "Social worker turnover", "% a year", "level", CENSUS,
           "workforce.turnover_rate", "add", 0.01),
    Driver("vacancy", "Social worker vacancies", "% of posts", "level", CENSUS,
           why_not_model="the model's vacancy rate counts only vacancies not covered by agency staff, "
                         "while the DfE rate counts all of them"),
    Driver("caseload", "Caseload per social worker", "cases per FTE", "level", CENSUS,
           "workforce.caseload_target", "add", 1.0),
    Driver("referral_rate", "Referrals", "per 10,000 children a year", "log", YEAR_END,
           "demand.referrals.rate_per_10k", "multiply"),
    Driver("rereferral_share", "Re-referrals within 12 months", "% of referrals", "level", YEAR_END,
           "demand.referrals.rereferral_share", "add", 0.01),
    Driver("cla_starts_rate", "Children starting to be looked after", "per 10,000 children a year", "log",
           YEAR_END, "demand.cla.start_rate_per_10k", "multiply"),
    Driver("cla_rate", "Children looked after", "per 10,000 children", "log", YEAR_END,
           why_not_model="the model projects the number looked after from starts and exits; it has no "
                         "rate to change"),
    Driver("cpp_rate", "Children on a child protection plan", "per 10,000 children", "log", YEAR_END,
           why_not_model="the model holds protection plans as a share of children in need, not as a rate"),
]}


# ---------------------------------------------------------------------------
# The reference class and the overruns
# ---------------------------------------------------------------------------


def _read_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from None
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != columns:
        raise DataError(f"{path}:1: expected the columns {', '.join(columns)}; "
                        f"found {', '.join(reader.fieldnames or ['none'])}")
    return [(i + 2, {k: (v or "").strip() for k, v in row.items()}) for i, row in enumerate(reader)]


def _date(path: Path, line: int, key: str, text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DataError(f"{path}:{line}: {key}: expected a date such as 2019-10-01, got '{text}'") from None


def load_reference_class(path: str | Path | None = None) -> pd.DataFrame:
    """The councils that moved children's services out, one row per spell.

    Parameters
    ----------
    path : str or Path, optional
        A CSV with :data:`SPELL_COLUMNS`; the shipped ``data/reference_class.csv``
        by default.

    Returns
    -------
    DataFrame
        The rows, with ``transfer_date`` and ``return_date`` as dates (``None``
        where not published) and ``line`` (the CSV line, for messages).

    Raises
    ------
    DataError
        Naming the file and line: an unknown model, a bad date, a date without
        a source, a return before its transfer.
    """
    path = Path(path) if path is not None else REFERENCE_CLASS_FILE
    rows = []
    for line, row in _read_rows(path, SPELL_COLUMNS):
        where = f"{path}:{line}"
        if row["model"] not in MODELS:
            raise DataError(f"{where}: model: expected one of {', '.join(MODELS)}, got '{row['model']}'")
        if not row["council"] or not row["la_code"]:
            raise DataError(f"{where}: every row needs a council and its DfE la_code")
        transfer = _date(path, line, "transfer_date", row["transfer_date"])
        ret = _date(path, line, "return_date", row["return_date"])
        for key, when in (("transfer", transfer), ("return", ret)):
            if when is not None and not row[f"{key}_source"]:
                raise DataError(f"{where}: {key}_source: a {key} date needs a published source "
                                "(a date that cannot be sourced is left out)")
        if transfer is not None and ret is not None and ret <= transfer:
            raise DataError(f"{where}: return_date {ret} is not after transfer_date {transfer}")
        rows.append({**row, "transfer_date": transfer, "return_date": ret, "line": line})
    return pd.DataFrame(rows, columns=[*SPELL_COLUMNS, "line"])


def load_overruns(path: str | Path | None = None) -> pd.DataFrame:
    """Published overspends of the trusts and companies against their budgets.

    Returns
    -------
    DataFrame
        The rows with ``budget_gbp`` and ``overspend_gbp`` as floats (NaN where
        not published) and ``overrun`` = overspend / budget [share]: NaN when
        the budget is unknown, except that a published zero overspend is an
        overrun of 0 whatever the budget.
    """
    path = Path(path) if path is not None else OVERRUNS_FILE
    rows = []
    for line, row in _read_rows(path, OVERRUN_COLUMNS):
        where = f"{path}:{line}"
        values = {}
        for key in ("budget_gbp", "overspend_gbp"):
            try:
                values[key] = float(row[key]) if row[key] else np.nan
            except ValueError:
                raise DataError(f"{where}: {key}: expected a number of pounds, got '{row[key]}'") from None
        if np.isnan(values["overspend_gbp"]) or not row["source"]:
            raise DataError(f"{where}: every row needs an overspend_gbp and its source")
        if row["status"] not in ("outturn", "forecast"):
            raise DataError(f"{where}: status: expected outturn or forecast, got '{row['status']}'")
        rows.append({**row, **values, "line": line})
    frame = pd.DataFrame(rows, columns=[*OVERRUN_COLUMNS, "line"])
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["overrun"] = np.where(frame["overspend_gbp"] == 0, 0.0, frame["overspend_gbp"] / frame["budget_gbp"])
    return frame


def overrun_summary(overruns: pd.DataFrame, quantiles: Iterable[float] = (0.1, 0.5, 0.8, 0.9)) -> pd.DataFrame:
    """The distribution of overruns against budget, for reference-class forecasting.

    Parameters
    ----------
    overruns : DataFrame
        From :func:`load_overruns`.
    quantiles : iterable of float
        Which quantiles to give (linear interpolation between points).

    Returns
    -------
    DataFrame
        One row per statistic: ``points`` (council-years with a known
        overrun), ``councils``, ``mean`` and each quantile (``p50`` ...), as
        shares (0.12 = 12% over budget).
    """
    known = overruns[overruns["overrun"].notna()]
    x = known["overrun"].to_numpy(dtype=float)
    rows = [("points", float(len(x))), ("councils", float(known["council"].nunique())),
            ("mean", float(x.mean()) if len(x) else np.nan)]
    rows += [(f"p{round(q * 100)}", float(np.quantile(x, q)) if len(x) else np.nan) for q in quantiles]
    return pd.DataFrame(rows, columns=["statistic", "value"])


# ---------------------------------------------------------------------------
# The panel of councils
# ---------------------------------------------------------------------------


def load_statistics(data_dir: str | Path | None = None, *, min_councils: int = 100) -> pd.DataFrame:
    """Tidy DfE rows for every council, from an extract or a folder of downloads.

    Parameters
    ----------
    data_dir : str or Path, optional
        A folder holding ``dfe_extract.csv.gz`` (the repository's ``data/`` by
        default, which covers every council) or the DfE downloads themselves
        (:func:`wcf_model.data.load_frame`).
    min_councils : int
        Fewest councils the workforce and child protection figures must cover:
        a comparison needs (nearly) all of them.

    Raises
    ------
    DataError
        If nothing can be read, or the figures cover too few councils (the
        message says how to point at the downloads).
    """
    folder = data_dir if data_dir is not None else "data/"
    frame = load_frame(data_dir)
    covered = frame.loc[frame["measure"].isin(["sw_fte", "cpp_at_31_march"]) & frame["value"].notna()
                        & (frame["la_code"] != ENGLAND), "la_code"].nunique()
    if covered < min_councils:
        raise DataError(
            f"the figures in {folder} cover {covered} council(s); comparing the councils that moved with "
            f"those that did not needs every council (at least {min_councils}). Pass --data with a folder "
            "of the DfE downloads (children in need tables B1, C1 and D5, children looked after, the social "
            "work workforce indicators and the ONS population estimates; see data/README.md)")
    return frame


def unit_of(la_code: str) -> str:
    """The unit (see :data:`UNIT_GROUPS`) a DfE code is counted in."""
    for unit, (_, periods) in UNIT_GROUPS.items():
        if any(la_code in members for members in periods):
            return unit
    return la_code


def build_panel(tidy: pd.DataFrame) -> pd.DataFrame:
    """Every driver for every council unit and year, in one long table.

    Parameters
    ----------
    tidy : DataFrame
        Tidy DfE rows for all councils (:func:`load_statistics`).

    Returns
    -------
    DataFrame
        Columns ``unit`` (a DfE code, or a joined code from
        :data:`UNIT_GROUPS`), ``name``, ``driver``, ``year`` and ``value`` [in the
        driver's unit], rows with a value only.
    """
    rows = tidy[tidy["measure"].isin(COMPONENTS) & (tidy["la_code"] != ENGLAND)]
    missing = [m for m in COMPONENTS if m not in set(rows["measure"])]
    if missing:
        raise DataError(f"the figures lack {', '.join(missing)}, which the drivers are built from; give the "
                        "workforce indicators, children in need tables B1, C1 and D5, the children looked after "
                        "tables and the ONS population estimates")
    wide = rows.pivot_table(index=["la_code", "year"], columns="measure", values="value", aggfunc="first")
    wide = wide.reindex(columns=list(COMPONENTS))
    names = rows.drop_duplicates("la_code").set_index("la_code")["la_name"]
    grouped = {c for _, periods in UNIT_GROUPS.values() for members in periods for c in members}
    plain = wide[~wide.index.get_level_values("la_code").isin(grouped)]
    parts = [plain]
    unit_names = {code: names.get(code, code) for code in plain.index.get_level_values("la_code").unique()}
    for unit, (name, periods) in UNIT_GROUPS.items():
        joined = _join_members(wide, periods)
        if joined is not None:
            parts.append(joined.assign(la_code=unit).set_index("la_code", append=True)
                         .reorder_levels(["la_code", "year"]))
            unit_names[unit] = name
    units = pd.concat(parts).sort_index()
    # the population of the previous 30 June, per unit
    years = units.index.get_level_values("year")
    prev = units["population_0_17"].reindex(
        list(zip(units.index.get_level_values("la_code"), years - 1))).to_numpy()
    units["population_lag"] = prev
    out = []
    for driver in DRIVERS.values():
        v = driver.values(units).replace([np.inf, -np.inf], np.nan)
        if driver.scale == "log":
            v = v.where(v > 0)
        frame = v.rename("value").reset_index().dropna(subset=["value"])
        out.append(frame.assign(driver=driver.name))
    panel = pd.concat(out, ignore_index=True).rename(columns={"la_code": "unit"})
    panel["name"] = panel["unit"].map(unit_names)
    return panel[["unit", "name", "driver", "year", "value"]].sort_values(["driver", "unit", "year"],
                                                                          ignore_index=True)


def _join_members(wide: pd.DataFrame, periods: tuple[tuple[str, ...], ...]) -> pd.DataFrame | None:
    """Sum of each component over the first member set that is complete in each year."""
    codes = set(wide.index.get_level_values("la_code"))
    years = sorted({y for c in codes & {m for ms in periods for m in ms} for y in wide.loc[c].index})
    if not years:
        return None
    out = pd.DataFrame(np.nan, index=pd.Index(years, name="year"), columns=wide.columns)
    for col in wide.columns:
        for year in years:
            for members in periods:
                vals = [wide.at[(m, year), col] if (m, year) in wide.index else np.nan for m in members]
                if all(pd.notna(v) for v in vals):
                    out.at[year, col] = float(sum(vals))
                    break
    return out


# ---------------------------------------------------------------------------
# Treatment timing
# ---------------------------------------------------------------------------


def first_year_after(when: dt.date, reference: tuple[int, int]) -> int:
    """The first year whose figure (dated ``reference`` in that year) falls on or after ``when``.

    >>> first_year_after(dt.date(2019, 10, 1), (3, 31))   # first 31 March after a 1 October move
    2020
    >>> first_year_after(dt.date(2019, 10, 1), (9, 30))   # 30 September 2019 is the day before
    2020
    >>> first_year_after(dt.date(2018, 4, 1), (9, 30))
    2018
    """
    year = when.year
    return year if dt.date(year, *reference) >= when else year + 1


@dataclass(frozen=True)
class Timing:
    """When each unit moved, for one driver's reference day.

    ``first`` maps a unit to its first year after a move of any model (it is
    no comparison from then on); ``last`` to the last year still moved (the
    year before the figure after a return); ``treated`` lists the units whose
    move is being estimated (its model is among those chosen).
    """

    first: dict[str, int]
    last: dict[str, int | None]
    treated: tuple[str, ...]
    names: dict[str, str]


def timing(spells: pd.DataFrame, reference: tuple[int, int], models: Iterable[str]) -> Timing:
    """Each unit's first moved year and last moved year, for figures dated ``reference``.

    A unit's move is its first spell's transfer (a later change of form, such
    as Slough's trust becoming a council company, continues it); its return is
    that of its last spell, if any. A spell without a transfer date (not
    published) still marks the unit as no comparison.
    """
    models = set(models)
    first: dict[str, int] = {}
    last: dict[str, int | None] = {}
    treated: list[str] = []
    names: dict[str, str] = {}
    for unit, rows in spells.assign(unit=spells["la_code"].map(unit_of)).groupby("unit", sort=False):
        dated = rows[rows["transfer_date"].notna()].sort_values("transfer_date")
        names[unit] = " and ".join(dict.fromkeys(rows["council"]))
        if dated.empty:
            first[unit] = -10**6  # moved before any figure: never a comparison
            last[unit] = None
            continue
        first[unit] = first_year_after(dated["transfer_date"].iloc[0], reference)
        ret = dated["return_date"].iloc[-1]
        last[unit] = None if ret is None or pd.isna(ret) else first_year_after(ret, reference) - 1
        if dated["model"].iloc[0] in models:
            treated.append(unit)
    return Timing(first, last, tuple(treated), names)


# ---------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------

NEVER = 10**6


def _att_cells(y: np.ndarray, world_first: np.ndarray, slot_units: np.ndarray, slot_first: np.ndarray,
               slot_last: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Group-time effects for every slot, event time and draw.

    Parameters
    ----------
    y : ndarray (units, years)
        The driver on its estimation scale, NaN where not published.
    world_first : ndarray (units,)
        Index of each unit's first moved year in this world (NEVER if never).
    slot_units : ndarray (draws, slots)
        Which unit plays each moved council in each draw.
    slot_first, slot_last : ndarray (slots,)
        Year index of each moved council's first and last moved figure.
    events : ndarray (events,)
        Event times ``e`` (``t = first + e``); ``-1`` gives zero.

    Returns
    -------
    ndarray (draws, slots, events)
        The council's change from ``first - 1`` to ``t`` minus the comparison
        councils' mean change; NaN where a figure is missing, ``t`` is outside
        the years or after a return, or no comparison is left.
    """
    n_units, n_years = y.shape
    draws, slots = slot_units.shape
    out = np.full((draws, slots, len(events)), np.nan)
    observed = ~np.isnan(y)
    y0 = np.where(observed, y, 0.0)
    for k in range(slots):
        b = slot_first[k] - 1
        for j, e in enumerate(events):
            t = slot_first[k] + e
            if e == -1:  # the base year itself: zero wherever the council has a figure then
                if 0 <= b < n_years:
                    out[:, k, j] = np.where(observed[slot_units[:, k], b], 0.0, np.nan)
                continue
            if b < 0 or t < 0 or t >= n_years or b >= n_years or t > slot_last[k]:
                continue
            horizon = max(b, t)
            both = observed[:, b] & observed[:, t]
            diff = y0[:, t] - y0[:, b]
            valid = (world_first > horizon) & both
            total, count = diff[valid].sum(), valid.sum()
            # units standing in for moved councils: take out those counted but not
            # allowed (moved by now, or the council itself), add back none
            u = slot_units
            counted = (world_first[u] > horizon) & both[u]
            allowed = (slot_first > horizon)[None, :] & (np.arange(slots) != k)[None, :] & both[u]
            fix = counted & ~allowed
            adj_total = total - np.where(fix, diff[u], 0.0).sum(axis=1)
            adj_count = count - fix.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                control = adj_total / adj_count
            own = np.where(both[u[:, k]], diff[u[:, k]], np.nan)
            out[:, k, j] = np.where(adj_count > 0, own - control, np.nan)
    return out


def _aggregate(cells: np.ndarray, events: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Event-study estimates ``(draws, events)`` and the overall estimate ``(draws,)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column with no council is NaN, as wanted
        by_event = np.nanmean(cells, axis=1)
        post = cells[:, :, (events >= 0) & (events <= horizon)]
        overall = np.nanmean(post.reshape(post.shape[0], -1), axis=1)
    return by_event, overall


@dataclass(frozen=True)
class DriverEstimate:
    """The reference-class estimate for one driver.

    Attributes
    ----------
    driver : Driver
    events : DataFrame
        One row per event time ``e``: ``estimate``, ``lower``, ``upper``,
        ``p_value`` and ``councils`` (how many moved councils give that year).
    overall : dict
        ``estimate``, ``lower``, ``upper``, ``p_value``, ``councils``, ``cells``
        (council-years averaged), ``pretrend_p`` (joint placebo test of the
        leads) and, for log-scale drivers, the same as percentage changes.
    contributions : DataFrame
        Each moved council's estimate by event time (``unit``, ``name``,
        ``event``, ``estimate``), for reading who drives the average.
    placebo : ndarray
        The placebo overall estimates (no effect in them).
    level : float
        Coverage of the intervals.
    """

    driver: Driver
    events: pd.DataFrame
    overall: dict
    contributions: pd.DataFrame
    placebo: np.ndarray = field(repr=False)
    level: float = 0.9

    def to_model(self) -> dict | None:
        """The estimate as a model effect: driver, mode, change and a normal distribution.

        The normal's standard deviation is the interval's half-width over the
        normal quantile of the interval's level, so the effect's range in the
        model matches the evidence. None when the driver has no model
        counterpart or no estimate.
        """
        d, o = self.driver, self.overall
        if d.model_driver is None or not np.isfinite(o["estimate"]):
            return None
        from scipy.stats import norm

        z = norm.ppf(0.5 + self.level / 2)
        if d.scale == "log":
            change, low, high = (float(np.expm1(o[k])) for k in ("estimate", "lower", "upper"))
        else:
            change, low, high = (o[k] * d.model_factor for k in ("estimate", "lower", "upper"))
        sd = (high - low) / (2 * z)
        return {"driver": d.model_driver, "mode": d.model_mode, "change": float(change),
                "sd": float(sd), "low": float(low), "high": float(high)}


def estimate_driver(panel: pd.DataFrame, spells: pd.DataFrame, driver: str | Driver, *,
                    horizon: int = 3, leads: int = 3, placebos: int = 999, seed: int = 20170919,
                    level: float = 0.9, models: Iterable[str] = ("trust", "company")) -> DriverEstimate:
    """Estimate the change in one driver after the move, with a placebo interval.

    Parameters
    ----------
    panel : DataFrame
        From :func:`build_panel` (or any frame with ``unit``, ``name``,
        ``driver``, ``year``, ``value``).
    spells : DataFrame
        From :func:`load_reference_class`.
    driver : str or Driver
        Which driver.
    horizon : int
        Last event time averaged into the overall estimate (3 = the first four
        figures after the move).
    leads : int
        Pre-move event times checked (``e = -2 ... -(leads + 1)``).
    placebos : int
        Placebo draws for the interval.
    seed : int
        Seed of the placebo draws (the same seed gives the same interval).
    level : float
        Coverage of the intervals (0.9 = 5th to 95th percentile).
    models : iterable of str
        Which kinds of move to estimate (councils moved by another kind are
        left out of the comparison group too).

    Raises
    ------
    UsageError
        For an unknown driver or nonsensical settings.
    """
    d = DRIVERS.get(driver, None) if isinstance(driver, str) else driver
    if d is None:
        raise UsageError(f"unknown driver '{driver}'; known: {', '.join(DRIVERS)}")
    if horizon < 0 or leads < 0 or placebos < 19 or not 0 < level < 1:
        raise UsageError("horizon and leads must be 0 or more, placebos at least 19, level between 0 and 1")
    rows = panel[panel["driver"] == d.name]
    if rows.empty:
        raise DataError(f"no figures for {d.label.lower()} in the panel")
    wide = rows.pivot_table(index="unit", columns="year", values="value", aggfunc="first")
    years = np.array(wide.columns, dtype=int)
    y = wide.to_numpy(dtype=float)
    if d.scale == "log":
        y = np.log(y)
    units = list(wide.index)
    index = {u: i for i, u in enumerate(units)}
    names = rows.drop_duplicates("unit").set_index("unit")["name"].to_dict()
    tm = timing(spells, d.reference, models)
    y0 = int(years[0])
    world_first = np.full(len(units), NEVER)
    for u, g in tm.first.items():
        if u in index:
            world_first[index[u]] = g - y0
    moved = [u for u in tm.treated if u in index]
    slot_first = np.array([tm.first[u] - y0 for u in moved], dtype=int)
    slot_last = np.array([(tm.last[u] - y0) if tm.last[u] is not None else NEVER for u in moved], dtype=int)
    events = np.arange(-(leads + 1), horizon + 1)
    real = _att_cells(y, world_first, np.array([[index[u] for u in moved]], dtype=int), slot_first,
                      slot_last, events)
    # placebo world: only councils that never moved, each draw giving the movers' dates to random ones
    pool = np.flatnonzero(world_first == NEVER)
    rng = np.random.default_rng(seed)
    picks = np.argsort(rng.random((placebos, len(pool))), axis=1)[:, :len(moved)]
    fake = _att_cells(y[pool], np.full(len(pool), NEVER), picks, slot_first, slot_last, events)
    est_e, est = _aggregate(real, events, horizon)
    plc_e, plc = _aggregate(fake, events, horizon)
    alpha = 1 - level
    table = []
    for j, e in enumerate(events):
        n = int(np.sum(~np.isnan(real[0, :, j])))
        if e == -1:
            table.append({"event": int(e), "estimate": 0.0, "lower": 0.0, "upper": 0.0, "p_value": np.nan,
                          "councils": n})
            continue
        table.append({"event": int(e), **_interval(est_e[0, j], plc_e[:, j], alpha), "councils": n})
    events_frame = pd.DataFrame(table)
    post_cells = real[0][:, (events >= 0) & (events <= horizon)]
    with_post = np.any(~np.isnan(post_cells), axis=1)
    overall = {**_interval(est[0], plc, alpha),
               "councils": int(with_post.sum()),
               "movers": [names.get(u, tm.names.get(u, u)) for u, ok in zip(moved, with_post) if ok],
               "comparisons": int(np.sum(np.any(~np.isnan(y[pool]), axis=1))),
               "years": (int(years[0]), int(years[-1])),
               "cells": int(np.sum(~np.isnan(post_cells))),
               "pretrend_p": _pretrend_p(est_e[0], plc_e, events)}
    if d.scale == "log":
        for k in ("estimate", "lower", "upper"):
            overall[f"{k}_pct"] = float(100 * np.expm1(overall[k]))
    contrib = [{"unit": u, "name": names.get(u, tm.names.get(u, u)), "event": int(e),
                "estimate": float(real[0, k, j])}
               for k, u in enumerate(moved) for j, e in enumerate(events) if not np.isnan(real[0, k, j])]
    return DriverEstimate(d, events_frame, overall,
                          pd.DataFrame(contrib, columns=["unit", "name", "event", "estimate"]), plc, level)


def _interval(estimate: float, placebo: np.ndarray, alpha: float) -> dict:
    """Estimate, placebo-inverted interval and two-sided p-value."""
    placebo = placebo[np.isfinite(placebo)]
    if not np.isfinite(estimate) or len(placebo) < 10:
        return {"estimate": float(estimate), "lower": np.nan, "upper": np.nan, "p_value": np.nan}
    lo_q, hi_q = np.quantile(placebo, [alpha / 2, 1 - alpha / 2])
    p = (1 + np.sum(np.abs(placebo) >= abs(estimate))) / (len(placebo) + 1)
    return {"estimate": float(estimate), "lower": float(estimate - hi_q), "upper": float(estimate - lo_q),
            "p_value": float(p)}


def _pretrend_p(estimate: np.ndarray, placebo: np.ndarray, events: np.ndarray) -> float:
    """Joint test of the leads: the sum of squared standardised lead estimates,
    against the same statistic in the placebo draws. NaN without any lead."""
    lead = events <= -2
    est = estimate[lead]
    ok = np.isfinite(est)
    if not ok.any():
        return np.nan
    plc = placebo[:, lead][:, ok]
    sd = np.nanstd(plc, axis=0)
    if np.any(sd <= 0):
        return np.nan
    stat = np.sum((est[ok] / sd) ** 2)
    draws = np.nansum((plc / sd) ** 2, axis=1)
    return float((1 + np.sum(draws >= stat)) / (len(draws) + 1))


@dataclass(frozen=True)
class ReferenceClassEstimates:
    """Every driver's estimate, with the settings that made them."""

    estimates: dict[str, DriverEstimate]
    settings: dict
    spells: pd.DataFrame = field(repr=False)

    def table(self) -> pd.DataFrame:
        """One tidy table: a row per driver and term (``overall``, ``event``, ``pretrend``).

        Columns: ``driver``, ``label``, ``unit``, ``scale``, ``term``, ``event``,
        ``estimate``, ``lower``, ``upper``, ``p_value``, ``councils``, ``cells``.
        On a log scale the estimates are log changes (x 100 is about a
        percentage change); ``overall`` rows also carry ``estimate_pct`` etc.
        """
        rows = []
        for name, est in self.estimates.items():
            d = est.driver
            base = {"driver": name, "label": d.label, "unit": d.unit, "scale": d.scale}
            o = est.overall
            rows.append({**base, "term": "overall", "event": np.nan,
                         **{k: o[k] for k in ("estimate", "lower", "upper", "p_value", "councils", "cells")},
                         **{k: o.get(k, np.nan) for k in ("estimate_pct", "lower_pct", "upper_pct")}})
            rows.append({**base, "term": "pretrend", "event": np.nan, "p_value": o["pretrend_p"]})
            for r in est.events.itertuples(index=False):
                rows.append({**base, "term": "event", "event": r.event, "estimate": r.estimate,
                             "lower": r.lower, "upper": r.upper, "p_value": r.p_value, "councils": r.councils})
        cols = ["driver", "label", "unit", "scale", "term", "event", "estimate", "lower", "upper", "p_value",
                "councils", "cells", "estimate_pct", "lower_pct", "upper_pct"]
        return pd.DataFrame(rows).reindex(columns=cols)

    def contributions(self) -> pd.DataFrame:
        """Each moved council's estimate by driver and event time."""
        return pd.concat([e.contributions.assign(driver=n) for n, e in self.estimates.items()],
                         ignore_index=True)[["driver", "unit", "name", "event", "estimate"]]

    def coverage(self) -> pd.DataFrame:
        """Which moved councils give figures before and after the move, per driver."""
        rows = []
        for name, est in self.estimates.items():
            c = est.contributions
            for unit, grp in c.groupby("unit", sort=False):
                rows.append({"driver": name, "unit": unit, "name": grp["name"].iloc[0],
                             "years_before": int((grp["event"] <= -2).sum() + 1),
                             "years_after": int((grp["event"] >= 0).sum())})
        return pd.DataFrame(rows, columns=["driver", "unit", "name", "years_before", "years_after"])


def estimate_reference_class(panel: pd.DataFrame, spells: pd.DataFrame | None = None, *,
                             drivers: Iterable[str] | None = None, horizon: int = 3, leads: int = 3,
                             placebos: int = 999, seed: int = 20170919, level: float = 0.9,
                             models: Iterable[str] = ("trust", "company")) -> ReferenceClassEstimates:
    """:func:`estimate_driver` for every driver (or those named), with the same settings.

    Each driver gets its own placebo stream derived from ``seed`` and its
    name, so adding a driver leaves the others' intervals unchanged.
    """
    spells = load_reference_class() if spells is None else spells
    names = list(DRIVERS) if drivers is None else list(drivers)
    models = tuple(models)
    out = {}
    for name in names:
        stream = int(np.random.SeedSequence([seed, *name.encode()]).generate_state(1)[0])
        out[name] = estimate_driver(panel, spells, name, horizon=horizon, leads=leads, placebos=placebos,
                                    seed=stream, level=level, models=models)
    settings = {"horizon": horizon, "leads": leads, "placebos": placebos, "seed": seed, "level": level,
                "models": list(models)}
    return ReferenceClassEstimates(out, settings, spells)


def reference_class_table(spells: pd.DataFrame, panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """The reference class for a reader: council, vehicle, model, dates and, given a
    panel, the first and last year of workforce and children's figures held."""
    out = spells[["council", "la_code", "vehicle", "model", "transfer_date", "return_date"]].copy()
    if panel is not None:
        for label, driver in (("workforce_years", "agency_share"), ("children_years", "cpp_rate")):
            rows = panel[panel["driver"] == driver]
            span = rows.groupby("unit")["year"].agg(["min", "max"])
            unit = out["la_code"].map(unit_of)
            out[label] = [f"{span.at[u, 'min']}-{span.at[u, 'max']}" if u in span.index else ""
                          for u in unit]
    return out


# ---------------------------------------------------------------------------
# Estimates as effect-library entries
# ---------------------------------------------------------------------------

#: What every reference-class effect does not show, whatever the driver.
COMMON_LIMITS = (
    "Measured over the first four figures after each move; nothing is known of later years, and the model "
    "keeps the effect for the whole appraisal unless a fade is set. The movers were councils in difficulty "
    "(most moved after an inadequate Ofsted judgement), so part of any change may be recovery that would have "
    "happened anyway. A move came with new leadership, often extra money and DfE support, and a different "
    "scope in each place (some took early help and education, some social care only): the effect is of that "
    "package, not of the legal form alone. The interval assumes the movers' year-to-year noise is like other "
    "councils'.")


def _number(d: Driver, value: float) -> str:
    if d.scale == "log":
        return f"{100 * np.expm1(value):+.1f}%"
    return f"{value:+.1f} {'percentage points' if d.unit.startswith('%') else d.unit}"


def library_entries(res: ReferenceClassEstimates, prefix: str, *, population_note: str = "",
                    applies_to: tuple[str, ...] = ("company", "trust")) -> dict[str, dict]:
    """Effect-library entries (plain data) for every driver with a model counterpart.

    Parameters
    ----------
    res : ReferenceClassEstimates
    prefix : str
        Start of each entry's name (``moved`` gives ``moved_agency_share``).
    population_note : str
        Added to the population text (e.g. which council was left out).
    applies_to : tuple of str
        Delivery vehicles the evidence covers.

    Returns
    -------
    dict
        Entry name -> entry, in the shape :class:`~wcf_model.effect_library.LibraryEffect` checks;
        sizes rounded to 4 decimal places (6 for proportional changes).
    """
    from .effect_library import Evidence, grade

    out: dict[str, dict] = {}
    pct = round(100 * res.settings["level"])
    for name, est in res.estimates.items():
        model = est.to_model()
        if model is None or not np.isfinite(model["sd"]):
            continue
        d, o = est.driver, est.overall
        change, sd = round(model["change"], 4), round(model["sd"], 4)
        first, last = o["years"]
        lead = est.events.set_index("event")["estimate"].get(-2, np.nan)
        evidence = {
            "citation": (f"Reference class of councils that moved (data/reference_class.csv), DfE "
                         f"{_PUBLICATION[d.reference]} {first}-{last}, estimated with wcf-model reference-class"),
            "population": (f"{o['councils']} councils that moved to a trust or company ({', '.join(o['movers'])}) "
                           f"against {o['comparisons']} councils that had not moved, {first}-{last}"
                           + (f"; {population_note}" if population_note else "")),
            "design": "quasi_experimental",
            "method": (f"difference in differences by council and year (Callaway and Sant'Anna 2021) against "
                       f"councils not yet moved or never moved, averaged over the first four figures after each "
                       f"move; interval by placebo inference ({res.settings['placebos']} draws giving the movers' "
                       f"dates to councils that never moved, seed {res.settings['seed']})"),
            "estimate": f"{d.label}: {_number(d, o['estimate'])} after the move",
            "interval": (f"{pct}% interval {_number(d, o['lower'])} to {_number(d, o['upper'])}; placebo p = "
                         f"{o['p_value']:.2f}; pre-trend check p = {o['pretrend_p']:.2f}"),
            "councils": int(o["councils"]),
            "pretrend_p": round(float(o["pretrend_p"]), 3) if np.isfinite(o["pretrend_p"]) else None,
        }
        limits = COMMON_LIMITS
        if np.isfinite(lead):
            limits += (f" In the last year before the move the movers' figure already moved {_number(d, -lead)} "
                       "against the comparison councils' (not counted in the estimate; a change under way "
                       "before a move may have carried on after it).")
        if d.model_mode == "multiply":
            limits += " Estimated as a proportional change (on a log scale)."
        out[f"{prefix}_{name}"] = {
            "label": f"{d.label} after a move to a trust or company",
            "driver": d.model_driver,
            "mode": d.model_mode,
            "change": change,
            "distribution": {"type": "normal", "mean": change, "sd": sd},
            "ramp_years": 0,
            "basis": "reference_class",
            "evidence": evidence,
            "confidence": grade(Evidence(**evidence)),
            "applies_to": list(applies_to),
            "limits": limits,
        }
    return out


_PUBLICATION = {CENSUS: "children's social work workforce census (30 September)",
                YEAR_END: "children in need and children looked after statistics (31 March)"}
