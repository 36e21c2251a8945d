"""Scenario parameters as arrays: central values or Monte Carlo draws.

Every model function reads its inputs from a mapping ``name -> ndarray`` of
shape ``(draws, years)``. A deterministic run is one draw at central values.

Reproducibility and common random numbers
-----------------------------------------
Each uncertain input has its own random stream, seeded by the scenario seed and
a stable hash of the input's name. So the same seed and draws always give the
same values; every option sees the same draws of an input (the options are
computed from the same arrays); and adding or removing one uncertain input does
not change the draws of any other, which keeps a comparison of two versions of
a business case about the inputs that changed rather than about sampling noise.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np

from .distributions import ppf
from .scenario import Parameter

#: Uniforms are kept inside (EPS, 1 - EPS) so unbounded distributions stay finite.
EPS = 1e-12


def stream(seed: int, name: str) -> np.random.Generator:
    """The random generator of one named input: a function of seed and name only."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def uniforms(seed: int, name: str, draws: int) -> np.ndarray:
    """``draws`` uniform variates in (0, 1) for the named input [dimensionless]."""
    return np.clip(stream(seed, name).random(draws), EPS, 1 - EPS)


def central_path(param: Parameter, years: list[str]) -> np.ndarray:
    """Central values over the financial years [the parameter's unit], shape ``(years,)``.

    A figure by year carries its last value forward and its first value back
    (see :meth:`Parameter.central`).
    """
    return np.array([param.central(y) for y in years], dtype=float)


def sample_parameter(param: Parameter, years: list[str], draws: int | None, seed: int) -> np.ndarray:
    """One parameter as an array of shape ``(draws, years)``.

    ``draws=None`` gives the central values as one draw. With draws, a
    parameter with a distribution is sampled by inverse CDF; on a figure by year
    the distribution is a multiplier of the whole central path (centred on 1),
    so the shape of the path over time is kept.
    """
    path = central_path(param, years)
    if draws is None or param.distribution is None or param.distribution.get("type") == "fixed":
        return np.broadcast_to(path, (draws or 1, len(years))).copy()
    u = uniforms(seed, param.name, draws)
    if param.values is not None:
        return path[None, :] * ppf(param.distribution, u, 1.0)[:, None]
    return np.broadcast_to(ppf(param.distribution, u, float(param.value))[:, None],
                           (draws, len(years))).copy()


def sample_parameters(parameters: Mapping[str, Parameter], years: list[str], draws: int | None = None,
                      seed: int = 0) -> dict[str, np.ndarray]:
    """Every parameter as a ``(draws, years)`` array (``draws=None``: central, one draw)."""
    return {name: sample_parameter(p, years, draws, seed) for name, p in parameters.items()}
