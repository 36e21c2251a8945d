"""Safe YAML reading that remembers where every key came from.

Scenario errors must cite ``FILE:LINE``, and a scenario may be assembled from a
chain of files (``extends``), so every mapping this module builds records, for
each of its keys, the file and line the key was written on. Values are plain
Python objects otherwise: :class:`LocDict` is a ``dict`` and :class:`LocList`
a ``list``.

Only :class:`yaml.SafeLoader` is used: a scenario file can never construct
arbitrary Python objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem

#: A scenario is a page or two of YAML; anything this big is a mistake
#: (a data dump, a binary) and is refused before parsing.
MAX_SCENARIO_BYTES = 1_000_000


@dataclass(frozen=True)
class Loc:
    """Where a key or item was written: file path (as given) and 1-based line."""

    file: str
    line: int


class LocDict(dict):
    """A dict that remembers the location of each key (``locs[key] -> Loc``)."""

    def __init__(self, *args: Any, loc: Loc | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.loc = loc
        self.locs: dict[Any, Loc] = {}


class LocList(list):
    """A list that remembers the location of each item (``locs[i] -> Loc``)."""

    def __init__(self, *args: Any, loc: Loc | None = None):
        super().__init__(*args)
        self.loc = loc
        self.locs: list[Loc] = []


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds LocDict / LocList and collects duplicate keys."""

    def __init__(self, stream: str, file: str):
        super().__init__(stream)
        self.file = file
        self.problems: list[Problem] = []

    def _loc(self, node: yaml.Node) -> Loc:
        return Loc(self.file, node.start_mark.line + 1)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocDict:
    # Keys written in this mapping, as opposed to those a YAML merge key (<<)
    # brings in: a written key may override a merged one, but not another
    # written key.
    written = {id(k) for k, _ in node.value}
    loader.flatten_mapping(node)
    out = LocDict(loc=loader._loc(node))
    merged: set[Any] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            loader.problems.append(
                Problem(loader.file, key_node.start_mark.line + 1, "",
                        f"a key must be a plain word or number, got {type(key).__name__}")
            )
            continue
        if id(key_node) not in written:
            merged.add(key)
        elif key in merged:
            merged.discard(key)
            del out[key]
        if key in out:
            first = out.locs[key].line
            loader.problems.append(
                Problem(loader.file, key_node.start_mark.line + 1, str(key),
                        f"duplicate key (first written on line {first}); "
                        "each key may appear once in a mapping")
            )
            continue
        out[key] = loader.construct_object(value_node, deep=True)
        out.locs[key] = loader._loc(key_node)
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocList:
    out = LocList(loc=loader._loc(node))
    for item in node.value:
        out.append(loader.construct_object(item, deep=True))
        out.locs.append(loader._loc(item))
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def read_text(path: Path, shown: str) -> tuple[str | None, list[Problem]]:
    """Read a scenario file as UTF-8 text, refusing binaries and oversized files.

    Parameters
    ----------
    path : Path
        File to read.
    shown : str
        How the path is shown in messages (as the user wrote it).

    Returns
    -------
    (text, problems)
        ``text`` is None when the file could not be read; ``problems`` says why.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None, [Problem(shown, None, "", "file not found")]
    except OSError as exc:
        return None, [Problem(shown, None, "", f"cannot read the file ({exc.strerror})")]
    if path.is_dir():
        return None, [Problem(shown, None, "", "is a folder, expected a scenario file (.yaml)")]
    if size > MAX_SCENARIO_BYTES:
        return None, [Problem(shown, None, "",
                              f"file is {size:,} bytes; a scenario file is at most "
                              f"{MAX_SCENARIO_BYTES:,} bytes, so this is probably not one")]
    raw = path.read_bytes()
    if b"\x00" in raw:
        return None, [Problem(shown, None, "", "file contains NUL bytes: it is binary, not YAML text")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(shown, line, "",
                              f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                              f"{exc.start}); save it as UTF-8")]
    return text, []


def parse_yaml(text: str, shown: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text into LocDict / LocList values, collecting problems.

    Returns ``(document, problems)``; the document is None on a syntax error.
    """
    loader = _Loader(text, shown)
    try:
        doc = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or str(exc)
        if exc.context:
            what = f"{exc.context}, {what}"
        return None, [Problem(shown, line, "", f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:  # e.g. several documents in one file
        return None, [Problem(shown, None, "", f"YAML error: {exc}")]
    finally:
        loader.dispose()
    problems = list(loader.problems)
    problems.extend(_non_finite(doc, shown))
    return doc, problems


def _non_finite(node: Any, shown: str, key: str = "", loc: Loc | None = None) -> list[Problem]:
    """Find NaN and infinite numbers (``.nan``, ``.inf``) anywhere in a document."""
    found: list[Problem] = []
    if isinstance(node, LocDict):
        for k, v in node.items():
            found += _non_finite(v, shown, f"{key}.{k}" if key else str(k), node.locs.get(k))
    elif isinstance(node, LocList):
        for i, v in enumerate(node):
            found += _non_finite(v, shown, f"{key}[{i}]", node.locs[i])
    elif isinstance(node, float) and not math.isfinite(node):
        found.append(Problem(shown, loc.line if loc else None, key,
                             f"expected a finite number, got {node!r}"))
    return found


def plain(node: Any) -> Any:
    """Copy a LocDict / LocList tree into plain dicts and lists."""
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def locate(tree: Any, path: tuple[Any, ...]) -> Loc | None:
    """The location of the deepest key along ``path`` that the tree records."""
    best: Loc | None = getattr(tree, "loc", None)
    node = tree
    for part in path:
        if isinstance(node, LocDict) and part in node:
            best = node.locs.get(part, best)
            node = node[part]
        elif isinstance(node, LocList) and isinstance(part, int) and 0 <= part < len(node):
            best = node.locs[part]
            node = node[part]
        else:
            break
    return best
