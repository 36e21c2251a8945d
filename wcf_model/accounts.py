"""The two accounts of one option, and the types an appraisal returns.

From an option's cost lines (:mod:`wcf_model.costs`) this builds two accounts
(docs/domain.md, "Money"):

* economic case: real base-year prices, discounted with the STPR, transfers
  (VAT, corporation tax, pension cessation) left out, optimism bias added on
  the option's own items by category (:func:`optimism_bias`); each option's net
  present cost and its difference from the baseline;
* financial case: cash by financial year (base-year prices inflated with the
  GDP deflator), including VAT and tax, split by who pays; the council's own
  cash (``council_cash``) against the baseline's; and the dedicated schools
  grant's high-needs account beside the SEND spending it funds
  (:func:`high_needs_account`).

:class:`OptionResult` holds one option's projection and accounts and
:class:`Appraisal` every option's, as :func:`wcf_model.appraisal.appraise_options`
returns them. Pure functions over ``(draws, years)`` arrays: nothing here
samples an input or reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .catalogue import FUNDERS
from .costs import CompanyAccounts, CostLine
from .errors import WcfModelError
from .inputs import multiply, one_row
from .projection import Projection
from .scenario import Scenario
from .schema import Option


@dataclass(frozen=True)
class OptionResult:
    """One option's projection and accounts.

    Arrays have a leading draws axis. ``economic`` and ``financial`` map a cost
    line to ``(draws, years)``: economic in real base-year prices [GBP a year],
    with an ``optimism_bias`` line; financial in cash [GBP a year], including
    transfers.
    """

    option: str
    projection: Projection
    lines: list[CostLine] = field(repr=False)
    economic: dict[str, np.ndarray] = field(repr=False)
    financial: dict[str, np.ndarray] = field(repr=False)
    funders: dict[str, np.ndarray] = field(repr=False)
    npv_cost: np.ndarray = field(repr=False)            # (draws,) GBP, base-year prices, discounted
    npv_cost_contract: np.ndarray | None = field(default=None, repr=False)
    company: CompanyAccounts | None = field(default=None, repr=False)
    high_needs: dict[str, np.ndarray] | None = field(default=None, repr=False)

    @property
    def economic_total(self) -> np.ndarray:
        """Real cost by year including optimism bias [GBP a year], ``(draws, years)``."""
        return sum(self.economic.values())

    @property
    def financial_total(self) -> np.ndarray:
        """Cash cost by year [GBP a year], ``(draws, years)``."""
        return sum(self.financial.values(), self._no_cost())

    def _no_cost(self) -> np.ndarray:
        """Zeros ``(draws, years)``: the cash of an option with no cost line at all."""
        return np.zeros((self.npv_cost.shape[0], len(self.projection.years)))

    @property
    def council_cash(self) -> np.ndarray:
        """The council's own cash cost by year, including VAT and tax [GBP a year], ``(draws, years)``.

        Every line the council funds (not the DSG high-needs block, not DfE or
        Home Office grants): what the council's general fund pays.
        """
        return self.funders.get("council", self._no_cost())


@dataclass(frozen=True)
class Appraisal:
    """Every option's result, with what produced it."""

    scenario: Scenario
    years: list[str]
    draws: int
    seed: int
    discount_factors: np.ndarray
    nominal_index: np.ndarray          # cash / real, by year
    deflator_vintage: str
    options: dict[str, OptionResult]
    warnings: list[str]

    @property
    def baseline(self) -> str:
        return self.scenario.baseline

    def npv_vs_baseline(self, option: str) -> np.ndarray:
        """Net present cost of an option minus the baseline's, per draw [GBP]."""
        return self.options[option].npv_cost - self.options[self.baseline].npv_cost

    def council_cash_vs_baseline(self, option: str) -> np.ndarray:
        """The council's cash cost of an option minus the baseline's, all years, per draw [GBP, cash].

        The cost to the council including VAT and corporation tax, undiscounted:
        the companion of the economic case, which leaves those transfers out.
        """
        return (self.options[option].council_cash - self.options[self.baseline].council_cash).sum(axis=1)


