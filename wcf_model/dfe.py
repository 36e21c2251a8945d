"""Reading the Department for Education's published downloads into the tidy shape.

This is the side of the data the *scripts* use: ``scripts/build_data.py``
reads a folder of DfE downloads with :func:`read_folder` and writes the
project's extract, which the model then reads with :mod:`wcf_model.data`
(the runtime side). A user can also point a command's ``--data`` at a folder
of downloads, which is read here.

The DfE publishes the figures the model starts from (children looked after, in
need, on plans; the social work workforce; EHC plans; section 251 spend) in
several layouts that changed over the years. :func:`read_dfe` reads every
layout into the long table described in :mod:`wcf_model.tidy`, one row per
authority, measure and year, keeping each suppressed cell's marker.

Mapping a source column to a measure is data (:data:`LAYOUTS`, :data:`SOURCES`,
:data:`S251_LINES`, :data:`S251_COLUMNS`), so supporting a new release usually
means adding a line there, not code.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .tidy import ENGLAND, combine, normalise_la_code, typed
from .errors import DataError, InputFileError, SkippedFileWarning
from .limits import MAX_DFE_FILE_BYTES, read_limited


class UnknownLayout(DataError):
    """A file that is not a DfE download of a layout wcf-model knows (skipped in a folder of downloads)."""


class DamagedDownload(DataError):
    """A DfE download of a known layout that cannot be read: never skipped, since its figures would be lost."""

#: Cells that stand for a figure that is not published. ``.`` is not in the
#: DfE's list but the 2019 LA tables use it the same way.
MARKERS = frozenset({"c", "x", "z", "low", "u", ":", "..", "-", "."})

#: Marker recorded for an empty cell.
BLANK = "blank"

# ---------------------------------------------------------------------------
# Layouts and the column -> measure registry
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """One file layout the DfE has published.

    Attributes
    ----------
    name : str
        Short name, returned by :func:`detect_layout`.
    shape : str
        ``"long"`` (explore education statistics), ``"wide"`` (old LA tables,
        one row per authority, one column per measure-year) or ``"s251"``.
    signature : frozenset of str
        Columns that must all be present (after ``renames``) to recognise it.
    publication : str
        Title, formatted with ``{release}`` and ``{period}``.
    reference : str
        ``"MM-DD"`` of the reference date within ``year``.
    filter_column : str or None
        Column whose value says which measure a row holds (long layouts).
    renames : mapping
        Old column name -> current name, for releases that renamed columns.
    release_lag : int
        Years between the last year a file covers and its release (SEN2 counts
        new plans over a calendar year and publishes them the next year).
    """

    name: str
    shape: str
    signature: frozenset[str]
    publication: str
    reference: str
    filter_column: str | None = None
    renames: Mapping[str, str] = field(default_factory=dict)
    release_lag: int = 0


_EES = frozenset({"time_period", "geographic_level", "old_la_code", "new_la_code", "la_name"})

LAYOUTS: dict[str, Layout] = {
    lay.name: lay
    for lay in [
        Layout(
            "cla",
            "long",
            _EES | {"population_type", "children_count", "rate_per_10000"},
            "Children looked after in England including adoptions, {release} release",
            "03-31",
            filter_column="population_type",
            # The 2019-2023 file names these population_count and number.
            renames={"population_count": "population_type", "number": "children_count"},
        ),
        Layout(
            "cla_la_tables",
            "wide",
            frozenset({"geog_l", "geog_c", "geog_n", "New_geog_code"}),
            "Children looked after in England including adoptions, LA tables, {release} release",
            "03-31",
        ),
        Layout(
            "cin",
            "long",
            _EES | {"At31_episodes", "Anypoint_episodes"},
            "Characteristics of children in need, {release} release, table B1",
            "03-31",
        ),
        Layout(
            "referrals",
            "long",
            _EES | {"referral_count", "rereferral_count"},
            "Characteristics of children in need, {release} release, table C1",
            "03-31",
        ),
        Layout(
            "cpp",
            "long",
            _EES | {"CPP_At31"},
            "Characteristics of children in need, {release} release, table D5",
            "03-31",
        ),
        Layout(
            "workforce",
            "long",
            _EES | {"inpost_fte", "caseload_fte"},
            "Children's social work workforce, {release} release",
            "09-30",
        ),
        Layout(
            "population",
            "long",
            _EES | {"age_group", "population_estimate"},
            "ONS mid-year population estimates, as re-published by the DfE, {release} release",
            "06-30",
            filter_column="age_group",
        ),
        Layout(
            "sen2_caseload",
            "long",
            _EES | {"characteristic_age", "Total_all"},
            "Education, health and care plans (SEN2), {release} release, caseload by age",
            # SEN2 counts plans in force on a census day in January that moves
            # from year to year; the 15th stands for it.
            "01-15",
            filter_column="characteristic_age",
        ),
        Layout(
            "sen2_mi",
            "long",
            _EES | {"NewallEHC"},
            "Education, health and care plans (SEN2), {release} release, management information",
            "12-31",
            release_lag=1,
        ),
        Layout(
            "s251",
            "s251",
            frozenset({"LA", "LA Name", "LineNumber", "CYPServiceDescription", "TotalExpenditure"}),
            "Section 251 outturn {period}, children's and young people's services",
            "03-31",
        ),
    ]
}


@dataclass(frozen=True)
class Source:
    """Where one measure is found in one layout.

    Attributes
    ----------
    layout : str
        Name of the :class:`Layout`.
    column : str
        Source column. In wide layouts ``{year}`` stands for a four-digit
        year (``CLA_Mar{year}``); a column without it holds the release year.
    measure : str
        The stable measure name it becomes.
    unit : str
        Unit of the values.
    when : str or None
        Value of the layout's ``filter_column`` the column applies to.
    """

    layout: str
    column: str
    measure: str
    unit: str
    when: str | None = None


_CLA_AT = ("Children looked after at 31 March each year", "Children looked after on 31 March each year")
_CLA_START = "Children starting to be looked after each year"
_CLA_CEASE = "Children ceasing to be looked after each year"

SOURCES: list[Source] = [
    # Children looked after, explore-education-statistics layout.
    *(Source("cla", "children_count", "cla_at_31_march", "children", w) for w in _CLA_AT),
    *(Source("cla", "rate_per_10000", "cla_rate_per_10k", "per 10k children", w) for w in _CLA_AT),
    # The population the rates divide by: the ONS mid-year estimate of the year before.
    *(Source("cla", "population_estimate", "cla_rate_population", "children", w) for w in _CLA_AT),
    Source("cla", "children_count", "cla_starts", "children", _CLA_START),
    Source("cla", "rate_per_10000", "cla_starts_rate_per_10k", "per 10k children/year", _CLA_START),
    Source("cla", "children_count", "cla_ceased", "children", _CLA_CEASE),
    Source("cla", "rate_per_10000", "cla_ceased_rate_per_10k", "per 10k children/year", _CLA_CEASE),
    # Children looked after, LA tables (wide). Columns without {year} describe
    # children looked after at 31 March of the release year.
    Source("cla_la_tables", "CLA_Mar{year}", "cla_at_31_march", "children"),
    Source("cla_la_tables", "CLA_Rate{year}", "cla_rate_per_10k", "per 10k children"),
    Source("cla_la_tables", "CLA_Pop{year}", "cla_rate_population", "children"),
    Source("cla_la_tables", "CLA_{year}", "cla_during_year", "children"),
    Source("cla_la_tables", "CLA_stp{year}", "cla_short_term_placements", "children"),
    Source("cla_la_tables", "CLA_UASC{year}", "cla_uasc", "children"),
    Source("cla_la_tables", "CLA_Fost", "cla_placement_foster", "children"),
    Source("cla_la_tables", "CLA_Adopt", "cla_placed_for_adoption", "children"),
    Source("cla_la_tables", "CLA_Parent", "cla_placed_with_parents", "children"),
    Source("cla_la_tables", "CLA_Ocom", "cla_placement_other_community", "children"),
    Source("cla_la_tables", "CLA_Secure", "cla_placement_homes_secure_semi_independent", "children"),
    Source("cla_la_tables", "CLA_Ores", "cla_placement_other_residential", "children"),
    Source("cla_la_tables", "CLA_RSch", "cla_placement_residential_school", "children"),
    Source("cla_la_tables", "CLA_OthPl", "cla_placement_other", "children"),
    Source("cla_la_tables", "CLA_OwnP", "cla_provider_own", "children"),
    Source("cla_la_tables", "CLA_OthLA", "cla_provider_other_la", "children"),
    Source("cla_la_tables", "CLA_OthPP", "cla_provider_other_public", "children"),
    Source("cla_la_tables", "CLA_Priv", "cla_provider_private", "children"),
    Source("cla_la_tables", "CLA_Vol", "cla_provider_voluntary", "children"),
    Source("cla_la_tables", "CLA_Par", "cla_provider_parents_friends", "children"),
    Source("cla_la_tables", "CLA_Nrep", "cla_provider_not_reported", "children"),
    Source("cla_la_tables", "CLA_ICO", "cla_legal_interim_care_order", "children"),
    Source("cla_la_tables", "CLA_FCO", "cla_legal_full_care_order", "children"),
    Source("cla_la_tables", "CLA_PlaceO", "cla_legal_placement_order", "children"),
    Source("cla_la_tables", "CLA_S20", "cla_legal_section_20", "children"),
    Source("cla_la_tables", "CLA_InLA", "cla_placed_inside_la", "children"),
    Source("cla_la_tables", "CLA_OutLA", "cla_placed_outside_la", "children"),
    Source("cla_la_tables", "CLA_LTE20", "cla_placed_within_20_miles", "children"),
    Source("cla_la_tables", "CLA_GT20", "cla_placed_over_20_miles", "children"),
    # Children in need, table B1 (episodes over the year to 31 March).
    Source("cin", "At31_episodes", "cin_at_31_march", "children"),
    Source("cin", "Started_episodes", "cin_started", "episodes"),
    Source("cin", "Ended_episodes", "cin_ended", "episodes"),
    Source("cin", "Anypoint_episodes", "cin_any_point", "episodes"),
    Source("cin", "Anypoint_child", "cin_any_point_children", "children"),
    # Referrals, table C1.
    Source("referrals", "referral_count", "referrals", "referrals"),
    Source("referrals", "rereferral_count", "rereferrals", "referrals"),
    Source("referrals", "rereferral_percent", "rereferral_percent", "percent"),
    Source("referrals", "no_further_action_count", "referrals_nfa", "referrals"),
    Source("referrals", "referral_child_count", "referrals_children", "children"),
    # Child protection plans, table D5.
    Source("cpp", "CPP_At31", "cpp_at_31_march", "children"),
    # Social work workforce census, 30 September.
    Source("workforce", "inpost_fte", "sw_fte", "FTE"),
    Source("workforce", "inpost_headcount", "sw_headcount", "people"),
    Source("workforce", "starters_fte", "sw_starters_fte", "FTE"),
    Source("workforce", "leavers_fte", "sw_leavers_fte", "FTE"),
    Source("workforce", "turnover_rate_fte", "sw_turnover_percent", "percent"),
    Source("workforce", "agency_fte", "sw_agency_fte", "FTE"),
    Source("workforce", "agency_rate_fte", "sw_agency_percent", "percent"),
    Source("workforce", "vacancy_fte", "sw_vacancy_fte", "FTE"),
    Source("workforce", "vacancy_rate_fte", "sw_vacancy_percent", "percent"),
    Source("workforce", "case_holders_fte", "sw_case_holders_fte", "FTE"),
    Source("workforce", "cases", "sw_cases", "cases"),
    Source("workforce", "caseload_fte", "sw_caseload_per_fte", "cases/FTE"),
    Source("workforce", "absence_rate_fte", "sw_absence_percent", "percent"),
    # Population (mid-year, 30 June).
    Source("population", "population_estimate", "population_0_17", "children", "Children aged 0 to 17 years"),
    # SEN2: plans in force in January, and plans made over the calendar year.
    Source("sen2_caseload", "Total_all", "ehcp_total", "plans", "Total"),
    Source("sen2_caseload", "Total_ehc", "ehcp_ehc_plans", "plans", "Total"),
    Source("sen2_caseload", "Total_st", "ehcp_statements", "plans", "Total"),
    # Plans of young people over school age: the nearest published proxy for post-16 settings.
    Source("sen2_caseload", "Total_all", "ehcp_age_16_19", "plans", "Age 16 to 19"),
    Source("sen2_caseload", "Total_all", "ehcp_age_20_25", "plans", "Age 20 to 25"),
    Source("sen2_mi", "NewallEHC", "ehcp_new", "plans"),
    Source("sen2_mi", "IncExc20weekRate", "ehcp_20_week_percent", "percent"),
    Source("sen2_mi", "NoExc20weekRate", "ehcp_20_week_percent_excl_exceptions", "percent"),
]

#: Section 251 outturn lines kept, as (slug, description in the 2013-14 form).
#: Lines are matched on their description's letters, so renumbering, spacing,
#: apostrophes and the file's stray cp1252 byte do not matter.
S251_LINES: list[tuple[str, str]] = [
    ("sure_start_centres", "Spend by individual Sure Start Children's Centres"),
    ("sure_start_area_wide", "Spend on local authority provided or commissioned area-wide services "
     "delivered through Sure Start Children's Centres"),
    ("sure_start_management", "Spend on local authority management costs relating to sure Start "
     "Children's Centres"),
    ("early_years_other", "Other early years expenditure"),
    ("sure_start_total", "Total Sure Start Children's Centres"),
    ("cla_residential", "Residential care"),
    ("cla_fostering", "Fostering services"),
    ("cla_adoption", "Adoption services"),
    ("cla_special_guardianship", "Special guardianship support"),
    ("cla_other", "Other children looked after services"),
    ("cla_short_breaks", "Short breaks (respite) for looked after disabled children"),
    ("cla_family_friends", "Children placed with family and friends"),
    ("cla_education", "Education of looked after children"),
    ("cla_leaving_care", "Leaving care support services"),
    ("cla_asylum_seekers", "Asylum seeker services - children"),
    ("cla_total", "Total Children Looked After"),
    ("other_children_families", "Other children's and families services"),
    ("social_work", "Social work (includes LA functions in relation to child protection)"),
    ("commissioning_strategy", "Comissioning and Children's Services Strategy"),
    ("lscb", "Local safeguarding childrens board"),
    ("safeguarding_total", "Total Safeguarding Children and Young Peoples Services"),
    ("family_support_direct_payments", "Direct payments"),
    ("family_support_short_breaks", "Short breaks (respite) for disabled children"),
    ("family_support_disabled_other", "Other support for disabled children"),
    ("family_support_targeted", "Targeted family support"),
    ("family_support_universal", "Universal family support"),
    ("family_support_total", "Total Family Support Services"),
    ("young_people_universal", "Universal services for young people"),
    ("young_people_targeted", "Targeted services for young people"),
    ("young_people_total", "Total Services for Young People"),
    ("youth_justice", "Youth Justice"),
    ("cera", "Capital Expenditure from Revenue (CERA) (Children's and young people's services)"),
    ("cyp_total_excl_cera", "CHILDREN AND YOUNG PEOPLE'S SERVICES BUDGET (excluding CERA)"),
    ("cyp_total_incl_cera", "CHILDREN AND YOUNG PEOPLE'S SERVICES BUDGET (including CERA)"),
    ("substance_misuse", "Substance misuse services(Drugs, alcohol and volatile substances)"
     "(included in lines 27 and 28 above)"),
    ("teenage_pregnancy", "Teenage pregnancy services(included in lines 27 and 28 above)"),
]

#: Section 251 money columns -> measure suffix (``s251_<line>_<suffix>``), all GBP/year.
#: The grant columns (inside and outside AEF) and net revenue expenditure are
#: not read: nothing in the model uses them, and they would double the extract.
S251_COLUMNS: dict[str, str] = {
    "OwnProvision": "own",
    "PrivateProvision": "private",
    "OtherPublic": "other_public",
    "Voluntary": "voluntary",
    "TotalExpenditure": "gross",
    "Income": "income",
    "NetCurrentExpenditure": "net",
}
S251_UNIT = "GBP/year"

#: Wide layouts whose denominator columns are labelled with the wrong years.
#: The 2019 LA tables head their five population columns CLA_Pop2014-2018 but
#: hold the populations for 2015-2019: the England figure under "CLA_Pop2018"
#: is the one CLA_Mar2019 / CLA_Rate2019 implies, and the 2014-2017 labels
#: repeat the 2018 release's 2015-2018 values. So these columns take the years
#: of the counts they divide, by position, whenever the labels disagree.
WIDE_ALIGN: dict[str, str] = {"CLA_Pop{year}": "CLA_Mar{year}"}


def _letters(text: str) -> str:
    """Lower-case letters only: a matching key robust to spacing and encodings."""
    return re.sub(r"[^a-z]", "", text.lower())


_S251_BY_KEY = {_letters(desc): slug for slug, desc in S251_LINES}


def _key(text: str) -> str:
    return " ".join(str(text).split()).casefold()

# ---------------------------------------------------------------------------
# Reading one file
# ---------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    """Decode a download; the DfE's older files are not always UTF-8."""
    try:
        raw = read_limited(path, MAX_DFE_FILE_BYTES, "a DfE statistics download")
    except InputFileError as err:
        raise DataError(f"cannot read {path}: {err.reason}") from None
    if not raw.strip():
        raise DataError(f"{path.name} is empty: expected a DfE statistics CSV with a header line")
    if b"\x00" in raw[:4096]:
        raise DataError(
            f"{path.name} is not a text CSV (it holds binary data): expected a DfE statistics CSV"
        )
    # cp1252 covers the stray Windows apostrophe (0x92) in the S251 file;
    # latin-1 decodes anything, so a file never fails here for its encoding.
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover


