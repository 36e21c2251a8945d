"""What the report, the notebooks and the results workbook say about a scenario, as data.

The presentation layer (:mod:`wcf_model.report`, the notebooks,
:mod:`wcf_model.workbook`) turns these objects into sentences, charts and
sheets; nothing here formats text for a reader except labels, and nothing
there recomputes the model.

* :func:`analyse` runs the appraisal with everything a reader is shown about
  the options: sensitivity, switching values, value of information, the
  multi-criteria analysis and, with an actuals file, monitoring.
* :func:`answer` reduces that to the first screen's answer: which option the
  evidence favours among those meeting every critical success factor, and
  why; its cost against the baseline in the economic case and in council cash;
  the range of the economic result; and what it turns on most.
* :func:`published_history` and :func:`authority_backtest` hold what the DfE
  published about the authority, keyed by financial year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .backtest import Backtest, backtest
from .catalogue import humanise
from .data import ENGLAND, load_frame, rows_for
from .decision import ValueOfInformation, value_of_information
from .errors import DataError
from .formats import RANGE
from .mca import McaResult
from .appraisal import appraise
from .results import Results
from .scenario import Scenario
from .formats import financial_year_of
from .sensitivity import switching_values, tornado

# ---------------------------------------------------------------------------
# The appraisal and what decides it
# ---------------------------------------------------------------------------


@dataclass
class Analysis:
    """The appraisal with its sensitivity, value of information, multi-criteria and monitoring results."""

    res: Results
    tornado: pd.DataFrame
    switching: pd.DataFrame
    voi: ValueOfInformation | None
    mca: McaResult | None
    monitoring: pd.DataFrame | None = None     # comparison with actuals, when an actuals file is given
    monitored_option: str | None = None
    spend_gap: pd.DataFrame | None = None      # the company's projected spending against what it spent

    @property
    def scenario(self) -> Scenario:
        return self.res.scenario


def analyse(sc: Scenario, draws: int, seed: int | None = None, actuals: Path | pd.DataFrame | None = None,
            option: str | None = None, draws_from: str | None = None) -> Analysis | None:
    """Everything the report shows about the options; None when the scenario cannot be projected.

    With an actuals file (or the frame :func:`~wcf_model.actuals.read_actuals`
    gives), the option that was implemented (``option``, the baseline by
    default) is compared with what was published later. ``draws_from`` names
    where the draws came from, for the message if they would not fit in memory.
    """
    if "population.age_0_17" not in sc.parameters:
        return None
    return analyse_results(appraise(sc, draws=draws, seed=seed, draws_from=draws_from), actuals, option)


def analyse_results(res: Results, actuals: Path | pd.DataFrame | None = None, option: str | None = None) -> Analysis:
    """:func:`analyse` for an appraisal already run (the same seed drives the sensitivity runs)."""
    sc = res.scenario
    voi = value_of_information(res) if res.draws is not None else None
    comparison = gap = None
    chosen = option or sc.baseline
    if actuals is not None:
        from .actuals import read_actuals
        from .monitoring import compare, spend_gap

        frame = actuals if isinstance(actuals, pd.DataFrame) else read_actuals(actuals)
        comparison = compare(res, frame, option)
        # the last year the company's spending was published, explained step by step
        spent = [y for y in sorted(frame.loc[frame["measure"] == "gross_spend", "period"]) if y in res.central.years]
        if spent and res.central.options[chosen].company is not None:
            gap = spend_gap(sc, chosen, frame, spent[-1])
    return Analysis(res, tornado(res), switching_values(res), voi, res.mca, comparison,
                    chosen, gap)


def csf_failures(sc: Scenario) -> dict[str, list[tuple[str, str]]]:
    """Option -> ``(factor label, rationale)`` for each critical success factor it fails (options that fail one)."""
    factors = sc.mca.critical_success_factors
    out = {}
    for oid, opt in sc.options.items():
        failed = [(factors[k].label if k in factors else humanise(k), a.rationale)
                  for k, a in opt.csf.items() if not a.met]
        if failed:
            out[oid] = failed
    return out


def council_cash(res: Results, option: str) -> np.ndarray:
    """Cash the council itself pays for an option, by year [GBP, cash, central run].

    The financial account's lines funded by the council (its general fund),
    which include the transfers the economic case leaves out (VAT, corporation
    tax), as the appraisal totals them (``OptionResult.council_cash``). Lines
    other funders pay (the DSG high-needs block, DfE and Home Office grants)
    are not the council's own cash.
    """
    return res.central.options[option].council_cash[0]


def payback(res: Results, option: str) -> str:
    """When an option's extra cash is paid back, against the baseline.

    ``"baseline"`` for the baseline itself; ``"not needed"`` when it never costs
    more cash in any year to date; ``"never"`` when it costs more and has not
    paid back by the last year; otherwise the financial year it pays back in.
    """
    if option == res.scenario.baseline:
        return "baseline"
    year = res.payback_year(option)
    if year is not None:
        return year
    a = res.central
    gap = np.cumsum(a.options[option].financial_total[0] - a.options[a.baseline].financial_total[0])
    return "not needed" if (gap <= 0).all() else "never"


def npv_range(res: Results, option: str) -> tuple[float, float] | None:
    """The :data:`~wcf_model.formats.RANGE` percentiles of an option's NPV against the baseline [GBP]; None without draws."""
    if res.draws is None:
        return None
    low, high = np.percentile(res.uncertain.npv_vs_baseline(option), RANGE)
    return float(low), float(high)


