"""The report a scrutiny member reads, laid out as one HTML page, and the output set it belongs to.

``write_report`` turns one scenario into ``report.html`` (self-contained: the
charts are embedded), ``results.xlsx`` (the same workbook ``wcf-model run``
writes, :mod:`wcf_model.workbook`) and, optionally, the executed notebook set
(:mod:`wcf_model.notebooks`), and commits them as one set.

The page answers first. Its first screen says, in three or four plain
sentences, which option the evidence favours among those that meet every
critical success factor and why; what it costs against the baseline in the
economic case and in council cash; how sure that is (one range, stated once);
and what it turns on most. One chart follows, with the options that fail a
critical success factor shown and the reason beside them. The detail comes
after: the appraisal, who pays with VAT and tax, how sure the result is, the
multi-criteria analysis, monitoring, the options and their effects, caseloads,
the back-test, the published history and the full assumptions register.

Everything shown is computed in :mod:`wcf_model.analysis` and laid out here;
tables come from :mod:`wcf_model.tables` and charts from
:mod:`wcf_model.figures`, so the notebooks show the same.
"""

from __future__ import annotations

import html
import io
import shlex
from collections.abc import Callable
from pathlib import Path

from .version import __version__
from .analysis import Analysis, Answer, Study, answer, study
from .figures import (
    backtest_chart,
    caseload_charts,
    cash_chart,
    history_charts,
    npv_chart,
    npv_distribution_figure,
    tornado_figure,
    trust_sentence,
)
from .formats import money_m, money_words, range_label, range_words
from .notebooks import NOTEBOOK_DIR, NotebookRun, notebooks_for
from .outputs import check_output_folder, default_output_dir, write_set
from .progress import Progress, quiet
from .register import CONFIDENCE, assumptions_register
from .scenario import Scenario, load_scenario, refuse_placeholders
from . import tables as T

# ---------------------------------------------------------------------------
# The first screen: the answer in words
# ---------------------------------------------------------------------------


def _lc(text: str) -> str:
    """First letter in lower case, unless the text starts with an acronym ("EHC", "DfE")."""
    return text if text[:2].isupper() or text[:3] == "DfE" else text[:1].lower() + text[1:]


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _more_less(x: float) -> str:
    return f"{money_m(abs(x))} {'more' if x >= 0 else 'less'}"


def answer_sentences(ans: Answer, analysis: Analysis) -> list[str]:
    """The first screen's three or four sentences, from :func:`wcf_model.analysis.answer`."""
    res, sc = analysis.res, analysis.res.scenario
    label = {o: opt.label for o, opt in sc.options.items()}
    pref, base = label[ans.preferred], label[ans.baseline]
    years = res.central.years
    n = len(ans.eligible)
    out = []
    if ans.basis == "only" and n == 1:
        out.append(f"The evidence favours {pref}: it is the only option that meets every critical success factor.")
    elif ans.basis == "only":
        out.append(f"No option meets every critical success factor; {pref} is the only one there is.")
    else:
        who = (f"Of the {n} options that meet every critical success factor, the evidence favours {pref}"
               if n else f"No option meets every critical success factor; of them all, the evidence favours {pref}")
        runner = label[ans.runner_up]
        if ans.basis == "mca":
            t = ans.mca_totals
            why = (f"it has the highest multi-criteria score ({t[ans.preferred]:.0f} out of 100, against "
                   f"{t[ans.runner_up]:.0f} for {runner})")
            crit = [_lc(sc.mca.criteria[c].label) for c in ans.deciding_criteria[:2]]
            if crit:
                why += f", chiefly on {_listing(crit)}"
            gap = ans.npv_vs_runner_up
            if gap is not None and round(gap / 1e5) != 0:
                why += (f", and it costs {money_m(abs(gap))} less than {runner} in the economic case" if gap < 0
                        else f", although it costs {money_m(gap)} more than {runner} in the economic case")
        else:
            why = f"it has the lowest economic cost of them, {money_m(abs(ans.npv_vs_runner_up))} less than {runner}"
        out.append(f"{who}: {why}.")
    if ans.preferred == ans.baseline:
        out.append(f"{pref} is the baseline the other options are measured against.")
    else:
        out.append(f"Against {base}, it would cost {_more_less(ans.npv_vs_baseline)} over {len(years)} years in the "
                   f"economic case ({sc.header.base_year} prices, discounted), and "
                   f"{_more_less(ans.cash_vs_baseline)} in council cash including VAT and tax "
                   f"({years[0]} to {years[-1]}).")
        if ans.npv_range is not None:
            lo, hi = ans.npv_range
            span = (f"between {money_m(lo)} and {money_m(hi)} more" if lo >= 0 else
                    f"between {money_m(-hi)} and {money_m(-lo)} less" if hi <= 0 else
                    f"between {money_m(-lo)} less and {money_m(hi)} more")
            out.append(f"How sure: {range_words()} the economic cost lies {span} than {base}.")
        else:
            out.append("These are central values only: run with Monte Carlo draws for a range.")
    if ans.turns_on:
        out.append(f"It turns most on the {_lc(ans.turns_on[0])}"
                   + (f", then on the {_lc(ans.turns_on[1])}." if len(ans.turns_on) > 1 else "."))
    return out


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text))


