"""The engine's parameter lookup is checked: a misspelt name or a missing figure is an error,
never a cost line that silently drops out."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import REPO
from wcf_model import load_scenario
from wcf_model.costs import service_costs
from wcf_model.demand import Caseloads
from wcf_model.effects import apply_option_effects
from wcf_model.inputs import (MissingParameter, Params, UnknownParameter, multiply, one_row, same_every_draw,
                              sample_parameters)
from wcf_model.projection import project_arrays

FBC = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"


@pytest.fixture(scope="module")
def fbc():
    return load_scenario(FBC)


@pytest.fixture(scope="module")
def p(fbc):
    return sample_parameters(fbc.parameters, fbc.financial_years)


def test_a_misspelt_name_is_an_error_in_every_kind_of_lookup(p):
    # "placement" for "placements": before, p.get gave None and the placement's cost line
    # was left out as if the scenario had no weekly cost for it
    typo = "costs.placement.weekly.ifa"
    with pytest.raises(UnknownParameter, match="costs.placement.weekly.ifa.*no parameter of the catalogue"):
        p.get(typo)
    with pytest.raises(UnknownParameter):
        _ = typo in p
    with pytest.raises(UnknownParameter):
        _ = p[typo]
    # the right name is found, and a catalogue name the scenario leaves out is simply absent
    assert p.get("costs.placements.weekly.ifa") is not None
    assert "costs.send.assessment" not in p and p.get("costs.send.assessment") is None


def test_a_parameter_the_model_needs_but_the_scenario_lacks_is_named(fbc, p):
    without = Params({k: v for k, v in p.items() if k != "population.age_0_17"})
    with pytest.raises(MissingParameter, match="the scenario gives no population.age_0_17"):
        project_arrays(without, np.ones(len(fbc.financial_years), dtype=bool), fbc.financial_years)


def test_an_option_s_parameters_keep_the_checked_lookup(fbc, p):
    oid = next(o for o, opt in fbc.options.items() if opt.effects)
    under = apply_option_effects(p, oid, fbc.options[oid], fbc.financial_years, None, fbc.header.seed)
    assert isinstance(under, Params)
    with pytest.raises(UnknownParameter):
        under.get("costs.placement.weekly.ifa")


def test_early_help_episodes_without_a_price_are_named_not_dropped_silently(p):
    # 1,000 episodes a year for two years and no cost per episode: before, no line and no word
    years = 2
    early_help = np.full((1, years), 1_000.0)
    c = Caseloads(population=np.full((1, years), 100_000.0), early_help=early_help)
    given = Params({k: v[:, :years] for k, v in p.items() if not k.startswith("costs.early_help")})
    warnings: list[str] = []
    lines = service_costs(c, {}, given, warnings)
    assert "early_help" not in {ln.name for ln in lines}
    assert any("no cost per early help episode (about 1,000 episodes" in w for w in warnings)
    # with a price of 250 an episode the line is there: 1,000 x 250 = 250,000 a year
    priced = Params({**given, "costs.early_help.per_episode": np.full((1, years), 250.0)})
    line = next(ln for ln in service_costs(c, {}, priced, []) if ln.name == "early_help")
    np.testing.assert_allclose(line.values, [[250_000.0, 250_000.0]])


def test_figures_the_same_in_every_draw_are_worked_once_and_give_the_same_bits():
    rng = np.random.default_rng(5)
    row = rng.random((1, 3)) * 1e5
    fixed = np.broadcast_to(row, (4, 3))      # a parameter without uncertainty, as sampling gives it
    varying = rng.random((4, 3))
    deflator = np.array([1.0, 1.02, 1.0404])
    assert same_every_draw(fixed) and not same_every_draw(varying) and same_every_draw(row)
    assert one_row(fixed).shape == (1, 3) and one_row(varying) is varying
    # each product is the same two numbers multiplied, so the same bits as numpy's own a * b ...
    for a, b in ((fixed, deflator), (fixed, 2.5), (fixed, np.broadcast_to(deflator, (4, 3))), (varying, deflator)):
        assert multiply(a, b).tobytes() == (a * b).tobytes() and multiply(a, b).shape == (4, 3)
    # ... but worked once when nothing varies by draw: the result is one row seen as every draw's
    assert multiply(fixed, deflator).strides[0] == 0 and multiply(varying, deflator).strides[0] != 0
    # times exactly 1 is the figure itself (x * 1.0 == x to the bit, -0.0 and infinities included)
    assert multiply(varying, 1.0) is varying and multiply(varying, np.ones(3)) is varying
    assert multiply(np.array([[-0.0, np.inf]]), 1.0).tobytes() == (np.array([[-0.0, np.inf]]) * 1.0).tobytes()
