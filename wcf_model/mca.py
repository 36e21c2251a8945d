"""Multi-criteria analysis: scores, swing weights, a weighted sum, and how far the ranking rests on the weights.

The method is the linear additive model of the DCLG manual [1]_ (chapter 6,
"Multi-criteria decision analysis", section 6.2 on its stages): every option is
scored 0-100 on every criterion, the criteria carry swing weights, and an
option's overall value is the weighted sum of its scores. The manual then asks
how sensitive the ranking is to the weights; here that is answered twice:
:func:`weight_switching` finds in closed form the weight at which the top
option changes, and :func:`rank_probabilities` draws weights at random around
the stated ones (and, when the model has Monte Carlo draws, costs as well).

Critical success factors are gates, not criteria: an option that fails one is
still scored, ranked and shown (flagged ``passes_csf = False``), but
:func:`preferred` will not choose it.

Judged criteria are scored in the scenario file. Criteria ``derived_from`` a
model output (``npv_cost``, ``financial_total``) are scored here on a local
scale: the least preferred option scores 0 and the most preferred 100 [1]_
(section 5.6).

References
----------
.. [1] Department for Communities and Local Government (2009). *Multi-criteria
   analysis: a manual*. London: DCLG. ISBN 978-1-4098-1023-0.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import UsageError
from .schema import Mca

if TYPE_CHECKING:  # only the type checker needs these
    from .accounts import Appraisal
    from .scenario import Scenario

#: What :func:`weight_switching` says when the top option never changes on one side.
NO_SWITCH = "none in [0, 1]"
#: Totals closer than this [score points] are a tie: float sums of the same
#: numbers in another order must not decide a rank.
TIE_TOLERANCE = 1e-9
#: Default Dirichlet concentration for :func:`rank_probabilities` (see there).
CONCENTRATION = 50.0


def normalised_weights(mca: Mca) -> pd.Series:
    """Swing weights scaled to sum to one, in criteria order.

    Parameters
    ----------
    mca : Mca
        The scenario's ``mca:`` block; its weights may be on any scale (the
        Worcestershire files use points out of 100).

    Returns
    -------
    Series
        Criterion id -> weight / sum of weights [share].
    """
    weights = pd.Series({cid: c.weight for cid, c in mca.criteria.items()}, name="weight", dtype=float)
    if weights.empty or weights.sum() <= 0:
        raise UsageError("the MCA needs at least one criterion with a positive weight (mca.criteria)")
    weights.index.name = "criterion"
    return weights / weights.sum()


def derived_scores_draws(values: np.ndarray, lower_is_better: bool = True) -> np.ndarray:
    """Local 0-100 scores from model values, draw by draw.

    Parameters
    ----------
    values : array, shape (draws, options)
        A model output for each option in each draw (e.g. net present cost [GBP]).
    lower_is_better : bool
        True for costs: the lowest value scores 100.

    Returns
    -------
    array, shape (draws, options)
        In each draw the least preferred option scores 0, the most preferred
        100, and the rest in proportion in between. When every option has the
        same value in a draw, every option scores 100: the criterion cannot tell
        them apart, so no preference can be drawn from it.
    """
    v = np.asarray(values, dtype=float)
    if lower_is_better:
        v = -v
    low, high = v.min(axis=-1, keepdims=True), v.max(axis=-1, keepdims=True)
    swing = high - low
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = 100.0 * ((v - low) / swing)  # x / x is exactly 1, so the best scores exactly 100
    return np.where(swing > 0, scores, 100.0)


def derived_scores(values: Mapping[str, float], lower_is_better: bool = True) -> dict[str, float]:
    """Local 0-100 scores from one model value per option.

    The least preferred option scores 0 and the most preferred 100, linearly in
    between; for a cost the highest scores 0 and the lowest 100 (costs of 10,
    15 and 20 score 100, 50 and 0). When every option has the same value every
    option scores 100: no preference can be drawn from the criterion.

    Parameters
    ----------
    values : mapping
        Option id -> model value (e.g. net present cost [GBP]).
    lower_is_better : bool
        True for costs.

    Returns
    -------
    dict
        Option id -> score [0-100].
    """
    scores = derived_scores_draws(np.array([list(values.values())], dtype=float), lower_is_better)[0]
    return dict(zip(values, scores.tolist()))


def score_matrix(mca: Mca, options: Sequence[str],
                 model_values: Mapping[str, Mapping[str, float]] | None = None) -> pd.DataFrame:
    """Every option's score on every criterion.

    Parameters
    ----------
    mca : Mca
        Criteria and the judged scores.
    options : list of str
        Option ids, in the order wanted; derived criteria are scaled across
        exactly these options.
    model_values : mapping, optional
        Model output name (``"npv_cost"``, ``"financial_total"``) -> option id ->
        value [GBP]; needed only when a criterion is derived from the model.

    Returns
    -------
    DataFrame
        Options (index ``option``) x criteria (columns, in criteria order),
        scores [0-100].
    """
    one_draw = {k: {o: np.array([v[o]], dtype=float) for o in options} for k, v in (model_values or {}).items()}
    out = pd.DataFrame(score_draws(mca, options, one_draw, draws=1)[0],
                       index=pd.Index(list(options), name="option"), columns=list(mca.criteria))
    out.columns.name = "criterion"
    return out


def score_draws(mca: Mca, options: Sequence[str], model_draws: Mapping[str, Mapping[str, np.ndarray]],
                draws: int) -> np.ndarray:
    """Scores per draw: judged scores repeated, derived scores rescaled within each draw.

    Parameters
    ----------
    mca : Mca
    options : list of str
    model_draws : mapping
        Model output name -> option id -> values, shape ``(draws,)`` [GBP].
    draws : int
        Number of draws (the judged scores are the same in every draw).

    Returns
    -------
    array, shape (draws, options, criteria)
        Scores [0-100], options and criteria in the order given.
    """
    out = np.empty((draws, len(options), len(mca.criteria)))
    for j, (cid, crit) in enumerate(mca.criteria.items()):
        if crit.derived_from is None:
            out[:, :, j] = [mca.scores[cid][o].score for o in options]
            continue
        if crit.derived_from not in model_draws:
            raise UsageError(f"criterion '{cid}' is derived from {crit.derived_from}: pass its model values")
        values = np.column_stack([np.broadcast_to(model_draws[crit.derived_from][o], (draws,)) for o in options])
        out[:, :, j] = derived_scores_draws(values)
    return out


def weighted_totals(scores: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Weighted sum of scores: each option's overall value [0-100 when the weights sum to one].

    Parameters
    ----------
    scores : DataFrame
        Options x criteria [0-100]; columns not in ``weights`` (e.g. a flag) are ignored.
    weights : Series
        Criterion -> normalised weight.
    """
    return (scores[weights.index] @ weights).rename("total")