def _clean_header(names: Iterable[str]) -> list[str]:
    # A BOM survives as U+FEFF (or as "ï»¿" if a later byte forced cp1252).
    return [str(n).replace("\ufeff", "").replace("ï»¿", "").strip() for n in names]


def _match_layout(columns: Iterable[str], name: str) -> Layout:
    cols = set(columns)
    for layout in LAYOUTS.values():
        renamed = {layout.renames.get(c, c) for c in cols}
        if layout.signature <= renamed:
            return layout
    shown = list(columns)[:8]
    found = ", ".join(repr(c[:40]) for c in shown) + (", ..." if len(cols) > len(shown) else "")
    expected = "; ".join(
        f"{lay.name} ({', '.join(sorted(lay.signature - _EES))})" for lay in LAYOUTS.values()
    )
    raise UnknownLayout(
        f"{name} is not a DfE file layout wcf-model recognises: expected the columns of one of "
        f"{expected}, the long layouts with {', '.join(sorted(_EES))}; found {found or 'no columns'}"
    )


def detect_layout(path: str | Path) -> str:
    """Name the layout of a DfE download from its header line.

    Parameters
    ----------
    path : str or Path
        A CSV file as downloaded.

    Returns
    -------
    str
        A key of :data:`LAYOUTS` (``"cla"``, ``"cla_la_tables"``, ``"s251"`` ...).

    Raises
    ------
    DataError
        If the file cannot be read, is empty or not CSV, or its columns match
        no known layout (the message lists what was expected and found).
    """
    path = Path(path)
    return _match_layout(_header(_read_text(path)), path.name).name


