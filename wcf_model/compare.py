"""Two versions of a business case side by side, for scrutiny.

``changes`` lists every assumption that differs between two scenarios, with
its old and new value and source. ``attribute`` says how much each change
moved each option's result (net present cost against the baseline): one change
at a time in the order listed, and by Shapley values, which average over every
order so that the answer does not depend on the order chosen.

A change is counted at the level a scenario states a figure: a whole
parameter, a whole cost item, a whole effect, an option added or removed, a
setting of the appraisal (base year, years, deflator vintage), or an MCA input.
Hybrid scenarios (the old one with some of the new figures) are built in
memory and appraised at central values.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .appraisal import appraise_options
from .errors import ScenarioError
from .scenario import Scenario, canonical_json, scenario_from_document

#: Header settings that change the appraisal itself (others, such as the title, do not).
APPRAISAL_SETTINGS = ("base_year", "years", "deflator_vintage", "contract_years", "authority")
#: Above this many changes, Shapley values are estimated from random orders.
EXACT_SHAPLEY_LIMIT = 8


def _is_figure(node: Any) -> bool:
    return isinstance(node, dict) and ("value" in node or "values" in node)


def _leaves(doc: dict, other_options: dict | None = None) -> dict[tuple, Any]:
    """Every figure-level item of a resolved scenario, keyed by its path.

    An option the other version (``other_options``) does not have is one item,
    with its costs and effects.
    """
    out: dict[tuple, Any] = {}
    for key in APPRAISAL_SETTINGS:
        if key in doc.get("scenario", {}):
            out[("scenario", key)] = doc["scenario"][key]

    def walk(node: Any, path: tuple) -> None:
        if isinstance(node, dict) and not _is_figure(node):
            for k, v in node.items():
                walk(v, (*path, k))
        else:
            out[path] = node

    walk(doc.get("parameters", {}), ("parameters",))
    for oid, opt in doc.get("options", {}).items():
        if oid not in (other_options or {}):
            out[("options", oid)] = opt       # an option only one version has is one change
            continue
        out[("options", oid)] = {k: v for k, v in opt.items()
                                 if k not in ("one_off_costs", "recurring_costs", "effects")}
        for kind in ("one_off_costs", "recurring_costs", "effects"):
            for item, body in opt.get(kind, {}).items():
                out[("options", oid, kind, item)] = body
    for cid, corr in doc.get("correlations", {}).items():
        out[("correlations", cid)] = corr
    mca = doc.get("mca", {})
    for section in ("critical_success_factors", "criteria"):
        for k, v in mca.get(section, {}).items():
            out[("mca", section, k)] = v
    for cid, by_option in mca.get("scores", {}).items():
        for oid, v in by_option.items():
            out[("mca", "scores", cid, oid)] = v
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if _is_figure(value):
        v = value.get("value", value.get("values"))
        return f"{v} {value.get('unit', '')}".strip()
    if isinstance(value, dict) and "label" in value and "vehicle" in value:   # an option
        return f"option '{value['label']}' ({value['vehicle']}, go-live {value.get('go_live', '-')})"
    if isinstance(value, dict):
        text = canonical_json({k: v for k, v in value.items() if k not in ("source", "note", "evidence",
                                                                          "rationale", "description")})
        return text if len(text) <= 160 else text[:157] + "..."
    return str(value)


def _source(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("source") or value.get("evidence") or value.get("rationale") or "")
    return ""


@dataclass(frozen=True)
class Change:
    """One assumption that differs: ``kind`` is added, removed or changed."""

    key: str
    path: tuple
    kind: str
    old: Any
    new: Any


def changes(old: Scenario, new: Scenario) -> list[Change]:
    """Every figure-level difference, in the order the new scenario states them."""
    a = _leaves(old.document, new.document.get("options", {}))
    b = _leaves(new.document, old.document.get("options", {}))
    out = []
    for path in [*b, *(p for p in a if p not in b)]:
        if path in a and path in b:
            if canonical_json(a[path]) != canonical_json(b[path]):
                out.append(Change(".".join(map(str, path)), path, "changed", a[path], b[path]))
        elif path in b:
            out.append(Change(".".join(map(str, path)), path, "added", None, b[path]))
        else:
            out.append(Change(".".join(map(str, path)), path, "removed", a[path], None))
    return out


def changes_table(old: Scenario, new: Scenario) -> pd.DataFrame:
    """Changed assumptions as a table: key, change, old, new, old source, new source."""
    rows = [{"key": c.key, "change": c.kind, "old": _text(c.old), "new": _text(c.new),
             "old_source": _source(c.old), "new_source": _source(c.new)} for c in changes(old, new)]
    return pd.DataFrame(rows, columns=["key", "change", "old", "new", "old_source", "new_source"])


def _apply(doc: dict, change: Change) -> None:
    """Put one change into a resolved document, in place."""
    node = doc
    path = change.path
    if path[0] == "options" and len(path) == 2:
        if change.new is None:
            doc["options"].pop(path[1], None)
        elif change.kind == "added":
            doc["options"][path[1]] = copy.deepcopy(change.new)
        else:  # an option's own settings; its items are separate changes
            node = doc["options"].setdefault(path[1], {})
            for key in [k for k in node if k not in ("one_off_costs", "recurring_costs", "effects")]:
                del node[key]
            node.update(copy.deepcopy(change.new))
        return
    for key in path[:-1]:
        node = node.setdefault(key, {})
    if change.new is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = copy.deepcopy(change.new)


def _npv_differences(doc: dict, options: list[str], baseline_old: str) -> dict[str, float] | None:
    """Central NPV minus the baseline's for each option, or None if the hybrid is not valid.

    The multi-criteria inputs never change a cost, and a hybrid may hold an
    option whose scores only the other version has, so they are left out.
    """
    doc = {k: v for k, v in doc.items() if k != "mca"}
    doc["options"] = {oid: {k: v for k, v in opt.items() if k != "csf"} for oid, opt in doc["options"].items()}
    try:
        sc = scenario_from_document(doc, "<hybrid>")
    except ScenarioError:
        return None
    a = appraise_options(sc)
    return {o: float(a.npv_vs_baseline(o)[0]) for o in options if o in a.options}


@dataclass(frozen=True)
class Attribution:
    """How each change moved each option's NPV against the baseline [GBP].

    ``old`` and ``new`` hold every option of each version (so an option only
    one version has appears in one of them); ``options`` are those both have,
    whose change is attributed.
    """

    options: list[str]
    old: dict[str, float]
    new: dict[str, float]
    sequential: pd.DataFrame     # change x option, applied one at a time in the listed order
    shapley: pd.DataFrame        # change x option, averaged over orders
    exact: bool                  # Shapley over every order, or estimated from sampled orders
    invalid_hybrids: int         # orders passing through a hybrid that does not validate


def attribute(old: Scenario, new: Scenario, samples: int = 200, seed: int = 0, progress=None) -> Attribution:
    """Attribute the change in each common option's NPV against the baseline to the changed assumptions.

    Only options present in both scenarios are attributed. Each hybrid is the old
    scenario with a subset of the changes applied. With more than
    :data:`EXACT_SHAPLEY_LIMIT` changes, Shapley values come from ``samples``
    random orders (seeded); otherwise from every subset, exactly. A hybrid that
    is not a valid scenario (e.g. an effect whose driver only the other version
    gives) is skipped and counted. ``progress(stage, total)`` is called as each
    hybrid is appraised (see :mod:`wcf_model.progress`).
    """
    if old.baseline != new.baseline:
        raise ScenarioError([])  # no common comparison to attribute
    found = [c for c in changes(old, new) if c.path[0] != "mca"]
    options = [o for o in old.options if o in new.options and o != old.baseline]
    cache: dict[frozenset, dict[str, float] | None] = {}
    n = len(found)
    # hybrids to appraise: every subset, or at most one new one per step of each sampled order
    planned = 2 ** n if n <= EXACT_SHAPLEY_LIMIT else min(2 ** n, samples * n + 1)

    def value(subset: frozenset) -> dict[str, float] | None:
        if subset not in cache:
            if progress is not None:
                progress(f"mixture {len(cache) + 1} of the two versions", planned)
            doc = copy.deepcopy(old.document)
            for i in sorted(subset):
                _apply(doc, found[i])
            cache[subset] = _npv_differences(doc, options, old.baseline)
        return cache[subset]

    start, end = value(frozenset()), value(frozenset(range(len(found))))
    every_old, every_new = _all_options(old), _all_options(new)
    keys = [c.key for c in found]
    seq = pd.DataFrame(0.0, index=keys, columns=options)
    applied: frozenset = frozenset()
    previous = start
    for i in range(len(found)):
        applied = applied | {i}
        current = value(applied)
        if current is not None and previous is not None:
            for o in options:
                seq.loc[keys[i], o] = current[o] - previous[o]
        previous = current if current is not None else previous
    shap = pd.DataFrame(0.0, index=keys, columns=options)
    invalid = 0
    exact = n <= EXACT_SHAPLEY_LIMIT
    if exact:
        for i in range(n):
            others = [j for j in range(n) if j != i]
            for size in range(n):
                weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                for subset in itertools.combinations(others, size):
                    s = frozenset(subset)
                    with_i, without = value(s | {i}), value(s)
                    if with_i is None or without is None:
                        invalid += 1
                        continue
                    for o in options:
                        shap.loc[keys[i], o] += weight * (with_i[o] - without[o])
    else:
        rng = np.random.default_rng(seed)
        for _ in range(samples):
            order = rng.permutation(n)
            prefix: frozenset = frozenset()
            before = value(prefix)
            for i in order:
                prefix = prefix | {int(i)}
                after = value(prefix)
                if after is None or before is None:
                    invalid += 1
                else:
                    for o in options:
                        shap.loc[keys[i], o] += (after[o] - before[o]) / samples
                before = after if after is not None else before
    return Attribution(options, {**every_old, **(start or {})}, {**every_new, **(end or {})}, seq, shap, exact,
                       invalid)


def _all_options(sc: Scenario) -> dict[str, float]:
    """Central NPV minus the baseline's for every option of one version [GBP]."""
    a = appraise_options(sc)
    return {o: float(a.npv_vs_baseline(o)[0]) for o in a.options if o != sc.baseline}


