"""The distribution registry: what uncertainty a scenario may state, and sampling.

Each distribution declares its parameters by name, checks them, and maps
uniform variates to values through its inverse CDF (``ppf``). Sampling by
inverse CDF from one seeded stream of uniforms is what lets every option see
the same draws (common random numbers) and lets a Gaussian copula correlate
inputs by rank without touching the marginals.

A distribution is written in a scenario as a mapping, e.g.
``{type: triangular, low: 0.92, mode: 0.97, high: 1.0}``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class DistributionType:
    """One entry of the registry.

    Attributes
    ----------
    name : str
        The ``type`` a scenario writes.
    required, optional : tuple of str
        Parameter names.
    check : callable
        ``check(params) -> list[str]`` of problems with the parameters alone.
    support : callable
        ``support(params) -> (low, high)``, the range of possible values, used to
        check that it contains the parameter's central value.
    ppf : callable
        ``ppf(params, u) -> values`` for uniforms ``u`` in (0, 1), any shape.
    scales : tuple of str
        The parameters that are values or spreads in the figure's own unit, so
        that they are multiplied when the figure's central value is (see
        :func:`scale_distribution`); the others are shapes and stay.
    movable : bool
        False when the distribution's range is fixed whatever the figure
        (beta, on [0, 1]): it cannot follow a new central value.
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    check: Callable[[Mapping], list[str]] = field(default=lambda p: [])
    support: Callable[[Mapping], tuple[float, float]] = field(default=lambda p: (-np.inf, np.inf))
    ppf: Callable[[Mapping, np.ndarray], np.ndarray] = field(default=lambda p, u: u)
    description: str = ""
    scales: tuple[str, ...] = ()
    movable: bool = True


def _st():
    """scipy.stats, imported on first sampling: it takes about a second to
    import, and validating a scenario never needs it."""
    from scipy import stats

    return stats


def _ordered(*names: str) -> Callable[[Mapping], list[str]]:
    def check(p: Mapping) -> list[str]:
        values = [p[n] for n in names]
        if any(a > b for a, b in zip(values, values[1:])):
            shown = " <= ".join(f"{n} ({p[n]:g})" for n in names)
            return [f"expected {' <= '.join(names)}, got {shown}"]
        if p[names[0]] == p[names[-1]]:
            return [f"{names[0]} and {names[-1]} are equal ({p[names[0]]:g}); use type: fixed for a certain value"]
        return []
    return check


def _positive(*names: str) -> Callable[[Mapping], list[str]]:
    def check(p: Mapping) -> list[str]:
        return [f"{n} must be greater than 0, got {p[n]:g}" for n in names if not p[n] > 0]
    return check


def _triangular_ppf(p: Mapping, u: np.ndarray) -> np.ndarray:
    # The inverse of the triangular CDF in closed form, on the unit triangle with its mode at c and then
    # scaled: the same arithmetic, in the same order, as scipy.stats.triang.ppf, so the same bits, without
    # its argument checks and masking, which took most of the time of sampling a scenario's inputs.
    low, mode, high = float(p["low"]), float(p["mode"]), float(p["high"])
    c, scale = (mode - low) / (high - low), high - low
    unit = np.where(u < c, np.sqrt(c * u), 1 - np.sqrt((1 - c) * (1 - u)))
    return unit * scale + low


def _pert_ppf(p: Mapping, u: np.ndarray) -> np.ndarray:
    # Beta-PERT: a beta on [low, high] with mean (low + lam*mode + high) / (lam + 2);
    # lam = 4 is the classical PERT weighting of the mode.
    low, mode, high = p["low"], p["mode"], p["high"]
    lam = p.get("lambda", 4.0)
    a = 1 + lam * (mode - low) / (high - low)
    b = 1 + lam * (high - mode) / (high - low)
    return low + (high - low) * _st().beta.ppf(u, a, b)


