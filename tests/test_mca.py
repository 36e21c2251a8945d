"""Multi-criteria analysis (DCLG 2009 manual): a hand-worked example, the local
scale, ties, critical success factor gates, weight switching and weight draws."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import wcf_model as wm
from conftest import REPO
from wcf_model.mca import (
    NO_SWITCH,
    McaResult,
    csf_table,
    derived_scores,
    derived_scores_draws,
    mca_summary,
    normalised_weights,
    passes_csf,
    preferred,
    rank_probabilities,
    ranks,
    score_draws,
    score_matrix,
    weight_switching,
    weighted_totals,
)
from wcf_model.schema import Mca

FBC = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"

# The hand-worked example: three options, three criteria with swing weights
# 50/30/20 (normalised 0.5, 0.3, 0.2).
#
#        x    y    z    total
#   A  100    0   50    0.5*100 + 0.3*0   + 0.2*50  = 50 + 0  + 10 = 60
#   B   40  100    0    0.5*40  + 0.3*100 + 0.2*0   = 20 + 30 + 0  = 50
#   C    0   50  100    0.5*0   + 0.3*50  + 0.2*100 = 0  + 15 + 20 = 35
#
# so A ranks 1, B 2, C 3.
SCORES = pd.DataFrame({"x": [100.0, 40, 0], "y": [0.0, 100, 50], "z": [50.0, 0, 100]},
                      index=pd.Index(["A", "B", "C"], name="option"))
WEIGHTS = pd.Series({"x": 0.5, "y": 0.3, "z": 0.2})


def _mca(weights: dict[str, float], scores: pd.DataFrame | None = None, derived: dict[str, str] | None = None) -> Mca:
    derived = derived or {}
    criteria = {c: {"label": c, "weight": float(w), **({"derived_from": derived[c]} if c in derived else {})}
                for c, w in weights.items()}
    judged = {} if scores is None else {c: {o: {"score": float(scores.loc[o, c]), "rationale": "by hand"}
                                            for o in scores.index} for c in scores.columns if c not in derived}
    return Mca.model_validate({"criteria": criteria, "scores": judged})


def test_normalised_weights_divide_by_the_sum():
    w = normalised_weights(_mca({"x": 50, "y": 30, "z": 20}))
    assert w.to_dict() == pytest.approx({"x": 0.5, "y": 0.3, "z": 0.2})


def test_hand_worked_totals_and_ranks():
    totals = weighted_totals(SCORES, WEIGHTS)
    assert totals.to_dict() == pytest.approx({"A": 60, "B": 50, "C": 35})
    assert ranks(totals).to_dict() == {"A": 1, "B": 2, "C": 3}


def test_score_matrix_reads_judged_scores_in_criteria_order_and_derives_cost():
    mca = _mca({"x": 50, "y": 30, "cost": 20}, SCORES[["x", "y"]], derived={"cost": "npv_cost"})
    m = score_matrix(mca, ["A", "B", "C"], {"npv_cost": {"A": 20e6, "B": 10e6, "C": 15e6}})
    assert list(m.columns) == ["x", "y", "cost"] and list(m.index) == ["A", "B", "C"]
    assert m["x"].tolist() == [100, 40, 0]
    # cost: B lowest (100), A highest (0), C half way (50)
    assert m["cost"].tolist() == pytest.approx([0, 100, 50])
    with pytest.raises(wm.UsageError, match="derived from npv_cost"):
        score_matrix(mca, ["A", "B", "C"])


def test_derived_scores_by_hand():
    # lowest cost 100, highest 0: (20 - 15) / (20 - 10) = 0.5 -> 50
    assert derived_scores({"a": 10, "b": 15, "c": 20}) == pytest.approx({"a": 100, "b": 50, "c": 0})
    assert derived_scores({"a": 10, "b": 15, "c": 20}, lower_is_better=False) == pytest.approx(
        {"a": 0, "b": 50, "c": 100})


def test_derived_scores_ties():
    # no difference between options: no preference, so every option scores 100
    assert derived_scores({"a": 7, "b": 7, "c": 7}) == {"a": 100, "b": 100, "c": 100}
    assert derived_scores({"a": 10, "b": 10, "c": 20}) == {"a": 100, "b": 100, "c": 0}


def test_derived_scores_draws_rescale_within_each_draw():
    values = np.array([[10.0, 15, 20], [30, 20, 10], [5, 5, 5]])
    expected = np.array([[100.0, 50, 0], [0, 50, 100], [100, 100, 100]])
    np.testing.assert_allclose(derived_scores_draws(values), expected)


def test_ranks_share_the_better_rank_on_ties():
    assert ranks(pd.Series({"A": 60.0, "B": 60.0, "C": 35.0})).to_dict() == {"A": 1, "B": 1, "C": 3}
    # float noise in a weighted sum is not a difference
    assert ranks(pd.Series({"A": 0.1 + 0.2, "B": 0.3})).to_dict() == {"A": 1, "B": 1}


def test_weight_switching_by_hand():
    t = weight_switching(SCORES, WEIGHTS).set_index("criterion")
    # x (w = 0.5): y and z keep their 3:2 proportions, so at weight w on x
    #   T_A = 100w + (1-w)(0.6*0   + 0.4*50)  = 20 + 80w
    #   T_B =  40w + (1-w)(0.6*100 + 0.4*0)   = 60 - 20w
    #   T_C =   0w + (1-w)(0.6*50  + 0.4*100) = 70 - 70w
    # A = B at 20 + 80w = 60 - 20w -> w = 0.4; A = C at w = 50/150 = 1/3.
    # Going down from 0.5 B overtakes first (0.4); going up A only gains.
    assert t.loc["x", "current_weight"] == 0.5
    assert t.loc["x", "switch_weight_down"] == pytest.approx(0.4) and t.loc["x", "option_down"] == "B"
    assert np.isnan(t.loc["x", "switch_weight_up"]) and t.loc["x", "option_up"] == NO_SWITCH
    # y (w = 0.3): x and z in proportions 5/7, 2/7
    #   T_A = 600/7 (1 - w);  T_B = 200/7 + 500/7 w;  T_C = 200/7 + 150/7 w
    # A = B at 600 - 600w = 200 + 500w -> w = 4/11; A = C at w = 400/750 = 8/15.
    assert t.loc["y", "switch_weight_up"] == pytest.approx(4 / 11) and t.loc["y", "option_up"] == "B"
    assert t.loc["y", "option_down"] == NO_SWITCH
    # z (w = 0.2): x and y in proportions 5/8, 3/8
    #   T_A = 62.5 - 12.5w;  T_B = 62.5 - 62.5w;  T_C = 18.75 + 81.25w
    # A = C at 43.75 = 93.75w -> w = 7/15. Going down, B only ties A at w = 0:
    # a tie at the end of the range is not a change of top option.
    assert t.loc["z", "switch_weight_up"] == pytest.approx(7 / 15) and t.loc["z", "option_up"] == "C"
    assert np.isnan(t.loc["z", "switch_weight_down"]) and t.loc["z", "option_down"] == NO_SWITCH


def test_weight_switching_among_candidates():
    # Without A, B leads at the stated weights (50 against 35). On x:
    #   T_B = 60 - 20w, T_C = 70 - 70w -> C overtakes B only below w = 10/50 = 0.2.
    t = weight_switching(SCORES, WEIGHTS, candidates=["B", "C"]).set_index("criterion")
    assert t.loc["x", "switch_weight_down"] == pytest.approx(0.2) and t.loc["x", "option_down"] == "C"
    assert "A" not in set(t["option_down"]) | set(t["option_up"])


def test_failing_option_is_flagged_still_ranked_and_not_preferred():
    totals = weighted_totals(SCORES, WEIGHTS)
    passes = {"A": False, "B": True, "C": True}
    assert preferred(totals, passes) == "B"
    assert ranks(totals)["A"] == 1  # still ranked, and ranked on merit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        preferred(totals, passes)  # no warning while some option passes


def test_when_no_option_passes_the_best_overall_is_returned_with_a_warning():
    totals = weighted_totals(SCORES, WEIGHTS)
    with pytest.warns(UserWarning, match="no option passes"):
        assert preferred(totals, {"A": False, "B": False, "C": False}) == "A"


def test_rank_probabilities_sum_to_one_and_are_reproducible():
    p = rank_probabilities(SCORES, WEIGHTS, draws=2000, seed=3)
    assert p.sum() == pytest.approx(1) and (p >= 0).all()
    pd.testing.assert_series_equal(p, rank_probabilities(SCORES, WEIGHTS, draws=2000, seed=3))
    assert p.idxmax() == "A"
    only = rank_probabilities(SCORES, WEIGHTS, draws=2000, seed=3, candidates=["B", "C"])
    assert only["A"] == 0 and only.sum() == pytest.approx(1)


def test_rank_probabilities_split_a_tie_and_keep_zero_weights_at_zero():
    scores = pd.DataFrame({"x": [50.0, 50.0], "y": [0.0, 100.0]}, index=["P", "Q"])
    # y has no weight, so P and Q tie in every draw and share first place
    p = rank_probabilities(scores, pd.Series({"x": 1.0, "y": 0.0}), draws=100, seed=1)
    assert p.to_dict() == pytest.approx({"P": 0.5, "Q": 0.5})


def test_score_draws_combine_with_the_weight_draws():
    # The same scores in every draw give exactly the central answer (same seed, same weights).
    repeated = np.repeat(SCORES.to_numpy()[np.newaxis], 500, axis=0)
    pd.testing.assert_series_equal(rank_probabilities(SCORES, WEIGHTS, seed=4, draws=500),
                                   rank_probabilities(SCORES, WEIGHTS, seed=4, scores_draws=repeated))
    # Two options equal but for cost, and cost a coin toss: each is first about half the time.
    mca = _mca({"q": 60, "cost": 40}, pd.DataFrame({"q": [70.0, 70.0]}, index=["P", "Q"]), {"cost": "npv_cost"})
    rng = np.random.default_rng(0)
    cost = {"P": rng.normal(100, 10, 4000), "Q": rng.normal(100, 10, 4000)}
    draws = score_draws(mca, ["P", "Q"], {"npv_cost": cost}, 4000)
    assert draws.shape == (4000, 2, 2)
    assert set(np.unique(draws[:, :, 1])) == {0.0, 100.0}
    central = score_matrix(mca, ["P", "Q"], {"npv_cost": {"P": 100.0, "Q": 101.0}})
    p = rank_probabilities(central, normalised_weights(mca), seed=5, scores_draws=draws)
    assert p["P"] == pytest.approx(0.5, abs=0.03)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=9, max_size=9))
def test_rank_probabilities_concentrate_on_the_top_option(values):
    # As the concentration grows the weight draws cluster on the stated weights,
    # so the option on top at those weights is first ever more often.
    scores = pd.DataFrame(np.reshape(values, (3, 3)), index=["A", "B", "C"], columns=["x", "y", "z"])
    totals = weighted_totals(scores, WEIGHTS).sort_values(ascending=False)
    assume(totals.iloc[0] - totals.iloc[1] > 1)  # a lead the tightest draws cannot overturn
    top = totals.index[0]
    loose = rank_probabilities(scores, WEIGHTS, draws=4000, seed=7, concentration=2)
    tight = rank_probabilities(scores, WEIGHTS, draws=4000, seed=7, concentration=1e6)
    assert tight[top] > 0.99 and tight[top] >= loose[top]


scores_3x3 = st.lists(st.floats(0, 100), min_size=9, max_size=9).map(
    lambda v: pd.DataFrame(np.reshape(v, (3, 3)), index=["A", "B", "C"], columns=["x", "y", "z"]))
# Swing weights in points, as scenario files give them.
raw_weights = st.lists(st.integers(0, 100), min_size=3, max_size=3).filter(lambda w: sum(w) > 0)


@settings(max_examples=100, deadline=None)
@given(scores_3x3, raw_weights, st.floats(0.01, 1000))
def test_totals_stay_on_the_scale_and_ranks_ignore_the_weights_scale(scores, raw, k):
    w = normalised_weights(_mca(dict(zip("xyz", raw))))
    totals = weighted_totals(scores, w)
    assert ((totals >= -1e-9) & (totals <= 100 + 1e-9)).all()
    scaled = normalised_weights(_mca({c: r * k for c, r in zip("xyz", raw)}))
    pd.testing.assert_series_equal(ranks(weighted_totals(scores, scaled)), ranks(totals))


@settings(max_examples=100, deadline=None)
@given(scores_3x3, raw_weights)
def test_the_top_option_changes_where_weight_switching_says(scores, raw):
    w = normalised_weights(_mca(dict(zip("xyz", raw))))
    totals = weighted_totals(scores, w)
    top = totals.index[np.argmax(totals >= totals.max() - 1e-9)]  # the first listed on a tie

    def leader(c: str, wc: float) -> pd.Series:
        others = w.drop(c)
        share = others / others.sum() if others.sum() > 0 else others * 0 + 1 / len(others)
        return weighted_totals(scores, pd.concat([pd.Series({c: wc}), share * (1 - wc)])[w.index])

    for row in weight_switching(scores, w).itertuples():
        for side, at, option in (("down", row.switch_weight_down, row.option_down),
                                 ("up", row.switch_weight_up, row.option_up)):
            if option == NO_SWITCH:
                continue
            beyond = at - 1e-6 if side == "down" else at + 1e-6
            within = (row.current_weight + at) / 2
            after, before = leader(row.criterion, beyond), leader(row.criterion, within)
            assert after[option] >= after.max() - 1e-4 and after[option] >= after[top] - 1e-4
            assert before[top] >= before.max() - 1e-4


def test_worcestershire_2019_partnership_fails_operational_independence():
    sc = wm.load_scenario(FBC)
    table = csf_table(sc)
    assert not table.loc["strategic_partnership", "dfe_operational_independence"]
    assert passes_csf(sc) == {"in_house": False, "strategic_partnership": False,
                              "company_csc": True, "company_broad": True, "company_then_in_house": False}  # hindsight: not open in 2019
    m = wm.appraise(sc).mca
    assert isinstance(m, McaResult)
    assert list(m.scores.columns) == list(sc.mca.criteria) and list(m.scores.index) == list(sc.options)
    assert m.scores["cost"].min() == 0 and m.scores["cost"].max() == 100
    shown = m.table()
    assert not shown.loc["strategic_partnership", "passes_csf"]  # flagged, still shown and ranked
    assert shown["rank"].notna().all()
    assert m.passes_csf[m.preferred] and m.preferred != "strategic_partnership"
    assert m.rank_probabilities.sum() == pytest.approx(1) and m.prob_preferred.sum() == pytest.approx(1)
    assert m.prob_preferred["strategic_partnership"] == 0
    assert m.weight_switching["criterion"].tolist() == list(sc.mca.criteria)


def test_mca_summary_combines_the_monte_carlo_costs():
    sc = wm.load_scenario(FBC)
    res = wm.appraise(sc, draws=50, seed=2)
    assert res.mca.draws == 10_000  # each cost draw paired with 200 weight draws
    m = mca_summary(res.scenario, res.central, res.uncertain, weight_draws=20)
    assert m.draws == 50
    assert m.rationales.loc["in_house", "cost"].startswith("from the model's npv_cost")
    assert m.rank_probabilities.sum() == pytest.approx(1)
    # the central scores come from the central run, whatever the draws
    pd.testing.assert_frame_equal(m.scores, wm.appraise(sc).mca.scores)
