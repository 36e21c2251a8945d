"""Prices: converting between price years and between real and cash terms.

The Green Book appraises in real terms at the prices of the base year,
removing general inflation with HM Treasury's GDP deflator; the financial case
is in cash (nominal) terms. A figure's ``price_year`` says which year's prices
it is in.

The deflator series live in ``data/gdp_deflators.csv`` (built by
``scripts/build_deflators.py``), one series per vintage. Years beyond a
vintage's last figure are extended at ``finance.general_inflation`` (or 2% a
year, the Bank of England's target, when a scenario does not say). When that
rate is given by year, each year beyond the series grows at its own year's
rate (a year after the last one given carries the last rate forward).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError
from .formats import financial_year_label, financial_year_start

DEFLATOR_FILE = "gdp_deflators.csv"
DEFLATOR_COLUMNS = ["vintage", "financial_year", "index", "base", "status", "publication"]
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / "data"
#: Annual inflation assumed beyond the last year of a deflator series [share/year].
DEFAULT_INFLATION = 0.02

#: General inflation [share/year]: one rate for every year, or the rate of a given financial year.
Inflation = float | Callable[[str], float]


def _rate(inflation: Inflation, fy: str) -> float:
    return float(inflation(fy)) if callable(inflation) else float(inflation)


def load_deflators(vintage: str | None = None, data_dir: str | Path | None = None) -> pd.Series:
    """One vintage of the GDP deflator, indexed by financial year [index].

    Parameters
    ----------
    vintage : str, optional
        e.g. ``"2020-03"``; the latest vintage when omitted.
    data_dir : str or Path, optional
        Folder holding ``gdp_deflators.csv``; the repository's ``data/`` by default.
    """
    path = Path(data_dir if data_dir is not None else DEFAULT_DATA_DIR) / DEFLATOR_FILE
    if not path.is_file():
        raise DataError(f"no deflator series at {path}: build it with scripts/build_deflators.py")
    stat = path.stat()
    # every appraisal reads the series, and parsing it took a twentieth of a 10,000-draw run: the file is
    # read again only when it changes (its size or time of change), and each caller gets its own copy
    series = _read_deflators(str(path), stat.st_mtime_ns, stat.st_size)
    chosen = vintage or sorted(series)[-1]
    if chosen not in series:
        raise DataError(f"no deflator vintage '{chosen}' in {path}; known: {', '.join(sorted(series))}")
    out = series[chosen].copy()
    out.attrs = dict(series[chosen].attrs)
    return out


@functools.lru_cache(maxsize=4)
def _read_deflators(path: str, mtime_ns: int, size: int) -> dict[str, pd.Series]:
    """Each vintage's series in the file, by vintage; the time of change and size key the cache."""
    frame = pd.read_csv(path, dtype={"vintage": str, "financial_year": str})
    out = {}
    for vintage, rows in frame.groupby("vintage", sort=True):
        rows = rows.sort_values("financial_year")
        out[str(vintage)] = pd.Series(rows["index"].to_numpy(float), index=rows["financial_year"].to_numpy(),
                                      name=str(vintage))
        out[str(vintage)].attrs["publication"] = rows["publication"].iloc[0]
    return out


def deflator_path(deflator: pd.Series, years: list[str], inflation: Inflation = DEFAULT_INFLATION) -> np.ndarray:
    """The deflator over ``years``, extended at ``inflation`` outside the series [index].

    After the series' last year the index compounds year by year at each year's
    own rate, ``index(y) = index(y - 1) x (1 + rate(y))``; before its first
    year it is deflated the same way. ``inflation`` is one rate or a function
    of the financial year (e.g. ``Parameter.central``).
    """
    first, last = deflator.index[0], deflator.index[-1]
    first_start, last_start = financial_year_start(first), financial_year_start(last)
    out = []
    for fy in years:
        start = financial_year_start(fy)
        if fy in deflator.index:
            out.append(deflator[fy])
        elif fy > last:
            steps = [financial_year_label(y) for y in range(last_start + 1, start + 1)]
            out.append(deflator[last] * np.prod([1 + _rate(inflation, y) for y in steps]))
        else:
            steps = [financial_year_label(y) for y in range(start + 1, first_start + 1)]
            out.append(deflator[first] / np.prod([1 + _rate(inflation, y) for y in steps]))
    return np.array(out, dtype=float)


def price_factor(from_year: str, to_year: str, deflator: pd.Series, inflation: Inflation = DEFAULT_INFLATION) -> float:
    """Multiply a figure in ``from_year`` prices by this to express it in ``to_year`` prices.

    Examples
    --------
    >>> s = pd.Series([100.0, 102.0], index=["2018-19", "2019-20"])
    >>> price_factor("2018-19", "2019-20", s)
    1.02
    """
    a, b = deflator_path(deflator, [from_year, to_year], inflation)
    return float(b / a)
