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
            # no date or software version in the file: the same chart gives the same bytes
            self.figure.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
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
               ylabel: str, ymin: float | None = 0, unit: str = "",
               band: tuple[str, pd.Series, pd.Series] | None = None) -> Chart:
    """Lines by financial year, each labelled at its last point.

    Parameters
    ----------
    series : mapping
        Label -> values indexed by the first calendar year of each financial
        year (2019 for 2019-20). At most six series (the palette).
    title, subtitle, alt : str
        Headline, what is plotted, and a text alternative for screen readers.
    ylabel : str
        Axis label with its unit.
    ymin : float or None
        Where the value axis starts; None lets it follow the data, and the
        chart then says so when it does not start at zero.
    unit : str
        Written before the axis start in that note (e.g. "£").
    band : (label, low, high), optional
        A shaded, hatched band between two series indexed like the lines (e.g.
        a forecast's 10th and 90th percentiles), labelled at its right end.
    """
    if len(series) > len(PALETTE):
        raise ValueError(f"at most {len(PALETTE)} series on one chart, got {len(series)}")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.2))
        ends = []
        if band is not None:
            text, low, high = band
            ax.fill_between(low.index, low.to_numpy(), high.to_numpy(), color=PALETTE[5], alpha=0.2, hatch="//",
                            edgecolor=PALETTE[5], linewidth=0)
            ends.append((high.index[-1], high.iloc[-1], text, "#3D3D3D"))
        for i, (label, s) in enumerate(series.items()):
            s = s.dropna()
            ax.plot(s.index, s.to_numpy(), color=PALETTE[i], marker=MARKERS[i],
                    linestyle=LINESTYLES[i], linewidth=2, markersize=5, label=label)
            if len(s):
                ends.append((s.index[-1], s.iloc[-1], label, PALETTE[i]))
        ax.set_ylabel(ylabel)
        if ymin is not None:
            ax.set_ylim(bottom=ymin)
        fy_axis(ax)
        ax.margins(x=0.12)
        mark_nonzero_start(ax, unit)
        fig.tight_layout()
        spread_labels(ax, ends)
    return Chart(fig, title, subtitle, alt)


