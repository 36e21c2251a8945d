"""The charts a reader sees: the options' costs, uncertainty, caseloads, back-tests and history.

Each function takes computed results (an appraisal, a projection, a back-test,
published history) and returns a :class:`~wcf_model.plots.Chart` with a
headline that states the finding, a subtitle saying what is plotted in which
unit, and alt text. Nothing here recomputes the model, so the report and the
notebooks show the same figures. Years are financial years ("2019-20") and
ranges are the report's one range (:data:`wcf_model.formats.RANGE`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .backtest import Backtest
from .formats import RANGE, financial_year_label, money_m, range_columns, range_label, range_words
from .uncertain import option_input_label
from .projection import Projection
from .plots import Chart, band_chart, interval_chart, line_chart

if TYPE_CHECKING:
    from .analysis import Answer, History

#: What the caseload charts show: projected measure -> (published measure,
#: words, y-axis label).
CASELOAD_CHARTS = {
    "cla_closing": ("cla_at_31_march", "children looked after", "Children looked after at 31 March"),
    "cin_closing": ("cin_at_31_march", "children in need", "Children in need at 31 March"),
    "social_worker_in_post_fte": ("sw_case_holders_fte", "case-holding social workers in post",
                                  "Social workers in post (FTE)"),
}


def projection_frame(projection: Projection, measure: str) -> pd.DataFrame:
    """One measure's range ends, median and mean by year; ``year`` the first calendar year of each financial year."""
    bands = projection.bands()
    rows = bands[bands["measure"] == measure].copy()
    rows["year"] = [int(fy[:4]) for fy in rows.pop("year")]
    return rows.reset_index(drop=True)


def caseload_charts(projection: Projection, la: pd.DataFrame | None, authority: str) -> list[Chart]:
    """History with the projection and its band, for the headline caseloads, by financial year."""
    from .analysis import fy_series

    measures = projection.measures()
    charts = []
    for measure, (published, words, ylabel) in CASELOAD_CHARTS.items():
        if measure not in measures:
            continue
        frame = projection_frame(projection, measure)
        hist = fy_series(la, published)
        last = frame.iloc[-1]
        year = financial_year_label(int(last["year"]))
        title = f"{words.capitalize()} are projected to number {last['p50']:,.0f} in {year}"
        if projection.draws > 1:
            low, high = range_columns()
            title += f" ({range_words()} between {last[low]:,.0f} and {last[high]:,.0f})"
        if hist is not None and len(hist):
            title += f", against {hist.iloc[-1]:,.0f} published for {financial_year_label(int(hist.index[-1]))}"
        subtitle = (f"{authority}, in-house baseline, by financial year. Published figures (DfE) and the "
                    "projection's median"
                    + (f" with its {range_label()} band over {projection.draws:,} draws." if projection.draws > 1
                       else " at central values."))
        alt = (f"Line chart of {words} in {authority} by financial year: published figures "
               + (f"{financial_year_label(int(hist.index[0]))} to {financial_year_label(int(hist.index[-1]))} "
                  f"({', '.join(f'{v:,.0f}' for v in hist)})" if hist is not None and len(hist) else "not available")
               + "; projected median " + ", ".join(f"{financial_year_label(int(y))}: {v:,.0f}"
                                                   for y, v in zip(frame["year"], frame["p50"])) + ".")
        charts.append(band_chart({authority: hist} if hist is not None else {}, frame, title=title,
                                 subtitle=subtitle, alt=alt, ylabel=ylabel))
    return charts


#: How each naive forecast is named to a reader, given the origin.
NAIVE_WORDS = {
    "flat": lambda y: f"the {y} figure carried forward",
    "linear": lambda y: f"a straight line through {y - 4}-{y}",
    "damped": lambda y: "a damped trend",
}


def published_year_to_fy(measure: str, year: int) -> int:
    """The financial year (its first calendar year) a back-test's published figure belongs to.

    A stock at 31 March ``year`` or a flow to that date is in (``year`` - 1)-``year``;
    a 30 September census in ``year``-(``year`` + 1).
    """
    from .backtest import COMPARED

    return int(year) - (0 if COMPARED.get(measure, ("", "stock"))[1] == "census" else 1)


