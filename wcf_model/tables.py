"""The tables a reader sees, defined once for the HTML report, the notebooks and the workbook.

A :class:`Table` is a frame of raw values (numbers stay numbers) with a
:class:`Column` for each column saying what it holds in words and of what kind
(money, a count, a share, a financial year, text). Each output renders it in
its own form from the same definition:

* HTML (:func:`to_html`): money as £ million to one decimal place, shares and
  chances as percentages, headings with their unit; text never broken inside
  a word.
* the workbook (:mod:`wcf_model.workbook`): the same numbers in full pounds,
  with Excel number formats, and the unit in every heading.

Every identifier is shown by its label (options, criteria, inputs, measures,
units, cost lines); the scenario's own prose is passed through
:func:`readable`, which puts labels in place of the identifiers it cites.
Only a table's ``key`` columns (the assumptions register's name of each
figure) show identifiers, because that is what a user types to change one.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .catalogue import (
    WORDS,
    cost_line_label,
    effect_label,
    figure_text,
    humanise,
    option_item_labels,
    parameter_label,
    parameter_specs,
    sentence_case,
    unit_words,
    word,
)
from .formats import (RANGE, chance, financial_year_label, number, percent, range_columns, range_ends, range_label,
                      range_words)

#: The columns holding a band's ends, as the comparison and the back-test name them (``p10``, ``p90``).
LOW, HIGH = range_columns()
from .uncertain import option_input_label
from .register import CONFIDENCE, assumptions_register

if TYPE_CHECKING:
    from .analysis import Analysis, History
    from .backtest import Backtest
    from .projection import Projection
    from .results import Results
    from .scenario import Scenario

# ---------------------------------------------------------------------------
# Columns and tables
# ---------------------------------------------------------------------------

#: Kinds of column, and how each is shown: (HTML unit in the heading, workbook unit, Excel number format).
KINDS = {
    "text": ("", "", "@"),
    "key": ("", "", "@"),
    "fy": ("", "", "@"),
    "money": ("£m", "£", '"£"#,##0;-"£"#,##0'),
    "count": ("", "", "#,##0"),
    "number": ("", "", "#,##0.0"),
    "share": ("%", "%", "0.0%"),
    "chance": ("%", "%", "0%"),
    "score": ("", "", "0.0"),
    "rank": ("", "", "0"),
    "quantity": ("", "", "General"),   # a figure in its own unit: the workbook formats it by its row's unit
}


@dataclass(frozen=True)
class Column:
    """How one column of a :class:`Table` is shown.

    ``heading`` is words without the unit (the renderer adds "(£m)" or "(£)");
    ``unit`` is a unit in words for columns whose kind does not carry one
    ("children", "FTE"); ``kind`` is a key of :data:`KINDS`.
    """

    heading: str
    kind: str = "text"
    unit: str = ""
    digits: int = 0
    unit_from: str = ""      # for kind "quantity": the column holding each row's unit (a catalogue unit)

    def html_heading(self) -> str:
        unit = KINDS[self.kind][0] or self.unit
        return f"{self.heading} ({unit})" if unit else self.heading

    def workbook_heading(self) -> str:
        unit = KINDS[self.kind][1] or self.unit
        return f"{self.heading} ({unit})" if unit else self.heading


@dataclass
class Table:
    """Raw values and how to show each column; ``columns`` lists every column of ``frame`` in order."""

    frame: pd.DataFrame
    columns: dict[str, Column]
    note: str = ""
    freeze_columns: int = 1            # columns kept in view when scrolling sideways (the row's name)
    html_hidden: tuple[str, ...] = field(default=())      # columns only the workbook shows
    workbook_hidden: tuple[str, ...] = field(default=())  # columns only the report shows

    def __post_init__(self) -> None:
        missing = [c for c in self.frame.columns if c not in self.columns]
        if missing:
            raise ValueError(f"columns without a description: {missing}")
        self.frame = self.frame[list(self.columns)]

    def _repr_html_(self) -> str:  # how JupyterLab and nbconvert show a table: as the report does
        return f"<style>{TABLE_CSS}</style>" + to_html(self)


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def cell_text(v: object, col: Column) -> str:
    """A value as the report shows it (money in £ million to one decimal)."""
    if _blank(v):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if col.kind == "money":
        x = float(v) / 1e6
        x = 0.0 if round(x, 1) == 0 else x
        return f"{'-' if x < 0 else ''}£{abs(x):,.1f}m"
    if col.kind == "count":
        return number(float(v))
    if col.kind == "number":
        return number(float(v), col.digits or 1)
    if col.kind == "share":
        return percent(float(v), col.digits)
    if col.kind == "chance":
        return chance(float(v))
    if col.kind == "score":
        return number(float(v), 1)
    if col.kind == "rank":
        return str(int(v))
    if isinstance(v, float):
        return number(v, col.digits)
    return str(v)


NUMERIC = {"money", "count", "number", "share", "chance", "score", "rank"}


def _key_html(text: str) -> str:
    # A long identifier may break after a dot or a space, never inside a word (nor at its hyphens).
    parts = [p for p in re.split(r"(?<=[./ ])", text) if p]
    return "<code>" + "<wbr>".join(f'<span class="nw">{html.escape(p)}</span>' for p in parts) + "</code>"


#: How every table looks, in the report and (through :meth:`Table._repr_html_`) in the notebooks: text
#: left-aligned and wrapped between words only, numbers right-aligned and never wrapped.
TABLE_CSS = """
.table-wrap table.wcf { border-collapse: collapse; font-size: .9rem; width: 100%; }
.table-wrap table.wcf th, .table-wrap table.wcf td { border-bottom: 1px solid #b1b4b6; padding: .35rem .5rem;
  text-align: left; vertical-align: top; white-space: normal; overflow-wrap: normal; word-break: normal;
  hyphens: manual; }
