"""The national sweep: every English authority's baseline, with the same delivery options.

``wcf-model sweep --options FILE -o DIR`` builds each authority's baseline from
the published statistics (:func:`wcf_model.council.baseline_from_rows`),
applies one set of delivery options written as data (an ordinary scenario
file, such as ``scenarios/options/generic.yaml``: its own parameters and
options, not its scenario block), appraises every option by Monte Carlo, and
writes

* ``sweep.csv``: one row per authority and option: the economic case (net
  present cost and its difference from the baseline, central and 10th, 50th
  and 90th percentiles), the council's cash (the financial case's
  council-funded lines, nominal, all years), and children looked after
  (opening, and at the end with percentiles);
* ``refused.csv``: any authority that could not be appraised, and why;
* ``ranking.png``: authorities ranked by one option's cost against in-house,
  per child aged 0-17, with its 10th-90th percentile range;
* ``about.json``: what was run (option set and its sha256, draws, seed, base
  year, data), each column's unit, and the chart's title and alt text.

All files are written whole or not at all; the same inputs, draws and seed
give identical bytes, however many processes ran them.

Running it elsewhere
--------------------
The work for one authority is :func:`appraise_authority`, a function of its
:class:`AuthorityTask` alone (the authority's and England's rows, the option
set's text, the base year, draws and seed): no shared state, nothing written.
:func:`run_sweep` maps it over the authorities with :mod:`concurrent.futures`
on the cores of one machine; the same function maps onto a cluster with an
existing engine, e.g. Dask (``client.map(appraise_authority, tasks)`` then
``client.gather``) or Ray (``ray.remote(appraise_authority)``), given
:func:`sweep_tasks` for the tasks and :func:`collect` for the table.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .version import __version__
from .data import EXTRACT_NAME, extract_path, load_frame
from .tidy import ENGLAND, region_rows
from .forecast import MEASURES, POPULATION
from .errors import UsageError, WcfModelError
from .formats import RANGE, range_columns, range_label
from .outputs import strict_json
from .formats import financial_year_label, financial_year_start

#: Percentiles reported for every uncertain result: the report's range (formats.RANGE) and the median.
PERCENTILES = (RANGE[0], 50, RANGE[1])

#: Columns of ``sweep.csv`` and their units.
COLUMNS: dict[str, str] = {
    "la_code": "old DfE code", "new_la_code": "ONS code", "la_name": "name",
    "option": "option id", "label": "option label", "baseline": "true for the in-house baseline",
    "base_year": "first financial year appraised, and the price base", "years": "years appraised",
    "children_0_17": "children aged 0-17 in the base year [children]",
    "npv_cost": "net present cost, central run [GBP, base-year prices, discounted]",
    **{f"npv_cost_p{q}": f"net present cost, {q}th percentile of the draws [GBP]" for q in PERCENTILES},
    "npv_vs_baseline": "net present cost minus the baseline's, central run [GBP]",
    "npv_vs_baseline_mean": "the same, mean of the draws [GBP]",
    **{f"npv_vs_baseline_p{q}": f"the same, {q}th percentile of the draws [GBP]" for q in PERCENTILES},
    "npv_vs_baseline_per_child": "npv_vs_baseline / children_0_17 [GBP per child]",
    "council_cash": "cash the council pays (the financial case's council-funded lines, VAT and tax "
                    "included), all years, central run [GBP, nominal]",
    **{f"council_cash_p{q}": f"the same, {q}th percentile of the draws [GBP, nominal]" for q in PERCENTILES},
    "council_cash_vs_baseline": "council cash minus the baseline's, central run [GBP, nominal]",
    **{f"council_cash_vs_baseline_p{q}": f"the same, {q}th percentile of the draws [GBP, nominal]"
       for q in PERCENTILES},
    "cla_opening": "children looked after at the start of the base year [children]",
    "cla_final": "children looked after at the end of the last year, central run [children]",
    **{f"cla_final_p{q}": f"the same, {q}th percentile of the draws [children]" for q in PERCENTILES},
    "prob_least_cost": "share of draws in which the option has the lowest net present cost",
    "warnings": "what the costs leave out, for this authority (e.g. placement types with no unit cost)",
}


# ---------------------------------------------------------------------------
# The option set
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionSet:
    """Delivery options written as data: a scenario file whose own layer is applied to each baseline.

    ``layer`` is the file's own content as the loader reads it (with where each
    key was written), less its ``scenario`` block: its ``extends`` chain is only
    for checking it. ``base_year`` is the base year its dates are written for.
    """

    path: str
    layer: dict
    base_year: str
    sha256: str
    options: tuple[str, ...]
    baseline: str
    vehicles: dict[str, str]


def load_option_set(path: str | Path) -> OptionSet:
    """Read and check an option set: the file must validate under ``--strict`` as a scenario
    (it extends an example baseline), so every problem is found before any authority is run."""
    from .scenario import load_scenario
    from .yamlio import parse_yaml

    path = Path(path)
    sc = load_scenario(path, strict=True)
    if len(sc.options) < 2:
        raise UsageError(f"{path}: an option set needs at least one option besides the baseline")
    text = path.read_text(encoding="utf-8")
    layer, _ = parse_yaml(text, str(path))  # it has just loaded cleanly
    layer.pop("scenario", None)
    return OptionSet(str(path), layer, sc.header.base_year, hashlib.sha256(text.encode("utf-8")).hexdigest(),
                     tuple(sc.options), sc.baseline, {o: v.vehicle for o, v in sc.options.items()})


def _shift(value, years: int):
    """A date or financial year ``years`` later (a timing written for another base year)."""
    if isinstance(value, dt.date):
        try:
            return value.replace(year=value.year + years)
        except ValueError:  # 29 February
            return value.replace(year=value.year + years, day=28)
    if isinstance(value, str) and len(value) == 7 and value[4] == "-" and value[:4].isdigit():
        return financial_year_label(financial_year_start(value) + years)
    return value


_TIMINGS = {"go_live", "end", "when", "start"}


def _shift_timings(node, years: int) -> None:
    """Move every timing of an option layer (in place, keeping where each was written)."""
    if isinstance(node, dict):
        for key in list(node):
            if key in _TIMINGS:
                node[key] = _shift(node[key], years)
            else:
                _shift_timings(node[key], years)


def _as_tree(node, name: str):
    """A generated document as the loader's located tree, every key located at ``name``
    with no line (it was never a file): what the overlay and the validation read."""
    from .yamlio import Loc, LocDict, LocList

    where = Loc(name, None)  # type: ignore[arg-type]  # no line: an in-memory document
    if isinstance(node, dict):
        out = LocDict(loc=where)
        for key, value in node.items():
            out[key] = _as_tree(value, name)
            out.locs[key] = where
        return out
    if isinstance(node, list):
        out = LocList((_as_tree(v, name) for v in node), loc=where)
        out.locs = [where] * len(out)
        return out
    return node


def apply_option_set(baseline_text, baseline_name: str, layer, option_base_year: str):
    """A scenario: the baseline with the option set's own layer over it.

    Parameters
    ----------
    baseline_text : str or dict
        The generated baseline: its YAML text, or the same as plain data
        (:meth:`wcf_model.council.Baseline.document`, which the sweep uses
        rather than writing and parsing a file per authority).
    baseline_name : str
        The name its problems are reported under.
    layer : dict
        The option set's own layer (:attr:`OptionSet.layer`); not changed.
    option_base_year : str
        The base year the option set's dates are written for; they move by the
        difference to the baseline's base year.

    Raises
    ------
    ScenarioError
        If the result does not validate under ``--strict`` (every problem, by file and line).
    """
    from .overlay import overlay
    from .scenario import scenario_from_document
    from .yamlio import parse_yaml

    base, problems = (parse_yaml(baseline_text, baseline_name) if isinstance(baseline_text, str)
                      else (_as_tree(baseline_text, baseline_name), []))
    if problems:
        from .errors import ScenarioError
        raise ScenarioError(problems)
    layer = copy.deepcopy(layer)  # its dates may move; the option set's own stays as written
    gap = financial_year_start(base["scenario"]["base_year"]) - financial_year_start(option_base_year)
    if gap:
        _shift_timings(layer.get("options", {}), gap)
    return scenario_from_document(overlay(base, layer), baseline_name, strict=True)


# ---------------------------------------------------------------------------
# One authority
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorityTask:
    """Everything one authority's appraisal needs (picklable, so it can run anywhere).

    ``la_rows`` are the published rows :func:`wcf_model.authorities.history` reads
    for the authority: its own, any joint return it is part of, and the other
    authorities of its reorganisation (:func:`task_rows`).
    """

    la_code: str
    la_rows: pd.DataFrame = field(repr=False)
    england_rows: pd.DataFrame = field(repr=False)
    option_layer: dict = field(repr=False)
    option_base_year: str
    base_year: str | None
    draws: int
    seed: int
    region_rows: pd.DataFrame | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AuthorityResult:
    """One authority's rows of ``sweep.csv``, or why it was refused."""

    la_code: str
    la_name: str
    rows: list[dict]
    refused: str = ""


