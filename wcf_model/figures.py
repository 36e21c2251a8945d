"""The charts and tables a reader sees about caseloads, staff and back-tests.

Each function takes computed results (a projection, a back-test, published
history) and returns a :class:`~wcf_model.plots.Chart` with a headline that
states the finding, or a tidy table. Nothing here recomputes the model, so the
report and the notebooks show the same figures.
"""

from __future__ import annotations

import pandas as pd

from .backtest import Backtest
from .data import series_or_none
from .model import Projection
from .plots import Chart, band_chart, interval_chart, line_chart

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


def caseload_charts(projection: Projection, la: pd.DataFrame | None, authority: str) -> list[Chart]:
    """History with the projection and its band, for the headline caseloads."""
    measures = projection.measures()
    charts = []
    for measure, (published, words, ylabel, kind) in CASELOAD_CHARTS.items():
        if measure not in measures:
            continue
        frame = projection_frame(projection, measure, kind)
        hist = series_or_none(la, published)
        hist = hist.dropna() if hist is not None else None
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


#: Published measures of a back-test, in words.
BACKTEST_WORDS = {
    "referrals": "Referrals in the year",
    "cin_at_31_march": "Children in need (31 March)",
    "cpp_at_31_march": "Child protection plans (31 March)",
    "cla_at_31_march": "Children looked after (31 March)",
    "cla_starts": "Starting to be looked after",
    "cla_ceased": "Ceasing to be looked after",
    "ehcp_total": "EHC plans (January)",
    "sw_case_holders_fte": "Case-holding social workers (FTE, 30 September)",
}


def backtest_table(bt: Backtest) -> pd.DataFrame:
    """Projected (with its band), published, error, and the naive forecasts, by measure and year."""
    t = bt.table.copy()
    for col in ("projected", "p10", "p90", "error", "flat", "linear", "damped"):
        if col in t:
            t[col] = t[col].round(0)
    t["pct_error"] = t["pct_error"].round(1)
    t["measure"] = t["measure"].map(lambda m: BACKTEST_WORDS.get(m, m))
    return t.rename(columns={"pct_error": "error (%)", "p10": "10th percentile", "p90": "90th percentile",
                             "actual": "published", "horizon": "years ahead",
                             "flat": "naive: last figure", "linear": "naive: straight line",
                             "damped": "naive: damped trend"})


#: How each naive forecast is named to a reader, given the origin.
NAIVE_WORDS = {
    "flat": lambda y: f"the {y} figure carried forward",
    "linear": lambda y: f"a straight line through {y - 4}-{y}",
    "damped": lambda y: "a damped trend",
}


def backtest_chart(bt: Backtest, measure: str = "cla_at_31_march", words: str = "children looked after") -> Chart:
    """The forecast from the origin against what was published, with its band and the naive forecasts beside it."""
    rows = bt.table[bt.table["measure"] == measure].set_index("year")
    hist = bt.history[bt.history["measure"] == measure].set_index("year")["value"] if len(bt.history) else None
    published = pd.concat([hist, rows["actual"]]) if hist is not None and len(hist) else rows["actual"]
    scores = bt.scores.set_index("measure").loc[measure] if measure in set(bt.scores.get("measure", [])) else None
    y = bt.fit_to
    title = f"Back-test of {words}"
    if scores is not None and pd.notna(scores.get("mape_model")):
        naive = {k: scores[f"mape_{k}"] for k in NAIVE_WORDS if pd.notna(scores.get(f"mape_{k}"))}
        best = min(naive, key=naive.get) if naive else None
        title = f"Forecast from {y}, the model was out by {scores['mape_model']:.1f}% a year on average on {words}"
        if best is not None:
            title += (f"; the best naive forecast, {NAIVE_WORDS[best](y)}, by {naive[best]:.1f}%")
    years = f"{int(rows.index.min())}-{int(rows.index.max())}" if len(rows) else ""
    subtitle = (f"{bt.la_name}: forecasts made from the figures published up to {y}, against the figures "
                f"published for {years} (DfE)." + (f" Shaded: the model's 10th-90th percentile band over "
                                                   f"{bt.draws:,} draws." if bt.draws else ""))
    lines = {"Published": published, "Model": rows["projected"],
             "Last figure": rows["flat"], "Straight line": rows["linear"], "Damped trend": rows["damped"]}
    alt = (f"Line chart of {words} in {bt.la_name}: published "
           + ", ".join(f"{int(yr)}: {v:,.0f}" for yr, v in published.items())
           + "; forecasts from " + str(y) + " by year (model, last figure, straight line, damped trend): "
           + "; ".join(f"{int(yr)}: {r.projected:,.0f}, {r.flat:,.0f}, {r.linear:,.0f}, {r.damped:,.0f}"
                       for yr, r in rows.iterrows()) + ".")
    band = ("8 in 10 draws", rows["p10"], rows["p90"]) if rows["p10"].notna().any() else None
    return line_chart(lines, title=title, subtitle=subtitle, alt=alt, ylabel=words.capitalize(), band=band,
                      ymin=None)