def band_chart(history: Mapping[str, pd.Series], projection: pd.DataFrame, *, title: str, subtitle: str,
               alt: str, ylabel: str, label: str = "Projection") -> Chart:
    """Published history as lines, and a projection with its band, by financial year.

    The key sits above the plot, so no label covers a line; each series has
    its own marker and line style, and the band is hatched.

    Parameters
    ----------
    history : mapping
        Label -> published values indexed by the first calendar year of each
        financial year (at most three series).
    projection : DataFrame
        Columns ``year`` (the first calendar year of each financial year),
        ``p50`` and the ends of the report's range named by
        :func:`wcf_model.formats.range_columns` (``p10``, ``p90``): the median and the
        range, equal when the run has one draw.
    """
    from .formats import range_columns, range_words

    low, high = range_columns()

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.4))
        for i, (name, s) in enumerate(history.items()):
            s = s.dropna()
            ax.plot(s.index, s.to_numpy(), color=PALETTE[i], marker=MARKERS[i], linestyle="-",
                    linewidth=2, markersize=5, label=f"{name} (published)")
        colour = PALETTE[3]
        x = projection["year"].to_numpy()
        ax.plot(x, projection["p50"], color=colour, linestyle="--", marker="D", linewidth=2, markersize=4,
                label=f"{label} (median)" if label == "Projection" else label)
        if (projection[high] > projection[low]).any():
            ax.fill_between(x, projection[low], projection[high], color=colour, alpha=0.18,
                            hatch="//", edgecolor=colour, linewidth=0, label=f"{range_words()} in this band")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        fy_axis(ax)
        ax.margins(x=0.05)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=3, frameon=False, fontsize=9,
                  borderaxespad=0)
        fig.tight_layout()
    return Chart(fig, title, subtitle, alt)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def interval_chart(labels: list[str], central: list[float], low: list[float], high: list[float], *,
                   title: str, subtitle: str, alt: str, xlabel: str, notes: list[str] | None = None,
                   emphasis: int | None = None, muted: list[bool] | None = None) -> Chart:
    """Horizontal bars with a whisker for the range of each, labelled with the value.

    Parameters
    ----------
    labels : list of str
        One per bar, top to bottom; wrapped, never cut.
    notes : list of str, optional
        A second line under each label (e.g. why an option is not a choice).
    emphasis : int, optional
        The bar to draw in bold (the preferred option).
    muted : list of bool, optional
        Bars drawn hatched and hollow (e.g. options that fail a critical success
        factor), so the difference does not rest on colour.
    """
    n = len(labels)
    notes = notes or [""] * n
    muted = muted or [False] * n
    names = [_wrap(lab, 34) + (f"\n{_wrap(note, 40)}" if note else "") for lab, note in zip(labels, notes)]
    lines = sum(name.count("\n") + 1 for name in names)
    with plt.rc_context({**STYLE, "axes.grid.axis": "x"}):
        fig, ax = plt.subplots(figsize=(8, 0.2 * lines + 0.3 * n + 1.0))
        y = list(range(n))[::-1]
        for yi, c, m in zip(y, central, muted):
            ax.barh(yi, c, height=0.55, color="white" if m else PALETTE[0], edgecolor=PALETTE[0],
                    hatch="//" if m else None, linewidth=1.2)
        has_range = any(hi > lo for lo, hi in zip(low, high))
        if has_range:
            # The whisker is the range itself, centred on its own middle: the central
            # run need not lie inside it (a skewed input, or few draws).
            middle = [(lo + hi) / 2 for lo, hi in zip(low, high)]
            half = [(hi - lo) / 2 for lo, hi in zip(low, high)]
            # orange whiskers read on a dark bar and on a hollow one alike
            ax.errorbar(middle, y, xerr=half, fmt="none", ecolor=PALETTE[3], capsize=5, linewidth=2, zorder=3)
        for yi, c, hi in zip(y, central, high):
            ax.annotate(f"£{c:,.1f}m" if round(c, 1) != 0 else "£0.0m", (max(c, hi, 0), yi), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=10, color="#3D3D3D")
        ax.set_yticks(y, names)
        if emphasis is not None:
            ax.get_yticklabels()[emphasis].set_fontweight("bold")
        ax.axvline(0, color="#3D3D3D", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.margins(x=0.2)
        fig.tight_layout()
    return Chart(fig, title, subtitle, alt)


def tornado_chart(labels: list[str], low: list[float], high: list[float], central: float, *, title: str,
                  subtitle: str, alt: str, xlabel: str, low_label: str, high_label: str) -> Chart:
    """Bars from the central result to the result with each input at its low and high end.

    The low end is drawn solid and the high end hatched, so the chart does not
    rely on colour to say which is which. Labels are wrapped, never cut; the
    legend sits above the bars.
    """
    names = [_wrap(lab, 38) for lab in labels]
    lines = sum(name.count("\n") + 1 for name in names)
    with plt.rc_context({**STYLE, "axes.grid.axis": "x"}):
        fig, ax = plt.subplots(figsize=(8, 0.3 * lines + 0.2 * len(labels) + 1.9))
        y = list(range(len(labels)))[::-1]
        ax.barh(y, [lo - central for lo in low], left=central, color=PALETTE[0], height=0.6, label=low_label)
        ax.barh(y, [hi - central for hi in high], left=central, color=PALETTE[1], height=0.6, hatch="//",
                edgecolor="white", label=high_label)
        ax.axvline(central, color="#3D3D3D", linewidth=1)
        ax.set_yticks(y, names)
        ax.set_xlabel(xlabel)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=2, frameon=False, fontsize=9,
                  borderaxespad=0)
        fig.tight_layout()
    return Chart(fig, title, subtitle, alt)