def first_screen(st: Study) -> list[str]:
    """The answer, one chart, and the options that fail a critical success factor with the reason beside them."""
    a = st.analysis
    if a is None:
        return []
    sc = st.scenario
    if len(sc.options) == 1:   # a council's generated baseline, before options are added
        return ['<section class="answer" id="answer" aria-label="The answer"><p class="lead">This scenario holds '
                f"the in-house baseline alone ({_e(sc.options[sc.baseline].label)}): there is no choice to answer "
                "yet. Add the delivery options to compare in a file that extends it (scenarios/options/generic.yaml "
                "shows how).</p></section>"]
    ans = answer(a)
    sentences = answer_sentences(ans, a)
    words = T.scenario_words(sc)
    name = sc.options[ans.preferred].label
    lead = _e(sentences[0]).replace(_e(name), f"<strong>{_e(name)}</strong>", 1)
    parts = ['<section class="answer" id="answer" aria-label="The answer">',
             f'<p class="lead">{lead}</p>',
             f'<p>{" ".join(_e(s) for s in sentences[1:])}</p>', "</section>",
             npv_chart(a.res, ans).html()]
    if ans.failing:
        items = "".join(f"<li><strong>{_e(sc.options[o].label)}</strong> fails "
                        + "; ".join(f"{_e(f)}: {_e(T.readable(why, words))}" for f, why in reasons) + "</li>"
                        for o, reasons in ans.failing.items())
        parts.append(f'<div class="failing"><p>Not a choice the council can make:</p><ul>{items}</ul></div>')
    parts.append(T.to_html(T.options_summary(a)))
    return parts


# ---------------------------------------------------------------------------
# The sections after it
# ---------------------------------------------------------------------------

CSS = """
body { font-family: Arial, Helvetica, sans-serif; color: #0b0c0c; max-width: 70rem;
       margin: 1.2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin: 0 0 .2rem; line-height: 1.2; }
h2 { margin-top: 2.5rem; border-bottom: 2px solid #12436D; }
.meta { color: #3D3D3D; margin: .2rem 0 .8rem; font-size: .95rem; }
.notice { background: #FFF7E6; border-left: 6px solid #F46A25; padding: .6rem 1rem; margin: .8rem 0; }
.notice.placeholders { background: #FBE9EF; border-left-color: #801650; }
.answer { border-left: 6px solid #12436D; background: #F3F7FA; padding: .4rem 1rem; font-size: 1.12rem; }
.answer p { margin: .5rem 0; }
.failing { font-size: .95rem; } .failing ul { margin-top: .2rem; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; }
figcaption .headline { font-weight: bold; font-size: 1.1rem; display: block; }
figcaption .subtitle { color: #3D3D3D; display: block; }
code { background: #f3f2f1; padding: 0 .2rem; }
details summary { cursor: pointer; font-weight: bold; margin: .6rem 0; }
"""