def ranks(totals: pd.Series) -> pd.Series:
    """Rank by total: 1 is best; tied options share the better rank (1, 1, 3)."""
    # Rounded first, so that float noise in a weighted sum is not a difference in rank.
    return totals.round(9).rank(ascending=False, method="min").astype(int).rename("rank")


def csf_table(scenario: Scenario) -> pd.DataFrame:
    """Whether each option meets each critical success factor.

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    DataFrame
        Options (index ``option``) x factors (columns), True where met, with a
        final ``passes_csf`` column: True only when every factor is met.
    """
    factors = list(scenario.mca.critical_success_factors)
    out = pd.DataFrame([[opt.csf[f].met for f in factors] for opt in scenario.options.values()],
                       index=pd.Index(list(scenario.options), name="option"), columns=factors, dtype=bool)
    out["passes_csf"] = out.all(axis=1)
    return out


def passes_csf(scenario: Scenario) -> dict[str, bool]:
    """Option id -> True when the option meets every critical success factor."""
    return {oid: bool(v) for oid, v in csf_table(scenario)["passes_csf"].items()}


def preferred(totals: pd.Series, passes: Mapping[str, bool]) -> str:
    """The option with the best total among those that pass every critical success factor.

    Ties go to the option listed first. If no option passes, the best option
    overall is returned and a ``UserWarning`` says so: the caller must show that
    the "preferred" option fails a gate (its ``passes_csf`` is False in every table).
    """
    eligible = totals[[bool(passes[o]) for o in totals.index]]
    if eligible.empty:
        warnings.warn("no option passes every critical success factor; the preferred option is the best "
                      "overall and fails a gate", UserWarning, stacklevel=2)
        eligible = totals
    return str(eligible.index[np.argmax(eligible.to_numpy() >= eligible.max() - TIE_TOLERANCE)])


