"""Checking a scenario: every rule that needs more than one field.

:func:`validate` checks a merged scenario tree (what
:func:`wcf_model.scenario.load_scenario` builds from a file and the files it
extends) section by section, so one bad option does not hide the problems of
the others, and reports every problem at once as ``FILE:LINE: dotted.key:
message``. Shapes and single-field rules are the models' own
(:mod:`wcf_model.schema`); units, vocabularies and each parameter's range come
from :mod:`wcf_model.catalogue`; which inputs are uncertain, and may be
correlated, from :mod:`wcf_model.uncertain`, the one uncertain-input
specification the sampler reads too. :func:`find_placeholders` finds text
still marked as a placeholder.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from . import catalogue
from .catalogue import UNITS, allowed_keys, option_input_name, parameter_specs, suggest
from .distributions import REGISTRY as DISTRIBUTIONS
from .distributions import check_distribution, ppf
from .effect_library import DEFAULT_LIBRARY, load_library, resolve_effects
from .errors import Problem
from .formats import financial_year_label, financial_year_of, financial_year_start
from .limits import MAX_MAGNITUDE
from .overlay import is_figure, overlay
from .schema import Correlation, Effect, Figure, Header, Mca, Option, Parameter, describe_value, translate_error
from .uncertain import correlation_matrix, uncertain_inputs_of
from .yamlio import Loc, LocDict, locate, plain

#: Tolerance on a mix of shares summing to one (rounding in published tables).
MIX_TOLERANCE = 0.005


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


class _Collector:
    """Collects problems, locating each dotted key in the merged tree."""

    def __init__(self, tree: LocDict, fallback: str):
        self.tree = tree
        self.fallback = fallback
        self.problems: list[Problem] = []

    def add(self, loc: tuple[Any, ...], message: str) -> None:
        where: Loc | None = locate(self.tree, loc)
        file = where.file if where else self.fallback
        line = where.line if where else None
        self.problems.append(Problem(file, line, _dotted(loc), message))


def _range_problem(unit_name: str, value: float) -> str | None:
    unit = UNITS[unit_name]
    if unit.low is not None and value < unit.low:
        what = {"count": "a count", "money": "a cost", "rate": "a rate", "ratio": "a ratio",
                "share": "a share", "duration": "a duration", "growth": "a growth rate",
                "difference": "a difference of shares"}[unit.kind]
        return f"{what} in {unit_name} cannot be below {unit.low:g}, got {value:g}"
    if unit.high is not None and value > unit.high:
        return f"a value in {unit_name} cannot be above {unit.high:g}, got {value:g} ({unit.description})"
    return None


def _check_figure_values(c: _Collector, loc: tuple[Any, ...], fig: Figure, unit_name: str,
                         values_by_year: bool) -> None:
    """Range of the value(s) and of the distribution, for the figure's unit."""
    numbers = [(loc + ("value",), fig.value)] if fig.value is not None else [
        (loc + ("values", y), v) for y, v in (fig.values or {}).items()]
    for where, v in numbers:
        if (msg := _range_problem(unit_name, v)) is not None:
            c.add(where, msg)
    if fig.distribution is None:
        return
    # On figures by year, the distribution is a multiplier of the whole path.
    central = 1.0 if values_by_year else fig.value
    found = check_distribution(fig.distribution, central)
    for sub, msg in found:
        extra = (" (on 'values' by year the distribution is a multiplier of the path, centred on 1)"
                 if values_by_year and "central" in msg else "")
        c.add(loc + ("distribution",) + ((sub,) if sub else ()), msg + extra)
    if found or values_by_year:
        return
    # A share whose distribution reaches 1.2, or a cost that can go negative,
    # would feed impossible values to the model in some draws.
    dist = DISTRIBUTIONS[fig.distribution["type"]]
    for bound in dist.support({**fig.distribution, "_central": central}):
        if (msg := _range_problem(unit_name, bound)) is not None:
            hint = ("; use truncnormal, beta or a bounded distribution"
                    if abs(bound) == float("inf") else "")
            c.add(loc + ("distribution",), f"the {fig.distribution['type']} distribution reaches "
                                           f"{bound:g}: {msg}{hint}")
            return


