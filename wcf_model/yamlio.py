"""Safe YAML reading that remembers where every key came from.

Scenario errors must cite ``FILE:LINE``, and a scenario may be assembled from a
chain of files (``extends``), so every mapping this module builds records, for
each of its keys, the file and line the key was written on. Values are plain
Python objects otherwise: :class:`LocDict` is a ``dict`` and :class:`LocList`
a ``list``.

Only :class:`yaml.SafeLoader` is used: a scenario file can never construct
arbitrary Python objects. The loader also counts what it composes, so a file
cannot expand (nested aliases, the "billion laughs"), nest or grow past the
limits in :mod:`wcf_model.limits`; each limit is checked as the file is read,
before the document exists.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import InputFileError, Problem
from .limits import MAX_SCENARIO_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, magnitude_problem, read_limited


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


class _Limit(yaml.MarkedYAMLError):
    """A limit of :mod:`wcf_model.limits` reached while composing the document."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds LocDict / LocList, collects duplicate keys, and
    counts nodes as it composes them.

    Every node counts once, and every use of an alias counts the whole of what
    it names, so ``nodes`` is the size the document would have with its
    aliases written out. Counting happens as the parser produces events, so a
    file that is too big, too deep or expands too far is stopped at the point
    where it crosses the limit, having built almost nothing.
    """

    def __init__(self, stream: str, file: str, node_budget: int = MAX_YAML_NODES):
        super().__init__(stream)
        self.file = file
        self.problems: list[Problem] = []
        self.nodes = 0
        self.node_budget = node_budget
        self.depth = 0
        self.expanded: dict[int, int] = {}  # id(anchored node) -> its size with aliases expanded

    def _loc(self, node: yaml.Node) -> Loc:
        return Loc(self.file, node.start_mark.line + 1)

    def _count(self, n: int, mark: yaml.Mark) -> None:
        self.nodes += n
        if self.nodes > self.node_budget:
            raise _Limit(None, None, f"the scenario holds more than {MAX_YAML_NODES:,} YAML values (counting "
                                     "each use of an alias as a copy of what it names), the most a scenario may "
                                     "hold; are aliases (*name) nested inside each other?", mark)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None:
                size = self.expanded.get(id(target))
                if size is None:
                    raise _Limit(None, None, f"the alias *{event.anchor} is used inside the mapping or list it "
                                             "names, which would repeat without end", event.start_mark)
                self._count(size, event.start_mark)
            return super().compose_node(parent, index)
        self.depth += 1
        if self.depth > MAX_YAML_DEPTH:
            raise _Limit(None, None, f"mappings and lists are nested more than {MAX_YAML_DEPTH} deep, "
                                     "the most a scenario may nest", event.start_mark)
        before = self.nodes
        self._count(1, event.start_mark)
        node = super().compose_node(parent, index)
        self.depth -= 1
        if getattr(event, "anchor", None) is not None:
            self.expanded[id(node)] = self.nodes - before
        return node

    def construct_checked(self, node: yaml.Node) -> tuple[bool, Any]:
        """Construct one value; (False, None) with a problem recorded when it cannot be
        (a date such as 2019-13-45, a whole number of thousands of digits)."""
        try:
            return True, self.construct_object(node, deep=True)
        except (ValueError, OverflowError, TypeError) as exc:
            self.problems.append(Problem(self.file, node.start_mark.line + 1, "",
                                         f"cannot read the value {_excerpt(node)}: {exc}"))
            return False, None


def _excerpt(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        text = node.value
        return repr(text if len(text) <= 40 else text[:40] + "...")
    return "here"


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocDict:
    # Keys written in this mapping, as opposed to those a YAML merge key (<<)
    # brings in: a written key may override a merged one, but not another
    # written key.
    written = {id(k) for k, _ in node.value}
    loader.flatten_mapping(node)
    out = LocDict(loc=loader._loc(node))
    merged: set[Any] = set()
    for key_node, value_node in node.value:
        ok, key = loader.construct_checked(key_node)
        if not ok:
            continue
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
        ok, value = loader.construct_checked(value_node)
        if ok:
            out[key] = value
            out.locs[key] = loader._loc(key_node)
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocList:
    out = LocList(loc=loader._loc(node))
    for item in node.value:
        ok, value = loader.construct_checked(item)
        out.append(value)
        out.locs.append(loader._loc(item))
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def read_text(path: Path, shown: str, limit: int = MAX_SCENARIO_BYTES,
              what: str = "a scenario file (.yaml)") -> tuple[str | None, list[Problem]]:
    """Read a scenario file as UTF-8 text, refusing binaries, special files and oversized files.

    Parameters
    ----------
    path : Path
        File to read. Only a regular file is opened (a FIFO or a device such as
        ``/dev/zero`` is refused before any read), and at most ``limit`` bytes
        are read, whatever the file system reports as its size.
    shown : str
        How the path is shown in messages (as the user wrote it).
    limit : int
        Most bytes to accept; by default :data:`~wcf_model.limits.MAX_SCENARIO_BYTES`.
    what : str
        What the file should be, for the message when it is too large.

    Returns
    -------
    (text, problems)
        ``text`` is None when the file could not be read; ``problems`` says why.
    """
    try:
        raw = read_limited(path, limit, what)
    except InputFileError as exc:
        return None, [Problem(shown, None, "", exc.reason)]
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


def parse_yaml(text: str, shown: str, node_budget: int = MAX_YAML_NODES) -> tuple[Any, list[Problem]]:
    """Parse YAML text into LocDict / LocList values, collecting problems.

    ``node_budget`` is how many nodes this text may hold (what is left of
    :data:`~wcf_model.limits.MAX_YAML_NODES` after the files read before it).
    Returns ``(document, problems)``; the document is None on a syntax error
    or when a limit is reached.
    """
    doc, problems, _ = parse_counted(text, shown, node_budget)
    return doc, problems


def parse_counted(text: str, shown: str, node_budget: int = MAX_YAML_NODES) -> tuple[Any, list[Problem], int]:
    """:func:`parse_yaml`, also returning how many nodes the document holds (aliases expanded)."""
    try:
        loader = _Loader(text, shown, node_budget)  # the reader refuses control characters here
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        return None, [Problem(shown, line, "", f"the file holds a character YAML does not allow "
                                               f"(U+{exc.character:04X}); is it a text file?")], 0
    try:
        doc = loader.get_single_data()
    except _Limit as exc:
        mark = exc.problem_mark
        return None, [Problem(shown, mark.line + 1 if mark else None, "", str(exc.problem))], loader.nodes
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or str(exc)
        if exc.context:
            what = f"{exc.context}, {what}"
        return None, [Problem(shown, line, "", f"YAML syntax error: {what}")], loader.nodes
    except yaml.YAMLError as exc:  # e.g. several documents in one file
        return None, [Problem(shown, None, "", f"YAML error: {exc}")], loader.nodes
    except (ValueError, OverflowError, TypeError) as exc:  # a document that is one bad value
        return None, [Problem(shown, None, "", f"cannot read the file's value: {exc}")], loader.nodes
    finally:
        loader.dispose()
    problems = list(loader.problems)
    problems.extend(_bad_values(doc, shown))
    return doc, problems, loader.nodes


#: Python types a safe YAML document may hold that a scenario can use.
_PLAIN = (str, bool, int, float, dt.date, type(None))


def _bad_values(node: Any, shown: str, key: str = "", loc: Loc | None = None) -> list[Problem]:
    """Numbers that are not finite or too large (.nan, .inf, 1e308), and values of
    kinds no scenario uses (a set, binary data), anywhere in a document."""
    found: list[Problem] = []
    if isinstance(node, LocDict):
        for k, v in node.items():
            found += _bad_values(v, shown, f"{key}.{k}" if key else str(k), node.locs.get(k))
    elif isinstance(node, LocList):
        for i, v in enumerate(node):
            found += _bad_values(v, shown, f"{key}[{i}]", node.locs[i])
    elif not isinstance(node, _PLAIN):
        found.append(Problem(shown, loc.line if loc else None, key,
                             f"a scenario holds text, numbers, dates, lists and mappings, not "
                             f"{type(node).__name__} (a YAML tag such as !!set or !!binary)"))
    elif isinstance(node, float) and not math.isfinite(node):
        found.append(Problem(shown, loc.line if loc else None, key, f"expected a finite number, got {node!r}"))
    elif isinstance(node, (int, float)) and not isinstance(node, bool) and (why := magnitude_problem(node)):
        found.append(Problem(shown, loc.line if loc else None, key, f"this number {why}"))
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
