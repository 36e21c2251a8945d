"""Caseload projection: hand-worked values, conservation, and vectorisation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from wcf_model.catalogue import PLACEMENT_TYPES
from wcf_model.demand import (
    flow,
    project_caseloads,
    project_population,
    split,
    stock_flow,
)


def full(value, draws=1, years=3):
    return np.full((draws, years), float(value))


def test_stock_flow_by_hand():
    # opening 800; starts 240 a year; exit rate 0.2 of (opening + starts):
    # year 1: exits 0.2 * 1040 = 208, closing 832
    # year 2: exits 0.2 * (832 + 240) = 214.4, closing 857.6
    s = stock_flow(np.array([800.0]), full(240, years=2), full(0.2, years=2))
    np.testing.assert_allclose(s.exits, [[208, 214.4]])
    np.testing.assert_allclose(s.closing, [[832, 857.6]])
    np.testing.assert_allclose(s.opening, [[800, 832]])
    np.testing.assert_allclose(s.average, [[816, 844.8]])


def test_flow_and_split_by_hand():
    # 117,046 children x 421 per 10,000 = 4,927.6 referrals; a 10% pandemic dip -> 4,434.9
    np.testing.assert_allclose(flow(np.array([[117_046.0]]), np.array([[421.0]]), np.array([[0.9]])),
                               [[117_046 / 10_000 * 421 * 0.9]])
    # a mix that sums to 2 is normalised: 100 children split 1:1 -> 50, 50
    np.testing.assert_allclose(split(np.array([[100.0]]), {"mix.a": np.array([[1.0]]), "mix.b": np.array([[1.0]])},
                                     "mix", ("a", "b")), [[[50, 50]]])


def test_split_gives_each_draw_its_own_mix_and_the_same_bits_when_the_mix_is_one_row():
    # Draw 1 splits 100 children 1:3 -> 25, 75; draw 2 splits 200 children 1:1 -> 100, 100; the category
    # left out ("c") gets none.
    stock = np.array([[100.0, 10.0], [200.0, 20.0]])
    varying = {"mix.a": np.array([[1.0, 1.0], [1.0, 1.0]]), "mix.b": np.array([[3.0, 3.0], [1.0, 1.0]])}
    out = split(stock, varying, "mix", ("a", "b", "c"))
    np.testing.assert_allclose(out[:, 0], [[25, 75, 0], [100, 100, 0]])
    assert split(stock, {}, "mix", ("a", "b")) is None
    # A mix without uncertainty is one row seen as every draw's (what sampling gives): it is normalised
    # once, and every figure is bit for bit what the same mix copied into each draw gives.
    row = {k: np.broadcast_to(np.array([[0.1, 0.2]]), (2, 2)) for k in ("mix.a", "mix.b")}
    copied = {k: np.array(v) for k, v in row.items()}
    assert split(stock, row, "mix", ("a", "b")).tobytes() == split(stock, copied, "mix", ("a", "b")).tobytes()
    # each category's children are one contiguous block (what the costs read, category by category)
    assert split(stock, row, "mix", ("a", "b"))[..., 1].flags.c_contiguous


def test_population_grows_after_the_last_given_year():
    path = np.array([[100.0, 110.0, 110.0, 110.0]])
    given = np.array([True, True, False, False])
    out = project_population(path, given, np.full((1, 4), 0.1))
    np.testing.assert_allclose(out, [[100, 110, 121, 133.1]])


def _params(draws=1, years=4, **override):
    p = {
        "demand.referrals.rate_per_10k": 420.0, "demand.referrals.rereferral_share": 0.2,
        "demand.cin.opening_stock": 3400.0, "demand.cin.start_share_of_referrals": 0.8,
        "demand.cin.exit_rate": 0.5, "demand.cpp.opening_stock": 420.0, "demand.cpp.share_of_cin": 0.12,
        "demand.cla.opening_stock": 800.0, "demand.cla.start_rate_per_10k": 21.0, "demand.cla.exit_rate": 0.2,
        "demand.care_leavers.opening_18_21": 290.0, "demand.care_leavers.leaver_share_of_exits": 0.3,
        "demand.care_leavers.opening_22_25": 100.0, "demand.care_leavers.support_22_25_share": 0.4,
        "demand.ehcp.opening_stock": 3500.0, "demand.ehcp.new_per_10k": 55.0, "demand.ehcp.ceased_rate": 0.08,
        "demand.early_help.episodes_per_10k": 150.0,
        **{f"demand.cla.placement_mix.{t}": 0.1 for t in PLACEMENT_TYPES},
    }
    p.update(override)
    return {k: full(v, draws, years) if np.isscalar(v) else v for k, v in p.items()}


def test_hand_worked_first_year():
    pop = full(117_000, years=1)
    c = project_caseloads(_params(years=1), pop)
    referrals = 117_000 / 10_000 * 420                  # 4,914
    assert c.referrals[0, 0] == pytest.approx(referrals)
    assert c.rereferrals[0, 0] == pytest.approx(0.2 * referrals)
    cin_close = 0.5 * (3400 + 0.8 * referrals)          # half of everyone in need in the year remains
    assert c.cin.closing[0, 0] == pytest.approx(cin_close)
    assert c.cpp.closing[0, 0] == pytest.approx(0.12 * cin_close)
    cla_starts = 117_000 / 10_000 * 21                  # 245.7
    assert c.cla.closing[0, 0] == pytest.approx(0.8 * (800 + cla_starts))
    leavers_in = 0.3 * 0.2 * (800 + cla_starts)         # care exits that are 18+ leavers
    assert c.care_leavers_18_21.closing[0, 0] == pytest.approx(0.75 * (290 + leavers_in))
    assert c.cla_by_placement.shape == (1, 1, len(PLACEMENT_TYPES))
    assert c.cla_by_placement.sum() == pytest.approx(c.cla.average[0, 0])


def test_missing_parameters_leave_parts_out_rather_than_zero():
    p = _params()
    del p["demand.cla.exit_rate"]
    c = project_caseloads(p, full(117_000, years=4))
    assert c.cla is None and c.cla_by_placement is None and c.care_leavers_18_21 is None
    assert c.cin is not None


def test_shock_moves_referrals_in_its_year_only():
    shock = np.array([[1.0, 0.8, 1.2, 1.0]])   # a pandemic year, then a delayed surge
    base = project_caseloads(_params(), full(117_000, years=4))
    hit = project_caseloads(_params(**{"demand.shocks.referrals": shock}), full(117_000, years=4))
    np.testing.assert_allclose(hit.referrals / base.referrals, shock)
    # fewer referrals in year 2 leave fewer children in need at its close
    assert hit.cin.closing[0, 1] < base.cin.closing[0, 1]


shares = st.floats(0, 1)
positive = st.floats(0, 1e4)


@settings(max_examples=60, deadline=None)
@given(opening=positive, starts=arrays(float, (3, 5), elements=positive),
       rate=arrays(float, (3, 5), elements=shares))
def test_stock_flow_conserves_children_and_never_goes_negative(opening, starts, rate):
    s = stock_flow(np.full(3, opening), starts, rate)
    np.testing.assert_allclose(s.opening + s.starts - s.exits, s.closing, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(s.opening[:, 1:], s.closing[:, :-1])
    assert (s.closing >= -1e-9).all() and (s.exits >= 0).all()


@settings(max_examples=40, deadline=None)
@given(low=st.floats(0, 100), extra=st.floats(0, 100), exit_rate=shares)
def test_a_higher_entry_rate_never_lowers_the_number_in_care(low, extra, exit_rate):
    pop = full(100_000, years=6)
    a = project_caseloads(_params(years=6, **{"demand.cla.start_rate_per_10k": low,
                                              "demand.cla.exit_rate": exit_rate}), pop)
    b = project_caseloads(_params(years=6, **{"demand.cla.start_rate_per_10k": low + extra,
                                              "demand.cla.exit_rate": exit_rate}), pop)
    assert (b.cla.closing >= a.cla.closing - 1e-9).all()


def test_every_stock_of_a_full_projection_is_conserved():
    rng = np.random.default_rng(1)
    draws, years = 50, 10
    p = _params(draws, years)
    p = {k: v * rng.uniform(0.5, 1.0, (draws, 1)) for k, v in p.items()}
    c = project_caseloads(p, full(117_000, draws, years))
    for name, s in c.stocks().items():
        np.testing.assert_allclose(s.opening + s.starts - s.exits, s.closing, err_msg=name)
        assert (s.closing >= 0).all(), name


def test_vectorised_projection_equals_draw_by_draw():
    rng = np.random.default_rng(7)
    draws, years = 25, 8
    p = {k: v * rng.uniform(0.7, 1.3, (draws, years)) for k, v in _params(draws, years).items()}
    p = {k: np.clip(v, 0, 1) if ("rate" in k and "per_10k" not in k) or "share" in k else v for k, v in p.items()}
    pop = 117_000 * rng.uniform(0.95, 1.05, (draws, years))
    together = project_caseloads(p, pop)
    for d in range(draws):
        alone = project_caseloads({k: v[d:d + 1] for k, v in p.items()}, pop[d:d + 1])
        for name, s in together.stocks().items():
            np.testing.assert_allclose(s.closing[d], getattr(alone, name).closing[0], rtol=1e-12)
        np.testing.assert_allclose(together.cla_by_placement[d], alone.cla_by_placement[0], rtol=1e-12)