def _top(totals: np.ndarray) -> int:
    """Index of the best total, the first listed on a tie (as :func:`preferred`)."""
    return int(np.argmax(totals >= totals.max() - TIE_TOLERANCE))


def weight_switching(scores: pd.DataFrame, weights: pd.Series,
                     candidates: Sequence[str] | None = None) -> pd.DataFrame:
    """The weight of each criterion at which the top option changes.

    One criterion's normalised weight ``w`` moves from 0 to 1 while the others
    keep their proportions, ``w_k' = w_k (1 - w) / (1 - w_c)``. Each total is
    then linear in ``w``, ``T_i(w) = B_i + w (s_ic - B_i)`` where ``B_i`` is the
    option's score on the other criteria at their proportions, so the top
    option changes where two lines cross: ``w* = (B_a - B_j) / ((B_a - B_j) -
    (s_ac - s_jc))`` for the top option ``a`` and a challenger ``j``. The
    nearest crossing on each side of the current weight is reported. (When a
    criterion holds all the weight, the others are given equal shares as its
    weight falls.)

    Parameters
    ----------
    scores : DataFrame
        Options x criteria [0-100].
    weights : Series
        Criterion -> normalised weight (summing to one).
    candidates : list of str, optional
        Only these options compete for the top (e.g. those that pass every
        critical success factor); all options by default.

    Returns
    -------
    DataFrame
        One row per criterion: ``criterion``, ``current_weight``,
        ``switch_weight_down`` and ``option_down`` (the nearest weight below the
        current one at which ``option_down`` takes the top place),
        ``switch_weight_up`` and ``option_up`` (likewise above). Where the top
        option never changes on a side the weight is NaN and the option
        ``"none in [0, 1]"``; a tie reached only at 0 or 1 is not a change.
    """
    s = scores.loc[list(candidates) if candidates is not None else scores.index, weights.index]
    names, matrix, w = list(s.index), s.to_numpy(float), weights.to_numpy(float)
    a = _top(matrix @ w)
    rows = []
    for c, criterion in enumerate(weights.index):
        others = np.delete(np.arange(len(w)), c)
        share = w[others] / w[others].sum() if w[others].sum() > 0 else np.full(len(others), 1 / max(len(others), 1))
        base = matrix[:, others] @ share                    # B_i: total when the criterion has no weight
        slope = matrix[:, c] - base                         # dT_i / dw
        gap0, gap1 = base[a] - base, slope[a] - slope       # T_a - T_j = gap0 + w gap1
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            cross = -gap0 / gap1
        # A challenger tied with a now crosses here; computed, the crossing could
        # land a rounding error on the wrong side of the current weight.
        cross = np.where(np.abs(gap0 + w[c] * gap1) <= TIE_TOLERANCE, w[c], cross)
        # j gains on a as w rises (falls); a crossing at w = 1 (w = 0) is only a
        # tie at the end of the range, not a change of top option.
        up = (gap1 < 0) & (cross >= w[c]) & (cross < 1)
        down = (gap1 > 0) & (cross <= w[c]) & (cross > 0)
        row = {"criterion": criterion, "current_weight": w[c]}
        for side, mask, nearest, steepest in (("down", down, np.max, np.argmin), ("up", up, np.min, np.argmax)):
            if mask.any():
                at = nearest(cross[mask])
                # Several challengers may cross at the same weight: the one whose
                # line is steepest in that direction is on top just beyond it.
                # (np.isclose's default 1e-5 would also take a crossing a hair later as tied)
                tied = np.flatnonzero(mask & np.isclose(cross, at, rtol=0, atol=TIE_TOLERANCE))
                j = tied[steepest(slope[tied])]
                row |= {f"switch_weight_{side}": float(at), f"option_{side}": names[j]}
            else:
                row |= {f"switch_weight_{side}": np.nan, f"option_{side}": NO_SWITCH}
        rows.append(row)
    return pd.DataFrame(rows, columns=["criterion", "current_weight", "switch_weight_down", "option_down",
                                       "switch_weight_up", "option_up"])


