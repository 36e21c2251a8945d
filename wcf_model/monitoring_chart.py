"""The monitoring finding for one measure: in a sentence, and as a chart.

Both are drawn from the frame :func:`wcf_model.monitoring.compare` returns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import UsageError
from .formats import RANGE, money_m, years_text
from .measures import MEASURES, Measure, lower_first
from .monitoring import HIGH, LOW

# ---------------------------------------------------------------------------
# Chart
# ---------------------------------------------------------------------------


def _fmt(value: float, unit: str) -> str:
    if unit == "GBP":
        return money_m(value)
    if unit == "percent":
        return f"{value:.1f}%"
    return f"{value:,.1f}" if unit == "FTE" else f"{value:,.0f}"


def headline(comparison: pd.DataFrame, measure: str) -> str:
    """The finding for one measure in a sentence, computed from the comparison.

    For example "Children looked after at 31 March ran above the projection's
    80% band in 2 of 6 years (2022-23, 2023-24)".
    """
    g = comparison[comparison["measure"] == measure]
    if g.empty:
        raise UsageError(f"no comparison rows for {measure!r}; compared: "
                         f"{', '.join(dict.fromkeys(comparison['measure']))}")
    words = MEASURES[measure].words if measure in MEASURES else measure
    n = len(g)
    band = ("the central projection" if (g[HIGH] == g[LOW]).all()
            else f"the projection's {RANGE[1] - RANGE[0]}% band")
    above, below = int((g["direction"] == "above").sum()), int((g["direction"] == "below").sum())
    outside = g.loc[g["outside_band"], "period"].tolist()
    of = f"{n} year{'s' if n != 1 else ''}"
    if not outside:
        within = "within" if band.endswith("band") else "on"
        return f"{words} stayed {within} {band} in {'all ' if n > 1 else ''}{of}"
    every = len(outside) == n and n > 1
    if above and below:
        when = f"all {of}" if every else f"{len(outside)} of {of}"
        return f"{words} fell outside {band} in {when} ({above} above, {below} below)"
    side = "above" if above else "below"
    when = f"every year, {years_text(outside)}" if every else f"{len(outside)} of {of} ({', '.join(outside)})"
    return f"{words} ran {side} {band} in {when}"


def monitoring_chart(comparison: pd.DataFrame, measure: str, *, authority: str | None = None,
                     option_label: str | None = None):
    """Projected median and 10th-90th percentile band, with the actuals as points.

    Parameters
    ----------
    comparison : pandas.DataFrame
        The output of :func:`compare`.
    measure : str
        A measure in the comparison.
    authority, option_label : str, optional
        Words for the subtitle; by default from ``comparison.attrs``.

    Returns
    -------
    wcf_model.plots.Chart
        Headline title from :func:`headline`, a subtitle saying what is
        plotted and in which unit, and alt text listing every figure. Actuals
        outside the band are drawn as hollow squares and labelled "above" or
        "below", so the chart does not rely on colour.
    """
    import matplotlib.pyplot as plt

    from .formats import range_label, range_words
    from .plots import MARKERS, PALETTE, STYLE, Chart, mark_nonzero_start

    title = headline(comparison, measure)
    g = comparison[comparison["measure"] == measure].reset_index(drop=True)
    m = MEASURES.get(measure, Measure(measure, measure, "", "stock"))
    authority = authority or comparison.attrs.get("authority") or "The authority"
    option_label = option_label or comparison.attrs.get("option_label") or comparison.attrs.get("option") or ""
    draws = comparison.attrs.get("draws")
    has_band = bool((g[HIGH] > g[LOW]).any())
    scale = 1e6 if m.unit == "GBP" else 1.0
    unit_words = "£ million" if m.unit == "GBP" else m.unit

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.2))
        x = np.arange(len(g))
        colour = PALETTE[3]
        if has_band:
            ax.fill_between(x, g[LOW] / scale, g[HIGH] / scale, color=colour, alpha=0.18, hatch="//",
                            edgecolor=colour, linewidth=0)
            ax.annotate(f"{range_words()}\nin this band", (x[-1], g[HIGH].iloc[-1] / scale), xytext=(8, 0),
                        textcoords="offset points", va="center", color="#3D3D3D", fontsize=9)
        ax.plot(x, g["projected"] / scale, color=colour, linestyle="--", marker="D", linewidth=2, markersize=4)
        ax.annotate("Projection (median)", (x[-1], g["projected"].iloc[-1] / scale), xytext=(8, 0),
                    textcoords="offset points", va="center", color=colour, fontsize=10)
        inside = ~g["outside_band"].to_numpy()
        ax.plot(x[inside], g["actual"][inside] / scale, linestyle="none", marker=MARKERS[0], markersize=8,
                color=PALETTE[0])
        ax.plot(x[~inside], g["actual"][~inside] / scale, linestyle="none", marker=MARKERS[1], markersize=9,
                markerfacecolor="white", markeredgewidth=2, color=PALETTE[0])
        for xi, r in zip(x, g.itertuples()):
            if r.outside_band:
                ax.annotate(r.direction, (xi, r.actual / scale), xytext=(0, 10 if r.direction == "above" else -14),
                            textcoords="offset points", ha="center", color=PALETTE[0], fontsize=9)
        ax.annotate("Published", (x[0], g["actual"].iloc[0] / scale), xytext=(-10, 0), textcoords="offset points",
                    ha="right", va="center", color=PALETTE[0], fontsize=10)
        ax.set_xticks(x, g["period"].tolist())
        ax.set_xlabel("Financial year")
        ax.set_ylabel(m.words if f"({unit_words})" in m.words else f"{m.words} ({unit_words})" if len(m.words) < 30
                      else unit_words[:1].upper() + unit_words[1:])
        ax.margins(x=0.25, y=0.2)
        from_zero = not mark_nonzero_start(ax, "£" if m.unit == "GBP" else "")
        fig.tight_layout()

    band = f"its {range_label('-')} band"     # "its 10th-90th percentile band"
    spread = (f"{band} over {draws:,} draws" if has_band and draws else band if has_band else "no band (a central run)")
    subtitle = (f"{authority}, {option_label}: published figures (points; hollow squares outside the band) "
                f"against the projection's median (dashed line) and {spread}; {unit_words}, "
                f"{m.when or 'by financial year'}"
                + ("" if from_zero else "; the vertical axis does not start at zero") + ".")
    alt = (f"Chart of {lower_first(m.words)} in {authority} by financial year, published against projected: "
           + "; ".join(f"{r.period}: published {_fmt(r.actual, m.unit)}, projected median "
                       f"{_fmt(r.projected, m.unit)}"
                       + (f" ({RANGE[1] - RANGE[0]}% band {_fmt(getattr(r, LOW), m.unit)} to {_fmt(getattr(r, HIGH), m.unit)})"
                          if has_band else "")
                       + (f", {r.direction} the band" if r.outside_band else ", within the band")
                       for r in g.itertuples()) + ".")
    return Chart(fig, title, subtitle, alt)