def _appraisal(a: Analysis) -> list[str]:
    res = a.res
    parts = ["<h2>The appraisal</h2>",
             "<p>Economic case: real costs in base-year prices, discounted with the Green Book rate, "
             "VAT and corporation tax left out (they are transfers between public bodies), optimism bias added "
             "to each option's own costs. Financial case: cash by year in each year's prices, including VAT "
             "and tax.</p>",
             T.to_html(T.appraisal_table(res)), cash_chart(res).html(),
             "<details><summary>Cash by financial year</summary>" + T.to_html(T.cash_by_year(res)) + "</details>"]
    return parts


def _cost_to_council(a: Analysis) -> list[str]:
    """The cost to the council in cash beside the economic case; VAT, tax, pensions and the high-needs block
    in words (the plain-English VAT position comes from :mod:`wcf_model.tax`); who pays."""
    from .tax import both_numbers, vat_general, vat_specifics

    res = a.res
    sc, central = res.scenario, res.central
    words = T.scenario_words(sc)
    sentences = [t for o in sc.options if (t := both_numbers(res, o))]
    parts = ["<h2>The cost to the council: VAT, tax, who pays and the high-needs block</h2>",
             "<p>Two measures answer two questions. The economic case (HM Treasury Green Book) asks what each "
             "option costs the country: real prices, discounted, with VAT and corporation tax left out because "
             "they are payments to the Treasury. The cash cost to the council asks what the council pays: every "
             "line it funds, in cash, including the VAT a company cannot recover and its corporation tax.</p>",
             "<ul>" + "".join(f"<li>{_e(t)}</li>" for t in sentences) + "</ul>",
             T.to_html(T.cost_to_council(res))]
    specifics = [(oid, text) for oid in sc.options if (text := vat_specifics(res, oid)) is not None]
    if specifics:
        parts.append(f"<p><strong>VAT.</strong> {_e(vat_general(res))}</p><ul>"
                     + "".join(f"<li><strong>{_e(sc.options[oid].label)}.</strong> {_e(T.readable(text, words))}</li>"
                               for oid, text in specifics) + "</ul>")
    companies = [oid for oid, r in central.options.items() if r.company is not None]
    if companies and "finance.pension_bond_cover" not in sc.parameters:
        parts.append("<p><strong>Pensions.</strong> The staff a company takes on stay in the Local Government "
                     "Pension Scheme through an admission agreement (LGPS Regulations 2013, Schedule 2 Part 3). "
                     "The scenario gives no bond, so the council is taken to guarantee the admission: no cash "
                     "cost, but a contingent liability, since the council pays what the company cannot when the "
                     "admission ends (regulation 64).</p>")
    base = central.options[central.baseline].high_needs
    if base is not None:
        parts.append(
            f"<p><strong>The high-needs block.</strong> SEND provision for children with EHC plans is paid from "
            f"the dedicated schools grant's high-needs block. Under {_e(sc.options[central.baseline].label)} the "
            f"projected spending on it exceeds the block's income by {money_m(base['cumulative_deficit'][0, -1])} "
            f"in total by {central.years[-1]} (cash); the table shows each option's. The deficit is held apart from "
            "the council's general fund under a statutory override, but the council carries it.</p>")
    parts += ["<p><strong>Who pays.</strong> Cash over the appraisal by who pays it; the council's own column is "
              "the cash the first screen compares.</p>", T.to_html(T.who_pays(res))]
    transfers = T.transfers_table(res)
    if not transfers.frame.empty:
        parts += ["<p>VAT and corporation tax, line by line, in each option's cash.</p>", T.to_html(transfers)]
    if central.warnings:
        parts += ["<h3>What the costs leave out</h3><ul>"
                  + "".join(f"<li>{_e(T.readable(w, words))}</li>" for w in central.warnings) + "</ul>"]
    return parts


