"""English local authorities in the published statistics: who they are, and who came before and after.

The DfE publishes each council's figures under its own code, so an authority
created by a reorganisation has no history before it, and one that was
abolished has none after. Three reorganisations touch the years the
statistics cover (:data:`SUCCESSIONS`), each set out in a structural changes
order made under the Local Government and Public Involvement in Health Act
2007, s7:

* 1 April 2019: Dorset County Council (835), Bournemouth (837) and Poole (836)
  were replaced by Dorset Council (838) and Bournemouth, Christchurch and
  Poole (839); Christchurch moved from the county to BCP, so neither successor
  covers exactly the area of any predecessor, but together they cover the
  same ground;
* 1 April 2021: Northamptonshire (928) was split into North (940) and West
  (941) Northamptonshire;
* 1 April 2023: Cumbria (909) was split into Cumberland (942) and Westmorland
  and Furness (943).

:func:`history` gives an authority's figures as the model is fitted on them:

1. its own published rows;
2. where it has no ONS 0-17 population for a year (the DfE re-publishes the
   ONS series on current boundaries only, so abolished councils have none),
   the population the DfE itself divided by for its rate of children looked
   after a year later, which is the same ONS mid-year estimate as published
   then;
3. where the social work workforce census gives only a joint return for it
   (Kingston upon Thames and Richmond upon Thames, 314/318, whose children's
   services are one trust; North and West Northamptonshire, 940/941, one
   children's trust), the joint return's rates (agency, vacancy, turnover,
   caseload), which are the shared workforce's; counts are not taken;
4. for the years on the other side of a reorganisation, figures for the same
   ground: a successor's years before it existed are its predecessors'
   totals times its share of the successors' children aged 0-17 in the first
   mid-year estimate for them all (rates are the area's, recomputed from the
   totals); a predecessor's years after abolition are its successors' totals
   only where it was the sole predecessor, so they cover exactly its area.

Rows of steps 2-4 are labelled: ``publication`` says how each was made, and
rows made by step 4 have an empty ``source_file`` (:func:`published` drops the
apportioned ones, which a back-test must never be scored against).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .tidy import ENGLAND, normalise_la_code, rows_for, typed
from .errors import DataError


@dataclass(frozen=True)
class Succession:
    """One reorganisation: the authorities replaced and their successors.

    Attributes
    ----------
    date : datetime.date
        The day the successors took over the functions.
    predecessors, successors : tuple of str
        Old DfE codes. Together, each side covers the same ground.
    legislation : str
        The order that made the change.
    """

    date: dt.date
    predecessors: tuple[str, ...]
    successors: tuple[str, ...]
    legislation: str


SUCCESSIONS: tuple[Succession, ...] = (
    Succession(dt.date(2019, 4, 1), ("835", "836", "837"), ("838", "839"),
               "The Bournemouth, Dorset and Poole (Structural Changes) Order 2018 (SI 2018/648)"),
    Succession(dt.date(2021, 4, 1), ("928",), ("940", "941"),
               "The Northamptonshire (Structural Changes) Order 2020 (SI 2020/156)"),
    Succession(dt.date(2023, 4, 1), ("909",), ("942", "943"),
               "The Cumbria (Structural Changes) Order 2022 (SI 2022/331)"),
)

#: Units of measures that are counts (summed across authorities, apportioned by population).
COUNT_UNITS = frozenset({"children", "referrals", "episodes", "plans", "FTE", "people", "cases", "GBP/year"})

#: Rates recomputed from summed counts for a group of authorities: measure ->
#: (numerator, denominator measures summed, multiplier). The DfE's own
#: definitions (checked against its published rates in tests).
RATE_RULES: dict[str, tuple[str, tuple[str, ...], float]] = {
    "rereferral_percent": ("rereferrals", ("referrals",), 100.0),
    "cla_rate_per_10k": ("cla_at_31_march", ("cla_rate_population",), 1e4),
    "sw_agency_percent": ("sw_agency_fte", ("sw_agency_fte", "sw_fte"), 100.0),
    "sw_vacancy_percent": ("sw_vacancy_fte", ("sw_vacancy_fte", "sw_fte"), 100.0),
    "sw_turnover_percent": ("sw_leavers_fte", ("sw_fte",), 100.0),
    "sw_caseload_per_fte": ("sw_cases", ("sw_case_holders_fte",), 1.0),
}

#: Workforce rates taken from a joint return when an authority has none of its own.
JOINT_RATES = ("sw_agency_percent", "sw_vacancy_percent", "sw_turnover_percent", "sw_caseload_per_fte",
               "sw_absence_percent")

#: How an apportioned row's ``publication`` starts (see :func:`published`).
ESTIMATED = "Estimated"

POP = "population_0_17"


def succession_of(code: str) -> Succession | None:
    """The reorganisation an authority was replaced in or created by, if any."""
    return next((s for s in SUCCESSIONS if code in s.predecessors + s.successors), None)


def _names(frame: pd.DataFrame, codes: tuple[str, ...]) -> str:
    names = []
    for c in codes:
        rows = frame.loc[frame["la_code"] == c, "la_name"]
        names.append(f"{rows.iloc[-1] if len(rows) else 'LA'} ({c})")
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def succession_note(frame: pd.DataFrame, code: str) -> str:
    """One sentence on an authority's reorganisation, or ``""``."""
    s = succession_of(code)
    if s is None:
        return ""
    when = f"{s.date.day} {s.date:%B %Y}"
    if code in s.successors:
        return (f"{_names(frame, (code,))} was created on {when}, taking over from "
                f"{_names(frame, s.predecessors)} ({s.legislation})")
    alone = ("" if len(s.predecessors) == 1 else
             "; they also took over other councils' areas, so no figures cover exactly its area after that")
    return (f"{_names(frame, (code,))} was abolished on {when}; its successors are "
            f"{_names(frame, s.successors)} ({s.legislation}){alone}")