.table-wrap table.wcf th { background: #f3f2f1; font-weight: bold; }
.table-wrap table.wcf td.num, .table-wrap table.wcf th.num { text-align: right; font-variant-numeric: tabular-nums; }
.table-wrap table.wcf td.num, .table-wrap table.wcf .nw { white-space: nowrap; }
.table-wrap table.wcf td.key code { font-size: .8rem; }
.table-wrap { overflow-x: auto; margin: 1rem 0; }
.table-note { color: #3D3D3D; font-size: .85rem; margin-top: -.5rem; }
"""
# (the selectors start at .table-wrap so that they outrank JupyterLab's own table rules in the notebooks)
_NUM_ATTRS = ' class="num"'
#: A word a browser might break inside: one holding a hyphen, a slash, a bracket or a symbol inside it
#: ("2019-20", "go-live", "+£5.1m", "and/or", "s5(2)(a)"). Words of letters and digits alone never break
#: (overflow-wrap: normal), nor does punctuation that opens or closes a word.
_WORD = re.compile(r"\S+")
_EDGES = "([{\"'\u2018\u201c", ".,;:!?)]}\"'\u2019\u201d"


def _nobreak(escaped: str) -> str:
    """Escaped text whose words holding hyphens, brackets or symbols ("2019-20", "s5(2)(a)") never break."""
    def keep(m: re.Match) -> str:
        core = html.unescape(m.group(0)).lstrip(_EDGES[0]).rstrip(_EDGES[1])
        return f'<span class="nw">{m.group(0)}</span>' if re.search(r"[^\w]", core) else m.group(0)

    return _WORD.sub(keep, escaped)


def to_html(table: Table, caption: str = "") -> str:
    """The table as HTML, each cell formatted by its column."""
    cols = {k: c for k, c in table.columns.items() if k not in table.html_hidden}
    if table.frame.empty:
        return "<p>None.</p>"
    head = "".join(f'<th scope="col"{_NUM_ATTRS if c.kind in NUMERIC else ""}>'
                   f"{_nobreak(html.escape(c.html_heading()))}</th>" for c in cols.values())
    rows = []
    for _, row in table.frame.iterrows():
        cells = []
        for k, c in cols.items():
            text = cell_text(row[k], c)
            if c.kind in NUMERIC:
                cells.append(f'<td{_NUM_ATTRS}>{html.escape(text)}</td>')
            elif c.kind == "key":
                cells.append(f'<td class="key">{_key_html(text)}</td>' if text else '<td class="key"></td>')
            else:
                cells.append(f"<td>{_nobreak(html.escape(text))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    note = f'<p class="table-note">{html.escape(table.note)}</p>' if table.note else ""
    return (f'<div class="table-wrap"><table class="wcf">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>{note}")


# ---------------------------------------------------------------------------
# Words for the scenario's identifiers
# ---------------------------------------------------------------------------


def scenario_words(sc: Scenario) -> dict[str, str]:
    """Identifier -> label, for everything a scenario's prose may cite.

    Options, effects, cost items, criteria and critical success factors by
    their scenario labels; parameters by their catalogue labels; the
    vocabularies' words (placement types, settings, service lines ...).
    """
    out: dict[str, str] = {}
    for vocab in WORDS.values():
        out.update({k: v for k, v in vocab.items() if "_" in k})
    out.update({name: parameter_label(name) for name in parameter_specs()})
    out.update({name: parameter_label(name) for name in sc.parameters})
    # a group of parameters ("costs.overheads"): its one parameter's label, or its last word
    groups: dict[str, list[str]] = {}
    for name in parameter_specs():
        parts = name.split(".")
        for i in range(2, len(parts)):
            groups.setdefault(".".join(parts[:i]), []).append(name)
    for group, members in groups.items():
        out.setdefault(group, parameter_label(members[0]).lower() if len(members) == 1
                       else humanise(group.rsplit(".", 1)[-1]))
    for oid, opt in sc.options.items():
        out[oid] = opt.label
        out.update({eid: effect_label(e.driver, e.label) for eid, e in opt.effects.items()})
        out.update({iid: label for iid, label in option_item_labels(opt).items() if "_" in iid})
    out.update({cid: c.label for cid, c in sc.mca.criteria.items()})
    out.update({fid: f.label for fid, f in sc.mca.critical_success_factors.items()})
    return out


_TOKEN = re.compile(r"(?<![\w./-])([a-z][a-z0-9]*(?:[_.][a-z0-9]+)+)(?![\w/-]|\.[a-z])")


def readable(text: object, words: dict[str, str]) -> str:
    """Prose with the identifiers it cites replaced by their labels.

    ``"As company_csc, with the scope broadened"`` reads "As Wholly owned
    company: children's social care, with the scope broadened". Only whole
    identifiers the scenario or the catalogue knows are replaced; file names
    (``base.yaml``) are left as they are.
    """
    if _blank(text):
        return ""
    return _TOKEN.sub(lambda m: words.get(m.group(1), m.group(1)), str(text))


# ---------------------------------------------------------------------------
# The options: summary, appraisal, cash, who pays
# ---------------------------------------------------------------------------


def options_summary(a: Analysis) -> Table:
    """One row per option: the first screen's table and the workbook's Summary sheet."""
    from .analysis import council_cash, csf_failures, npv_range, payback

    res, sc = a.res, a.res.scenario
    central = res.central
    base = sc.baseline
    failing = csf_failures(sc)
    least = res.prob_least_cost()
    m = a.mca
    rows = []
    for oid, opt in sc.options.items():
        rng = npv_range(res, oid)
        rows.append({
            "option": opt.label,
            "csf": "yes" if oid not in failing else "no: fails " + "; ".join(f for f, _ in failing[oid]),
            "npv_vs_baseline": float(central.npv_vs_baseline(oid)[0]),
            "low": rng[0] if rng else np.nan, "high": rng[1] if rng else np.nan,
            "council_cash_vs_baseline": float(council_cash(res, oid).sum() - council_cash(res, base).sum()),
            "cash_vs_baseline": float((central.options[oid].financial_total[0]
                                       - central.options[base].financial_total[0]).sum()),
            "prob_least_cost": least[oid],
            "mca_total": float(m.totals[oid]) if m is not None else np.nan,
            "payback": payback(res, oid),
        })
    first, last = central.years[0], central.years[-1]
    low, high = RANGE
    cols = {
        "option": Column("Option"),
        "csf": Column("Meets every critical success factor"),
        "npv_vs_baseline": Column(f"Economic cost against the baseline, {sc.header.base_year} prices, discounted",
                                  "money"),
        "low": Column(f"{range_words().capitalize()} from", "money"),
        "high": Column("to", "money"),
        "council_cash_vs_baseline": Column(f"Council cash against the baseline, {first} to {last}, "
                                           "including VAT and tax", "money"),
        "cash_vs_baseline": Column(f"All cash against the baseline, {first} to {last}", "money"),
        "prob_least_cost": Column("Chance of the lowest economic cost", "chance"),
        "mca_total": Column("Multi-criteria score, out of 100", "score"),
        "payback": Column("Extra cash paid back by"),
    }
    frame = pd.DataFrame(rows)
    if m is None:
        frame = frame.drop(columns="mca_total")
        cols.pop("mca_total")
    note = (f"The range is the {range_label()} of {res.uncertain.draws:,} Monte Carlo draws "
            f"(the economic cost falls in it {range_words()})." if res.draws is not None
            else "Central values only: run with draws for a range.")
    return Table(frame, cols, note=note, html_hidden=("cash_vs_baseline",))


def appraisal_table(res: Results) -> Table:
    """Each option's net present cost, its spread against the baseline, and its cash, over the appraisal."""
    sc = res.scenario
    s = res.summary().set_index("option")
    low, high = RANGE
    frame = pd.DataFrame({
        "option": [sc.options[o].label for o in s.index],
        "npv_cost": s["npv_cost"].to_numpy(), "npv_vs_baseline": s["npv_vs_baseline"].to_numpy(),
        "mean": s["npv_vs_baseline_mean"].to_numpy(),
        "low": s[f"npv_vs_baseline_p{low}"].to_numpy(), "high": s[f"npv_vs_baseline_p{high}"].to_numpy(),
        "nominal_total": s["nominal_total"].to_numpy(),
    })
    years = res.central.years
    cols = {
        "option": Column("Option"),
        "npv_cost": Column("Net present cost", "money"),
        "npv_vs_baseline": Column("Against the baseline", "money"),
        "mean": Column("Against the baseline, mean of the draws", "money"),
        "low": Column(sentence_case(range_ends()[0]), "money"),
        "high": Column(sentence_case(range_ends()[1]), "money"),
        "nominal_total": Column(f"Cash, {years[0]} to {years[-1]}", "money"),
    }
    return Table(frame, cols, note=(f"Net present costs in {sc.header.base_year} prices, discounted with the "
                                    "Green Book rate, VAT and corporation tax left out; cash in each year's "
                                    "prices, including them."))


def _fy_columns(years: list[str], kind: str = "money") -> dict[str, Column]:
    return {y: Column(y, kind) for y in years}


def cash_by_year(res: Results) -> Table:
    """Cash cost by option and financial year, central values [GBP]."""
    a, sc = res.central, res.scenario
    frame = pd.DataFrame([{"option": sc.options[o].label, **dict(zip(a.years, r.financial_total[0]))}
                          for o, r in a.options.items()])
    return Table(frame, {"option": Column("Option"), **_fy_columns(a.years)},
                 note="Cash by financial year, including VAT and tax, central values.")


def who_pays(res: Results) -> Table:
    """Cash over the appraisal by option and funder [GBP]."""
    a, sc = res.central, res.scenario
    funders = [f for f in WORDS["funder"] if any(f in r.funders for r in a.options.values())]
    funders += sorted({f for r in a.options.values() for f in r.funders} - set(funders))
    frame = pd.DataFrame([{"option": sc.options[o].label,
                           **{f: float(r.funders[f][0].sum()) if f in r.funders else 0.0 for f in funders}}
                          for o, r in a.options.items()])
    return Table(frame, {"option": Column("Option"),
                         **{f: Column(f"{word('funder', f)}, {a.years[0]} to {a.years[-1]}", "money")
                            for f in funders}},
                 note="Cash paid by each funder over the appraisal, including VAT and tax, central values.")


def who_pays_by_year(res: Results) -> Table:
    """Cash by option, funder and financial year [GBP] (the workbook's Who pays sheet)."""
    a, sc = res.central, res.scenario
    rows = [{"option": sc.options[o].label, "funder": word("funder", f), **dict(zip(a.years, v[0]))}
            for o, r in a.options.items() for f, v in r.funders.items()]
    return Table(pd.DataFrame(rows), {"option": Column("Option"), "funder": Column("Paid by"),
                                      **_fy_columns(a.years)}, freeze_columns=2)


def transfers_table(res: Results) -> Table:
    """VAT and tax in each option's financial case: the lines the economic case leaves out as transfers [GBP]."""
    a, sc = res.central, res.scenario
    rows = []
    for oid, r in a.options.items():
        items = option_item_labels(sc.options[oid])
        for line in r.lines:
            if line.transfer:
                rows.append({"option": sc.options[oid].label, "line": cost_line_label(line.name, items),
                             "payer": word("funder", line.funder),
                             "total": float(r.financial[line.name][0].sum())})
    frame = pd.DataFrame(rows, columns=["option", "line", "payer", "total"])
    return Table(frame, {"option": Column("Option"), "line": Column("Line"), "payer": Column("Paid by"),
                         "total": Column(f"Cash, {a.years[0]} to {a.years[-1]}", "money")})


#: The DSG high-needs account's lines, in words.
HIGH_NEEDS_LINES = {"income": "Income (the block's allocation)", "spending": "Spending it funds",
                    "deficit": "Deficit in the year", "cumulative_deficit": "Deficit carried, cumulative"}


def annual_lines(res: Results, account: str) -> Table:
    """Costs by option, line and year, central values [GBP]: ``"economic"``, ``"financial"`` or ``"high_needs"``."""
    a, sc = res.central, res.scenario
    rows = []
    for oid, r in a.options.items():
        items = option_item_labels(sc.options[oid])
        lines = {"economic": r.economic, "financial": r.financial}.get(account, r.high_needs) or {}
        for line, values in lines.items():
            if account == "high_needs":
                rows.append({"option": sc.options[oid].label, "line": HIGH_NEEDS_LINES.get(line, humanise(line)),
                             **dict(zip(a.years, values[0])), "key": line})
                continue
            rows.append({"option": sc.options[oid].label, "line": cost_line_label(line, items),
                         **dict(zip(a.years, values[0])), "key": line})
    return Table(pd.DataFrame(rows, columns=["option", "line", *a.years, "key"]),
                 {"option": Column("Option"), "line": Column("Line"), **_fy_columns(a.years),
                  "key": Column("Line in annual.csv", "key")}, freeze_columns=2)


def cost_to_council(res: Results) -> Table:
    """Each option's two results, and what the cash one holds that the economic one does not [GBP]."""
    from .tax import money_table

    t = money_table(res)
    years = f"{res.central.years[0]} to {res.central.years[-1]}"
    cols = {"option": Column("Option"),
            "economic_vs_baseline": Column(f"Economic case against the baseline, {res.scenario.header.base_year} "
                                           "prices, discounted", "money"),
            "council_cash_vs_baseline": Column(f"Cash to the council against the baseline, {years}", "money"),
            "irrecoverable_vat": Column(f"Irrecoverable VAT, {years}", "money"),
            "corporation_tax": Column(f"Corporation tax, {years}", "money"),
            "pensions": Column(f"Pension costs, {years}", "money"),
            "stranded_overheads": Column(f"Stranded council costs, {years}", "money"),
            "high_needs_deficit_at_end": Column(f"High-needs deficit carried by {res.central.years[-1]}", "money")}
    return Table(t, {k: v for k, v in cols.items() if k in t.columns})


def warnings_table(res: Results) -> Table:
    return Table(pd.DataFrame({"warning": res.central.warnings}, dtype=object),
                 {"warning": Column("What the costs leave out")})


# ---------------------------------------------------------------------------
# Uncertainty and the decision
# ---------------------------------------------------------------------------


def _columns(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The frame with at least these columns (an analysis with nothing to compare returns a bare empty frame)."""
    return frame if set(names) <= set(frame.columns) else frame.reindex(columns=names)


def tornado_table(a: Analysis) -> Table:
    sc = a.res.scenario
    t = _columns(a.tornado, ["input", "label", "low_value", "high_value", "option", "central", "at_low", "at_high",
                             "swing"])
    frame = pd.DataFrame({
        "option": [sc.options[o].label for o in t["option"]], "input": t["label"].to_numpy(),
        "low_value": t["low_value"].to_numpy(), "high_value": t["high_value"].to_numpy(),
        "central": t["central"].to_numpy(), "at_low": t["at_low"].to_numpy(), "at_high": t["at_high"].to_numpy(),
        "swing": t["swing"].to_numpy(), "key": t["input"].to_numpy()})
    low, high = range_ends()
    return Table(frame, {
        "option": Column("Option"), "input": Column("Input"),
        "low_value": Column(f"Input at its {low}", "number", digits=4),
        "high_value": Column(f"Input at its {high}", "number", digits=4),
        "central": Column("Against the baseline, central", "money"),
        "at_low": Column(f"Against the baseline, input at its {low}", "money"),
        "at_high": Column(f"Against the baseline, input at its {high}", "money"),
        "swing": Column("Swing", "money"), "key": Column("Input name", "key")}, freeze_columns=2)


def switching_table(a: Analysis, found_only: bool = True) -> Table:
    sc = a.res.scenario
    t = _columns(a.switching, ["input", "label", "option", "central_value", "switching_value"])
    if found_only:
        t = t[t["switching_value"].notna()]
    frame = pd.DataFrame({
        "input": t["label"].to_numpy(), "option": [sc.options[o].label for o in t["option"]],
        "central_value": t["central_value"].to_numpy(), "switching_value": t["switching_value"].to_numpy(),
        "key": t["input"].to_numpy()})
    return Table(frame, {"input": Column("Input"), "option": Column("Option"),
                         "central_value": Column("Central value", "number", digits=4),
                         "switching_value": Column("Value at which the option costs the same as the baseline",
                                                   "number", digits=4),
                         "key": Column("Input name", "key")}, html_hidden=("key",))


def voi_table(a: Analysis, top: int | None = None) -> Table:
    v = a.voi
    table = _columns(v.table, ["input", "label", "evppi", "share_of_evpi"])
    t = table if top is None else table[table["evppi"] > 0].head(top)
    frame = pd.DataFrame({"input": t["label"].to_numpy(), "evppi": t["evppi"].to_numpy(),
                          "share": t["share_of_evpi"].to_numpy(), "key": t["input"].to_numpy()})
    return Table(frame, {"input": Column("Input, or group of inputs"),
                         "evppi": Column("Expected value of perfect information", "money"),
                         "share": Column("Share of the value of perfect information about everything", "share"),
                         "key": Column("Input name", "key")}, html_hidden=("key",))


def mca_table(a: Analysis) -> Table:
    m, sc = a.mca, a.res.scenario
    failing = {o for o, ok in m.passes_csf.items() if not ok}
    frame = pd.DataFrame({
        "option": [sc.options[o].label for o in m.totals.index],
        "total": m.totals.to_numpy(), "rank": m.ranks.to_numpy(),
        "csf": ["no" if o in failing else "yes" for o in m.totals.index],
        "preferred": ["yes" if o == m.preferred else "" for o in m.totals.index],
        "first": m.rank_probabilities.reindex(m.totals.index).to_numpy(),
        "chosen": m.prob_preferred.reindex(m.totals.index).to_numpy()})
    return Table(frame, {"option": Column("Option"), "total": Column("Weighted total, out of 100", "score"),
                         "rank": Column("Rank", "rank"), "csf": Column("Meets every critical success factor"),
                         "preferred": Column("Preferred"), "first": Column("Chance of ranking first", "chance"),
                         "chosen": Column("Chance of being preferred", "chance")},
                 note="Chances over uncertain weights and, with Monte Carlo draws, uncertain costs.")


def mca_scores_table(a: Analysis) -> Table:
    """Every option's score on every criterion [0-100], with the weights."""
    m, sc = a.mca, a.res.scenario
    rows = [{"criterion": sc.mca.criteria[c].label, "weight": float(m.weights[c]),
             **{o: float(m.scores.loc[o, c]) for o in m.scores.index}} for c in m.scores.columns]
    return Table(pd.DataFrame(rows), {"criterion": Column("Criterion"), "weight": Column("Share of the weight", "share"),
                                      **{o: Column(sc.options[o].label, "score") for o in m.scores.index}})


def weight_switching_table(a: Analysis, switching: pd.DataFrame | None = None) -> Table:
    """How far each criterion's weight would move before the top option changes (``switching``: a
    :func:`wcf_model.mca.weight_switching` frame; the analysis's own, over every option, by default)."""
    from .mca import NO_SWITCH

    m, sc = a.mca, a.res.scenario
    t = m.weight_switching if switching is None else switching

    def who(o: str) -> str:
        return "none" if o == NO_SWITCH else sc.options[o].label

    frame = pd.DataFrame({
        "criterion": [sc.mca.criteria[c].label for c in t["criterion"]],
        "current": t["current_weight"].to_numpy(),
        "down": t["switch_weight_down"].to_numpy(), "option_down": [who(o) for o in t["option_down"]],
        "up": t["switch_weight_up"].to_numpy(), "option_up": [who(o) for o in t["option_up"]]})
    return Table(frame, {"criterion": Column("Criterion"), "current": Column("Stated share of the weight", "share"),
                         "down": Column("Top option changes if its share falls to", "share"),
                         "option_down": Column("New top option"),
                         "up": Column("Top option changes if its share rises to", "share"),
                         "option_up": Column("New top option ")},
                 note="Blank: no share of weight between 0% and 100% on that side changes the top option.")


# ---------------------------------------------------------------------------
# Inputs: the options, effects, multi-criteria inputs and the register
# ---------------------------------------------------------------------------


def _date_text(d: object) -> str:
    if _blank(d) or d in ("", None):
        return ""
    if d == "go_live":
        return "go-live"
    try:
        ts = pd.Timestamp(str(d))
        return f"{ts.day} {ts:%B %Y}"
    except ValueError:
        return str(d)


def options_inputs(sc: Scenario) -> Table:
    """One row per option: how it is delivered, when, its scope and the costs it states (as stated)."""
    from .analysis import csf_failures

    failing = csf_failures(sc)
    rows = []
    for oid, opt in sc.options.items():
        one_off = sum(i.value if i.value is not None else sum(i.values.values()) for i in opt.one_off_costs.values())
        recurring = sum(i.value for i in opt.recurring_costs.values() if i.value is not None)
        rows.append({
            "option": opt.label + (" (the baseline)" if opt.baseline else ""),
            "vehicle": sentence_case(word("vehicle", opt.vehicle)),
            "go_live": _date_text(opt.go_live), "scope": ", ".join(word("line", s) for s in opt.scope),
            "one_off": float(one_off), "recurring": float(recurring), "effects": len(opt.effects),
            "csf": "all met" if oid not in failing else "fails " + "; ".join(f for f, _ in failing[oid]),
        })
    return Table(pd.DataFrame(rows), {
        "option": Column("Option"), "vehicle": Column("Delivered by"), "go_live": Column("Go-live"),
        "scope": Column("Scope"), "one_off": Column("One-off costs as stated", "money"),
        "recurring": Column("Recurring costs as stated, a year", "money"), "effects": Column("Effects", "count"),
        "csf": Column("Critical success factors")},
        note="Costs as the scenario states them, each in its own price year: not yet converted or discounted.")


def distribution_words(spec: dict | None, unit: str | None, by_year: bool = False) -> str:
    """A distribution in words, its bounds in the figure's unit.

    ``{type: triangular, low: 0.2, mode: 0.25, high: 0.3}`` on a share reads
    "triangular: low 20%, most likely 25%, high 30%". On a figure given by
    year the distribution multiplies the whole path, so its bounds read as
    multipliers ("x 0.9").
    """
    if not spec:
        return ""
    names = {"mode": "most likely", "sd": "standard deviation", "values": "one of", "weights": "weights"}

    def show(k: str, v: object) -> str:
        if isinstance(v, (list, tuple)):
            return ", ".join(show(k, x) for x in v)
        if k in ("weights", "alpha", "beta", "shape", "lambda"):
            return f"{v:g}"
        return f"x {v:g}" if by_year else figure_text(float(v), unit)

    parts = [f"{names.get(k, k)} {show(k, v)}" for k, v in spec.items() if k != "type"]
    return f"{spec['type']}: " + ", ".join(parts) if parts else str(spec["type"])


def _round_sig(v: float, digits: int = 3) -> float:
    return float(f"{v:.{digits}g}")


def register_table(sc: Scenario) -> Table:
    """Every figure the scenario uses, with its label, value in its unit, source and confidence grade,
    and whether the Monte Carlo run varies it, from what distribution and over what range.

    What varies is read from the register, which reads it from the one uncertain-input
    specification (:func:`wcf_model.uncertain.uncertain_inputs`): a figure "varies" exactly
    when the sampler draws it. An option's effects are rows too, after its cost items.
    """
    from .uncertain import PATH_MULTIPLIER, uncertain_inputs

    reg = assumptions_register(sc)
    words = scenario_words(sc)
    sampled = {i.name: i for i in uncertain_inputs(sc)}
    figures = dict(sc.iter_figures())
    specs = parameter_specs()
    rows = []
    for r in reg.to_dict("records"):
        name = r["name"]
        parts = name.split(".")
        fig = figures.get(name)
        effect = sc.options[parts[1]].effects[parts[3]] if parts[0] == "options" and parts[2] == "effects" else None
        if effect is not None:
            opt = sc.options[parts[1]]
            driver_unit = specs[effect.driver].unit if effect.driver in specs else ""
            label = option_input_label(opt.label, effect_label(effect.driver, effect.label))
            what = f"A change the option makes to a driver ({word('mode', effect.mode)})"
            value, number_ = _effect_size(effect.change, effect.mode, driver_unit), float(effect.change)

            def show(v: float, e=effect, u=driver_unit) -> str:
                return _effect_size(_round_sig(v), e.mode, u)
        else:
            if parts[0] == "options":
                opt = sc.options[parts[1]]
                label = option_input_label(opt.label, option_item_labels(opt)[parts[3]])
                what = ("A one-off cost of the option" if parts[2] == "one_off_costs"
                        else "A cost of the option every year it runs")
            else:
                label = parameter_label(name)
                what = sentence_case(specs[name].description) if name in specs else ""
            if fig.values is None:
                value, number_ = figure_text(fig.value, fig.unit), float(fig.value)
            else:
                value = "; ".join(f"{y}: {figure_text(v, fig.unit)}" for y, v in sorted(fig.values.items()))
                number_ = np.nan

            def show(v: float, u=fig.unit) -> str:
                return figure_text(_round_sig(v), u)
        i = sampled.get(name)
        uncertainty = range_text = ""
        if i is not None:
            label = i.label
            by_year = i.unit == PATH_MULTIPLIER
            uncertainty = distribution_words(i.spec, r["unit"], by_year)
            low, high = r[LOW], r[HIGH]
            # "between" first: a cell beginning with a minus sign would be escaped as a formula in Excel
            range_text = (f"between {_round_sig(low)} and {_round_sig(high)} times the values by year" if by_year
                          else f"between {show(low)} and {show(high)}")
        rows.append({
            "key": f"{name} ({_file_name(r['file'])}:{int(r['line'])})" if r["file"] and not _blank(r["line"])
            else name,
            "figure": label, "what": what, "value": value, "number": number_,
            "unit_id": r["unit"], "unit": unit_words(r["unit"]), "price_year": r["price_year"],
            "source": readable(r["source"], words), "grade": r["confidence"],
            "confidence": (f"{r['confidence']}: {CONFIDENCE.get(r['confidence'], 'not stated')}"
                           if not _blank(r["confidence"]) else "not stated"),
            "varies": "yes" if r["varies"] else "no", "uncertainty": uncertainty, "range": range_text,
            "note": readable(r["note"], words),
        })
    cols = {
        "key": Column("Name in the scenario file", "key"), "figure": Column("Figure"), "what": Column("What it is"),
        "value": Column("Value"), "number": Column("Value", "quantity", unit_from="unit_id"),
        "unit_id": Column("Unit in the scenario file", "key"), "unit": Column("Unit"),
        "price_year": Column("Price year"), "source": Column("Source or evidence"),
        "grade": Column("Confidence (1-5)", "rank"), "confidence": Column("Confidence"),
        "varies": Column("Varies in the Monte Carlo run"),
        "uncertainty": Column("Distribution it is drawn from"),
        "range": Column(f"Range drawn, {range_label()}"),
        "note": Column("Note")}
    note = (f"A figure varies in the Monte Carlo run when it has a distribution other than fixed: these are "
            f"exactly the inputs the run draws. The range is the {range_label()} of its draws: "
            f"{range_words()} a draw falls inside it. A "
            "distribution on a figure given by year multiplies all its values (x 1 is the values as stated). "
            "Each option's effects follow its costs, with the evidence for them as the source.")
    return Table(pd.DataFrame(rows, columns=list(cols)), cols, note=note,
                 # the page explains the grades above the table, and each figure's label says what it is
                 html_hidden=("what", "number", "unit_id", "unit", "confidence"), workbook_hidden=("value", "grade"))


def register_by_year(sc: Scenario) -> Table:
    """The figures the scenario gives by financial year, one column per year, as numbers in their unit."""
    rows = []
    for name, fig in sc.iter_figures():
        if fig.values is None:
            continue
        parts = name.split(".")
        label = (option_input_label(sc.options[parts[1]].label, option_item_labels(sc.options[parts[1]])[parts[3]])
                 if parts[0] == "options" else parameter_label(name))
        rows.append({"key": name, "figure": label, "unit_id": fig.unit, "unit": unit_words(fig.unit),
                     **{y: float(v) for y, v in fig.values.items()}})
    years = sorted({k for r in rows for k in r if re.fullmatch(r"\d{4}-\d{2}", k)})
    frame = pd.DataFrame(rows, columns=["key", "figure", "unit_id", "unit", *years])
    return Table(frame, {"key": Column("Name in the scenario file", "key"), "figure": Column("Figure"),
                         "unit_id": Column("Unit in the scenario file", "key"), "unit": Column("Unit"),
                         **{y: Column(y, "quantity", unit_from="unit_id") for y in years}}, freeze_columns=2)


def _file_name(path: object) -> str:
    from pathlib import Path

    return Path(str(path)).name if path else ""


def _effect_size(v: float, mode: str, unit: str) -> str:
    """An effect's size as the model applies it: "-5%" (proportional), "+2 points" (a share), "+30 children"."""
    if mode == "multiply":
        return f"{'+' if v > 0 else ''}{percent(v, 1).removesuffix('.0%').removesuffix('%')}%"
    if unit == "share" and mode == "add":
        return f"{'+' if v > 0 else ''}{number(100 * v, 1).removesuffix('.0')} points"
    return ("+" if mode == "add" and v > 0 else "") + figure_text(v, unit)


def effects_inputs(sc: Scenario) -> Table:
    """Every effect an option claims: evidence or judgement, its size and range, its source and confidence."""
    from .distributions import ppf
    from .effect_library import effect_basis_table

    words = scenario_words(sc)
    basis = effect_basis_table(sc).set_index(["option", "effect"])
    rows = []
    for oid, opt in sc.options.items():
        for eid, e in opt.effects.items():
            unit = parameter_specs()[e.driver].unit if e.driver in parameter_specs() else ""
            low = high = None
            if e.distribution:
                low, high = ppf(e.distribution, np.array([q / 100 for q in RANGE]), e.change)
            b = basis.loc[(oid, eid)]
            rows.append({"option": opt.label, "effect": effect_label(e.driver, e.label),
                         "basis": sentence_case(b["basis"]),
                         "how": f"{sentence_case(word('mode', e.mode))}: {_effect_size(e.change, e.mode, unit)}",
                         "range": (f"{_effect_size(low, e.mode, unit)} to {_effect_size(high, e.mode, unit)}"
                                   if low is not None else ""),
                         "start": _date_text(e.start), "ramp": e.ramp_years,
                         "source": readable(b["source"], words), "confidence": e.confidence})
    cols = {"option": Column("Option"), "effect": Column("Effect"), "basis": Column("Basis"),
            "how": Column("Size"), "range": Column(f"Range, {range_label()}"),
            "start": Column("From"), "ramp": Column("Years to full effect", "number", digits=1),
            "source": Column("Evidence or reason"), "confidence": Column("Confidence (1-5)", "rank")}
    return Table(pd.DataFrame(rows, columns=list(cols)), cols)


def effect_limits(sc: Scenario) -> tuple[str, Table]:
    """What the evidence behind the options' effects does not show: what every entry shares, then each one's own."""
    from .effect_library import effect_basis_table

    table = effect_basis_table(sc)
    limits = table[table["basis"].str.startswith("evidence") & (table["limits"] != "")].drop_duplicates("limits")
    if limits.empty:
        return "", Table(pd.DataFrame(columns=["evidence", "also"]), {"evidence": Column("Evidence"),
                                                                      "also": Column("And for this effect")})
    sentences = [[x.strip() for x in text.split(". ") if x.strip()] for text in limits["limits"]]
    common = [x for x in sentences[0] if all(x in other for other in sentences)]
    frame = pd.DataFrame({"evidence": limits["label"].to_numpy(),
                          "also": [". ".join(x for x in ss if x not in common).rstrip(".") + "."
                                   if any(x not in common for x in ss) else "" for ss in sentences]})
    text = ". ".join(common).rstrip(".") + "." if common else ""
    return text, Table(frame[frame["also"] != ""], {"evidence": Column("Evidence"),
                                                    "also": Column("And for this effect")})


def mca_inputs(sc: Scenario) -> Table:
    """Criteria with their weights and each option's score as the scenario gives it."""
    criteria = sc.mca.criteria
    total = sum(c.weight for c in criteria.values()) or 1.0
    rows = []
    for cid, crit in criteria.items():
        row = {"criterion": crit.label, "weight": crit.weight, "share": crit.weight / total,
               "by": f"the model ({'net present cost' if crit.derived_from == 'npv_cost' else 'cash'})"
               if crit.derived_from else "judgement"}
        for oid in sc.options:
            s = sc.mca.scores.get(cid, {}).get(oid)
            row[oid] = s.score if s is not None else np.nan
        rows.append(row)
    cols = {"criterion": Column("Criterion"), "weight": Column("Swing weight", "number", digits=1),
            "share": Column("Share of the weight", "share"), "by": Column("Scored by"),
            **{oid: Column(opt.label, "score") for oid, opt in sc.options.items()}}
    return Table(pd.DataFrame(rows, columns=list(cols)), cols)


def score_rationales(sc: Scenario) -> Table:
    words = scenario_words(sc)
    rows = [{"criterion": sc.mca.criteria[cid].label if cid in sc.mca.criteria else humanise(cid),
             "option": sc.options[oid].label, "score": s.score, "rationale": readable(s.rationale, words)}
            for cid, by_option in sc.mca.scores.items() for oid, s in by_option.items()]
    cols = {"criterion": Column("Criterion"), "option": Column("Option"), "score": Column("Score", "score"),
            "rationale": Column("Why")}
    return Table(pd.DataFrame(rows, columns=list(cols)), cols)


def csf_table(sc: Scenario) -> Table:
    words = scenario_words(sc)
    factors = sc.mca.critical_success_factors
    rows = [{"option": opt.label, "factor": factors[k].label if k in factors else humanise(k),
             "met": "yes" if a.met else "no", "why": readable(a.rationale, words)}
            for opt in sc.options.values() for k, a in opt.csf.items()]
    cols = {"option": Column("Option"), "factor": Column("Critical success factor"), "met": Column("Met"),
            "why": Column("Why")}
    return Table(pd.DataFrame(rows, columns=list(cols)), cols)


# ---------------------------------------------------------------------------
# Caseloads, back-test, history, monitoring
# ---------------------------------------------------------------------------

#: Projected measures in the caseload table, with their headings and units.
CASELOAD_MEASURES = {
    "population_0_17": ("Children aged 0-17", "children"),
    "referrals": ("Referrals in the year", "referrals"),
    "cin_closing": ("Children in need at 31 March", "children"),
    "cpp_closing": ("Child protection plans at 31 March", "children"),
    "cla_closing": ("Children looked after at 31 March", "children"),
    "care_leavers_18_21_closing": ("Care leavers aged 18-21", "people"),
    "ehcp_closing": ("EHC plans", "plans"),
    "social_worker_in_post_fte": ("Social workers in post", "FTE"),
    "social_worker_agency_fte": ("of whom agency", "FTE"),
}


def caseload_table(projection: Projection) -> Table:
    """Median caseloads and staff by financial year."""
    bands = projection.bands()
    wide = bands.pivot(index="year", columns="measure", values="p50")
    present = [m for m in CASELOAD_MEASURES if m in wide.columns]
    frame = wide[present].reset_index().rename(columns={"year": "financial_year"})
    return Table(frame, {"financial_year": Column("Financial year", "fy"),
                         **{m: Column(CASELOAD_MEASURES[m][0], "count", unit=CASELOAD_MEASURES[m][1])
                            for m in present}},
                 note="Median of the draws for the in-house baseline." if projection.draws > 1
                 else "Central values for the in-house baseline.")


def measure_label(name: str) -> str:
    """A projected or published measure in words (``"cin_closing"``, ``"cla_at_31_march"``)."""
    from .analysis import HISTORY_MEASURES
    from .backtest import COMPARED
    from .monitoring import MEASURES

    if name in MEASURES:
        return MEASURES[name].words
    if name in COMPARED and COMPARED[name][0] in MEASURES:
        return MEASURES[COMPARED[name][0]].words
    if name in HISTORY_MEASURES:
        return HISTORY_MEASURES[name]
    return sentence_case(humanise(name))


def backtest_table(bt: Backtest) -> Table:
    """The forecast (with its band), what was published and the naive forecasts, by measure and financial year."""
    from .figures import published_year_to_fy

    t = bt.table
    frame = pd.DataFrame({"measure": [measure_label(m) for m in t["measure"]],
                          "financial_year": [financial_year_label(published_year_to_fy(m, y))
                                             for m, y in zip(t["measure"], t["year"])],
                          "projected": t["projected"].to_numpy(), "actual": t["actual"].to_numpy(),
                          "error": t["error"].to_numpy(), "pct": (t["pct_error"] / 100).to_numpy()})
    cols = {"measure": Column("Measure"), "financial_year": Column("Financial year", "fy"),
            "projected": Column("Forecast", "count"), "actual": Column("Published", "count"),
            "error": Column("Forecast minus published", "count"), "pct": Column("Error", "share", digits=1)}
    low, high = range_ends()
    extra = {LOW: Column(f"Forecast, {low}", "count"), HIGH: Column(f"Forecast, {high}", "count"),
             "flat": Column("Naive: the last figure", "count"), "linear": Column("Naive: a straight line", "count"),
             "damped": Column("Naive: a damped trend", "count")}
    for col, column in extra.items():
        if col in t and t[col].notna().any():
            frame[col] = t[col].to_numpy()
            cols[col] = column
    return Table(frame, cols, freeze_columns=2)


def history_table(history: History) -> Table:
    from .analysis import HISTORY_MEASURES

    t = history.table
    if t.empty:
        return Table(pd.DataFrame(columns=["financial_year"]), {"financial_year": Column("Financial year", "fy")})
    frame = t.reset_index()
    frame.insert(0, "fy", [financial_year_label(int(y)) for y in frame.pop("financial year")])
    kinds = {"Re-referrals (%)": "number", "Agency social workers (%)": "number", "Looked after per 10,000": "count"}
    return Table(frame, {"fy": Column("Financial year", "fy"),
                         **{h: Column(h, kinds.get(h, "count")) for h in HISTORY_MEASURES.values() if h in t.columns}},
                 note="Each figure sits in the financial year its reference date falls in (a stock at 31 March "
                      "2020 in 2019-20; the 30 September 2019 workforce census and the mid-2019 population "
                      "estimate too).")


def monitoring_summary(comparison: pd.DataFrame) -> Table:
    """One row per monitored measure: years compared, distance from the projection, years outside the band."""
    from .monitoring import summary

    t = summary(comparison)
    frame = pd.DataFrame({"measure": t["label"].to_numpy(), "unit": [unit_words(u) for u in t["unit"]],
                          "years": t["years_compared"].to_numpy(),
                          "span": [f"{f} to {la}" for f, la in zip(t["first"], t["last"])],
                          "mape": (t["mean_abs_variance_pct"] / 100).to_numpy(),
                          "outside": t["years_outside_band"].to_numpy(), "above": t["years_above"].to_numpy(),
                          "below": t["years_below"].to_numpy(), "when": t["outside_in"].to_numpy()})
    return Table(frame, {"measure": Column("Measure"), "unit": Column("Unit"),
                         "years": Column("Years compared", "count"), "span": Column("Financial years"),
                         "mape": Column("Mean distance from the projected median", "share", digits=1),
                         "outside": Column("Years outside the band", "count"),
                         "above": Column("above", "count"), "below": Column("below", "count"),
                         "when": Column("Outside the band in")})


def monitoring_detail(comparison: pd.DataFrame) -> Table:
    """Every published figure against the projection, by measure and financial year."""
    from .monitoring import MEASURES

    c = comparison
    frame = pd.DataFrame({
        "measure": [measure_label(m) for m in c["measure"]],
        "unit": [unit_words(MEASURES[m].unit) if m in MEASURES else "" for m in c["measure"]],
        "period": c["period"].to_numpy(), "actual": c["actual"].to_numpy(), "projected": c["projected"].to_numpy(),
        LOW: c[LOW].to_numpy(), HIGH: c[HIGH].to_numpy(), "variance": c["variance"].to_numpy(),
        "pct": (c["variance_pct"] / 100).to_numpy(), "outside": c["outside_band"].to_numpy(),
        "direction": c["direction"].to_numpy()})
    return Table(frame, {"measure": Column("Measure"), "unit": Column("Unit"),
                         "period": Column("Financial year", "fy"), "actual": Column("Published", "number"),
                         "projected": Column("Projected median", "number"),
                         LOW: Column(sentence_case(range_ends()[0]), "number"),
                         HIGH: Column(sentence_case(range_ends()[1]), "number"),
                         "variance": Column("Published minus projected", "number"),
                         "pct": Column("Published minus projected", "share", digits=1),
                         "outside": Column("Outside the band"), "direction": Column("Where")}, freeze_columns=3)


def not_compared_table(comparison: pd.DataFrame) -> Table:
    """Actuals that could not be compared with the projection, and why."""
    from .monitoring import not_compared

    t = not_compared(comparison)
    words = {name: parameter_label(name) for name in parameter_specs()}
    frame = pd.DataFrame({"measure": [measure_label(m) for m in t["measure"]], "periods": t["periods"].to_numpy(),
                          "figures": t["figures"].to_numpy(), "reason": [readable(r, words) for r in t["reason"]]})
    return Table(frame, {"measure": Column("Measure"), "periods": Column("Financial years"),
                         "figures": Column("Figures", "count"), "reason": Column("Why not compared")})


def sobol_table(table: pd.DataFrame, sc: Scenario, top: int = 8) -> Table:
    """Sobol indices by option: the inputs that explain most of the spread (from :func:`wcf_model.sensitivity.sobol`)."""
    t = table.sort_values(["option", "ST"], ascending=[True, False]).groupby("option", sort=False).head(top)
    order = {o: i for i, o in enumerate(sc.options)}
    t = t.iloc[sorted(range(len(t)), key=lambda i: order.get(t["option"].iloc[i], 0))]
    frame = pd.DataFrame({"option": [sc.options[o].label for o in t["option"]], "input": t["label"].to_numpy(),
                          "s1": t["S1"].to_numpy(), "st": t["ST"].to_numpy(),
                          "warning": t["warning"].fillna("").to_numpy()})
    return Table(frame, {"option": Column("Option"), "input": Column("Input"),
                         "s1": Column("Share of the spread due to the input alone", "share", digits=1),
                         "st": Column("Share including its interactions", "share", digits=1),
                         "warning": Column("Note")}, freeze_columns=2)


def changes_inputs(old: Scenario, new: Scenario) -> Table:
    """Every assumption that differs between two versions, in words, with its key."""
    from .compare import change_label, changes_table

    t = changes_table(old, new)
    words = {**scenario_words(old), **scenario_words(new)}
    frame = pd.DataFrame({"what": [change_label(k, old, new) for k in t["key"]], "change": t["change"].to_numpy(),
                          "old": [readable(v, words) for v in t["old"]], "new": [readable(v, words) for v in t["new"]],
                          "source": [readable(n or o, words) for o, n in zip(t["old_source"], t["new_source"])],
                          "key": t["key"].to_numpy()})
    return Table(frame, {"what": Column("Assumption"), "change": Column("Change"), "old": Column("Before"),
                         "new": Column("After"), "source": Column("Source of the new figure"),
                         "key": Column("Name in the scenario files", "key")})


def attribution_table(att, old: Scenario, new: Scenario, method: str = "shapley") -> Table:
    """How much each change moved each option's net present cost against the baseline [GBP]."""
    from .compare import change_label

    values = att.shapley if method == "shapley" else att.sequential
    frame = values.reset_index().rename(columns={"index": "key"})
    frame.insert(0, "what", [change_label(k, old, new) for k in frame["key"]])
    frame = frame[["what", *att.options, "key"]]
    return Table(frame, {"what": Column("Change"), **{o: Column(new.options[o].label, "money") for o in att.options},
                         "key": Column("Name in the scenario files", "key")})


def money_monitoring(comparison: pd.DataFrame) -> Table:
    """The company's published money (spending, budget, surplus, tax ...) against the projection [GBP, cash]."""
    from .monitoring import MEASURES

    c = comparison[comparison["measure"].map(lambda m: m in MEASURES and MEASURES[m].unit == "GBP" and m != "cash")]
    low, high = range_ends()
    frame = pd.DataFrame({"measure": [MEASURES[m].words for m in c["measure"]], "period": c["period"].to_numpy(),
                          "actual": c["actual"].to_numpy(), "projected": c["projected"].to_numpy(),
                          LOW: c[LOW].to_numpy(), HIGH: c[HIGH].to_numpy()})
    return Table(frame, {"measure": Column("Measure"), "period": Column("Financial year", "fy"),
                         "actual": Column("Published", "money"), "projected": Column("Projected median", "money"),
                         LOW: Column(sentence_case(low), "money"), HIGH: Column(sentence_case(high), "money")})


def spend_gap_table(gap: pd.DataFrame) -> Table:
    """How far the case's projected company spending was from what was spent, step by step [GBP, cash]."""
    return Table(gap.reset_index(drop=True), {"step": Column("Step"), "amount": Column("Change", "money"),
                                              "total": Column("Running total", "money"),
                                              "explanation": Column("What it re-prices")})