def _header(text: str) -> list[str]:
    first = text.lstrip("\r\n").splitlines()[0]
    return _clean_header(next(csv.reader([first])))


def read_dfe(path: str | Path) -> pd.DataFrame:
    """Read one DfE download, in any recognised layout, into the tidy shape.

    Parameters
    ----------
    path : str or Path
        A CSV file as downloaded from the DfE.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TIDY_COLUMNS`; one row per authority (every local
        authority and England; regions' own rows are left out, but each
        authority's row names its region where the layout gives it), measure
        and year.
        Unpublished figures have ``value`` NaN and their ``marker``.

    Raises
    ------
    DataError
        If the file is unreadable, empty, not CSV, of an unknown layout, or
        holds a cell that is neither a number nor a known marker.
    """
    path = Path(path)
    try:
        text = _read_text(path)
        # Recognise the header before parsing, so a stray file (a README, a
        # spreadsheet) is reported as "not a DfE layout", not as a CSV parse error.
        layout = _match_layout(_header(text), path.name)
    except DataError as err:
        raise UnknownLayout(str(err)) from None
    try:
        return _read_layout(path, text, layout)
    except DataError as err:  # the file is a DfE download, but damaged
        raise DamagedDownload(str(err)) from None


def _read_layout(path: Path, text: str, layout: Layout) -> pd.DataFrame:
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path.name} is not a readable CSV file: {' '.join(str(err).split())}") from None
    table.columns = _clean_header(table.columns)
    table = table.rename(columns=dict(layout.renames))
    reader = {"long": _read_long, "wide": _read_wide, "s251": _read_s251}[layout.shape]
    pieces, release, period = reader(table, layout, path)
    if pieces:
        frame = pd.concat(pieces, ignore_index=True)
    else:  # a recognised file none of whose measure columns are mapped
        frame = pd.DataFrame(columns=["la_code", "new_la_code", "la_name", "region_code", "region_name", "measure",
                                      "year", "raw"])
    value, marker = _parse_cells(frame.pop("raw"), path.name)
    frame["value"] = value
    frame["marker"] = marker
    frame["reference_date"] = frame["year"].astype(int).astype(str) + "-" + layout.reference
    frame["unit"] = frame["measure"].map(MEASURE_UNITS)
    frame["source_file"] = path.name
    frame["publication"] = layout.publication.format(release=release, period=period)
    frame["release"] = release
    frame = typed(frame)
    return frame.sort_values(["la_code", "measure", "year"], kind="mergesort").reset_index(drop=True)