def _truncnormal_ppf(p: Mapping, u: np.ndarray) -> np.ndarray:
    a = (p["low"] - p["mean"]) / p["sd"]
    b = (p["high"] - p["mean"]) / p["sd"]
    return _st().truncnorm.ppf(u, a, b, loc=p["mean"], scale=p["sd"])


def _lognormal_params(p: Mapping) -> tuple[float, float]:
    # Stated as the mean and sd of the value itself (what a finance officer
    # knows), converted to the log-scale mu and sigma.
    sigma2 = np.log1p((p["sd"] / p["mean"]) ** 2)
    return float(np.log(p["mean"]) - sigma2 / 2), float(np.sqrt(sigma2))


def _lognormal_ppf(p: Mapping, u: np.ndarray) -> np.ndarray:
    mu, sigma = _lognormal_params(p)
    return _st().lognorm.ppf(u, s=sigma, scale=np.exp(mu))


def _choice_check(p: Mapping) -> list[str]:
    values, weights = p["values"], p.get("weights")
    problems = []
    if not isinstance(values, (list, tuple)) or len(values) < 2:
        return ["values must be a list of at least two numbers"]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        problems.append("values must all be numbers")
    if weights is not None:
        if not isinstance(weights, (list, tuple)) or len(weights) != len(values):
            problems.append(f"weights must be a list as long as values ({len(values)})")
        elif any((not isinstance(w, (int, float))) or w < 0 for w in weights) or sum(weights) <= 0:
            problems.append("weights must be non-negative numbers with a positive sum")
    return problems


def _choice_ppf(p: Mapping, u: np.ndarray) -> np.ndarray:
    values = np.asarray(p["values"], dtype=float)
    weights = np.asarray(p.get("weights") or [1.0] * len(values), dtype=float)
    cdf = np.cumsum(weights) / weights.sum()
    idx = np.searchsorted(cdf, u, side="right")
    return values[np.minimum(idx, len(values) - 1)]


_REGISTRY = [
    DistributionType("fixed", (), description="no uncertainty: always the central value",
                     support=lambda p: (p["_central"], p["_central"]),
                     ppf=lambda p, u: np.full(np.shape(u), float(p["_central"]))),
    DistributionType("uniform", ("low", "high"), check=_ordered("low", "high"),
                     support=lambda p: (p["low"], p["high"]),
                     ppf=lambda p, u: p["low"] + (p["high"] - p["low"]) * np.asarray(u),
                     description="every value between low and high equally likely", scales=("low", "high")),
    DistributionType("triangular", ("low", "mode", "high"), check=_ordered("low", "mode", "high"),
                     support=lambda p: (p["low"], p["high"]), ppf=_triangular_ppf,
                     description="most likely at mode, falling linearly to low and high",
                     scales=("low", "mode", "high")),
    DistributionType("pert", ("low", "mode", "high"), ("lambda",),
                     check=lambda p: _ordered("low", "mode", "high")(p)
                     + (_positive("lambda")(p) if "lambda" in p else []),
                     support=lambda p: (p["low"], p["high"]), ppf=_pert_ppf,
                     description="a smooth beta-PERT between low and high, peaked at mode",
                     scales=("low", "mode", "high")),
    DistributionType("normal", ("mean", "sd"), check=_positive("sd"),
                     ppf=lambda p, u: _st().norm.ppf(u, loc=p["mean"], scale=p["sd"]),
                     description="normal with mean and standard deviation sd", scales=("mean", "sd")),
    DistributionType("truncnormal", ("mean", "sd", "low", "high"),
                     check=lambda p: _positive("sd")(p) + _ordered("low", "high")(p),
                     support=lambda p: (p["low"], p["high"]), ppf=_truncnormal_ppf,
                     description="normal cut to [low, high]", scales=("mean", "sd", "low", "high")),
    DistributionType("lognormal", ("mean", "sd"), check=_positive("mean", "sd"),
                     support=lambda p: (0.0, np.inf), ppf=_lognormal_ppf,
                     description="lognormal with the given mean and sd of the value (right-skewed, positive)",
                     scales=("mean", "sd")),
    DistributionType("beta", ("alpha", "beta"), check=_positive("alpha", "beta"),
                     support=lambda p: (0.0, 1.0),
                     ppf=lambda p, u: _st().beta.ppf(u, p["alpha"], p["beta"]),
                     description="beta on [0, 1], for shares and probabilities", movable=False),
    DistributionType("gamma", ("shape", "scale"), check=_positive("shape", "scale"),
                     support=lambda p: (0.0, np.inf),
                     ppf=lambda p, u: _st().gamma.ppf(u, p["shape"], scale=p["scale"]),
                     description="gamma with shape and scale (positive, right-skewed)", scales=("scale",)),
    DistributionType("choice", ("values",), ("weights",), check=_choice_check,
                     support=lambda p: (min(p["values"]), max(p["values"])), ppf=_choice_ppf,
                     description="one of a list of values, with optional weights", scales=("values",)),
]
REGISTRY: dict[str, DistributionType] = {d.name: d for d in _REGISTRY}


