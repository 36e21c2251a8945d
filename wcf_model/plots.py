"""Charts in the Government Analysis Function style.

Each chart carries a headline title (what the reader should take away), a
subtitle (what is plotted, in which units) and alt text, and never relies on
colour alone: every series also has its own marker and line style and is
labelled directly at its end. Plotting only draws; figures are computed
elsewhere.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")  # reports are written without a screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

#: Analysis Function categorical palette, in the order it should be used.
PALETTE = ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")
MARKERS = ("o", "s", "^", "D", "v", "P")
LINESTYLES = ("-", "--", "-.", ":", "-", "--")

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#D9D9D9",
    "axes.edgecolor": "#3D3D3D",
    "axes.labelcolor": "#3D3D3D",
    "xtick.color": "#3D3D3D",
    "ytick.color": "#3D3D3D",
    "figure.dpi": 100,
    "savefig.dpi": 150,
}


@dataclass
class Chart:
    """A drawn figure with the words that must travel with it."""

    figure: matplotlib.figure.Figure
    title: str
    subtitle: str
    alt: str
    _png: bytes | None = field(default=None, repr=False)

    def png(self) -> bytes:
        """The chart as PNG bytes (drawn once; the figure is then closed)."""
        if self._png is None:
            buf = io.BytesIO()
            self.figure.savefig(buf, format="png", bbox_inches="tight")
            plt.close(self.figure)
            self._png = buf.getvalue()
        return self._png

    def html(self) -> str:
        """A self-contained ``<figure>``: headline, subtitle, and the image with its alt text."""
        data = base64.b64encode(self.png()).decode("ascii")
        # inline styles, so the caption reads the same in a notebook as in the report
        return (f'<figure><figcaption><span class="headline" style="display:block;font-weight:bold">'
                f'{html.escape(self.title)}</span><span class="subtitle" style="display:block;color:#3D3D3D">'
                f'{html.escape(self.subtitle)}</span></figcaption>'
                f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt)}"></figure>')

    def _repr_html_(self) -> str:  # how JupyterLab and nbconvert show a chart
        return self.html()


def line_chart(series: Mapping[str, pd.Series], *, title: str, subtitle: str, alt: str,
               ylabel: str, ymin: float | None = 0, band: tuple[str, pd.Series, pd.Series] | None = None) -> Chart:
    """Lines by year, each labelled at its last point.

    Parameters
    ----------
    series : mapping
        Label -> values indexed by year. At most six series (the palette).
    title, subtitle, alt : str
        Headline, what is plotted, and a text alternative for screen readers.
    ylabel : str
        Axis label with its unit.
    band : (label, low, high), optional
        A shaded, hatched band between two series indexed by year (e.g. a
        forecast's 10th and 90th percentiles), labelled at its right end.
    """
    if len(series) > len(PALETTE):
        raise ValueError(f"at most {len(PALETTE)} series on one chart, got {len(series)}")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.2))
        labels: list[tuple[float, float, str, str, int]] = []  # (x, y, text, colour, size) at each line's end
        if band is not None:
            text, low, high = band
            ax.fill_between(low.index, low.to_numpy(), high.to_numpy(), color=PALETTE[5], alpha=0.2, hatch="//",
                            edgecolor=PALETTE[5], linewidth=0)
            labels.append((high.index[-1], high.iloc[-1], text, "#3D3D3D", 9))
        for i, (label, s) in enumerate(series.items()):
            s = s.dropna()
            ax.plot(s.index, s.to_numpy(), color=PALETTE[i], marker=MARKERS[i],
                    linestyle=LINESTYLES[i], linewidth=2, markersize=5, label=label)
            if len(s):
                labels.append((s.index[-1], s.iloc[-1], label, PALETTE[i], 10))
        ax.set_ylabel(ylabel)
        if ymin is not None:
            ax.set_ylim(bottom=ymin)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.margins(x=0.12)
        _end_labels(ax, labels)
        fig.tight_layout()
    return Chart(fig, title, subtitle, alt)


def _end_labels(ax, labels: list[tuple[float, float, str, str, int]]) -> None:
    """Write each line's label just right of its end, nudged apart so that no two overlap."""
    low, high = ax.get_ylim()
    gap = (high - low) * 0.06  # about one line of 10-point text on a 4.2-inch chart
    placed: list[float] = []
    for x, y, text, colour, size in sorted(labels, key=lambda item: item[1]):
        at = max([y, *(p + gap for p in placed)])
        placed.append(at)
        # the nudge in points, from the data scale of the axes
        nudge = (ax.transData.transform((x, at))[1] - ax.transData.transform((x, y))[1]) * 72 / ax.figure.dpi
        ax.annotate(text, (x, y), xytext=(6, nudge), textcoords="offset points", va="center", color=colour,
                    fontsize=size, annotation_clip=False)


def band_chart(history: Mapping[str, pd.Series], projection: pd.DataFrame, *, title: str, subtitle: str,
               alt: str, ylabel: str, label: str = "Projection") -> Chart:
    """Published history as lines, and a projection with its 10th-90th percentile band.

    Parameters
    ----------
    history : mapping
        Label -> published values indexed by year (at most three series).
    projection : DataFrame
        Columns ``year`` (int, the year the figure refers to), ``p10``, ``p50``,
        ``p90`` (equal when the run has one draw).
    """
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.2))
        for i, (name, s) in enumerate(history.items()):
            s = s.dropna()
            ax.plot(s.index, s.to_numpy(), color=PALETTE[i], marker=MARKERS[i], linestyle="-",
                    linewidth=2, markersize=5)
            if len(s):
                ax.annotate(f"{name} (published)", (s.index[0], s.iloc[0]), xytext=(0, 12),
                            textcoords="offset points", ha="left", color=PALETTE[i], fontsize=10)
        colour = PALETTE[3]
        x = projection["year"].to_numpy()
        if (projection["p90"] > projection["p10"]).any():
            ax.fill_between(x, projection["p10"], projection["p90"], color=colour, alpha=0.18,
                            hatch="//", edgecolor=colour, linewidth=0)
            ax.annotate("8 in 10 draws", (x[-1], projection["p90"].iloc[-1]), xytext=(6, 0),
                        textcoords="offset points", va="center", color="#3D3D3D", fontsize=9)
        ax.plot(x, projection["p50"], color=colour, linestyle="--", marker="D", linewidth=2, markersize=4)
        ax.annotate(label, (x[-1], projection["p50"].iloc[-1]), xytext=(6, 0), textcoords="offset points",
                    va="center", color=colour, fontsize=10)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.margins(x=0.15)
        fig.tight_layout()
    return Chart(fig, title, subtitle, alt)


