"""HM Treasury Green Book discounting.

The social time preference rate (STPR) declines for the far future. Each rate
applies to the years of its band: a year in a later band is discounted from the
last year of the band before at that band's rate, so the factors are
continuous. Year 0 is the first year of the appraisal and is not discounted.

References
----------
HM Treasury (2022), The Green Book, Annex A6 "Discounting", Table 8: standard
rate 3.5% (years 0-30), 3.0% (31-75), 2.5% (76-125), 2.0% (126-200), 1.5%
(201-300), 1.0% (301 and over); the rate for health effects is 1.5% (0-30),
falling in the same proportions (1.29%, 1.07%, 0.86%, 0.64%, 0.43%).
"""

from __future__ import annotations

import numpy as np

from .errors import UsageError

#: Schedules as (last year of the band, annual rate); the last band is open-ended.
SCHEDULES: dict[str, tuple[tuple[float, float], ...]] = {
    "green-book": ((30, 0.035), (75, 0.030), (125, 0.025), (200, 0.020), (300, 0.015), (np.inf, 0.010)),
    "health": ((30, 0.015), (75, 0.0129), (125, 0.0107), (200, 0.0086), (300, 0.0064), (np.inf, 0.0043)),
}


def annual_rates(n_years: int, schedule: str = "green-book") -> np.ndarray:
    """The discount rate that applies from year t-1 to year t, for t = 0 .. n-1.

    Year 0 has no rate (it is not discounted); its entry is 0.
    """
    if schedule not in SCHEDULES:
        raise UsageError(f"unknown discount schedule '{schedule}'; known: {', '.join(SCHEDULES)}")
    if n_years < 0:
        raise UsageError(f"n_years must be at least 0, got {n_years}")
    t = np.arange(n_years)
    bands = SCHEDULES[schedule]
    ends = np.array([end for end, _ in bands])
    rates = np.array([rate for _, rate in bands])
    out = rates[np.searchsorted(ends, t, side="left")]
    if n_years:
        out[0] = 0.0
    return out


def discount_factors(n_years: int, schedule: str = "green-book") -> np.ndarray:
    """Discount factors for years 0 .. n_years-1 [dimensionless]; year 0 is 1.0.

    Parameters
    ----------
    n_years : int
        Number of years in the appraisal period.
    schedule : {"green-book", "health"}
        The STPR schedule (Green Book Annex A6).

    Examples
    --------
    >>> discount_factors(3).round(6).tolist()
    [1.0, 0.966184, 0.933511]
    """
    return 1.0 / np.cumprod(1.0 + annual_rates(n_years, schedule))


def present_value(flows: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Sum of ``flows[..., t] x factors[t]`` over the last (years) axis [GBP]."""
    return np.asarray(flows) @ np.asarray(factors)