# ---------------------------------------------------------------------------
# Filling the gaps
# ---------------------------------------------------------------------------


def _numbers(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["value"].notna()]


def _population_from_rate_denominators(rows: pd.DataFrame) -> pd.DataFrame:
    """0-17 population rows from the denominators of the DfE's CLA rates, for years the
    ONS series (as re-published by the DfE) lacks."""
    have = set(_numbers(rows[rows["measure"] == POP])["year"])
    dens = _numbers(rows[rows["measure"] == "cla_rate_population"])
    dens = dens[~(dens["year"] - 1).isin(have)]
    if dens.empty:
        return dens
    out = dens.copy()
    out["measure"] = POP
    out["year"] = dens["year"] - 1
    out["reference_date"] = (dens["year"] - 1).astype(str) + "-06-30"
    out["publication"] = [f"ONS mid-{y - 1} estimate of children aged 0-17, as the DfE used it for the rate of "
                          f"children looked after at 31 March {y} ({p})"
                          for y, p in zip(dens["year"], dens["publication"])]
    return out


def _joint_rates(frame: pd.DataFrame, own: pd.DataFrame, code: str) -> pd.DataFrame:
    """A joint workforce return's rates, for years the authority has none of its own."""
    joints = [c for c in frame["la_code"].unique() if "/" in c and code in c.split("/")]
    joint = frame[frame["la_code"].isin(joints)]
    joint = _numbers(joint[joint["measure"].isin(JOINT_RATES)])
    if joint.empty:
        return joint
    have = set(zip(*[_numbers(own)[k] for k in ("measure", "year")]))
    joint = joint[[(m, y) not in have for m, y in zip(joint["measure"], joint["year"])]].copy()
    joint["publication"] = [f"{p}: the joint return of {n}, whose children's social workers are one "
                            f"workforce (their rate)" for p, n in zip(joint["publication"], joint["la_name"])]
    return joint


def _base_rows(frame: pd.DataFrame, code: str) -> pd.DataFrame:
    """An authority's published rows with steps 2 and 3 of the module docstring."""
    own = frame[frame["la_code"] == code]
    return pd.concat([own, _population_from_rate_denominators(own), _joint_rates(frame, own, code)],
                     ignore_index=True)


