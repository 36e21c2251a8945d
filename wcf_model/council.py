"""Any English council's baseline from published data: ``wcf-model new-council``.

:func:`build_baseline` writes a complete scenario for one authority from the
DfE statistics in ``data/`` (or a folder of downloads): its 0-17 population and
growth, referrals, children in need, child protection plans, children looked
after with their placements, care leavers, EHC plans by setting, the social
work workforce, spend from the section 251 outturn, and the in-house baseline
option. Every figure carries its source (publication, file, years), a
confidence grade and, in its note, the arithmetic that made it. What the
published data cannot give comes from :data:`NATIONAL_DEFAULTS`, each named,
sourced and graded 4, and listed at the top of the file as "national
defaults to replace with your own figures".

How each kind of figure is made
-------------------------------
* Rates, shares, opening stocks and the population come from
  :func:`wcf_model.calibrate.calibrate` (and :func:`~wcf_model.calibrate.to_parameters`;
  the headline rates as forecast paths by year over the years appraised),
  fitted to the latest published year (for EHC plans, whose SEN2 caseload in
  the data ends in January 2022, to that year), on the authority's history as
  :func:`wcf_model.data.load_authority` gives it (a reorganised authority's
  predecessors apportioned, labelled). Graded 1, or 4 where England's figure
  stood in for a missing local one.
* A base year that starts after the latest published 31 March: each opening
  stock is carried forward from its latest published figure by the model
  itself, with the calibrated rates, over the years in between (graded 2: a
  published figure carried forward); the population is grown from the latest
  ONS estimate by the model at the calibrated growth rate. The file says so
  at the top and in each note.
* Placement mix: the latest LA tables with placements (31 March 2019 in the
  downloads at hand), by type; in-house and agency fostering and council and
  private homes split by the share of placements the council provided itself.
  An old local figure used for today: graded 4, a proxy.
* Spend: the latest section 251 outturn in the data (2013-14 in the downloads
  at hand; a newer outturn file in the same layout is read the same way),
  children's social care and early help lines, uprated to the base year by the
  growth in the authority's own caseloads (volume) and placement prices above
  inflation (relative price), and left in the outturn year's prices for the
  model's GDP deflator (general inflation). A proxy for today's budget: graded 4.
* Weekly placement costs: from the same outturn where the data also publish
  the placements at the end of its year (a newer outturn than 2013-14: the LA
  tables at hand start at 31 March 2018); national defaults otherwise.
* Uncertainty: the rates calibration forecasts as paths carry its band (from the
  method's errors at earlier origins); any other rate a triangular range, the
  lowest and highest single-year value of the last five years (each a
  calibration with a one-year window).

Grades: 1 published statistic; 2 published statistic carried forward by the
model; 4 national default, England's figure, or an old local figure used as a
proxy; 5 judgement.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .version import __version__
from .calibrate import Estimate, calibrate, to_parameters
from .catalogue import parameter_specs
from .data import load_authority, load_frame
from .tidy import region_rows
from .errors import DataError, UsageError
from .projection import project_parameters
from .prices import load_deflators, price_factor
from .scenario import Parameter
from .formats import financial_year_label, financial_year_start, years_text

#: Confidence grades used here (the scale of the assumptions register).
PUBLISHED, CARRIED_FORWARD, PROXY, JUDGEMENT = 1, 2, 4, 5

#: Years a generated scenario appraises (the Green Book's usual span for a service change).
YEARS = 10

#: HM Treasury deflator vintage the generated files name (the latest in data/).
DEFLATOR_VINTAGE = "2026-03"

NATIONAL = "National default: "


@dataclass(frozen=True)
class Default:
    """A national figure used where the published statistics give no local one."""

    value: float
    unit: str
    source: str
    note: str
    price_year: str | None = None
    confidence: int = PROXY
    distribution: dict | None = None


#: The national defaults a baseline falls back on, by catalogue name. The
#: same national unit costs as the Worcestershire case; each range is the
#: judgement stated in its note.
NATIONAL_DEFAULTS: dict[str, Default] = {
    "costs.placements.weekly.in_house_fostering": Default(
        646, "GBP/week", "PSSRU, Unit Costs of Health and Social Care 2017: foster care, all-in (allowances, "
        "administration, social work)",
        "National unit cost. It includes social work time, which the workforce lines also cost. DfE "
        "(parliamentary answer 49075) gives about £600 a week on average, so the range reaches below it.",
        "2016-17", distribution={"type": "triangular", "low": 560, "mode": 646, "high": 760}),
    "costs.placements.weekly.ifa": Default(
        820, "GBP/week", "CMA, Children's social care market study, final report (2022): independent fostering "
        "agency placement about £820 a week in 2020-21",
        "National average; the range, +/-15%, is a judgement.", "2020-21",
        distribution={"type": "triangular", "low": 700, "mode": 820, "high": 950}),
    "costs.placements.weekly.council_home": Default(
        4750, "GBP/week", "Revolution Consulting for the LGA and ADCS, February 2020: council children's homes on a "
        "like-for-like basis £4,750 a week, 2018-19",
        "National like-for-like estimate; the low end reaches towards the narrower £3,000 a week of DfE "
        "parliamentary answer 49075.", "2018-19",
        distribution={"type": "triangular", "low": 3500, "mode": 4750, "high": 5500}),
    "costs.placements.weekly.external_home": Default(
        3970, "GBP/week", "Revolution Consulting for the LGA and ADCS, February 2020: private or voluntary children's "
        "homes £3,970 a week, 2018-19",
        "National average. The range is skewed upwards (judgement): the most complex placements cost far more.",
        "2018-19", distribution={"type": "triangular", "low": 3400, "mode": 3970, "high": 5500}),
    "costs.placements.weekly.placed_with_parents": Default(
        0, "GBP/week", "DfE, Children looked after in England: a child placed with parents has no placement fee",
        "The cost of such a placement is the social work, which the workforce lines count.", "2019-20"),
    "costs.placements.weekly.placed_for_adoption": Default(
        0, "GBP/week", "DfE, Children looked after in England: a child placed for adoption lives with prospective "
        "adopters, who receive no fostering allowance",
        "Adoption support and inter-agency fees are not modelled.", "2019-20"),
    "costs.send.annual.maintained_special": Default(
        20000, "GBP/year", "Schools Week: a maintained special school place costs £10,000-£30,000 a year (2015-16)",
        "Mid-point of the published range; the range is the distribution.", "2015-16",
        distribution={"type": "uniform", "low": 10000, "high": 30000}),
    "costs.send.annual.independent_special": Default(
        54500, "GBP/year", "Schools Week; DfE parliamentary answer 100030: an independent special school place costs "
        "£52,000-£57,000 a year (2015-16 to 2021-22)",
        "Mid-point of the published range, priced at the middle of its span (judgement).", "2018-19",
        distribution={"type": "uniform", "low": 52000, "high": 57000}),
    "costs.send.annual.mainstream": Default(
        7000, "GBP/year", "National Audit Office, Support for pupils with special educational needs and disabilities "
        "in England (HC 2636, September 2019): up to £18,000 a year for a pupil with an EHC plan in a mainstream school "
        "in 2017-18; ESFA, High needs funding operational guide: the school meets the first £6,000 itself",
        "What the high-needs block pays is the top-up above the school's own £6,000: £18,000 - £6,000 - about £5,000 "
        "basic per-pupil funding = about £7,000 a year. The range, £4,000 for lighter plans to £10,000, is a judgement.",
        "2017-18", distribution={"type": "triangular", "low": 4000, "mode": 7000, "high": 10000}),
    "costs.send.annual.post_16": Default(
        10000, "GBP/year", "ESFA, High needs funding 2019 to 2020 operational guide: £6,000 place funding for each "
        "high-needs student in further education, with a top-up from the authority above it",
        "£6,000 place funding + a judged average top-up of £4,000. Range: £6,000 (place funding only) to £20,000 "
        "(specialist post-16 institutions and school sixth forms), a judgement.", "2019-20", confidence=JUDGEMENT,
        distribution={"type": "triangular", "low": 6000, "mode": 10000, "high": 20000}),
    "costs.staff.salary.social_worker": Default(
        35000, "GBP/year", "Judgement: a qualified children's social worker on local government pay scales "
        "(no pay data in the published statistics)",
        "Replace with the mid-point of your own pay scale. PSSRU gives £40 an hour in 2013-14 including on-costs "
        "and overheads, which cannot be split back to a salary.", "2019-20", confidence=JUDGEMENT,
        distribution={"type": "triangular", "low": 30000, "mode": 35000, "high": 40000}),
    "costs.staff.pension_employer_rate": Default(
        0.18, "share", "Judgement: a Local Government Pension Scheme employer contribution rate",
        "Replace with your fund's rate from its latest actuarial valuation.", confidence=JUDGEMENT,
        distribution={"type": "triangular", "low": 0.14, "mode": 0.18, "high": 0.25}),
    "costs.staff.agency_premium": Default(
        0.65, "ratio", "Derived from CYP Now, July 2022 (a managed-team agency social worker £350 a day, 2021-22) "
        "and the judged permanent cost",
        "£350 a day in 2021-22 is £331.8 in 2019-20 prices (GDP deflator); a permanent worker costs £35,000 x "
        "(1 + 0.109 on-costs + 0.18 pension) = £45,114 a year / 225 working days = £200.5 a day; 331.8 / 200.5 - 1 "
        "= 0.65. Managed-team rates run above individual locum rates, hence the wide range (judgement).",
        distribution={"type": "triangular", "low": 0.3, "mode": 0.65, "high": 1.0}),
    "workforce.iro_caseload": Default(
        60, "cases/FTE", "IRO Handbook (DCSF, 2010): a caseload of 50-70 looked-after children per full-time "
        "independent reviewing officer",
        "Mid-point of the national guidance range. The model also counts children on protection plans, which "
        "overstates what one officer holds where IROs chair conferences.",
        distribution={"type": "uniform", "low": 50, "high": 70}),
    "demand.care_leavers.support_22_25_share": Default(
        0.51, "share", "DfE, Children looked after in England including adoptions, 2025 release: care leavers "
        "now aged 22 (11,670) and 23 (11,320), of whom 6,780 and 4,820 asked for and received support",
        "(6,780 + 4,820) / (11,670 + 11,320) = 0.505, the share of care leavers aged 22-23 receiving support."),
    "finance.vat_rate": Default(
        0.2, "share", "VAT Act 1994, s2: standard rate 20% (from 4 January 2011)",
        "A council recovers VAT on its non-business activity (s33 VAT Act 1994); a company supplying welfare "
        "services makes exempt supplies (Sch 9 Group 7) and cannot.", confidence=PUBLISHED),
    **{f"appraisal.optimism_bias.{cat}.{bound}": Default(
        value, "ratio", f"HM Treasury Green Book supplementary guidance: optimism bias (Mott MacDonald 2002), "
        f"{words}, {bound} bound",
        f"The Green Book's {bound} bound for {words}: an option's own costs in this category are raised by "
        f"{value:.0%} " + ("at the start of appraisal, before its risks are costed." if bound == "upper" else
                           "once its risks are fully costed; appraisal.optimism_bias_mitigation moves between "
                           "the bounds (0, the upper bound, when it is not given)."))
       for cat, words, bounds in (
           ("outsourcing", "outsourcing operating costs", (0.41, 0.0)),
           ("equipment_development", "equipment and development capital costs", (2.0, 0.1)),
           ("standard_buildings", "standard buildings capital costs", (0.24, 0.02)),
           ("non_standard_buildings", "non-standard buildings capital costs", (0.51, 0.04)))
       for bound, value in zip(("upper", "lower"), bounds)},
}

#: Care leavers aged 17-21 in England in 2020-21: 44,590 (DfE, Children looked after in
#: England including adoptions, 2021 release, as reported by CYP Now's leaving care special
#: report), five yearly cohorts. Used with England's children ceasing care that year.
CARE_LEAVERS_17_21_ENGLAND_2021 = 44_590
CARE_LEAVER_SOURCE = ("DfE, Children looked after in England including adoptions, 2021 release: 44,590 care "
                      "leavers aged 17-21 in 2020-21 (as reported by CYP Now, leaving care special report)")

#: Children's homes: the NAO (September 2025) puts a place at £318,400 a year in 2023-24
#: against £239,800 in 2019-20, both in 2023-24 prices: (318,400 / 239,800)^(1/4) - 1 a year
#: above inflation. Fostering: no evidence of real growth either way (none assumed).
HOMES_REAL_GROWTH = (318_400 / 239_800) ** 0.25 - 1
HOMES_REAL_GROWTH_SOURCE = ("NAO, Children's social care (September 2025): a children's home place £318,400 a year "
                            "in 2023-24 against £239,800 in 2019-20, both in 2023-24 prices")

#: Employer National Insurance on earnings above the secondary threshold, by tax year:
#: (rate, threshold GBP a year). Social Security Contributions and Benefits Act 1992 s9 as
#: amended; 13.8% to 2024-25 (the 2022-23 Health and Social Care Levy rise to 15.05% was
#: reversed from 6 November 2022 by the Health and Social Care Levy (Repeal) Act 2022, so
#: 13.8% is used for the year); 15% above £5,000 from 6 April 2025 (National Insurance
#: Contributions (Secondary Class 1 Contributions) Act 2025), the threshold frozen to April 2028.
EMPLOYER_NI = {
    "2019-20": (0.138, 8632), "2020-21": (0.138, 8788), "2021-22": (0.138, 8840), "2022-23": (0.138, 9100),
    "2023-24": (0.138, 9100), "2024-25": (0.138, 9100), "2025-26": (0.15, 5000), "2026-27": (0.15, 5000),
    "2027-28": (0.15, 5000),
}
#: Apprenticeship levy: 0.5% of the pay bill (Finance Act 2016, Part 6).
APPRENTICESHIP_LEVY = 0.005

#: Section 251 lines (wcf_model.dfe.S251_LINES) in each service line's budget, gross spend.
#: Children's social care: looked-after children, other children's and families services,
#: safeguarding, support for disabled children and youth justice. Early help: Sure Start
#: children's centres, targeted and universal family support, services for young people.
S251_SERVICE_LINES: dict[str, tuple[str, ...]] = {
    "social_care": ("cla_total", "other_children_families", "safeguarding_total", "family_support_direct_payments",
                    "family_support_short_breaks", "family_support_disabled_other", "youth_justice"),
    "early_help": ("sure_start_total", "family_support_targeted", "family_support_universal", "young_people_total"),
}
#: Looked-after children's placement lines, which also carry the placements' real price growth.
S251_PLACEMENT_LINES = ("cla_residential", "cla_fostering")

#: Measures each calibrated parameter reads (for its source).
PARAMETER_MEASURES: dict[str, tuple[str, ...]] = {
    "population.age_0_17": ("population_0_17",),
    "population.growth_rate": ("population_0_17",),
    "demand.referrals.rate_per_10k": ("referrals", "population_0_17"),
    "demand.referrals.rereferral_share": ("rereferral_percent",),
    "demand.cin.opening_stock": ("cin_at_31_march",),
    "demand.cin.start_share_of_referrals": ("cin_started", "referrals"),
    "demand.cin.exit_rate": ("cin_at_31_march", "cin_started"),
    "demand.cpp.opening_stock": ("cpp_at_31_march",),
    "demand.cpp.share_of_cin": ("cpp_at_31_march", "cin_at_31_march"),
    "demand.cla.opening_stock": ("cla_at_31_march",),
    "demand.cla.start_rate_per_10k": ("cla_starts", "cla_during_year", "cla_at_31_march", "population_0_17"),
    "demand.cla.exit_rate": ("cla_ceased", "cla_starts", "cla_at_31_march", "cla_during_year"),
    "demand.cla.uasc_share": ("cla_uasc", "cla_at_31_march"),
    "demand.ehcp.opening_stock": ("ehcp_total",),
    "demand.ehcp.new_per_10k": ("ehcp_new", "population_0_17"),
    "demand.ehcp.ceased_rate": ("ehcp_total", "ehcp_new"),
    "workforce.caseload_target": ("sw_caseload_per_fte",),
    "workforce.cases_per_child_in_need": ("sw_cases", "cin_at_31_march"),
    "workforce.agency_share": ("sw_agency_percent",),
    "workforce.vacancy_rate": ("sw_vacancy_percent",),
    "workforce.turnover_rate": ("sw_turnover_percent",),
}
EHCP_PARAMETERS = ("demand.ehcp.opening_stock", "demand.ehcp.new_per_10k", "demand.ehcp.ceased_rate")
#: Opening stock parameter -> the model's closing measure it is carried forward with.
STOCKS = {"demand.cin.opening_stock": "cin_closing", "demand.cpp.opening_stock": "cpp_closing",
          "demand.cla.opening_stock": "cla_closing", "demand.ehcp.opening_stock": "ehcp_closing"}


@dataclass(frozen=True)
class Figure:
    """One figure of a generated scenario, as it is written to the file."""

    name: str
    unit: str
    source: str
    confidence: int
    note: str
    value: float | None = None
    values: dict[str, float] | None = None
    price_year: str | None = None
    distribution: dict | None = None

    def leaf(self) -> dict:
        out: dict = {"values": dict(self.values)} if self.values is not None else {"value": self.value}
        out["unit"] = self.unit
        if self.price_year:
            out["price_year"] = self.price_year
        out.update(source=self.source, confidence=self.confidence)
        if self.distribution:
            out["distribution"] = dict(self.distribution)
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Baseline:
    """A council's generated baseline: header, figures, what was projected, what to replace."""

    la_code: str
    new_la_code: str
    la_name: str
    base_year: str
    figures: dict[str, Figure]
    latest: dict[str, int]                 # what -> latest published year used
    carried: list[str] = field(default_factory=list)   # sentences on what was carried forward
    notes: list[str] = field(default_factory=list)     # reorganisation, gaps
    command: str = ""
    data_note: str = ""

    @property
    def name(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.la_name.lower()).strip("-")
        return f"{slug}-{self.base_year}"

    def to_replace(self) -> list[Figure]:
        """National defaults, proxies and judgements (grades 4 and 5), in file order."""
        return [f for f in self.figures.values() if f.confidence >= PROXY]

    def document(self) -> dict:
        """The scenario as plain data (what the YAML file holds)."""
        tree: dict = {}
        for fig in self.figures.values():
            node = tree
            *groups, last = fig.name.split(".")
            for g in groups:
                node = node.setdefault(g, {})
            node[last] = fig.leaf()
        return {
            "scenario": self.header(),
            "parameters": tree,
            "options": {"in_house": IN_HOUSE},
        }

    def header(self) -> dict:
        code = int(self.la_code) if self.la_code.isdigit() else self.la_code
        return {
            "name": self.name,
            "title": f"{self.la_name} children's services: baseline from published data, {self.base_year}",
            "description": (f"The published position of {self.la_name}'s children's services (LA {self.la_code}, "
                            f"{self.new_la_code}) and the in-house baseline, built from the DfE's statistics by "
                            f"wcf-model new-council. Add the delivery options to compare in a file that extends "
                            "this one."),
            "authority": {"la_code": code, "name": self.la_name},
            "base_year": self.base_year,
            "years": YEARS,
            "draws": 1000,
            "seed": 1,
            "deflator_vintage": DEFLATOR_VINTAGE,
        }

    def to_yaml(self) -> str:
        """The scenario file: commented, grouped, every figure with its source and arithmetic."""
        return render_yaml(self)


