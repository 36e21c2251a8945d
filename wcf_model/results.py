"""What an appraisal produced, as data, and the files users and their scripts read.

:class:`Results` is what :func:`wcf_model.appraise` returns: the central run
(every input at its central value: what a finance officer can reproduce line
by line), the Monte Carlo run when draws were asked for, the value each
uncertain input took in each draw, and the multi-criteria analysis. It holds
data and reads it out as tables; it runs no model and no analysis and knows
nothing of how a report or workbook is laid out. ``results.json`` follows the
contract in docs/design.md and is byte-identical for the same scenario, seed
and draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .accounts import Appraisal
from .errors import Problem, ScenarioError
from .formats import RANGE, range_columns, range_label, range_words
from .uncertain import UncertainInput
from .outputs import strict_json
from .scenario import Scenario
from .version import __version__
from .voi import prob_least_cost as least_cost_shares

SCHEMA = "wcf-model/results/1"
#: Percentiles of the draws in ``results.json`` and ``summary.csv`` [percent]: the report's range
#: (:data:`~wcf_model.formats.RANGE`), the median, and the 5th and 95th for a reader who wants the tails.
PERCENTILES = tuple(sorted({5, RANGE[0], 50, RANGE[1], 95}))


def _money(x: float) -> float:
    """Round to the penny, so files are stable and exact to what they claim."""
    return round(float(x), 2)


@dataclass(frozen=True)
class Results:
    """An appraisal's runs, its input draws and its multi-criteria analysis.

    Attributes
    ----------
    central : Appraisal
        Every input at its central value (one row).
    draws : Appraisal or None
        The Monte Carlo run (one row per draw), None when no draws were asked for.
    inputs : list of UncertainInput
        Every uncertain input (:func:`wcf_model.inputs.uncertain_inputs`), as the
        sensitivity analyses address them.
    input_draws : dict
        Input name -> the value it took in each row of :attr:`uncertain`,
        ``(draws,)`` [the input's unit]; its central value alone without draws.
    mca : McaResult or None
        The multi-criteria analysis (:class:`wcf_model.mca.McaResult`), None when
        the scenario scores no criteria.
    """

    central: Appraisal
    draws: Appraisal | None = None
    inputs: list[UncertainInput] = field(default_factory=list, repr=False)
    input_draws: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    mca: Any = field(default=None, repr=False)

    @property
    def scenario(self) -> Scenario:
        return self.central.scenario

    @property
    def uncertain(self) -> Appraisal:
        """The Monte Carlo run, or the central run when no draws were asked for."""
        return self.draws or self.central

    def prob_least_cost(self) -> dict[str, float]:
        """Share of draws in which each option has the lowest net present cost (ties shared)."""
        a = self.uncertain
        shares = least_cost_shares(np.stack([r.npv_cost for r in a.options.values()], axis=1))
        return {oid: float(p) for oid, p in zip(a.options, shares)}

    def payback_year(self, option: str) -> str | None:
        """First year by whose end the option's cumulative cash cost is no more than the
        baseline's, having been more (None if it never pays back, or never cost more)."""
        a = self.central
        gap = np.cumsum(a.options[option].financial_total[0] - a.options[a.baseline].financial_total[0])
        if option == a.baseline or gap[0] <= 0:
            return None
        back = np.flatnonzero(gap <= 0)
        return a.years[int(back[0])] if back.size else None

    def budget_headroom(self, option: str) -> np.ndarray | None:
        """Budget envelope minus the option's cash cost, by year [GBP, cash]; None without an envelope.

        The envelope is a cash figure, so it is compared with the financial case as given.
        """
        param = self.scenario.parameters.get("finance.budget_envelope")
        if param is None:
            return None
        envelope = np.array([param.central(y) for y in self.central.years])
        return envelope - self.central.options[option].financial_total[0]

    def summary(self) -> pd.DataFrame:
        """One row per option: NPVs (central, and percentiles of the difference), cash, chances.

        Beside the economic case (``npv_*``, Green Book: real, discounted, VAT and
        tax left out) it gives the cost to the council in cash including VAT and
        tax (``council_cash_*``: every line the council funds, all years,
        undiscounted), of which ``irrecoverable_vat`` and ``corporation_tax``, and
        the DSG high-needs deficit the council carries at the end
        (``high_needs_cumulative_deficit``), when the scenario gives the income.
        """
        a, u = self.central, self.uncertain
        least = self.prob_least_cost()
        rows = []
        for oid, r in a.options.items():
            opt = self.scenario.options[oid]
            diff = u.npv_vs_baseline(oid)
            cash_diff = u.council_cash_vs_baseline(oid)
            row = {
                "option": oid, "label": opt.label, "baseline": opt.baseline,
                "npv_cost": r.npv_cost[0], "npv_vs_baseline": a.npv_vs_baseline(oid)[0],
                "npv_vs_baseline_mean": diff.mean(),
                "npv_cost_mean": u.options[oid].npv_cost.mean(),
                **{f"npv_cost_p{q}": v for q, v in zip(PERCENTILES, np.percentile(u.options[oid].npv_cost, PERCENTILES))},
                **{f"npv_vs_baseline_p{q}": v for q, v in zip(PERCENTILES, np.percentile(diff, PERCENTILES))},
                "nominal_total": r.financial_total[0].sum(),
                "council_cash_total": r.council_cash[0].sum(),
                "council_cash_vs_baseline": a.council_cash_vs_baseline(oid)[0],
                **{f"council_cash_vs_baseline_p{q}": v
                   for q, v in zip(PERCENTILES, np.percentile(cash_diff, PERCENTILES))},
                "irrecoverable_vat": _line_total(r, "company.irrecoverable_vat"),
                "corporation_tax": _line_total(r, "company.corporation_tax"),
                **({"high_needs_cumulative_deficit": r.high_needs["cumulative_deficit"][0, -1]}
                   if r.high_needs is not None else {}),
                "prob_least_cost": least[oid],
                "passes_csf": all(c.met for c in opt.csf.values()),
                "payback_year": self.payback_year(oid),
            }
            headroom = self.budget_headroom(oid)
            if headroom is not None:
                row["years_over_budget"] = int((headroom < 0).sum())
            if r.npv_cost_contract is not None:
                row["npv_vs_baseline_contract"] = r.npv_cost_contract[0] - a.options[a.baseline].npv_cost_contract[0]
            rows.append(row)
        out = pd.DataFrame(rows)
        money = [c for c in out.columns if c.startswith(("npv", "nominal", "council_cash", "high_needs"))
                 or c in ("irrecoverable_vat", "corporation_tax")]
        out[money] = out[money].round(2)
        return out

    def cash_bands(self) -> pd.DataFrame:
        """Cash by year across the draws, per option and per option minus the baseline.

        Columns: ``option``, ``measure`` (``cash`` or ``cash_vs_baseline``), ``year``,
        ``mean`` and ``p5`` ... ``p95`` [GBP, cash].
        """
        u = self.uncertain
        base = u.options[u.baseline].financial_total
        rows = []
        for oid, r in u.options.items():
            for measure, values in (("cash", r.financial_total), ("cash_vs_baseline", r.financial_total - base)):
                pct = np.percentile(values, PERCENTILES, axis=0)
                for t, year in enumerate(u.years):
                    rows.append({"option": oid, "measure": measure, "year": year, "mean": values[:, t].mean(),
                                 **{f"p{q}": pct[i, t] for i, q in enumerate(PERCENTILES)}})
        return pd.DataFrame(rows)

    @property
    def caseloads(self) -> pd.DataFrame:
        """Caseload and staff bands by option: option, measure, year, mean, p10, p50, p90."""
        frames = [r.projection.bands().assign(option=oid) for oid, r in self.uncertain.options.items()]
        out = pd.concat(frames, ignore_index=True)
        return out[["option", *[c for c in out.columns if c != "option"]]]

    @property
    def annual(self) -> pd.DataFrame:
        """Tidy central values: option, year, account, line, unit, value.

        Accounts: ``economic`` and ``financial`` by cost line, and, where the
        scenario gives the DSG high-needs income, ``high_needs`` (income,
        spending, deficit, cumulative_deficit; cash).
        """
        a = self.central
        rows = []
        for oid, r in a.options.items():
            accounts = [("economic", r.economic, "GBP, base-year prices"), ("financial", r.financial, "GBP, cash")]
            if r.high_needs is not None:
                accounts.append(("high_needs", r.high_needs, "GBP, cash"))
            for account, lines, unit in accounts:
                for line, values in lines.items():
                    for t, year in enumerate(a.years):
                        rows.append({"option": oid, "year": year, "account": account, "line": line,
                                     "unit": unit, "value": float(values[0, t])})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """The ``results.json`` document (docs/design.md contract), money rounded to the penny."""
        sc, a, u = self.scenario, self.central, self.uncertain
        summary = self.summary().set_index("option")
        mca = self.mca
        options = []
        for oid, r in a.options.items():
            s = summary.loc[oid]
            options.append({
                "id": oid, "label": sc.options[oid].label, "baseline": bool(s["baseline"]),
                "economic": {
                    "npv_cost": _money(s["npv_cost"]),
                    "npv_vs_baseline": _money(s["npv_vs_baseline"]),
                    "mean": _money(s["npv_vs_baseline_mean"]),
                    **{f"p{q}": _money(s[f"npv_vs_baseline_p{q}"]) for q in PERCENTILES},
                    "npv_cost_percentiles": {f"p{q}": _money(s[f"npv_cost_p{q}"]) for q in PERCENTILES},
                    **({"contract_years": sc.header.contract_years,
                        "npv_vs_baseline_contract": _money(s["npv_vs_baseline_contract"])}
                       if r.npv_cost_contract is not None else {}),
                },
                "financial": {
                    "nominal_total": _money(s["nominal_total"]),
                    "by_year": {y: _money(v) for y, v in zip(a.years, r.financial_total[0])},
                    "by_funder": {f: _money(v[0].sum()) for f, v in r.funders.items()},
                    # from the method, not the summary frame: a column mixing a year
                    # with None holds NaN for None, which is not JSON
                    "payback_year": self.payback_year(oid),
                    **({"budget_headroom_by_year": {y: _money(v) for y, v in zip(a.years, self.budget_headroom(oid))}}
                       if self.budget_headroom(oid) is not None else {}),
                },
                "council_cash": self._council_cash(oid, s),
                **({"high_needs": {k: {y: _money(v) for y, v in zip(a.years, arr[0])}
                                   for k, arr in r.high_needs.items()}} if r.high_needs is not None else {}),
                "prob_least_cost": round(float(s["prob_least_cost"]), 4),
                "mca_score": round(float(mca.totals[oid]), 4) if mca is not None else None,
                **({"mca_rank": int(mca.ranks[oid]), "mca_prob_preferred": round(float(mca.prob_preferred[oid]), 4)}
                   if mca is not None else {}),
                "passes_csf": bool(s["passes_csf"]),
            })
        annual = self.annual
        return {
            "schema": SCHEMA,
            "model_version": __version__,
            "scenario": {"name": sc.name, "title": sc.header.title, "sha256": sc.sha256,
                         "base_year": sc.header.base_year, "years": sc.header.years,
                         "draws": u.draws if self.draws is not None else 1, "seed": u.seed,
                         "deflator_vintage": a.deflator_vintage},
            "notes": {
                "npv_cost": "central run: every input at its central value; GBP, base-year prices, discounted",
                "percentiles": "of npv_vs_baseline across the Monte Carlo draws (all options share the draws)",
                "range": (f"the range the report, notebooks and workbook quote is {' to '.join(range_columns())}: "
                          f"the {range_label()}, which holds the result {range_words()}"),
                "annual": "central run",
                "council_cash": ("the cost to the council in cash, including VAT and corporation tax: every line the "
                                 "council funds, all years, undiscounted (GBP, cash); vs_baseline percentiles across "
                                 "the Monte Carlo draws"),
                "high_needs": "DSG high-needs block: income, spending it funds, in-year and cumulative deficit (GBP, cash)",
                "mca_score": "weighted total, 0-100 (DCLG swing weights); cost scored from the central NPV",
            },
            **({"mca_preferred": mca.preferred} if mca is not None else {}),
            "options": options,
            "annual": [{"option": row.option, "year": row.year, "account": row.account, "line": row.line,
                        "value": _money(row.value)} for row in annual.itertuples()],
            "warnings": a.warnings,
            # figures still marked as placeholders: these results then describe no council
            **({"placeholders": [str(p) for p in sc.placeholders]} if sc.placeholders else {}),
        }

    def _council_cash(self, oid: str, s: pd.Series) -> dict:
        """The ``council_cash`` block of one option in ``results.json``."""
        a = self.central
        r, base = a.options[oid], a.options[a.baseline]
        of_which = {name: _money(_line_total(r, line)) for name, line in (
            ("irrecoverable_vat", "company.irrecoverable_vat"), ("corporation_tax", "company.corporation_tax"),
            ("pension_rate_difference", "company.pension_rate_difference"), ("pension_bond", "company.pension_bond"),
            ("pension_cessation", "company.pension_cessation"), ("stranded_overheads", "council.stranded_overheads"))
            if line in r.financial}
        return {
            "total": _money(s["council_cash_total"]),
            "vs_baseline": _money(s["council_cash_vs_baseline"]),
            **{f"p{q}": _money(s[f"council_cash_vs_baseline_p{q}"]) for q in PERCENTILES},
            "by_year": {y: _money(v) for y, v in zip(a.years, r.council_cash[0])},
            "vs_baseline_by_year": {y: _money(v) for y, v in zip(a.years, r.council_cash[0] - base.council_cash[0])},
            "of_which": of_which,
        }

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json_text(self), encoding="utf-8")