def _uncertainty(a: Analysis) -> list[str]:
    sc, res = a.res.scenario, a.res
    parts = ["<h2>How sure is the result, and what decides it?</h2>"]
    if res.draws is not None:
        parts.append(npv_distribution_figure(res).html())
    for oid in [o for o in sc.options if o != sc.baseline]:
        parts.append(tornado_figure(a.tornado, oid, sc.options[oid].label).html())
    found = T.switching_table(a)
    if found.frame.empty:
        parts.append("<p><strong>Switching values.</strong> No single input, anywhere in the range the scenario "
                     "gives it, would make any option cheaper than the baseline.</p>")
    else:
        parts += ["<p><strong>Switching values:</strong> the value of one input (the others central) at which an "
                  "option would cost the same as the baseline.</p>", T.to_html(found)]
    if a.voi is not None:
        v = a.voi
        labels = _listing([sc.options[o].label for o in v.options])
        best = T.voi_table(a, top=5)
        text = (f"Between the options that meet every critical success factor ({labels}), the expected value of "
                f"perfect information is {money_words(v.evpi)}: the most it would be worth spending to remove all the "
                "uncertainty before choosing. ")
        text += ("No single input, and no group of them (demand, workforce, unit costs, finance, each option's "
                 "own costs or effects), would change the choice if it alone were known: the expected value of "
                 "perfect information about each is nil. The choice is robust to each uncertainty taken on its own."
                 if best.frame.empty else
                 f"The uncertainty most worth resolving is {_lc(best.frame.iloc[0]['input'])} "
                 f"({money_words(best.frame.iloc[0]['evppi'])}).")
        parts.append(f"<p><strong>Value of information.</strong> {_e(text)}</p>")
        if not best.frame.empty:
            parts.append(T.to_html(best))
    return parts


def _mca(a: Analysis) -> list[str]:
    m = a.mca
    if m is None:
        return []
    sc = a.res.scenario
    failing = [sc.options[o].label for o, ok in m.passes_csf.items() if not ok]
    text = (f"Weighted by the scenario's swing weights, the preferred option among those that meet every critical "
            f"success factor is {sc.options[m.preferred].label}.")
    if failing:
        text += (f" {_listing(failing)} {'fails' if len(failing) == 1 else 'fail'} a critical success factor: "
                 "shown and ranked, but not a choice the council can make.")
    return ["<h2>Multi-criteria analysis</h2>", f"<p>{_e(text)}</p>", T.to_html(T.mca_table(a)),
            "<p>How far each criterion's share of the weight would have to move for the top-ranked option to "
            "change (the other weights keeping their proportions):</p>", T.to_html(T.weight_switching_table(a)),
            "<details><summary>Every score</summary>" + T.to_html(T.mca_scores_table(a)) + "</details>"]


#: Measures charted in the monitoring section (the rest are in its table).
MONITORED_CHARTS = ("cla_closing", "cin_closing", "cpp_closing", "social_worker_in_post_fte")


def _monitoring(a: Analysis) -> list[str]:
    if a.monitoring is None:
        return []
    from .monitoring_chart import monitoring_chart

    sc = a.res.scenario
    label = sc.options[a.monitored_option].label
    parts = ["<h2>Monitoring: what happened against what was projected</h2>",
             f"<p>Published figures since the decision against the projection for {_e(label)}: each year "
             f"is flagged when it falls outside the projection's {range_label()} band (which holds the "
             f"projection {range_words()}).</p>", T.to_html(T.monitoring_summary(a.monitoring))]
    for measure in MONITORED_CHARTS:
        if measure in set(a.monitoring["measure"]):
            parts.append(monitoring_chart(a.monitoring, measure, authority=sc.header.authority.name).html())
    parts.append("<details><summary>Every monitored figure</summary>" + T.to_html(T.monitoring_detail(a.monitoring))
                 + "</details>")
    money = T.money_monitoring(a.monitoring)
    if not money.frame.empty:
        parts += ["<h3>The company's money against the business case</h3>",
                  f"<p>Published figures (council papers and the press, sources in the actuals file) against the "
                  f"projection's median and its {range_label()} band, in cash.</p>", T.to_html(money)]
    left = T.not_compared_table(a.monitoring)
    if not left.frame.empty:
        parts.append("<p>Not compared: " + "; ".join(f"{_e(r.measure[:1].lower() + r.measure[1:])} ({_e(r.periods)}), "
                                                     f"{_e(r.reason)}" for r in left.frame.itertuples()) + ".</p>")
    if a.spend_gap is not None:
        g = a.spend_gap
        year, actual, projected = g.attrs["year"], g.attrs["actual"], g["amount"].iloc[0]
        parts += [f"<p><strong>How far the case was from what was spent.</strong> For {_e(year)} the case projected "
                  f"{money_m(projected)} of company spending; {money_m(actual)} was spent (a forecast outturn): "
                  f"{money_m(actual - projected)} more. The steps below re-price what the case could not know, "
                  "with the model.</p>", T.to_html(T.spend_gap_table(g))]
    return parts


