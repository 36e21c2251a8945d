"""How numbers, years and ranges are written for readers: one convention for each.

The report, the notebooks, the results workbook and the text in
``results.json`` all take their conventions from here, so a councillor never
meets two ranges for one result or the same year written two ways.

Conventions
-----------
* **Range.** An uncertain result is quoted with the 10th and 90th percentiles
  of the Monte Carlo draws (:data:`RANGE`): "8 times in 10 between ...". Why
  this range and not 5th-95th: the caseload bands, the cash fans and the
  monitoring bands already use it; its ends are estimated steadily from a
  thousand draws, where the 5th and 95th percentiles rest on 50 draws each; and
  "8 times in 10" is a chance a reader can picture.
* **Money.** Prose and summary tables give £ million to one decimal place
  (``£25.7m``); the workbook gives full pounds, with number formats, because a
  finance officer reconciles there.
* **Years.** Financial years are written ``2019-20`` (1 April 2019 to
  31 March 2020) on every axis and in every table.
* **Shares** are shown as percentages, **chances** as percentages too
  (``98%``), and an option that never pays back says "never".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

# ---- Financial years (April to March): the one way to write them ----


def financial_year_start(fy: str) -> int:
    """The calendar year a financial year starts in: ``"2019-20" -> 2019``."""
    return int(fy[:4])


def financial_year_label(start: int) -> str:
    """``2019 -> "2019-20"`` (1 April 2019 to 31 March 2020)."""
    return f"{start}-{(start + 1) % 100:02d}"


def years_text(years: Iterable[int | str]) -> str:
    """Years in words, a run of three or more written from first to last.

    Calendar years (``int``) or financial years (``"2019-20"``), in order, each once.

    >>> years_text([2018, 2016, 2017]), years_text([2016, 2018]), years_text(["2020-21", "2019-20", "2021-22"])
    ('2016 to 2018', '2016, 2018', '2019-20 to 2021-22')
    """
    years = sorted(set(years))
    starts = [financial_year_start(y) if isinstance(y, str) else int(y) for y in years]
    if len(years) > 2 and starts == list(range(starts[0], starts[0] + len(starts))):
        return f"{years[0]} to {years[-1]}"
    return ", ".join(str(y) for y in years)


def financial_year_of(date: dt.date) -> str:
    """The financial year (April to March) a date falls in."""
    return financial_year_label(date.year if date.month >= 4 else date.year - 1)


#: Percentiles of the Monte Carlo draws that bound every range the reader is shown.
RANGE: tuple[int, int] = (10, 90)


def range_words() -> str:
    """How often a result falls in :data:`RANGE`, in words: ``"8 times in 10"``."""
    low, high = RANGE
    share = (high - low) / 10
    return f"{share:g} times in 10" if share.is_integer() else f"{high - low}% of the time"


def range_label(between: str = " to ") -> str:
    """The range's ends in words: ``"10th to 90th percentile"``, or ``"10th-90th percentile"`` with ``between="-"``."""
    return f"{_ordinal(RANGE[0])}{between}{_ordinal(RANGE[1])} percentile"


def range_columns(prefix: str = "") -> tuple[str, str]:
    """Names of the columns holding the range's ends: ``("p10", "p90")`` (with a prefix)."""
    return tuple(f"{prefix}p{q}" for q in RANGE)  # type: ignore[return-value]


def range_ends() -> tuple[str, str]:
    """The range's ends as words: ``("10th percentile", "90th percentile")``."""
    return tuple(f"{_ordinal(q)} percentile" for q in RANGE)  # type: ignore[return-value]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _zero_safe(x: float, digits: int) -> float:
    """``x`` rounded, with -0 made 0 (a rounded "-0" is no direction at all)."""
    r = round(float(x), digits)
    return 0.0 if r == 0 else r


def money_m(x: float, digits: int = 1) -> str:
    """Pounds as £ million: ``25_662_524 -> "£25.7m"``, ``-3_210_000 -> "-£3.2m"``.

    A value that rounds to nothing is ``"£0.0m"``, never ``"-£0.0m"``.
    """
    v = _zero_safe(x / 1e6, digits)
    return f"{'-' if v < 0 else ''}£{abs(v):,.{digits}f}m"


def money_words(x: float) -> str:
    """Money in a sentence: £ million to one decimal (``"£25.7m"``), or, for a sum too small to show in
    millions (under £50,000), whole pounds to the nearest £100 (``"£43,400"``) rather than "£0.0m"."""
    return money_m(x) if abs(x) >= 50_000 else money(round(x, -2))


def money(x: float) -> str:
    """Whole pounds: ``1_229_851_296.83 -> "£1,229,851,297"`` (never ``"-£0"``)."""
    v = _zero_safe(x, 0)
    return f"{'-' if v < 0 else ''}£{abs(v):,.0f}"


def signed_money(x: float) -> str:
    """A change in whole pounds with its sign, ``"+£1,234"``; ``"no change"`` when it rounds to £0."""
    v = _zero_safe(x, 0)
    return "no change" if v == 0 else f"{'+' if v > 0 else '-'}£{abs(v):,.0f}"


def signed_money_m(x: float, digits: int = 1) -> str:
    """A change in £ million with its sign, ``"+£2.5m"``; ``"no change"`` when it rounds to nothing."""
    v = _zero_safe(x / 1e6, digits)
    return "no change" if v == 0 else f"{'+' if v > 0 else '-'}£{abs(v):,.{digits}f}m"


def percent(share: float, digits: int = 0) -> str:
    """A share as a percentage to ``digits`` places: ``0.25 -> "25%"``, ``0.987, 1 -> "98.7%"``."""
    return f"{_zero_safe(100 * share, digits):,.{digits}f}%"


def percent_exact(share: float) -> str:
    """A stated share as a percentage with the places it was given: ``0.4382 -> "43.82%"``, ``0.2 -> "20%"``."""
    return quantity(_zero_safe(100 * share, 6)) + "%"


def chance(p: float) -> str:
    """A probability for a reader: ``0.987 -> "99%"``, and "under 1%" or "over 99%" rather than 0% or 100%
    when it is not certain."""
    if p <= 0:
        return "0%"
    if p >= 1:
        return "100%"
    if p < 0.005:
        return "under 1%"
    if p > 0.995:
        return "over 99%"
    return f"{100 * p:.0f}%"


def number(x: float, digits: int = 0) -> str:
    """A count or rate with thousands separators and no scientific notation: ``1280000 -> "1,280,000"``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{_zero_safe(x, digits):,.{digits}f}"


def quantity(x: float) -> str:
    """A figure as stated, with thousands separators and up to four significant decimals, never ``1.28e+06``.

    ``1280000 -> "1,280,000"``, ``20.8 -> "20.8"``, ``0.0041 -> "0.0041"``.
    """
    if float(x).is_integer():
        return f"{x:,.0f}"
    text = f"{x:,.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


