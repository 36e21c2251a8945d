"""Value of information: what resolving uncertainty before deciding is worth.

The decision is to choose the option with the lowest expected net present
cost (costs, not benefits: lower is better). Every function here reads the
Monte Carlo draws as they are, with a leading draws axis: ``costs`` shaped
``(draws, options)`` [GBP] and, for one input or a group of inputs, ``x``
shaped ``(draws,)`` or ``(draws, k)`` in the input's own unit. The draws must
share one stream (common random numbers), so row ``i`` of ``costs`` is what
each option costs when the inputs take the values in row ``i`` of ``x``.

- :func:`prob_least_cost`: the share of draws in which each option is cheapest.
- :func:`evpi`: the expected value of perfect information about every input,
  ``min_j E[C_j] - E[min_j C_j]`` [GBP]: what deciding after learning every
  input's true value would save, on average, over deciding now.
- :func:`evppi`: the same for one input or a group (partial EVPI),
  ``min_j E[C_j] - E_x[min_j E[C_j | x]]`` [GBP], with ``E[C_j | x]``
  estimated by a regression metamodel fitted to the draws (Strong, Oakley and
  Brennan 2014), so no nested simulation is needed.
- :func:`evppi_table`: EVPPI per input and per group, largest first.

Computation only; charts belong in :mod:`wcf_model.plots` and read these
results. Nothing here is random: the same draws give the same numbers.

References
----------
Strong M, Oakley JE, Brennan A (2014). Estimating multiparameter partial
expected value of perfect information from a probabilistic sensitivity
analysis sample: a nonparametric regression approach. Medical Decision Making
34(3): 311-326. doi:10.1177/0272989X13505910

Hastie T, Tibshirani R, Friedman J (2009). The Elements of Statistical
Learning, 2nd ed., section 5.2.1 (natural cubic splines) and 7.10 (generalised
cross-validation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np
import pandas as pd

from .errors import UsageError

#: Knots per input tried for the natural cubic regression spline of one input.
#: Knots sit at evenly spaced quantiles of the draws, so these knot sets are
#: nested (each is a subset of the next) and 17 knots already follow any smooth
#: response closely; generalised cross-validation picks among them.
SINGLE_INPUT_KNOTS: tuple[int, ...] = (2, 3, 5, 9, 17)

#: Knots per input tried in the additive part of a group's basis.
GROUP_KNOTS: tuple[int, ...] = (2, 3, 5, 9)

#: Highest total degree of the polynomial interaction terms tried for a group
#: (products of two or three standardised inputs); 1 means additive only.
GROUP_INTERACTION_DEGREES: tuple[int, ...] = (1, 2, 3)

#: At most this many basis columns for one fit, and at most one per
#: ``MIN_DRAWS_PER_COLUMN`` draws, so the metamodel smooths rather than
#: interpolates (over-fitting biases EVPPI upwards, see :func:`evppi`).
MAX_COLUMNS = 300
MIN_DRAWS_PER_COLUMN = 10

#: Directions of the basis whose Gram eigenvalue falls below this share of the
#: largest are treated as linearly dependent (e.g. a discrete input with fewer
#: distinct values than knots) and dropped.
_RANK_TOL = 1e-9

METHODS = ("regression",)


# --------------------------------------------------------------------------- checks


def _costs_array(costs) -> np.ndarray:
    c = np.asarray(costs, dtype=float)
    if c.ndim != 2:
        raise UsageError(f"costs must be shaped (draws, options), got an array with {c.ndim} dimension(s)")
    if c.shape[0] < 1 or c.shape[1] < 1:
        raise UsageError(f"costs needs at least one draw and one option, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise UsageError("costs contains NaN or infinite values")
    return c


def _inputs_array(x, n_draws: int, name: str = "x") -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise UsageError(f"{name} must be shaped (draws,) or (draws, k), got an array with {a.ndim} dimensions")
    if a.shape[0] != n_draws:
        raise UsageError(f"{name} has {a.shape[0]} draws but costs has {n_draws}; they must be the same draws")
    if a.shape[1] < 1:
        raise UsageError(f"{name} has no columns")
    if not np.all(np.isfinite(a)):
        raise UsageError(f"{name} contains NaN or infinite values")
    return a


def _relative(c: np.ndarray) -> np.ndarray:
    """Costs of options 1.. minus the baseline (option 0), per draw [GBP].

    Subtracting the baseline draw by draw removes what every option shares, so
    the regressions fit smaller, less noisy responses; it changes no decision,
    because every option's cost moves by the same amount in each draw.
    """
    return c[:, 1:] - c[:, :1]


def _best_now(d: np.ndarray) -> int:
    """Index of the option with the lowest mean cost, given costs relative to option 0.

    Ties go to the lowest index, so the baseline wins a tie.
    """
    return int(np.argmin(np.concatenate([[0.0], d.mean(axis=0)])))


# --------------------------------------------------------------------------- measures


def prob_least_cost(costs) -> np.ndarray:
    """Share of draws in which each option has the lowest net present cost.

    Parameters
    ----------
    costs : array_like, shape (draws, options)
        Net present cost of each option in each draw [GBP].

    Returns
    -------
    numpy.ndarray, shape (options,)
        Probability that each option is least cost [share, 0-1]; sums to 1. A
        draw in which several options tie for cheapest counts equally for each.

    Examples
    --------
    >>> prob_least_cost([[1.0, 2.0], [3.0, 1.0], [2.0, 2.0]]).tolist()
    [0.5, 0.5]
    """
    c = _costs_array(costs)
    cheapest = c == c.min(axis=1, keepdims=True)
    return (cheapest / cheapest.sum(axis=1, keepdims=True)).mean(axis=0)


def evpi(costs, *, return_se: bool = False) -> float | tuple[float, float]:
    """Expected value of perfect information about every uncertain input [GBP].

    ``EVPI = min_j E[C_j] - E[min_j C_j]``: the expected cost of choosing now
    (the option cheapest on average) less the expected cost of choosing after
    learning every input, when the cheapest option in each state of the world
    would be chosen. It is never negative, and it is zero when one option is
    cheapest in every draw. It is estimated as the mean over draws of
    ``C_{i,j*} - min_j C_{i,j}``, where ``j*`` is the option cheapest on
    average, so every term is non-negative.

    Parameters
    ----------
    costs : array_like, shape (draws, options)
        Net present cost of each option in each draw [GBP].
    return_se : bool, default False
        Also return the Monte Carlo standard error of the estimate [GBP]: the
        standard deviation of the per-draw terms over the square root of the
        number of draws (it treats ``j*`` as known).

    Returns
    -------
    float, or (float, float)
        EVPI [GBP], and its standard error [GBP] if asked for.

    References
    ----------
    Strong, Oakley and Brennan (2014), Medical Decision Making 34(3): 311-326
    (written there for net benefit, maximised; here for cost, minimised).

    Examples
    --------
    >>> evpi([[0.0, 1.0], [0.0, -1.0]])  # same mean; knowing the draw saves 1 half the time
    0.5
    """
    c = _costs_array(costs)
    d = _relative(c)
    full = np.concatenate([np.zeros((c.shape[0], 1)), d], axis=1)
    regret = full[:, _best_now(d)] - full.min(axis=1)  # >= 0 in every draw
    value = float(regret.mean())
    if not return_se:
        return value
    se = float(regret.std(ddof=1) / np.sqrt(regret.size)) if regret.size > 1 else 0.0
    return value, se


# --------------------------------------------------------------------------- regression metamodel


def _natural_cubic_basis(z: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Natural cubic regression spline in ``z``: ``(n, K)`` columns spanning the
    cubic splines on ``K`` sorted, distinct ``knots`` that are linear beyond the
    outermost ones (which must be ``z``'s extremes). The constant is among them.

    The basis is the cubic B-splines on the knots constrained to zero second
    derivative at the outermost ones (the natural condition): it spans the
    same functions as the truncated-power form of Hastie et al. (2009), eq.
    5.4-5.5, and is far better conditioned.
    """
    import scipy.linalg
    from scipy.interpolate import BSpline

    if knots.size < 2:  # z never varies
        return np.empty((z.size, 0))
    t = np.concatenate([[knots[0]] * 3, knots, [knots[-1]] * 3])
    n_basis = t.size - 4
    curvature = BSpline(t, np.eye(n_basis), 3).derivative(2)(knots[[0, -1]])  # (2, n_basis)
    return BSpline(t, scipy.linalg.null_space(curvature), 3)(z)


