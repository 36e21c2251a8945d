"""Pydantic models of a scenario file (the contract in DESIGN.md).

The models check shapes and single-field rules (types, ranges, allowed words).
Rules that need the whole scenario (one baseline, effects on parameters that
exist, MCA scores for every option, units from the catalogue) live in
:mod:`wcf_model.scenario`, which also turns pydantic's errors into
``FILE:LINE: key: message`` problems.

All models are strict (a quoted "833" is text, not a number), forbid unknown
keys, and refuse NaN and infinity.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .catalogue import DELIVERY_VEHICLES, FUNDERS, OPTIMISM_BIAS_CATEGORIES, SERVICE_LINES

_FY = re.compile(r"^(\d{4})-(\d{2})$")


def financial_year_start(fy: str) -> int:
    """The calendar year a financial year starts in: ``"2019-20" -> 2019``."""
    return int(fy[:4])


def financial_year_label(start: int) -> str:
    """``2019 -> "2019-20"`` (1 April 2019 to 31 March 2020)."""
    return f"{start}-{(start + 1) % 100:02d}"


def _check_fy(text: str) -> str:
    m = _FY.match(text)
    if m is None or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError(f"expected a financial year such as '2019-20', got '{text}'")
    return text


def financial_year_of(date: dt.date) -> str:
    """The financial year (April to March) a date falls in."""
    return financial_year_label(date.year if date.month >= 4 else date.year - 1)


FinancialYear = Annotated[str, AfterValidator(_check_fy)]
Number = Annotated[float, Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Confidence = Annotated[int, Field(ge=1, le=5)]
#: When something happens: a date, a financial year, or the option's go-live.
Timing = dt.date | FinancialYear | Literal["go_live"]

#: Set-up (one-off) cost categories, as in the 2018 outline business case.
SETUP_CATEGORIES = (
    "property", "project_management", "leadership_board", "finance", "hr", "it",
    "legal", "branding", "pension", "redundancy", "other",
)
#: Recurring cost categories an option may add.
RECURRING_CATEGORIES = (
    "company_running", "board", "client_function", "commissioning", "support_services",
    "audit_insurance", "pension", "partnership_fee", "improvement", "other",
)
SetupCategory = Literal[SETUP_CATEGORIES]  # type: ignore[valid-type]
RecurringCategory = Literal[RECURRING_CATEGORIES]  # type: ignore[valid-type]
ServiceLine = Literal[SERVICE_LINES]  # type: ignore[valid-type]
Vehicle = Literal[DELIVERY_VEHICLES]  # type: ignore[valid-type]
Funder = Literal[FUNDERS]  # type: ignore[valid-type]
OptimismBias = Literal[(*OPTIMISM_BIAS_CATEGORIES, "none")]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class Authority(Strict):
    la_code: int | str = Field(description="old three-digit DfE code (885) or new code (E10000034)")
    name: str


class Header(Strict):
    """The ``scenario:`` block."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=80)]
    title: str
    description: str | None = None
    date: dt.date | None = Field(None, description="date of the business case this scenario represents")
    authority: Authority
    base_year: FinancialYear = Field(description="first financial year appraised, and the price base")
    years: Annotated[int, Field(ge=1, le=60)] = 10
    draws: Annotated[int, Field(ge=1, le=1_000_000)] = 1000
    seed: Annotated[int, Field(ge=0)] = 20170919
    deflator_vintage: str | None = Field(None, description="GDP deflator vintage, e.g. '2020-03'; the latest if omitted")
    contract_years: Annotated[int, Field(ge=1, le=60)] | None = Field(
        None, description="length of a delivery contract, for a shorter view of the appraisal (e.g. 5)")
    extends: str | None = None
    effect_library: str | list[str] | None = Field(
        None, description="effect library files or folders (relative to this file) that 'use:' effects cite; "
                          "the project's scenarios/effects/ if omitted")


class Figure(Strict):
    """A sourced figure: one value or values by financial year, with provenance."""

    value: Number | None = None
    values: dict[FinancialYear, Number] | None = None
    unit: str | None = None
    source: str | None = None
    confidence: Confidence | None = None
    price_year: FinancialYear | None = None
    distribution: dict[str, Any] | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_of_value_values(self) -> Figure:
        if (self.value is None) == (self.values is None):
            raise ValueError("give exactly one of 'value' (a number) or 'values' (by financial year)")
        if self.values is not None and not self.values:
            raise ValueError("'values' is empty; give at least one financial year")
        return self