def _inputs(sc: Scenario) -> list[str]:
    words = T.scenario_words(sc)
    parts = ["<h2>The options</h2>", T.to_html(T.options_inputs(sc))]
    for opt in sc.options.values():
        if opt.description:
            parts.append(f"<p><strong>{_e(opt.label)}.</strong> {_e(T.readable(opt.description, words))}</p>")
    parts += _effects(sc)
    if sc.mca.criteria:
        parts += ["<h2>Multi-criteria inputs</h2>",
                  "<p>Scores run from 0 (least preferred) to 100 (most preferred) on each criterion; "
                  "criteria scored by the model (cost) are derived from the appraisal.</p>",
                  T.to_html(T.mca_inputs(sc)),
                  "<details><summary>Why each score</summary>" + T.to_html(T.score_rationales(sc)) + "</details>",
                  "<details><summary>Critical success factors</summary>" + T.to_html(T.csf_table(sc))
                  + "</details>"]
    return parts


def _effects(sc: Scenario) -> list[str]:
    """Each effect an option claims, marked evidence or judgement, with its source and what the evidence does not show."""
    table = T.effects_inputs(sc)
    if table.frame.empty:
        return ["<h2>Effects the options claim</h2>", "<p>No option claims an effect on the model's inputs.</p>"]
    evidence = table.frame["basis"].str.startswith("Evidence")
    n, k = len(table.frame), int(evidence.sum())
    lead = (f"{k} of the {n} effects the options claim rest on evidence and {n - k} on judgement. "
            if k else f"All {n} effects the options claim are judgements: no evidence in the effect library applies. ")
    parts = ["<h2>Effects the options claim</h2>",
             f"<p>{_e(lead)}Evidence means a measured change: from the councils that moved their children's "
             "services to a trust or company, compared with councils that did not, or from a published "
             "evaluation; its range is the measured interval. Judgement means no evidence applies, and the "
             "scenario says why. Confidence runs from 1 (a randomised trial) to 5 (judgement).</p>",
             T.to_html(table)]
    common, limits = T.effect_limits(sc)
    if common or not limits.frame.empty:
        parts.append("<details><summary>What the evidence does not show</summary>"
                     + (f"<p>{_e(common)}</p>" if common else "")
                     + (T.to_html(limits) if not limits.frame.empty else "") + "</details>")
    return parts


def _caseloads(st: Study) -> list[str]:
    sc, a = st.scenario, st.analysis
    parts = ["<h2>Caseloads and social workers: the in-house baseline</h2>",
             "<p>Projected from the scenario's figures by a stock-flow model: each year children enter "
             "and leave each status, and nobody is lost or double-counted. The options' effects are not "
             "applied here, so this is the baseline every option starts from.</p>"]
    if a is None:
        parts.append("<p>No projection: the scenario gives no 0-17 population, which every caseload is "
                     "driven by.</p>")
    else:
        projection = a.res.uncertain.options[sc.baseline].projection
        parts += [c.html() for c in caseload_charts(projection, st.history.rows, sc.header.authority.name)]
        parts.append(T.to_html(T.caseload_table(projection)))
    parts.append("<h2>How accurate would the model have been?</h2>")
    bt = st.backtest
    if bt is None:
        parts.append(f"<p>{_e(st.backtest_note)}</p>")
    else:
        text = st.backtest_note + trust_sentence(bt)
        if bt.not_estimated:
            from .catalogue import parameter_label

            text += " Not estimated from published figures: " + ", ".join(
                _lc(parameter_label(n)) for n in bt.not_estimated) + "."
        parts += [f"<p>{_e(text)}</p>", backtest_chart(bt).html(),
                  "<details><summary>Every back-test figure</summary>" + T.to_html(T.backtest_table(bt))
                  + "</details>"]
    parts += ["<h2>Published history</h2>", f"<p>{_e(st.history.note)}</p>"]
    parts += [c.html() for c in history_charts(sc.header.authority.name, st.history)]
    parts.append(T.to_html(T.history_table(st.history)))
    return parts