def waterfall_frame(att: Attribution, option: str, method: str = "shapley", top: int = 8) -> pd.DataFrame:
    """Steps from the old to the new result for one option: the largest changes, then the rest together."""
    contrib = (att.shapley if method == "shapley" else att.sequential)[option]
    contrib = contrib[contrib.abs() > 0.5]   # less than a pound is rounding, not a change
    order = contrib.abs().sort_values(ascending=False).index
    shown = contrib[order[:top]]
    rest = contrib[order[top:]].sum()
    steps = [("old", att.old.get(option, np.nan))] + list(shown.items())
    if len(order) > top:
        steps.append((f"{len(order) - top} other changes", rest))
    steps.append(("new", att.new.get(option, np.nan)))
    return pd.DataFrame(steps, columns=["step", "value"])


def _pounds(x: float) -> float:
    """Money for JSON: to the penny, and never -0.0."""
    return round(float(x), 2) + 0.0


def option_results(old: Scenario, new: Scenario, att: Attribution) -> list[dict]:
    """Every option of either version: its label, whether it was added or removed, and its result in each."""
    rows = []
    for o in dict.fromkeys([*old.options, *new.options]):
        if o == new.baseline or o == old.baseline:
            continue
        label = (new.options.get(o) or old.options[o]).label
        status = "added" if o not in old.options else "removed" if o not in new.options else "in both"
        before, after = att.old.get(o), att.new.get(o)
        rows.append({"id": o, "label": label, "status": status,
                     "old_npv_vs_baseline": None if before is None else _pounds(before),
                     "new_npv_vs_baseline": None if after is None else _pounds(after),
                     "change": None if before is None or after is None else _pounds(after - before)})
    return rows


