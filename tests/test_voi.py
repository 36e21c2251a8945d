"""Value of information on toy models whose answers are known in closed form.

Conventions: option 0 is the baseline; ``C_j`` is option j's net present cost
[GBP]; lower is better. For two options with ``C0 = 0`` and ``C1 = D``:

    EVPI = min(0, E[D]) - E[min(0, D)]

and for ``D ~ N(mu, s)`` the truncated mean gives

    E[min(0, D)] = E[D; D < 0] = mu Phi(-mu/s) - s phi(mu/s),

so ``EVPI = normal_evpi(mu, s)`` below. At ``mu = 0`` it is ``s phi(0) =
s / sqrt(2 pi) = 0.3989 s``. EVPPI of an input ``x`` is the same formula
applied to ``E[D | x]`` in place of ``D``.

Tolerances are four standard errors. For EVPI the estimate is the mean over
n draws of the regret ``h = D_{j*} - min_j D_j``; with two options and
``mu >= 0``, ``h = max(0, -D)`` and ``E[h^2] = E[D^2; D < 0] <= s^2 / 2``
(for D < 0 <= mu, |D| <= |D - mu|, and D - mu is below 0 half the time), and
symmetrically for ``mu < 0``; so the standard error is at most
``s / sqrt(2 n)``. For EVPPI the tests use the standard error ``evppi``
reports, which ``test_evppi_standard_error_matches_replication`` checks
against the spread of the estimate over independent samples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import integrate
from scipy.stats import norm

from wcf_model import UsageError
from wcf_model.voi import evpi, evppi, evppi_table, prob_least_cost

N_EVPI = 200_000
N_EVPPI = 100_000


def normal_evpi(mu: float, s: float) -> float:
    """EVPI of choosing between C0 = 0 and C1 ~ N(mu, s) (module docstring)."""
    return min(0.0, mu) - (mu * norm.cdf(-mu / s) - s * norm.pdf(mu / s))


def two_options(d: np.ndarray) -> np.ndarray:
    """Costs (draws, 2): the baseline costs 0, option 1 costs ``d`` [GBP]."""
    return np.column_stack([np.zeros_like(d), d])


# --------------------------------------------------------------------------- probability least cost


def test_prob_least_cost_counts_draws_and_splits_ties():
    costs = np.array([
        [1.0, 2.0, 3.0],  # option 0 cheapest
        [5.0, 4.0, 4.0],  # options 1 and 2 tie: half each
        [2.0, 2.0, 2.0],  # three-way tie: a third each
        [9.0, 8.0, 1.0],  # option 2
    ])
    expected = np.array([1 + 1 / 3, 0.5 + 1 / 3, 0.5 + 1 / 3 + 1]) / 4
    np.testing.assert_allclose(prob_least_cost(costs), expected, rtol=1e-15)


# --------------------------------------------------------------------------- EVPI, closed form


@pytest.mark.parametrize("mu, s", [
    (0.0, 1.0),                    # EVPI = 1 / sqrt(2 pi) = 0.398942
    (0.0, 2_500_000.0),            # the same at GBP scale: 0.398942 x GBP 2.5m
    (0.5, 1.0),                    # the cheaper option on average is the baseline
    (-300_000.0, 1_000_000.0),     # option 1 is GBP 0.3m cheaper on average
])
def test_evpi_of_a_normal_cost_difference(mu, s):
    rng = np.random.default_rng(20240501)
    estimate, se = evpi(two_options(rng.normal(mu, s, N_EVPI)), return_se=True)
    bound = s / np.sqrt(2 * N_EVPI)  # standard error bound, module docstring
    assert se <= bound
    assert estimate == pytest.approx(normal_evpi(mu, s), abs=4 * bound)
    if mu == 0.0:
        assert normal_evpi(mu, s) == pytest.approx(s / np.sqrt(2 * np.pi), rel=1e-12)
        assert estimate / s == pytest.approx(0.3989, abs=4 / np.sqrt(2 * N_EVPI))


def test_evpi_of_three_options():
    # C0 = 0, C1 = X, C2 = -X with X ~ N(0, s): every mean is 0, and
    # min(0, X, -X) = -|X|, so EVPI = 0 - E[-|X|] = E|X| = s sqrt(2 / pi).
    # The regret is |X| if the baseline is chosen now, else 2 max(0, X) or
    # 2 max(0, -X) (same mean); its second moment is at most 2 s^2, so the
    # standard error is at most s sqrt(2 / n).
    s = 2.0
    x = np.random.default_rng(3).normal(0.0, s, N_EVPI)
    costs = np.column_stack([np.zeros_like(x), x, -x])
    assert evpi(costs) == pytest.approx(s * np.sqrt(2 / np.pi), abs=4 * s * np.sqrt(2 / N_EVPI))
    # X is the only uncertainty, and E[C | X] = C is linear in X: EVPPI = EVPI
    assert evppi(costs[:50_000], x[:50_000]) == pytest.approx(evpi(costs[:50_000]), rel=1e-9)


def test_evpi_is_exact_on_a_tiny_example():
    # means: option 0 = 2, option 1 = 2.5 -> choose 0; per-draw minimum: 1, 1, 2 (mean 4/3)
    costs = [[1.0, 2.0], [3.0, 1.0], [2.0, 4.5]]
    assert evpi(costs) == pytest.approx(2.0 - 4 / 3, rel=1e-14)
    assert evpi([[5.0]]) == 0.0  # one option: nothing to decide


# --------------------------------------------------------------------------- EVPPI, closed form


@pytest.fixture(scope="module")
def additive():
    """C1 = X + Y with X ~ N(mu_X, 1), Y ~ N(mu_Y, 2), Z ~ N(0, 1) irrelevant; for
    mu = mu_X + mu_Y = 0.3 (a clear choice now) and 0 (a tie)."""
    rng = np.random.default_rng(11)
    out = {}
    for mu, (mu_x, mu_y) in {0.3: (0.4, -0.1), 0.0: (0.3, -0.3)}.items():
        x, y = rng.normal(mu_x, 1.0, N_EVPPI), rng.normal(mu_y, 2.0, N_EVPPI)
        out[mu] = dict(costs=two_options(x + y), X=x, Y=y, Z=rng.normal(0.0, 1.0, N_EVPPI))
    return out


@pytest.mark.parametrize("mu", [0.3, 0.0])
@pytest.mark.parametrize("name, sd", [("X", 1.0), ("Y", 2.0)])
def test_evppi_of_one_input_of_a_sum(additive, mu, name, sd):
    # E[C1 | X] = X + mu_Y ~ N(mu, 1), so EVPPI(X) = normal_evpi(mu, 1);
    # E[C1 | Y] = mu_X + Y ~ N(mu, 2), so EVPPI(Y) = normal_evpi(mu, 2).
    case = additive[mu]
    estimate, se = evppi(case["costs"], case[name], return_se=True)
    # se is about sqrt(sd^2 / 2 + residual sd^2) / sqrt(n); at most sqrt(1/2 + 4) / sqrt(n)
    assert 0 < se < np.sqrt(0.5 * sd**2 + 4.0) / np.sqrt(N_EVPPI)
    assert estimate == pytest.approx(normal_evpi(mu, sd), abs=4 * se)
    assert estimate <= evpi(case["costs"])


@pytest.mark.parametrize("mu", [0.3, 0.0])
def test_evppi_of_every_input_together_is_evpi(additive, mu):
    # {X, Y} determines C1 exactly, and X + Y is in the additive basis, so the
    # fitted values are the costs themselves: EVPPI = EVPI = normal_evpi(mu, sqrt 5)
    case = additive[mu]
    joint = evppi(case["costs"], np.column_stack([case["X"], case["Y"]]))
    assert joint == pytest.approx(evpi(case["costs"]), rel=1e-9)
    assert joint == pytest.approx(normal_evpi(mu, np.sqrt(5.0)), abs=4 * np.sqrt(5.0 / (2 * N_EVPPI)))


@pytest.mark.parametrize("mu", [0.3, 0.0])
def test_evppi_of_an_irrelevant_input_is_nearly_zero(additive, mu):
    # E[C1 | Z] = mu whatever Z is, so EVPPI(Z) = 0. The estimate is never below
    # 0; above 0 it is the noise in the fitted line, of sd about
    # sd(C1) sqrt(2 / n) = sqrt(5) x 0.0045 = 0.010, crossing 0 only when options
    # tie, which adds about 0.4 x 0.010 = 0.004 at mu = 0: allow 0.01, 1% of EVPI.
    case = additive[mu]
    assert 0.0 <= evppi(case["costs"], case["Z"]) < 0.01


def test_evppi_follows_a_nonlinear_response():
    # C1 = X^2 - 1 + Y, X ~ N(0, 1), Y ~ N(0, 0.5). E[C1 | X] = X^2 - 1 has mean 0,
    # so EVPPI(X) = 0 - E[min(0, X^2 - 1)] = int_{-1}^{1} (1 - x^2) phi(x) dx
    #   = (2 Phi(1) - 1) - [(2 Phi(1) - 1) - 2 phi(1)] = 2 phi(1) = 0.483941,
    # using int_{-a}^{a} x^2 phi = (2 Phi(a) - 1) - 2 a phi(a). A straight line in X
    # would see no signal at all (X^2 is uncorrelated with X) and give about 0.
    rng = np.random.default_rng(5)
    x, y = rng.normal(0.0, 1.0, N_EVPPI), rng.normal(0.0, 0.5, N_EVPPI)
    costs = two_options(x**2 - 1 + y)
    estimate, se = evppi(costs, x, return_se=True)
    assert estimate == pytest.approx(2 * norm.pdf(1.0), abs=4 * se)
    # EVPI: E[min(0, a + Y)] for a = x^2 - 1 is the truncated mean again; integrate over X.
    inner = lambda t: normal_evpi(t**2 - 1, 0.5) - min(0.0, t**2 - 1)  # = -E[min(0, t^2 - 1 + Y)]
    exact_evpi = integrate.quad(lambda t: inner(t) * norm.pdf(t), -np.inf, np.inf)[0]
    total, total_se = evpi(costs, return_se=True)
    assert total == pytest.approx(exact_evpi, abs=4 * total_se)
    assert estimate < total


def test_evppi_of_the_only_input_of_a_nonlinear_cost_is_evpi():
    # C1 = X^2 - 1 with no other uncertainty: EVPPI(X) = EVPI = 2 phi(1) (above).
    # The spline cannot equal X^2 exactly (it is linear beyond the outermost
    # knots, at the extremes of X), so the fit is close but not exact.
    x = np.random.default_rng(6).normal(0.0, 1.0, N_EVPPI)
    costs = two_options(x**2 - 1)
    total = evpi(costs)
    assert total == pytest.approx(2 * norm.pdf(1.0), abs=4 / np.sqrt(N_EVPPI))  # regret <= 1
    assert evppi(costs, x) == pytest.approx(total, rel=1e-3)


def test_evppi_of_a_group_sees_interactions():
    # C1 = X Y, X, Y ~ N(0, 1): E[C1] = 0 and min(0, XY) = -|XY| / 2 on average
    # (XY is symmetric), so EVPI = E|X| E|Y| / 2 = (2 / pi) / 2 = 1 / pi = 0.318310.
    # The regret is at most |XY| with E[X^2 Y^2] = 1, so its standard error <= 1/sqrt(n).
    # E[C1 | X] = X E[Y] = 0, so EVPPI(X) = 0; jointly, EVPPI({X, Y}) = EVPI,
    # which needs the X Y term: an additive model of X and Y would find nothing.
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=N_EVPPI), rng.normal(size=N_EVPPI)
    costs = two_options(x * y)
    assert evpi(costs) == pytest.approx(1 / np.pi, abs=4 / np.sqrt(N_EVPPI))
    assert evppi(costs, np.column_stack([x, y])) == pytest.approx(evpi(costs), rel=1e-9)
    assert evppi(costs, x) < 0.01


def test_evppi_of_a_discrete_input_uses_each_values_mean():
    # x in {0, 1, 2} with chances 0.3, 0.4, 0.3; E[C1 | x] = g(x) = -1, 2, -0.5,
    # plus noise N(0, 1). E[C1] = -0.3 + 0.8 - 0.15 = 0.35 > 0, so the baseline is
    # chosen now, and EVPPI = 0 - E[min(0, g)] = 0.3 x 1 + 0.3 x 0.5 = 0.45.
    # Three knots, one at each value, make the spline pass through every mean.
    rng = np.random.default_rng(13)
    x = rng.choice([0.0, 1.0, 2.0], size=N_EVPPI, p=[0.3, 0.4, 0.3])
    g = np.array([-1.0, 2.0, -0.5])[x.astype(int)]
    costs = two_options(g + rng.normal(size=N_EVPPI))
    estimate, se = evppi(costs, x, return_se=True)
    assert estimate == pytest.approx(0.45, abs=4 * se)
    # a yes/no input: C1 = 2B - 0.8 + noise, E[C1] = 0.2; EVPPI = 0.5 x 0.8 = 0.4
    b = (rng.random(N_EVPPI) < 0.5).astype(float)
    costs = two_options(2 * b - 0.8 + rng.normal(size=N_EVPPI))
    estimate, se = evppi(costs, b, return_se=True)
    assert estimate == pytest.approx(0.4, abs=4 * se)


def test_evppi_standard_error_matches_replication():
    # The reported standard error should match the spread of the estimate over
    # independent samples. With 40 replicates the sample sd is itself uncertain
    # by about 1 / sqrt(2 x 39) = 11%, so allow a ratio of 0.7 to 1.4 (3 sd).
    rng = np.random.default_rng(21)
    n, estimates, ses, evpi_estimates, evpi_ses = 4000, [], [], [], []
    for _ in range(40):
        x, y = rng.normal(0.5, 1.0, n), rng.normal(0.0, 1.0, n)
        costs = np.column_stack([np.zeros(n), x + y, 0.3 + 0.5 * x + 1.2 * y])
        value, se = evppi(costs, x, return_se=True)
        estimates.append(value)
        ses.append(se)
        value, se = evpi(costs, return_se=True)
        evpi_estimates.append(value)
        evpi_ses.append(se)
    assert 0.7 < np.std(estimates, ddof=1) / np.mean(ses) < 1.4
    assert 0.7 < np.std(evpi_estimates, ddof=1) / np.mean(evpi_ses) < 1.4


def test_evppi_nothing_to_learn():
    costs = np.random.default_rng(1).normal(size=(500, 2))
    assert evppi(costs, np.full(500, 3.0)) == 0.0  # an input that never varies
    assert evppi(costs, np.full(500, 3.0), return_se=True) == (0.0, 0.0)
    assert evppi(costs[:, :1], costs[:, 0]) == 0.0  # one option: nothing to choose
    assert evppi(costs[:2], costs[:2, 1]) == 0.0  # too few draws to fit anything


# --------------------------------------------------------------------------- table


def test_evppi_table_ranks_inputs_and_groups():
    # C1 = X + Y (as above, mu = 0.3) with Z irrelevant: EVPPI(X) = 0.2668,
    # EVPPI(Y) = 0.6568, EVPPI({X, Y}) = EVPI = 0.7501; EVPPI(Z) = 0.
    rng = np.random.default_rng(17)
    n = 20_000
    x, y, z = rng.normal(0.4, 1.0, n), rng.normal(-0.1, 2.0, n), rng.normal(size=n)
    costs = two_options(x + y)
    table = evppi_table(costs, {"x": x, "y": y, "z": z}, groups={"x and y": ["x", "y"]})
    assert list(table.columns) == ["input", "evppi", "share_of_evpi", "standard_error"]
    assert list(table["input"]) == ["x and y", "y", "x", "z"]
    assert table["evppi"].is_monotonic_decreasing
    total = evpi(costs)
    assert table.attrs["evpi"] == total
    np.testing.assert_allclose(table["share_of_evpi"], table["evppi"] / total)
    assert table["share_of_evpi"].iloc[0] == pytest.approx(1.0, rel=1e-9)
    assert table.set_index("input")["evppi"]["y"] == pytest.approx(evppi(costs, y))
    expected = {"y": normal_evpi(0.3, 2.0), "x": normal_evpi(0.3, 1.0)}
    for name, value in expected.items():
        row = table.set_index("input").loc[name]
        assert row["evppi"] == pytest.approx(value, abs=4 * row["standard_error"])


def test_evppi_table_share_is_nan_without_decision_uncertainty():
    costs = np.column_stack([np.zeros(100), np.linspace(1.0, 2.0, 100)])  # the baseline always wins
    table = evppi_table(costs, {"a": np.arange(100.0)})
    assert table["evppi"].iloc[0] == 0.0
    assert np.isnan(table["share_of_evpi"].iloc[0])


@pytest.mark.parametrize("inputs, groups, message", [
    ({"a": np.zeros(9)}, None, "has 9 draws but costs has 10"),
    ({"a": np.zeros((10, 2))}, None, "must be shaped"),
    ({"a": np.arange(10.0)}, {"g": ["a", "b"]}, "unknown input"),
    ({"a": np.arange(10.0)}, {"a": ["a"]}, "same name"),
    ({"a": np.arange(10.0)}, {"g": []}, "no members"),
    ({"a": np.r_[np.nan, np.arange(9.0)]}, None, "NaN"),
])
def test_evppi_table_checks_everything_first(inputs, groups, message):
    with pytest.raises(UsageError, match=message):
        evppi_table(np.zeros((10, 2)), inputs, groups)


@pytest.mark.parametrize("call, message", [
    (lambda: evpi(np.zeros(5)), "shaped"),
    (lambda: evpi(np.zeros((0, 2))), "at least one draw"),
    (lambda: evpi([[1.0, np.inf]]), "infinite"),
    (lambda: prob_least_cost(np.zeros((2, 2, 2))), "shaped"),
    (lambda: evppi(np.zeros((5, 2)), np.arange(4.0)), "4 draws but costs has 5"),
    (lambda: evppi(np.zeros((5, 2)), np.arange(5.0), method="nested"), "unknown EVPPI method"),
])
def test_bad_arguments_are_usage_errors(call, message):
    with pytest.raises(UsageError, match=message):
        call()


# --------------------------------------------------------------------------- properties

# Costs are whole pounds (exact in floating point up to 2^53), so adding a cost
# common to every option changes no bit of the cost differences.
_draws = st.integers(min_value=2, max_value=40)
_options = st.integers(min_value=1, max_value=4)


@st.composite
def cost_matrices(draw):
    n, m = draw(_draws), draw(_options)
    return draw(hnp.arrays(float, (n, m), elements=st.integers(-10**6, 10**6).map(float)))


@st.composite
def costs_and_input(draw):
    costs = draw(cost_matrices())
    x = draw(hnp.arrays(float, costs.shape[0], elements=st.floats(-1e3, 1e3, allow_nan=False)))
    return costs, x


@given(cost_matrices())
def test_prob_least_cost_is_a_distribution(costs):
    p = prob_least_cost(costs)
    assert p.shape == (costs.shape[1],)
    assert np.all((p >= 0) & (p <= 1))
    assert p.sum() == pytest.approx(1.0, rel=1e-12)


@given(cost_matrices())
def test_evpi_is_never_negative(costs):
    assert evpi(costs) >= 0.0


@given(cost_matrices(), st.data())
def test_evpi_is_zero_when_one_option_is_always_cheapest(costs, data):
    # make option j cost no more than every other option in every draw
    j = data.draw(st.integers(0, costs.shape[1] - 1))
    costs[:, j] = costs.min(axis=1) - data.draw(st.integers(0, 10**6))
    assert evpi(costs) == 0.0
    assert prob_least_cost(costs)[j] >= max(prob_least_cost(costs))


@settings(deadline=None)
@given(costs_and_input())
def test_evppi_lies_between_zero_and_evpi(case):
    costs, x = case
    value, se = evppi(costs, x, return_se=True)
    assert 0.0 <= value <= evpi(costs)
    assert se >= 0.0


@settings(deadline=None)
@given(costs_and_input(), st.data())
def test_a_cost_common_to_every_option_changes_nothing(case, data):
    costs, x = case
    common = data.draw(hnp.arrays(float, (costs.shape[0], 1), elements=st.integers(-10**6, 10**6).map(float)))
    shifted = costs + common  # the same amount for every option in each draw; a constant if all equal
    assert evpi(shifted) == evpi(costs)
    assert evppi(shifted, x) == evppi(costs, x)
    np.testing.assert_array_equal(prob_least_cost(shifted), prob_least_cost(costs))


# --------------------------------------------------------------------------- reproducibility


def test_same_inputs_give_identical_outputs():
    rng = np.random.default_rng(23)
    x, y = rng.normal(size=(2, 5000))
    costs = np.column_stack([np.zeros(5000), x + y, 0.5 * x**2 - y])
    kept = costs.copy()
    inputs = {"x": x, "y": y}
    first = (prob_least_cost(costs), evpi(costs, return_se=True), evppi(costs, x, return_se=True),
             evppi_table(costs, inputs, {"both": ["x", "y"]}))
    second = (prob_least_cost(costs), evpi(costs, return_se=True), evppi(costs, x, return_se=True),
              evppi_table(costs, inputs, {"both": ["x", "y"]}))
    np.testing.assert_array_equal(first[0], second[0])
    assert first[1] == second[1] and first[2] == second[2]
    pd.testing.assert_frame_equal(first[3], second[3], check_exact=True)
    np.testing.assert_array_equal(costs, kept)  # inputs are not modified
