"""Workforce: posts from caseloads, how they are filled, turnover and agency costs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wcf_model.demand import Caseloads, Stock
from wcf_model.workforce import fill_posts, project_workforce, workforce_costs


def row(*values):
    return np.array([values], dtype=float)


def test_fill_posts_by_hand():
    # 210 FTE in post; vacancy 16% of posts -> posts 210 / 0.84 = 250, 40 vacant;
    # 12.5% of those in post are agency -> 26.25; permanent 183.75; turnover 14% -> 25.725.
    # Year 2: 252 in post -> permanent 220.5, growth 36.75, leavers 30.87, hires 67.62.
    s = fill_posts(row(210, 252), row(0.125, 0.125), row(0.16, 0.16), row(0.14, 0.14))
    np.testing.assert_allclose(s.posts, [[250, 300]])
    np.testing.assert_allclose(s.vacant, [[40, 48]])
    np.testing.assert_allclose(s.agency, [[26.25, 31.5]])
    np.testing.assert_allclose(s.permanent, [[183.75, 220.5]])
    np.testing.assert_allclose(s.leavers, [[25.725, 30.87]])
    np.testing.assert_allclose(s.hires, [[25.725, 67.62]])


def test_published_caseload_reproduces_published_fte_in_post():
    # in post = cases / caseload per FTE in post, whatever the vacancy rate
    # (figures of the size of Worcestershire's 2019 census: 18.1 cases per FTE)
    s = fill_posts(row(3388 / 18.1), row(0.125), row(0.163), row(0.139))
    assert (s.permanent + s.agency)[0, 0] == pytest.approx(3388 / 18.1)


def test_a_published_caseload_reproduces_the_published_case_holders_from_children_in_need():
    # The DfE's caseload is cases held / case-holding FTE, and its cases are not its children in
    # need: Worcestershire's 30 September 2019 census has 3,388 cases held by 187.3 case-holding FTE
    # (caseload 18.09) while 3,588 children were in need at 31 March 2019, 0.944 cases per child.
    # Children in need / caseload would need 3,588 / 18.09 = 198.4 FTE, 6% more than were in post.
    c = Caseloads(population=row(117_000), cin=_stock(3588))
    p = {"workforce.caseload_target": row(3388 / 187.3), "workforce.cases_per_child_in_need": row(3388 / 3588),
         "workforce.agency_share": row(0.125), "workforce.vacancy_rate": row(0.163),
         "workforce.turnover_rate": row(0.139)}
    sw = project_workforce(c, p)["social_worker"]
    assert (sw.permanent + sw.agency)[0, 0] == pytest.approx(187.3)
    # without the cases a child in need brings, the caseload cannot say how many are needed
    p.pop("workforce.cases_per_child_in_need")
    assert "social_worker" not in project_workforce(c, p)


@settings(max_examples=50, deadline=None)
@given(posts=st.floats(0, 1e4), a=st.floats(0, 1), v=st.floats(0, 1), t=st.floats(0, 1))
def test_posts_are_conserved_and_nothing_is_negative(posts, a, v, t):
    v = min(v, 0.99)
    s = fill_posts(row(posts, posts * 0.5), row(a, a), row(v, v), row(t, t))
    np.testing.assert_allclose(s.permanent + s.agency + s.vacant, s.posts, atol=1e-9)
    for part in (s.permanent, s.agency, s.vacant, s.leavers, s.hires):
        assert (part >= -1e-9).all()


def _stock(avg):
    a = row(avg)
    return Stock(a, a * 0, a * 0, a)


def test_roles_from_caseloads_and_costs_by_hand():
    c = Caseloads(population=row(117_000), cin=_stock(3600), cpp=_stock(400), cla=_stock(800),
                  care_leavers_18_21=_stock(290), early_help=row(1500))
    p = {k: row(v) for k, v in {
        "workforce.caseload_target": 18.0, "workforce.cases_per_child_in_need": 1.0,
        "workforce.manager_span": 6.0, "workforce.agency_share": 0.2,
        "workforce.vacancy_rate": 0.1, "workforce.turnover_rate": 0.15, "workforce.iro_caseload": 60.0,
        "workforce.personal_adviser_caseload": 25.0, "workforce.early_help_caseload": 30.0,
        "costs.staff.salary.social_worker": 35_000.0, "costs.staff.on_cost_rate": 0.1,
        "costs.staff.pension_employer_rate": 0.2, "costs.staff.agency_premium": 0.5,
        "costs.staff.recruitment_per_hire": 5_000.0}.items()}
    staff = project_workforce(c, p)
    sw = staff["social_worker"]
    assert (sw.permanent + sw.agency)[0, 0] == pytest.approx(3600 / 18)   # 200 FTE in post
    assert sw.posts[0, 0] == pytest.approx(200 / 0.9)                      # vacancy 10% of posts
    assert staff["team_manager"].posts[0, 0] == pytest.approx(200 / 6 / 0.9)
    assert staff["iro"].posts[0, 0] == pytest.approx((800 + 400) / 60)               # 20 FTE
    assert staff["personal_adviser"].posts[0, 0] == pytest.approx(290 / 25)
    assert staff["early_help_worker"].posts[0, 0] == pytest.approx(1500 / 30)
    lines = workforce_costs(staff, p)
    # only social workers have a salary here: employment cost 35,000 x 1.3 = 45,500 per FTE;
    # 200 in post, 40 agency, 160 permanent
    assert lines["permanent_pay"][0, 0] == pytest.approx(160 * 45_500)
    assert lines["agency_premium"][0, 0] == pytest.approx(40 * 45_500 * 0.5)
    # hires: social workers 160 x 0.15 = 24, managers (200/6 x 0.8) x 0.15 = 4
    assert lines["recruitment"][0, 0] == pytest.approx((24 + 4) * 5_000)


def test_a_lower_caseload_target_needs_more_social_workers():
    c = Caseloads(population=row(1), cin=_stock(3600))
    common = {"workforce.agency_share": row(0.1), "workforce.vacancy_rate": row(0.1),
              "workforce.turnover_rate": row(0.1), "workforce.cases_per_child_in_need": row(1.0)}
    hi = project_workforce(c, {**common, "workforce.caseload_target": row(20)})["social_worker"].posts
    lo = project_workforce(c, {**common, "workforce.caseload_target": row(15)})["social_worker"].posts
    assert lo[0, 0] == pytest.approx(240 / 0.9) and hi[0, 0] == pytest.approx(180 / 0.9)