def _line_total(r, line: str) -> float:
    """One financial line's total over all years, central run [GBP, cash]; 0 if the option has none."""
    values = r.financial.get(line)
    return float(values[0].sum()) if values is not None else 0.0


def json_text(results: Results) -> str:
    """``results.json`` as text: strict JSON (no NaN or Infinity anywhere).

    Raises
    ------
    ScenarioError
        When a figure came out infinite or undefined: the scenario's numbers are
        too large for the arithmetic (a growth rate of 1e15 a year compounds
        past the largest number a computer holds). The message names the
        scenario and the first such figure.
    """
    doc = results.to_dict()
    where = first_non_finite(doc)
    if where is not None:
        sc = results.scenario
        raise ScenarioError([Problem(str(sc.path), None, "", f"the appraisal gave {where[1]} for {where[0]}: some "
                                     "figure in the scenario is too large for the arithmetic (look for a growth "
                                     "rate, multiplier or cost many times larger than it should be)")])
    return strict_json(doc) + "\n"


def first_non_finite(doc: Any, path: str = "") -> tuple[str, str] | None:
    """The JSON path and value of the first NaN or infinite number in a document, or None.

    >>> first_non_finite({"options": [{"npv": 1.0}, {"npv": float("inf")}]})
    ('options[1].npv', 'inf')
    """
    if isinstance(doc, dict):
        items = ((f"{path}.{k}" if path else str(k), v) for k, v in doc.items())
    elif isinstance(doc, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(doc))
    elif isinstance(doc, float) and not math.isfinite(doc):
        return path, repr(doc)
    else:
        return None
    for sub, value in items:
        if (found := first_non_finite(value, sub)) is not None:
            return found
    return None