def diff_document(old: Scenario, new: Scenario, progress=None) -> dict:
    """Plain data for ``wcf-model diff --json``: the changes, every option's result, and the attribution."""
    table = changes_table(old, new)
    att = attribute(old, new, progress=progress)
    return {
        "old": {"name": old.name, "file": str(old.path), "sha256": old.sha256},
        "new": {"name": new.name, "file": str(new.path), "sha256": new.sha256},
        "changes": table.to_dict(orient="records"),
        "options": option_results(old, new, att),
        "attribution": {
            o: {"old_npv_vs_baseline": _pounds(att.old.get(o, float("nan"))),
                "new_npv_vs_baseline": _pounds(att.new.get(o, float("nan"))),
                "shapley": {k: _pounds(v) for k, v in att.shapley[o].items() if abs(v) >= 0.5},
                "one_at_a_time": {k: _pounds(v) for k, v in att.sequential[o].items() if abs(v) >= 0.5}}
            for o in att.options},
        "shapley_exact": att.exact,
        "invalid_hybrids": att.invalid_hybrids,
    }


def diff_text(old: Scenario, new: Scenario, progress=None) -> str:
    """A plain-text account of what changed and what it did to each option's result."""
    from .formats import money, signed_money

    table = changes_table(old, new)
    att = attribute(old, new, progress=progress)
    lines = [f"{old.name} ({old.path}) -> {new.name} ({new.path})", "",
             f"{len(table)} assumption(s) changed:"]
    for r in table.itertuples():
        src = f"  [source: {r.new_source or r.old_source}]" if (r.new_source or r.old_source) else ""
        lines.append(f"  {r.change:<8} {r.key}: {r.old or '-'} -> {r.new or '-'}{src}")
    lines += ["", "Net present cost against the baseline (£, central values), every option in either version, "
                  f"and what moved it (Shapley values{'' if att.exact else ', estimated from sampled orders'}):"]
    for row in option_results(old, new, att):
        name = f"{row['label']} ({row['id']})"
        if row["status"] == "added":
            lines.append(f"  {name}: added in {new.name}: {money(row['new_npv_vs_baseline'])}")
            continue
        if row["status"] == "removed":
            lines.append(f"  {name}: removed in {new.name} (was {money(row['old_npv_vs_baseline'])})")
            continue
        lines.append(f"  {name}: {money(row['old_npv_vs_baseline'])} -> {money(row['new_npv_vs_baseline'])} "
                     f"({signed_money(row['change'])})")
        for key, v in att.shapley[row["id"]].sort_values(key=abs, ascending=False).items():
            if abs(v) >= 0.5:
                lines.append(f"      {signed_money(v):>15}  {key}")
    if att.invalid_hybrids:
        lines.append(f"  ({att.invalid_hybrids} mixtures of the two versions were not valid scenarios and were skipped)")
    return "\n".join(lines)


