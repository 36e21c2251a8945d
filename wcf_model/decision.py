"""The decision the appraisal informs, and what resolving uncertainty is worth.

The Green Book compares options that pass the critical success factors: an
option that fails one (for Worcestershire, DfE operational independence) is
flagged, never silently dropped, but it is not a choice the council can make.
So the value of information is computed over the options that pass, or over
all options when none or one pass (then there is no choice among passing
options to inform).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .results import Results
from .voi import evpi, evppi_table, prob_least_cost


def candidates(res: Results) -> list[str]:
    """Options that meet every critical success factor, or all options if fewer than two do."""
    passing = [o for o, opt in res.scenario.options.items() if all(c.met for c in opt.csf.values())]
    return passing if len(passing) >= 2 else list(res.scenario.options)


def cost_matrix(res: Results, options: list[str]) -> np.ndarray:
    """Net present cost by draw and option [GBP], ``(draws, options)``, from the Monte Carlo run."""
    return np.stack([res.uncertain.options[o].npv_cost for o in options], axis=1)


@dataclass(frozen=True)
class ValueOfInformation:
    """EVPI of the choice among ``options`` and EVPPI of each uncertain input [GBP]."""

    options: list[str]
    prob_least_cost: pd.Series
    evpi: float
    table: pd.DataFrame


def value_of_information(res: Results, options: list[str] | None = None) -> ValueOfInformation:
    """What perfect knowledge would be worth, in pounds, for the choice among ``options``.

    EVPI: the expected saving from choosing with every input known. EVPPI of an
    input: the saving from knowing that input alone (a regression metamodel over
    the Monte Carlo draws, :func:`wcf_model.voi.evppi`). Needs a run with draws.
    """
    if res.draws is None:
        raise ValueError("value of information needs Monte Carlo draws: appraise with draws > 1")
    options = options or candidates(res)
    costs = cost_matrix(res, options)
    # the value each input took in each draw of the run that gave these costs, as the appraisal stored it
    x = res.input_draws
    table = evppi_table(costs, x, input_groups(list(x)))
    labels = {i: lab for i, lab in _labels(res).items()}
    table.insert(1, "label", [labels.get(n, n) for n in table["input"]])
    return ValueOfInformation(options, pd.Series(prob_least_cost(costs), index=options), float(evpi(costs)), table)


def input_groups(names: list[str]) -> dict[str, list[str]]:
    """Inputs grouped by what a council could investigate together: demand, workforce,
    unit costs, finance, and each option's own costs and effects (groups of two or more)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        parts = name.split(".")
        if parts[0] == "options":
            key = f"all {'effects' if parts[2] == 'effects' else 'own costs'} of option {parts[1]}"
        else:
            key = f"all {parts[0]} inputs"
        groups.setdefault(key, []).append(name)
    return {k: v for k, v in groups.items() if len(v) > 1}


def _labels(res: Results) -> dict[str, str]:
    """Input and group names -> what a reader sees."""
    sc = res.scenario
    out = {i.name: i.label for i in res.inputs}
    for oid, opt in sc.options.items():
        out[f"all effects of option {oid}"] = f"All the effects claimed for {opt.label}"
        out[f"all own costs of option {oid}"] = f"All the own costs of {opt.label}"
    for group in {n.split(".")[0] for n in out if not n.startswith(("options.", "all "))}:
        out[f"all {group} inputs"] = f"All {group.replace('_', ' ')} inputs"
    return out
