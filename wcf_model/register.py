"""The assumptions register and the other tables of inputs.

Scrutiny must be able to see every assumption: these tables are built from the
loaded scenario alone, so the report, the Excel workbook and the notebooks all
show the same figures with the same sources.
"""

from __future__ import annotations

import pandas as pd

from .scenario import Parameter, Scenario
from .schema import Figure

#: What each confidence grade means (DESIGN.md, "Scenario files").
CONFIDENCE = {
    1: "audited outturn or published statistic",
    2: "council report or plan, or a published statistic carried forward by the model",
    3: "press report of council papers",
    4: "national default or proxy",
    5: "judgement",
}


def describe_distribution(spec: dict | None) -> str:
    """``{type: triangular, low: 1, mode: 2, high: 3}`` -> ``"triangular(low 1, mode 2, high 3)"``."""
    if not spec:
        return ""
    params = ", ".join(f"{k} {v:g}" if isinstance(v, (int, float)) else f"{k} {v}"
                       for k, v in spec.items() if k != "type")
    return f"{spec['type']}({params})"


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
            "distribution": describe_distribution(fig.distribution),
            "note": fig.note or "",
            "file": file,
            "line": line,
        })
    return pd.DataFrame(rows)


def options_table(sc: Scenario) -> pd.DataFrame:
    """One row per option: vehicle, dates, scope and the costs it states.

    Stated costs are summed as written, in their own price years: they are not
    yet converted to the base year or discounted (that is the appraisal's job).
    """
    rows = []
    for oid, opt in sc.options.items():
        one_off = sum(i.value if i.value is not None else sum(i.values.values())
                      for i in opt.one_off_costs.values())
        recurring = sum(i.value for i in opt.recurring_costs.values() if i.value is not None)
        csfs = sc.mca.critical_success_factors
        csf_failed = [csfs[k].label if k in csfs else k for k, a in opt.csf.items() if not a.met]
        rows.append({
            "option": oid,
            "label": opt.label,
            "baseline": opt.baseline,
            "vehicle": opt.vehicle,
            "go_live": str(opt.go_live or ""),
            "scope": ", ".join(s.replace("_", " ") for s in opt.scope),
            "one_off_costs_stated_gbp": one_off,
            "recurring_costs_stated_gbp_per_year": recurring,
            "effects": len(opt.effects),
            "critical_success_factors": "all met" if not csf_failed else "fails " + ", ".join(csf_failed),
        })
    return pd.DataFrame(rows)


def effects_table(sc: Scenario) -> pd.DataFrame:
    """Every effect an option claims, with its evidence and confidence."""
    rows = []
    for oid, opt in sc.options.items():
        for eid, e in opt.effects.items():
            rows.append({
                "option": oid, "effect": eid, "driver": e.driver, "mode": e.mode, "change": e.change,
                "start": str(e.start), "ramp_years": e.ramp_years,
                "distribution": describe_distribution(e.distribution),
                "evidence": e.evidence, "confidence": e.confidence,
            })
    return pd.DataFrame(rows, columns=["option", "effect", "driver", "mode", "change", "start",
                                       "ramp_years", "distribution", "evidence", "confidence"])


def mca_inputs_table(sc: Scenario) -> pd.DataFrame:
    """Criteria with their weights (as given and as a share) and each option's score."""
    criteria = sc.mca.criteria
    total = sum(c.weight for c in criteria.values()) or 1.0
    rows = []
    for cid, crit in criteria.items():
        row = {"criterion": cid, "label": crit.label, "weight": crit.weight,
               "weight_share": crit.weight / total,
               "scored_by": f"model ({crit.derived_from})" if crit.derived_from else "judgement"}
        for oid in sc.options:
            s = sc.mca.scores.get(cid, {}).get(oid)
            row[oid] = s.score if s is not None else None
        rows.append(row)
    return pd.DataFrame(rows)
