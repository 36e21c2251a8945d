"""How an option changes the model's drivers over time.

An effect (docs/domain.md, "Effects") changes one parameter from a start date,
growing linearly to its full size over ``ramp_years`` and, optionally, fading
back to nothing over ``fade_years`` once ``fade_after_years`` have passed. Its
strength in a financial year is the average over the year's twelve months, so
an effect that starts on 1 October counts for half of that year.

The size of the change may be uncertain; it is drawn from its own seeded
stream (named after the option and effect), so every run with the same seed
sees the same draws and the baseline is untouched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np

from .catalogue import UNITS, option_input_name, parameter_specs
from .formats import financial_year_start
from .inputs import Params, draw, variates
from .schema import Effect, Option

MONTHS = 12


def months_from_start(when: dt.date | str, first_year: str) -> float:
    """Months from the start of ``first_year`` (1 April) to ``when`` [months].

    ``when`` is a date or a financial year label (taken as its 1 April).
    """
    base = financial_year_start(first_year)
    if isinstance(when, dt.date):
        return (when.year - base) * 12 + (when.month - 4) + (when.day - 1) / 31
    return (financial_year_start(when) - base) * 12.0


def strength(n_years: int, start_month: float, ramp_years: float = 0.0,
             fade_after_years: float | None = None, fade_years: float | None = None) -> np.ndarray:
    """Share of an effect's full size in force in each financial year [0-1], shape ``(n_years,)``.

    Parameters
    ----------
    n_years : int
        Years in the appraisal.
    start_month : float
        Months from the start of the first year to the effect's start.
    ramp_years : float
        Years to reach full size, linearly (0 = at once).
    fade_after_years, fade_years : float, optional
        Years after the start when the effect begins to fade, and over how many
        years it falls to nothing.

    Examples
    --------
    A go-live on 1 October (month 6) with no ramp counts half of the first year:

    >>> strength(3, 6.0).tolist()
    [0.5, 1.0, 1.0]
    """
    # midpoints of every month of the appraisal, in years since the effect started
    t = (np.arange(n_years * MONTHS) + 0.5 - start_month) / MONTHS
    # clip before dividing, so a ramp or fade of a few seconds cannot overflow
    level = np.clip(t, 0, ramp_years) / ramp_years if ramp_years > 0 else (t > 0) * 1.0
    if fade_after_years is not None and fade_years is not None:
        gone = (np.clip(t - fade_after_years, 0, fade_years) / fade_years if fade_years > 0
                else (t >= fade_after_years) * 1.0)
        level = level * (1 - gone)
    return level.reshape(n_years, MONTHS).mean(axis=1)


def change_draws(effect: Effect, name: str, draws: int | None, seed: int,
                 design: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """The size of the change for each draw, shape ``(draws, 1)`` (central if ``draws`` is None)."""
    u = variates(name, draws, seed, design) if effect.distribution is not None else None
    return draw(effect.distribution, u, effect.change, draws)[:, None]


def apply_effect(driver: np.ndarray, change: np.ndarray, level: np.ndarray, mode: str) -> np.ndarray:
    """A driver ``(draws, years)`` after an effect of size ``change`` at ``level`` by year.

    ``add``: driver + level x change; ``multiply``: driver x (1 + level x change);
    ``set``: moves the driver towards ``change`` in proportion to level.
    """
    if mode == "add":
        return driver + level * change
    if mode == "multiply":
        return driver * (1 + level * change)
    if mode == "set":
        return driver + level * (change - driver)
    raise ValueError(f"unknown effect mode {mode!r}")


def _clip_to_unit(name: str, values: np.ndarray) -> np.ndarray:
    unit = UNITS[parameter_specs()[name].unit]
    return np.clip(values, unit.low if unit.low is not None else -np.inf,
                   unit.high if unit.high is not None else np.inf)


def apply_option_effects(p: Mapping[str, np.ndarray], option_id: str, option: Option, years: list[str],
                         draws: int | None, seed: int, design: Mapping[str, np.ndarray] | None = None
                         ) -> dict[str, np.ndarray]:
    """Parameter arrays as they are under an option: a new mapping, ``p`` untouched.

    Effects apply in the order written; the result stays within each driver's
    unit range (a share never leaves [0, 1]), because a drawn change can be
    large enough to push it out.
    """
    out = Params(p)
    for eid, effect in option.effects.items():
        level = strength(len(years), months_from_start(option.resolve(effect.start), years[0]),
                         effect.ramp_years, effect.fade_after_years, effect.fade_years)
        change = change_draws(effect, option_input_name(option_id, "effects", eid), draws, seed, design)
        out[effect.driver] = _clip_to_unit(effect.driver,
                                           apply_effect(out[effect.driver], change, level, effect.mode))
    return out
