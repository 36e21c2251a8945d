"""The charts and tables a reader sees about caseloads, staff and back-tests.

Each function takes computed results (a projection, a back-test, published
history) and returns a :class:`~wcf_model.plots.Chart` with a headline that
states the finding, or a tidy table. Nothing here recomputes the model, so the
report and the notebooks show the same figures.
"""

from __future__ import annotations

import pandas as pd

from .backtest import Backtest
from .data import series
from .errors import DataError
from .model import Projection
from .plots import Chart, band_chart, line_chart

#: What the caseload charts show: projected measure -> (published measure,
#: words, y-axis label, "stock"/"census" alignment of years).
CASELOAD_CHARTS = {
    "cla_closing": ("cla_at_31_march", "children looked after", "Children looked after at 31 March", "stock"),
    "cin_closing": ("cin_at_31_march", "children in need", "Children in need at 31 March", "stock"),
    "social_worker_in_post_fte": ("sw_case_holders_fte", "case-holding social workers in post",
                                  "Social workers in post (FTE)", "census"),
}

#: Measures in the caseload table, with their headings.
TABLE_MEASURES = {
    "population_0_17": "Children aged 0-17",
    "referrals": "Referrals",
    "cin_closing": "Children in need (31 March)",
    "cpp_closing": "Child protection plans (31 March)",
    "cla_closing": "Children looked after (31 March)",
    "care_leavers_18_21_closing": "Care leavers 18-21",
    "ehcp_closing": "EHC plans",
    "social_worker_in_post_fte": "Social workers in post (FTE)",
    "social_worker_agency_fte": "of whom agency (FTE)",
}


def year_axis(financial_year: str, kind: str) -> int:
    """Where a financial year's figure sits on a calendar-year axis.

    Stocks and flows of FY "2019-20" refer to 31 March 2020 (2020); a census
    figure for the same year to 30 September 2019 (2019).
    """
    start = int(financial_year[:4])
    return start if kind == "census" else start + 1


def projection_frame(projection: Projection, measure: str, kind: str = "stock") -> pd.DataFrame:
    """One measure's p10, p50, p90 and mean by year, on the calendar axis."""
    bands = projection.bands()
    rows = bands[bands["measure"] == measure].copy()
    rows["year"] = [year_axis(fy, kind) for fy in rows.pop("year")]
    return rows.reset_index(drop=True)


def _history(la: pd.DataFrame | None, measure: str) -> pd.Series | None:
    if la is None:
        return None
    try:
        return series(la, measure).dropna()
    except DataError:
        return None


def caseload_charts(projection: Projection, la: pd.DataFrame | None, authority: str) -> list[Chart]:
    """History with the projection and its band, for the headline caseloads."""
    measures = projection.measures()
    charts = []
    for measure, (published, words, ylabel, kind) in CASELOAD_CHARTS.items():
        if measure not in measures:
            continue
        frame = projection_frame(projection, measure, kind)
        hist = _history(la, published)
        last = frame.iloc[-1]
        title = f"{words.capitalize()} are projected to number {last['p50']:,.0f} by {int(last['year'])}"
        if projection.draws > 1:
            title += f" (8 in 10 draws between {last['p10']:,.0f} and {last['p90']:,.0f})"
        if hist is not None and len(hist):
            title += f", against {hist.iloc[-1]:,.0f} published for {hist.index[-1]}"
        subtitle = (f"{authority}, in-house baseline. Published figures (DfE) and the projection's median"
                    + (f" with its 10th-90th percentile band over {projection.draws:,} draws." if projection.draws > 1
                       else " at central values."))
        alt = (f"Line chart of {words} in {authority}: published figures "
               + (f"{hist.index[0]} to {hist.index[-1]} ({', '.join(f'{v:,.0f}' for v in hist)})" if hist is not None
                  and len(hist) else "not available")
               + f"; projected median {', '.join(f'{int(y)}: {v:,.0f}' for y, v in zip(frame['year'], frame['p50']))}.")
        charts.append(band_chart({authority: hist} if hist is not None else {}, frame, title=title,
                                 subtitle=subtitle, alt=alt, ylabel=ylabel))
    return charts


def caseload_table(projection: Projection) -> pd.DataFrame:
    """Central (median) caseloads and staff by financial year, one column per measure."""
    bands = projection.bands()
    wide = bands.pivot(index="year", columns="measure", values="p50")
    wide = wide[[m for m in TABLE_MEASURES if m in wide.columns]].rename(columns=TABLE_MEASURES)
    wide.index.name = "financial year"
    return wide.round(0)


def backtest_table(bt: Backtest) -> pd.DataFrame:
    """Projected, published and error by measure and year."""
    t = bt.table.copy()
    t["projected"] = t["projected"].round(0)
    t["error"] = t["error"].round(0)
    t["pct_error"] = t["pct_error"].round(1)
    return t.rename(columns={"pct_error": "error (%)"})


def backtest_chart(bt: Backtest, measure: str = "cla_at_31_march", words: str = "children looked after") -> Chart:
    """Projected against published for one measure of a back-test."""
    rows = bt.table[bt.table["measure"] == measure].set_index("year")
    mape = bt.mape.get(measure)
    title = (f"Fitted to {bt.fit_to}, the model's forecast of {words} was out by {mape:.1f}% a year on average"
             if mape is not None else f"Back-test of {words}")
    subtitle = f"{bt.la_name}: projection from figures published up to {bt.fit_to}, against what was published later."
    alt = (f"Line chart comparing projected and published {words} in {bt.la_name}, "
           + "; ".join(f"{y}: projected {r.projected:,.0f}, published {r.actual:,.0f}" for y, r in rows.iterrows()) + ".")
    return line_chart({"Published": rows["actual"], f"Forecast from {bt.fit_to}": rows["projected"]},
                      title=title, subtitle=subtitle, alt=alt, ylabel=words.capitalize())