def _codes(values: pd.Series, name: str) -> pd.Series:
    try:
        return values.map(normalise_la_code)
    except DataError as err:
        raise DataError(f"{name}: {err}") from None


def _parse_years(values: pd.Series, name: str) -> pd.Series:
    """``2019`` -> 2019; a six-digit period such as ``201819`` -> its end year."""
    text = values.astype(str).str.strip()
    ok = text.str.fullmatch(r"\d{4}|\d{6}")
    if not ok.all():
        raise DataError(f"{name}: time_period {text[~ok].iloc[0]!r} is not a year such as 2019 or 201819")
    four = text.str[:4].astype(int)
    return four.where(text.str.len() == 4, four + 1)


def _read_long(table: pd.DataFrame, layout: Layout, path: Path):
    level = table["geographic_level"].str.strip()
    keep = level.isin(["National", "Local authority"])
    if not keep.any():
        raise DataError(f"{path.name}: no National or Local authority rows (geographic_level)")
    table, national = table[keep], level[keep] == "National"
    codes = pd.DataFrame(
        {
            "la_code": _codes(table["old_la_code"].where(~national, ENGLAND), path.name),
            "new_la_code": _codes(table["new_la_code"].where(~national, ENGLAND), path.name),
            "la_name": table["la_name"].where(~national, "England").str.strip(),
            "region_code": table["region_code"].where(~national, "").str.strip() if "region_code" in table else "",
            "region_name": table["region_name"].where(~national, "").str.strip() if "region_name" in table else "",
            "year": _parse_years(table["time_period"], path.name),
        }
    )
    pieces = []
    for src in _sources(layout, table.columns):
        rows = codes
        if src.when is not None:
            rows = codes[table[layout.filter_column].map(_key) == _key(src.when)]
        pieces.append(rows.assign(measure=src.measure, raw=table.loc[rows.index, src.column]))
    release = int(codes["year"].max()) + layout.release_lag
    return pieces, release, str(release)