def check_distribution(spec: Mapping, central: float | None) -> list[tuple[str, str]]:
    """Problems with a distribution mapping, as ``(sub-key, message)`` pairs.

    Parameters
    ----------
    spec : mapping
        The scenario's ``distribution`` mapping (``type`` plus parameters).
    central : float or None
        The parameter's central value, which the distribution's range must
        contain; None to skip that check.
    """
    from .catalogue import suggest

    kind = spec.get("type")
    if kind is None:
        return [("type", f"missing; expected one of {', '.join(REGISTRY)}")]
    if not isinstance(kind, str):
        return [("type", f"expected the name of a distribution ({', '.join(REGISTRY)}), got {kind!r}")]
    if kind not in REGISTRY:
        return [("type", f"unknown distribution type '{kind}'{suggest(kind, list(REGISTRY))} "
                         f"(known: {', '.join(REGISTRY)})")]
    dist = REGISTRY[kind]
    problems: list[tuple[str, str]] = []
    allowed = {"type", *dist.required, *dist.optional}
    for key in spec:
        if key not in allowed:
            problems.append((str(key), f"not a parameter of a {kind} distribution"
                                       f"{suggest(key, sorted(allowed))} (expected: {', '.join(sorted(allowed - {'type'}))})"))
    missing = [n for n in dist.required if n not in spec]
    for n in missing:
        problems.append((n, f"missing; a {kind} distribution needs {', '.join(dist.required)}"))
    for n in (*dist.required, *dist.optional):
        v = spec.get(n)
        if n not in ("values", "weights") and n in spec and (isinstance(v, bool) or not isinstance(v, (int, float))):
            problems.append((n, f"expected a number, got {v!r}"))
    if problems:
        return problems
    params = {**spec, "_central": central}
    problems += [("", msg) for msg in dist.check(params)]
    if not problems and central is not None and kind != "fixed":
        low, high = dist.support(params)
        if not (low <= central <= high):
            problems.append(("", f"the range of this {kind} distribution [{low:g}, {high:g}] "
                                 f"does not contain the central value {central:g}"))
    return problems


def is_uncertain(spec: Mapping[str, Any] | None) -> bool:
    """Whether a figure with this distribution varies from draw to draw: it has one, and
    not ``fixed``. The one test the sampler, the list of uncertain inputs (and so
    validation, sensitivity and the register of what is uncertain) all apply."""
    return bool(spec) and spec.get("type") != "fixed"


