"""The effect library: integration effects backed by evidence, which an option cites by name.

A library file (``scenarios/effects/*.yaml``) holds effects measured in the
reference class of councils that moved their children's services out
(:mod:`wcf_model.reference_class`) or reported by a published evaluation.
Each entry says what it changes (a catalogue driver, a mode and a size with a
distribution), where the number comes from (citation, population, design,
interval), what it does not show (``limits``), which delivery vehicles it
applies to, and a confidence grade that must match the strength of its design:

====  =========================================================================
1     randomised controlled trial
2     quasi-experimental comparison (difference in differences, synthetic
      control) with at least 10 treated councils and a pre-trend check passed
      (placebo p-value of at least 0.1)
3     quasi-experimental comparison with fewer treated councils, or a
      pre-trend check failed or not possible
4     before-and-after comparison without a comparison group
5     judgement (never a library entry: write it in the scenario instead)
====  =========================================================================

An option cites an entry with ``use: NAME`` in its ``effects:`` mapping, and
may set ``start``, ``ramp_years``, ``fade_after_years``, ``fade_years``,
``scale`` (a multiple of the size, for evidence judged to apply only in part)
and ``widen`` (a multiple of 1 or more of the spread, for evidence judged less
certain here than where it was measured); a scaled or widened effect needs a
``note`` saying why. The size, distribution, driver, mode, evidence and grade
come from the library. An option that changes the size (``change`` or
``distribution``) must give its own ``evidence`` (and may give a
``confidence``, 5 if not): the effect then counts as a judgement, keeps the
entry's driver, mode and timing, and, without a distribution of its own, the
entry's distribution moved to centre on the new size; ``scale`` and ``widen``
no longer apply (the option's size is final). This is what an edited workbook
row becomes.

Resolution writes the whole effect into the resolved scenario (with
``library``, ``basis: evidence``, ``source`` and ``limits``), so the scenario's
hash changes when a library entry does, a comparison of two versions shows it,
and a resolved document validates on its own.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .catalogue import DELIVERY_VEHICLES, parameter_specs, suggest
from .distributions import check_distribution
from .errors import Problem
from .schema import translate_error
from .yamlio import LocDict, locate, parse_yaml, plain, read_text

#: The library shipped with the project (``scenarios/effects/``).
DEFAULT_LIBRARY = Path(__file__).resolve().parents[1] / "scenarios" / "effects"

#: Distributions a library size may have: those that scale and widen about their centre.
SCALABLE = ("normal", "truncnormal", "triangular", "pert", "uniform")

#: Keys an option may set on an effect that cites the library.
OVERRIDABLE = ("start", "ramp_years", "fade_after_years", "fade_years", "scale", "widen", "note")

#: Keys that come from the library and may not be overridden.
FROM_LIBRARY = ("driver", "mode", "library", "basis", "source", "limits")

#: Keys that turn a cited effect into a judgement: own numbers need own evidence.
OWN_NUMBERS = ("change", "distribution")
OWN_WORDS = ("evidence", "confidence")

Vehicle = Literal[DELIVERY_VEHICLES]  # type: ignore[valid-type]
Design = Literal["rct", "quasi_experimental", "before_after"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class Evidence(_Strict):
    """Where a library effect's number comes from."""

    citation: str = Field(min_length=1, description="the publication, or the reference-class estimate and its data")
    population: str = Field(min_length=1, description="who was measured: councils, years, comparison group")
    design: Design
    method: str = Field(min_length=1, description="how the estimate was made")
    estimate: str = Field(min_length=1, description="the published or estimated effect, in words and numbers")
    interval: str = Field(min_length=1, description="its interval and how it was made")
    councils: Annotated[int, Field(ge=1)] | None = Field(None, description="treated councils (or sites)")
    pretrend_p: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None, description="placebo p-value of the pre-trend check (quasi-experimental designs)")