def _year_columns(pattern: str, columns: Iterable[str]) -> dict[int, str]:
    """Columns matching ``CLA_Mar{year}``, by year."""
    regex = re.compile(re.escape(pattern).replace(re.escape("{year}"), r"(\d{4})"))
    return {int(m.group(1)): c for c in columns if (m := regex.fullmatch(c))}


def _read_wide(table: pd.DataFrame, layout: Layout, path: Path):
    level = table["geog_l"].str.strip().str.upper()
    keep = level.isin(["NATIONAL", "LA"])
    table, national = table[keep], level[keep] == "NATIONAL"
    codes = pd.DataFrame(
        {
            # The wide tables code England 999 (not a real code): use ENGLAND.
            "la_code": _codes(table["geog_c"].where(~national, ENGLAND), path.name),
            "new_la_code": _codes(table["New_geog_code"].where(~national, ENGLAND), path.name),
            "la_name": table["geog_n"].where(~national, "England").str.strip(),
        }
    )
    sources = [s for s in SOURCES if s.layout == layout.name]
    by_year = {s.column: _year_columns(s.column, table.columns) for s in sources if "{year}" in s.column}
    years = [y for cols in by_year.values() for y in cols]
    if not years:
        raise DataError(f"{path.name}: no measure-year columns such as CLA_Mar2018 in this LA table")
    release = max(years)
    for column, anchor in WIDE_ALIGN.items():
        own, ref = by_year.get(column, {}), by_year.get(anchor, {})
        if own and ref and set(own) != set(ref) and len(own) == len(ref):
            by_year[column] = dict(zip(sorted(ref), (own[y] for y in sorted(own))))
    pieces = []
    for src in sources:
        columns = by_year.get(src.column) or ({release: src.column} if src.column in table.columns else {})
        for year, column in columns.items():
            pieces.append(codes.assign(year=year, measure=src.measure, raw=table[column]))
    return pieces, release, str(release)


