"""Prices: converting between price years and between real and cash terms.

The Green Book appraises in real terms at the prices of the base year,
removing general inflation with HM Treasury's GDP deflator; the financial case
is in cash (nominal) terms. A figure's ``price_year`` says which year's prices
it is in.

The deflator series live in ``data/gdp_deflators.csv`` (built by
``scripts/build_deflators.py``), one series per vintage. Years beyond a
vintage's last figure are extended at ``finance.general_inflation`` (or 2% a
year, the Bank of England's target, when a scenario does not say).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError
from .schema import financial_year_start

DEFLATOR_FILE = "gdp_deflators.csv"
DEFLATOR_COLUMNS = ["vintage", "financial_year", "index", "base", "status", "publication"]
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / "data"
#: Annual inflation assumed beyond the last year of a deflator series [share/year].
DEFAULT_INFLATION = 0.02


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
    frame = pd.read_csv(path, dtype={"vintage": str, "financial_year": str})
    vintages = sorted(set(frame["vintage"]))
    chosen = vintage or vintages[-1]
    if chosen not in vintages:
        raise DataError(f"no deflator vintage '{chosen}' in {path}; known: {', '.join(vintages)}")
    rows = frame[frame["vintage"] == chosen].sort_values("financial_year")
    out = pd.Series(rows["index"].to_numpy(float), index=rows["financial_year"].to_numpy(), name=chosen)
    out.attrs["publication"] = rows["publication"].iloc[0]
    return out


def deflator_path(deflator: pd.Series, years: list[str], inflation: float = DEFAULT_INFLATION) -> np.ndarray:
    """The deflator over ``years``, extended at ``inflation`` outside the series [index]."""
    first, last = deflator.index[0], deflator.index[-1]
    out = []
    for fy in years:
        if fy in deflator.index:
            out.append(deflator[fy])
        elif fy > last:
            out.append(deflator[last] * (1 + inflation) ** (financial_year_start(fy) - financial_year_start(last)))
        else:
            out.append(deflator[first] / (1 + inflation) ** (financial_year_start(first) - financial_year_start(fy)))
    return np.array(out, dtype=float)


def price_factor(from_year: str, to_year: str, deflator: pd.Series, inflation: float = DEFAULT_INFLATION) -> float:
    """Multiply a figure in ``from_year`` prices by this to express it in ``to_year`` prices.

    Examples
    --------
    >>> s = pd.Series([100.0, 102.0], index=["2018-19", "2019-20"])
    >>> price_factor("2018-19", "2019-20", s)
    1.02
    """
    a, b = deflator_path(deflator, [from_year, to_year], inflation)
    return float(b / a)