def backtest_chart(bt: Backtest, measure: str = "cla_at_31_march", words: str = "children looked after") -> Chart:
    """The forecast from the origin against what was published, with its band and the naive forecasts beside it."""
    rows = bt.table[bt.table["measure"] == measure].copy()
    rows.index = [published_year_to_fy(measure, y) for y in rows["year"]]
    hist = None
    if len(bt.history):
        h = bt.history[bt.history["measure"] == measure]
        hist = pd.Series(h["value"].to_numpy(), index=[published_year_to_fy(measure, y) for y in h["year"]])
    published = pd.concat([hist, rows["actual"]]) if hist is not None and len(hist) else rows["actual"]
    scores = bt.scores.set_index("measure").loc[measure] if measure in set(bt.scores.get("measure", [])) else None
    y = bt.fit_to
    title = f"Back-test of {words}"
    if scores is not None and pd.notna(scores.get("mape_model")):
        naive = {k: scores[f"mape_{k}"] for k in NAIVE_WORDS if pd.notna(scores.get(f"mape_{k}"))}
        best = min(naive, key=naive.get) if naive else None
        title = f"Forecast from {y}, the model was out by {scores['mape_model']:.1f}% a year on average on {words}"
        if best is not None:
            title += f"; the best naive forecast, {NAIVE_WORDS[best](y)}, by {naive[best]:.1f}%"
    years = (f"{financial_year_label(int(rows.index.min()))} to {financial_year_label(int(rows.index.max()))}"
             if len(rows) else "")
    subtitle = (f"{bt.la_name}, by financial year: forecasts made from the figures published up to {y}, against the "
                f"figures published for {years} (DfE)."
                + (f" Shaded: the model's {range_label()} band over {bt.draws:,} draws." if bt.draws else ""))
    lines = {"Published": published, "Model": rows["projected"],
             "Last figure": rows["flat"], "Straight line": rows["linear"], "Damped trend": rows["damped"]}
    alt = (f"Line chart of {words} in {bt.la_name} by financial year: published "
           + ", ".join(f"{financial_year_label(int(yr))}: {v:,.0f}" for yr, v in published.items())
           + f"; forecasts from {y} (model, last figure, straight line, damped trend): "
           + "; ".join(f"{financial_year_label(int(yr))}: {r.projected:,.0f}, {r.flat:,.0f}, {r.linear:,.0f}, "
                       f"{r.damped:,.0f}" for yr, r in rows.iterrows()) + ".")
    low, high = range_columns()
    band = ((f"{range_words()}\nin this band", rows[low], rows[high])
            if low in rows and rows[low].notna().any() else None)
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
    lost = [m for m in headline if any(s.loc[m, "mase_model"] >= s.loc[m, f"mase_{k}"] for k in NAIVE_WORDS
                                       if pd.notna(s.loc[m].get(f"mase_{k}")))]
    shown = bt.table[bt.table["measure"].isin(headline)]
    first = min(published_year_to_fy(m, y) for m, y in zip(shown["measure"], shown["year"]))
    last = max(published_year_to_fy(m, y) for m, y in zip(shown["measure"], shown["year"]))
    out = _and([f"{s.loc[m, 'mape_model']:.0f}% for {words[m]}" for m in headline])
    text = (f"How far to trust it: had this method been used in {bt.fit_to}, its forecasts for "
            f"{financial_year_label(first)} to {financial_year_label(last)} would have been out, on average each "
            f"year, by {out}")
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
                 f"published figures fell inside its {range_label()} band")
    return text + "; so read each projected figure as a central estimate with that band around it, not as an exact count."