def _group_totals(frame: pd.DataFrame, codes: tuple[str, ...]) -> pd.DataFrame:
    """Per measure and year, the sum of the group's counts and the rates recomputed from
    them; only where every member published the figure. Columns: measure, year,
    reference_date, value, unit, release, files."""
    members = [_numbers(_base_rows(frame, c)) for c in codes]
    stacked = pd.concat(members, ignore_index=True)
    counts = stacked[stacked["unit"].isin(COUNT_UNITS)]
    grouped = counts.groupby(["measure", "year"], sort=True)
    totals = grouped.agg(value=("value", "sum"), n=("la_code", "nunique"), unit=("unit", "first"),
                         reference_date=("reference_date", "first"), release=("release", "max"),
                         files=("source_file", lambda s: ", ".join(sorted(set(s) - {""}))))
    totals = totals[totals["n"] == len(codes)].drop(columns="n").reset_index()
    if len(codes) == 1:  # one authority's rates are its own: take them as published
        rates = stacked[~stacked["unit"].isin(COUNT_UNITS)]
        rates = rates.assign(files=rates["source_file"])[list(totals.columns)]
        return pd.concat([totals, rates], ignore_index=True)
    found = totals.set_index(["measure", "year"])
    rows = [totals]
    for measure, (num, dens, times) in RATE_RULES.items():
        if num not in found.index.get_level_values(0):
            continue
        top = found.loc[num]
        bottom = sum(found.loc[d]["value"] for d in dens if d in found.index.get_level_values(0)) \
            if all(d in found.index.get_level_values(0) for d in dens) else None
        if bottom is None:
            continue
        value = (top["value"] * times / bottom).dropna()
        value = value[np.isfinite(value)]
        unit = stacked.loc[stacked["measure"] == measure, "unit"]
        if value.empty or unit.empty:
            continue
        rows.append(pd.DataFrame({"measure": measure, "year": value.index, "value": value.to_numpy(),
                                  "unit": unit.iloc[0], "reference_date": top.loc[value.index, "reference_date"].to_numpy(),
                                  "release": top.loc[value.index, "release"].to_numpy(),
                                  "files": top.loc[value.index, "files"].to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def _share(frame: pd.DataFrame, code: str, side: tuple[str, ...], after: dt.date | None,
           before: dt.date | None) -> tuple[float, int] | None:
    """The authority's share of its side's 0-17 population in the first mid-year estimate
    at or after ``after`` (successors), or the last before ``before`` (predecessors)."""
    pops = {c: _numbers(_base_rows(frame, c)) for c in side}
    pops = {c: r[r["measure"] == POP].set_index("year")["value"] for c, r in pops.items()}
    years = set.intersection(*(set(p.index) for p in pops.values())) if pops else set()
    if after is not None:
        years = {y for y in years if dt.date(y, 6, 30) >= after}
        year = min(years) if years else None
    else:
        years = {y for y in years if dt.date(y, 6, 30) < before}
        year = max(years) if years else None
    if year is None:
        return None
    total = sum(p[year] for p in pops.values())
    return (float(pops[code][year] / total), year) if total > 0 else None


def _other_era(frame: pd.DataFrame, code: str, s: Succession, own: pd.DataFrame) -> pd.DataFrame:
    """Rows for the years on the other side of the reorganisation (step 4)."""
    successor = code in s.successors
    other = s.predecessors if successor else s.successors
    if successor:
        found = _share(frame, code, s.successors, after=s.date, before=None)
    else:
        found = (1.0, 0) if len(s.predecessors) == 1 else None
    if found is None:
        return own.iloc[:0]
    share, share_year = found
    totals = _group_totals(frame, other)
    dates = pd.to_datetime(totals["reference_date"]).dt.date
    totals = totals[(dates < s.date) if successor else (dates >= s.date)]
    have = set(zip(*[_numbers(own)[k] for k in ("measure", "year")]))
    totals = totals[[(m, y) not in have for m, y in zip(totals["measure"], totals["year"])]]
    if totals.empty:
        return own.iloc[:0]
    counts = totals["unit"].isin(COUNT_UNITS).to_numpy()
    names = _names(frame, other)
    when = f"{s.date.day} {s.date:%B %Y}"
    if successor:
        publication = [
            f"{ESTIMATED} for the years before {when}, when this authority was created: the total of {names} "
            f"x {share:.4f}, its share of the successors' children aged 0-17 at mid-{share_year}" if c else
            f"{ESTIMATED} for the years before {when}, when this authority was created: the rate of {names} "
            "taken together (the same ground)" for c in counts]
    else:
        publication = [f"Sum of {names}, which together cover exactly this authority's area after its "
                       f"abolition on {when}"] * len(totals)
    ident = own.iloc[-1] if len(own) else frame[frame["la_code"] == code].iloc[-1]
    out = pd.DataFrame({
        "la_code": code, "new_la_code": ident["new_la_code"], "la_name": ident["la_name"],
        "measure": totals["measure"].to_numpy(), "year": totals["year"].to_numpy(),
        "reference_date": totals["reference_date"].to_numpy(),
        "value": np.where(counts, totals["value"] * share, totals["value"]),
        "marker": "", "unit": totals["unit"].to_numpy(), "source_file": "",
        "publication": publication, "release": totals["release"].to_numpy(),
    })
    return out


def history(frame: pd.DataFrame, la_code: int | str) -> pd.DataFrame:
    """One authority's rows as the model is fitted on them (module docstring, steps 1-4).

    Parameters
    ----------
    frame : pandas.DataFrame
        Every authority's tidy rows (the extract, or downloads read whole).
    la_code : int or str
        Old or new code of the authority.

    Returns
    -------
    pandas.DataFrame
        :data:`~wcf_model.tidy.TIDY_COLUMNS`, one row per measure and year, the
        authority's own code and name on every row; ``attrs["note"]`` says how
        any reorganisation was bridged (``""`` if none).

    Raises
    ------
    DataError
        If the code is a joint return rather than an authority, or the data
        hold no rows for it.
    """
    code = normalise_la_code(la_code)
    if "/" in code:
        parts = [p for p in code.split("/")]
        raise DataError(f"{la_code} is the joint social work workforce return of {_names(frame, tuple(parts))}, "
                        f"not an authority: use one of {', '.join(parts)}")
    own = rows_for(frame, code)
    if own.empty:
        raise DataError(f"no rows for la_code {la_code} in the data; `wcf-model authorities` lists the "
                        "authorities it holds, with their codes")
    old = own["la_code"].iloc[0]
    base = _base_rows(frame, old)
    pieces = [base]
    s = succession_of(old)
    if s is not None:
        pieces.append(_other_era(frame, old, s, base))
    out = pd.concat(pieces, ignore_index=True)
    ident = own.iloc[-1]
    out["la_code"], out["new_la_code"], out["la_name"] = old, ident["new_la_code"], ident["la_name"]
    out["region_code"], out["region_name"] = ident["region_code"], ident["region_name"]
    # a number beats a marker for the same figure; otherwise the published row stays first
    out = out.assign(_missing=out["value"].isna()).sort_values(
        ["measure", "year", "_missing"], kind="mergesort").drop_duplicates(["measure", "year"]).drop(columns="_missing")
    out = typed(out).reset_index(drop=True)
    out.attrs["note"] = succession_note(frame, old)
    return out


def published(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows that are published figures (or exact sums of them): apportioned estimates dropped."""
    return rows[~rows["publication"].str.startswith(ESTIMATED)]


def register(frame: pd.DataFrame) -> pd.DataFrame:
    """Every authority in the data: code, new code, name, first and last year, and any reorganisation.

    Joint workforce returns (``314/318``) and England are left out: they are
    not authorities a scenario can name.
    """
    rows = frame[(frame["la_code"] != ENGLAND) & ~frame["la_code"].str.contains("/", regex=False)]
    latest = rows.sort_values(["la_code", "year"], kind="mergesort").groupby("la_code", sort=True)
    with_value = rows[rows["value"].notna()].groupby("la_code")["year"]
    out = pd.DataFrame({
        "la_code": list(latest.groups),
        "new_la_code": latest["new_la_code"].agg(lambda s: next((c for c in reversed(list(s)) if c), "")).to_numpy(),
        "la_name": latest["la_name"].last().to_numpy(),
    })
    out["first_year"] = out["la_code"].map(with_value.min()).astype("Int64")
    out["last_year"] = out["la_code"].map(with_value.max()).astype("Int64")
    out["reorganisation"] = [succession_note(frame, c) for c in out["la_code"]]
    return out.reset_index(drop=True)


__all__ = ["COUNT_UNITS", "RATE_RULES", "SUCCESSIONS", "Succession", "history", "published",
           "register", "succession_note", "succession_of"]
