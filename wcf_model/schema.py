"""The types of a scenario: the file as written, and the scenario once loaded.

The pydantic models (the contract in docs/design.md) check shapes and
single-field rules (types, ranges, allowed words); :func:`translate_error` says
what they refuse in plain English. Rules that need the whole scenario (one
baseline, effects on parameters that exist, MCA scores for every option, units
from the catalogue) live in :mod:`wcf_model.validation`, which gives every
problem as ``FILE:LINE: key: message``. :class:`Parameter` and
:class:`Scenario` are what a validated file becomes
(:func:`wcf_model.scenario.load_scenario`).

All models are strict (a quoted "833" is text, not a number), forbid unknown
keys, and refuse NaN and infinity.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .catalogue import DELIVERY_VEHICLES, FUNDERS, OPTIMISM_BIAS_CATEGORIES, SERVICE_LINES, VAT_TREATMENTS, suggest
from .catalogue import OPTION_COST_KINDS, option_input_name
from .errors import Problem
from .formats import financial_year_label, financial_year_start

_FY = re.compile(r"^(\d{4})-(\d{2})$")


def _check_fy(text: str) -> str:
    m = _FY.match(text)
    if m is None or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError(f"expected a financial year such as '2019-20', got '{text}'")
    return text


FinancialYear = Annotated[str, AfterValidator(_check_fy)]
Number = Annotated[float, Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Confidence = Annotated[int, Field(ge=1, le=5)]
#: When something happens: a date, a financial year, the option's go-live or its end.
Timing = dt.date | FinancialYear | Literal["go_live", "end"]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]

#: Set-up (one-off) cost categories, as in the 2018 outline business case.
SETUP_CATEGORIES = (
    "property", "project_management", "leadership_board", "finance", "hr", "it",
    "legal", "branding", "pension", "redundancy", "exit", "other",
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
VatTreatmentName = Literal[VAT_TREATMENTS]  # type: ignore[valid-type]
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


class VatTreatment(Strict):
    """How an item is treated for VAT when a company buys it (see ``wcf_model.catalogue.LINE_VAT``).

    ``standard_rated_share`` is the share of the item that is standard-rated
    purchases; it is required for a ``mixed`` item and implied by the others
    (1 for standard-rated, 0 otherwise). ``reference`` cites the statute or
    HMRC manual section the treatment rests on.
    """

    treatment: VatTreatmentName
    standard_rated_share: Share | None = None
    reference: str = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _share_for_mixed(self) -> VatTreatment:
        if self.treatment == "mixed" and self.standard_rated_share is None:
            raise ValueError("a 'mixed' treatment needs standard_rated_share (the share that is standard-rated)")
        if self.treatment != "mixed" and self.standard_rated_share is not None:
            implied = float(self.treatment == "standard_rated")
            if self.standard_rated_share != implied:
                raise ValueError(f"a '{self.treatment}' item has a standard-rated share of {implied:g}; "
                                 "use treatment: mixed for a share in between")
        return self

    @property
    def share(self) -> float:
        """The standard-rated share [0-1]."""
        if self.standard_rated_share is not None:
            return self.standard_rated_share
        return float(self.treatment == "standard_rated")


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
    bought_by: Literal["company", "council"] | None = Field(
        None, description="who contracts for it under a company option; one-off items default to the council")
    vat: VatTreatment | None = None


class RecurringCost(Figure):
    """A cost an option adds every year while it runs [GBP/year]."""

    label: str | None = Field(None, description="what readers see; the category in words by default")
    value: NonNegative | None = None
    values: dict[FinancialYear, NonNegative] | None = None
    unit: Literal["GBP/year"] = "GBP/year"
    category: RecurringCategory
    start: Timing = "go_live"
    end: Timing | None = Field(None, description="when it stops; by default when the option ends (if it does)")
    optimism_bias: OptimismBias = "none"
    funder: Funder = "council"
    bought_by: Literal["company", "council"] | None = Field(
        None, description="who contracts for it under a company option; by default the company, except the "
                          "council's own client function and partnership fees")
    vat: VatTreatment | None = None


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


class ObMitigation(Strict):
    """How far an option's optimism bias is mitigated, and why (Green Book supplementary guidance).

    ``value`` 0 keeps the upper bound (the starting point at strategic outline
    case), 1 reaches the lower bound (every risk costed); ``stage`` names the
    stage of the case the estimates come from.
    """

    value: Share
    stage: str = Field(min_length=1)
    rationale: str = Field(min_length=1)


class OptionTax(Strict):
    """An option's VAT structure (used by company and trust vehicles).

    ``contract``: ``separate_supplies`` (default) costs VAT with partial
    exemption over the company's mixed outputs (VAT Notice 706, standard
    method); ``single_supply`` treats the contract as one supply whose
    character follows its larger element (HMRC VATGPB8225: taxable when the
    educational support element is as large as or larger than the welfare
    element, otherwise exempt). ``council_contracts`` lists cost lines or groups
    (``placements``, ``send.transport``) the council keeps buying itself, so their
    VAT is refunded under s33 VAT Act 1994 and they are not the company's.
    """

    contract: Literal["separate_supplies", "single_supply"] = "separate_supplies"
    council_contracts: list[str] = []
    rationale: str | None = None


class Option(Strict):
    """One delivery option (docs/domain.md, Options).

    ``based_on`` names another option this one copies before its own keys are
    laid over it (the scenario overlay rules), e.g. a company that returns
    in-house: ``based_on: company_broad`` and ``end: 2024-10-01``.
    """

    label: str
    description: str | None = None
    based_on: str | None = None
    baseline: bool = False
    vehicle: Vehicle
    go_live: dt.date | FinancialYear | None = None
    end: dt.date | FinancialYear | None = None
    scope: Annotated[list[ServiceLine], Field(min_length=1)]
    one_off_costs: dict[str, OneOffCost] = {}
    recurring_costs: dict[str, RecurringCost] = {}
    effects: dict[str, Effect] = {}
    csf: dict[str, CsfAssessment] = {}
    optimism_bias_mitigation: ObMitigation | None = None
    tax: OptionTax = OptionTax()

    def resolve(self, t: Any) -> dt.date | str | None:
        """A timing with ``go_live`` and ``end`` replaced by this option's own dates (None
        where the option has none); a date or a financial year is returned as it is.
        Every reader of a timing resolves it here."""
        return self.go_live if t == "go_live" else self.end if t == "end" else t

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


# ---------------------------------------------------------------------------
# A loaded scenario: what wcf_model.scenario.load_scenario returns once the
# file has been read and wcf_model.validation has passed it
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One resolved input, with everything the assumptions register shows.

    ``value`` is the central value when one number is given; ``values`` maps
    financial years to central values when the figure varies by year.
    """

    name: str
    value: float | None
    values: dict[str, float] | None
    unit: str
    description: str
    source: str | None = None
    confidence: int | None = None
    price_year: str | None = None
    distribution: dict[str, Any] | None = None
    note: str | None = None
    file: str = ""
    line: int | None = None

    def central(self, year: str | None = None) -> float:
        """The central value, for ``year`` when the figure is given by year.

        A year after the last one given carries the last value forward; a year
        before the first takes the first. Without a year, the first year's value.
        """
        if self.values is None:
            return float(self.value)  # type: ignore[arg-type]
        years = sorted(self.values)
        if year is None:
            return self.values[years[0]]
        earlier = [y for y in years if y <= year]
        return self.values[earlier[-1] if earlier else years[0]]