def history_charts(authority: str, history: History) -> list[Chart]:
    """The authority's looked-after rate and agency share of social workers against England's, by financial year."""
    from .analysis import fy_series

    charts = []
    pairs = [
        ("cla_rate_per_10k", "rate of children looked after", "", "Children looked after per 10,000 children",
         "at 31 March, per 10,000 children aged 0-17"),
        ("sw_agency_percent", "share of social workers from agencies", "%", "Agency social workers (%)",
         "agency workers as a share of all children's social workers (FTE), at the 30 September census"),
    ]
    for measure, what, unit, ylabel, when in pairs:
        mine, england = fy_series(history.rows, measure), fy_series(history.england, measure)
        if mine is None:
            continue
        lines = {authority: mine} | ({"England": england} if england is not None else {})
        first, last = mine.index[0], mine.index[-1]
        verb = "rose" if mine.iloc[-1] > mine.iloc[0] else "fell" if mine.iloc[-1] < mine.iloc[0] else "held"
        title = (f"{authority}'s {what} {verb} from {_num(mine.iloc[0])}{unit} in {financial_year_label(first)} "
                 f"to {_num(mine.iloc[-1])}{unit} in {financial_year_label(last)}")
        if england is not None and last in england.index:
            title += f"; England's was {_num(england[last])}{unit}"
        subtitle = f"{authority} and England by financial year, {when}. Source: DfE published statistics."
        alt = (f"Line chart of the {what} by financial year for {authority}"
               + (" and England" if england is not None else "")
               + f", {financial_year_label(first)} to {financial_year_label(last)}. "
               + "; ".join(f"{financial_year_label(y)}: {v:,.1f}" for y, v in mine.items()) + ".")
        charts.append(line_chart(lines, title=title, subtitle=subtitle, alt=alt, ylabel=ylabel))
    return charts


def _num(v: float) -> str:
    """One decimal place, without a trailing '.0': 67.0 -> '67', 11.1 -> '11.1'."""
    return f"{v:,.1f}".removesuffix(".0")


def options_summary_lines(res) -> dict[str, str]:
    """Option -> its headline sentence against the baseline, in plain English (every option but the baseline)."""
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
        text = (f"{opt.label} is expected to cost {money_m(abs(diff))} {word} than {base} over {len(a.years)} "
                f"years ({first} to {last}, in {sc.header.base_year} prices, discounted)")
        if res.draws is not None:
            lo, hi = np.percentile(u.npv_vs_baseline(oid), RANGE)
            text += f"; {range_words()} the difference lies between {money_m(lo)} and {money_m(hi)}"
        cash = a.council_cash_vs_baseline(oid)[0]
        text += (f". In cash to the council, including VAT and tax, it costs {money_m(abs(cash))} "
                 f"{'more' if cash >= 0 else 'less'} over the same years")
        if any(not c.met for c in opt.csf.values()):
            text += "; it fails a critical success factor"
        parts[oid] = text + "."
    return parts


def options_summary_text(res) -> str:
    """The headline sentence for each option against the baseline, in plain English."""
    return " ".join(options_summary_lines(res).values())


