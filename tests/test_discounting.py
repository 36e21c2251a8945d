"""Green Book discount factors against values worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wcf_model import UsageError
from wcf_model.discounting import discount_factors, present_value


def test_first_years_at_3_5_percent():
    df = discount_factors(11)
    assert df[0] == 1.0
    # 1 / 1.035 = 0.966184; 1 / 1.035^2 = 0.933511; 1 / 1.035^10 = 0.708919
    assert df[1] == pytest.approx(0.9661835748792271, abs=1e-15)
    assert df[2] == pytest.approx(0.933510700366403, abs=1e-15)
    assert df[10] == pytest.approx(1 / 1.035 ** 10, rel=1e-12)
    assert df[10] == pytest.approx(0.708919, abs=5e-7)


def test_the_rate_steps_down_after_year_30():
    df = discount_factors(80)
    # year 31 is discounted from year 30 at 3.0%: 1.035^-30 / 1.03
    assert df[30] == pytest.approx(1.035 ** -30)
    assert df[31] == pytest.approx(1.035 ** -30 / 1.03)
    # year 76 is the first at 2.5%: 1.035^-30 x 1.03^-45 x 1.025^-1
    assert df[75] == pytest.approx(1.035 ** -30 * 1.03 ** -45)
    assert df[76] == pytest.approx(1.035 ** -30 * 1.03 ** -45 / 1.025)


def test_long_horizon_bands():
    df = discount_factors(310)
    expected_301 = 1.035 ** -30 * 1.03 ** -45 * 1.025 ** -50 * 1.02 ** -75 * 1.015 ** -100 / 1.01
    assert df[301] == pytest.approx(expected_301, rel=1e-12)


def test_health_schedule():
    df = discount_factors(32, schedule="health")
    assert df[30] == pytest.approx(1.015 ** -30)
    assert df[31] == pytest.approx(1.015 ** -30 / 1.0129)


def test_present_value_by_hand():
    # £100 a year for 3 years: 100 + 96.6184 + 93.3511 = 289.9694
    assert present_value(np.full(3, 100.0), discount_factors(3)) == pytest.approx(289.969428, abs=1e-6)
    # works over a leading draws axis
    flows = np.array([[100.0, 100, 100], [0, 0, 1.035 ** 2]])
    np.testing.assert_allclose(present_value(flows, discount_factors(3)), [289.969428, 1.0], rtol=1e-8)


def test_bad_arguments():
    with pytest.raises(UsageError, match="unknown discount schedule"):
        discount_factors(5, schedule="treasury")
    assert discount_factors(0).shape == (0,)


@given(st.integers(1, 400))
def test_factors_start_at_one_and_fall(n):
    df = discount_factors(n)
    assert df[0] == 1.0 and np.all(np.diff(df) < 0) and np.all(df > 0)