@dataclass(frozen=True)
class Scenario:
    """A loaded, validated scenario.

    Attributes
    ----------
    path : Path
        The file that was loaded (the last of the ``extends`` chain).
    files : tuple of Path
        The chain, base first.
    header : Header
        The ``scenario:`` block.
    parameters : dict
        Dotted parameter name -> :class:`Parameter`.
    options : dict
        Option id -> :class:`~wcf_model.schema.Option`, in file order.
    mca : Mca
        Multi-criteria analysis inputs.
    document : dict
        The resolved scenario as plain data (what the hash is taken over).
    sha256 : str
        Hex digest of the canonical JSON of ``document``.
    placeholders : tuple of Problem
        Text still marked as a placeholder (:func:`find_placeholders`): empty for
        a scenario whose every figure is real. ``--strict`` refuses any; ``run``
        and ``report`` refuse them unless told to allow them.
    """

    path: Path
    files: tuple[Path, ...]
    header: Header
    parameters: dict[str, Parameter]
    options: dict[str, Option]
    mca: Mca
    document: dict[str, Any] = field(repr=False)
    correlations: dict[str, Correlation] = field(default_factory=dict)
    sha256: str = ""
    placeholders: tuple[Problem, ...] = ()

    @property
    def name(self) -> str:
        return self.header.name

    @property
    def baseline(self) -> str:
        """Id of the baseline option."""
        return next(k for k, o in self.options.items() if o.baseline)

    @property
    def financial_years(self) -> list[str]:
        """The appraisal period as financial-year labels, base year first."""
        start = financial_year_start(self.header.base_year)
        return [financial_year_label(start + i) for i in range(self.header.years)]

    def iter_figures(self) -> Iterator[tuple[str, Figure | Parameter]]:
        """Every sourced figure: parameters, then each option's cost items."""
        yield from self.parameters.items()
        for oid, opt in self.options.items():
            for kind in OPTION_COST_KINDS:
                for item_id, item in getattr(opt, kind).items():
                    yield option_input_name(oid, kind, item_id), item