def _pct(values: np.ndarray) -> list[float]:
    return [float(v) for v in np.percentile(values, PERCENTILES)]


def appraise_authority(task: AuthorityTask) -> AuthorityResult:
    """Build one authority's baseline, apply the options, appraise: a function of ``task`` alone.

    A mistake in the data for this authority (:class:`~wcf_model.errors.WcfModelError`)
    refuses it with the reason rather than stopping the sweep; anything else is a bug
    and is raised.
    """
    from .council import baseline_from_rows
    from .appraisal import appraise

    from .authorities import history

    own = task.la_rows[task.la_rows["la_code"] == task.la_code]
    name = str(own["la_name"].iloc[-1]) if len(own) else task.la_code
    try:
        la = history(task.la_rows, task.la_code)
        baseline = baseline_from_rows(la, task.england_rows, task.base_year, task.region_rows)
        sc = apply_option_set(baseline.document(), f"<baseline of {name} ({task.la_code})>", task.option_layer,
                              task.option_base_year)
        res = appraise(sc, draws=task.draws, seed=task.seed)
    except WcfModelError as exc:
        return AuthorityResult(task.la_code, name, [], " ".join(str(exc).split()))
    a, u = res.central, res.uncertain
    base = a.baseline
    least = res.prob_least_cost()
    # the council's cash over every year: the lines it funds, VAT and tax included (wcf_model.appraisal)
    council = {o: r.council_cash.sum(axis=1) for o, r in a.options.items()}
    council_u = {o: r.council_cash.sum(axis=1) for o, r in u.options.items()}
    rows = []
    for oid, r in a.options.items():
        proj, proj_u = r.projection, u.options[oid].projection
        children = float(proj.caseloads.population[0, 0])
        diff = a.npv_vs_baseline(oid)[0]
        cla = proj.caseloads.cla
        row = {
            "la_code": baseline.la_code, "new_la_code": baseline.new_la_code, "la_name": baseline.la_name,
            "option": oid, "label": sc.options[oid].label, "baseline": oid == base,
            "base_year": sc.header.base_year, "years": len(a.years), "children_0_17": round(children),
            "npv_cost": r.npv_cost[0],
            **dict(zip((f"npv_cost_p{q}" for q in PERCENTILES), _pct(u.options[oid].npv_cost))),
            "npv_vs_baseline": diff, "npv_vs_baseline_mean": float(u.npv_vs_baseline(oid).mean()),
            **dict(zip((f"npv_vs_baseline_p{q}" for q in PERCENTILES), _pct(u.npv_vs_baseline(oid)))),
            "npv_vs_baseline_per_child": diff / children if children else float("nan"),
            "council_cash": float(council[oid][0]),
            **dict(zip((f"council_cash_p{q}" for q in PERCENTILES), _pct(council_u[oid]))),
            "council_cash_vs_baseline": float(a.council_cash_vs_baseline(oid)[0]),
            **dict(zip((f"council_cash_vs_baseline_p{q}" for q in PERCENTILES),
                       _pct(u.council_cash_vs_baseline(oid)))),
            "cla_opening": round(float(cla.opening[0, 0]), 1) if cla is not None else float("nan"),
            "cla_final": round(float(cla.closing[0, -1]), 1) if cla is not None else float("nan"),
            **(dict(zip((f"cla_final_p{q}" for q in PERCENTILES),
                        (round(v, 1) for v in _pct(proj_u.caseloads.cla.closing[:, -1]))))
               if cla is not None else {f"cla_final_p{q}": float("nan") for q in PERCENTILES}),
            "prob_least_cost": round(least[oid], 4),
            "warnings": "; ".join(a.warnings),
        }
        rows.append({k: (round(v, 2) if isinstance(v, float) and k not in ("prob_least_cost",)
                         and not k.startswith("cla_") else v) for k, v in row.items()})
    return AuthorityResult(baseline.la_code, baseline.la_name, rows)