def npv_chart(res, answer: Answer | None = None) -> Chart:
    """Every option's net present cost against the baseline, with its range; failing options hatched, with why.

    With an :class:`~wcf_model.analysis.Answer`, the preferred option is in
    bold and the headline names it.
    """
    from .analysis import csf_failures, npv_range

    a = res.central
    sc = res.scenario
    options = list(a.options)
    central = [a.npv_vs_baseline(o)[0] / 1e6 for o in options]
    ranges = [npv_range(res, o) or (a.npv_vs_baseline(o)[0],) * 2 for o in options]
    low, high = [r[0] / 1e6 for r in ranges], [r[1] / 1e6 for r in ranges]
    failing = csf_failures(sc)
    base = sc.options[a.baseline].label
    labels = [sc.options[o].label + (" (the baseline)" if o == a.baseline else "") for o in options]
    notes = ["fails: " + "; ".join(f for f, _ in failing[o]) if o in failing else "" for o in options]
    others = [o for o in options if o != a.baseline]
    if answer is not None:
        pref = sc.options[answer.preferred].label
        title = (f"{pref}, the option the evidence favours, costs {money_m(abs(answer.npv_vs_baseline))} "
                 f"{'more' if answer.npv_vs_baseline >= 0 else 'less'} than {base.lower()}")
    elif others and min(central[options.index(o)] for o in others) > 0:
        title = f"Every other option costs more than {base.lower()}"
    else:
        cheapest = min(others, key=lambda o: a.npv_vs_baseline(o)[0]) if others else a.baseline
        title = f"{sc.options[cheapest].label} has the lowest cost against {base.lower()}"
    subtitle = (f"Net present cost minus the baseline's, £ million, {sc.header.base_year} prices, "
                f"{len(a.years)} years, discounted; "
                + (f"whiskers: {range_label()} ({range_words()}); " if res.draws is not None else "")
                + "hatched: fails a critical success factor")
    alt = "Bar chart of the net present cost of each option against the baseline: " + "; ".join(
        f"{lab} {money_m(c * 1e6)}"
        + (f" ({range_words()} between {money_m(lo * 1e6)} and {money_m(hi * 1e6)})"
           if res.draws is not None and o != a.baseline else "")
        + (f", {note}" if note else "")
        for o, lab, c, lo, hi, note in zip(options, labels, central, low, high, notes)) + "."
    return interval_chart(labels, central, low, high, title=title, subtitle=subtitle, alt=alt,
                          xlabel="£ million more than the baseline", notes=notes,
                          emphasis=options.index(answer.preferred) if answer is not None else None,
                          muted=[o in failing for o in options])


def cash_chart(res) -> Chart:
    """Cash cost by financial year for each option (central run)."""
    a = res.central
    sc = res.scenario
    lines = {sc.options[o].label: pd.Series(r.financial_total[0] / 1e6, index=[int(y[:4]) for y in a.years])
             for o, r in list(a.options.items())[:6]}   # six lines at most: the palette's colours
    first, last = a.years[0], a.years[-1]
    base_total = a.options[a.baseline].financial_total[0]
    title = (f"Cash spending rises from {money_m(base_total[0])} in {first} to {money_m(base_total[-1])} in {last} "
             f"under {sc.options[a.baseline].label.lower()}")
    subtitle = "Cash cost by financial year, £ million, including VAT and tax, central values"
    alt = "Line chart of cash cost by financial year for each option: " + "; ".join(
        f"{label}: {', '.join(f'{v:,.1f}' for v in s)}" for label, s in lines.items()) + "."
    return line_chart(lines, title=title, subtitle=subtitle, alt=alt, ylabel="£ million a year", ymin=None,
                      unit="£")


def tornado_figure(table: pd.DataFrame, option: str, option_label: str, top: int = 10) -> Chart:
    """The inputs that move an option's result most (from :func:`wcf_model.sensitivity.tornado`)."""
    from .formats import range_ends
    from .plots import tornado_chart

    rows = table[table["option"] == option]
    # inputs that do not move this option's result at all would only be empty rows
    rows = rows[rows["swing"] > 0.005 * rows["swing"].max()].head(top)
    central = rows["central"].iloc[0] / 1e6
    suffix = option_input_label(option_label, "")
    short = [r.label.removesuffix(suffix) for r in rows.itertuples()]
    first = rows.iloc[0]
    title = (f"For {option_label.lower()}, the result turns most on the {short[0][:1].lower() + short[0][1:]}: "
             f"{money_m(first['at_low'])} to {money_m(first['at_high'])} against the baseline")
    low, high = range_ends()
    subtitle = (f"Net present cost minus the baseline's, £ million, with one input at a time at its {low} and "
                f"{high} and the rest at central values")
    alt = "Tornado chart: " + "; ".join(f"{s}: {money_m(r.at_low)} to {money_m(r.at_high)}"
                                        for s, r in zip(short, rows.itertuples())) + f". Central £{central:,.1f}m."
    return tornado_chart(short, list(rows["at_low"] / 1e6), list(rows["at_high"] / 1e6), central, title=title,
                         subtitle=subtitle, alt=alt, xlabel="£ million more than the baseline",
                         low_label=f"input at its {low}", high_label=f"input at its {high}")