def rank_probabilities(scores: pd.DataFrame, weights: pd.Series, draws: int = 10_000,
                       seed: int | Sequence[int] | None = None,
                       concentration: float = CONCENTRATION, scores_draws: np.ndarray | None = None,
                       candidates: Sequence[str] | None = None) -> pd.Series:
    """Probability that each option ranks first when the weights (and scores) are uncertain.

    Weights are drawn from a Dirichlet distribution centred on the stated
    normalised weights, ``alpha = concentration * weights``: each drawn weight
    has mean ``w_k`` and variance ``w_k (1 - w_k) / (concentration + 1)``. The
    default of 50 gives a weight of 0.30 a standard deviation of about 0.06 (six
    points out of 100), the kind of disagreement a workshop might have about a
    swing weight; larger values trust the stated weights more, and as the
    concentration grows the probabilities tend to one for the option on top at
    the stated weights. Criteria with zero weight stay at zero. An option tied
    for first in a draw gets an equal share of that draw.

    Parameters
    ----------
    scores : DataFrame
        Options x criteria [0-100].
    weights : Series
        Criterion -> normalised weight.
    draws : int
        Number of weight draws; ignored when ``scores_draws`` is given (one weight
        draw per score draw).
    seed : int or list of int, optional
        Seed for the weight draws (anything :func:`numpy.random.default_rng` takes).
    concentration : float
        Dirichlet concentration (sum of the alphas), above 0.
    scores_draws : array, shape (draws, options, criteria), optional
        Scores per draw (from :func:`score_draws`), so that uncertainty in
        derived scores (e.g. Monte Carlo net present costs) combines with the
        weight uncertainty; options and criteria in the order of ``scores``.
    candidates : list of str, optional
        Only these options compete for first place (e.g. those that pass every
        critical success factor); the others get probability 0.

    Returns
    -------
    Series
        Option id -> probability of ranking first; sums to one.
    """
    if concentration <= 0:
        raise ValueError(f"concentration must be above 0, got {concentration}")
    s = scores[weights.index]
    if scores_draws is not None:
        draws = scores_draws.shape[0]
    w = weights.to_numpy(float)
    positive = w > 0
    sampled = np.zeros((draws, len(w)))
    sampled[:, positive] = np.random.default_rng(seed).dirichlet(concentration * w[positive], size=draws)
    matrix = s.to_numpy(float) if scores_draws is None else np.asarray(scores_draws, float)
    totals = (np.einsum("oc,dc->do", matrix, sampled) if matrix.ndim == 2
              else np.einsum("doc,dc->do", matrix, sampled))
    competing = np.ones(len(s), bool) if candidates is None else s.index.isin(list(candidates))
    totals = np.where(competing, totals, -np.inf)
    first = totals >= totals.max(axis=1, keepdims=True) - TIE_TOLERANCE
    share = first / first.sum(axis=1, keepdims=True)
    return pd.Series(share.mean(axis=0), index=s.index, name="prob_first")