class _Bases:
    """The pieces every candidate basis for one input or group is made of,
    each computed once: for each standardised input, its natural cubic spline
    for a given number of knots; and the interaction products of each degree."""

    def __init__(self, z: np.ndarray):
        self.z = z
        self.sorted = np.sort(z, axis=0)
        self._splines: dict[tuple[int, int], np.ndarray] = {}
        self._products: dict[int, list[np.ndarray]] = {}

    def spline(self, a: int, n_knots: int) -> np.ndarray:
        """Input ``a``'s spline with knots at ``n_knots`` evenly spaced order
        statistics, the first and last at its extremes; duplicates are dropped,
        so a discrete input gets at most one knot per value (and with as many
        knots as values the spline fits each value's mean exactly)."""
        if (a, n_knots) not in self._splines:
            s = self.sorted[:, a]
            knots = np.unique(s[np.round(np.linspace(0, s.size - 1, n_knots)).astype(int)])
            self._splines[a, n_knots] = _natural_cubic_basis(self.z[:, a], knots)
        return self._splines[a, n_knots]

    def products(self, degree: int) -> list[np.ndarray]:
        """Products of two or more different inputs of total degree exactly ``degree``."""
        if degree not in self._products:
            self._products[degree] = [
                np.prod(self.z[:, list(idx)], axis=1)[:, None]
                for idx in combinations_with_replacement(range(self.z.shape[1]), degree)
                if len(set(idx)) > 1
            ]
        return self._products[degree]

    def design(self, n_knots: int, degree: int) -> np.ndarray:
        """Basis for ``E[C | z]`` (its constant aside): an additive natural cubic
        spline in each input, and every product of two or more different inputs
        up to total degree ``degree`` (``z_a z_b``; ``z_a^2 z_b``, ``z_a z_b z_c``)."""
        cols = [self.spline(a, n_knots) for a in range(self.z.shape[1])]
        for deg in range(2, degree + 1):
            cols += self.products(deg)
        return np.concatenate(cols, axis=1)