# ---------------------------------------------------------------------------
# Every authority
# ---------------------------------------------------------------------------


def current_authorities(frame: pd.DataFrame) -> list[str]:
    """The authorities with published figures in the latest year: today's councils,
    not those abolished by a reorganisation (:mod:`wcf_model.authorities`)."""
    from .authorities import register

    reg = register(frame)
    return list(reg.loc[reg["last_year"] == reg["last_year"].max(), "la_code"])


def task_rows(groups: dict[str, pd.DataFrame], code: str) -> pd.DataFrame:
    """The rows :func:`wcf_model.authorities.history` reads for one authority, from the
    extract grouped by code: its own, its joint returns', its reorganisation's."""
    from .authorities import succession_of

    s = succession_of(code)
    codes = {code, *(s.predecessors + s.successors if s else ())}
    codes |= {c for c in groups if "/" in c and code in c.split("/")}
    return pd.concat([groups[c] for c in sorted(codes) if c in groups], ignore_index=True)


def sweep_tasks(option_set: OptionSet, draws: int, seed: int, base_year: str | None = None,
                data_dir: str | Path | None = None, la_codes: Iterable[str] | None = None) -> list[AuthorityTask]:
    """One task per authority (every current English authority by default)."""
    from .tidy import normalise_la_code, rows_for

    frame = load_frame(data_dir)
    groups = dict(tuple(frame.groupby("la_code", sort=False)))
    england = groups.get(ENGLAND, frame.iloc[:0]).reset_index(drop=True)
    if la_codes is None:
        codes = current_authorities(frame)
    else:  # any code form the user gives, as the authority's old code
        codes = []
        for given in la_codes:
            found = rows_for(frame, given)
            if found.empty:
                raise UsageError(f"--la {given}: no authority with that code in the data "
                                 f"({normalise_la_code(given)}); `wcf-model authorities` lists them")
            codes.append(str(found["la_code"].iloc[0]))
    # the region's figures the caseload forecast may pool towards (wcf_model.forecast), kept small
    headline = frame[frame["measure"].isin([*MEASURES, POPULATION])]
    return [AuthorityTask(code, task_rows(groups, code), england, option_set.layer, option_set.base_year,
                          base_year, draws, seed, region_rows(headline, code) if code in groups else None)
            for code in codes]


