"""The one specification of a scenario's uncertain inputs.

Which inputs vary from draw to draw (a parameter, an option's own cost item or
an effect with a distribution that is not ``fixed``), by the name of its random
stream, with its label, its distribution, its central value and its unit; and
how two of them are tied by a rank correlation. Validation reads it (only an
uncertain input can be correlated), and so do the sampler
(:mod:`wcf_model.inputs`), sensitivity, value of information and the decision's
labels: one list, so they can never disagree about what is uncertain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .catalogue import OPTION_COST_KINDS, option_input_name
from .distributions import is_uncertain, ppf
from .formats import RANGE
from .schema import Parameter, Scenario


#: The unit of a distribution on a figure given by year: it multiplies the whole path.
PATH_MULTIPLIER = "x central path"


@dataclass(frozen=True)
class UncertainInput:
    """An input with a distribution, addressed by its name in the draw streams.

    ``central`` is the value the central run uses; for a figure given by year it
    is 1.0, the multiplier of the whole path (``unit`` :data:`PATH_MULTIPLIER`).
    An effect's ``unit`` is the unit its change is in (:func:`effect_unit`).
    """

    name: str
    label: str
    spec: dict
    central: float
    unit: str

    def value(self, u: np.ndarray | float) -> np.ndarray:
        """The input's value at quantile(s) ``u`` [its unit]."""
        return ppf(self.spec, np.atleast_1d(np.asarray(u, dtype=float)), self.central)

    def range(self) -> tuple[float, float]:
        """Its values at the reported percentiles (:data:`wcf_model.formats.RANGE`) [its unit]."""
        low, high = self.value(np.asarray(RANGE, dtype=float) / 100)
        return float(low), float(high)


def option_input_label(option_label: str, what: str) -> str:
    """The label of an option's own input: ``"Company running costs (Wholly owned company)"``."""
    return f"{what} ({option_label})"


def effect_unit(driver: str, mode: str, specs: Mapping) -> str:
    """The unit an effect's change is in: ``share`` when it multiplies its driver (-0.03 is a 3% fall),
    ``share points`` when it adds to a share, else its driver's unit."""
    if mode == "multiply":
        return "share"
    unit = specs[driver].unit if driver in specs else ""
    return "share points" if mode == "add" and unit == "share" else unit


def uncertain_inputs(sc: Scenario) -> list[UncertainInput]:
    """Every input with a (non-fixed) distribution: parameters, option items, effects."""
    return uncertain_inputs_of(sc.parameters, sc.options)


def uncertain_inputs_of(parameters: Mapping[str, Parameter], options: Mapping) -> list[UncertainInput]:
    """:func:`uncertain_inputs` from a scenario's parts (validation uses it before a Scenario exists)."""
    from .catalogue import effect_label, option_item_labels, parameter_label, parameter_specs

    out = []
    for name, p in parameters.items():
        if is_uncertain(p.distribution):
            by_year = p.values is not None
            out.append(UncertainInput(name, parameter_label(name), p.distribution,
                                      1.0 if by_year else float(p.value),
                                      PATH_MULTIPLIER if by_year else p.unit))
    for oid, opt in options.items():
        items = option_item_labels(opt)
        for kind in OPTION_COST_KINDS:
            for iid, item in getattr(opt, kind).items():
                if is_uncertain(item.distribution):
                    by_year = item.values is not None
                    out.append(UncertainInput(option_input_name(oid, kind, iid), option_input_label(opt.label, items[iid]),
                                              item.distribution, 1.0 if by_year else float(item.value),
                                              PATH_MULTIPLIER if by_year else item.unit))
        for eid, e in opt.effects.items():
            if is_uncertain(e.distribution):
                out.append(UncertainInput(option_input_name(oid, "effects", eid),
                                          option_input_label(opt.label, effect_label(e.driver, e.label)),
                                          e.distribution, float(e.change), effect_unit(e.driver, e.mode,
                                                                                       parameter_specs())))
    return out




def rank_to_pearson(rho_rank: float) -> float:
    """The normal correlation that gives Spearman rank correlation ``rho_rank`` [dimensionless].

    For a Gaussian copula, Spearman's rho = (6 / pi) arcsin(r / 2), so
    r = 2 sin(pi rho / 6) (Kruskal 1958).
    """
    return 2 * np.sin(np.pi * rho_rank / 6)


def correlation_matrix(names: list[str], pairs: Mapping[tuple[str, str], float]) -> np.ndarray:
    """The normal-scale correlation matrix of ``names`` from rank correlations by pair."""
    index = {n: i for i, n in enumerate(names)}
    m = np.eye(len(names))
    for (a, b), rho in pairs.items():
        m[index[a], index[b]] = m[index[b], index[a]] = rank_to_pearson(rho)
    return m
