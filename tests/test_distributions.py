"""The distribution registry: parameter checks and inverse-CDF sampling.

Means are checked by averaging the ppf over an evenly spaced grid of uniforms,
u = (i + 0.5) / n, which integrates the quantile function and so converges to
the mean without any randomness in the test.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wcf_model.distributions import REGISTRY, check_distribution, ppf

GRID = (np.arange(200_000) + 0.5) / 200_000


def grid_mean(spec, central=0.0):
    return ppf(spec, GRID, central).mean()


@pytest.mark.parametrize("spec, mean", [
    ({"type": "uniform", "low": 2, "high": 6}, 4.0),                      # (2 + 6) / 2
    ({"type": "triangular", "low": 0, "mode": 3, "high": 6}, 3.0),        # (0 + 3 + 6) / 3
    ({"type": "triangular", "low": -0.08, "mode": -0.03, "high": 0}, -0.11 / 3),
    ({"type": "pert", "low": 0, "mode": 1, "high": 8}, 2.0),              # (0 + 4*1 + 8) / 6
    ({"type": "normal", "mean": 10, "sd": 2}, 10.0),
    ({"type": "lognormal", "mean": 820, "sd": 120}, 820.0),               # stated as the value's own mean
    ({"type": "beta", "alpha": 2, "beta": 6}, 0.25),                      # 2 / (2 + 6)
    ({"type": "gamma", "shape": 3, "scale": 2}, 6.0),                     # shape * scale
    ({"type": "choice", "values": [0, 10], "weights": [3, 1]}, 2.5),      # 10 * 1/4
])
def test_means(spec, mean):
    assert grid_mean(spec) == pytest.approx(mean, rel=1e-3, abs=1e-6)


def test_lognormal_sd_is_the_values_sd():
    values = ppf({"type": "lognormal", "mean": 820, "sd": 120}, GRID, 820)
    assert values.std() == pytest.approx(120, rel=5e-3)


def test_truncnormal_stays_in_bounds_and_fixed_is_constant():
    v = ppf({"type": "truncnormal", "mean": 0.15, "sd": 0.1, "low": 0, "high": 0.3}, GRID, 0.15)
    assert v.min() >= 0 and v.max() <= 0.3 and v.mean() == pytest.approx(0.15, abs=1e-6)
    assert set(ppf({"type": "fixed"}, GRID[:10], 7.5)) == {7.5}


@pytest.mark.parametrize("spec, central, fragment", [
    ({"type": "triangular", "low": 1, "mode": 2, "high": 3}, 5, "does not contain the central value 5"),
    ({"type": "uniform", "low": 3, "high": 1}, 2, "expected low <= high"),
    ({"type": "uniform", "low": 1, "high": 1}, 1, "use type: fixed"),
    ({"type": "normal", "mean": 1, "sd": -1}, 1, "sd must be greater than 0"),
    ({"type": "lognormal", "mean": 5, "sd": 1}, -1, "does not contain"),
    ({"type": "beta", "alpha": 2, "beta": 2}, 1.5, "does not contain"),
    ({"type": "choice", "values": [1]}, 1, "at least two"),
    ({"type": "choice", "values": [1, 2], "weights": [1]}, 1, "as long as values"),
    ({"type": "pert", "low": 0, "mode": 1}, 1, "missing"),
    ({"type": "gauss", "mean": 0, "sd": 1}, 0, "unknown distribution type"),
    ({"type": "normal", "mean": "a", "sd": 1}, 0, "expected a number"),
])
def test_checks(spec, central, fragment):
    found = check_distribution(spec, central)
    assert any(fragment in msg for _, msg in found), found


def test_every_registered_type_has_a_description():
    assert all(d.description for d in REGISTRY.values())


@given(low=st.floats(-1e6, 1e6), width=st.floats(1e-3, 1e6), pos=st.floats(0, 1),
       u=st.lists(st.floats(1e-9, 1 - 1e-9), min_size=1, max_size=20))
def test_bounded_distributions_never_leave_their_range(low, width, pos, u):
    high = low + width
    mode = low + pos * width
    for kind in ("triangular", "pert"):
        v = ppf({"type": kind, "low": low, "mode": mode, "high": high}, np.array(u), mode)
        tol = 1e-9 * max(1.0, abs(low), abs(high))
        assert np.all(v >= low - tol) and np.all(v <= high + tol)


@given(u=st.lists(st.floats(1e-9, 1 - 1e-9), min_size=2, max_size=50))
def test_ppf_is_monotone(u):
    # inverse-CDF sampling keeps ranks: what the Gaussian copula relies on
    u = np.sort(np.array(u))
    for spec in ({"type": "triangular", "low": 0, "mode": 1, "high": 5},
                 {"type": "lognormal", "mean": 3, "sd": 2},
                 {"type": "choice", "values": [1, 2, 3]}):
        assert np.all(np.diff(ppf(spec, u, 1.0)) >= 0)


@given(st.floats(-1e6, 1e6), st.floats(1e-3, 1e6), st.floats(0, 1),
       st.lists(st.floats(1e-12, 1 - 1e-12), min_size=1, max_size=50))
def test_triangular_quantiles_are_scipys_to_the_bit(low, width, pos, u):
    # The closed form (sqrt(c u), or 1 - sqrt((1 - c)(1 - u)), scaled to [low, high]) replaced scipy's
    # triang.ppf for speed; a draw that moved by one bit would move every result, so they must agree exactly.
    from scipy import stats

    high, mode = low + width, low + pos * width
    u = np.array(u)
    ours = ppf({"type": "triangular", "low": low, "mode": mode, "high": high}, u, mode)
    theirs = stats.triang.ppf(u, c=(mode - low) / (high - low), loc=low, scale=high - low)
    assert ours.tobytes() == theirs.tobytes()
