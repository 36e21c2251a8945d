"""The overlay rules: how a file changes the file it extends, and an option the one it is ``based_on``.

* Mappings merge key by key, so a child file can change one parameter of a
  parent, or one field of one option.
* A figure (a mapping with ``value`` or ``values``) and a ``distribution`` are
  replaced whole: a new number must bring its own source, and the parent's
  source must never be left describing the child's figure.
* Lists are replaced whole; a key set to ``null`` removes the parent's key.
"""

from __future__ import annotations

from typing import Any

from .yamlio import LocDict


def is_figure(node: Any) -> bool:
    """A figure: a mapping with ``value`` or ``values`` (replaced whole by an overlay)."""
    return isinstance(node, dict) and ("value" in node or "values" in node)


def overlay(base: LocDict, top: LocDict) -> LocDict:
    """Merge ``top`` over ``base`` by the rules above."""
    out = LocDict(loc=top.loc or base.loc)
    for key, value in base.items():
        out[key] = value
        out.locs[key] = base.locs[key]
    for key, value in top.items():
        if value is None:
            out.pop(key, None)
            out.locs.pop(key, None)
            continue
        old = out.get(key)
        if (isinstance(old, LocDict) and isinstance(value, LocDict) and key != "distribution"
                and not is_figure(old) and not is_figure(value)):
            out[key] = overlay(old, value)
        else:
            out[key] = value
        out.locs[key] = top.locs[key]
    return out
