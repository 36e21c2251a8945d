"""The assumptions register: every figure a scenario uses, with its source, and whether
the Monte Carlo run varies it.

Scrutiny must be able to see every assumption: the register is built from the
loaded scenario alone, so the report, the Excel workbooks and the notebooks all
show the same figures with the same sources (as :mod:`wcf_model.tables` lays
them out for readers). What is uncertain, and how, is not decided here: it is
read from the one specification the sampler draws from
(:func:`wcf_model.uncertain.uncertain_inputs`), so the register can never call
a figure uncertain that the Monte Carlo run holds still, or the reverse.
"""

from __future__ import annotations

import math

import pandas as pd

from .catalogue import effect_label, parameter_specs
from .formats import range_columns
from .grammar import format_distribution, number_text
from .schema import Figure, Parameter, Scenario
from .uncertain import effect_unit, uncertain_inputs

#: What each confidence grade means (docs/design.md, "Scenario files").
CONFIDENCE = {
    1: "audited outturn or published statistic",
    2: "council report or plan, or a published statistic carried forward by the model",
    3: "press report of council papers",
    4: "national default or proxy",
    5: "judgement",
}


def _values_text(fig: Figure | Parameter) -> str:
    if fig.values is None:
        return f"{fig.value:,.6g}"
    return "; ".join(f"{y}: {v:,.6g}" for y, v in sorted(fig.values.items()))


def figures(sc: Scenario) -> list[dict]:
    """Every figure of the scenario in the register's order, without its uncertainty: the
    parameters, then each option's one-off and recurring cost items and its effects.

    An effect is a figure too: its value is the change it makes (in ``unit``,
    a share for a proportional change); its source is the effect library's
    citation when it comes from the library, else its evidence.
    """
    specs = parameter_specs()
    rows = []
    for name, p in sc.parameters.items():
        rows.append({"name": name, "description": p.description, "value": _values_text(p), "unit": p.unit,
                     "price_year": p.price_year or "", "source": p.source or "", "confidence": p.confidence,
                     "note": p.note or "", "file": p.file, "line": p.line})
    costs = {}
    for name, fig in sc.iter_figures():
        if name.startswith("options."):
            costs.setdefault(name.split(".")[1], []).append((name, fig))
    for oid, opt in sc.options.items():
        for name, fig in costs.get(oid, []):
            rows.append({"name": name, "description": f"{fig.category.replace('_', ' ')} cost of option {oid}",
                         "value": _values_text(fig), "unit": fig.unit, "price_year": fig.price_year or "",
                         "source": fig.source or "", "confidence": fig.confidence, "note": fig.note or "",
                         "file": "", "line": None})
        for eid, e in opt.effects.items():
            rows.append({"name": f"options.{oid}.effects.{eid}",
                         "description": f"{effect_label(e.driver, e.label)} (option {oid}, {e.mode})",
                         "value": number_text(e.change), "unit": effect_unit(e.driver, e.mode, specs),
                         "price_year": "",
                         # as the report's effects section cites it: the library entry's citation, else the evidence
                         "source": ((e.source if e.library is not None else e.evidence) or "").strip(),
                         "confidence": e.confidence, "note": e.note or "", "file": "", "line": None})
    return rows


def assumptions_register(sc: Scenario) -> pd.DataFrame:
    """Every figure in the scenario (parameters, then each option's cost items and effects),
    with whether the Monte Carlo run varies it and how.

    Columns: ``name``, ``description``, ``value`` (text, values by year joined),
    ``unit``, ``price_year``, ``source`` (an effect's evidence), ``confidence``
    (1-5), ``confidence_meaning``, then, as the sampler reads them
    (:func:`wcf_model.uncertain.uncertain_inputs`): ``varies`` (bool),
    ``distribution`` (as the workbook writes it; blank when the figure does
    not vary, including a ``fixed`` one), ``distribution_unit`` (the unit of the
    distribution's numbers: the figure's, or ``x central path`` for a figure
    given by year, whose distribution multiplies the whole path), ``central``
    (the value the distribution is about: 1.0 for a figure given by year) and
    the reported percentiles (``p10``, ``p90``: :data:`wcf_model.formats.RANGE`);
    then ``note``, ``file``, ``line``.
    """
    sampled = {i.name: i for i in uncertain_inputs(sc)}
    low, high = range_columns()
    rows = []
    for row in figures(sc):
        i = sampled.get(row["name"])
        ends = i.range() if i is not None else (math.nan, math.nan)
        rows.append({
            **{k: row[k] for k in ("name", "description", "value", "unit", "price_year", "source", "confidence")},
            "confidence_meaning": CONFIDENCE.get(row["confidence"], "not stated"),
            "varies": i is not None,
            "distribution": format_distribution(i.spec) if i is not None else "",
            "distribution_unit": i.unit if i is not None else "",
            "central": i.central if i is not None else math.nan,
            low: ends[0], high: ends[1],
            **{k: row[k] for k in ("note", "file", "line")},
        })
    missing = set(sampled) - {r["name"] for r in rows}
    if missing:  # a kind of uncertain input the register does not know how to list
        raise RuntimeError(f"uncertain inputs missing from the register: {sorted(missing)}")
    return pd.DataFrame(rows)