def _register(sc: Scenario) -> list[str]:
    return ["<h2>Assumptions register</h2>",
            "<p>Every figure the scenario uses, with its unit, price year, source and confidence grade ("
            + "; ".join(f"{k} = {v}" for k, v in CONFIDENCE.items()) + "). The first column is the figure's "
            "name in the scenario file, with the file and line that set it: the name to use to change it.</p>",
            T.to_html(T.register_table(sc))]


def plain_summary(sc: Scenario) -> str:
    """A plain-English paragraph saying what the scenario compares and rests on."""
    register = assumptions_register(sc)
    others = [o for o in sc.options if o != sc.baseline]
    labels = [sc.options[o].label for o in others]
    years = sc.financial_years
    graded = register["confidence"].value_counts().to_dict()
    if not others:  # a council's generated baseline, before any option is added
        text = (f"This scenario holds one way of delivering {sc.header.authority.name}'s children's services, "
                f"{sc.options[sc.baseline].label}, over {len(years)} years from {years[0]} to {years[-1]}: the "
                "baseline that delivery options are compared with once they are added. ")
    else:
        text = (f"This scenario compares {len(sc.options)} ways of delivering "
                f"{sc.header.authority.name}'s children's services over {len(years)} years from {years[0]} "
                f"to {years[-1]}: {sc.options[sc.baseline].label} (the baseline) against {_listing(labels)}. ")
    text += (f"It rests on {len(register)} figures: {graded.get(1, 0)} are published statistics or audited "
             f"outturn, {graded.get(4, 0)} national defaults or proxies and {graded.get(5, 0)} judgement; every one "
             "is listed, with its source, in the assumptions register.")
    return text


def national_defaults(sc: Scenario) -> T.Table:
    """The figures graded 4 (a national default, or a proxy for the council's own figure), which a council
    should replace with its own: what each is, its value and its source."""
    table = T.register_table(sc)
    rows = table.frame[table.frame["grade"] == 4]
    keep = ["key", "figure", "value", "price_year", "source"]
    return T.Table(rows[keep].reset_index(drop=True), {k: table.columns[k] for k in keep})


def notices_html(sc: Scenario) -> list[str]:
    """What a reader must know before any result: placeholders left in the scenario (its figures then
    describe no council) and the national defaults it rests on (listed in full in their own section)."""
    parts = []
    if sc.placeholders:
        n = len(sc.placeholders)
        items = "".join(f'<li><code class="key">{_e(p.key)}</code> {_e(p.message)}</li>'
                        for p in sc.placeholders[:12])
        more = f"<li>and {n - 12} more (every one is in the assumptions register)</li>" if n > 12 else ""
        parts.append(f'<div class="notice placeholders" role="alert"><strong>This scenario still holds {n} '
                     f"placeholder{'s' if n != 1 else ''}: figures that describe no council. Its results "
                     f"cannot be used for a decision until each is replaced.</strong><ul>{items}{more}</ul></div>")
    defaults = national_defaults(sc)
    if len(defaults.frame):
        parts.append(f'<p class="notice defaults">{len(defaults.frame)} of the figures are national defaults or '
                     "proxies, not this council's own: see "
                     '<a href="#national-defaults">national defaults to replace with your own figures</a>.</p>')
    return parts


