"""The Excel round trip for finance officers: the rules, and writing the overlay.

:func:`~wcf_model.workbook_export.export_assumptions` writes every input of a
scenario to a workbook a finance officer can edit in Excel: one row per
parameter, one per option cost item and one per effect, with the editable cells
in light blue (the layout is :mod:`wcf_model.workbook_layout`'s; numbers and
distributions are written as :mod:`wcf_model.grammar` says).
:func:`import_assumptions` reads the edited workbook back, checks every edit
(:mod:`wcf_model.workbook_import`), and writes a scenario *overlay*: a small
YAML file that ``extends`` the original scenario and holds only what changed,
so a reviewer sees every edit with its new source. The four rooms, one job
each: the layout and the text grammar below, the export and the import
validator beside each other, and the overlay writer here on top.

Sheets
------
``Parameters``
    name, description, value, unit, price_year, source, confidence,
    distribution, note. ``value`` is blank for a figure given by year.
``By year``
    name, unit, then one column per financial year, for figures given by
    year (parameters, and option cost items named ``options.<id>.<kind>.<item>``).
``Option costs``
    one row per one-off or recurring cost item of each option.
``Effects``
    one row per effect an option claims.

    The last two columns of these three sheets, "Varies in the Monte Carlo
    run" and "Monte Carlo range (10th to 90th percentile)", say how the
    sampler reads each row's distribution
    (:func:`wcf_model.uncertain.uncertain_inputs`, through the register); they
    are in grey italics, and never read back.
``About``
    how to edit, and the scenario the workbook came from (with its sha256).

Rules on import
---------------
* Only the blue cells may change. An edit to another cell (a unit, a
  category, a description) is refused rather than silently ignored.
* A figure whose number changes (``value``, a value by year or
  ``price_year``) must come with a new source; an effect whose ``change``
  changes must come with new evidence; no figure may lose its source or
  confidence grade. A figure is replaced whole by an overlay (see
  :mod:`wcf_model.overlay`), so each changed figure is written complete,
  with its new source; an effect merges key by key, so only its changed keys
  are written.
* **A distribution moves with its value.** When a figure's central value
  (or an effect's ``change``) is edited and its ``distribution`` cell is
  left as it was, the distribution is scaled about the new value
  (:func:`wcf_model.distributions.scale_distribution`): triangular(low=700000,
  mode=1280000, high=1800000) on a value moved to 1500000 becomes
  triangular(low=820312.5, mode=1500000, high=2109375), so the Monte Carlo
  mean and range move with the central result. Where it cannot be scaled (the
  old value was 0, the sign changes, a beta distribution, or the scaled range
  leaves what the unit allows) the import refuses, naming the distribution
  cell to restate. A distribution edited together with its value is taken as
  written.
* A row may be added to ``Parameters`` for a catalogue parameter the scenario
  does not yet give (with a value, a source and a confidence); new cost items
  and effects belong in the scenario file. Deleting a row changes nothing.
* The About sheet records the sha256 of the scenario exported. A workbook
  from an older version of the base is refused, because its unedited cells
  would silently undo the base's newer figures.
* **What varies is checked through the sampler's own list.** Once the
  overlay is written and validated, its uncertain inputs
  (:func:`wcf_model.uncertain.uncertain_inputs`, the list the Monte Carlo run
  draws) are compared with the base's: every figure the workbook did not
  change must be drawn exactly as before, and every changed one as the
  workbook says (its distribution, about its new value). A change line says
  when a figure starts or stops varying in the Monte Carlo run. The
  workbook's two columns "Varies in the Monte Carlo run" and "Monte Carlo
  range" are written from that list on export and not read back.
* Every problem is reported at once, located as ``Sheet!Cell`` (for example
  ``Parameters!C14``) with the row number as the line; problems that only
  show once the overlay is validated are mapped back to the cell they come
  from. Nothing is written while there is any problem.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import yaml

from .distributions import is_uncertain
from .errors import Problem, ScenarioError, UsageError
from .outputs import check_output_file, write_file
from .scenario import Scenario, load_scenario
from .uncertain import uncertain_inputs
from .workbook_import import Edit, Flow, read_edits

# ---------------------------------------------------------------------------
# Import: what the Monte Carlo run will draw once the changes are applied
# ---------------------------------------------------------------------------


def _drawn(edit: Edit, base: Scenario) -> tuple[dict | None, float]:
    """The distribution a changed figure is drawn from once the overlay applies (None: it does not
    vary), and its central value, as the edit writes them (1.0 for a figure given by year)."""
    body = edit.body
    if edit.path[0] == "options" and edit.path[2] == "effects":  # an effect merges key by key
        old = base.options[edit.path[1]].effects[edit.path[3]]
        spec = body["distribution"] if "distribution" in body else old.distribution
        central = body.get("change", old.change)
    else:  # a figure is replaced whole
        spec, central = body.get("distribution"), (1.0 if "values" in body else body["value"])
    return (dict(spec) if is_uncertain(spec) else None), float(central)


def _input_name(edit: Edit) -> str:
    return edit.key.removeprefix("parameters.")


def _say_what_varies(edits: list[Edit], base: Scenario) -> None:
    """Add to a change line when the change makes a figure start or stop varying in the Monte Carlo run."""
    before = {i.name for i in uncertain_inputs(base)}
    for edit in edits:
        now = _drawn(edit, base)[0] is not None
        was = _input_name(edit) in before
        if now != was:
            edit.line += "; now varies in the Monte Carlo run" if now else "; no longer varies in the Monte Carlo run"


def _close(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _follows(name: str, edited: dict[str, Edit], sc: Scenario) -> str | None:
    """The changed input ``name`` copies, when its option is ``based_on`` the option changed.

    An option based on another copies that option's cost items and effects
    unless it gives its own, so changing the original changes the copy too.
    """
    parts = name.split(".")
    if parts[0] != "options":
        return None
    seen = {parts[1]}
    origin = sc.options[parts[1]].based_on
    while origin is not None and origin not in seen:
        twin = ".".join(["options", origin, *parts[2:]])
        if twin in edited:
            return twin
        seen.add(origin)
        origin = sc.options[origin].based_on if origin in sc.options else None
    return None


def _check_what_varies(base: Scenario, new: Scenario, edits: list[Edit], workbook: str) -> list[Problem]:
    """The overlay read back through the one uncertain-input specification: every figure the
    workbook changed is drawn as the workbook says; every other is drawn as before, or, in an
    option based on a changed one, as its original now is (said on the original's change line)."""
    from .grammar import format_distribution

    before = {i.name: i for i in uncertain_inputs(base)}
    after = {i.name: i for i in uncertain_inputs(new)}
    edited = {_input_name(e): e for e in edits}

    def drawn(ui) -> tuple[dict | None, float]:
        return (None, 0.0) if ui is None else (ui.spec, ui.central)

    def said(d: tuple[dict | None, float]) -> str:
        return f"{format_distribution(d[0])} about {d[1]:,.10g}" if d[0] is not None else "not varied"

    problems = []
    for name in [*before, *(n for n in after if n not in before)]:
        have = drawn(after.get(name))
        if name in edited:
            want = _drawn(edited[name], base)
        elif (twin := _follows(name, edited, base)) is not None:
            want = _drawn(edited[twin], base)
            if not _close(drawn(before.get(name)), want) and _close(want, have):
                edited[twin].line += f"; {name} moves with it (its option is based on this one)"
        else:
            want = drawn(before.get(name))
        if want[0] is None and have[0] is None or _close(want, have):
            continue
        message = (f"{name}: once the changes are applied the Monte Carlo run would draw it as {said(have)}, "
                   f"not as {said(want)}")
        if name in edited:
            ref, row = edited[name].cells[edited[name].key]
            problems.append(Problem(workbook, row, ref, message + " as the workbook says"))
        else:
            problems.append(Problem(workbook, None, name, message + " as before (the workbook did not change it)"))
    return problems


# ---------------------------------------------------------------------------
# Import: writing and validating the overlay
# ---------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))
# Financial years quoted ("2019-20"), as the scenario files write them.
_Dumper.add_representer(str, lambda d, data: d.represent_scalar(
    "tag:yaml.org,2002:str", data, style='"' if re.fullmatch(r"\d{4}-\d{2}", data) else None))


def _overlay_text(base_path: Path, out_path: Path, workbook_path: Path, edits: list[Edit],
                  name: str, title: str) -> str:
    extends = Path(os.path.relpath(base_path.resolve(), out_path.resolve().parent)).as_posix()
    doc: dict[str, Any] = {"scenario": {"name": name, "title": title, "extends": extends}}
    for edit in edits:
        node = doc
        for part in edit.path[:-1]:
            node = node.setdefault(part, {})
        node[edit.path[-1]] = edit.body
    header = [
        f"# Changes to {base_path.name} made in the workbook {workbook_path.name},",
        "# written by wcf-model import-assumptions. This file holds only what changed;",
        f"# everything else comes from the file it extends. {len(edits)} change(s):",
        *(f"#   - {' '.join(e.line.split())}" for e in edits),
        "",
    ]
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)
    return "\n".join(header) + body