def _read_s251(table: pd.DataFrame, layout: Layout, path: Path):
    # The file has no year column: its financial year is in the name (2013_14).
    found = re.search(r"(20\d\d)[_-](\d\d)(?!\d)", path.name)
    if not found or (int(found.group(1)) + 1) % 100 != int(found.group(2)):
        raise DataError(
            f"cannot tell which financial year {path.name} covers: expected the name to "
            "contain it, as in s251_outturn_2013_14.csv"
        )
    end = int(found.group(1)) + 1
    # Lines are known by their wording without the leading line number.
    slug = table["CYPServiceDescription"].map(lambda d: _S251_BY_KEY.get(_letters(re.sub(r"^\s*\d+", "", d))))
    table = table[slug.notna()]
    codes = pd.DataFrame(
        {
            "la_code": _codes(table["LA"], path.name),
            "new_la_code": "",
            "la_name": table["LA Name"].str.strip(),
            "year": end,
        }
    )
    pieces = [
        codes.assign(measure="s251_" + slug[table.index] + "_" + suffix, raw=table[column])
        for column, suffix in S251_COLUMNS.items()
        if column in table.columns
    ]
    return pieces, end, f"{end - 1}-{end % 100:02d}"


def _sources(layout: Layout, columns: Iterable[str]) -> list[Source]:
    cols = set(columns)
    return [s for s in SOURCES if s.layout == layout.name and s.column in cols]


