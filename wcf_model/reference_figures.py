"""Charts of the reference-class estimates (the figures are computed in
:mod:`wcf_model.reference_class`; this module only draws them)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .plots import PALETTE, STYLE, Chart, plt
from .reference_class import Driver, DriverEstimate


def _shown(d: Driver, values) -> np.ndarray:
    """Values as shown: percentage changes for a log-scale driver, else as estimated."""
    v = np.asarray(values, dtype=float)
    return 100 * np.expm1(v) if d.scale == "log" else v


def axis_label(d: Driver) -> str:
    if d.scale == "log":
        return "change against comparison councils [%]"
    unit = "percentage points" if d.unit.startswith("%") else d.unit
    return f"change against comparison councils [{unit}]"


def headline(est: DriverEstimate) -> str:
    """A title that says what the estimate is and how sure it is."""
    d, o = est.driver, est.overall
    if not np.isfinite(o["estimate"]):
        return f"{d.label}: too few councils with figures before and after a move to estimate"
    lo, mid, hi = _shown(d, [o["lower"], o["estimate"], o["upper"]])
    unit = "%" if d.scale == "log" else (" points" if d.unit.startswith("%") else f" {d.unit}")
    word = "fell" if mid < 0 else "rose"
    sure = "and the interval excludes no change" if (lo > 0 or hi < 0) else "but the interval includes no change"
    return (f"{d.label} {word} by {abs(mid):.1f}{unit} after a move, {sure} "
            f"({lo:+.1f} to {hi:+.1f}{unit})")


def event_study_chart(est: DriverEstimate) -> Chart:
    """Estimates by year relative to the move, with their interval and each mover's own figure."""
    d = est.driver
    ev = est.events
    pct = round(100 * est.level)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.4))
        c = est.contributions
        if not c.empty:
            ax.scatter(c["event"] + 0.12, _shown(d, c["estimate"]), marker="x", s=18, color="#8C8C8C",
                       linewidths=1, label="each council that moved", zorder=2)
        pre, post = ev[ev["event"] < 0], ev[ev["event"] >= 0]
        for part, marker, face, label in ((pre, "s", "white", "before the move"),
                                          (post, "o", PALETTE[0], "after the move")):
            x = part["event"].to_numpy()
            mid, lo, hi = (_shown(d, part[k]) for k in ("estimate", "lower", "upper"))
            ax.errorbar(x, mid, yerr=[mid - lo, hi - mid], fmt=marker, color=PALETTE[0], mfc=face,
                        ecolor=PALETTE[0], capsize=4, markersize=7, linewidth=1.5, label=label, zorder=3)
        ax.axhline(0, color="#3D3D3D", linewidth=1)
        ax.axvline(-0.5, color="#3D3D3D", linewidth=1, linestyle=":")
        ax.annotate("move", (-0.5, 1.0), xycoords=("data", "axes fraction"), xytext=(4, -12),
                    textcoords="offset points", fontsize=9, color="#3D3D3D")
        ax.set_xticks(ev["event"].to_numpy())
        ax.set_xlabel("figures after the move (0 = the first after it; -1 = the last before it)")
        ax.set_ylabel(axis_label(d))
        # below the axes, so it never hides a point
        ax.legend(frameon=False, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3)
        fig.tight_layout()
    o = est.overall
    subtitle = (f"{d.label} [{d.unit}] in the councils that moved, minus the change in councils that had not "
                f"(yet) moved, relative to the last figure before the move; bars: {pct}% placebo interval; "
                f"{o['councils']} councils with figures before and after")
    rows = "; ".join(f"{int(r.event)}: {_shown(d, [r.estimate])[0]:+.1f}" for r in ev.itertuples()
                     if np.isfinite(r.estimate))
    alt = (f"Event-study chart of {d.label.lower()}. Estimates by figures after the move: {rows}. "
           f"Overall {headline(est)}.")
    return Chart(fig, headline(est), subtitle, alt)


def overrun_chart(overruns: pd.DataFrame) -> Chart:
    """Each published overrun against budget, sorted, with its council and year."""
    known = overruns[overruns["overrun"].notna()].sort_values(["overrun", "financial_year"], kind="mergesort")
    labels = [f"{c}, {y}" + (" (forecast)" if s == "forecast" else "")
              for c, y, s in zip(known["council"], known["financial_year"], known["status"])]
    values = 100 * known["overrun"].to_numpy()
    with plt.rc_context({**STYLE, "axes.grid.axis": "x"}):
        fig, ax = plt.subplots(figsize=(8, 0.38 * len(known) + 1.4))
        y = np.arange(len(known))
        hatch = ["//" if s == "forecast" else None for s in known["status"]]
        for yi, v, h in zip(y, values, hatch):
            ax.barh(yi, v, color=PALETTE[0], height=0.6, hatch=h, edgecolor="white")
            ax.annotate(f"{v:.1f}%", (v, yi), xytext=(4, 0), textcoords="offset points", va="center",
                        fontsize=9, color="#3D3D3D")
        ax.set_yticks(y, labels)
        ax.set_xlabel("overspend as a share of the year's budget [%] (hatched: forecast, not outturn)")
        ax.margins(x=0.15)
        fig.tight_layout()
    med = float(np.median(values)) if len(values) else float("nan")
    title = (f"Trusts and companies overspent by a median {med:.0f}% of their budget in the years published"
             if len(values) else "No published overruns with a known budget")
    subtitle = f"{len(known)} council-years with a published budget and outturn or forecast"
    alt = "Bar chart of overruns: " + "; ".join(f"{lab} {v:.1f}%" for lab, v in zip(labels, values))
    return Chart(fig, title, subtitle, alt)