def collect(results: Iterable[AuthorityResult]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sweep table and the refusals, in authority-code order whatever order the results came in."""
    results = sorted(results, key=lambda r: r.la_code)
    table = pd.DataFrame([row for r in results for row in r.rows], columns=list(COLUMNS))
    refused = pd.DataFrame([{"la_code": r.la_code, "la_name": r.la_name, "reason": r.refused}
                            for r in results if r.refused], columns=["la_code", "la_name", "reason"])
    return table, refused


def run_sweep(tasks: list[AuthorityTask], workers: int | None = None,
              progress: Callable[[int], object] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Appraise every task, in parallel across ``workers`` processes (the machine's cores by default).

    ``progress`` is called with 1 as each authority finishes. One worker runs in
    this process (no pool), which is what a debugger or a profiler wants.
    """
    workers = workers or os.cpu_count() or 1
    done = []
    if workers == 1:
        for task in tasks:
            done.append(appraise_authority(task))
            if progress:
                progress(1)
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)) or 1) as pool:
            futures = [pool.submit(appraise_authority, task) for task in tasks]
            for future in as_completed(futures):
                done.append(future.result())
                if progress:
                    progress(1)
    return collect(done)


# ---------------------------------------------------------------------------
# The chart and the files
# ---------------------------------------------------------------------------