def grade(evidence: Evidence) -> int:
    """The confidence grade the design supports (see the module docstring)."""
    if evidence.design == "rct":
        return 1
    if evidence.design == "before_after":
        return 4
    strong = (evidence.councils or 0) >= 10 and evidence.pretrend_p is not None and evidence.pretrend_p >= 0.1
    return 2 if strong else 3


class LibraryEffect(_Strict):
    """One entry of the effect library."""

    label: str = Field(min_length=1)
    driver: str
    mode: Literal["add", "multiply"]
    change: Annotated[float, Field(allow_inf_nan=False)]
    distribution: dict[str, Any]
    ramp_years: Annotated[float, Field(ge=0)] = 0
    fade_after_years: Annotated[float, Field(ge=0)] | None = None
    fade_years: Annotated[float, Field(ge=0)] | None = None
    basis: Literal["reference_class", "evaluation"]
    evidence: Evidence
    confidence: Annotated[int, Field(ge=1, le=4)]
    applies_to: Annotated[list[Vehicle], Field(min_length=1)]
    limits: str = Field(min_length=1, description="what the evidence does not show")

    @model_validator(mode="after")
    def _consistent(self) -> LibraryEffect:
        if (self.fade_after_years is None) != (self.fade_years is None):
            raise ValueError("give both 'fade_after_years' and 'fade_years', or neither")
        return self


class Library(_Strict):
    """A library file: a header and its entries."""

    library: dict[str, Any]
    effects: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], LibraryEffect]


@dataclass(frozen=True)
class Entry:
    """A library effect with where it was written."""

    name: str
    effect: LibraryEffect
    file: str
    line: int | None

    @property
    def source(self) -> str:
        """A one-line source for registers and reports."""
        e = self.effect.evidence
        return f"{e.citation}; {e.estimate}; {e.interval}"


def is_library_file(path: Path) -> bool:
    """True for a YAML file whose top level is an effect library (``library:`` and ``effects:``)."""
    text, problems = read_text(path, str(path))
    if text is None:
        return False
    doc, _ = parse_yaml(text, str(path))
    return isinstance(doc, dict) and set(doc) == {"library", "effects"}


def library_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files of the library: each path is a file or a folder of them."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        else:
            files.append(path)
    return files


def load_library(paths: Iterable[str | Path] | str | Path | None = None) -> tuple[dict[str, Entry], list[Problem]]:
    """Read and check library files.

    Parameters
    ----------
    paths : path or iterable of paths, optional
        Library files or folders of them; the shipped ``scenarios/effects/`` by default.

    Returns
    -------
    (entries, problems)
        Entries by name, and every problem found as ``FILE:LINE: key: message``
        (an entry with a problem is left out). Names must be unique across files.
    """
    if paths is None:
        paths = [DEFAULT_LIBRARY]
    elif isinstance(paths, (str, Path)):
        paths = [paths]
    entries: dict[str, Entry] = {}
    problems: list[Problem] = []
    specs = parameter_specs()
    for path in library_files(Path(p) for p in paths):
        shown = str(path)
        text, found = read_text(path, shown)
        if text is None:
            problems += found
            continue
        doc, found = parse_yaml(text, shown)
        problems += found
        if not isinstance(doc, LocDict):
            problems.append(Problem(shown, 1, "", "expected a library mapping with 'library:' and 'effects:'"))
            continue

        def add(loc: tuple[Any, ...], message: str, tree: LocDict = doc, shown: str = shown) -> None:
            where = locate(tree, loc)
            problems.append(Problem(shown, where.line if where else None, ".".join(map(str, loc)), message))

        try:
            lib = Library.model_validate(plain(doc))
        except ValidationError as exc:
            for err in exc.errors():
                loc, msg = translate_error(err, Library)
                add(loc, msg)
            continue
        for name, eff in lib.effects.items():
            loc = ("effects", name)
            bad = False
            if eff.driver not in specs:
                add(loc + ("driver",), f"'{eff.driver}' is not a model driver{suggest(eff.driver, list(specs))}")
                bad = True
            if eff.distribution.get("type") not in SCALABLE:
                add(loc + ("distribution", "type"), f"a library effect's distribution must be one of "
                                                    f"{', '.join(SCALABLE)} (so it can be scaled and widened), "
                                                    f"got '{eff.distribution.get('type')}'")
                bad = True
            else:
                for sub, msg in check_distribution(eff.distribution, eff.change):
                    add(loc + ("distribution",) + ((sub,) if sub else ()), msg)
                    bad = True
            expected = grade(eff.evidence)
            if eff.confidence != expected:
                add(loc + ("confidence",), f"a {eff.evidence.design.replace('_', '-')} design with "
                                           f"{eff.evidence.councils or 'an unknown number of'} council(s) and "
                                           f"pre-trend p = {eff.evidence.pretrend_p} supports confidence "
                                           f"{expected}, got {eff.confidence}")
                bad = True
            if name in entries:
                first = entries[name]
                add(loc, f"effect name '{name}' is already defined in {first.file}:{first.line}; "
                         "names must be unique across the library")
                bad = True
            if not bad:
                where = locate(doc, loc)
                entries[name] = Entry(name, eff, shown, where.line if where else None)
    return entries, problems