def histogram_chart(samples: Mapping[str, np.ndarray], *, title: str, subtitle: str, alt: str,
                    xlabel: str, bins: int = 40) -> Chart:
    """Outlines of each sample's distribution, told apart by line style as well as colour."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.4))
        edges = np.histogram_bin_edges(np.concatenate([np.ravel(v) for v in samples.values()]), bins=bins)
        for i, (label, values) in enumerate(samples.items()):
            ax.hist(values, bins=edges, histtype="step", linewidth=2, color=PALETTE[i], linestyle=LINESTYLES[i],
                    label=label, density=True)
        ax.axvline(0, color="#3D3D3D", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.set_yticks([])
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=1, frameon=False, fontsize=9, borderaxespad=0)
        fig.tight_layout()
    return Chart(fig, title, subtitle, alt)


def waterfall_chart(steps: list[tuple[str, float]], *, title: str, subtitle: str, alt: str, xlabel: str) -> Chart:
    """From a starting total, through signed steps, to an end total (horizontal, top to bottom).

    The first and last steps are totals (solid); rises are hatched and falls
    plain, so the direction does not rest on colour alone.
    """
    from .formats import signed_money_m

    names = [_wrap(s[0], 40) for s in steps]
    lines = sum(name.count("\n") + 1 for name in names)
    with plt.rc_context({**STYLE, "axes.grid.axis": "x"}):
        fig, ax = plt.subplots(figsize=(8, 0.3 * lines + 0.25 * len(steps) + 1.6))
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
                text = signed_money_m(value * 1e6)
            ax.annotate(text, (max(level, level - value if i not in (0, len(steps) - 1) else level), y),
                        xytext=(6, 0), textcoords="offset points", va="center", fontsize=9, color="#3D3D3D")
        ax.set_yticks(range(len(steps))[::-1], names)
        ax.axvline(0, color="#3D3D3D", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.margins(x=0.25)
        fig.tight_layout()
    return Chart(fig, title, subtitle, alt)


# ---------------------------------------------------------------------------
# Helpers every chart uses: financial-year axes, labels that do not collide,
# axes that say when they do not start at zero
# ---------------------------------------------------------------------------


def fy_axis(ax, years: list[int] | None = None) -> None:
    """Label the x axis with financial years: a tick at 2019 reads "2019-20".

    Values on the axis are the first calendar year of each financial year.
    Ticks fall on the years plotted (``years``; by default those of the
    lines drawn): every year up to eight of them, evenly spaced beyond, always
    including the last.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter

    if years is None:
        xs = [x for line in ax.get_lines() for x in np.asarray(line.get_xdata(), float) if np.isfinite(x)]
        years = sorted({int(round(x)) for x in xs})
    if years:
        first, last = min(years), max(years)
        span = last - first
        # every year up to eight; beyond, a step that lands on both the first and the last year if one does
        step = 1 if span <= 7 else next((s for s in range(-(-span // 7), span // 2 + 1) if span % s == 0),
                                        -(-span // 7))
        ax.xaxis.set_major_locator(FixedLocator(list(range(last, first - 1, -step))[::-1]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{int(round(v))}-{(int(round(v)) + 1) % 100:02d}"))


def spread_labels(ax, items: list[tuple[float, float, str, str]], *, dx: float = 6, fontsize: float = 10,
                  gap: float = 1.25) -> None:
    """Label line ends, moved apart vertically so that no two labels overlap.

    Parameters
    ----------
    items : list of (x, y, text, colour)
        Where each label belongs (data coordinates) and what it says.
    dx : float
        Horizontal offset from the point [points].
    gap : float
        Least distance between the centres of two labels [multiples of the font size].
    """
    if not items:
        return
    to_points = 72 / ax.figure.dpi
    ys = [ax.transData.transform((x, y))[1] * to_points for x, y, _, _ in items]
    order = sorted(range(len(items)), key=lambda i: ys[i])
    placed: dict[int, float] = {}
    # each line's height: a wrapped label takes several
    height = {i: fontsize * gap * (items[i][2].count("\n") + 1) for i in order}
    previous = None
    for i in order:
        y = ys[i] if previous is None else max(ys[i], placed[previous] + (height[previous] + height[i]) / 2)
        placed[i] = y
        previous = i
    # centre the group on the points again, so a crowded group does not drift upwards
    shift = (sum(placed[i] - ys[i] for i in order) / len(order)) / 2
    for i in order:
        x, y, text, colour = items[i]
        ax.annotate(text, (x, y), xytext=(dx, placed[i] - ys[i] - shift), textcoords="offset points",
                    va="center", color=colour, fontsize=fontsize)


def mark_nonzero_start(ax, unit: str = "") -> bool:
    """When the value axis does not start at zero, say so in the chart; True if it does not.

    The axis label gains "(axis starts at 110, not zero)" and the axis line a
    break mark, so a reader does not read the heights of the lines as
    proportions. Call it once the limits are final.
    """
    bottom, top = ax.get_ylim()
    if bottom <= 0 <= top or top < 0:
        return False
    label = ax.get_ylabel()
    ax.set_ylabel(f"{label}\n(axis starts at {unit}{bottom:,.0f}, not zero)" if label
                  else f"Axis starts at {unit}{bottom:,.0f}, not zero")
    kwargs = dict(transform=ax.transAxes, color="#3D3D3D", clip_on=False, linewidth=1)
    for dy in (0.012, 0.032):
        ax.plot([-0.012, 0.012], [dy - 0.008, dy + 0.008], **kwargs)
    return True


def label_overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of texts in a figure whose drawn boxes overlap (tick labels, annotations, legends, axis labels).

    Measured with the renderer's own extents, so it sees the chart as drawn,
    not its pixels. Empty when every label stands clear.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = []
    for ax in fig.axes:
        candidates = [*ax.texts, ax.xaxis.label, ax.yaxis.label, ax.title,
                      *ax.get_xticklabels(), *ax.get_yticklabels()]
        legend = ax.get_legend()
        if legend is not None:
            candidates += legend.get_texts()
        for t in candidates:
            if t.get_visible() and t.get_text().strip():
                box = t.get_window_extent(renderer)
                if box.width > 0 and box.height > 0:
                    texts.append((t.get_text(), box))
    out = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            a, b = texts[i][1], texts[j][1]
            # overlapping by more than a pixel each way (touching is not overlapping)
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1:
                out.append((texts[i][0], texts[j][0]))
    return out