def reproduce_command(scenario: str | Path, draws: int, seed: int, *, actuals: Path | None = None,
                      option: str | None = None, notebooks: bool = True, out_dir: Path | None = None,
                      data_dir: Path | None = None, allow_placeholders: bool = False) -> str:
    """The command that writes this report again, with every option it was written with."""
    def rel(p: str | Path) -> str:
        path = Path(p)
        if path.is_absolute():
            try:
                return path.relative_to(Path.cwd()).as_posix()
            except ValueError:
                return path.as_posix()
        return path.as_posix()

    words = ["wcf-model", "report", rel(scenario), "--draws", str(draws), "--seed", str(seed)]
    if actuals is not None:
        words += ["--actuals", rel(actuals)]
    if option is not None:
        words += ["--option", option]
    if data_dir is not None:
        words += ["--data", rel(data_dir)]
    if allow_placeholders:
        words.append("--allow-placeholders")
    if not notebooks:
        words.append("--no-notebooks")
    if out_dir is not None:
        words += ["--out", rel(out_dir)]
    return shlex.join(words)


def render_html(st: Study, command: str, notices: list[str] | None = None) -> str:
    """The whole report as one self-contained HTML page.

    ``notices`` are banners shown above the answer (for example that the
    scenario still holds placeholder figures, or that it was run without draws).
    """
    sc, a = st.scenario, st.analysis
    notices = list(notices or [])
    if a is not None and a.res.draws is None:
        notices.append("This report was run at central values only (one draw): it gives no ranges. Run it with "
                       "--draws to see how sure each result is.")
    draws = (a.res.uncertain.draws if a.res.draws is not None else 1) if a is not None else None
    chain = " extends ".join(Path(f).name for f in reversed(sc.files))
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(sc.header.title)} - wcf-model report</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{CSS}{T.TABLE_CSS}</style></head><body><main>",
        f"<h1>{_e(sc.header.title)}</h1>",
        f'<p class="meta">{_e(sc.header.authority.name)} · {len(sc.financial_years)} years from '
        f"{_e(sc.header.base_year)}, in {_e(sc.header.base_year)} prices"
        + (f" · {draws:,} Monte Carlo draws" if draws and draws > 1 else "")
        + f' · scenario <span class="key">{_e(sc.name)}</span> · wcf-model {_e(__version__)}</p>',
        *notices_html(sc),
        *(f'<div class="notice" role="note">{_e(n)}</div>' for n in notices),
    ]
    parts += first_screen(st)
    parts += [f"<p>{_e(plain_summary(sc))}</p>"]
    if sc.header.description:
        parts.append(f"<p>{_e(T.readable(sc.header.description, T.scenario_words(sc)))}</p>")
    if a is not None:
        # with the baseline alone there is nothing to compare, so nothing to be sure of either
        parts += (_appraisal(a) + _cost_to_council(a) + (_uncertainty(a) if len(sc.options) > 1 else [])
                  + _mca(a) + _monitoring(a))
    parts += _inputs(sc) + _caseloads(st)
    defaults = national_defaults(sc)
    if len(defaults.frame):
        parts += ['<h2 id="national-defaults">National defaults to replace with your own figures</h2>',
                  "<p>These figures are graded 4: a national figure, or a proxy (such as an older local "
                  "figure brought up to date), used because the published statistics do not give the "
                  "council's own. Each is a candidate for the council's own figure: replace it in the scenario "
                  "file with its source, and the report will show the change.</p>", T.to_html(defaults)]
    parts += _register(sc)
    parts += [f'<p class="meta">Reproduce this report with <code class="key">{_e(command)}</code> '
              f'(scenario sha256 <span class="key">{_e(sc.sha256)}</span>). Scenario files: '
              f'<span class="key">{_e(chain)}</span>.</p>', "</main></body></html>"]
    return "\n".join(parts)


# ---------------------------------------------------------------------------
# Writing it all
# ---------------------------------------------------------------------------