@dataclass(frozen=True)
class Answer:
    """The first screen's answer, in numbers and identifiers (see :func:`answer`).

    Money is GBP: ``npv_vs_baseline`` and ``npv_range`` in base-year prices,
    discounted (the economic case); ``cash_vs_baseline`` in cash over every
    year of the appraisal, the council's own lines including VAT and tax.
    """

    preferred: str
    baseline: str
    eligible: list[str]
    basis: str                               # "mca", "cost" or "only" (the one option that passes)
    runner_up: str | None
    mca_totals: dict[str, float] | None
    deciding_criteria: list[str]             # criteria giving the preferred option its lead, largest first
    npv_vs_baseline: float
    npv_range: tuple[float, float] | None
    npv_vs_runner_up: float | None
    cash_vs_baseline: float
    turns_on: list[str]                      # labels of the inputs that move the result most, largest first
    failing: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def _turns_on(table: pd.DataFrame, option: str, option_label: str, top: int = 2) -> list[str]:
    from .uncertain import option_input_label

    rows = table[(table["option"] == option) & (table["swing"] > 0)].sort_values("swing", ascending=False).head(top)
    suffix = option_input_label(option_label, "")
    return [str(label).removesuffix(suffix) for label in rows["label"]]


def answer(a: Analysis) -> Answer:
    """Which option the evidence favours, why, what it costs, how sure that is, and what it turns on.

    The choice is among the options that meet every critical success factor:
    the best multi-criteria total (as :func:`wcf_model.mca.preferred`) when the
    scenario scores criteria, else the lowest net present cost. The reason is
    the criteria that give the preferred option its lead over the runner-up
    (weight x score difference). What the result turns on is the inputs with
    the widest one-way swing in its cost against the baseline.
    """
    res, sc = a.res, a.res.scenario
    central = res.central
    failing = csf_failures(sc)
    eligible = [o for o in sc.options if o not in failing]
    pool = eligible or list(sc.options)
    m = a.mca
    deciding: list[str] = []
    if len(pool) == 1:
        preferred, basis, runner = pool[0], "only", None
    elif m is not None:
        preferred, basis = m.preferred, "mca"
        others = [o for o in pool if o != preferred]
        runner = max(others, key=lambda o: m.totals[o])
        lead = (m.scores.loc[preferred] - m.scores.loc[runner]) * m.weights
        deciding = [str(c) for c in lead[lead > 0].sort_values(ascending=False).index]
    else:
        preferred, basis = min(pool, key=lambda o: central.npv_vs_baseline(o)[0]), "cost"
        runner = min((o for o in pool if o != preferred), key=lambda o: central.npv_vs_baseline(o)[0])
    npv = float(central.npv_vs_baseline(preferred)[0])
    cash = float(central.council_cash_vs_baseline(preferred)[0])
    return Answer(
        preferred=preferred, baseline=sc.baseline, eligible=eligible, basis=basis, runner_up=runner,
        mca_totals={o: float(v) for o, v in m.totals.items()} if m is not None else None,
        deciding_criteria=deciding, npv_vs_baseline=npv,
        npv_range=npv_range(res, preferred) if preferred != sc.baseline else None,
        npv_vs_runner_up=(npv - float(central.npv_vs_baseline(runner)[0])) if runner else None,
        cash_vs_baseline=cash,
        turns_on=_turns_on(a.tornado, preferred, sc.options[preferred].label),
        failing=failing,
    )


# ---------------------------------------------------------------------------
# What was published about the authority
# ---------------------------------------------------------------------------

#: Published measures in the history table: measure -> column heading.
HISTORY_MEASURES = {
    "population_0_17": "Children aged 0-17",
    "referrals": "Referrals in year",
    "rereferral_percent": "Re-referrals (%)",
    "cin_at_31_march": "Children in need",
    "cpp_at_31_march": "Child protection plans",
    "cla_at_31_march": "Children looked after",
    "cla_rate_per_10k": "Looked after per 10,000",
    "ehcp_total": "EHC plans and statements",
    "sw_fte": "Social workers (FTE)",
    "sw_agency_percent": "Agency social workers (%)",
}