def scaled_distribution(dist: Mapping[str, Any], centre: float, scale: float, widen: float) -> dict[str, Any]:
    """A library distribution scaled by ``scale`` and its spread about the centre widened by ``widen``.

    ``centre`` is the entry's central change before scaling. Scaling multiplies
    every location parameter (and the spread); widening moves each bound (or
    the standard deviation) away from the scaled centre by the factor.

    >>> scaled_distribution({"type": "triangular", "low": -0.1, "mode": -0.05, "high": 0.0}, -0.05, 0.5, 2)
    {'type': 'triangular', 'low': -0.075, 'mode': -0.025, 'high': 0.025}
    """
    c = centre * scale
    out = dict(dist)
    for key in ("mean", "mode", "low", "high"):
        if key in out:
            out[key] = out[key] * scale
    if "sd" in out:
        out["sd"] = out["sd"] * abs(scale) * widen
    for key in ("low", "high"):
        if key in out:
            out[key] = c + (out[key] - c) * widen
    return {k: (round(v, 12) if isinstance(v, float) else v) for k, v in out.items()}


@dataclass(frozen=True)
class Resolution:
    """What :func:`resolve_effects` did: the effects rewritten and any problems."""

    problems: list[Problem]
    resolved: dict[tuple[str, str], str]   # (option, effect) -> library entry name