def _n_columns(k: int, n_knots: int, degree: int) -> int:
    """Columns of :meth:`_Bases.design`, plus the constant, before duplicate knots are dropped."""
    interactions = sum(
        sum(1 for idx in combinations_with_replacement(range(k), deg) if len(set(idx)) > 1)
        for deg in range(2, degree + 1)
    )
    return 1 + k * (n_knots - 1) + interactions


def _candidates(k: int, n_draws: int) -> list[tuple[int, int]]:
    """(knots, interaction degree) pairs small enough for the draws, simplest first."""
    if k == 1:
        grid = [(n, 1) for n in SINGLE_INPUT_KNOTS]
    else:
        grid = [(n, deg) for deg in GROUP_INTERACTION_DEGREES for n in GROUP_KNOTS]
    limit = min(MAX_COLUMNS, max(k + 1, n_draws // MIN_DRAWS_PER_COLUMN), n_draws - 1)
    fits = [(n, deg) for n, deg in grid if _n_columns(k, n, deg) <= limit]
    return sorted(fits, key=lambda nd: _n_columns(k, *nd))


@dataclass(frozen=True)
class _Fit:
    """A least-squares fit of every response on a constant and a design."""

    design: np.ndarray  # (n, p) basis columns as built
    centre: np.ndarray  # (p,) their means
    rotation: np.ndarray  # (p, r - 1) maps centred columns to an orthonormal basis of their span
    coef: np.ndarray  # (r - 1, m) centred responses' coordinates in that basis [GBP]
    rss: np.ndarray  # (m,) residual sum of squares [GBP^2]
    rank: int  # dimension of the fitted space, the constant included
    label: str

    def basis(self) -> np.ndarray:
        """``(n, r)`` orthonormal basis of the fitted space, the constant first."""
        n = self.design.shape[0]
        spanned = self.design @ self.rotation - self.centre @ self.rotation
        return np.concatenate([np.full((n, 1), 1.0 / np.sqrt(n)), spanned], axis=1)


def _least_squares(design: np.ndarray, y: np.ndarray, label: str) -> _Fit:
    """Least-squares fit of every column of ``y`` on a constant and ``design``.

    The columns are centred (which makes them orthogonal to the constant) and
    scaled to unit length; an orthonormal basis of their span comes from the
    eigendecomposition of their Gram matrix, dropping directions whose
    eigenvalue is below ``_RANK_TOL`` of the largest (dependent columns, such
    as a spline's own constant or surplus knots of a discrete input). Only
    ``(p, p)`` and ``(p, m)`` products touch the draws, so trying a basis costs
    one pass over them and no copies; the bases used here are well conditioned
    enough for it.
    """
    n = design.shape[0]
    centre = design.mean(axis=0)
    raw = design.T @ design
    gram = raw - n * np.outer(centre, centre)  # Gram matrix of the centred columns
    spread = np.diag(gram)
    keep = spread > 1e-12 * np.diag(raw)  # a constant column centres to rounding noise
    scale = np.where(keep, np.sqrt(np.where(keep, spread, 1.0)), np.inf)
    y_centred = y - y.mean(axis=0)
    cross = design.T @ y_centred  # equals the centred columns' cross-products, as y is centred
    values, vectors = np.linalg.eigh(gram[np.ix_(keep, keep)] / np.outer(scale[keep], scale[keep]))
    kept = values > _RANK_TOL * values.max() if values.size else np.zeros(0, dtype=bool)
    rotation = np.zeros((design.shape[1], int(kept.sum())))
    rotation[keep] = vectors[:, kept] / np.sqrt(values[kept])
    rotation /= scale[:, None]
    coef = rotation.T @ cross
    rss = np.maximum(np.sum(y_centred**2, axis=0) - np.sum(coef**2, axis=0), 0.0)
    return _Fit(design, centre, rotation, coef, rss, 1 + int(kept.sum()), label)


def _gcv(fit: _Fit, y: np.ndarray) -> float:
    """Generalised cross-validation score, ``n RSS_j / (n - rank)^2``, summed over
    the responses after dividing each by its variance so no option dominates."""
    n = y.shape[0]
    scale = y.var(axis=0)
    keep = scale > 0
    if not np.any(keep):
        return 0.0
    return float(np.sum(n * fit.rss[keep] / (n - fit.rank) ** 2 / scale[keep]))


def _metamodel(x: np.ndarray, d: np.ndarray) -> _Fit:
    """Fit ``E[C_j - C_0 | x]`` for every non-baseline option, choosing the basis
    by generalised cross-validation (the simplest wins a tie). Every column of
    ``x`` must vary."""
    u = (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))  # to [0, 1] first: no underflow
    bases = _Bases((u - u.mean(axis=0)) / u.std(axis=0))
    best, best_score = None, np.inf
    for n_knots, degree in _candidates(x.shape[1], x.shape[0]):
        label = f"natural cubic spline, {n_knots} knots" + (f", interactions to degree {degree}" if degree > 1 else "")
        fit = _least_squares(bases.design(n_knots, degree), d, label)
        score = _gcv(fit, d)
        if score < best_score:
            best, best_score = fit, score
    if best is None:  # too few draws for even a straight line: only the constant
        best = _least_squares(np.empty((x.shape[0], 0)), d, "constant")
    return best


def evppi(costs, x, method: str = "regression", *, return_se: bool = False) -> float | tuple[float, float]:
    """Expected value of partial perfect information about one input or a group [GBP].

    ``EVPPI(x) = min_j E[C_j] - E_x[min_j E[C_j | x]]``: what learning ``x``
    (and nothing else) before choosing would save on average. ``E[C_j | x]``
    is estimated from the draws themselves by regression (Strong, Oakley and
    Brennan 2014), on costs relative to the baseline (option 0), which removes
    noise common to all options and changes no decision:

    - one input: a natural cubic regression spline with knots at quantiles of
      the draws, the number of knots (2, 3, 5, 9 or 17) chosen by generalised
      cross-validation;
    - a group of inputs (standardised): an additive natural cubic spline in each
      input plus polynomial interaction terms (products of two or three
      different inputs), the knots and the degree of interaction chosen by
      generalised cross-validation. Interactions of degree 2 and 3 are tried
      only while the basis stays within ``MAX_COLUMNS`` columns and one column
      per ``MIN_DRAWS_PER_COLUMN`` draws; for large groups that leaves an
      additive model, which misses interactions and so understates EVPPI.

    Strong et al. fit a generalised additive model with penalised splines
    chosen by REML (R's mgcv); choosing among unpenalised regression splines
    by GCV is the same idea with numpy and scipy alone.

    Parameters
    ----------
    costs : array_like, shape (draws, options)
        Net present cost of each option in each draw [GBP].
    x : array_like, shape (draws,) or (draws, k)
        The draws of the input (or of each input in a group) behind each row of
        ``costs`` [the input's own unit]. Inputs that never vary carry no
        information and are dropped.
    method : {"regression"}
        How ``E[C_j | x]`` is estimated. Only the regression metamodel exists.
    return_se : bool, default False
        Also return an approximate standard error [GBP]: the Monte Carlo error
        of averaging over the draws of ``x``, combined with the error of the
        fitted regression coefficients propagated by the delta method (the
        residual covariance between options is kept). It does not count the
        bias discussed below, and it overstates the spread (by up to about a
        half in tests) when the best options tie on average, where the two
        terms of the estimate move together.

    Returns
    -------
    float, or (float, float)
        EVPPI [GBP], in ``[0, EVPI]``, and its standard error [GBP] if asked for.

    Notes
    -----
    The estimate is the mean over draws of ``f_{i,j*} - min_j f_{i,j}``, with
    ``f`` the fitted values and ``j*`` the option cheapest on average (fitted
    values have the same mean as the data, because the basis holds a constant),
    so it is never negative. It is clipped to ``[0, EVPI]``, the bounds the true
    value obeys, because regression noise can push it slightly outside: noise in
    the fitted values makes some options look cheapest where they are not,
    which biases the estimate upwards (by roughly the residual standard
    deviation times ``sqrt(columns / draws)`` when options are close), and an
    over-fitted metamodel reproduces each draw's cost, noise and all, which
    would give the EVPI of every input together. When options tie on average,
    ``min_j`` of the sample means is biased low by a fraction of their
    standard error, and EVPI and EVPPI with it; this is the Monte Carlo error
    of the analysis, which more draws reduce.

    References
    ----------
    Strong M, Oakley JE, Brennan A (2014). Estimating multiparameter partial
    expected value of perfect information from a probabilistic sensitivity
    analysis sample: a nonparametric regression approach. Medical Decision
    Making 34(3): 311-326. They estimate the standard error by sampling the
    fitted values from the regression's posterior; the delta method used here
    is its first-order, deterministic counterpart.

    Examples
    --------
    >>> x = np.linspace(-1.0, 1.0, 201)
    >>> costs = np.column_stack([np.zeros_like(x), x])  # option 1 costs x more
    >>> round(evppi(costs, x), 6) == round(evpi(costs), 6)  # x is the only uncertainty
    True
    """
    if method not in METHODS:
        raise UsageError(f"unknown EVPPI method '{method}'; known: {', '.join(METHODS)}")
    c = _costs_array(costs)
    xs = _inputs_array(x, c.shape[0])
    ceiling = evpi(c)
    # Scale by the largest magnitude, so the range below cannot overflow, and
    # drop inputs that never vary: they tell nothing.
    magnitude = np.abs(xs).max(axis=0)
    xs = xs[:, magnitude > 0] / magnitude[magnitude > 0]
    xs = xs[:, xs.max(axis=0) > xs.min(axis=0)]
    if c.shape[1] == 1 or xs.shape[1] == 0:
        return (0.0, 0.0) if return_se else 0.0

    d = _relative(c)
    fit = _metamodel(xs, d)
    basis = fit.basis()
    n, m = d.shape
    fitted = d.mean(axis=0) + basis[:, 1:] @ fit.coef  # E[C_j - C_0 | x] [GBP]
    full = np.concatenate([np.zeros((n, 1)), fitted], axis=1)
    j_now = _best_now(d)
    chosen = np.argmin(full, axis=1)
    regret = full[:, j_now] - full[np.arange(n), chosen]
    estimate = float(np.clip(regret.mean(), 0.0, ceiling))
    if not return_se:
        return estimate

    # Delta method in the orthonormal basis Q, where the fitted coefficients
    # Q'y_j have covariance Sigma_jk I. The estimate's gradient with respect to
    # option j's coefficients is mean_i Q_i ([j == j*] - [j == chosen_i]).
    options = np.arange(1, m + 1)
    weights = (options == j_now).astype(float)[None, :] - (chosen[:, None] == options[None, :])
    grad = basis.T @ weights / n  # (rank, m)
    residuals = d - fitted
    sigma = residuals.T @ residuals / max(n - fit.rank, 1)  # (m, m) residual covariance [GBP^2]
    var_fit = float(np.sum(sigma * (grad.T @ grad)))
    var_draws = float(regret.var(ddof=1) / n) if n > 1 else 0.0
    return estimate, float(np.sqrt(max(var_fit, 0.0) + var_draws))


# --------------------------------------------------------------------------- table


def evppi_table(
    costs,
    inputs: Mapping[str, np.ndarray],
    groups: Mapping[str, list[str]] | None = None,
) -> pd.DataFrame:
    """EVPPI of each input, and of each group of inputs taken together, largest first.

    Parameters
    ----------
    costs : array_like, shape (draws, options)
        Net present cost of each option in each draw [GBP].
    inputs : mapping of str to array_like, each shaped (draws,)
        The draws of each uncertain input, by name [the input's own unit].
    groups : mapping of str to list of str, optional
        Named sets of inputs whose EVPPI is estimated jointly (learning all of
        them at once). A group adds a row; its members keep their own rows.
        Group names must differ from input names. Everything is checked before
        anything is computed.

    Returns
    -------
    pandas.DataFrame
        One row per input and per group, sorted by ``evppi`` descending (ties
        keep the order given), with columns:

        - ``input``: the input's or group's name;
        - ``evppi``: EVPPI [GBP];
        - ``share_of_evpi``: EVPPI / EVPI [share, 0-1]; NaN when EVPI is 0
          (there is no decision uncertainty to resolve);
        - ``standard_error``: approximate standard error of ``evppi`` [GBP].

        Shares need not add up to 1: EVPPI is not additive across inputs.
        ``table.attrs["evpi"]`` holds the EVPI [GBP].
    """
    c = _costs_array(costs)
    arrays = {}
    for name, values in inputs.items():
        a = _inputs_array(values, c.shape[0], name=f"input '{name}'")
        if a.shape[1] != 1:
            raise UsageError(f"input '{name}' must be shaped (draws,); put several inputs in a group instead")
        arrays[name] = a[:, 0]
    rows: dict[str, np.ndarray] = dict(arrays)
    for name, members in (groups or {}).items():
        if name in rows:
            raise UsageError(f"group '{name}' has the same name as an input or another group")
        unknown = [m for m in members if m not in arrays]
        if unknown:
            raise UsageError(f"group '{name}' names unknown input(s): {', '.join(unknown)}")
        if not members:
            raise UsageError(f"group '{name}' has no members")
        rows[name] = np.column_stack([arrays[m] for m in members])

    total = evpi(c)
    records = []
    for name, x in rows.items():
        value, se = evppi(c, x, return_se=True)
        share = value / total if total > 0 else np.nan
        records.append({"input": name, "evppi": value, "share_of_evpi": share, "standard_error": se})
    table = pd.DataFrame.from_records(records, columns=["input", "evppi", "share_of_evpi", "standard_error"])
    table = table.sort_values("evppi", ascending=False, kind="stable").reset_index(drop=True)
    table.attrs["evpi"] = total
    return table
