"""The staff the caseloads need, how posts are filled, and what turnover and
agency cover cost.

Pure functions over ``(draws, years)`` arrays (DOMAIN.md, "Workforce").

* Case-holding social workers in post [FTE] = cases / caseload target
  [cases/FTE], where cases = children in need (average over the year; the DfE
  count of children in need includes those on plans and in care) x cases per
  child in need. The target is the DfE workforce census's caseload, cases held
  / case-holding FTE; its cases are not its children in need (in England about
  0.84 cases per child in need at 31 March, 2017-2025: some children's cases
  are held by workers the census does not count as case-holding social
  workers, and the counts are taken six months apart), so the ratio is a
  parameter of its own, and a published caseload and ratio reproduce the
  published case-holding FTE.
* Team managers = social workers / span of control [FTE/manager].
* Independent reviewing officers = (children looked after + on plans) / IRO
  caseload; personal advisers = care leavers / adviser caseload; early help
  workers = early help episodes a year / episodes a worker supports a year.
* Social workers and managers in post are permanent or agency staff (a share
  ``agency_share`` is agency); the establishment also carries vacant posts,
  ``posts = in post / (1 - vacancy_rate)``. The other roles are counted as
  permanent staff in post.
* Permanent leavers = permanent FTE x turnover; hires replace leavers and fill
  any growth in permanent posts. Each hire costs recruitment and induction; each
  agency FTE costs its permanent equivalent plus the agency premium.

A caseload target, agency share or turnover that follows an improvement plan is
simply a parameter given by financial year in the scenario.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .demand import Caseloads


@dataclass(frozen=True)
class Staffing:
    """One role's posts and how they are filled [FTE], each ``(draws, years)``.

    ``posts == permanent + agency + vacant``.
    """

    posts: np.ndarray
    permanent: np.ndarray
    agency: np.ndarray
    vacant: np.ndarray
    leavers: np.ndarray
    hires: np.ndarray


def fill_posts(in_post: np.ndarray, agency_share: np.ndarray, vacancy_rate: np.ndarray,
               turnover_rate: np.ndarray) -> Staffing:
    """Split the staff in post into permanent and agency; add vacant posts,
    leavers and hires.

    Parameters
    ----------
    in_post : ndarray, shape (draws, years)
        FTE the caseloads need in post [FTE].
    agency_share : ndarray
        Share of staff in post who are agency workers [share].
    vacancy_rate : ndarray
        Share of posts vacant [share, below 1].
    turnover_rate : ndarray
        Share of permanent staff leaving in a year [share].

    Notes
    -----
    DfE definitions: agency rate = agency FTE / FTE in post; vacancy rate =
    vacant FTE / (vacant + in post). Hires in the first year replace leavers
    only; later, hires also fill any growth in permanent FTE over the year
    before (a fall is absorbed by not replacing leavers, never by negative
    hiring).
    """
    # A vacancy rate of 1 would mean an establishment with nobody in post;
    # keep the division finite so one extreme draw cannot poison the rest.
    posts = in_post / np.maximum(1 - vacancy_rate, 1e-9)
    vacant = posts - in_post
    agency = agency_share * in_post
    permanent = in_post - agency
    leavers = turnover_rate * permanent
    growth = np.diff(permanent, axis=1, prepend=permanent[:, :1])
    hires = np.maximum(leavers + growth, 0)
    return Staffing(posts, permanent, agency, vacant, leavers, hires)


def permanent_only(posts: np.ndarray) -> Staffing:
    """Posts counted as filled by permanent staff with no modelled turnover."""
    zero = np.zeros_like(posts)
    return Staffing(posts, posts, zero, zero, zero, zero)


def _has(p: Mapping[str, np.ndarray], *names: str) -> bool:
    return all(n in p for n in names)


def project_workforce(c: Caseloads, p: Mapping[str, np.ndarray]) -> dict[str, Staffing]:
    """Staff by role (keys from :data:`~wcf_model.catalogue.STAFF_ROLES`).

    A role is absent when the caseload or the ratio it needs is not in the
    scenario.
    """
    out: dict[str, Staffing] = {}
    churn = ("workforce.agency_share", "workforce.vacancy_rate", "workforce.turnover_rate")
    if c.cin is not None and _has(p, "workforce.caseload_target", "workforce.cases_per_child_in_need", *churn):
        cases = c.cin.average * p["workforce.cases_per_child_in_need"]
        sw_in_post = cases / p["workforce.caseload_target"]
        out["social_worker"] = fill_posts(sw_in_post, *(p[n] for n in churn))
        if _has(p, "workforce.manager_span"):
            out["team_manager"] = fill_posts(sw_in_post / p["workforce.manager_span"], *(p[n] for n in churn))
    if c.cla is not None and c.cpp is not None and _has(p, "workforce.iro_caseload"):
        out["iro"] = permanent_only((c.cla.average + c.cpp.average) / p["workforce.iro_caseload"])
    if c.care_leavers_18_21 is not None and _has(p, "workforce.personal_adviser_caseload"):
        leavers = c.care_leavers_18_21.average
        if c.care_leavers_22_25 is not None:
            leavers = leavers + c.care_leavers_22_25.average
        out["personal_adviser"] = permanent_only(leavers / p["workforce.personal_adviser_caseload"])
    if c.early_help is not None and _has(p, "workforce.early_help_caseload"):
        out["early_help_worker"] = permanent_only(c.early_help / p["workforce.early_help_caseload"])
    return out


def employment_cost_per_fte(p: Mapping[str, np.ndarray], role: str) -> np.ndarray | None:
    """Salary with on-costs and employer pension for one permanent FTE [GBP/year]."""
    names = (f"costs.staff.salary.{role}", "costs.staff.on_cost_rate", "costs.staff.pension_employer_rate")
    if not _has(p, *names):
        return None
    return p[names[0]] * (1 + p[names[1]] + p[names[2]])


def workforce_costs(staff: Mapping[str, Staffing], p: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Workforce cost lines [GBP a year], each ``(draws, years)``, in the
    scenario's price years (conversion to the base year is the appraisal's job).

    Lines: ``permanent_pay`` (permanent FTE x employment cost), ``agency_pay``
    (agency FTE x employment cost: the permanent equivalent of the cover),
    ``agency_premium`` (agency FTE x employment cost x premium, its own line as
    DOMAIN.md asks) and ``recruitment`` (hires x cost per hire). Lines whose
    inputs are missing are left out.
    """
    lines: dict[str, np.ndarray] = {}
    for role, s in staff.items():
        cost = employment_cost_per_fte(p, role)
        if cost is None:
            continue
        lines["permanent_pay"] = lines.get("permanent_pay", 0) + s.permanent * cost
        lines["agency_pay"] = lines.get("agency_pay", 0) + s.agency * cost
        if "costs.staff.agency_premium" in p:
            lines["agency_premium"] = lines.get("agency_premium", 0) + s.agency * cost * p["costs.staff.agency_premium"]
    if "costs.staff.recruitment_per_hire" in p and staff:
        hires = sum(s.hires for s in staff.values())
        lines["recruitment"] = hires * p["costs.staff.recruitment_per_hire"]
    return lines