@dataclass(frozen=True)
class McaResult:
    """The multi-criteria analysis of one appraisal, as the report and ``results.json`` read it.

    Attributes
    ----------
    scores : DataFrame
        Options x criteria [0-100], derived criteria scored from the central run.
    rationales : DataFrame
        Options x criteria: the reason for each judged score; for a derived
        criterion, the model output it comes from.
    weights : Series
        Criterion -> normalised swing weight.
    totals : Series
        Option -> weighted total [0-100].
    ranks : Series
        Option -> rank by total (1 best, ties share the better rank), every option.
    passes_csf : Series
        Option -> True when it meets every critical success factor.
    preferred : str
        Best total among options that pass (the best overall, with a warning, if none pass).
    weight_switching : DataFrame
        :func:`weight_switching` over every option (the MCA ranking itself).
    rank_probabilities : Series
        Option -> probability of ranking first, over Dirichlet weights and, when
        the results have Monte Carlo draws, the drawn costs.
    prob_preferred : Series
        Option -> probability of being preferred: first among the options that
        pass every critical success factor (0 for those that fail).
    draws : int
        Draws behind the probabilities.
    """

    scores: pd.DataFrame
    rationales: pd.DataFrame
    weights: pd.Series
    totals: pd.Series
    ranks: pd.Series
    passes_csf: pd.Series
    preferred: str
    weight_switching: pd.DataFrame
    rank_probabilities: pd.Series
    prob_preferred: pd.Series
    draws: int

    def table(self) -> pd.DataFrame:
        """One row per option: total, rank, passes_csf, preferred, the two probabilities."""
        out = pd.concat([self.totals, self.ranks, self.passes_csf, self.rank_probabilities,
                         self.prob_preferred], axis=1)
        out.insert(3, "preferred", out.index == self.preferred)
        return out


def _model_values(appraisal: Appraisal, options: Sequence[str]) -> dict[str, dict[str, np.ndarray]]:
    """Model outputs a criterion may be derived from: option -> ``(draws,)`` [GBP]."""
    return {"npv_cost": {o: appraisal.options[o].npv_cost for o in options},
            # Cash over the appraisal period, undiscounted, as the financial case reports it.
            "financial_total": {o: appraisal.options[o].financial_total.sum(axis=1) for o in options}}


def mca_summary(sc: Scenario, central: Appraisal, uncertain: Appraisal, concentration: float = CONCENTRATION,
                weight_draws: int = 10_000) -> McaResult:
    """The whole multi-criteria analysis of an appraisal in one call (:func:`wcf_model.appraise` makes it).

    Parameters
    ----------
    sc : Scenario
    central, uncertain : Appraisal
        The central run, and the Monte Carlo run (the central run again without draws).
    concentration : float
        Dirichlet concentration of the weight draws (see :func:`rank_probabilities`).
    weight_draws : int
        Weight draws (at least; as many as the Monte Carlo draws if there are
        more). Each is paired with one Monte Carlo draw of the model outputs, so
        cost and weight uncertainty combine; without a Monte Carlo run every
        weight draw uses the central costs.

    Returns
    -------
    McaResult
    """
    options, mca = list(sc.options), sc.mca
    weights = normalised_weights(mca)
    values = {k: {o: float(v[o][0]) for o in options} for k, v in _model_values(central, options).items()}
    scores = score_matrix(mca, options, values)
    rationales = pd.DataFrame({cid: [mca.scores[cid][o].rationale if crit.derived_from is None else
                                     f"from the model's {crit.derived_from}, central run: "
                                     f"£{values[crit.derived_from][o] / 1e6:,.1f}m"
                                     for o in options] for cid, crit in mca.criteria.items()},
                              index=scores.index, columns=list(mca.criteria))
    totals = weighted_totals(scores, weights)
    passes = csf_table(sc)["passes_csf"]
    eligible = [o for o in options if passes[o]] or options
    n = max(weight_draws, uncertain.draws)
    # Each weight draw is paired with a cost draw, cycling through the Monte Carlo
    # draws when there are fewer of them: weights and costs are independent.
    model = _model_values(uncertain, options)
    by_draw = score_draws(mca, options, model, uncertain.draws)[np.arange(n) % uncertain.draws]
    # A stream of its own, as wcf_model.inputs gives each input, so the weights
    # are not drawn from the same random numbers as the costs.
    seed = [uncertain.seed, zlib.crc32(b"mca.weights")]
    first, chosen = (rank_probabilities(scores, weights, seed=seed, concentration=concentration,
                                        scores_draws=by_draw, candidates=cands) for cands in (None, eligible))
    return McaResult(
        scores=scores, rationales=rationales, weights=weights, totals=totals, ranks=ranks(totals),
        passes_csf=passes, preferred=preferred(totals, passes), weight_switching=weight_switching(scores, weights),
        rank_probabilities=first, prob_preferred=chosen.rename("prob_preferred"), draws=n)
