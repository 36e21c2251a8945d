"""Effects: timing, ramp, fade, modes, and no change to the baseline."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import REPO
from wcf_model import load_scenario
from wcf_model.effects import apply_effect, apply_option_effects, months_from_start, strength
from wcf_model.inputs import sample_parameters


def test_part_year_go_live():
    # 1 October 2019 is 6 months into 2019-20: half of that year, all of the next
    assert months_from_start(dt.date(2019, 10, 1), "2019-20") == 6
    np.testing.assert_allclose(strength(3, 6), [0.5, 1, 1])
    # a start on a financial year counts the whole year
    assert months_from_start("2021-22", "2019-20") == 24
    np.testing.assert_allclose(strength(4, 24), [0, 0, 1, 1])


def test_ramp_by_hand():
    # from 1 April of year 0 over 2 years: year 0 averages the months' midpoints
    # (0.5/12 ... 11.5/12) / 2 = mean 0.25; year 1 averages 0.5 .. 1 -> 0.75; then 1
    np.testing.assert_allclose(strength(3, 0, ramp_years=2), [0.25, 0.75, 1.0])


def test_fade_by_hand():
    # full at once, fading after 1 year over 2 years: year 0 = 1, year 1 = 0.75, year 2 = 0.25, then 0
    np.testing.assert_allclose(strength(4, 0, fade_after_years=1, fade_years=2), [1, 0.75, 0.25, 0])


def test_modes():
    x = np.array([[100.0, 100.0]])
    level = np.array([0.5, 1.0])
    np.testing.assert_allclose(apply_effect(x, np.array([[-0.1]]), level, "multiply"), [[95, 90]])
    np.testing.assert_allclose(apply_effect(x, np.array([[10.0]]), level, "add"), [[105, 110]])
    np.testing.assert_allclose(apply_effect(x, np.array([[60.0]]), level, "set"), [[80, 60]])


@given(start=st.floats(-24, 120), ramp=st.floats(0, 10), fade_after=st.floats(0, 10), fade=st.floats(0, 10))
def test_strength_is_a_share(start, ramp, fade_after, fade):
    s = strength(10, start, ramp, fade_after, fade)
    assert np.all(s >= 0) and np.all(s <= 1 + 1e-12)


def test_worcestershire_early_help_effect():
    sc = load_scenario(REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml")
    years = sc.financial_years
    p = sample_parameters(sc.parameters, years)
    option = sc.options["company_broad"]
    effect = option.effects["early_help_referrals"]
    after = apply_option_effects(p, "company_broad", option, years, None, sc.header.seed)
    ratio = after["demand.referrals.rate_per_10k"][0] / p["demand.referrals.rate_per_10k"][0]
    # -6.16% (the reference-class estimate for referrals after a move) from 1 October 2019,
    # half of it in 2019-20 when the company ran for six months
    expected = 1 + effect.change * strength(len(years), 6, effect.ramp_years)
    np.testing.assert_allclose(ratio, expected)
    assert effect.change == -0.0616 and ratio[0] == pytest.approx(1 - 0.0616 / 2)
    assert ratio[-1] == pytest.approx(1 - 0.0616)
    # the baseline arrays are not modified
    assert after is not p and p["demand.referrals.rate_per_10k"][0, -1] == sc.parameters[
        "demand.referrals.rate_per_10k"].central()


def test_drawn_changes_are_reproducible_and_stay_in_range():
    sc = load_scenario(REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml")
    years = sc.financial_years
    p = sample_parameters(sc.parameters, years, draws=400, seed=1)
    option = sc.options["company_broad"]
    a = apply_option_effects(p, "company_broad", option, years, 400, 1)
    b = apply_option_effects(p, "company_broad", option, years, 400, 1)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    share = a["workforce.agency_share"]
    assert share.min() >= 0 and share.max() <= 1
