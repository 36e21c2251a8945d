"""Loading scenario files: ``extends`` chains, overlays and hashing.

A scenario is a YAML file (docs/design.md, "Scenario files"). It may extend another
file, whose values it overrides key by key. Everything is checked
(:mod:`wcf_model.validation`) before anything is used, and every problem is
reported at once as ``FILE:LINE: dotted.key: message``: a bad overlay never
half-applies. The overlay rules are :mod:`wcf_model.overlay`'s; a loaded
scenario is a :class:`~wcf_model.schema.Scenario`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from .errors import Problem, ScenarioError
from .limits import MAX_EXTENDS_CHAIN, MAX_SCENARIO_BYTES, MAX_YAML_NODES
from .overlay import overlay
from .schema import Parameter, Scenario  # noqa: F401  (what a loaded scenario is)
from .validation import find_placeholders, validate
from .yamlio import LocDict, parse_counted, read_text


# ---------------------------------------------------------------------------
# Reading the chain and overlaying it
# ---------------------------------------------------------------------------


def _read_document(path: Path, shown: str, budget: list[int], what: str) -> tuple[LocDict | None, list[Problem]]:
    """One file of a chain; ``budget`` holds the [bytes, YAML nodes] the chain may still use, and is spent."""
    text, problems = read_text(path, shown, budget[0], what)
    if text is None:
        return None, problems
    budget[0] -= len(text.encode("utf-8"))
    doc, problems, nodes = parse_counted(text, shown, budget[1])
    budget[1] -= nodes
    if doc is None and not problems:
        return None, [Problem(shown, None, "", "file is empty; expected a scenario mapping "
                                               "with 'scenario:', 'parameters:' and 'options:'")]
    if doc is not None and not isinstance(doc, LocDict):
        return None, problems + [Problem(shown, 1, "",
                                         f"expected a mapping of keys (scenario:, parameters:, options:), "
                                         f"got {type(doc).__name__}")]
    return doc, problems


def _read_chain(path: Path) -> tuple[list[tuple[Path, LocDict]], list[Problem]]:
    """Read a file and every file it extends, base first.

    The chain together is held to the limits of :mod:`wcf_model.limits`
    (bytes, YAML nodes, number of files), so a long chain of large files
    cannot add up to what one file may not be.
    """
    chain: list[tuple[Path, LocDict]] = []
    seen: list[Path] = []
    budget = [MAX_SCENARIO_BYTES, MAX_YAML_NODES]
    current, shown, via = path, str(path), None
    while True:
        try:
            resolved = current.resolve()
        except (OSError, ValueError, RuntimeError) as exc:  # a NUL in the name, a symlink loop
            where = via or (str(path), None)
            return chain, [Problem(where[0], where[1], "scenario.extends" if via else "",
                                   f"cannot use the path '{shown}': {exc}")]
        if resolved in seen:
            cycle = " -> ".join(str(p) for p in [*seen, resolved])
            return chain, [Problem(via[0], via[1], "scenario.extends",
                                   f"extends chain makes a cycle: {cycle}")]
        if len(seen) == MAX_EXTENDS_CHAIN:
            return chain, [Problem(via[0], via[1], "scenario.extends",
                                   f"the extends chain is longer than {MAX_EXTENDS_CHAIN} files, the most a "
                                   "scenario may be built from")]
        seen.append(resolved)
        used = MAX_SCENARIO_BYTES - budget[0]
        what = ("a scenario file (.yaml)" if via is None else
                f"what is left of a scenario's extends chain ({used:,} bytes were read before this file, "
                f"of {MAX_SCENARIO_BYTES:,} in all)")
        doc, problems = _read_document(current, shown, budget, what)
        if via is not None and doc is None and not current.exists():
            problems = [Problem(via[0], via[1], "scenario.extends",
                                f"extends '{shown}', but no file is there (looked for {resolved})")]
        elif via is not None and doc is None and not current.is_file():  # a folder, a FIFO, a device
            problems = [Problem(via[0], via[1], "scenario.extends", f"extends '{shown}', which {p.message}")
                        for p in problems]
        if problems or doc is None:
            return chain, problems
        chain.insert(0, (current, doc))
        header = doc.get("scenario")
        target = header.get("extends") if isinstance(header, LocDict) else None
        if target is None:
            return chain, []
        if not isinstance(target, str):
            return chain, [Problem(str(current), header.locs["extends"].line, "scenario.extends",
                                   f"expected a path (text) relative to this file, got {target!r}")]
        via = (str(current), header.locs["extends"].line)
        current = current.parent / target
        shown = str(Path(shown).parent / target)


def canonical_json(document: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, dates as ISO strings."""
    def default(o: Any) -> str:
        if isinstance(o, (dt.date, dt.datetime)):
            return o.isoformat()
        raise TypeError(f"cannot serialise {type(o).__name__}")
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=default)