def ranked_option(option_set: OptionSet, wanted: str | None = None) -> str:
    """The option the chart ranks by: ``wanted``, else the first company or trust, else the
    first option that is not the baseline."""
    others = [o for o in option_set.options if o != option_set.baseline]
    if wanted is not None:
        if wanted not in others:
            raise UsageError(f"--rank {wanted}: not an option of {option_set.path} besides the baseline "
                             f"({', '.join(others)})")
        return wanted
    companies = [o for o in others if option_set.vehicles[o] in ("company", "trust")]
    return (companies or others)[0]


def ranking_chart(table: pd.DataFrame, option: str):
    """Authorities ranked by the extra cash one option would cost the council over the baseline, per
    child aged 0-17, with its 10th-90th percentile range and the other options' central values."""
    import matplotlib.pyplot as plt

    from .plots import MARKERS, PALETTE, STYLE, Chart

    rows = table[~table["baseline"]].copy()
    low, high = range_columns("council_cash_vs_baseline_")
    for col in ("council_cash_vs_baseline", low, high):
        rows[col + "_pc"] = rows[col] / rows["children_0_17"]
    low, high = low + "_pc", high + "_pc"
    ranked = rows[rows["option"] == option].sort_values(["council_cash_vs_baseline_pc", "la_code"], kind="mergesort")
    order = list(ranked["la_code"])
    label = ranked["label"].iloc[0]
    others = [o for o in dict.fromkeys(rows["option"]) if o != option]
    n = len(order)
    with plt.rc_context({**STYLE, "axes.grid.axis": "x", "font.size": 9}):
        fig, ax = plt.subplots(figsize=(9, 0.16 * n + 1.8))
        y = np.arange(n)[::-1]
        ax.hlines(y, ranked[low], ranked[high],
                  color=PALETTE[4], linewidth=1, label=f"{label}: {range_label()}")
        ax.plot(ranked["council_cash_vs_baseline_pc"], y, MARKERS[0], color=PALETTE[0], markersize=4,
                linestyle="none", label=f"{label}: central")
        for k, oid in enumerate(others[:3], start=1):
            other = rows[rows["option"] == oid].set_index("la_code").reindex(order)
            ax.plot(other["council_cash_vs_baseline_pc"], y, MARKERS[k], color=PALETTE[k], markersize=3.5,
                    markerfacecolor="none", linestyle="none", label=f"{other['label'].dropna().iloc[0]}: central")
        ax.set_yticks(y, [f"{nm} ({c})" for nm, c in zip(ranked["la_name"], ranked["la_code"])], fontsize=6.5)
        ax.set_ylim(-1, n)
        ax.axvline(0, color="#3D3D3D", linewidth=1)
        # A council with a few hundred children (the Isles of Scilly, the City of London) would
        # squash every other onto the axis: cut the scale there and write their values instead.
        ends = ranked[[low, high]].to_numpy()
        cut = np.nanpercentile(ends[:, 1], 97) * 1.15 if n >= 20 else np.nanmax(ends)
        left = min(0.0, np.nanmin(ends)) * 1.1
        if np.nanmax(ends) > cut > 0:
            ax.set_xlim(left, cut)
            for yi, r in zip(y, ranked.itertuples()):
                if r.council_cash_vs_baseline_pc > cut:  # the dot itself is off the scale (a whisker is cut)
                    ax.annotate(f"£{r.council_cash_vs_baseline_pc:,.0f} (£{getattr(r, low):,.0f} to "
                                f"£{getattr(r, high):,.0f}), off the scale", (cut, yi),
                                xytext=(-4, 0), textcoords="offset points", ha="right", va="center", fontsize=6.5,
                                color="#3D3D3D", bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
        ax.set_xlabel("£ per child aged 0-17: the council's cash over the years appraised, minus in-house")
        ax.xaxis.set_label_position("top")
        ax.xaxis.tick_top()
        ax.legend(loc="upper right", frameon=True, fontsize=8)
        fig.tight_layout()
    pc = ranked["council_cash_vs_baseline_pc"]
    first, last = ranked.iloc[0], ranked.iloc[-1]
    above = int((ranked["council_cash_vs_baseline"] > 0).sum())
    years, base_year = int(ranked["years"].iloc[0]), ranked["base_year"].iloc[0]
    title = (f"{label} would cost the council more cash than in-house in {above} of {n} authorities: from "
             f"£{pc.iloc[0]:,.0f} per child in {first['la_name']} to £{pc.iloc[-1]:,.0f} in {last['la_name']}"
             if above else f"{label} would cost the council less cash than in-house in every one of {n} authorities")
    subtitle = (f"Council-funded cash (VAT and corporation tax included) over {years} years from {base_year}, "
                "minus the in-house baseline's, £ per child aged 0-17 in the base year, nominal: dot the central "
                f"run, line the {range_label()} of the draws; hollow markers the other options' central "
                "runs. Each baseline is built from the DfE's published statistics; the options' costs are "
                "national defaults, the same in every authority.")
    alt = (f"Dot chart ranking {n} English authorities by the extra cash '{label}' would cost the council over "
           "in-house, per child aged 0-17, lowest first: " + "; ".join(
               f"{r.la_name} £{r.council_cash_vs_baseline_pc:,.0f} (£{getattr(r, low):,.0f} to "
               f"£{getattr(r, high):,.0f})" for r in ranked.itertuples()) + ".")
    return Chart(fig, title, subtitle, alt)


def write_sweep(out: Path, table: pd.DataFrame, refused: pd.DataFrame, option_set: OptionSet, rank: str,
                draws: int, seed: int, data_dir: str | Path | None) -> list[Path]:
    """Write the sweep's files whole (see the module docstring)."""
    from .outputs import write_csv, write_set

    extract = extract_path(data_dir)
    data = {"folder": str(data_dir) if data_dir is not None else "data/"}
    if extract.is_file():
        data.update(file=EXTRACT_NAME, sha256=hashlib.sha256(extract.read_bytes()).hexdigest())
    files: dict[str, Callable[[Path], None]] = {
        "sweep.csv": lambda p: write_csv(table, p),
        "refused.csv": lambda p: write_csv(refused, p),
    }
    about = {
        "generated_by": f"wcf-model {__version__} sweep",
        "option_set": {"file": option_set.path, "sha256": option_set.sha256, "options": list(option_set.options)},
        "draws": draws, "seed": seed,
        "base_year": table["base_year"].iloc[0] if len(table) else None,
        "authorities": int(table["la_code"].nunique()), "refused": len(refused),
        "data": data, "columns": COLUMNS,
    }
    if len(table):
        chart = ranking_chart(table, rank)
        png = chart.png()
        files["ranking.png"] = lambda p: p.write_bytes(png)
        about["chart"] = {"file": "ranking.png", "option": rank, "title": chart.title, "subtitle": chart.subtitle,
                          "alt": chart.alt}
    text = strict_json(about) + "\n"
    files["about.json"] = lambda p: p.write_text(text, encoding="utf-8")
    return write_set(out, files, inputs=[p for p in (data_dir, option_set.path) if p is not None])


def progress_bar(total: int):
    """A progress bar on a terminal, nothing otherwise (tqdm)."""
    from tqdm import tqdm

    return tqdm(total=total, unit="authority", disable=not sys.stderr.isatty(), file=sys.stderr)


__all__ = ["AuthorityTask", "AuthorityResult", "OptionSet", "appraise_authority", "apply_option_set", "collect",
           "load_option_set", "ranking_chart", "run_sweep", "sweep_tasks", "write_sweep"]