def _map_back(problems: list[Problem], edits: list[Edit], workbook: str) -> list[Problem]:
    """Problems found in the generated overlay, located at the workbook cells they came from.

    A problem keyed inside a changed row (``parameters.x.distribution``) goes
    to that cell; one keyed on a group (shares that no longer add up to 1)
    goes to the first changed row of the group; anything else keeps its
    scenario key.
    """
    cells: dict[str, tuple[str, int]] = {k: v for e in edits for k, v in e.cells.items()}
    owner: dict[str, str] = {k: e.key for e in edits for k in e.cells}
    longest_first = sorted(cells, key=len, reverse=True)
    out = []
    for p in problems:
        match = next((k for k in longest_first if p.key == k or p.key.startswith(k + ".")), None)
        if match is None and p.key:
            below = sorted((cells[k][1], k) for k in cells if k.startswith(p.key + "."))
            match = below[0][1] if below else None
        if match is None:
            out.append(Problem(workbook, None, p.key, f"{p.message} (after applying the workbook's changes)"))
            continue
        ref, row = cells[match]
        key = owner[match]
        name = key.removeprefix("parameters.")
        if p.key == key:
            where = name
        elif p.key.startswith(key + "."):
            where = f"{name} ({p.key.removeprefix(key + '.')})"
        else:  # a problem with the group the changed row belongs to
            where = f"{p.key.removeprefix('parameters.')}, after the change to {name}"
        out.append(Problem(workbook, row, ref, f"{where}: {p.message}"))
    return out


