"""The report a scrutiny member reads, and the workbook a finance officer opens.

``write_report`` turns one scenario into ``report.html`` (self-contained: the
charts are embedded) and ``results.xlsx``: a plain-English summary of the
appraisal, the options' net present costs with their uncertainty and cash by
year, who pays, what the costs leave out, the options and the effects each
claims, the multi-criteria inputs, the caseload projection and its back-test,
the published history, and the full assumptions register. What is not built
yet is said plainly, never filled in.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import __version__
from .backtest import backtest
from .data import DEFAULT_DATA_DIR, ENGLAND, load_extract, series_or_none
from .errors import DataError
from .figures import (
    backtest_chart,
    backtest_table,
    caseload_charts,
    caseload_table,
    cash_chart,
    funder_table,
    npv_chart,
    npv_distribution_figure,
    options_summary_lines,
    tornado_figure,
    trust_sentence,
)
from .model import Projection
from .decision import ValueOfInformation, value_of_information
from .mca import McaResult
from .results import Results, appraise
from .results import workbook as results_workbook
from .sensitivity import switching_values, tornado
from .outputs import check_output_folder, default_output_dir, inert, write_set
from .plots import Chart, line_chart
from .register import (
    CONFIDENCE,
    assumptions_register,
    effects_table,
    mca_inputs_table,
    options_table,
)
from .scenario import Scenario, load_scenario

#: Published measures shown in the history table: measure -> column heading.
HISTORY_MEASURES = {
    "population_0_17": "Children aged 0-17",
    "referrals": "Referrals in year",
    "rereferral_percent": "Re-referrals (%)",
    "cin_at_31_march": "Children in need",
    "cpp_at_31_march": "Child protection plans",
    "cla_at_31_march": "Children looked after",
    "cla_rate_per_10k": "Looked after per 10,000",
    "ehcp_total": "EHC plans and statements",
    "sw_fte": "Social workers (FTE)",
    "sw_agency_percent": "Agency social workers (%)",
}



@dataclass
class History:
    """Published figures for the authority and England, by year."""

    table: pd.DataFrame  # years x HISTORY_MEASURES headings, the authority's figures
    charts: list[Chart]
    note: str
    rows: pd.DataFrame | None = None  # the authority's tidy rows, when the extract has them


@dataclass
class DemandSection:
    """Caseload projection and back-test, as the report shows them."""

    charts: list[Chart]
    table: pd.DataFrame
    backtest_charts: list[Chart]
    backtest_table: pd.DataFrame
    backtest_summary: str


def demand_section(sc: Scenario, history: History, projection: Projection | None,
                   data_dir: Path | None) -> DemandSection:
    """The baseline's caseloads, and a back-test of the model for the authority.

    ``projection`` is the baseline's, from the appraisal (None when the scenario
    cannot be projected). The back-test is fitted to the last published year
    before the base year: the forecast the model would have made when the
    decision was taken.
    """
    name = sc.header.authority.name
    if projection is not None:
        charts, table, note = caseload_charts(projection, history.rows, name), caseload_table(projection), ""
    else:
        charts, table = [], pd.DataFrame()
        note = ("No projection: the scenario gives no 0-17 population "
                "(parameters.population.age_0_17), which every caseload is driven by. ")
    fit_to = int(sc.header.base_year[:4]) - 1
    try:
        bt = backtest(sc.header.authority.la_code, fit_to, data_dir=data_dir)
    except DataError as exc:
        return DemandSection(charts, table, [], pd.DataFrame(), f"{note}No back-test: {exc}.")
    summary = note + trust_sentence(bt)
    if bt.not_estimated:
        summary += " Not estimated from published figures: " + ", ".join(bt.not_estimated) + "."
    return DemandSection(charts, table, [backtest_chart(bt)], backtest_table(bt), summary)


def _num(v: float) -> str:
    """One decimal place, without a trailing '.0': 67.0 -> '67', 11.1 -> '11.1'."""
    return f"{v:,.1f}".removesuffix(".0")


def _trend_title(who: str, what: str, s: pd.Series, unit: str, england: pd.Series | None) -> str:
    s = s.dropna()
    first, last = s.index[0], s.index[-1]
    verb = "rose" if s.iloc[-1] > s.iloc[0] else "fell" if s.iloc[-1] < s.iloc[0] else "held"
    title = f"{who}'s {what} {verb} from {_num(s.iloc[0])}{unit} in {first} to {_num(s.iloc[-1])}{unit} in {last}"
    if england is not None and last in england.dropna().index:
        title += f"; England's was {_num(england[last])}{unit}"
    return title


def published_history(sc: Scenario, data_dir: Path | None = None) -> History:
    """The authority's published statistics from the ``data/`` extract.

    Returns an empty history with a note (not an error) when the extract holds
    no rows for the authority: the scenario is still worth reporting.
    """
    code = sc.header.authority.la_code
    name = sc.header.authority.name
    try:
        la = load_extract(code, data_dir=data_dir)
        eng = load_extract(ENGLAND, data_dir=data_dir)
    except DataError as exc:
        return History(pd.DataFrame(), [], f"No published history is shown: {exc}. "
                                            f"Build an extract with `make data LA={code}`.", None)
    columns = {}
    for measure, heading in HISTORY_MEASURES.items():
        s = series_or_none(la, measure)
        if s is not None:
            columns[heading] = s
    table = pd.DataFrame(columns)
    table.index.name = "year"
    charts = []
    pairs = [
        ("cla_rate_per_10k", "rate of children looked after", "", "Children looked after per 10,000 children",
         "at 31 March, per 10,000 children aged 0-17"),
        ("sw_agency_percent", "share of social workers from agencies", "%", "Agency social workers (%)",
         "agency workers as a share of all children's social workers (FTE), at 30 September"),
    ]
    for measure, what, unit, ylabel, when in pairs:
        mine, england = series_or_none(la, measure), series_or_none(eng, measure)
        if mine is None or mine.dropna().empty:
            continue
        lines = {name: mine} | ({"England": england} if england is not None else {})
        title = _trend_title(name, what, mine, unit, england)
        subtitle = f"{name} and England, {when}. Source: DfE published statistics."
        span = mine.dropna()
        alt = (f"Line chart of the {what} by year for {name}"
               + (" and England" if england is not None else "")
               + f", {span.index[0]} to {span.index[-1]}. "
               + "; ".join(f"{y}: {v:,.1f}" for y, v in span.items()) + ".")
        charts.append(line_chart(lines, title=title, subtitle=subtitle, alt=alt, ylabel=ylabel))
    sources = sorted(set(la["publication"]))
    note = "Published statistics from the DfE: " + "; ".join(sources) + "."
    return History(table, charts, note, la)


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

CSS = """
body { font-family: Arial, Helvetica, sans-serif; color: #0b0c0c; max-width: 70rem;
       margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 2rem; margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 2px solid #12436D; }
.meta { color: #3D3D3D; } .notice { background: #FFF7E6; border-left: 6px solid #F46A25;
        padding: .8rem 1rem; margin: 1rem 0; }
.summary { font-size: 1.1rem; } .summary li { margin-bottom: .6rem; }
.table-wrap { overflow-x: auto; margin: 1rem 0; }
table { border-collapse: collapse; font-size: .9rem; width: 100%; }
td { overflow-wrap: anywhere; } td.num { overflow-wrap: normal; white-space: nowrap; }
th, td { border-bottom: 1px solid #b1b4b6; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f2f1; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; }
figcaption .headline { font-weight: bold; font-size: 1.1rem; display: block; }
figcaption .subtitle { color: #3D3D3D; display: block; }
code { background: #f3f2f1; padding: 0 .2rem; }
"""


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text))


#: Column headings a reader sees, for the tables' machine names.
HEADINGS = {
    "one_off_costs_stated_gbp": "One-off costs as stated (£)",
    "recurring_costs_stated_gbp_per_year": "Recurring costs as stated (£ a year)",
    "critical_success_factors": "Critical success factors",
    "go_live": "Go-live", "ramp_years": "Ramp (years)", "weight_share": "Share of weight",
    "scored_by": "Scored by", "price_year": "Price year", "index": "Option",
    "council": "Council", "dsg_high_needs": "DSG high-needs block", "dfe_grant": "DfE grant",
    "home_office_grant": "Home Office grant",
}


def _heading(column: object) -> str:
    text = str(column)
    return HEADINGS.get(text, text.replace("_", " ").capitalize() if text.islower() else text)


def _effects_html(sc: Scenario) -> list[str]:
    """The effects section: each effect marked evidence or judgement, with its source."""
    from .effect_library import effect_basis_table

    table = effect_basis_table(sc)
    if table.empty:
        return ["<h2>Effects the options claim</h2>", "<p>No option claims an effect on the model's inputs.</p>"]
    evidence = table["basis"].str.startswith("evidence")
    n, k = len(table), int(evidence.sum())
    lead = (f"{k} of the {n} effects the options claim rest on evidence and {n - k} on judgement. "
            if k else f"All {n} effects the options claim are judgements: no evidence in the effect library applies. ")
    parts = ["<h2>Effects the options claim</h2>",
             f"<p>{_e(lead)}Evidence means a measured change: from the councils that moved their children's "
             "services to a trust or company, compared with councils that did not, or from a published "
             "evaluation; its range is the measured interval. Judgement means no evidence applies, and the "
             "scenario says why. Confidence runs from 1 (a randomised trial) to 5 (judgement).</p>",
             _table(_effects_display(sc, table))]
    limits = table[evidence & (table["limits"] != "")].drop_duplicates("limits")
    if not limits.empty:
        # sentences every entry shares are said once, then what is particular to each
        sentences = [[s.strip() for s in text.split(". ") if s.strip()] for text in limits["limits"]]
        common = [s for s in sentences[0] if all(s in other for other in sentences)]
        rows = pd.DataFrame({"Evidence": limits["label"].to_numpy(),
                             "Also": [". ".join(s for s in ss if s not in common).rstrip(".") + "."
                                      if any(s not in common for s in ss) else "" for ss in sentences]})
        text = ". ".join(common).rstrip(".") + "." if common else ""
        parts.append("<details><summary>What the evidence does not show</summary>"
                     + (f"<p>{_e(text)}</p>" if text else "")
                     + _table(rows[rows["Also"] != ""].rename(columns={"Also": "And for this effect"}))
                     + "</details>")
    return parts


def _effects_display(sc: Scenario, table: pd.DataFrame) -> pd.DataFrame:
    """The effects table in words a reader can follow (sizes as the model applies them)."""
    from .catalogue import parameter_specs

    units = {d: parameter_specs()[d].unit for d in table["driver"]}

    def size(v: float, mode: str, driver: str) -> str:
        if mode == "multiply":
            return f"{100 * v:+.1f}%"
        if units[driver] == "share":
            return f"{100 * v:+.1f} points"
        return f"{v:+.3g} {units[driver]}"

    return pd.DataFrame({
        "Option": [sc.options[o].label for o in table["option"]],
        "Effect": [f"{e.replace('_', ' ')} ({d})" for e, d in zip(table["effect"], table["driver"])],
        "Basis": table["basis"].to_numpy(),
        "Change": [size(c, m, d) for c, m, d in zip(table["change"], table["mode"], table["driver"])],
        "Range (5th to 95th percentile)": [f"{size(a, m, d)} to {size(b, m, d)}" for a, b, m, d
                                           in zip(table["p5"], table["p95"], table["mode"], table["driver"])],
        "Confidence": table["confidence"].to_numpy(),
        "Source": table["source"].to_numpy(),
    })


def _table(frame: pd.DataFrame, money: tuple[str, ...] = (), index: bool = False) -> str:
    if frame.empty:
        return "<p>None.</p>"
    frame = frame.reset_index() if index else frame
    head = "".join(f'<th scope="col">{_e(_heading(c))}</th>' for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for col, v in row.items():
            if isinstance(v, float) and pd.isna(v):
                cells.append("<td></td>")
            elif col in money:
                cells.append(f'<td class="num">{"-" if v < 0 else ""}£{abs(v):,.0f}</td>')
            elif isinstance(v, bool):
                cells.append(f"<td>{'yes' if v else 'no'}</td>")
            elif isinstance(v, (int, float)):
                text = f"{v:,.0f}" if float(v).is_integer() else f"{v:,.3g}"
                if col == "year":
                    text = str(int(v))
                cells.append(f'<td class="num">{text}</td>')
            else:
                cells.append(f"<td>{_e(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def plain_summary(sc: Scenario, register: pd.DataFrame) -> str:
    """A plain-English paragraph saying what the scenario compares and rests on."""
    others = [o for o in sc.options if o != sc.baseline]
    labels = [sc.options[o].label for o in others]
    years = sc.financial_years
    failing = [sc.options[o].label for o in sc.options if any(not a.met for a in sc.options[o].csf.values())]
    graded = register["confidence"].value_counts().to_dict()
    published = graded.get(1, 0)
    judged = graded.get(5, 0)
    text = (f"This scenario compares {len(sc.options)} ways of delivering "
            f"{sc.header.authority.name}'s children's services over {len(years)} years from {years[0]} "
            f"to {years[-1]}: {sc.options[sc.baseline].label} (the baseline) against "
            f"{', '.join(labels[:-1]) + ' and ' + labels[-1] if len(labels) > 1 else ''.join(labels)}. ")
    if failing:
        text += f"{' and '.join(failing)} {'fails' if len(failing) == 1 else 'fail'} at least one critical success factor. "
    text += (f"It rests on {len(register)} figures: {published} are published statistics or audited outturn "
             f"and {judged} are judgement; every one is listed, with its source, in the assumptions register.")
    return text


@dataclass
class Analysis:
    """The appraisal with its sensitivity, value of information and multi-criteria results."""

    res: Results
    tornado: pd.DataFrame
    switching: pd.DataFrame
    voi: ValueOfInformation | None
    mca: McaResult | None
    monitoring: pd.DataFrame | None = None     # comparison with actuals, when an actuals file is given
    monitored_option: str | None = None
    spend_gap: pd.DataFrame | None = None      # the company's projected spending against what it spent


def analyse(sc: Scenario, draws: int, actuals: Path | pd.DataFrame | None = None, option: str | None = None,
            draws_from: str | None = None) -> Analysis | None:
    """Everything the report shows about the options; None when the scenario cannot be projected.

    With an actuals file (or the frame :func:`~wcf_model.monitoring.read_actuals`
    gives), the option that was implemented (``option``, the baseline by
    default) is compared with what was published later.
    """
    if "population.age_0_17" not in sc.parameters:
        return None
    from .monitoring import compare, read_actuals, spend_gap

    if actuals is not None and not isinstance(actuals, pd.DataFrame):
        actuals = read_actuals(actuals)  # a bad file is refused before the appraisal, not after it
    res = appraise(sc, draws=draws, draws_from=draws_from)
    voi = value_of_information(res) if res.draws is not None else None
    comparison = gap = None
    if actuals is not None:
        comparison = compare(res, actuals, option)
        chosen = option or sc.baseline
        spent = sorted(actuals.loc[actuals["measure"] == "gross_spend", "period"])
        spent = [y for y in spent if y in res.central.years]
        if spent and res.central.options[chosen].company is not None:
            gap = spend_gap(sc, chosen, actuals, spent[-1])
    return Analysis(res, tornado(sc), switching_values(sc), voi, res.mca(), comparison, option or sc.baseline, gap)


def turns_on(analysis: Analysis) -> dict[str, str]:
    """Option -> 'It turns most on ...': the input with the widest tornado swing."""
    sc = analysis.res.scenario
    out = {}
    for oid in sc.options:
        rows = analysis.tornado[analysis.tornado["option"] == oid]
        if rows.empty:
            continue
        top = rows.iloc[0]
        out[oid] = (f"It turns most on {top['label'].removeprefix(sc.options[oid].label + ': ')}: "
                    f"£{top['at_low'] / 1e6:,.1f}m to £{top['at_high'] / 1e6:,.1f}m against the baseline between "
                    "its 10th and 90th percentiles.")
    return out


def summary_html(analysis: Analysis | None) -> str:
    """One bullet per option: what it costs against the baseline, how sure, and what it turns on."""
    if analysis is None:
        return ""
    lines = options_summary_lines(analysis.res)
    turns = turns_on(analysis)
    items = "".join(f"<li>{_e(text)} {_e(turns.get(oid, ''))}</li>" for oid, text in lines.items())
    return f'<ul class="summary">{items}</ul>'


def render_html(sc: Scenario, history: History, demand: DemandSection, analysis: Analysis | None) -> str:
    """The whole report as one self-contained HTML page."""
    register = assumptions_register(sc)
    chain = " extends ".join(str(f) for f in reversed(sc.files))
    res = analysis.res if analysis is not None else None
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(sc.header.title)} - wcf-model report</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>{_e(sc.header.title)}</h1>",
        f'<p class="meta">{_e(sc.header.authority.name)} (LA {_e(sc.header.authority.la_code)}) · '
        f"base year and price base {_e(sc.header.base_year)} · {sc.header.years} years · "
        f"scenario <code>{_e(sc.name)}</code>, sha256 <code>{sc.sha256[:16]}</code> · "
        f"wcf-model {_e(__version__)}</p>",
        "<h2>Summary</h2>",
        summary_html(analysis),
        f"<p>{_e(plain_summary(sc, register))}</p>",
    ]
    if sc.header.description:
        parts.append(f"<p>{_e(sc.header.description)}</p>")
    if res is not None:
        table = res.summary()[["label", "npv_cost", "npv_vs_baseline", "npv_vs_baseline_p10",
                               "npv_vs_baseline_p90", "nominal_total", "prob_least_cost", "passes_csf",
                               "payback_year"]]
        table = table.rename(columns={"npv_cost": "Net present cost (£)", "npv_vs_baseline": "Against baseline (£)",
                                      "npv_vs_baseline_p10": "10th percentile (£)",
                                      "npv_vs_baseline_p90": "90th percentile (£)", "nominal_total": "Cash, all years (£)",
                                      "prob_least_cost": "Chance of least cost", "passes_csf": "Meets every CSF"})
        parts += ["<h2>The appraisal</h2>",
                  "<p>Economic case: real costs in base-year prices, discounted with the Green Book rate, "
                  "VAT and corporation tax left out (they are transfers), optimism bias added to each "
                  "option's own costs. Financial case: cash by year including VAT and tax.</p>",
                  npv_chart(res).html(), cash_chart(res).html(),
                  _table(table, money=("Net present cost (£)", "Against baseline (£)", "10th percentile (£)",
                                       "90th percentile (£)", "Cash, all years (£)")),
                  "<h3>Who pays (cash, all years)</h3>", _table(funder_table(res), index=True)]
        if res.central.warnings:
            parts += ["<h3>What the costs leave out</h3><ul>"
                      + "".join(f"<li>{_e(w)}</li>" for w in res.central.warnings) + "</ul>"]
        parts += _money_html(res)
    if analysis is not None:
        parts += _uncertainty_html(analysis) + _mca_html(analysis) + _monitoring_html(analysis)
    parts += ["<h2>The options</h2>",
              _table(options_table(sc), money=("one_off_costs_stated_gbp", "recurring_costs_stated_gbp_per_year"))]
    for oid, opt in sc.options.items():
        if opt.description:
            parts.append(f"<p><strong>{_e(opt.label)}.</strong> {_e(opt.description)}</p>")
    parts += _effects_html(sc)
    parts += ["<h2>Multi-criteria inputs</h2>",
              "<p>Scores run from 0 (least preferred) to 100 (most preferred) on each criterion; "
              "criteria scored by the model (cost) are derived from the appraisal, above.</p>",
              _table(mca_inputs_table(sc))]
    rationale = [{"criterion": cid, "option": oid, "score": s.score, "rationale": s.rationale}
                 for cid, by_option in sc.mca.scores.items() for oid, s in by_option.items()]
    parts.append("<details><summary>Why each score</summary>" + _table(pd.DataFrame(rationale)) + "</details>")
    parts += ["<h2>Caseloads and social workers: the in-house baseline</h2>",
              "<p>Projected from the scenario's figures by a stock-flow model: each year children enter "
              "and leave each status, and nobody is lost or double-counted. The options' effects are not "
              "yet applied, so this is the baseline every option starts from.</p>"]
    parts += [c.html() for c in demand.charts]
    parts.append(_table(demand.table, index=True))
    parts += ["<h2>How accurate would the model have been?</h2>", f"<p>{_e(demand.backtest_summary)}</p>"]
    parts += [c.html() for c in demand.backtest_charts]
    if not demand.backtest_table.empty:
        parts.append("<details><summary>Every back-test figure</summary>" + _table(demand.backtest_table) + "</details>")
    parts += ["<h2>Published history</h2>", f"<p>{_e(history.note)}</p>"]
    parts += [c.html() for c in history.charts]
    parts.append(_table(history.table, index=True))
    parts += ["<h2>Assumptions register</h2>",
              "<p>Every figure the scenario uses, with its unit, price year, source and confidence grade ("
              + "; ".join(f"{k} = {v}" for k, v in CONFIDENCE.items()) + ").</p>",
              _table(register.drop(columns=["confidence_meaning"]))]
    parts += [f'<p class="meta">Reproduce this report with <code>wcf-model report {_e(sc.path)}</code>. '
              f"Scenario files: {_e(chain)}.</p>", "</main></body></html>"]
    return "\n".join(parts)


def _money_html(res: Results) -> list[str]:
    """The cost to the council in cash, VAT and tax in words, and the high-needs block."""
    from .tax import both_numbers, money_table, vat_general, vat_specifics

    sc, a = res.scenario, res.central
    sentences = [t for o in sc.options if (t := both_numbers(res, o))]
    table = money_table(res).rename(columns={
        "economic_vs_baseline": "Economic case against baseline (£)",
        "council_cash_vs_baseline": "Cash to the council against baseline (£)",
        "irrecoverable_vat": "Irrecoverable VAT (£)", "corporation_tax": "Corporation tax (£)",
        "pensions": "Pension costs (£)", "stranded_overheads": "Stranded council costs (£)",
        "high_needs_deficit_at_end": f"High-needs deficit by {a.years[-1]} (£)"})
    money = tuple(c for c in table.columns if c.endswith("(£)"))
    parts = ["<h2>The cost to the council: VAT, tax and the high-needs block</h2>",
             "<p>Two measures answer two questions. The economic case (HM Treasury Green Book) asks what each "
             "option costs the country: real prices, discounted, with VAT and corporation tax left out because "
             "they are payments to the Treasury. The cash cost to the council asks what the council pays: every "
             "line it funds, in cash, including the VAT a company cannot recover and its corporation tax.</p>",
             "<ul>" + "".join(f"<li>{_e(t)}</li>" for t in sentences) + "</ul>",
             _table(table, money=money)]
    specifics = [(oid, text) for oid in sc.options if (text := vat_specifics(res, oid)) is not None]
    if specifics:
        parts.append(f"<p><strong>VAT.</strong> {_e(vat_general(res))}</p><ul>"
                     + "".join(f"<li><strong>{_e(sc.options[oid].label)}.</strong> {_e(text)}</li>"
                               for oid, text in specifics) + "</ul>")
    companies = [oid for oid, r in a.options.items() if r.company is not None]
    if companies and "finance.pension_bond_cover" not in sc.parameters:
        parts.append("<p><strong>Pensions.</strong> The staff a company takes on stay in the Local Government "
                     "Pension Scheme through an admission agreement (LGPS Regulations 2013, Schedule 2 Part 3). "
                     "The scenario gives no bond, so the council is taken to guarantee the admission: no cash "
                     "cost, but a contingent liability, since the council pays what the company cannot when the "
                     "admission ends (regulation 64).</p>")
    hn = {oid: r.high_needs for oid, r in a.options.items() if r.high_needs is not None}
    if hn:
        base = hn.get(a.baseline)
        if base is not None:
            parts.append(
                f"<p><strong>The high-needs block.</strong> SEND provision for children with EHC plans is paid from "
                f"the dedicated schools grant's high-needs block. Under {_e(sc.options[a.baseline].label)} the "
                f"projected spending on it exceeds the block's income by £{base['cumulative_deficit'][0, -1] / 1e6:,.1f}m "
                f"in total by {a.years[-1]} (cash); the table shows each option's. The deficit is held apart from "
                "the council's general fund under a statutory override, but the council carries it.</p>")
    return parts


def _uncertainty_html(a: Analysis) -> list[str]:
    sc, res = a.res.scenario, a.res
    parts = ["<h2>How sure is the result, and what decides it?</h2>"]
    if res.draws is not None:
        parts.append(npv_distribution_figure(res).html())
    for oid in [o for o in sc.options if o != sc.baseline][:3]:
        if (a.tornado.loc[a.tornado["option"] == oid, "swing"] > 0).any():  # no input moves it: no chart to draw
            parts.append(tornado_figure(a.tornado, oid, sc.options[oid].label).html())
    found = a.switching[a.switching["switching_value"].notna()]
    if found.empty:
        parts.append("<p><strong>Switching values.</strong> No single input, anywhere in the range the scenario "
                     "gives it, would make any option cheaper than the baseline.</p>")
    else:
        parts += ["<p><strong>Switching values:</strong> the value of one input (the others central) at which an "
                  "option would cost the same as the baseline.</p>",
                  _table(found[["label", "option", "central_value", "switching_value"]].round(4))]
    if a.voi is not None:
        v = a.voi
        labels = ", ".join(sc.options[o].label for o in v.options)
        best = v.table[v.table["evppi"] > 0].head(5)
        text = (f"Between the options that meet every critical success factor ({labels}), the expected value of "
                f"perfect information is £{v.evpi:,.0f}: the most it would be worth spending to remove all the "
                "uncertainty before choosing. ")
        text += ("No single input, and no group of them (demand, workforce, unit costs, finance, each option's "
                 "own costs or effects), would change the choice if it alone were known: the expected value of "
                 "perfect information about each is nil. The choice is robust to each uncertainty taken on its own."
                 if best.empty else
                 f"The uncertainty most worth resolving is {best.iloc[0]['label']} (£{best.iloc[0]['evppi']:,.0f}).")
        parts.append(f"<p><strong>Value of information.</strong> {_e(text)}</p>")
        if not best.empty:
            parts.append(_table(best[["label", "evppi", "share_of_evpi"]].round(3), money=("evppi",)))
    return parts


#: Measures charted in the monitoring section (the rest are in its table).
MONITORED_CHARTS = ("cla_closing", "cin_closing", "cpp_closing", "social_worker_in_post_fte")


def _monitoring_html(a: Analysis) -> list[str]:
    if a.monitoring is None:
        return []
    from .monitoring import monitoring_chart, summary

    sc = a.res.scenario
    label = sc.options[a.monitored_option].label
    table = summary(a.monitoring)
    parts = ["<h2>Monitoring: what happened against what was projected</h2>",
             f"<p>Published figures since the decision against the projection for {_e(label)}: each year "
             "is flagged when it falls outside the projection's 10th-90th percentile band.</p>",
             _table(table.round(1))]
    for measure in MONITORED_CHARTS:
        if measure in set(a.monitoring["measure"]):
            parts.append(monitoring_chart(a.monitoring, measure, authority=sc.header.authority.name).html())
    parts += _money_monitoring_html(a)
    return parts


def _money_monitoring_html(a: Analysis) -> list[str]:
    """The company's published money against the case, and what explains the gap in its spending."""
    from .monitoring import MEASURES, not_compared

    money = a.monitoring[a.monitoring["measure"].map(lambda m: MEASURES[m].unit == "GBP" and m != "cash")]
    parts = []
    if not money.empty:
        table = money.assign(measure=money["measure"].map(lambda m: MEASURES[m].words))[
            ["measure", "period", "actual", "projected", "p10", "p90"]]
        parts += ["<h3>The company's money against the business case</h3>",
                  "<p>Published figures (council papers and the press, sources in the actuals file) against the "
                  "projection's median and its 10th-90th percentile band, in cash.</p>",
                  _table(table, money=("actual", "projected", "p10", "p90"))]
    left = not_compared(a.monitoring)
    if not left.empty:
        words = {m: MEASURES[m].words if m in MEASURES else m for m in left["measure"]}
        parts.append("<p>Not compared: " + "; ".join(f"{_e(words[r.measure].lower())} ({_e(r.periods)}), "
                                                     f"{_e(r.reason)}" for r in left.itertuples()) + ".</p>")
    if a.spend_gap is not None:
        g = a.spend_gap
        year, actual, projected = g.attrs["year"], g.attrs["actual"], g["amount"].iloc[0]
        parts += [f"<p><strong>How far the case was from what was spent.</strong> For {_e(year)} the case projected "
                  f"£{projected / 1e6:,.1f}m of company spending; £{actual / 1e6:,.1f}m was spent (a forecast outturn): "
                  f"£{(actual - projected) / 1e6:,.1f}m more. The steps below re-price what the case could not "
                  "know, with the model.</p>",
                  _table(g, money=("amount", "total"))]
    return parts


def _mca_html(a: Analysis) -> list[str]:
    m = a.mca
    if m is None:
        return []
    sc = a.res.scenario
    table = pd.DataFrame({
        "option": [sc.options[o].label for o in m.totals.index],
        "weighted total (0-100)": m.totals.round(1).to_numpy(),
        "rank": m.ranks.to_numpy(),
        "meets every critical success factor": m.passes_csf.to_numpy(),
        "chance of ranking first": m.rank_probabilities.reindex(m.totals.index).round(3).to_numpy(),
        "chance of being preferred": m.prob_preferred.reindex(m.totals.index).round(3).to_numpy(),
    })
    failing = [sc.options[o].label for o, ok in m.passes_csf.items() if not ok]
    text = (f"Weighted by the scenario's swing weights, the preferred option among those that meet every critical "
            f"success factor is {sc.options[m.preferred].label}.")
    if failing:
        text += (f" {' and '.join(failing)} {'fails' if len(failing) == 1 else 'fail'} a critical success factor: "
                 "shown and ranked, but not a choice the council can make.")
    return ["<h2>Multi-criteria analysis</h2>", f"<p>{_e(text)}</p>", _table(table),
            "<p>How far each criterion's weight would have to move for the top-ranked option to change "
            "(the other weights keeping their proportions):</p>", _table(m.weight_switching.round(3))]


# ---------------------------------------------------------------------------
# Excel
# ---------------------------------------------------------------------------

def workbook_sheets(sc: Scenario, history: History, demand: DemandSection,
                    analysis: Analysis | None) -> dict[str, pd.DataFrame]:
    """The sheets of the report's ``results.xlsx``, in order."""
    about = pd.DataFrame([
        ("title", sc.header.title), ("scenario", sc.name), ("authority", sc.header.authority.name),
        ("la_code", str(sc.header.authority.la_code)), ("base_year", sc.header.base_year),
        ("years", sc.header.years), ("sha256", sc.sha256), ("wcf_model_version", __version__),
        ("files", " extends ".join(str(f) for f in reversed(sc.files))),
    ], columns=["item", "value"])
    res = analysis.res if analysis is not None else None
    results = results_workbook(res) if res is not None else {"Assumptions": assumptions_register(sc)}
    if analysis is not None:
        results["Tornado"] = analysis.tornado
        results["Switching values"] = analysis.switching
        if analysis.voi is not None:
            results["Value of information"] = analysis.voi.table
        if analysis.mca is not None:
            results["MCA"] = analysis.mca.table()
        if analysis.monitoring is not None:
            results["Monitoring"] = analysis.monitoring
    return {
        "About": about,
        **results,
        "Options": options_table(sc),
        "Effects": effects_table(sc),
        "MCA inputs": mca_inputs_table(sc),
        "Caseloads": demand.table.reset_index(),
        "Back-test": demand.backtest_table,
        "Published history": history.table.reset_index(),
    }


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """Write sheets with frozen headers and readable column widths; no text is written as a formula."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.map(inert).rename(columns=inert).to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            ws.freeze_panes = "A2"
            for i, col in enumerate(frame.columns, start=1):
                longest = max([len(str(col)), *(len(str(v)) for v in frame[col].head(200))])
                ws.column_dimensions[ws.cell(1, i).column_letter].width = min(max(10, longest + 2), 60)


#: The notebooks the report executes, in the repository's ``notebooks/`` folder.
NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def execute_notebooks(sc: Scenario, draws: int, folder: Path = NOTEBOOK_DIR) -> dict[str, tuple[str, str]]:
    """Run every notebook for a scenario with papermill; return name -> (executed .ipynb, HTML without code).

    Each notebook's ``parameters`` cell receives the scenario's absolute path and
    the draws. A notebook that fails stops the report with the notebook named:
    a report must never be written from a half-run set.
    """
    import tempfile

    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    out: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for nb in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
            target = Path(tmp) / nb.name
            try:
                papermill.execute_notebook(str(nb), str(target), parameters={"scenario": str(sc.path.resolve()),
                                                                             "draws": draws},
                                           cwd=str(folder), progress_bar=False, kernel_name="python3")
            except papermill.PapermillExecutionError as exc:
                raise RuntimeError(f"notebook {nb.name} failed for {sc.path}: {exc.ename}: {exc.evalue}") from exc
            text = target.read_text(encoding="utf-8")
            body, _ = exporter.from_notebook_node(nbformat.reads(text, as_version=4))
            out[nb.name] = (text, body)
    return out


def write_report(scenario: str | Path | Scenario, out_dir: Path | None = None,
                 data_dir: Path | None = None, draws: int | None = None, notebooks: bool = True,
                 actuals: Path | None = None, option: str | None = None,
                 say: Callable[[str], None] | None = None) -> list[Path]:
    """Write ``report.html`` and ``results.xlsx`` for a scenario.

    Parameters
    ----------
    scenario : path or Scenario
        The scenario file (validated under ``--strict`` rules is not required).
    out_dir : Path, optional
        Output folder; ``outputs/<scenario name>/`` by default.
    data_dir : Path, optional
        Folder with the DfE extract; the repository's ``data/`` by default.
    draws : int, optional
        Monte Carlo draws for the bands; the scenario's ``draws`` by default.
    notebooks : bool
        Also execute the notebook set and write each executed notebook, and an
        HTML rendering without code, to ``notebooks/`` in the output folder.
    actuals, option : optional
        An actuals file (see :mod:`wcf_model.monitoring`) and the option that was
        implemented, for the monitoring section.
    say : callable, optional
        Told about files of an earlier set in the output folder that this one replaces.

    Returns
    -------
    list of Path
        The files written. The output folder is replaced whole, and only once
        every file has been produced (:func:`~wcf_model.outputs.write_set`).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    out = out_dir if out_dir is not None else default_output_dir(sc.name)
    inputs = [*sc.files, *([actuals] if actuals is not None else []), data_dir or DEFAULT_DATA_DIR,
              *(sorted(NOTEBOOK_DIR.glob("*.ipynb")) if notebooks else [])]
    check_output_folder(out, inputs)  # before the work, not after it
    if actuals is not None:  # so is a bad actuals file
        from .monitoring import read_actuals, require_periods

        actuals_frame = read_actuals(actuals)
        require_periods(actuals_frame, sc.financial_years)
    history = published_history(sc, data_dir)
    n = draws if draws is not None else sc.header.draws
    analysis = analyse(sc, n, actuals_frame if actuals is not None else None, option,
                       draws_from=None if draws is None else "--draws")
    if analysis is not None and analysis.monitoring is not None and say is not None:
        from .monitoring import not_compared

        for row in not_compared(analysis.monitoring).itertuples():
            say(f"{actuals}: {row.figures} figure(s) of {row.measure} ({row.periods}) not compared: {row.reason}")
    baseline = analysis.res.uncertain.options[sc.baseline].projection if analysis is not None else None
    demand = demand_section(sc, history, baseline, data_dir)
    page = render_html(sc, history, demand, analysis)
    sheets = workbook_sheets(sc, history, demand, analysis)
    executed = execute_notebooks(sc, n) if notebooks else {}
    files = {
        "report.html": lambda p: p.write_text(page, encoding="utf-8"),
        "results.xlsx": lambda p: write_workbook(p, sheets),
    }
    for name, (ipynb, body) in executed.items():
        files[f"notebooks/{name}"] = lambda p, t=ipynb: p.write_text(t, encoding="utf-8")
        files[f"notebooks/{name.replace('.ipynb', '.html')}"] = lambda p, t=body: p.write_text(t, encoding="utf-8")
    return write_set(out, files, inputs=inputs, say=say)