def refuse_placeholders(sc: Scenario, command: str) -> None:
    """Stop a command that would appraise figures describing no council.

    Raises
    ------
    ScenarioError
        Naming every placeholder, and how to go on anyway (``--allow-placeholders``).
    """
    if sc.placeholders:
        raise ScenarioError([*sc.placeholders, Problem(
            str(sc.path), None, "", f"{len(sc.placeholders)} placeholder(s) left in: {command} refuses figures that "
            "describe no council. Replace each with your own figure and source, or pass --allow-placeholders "
            "to run it anyway (every output then says it holds placeholders)")])


def load_scenario(path: str | Path, *, strict: bool = False) -> Scenario:
    """Load, overlay and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        The scenario YAML file. Paths in ``extends`` are relative to the file
        that names them.
    strict : bool
        Also require a ``source`` and ``confidence`` on every figure.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        With every problem found, each as ``FILE:LINE: key: message``.
    """
    path = Path(path)
    chain, problems = _read_chain(path)
    if problems:
        raise ScenarioError(problems)
    top_file, top = chain[-1]
    header = top.get("scenario")
    if len(chain) > 1 and not (isinstance(header, LocDict) and "name" in header):
        problems.append(Problem(str(top_file), header.loc.line if isinstance(header, LocDict) else 1,
                                "scenario.name", "a file that extends another needs a name of its own, "
                                                 "or its outputs would overwrite the parent's"))
    merged = chain[0][1]
    for _, doc in chain[1:]:
        merged = overlay(merged, doc)
    if problems:
        found = validate(merged, str(top_file), strict)[5]
        raise ScenarioError(problems + found)
    return _build(merged, path, tuple(p for p, _ in chain), strict)


def scenario_from_document(document: dict[str, Any], path: str | Path = "<document>",
                           strict: bool = False) -> Scenario:
    """Validate a resolved scenario given as plain data (no ``extends``).

    Used to evaluate a scenario assembled in memory, such as one that mixes two
    versions of a business case when attributing the difference between them.
    """
    return _build(document, Path(path), (Path(path),), strict, from_files=False)


def _build(tree: Any, path: Path, files: tuple[Path, ...], strict: bool, from_files: bool = True) -> Scenario:
    header, options, mca, params, correlations, problems, resolved = validate(tree, str(path), strict, from_files)
    placeholders = find_placeholders(tree, str(path))
    if strict:  # a placeholder can never pass --strict
        problems = problems + placeholders
    if problems or header is None or mca is None:
        raise ScenarioError(problems)
    resolved["scenario"].pop("extends", None)
    # the library has been read into the effects, so the resolved scenario stands alone
    resolved["scenario"].pop("effect_library", None)
    return Scenario(
        path=path,
        files=files,
        header=header,
        parameters=params,
        options=options,
        mca=mca,
        correlations=correlations,
        document=resolved,
        sha256=hashlib.sha256(canonical_json(resolved).encode("utf-8")).hexdigest(),
        placeholders=tuple(sorted(placeholders, key=lambda p: (p.file, p.line or 0, p.key))),
    )
