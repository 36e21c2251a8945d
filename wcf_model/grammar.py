"""Numbers and distributions written as text, and read back: one grammar.

A distribution is written ``type(name=number, ...)``, e.g.
``triangular(low=0.2, mode=0.25, high=0.3)``, and a number as the shortest text
that reads back to the same value. The assumptions workbook
(:mod:`wcf_model.workbook_export`), its import (:mod:`wcf_model.workbook_import`)
and the assumptions register (:mod:`wcf_model.register`) all write and read
them here, so a finance officer meets one form everywhere and can paste what the
report shows into the workbook.
"""

from __future__ import annotations

import re
from typing import Any

from .limits import magnitude_problem


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------


def tidy_number(x: float | int | None) -> float | int | None:
    """A whole float as an int (833.0 -> 833), so cells and YAML read naturally."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return int(x)
    return x


def number_text(x: Any) -> str:
    """A number as the shortest text that reads back to the same value."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    return repr(tidy_number(x))


def format_distribution(spec: dict[str, Any] | None) -> str:
    """A distribution mapping as the text the workbook shows (``""`` for none).

    >>> format_distribution({"type": "triangular", "low": 0.2, "mode": 0.25, "high": 0.3})
    'triangular(low=0.2, mode=0.25, high=0.3)'
    >>> format_distribution({"type": "choice", "values": [1, 2.5]})
    'choice(values=[1, 2.5])'
    """
    if not spec:
        return ""

    def arg(v: Any) -> str:
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(number_text(x) for x in v) + "]"
        return number_text(v)

    return f"{spec.get('type')}(" + ", ".join(f"{k}={arg(v)}" for k, v in spec.items() if k != "type") + ")"


_DIST = re.compile(r"^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", re.S)
_ARG = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:[=:]\s*|\s+)(\[[^\]]*\]|[^,\[\]]+?)\s*(?:,|$)")


#: A number as text: digits with an optional sign, decimal point and exponent, nothing else
#: (Python's own int() and float() would also read '8_50' as 850, and digits of other scripts).
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def parse_number(text: str) -> float | int:
    """A number typed as text; ValueError if it is not a plain number of at most 1e15 in size.

    >>> parse_number(" 646 "), parse_number("-0.03"), parse_number("1.5e3")
    (646, -0.03, 1500.0)
    >>> parse_number("8_50")
    Traceback (most recent call last):
    ...
    ValueError: '8_50' is not a plain number
    """
    text = text.strip()
    if len(text) > 40 or not _NUMBER.fullmatch(text):
        raise ValueError(f"{text[:40]!r} is not a plain number")
    value = float(text)
    if (why := magnitude_problem(value)) is not None:
        raise ValueError(f"{text!r} {why}")
    return int(text) if text.lstrip("+-").isdigit() else value


def parse_distribution(text: str) -> dict[str, Any]:
    """Read distribution text back into a mapping.

    ``low=1`` is how :func:`format_distribution` writes an argument; ``low 1``
    and ``low: 1`` are read too, as a person may type them.

    Raises
    ------
    ValueError
        When the text is not of the form ``type(name=number, ...)``.

    >>> parse_distribution("triangular(low=0.2, mode=0.25, high=0.3)")
    {'type': 'triangular', 'low': 0.2, 'mode': 0.25, 'high': 0.3}
    >>> parse_distribution("choice(values=[1, 2], weights=[0.5, 0.5])")
    {'type': 'choice', 'values': [1, 2], 'weights': [0.5, 0.5]}
    """
    m = _DIST.match(text)
    if m is None:
        raise ValueError("expected the form type(name=number, ...)")
    spec: dict[str, Any] = {"type": m.group(1)}
    body, pos = m.group(2), 0
    while body[pos:].strip():
        a = _ARG.match(body, pos)
        if a is None:
            raise ValueError(f"cannot read '{body[pos:].strip()}'")
        key, raw = a.group(1), a.group(2).strip()
        if key in spec:
            raise ValueError(f"'{key}' is given twice")
        if raw.startswith("["):
            items = [t for t in raw[1:-1].split(",") if t.strip()]
            spec[key] = [parse_number(t) for t in items]
        else:
            spec[key] = parse_number(raw)
        pos = a.end()
    return spec