def _validate_parameters(c: _Collector, tree: Any, strict: bool) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}
    specs = parameter_specs()
    if not isinstance(tree, dict):
        c.add(("parameters",), f"expected a mapping of parameter groups, got {describe_value(tree)}")
        return out

    def walk(node: dict, prefix: tuple[str, ...]) -> None:
        for key, value in node.items():
            name = ".".join((*prefix, str(key)))
            loc = ("parameters", *prefix, key)
            allowed = allowed_keys(".".join(prefix))
            if name in specs:
                out_param = _leaf(loc, name, value)
                if out_param is not None:
                    out[name] = out_param
            elif key in allowed:
                if isinstance(value, dict) and not is_figure(value):
                    walk(value, (*prefix, str(key)))
                else:
                    below = ", ".join(allowed_keys(name))
                    c.add(loc, f"'{name}' is a group of parameters, not one figure; "
                               f"expected a mapping with keys such as {below}")
            elif name in catalogue.RETIRED_PARAMETERS:
                c.add(loc, f"'{name}' is no longer used: {catalogue.RETIRED_PARAMETERS[name]}")
            else:
                where = f"under '{'.'.join(prefix)}'" if prefix else "at the top of parameters"
                c.add(loc, f"unknown parameter '{key}' {where}{suggest(key, allowed)} "
                           f"(allowed: {', '.join(allowed)})")

    def _leaf(loc: tuple[Any, ...], name: str, value: Any) -> Parameter | None:
        spec = specs[name]
        where = locate(c.tree, loc)
        file, line = (where.file, where.line) if where else (c.fallback, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (msg := _range_problem(spec.unit, value)) is not None:
                c.add(loc, msg)
            if strict:
                c.add(loc, "has no source (--strict needs a source and a confidence grade for every figure); "
                           "write it as a mapping with value, unit, source and confidence")
            return Parameter(name, float(value), None, spec.unit, spec.description, file=file, line=line)
        if not isinstance(value, dict):
            c.add(loc, f"expected a number or a mapping with 'value' or 'values', got {describe_value(value)}")
            return None
        try:
            fig = Figure.model_validate(plain(value))
        except ValidationError as exc:
            for err in exc.errors():
                sub, msg = translate_error(err, Figure)
                c.add(loc + sub, msg)
            return None
        if fig.unit is not None and fig.unit != spec.unit:
            hint = "" if fig.unit in UNITS else suggest(fig.unit, list(UNITS))
            c.add(loc + ("unit",), f"wrong unit: {name} is measured in '{spec.unit}', got '{fig.unit}'{hint}")
        _check_figure_values(c, loc, fig, spec.unit, fig.values is not None)
        if name in catalogue.CASH_PARAMETERS and fig.price_year is not None:
            c.add(loc + ("price_year",), f"{name} is cash by financial year, so it takes no price_year "
                                         "(the model does not re-price it)")
        if strict:
            for must in ("source", "confidence"):
                if getattr(fig, must) is None:
                    c.add(loc, f"has no {must} (--strict needs a source and a confidence grade for every figure)")
        return Parameter(name, fig.value, dict(sorted(fig.values.items())) if fig.values else None,
                         spec.unit, spec.description, fig.source, fig.confidence, fig.price_year,
                         fig.distribution, fig.note, file, line)

    walk(tree, ())
    return out


def _check_mix(c: _Collector, params: dict[str, Parameter], group: str) -> None:
    names = [n for n in params if n.startswith(group + ".")]
    if not names:
        return
    total = sum(params[n].central() for n in names)
    if abs(total - 1.0) > MIX_TOLERANCE:
        c.add(("parameters", *group.split(".")),
              f"shares must add up to 1, got {total:.4f} (across {len(names)} categories)")


def _check_cases_per_child(c: _Collector, params: dict[str, Parameter]) -> None:
    """A caseload target counts the DfE's cases, which the model makes from children in need."""
    if "workforce.caseload_target" in params and "workforce.cases_per_child_in_need" not in params:
        c.add(("parameters", "workforce", "caseload_target"),
              "needs workforce.cases_per_child_in_need beside it: the DfE's caseload is cases held / "
              "case-holding FTE, and its cases are not its children in need (England: about 0.84 cases per "
              "child in need at 31 March, 2017-2025), so give the published cases at 30 September / children "
              "in need at 31 March, or the model would count the social workers for every child in need")


def _timing_year(t: Any, option: Option) -> str | None:
    t = option.resolve(t)
    return financial_year_of(t) if isinstance(t, dt.date) else t


def _validate_options(c: _Collector, header: Header | None, options: dict[str, Option], mca: Mca,
                      params: dict[str, Parameter], strict: bool, all_valid: bool) -> None:
    baselines = [k for k, o in options.items() if o.baseline]
    if not baselines and all_valid and options:
        c.add(("options",), "no option has 'baseline: true'; exactly one option must be the baseline "
                            "(usually in-house) that the others are compared with")
    for extra in baselines[1:]:
        c.add(("options", extra, "baseline"),
              f"a second baseline (the first is '{baselines[0]}'); exactly one option may be the baseline")
    csfs = mca.critical_success_factors
    specs = parameter_specs()
    for oid, opt in options.items():
        loc = ("options", oid)
        # without any baseline the missing go_live is a symptom, not a second problem
        if not opt.baseline and opt.go_live is None and baselines:
            c.add(loc + ("go_live",), "required for an option that is not the baseline "
                                      "(the date or financial year it starts)")
        for key in ("go_live", "end"):
            fy = _timing_year(getattr(opt, key), opt)
            if header is not None and fy is not None:
                first = header.base_year
                last = financial_year_label(financial_year_start(first) + header.years - 1)
                if not (first <= fy <= last):
                    c.add(loc + (key,), f"falls in {fy}, outside the appraisal period {first} to {last}")
        for kind in ("one_off_costs", "recurring_costs"):
            for item_id, item in getattr(opt, kind).items():
                iloc = loc + (kind, item_id)
                _check_figure_values(c, iloc, item, item.unit, item.values is not None)
                if strict:
                    for must in ("source", "confidence"):
                        if getattr(item, must) is None:
                            c.add(iloc, f"has no {must} (--strict needs a source and a confidence "
                                        "grade for every figure)")
                timings = [("when", item.when)] if kind == "one_off_costs" else [("start", item.start), ("end", item.end)]
                for tkey, t in timings:
                    if t == "go_live" and opt.go_live is None:
                        c.add(iloc + (tkey,), "is 'go_live' but the option has no go_live date")
                    if t == "end" and opt.end is None:
                        c.add(iloc + (tkey,), "is 'end' but the option has no end date")
                _check_item_money_rules(c, iloc, kind, item_id, item, opt)
        for eid, eff in opt.effects.items():
            _validate_effect(c, loc + ("effects", eid), eff, params, specs)
            if eff.driver in params:
                _check_destinations_priced(c, loc + ("effects", eid), eff, params)
        for item_id in set(opt.one_off_costs) & set(opt.recurring_costs):
            c.add(loc + ("recurring_costs", item_id),
                  f"{option_input_name(oid, 'recurring_costs', item_id)} has the same id as "
                  f"{option_input_name(oid, 'one_off_costs', item_id)}; "
                  "each cost item of an option needs its own id, or one would hide the other in the accounts")
        known_lines = set(catalogue.LINE_VAT)
        groups = {n.split(".")[0] for n in known_lines} | {".".join(n.split(".")[:2]) for n in known_lines}
        for k, name in enumerate(opt.tax.council_contracts):
            if name not in known_lines | groups:
                c.add(loc + ("tax", "council_contracts", k),
                      f"'{name}' is not a cost line or group{suggest(name, sorted(known_lines | groups))}")
        for fid in opt.csf:
            if fid not in csfs:
                c.add(loc + ("csf", fid), f"not a critical success factor defined under "
                                          f"mca.critical_success_factors{suggest(fid, list(csfs))}"
                                          f" (defined: {', '.join(csfs) or 'none'})")
        for fid in csfs:
            if fid not in opt.csf:
                c.add(loc, f"does not say whether it meets critical success factor '{fid}' "
                           f"(add csf: {{{fid}: {{met: true/false, rationale: ...}}}})")


def _check_item_money_rules(c: _Collector, iloc: tuple[Any, ...], kind: str, item_id: str, item: Any,
                            opt: Option) -> None:
    """An item's optimism bias category must suit its kind of cost (Green Book supplementary guidance)."""
    if item.optimism_bias == "none":
        return
    wanted = "capital" if kind == "one_off_costs" else "operating"
    got = catalogue.OPTIMISM_BIAS_KIND[item.optimism_bias]
    if got != wanted:
        fits = [k for k, v in catalogue.OPTIMISM_BIAS_KIND.items() if v == wanted]
        what = "a one-off (capital) cost" if kind == "one_off_costs" else "a recurring (operating) cost"
        c.add(iloc + ("optimism_bias",),
              f"'{item.optimism_bias}' is the Green Book uplift for {got} costs, but this is {what}; "
              f"use one of {', '.join(fits)}")


#: Mixes whose effects move children between categories: driver prefix -> (price prefix, categories, words).
_MIXES = {
    "demand.ehcp.setting_mix.": ("costs.send.annual.", "setting"),
    "demand.cla.placement_mix.": ("costs.placements.weekly.", "placement type"),
}


def _check_destinations_priced(c: _Collector, loc: tuple[Any, ...], eff: Effect,
                               params: dict[str, Parameter]) -> None:
    """An effect on a mix moves children; every category it can move them into must have a price.

    Lowering one share moves its children to every other category with a share
    (the mix is re-normalised); raising it moves children into it. A category
    with children and no price would make them vanish from the costs.
    """
    for prefix, (price_prefix, words) in _MIXES.items():
        if not eff.driver.startswith(prefix):
            continue
        category = eff.driver[len(prefix):]
        share = params[eff.driver].central()
        lo = hi = eff.change
        kind = eff.distribution.get("type") if eff.distribution is not None else None
        # A type that is not a name (a mapping, a list) is the distribution check's problem to
        # report; here it only means the range is unknown, so the central change stands for it.
        if isinstance(kind, str) and kind in DISTRIBUTIONS:
            try:
                support = DISTRIBUTIONS[eff.distribution["type"]].support({**eff.distribution, "_central": eff.change})
            except (KeyError, TypeError, ValueError):
                support = None
            # a bound left empty or not a number is the distribution check's problem to report
            if support is not None and all(isinstance(v, int | float) and not isinstance(v, bool) for v in support):
                lo, hi = support
        if eff.mode == "set":
            lowers, raises = lo < share, hi > share
        else:
            lowers, raises = lo < 0, hi > 0
        destinations = []
        if raises:
            destinations.append(category)
        if lowers:
            destinations += [n[len(prefix):] for n in params if n.startswith(prefix) and n != eff.driver
                             and params[n].central() > 0]
        for d in destinations:
            if price_prefix + d not in params:
                c.add(loc + ("driver",),
                      f"moves children into the {words} '{d}', which has no price ({price_prefix}{d} is not given): "
                      "price it, or the children it moves would vanish from the costs")


def _resolve_based_on(c: _Collector, tree: Any) -> Any:
    """The tree with each option that names ``based_on`` laid over a copy of that option.

    The copy never inherits ``baseline``; chains are allowed, cycles refused.
    """
    options = tree.get("options") if isinstance(tree, LocDict) else None
    if not isinstance(options, LocDict) or not any(isinstance(o, LocDict) and "based_on" in o
                                                   for o in options.values()):
        return tree
    done: dict[Any, Any] = {}

    def resolve(oid: Any, seen: tuple[Any, ...]) -> Any:
        if oid in done:
            return done[oid]
        raw = options[oid]
        base_id = raw.get("based_on") if isinstance(raw, LocDict) else None
        if base_id is None:
            done[oid] = raw
            return raw
        if not isinstance(base_id, str) or base_id not in options or base_id == oid:
            c.add(("options", oid, "based_on"), f"no other option '{base_id}' to copy"
                  f"{suggest(str(base_id), [str(o) for o in options if o != oid])}")
            done[oid] = raw
            return raw
        if base_id in seen:
            c.add(("options", oid, "based_on"), f"based_on makes a cycle: {' -> '.join(map(str, (*seen, oid, base_id)))}")
            done[oid] = raw
            return raw
        base = resolve(base_id, (*seen, oid))
        if not isinstance(base, LocDict):  # the option's own check reports what it is instead
            c.add(("options", oid, "based_on"), f"option '{base_id}' is not a mapping of settings, so there is "
                                                "nothing to copy")
            done[oid] = raw
            return raw
        copy = LocDict(loc=base.loc)
        for key, value in base.items():
            if key not in ("baseline", "based_on"):
                copy[key] = value
                copy.locs[key] = base.locs[key]
        done[oid] = overlay(copy, raw)
        return done[oid]

    merged = LocDict(loc=options.loc)
    for oid in options:
        merged[oid] = resolve(oid, ())
        merged.locs[oid] = options.locs[oid]
    out = LocDict(loc=tree.loc)
    for key, value in tree.items():
        out[key] = merged if key == "options" else value
        out.locs[key] = tree.locs[key]
    return out


def _validate_effect(c: _Collector, loc: tuple[Any, ...], eff: Effect,
                     params: dict[str, Parameter], specs: dict[str, catalogue.ParamSpec]) -> None:
    if eff.driver not in specs:
        c.add(loc + ("driver",), f"'{eff.driver}' is not a model driver{suggest(eff.driver, list(specs))}; "
                                 "a driver is the dotted name of a parameter, e.g. "
                                 "demand.referrals.rate_per_10k")
        return
    if eff.driver not in params:
        c.add(loc + ("driver",), f"'{eff.driver}' is a model driver, but this scenario gives it no value "
                                 "under parameters:, so there is nothing to change")
        return
    unit = specs[eff.driver].unit
    if eff.mode == "multiply" and eff.change < -1:
        c.add(loc + ("change",), f"a 'multiply' change below -1 would make the driver negative, got {eff.change:g}")
    if eff.mode == "set" and (msg := _range_problem(unit, eff.change)) is not None:
        c.add(loc + ("change",), msg)
    if eff.distribution is not None:
        for sub, msg in check_distribution(eff.distribution, eff.change):
            c.add(loc + ("distribution",) + ((sub,) if sub else ()), msg)


def _validate_mca(c: _Collector, mca: Mca, options: dict[str, Option]) -> None:
    if mca.criteria and sum(cr.weight for cr in mca.criteria.values()) <= 0:
        c.add(("mca", "criteria"), "the weights add up to zero; give at least one criterion a positive weight")
    for cid, scores in mca.scores.items():
        if cid not in mca.criteria:
            c.add(("mca", "scores", cid), f"scores for a criterion not defined under mca.criteria"
                                          f"{suggest(cid, list(mca.criteria))}")
            continue
        if mca.criteria[cid].derived_from is not None:
            c.add(("mca", "scores", cid), f"criterion '{cid}' is derived from the model "
                                          f"({mca.criteria[cid].derived_from}); do not score it by hand")
        for oid in scores:
            if oid not in options:
                c.add(("mca", "scores", cid, oid), f"no option '{oid}'{suggest(oid, list(options))} "
                                                   f"(options: {', '.join(options)})")
    for cid, crit in mca.criteria.items():
        if crit.derived_from is None:
            missing = [o for o in options if o not in mca.scores.get(cid, {})]
            if missing:
                c.add(("mca", "criteria", cid), f"no score for option(s) {', '.join(missing)}; "
                                                "every option needs a score (0-100) with a rationale")


_SECTIONS: dict[str, type[BaseModel] | None] = {"scenario": Header, "parameters": None,
                                                "options": Option, "mca": Mca, "correlations": Correlation}


def _model(c: _Collector, model: type[BaseModel], data: Any, prefix: tuple[Any, ...]) -> Any:
    """Validate one section with pydantic; None (and problems recorded) if invalid."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc, msg = translate_error(err, model)
            c.add(prefix + loc, msg)
        return None


def _effect_library(tree: LocDict, data: dict[str, Any]) -> tuple[dict | None, list[Problem]]:
    """The effect library a scenario's ``use:`` effects cite, read only if one does.

    ``scenario.effect_library`` names files or folders relative to the file it
    is written in; without it, the project's ``scenarios/effects/``.
    """
    options = data.get("options")
    cites = isinstance(options, dict) and any(
        isinstance(o, dict) and isinstance(o.get("effects"), dict)
        and any(isinstance(e, dict) and "use" in e for e in o["effects"].values())
        for o in options.values())
    if not cites:
        return {}, []
    header = tree.get("scenario") if isinstance(tree, LocDict) else None
    named = header.get("effect_library") if isinstance(header, LocDict) else None
    if named is None:
        paths = [DEFAULT_LIBRARY]
    else:
        where = header.locs.get("effect_library")
        base = Path(where.file).parent if where is not None else Path(".")
        paths = [base / p for p in ([named] if isinstance(named, str) else named) if isinstance(p, str)]
    missing = [p for p in paths if not p.exists()]
    if missing:
        where = header.locs.get("effect_library") if isinstance(header, LocDict) else None
        return None, [Problem(where.file if where else str(missing[0]), where.line if where else None,
                              "scenario.effect_library", f"no effect library at {m}") for m in missing]
    entries, problems = load_library(paths)
    return (entries if not problems else None), problems


def validate(tree: LocDict, fallback: str, strict: bool, from_files: bool = True) -> tuple[
        Header | None, dict[str, Option], Mca | None, dict[str, Parameter], dict[str, Correlation], list[Problem],
        dict[str, Any]]:
    """Check a merged scenario section by section, so one bad option does not
    hide the problems of the others. Returns the plain data too, with library
    effects (``use:``) resolved."""
    c = _Collector(tree, fallback)
    tree = c.tree = _resolve_based_on(c, tree)
    data = plain(tree)
    library, library_problems = _effect_library(tree, data)
    c.problems += resolve_effects(data, tree, fallback, library, library_problems, from_files).problems
    for key in data:
        if key not in _SECTIONS:
            c.add((key,), f"unknown top-level key '{key}'{suggest(key, list(_SECTIONS))} "
                          f"(allowed: {', '.join(_SECTIONS)})")
    for key in ("scenario", "options"):
        if key not in data:
            c.add((key,), f"required section '{key}:' is missing")
    header = _model(c, Header, data["scenario"], ("scenario",)) if "scenario" in data else None
    params = _validate_parameters(c, data.get("parameters", {}), strict)
    for group in ("demand.cla.placement_mix", "demand.ehcp.setting_mix"):
        _check_mix(c, params, group)
    _check_cases_per_child(c, params)
    options: dict[str, Option] = {}
    raw_options = data.get("options", {})
    if not isinstance(raw_options, dict) or ("options" in data and not raw_options):
        c.add(("options",), f"expected a mapping of option ids to options, got {describe_value(raw_options)}")
        raw_options = {}
    specs = parameter_specs()
    for oid, raw in raw_options.items():
        if (opt := _model(c, Option, raw, ("options", oid))) is not None:
            options[oid] = opt
        elif isinstance(raw, dict) and isinstance(raw.get("effects"), dict):
            # The option is malformed, but its well-formed effects can still be
            # checked against the parameters, so the user sees everything at once.
            for eid, eff in raw["effects"].items():
                try:
                    parsed = Effect.model_validate(eff)
                except ValidationError:
                    continue  # already reported by the option's own validation
                _validate_effect(c, ("options", oid, "effects", eid), parsed, params, specs)
    mca = _model(c, Mca, data.get("mca", {}), ("mca",))
    correlations = _validate_correlations(c, data.get("correlations", {}), params, options)
    valid_options = len(options) == len(raw_options)
    _validate_options(c, header, options, mca or Mca(), params, strict, all_valid=valid_options)
    if mca is not None and valid_options:
        _validate_mca(c, mca, options)
    _check_takes_effect(c, header, options, params, data.get("correlations"))
    return header, options, mca, params, correlations, _once_at_origin(c.problems, raw_options), data


def _once_at_origin(problems: list[Problem], raw_options: Any) -> list[Problem]:
    """Drop a problem that an option only has because ``based_on`` copied it from another.

    The copy's parts keep the lines they were written on, so the same mistake
    would otherwise be reported once per copy; the one keyed to the option it
    was written in is kept.
    """
    if not isinstance(raw_options, dict):
        return problems
    origin = {oid: o["based_on"] for oid, o in raw_options.items()
              if isinstance(o, dict) and isinstance(o.get("based_on"), str)}
    seen = {(p.file, p.line, p.key, p.message) for p in problems}

    def inherited(p: Problem) -> bool:
        parts, visited = p.key.split("."), set()
        while len(parts) > 2 and parts[0] == "options" and parts[1] in origin and parts[1] not in visited:
            visited.add(parts[1])    # a based_on cycle is refused elsewhere; don't follow it here
            parts[1] = origin[parts[1]]
            if (p.file, p.line, ".".join(parts), p.message) in seen:
                return True
        return False

    return [p for p in problems if not inherited(p)]


# ---------------------------------------------------------------------------
# Settings that could not take effect: each would otherwise be dropped or cut
# without a word while the scenario reads "valid". Kept apart from the rules
# above, one rule to a function.
# ---------------------------------------------------------------------------


def _check_takes_effect(c: _Collector, header: Header | None, options: dict[str, Option],
                        params: dict[str, Parameter], raw_correlations: Any) -> None:
    if header is not None:
        first = header.base_year
        last = financial_year_label(financial_year_start(first) + header.years - 1)
        _check_contract_years(c, header)
        _check_costs_in_period(c, options, first, last)
        _check_effects_in_period(c, options, last)
    _check_option_ends(c, options)
    _check_effect_ranges(c, options, params)
    _check_correlation_pairs(c, raw_correlations)


def _when(t: Any, option: Option) -> tuple[str, dt.date | None] | None:
    """A timing as (financial year, date or None), with go_live and end resolved; None if unknown."""
    t = option.resolve(t)
    if isinstance(t, dt.date):
        return financial_year_of(t), t
    return (t, None) if isinstance(t, str) else None


def _before(a: tuple[str, dt.date | None], b: tuple[str, dt.date | None]) -> bool:
    """Whether timing ``a`` is strictly before ``b`` (by date when both are dates, else by year)."""
    if a[1] is not None and b[1] is not None:
        return a[1] < b[1]
    return a[0] < b[0]


def _check_contract_years(c: _Collector, header: Header) -> None:
    if header.contract_years is not None and header.contract_years > header.years:
        c.add(("scenario", "contract_years"),
              f"a contract of {header.contract_years} years is longer than the {header.years} years appraised, "
              "so the contract view would silently be the whole appraisal; shorten it or appraise more years")


def _check_costs_in_period(c: _Collector, options: dict[str, Option], first: str, last: str) -> None:
    """A cost dated outside the appraisal period, or ending before it starts, is never counted."""
    period = f"the appraisal period {first} to {last}"
    for oid, opt in options.items():
        for item_id, item in opt.one_off_costs.items():
            loc = ("options", oid, "one_off_costs", item_id)
            when = _when(item.when, opt)
            if item.values is None and when is not None and not first <= when[0] <= last:
                c.add(loc + ("when",), f"falls in {when[0]}, outside {period}, so this one-off cost would "
                                       "be left out of every result; date it inside the period")
            for year in item.values or {}:
                if not first <= year <= last:
                    c.add(loc + ("values", year), f"{year} is outside {period}, so this part of the cost "
                                                  "would be left out of every result")
        for item_id, item in opt.recurring_costs.items():
            loc = ("options", oid, "recurring_costs", item_id)
            start, end = _when(item.start, opt), _when(item.end, opt)
            if start is not None and end is not None and _before(end, start):
                c.add(loc + ("end",), f"ends ({end[1] or end[0]}) before it starts ({start[1] or start[0]}), "
                                      "so the cost would never be counted")
            elif start is not None and start[0] > last:
                c.add(loc + ("start",), f"starts in {start[0]}, after {period}, so the cost would never be counted")
            elif end is not None and end[0] < first:
                c.add(loc + ("end",), f"ends in {end[0]}, before {period}, so the cost would never be counted")
            if item.values and min(item.values) > last:
                c.add(loc + ("values",), f"every year given is after {period}, so the cost would never be counted")


def _check_option_ends(c: _Collector, options: dict[str, Option]) -> None:
    for oid, opt in options.items():
        start, end = _when(opt.go_live, opt), _when(opt.end, opt)
        if start is not None and end is not None and _before(end, start):
            c.add(("options", oid, "end"), f"the option ends ({end[1] or end[0]}) before it goes live "
                                           f"({start[1] or start[0]})")


def _check_effects_in_period(c: _Collector, options: dict[str, Option], last: str) -> None:
    for oid, opt in options.items():
        for eid, eff in opt.effects.items():
            start = _when(eff.start, opt)
            if start is not None and start[0] > last:
                c.add(("options", oid, "effects", eid, "start"),
                      f"starts in {start[0]}, after the last year appraised ({last}), so the effect would "
                      "change nothing")


#: Where a ``set`` effect's distribution is checked: its ends, or for one without an
#: end (a normal), its 0.1st and 99.9th percentiles. Draws beyond them are so rare
#: (one in a thousand on each side) that cutting them back does not move a result;
#: a distribution that crosses the range before them would be cut back materially.
TAIL = 1e-3


def _check_effect_ranges(c: _Collector, options: dict[str, Option], params: dict[str, Parameter]) -> None:
    """An effect may not take its driver out of the driver's range (a share above 1, a
    count below 0) nor past the largest number the model accepts: the model would cut it
    back, or overflow, without a word.

    Checked at the central change, against the driver's central value(s); for a
    ``set`` effect, whose distribution is the driver's new value itself, also at
    the ends of that distribution. The draws of an ``add`` or ``multiply``
    effect's change may cross the range in a tail (a normal from a published
    estimate); those few are cut back by design (:mod:`wcf_model.effects`).
    """
    specs = parameter_specs()
    for oid, opt in options.items():
        for eid, eff in opt.effects.items():
            if eff.driver not in specs or eff.driver not in params:
                continue  # reported by the option's own rules
            unit = UNITS[specs[eff.driver].unit]
            loc = ("options", oid, "effects", eid)
            changes = [("change", eff.change)]
            if eff.mode == "set" and eff.distribution and not check_distribution(eff.distribution, eff.change):
                changes += [("distribution", v) for v in _distribution_ends(eff.distribution, eff.change)]
            param = params[eff.driver]
            centrals = [param.central(y) for y in (param.values or [None])]
            for key, change in changes:
                if (why := _reach_problem(eff, change, centrals, unit)) is not None:
                    c.add(loc + (key,), ("at the ends of its distribution (for an unbounded one, its 0.1st and "
                                         "99.9th percentiles) it " if key == "distribution" else "it ") + why)
                    break


def _distribution_ends(spec: dict[str, Any], central: float) -> tuple[float, float]:
    """The lowest and highest values a distribution gives: its bounds, or for an unbounded
    side its :data:`TAIL` quantile (the normal's from the standard library, so that
    validation does not need scipy for the common case)."""
    from statistics import NormalDist

    low, high = DISTRIBUTIONS[spec["type"]].support({**spec, "_central": central})
    if math.isfinite(low) and math.isfinite(high):
        return low, high
    if spec["type"] == "normal":
        tails = NormalDist(spec["mean"], spec["sd"]).inv_cdf(TAIL), NormalDist(spec["mean"], spec["sd"]).inv_cdf(1 - TAIL)
    else:
        tails = tuple(float(v) for v in ppf(spec, np.array([TAIL, 1 - TAIL]), central))
    return (low if math.isfinite(low) else tails[0]), (high if math.isfinite(high) else tails[1])


def _reach_problem(eff: Effect, change: float, centrals: list[float], unit: Any) -> str | None:
    """Why an effect of size ``change`` takes its driver out of range, or None."""
    with np.errstate(all="ignore"):
        reach = np.array([change] if eff.mode == "set" else
                         [d + change if eff.mode == "add" else d * (1 + change) for d in centrals], dtype=float)
    shown = f"[{_num(unit.low) if unit.low is not None else '-'}, {_num(unit.high) if unit.high is not None else '-'}]"
    for bound, value, side in ((unit.low, reach.min(), "below"), (unit.high, reach.max(), "above")):
        if bound is not None and (value < bound if side == "below" else value > bound):
            return (f"would take {eff.driver} to {_num(value)}, {side} its range {shown} ({unit.name}), and the "
                    "model would cut it back without a word; keep the effect inside the range")
    if np.abs(reach).max() > MAX_MAGNITUDE:
        return (f"would take {eff.driver} to {_num(float(np.abs(reach).max()))}, past the largest figure the "
                f"model accepts ({MAX_MAGNITUDE:g})")
    return None


def _num(x: float) -> str:
    return f"{x:,.6g}"


def _check_correlation_pairs(c: _Collector, raw: Any) -> None:
    """The same two inputs correlated twice: only the last would count."""
    if not isinstance(raw, dict):
        return
    seen: dict[frozenset, str] = {}
    for cid, body in raw.items():
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not (isinstance(inputs, list) and len(inputs) == 2 and all(isinstance(i, str) for i in inputs)):
            continue
        pair = frozenset(inputs)
        if len(pair) == 2 and pair in seen:
            c.add(("correlations", cid, "inputs"), f"correlates the same two inputs as correlations.{seen[pair]}; "
                                                   "give each pair one rank correlation")
        seen.setdefault(pair, cid)


def _validate_correlations(c: _Collector, raw: Any, params: dict[str, Parameter],
                           options: dict[str, Option]) -> dict[str, Correlation]:
    """Each correlation names two uncertain inputs, and together they are a valid correlation matrix."""
    import numpy as np

    if not isinstance(raw, dict):
        c.add(("correlations",), f"expected a mapping of named correlations, got {describe_value(raw)}")
        return {}
    out: dict[str, Correlation] = {}

    uncertain = {i.name for i in uncertain_inputs_of(params, options)}
    for cid, body in raw.items():
        corr = _model(c, Correlation, body, ("correlations", cid))
        if corr is None:
            continue
        ok = True
        for k, name in enumerate(corr.inputs):
            if name not in uncertain:
                ok = False
                c.add(("correlations", cid, "inputs", k),
                      f"'{name}' is not an input with a distribution{suggest(name, sorted(uncertain))}; "
                      "only uncertain inputs can be correlated")
        if corr.inputs[0] == corr.inputs[1]:
            ok = False
            c.add(("correlations", cid, "inputs"), "names the same input twice")
        if ok:
            out[cid] = corr
    if out:
        names = sorted({n for corr in out.values() for n in corr.inputs})
        m = correlation_matrix(names, {tuple(corr.inputs): corr.rank_correlation for corr in out.values()})
        if np.linalg.eigvalsh(m).min() <= 1e-10:
            c.add(("correlations",), "these correlations contradict each other (the matrix they make is not "
                                     "positive definite); weaken some of them")
    return out


#: The marker of a placeholder: the word REPLACE or PLACEHOLDER in capitals,
#: anywhere in a text value (a source, a note, a name, a code, a rationale).
PLACEHOLDER = re.compile(r"\b(REPLACE|PLACEHOLDER)\b")


def find_placeholders(tree: Any, fallback: str) -> list[Problem]:
    """Every placeholder left in a scenario, one problem per figure or field.

    A figure whose ``source`` or ``note`` is marked is reported once, at the
    figure's key: its number is the placeholder, not just its text. Any other
    marked text (a title, the authority, a rationale, an effect's evidence) is
    reported at its own key.
    """
    found: dict[tuple[Any, ...], tuple[tuple[Any, ...], str]] = {}

    def walk(node: Any, path: tuple[Any, ...], figure: tuple[Any, ...] | None) -> None:
        if isinstance(node, dict):
            here = path if ("value" in node or "values" in node) else figure
            for key, value in node.items():
                walk(value, path + (key,), here)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, path + (i,), figure)
        elif isinstance(node, str) and PLACEHOLDER.search(node):
            found.setdefault(figure if figure is not None else path, (path, node))

    walk(tree, (), None)
    problems = []
    for key, (path, text) in found.items():
        where = locate(tree, path)
        shown = text if len(text) <= 70 else text[:67] + "..."
        what = (f"is a placeholder ({path[-1]}: '{shown}'): give your council's own figure and its source"
                if key != path else f"is a placeholder ('{shown}'): replace it")
        problems.append(Problem(where.file if where else fallback, where.line if where else None,
                                _dotted(key), what))
    return problems