def change_label(key: str, old: Scenario, new: Scenario) -> str:
    """A changed assumption's key in words, for charts: ``parameters.finance.vat_rate`` -> "VAT rate"."""
    from .catalogue import effect_label, humanise, option_item_labels, parameter_label

    parts = key.split(".")
    options = {**old.options, **new.options}
    if parts[0] == "parameters":
        return parameter_label(".".join(parts[1:]))
    if parts[0] == "options" and len(parts) >= 2 and parts[1] in options:
        opt = options[parts[1]]
        if len(parts) == 2:
            return (f"Option added: {opt.label}" if parts[1] not in old.options else
                    f"Option removed: {opt.label}" if parts[1] not in new.options else f"{opt.label}: its settings")
        if parts[2] == "effects" and parts[3] in opt.effects:
            return f"{effect_label(opt.effects[parts[3]].driver, opt.effects[parts[3]].label)} ({opt.label})"
        return f"{option_item_labels(opt).get(parts[3], humanise(parts[3]))} ({opt.label})"
    if parts[0] == "scenario":
        return {"base_year": "Base year", "years": "Years appraised", "deflator_vintage": "Deflator vintage",
                "contract_years": "Contract length", "authority": "Authority"}.get(parts[1], humanise(parts[1]))
    return humanise(key)