def _and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def trust_sentence(bt: Backtest) -> str:
    """How far a councillor can trust the projection, in one plain-English sentence from the back-test."""
    s = bt.scores.set_index("measure") if len(bt.scores) else pd.DataFrame()
    words = {"cin_at_31_march": "children in need", "referrals": "referrals",
             "cpp_at_31_march": "child protection plans", "cla_at_31_march": "children looked after"}
    headline = [m for m in words if m in s.index and pd.notna(s.loc[m].get("mape_model"))]
    if not headline:
        return ("There are no later published figures to test the projection against, so how far to trust it "
                "is not known.")
    headline.sort(key=lambda m: s.loc[m, "mape_model"])
    lost = [m for m in headline if any(s.loc[m, f"mase_model"] >= s.loc[m, f"mase_{k}"] for k in NAIVE_WORDS
                                       if pd.notna(s.loc[m].get(f"mase_{k}")))]
    years = f"{int(bt.table['year'].min())}-{int(bt.table['year'].max())}"
    out = _and([f"{s.loc[m, 'mape_model']:.0f}% for {words[m]}" for m in headline])
    text = (f"How far to trust it: had this method been used in {bt.fit_to}, its forecasts for {years} would have "
            f"been out, on average each year, by {out}")
    if not lost:
        text += ", closer than each simple alternative"
    elif len(lost) < len(headline):
        text += f", closer than the simple alternatives except for {_and([words[m] for m in lost])}"
    else:
        text += ", no closer than the simple alternatives"
    covered = int(s.loc[headline, "covered"].sum()) if "covered" in s else 0
    banded = int(s.loc[headline, "banded"].sum()) if "banded" in s else 0
    if banded:
        text += (f", and {'all ' if covered == banded else ''}{covered}{'' if covered == banded else f' of {banded}'} "
                 "published figures fell inside its 8-in-10 band")
    return text + "; so read each projected figure as a central estimate with that band around it, not as an exact count."


def _m(x: float) -> str:
    return f"£{x / 1e6:,.1f}m"


def options_summary_text(res) -> str:
    """The headline sentence for each option against the baseline, in plain English."""
    return " ".join(options_summary_lines(res).values())


def options_summary_lines(res) -> dict[str, str]:
    """Option -> its headline sentence against the baseline, in plain English."""
    a, u = res.central, res.uncertain
    sc = res.scenario
    first, last = a.years[0], a.years[-1]
    base = sc.options[a.baseline].label
    parts = {}
    for oid, opt in sc.options.items():
        if oid == a.baseline:
            continue
        diff = a.npv_vs_baseline(oid)[0]
        word = "more" if diff >= 0 else "less"
        text = (f"{opt.label} is expected to cost {_m(abs(diff))} {word} than {base} over {len(a.years)} years "
                f"({first} to {last}, in {sc.header.base_year} prices, discounted)")
        if res.draws is not None:
            import numpy as np
            lo, hi = np.percentile(u.npv_vs_baseline(oid), [5, 95])
            text += f"; in 9 draws out of 10 the difference lies between {_m(lo)} and {_m(hi)}"
        cash = a.council_cash_vs_baseline(oid)[0]
        text += (f". In cash to the council, including VAT and tax, it costs {_m(abs(cash))} "
                 f"{'more' if cash >= 0 else 'less'} over the same years")
        if any(not c.met for c in opt.csf.values()):
            text += "; it fails a critical success factor"
        parts[oid] = text + "."
    return parts


def npv_chart(res) -> Chart:
    """Each option's net present cost against the baseline, with its 10th-90th percentile range."""
    import numpy as np
    a, u = res.central, res.uncertain
    sc = res.scenario
    others = [o for o in a.options if o != a.baseline]
    central = [a.npv_vs_baseline(o)[0] / 1e6 for o in others]
    pct = [np.percentile(u.npv_vs_baseline(o), [10, 90]) / 1e6 for o in others]
    cheapest = min(others, key=lambda o: a.npv_vs_baseline(o)[0]) if others else None
    base = sc.options[a.baseline].label
    title = (f"Every option costs more than {base.lower()}" if min(central, default=0) > 0 else
             f"{sc.options[cheapest].label} has the lowest cost against {base.lower()}")
    subtitle = (f"Net present cost minus the baseline's, £ million, {sc.header.base_year} prices, "
                f"{len(a.years)} years, discounted at the Green Book rate; whiskers: 10th to 90th percentile")
    alt = "Bar chart of the net present cost of each option against the baseline: " + "; ".join(
        f"{sc.options[o].label} £{c:,.1f}m (10th-90th percentile £{p[0]:,.1f}m to £{p[1]:,.1f}m)"
        for o, c, p in zip(others, central, pct)) + "."
    return interval_chart([sc.options[o].label for o in others], central, [p[0] for p in pct],
                          [p[1] for p in pct], title=title, subtitle=subtitle, alt=alt,
                          xlabel="£ million more than the baseline")