def import_assumptions(workbook_path: str | Path, base_scenario_path: str | Path, out_path: str | Path, *,
                       name: str | None = None, title: str | None = None, check_base: bool = True) -> list[str]:
    """Turn an edited assumptions workbook into a scenario overlay holding only the changes.

    Parameters
    ----------
    workbook_path : str or Path
        The workbook, as written by :func:`export_assumptions` and edited.
    base_scenario_path : str or Path
        The scenario it was exported from; the overlay ``extends`` it.
    out_path : str or Path
        The overlay YAML to write. Its ``extends`` is the base's path relative
        to this file's folder. An existing file is replaced atomically, and
        only when everything is valid. It may not be a file of the base's
        ``extends`` chain.
    name : str, optional
        The overlay's scenario name; ``<base name>-edited`` by default.
    title : str, optional
        Its title; the base's title with "(edited in <workbook>)" by default.
    check_base : bool
        Refuse a workbook exported from a different version of the base (its
        sha256 on the About sheet differs), because its unedited cells would
        then overwrite the base's newer figures. True by default.

    Returns
    -------
    list of str
        One line per changed row, e.g.
        ``costs.placements.weekly.ifa: value 820 -> 900 [new source: "..."]``.
        **Empty when nothing changed; then no file is written** (and an existing
        ``out_path`` is left as it was), so the caller can say "no changes".

    Raises
    ------
    ScenarioError
        With every problem at once, each ``Problem(file=<workbook>, line=<row>,
        key="<Sheet>!<Cell>", message)``: numbers that are not numbers, unknown
        names (with a suggestion), a changed figure without its own source, a
        missing sheet or column, distribution text that cannot be read,
        confidence outside 1-5, edits to cells that are not editable, and the
        problems :func:`load_scenario` finds in the resulting overlay, mapped
        back to the cells they come from. Problems in the base scenario itself
        are raised as they are, against the base file.
    UsageError
        When ``out_path`` is a file of the base scenario's chain.
    OutputError
        When ``out_path`` is the workbook being read, a folder, or cannot be written.
    """
    workbook_path, base_path, out_path = Path(workbook_path), Path(base_scenario_path), Path(out_path)
    base = load_scenario(base_path)
    if out_path.resolve() in {f.resolve() for f in base.files}:
        raise UsageError(f"refusing to write the overlay over {out_path}, which the base scenario "
                         f"{base_path} is made from; choose a new file name with -o")
    inputs = [workbook_path, *base.files]
    # Writing a scenario is this command's job, so scenarios/ is allowed; it may
    # not write over the workbook it reads nor the files the overlay extends.
    check_output_file(out_path, inputs, allow_inputs=True)
    edits = read_edits(workbook_path, base, check_base=check_base)
    if not edits:
        return []
    _say_what_varies(edits, base)
    overlay_name = name or f"{base.name}-edited"
    overlay_title = title or f"{base.header.title} (edited in {workbook_path.name})"
    text = _overlay_text(base_path, out_path, workbook_path, edits, overlay_name, overlay_title)

    def write_checked(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")
        try:
            new = load_scenario(tmp)
        except ScenarioError as exc:
            raise ScenarioError(_map_back(exc.problems, edits, str(workbook_path))) from None
        problems = _check_what_varies(base, new, edits, str(workbook_path))
        if problems:
            raise ScenarioError(problems)
        # the change lines may now also say which copies of a changed option follow it
        tmp.write_text(_overlay_text(base_path, out_path, workbook_path, edits, overlay_name, overlay_title),
                       encoding="utf-8")

    write_file(out_path, write_checked, inputs=inputs, allow_inputs=True)
    return [e.line for e in edits]