def _parse_cells(raw: pd.Series, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Numbers to floats; markers to NaN with the marker kept; never zero."""
    text = raw.fillna("").astype(str).str.strip()
    value = pd.to_numeric(text.where(~text.isin(MARKERS | {""}), None), errors="coerce")
    marker = np.where(value.isna(), text, "").astype(object)
    marker[(text == "").to_numpy()] = BLANK
    odd = sorted(set(marker) - MARKERS - {"", BLANK})
    if odd:
        raise DataError(
            f"{name}: cells that are neither numbers nor DfE markers: {', '.join(map(repr, odd[:5]))}; "
            f"known markers are {', '.join(sorted(MARKERS))}"
        )
    return value.to_numpy(dtype=float), marker.astype(str)


#: Every measure name this module can produce, with its unit.
MEASURE_UNITS: Mapping[str, str] = {
    **{s.measure: s.unit for s in SOURCES},
    **{f"s251_{slug}_{sfx}": S251_UNIT for slug, _ in S251_LINES for sfx in S251_COLUMNS.values()},
}



def read_folder(source: str | Path, la_codes: Iterable[int | str] | None = None, strict: bool = False,
                say: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, dict]:
    """Read every recognised DfE download in a folder.

    Parameters
    ----------
    source : str or Path
        Folder of DfE CSV downloads.
    la_codes : iterable, optional
        Authorities to keep (old or new codes); every authority when omitted.
        England is always kept.
    strict : bool
        Fail on a file that is not a recognised layout, instead of skipping it.
        A download of a recognised layout that cannot be read (a damaged row,
        a cell that is neither a number nor a known marker) always fails,
        naming the file: a damaged download must not silently drop its figures.
    say : callable, optional
        Receives one line per file read or skipped (progress for a command line);
        without it a skipped file is issued as a :class:`~wcf_model.errors.SkippedFileWarning`.

    Returns
    -------
    (frame, provenance)
        The combined tidy rows (latest release of each figure) and a record of
        each input: file name, sha256, publication, release and row counts.

    Raises
    ------
    DataError
        If the folder is missing, holds no recognised file, a file is not
        recognised under ``strict``, or an authority asked for has no rows.
    """
    source = Path(source)
    if not source.is_dir():
        raise DataError(f"{source} is not a folder of DfE downloads")
    wanted = None if la_codes is None else {normalise_la_code(c) for c in la_codes} | {ENGLAND}
    frames, inputs, skipped = [], [], []
    for path in sorted(p for p in source.iterdir() if p.is_file()):
        try:
            tidy = read_dfe(path)
        except DataError as err:
            if strict:
                raise DataError(f"{err} (strict)") from None
            if isinstance(err, DamagedDownload):
                raise DataError(f"{path}: this download cannot be read ({err}); download it again, or move it "
                                f"out of {source}") from None
            if say:
                say(f"skipped {path.name}: {err}")
            else:  # never without a word: a library user sees a warning, the command line a note
                warnings.warn(f"{path}: skipped: {err}", SkippedFileWarning, stacklevel=2)
            skipped.append(path.name)
            continue
        kept = tidy if wanted is None else tidy[tidy["la_code"].isin(wanted) | tidy["new_la_code"].isin(wanted)]
        frames.append(kept)
        inputs.append({
            "file": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "publication": tidy["publication"].iloc[0] if len(tidy) else "",
            "release": int(tidy["release"].iloc[0]) if len(tidy) else None,
            "rows_read": len(tidy),
            "rows_kept": len(kept),
        })
        if say:
            say(f"read {path.name}: {len(tidy)} rows" + ("" if wanted is None else
                                                         f", {len(kept)} for the authorities asked for"))
    if not frames:
        raise DataError(f"no recognised DfE files in {source}")
    extract = combine(frames)
    if wanted is not None:
        missing = sorted(c for c in wanted if not (extract["la_code"].eq(c) | extract["new_la_code"].eq(c)).any())
        if missing:
            raise DataError(f"no rows for la_code {', '.join(missing)} in the files in {source}")
    for row in inputs:
        row["rows_in_extract"] = int((extract["source_file"] == row["file"]).sum())
    provenance = {"la_codes": sorted(set(extract["la_code"])), "inputs": inputs, "skipped": skipped}
    return extract, provenance