IN_HOUSE = {
    "label": "In-house (business as usual)",
    "description": ("The council keeps running its children's services as now: the baseline every other option "
                    "is compared with."),
    "baseline": True,
    "vehicle": "council",
    "scope": ["social_care"],
}


# ---------------------------------------------------------------------------
# Reading the history
# ---------------------------------------------------------------------------


def _last_year(rows: pd.DataFrame, measures: Iterable[str], up_to: int | None = None) -> int | None:
    """The latest year with a published number for any of ``measures`` (up to ``up_to``)."""
    years = [y for m in measures for y in _lookup(rows).years.get(m, ()) if up_to is None or y <= up_to]
    return max(years) if years else None


def _source(rows: pd.DataFrame, measures: Iterable[str], years: Iterable[int], before: bool = True) -> str:
    """'DfE, <publication> (<file>); ...' for the rows of these measures and years (and the
    year before each, which ratios also read, unless ``before`` is False)."""
    years = sorted(set(years))
    if not years:
        return ""
    where = _lookup(rows).sources
    used = [where[(m, y)] for m in measures for y in range(min(years) - (1 if before else 0), max(years) + 1)
            if (m, y) in where]
    parts: list[str] = []
    for pub, file in sorted(set(used), key=lambda x: (x[1] == "", x)):
        if not file:
            text = "figures estimated for the years before the authority existed (see the note)"
        else:
            text = f"{'' if pub.startswith(('DfE', 'ONS')) else 'DfE, '}{pub} ({file})"
        if text not in parts:
            parts.append(text)
    return "; ".join(parts)