def write_report(scenario: str | Path | Scenario, out_dir: Path | None = None,
                 data_dir: Path | None = None, draws: int | None = None, seed: int | None = None,
                 notebooks: bool = True, actuals: Path | None = None, option: str | None = None,
                 notices: list[str] | None = None, progress: Progress = quiet,
                 allow_placeholders: bool = False, say=None) -> list[Path]:
    """Write ``report.html`` and ``results.xlsx`` for a scenario, and the executed notebooks.

    Parameters
    ----------
    scenario : path or Scenario
        The scenario file.
    out_dir : Path, optional
        Output folder; ``outputs/<scenario name>/`` by default.
    data_dir : Path, optional
        Folder with the DfE extract; the repository's ``data/`` by default.
    draws, seed : int, optional
        Monte Carlo draws and seed; the scenario's by default.
    notebooks : bool
        Also execute the notebook set and write each executed notebook, and an
        HTML rendering without code, to ``notebooks/`` in the output folder.
    actuals, option : optional
        An actuals file (see :mod:`wcf_model.monitoring`) and the option that was
        implemented, for the monitoring section.
    notices : list of str, optional
        Banners shown above the answer.
    allow_placeholders : bool
        Report a scenario that still holds placeholders; refused otherwise. The
        report then says so before anything else.
    say : callable, optional
        Told, one line each, of notebooks not run because they have nothing to
        show for this scenario, of figures of the actuals file not compared,
        and of files of an earlier set in the output folder this one replaces.
    progress : callable
        ``progress(stage, total)`` as each stage starts (see :mod:`wcf_model.progress`).

    Returns
    -------
    list of Path
        The files written. The output folder is replaced whole, notebooks and
        all, and only once every file has been produced
        (:func:`~wcf_model.outputs.write_set`).
    """
    from .actuals import read_actuals, require_periods
    from .monitoring import not_compared
    from .workbook import write_results_workbook

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if not allow_placeholders:
        refuse_placeholders(sc, "report")
    out = out_dir if out_dir is not None else default_output_dir(sc.name)
    inputs = [*sc.files, *(p for p in (actuals, data_dir) if p is not None),
              *(sorted(NOTEBOOK_DIR.glob("*.ipynb")) if notebooks else [])]
    check_output_folder(out, inputs)  # before the work, not after it
    frame = None
    if actuals is not None:  # so is a bad actuals file
        frame = read_actuals(actuals)
        require_periods(frame, sc.financial_years)
    n = draws if draws is not None else sc.header.draws
    s = seed if seed is not None else sc.header.seed
    books = notebooks_for(sc, say=say) if notebooks else []
    total = 3 + len(books)
    # the notebooks start in kernels of their own (forked now, before this process's own work) while this
    # process appraises for the page; those that show the analysis are handed this one once it is done
    running = (NotebookRun(sc, n, s, actuals, option, data_dir=data_dir, paths=books, analysis_to_come=True)
               if books else None)
    try:
        progress("appraisal and sensitivity", total)
        st = study(sc, n, s, frame, option, data_dir, draws_from=None if draws is None else "--draws")
        if running is not None:
            running.hand_over(st.analysis)
        monitoring = st.analysis.monitoring if st.analysis is not None else None
        if monitoring is not None and say is not None:
            for row in not_compared(monitoring).itertuples():
                say(f"{actuals}: {row.figures} figure(s) of {row.measure} ({row.periods}) not compared: {row.reason}")
        progress("report", total)
        command = reproduce_command(sc.path, n, s, actuals=actuals, option=option, notebooks=notebooks,
                                    out_dir=out_dir, data_dir=data_dir, allow_placeholders=allow_placeholders)
        page = render_html(st, command, notices)
        book = io.BytesIO()
        write_results_workbook(book, st)  # while the notebooks run, not after them
    except BaseException as exc:
        if running is not None:
            running.give_up(f"{type(exc).__name__}: {exc}")
            running.close()
        raise
    executed = running.result(progress, total) if running is not None else {}
    progress("writing", total)
    files: dict[str, Callable[[Path], None]] = {
        "report.html": lambda p: p.write_text(page, encoding="utf-8"),
        "results.xlsx": lambda p: p.write_bytes(book.getvalue()),
    }
    for name, (ipynb, body) in executed.items():
        files[f"notebooks/{name}"] = lambda p, t=ipynb: p.write_text(t, encoding="utf-8")
        files[f"notebooks/{name.replace('.ipynb', '.html')}"] = lambda p, t=body: p.write_text(t, encoding="utf-8")
    return write_set(out, files, inputs=inputs, say=say)


__all__ = ["answer_sentences", "first_screen", "plain_summary", "render_html", "reproduce_command", "write_report"]
