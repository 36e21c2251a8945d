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
from scipy.special import ndtr, ndtri

from .catalogue import parameter_specs
from .distributions import is_uncertain, ppf
from .schema import Parameter, Scenario
from .uncertain import correlation_matrix, uncertain_inputs

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


def variates(name: str, draws: int | None, seed: int, design: Mapping[str, np.ndarray] | None = None
             ) -> np.ndarray | None:
    """Uniform variates of one named input, or None for its central value in every draw.

    Without a ``design``, each input has its own seeded stream. A design (used by
    the sensitivity analyses) gives the variates of chosen inputs, with NaN
    meaning "central in this draw"; inputs it does not name stay central.
    """
    if draws is None:
        return None
    if design is not None:
        return design.get(name)
    return uniforms(seed, name, draws)


def draw(spec: Mapping | None, u: np.ndarray | None, central: float, draws: int | None) -> np.ndarray:
    """Values of an input for each draw, shape ``(draws,)`` [the input's unit].

    An input without uncertainty is one value seen as every draw's (read-only, not copied), so what is
    worked from it can be worked once (:func:`multiply`)."""
    if u is None or not is_uncertain(spec):
        return np.broadcast_to(np.array([float(central)]), (draws or 1,))
    u = np.asarray(u, dtype=float)
    missing = np.isnan(u)
    if not missing.any():  # a Monte Carlo design: every draw has its variate
        return ppf(spec, u, central)
    return np.where(missing, central, ppf(spec, np.where(missing, 0.5, u), central))


def sample_parameter(param: Parameter, years: list[str], draws: int | None, seed: int,
                     design: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """One parameter as an array of shape ``(draws, years)``.

    ``draws=None`` gives the central values as one draw. With draws, a
    parameter with a distribution is sampled by inverse CDF; on a figure by year
    the distribution is a multiplier of the whole central path (centred on 1),
    so the shape of the path over time is kept.
    """
    path = central_path(param, years)
    if draws is None or not is_uncertain(param.distribution):
        # the same in every draw: one row, seen as (draws, years) without copying it (read-only)
        return np.broadcast_to(path[None, :], (draws or 1, len(years)))
    u = variates(param.name, draws, seed, design)
    if param.values is not None:
        return path[None, :] * draw(param.distribution, u, 1.0, draws)[:, None]
    return np.broadcast_to(draw(param.distribution, u, float(param.value), draws)[:, None],
                           (draws or 1, len(years))).copy()


def same_every_draw(a: np.ndarray) -> bool:
    """Whether an array ``(draws, ...)`` holds one row for every draw: a single row, or one row seen as
    every draw's without copying it (a stride of 0 over the draws), as :func:`sample_parameter` gives a
    parameter without uncertainty. The engine then does that row's arithmetic once, not once a draw."""
    return a.shape[0] == 1 or a.strides[0] == 0


def one_row(a: np.ndarray) -> np.ndarray:
    """The array's one row ``(1, ...)`` when it is the same in every draw (:func:`same_every_draw`), else
    the array: arithmetic on it then makes one row, not one a draw, and numpy broadcasts that row
    over the draws where it meets an array that varies. Same numbers, same bits."""
    return a[:1] if same_every_draw(a) else a


def multiply(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """``a x b`` [their units' product], worked once on the row when neither varies by draw (``a`` the
    same in every draw, ``b`` too, or a number, or an array by year); numpy's ``a * b`` otherwise.

    Either way each figure is the same product of the same two numbers, so the same bits; the
    row is seen as every draw's without copying it (read-only, as a parameter without uncertainty is).
    """
    by_draw = getattr(b, "ndim", 0) >= 2
    if not by_draw and (b == 1.0 if isinstance(b, float | int) else not (np.asarray(b) != 1.0).any()):
        return a  # x times exactly 1 is x, to the bit (an item priced in the base year, a line run all year)
    if same_every_draw(a) and (not by_draw or same_every_draw(b)):
        row = a[:1] * (b[:1] if by_draw else b)
        return np.broadcast_to(row, (max(a.shape[0], b.shape[0] if by_draw else 1), *row.shape[1:]))
    return a * b


class Params(dict):
    """Parameter arrays by name, as every engine function receives them: a checked lookup.

    A scenario may leave a parameter out (a council with no figure for transport
    to school), so asking whether one is given (``name in p``, ``p.get(name)``)
    is part of the model. Asking for a name the catalogue does not define is
    not: it is a slip in the engine, and would otherwise read as "not given" and
    silently drop the line it prices. So every lookup of a name outside the
    catalogue raises, and ``p[name]`` for a parameter the scenario does not
    give raises :class:`MissingParameter` naming it.
    """

    def _check(self, name: object) -> None:
        if name not in parameter_specs():
            raise UnknownParameter(f"{name!r} is no parameter of the catalogue (wcf_model.catalogue), so the "
                                   "model can never be given it: the name is misspelt where it is looked up")

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return dict.__getitem__(self, name)
        except KeyError:
            self._check(name)
            raise MissingParameter(f"the scenario gives no {name}, which this part of the model needs") from None

    def __contains__(self, name: object) -> bool:
        self._check(name)
        return dict.__contains__(self, name)

    def get(self, name: str, default=None):  # type: ignore[override]
        self._check(name)
        return dict.get(self, name, default)

    def copy(self) -> Params:
        return Params(self)


class UnknownParameter(KeyError):
    """A lookup of a name the parameter catalogue does not define (a slip in the engine)."""

    def __str__(self) -> str:
        return str(self.args[0])


class MissingParameter(KeyError):
    """A parameter the model needs that the scenario does not give."""

    def __str__(self) -> str:
        return str(self.args[0])


def sample_parameters(parameters: Mapping[str, Parameter], years: list[str], draws: int | None = None,
                      seed: int = 0, design: Mapping[str, np.ndarray] | None = None) -> Params:
    """Every parameter as a ``(draws, years)`` array (``draws=None``: central, one draw)."""
    return Params({name: sample_parameter(p, years, draws, seed, design) for name, p in parameters.items()})


def scenario_design(sc: Scenario, draws: int | None, seed: int) -> dict[str, np.ndarray] | None:
    """The design a Monte Carlo run of ``sc`` needs: correlated variates when the
    scenario ties inputs together, else None (each input on its own stream)."""
    return correlated_design(sc, draws, seed) if draws and sc.correlations else None


def correlated_design(sc: Scenario, draws: int, seed: int) -> dict[str, np.ndarray]:
    """Uniform variates of every uncertain input, rank-correlated as the scenario says.

    Each input keeps its own stream; the correlated ones are mixed through a
    Gaussian copula (normal scores, Cholesky factor, back to uniforms), so each
    keeps its marginal distribution exactly and only the ranks are tied.
    """
    design = {i.name: uniforms(seed, i.name, draws) for i in uncertain_inputs(sc)}
    pairs = {tuple(c.inputs): c.rank_correlation for c in sc.correlations.values()}
    names = sorted({n for pair in pairs for n in pair})
    if not names:
        return design
    chol = np.linalg.cholesky(correlation_matrix(names, pairs))
    z = ndtri(np.stack([design[n] for n in names], axis=1)) @ chol.T
    for k, n in enumerate(names):
        design[n] = np.clip(ndtr(z[:, k]), EPS, 1 - EPS)
    return design