def npv_distribution_figure(res) -> Chart:
    """Distribution of each option's NPV difference from the baseline across the draws."""
    from .plots import histogram_chart

    u = res.uncertain
    sc = res.scenario
    samples = {sc.options[o].label: u.npv_vs_baseline(o) / 1e6 for o in u.options if o != u.baseline}
    share_dearer = {label: float(np.mean(v > 0)) for label, v in samples.items()}
    label, share = max(share_dearer.items(), key=lambda kv: kv[1])
    title = f"{label} costs more than the baseline in {share:.0%} of {u.draws:,} draws"
    subtitle = "Net present cost minus the baseline's, £ million, across the Monte Carlo draws (all options share them)"
    alt = "Distributions of the difference from the baseline: " + "; ".join(
        f"{k}: median {money_m(np.median(v) * 1e6)}, {range_words()} between "
        f"{money_m(np.percentile(v, RANGE[0]) * 1e6)} and {money_m(np.percentile(v, RANGE[1]) * 1e6)}"
        for k, v in samples.items()) + "."
    return histogram_chart(samples, title=title, subtitle=subtitle, alt=alt, xlabel="£ million more than the baseline")


def cash_fan_figure(res, option: str) -> Chart:
    """Cash by year against the baseline for one option: median and the report's range."""
    bands = res.cash_bands()
    low, high = range_columns()
    rows = bands[(bands["option"] == option) & (bands["measure"] == "cash_vs_baseline")].copy()
    rows["year"] = [int(y[:4]) for y in rows["year"]]
    for col in (low, "p50", high, "mean"):
        rows[col] = rows[col] / 1e6
    label = res.scenario.options[option].label
    peak = rows.loc[rows["p50"].idxmax()]
    title = (f"{label} needs up to £{peak['p50']:,.1f}m a year more cash than the baseline "
             f"(median, {financial_year_label(int(peak['year']))})")
    subtitle = (f"Extra cash a year against the baseline, £ million, median and {range_label()} band, "
                "by financial year")
    alt = f"Fan chart of extra cash for {label}: " + "; ".join(
        f"{financial_year_label(int(r.year))}: median £{r.p50:,.1f}m (£{getattr(r, low):,.1f}m to "
        f"£{getattr(r, high):,.1f}m)" for r in rows.itertuples()) + "."
    return band_chart({}, rows[["year", low, "p50", high]], title=title,
                      subtitle=subtitle, alt=alt, ylabel="£ million a year",
                      label=label if len(label) < 30 else "Median")


def waterfall_figure(att, option: str, option_label: str, old_name: str, new_name: str,
                     words: dict[str, str] | None = None) -> Chart:
    """How one option's result moved between two versions of a business case (Shapley values).

    ``words`` maps a change's key (``parameters.finance.vat_rate``) to what a
    reader sees; see :func:`wcf_model.compare.change_label`.
    """
    from .compare import waterfall_frame
    from .formats import signed_money_m
    from .plots import waterfall_chart

    frame = waterfall_frame(att, option)
    words = words or {}
    steps = [(old_name if s == "old" else new_name if s == "new" else words.get(s, s), v / 1e6)
             for s, v in zip(frame["step"], frame["value"])]
    change = steps[-1][1] - steps[0][1]
    moved = sorted(steps[1:-1], key=lambda kv: -abs(kv[1]))
    if abs(change) < 0.05 and not moved:
        title = f"No changed assumption moved the result for {option_label.lower()}"
    else:
        title = (f"{option_label} {'rose' if change > 0 else 'fell'} by £{abs(change):,.1f}m against the baseline"
                 + (f", most because of {moved[0][0][:1].lower() + moved[0][0][1:]}" if moved else ""))
    subtitle = "Net present cost against the baseline, £ million; each change's share averaged over every order (Shapley)"
    alt = "Waterfall: " + "; ".join(f"{label} {signed_money_m(value * 1e6)}" for label, value in steps) + "."
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