def ppf(spec: Mapping, u: np.ndarray, central: float) -> np.ndarray:
    """Values of the distribution at uniform variates ``u`` (any shape).

    Parameters
    ----------
    spec : mapping
        A distribution that :func:`check_distribution` accepts.
    u : ndarray
        Uniform variates in the open interval (0, 1).
    central : float
        The parameter's central value (used by ``fixed``).
    """
    params = {**spec, "_central": central}
    return np.asarray(REGISTRY[spec["type"]].ppf(params, np.asarray(u, dtype=float)), dtype=float)


def scale_distribution(spec: Mapping, old_central: float, new_central: float) -> dict:
    """A figure's distribution moved with its central value: scaled about the new value.

    The rule of the Excel round trip (:mod:`wcf_model.workbook_io`): every
    parameter that is a value or a spread in the figure's unit (``scales`` in
    the registry) is multiplied by ``new_central / old_central``; shape
    parameters (gamma's shape, PERT's lambda, choice weights) stay. So a
    triangular(700,000, 1,280,000, 1,800,000) on a figure moved from
    £1,280,000 to £1,500,000 becomes triangular(820,312.5, 1,500,000, 2,109,375):
    the same spread in proportion to the figure, the mode on the new value.
    Why scaling rather than shifting: uncertainty about a cost or a count is
    proportional ("plus or minus 20%"), a positive figure's range stays
    positive, and figures given by year are already uncertain by a multiplier
    of their path, so the model treats every uncertainty the same way.

    Raises
    ------
    ValueError
        With the reason, when the distribution cannot move: the old or the new
        central value is zero, the new one has the other sign, or its range is
        fixed (beta). The caller then asks for the distribution to be restated.
    """
    kind = REGISTRY[spec["type"]]
    if spec["type"] == "fixed" or new_central == old_central:
        return dict(spec)
    if not kind.movable:
        raise ValueError(f"a {kind.name} distribution's range is fixed, so it cannot follow the new value")
    if old_central == 0:
        raise ValueError("the old value is 0, so there is no proportion to scale the range by")
    factor = new_central / old_central
    if factor == 0:
        raise ValueError("the new value is 0, so scaling would leave no range at all")
    if factor < 0:
        raise ValueError("the new value has the other sign, so scaling would turn the range inside out")

    def scaled(v):
        if isinstance(v, (list, tuple)):
            return [scaled(x) for x in v]
        if v == old_central:          # the mode (or mean) on the old value lands exactly on the new one
            return new_central
        out = float(f"{v * factor:.10g}")   # no float noise (768.2926829268293) in the scenario file
        return int(out) if out.is_integer() else out

    return {k: (scaled(v) if k in kind.scales else v) for k, v in spec.items()}


#: Quantiles at which :func:`mean` evaluates a distribution (midpoint rule).
_MEAN_GRID = (np.arange(20_000) + 0.5) / 20_000


def mean(spec: Mapping | None, central: float) -> float:
    """The expected value of a distribution [its unit]: the central value when there is none.

    Computed as the average of the inverse CDF over 20,000 evenly spaced
    quantiles (the midpoint rule for E[X] = integral of ppf(u) du), which is
    exact to well under 0.1% for the bounded distributions scenarios use and
    the same on every run.

    Examples
    --------
    >>> round(mean({"type": "triangular", "low": 1, "mode": 2, "high": 6}, 2), 4)
    3.0
    """
    if not is_uncertain(spec):
        return float(central)
    try:
        items = tuple(sorted(spec.items()))
        hash(items)
    except TypeError:  # a value that cannot be a key (a list): worked out each time
        return _mean(spec, float(central))
    return _kept_mean(items, float(central))


def _mean(spec: Mapping, central: float) -> float:
    return float(np.mean(ppf(spec, _MEAN_GRID, central)))


@functools.lru_cache(maxsize=4096)
def _kept_mean(items: tuple[tuple[str, Any], ...], central: float) -> float:
    """:func:`mean` of a distribution given as its items in key order: every run of a scenario asks for the
    same few (each option item's, for its optimism bias), and each costs 20,000 quantiles."""
    return _mean(dict(items), central)
