"""Monitoring: what was published, against what the business case projected.

Once an option is live, scrutiny asks how the service is doing against the
business case. This module reads a file of *actuals* (published or locally
reported figures), joins them to an appraisal's projected bands for the option
that was chosen, and says, measure by measure and year by year, how far the
actual was from the projected median and whether it fell outside the
projection's 10th-90th percentile band.

The figures come from :mod:`wcf_model.actuals` (a file, or the DfE's own
figures); what can be monitored is :mod:`wcf_model.measures`; this module
compares; :mod:`wcf_model.monitoring_chart` says the finding in a sentence and
a chart.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .actuals import check_authority, read_actuals
from .catalogue import STAFF_ROLES
from .errors import DataError, UsageError
from .formats import RANGE, range_columns, years_text
from .measures import MEASURES

#: The columns of the band's ends (:func:`wcf_model.formats.range_columns`: ``p10`` and ``p90``) and its middle.
LOW, HIGH = range_columns()
MEDIAN = "p50"

#: Columns of the frame :func:`compare` returns, in order.
COMPARISON_COLUMNS = ("measure", "period", "actual", "projected", LOW, HIGH, "variance", "variance_pct",
                      "outside_band", "direction")


# ---------------------------------------------------------------------------
# Projected bands for one option
# ---------------------------------------------------------------------------

#: The projection's band (:data:`wcf_model.formats.RANGE`) and its median.
BAND_PERCENTILES = (RANGE[0], 50, RANGE[1])


def _percentile_rows(values: Mapping[str, np.ndarray], years: list[str]) -> list[dict]:
    rows = []
    for measure, v in values.items():
        pct = np.percentile(v, BAND_PERCENTILES, axis=0)
        rows += [{"measure": measure, "period": year, LOW: pct[0, t], MEDIAN: pct[1, t], HIGH: pct[2, t]}
                 for t, year in enumerate(years)]
    return rows


def projected_bands(results, option: str | None = None) -> pd.DataFrame:
    """The projection's 10th, 50th and 90th percentiles for one option.

    Parameters
    ----------
    results : Results or pandas.DataFrame
        An appraisal (:func:`wcf_model.appraise`), or a table of bands with
        columns ``measure``, ``year`` (or ``period``), ``p10``, ``p50``,
        ``p90`` and optionally ``option`` (the layout of
        ``Results.caseloads``).
    option : str, optional
        The option to monitor; the scenario's baseline by default. A table of
        bands with one option (or no ``option`` column) needs none.

    Returns
    -------
    pandas.DataFrame
        Columns ``measure``, ``period``, ``p10``, ``p50``, ``p90`` [each in the
        measure's unit]. From an appraisal: every caseload and staff measure,
        each role's agency share (``<role>_agency_percent``, agency FTE / FTE in
        post x 100, computed draw by draw), the option's ``cash`` [GBP,
        nominal] and, where the option has them, the money measures of
        :func:`money_measures`. ``attrs`` holds ``option``, ``option_label``, ``authority``
        and ``draws``.

    Raises
    ------
    UsageError
        If the option is not in the results (the message lists those that are).
    """
    if isinstance(results, pd.DataFrame):
        return _bands_from_table(results, option)
    a = results.uncertain
    sc = results.scenario
    option = a.baseline if option is None else option
    if option not in a.options:
        raise UsageError(f"option {option!r} is not in the appraisal; its options are {', '.join(a.options)}")
    values = dict(a.options[option].projection.measures())
    for role in STAFF_ROLES:
        agency, in_post = values.get(f"{role}_agency_fte"), values.get(f"{role}_in_post_fte")
        if agency is not None and in_post is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                values[f"{role}_agency_percent"] = np.where(in_post > 0, agency / in_post * 100, np.nan)
    values["cash"] = a.options[option].financial_total
    values.update(money_measures(a.options[option], a.nominal_index))
    out = pd.DataFrame(_percentile_rows(values, list(a.years)))
    out.attrs.update(option=option, option_label=sc.options[option].label, authority=sc.header.authority.name,
                     draws=a.draws)
    return out


def money_measures(result, nominal_index: np.ndarray) -> dict[str, np.ndarray]:
    """The projected money an actuals file can be held against, for one option [GBP, cash], ``(draws, years)``.

    ``gross_spend``: what a company or trust spends, its turnover (the lines it
    buys, its own costs and its irrecoverable VAT); ``company_surplus`` and
    ``corporation_tax`` of a company; ``dsg_high_needs_cumulative_deficit``
    where the scenario gives the high-needs income. Absent where the option has
    no such money.
    """
    out: dict[str, np.ndarray] = {}
    company = getattr(result, "company", None)
    if company is not None:
        out["gross_spend"] = company.turnover * nominal_index
        if company.profits is not None:
            out["company_surplus"] = company.profits * nominal_index
        if "company.corporation_tax" in result.financial:
            out["corporation_tax"] = result.financial["company.corporation_tax"]
    if getattr(result, "high_needs", None) is not None:
        out["dsg_high_needs_cumulative_deficit"] = result.high_needs["cumulative_deficit"]
    return out


def _bands_from_table(table: pd.DataFrame, option: str | None) -> pd.DataFrame:
    frame = table.rename(columns={"year": "period"})
    missing = [c for c in ("measure", "period", LOW, MEDIAN, HIGH) if c not in frame.columns]
    if missing:
        raise UsageError(f"a table of projected bands needs the columns {', '.join(missing)}")
    if "option" in frame.columns:
        options = list(dict.fromkeys(frame["option"]))
        if option is None and len(options) > 1:
            raise UsageError(f"say which option to monitor: the bands hold {', '.join(map(str, options))}")
        option = options[0] if option is None else option
        if option not in options:
            raise UsageError(f"option {option!r} is not in the bands; they hold {', '.join(map(str, options))}")
        frame = frame[frame["option"] == option]
    out = frame[["measure", "period", LOW, MEDIAN, HIGH]].reset_index(drop=True)
    out.attrs.update({"option": option, "option_label": option, "authority": None, "draws": None, **table.attrs})
    return out


# ---------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------


def compare(results, actuals, option: str | None = None) -> pd.DataFrame:
    """Join actuals with the projected bands of one option, by measure and period.

    Parameters
    ----------
    results : Results or pandas.DataFrame
        An appraisal, or a table of bands (see :func:`projected_bands`).
    actuals : pandas.DataFrame, str or Path
        The output of :func:`read_actuals`, or an actuals file to read.
    option : str, optional
        The option that went ahead, e.g. ``"company_broad"`` for Worcestershire
        (the company went live on 1 October 2019). By default the scenario's
        baseline (the in-house service), which is what to monitor when no
        option was taken up.

    Returns
    -------
    pandas.DataFrame
        One row per actual figure the projection covers, in the actuals'
        order of measures and then by period; columns :data:`COMPARISON_COLUMNS`:
        ``actual``; ``projected`` (the median, p50), ``p10`` and ``p90`` [all in
        the measure's unit]; ``variance`` = actual - projected [same unit];
        ``variance_pct`` = variance / projected x 100 [percent; NaN when the
        projection is 0]; ``outside_band`` (True when the actual is below p10
        or above p90: outside the band holding 8 draws in 10); ``direction``
        (``"above"``, ``"below"`` or ``"within"`` the band).

        With a central run (no draws) the band is a line, so any difference
        puts the actual outside it.

        :func:`not_compared` (from ``attrs["not_compared"]``) lists the actuals
        left out, never silently: measures this option's projection does not
        include, and periods outside the projection's years. ``attrs`` also
        holds ``option``, ``option_label``, ``authority``, ``draws`` and
        ``actuals`` (the file, when known).
    """
    if not isinstance(actuals, pd.DataFrame):
        actuals = read_actuals(actuals)
    if not isinstance(results, pd.DataFrame) and actuals.attrs.get("la_code"):
        check_authority(actuals, results.scenario)
    bands = projected_bands(results, option)
    merged = actuals.merge(bands, on=["measure", "period"], how="left", sort=False)
    found = merged[MEDIAN].notna()

    left = merged[~found]
    projected_measures = set(bands["measure"])
    years = sorted(set(bands["period"]))
    gone = []
    for measure, rows in left.groupby("measure", sort=False):
        why = MEASURES[measure].not_projected if measure in MEASURES else ""
        reason = (f"outside the projection's years ({years[0]} to {years[-1]})" if measure in projected_measures
                  else f"not projected: {why}" if why
                  else "not projected for this option (the scenario has no parameters for it)")
        gone.append({"measure": measure, "periods": years_text(list(rows["period"])), "figures": len(rows),
                     "reason": reason})

    if len(actuals) and not found.any():
        name = actuals.attrs.get("path") or "the actuals"
        raise DataError(f"{name}: none of its {len(actuals)} figure(s) can be compared with the projection of "
                        f"{bands.attrs.get('option_label') or 'this option'}: "
                        + "; ".join(f"{g['measure']} ({g['periods']}) is {g['reason']}" for g in gone[:10])
                        + ("" if len(gone) <= 10 else f"; and {len(gone) - 10} more measures"))
    out = merged[found].copy()
    order = {m: i for i, m in enumerate(dict.fromkeys(actuals["measure"]))}
    out = out.sort_values(["measure", "period"], key=lambda s: s.map(order) if s.name == "measure" else s,
                          kind="mergesort")
    out = out.rename(columns={"value": "actual", MEDIAN: "projected"})
    out["variance"] = out["actual"] - out["projected"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["variance_pct"] = np.where(out["projected"] != 0, out["variance"] / out["projected"] * 100, np.nan)
    above, below = out["actual"] > out[HIGH], out["actual"] < out[LOW]
    out["outside_band"] = above | below
    out["direction"] = np.select([above, below], ["above", "below"], default="within")
    out = out[list(COMPARISON_COLUMNS)].reset_index(drop=True)
    out["outside_band"] = out["outside_band"].astype(bool)
    out["direction"] = out["direction"].astype(object)
    out.attrs.update({k: bands.attrs.get(k) for k in ("option", "option_label", "authority", "draws")})
    out.attrs["actuals"] = actuals.attrs.get("path")
    # plain records, not a frame: pandas compares attrs when it combines frames
    out.attrs["not_compared"] = gone
    return out


def not_compared(comparison: pd.DataFrame) -> pd.DataFrame:
    """The actuals :func:`compare` could not compare, and why.

    Returns
    -------
    pandas.DataFrame
        Columns ``measure``, ``periods``, ``figures`` (how many lines of the
        actuals file) and ``reason``; empty when every actual was compared.
    """
    columns = ["measure", "periods", "figures", "reason"]
    return pd.DataFrame(comparison.attrs.get("not_compared", []), columns=columns)


def summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """How close the projection came, measure by measure.

    Parameters
    ----------
    comparison : pandas.DataFrame
        The output of :func:`compare`.

    Returns
    -------
    pandas.DataFrame
        One row per measure, in the comparison's order: ``measure``, ``label``
        (in words), ``unit``, ``years_compared``, ``first``, ``last`` (periods),
        ``mean_abs_variance_pct`` (mean of |variance_pct| over the years
        [percent]), ``years_outside_band``, ``years_above``, ``years_below``
        and ``outside_in`` (the periods outside the band, or ``""``).
    """
    rows = []
    for measure, g in comparison.groupby("measure", sort=False):
        m = MEASURES.get(measure)
        rows.append({
            "measure": measure, "label": m.words if m else measure, "unit": m.unit if m else "",
            "years_compared": len(g), "first": g["period"].min(), "last": g["period"].max(),
            "mean_abs_variance_pct": float(g["variance_pct"].abs().mean()),
            "years_outside_band": int(g["outside_band"].sum()),
            "years_above": int((g["direction"] == "above").sum()),
            "years_below": int((g["direction"] == "below").sum()),
            "outside_in": ", ".join(g.loc[g["outside_band"], "period"]),
        })
    return pd.DataFrame(rows, columns=["measure", "label", "unit", "years_compared", "first", "last",
                                       "mean_abs_variance_pct", "years_outside_band", "years_above",
                                       "years_below", "outside_in"])


# ---------------------------------------------------------------------------
# The company's money: how far the case was from what it spent, and why
# ---------------------------------------------------------------------------

#: Columns of the frame :func:`spend_gap` returns.
GAP_COLUMNS = ("step", "amount", "total", "explanation")


def spend_gap(sc, option: str, actuals: pd.DataFrame, year: str, vintage: str | None = None) -> pd.DataFrame:
    """The business case's projected company spending in one year against what was spent, step by step.

    Central run, cash [GBP]. Each step re-prices one thing the case could not
    know, with the model, and the last step is what is left:

    1. *projected*: the company's gross spending (:func:`money_measures`) in the
       case as written, with the inflation forecast of its deflator vintage;
    2. *inflation*: the same case re-run with the outturn GDP deflator
       (``vintage``, the latest by default): the change is general inflation
       the case did not foresee;
    3. *children looked after*: its placement lines scaled by the children
       looked after on average in the year as published (``cla_closing`` at the
       two 31 Marches) over the projected average: the change is demand;
    4. *the rest*: the published spending less all of that: placement prices
       above the case's real growth, and spending on services the case does not
       cost.

    Parameters
    ----------
    sc : Scenario
        The business case.
    option : str
        The company option that went ahead.
    actuals : pandas.DataFrame
        From :func:`read_actuals`; needs ``gross_spend`` for ``year``, and
        ``cla_closing`` for ``year`` and the year before for step 3.
    year : str
        Financial year, e.g. ``"2023-24"``.
    vintage : str, optional
        Deflator vintage with the outturn (the latest by default).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GAP_COLUMNS`: ``amount`` is each step's change, ``total``
        the running total, so the last row's total is the published figure.
    """
    from .appraisal import appraise_options
    from .prices import load_deflators
    from .scenario import scenario_from_document
    from .formats import financial_year_label, financial_year_start

    value = actuals.set_index(["measure", "period"])["value"]
    if ("gross_spend", year) not in value.index:
        raise UsageError(f"the actuals hold no gross_spend for {year}")
    actual = float(value["gross_spend", year])
    case = appraise_options(sc)
    if option not in case.options or case.options[option].company is None:
        raise UsageError(f"option {option!r} is not a company or trust in the appraisal")
    t = case.years.index(year)
    projected = float(money_measures(case.options[option], case.nominal_index)["gross_spend"][0, t])
    latest = vintage or str(load_deflators().name)
    doc = {**sc.document, "scenario": {**sc.document["scenario"], "deflator_vintage": latest}}
    outturn = appraise_options(scenario_from_document(doc, sc.path))
    r = outturn.options[option]
    inflated = float(money_measures(r, outturn.nominal_index)["gross_spend"][0, t])
    rows = [("projected", projected, f"the company's gross spending in {year} as the case projects it "
                                     f"(deflator vintage {sc.header.deflator_vintage or 'latest'})"),
            ("inflation", inflated - projected, f"general inflation as it turned out (deflator vintage {latest})")]
    before = financial_year_label(financial_year_start(year) - 1)
    if ("cla_closing", year) in value.index and ("cla_closing", before) in value.index:
        published = (float(value["cla_closing", before]) + float(value["cla_closing", year])) / 2
        modelled = float(r.projection.caseloads.cla.average[0, t])
        placements = sum(r.financial[ln.name][0, t] for ln in r.lines if ln.group == "placements")
        share = float(r.company.months[t]) / MONTHS_IN_YEAR
        demand = placements * share * (published / modelled - 1)
        rows.append(("children looked after", demand,
                     f"{published:,.0f} children looked after on average in {year} as published, against "
                     f"{modelled:,.0f} projected, at the case's placement costs"))
    explained = sum(v for _, v, _ in rows)
    rows.append(("the rest", actual - explained,
                 "placement prices above the case's real growth, and spending on services the case does not cost"))
    frame = pd.DataFrame(rows, columns=["step", "amount", "explanation"])
    frame["total"] = frame["amount"].cumsum()
    frame.attrs.update(option=option, year=year, actual=actual)
    return frame[list(GAP_COLUMNS)]


MONTHS_IN_YEAR = 12