def fy_series(rows: pd.DataFrame | None, measure: str) -> pd.Series | None:
    """One published measure indexed by the start year of the financial year its reference date falls in.

    A stock at 31 March 2020 and a flow to that date belong to 2019-20 (index
    2019); so do the 30 September 2019 workforce census, the January 2020 SEN2
    census and the mid-2019 population estimate: the rule the model uses for
    its own years and the actuals file uses for its periods. None when the
    rows do not hold the measure.
    """
    if rows is None or rows.empty:
        return None
    sel = rows[(rows["measure"] == measure) & rows["value"].notna()]
    if sel.empty:
        return None
    starts = [int(financial_year_of(pd.Timestamp(d).date())[:4]) for d in sel["reference_date"]]
    out = pd.Series(sel["value"].to_numpy(float), index=pd.Index(starts, name="financial year"), name=measure)
    return out[~out.index.duplicated(keep="last")].sort_index()


@dataclass(frozen=True)
class History:
    """Published figures for the authority (and England), by financial year."""

    table: pd.DataFrame                 # financial year (start) x HISTORY_MEASURES headings
    note: str
    rows: pd.DataFrame | None = None    # the authority's tidy rows
    england: pd.DataFrame | None = None


def published_history(sc: Scenario, data_dir: Path | None = None) -> History:
    """The authority's published statistics from the ``data/`` extract.

    An empty history with a note (not an error) when the extract holds no rows
    for the authority: the scenario is still worth reporting.
    """
    code = sc.header.authority.la_code
    try:
        frame = load_frame(data_dir)
        la, eng = rows_for(frame, code), rows_for(frame, ENGLAND)
        if la.empty:
            raise DataError(f"no rows for la_code {code} in the data; `wcf-model authorities` lists the authorities "
                            "it holds, with their codes")
    except DataError as exc:
        return History(pd.DataFrame(), f"No published history is shown: {exc}.")
    columns = {heading: s for measure, heading in HISTORY_MEASURES.items()
               if (s := fy_series(la, measure)) is not None}
    table = pd.DataFrame(columns)
    table.index.name = "financial year"
    note = "Published statistics from the DfE: " + "; ".join(sorted(set(la["publication"]))) + "."
    return History(table, note, la, eng)


def backtest_year(sc: Scenario, rows: pd.DataFrame | None) -> tuple[int, str]:
    """The year a back-test is fitted to, and a sentence when it is not the one before the base year.

    The year before the base year shows the forecast the model would have made
    when the decision was taken. A case appraised from today has nothing
    published after that year yet, so it is fitted three years before the
    authority's latest published year instead: how the model would have done lately.
    """
    fit_to = int(sc.header.base_year[:4]) - 1
    found = None if rows is None else rows[rows["measure"].isin(["cla_at_31_march", "cin_at_31_march"])
                                           & rows["value"].notna()]
    latest = int(found["year"].max()) if found is not None and len(found) else None
    if latest is None or fit_to < latest:
        return fit_to, ""
    return latest - 3, (f"Nothing is published yet after {latest}, the latest year of "
                        f"{sc.header.authority.name}'s figures, so the model is back-tested on the years before it. ")


def authority_backtest(sc: Scenario, data_dir: Path | None = None,
                       rows: pd.DataFrame | None = None) -> tuple[Backtest | None, str]:
    """The model fitted to the figures published before the base year (:func:`backtest_year`), against what
    was published after; ``rows`` are the authority's published rows.

    Returns the back-test with any sentence on the year chosen, or None with the reason (no data).
    """
    fit_to, why = backtest_year(sc, rows)
    try:
        return backtest(sc.header.authority.la_code, fit_to, data_dir=data_dir), why
    except DataError as exc:
        return None, f"{why}No back-test: {exc}."


# ---------------------------------------------------------------------------
# Everything one report or results workbook shows
# ---------------------------------------------------------------------------


@dataclass
class Study:
    """A scenario with its analysis (None when it cannot be projected), published history and back-test."""

    scenario: Scenario
    analysis: Analysis | None
    history: History
    backtest: Backtest | None
    backtest_note: str = ""


def study(sc: Scenario, draws: int | None = None, seed: int | None = None, actuals: Path | pd.DataFrame | None = None,
          option: str | None = None, data_dir: Path | None = None, results: Results | None = None,
          draws_from: str | None = None) -> Study:
    """What ``wcf-model report`` and ``run`` show for a scenario, computed once.

    ``draws`` and ``seed`` default to the scenario's; ``results`` reuses an
    appraisal already run (its draws and seed then apply).
    """
    if results is not None:
        a = analyse_results(results, actuals, option)
    else:
        a = analyse(sc, draws if draws is not None else sc.header.draws, seed, actuals, option, draws_from)
    history = published_history(sc, data_dir)
    bt, note = authority_backtest(sc, data_dir, history.rows)
    return Study(sc, a, history, bt, note)