def mitigation(option: Option, p: Mapping[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """How far the option's optimism bias is mitigated [0-1], ``(draws, years)``.

    The option's own ``optimism_bias_mitigation`` (set and justified by the
    stage of its case); else ``appraisal.optimism_bias_mitigation``; else 0,
    the upper bound the Green Book starts from.
    """
    if option.optimism_bias_mitigation is not None:
        return np.broadcast_to(float(option.optimism_bias_mitigation.value), shape)
    return np.broadcast_to(p.get("appraisal.optimism_bias_mitigation", 0.0), shape)


def optimism_bias_rates(p: Mapping[str, np.ndarray], categories: set[str], mitigated: np.ndarray
                        ) -> dict[str, np.ndarray]:
    """The uplift for each category, between its lower and upper bound [ratio], ``(draws, years)``.

    ``mitigated`` moves it from the upper bound (0) to the lower (1) as risks
    are costed (HM Treasury, Green Book supplementary guidance: optimism bias).
    """
    out = {}
    for cat in categories - {"none"}:
        upper = p.get(f"appraisal.optimism_bias.{cat}.upper")
        if upper is None:
            continue
        lower = p.get(f"appraisal.optimism_bias.{cat}.lower", np.zeros_like(upper))
        # bounds and mitigation are usually the same in every draw: one row then (inputs.one_row)
        upper, lower = one_row(upper), one_row(lower)
        out[cat] = upper - (upper - lower) * one_row(mitigated)
    return out


def optimism_bias(lines: list[CostLine], rates: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """The optimism bias uplift of an option's items [GBP a year, real], ``(draws, years)``; None if none.

    The rule against counting one risk twice: an item's uplift is its rate
    times its *central* estimate, less the upward skew its own Monte Carlo range
    already carries (the range's mean above the central value, as a share of
    it), and never below nil::

        uplift = max(0, rate - (mean / central - 1)) x central

    So an item's expected cost with optimism bias is the larger of its Monte
    Carlo mean and its central value uplifted, never both; the uplift does not
    scale with the draw. The Green Book supplementary guidance reduces optimism
    bias as risks are identified and quantified; a range skewed upwards is such
    a quantification.
    """
    parts = [np.maximum(rates[ln.optimism_bias] - ln.ob_skew, 0.0) * ln.ob_base
             for ln in lines if ln.optimism_bias in rates and not ln.transfer and ln.ob_base is not None]
    return sum(parts) if parts else None


def accounts(lines: list[CostLine], rates: Mapping[str, np.ndarray], nominal_index: np.ndarray,
             priced: dict[int, tuple[np.ndarray, np.ndarray]] | None = None
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(economic by line, financial by line, financial by funder) from cost lines.

    Two lines with the same name would overwrite each other, so they are refused.
    ``priced`` carries each line's cash from one option's accounts to the
    next's (by the identity of its real values): options that share a line
    (the service as it stands, under in-house and a partnership) price it once.
    """
    names = [ln.name for ln in lines]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise WcfModelError(f"two cost lines share the name {', '.join(twice)}: one would hide the other")
    economic = {ln.name: ln.values for ln in lines if not ln.transfer}
    uplift = optimism_bias(lines, rates)
    if uplift is not None:
        # one row when nothing it rests on varies by draw; seen as every draw's, like the lines
        economic["optimism_bias"] = np.broadcast_to(uplift, np.broadcast_shapes(
            uplift.shape, *(ln.values.shape for ln in lines)))
    priced = {} if priced is None else priced
    financial = {}
    for ln in lines:
        real, cash = priced.get(id(ln.values), (None, None))
        if real is not ln.values:
            cash = multiply(ln.values, nominal_index)
            priced[id(ln.values)] = (ln.values, cash)
        financial[ln.name] = cash
    # each funder's cash is the sum of its lines' cash, already priced above (the same products, so the
    # same bits as pricing them again)
    funders = {f: sum((financial[ln.name] for ln in lines if ln.funder == f), np.zeros(1)) for f in FUNDERS}
    return economic, financial, {f: v for f, v in funders.items() if np.any(v)}


def high_needs_account(financial: Mapping[str, np.ndarray], lines: list[CostLine], p: Mapping[str, np.ndarray],
                       given_years: list[str] | None, years: list[str]) -> dict[str, np.ndarray] | None:
    """The DSG high-needs block beside the spending it funds [GBP, cash], each ``(draws, years)``.

    ``spending``: the lines funded by the high-needs block; ``income``: the
    block's allocation (``funding.dsg_high_needs.allocation``, cash by year,
    growing at ``funding.dsg_high_needs.growth`` after the last year given);
    ``deficit``: spending less income in the year; ``cumulative_deficit``: the
    opening deficit plus the deficits to date, the balance a council carries in
    its DSG reserve (under the statutory override it is held apart from the
    general fund, but it is the council's). None without an allocation.
    """
    if "funding.dsg_high_needs.allocation" not in p:
        return None
    spending = sum((financial[ln.name] for ln in lines if ln.funder == "dsg_high_needs"),
                   np.zeros_like(p["funding.dsg_high_needs.allocation"]))
    income = p["funding.dsg_high_needs.allocation"]
    if "funding.dsg_high_needs.growth" in p and given_years:
        last = max(given_years)
        after = np.cumsum(np.array([y > last for y in years], dtype=float))
        income = income * (1 + p["funding.dsg_high_needs.growth"]) ** after[None, :]
    deficit = spending - income
    opening = p.get("funding.dsg_high_needs.opening_deficit", np.zeros_like(income))[:, :1]
    return {"spending": spending, "income": income, "deficit": deficit,
            "cumulative_deficit": opening + np.cumsum(deficit, axis=1)}