def interval_chart(labels: list[str], central: list[float], low: list[float], high: list[float], *,
                   title: str, subtitle: str, alt: str, xlabel: str) -> Chart:
    """Horizontal bars with a 10th-90th percentile whisker for each, labelled with the value."""
    with plt.rc_context({**STYLE, "axes.grid.axis": "x"}):
        fig, ax = plt.subplots(figsize=(8, 0.7 * len(labels) + 1.4))
        y = range(len(labels))[::-1]
        ax.barh(list(y), central, color=PALETTE[0], height=0.55)
        errors = [[c - lo for c, lo in zip(central, low)], [hi - c for c, hi in zip(central, high)]]
        ax.errorbar(central, list(y), xerr=errors, fmt="none", ecolor=PALETTE[4], capsize=5, linewidth=1.5)
        for yi, c, hi in zip(y, central, high):
            ax.annotate(f"£{c:,.1f}m", (max(c, hi, 0), yi), xytext=(6, 0), textcoords="offset points",
                        va="center", fontsize=10, color="#3D3D3D")
        ax.set_yticks(list(y), labels)
        ax.axvline(0, color="#3D3D3D", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.margins(x=0.2)
        fig.tight_layout()
    return Chart(fig, title, subtitle, alt)


def tornado_chart(labels: list[str], low: list[float], high: list[float], central: float, *, title: str,
                  subtitle: str, alt: str, xlabel: str) -> Chart:
    """Bars from the central result to the result with each input at its low and high end.

    The low end is drawn solid and the high end hatched, so the chart does not
    rely on colour to say which is which.
    """
    with plt.rc_context({**STYLE, "axes.grid.axis": "x"}):
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.6))
        y = list(range(len(labels)))[::-1]
        ax.barh(y, [lo - central for lo in low], left=central, color=PALETTE[0], height=0.6, label="input at its 10th percentile")
        ax.barh(y, [hi - central for hi in high], left=central, color=PALETTE[1], height=0.6, hatch="//",
                edgecolor="white", label="input at its 90th percentile")
        ax.axvline(central, color="#3D3D3D", linewidth=1)
        ax.set_yticks(y, labels)
        ax.set_xlabel(xlabel)
        ax.legend(loc="lower right", frameon=False, fontsize=9)
        fig.tight_layout()
    return Chart(fig, title, subtitle, alt)


def histogram_chart(samples: Mapping[str, np.ndarray], *, title: str, subtitle: str, alt: str,
                    xlabel: str, bins: int = 40) -> Chart:
    """Outlines of each sample's distribution, told apart by line style as well as colour."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.2))
        edges = np.histogram_bin_edges(np.concatenate([np.ravel(v) for v in samples.values()]), bins=bins)
        for i, (label, values) in enumerate(samples.items()):
            ax.hist(values, bins=edges, histtype="step", linewidth=2, color=PALETTE[i], linestyle=LINESTYLES[i],
                    label=label, density=True)
        ax.axvline(0, color="#3D3D3D", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.set_yticks([])
        ax.legend(frameon=False, fontsize=9)
        fig.tight_layout()
    return Chart(fig, title, subtitle, alt)


def waterfall_chart(steps: list[tuple[str, float]], *, title: str, subtitle: str, alt: str, xlabel: str) -> Chart:
    """From a starting total, through signed steps, to an end total (horizontal, top to bottom).

    The first and last steps are totals (solid); rises are hatched and falls
    plain, so the direction does not rest on colour alone.
    """
    with plt.rc_context({**STYLE, "axes.grid.axis": "x"}):
        fig, ax = plt.subplots(figsize=(8, 0.5 * len(steps) + 1.6))
        level = 0.0
        for i, (label, value) in enumerate(steps):
            y = len(steps) - 1 - i
            if i in (0, len(steps) - 1):
                ax.barh(y, value, color=PALETTE[0], height=0.6)
                level = value
                text = f"£{value:,.1f}m"
            else:
                rise = value >= 0
                ax.barh(y, value, left=level, color=PALETTE[3] if rise else PALETTE[1], height=0.6,
                        hatch="//" if rise else None, edgecolor="white")
                level += value
                text = f"{value:+,.1f}m"
            ax.annotate(text, (max(level, level - value if i not in (0, len(steps) - 1) else level), y),
                        xytext=(6, 0), textcoords="offset points", va="center", fontsize=9, color="#3D3D3D")
        ax.set_yticks(range(len(steps))[::-1], [s[0] for s in steps])
        ax.axvline(0, color="#3D3D3D", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.margins(x=0.25)
        fig.tight_layout()
    return Chart(fig, title, subtitle, alt)