def cash_chart(res) -> Chart:
    """Cash cost by financial year for each option (central run)."""
    a = res.central
    sc = res.scenario
    lines = {sc.options[o].label: pd.Series(r.financial_total[0] / 1e6, index=[int(y[:4]) for y in a.years])
             for o, r in list(a.options.items())[:4]}
    first, last = a.years[0], a.years[-1]
    base_total = a.options[a.baseline].financial_total[0]
    title = (f"Cash spending rises from {_m(base_total[0])} in {first} to {_m(base_total[-1])} in {last} "
             f"under {sc.options[a.baseline].label.lower()}")
    subtitle = "Cash cost by financial year (start year shown), £ million, including VAT and tax, central values"
    alt = "Line chart of cash cost by year for each option: " + "; ".join(
        f"{label}: {', '.join(f'{v:,.1f}' for v in s)}" for label, s in lines.items()) + "."
    return line_chart(lines, title=title, subtitle=subtitle, alt=alt, ylabel="£ million a year", ymin=None)


def funder_table(res) -> pd.DataFrame:
    """Cash totals over the period by option and funder [GBP]."""
    a = res.central
    rows = {res.scenario.options[o].label: {f: v[0].sum() for f, v in r.funders.items()}
            for o, r in a.options.items()}
    return pd.DataFrame(rows).T.fillna(0).round(0)


def tornado_figure(table: pd.DataFrame, option: str, option_label: str, top: int = 10) -> Chart:
    """The inputs that move an option's result most (from :func:`wcf_model.sensitivity.tornado`)."""
    from .plots import tornado_chart

    rows = table[table["option"] == option]
    # inputs that do not move this option's result at all would only be empty rows
    rows = rows[rows["swing"] > 0.005 * rows["swing"].max()].head(top)
    central = rows["central"].iloc[0] / 1e6
    first = rows.iloc[0]
    title = (f"For {option_label.lower()}, the result turns most on {first['label'].split(': ')[-1]}: "
             f"£{first['at_low'] / 1e6:,.1f}m to £{first['at_high'] / 1e6:,.1f}m against the baseline")
    subtitle = ("Net present cost minus the baseline's, £ million, with one input at a time at its 10th and 90th "
                "percentile and the rest at central values")
    alt = "Tornado chart: " + "; ".join(f"{r.label}: £{r.at_low / 1e6:,.1f}m to £{r.at_high / 1e6:,.1f}m"
                                        for r in rows.itertuples()) + f". Central £{central:,.1f}m."
    short = [r.label.removeprefix(f"{option_label}: ") for r in rows.itertuples()]
    labels = [t if len(t) < 72 else t[:69] + "..." for t in short]
    return tornado_chart(labels, list(rows["at_low"] / 1e6), list(rows["at_high"] / 1e6), central, title=title,
                         subtitle=subtitle, alt=alt, xlabel="£ million more than the baseline")


def npv_distribution_figure(res) -> Chart:
    """Distribution of each option's NPV difference from the baseline across the draws."""
    import numpy as np

    from .plots import histogram_chart

    u = res.uncertain
    sc = res.scenario
    samples = {sc.options[o].label: u.npv_vs_baseline(o) / 1e6 for o in u.options if o != u.baseline}
    share_dearer = {label: float(np.mean(v > 0)) for label, v in samples.items()}
    label, share = max(share_dearer.items(), key=lambda kv: kv[1])
    title = f"{label} costs more than the baseline in {share:.0%} of {u.draws:,} draws"
    subtitle = "Net present cost minus the baseline's, £ million, across the Monte Carlo draws (all options share them)"
    alt = "Distributions of the difference from the baseline: " + "; ".join(
        f"{k}: median £{np.median(v):,.1f}m, 5th-95th percentile £{np.percentile(v, 5):,.1f}m to "
        f"£{np.percentile(v, 95):,.1f}m" for k, v in samples.items()) + "."
    return histogram_chart(samples, title=title, subtitle=subtitle, alt=alt, xlabel="£ million more than the baseline")


