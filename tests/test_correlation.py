"""Rank correlation between named inputs through a Gaussian copula."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from conftest import MINIMAL
from wcf_model import ScenarioError, load_scenario
from wcf_model.inputs import correlated_design
from wcf_model.uncertain import rank_to_pearson, uncertain_inputs
from wcf_model.appraisal import monte_carlo_design

EXTRA = """\
      start_rate_per_10k:
        value: 20
        unit: per 10k children/year
        distribution: {type: lognormal, mean: 20, sd: 4}
"""


def correlated(rho: float, a="demand.cla.exit_rate", b="demand.cla.start_rate_per_10k") -> str:
    text = MINIMAL.replace("      exit_rate:\n", EXTRA + "      exit_rate:\n")
    return text + f"correlations:\n  demand_moves_together:\n    inputs: [{a}, {b}]\n    rank_correlation: {rho}\n"


def test_rank_to_pearson_by_hand():
    # r = 2 sin(pi rho / 6): rho 0.5 -> 2 sin(pi/12) = 0.5176; 1 -> 1; 0 -> 0
    assert rank_to_pearson(0.5) == pytest.approx(0.517638, abs=1e-6)
    assert rank_to_pearson(1.0) == pytest.approx(1.0) and rank_to_pearson(0) == 0


@pytest.mark.parametrize("rho", [0.6, -0.4])
def test_sampled_rank_correlation_and_unchanged_marginals(write, rho):
    sc = load_scenario(write("c.yaml", correlated(rho)))
    design = monte_carlo_design(sc, 20_000, 5)    # what drives the Monte Carlo run
    x = {i.name: i.value(design[i.name]) for i in uncertain_inputs(sc)}
    a, b = x["demand.cla.exit_rate"], x["demand.cla.start_rate_per_10k"]
    assert spearmanr(a, b).statistic == pytest.approx(rho, abs=0.02)
    # the margins keep their own distributions: triangular(0.2, 0.25, 0.3) has mean 0.25
    assert a.mean() == pytest.approx(0.25, abs=0.001) and b.mean() == pytest.approx(20, rel=0.01)
    # inputs not named in a correlation keep their own streams exactly
    u = correlated_design(sc, 100, 5)
    sc_free = load_scenario(write("free.yaml", MINIMAL.replace("      exit_rate:\n", EXTRA + "      exit_rate:\n")))
    free = correlated_design(sc_free, 100, 5)
    np.testing.assert_array_equal(u["options.company.effects.fewer_referrals"],
                                  free["options.company.effects.fewer_referrals"])


def test_correlation_of_an_input_without_a_distribution_is_refused(write):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write("c.yaml", correlated(0.5, b="demand.cla.opening_stock")))
    (p,) = info.value.problems
    assert p.key == "correlations.demand_moves_together.inputs.1"
    assert "not an input with a distribution" in p.message


def test_contradictory_correlations_are_refused(write):
    text = correlated(0.95) + (
        "  second:\n    inputs: [demand.cla.exit_rate, options.company.effects.fewer_referrals]\n"
        "    rank_correlation: 0.95\n"
        "  third:\n    inputs: [demand.cla.start_rate_per_10k, options.company.effects.fewer_referrals]\n"
        "    rank_correlation: -0.95\n")
    with pytest.raises(ScenarioError, match="not positive definite"):
        load_scenario(write("c.yaml", text))