def resolve_effects(data: dict[str, Any], tree: LocDict, fallback: str, library: Mapping[str, Entry] | None,
                    library_problems: list[Problem], from_files: bool) -> Resolution:
    """Replace every ``use: NAME`` effect in a scenario's plain data with the library entry, in place.

    Parameters
    ----------
    data : dict
        The scenario as plain data (``plain(tree)``); rewritten in place.
    tree : LocDict
        The same scenario with locations, for ``FILE:LINE`` messages.
    fallback : str
        File shown when a key has no location.
    library : mapping or None
        Entries by name (None: no library could be read; its problems are in
        ``library_problems``).
    from_files : bool
        True when the scenario was written by a user: then an effect may not
        carry ``library`` or ``basis: evidence`` without ``use`` (those are
        written by the resolution). False for resolved documents.
    """
    problems: list[Problem] = []
    done: dict[tuple[str, str], str] = {}

    def add(loc: tuple[Any, ...], message: str) -> None:
        where = locate(tree, loc)
        problems.append(Problem(where.file if where else fallback, where.line if where else None,
                                ".".join(map(str, loc)), message))

    options = data.get("options")
    if not isinstance(options, dict):
        return Resolution(problems, done)
    library_reported = False
    for oid, opt in options.items():
        effects = opt.get("effects") if isinstance(opt, dict) else None
        if not isinstance(effects, dict):
            continue
        for eid, eff in list(effects.items()):
            if not isinstance(eff, dict):
                continue
            loc = ("options", oid, "effects", eid)
            if "use" not in eff:
                if from_files and ("library" in eff or eff.get("basis") == "evidence"):
                    add(loc, "'library' and 'basis: evidence' are written by wcf-model when it resolves a "
                             "library effect; cite the entry with 'use: NAME' instead")
                for key in ("scale", "widen"):
                    if key in eff and eff.get("library") is None:
                        add(loc + (key,), f"'{key}' applies only to a library effect (use: NAME)")
                continue
            name = eff["use"]
            if library is None:
                if not library_reported:
                    problems.extend(library_problems)
                    library_reported = True
                add(loc + ("use",), f"cites library effect '{name}', but the effect library could not be read "
                                    "(see the problems listed for it)")
                del effects[eid]
                continue
            if not isinstance(name, str) or name not in library:
                hint = suggest(str(name), list(library))
                add(loc + ("use",), f"no library effect '{name}'{hint} (the library holds: "
                                    f"{', '.join(sorted(library)) or 'nothing'})")
                del effects[eid]
                continue
            entry = library[name]
            bad = False
            allowed = ("use", *OVERRIDABLE, *OWN_NUMBERS, *OWN_WORDS)
            for key in eff:
                if key in FROM_LIBRARY:
                    add(loc + (key,), f"'{key}' comes from library effect '{name}' and cannot be changed here; "
                                      "to change what the effect acts on, drop 'use' and write the effect in full "
                                      "(it then counts as judgement)")
                    bad = True
                elif key not in allowed:
                    add(loc + (key,), f"unknown key '{key}'{suggest(key, list(allowed))} "
                                      f"(allowed with 'use': {', '.join(allowed[1:])})")
                    bad = True
            own = [k for k in OWN_NUMBERS if k in eff]
            if own and not eff.get("evidence"):
                add(loc + (own[0],), f"library effect '{name}' with its {own[0]} changed is a judgement: give "
                                     "your own 'evidence' (and 'confidence') for the new size")
                bad = True
            elif not own and any(k in eff for k in OWN_WORDS):
                key = next(k for k in OWN_WORDS if k in eff)
                add(loc + (key,), f"'{key}' comes from library effect '{name}'; it changes only with the size "
                                  "(give 'change' too, and the effect counts as judgement)")
                bad = True
            scale, widen = eff.get("scale", 1.0), eff.get("widen", 1.0)
            for key, value, low in (("scale", scale, 0.0), ("widen", widen, 1.0)):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    add(loc + (key,), f"expected a number, got {value!r}")
                    bad = True
                elif not (value > low if key == "scale" else value >= low):
                    add(loc + (key,), f"must be {'more than 0' if key == 'scale' else 'at least 1'}, got {value:g}")
                    bad = True
            if not bad and not own and (scale != 1 or widen != 1) and not eff.get("note"):
                add(loc, "a scaled or widened library effect needs a 'note' saying why the evidence applies "
                         "only in part or less certainly here")
                bad = True
            vehicle = opt.get("vehicle")
            if not bad and vehicle not in entry.effect.applies_to:
                add(loc + ("use",), f"library effect '{name}' was measured for {', '.join(entry.effect.applies_to)} "
                                    f"and does not apply to a '{vehicle}' option; write a judgement effect instead")
                bad = True
            if bad:
                del effects[eid]
                continue
            effects[eid] = (adjusted_effect(entry, eff) if own
                            else resolved_effect(entry, eff, float(scale), float(widen)))
            done[(oid, eid)] = name
    return Resolution(problems, done)