def cash_fan_figure(res, option: str) -> Chart:
    """Cash by year against the baseline for one option: median and 10th-90th percentile band."""
    bands = res.cash_bands()
    rows = bands[(bands["option"] == option) & (bands["measure"] == "cash_vs_baseline")].copy()
    rows["year"] = [int(y[:4]) for y in rows["year"]]
    for col in ("p10", "p50", "p90", "mean"):
        rows[col] = rows[col] / 1e6
    label = res.scenario.options[option].label
    peak = rows.loc[rows["p50"].idxmax()]
    title = (f"{label} needs up to £{peak['p50']:,.1f}m a year more cash than the baseline "
             f"(median, {int(peak['year'])}-{(int(peak['year']) + 1) % 100:02d})")
    subtitle = "Extra cash a year against the baseline, £ million, median and 10th-90th percentile band, start year shown"
    alt = f"Fan chart of extra cash for {label}: " + "; ".join(
        f"{int(r.year)}: median £{r.p50:,.1f}m (£{r.p10:,.1f}m to £{r.p90:,.1f}m)" for r in rows.itertuples()) + "."
    from .plots import band_chart

    return band_chart({}, rows[["year", "p10", "p50", "p90"]], title=title, subtitle=subtitle, alt=alt,
                      ylabel="£ million a year", label=label if len(label) < 30 else "Median")


def waterfall_figure(att, option: str, option_label: str, old_name: str, new_name: str) -> Chart:
    """How one option's result moved between two versions of a business case (Shapley values)."""
    from .compare import waterfall_frame
    from .plots import waterfall_chart

    frame = waterfall_frame(att, option)
    steps = [(old_name if s == "old" else new_name if s == "new" else s.removeprefix("parameters."), v / 1e6)
             for s, v in zip(frame["step"], frame["value"])]
    change = steps[-1][1] - steps[0][1]
    moved = sorted(steps[1:-1], key=lambda kv: -abs(kv[1]))
    if abs(change) < 0.05 and not moved:
        title = f"No changed assumption moved the result for {option_label.lower()}"
    else:
        title = (f"{option_label} {'rose' if change > 0 else 'fell'} by £{abs(change):,.1f}m against the baseline"
                 + (f", most because of {moved[0][0]}" if moved else ""))
    subtitle = "Net present cost against the baseline, £ million; each change's share averaged over every order (Shapley)"
    alt = "Waterfall: " + "; ".join(f"{label} {value:+,.1f}m" for label, value in steps) + "."
    return waterfall_chart(steps, title=title, subtitle=subtitle, alt=alt, xlabel="£ million against the baseline")


def national_backtest_chart(nb) -> Chart:
    """Median scaled error by forecast origin for each headline measure: the model against the naive forecasts."""
    import matplotlib.pyplot as plt

    from .forecast import MEASURES
    from .plots import LINESTYLES, MARKERS, PALETTE, STYLE

    summary = nb.summary()
    names = {"model": "Model", "flat": "Last figure", "linear": "Straight line", "damped": "Damped trend"}
    wins = int(summary["beats_every_median"].sum())
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, 2, figsize=(9, 6.2), sharex=True)
        for ax, measure in zip(axes.ravel(), MEASURES):
            t = summary[summary["measure"] == measure]
            for i, (key, label) in enumerate(names.items()):
                ax.plot(t["origin"], t[f"median_mase_{key}"], color=PALETTE[i], marker=MARKERS[i],
                        linestyle=LINESTYLES[i], linewidth=2.4 if key == "model" else 1.6, markersize=5, label=label)
            ax.set_title(MEASURES[measure].capitalize(), fontsize=11, loc="left")
            ax.set_ylim(bottom=0)
            ax.xaxis.get_major_locator().set_params(integer=True)
        for ax in axes[:, 0]:
            ax.set_ylabel("Median MASE")
        for ax in axes[1]:
            ax.set_xlabel("Forecast origin (last year the fit used)")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=4, frameon=False, fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 0.94))
    title = (f"The model's median error is below all three naive forecasts in {wins} of {len(summary)} "
             "measure-origins")
    subtitle = (f"Median across {nb.authorities} English authorities of the mean absolute scaled error of forecasts "
                f"{nb.horizon} years ahead from each origin (1 = the size of a typical year's change; lower is better).")
    alt = "Four line charts of median MASE by origin. " + " ".join(
        f"{MEASURES[r['measure']].capitalize()} {r['origin']}: model {r['median_mase_model']:.2f}, last figure "
        f"{r['median_mase_flat']:.2f}, straight line {r['median_mase_linear']:.2f}, damped trend "
        f"{r['median_mase_damped']:.2f}." for r in summary.to_dict("records"))
    return Chart(fig, title, subtitle, alt)
