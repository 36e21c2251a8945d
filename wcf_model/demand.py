"""Caseloads: an annual stock-flow projection over financial years.

Pure functions over arrays with a leading draws axis: ``(draws, years)`` or
``(draws, years, categories)``. Loops run over years (a stock depends on the
year before), never over draws.

The model (docs/domain.md, "Demand")
-------------------------------
* Referrals, early help episodes, children starting to be looked after and new
  EHC plans are flows proportional to the 0-17 population: ``population / 10,000
  x rate per 10,000 x shock`` [children a year].
* Children in need, children looked after, care leavers and EHC plans are
  stocks. Each year::

      exits   = exit_rate x (opening + starts)
      closing = opening + starts - exits

  so children are conserved exactly, and with an exit rate in [0, 1] no stock
  can go negative. ``exit_rate`` is the share of everyone in the stock at some
  point of the year who leaves in it, which is how it is calibrated from the
  published starts and exits (:mod:`wcf_model.calibrate`).
* Children on a child protection plan are a share of children in need at
  31 March (the DfE does not publish plan starts and ends for every year, so no
  flow rate can be calibrated); their net change each year is reported.
* Looked-after children by placement type, and EHC plans by setting, split the
  year's average stock by a mix of shares.
* Care leavers age through two four-year bands: a quarter of each band reaches
  its upper age in a year (four single years of age); a share of those leaving
  18-21 keep support to 25.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .catalogue import EHCP_SETTINGS, PLACEMENT_TYPES
from .inputs import same_every_draw

#: Share of a four-year age band that ages out in a year (four single years of age).
AGEING_RATE_FOUR_YEAR_BAND = 0.25


@dataclass(frozen=True)
class Stock:
    """A stock over the projection [children, or plans], each ``(draws, years)``.

    ``closing == opening + starts - exits`` holds exactly, and ``opening[:, t]
    == closing[:, t - 1]``.
    """

    opening: np.ndarray
    starts: np.ndarray
    exits: np.ndarray
    closing: np.ndarray

    @functools.cached_property
    def average(self) -> np.ndarray:
        """Average stock over each year, (opening + closing) / 2 [children]; worked out once (the
        placements, the staff and the costs all read it)."""
        return (self.opening + self.closing) / 2


def stock_flow(opening: np.ndarray, starts: np.ndarray, exit_rate: np.ndarray) -> Stock:
    """Project a stock year by year.

    Parameters
    ----------
    opening : ndarray, shape (draws,)
        Stock at the start of the first year [children].
    starts : ndarray, shape (draws, years)
        Entries in each year [children a year].
    exit_rate : ndarray, shape (draws, years)
        Share of (opening + starts) that leaves in each year [share, 0-1].

    Returns
    -------
    Stock
    """
    draws, years = starts.shape
    # year by year on arrays laid out year-major, so each year's draws are one contiguous block (a
    # column of a (draws, years) array is strided across all of it); the same arithmetic, transposed at the end
    starts_t = np.ascontiguousarray(np.asarray(starts, dtype=float).T)
    rate_t = exit_rate.T
    opening_t = np.empty((years, draws))
    exits = np.empty((years, draws))
    closing = np.empty((years, draws))
    current = np.asarray(opening, dtype=float).reshape(draws)
    for t in range(years):
        opening_t[t] = current
        exits[t] = rate_t[t] * (current + starts_t[t])
        closing[t] = current + starts_t[t] - exits[t]
        current = closing[t]
    return Stock(np.ascontiguousarray(opening_t.T), np.ascontiguousarray(starts, dtype=float),
                 np.ascontiguousarray(exits.T), np.ascontiguousarray(closing.T))


def project_population(path: np.ndarray, given: np.ndarray, growth_rate: np.ndarray) -> np.ndarray:
    """The 0-17 population: given figures, then grown after the last of them.

    Parameters
    ----------
    path : ndarray, shape (draws, years)
        Population where given [children] (any value elsewhere).
    given : ndarray of bool, shape (years,)
        Which years have a published or projected figure.
    growth_rate : ndarray, shape (draws, years)
        Annual proportional growth applied after the last given year [share/year].
    """
    out = np.array(path, dtype=float)
    if not given.any():
        raise ValueError("the population needs a figure for at least one year")
    last = int(np.flatnonzero(given)[-1])
    for t in range(last + 1, out.shape[1]):
        out[:, t] = out[:, t - 1] * (1 + growth_rate[:, t])
    return out


def flow(population: np.ndarray, rate_per_10k: np.ndarray, shock: np.ndarray | None = None) -> np.ndarray:
    """A flow proportional to the population [children a year].

    ``population / 10,000 x rate_per_10k x shock``.
    """
    out = population / 10_000 * rate_per_10k
    return out if shock is None else out * shock


def split(stock: np.ndarray, p: Mapping[str, np.ndarray], group: str,
          categories: tuple[str, ...]) -> np.ndarray | None:
    """Split a stock ``(draws, years)`` by the mix ``<group>.<category>``, normalised to sum to one.

    Returns ``(draws, years, k)`` [children], or None when the scenario gives no
    share of the mix; a category it leaves out has none. The result is laid out
    category by category, so each category's ``[..., k]`` (what the costs read)
    is one contiguous block. A mix whose shares are the same in every draw (no
    distribution, no uncertain effect on it) is normalised once, on one row.
    """
    given = [p.get(f"{group}.{c}") for c in categories]
    if all(a is None for a in given):
        return None
    rows = 1 if all(a is None or same_every_draw(a) for a in given) else stock.shape[0]
    mix = np.zeros((rows, stock.shape[1], len(categories)))
    for k, a in enumerate(given):
        if a is not None:
            mix[..., k] = a[:rows]
    total = mix.sum(axis=-1)
    out = np.empty((len(categories), *stock.shape))
    for k in range(len(categories)):
        np.divide(mix[..., k], total, out=out[k, :rows])
        np.multiply(out[k, :rows], stock, out=out[k])
    return out.transpose(1, 2, 0)


@dataclass(frozen=True)
class Caseloads:
    """The projected caseloads of one option; fields are None where the scenario
    does not give the parameters for that part of the model.

    Shapes are ``(draws, years)``; ``cla_by_placement`` is ``(draws, years,
    placement types)`` in :data:`~wcf_model.catalogue.PLACEMENT_TYPES` order and
    ``ehcp_by_setting`` ``(draws, years, settings)``.
    """

    population: np.ndarray
    referrals: np.ndarray | None = None
    rereferrals: np.ndarray | None = None
    early_help: np.ndarray | None = None
    cin: Stock | None = None
    cpp: Stock | None = None
    cla: Stock | None = None
    cla_by_placement: np.ndarray | None = None
    care_leavers_18_21: Stock | None = None
    care_leavers_22_25: Stock | None = None
    ehcp: Stock | None = None
    ehcp_by_setting: np.ndarray | None = None

    def stocks(self) -> dict[str, Stock]:
        """The stocks that were projected, by name."""
        names = ("cin", "cpp", "cla", "care_leavers_18_21", "care_leavers_22_25", "ehcp")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


def _has(p: Mapping[str, np.ndarray], *names: str) -> bool:
    return all(n in p for n in names)


def project_caseloads(p: Mapping[str, np.ndarray], population: np.ndarray) -> Caseloads:
    """All caseloads from parameter arrays and the population path.

    Parameters
    ----------
    p : mapping
        Parameter name -> ``(draws, years)`` array (see :mod:`wcf_model.inputs`).
        Opening stocks are read from their first year.
    population : ndarray, shape (draws, years)
        Children aged 0-17 [children].

    Returns
    -------
    Caseloads
        Parts whose parameters are absent are None, never zero: a missing
        figure must not look like no children.
    """
    ones = np.ones_like(population)
    shock = {f: p.get(f"demand.shocks.{f}", ones) for f in ("referrals", "cla_starts", "early_help", "ehcp_new")}
    out: dict[str, object] = {"population": population}

    if _has(p, "demand.referrals.rate_per_10k"):
        referrals = flow(population, p["demand.referrals.rate_per_10k"], shock["referrals"])
        out["referrals"] = referrals
        if _has(p, "demand.referrals.rereferral_share"):
            out["rereferrals"] = referrals * p["demand.referrals.rereferral_share"]
        if _has(p, "demand.cin.opening_stock", "demand.cin.start_share_of_referrals", "demand.cin.exit_rate"):
            cin = stock_flow(p["demand.cin.opening_stock"][:, 0],
                             referrals * p["demand.cin.start_share_of_referrals"], p["demand.cin.exit_rate"])
            out["cin"] = cin
            if _has(p, "demand.cpp.opening_stock", "demand.cpp.share_of_cin"):
                out["cpp"] = _share_stock(p["demand.cpp.opening_stock"][:, 0],
                                          cin.closing * p["demand.cpp.share_of_cin"])
    if _has(p, "demand.early_help.episodes_per_10k"):
        out["early_help"] = flow(population, p["demand.early_help.episodes_per_10k"], shock["early_help"])

    if _has(p, "demand.cla.opening_stock", "demand.cla.start_rate_per_10k", "demand.cla.exit_rate"):
        cla = stock_flow(p["demand.cla.opening_stock"][:, 0],
                         flow(population, p["demand.cla.start_rate_per_10k"], shock["cla_starts"]),
                         p["demand.cla.exit_rate"])
        out["cla"] = cla
        out["cla_by_placement"] = split(cla.average, p, "demand.cla.placement_mix", PLACEMENT_TYPES)
        if _has(p, "demand.care_leavers.opening_18_21", "demand.care_leavers.leaver_share_of_exits"):
            ageing = np.full_like(population, AGEING_RATE_FOUR_YEAR_BAND)
            young = stock_flow(p["demand.care_leavers.opening_18_21"][:, 0],
                               cla.exits * p["demand.care_leavers.leaver_share_of_exits"], ageing)
            out["care_leavers_18_21"] = young
            if _has(p, "demand.care_leavers.opening_22_25", "demand.care_leavers.support_22_25_share"):
                out["care_leavers_22_25"] = stock_flow(
                    p["demand.care_leavers.opening_22_25"][:, 0],
                    young.exits * p["demand.care_leavers.support_22_25_share"], ageing)

    if _has(p, "demand.ehcp.opening_stock", "demand.ehcp.new_per_10k", "demand.ehcp.ceased_rate"):
        ehcp = stock_flow(p["demand.ehcp.opening_stock"][:, 0],
                          flow(population, p["demand.ehcp.new_per_10k"], shock["ehcp_new"]),
                          p["demand.ehcp.ceased_rate"])
        out["ehcp"] = ehcp
        out["ehcp_by_setting"] = split(ehcp.average, p, "demand.ehcp.setting_mix", EHCP_SETTINGS)
    return Caseloads(**out)  # type: ignore[arg-type]


def _share_stock(opening: np.ndarray, closing: np.ndarray) -> Stock:
    """A stock given by its closing positions: only the net flow is known.

    Net increases are recorded as starts and net decreases as exits, so the
    stock identity still holds; gross flows are not modelled.
    """
    opening_t = np.concatenate([np.asarray(opening, dtype=float)[:, None], closing[:, :-1]], axis=1)
    change = closing - opening_t
    return Stock(opening_t, np.maximum(change, 0), np.maximum(-change, 0), closing)
