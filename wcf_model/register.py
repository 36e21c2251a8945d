"""The assumptions register: every figure a scenario uses, with its source.

Scrutiny must be able to see every assumption: the register is built from the
loaded scenario alone, so the report, the Excel workbook and the notebooks all
show the same figures with the same sources (as :mod:`wcf_model.tables` lays
them out for readers).
"""

from __future__ import annotations

import pandas as pd

from .grammar import format_distribution
from .schema import Figure, Parameter, Scenario

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


def assumptions_register(sc: Scenario) -> pd.DataFrame:
    """Every figure in the scenario: parameters, then option cost items.

    Columns: ``name``, ``description``, ``value`` (text, values by year joined),
    ``unit``, ``price_year``, ``source``, ``confidence`` (1-5),
    ``confidence_meaning``, ``distribution``, ``note``, ``file``, ``line``.
    """
    rows = []
    for name, fig in sc.iter_figures():
        if isinstance(fig, Parameter):
            description, file, line = fig.description, fig.file, fig.line
        else:
            description = f"{fig.category.replace('_', ' ')} cost of option {name.split('.')[1]}"
            file, line = "", None
        rows.append({
            "name": name,
            "description": description,
            "value": _values_text(fig),
            "unit": fig.unit,
            "price_year": fig.price_year or "",
            "source": fig.source or "",
            "confidence": fig.confidence,
            "confidence_meaning": CONFIDENCE.get(fig.confidence, "not stated"),
            "distribution": format_distribution(fig.distribution),
            "note": fig.note or "",
            "file": file,
            "line": line,
        })
    return pd.DataFrame(rows)
