"""The assumptions workbook's layout: its sheets, columns and editable cells, and
what it shows for a scenario (the rows :mod:`wcf_model.workbook_export` writes and
:mod:`wcf_model.workbook_import` compares each edited row with), including whether
the Monte Carlo run varies each figure, as the one uncertain-input specification says.
"""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Font, PatternFill

from .catalogue import option_input_name
from .formats import range_label, range_words
from .grammar import format_distribution, tidy_number
from .scenario import Scenario

# ---------------------------------------------------------------------------
# Layout: the sheets, their columns, and which columns a user may edit
# ---------------------------------------------------------------------------

PARAMETERS, BY_YEAR, COSTS, EFFECTS, ABOUT = "Parameters", "By year", "Option costs", "Effects", "About"
#: Every sheet the workbook has, in order (About first, as a cover page).
SHEETS = (ABOUT, PARAMETERS, BY_YEAR, COSTS, EFFECTS)

PARAMETER_COLUMNS = ("name", "description", "value", "unit", "price_year", "source", "confidence",
                     "distribution", "note")
BY_YEAR_COLUMNS = ("name", "unit")  # then one column per financial year
COST_COLUMNS = ("option", "kind", "item", "category", "value", "unit", "price_year", "when", "start",
                "end", "funder", "optimism_bias", "source", "confidence", "distribution", "note")
EFFECT_COLUMNS = ("option", "effect", "driver", "mode", "change", "start", "ramp_years", "distribution",
                  "evidence", "confidence")

#: Read-only columns at the right of "Parameters", "Option costs" and "Effects": whether the
#: figure varies in the Monte Carlo run and over what range, as the sampler reads it.
#: They are written from the register (so from :func:`wcf_model.uncertain.uncertain_inputs`) and
#: never read back: the import reads the distribution cell and checks the result itself.
MONTE_CARLO_COLUMNS = ("Varies in the Monte Carlo run", f"Monte Carlo range ({range_label()})")

#: Columns whose cells are blue (editable); on "By year" every year cell is.
EDITABLE = {
    PARAMETERS: {"value", "price_year", "source", "confidence", "distribution", "note"},
    COSTS: {"value", "price_year", "source", "confidence", "distribution", "note"},
    EFFECTS: {"change", "distribution", "evidence", "confidence"},
}
#: Columns that name a row (they tie it to the scenario); never editable.
KEYS = {PARAMETERS: ("name",), BY_YEAR: ("name",), COSTS: ("option", "kind", "item"),
        EFFECTS: ("option", "effect")}

#: Workbook words for the scenario's cost kinds.
KINDS = {"one_off": "one_off_costs", "recurring": "recurring_costs"}

EDITABLE_FILL = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")  # light blue
HEADER_FILL = PatternFill("solid", start_color="D9D9D9", end_color="D9D9D9")  # light grey
HEADER_FONT = Font(bold=True)

HEADER_NOTES = {
    "value": "The central value, in the unit shown. Type a plain number (no £ or commas). "
             "Blank when the figure is given by year: edit it on the 'By year' sheet.",
    "source": "Where the figure comes from. A changed number needs a new source.",
    "confidence": "1 = audited outturn or published statistic, 2 = council report or plan, "
                  "3 = press report of council papers, 4 = national default or proxy, 5 = judgement.",
    "distribution": "The uncertainty, as type(name=number, ...), e.g. "
                    "triangular(low=0.2, mode=0.25, high=0.3). Blank for none.",
    "price_year": "The financial year whose prices a money figure is in, e.g. 2019-20.",
    "change": "How the option changes the driver: added (add), as a proportion (multiply: -0.03 is "
              "a 3% fall) or replacing it (set).",
    "evidence": "What supports the size of the effect. A changed effect needs new evidence.",
    MONTE_CARLO_COLUMNS[0]: "yes when the model's Monte Carlo run draws this figure from its distribution; "
                            "no when it holds it at its value (no distribution, or a fixed one). Worked out "
                            "when the workbook was written and not read back: change the distribution instead.",
    MONTE_CARLO_COLUMNS[1]: f"The values the Monte Carlo run draws {range_words()} (the {range_label()}), in "
                            "the figure's unit; for a figure given by year, as multiples of its values by year. "
                            "Worked out when the workbook was written and not read back.",
}


# ---------------------------------------------------------------------------
# What the workbook shows for a scenario (used to export, and on import as the
# "before" each row is compared with)
# ---------------------------------------------------------------------------


def timing_text(t: Any) -> str | None:
    return None if t is None else str(t)


def parameter_rows(sc: Scenario) -> list[dict[str, Any]]:
    return [{
        "name": name, "description": p.description, "value": tidy_number(p.value) if p.values is None else None,
        "unit": p.unit, "price_year": p.price_year, "source": p.source, "confidence": p.confidence,
        "distribution": format_distribution(p.distribution), "note": p.note,
    } for name, p in sc.parameters.items()]


def cost_rows(sc: Scenario) -> list[dict[str, Any]]:
    rows = []
    for oid, opt in sc.options.items():
        for kind, attr in KINDS.items():
            for item_id, item in getattr(opt, attr).items():
                rows.append({
                    "option": oid, "kind": kind, "item": item_id, "category": item.category,
                    "value": tidy_number(item.value) if item.values is None else None, "unit": item.unit,
                    "price_year": item.price_year, "when": timing_text(getattr(item, "when", None)),
                    "start": timing_text(getattr(item, "start", None)), "end": timing_text(getattr(item, "end", None)),
                    "funder": item.funder, "optimism_bias": item.optimism_bias, "source": item.source,
                    "confidence": item.confidence, "distribution": format_distribution(item.distribution),
                    "note": item.note,
                })
    return rows


def effect_rows(sc: Scenario) -> list[dict[str, Any]]:
    return [{
        "option": oid, "effect": eid, "driver": e.driver, "mode": e.mode, "change": tidy_number(e.change),
        "start": timing_text(e.start), "ramp_years": tidy_number(e.ramp_years),
        "distribution": format_distribution(e.distribution), "evidence": e.evidence, "confidence": e.confidence,
    } for oid, opt in sc.options.items() for eid, e in opt.effects.items()]


def by_year_figures(sc: Scenario) -> dict[str, tuple[str, dict[str, float]]]:
    """Figure name -> (unit, values by year), for every figure given by year."""
    return {name: (fig.unit, dict(fig.values)) for name, fig in sc.iter_figures() if fig.values is not None}


def monte_carlo_cells(sc: Scenario) -> dict[str, dict[str, str]]:
    """Figure name -> its two read-only cells (:data:`MONTE_CARLO_COLUMNS`), as the register says them.

    The register reads what varies from the sampler's own list
    (:func:`wcf_model.uncertain.uncertain_inputs`), so the workbook marks
    exactly the figures the Monte Carlo run draws.
    """
    from .register import assumptions_register
    from .tables import register_table

    names = assumptions_register(sc)["name"]
    frame = register_table(sc).frame
    varies, drawn = MONTE_CARLO_COLUMNS
    return {n: {varies: v, drawn: r} for n, v, r in zip(names, frame["varies"], frame["range"], strict=True)}


def cost_name(oid: str, kind: str, item: str) -> str:
    return option_input_name(oid, KINDS.get(kind, kind), item)