class OneOffCost(Figure):
    """A one-off cost of an option [GBP], e.g. a set-up cost."""

    label: str | None = Field(None, description="what readers see; the category in words by default")
    value: NonNegative | None = None
    values: dict[FinancialYear, NonNegative] | None = None
    unit: Literal["GBP"] = "GBP"
    category: SetupCategory
    when: Timing = "go_live"
    optimism_bias: OptimismBias = "none"
    funder: Funder = "council"


class RecurringCost(Figure):
    """A cost an option adds every year while it runs [GBP/year]."""

    label: str | None = Field(None, description="what readers see; the category in words by default")
    value: NonNegative | None = None
    values: dict[FinancialYear, NonNegative] | None = None
    unit: Literal["GBP/year"] = "GBP/year"
    category: RecurringCategory
    start: Timing = "go_live"
    end: Timing | None = None
    optimism_bias: OptimismBias = "none"
    funder: Funder = "council"


class Effect(Strict):
    """A change an option makes to one model driver (a catalogue parameter).

    ``mode`` says how ``change`` applies: ``add`` adds it (in the driver's
    unit); ``multiply`` multiplies the driver by ``1 + change`` (so -0.03 is a
    3% fall); ``set`` replaces the driver with ``change``. The effect starts at
    ``start``, reaches full size after ``ramp_years`` (linearly), and may fade
    back to nothing over ``fade_years`` once ``fade_after_years`` have passed.
    """

    driver: str
    change: Number
    mode: Literal["add", "multiply", "set"]
    label: str | None = Field(None, description="what readers see; 'Effect on' the driver by default")
    start: Timing = "go_live"
    ramp_years: NonNegative = 0
    fade_after_years: NonNegative | None = None
    fade_years: NonNegative | None = None
    distribution: dict[str, Any] | None = None
    evidence: str = Field(min_length=1)
    confidence: Confidence
    note: str | None = None
    # Written by the loader when an effect cites the effect library (use: NAME);
    # see wcf_model.effect_library. A hand-written effect is a judgement.
    library: str | None = Field(None, description="the library entry this effect was resolved from")
    basis: Literal["evidence", "judgement"] = "judgement"
    source: str | None = Field(None, description="the library entry's citation, design and interval")
    limits: str | None = Field(None, description="what the evidence does not show")
    scale: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    widen: Annotated[float, Field(ge=1, allow_inf_nan=False)] = 1.0

    @model_validator(mode="after")
    def _fade_pair(self) -> Effect:
        if (self.fade_after_years is None) != (self.fade_years is None):
            raise ValueError("give both 'fade_after_years' and 'fade_years', or neither")
        if self.basis == "evidence" and self.library is None:
            raise ValueError("'basis: evidence' belongs to an effect resolved from the effect library (use: NAME)")
        return self


class CsfAssessment(Strict):
    met: bool
    rationale: str = Field(min_length=1)


class Option(Strict):
    """One delivery option (DOMAIN.md, Options)."""

    label: str
    description: str | None = None
    baseline: bool = False
    vehicle: Vehicle
    go_live: dt.date | FinancialYear | None = None
    end: dt.date | FinancialYear | None = None
    scope: Annotated[list[ServiceLine], Field(min_length=1)]
    one_off_costs: dict[str, OneOffCost] = {}
    recurring_costs: dict[str, RecurringCost] = {}
    effects: dict[str, Effect] = {}
    csf: dict[str, CsfAssessment] = {}

    @model_validator(mode="after")
    def _scope_unique(self) -> Option:
        if len(set(self.scope)) != len(self.scope):
            raise ValueError("scope lists a service line more than once")
        return self


class CriticalSuccessFactor(Strict):
    label: str
    description: str | None = None


class Criterion(Strict):
    """An MCA criterion: scored by judgement, or derived from a model output."""

    label: str
    description: str | None = None
    weight: NonNegative
    derived_from: Literal["npv_cost", "financial_total"] | None = None


class Score(Strict):
    score: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
    rationale: str = Field(min_length=1)


class Mca(Strict):
    critical_success_factors: dict[str, CriticalSuccessFactor] = {}
    criteria: dict[str, Criterion] = {}
    scores: dict[str, dict[str, Score]] = {}


class Correlation(Strict):
    """A rank correlation between two uncertain inputs (Gaussian copula)."""

    inputs: Annotated[list[str], Field(min_length=2, max_length=2)]
    rank_correlation: Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)]
    source: str | None = None
    note: str | None = None