def resolved_effect(entry: Entry, cited: Mapping[str, Any], scale: float = 1.0, widen: float = 1.0) -> dict[str, Any]:
    """The full effect an option gets from a library entry (with its overrides)."""
    e = entry.effect
    out: dict[str, Any] = {
        "driver": e.driver,
        "mode": e.mode,
        "change": round(e.change * scale, 12),
        "distribution": scaled_distribution(e.distribution, e.change, scale, widen),
        "ramp_years": e.ramp_years,
        "evidence": f"{e.label}. {e.evidence.estimate}; {e.evidence.interval}. Population: {e.evidence.population}. "
                    f"Design: {e.evidence.method}",
        "confidence": e.confidence,
        "library": entry.name,
        "basis": "evidence",
        "source": entry.source,
        "limits": e.limits,
    }
    if e.fade_after_years is not None:
        out["fade_after_years"], out["fade_years"] = e.fade_after_years, e.fade_years
    for key in ("start", "ramp_years", "fade_after_years", "fade_years", "note"):
        if key in cited:
            out[key] = copy.deepcopy(cited[key])
    if scale != 1:
        out["scale"] = scale
    if widen != 1:
        out["widen"] = widen
    return out


def adjusted_effect(entry: Entry, cited: Mapping[str, Any]) -> dict[str, Any]:
    """A library effect with the option's own size: a judgement, sourced to the option's evidence.

    Without a distribution of its own, the entry's distribution is moved to
    centre on the new size (its spread kept).
    """
    e = entry.effect
    change = float(cited.get("change", e.change))
    if "distribution" in cited:
        dist = copy.deepcopy(cited["distribution"])
    else:
        shift = change - e.change
        dist = {k: (round(v + shift, 12) if k in ("mean", "mode", "low", "high") else v)
                for k, v in e.distribution.items()}
    out: dict[str, Any] = {
        "driver": e.driver, "mode": e.mode, "change": change, "distribution": dist,
        "ramp_years": e.ramp_years,
        "evidence": f"{cited['evidence']} (adjusted from library effect {entry.name}: {entry.source})",
        "confidence": cited.get("confidence", 5),
    }
    if e.fade_after_years is not None:
        out["fade_after_years"], out["fade_years"] = e.fade_after_years, e.fade_years
    for key in ("start", "ramp_years", "fade_after_years", "fade_years", "note"):
        if key in cited:
            out[key] = copy.deepcopy(cited[key])
    return out


def effect_basis_table(sc) -> pd.DataFrame:
    """Every effect an option claims, marked evidence or judgement, with its source.

    Columns: ``option``, ``effect``, ``library`` and ``label`` (the entry, for
    evidence), ``driver``, ``basis`` ("evidence", with
    "scaled x0.5" / "widened x1.5" where so, or "judgement"), ``change`` and
    ``mode``, ``p5`` and ``p95`` (the 5th and 95th percentiles of the size, in
    the same terms as ``change``), ``confidence``, ``source`` (the library
    citation, or the scenario's evidence text) and ``limits``.
    """
    import numpy as np

    from .distributions import ppf

    rows = []
    for oid, opt in sc.options.items():
        for eid, e in opt.effects.items():
            basis = e.basis
            if e.library is not None:
                extra = [f"scaled x{e.scale:g}" if e.scale != 1 else "", f"widened x{e.widen:g}" if e.widen != 1 else ""]
                extra = [x for x in extra if x]
                basis = "evidence" + (f" ({', '.join(extra)})" if extra else "")
            p5, p95 = (ppf(e.distribution, np.array([0.05, 0.95]), e.change) if e.distribution is not None
                       else (e.change, e.change))
            rows.append({"option": oid, "effect": eid, "library": e.library or "",
                         "label": e.evidence.split(". ")[0] if e.library is not None else "",
                         "driver": e.driver, "basis": basis, "change": e.change,
                         "mode": e.mode, "p5": float(p5), "p95": float(p95), "confidence": e.confidence,
                         "source": e.source if e.library is not None else e.evidence,
                         "limits": e.limits or ""})
    return pd.DataFrame(rows, columns=["option", "effect", "library", "label", "driver", "basis", "change", "mode",
                                       "p5", "p95", "confidence", "source", "limits"])