# ---------------------------------------------------------------------------
# The models' errors in plain English (for scenario files and the effect library)
# ---------------------------------------------------------------------------


def _model_at(model: Any, loc: tuple[Any, ...]) -> Any:
    """The pydantic model class that validates the mapping at ``loc``, if any."""
    current = model
    for part in loc:
        while get_origin(current) is not None and get_origin(current) is not dict:
            args = [a for a in get_args(current) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            dicts = [a for a in args if get_origin(a) is dict]
            current = models[0] if models else dicts[0] if dicts else None
            if current is None:
                return None
        if isinstance(current, type) and issubclass(current, BaseModel):
            f = current.model_fields.get(part)
            if f is None:
                return None
            current = f.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return None
    while get_origin(current) is not None and get_origin(current) is not dict:
        args = [a for a in get_args(current) if isinstance(a, type) and issubclass(a, BaseModel)]
        current = args[0] if args else None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def describe_value(value: Any) -> str:
    """A value as a message quotes it: ``'abc' (text)``, ``a mapping``, ``nothing``."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, str):
        return f"'{value}' (text)"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if value is None:
        return "nothing"
    return repr(value)


_TYPE_WORDS = {
    "float_type": "a number", "int_type": "a whole number", "string_type": "text",
    "bool_type": "true or false", "dict_type": "a mapping of keys", "list_type": "a list",
    "date_type": "a date (YYYY-MM-DD)", "model_type": "a mapping of keys",
    "int_from_float": "a whole number", "model_attributes_type": "a mapping of keys",
}


def translate_error(err: dict[str, Any], root: type[BaseModel]) -> tuple[tuple[Any, ...], str]:
    """Turn one pydantic error about a ``root`` model into (loc, plain-English message)."""
    kind, loc, got = err["type"], tuple(err["loc"]), err.get("input")
    # pydantic appends the union member that failed, e.g. ('go_live', 'date');
    # drop those so the key is the one the user wrote.
    loc = tuple(p for p in loc if not (isinstance(p, str) and (p in ("date", "str", "float", "int")
                                                               or p.startswith(("function-", "literal[")))))
    if kind == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        allowed = sorted(model.model_fields) if model else []
        hint = suggest(loc[-1], allowed)
        return loc, (f"unknown key '{loc[-1]}'{hint}" + (f" (allowed here: {', '.join(allowed)})" if allowed else ""))
    if kind == "missing":
        return loc, "required key is missing"
    if kind in _TYPE_WORDS:
        return loc, f"expected {_TYPE_WORDS[kind]}, got {describe_value(got)}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        words = [w.strip(" '") for w in expected.replace(" or ", ", ").split(",")]
        return loc, f"expected one of {expected}, got {describe_value(got)}{suggest(got, words) if isinstance(got, str) else ''}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        ctx = err.get("ctx", {})
        bound = {"greater_than_equal": f"at least {ctx.get('ge')}", "greater_than": f"more than {ctx.get('gt')}",
                 "less_than_equal": f"at most {ctx.get('le')}", "less_than": f"less than {ctx.get('lt')}"}[kind]
        return loc, f"must be {bound}, got {describe_value(got)}"
    if kind == "finite_number":
        return loc, f"expected a finite number, got {describe_value(got)}"
    if kind == "string_pattern_mismatch":
        return loc, (f"'{got}' is not allowed here: use lower-case letters, digits, '-' and '_'"
                     if loc and loc[-1] == "name" else f"'{got}' does not have the expected form")
    if kind in ("too_short", "too_long"):
        return loc, err["msg"].replace("List", "list").replace("Dictionary", "mapping")
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    return loc, msg