def _round(name: str, value: float) -> float:
    """Round as a person would write the figure: counts whole, shares to 4 places."""
    unit = parameter_specs()[name].unit
    if unit in ("children", "plans", "referrals", "families", "people"):
        return float(round(value))
    if unit in ("share", "share/year", "share points"):
        return round(value, 4)
    if unit.startswith("GBP"):
        return float(round(value))
    return round(value, 2)


#: Every measure calibration reads: rows of other measures are left out before calling it.
CALIBRATION_MEASURES = frozenset(m for ms in PARAMETER_MEASURES.values() for m in ms)


def _for_calibration(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows calibration reads (made once per frame)."""
    cells = _lookup(rows)
    if not hasattr(cells, "calibration"):
        cells.calibration = rows[rows["measure"].isin(CALIBRATION_MEASURES)]
    return cells.calibration


def _calibrated(la: pd.DataFrame, england: pd.DataFrame, fit_to: int, names: Iterable[str],
                horizon: int, region: pd.DataFrame | None = None) -> dict[str, Figure]:
    """Figures from :func:`calibrate` fitted to ``fit_to``, each with its own source; rates it
    forecasts are paths by year for ``horizon`` years from ``fit_to``, with their uncertainty
    (pulled towards the region's rates where the forecast's shared parameters say so)."""
    estimates = calibrate(_for_calibration(la), _for_calibration(england), fit_to, horizon=horizon, region=region)
    out = {}
    for name in names:
        est: Estimate | None = estimates.get(name)
        if est is None:
            continue
        who = england if est.fallback else la
        source = _source(who, PARAMETER_MEASURES.get(name, ()), est.years)
        if est.fallback:
            source = f"England's figures in place of the authority's own: {source}"
        if est.values is not None and name != "population.age_0_17":
            source += ("; forecast with parameters shared across every English authority's published figures "
                       "(docs/forecasting.md)")
        leaf = to_parameters({name: est}, source)
        for part in name.split("."):
            leaf = leaf[part]
        value = None if est.values is not None else _round(name, leaf["value"])
        values = None if est.values is None else {k: _round(name, v) for k, v in leaf["values"].items()}
        note = leaf["note"] if value is None else f"{leaf['note'].rstrip('.')}. Result: {value:g}."
        out[name] = Figure(name, leaf["unit"], source, leaf["confidence"], note, value, values,
                           distribution=leaf.get("distribution"))
    return out


#: Rates given a range from the authority's own year-to-year variation.
RANGED = ("population.growth_rate", "demand.referrals.rate_per_10k", "demand.referrals.rereferral_share",
          "demand.cin.start_share_of_referrals", "demand.cin.exit_rate", "demand.cpp.share_of_cin",
          "demand.cla.start_rate_per_10k", "demand.cla.exit_rate", "demand.ehcp.new_per_10k",
          "demand.ehcp.ceased_rate", "workforce.caseload_target", "workforce.cases_per_child_in_need",
          "workforce.agency_share", "workforce.vacancy_rate", "workforce.turnover_rate")
#: Years of single-year values the range spans.
RANGE_YEARS = 5


def _with_ranges(figures: dict[str, Figure], la: pd.DataFrame, england: pd.DataFrame, fit_to: int) -> None:
    """Give each calibrated rate without a band of its own a triangular range: the lowest and
    highest single-year value over the last :data:`RANGE_YEARS` years (each from
    :func:`calibrate` with a one-year window), the central value as the mode. In place; a rate
    whose years all agree keeps none, and a forecast path keeps the calibration's band."""
    singles: dict[str, dict[int, float]] = {}
    la, england = _for_calibration(la), _for_calibration(england)
    for year in range(fit_to - RANGE_YEARS + 1, fit_to + 1):
        for name, est in calibrate(la, england, year, window=1, method="window").items():
            if name in figures and est.value is not None and not est.fallback and year in est.years:
                singles.setdefault(name, {})[year] = est.value
    for name in RANGED:
        fig, found = figures.get(name), singles.get(name, {})
        # a forecast path keeps the calibration's own band (from its rolling-origin errors)
        if fig is None or fig.value is None or fig.distribution or fig.confidence != PUBLISHED or len(found) < 2:
            continue
        low, high = _round(name, min(found.values())), _round(name, max(found.values()))
        if not low < high or not low <= fig.value <= high:
            continue
        figures[name] = Figure(fig.name, fig.unit, fig.source, fig.confidence,
                               f"{fig.note} Range: the lowest and highest single year, "
                               f"{years_text(found)}: {', '.join(f'{y} {v:.4g}' for y, v in sorted(found.items()))}.",
                               fig.value, distribution={"type": "triangular", "low": low, "mode": fig.value,
                                                        "high": high})


def _parameters(figures: Mapping[str, Figure]) -> dict[str, Parameter]:
    specs = parameter_specs()
    return {n: Parameter(n, f.value, f.values, f.unit, specs[n].description) for n, f in figures.items()}


def _carry_forward(figures: dict[str, Figure], stocks: Iterable[str], from_year: int, base_start: int,
                   population: Figure) -> list[str]:
    """Replace the opening stocks published at 31 March ``from_year`` with the model's projection
    of them to 31 March ``base_start``; return a sentence for each."""
    stocks = [s for s in stocks if s in figures]
    if not stocks or base_start <= from_year:
        return []
    years = [financial_year_label(y) for y in range(from_year, base_start)]
    params = _parameters({**figures, "population.age_0_17": population})
    projection = project_parameters(params, years)
    measures = projection.measures()
    said = []
    for name in stocks:
        old = figures[name]
        closing = measures.get(STOCKS[name])
        if closing is None:
            continue
        new = _round(name, float(closing[0, -1]))
        span = years[0] if len(years) == 1 else f"{years[0]} to {years[-1]}"
        published = re.sub(r" Result: [^ ]+\.$", "", old.note)
        note = (f"Projected from the published figure at 31 March {from_year} ({old.value:,.0f}) by the model "
                f"over {span}, with the rates in this file: {old.value:,.0f} -> {new:,.0f} at 31 March "
                f"{base_start}, the start of the base year. The published figure: {published}")
        figures[name] = Figure(name, old.unit, old.source, CARRIED_FORWARD if old.confidence == PUBLISHED
                               else old.confidence, note, new)
        said.append(f"{name} ({old.value:,.0f} at 31 March {from_year} -> {new:,.0f})")
    return said


# ---------------------------------------------------------------------------
# Figures the calibration does not make
# ---------------------------------------------------------------------------


class _Cells:
    """One authority's figures by (measure, year), and where each published number came from,
    looked up without filtering a frame each time."""

    def __init__(self, rows: pd.DataFrame):
        keys = list(zip(rows["measure"].tolist(), rows["year"].tolist()))
        values = rows["value"].tolist()
        self.values = dict(zip(keys, values))
        self.sources = {k: (p, f) for k, v, p, f in zip(keys, values, rows["publication"].tolist(),
                                                         rows["source_file"].tolist()) if v == v}  # not NaN
        self.years: dict[str, list[int]] = {}
        for measure, year in self.sources:
            self.years.setdefault(measure, []).append(year)

    def __call__(self, measure: str, year: int) -> float:
        v = self.values.get((measure, year), math.nan)
        return math.nan if v is None else float(v)


_CACHE: dict[int, tuple[pd.DataFrame, _Cells]] = {}


def _lookup(rows: pd.DataFrame) -> _Cells:
    """The lookup of a frame, built once (a few frames are in use at a time: the authority's and England's)."""
    held = _CACHE.get(id(rows))
    if held is None or held[0] is not rows:
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        held = (rows, _Cells(rows))
        _CACHE[id(rows)] = held
    return held[1]


def _cell(rows: pd.DataFrame, measure: str, year: int) -> float:
    """A figure of ``rows``, NaN when not published."""
    return _lookup(rows)(measure, year)


def _provider_split(who: pd.DataFrame, year: int) -> tuple[float, float, float, float]:
    """Children in foster placements and in homes (with secure units and semi-independent living)
    at 31 March ``year``, the council's own placements and everyone else's: what the published
    table gives to split fostering and homes between the council and other providers."""
    get = {m: np.nan_to_num(_cell(who, m, year)) for m in (
        "cla_placement_foster", "cla_placement_homes_secure_semi_independent", "cla_provider_own",
        "cla_provider_private", "cla_provider_voluntary", "cla_provider_other_la", "cla_provider_other_public")}
    others = sum(get[k] for k in ("cla_provider_private", "cla_provider_voluntary", "cla_provider_other_la",
                                  "cla_provider_other_public"))
    return (get["cla_placement_foster"], get["cla_placement_homes_secure_semi_independent"],
            get["cla_provider_own"], others)


def _local_unit_costs(la: pd.DataFrame, s251_year: int | None) -> dict[str, Figure]:
    """Weekly placement costs from the section 251 outturn, where the data also publish the
    placements at the end of the outturn year: spend on each kind of placement by the council
    and by other providers, over the children in it (the 31 March count standing for the year's
    average), over 365.25 / 7 weeks. None for the 2013-14 outturn at hand: the LA tables in the
    data give placements from 31 March 2018 only."""
    if s251_year is None or np.isnan(_cell(la, "cla_placement_foster", s251_year)):
        return {}
    foster, homes, own, others = _provider_split(la, s251_year)
    if own + others <= 0:
        return {}
    share = own / (own + others)
    weeks = 365.25 / 7
    outturn = financial_year_label(s251_year - 1)
    out = {}
    for kind, line, provided, children in (
            ("in_house_fostering", "cla_fostering", ("own",), foster * share),
            ("ifa", "cla_fostering", ("private", "voluntary", "other_public"), foster * (1 - share)),
            ("council_home", "cla_residential", ("own",), homes * share),
            ("external_home", "cla_residential", ("private", "voluntary", "other_public"), homes * (1 - share))):
        spend = sum(np.nan_to_num(_cell(la, f"s251_{line}_{p}", s251_year)) for p in provided)
        if children < 1 or spend <= 0:
            continue
        weekly = float(round(spend / children / weeks))
        name = f"costs.placements.weekly.{kind}"
        national = NATIONAL_DEFAULTS[name]
        out[name] = Figure(
            name, "GBP/week", _source(la, [f"s251_{line}_gross", "cla_placement_foster"], [s251_year], before=False),
            PROXY,
            f"Section 251 outturn {outturn}, {line.replace('_', ' ')} provided by {' or '.join(provided).replace('_', ' ')}"
            f": £{spend:,.0f} / {children:,.1f} children (the {foster if 'fostering' in kind else homes:,.0f} "
            f"at 31 March {s251_year} in {'foster placements' if 'fostering' in kind or kind == 'ifa' else 'homes, secure units and semi-independent living'}"
            f" x {'the' if kind in ('in_house_fostering', 'council_home') else '1 -'} council's own share {share:.3f}) / "
            f"{weeks:.2f} weeks = £{weekly:,.0f} a week. The national default would be £{national.value:,.0f} "
            f"({national.price_year} prices). A 31 March count stands for the year's average, and the split "
            "between the council and other providers is a proxy: check against your own placement costs.",
            weekly, price_year=outturn)
    return out


def _placement_mix(la: pd.DataFrame, england: pd.DataFrame, up_to: int) -> dict[str, Figure]:
    """The ten placement shares from the latest LA tables with placements."""
    year = _last_year(la, ["cla_placement_foster"], up_to)
    who, words = la, "the authority's"
    if year is None or np.isnan(_cell(la, "cla_at_31_march", year)) or _cell(la, "cla_at_31_march", year) <= 0:
        year, who, words = _last_year(england, ["cla_placement_foster"], up_to), england, "England's"
    if year is None:
        return {}
    cla = _cell(who, "cla_at_31_march", year)
    get = {m: _cell(who, m, year) for m in (
        "cla_placement_foster", "cla_placement_homes_secure_semi_independent", "cla_placed_with_parents",
        "cla_placed_for_adoption", "cla_placement_other_community", "cla_placement_other_residential",
        "cla_placement_residential_school", "cla_placement_other", "cla_provider_own", "cla_provider_private",
        "cla_provider_voluntary", "cla_provider_other_la", "cla_provider_other_public")}
    known = {k: (0.0 if np.isnan(v) else v) for k, v in get.items()}
    suppressed = sorted(k for k, v in get.items() if np.isnan(v) and not k.startswith("cla_provider"))
    foster, homes, own, others = _provider_split(who, year)
    own_share = own / (own + others) if own + others > 0 else 0.5
    other_named = (known["cla_placement_other_residential"] + known["cla_placement_residential_school"]
                   + known["cla_placement_other"])
    listed = (foster + homes + known["cla_placed_with_parents"] + known["cla_placed_for_adoption"]
              + known["cla_placement_other_community"] + other_named)
    remainder = max(cla - listed, 0.0)  # the suppressed categories, together
    counts = {
        "in_house_fostering": foster * own_share, "ifa": foster * (1 - own_share), "kinship": 0.0,
        "council_home": homes * own_share, "external_home": homes * (1 - own_share), "secure": 0.0,
        "supported_16_plus": known["cla_placement_other_community"],
        "placed_with_parents": known["cla_placed_with_parents"],
        "placed_for_adoption": known["cla_placed_for_adoption"], "other": other_named + remainder,
    }
    total = sum(counts.values())
    shares = {k: round(v / total, 4) for k, v in counts.items()}
    shares["other"] = round(1 - sum(v for k, v in shares.items() if k != "other"), 4)  # add up to 1 exactly
    source = _source(who, ["cla_placement_foster", "cla_provider_own"], [year], before=False)
    split = (f"The published table gives fostering and children's homes without saying who provides them; both "
             f"are split by the share of placements the council provided itself: {own:,.0f} own-provided / "
             f"({own:,.0f} + {others:,.0f} provided by private, voluntary, other public bodies and other councils) "
             f"= {own_share:.3f}.")
    dated = (f"{words.capitalize()} latest published mix, at 31 March {year}, of {cla:,.0f} children looked after, "
             "used for today: a proxy to replace with your own placement data.")
    gap = (f" Suppressed or not published ({', '.join(suppressed)}) count as 0 here; together with anything "
           f"unlisted they are the {remainder:,.0f} children in 'other'." if suppressed or remainder else "")
    notes = {
        "in_house_fostering": f"{foster:,.0f} in foster placements x {own_share:.3f} = {counts['in_house_fostering']:,.1f}. {split}",
        "ifa": f"{foster:,.0f} in foster placements x (1 - {own_share:.3f}) = {counts['ifa']:,.1f}. {split}",
        "kinship": "Family and friends (connected persons) foster carers are counted within fostering in the "
                   "published table; 0 here means 'counted in fostering', not 'none'.",
        "council_home": (f"{homes:,.0f} in secure units, children's homes and semi-independent living x {own_share:.3f}"
                         f" = {counts['council_home']:,.1f}. The table does not separate semi-independent living "
                         "(cheaper than a home) or secure units: all are costed here as children's homes. "
                         f"{split}"),
        "external_home": (f"{homes:,.0f} in secure units, children's homes and semi-independent living x "
                          f"(1 - {own_share:.3f}) = {counts['external_home']:,.1f}; see council_home."),
        "secure": "Secure placements are inside the published group of secure units, homes and semi-independent "
                  "living (see council_home); 0 here means 'counted there'.",
        "supported_16_plus": f"{known['cla_placement_other_community']:,.0f} in other placements in the community "
                             "(living independently, residential employment). No national weekly cost is sourced, "
                             "so they are uncosted: add your own.",
        "placed_with_parents": f"{known['cla_placed_with_parents']:,.0f} placed with parents or others with "
                               "parental responsibility.",
        "placed_for_adoption": f"{known['cla_placed_for_adoption']:,.0f} placed for adoption.",
        "other": (f"{other_named:,.0f} in other residential settings, residential schools and other placements, "
                  f"plus {remainder:,.0f} not listed: {cla:,.0f} - {listed:,.0f}.{gap}"),
    }
    out = {}
    for kind, share in shares.items():
        name = f"demand.cla.placement_mix.{kind}"
        out[name] = Figure(name, "share", source, PROXY,
                           f"{notes[kind]} Share: {counts[kind]:,.1f} / {total:,.0f} = {share:.4f}. {dated}", share)
    return out


def _setting_mix(la: pd.DataFrame, england: pd.DataFrame, up_to: int) -> dict[str, Figure]:
    """EHC plans by setting: the authority's post-16 share by age, the rest by national proportions."""
    year = _last_year(la, ["ehcp_age_16_19"], up_to)
    who = la
    if year is None or not _cell(la, "ehcp_total", year) > 0:
        year, who = _last_year(england, ["ehcp_age_16_19"], up_to), england
    if year is None:
        return {}
    total = _cell(who, "ehcp_total", year)
    older = _cell(who, "ehcp_age_16_19", year) + np.nan_to_num(_cell(who, "ehcp_age_20_25", year))
    post16 = round(older / total, 4)
    school = 1 - post16
    # DfE, Education, health and care plans, reporting year 2022: 40.5% of plans in mainstream
    # schools and 34.8% in special schools (the rest in further education and elsewhere).
    mainstream = round(school * 40.5 / 75.3, 4)
    special = school * 34.8 / 75.3
    maintained = round(special * 0.8, 4)
    independent = round(1 - post16 - mainstream - maintained, 4)
    national = ("DfE, Education, health and care plans, reporting year 2022: 40.5% of plans in mainstream schools "
                "and 34.8% in special schools, England")
    src = _source(who, ["ehcp_age_16_19", "ehcp_total"], [year], before=False)
    whose = "the authority's" if who is la else "England's"
    mk = lambda kind, value, source, grade, note: (f"demand.ehcp.setting_mix.{kind}", Figure(  # noqa: E731
        f"demand.ehcp.setting_mix.{kind}", "share", source, grade, note, value))
    return dict([
        mk("post_16", post16, src, PROXY,
           f"Plans of young people aged 16-25 in January {year}, {whose}: {older:,.0f} / {total:,.0f} = {post16:.4f}. "
           "Age stands in for setting: some 16-19s stay in school sixth forms and special schools."),
        mk("mainstream", mainstream, f"{NATIONAL}{national}", PROXY,
           f"The school-age rest, 1 - {post16:.4f} = {school:.4f}, split 40.5 : 34.8 between mainstream and special "
           f"schools: {school:.4f} x 40.5 / 75.3 = {mainstream:.4f}."),
        mk("resourced_base", 0.0, f"{NATIONAL}{national} (resourced provision is not separated)", PROXY,
           "0 means 'counted in mainstream', not 'none'."),
        mk("maintained_special", maintained, f"Judgement on the national proportion: {national}", JUDGEMENT,
           f"Special-school share {school:.4f} x 34.8 / 75.3 = {special:.4f}, of which 80% is taken as state-funded "
           f"(maintained, academy and free special schools): {maintained:.4f}. The 80/20 split is a judgement."),
        mk("independent_special", independent, f"Judgement on the national proportion: {national}", JUDGEMENT,
           f"The other 20% of the special-school share: 1 - {post16:.4f} - {mainstream:.4f} - {maintained:.4f} = "
           f"{independent:.4f} (judgement)."),
    ])


def _at(fig: Figure, year: str) -> float:
    """A figure's central value in a financial year (a path carries its last value on, as the model does)."""
    if fig.values is None:
        return float(fig.value)
    earlier = [y for y in sorted(fig.values) if y <= year]
    return float(fig.values[earlier[-1] if earlier else min(fig.values)])


def _care_leavers(england: pd.DataFrame, figures: Mapping[str, Figure], base_year: str) -> dict[str, Figure]:
    """Care leavers from national ratios: England's leavers per child ceasing care, in steady state."""
    ceased = _cell(england, "cla_ceased", 2021)
    exit_rate, opening = figures.get("demand.cla.exit_rate"), figures.get("demand.cla.opening_stock")
    starts = figures.get("demand.cla.start_rate_per_10k")
    pop = figures.get("population.age_0_17")
    if np.isnan(ceased) or exit_rate is None or opening is None or starts is None or pop is None:
        return {}
    cohort = CARE_LEAVERS_17_21_ENGLAND_2021 / 5
    share = round(cohort / ceased, 4)
    latest_pop = pop.values[max(pop.values)] if pop.values else pop.value
    rate, start_rate = _at(exit_rate, base_year), _at(starts, base_year)
    annual_starts = latest_pop / 1e4 * start_rate
    exits = rate * (opening.value + annual_starts)
    young = float(round(4 * share * exits))
    support = NATIONAL_DEFAULTS["demand.care_leavers.support_22_25_share"].value
    older = float(round(young * support))
    src = f"{NATIONAL}{CARE_LEAVER_SOURCE}; England's children ceasing care in 2020-21 ({ceased:,.0f})"
    return {
        "demand.care_leavers.leaver_share_of_exits": Figure(
            "demand.care_leavers.leaver_share_of_exits", "share", src, PROXY,
            f"44,590 care leavers aged 17-21 are five yearly cohorts of about {cohort:,.0f}, the young people "
            f"leaving care at 16-18 each year: {cohort:,.0f} / {ceased:,.0f} children ceasing care = {share:.4f}. "
            "England's ratio, for want of the authority's.", share),
        "demand.care_leavers.opening_18_21": Figure(
            "demand.care_leavers.opening_18_21", "children", src, PROXY,
            f"Four yearly cohorts of care leavers at the model's steady state: 4 x {share:.4f} x {exits:,.0f} "
            f"children ceasing care a year ({rate:.4f} x ({opening.value:,.0f} looked after + "
            f"{annual_starts:,.0f} starting)) = {young:,.0f}. Replace with your own count of care leavers aged "
            "18-21.", young),
        "demand.care_leavers.opening_22_25": Figure(
            "demand.care_leavers.opening_22_25", "children", src + "; DfE 2025 release, care leavers aged 22-23 "
            "receiving support", PROXY,
            f"The 18-21 group ({young:,.0f}) x {support} keeping support after 22 = {older:,.0f}, at steady state.",
            older),
        "demand.care_leavers.support_22_25_share": _default("demand.care_leavers.support_22_25_share"),
    }


def _default(name: str, **override) -> Figure:
    d = NATIONAL_DEFAULTS[name]
    source = d.source if d.confidence == PUBLISHED or d.source.startswith("Judgement") else NATIONAL + d.source
    spec = dict(unit=d.unit, source=source, confidence=d.confidence, note=d.note, value=d.value,
                price_year=d.price_year, distribution=d.distribution)
    spec.update(override)
    return Figure(name, **spec)


def _deflator_words(deflator: pd.Series, a: str, b: str) -> str:
    return f"GDP deflator {deflator[a]:.2f} ({a}) to {deflator[b]:.2f} ({b})" if a in deflator and b in deflator \
        else f"GDP deflator {a} to {b}"


def _costs(base_year: str, mix: Mapping[str, Figure], local: Mapping[str, Figure]) -> dict[str, Figure]:
    """Unit costs (``local`` ones from the outturn, where there are any, else national defaults),
    staff costs and the real growth of placement prices."""
    deflator = load_deflators(DEFLATOR_VINTAGE)
    out = {n: _default(n) for n in NATIONAL_DEFAULTS if n.startswith(("costs.placements", "costs.send",
                                                                       "costs.staff.salary", "costs.staff.pension",
                                                                       "costs.staff.agency"))}
    out.update(local)
    salary = NATIONAL_DEFAULTS["costs.staff.salary.social_worker"]
    pay = salary.value * price_factor(salary.price_year, base_year, deflator)
    ni_year = base_year if base_year in EMPLOYER_NI else (max(EMPLOYER_NI) if base_year > max(EMPLOYER_NI)
                                                          else min(EMPLOYER_NI))
    rate, threshold = EMPLOYER_NI[ni_year]
    on_cost = round((pay - threshold) * rate / pay + APPRENTICESHIP_LEVY, 4)
    out["costs.staff.on_cost_rate"] = Figure(
        "costs.staff.on_cost_rate", "share",
        f"HMRC rates and thresholds for {ni_year}: employer National Insurance {rate:.1%} above £{threshold:,} a year "
        "(Social Security Contributions and Benefits Act 1992 s9); apprenticeship levy 0.5% (Finance Act 2016 Part 6)",
        PUBLISHED,
        f"On the judged salary in {base_year} prices, £{salary.value:,.0f} x {_deflator_words(deflator, salary.price_year, base_year)}"
        f" = £{pay:,.0f}: (£{pay:,.0f} - £{threshold:,}) x {rate:.3f} = £{(pay - threshold) * rate:,.0f} = "
        f"{(pay - threshold) * rate / pay:.4f} of salary, + 0.005 levy = {on_cost:.4f}."
        + ("" if ni_year == base_year else f" {base_year} is outside the rates held; {ni_year}'s are used."),
        on_cost)
    # Real growth of placement prices: homes at the NAO's rate, fostering none, weighted by spend.
    spend = {}
    for kind, cost_name in (("council_home", "council_home"), ("external_home", "external_home"),
                            ("in_house_fostering", "in_house_fostering"), ("ifa", "ifa")):
        d = out[f"costs.placements.weekly.{cost_name}"]
        share = mix.get(f"demand.cla.placement_mix.{kind}")
        if share is not None:
            spend[kind] = share.value * d.value * price_factor(d.price_year, base_year, deflator)
    total = sum(spend.values())
    homes = (spend.get("council_home", 0) + spend.get("external_home", 0)) / total if total else 0.0
    growth = round(homes * HOMES_REAL_GROWTH, 4)
    out["costs.real_growth.placements"] = Figure(
        "costs.real_growth.placements", "share/year", f"{NATIONAL}{HOMES_REAL_GROWTH_SOURCE}", PROXY,
        f"Children's homes: (318,400 / 239,800)^(1/4) - 1 = {HOMES_REAL_GROWTH:.4f} a year above inflation; "
        f"fostering: none assumed (no evidence either way). Homes are {homes:.3f} of weekly placement spend at this "
        f"file's mix and unit costs ({base_year} prices), so {homes:.3f} x {HOMES_REAL_GROWTH:.4f} = {growth:.4f}. "
        "Low 0 (no relative price effect), high the homes' rate for all placements (judgement).",
        value=growth, distribution={"type": "triangular", "low": 0.0, "mode": growth,
                                    "high": round(max(HOMES_REAL_GROWTH, growth), 4)})
    return out


def _finance() -> dict[str, Figure]:
    """Tax law a company option needs, by financial year (the model reads each year's rate)."""
    def law(name, unit, source, value=None, values=None, note=""):
        return Figure(name, unit, source, PUBLISHED, note, value, values)
    return {
        "finance.vat_rate": _default("finance.vat_rate"),
        "finance.corporation_tax_rate": law(
            "finance.corporation_tax_rate", "share",
            "HMRC CTM01750: main rate 19% for financial years 2017 to 2022 (Finance (No. 2) Act 2015 s7; Finance Act "
            "2020 s5), 25% from financial year 2023 (Finance Act 2021 s6)",
            values={"2017-18": 0.19, "2023-24": 0.25},
            note="Corporation tax financial years run 1 April to 31 March, as the model's do; a later year carries "
                 "the last rate on. Tax applies only to a company's surplus."),
        "finance.corporation_tax_small_profits_rate": law(
            "finance.corporation_tax_small_profits_rate", "share",
            "HMRC CTM03910: small profits rate 19% from financial year 2023 (Corporation Tax Act 2010 s18A); before "
            "then one rate, 19%, on all profits", values={"2017-18": 0.19},
            note="Profits up to the lower limit pay this rate; between the limits, the main rate less marginal relief."),
        "finance.corporation_tax_lower_limit": law(
            "finance.corporation_tax_lower_limit", "GBP/year",
            "HMRC CTM03910: lower limit £50,000 from financial year 2023 (a 12-month period)", value=50000.0,
            note="Divided by one plus the number of associated companies (Corporation Tax Act 2010 s18E)."),
        "finance.corporation_tax_upper_limit": law(
            "finance.corporation_tax_upper_limit", "GBP/year",
            "HMRC CTM03910: upper limit £250,000 from financial year 2023 (a 12-month period)", value=250000.0,
            note="Above it the main rate applies to all profits; divided like the lower limit."),
        "finance.corporation_tax_marginal_fraction": law(
            "finance.corporation_tax_marginal_fraction", "ratio",
            "HMRC CTM03910 and CTM03925: marginal relief standard fraction 3/200 from financial year 2023 "
            "(Corporation Tax Act 2010 s18B); none before then", values={"2017-18": 0.0, "2023-24": 0.015},
            note="Relief = fraction x (upper limit - profits), for profits between the limits."),
    }


def _spend(la: pd.DataFrame, base_year: str, base_start: int, figures: Mapping[str, Figure],
           up_to: int) -> tuple[dict[str, Figure], int | None]:
    """Service budgets from the latest section 251 outturn, uprated to the base year."""
    year = _last_year(la, ["s251_cla_total_gross"], up_to)
    if year is None:
        return {}, None
    outturn = financial_year_label(year - 1)
    deflator = load_deflators(DEFLATOR_VINTAGE)
    placements_growth = figures["costs.real_growth.placements"].value if "costs.real_growth.placements" in figures \
        else 0.0
    years_on = financial_year_start(base_year) - (year - 1)

    def volume(stock: str, measure: str) -> tuple[float, str]:
        then, now = _cell(la, measure, year), figures.get(stock)
        if now is None or not then > 0:
            return 1.0, "no volume change (the authority's figures are missing)"
        return now.value / then, (f"{measure.replace('_', ' ')}: {now.value:,.0f} at the start of {base_year} / "
                                  f"{then:,.0f} at 31 March {year}")

    cla_factor, cla_words = volume("demand.cla.opening_stock", "cla_at_31_march")
    cin_factor, cin_words = volume("demand.cin.opening_stock", "cin_at_31_march")
    pop = figures.get("population.age_0_17")
    pop_then = _cell(la, "population_0_17", year - 1)
    pop_now = pop.values[max(pop.values)] if pop is not None and pop.values else math.nan
    pop_factor = pop_now / pop_then if pop_then > 0 and pop_now > 0 else 1.0
    price = (1 + placements_growth) ** years_on
    out = {}
    for line, slugs in S251_SERVICE_LINES.items():
        parts, words = [], []
        for slug in slugs:
            gross = _cell(la, f"s251_{slug}_gross", year)
            if np.isnan(gross):
                continue
            if slug == "cla_total":
                placements = sum(np.nan_to_num(_cell(la, f"s251_{p}_gross", year)) for p in S251_PLACEMENT_LINES)
                rest = gross - placements
                parts += [placements * cla_factor * price, rest * cla_factor]
                words.append(f"looked-after children £{gross:,.0f} (of which placements £{placements:,.0f}, x "
                             f"{cla_factor:.3f} volume x {price:.3f} placement prices above inflation; the rest x "
                             f"{cla_factor:.3f})")
            elif line == "social_care":
                parts.append(gross * cin_factor)
                words.append(f"{slug.replace('_', ' ')} £{gross:,.0f} x {cin_factor:.3f}")
            else:
                parts.append(gross * pop_factor)
                words.append(f"{slug.replace('_', ' ')} £{gross:,.0f} x {pop_factor:.3f}")
        if not parts:
            continue
        value = float(round(sum(parts), -3))
        in_base = value * price_factor(outturn, base_year, deflator)
        name = f"services.{line}.budget"
        rows_src = _source(la, [f"s251_{s}_gross" for s in slugs], [year], before=False)
        factors = {"social_care": f"Volume: {cla_words}; {cin_words} (other social care lines).",
                   "early_help": f"Volume: children aged 0-17, {pop_factor:.3f} (latest estimate / mid-{year - 1})."}
        out[name] = Figure(
            name, "GBP/year", rows_src, PROXY,
            f"Gross spend in {outturn} (section 251 outturn): " + "; ".join(words) + f". Sum £{value:,.0f} in "
            f"{outturn} prices; the model converts it with the GDP deflator (about £{in_base:,.0f} in {base_year} "
            f"prices, {_deflator_words(deflator, outturn, base_year)}). {factors[line]} Placement prices: "
            f"(1 + {placements_growth:.4f})^{years_on} = {price:.3f}. An old outturn brought up to date: a proxy for "
            "today's budget; replace with your own base budget.",
            value, price_year=outturn)
    return out, year


# ---------------------------------------------------------------------------
# The baseline
# ---------------------------------------------------------------------------


def default_base_year(la: pd.DataFrame) -> str:
    """The first financial year a decision taken now can change.

    The DfE publishes the 31 March Y figures in the autumn of Y, half way
    through financial year Y-(Y+1), so the first full year ahead is (Y+1)-(Y+2):
    2026-27 when the latest figures are for 31 March 2025.
    """
    latest = _last_year(la, ["cla_at_31_march", "cin_at_31_march"])
    if latest is None:
        raise DataError("no children looked after or in need figures for this authority: cannot choose a base year")
    return financial_year_label(latest + 1)


def build_baseline(la_code: int | str, base_year: str | None = None, data_dir: str | Path | None = None,
                   frame: pd.DataFrame | None = None) -> Baseline:
    """A council's baseline scenario from the published statistics.

    Parameters
    ----------
    la_code : int or str
        Old (871) or new (E06000039) code of any English authority in the data.
    base_year : str, optional
        First financial year appraised (``"2026-27"``); by default
        :func:`default_base_year`. A year after the latest published figures
        is reached by projecting forward, and the file says so.
    data_dir : str or Path, optional
        Folder with ``dfe_extract.csv.gz`` or of DfE downloads (``data/`` by default);
        a newer section 251 outturn among the downloads is used in place of 2013-14.
    frame : DataFrame, optional
        Every authority's rows, when already read.

    Raises
    ------
    DataError
        If the data hold no rows for the authority, or not enough to project.
    UsageError
        If ``base_year`` is not a financial year.
    """
    frame = load_frame(data_dir) if frame is None else frame
    la, england = load_authority(la_code, frame=frame)
    return baseline_from_rows(la, england, base_year, region_rows(frame, la_code))


def baseline_from_rows(la: pd.DataFrame, england: pd.DataFrame, base_year: str | None = None,
                       region: pd.DataFrame | None = None) -> Baseline:
    """:func:`build_baseline` from one authority's rows (:func:`wcf_model.data.load_authority`),
    England's and its region's authorities' (:func:`wcf_model.tidy.region_rows`): a function of
    its arguments only, as the national sweep needs."""
    if base_year is None:
        base_year = default_base_year(la)
    if not re.fullmatch(r"\d{4}-\d{2}", str(base_year)) or financial_year_label(int(base_year[:4])) != base_year:
        raise UsageError(f"--base-year: expected a financial year such as 2026-27, got {base_year!r}")
    base_start = financial_year_start(base_year)
    code, name = str(la["la_code"].iloc[0]), str(la["la_name"].iloc[-1])
    new_code = next((c for c in reversed(list(la["new_la_code"])) if c), "")
    latest = _last_year(la, ["cla_at_31_march", "cin_at_31_march", "cpp_at_31_march"], base_start)
    if latest is None:
        raise DataError(f"{name} ({code}) has no published children looked after, in need or on plans up to "
                        f"{base_start}: nothing to build a baseline from")
    fit_to = min(base_start, latest)
    years = YEARS  # rate paths run from fit_to to the end of the years appraised
    calibrated = [n for n in PARAMETER_MEASURES if n not in EHCP_PARAMETERS]
    figures = _calibrated(la, england, fit_to, calibrated, base_start - fit_to + years, region)
    _with_ranges(figures, la, england, fit_to)
    if "population.age_0_17" not in figures:
        raise DataError(f"{name} ({code}) has no 0-17 population estimate up to {fit_to}: cannot project")
    population = figures["population.age_0_17"]
    carried = _carry_forward(figures, [s for s in STOCKS if s not in EHCP_PARAMETERS], fit_to, base_start, population)
    ehcp_year = _last_year(la, ["ehcp_total"], base_start) or _last_year(england, ["ehcp_total"], base_start)
    if ehcp_year is not None:
        ehcp_fit = min(ehcp_year, base_start)
        ehcp = _calibrated(la, england, ehcp_fit, EHCP_PARAMETERS, base_start - ehcp_fit + years)
        _with_ranges(ehcp, la, england, ehcp_fit)
        figures.update(ehcp)
        carried += _carry_forward(figures, ["demand.ehcp.opening_stock"], min(ehcp_year, base_start), base_start,
                                  population)
    mix = _placement_mix(la, england, base_start)
    figures.update(mix)
    figures.update(_care_leavers(england, figures, base_year))
    figures.update(_setting_mix(la, england, base_start))
    figures["workforce.iro_caseload"] = _default("workforce.iro_caseload")
    s251_year = _last_year(la, ["s251_cla_total_gross"], base_start)
    figures.update(_costs(base_year, mix, _local_unit_costs(la, s251_year)))
    spend, s251_year = _spend(la, base_year, base_start, figures, base_start)
    figures.update(spend)
    figures.update(_finance())
    figures.update({n: _default(n) for n in NATIONAL_DEFAULTS if n.startswith("appraisal.")})
    # catalogue order, so the file reads population, demand, workforce, costs, services, finance
    order = {n: i for i, n in enumerate(parameter_specs())}
    figures = dict(sorted(figures.items(), key=lambda kv: order[kv[0]]))
    notes = [la.attrs["note"]] if la.attrs.get("note") else []
    for n, f in figures.items():
        if f.source.startswith("England's figures"):
            notes.append(f"{n}: the authority's own figures are missing or suppressed, so England's are used "
                         "(graded 4).")
    return Baseline(code, new_code, name, base_year, figures,
                    {"stocks": latest, "ehcp": ehcp_year or 0, "s251": s251_year or 0,
                     "population": max(int(y[:4]) for y in population.values)},
                    carried, notes)


def write_baseline(baseline: Baseline, path: Path, force: bool = False) -> Path:
    """Write the scenario file whole, having checked it reads back under ``--strict``.

    Raises
    ------
    UsageError
        If ``path`` exists and ``force`` is not set: nothing of the user's is overwritten.
    """
    from .outputs import write_file
    from .scenario import load_scenario

    path = Path(path)
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; choose another -o file, or pass --force to replace it")
    if path.suffix not in (".yaml", ".yml"):
        raise UsageError(f"-o {path}: a scenario file's name ends in .yaml")
    text = baseline.to_yaml()

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")
        load_scenario(tmp, strict=True)  # a generated file must pass --strict, or it is not written

    write_file(path, write, allow_inputs=True)  # writing a scenario is this command's job
    return path


# ---------------------------------------------------------------------------
# Writing the file
# ---------------------------------------------------------------------------

#: Comment lines above each group of parameters.
HEADINGS = {
    "population": "Population: ONS mid-year estimates of children aged 0-17, keyed by the financial year the "
                  "30 June falls in",
    "demand": "Demand: the caseloads and the rates that move them (flows are per year, rates per 10,000 "
              "children aged 0-17)",
    "demand.cla.placement_mix": "Where children looked after live: shares that add up to 1",
    "demand.care_leavers": "Care leavers: national ratios (the published files hold no local counts)",
    "demand.ehcp.setting_mix": "EHC plans by setting: shares that add up to 1",
    "workforce": "Social work workforce: the 30 September census",
    "costs": "Unit costs: each in the prices of its price_year; the model converts them to the base year",
    "services": "Service budgets: what the service costs in the base year, including what the model builds up",
    "finance": "Tax and finance",
    "appraisal": "Green Book method",
}

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _key(key: str) -> str:
    return key if _PLAIN.match(key) else json.dumps(key)


def _wrap(text: str, indent: str, width: int = 100) -> list[str]:
    return textwrap.wrap(text, width=max(40, width - len(indent)), break_long_words=False,
                         break_on_hyphens=False) or [""]


def _emit(node: dict, indent: int, path: str, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in node.items():
        here = f"{path}.{key}" if path else key
        if here in HEADINGS:
            if indent <= 2:
                lines.append("")
                lines.append(f"{pad}# {'-' * (76 - indent)}")
            for line in _wrap(HEADINGS[here], pad + "# "):
                lines.append(f"{pad}# {line}")
        if isinstance(value, dict) and not ({"value", "values"} & set(value)) and key != "distribution" \
                and key != "values":
            lines.append(f"{pad}{_key(key)}:")
            _emit(value, indent + 2, here, lines)
        elif isinstance(value, dict) and ({"value", "values"} & set(value)):
            lines.append(f"{pad}{_key(key)}:")
            _emit_figure(value, indent + 2, lines)
        elif isinstance(value, dict):
            inner = ", ".join(f"{_key(k)}: {_scalar(v)}" for k, v in value.items())
            lines.append(f"{pad}{_key(key)}: {{{inner}}}")
        elif isinstance(value, list):
            lines.append(f"{pad}{_key(key)}: [{', '.join(_scalar(v) for v in value)}]")
        elif isinstance(value, str) and len(value) > 70:
            lines.append(f"{pad}{_key(key)}: >-")
            lines += [f"{pad}  {line}" for line in _wrap(value, pad + "  ")]
        else:
            lines.append(f"{pad}{_key(key)}: {_scalar(value)}")


def _emit_figure(leaf: dict, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in leaf.items():
        if key == "values":
            lines.append(f"{pad}values:")
            for fy, v in value.items():
                lines.append(f"{pad}  {json.dumps(fy)}: {_scalar(v)}")
        elif key == "distribution":
            inner = ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items())
            lines.append(f"{pad}distribution: {{{inner}}}")
        elif key in ("note", "source") and (key == "note" or len(value) > 70):
            lines.append(f"{pad}{key}: >-")
            lines += [f"{pad}  {line}" for line in _wrap(value, pad + "  ")]
        else:
            lines.append(f"{pad}{key}: {_scalar(value)}")


def render_yaml(b: Baseline) -> str:
    """The commented scenario file for a baseline."""
    doc = b.document()
    head = [
        f"# {b.la_name} children's services: baseline from published data (LA {b.la_code}, {b.new_la_code})",
        "# " + "=" * 76,
        "#",
    ]
    intro = (f"Written by `{b.command or f'wcf-model new-council --la {b.la_code} --base-year {b.base_year}'}` "
             f"(wcf-model {__version__}) from the DfE's published statistics{b.data_note}. Every figure has its "
             "source, a confidence grade and, in its note, the arithmetic that made it. Check it with "
             f"`wcf-model validate --strict`, then appraise it with `wcf-model report`.")
    head += [f"# {line}" for line in _wrap(intro, "# ")]
    head.append("#")
    when = (f"The base year {b.base_year} starts on 1 April {b.base_year[:4]}. The latest published caseloads are "
            f"at 31 March {b.latest['stocks']}")
    if b.carried:
        when += (". Opening stocks whose latest published figure is older than the base year were projected forward "
                 "by the model, with the rates in this file: " + "; ".join(b.carried) + ".")
    else:
        when += ": the opening stocks are the published figures."
    when += (f" The population is grown from the latest ONS estimate (mid-{b.latest['population']}) at the growth "
             "rate below.")
    head += [f"# {line}" for line in _wrap(when, "# ")]
    for note in b.notes:
        head.append("#")
        head += [f"# {line}" for line in _wrap(note, "# ")]
    replace = b.to_replace()
    if replace:
        head += ["#", f"# National defaults to replace with your own figures ({len(replace)})",
                 "# " + "-" * 60]
        head += [f"# {line}" for line in _wrap(
            "Grade 4: a national figure, England's figure, or an old local figure brought up to date, used because "
            "the published statistics give no current local one. Grade 5: a judgement. Replace each with your "
            "own figure and its source; the note says how it was made.", "# ")]
        for f in replace:
            shown = "by year" if f.value is None else f"{f.value:,.0f}" if abs(f.value) >= 1000 else f"{f.value:g}"
            head.append(f"#   {f.name} = {shown} {f.unit}{f' ({f.price_year} prices)' if f.price_year else ''}"
                        f"  [grade {f.confidence}]")
    head += ["#", "# Conventions: financial years run 1 April to 31 March (\"2026-27\"); opening stocks are at 31 March",
             "# before the base year; shares are fractions (0.25 = 25%); money in pounds in the prices of its",
             "# price_year. Confidence: 1 published statistic; 2 published statistic carried forward by the model;",
             "# 4 national default or proxy; 5 judgement. Parameter names and units: wcf_model/catalogue.py.", ""]
    lines: list[str] = list(head)
    lines.append("scenario:")
    _emit(doc["scenario"], 2, "scenario", lines)
    lines += ["", "parameters:"]
    _emit(doc["parameters"], 2, "", lines)
    lines += ["", "# " + "-" * 76, "# The in-house baseline. Add the options to compare in a file that extends this one",
              "# (scenarios/options/generic.yaml shows how, with national-default costs).", "options:"]
    _emit(doc["options"], 2, "options", lines)
    return "\n".join(lines) + "\n"


__all__ = ["Baseline", "Figure", "NATIONAL_DEFAULTS", "build_baseline", "default_base_year", "render_yaml"]
