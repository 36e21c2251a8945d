"""Tests for wcf_model.dfe (the downloads), wcf_model.data (the extract) and scripts/build_data.py.

Unit tests read the small files in tests/fixtures/dfe/ (same formats as the DfE
downloads, a few rows each). Tests marked ``realdata`` read the published files
in ./downloads/dfe/ (or the folder WCF_DOWNLOADS names, with dfe/ inside) and are
skipped when that folder is absent; their
expected values are the published figures, each with where it comes from.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wcf_model.data import EXTRACT_NAME, load_extract, read_extract
from wcf_model.tidy import ENGLAND, TIDY_COLUMNS, combine, normalise_la_code, series
from wcf_model.dfe import MARKERS, MEASURE_UNITS, S251_COLUMNS, S251_LINES, detect_layout, read_dfe
from wcf_model.errors import DataError

from conftest import DFE_DOWNLOADS, REPO

REAL = DFE_DOWNLOADS
FIXTURES = REPO / "tests" / "fixtures" / "dfe"

SCRIPT = REPO / "scripts" / "build_data.py"
SHIPPED = REPO / "data"

CLA_OLD = FIXTURES / "cla_number_and_rate_per_10k_children_2022_to_2023.csv"  # BOM, old column names
CLA_NEW = FIXTURES / "cla_number_and_rate_per_10k_children_2023_to_2024.csv"  # new column names
WIDE_2018 = FIXTURES / "cla_la_tables_2018.csv"
WIDE_2019 = FIXTURES / "cla_la_tables_2019.csv"
CSWW = FIXTURES / "csww_indicators_2017_to_2018.csv"
S251 = FIXTURES / "s251_outturn_2013_14.csv"
BAD_FILES = ["unrecognised_layout.csv", "empty.csv", "not_a_csv.xlsx"]


def one(frame: pd.DataFrame, la: str, measure: str, year: int) -> pd.Series:
    rows = frame[(frame.la_code == la) & (frame.measure == measure) & (frame.year == year)]
    assert len(rows) == 1, f"expected one row for {la} {measure} {year}, got {len(rows)}"
    return rows.iloc[0]


def run_build(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=REPO, check=False
    )


# ---------------------------------------------------------------------------
# Codes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given_code, expected",
    [
        (885, "885"),
        ("885", "885"),
        (" 885 ", "885"),
        (885.0, "885"),  # what pandas gives for an integer column with gaps
        ("e10000034", "E10000034"),
        ("England", ENGLAND),
        ("E92000001", ENGLAND),
        ("940 / 941", "940/941"),  # a joint workforce return
    ],
)
def test_normalise_la_code_accepts_the_published_forms(given_code, expected):
    assert normalise_la_code(given_code) == expected


@pytest.mark.parametrize("bad", ["88", "8850", "abc", "", "E1000003", True, None, 88.5])
def test_normalise_la_code_refuses_other_things(bad):
    with pytest.raises(DataError, match="not a local authority code"):
        normalise_la_code(bad)


@given(st.integers(min_value=100, max_value=999))
def test_old_code_as_int_or_text_is_the_same(code):
    assert normalise_la_code(code) == normalise_la_code(str(code)) == str(code)


# ---------------------------------------------------------------------------
# Layouts and reading
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, layout",
    [(CLA_OLD, "cla"), (CLA_NEW, "cla"), (WIDE_2018, "cla_la_tables"), (CSWW, "workforce"), (S251, "s251")],
)
def test_detect_layout(path, layout):
    assert detect_layout(path) == layout


@pytest.mark.parametrize("path", [CLA_OLD, CLA_NEW, WIDE_2018, WIDE_2019, CSWW, S251])
def test_read_dfe_gives_the_tidy_shape(path):
    frame = read_dfe(path)
    assert list(frame.columns) == TIDY_COLUMNS
    assert not frame.duplicated(["la_code", "measure", "year"]).any()
    assert set(frame.unit) <= set(MEASURE_UNITS.values())
    assert (frame.source_file == path.name).all()
    # A number has no marker; a missing value always has one.
    assert (frame.value.isna() == (frame.marker != "")).all()
    assert frame.reference_date.str[:4].astype(int).eq(frame.year).all()


def test_bom_header_and_old_column_names_are_read():
    frame = read_dfe(CLA_OLD)
    row = one(frame, "885", "cla_at_31_march", 2023)
    assert (row.value, row.unit, row.reference_date) == (1000.0, "children", "2023-03-31")
    assert row.new_la_code == "E10000034" and row.la_name == "Worcestershire"
    assert row.publication == "Children looked after in England including adoptions, 2023 release"
    assert one(frame, "885", "cla_starts", 2023).value == 326
    assert one(frame, "885", "cla_rate_population", 2023).value == 118934


def test_both_cla_namings_give_the_same_measures():
    old, new = read_dfe(CLA_OLD), read_dfe(CLA_NEW)
    assert one(new, "885", "cla_at_31_march", 2024).value == 1043
    assert set(new.measure) <= set(old.measure)
    assert {"cla_at_31_march", "cla_rate_per_10k", "cla_starts"} <= set(new.measure)


def test_national_rows_are_england_and_regions_are_left_out():
    frame = read_dfe(CLA_OLD)
    assert set(frame.la_code) == {ENGLAND, "885", "886"}
    england = one(frame, ENGLAND, "cla_at_31_march", 2023)
    assert (england.new_la_code, england.la_name, england.value) == (ENGLAND, "England", 83840)


def test_suppressed_cells_stay_missing_with_their_marker():
    frame = read_dfe(CLA_OLD)
    ceased = one(frame, "886", "cla_ceased", 2023)
    assert math.isnan(ceased.value) and ceased.marker == "c"
    not_available = one(frame, "886", "cla_at_31_march", 2022)
    assert math.isnan(not_available.value) and not_available.marker == "x"
    assert one(read_dfe(CLA_NEW), "886", "cla_at_31_march", 2023).marker == "z"


def _cla_file(tmp_path: Path, cell: str) -> Path:
    head = CLA_OLD.read_text(encoding="utf-8-sig").splitlines()[0]
    row = (
        "2023,Reporting year,Local authority,E92000001,England,E12000005,West Midlands,885,"
        f"Worcestershire,E10000034,Children looked after at 31 March each year,118934,{cell},84"
    )
    path = tmp_path / "cla_one_row.csv"
    path.write_text(f"{head}\n{row}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("marker", sorted(MARKERS))
def test_every_marker_is_kept_never_zero(tmp_path, marker):
    row = one(read_dfe(_cla_file(tmp_path, marker)), "885", "cla_at_31_march", 2023)
    assert math.isnan(row.value) and row.marker == marker


def test_empty_cell_is_missing_and_marked_blank(tmp_path):
    row = one(read_dfe(_cla_file(tmp_path, "")), "885", "cla_at_31_march", 2023)
    assert math.isnan(row.value) and row.marker == "blank"


def test_a_cell_that_is_neither_number_nor_marker_is_refused(tmp_path):
    with pytest.raises(DataError, match=r"cla_one_row\.csv.*'n/a'"):
        read_dfe(_cla_file(tmp_path, "n/a"))


def test_workforce_joint_return_and_markers():
    frame = read_dfe(CSWW)
    assert one(frame, "885", "sw_fte", 2018).reference_date == "2018-09-30"
    assert one(frame, "885", "sw_caseload_per_fte", 2018).unit == "cases/FTE"
    joint = frame[frame.la_code == "314/318"]
    assert set(joint.new_la_code) == {"E09000021/E09000027"}
    assert one(frame, "314/318", "sw_starters_fte", 2018).marker == "low"
    assert one(frame, "314/318", "sw_leavers_fte", 2018).marker == "u"


def test_wide_la_table():
    frame = read_dfe(WIDE_2018)
    assert one(frame, "885", "cla_at_31_march", 2017).value == 767
    # Placement and provider columns describe 31 March of the release year.
    assert one(frame, "885", "cla_placement_foster", 2018).value == 577
    assert one(frame, "885", "cla_placement_homes_secure_semi_independent", 2018).value == 124
    assert one(frame, "885", "cla_provider_private", 2018).value == 275
    assert one(frame, "885", "cla_uasc", 2017).value == 30
    other_residential = one(frame, "885", "cla_placement_other_residential", 2018)
    assert math.isnan(other_residential.value) and other_residential.marker == "x"
    assert one(frame, "886", "cla_short_term_placements", 2018).marker == "-"
    # England is coded 999 in these tables; regions are left out.
    assert one(frame, ENGLAND, "cla_at_31_march", 2018).value == 75420
    assert set(frame.la_code) == {ENGLAND, "885", "886"}
    assert one(frame, "885", "cla_at_31_march", 2018).publication.endswith("LA tables, 2018 release")


def test_wide_table_population_columns_follow_their_counts():
    # The 2019 table heads its population columns 2017-2018 but they hold
    # 2018-2019: they are realigned to the CLA_Mar years.
    frame = read_dfe(WIDE_2019)
    assert one(frame, "885", "cla_rate_population", 2019).value == 117783
    assert one(frame, "885", "cla_rate_population", 2018).value == 116938
    assert one(read_dfe(WIDE_2018), "885", "cla_rate_population", 2018).value == 116938


def test_s251_with_a_windows_1252_byte():
    assert b"\x92" in S251.read_bytes()  # the fixture really is not UTF-8
    frame = read_dfe(S251)
    assert one(frame, "885", "s251_sure_start_area_wide_gross", 2014).value == 320328
    total = one(frame, "885", "s251_cla_total_gross", 2014)
    assert (total.value, total.unit, total.reference_date) == (32289037, "GBP/year", "2014-03-31")
    assert total.publication == "Section 251 outturn 2013-14, children's and young people's services"
    assert one(frame, "885", "s251_cla_residential_private", 2014).value == 8547173
    assert one(frame, "885", "s251_cyp_total_excl_cera_own", 2014).marker == "blank"
    assert set(frame.new_la_code) == {""}  # the file has old codes only


def test_s251_needs_its_year_in_the_file_name(tmp_path):
    renamed = tmp_path / "s251_outturn.csv"
    renamed.write_bytes(S251.read_bytes())
    with pytest.raises(DataError, match="which financial year"):
        read_dfe(renamed)


@pytest.mark.parametrize("name", BAD_FILES)
def test_unrecognised_files_raise_a_clear_data_error(name):
    with pytest.raises(DataError) as caught:
        read_dfe(FIXTURES / name)
    assert name in str(caught.value)
    assert "expected" in str(caught.value)
    with pytest.raises(DataError):
        detect_layout(FIXTURES / name)


def test_unknown_layout_message_names_expected_and_found_columns():
    with pytest.raises(DataError, match=r"expected the columns.*children_count.*found 'area', 'year', 'widgets'"):
        read_dfe(FIXTURES / "unrecognised_layout.csv")


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        read_dfe(tmp_path / "nope.csv")


# ---------------------------------------------------------------------------
# Combining releases
# ---------------------------------------------------------------------------


def test_combine_keeps_the_latest_release_and_says_which():
    early, late = read_dfe(WIDE_2018), read_dfe(WIDE_2019)
    assert one(early, "885", "cla_at_31_march", 2018).value == 793
    both = combine([early, late])
    revised = one(both, "885", "cla_at_31_march", 2018)
    assert (revised.value, revised.release, revised.source_file) == (796, 2019, "cla_la_tables_2019.csv")
    # Figures only the earlier release has are kept from it.
    assert one(both, "885", "cla_at_31_march", 2017).source_file == "cla_la_tables_2018.csv"
    assert not both.duplicated(["la_code", "measure", "year"]).any()


def test_combine_across_renamed_releases():
    both = combine([read_dfe(CLA_NEW), read_dfe(CLA_OLD)])
    assert one(both, "885", "cla_at_31_march", 2023).value == 998  # 1000 in the 2023 release
    assert one(both, "885", "cla_at_31_march", 2022).value == 891
    # The later release's marker replaces the earlier release's number.
    assert one(both, "886", "cla_at_31_march", 2023).marker == "z"


def test_combine_does_not_depend_on_order():
    frames = [read_dfe(p) for p in (CLA_OLD, CLA_NEW, WIDE_2018, WIDE_2019, S251)]
    pd.testing.assert_frame_equal(combine(frames), combine(frames[::-1]))


def test_combine_fills_new_codes_from_other_rows():
    both = combine([read_dfe(S251), read_dfe(CLA_OLD)])
    assert one(both, "885", "s251_cla_total_gross", 2014).new_la_code == "E10000034"


def test_each_authority_carries_the_region_the_dfe_places_it_in():
    # the long layouts publish region_code and region_name on every authority's row; England has none
    frame = read_dfe(CLA_OLD)
    worcs = one(frame, "885", "cla_at_31_march", 2023)
    assert (worcs.region_code, worcs.region_name) == ("E12000005", "West Midlands")
    assert (one(frame, ENGLAND, "cla_at_31_march", 2023).region_code, one(frame, "886", "cla_at_31_march",
                                                                           2023).region_name) == ("", "East of England")
    # the old wide LA tables and section 251 publish no region per authority: combine fills it from
    # the authority's other rows
    both = combine([read_dfe(WIDE_2018), read_dfe(S251), read_dfe(CLA_OLD)])
    for measure, year in (("cla_at_31_march", 2017), ("s251_cla_total_gross", 2014)):
        row = one(both, "885", measure, year)
        assert (row.region_code, row.region_name) == ("E12000005", "West Midlands"), measure
    assert set(read_dfe(WIDE_2018)["region_code"]) == {""}


def test_an_extract_built_before_regions_reads_with_blank_regions(tmp_path):
    frame = combine(read_dfe(p) for p in (CLA_OLD, CSWW))
    frame.drop(columns=["region_code", "region_name"]).to_csv(tmp_path / EXTRACT_NAME, index=False)
    old = read_extract(tmp_path / EXTRACT_NAME)
    assert list(old.columns) == TIDY_COLUMNS and set(old["region_code"]) == {""}
    pd.testing.assert_frame_equal(old.drop(columns=["region_code", "region_name"]),
                                  frame.drop(columns=["region_code", "region_name"]))


def test_combine_of_nothing_is_an_empty_tidy_frame():
    assert list(combine([]).columns) == TIDY_COLUMNS


# ---------------------------------------------------------------------------
# Extracts and series
# ---------------------------------------------------------------------------


@pytest.fixture
def extract_dir(tmp_path: Path) -> Path:
    frame = combine(read_dfe(p) for p in (CLA_OLD, CLA_NEW, WIDE_2018, WIDE_2019, CSWW, S251))
    frame.to_csv(tmp_path / EXTRACT_NAME, index=False)
    return tmp_path


def test_extract_round_trips(extract_dir):
    written = combine(read_dfe(p) for p in (CLA_OLD, CLA_NEW, WIDE_2018, WIDE_2019, CSWW, S251))
    pd.testing.assert_frame_equal(read_extract(extract_dir / EXTRACT_NAME), written)


def test_old_and_new_codes_select_the_same_rows(extract_dir):
    by_old = load_extract(885, data_dir=extract_dir)
    pd.testing.assert_frame_equal(by_old, load_extract("E10000034", data_dir=extract_dir))
    pd.testing.assert_frame_equal(by_old, load_extract("885", data_dir=extract_dir))
    assert "s251_cla_total_gross" in set(by_old.measure)  # S251 rows carry no new code of their own
    assert set(by_old.la_code) == {"885"}


def test_load_extract_unknown_authority_names_it_and_the_known_codes(extract_dir):
    with pytest.raises(DataError, match=r"no rows for la_code 999 in .*dfe_extract\.csv\.gz; `wcf-model authorities` lists"):
        load_extract(999, data_dir=extract_dir)


def test_load_extract_measures(extract_dir):
    rows = load_extract(885, measures=["cla_at_31_march", "sw_fte"], data_dir=extract_dir)
    assert set(rows.measure) == {"cla_at_31_march", "sw_fte"}
    assert set(load_extract(885, measures="sw_fte", data_dir=extract_dir).measure) == {"sw_fte"}
    with pytest.raises(DataError, match="unknown measure.*cla_typo"):
        load_extract(885, measures=["cla_typo"], data_dir=extract_dir)


def test_load_extract_without_an_extract(tmp_path):
    with pytest.raises(DataError, match="no extract at .*build_data.py"):
        load_extract(885, data_dir=tmp_path)


def test_read_extract_refuses_other_csvs():
    with pytest.raises(DataError, match="not a wcf-model extract"):
        read_extract(CLA_NEW)


def test_series(extract_dir):
    cla = series(load_extract(885, data_dir=extract_dir), "cla_at_31_march")
    assert cla.to_dict() == {2017: 767, 2018: 796, 2019: 833, 2022: 891, 2023: 998, 2024: 1043}
    assert cla.index.name == "year" and cla.attrs["unit"] == "children"


def test_series_refuses_ambiguous_frames():
    frame = read_dfe(WIDE_2018)
    with pytest.raises(DataError, match="several authorities"):
        series(frame, "cla_at_31_march")
    two_releases = pd.concat([read_dfe(WIDE_2018), read_dfe(WIDE_2019)])
    with pytest.raises(DataError, match="combine"):
        series(two_releases[two_releases.la_code == "885"], "cla_at_31_march")
    with pytest.raises(DataError, match="no rows for measure"):
        series(frame, "nothing")


# ---------------------------------------------------------------------------
# The build script
# ---------------------------------------------------------------------------


def test_build_script_on_fixtures(tmp_path):
    done = run_build("--source", str(FIXTURES), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for name in BAD_FILES:  # skipped with a note, not a crash
        assert f"skipped {name}" in done.stdout
    frame = read_extract(tmp_path / EXTRACT_NAME)
    # every authority in the files is kept: Worcestershire, Kent and the joint return of the fixtures
    assert {"885", "886", ENGLAND} <= set(frame.la_code)
    every = combine(read_dfe(p) for p in sorted(FIXTURES.glob("*.csv")) if p.name not in BAD_FILES)
    assert len(frame) == len(every)
    provenance = json.loads((tmp_path / "dfe_extract.provenance.json").read_text())
    inputs = {row["file"]: row for row in provenance["inputs"]}
    assert inputs[S251.name]["sha256"] == hashlib.sha256(S251.read_bytes()).hexdigest()
    assert inputs[WIDE_2019.name]["publication"].endswith("LA tables, 2019 release")
    assert sum(row["rows_in_extract"] for row in inputs.values()) == len(frame) == provenance["output"]["rows"]
    assert sorted(provenance["skipped"]) == sorted(BAD_FILES)
    text = gzip.decompress((tmp_path / EXTRACT_NAME).read_bytes())
    assert hashlib.sha256(text).hexdigest() == provenance["output"]["csv_sha256"]
    first = (tmp_path / EXTRACT_NAME).read_bytes()
    assert run_build("--source", str(FIXTURES), "--out", str(tmp_path)).returncode == 0
    assert (tmp_path / EXTRACT_NAME).read_bytes() == first  # rebuilds are byte-identical
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary files left behind


def test_build_script_has_no_partial_extracts(tmp_path):
    # `make data LA=871` once replaced the whole extract with one council's rows,
    # so every other council's report lost its history: there is no --la any more.
    done = run_build("--source", str(FIXTURES), "--out", str(tmp_path), "--la", "871")
    assert done.returncode == 2 and "unrecognized arguments: --la" in done.stderr
    assert not (tmp_path / EXTRACT_NAME).exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--source", "no/such/folder"], r"--source no/such/folder is not a folder"),
        (["--source", str(FIXTURES), "--strict"], r"empty\.csv is empty.*strict"),
    ],
)
def test_build_script_bad_input_exits_2_with_one_line(tmp_path, args, message):
    done = run_build(*args, "--out", str(tmp_path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert re.search(message, done.stderr)
    assert not (tmp_path / EXTRACT_NAME).exists()  # nothing written


# ---------------------------------------------------------------------------
# The shipped extract in data/
# ---------------------------------------------------------------------------


def test_shipped_extract_is_small_and_covers_every_authority():
    path = SHIPPED / EXTRACT_NAME
    # under 1 MB compressed to ship in the repository (about 21 MB as plain CSV)
    assert path.stat().st_size < 1_000_000
    frame = read_extract(path)
    assert not frame.duplicated(["la_code", "measure", "year"]).any()
    # England has 153 children's services authorities; each has a row for 31 March 2025 in
    # cla_number_and_rate_per_10k_children_2021_to_2025.csv (City of London's suppressed, c;
    # the Isles of Scilly's not applicable, z), as do the abolished Cumbria and Northamptonshire (z).
    latest = frame[(frame.measure == "cla_at_31_march") & (frame.year == 2025)]
    assert len(set(latest.la_code) - {"909", "928", ENGLAND}) == 153
    for code in ("885", "871", "394", "330", "857", "201", "420", "942", "835"):
        assert code in set(frame.la_code), code


def test_shipped_extract_names_every_authoritys_region():
    frame = read_extract(SHIPPED / EXTRACT_NAME)
    regions = frame.drop_duplicates("la_code").set_index("la_code")[["region_code", "region_name"]]
    # one region per authority, on every row (the DfE's children's tables split London in two)
    assert (frame.groupby("la_code")["region_code"].nunique() == 1).all()
    assert tuple(regions.loc["885"]) == ("E12000005", "West Midlands")
    assert tuple(regions.loc["202"]) == ("E13000001", "Inner London")   # Camden
    assert tuple(regions.loc["835"]) == ("E12000009", "South West")     # Dorset County, abolished 2019
    assert tuple(regions.loc["940"]) == ("E12000004", "East Midlands")  # North Northamptonshire
    assert tuple(regions.loc[ENGLAND]) == ("", "")
    assert (regions.drop(ENGLAND)["region_code"] != "").all()


def test_region_rows_are_the_published_rows_of_every_authority_in_the_region():
    from wcf_model.tidy import region_rows

    frame = read_extract(SHIPPED / EXTRACT_NAME)
    west_midlands = region_rows(frame, "E10000034")  # Worcestershire, by its new code
    # the 14 West Midlands authorities, Worcestershire among them; no joint workforce return
    assert west_midlands["la_code"].nunique() == 14 and "885" in set(west_midlands["la_code"])
    assert set(west_midlands["region_name"]) == {"West Midlands"}
    assert region_rows(frame, "England").empty
    # an extract that names no regions has none
    assert region_rows(frame.assign(region_code=""), 885).empty


def test_shipped_extract_reads_the_same_figures_either_way():
    pd.testing.assert_frame_equal(load_extract(885), load_extract("E10000034"))
    assert set(load_extract("England").la_code) == {ENGLAND}
    assert set(load_extract(871).la_name) == {"Slough"}


def test_shipped_extract_keeps_suppressed_cells():
    # Worcestershire's "other residential" placements at 31 March 2018 are
    # suppressed (x) in the 2018 LA tables.
    row = one(load_extract(885), "885", "cla_placement_other_residential", 2018)
    assert math.isnan(row.value) and row.marker == "x"


def test_readme_documents_every_measure_in_the_extract():
    readme = (SHIPPED / "README.md").read_text(encoding="utf-8")
    s251 = {f"s251_{slug}_{suffix}" for slug, _ in S251_LINES for suffix in S251_COLUMNS.values()}
    for measure in set(read_extract(SHIPPED / EXTRACT_NAME).measure) - s251:
        assert f"`{measure}`" in readme, measure
    for slug, _ in S251_LINES:
        assert f"`{slug}`" in readme, slug
    for suffix in S251_COLUMNS.values():
        assert f"`{suffix}`" in readme, suffix


# ---------------------------------------------------------------------------
# The published files (DFE_DOWNLOADS: ./downloads/dfe, or $WCF_DOWNLOADS/dfe)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_dir() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"published DfE files not found at {REAL}")
    return REAL


@pytest.fixture(scope="module")
def worcs(real_dir) -> pd.DataFrame:
    frames = [read_dfe(p) for p in sorted(real_dir.glob("*.csv"))]
    both = combine(f[f.la_code.isin(["885", ENGLAND])] for f in frames)
    return both[both.la_code == "885"]


def value(frame: pd.DataFrame, measure: str, year: int) -> float:
    return float(one(frame, "885", measure, year).value)


@pytest.mark.realdata
def test_real_cla(worcs, real_dir):
    # CLA at 31 March 2019: cla_number_and_rate_per_10k_children_2019_to_2023.csv (and LA tables 2019).
    assert value(worcs, "cla_at_31_march", 2019) == 833
    # 2018: 793 in the 2018 LA tables, revised to 796 in the 2019 LA tables.
    assert value(read_dfe(real_dir / "cla_la_tables_2018.csv"), "cla_at_31_march", 2018) == 793
    assert value(worcs, "cla_at_31_march", 2018) == 796
    assert one(worcs, "885", "cla_at_31_march", 2018).source_file == "cla_la_tables_2019.csv"
    # 2023: 1000 in the 2019-2023 release, 998 in the 2021-2025 release.
    assert value(worcs, "cla_at_31_march", 2023) == 998
    # Starts in the year to 31 March 2019: the 2019-2023 CLA release.
    assert value(worcs, "cla_starts", 2019) == 243
    assert value(worcs, "cla_ceased", 2019) == 207


@pytest.mark.realdata
def test_real_placements_2018(worcs):
    # cla_la_tables_2018.csv, Worcestershire row: CLA_Fost, CLA_Secure, CLA_Parent,
    # CLA_Adopt, CLA_OwnP, CLA_Priv, CLA_Vol (placement mix at 31 March 2018).
    expected = {
        "cla_placement_foster": 577,
        "cla_placement_homes_secure_semi_independent": 124,
        "cla_placed_with_parents": 50,
        "cla_placed_for_adoption": 32,
        "cla_provider_own": 394,
        "cla_provider_private": 275,
        "cla_provider_voluntary": 47,
    }
    assert {m: value(worcs, m, 2018) for m in expected} == expected
    # 2019 LA tables: foster 607, homes 143.
    assert value(worcs, "cla_placement_foster", 2019) == 607
    assert value(worcs, "cla_placement_homes_secure_semi_independent", 2019) == 143
    # UASC 2014-2018 from the 2018 LA tables, 2019 from the 2019 LA tables.
    assert series(worcs, "cla_uasc").to_dict() == {2014: 10, 2015: 12, 2016: 26, 2017: 30, 2018: 25, 2019: 37}


@pytest.mark.realdata
def test_real_cin_referrals_cpp(worcs):
    # b1_children_in_need_2013_to_2025.csv, At31_episodes, 2019.
    assert value(worcs, "cin_at_31_march", 2019) == 3588
    # c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv, 2019.
    assert value(worcs, "referrals", 2019) == 4929
    assert value(worcs, "rereferral_percent", 2019) == 16.4
    # d5_cpps_at31march_by_duration_2013_to_2025.csv, CPP_At31, 2019.
    assert value(worcs, "cpp_at_31_march", 2019) == 408


@pytest.mark.realdata
def test_real_workforce(worcs):
    # csww_indicators_2017_to_2025.csv: inpost_fte 2018, agency_rate_fte 2017, caseload_fte 2018.
    assert value(worcs, "sw_fte", 2018) == 230.5
    assert value(worcs, "sw_agency_percent", 2017) == 23.0
    assert value(worcs, "sw_caseload_per_fte", 2018) == 16.9
    assert one(worcs, "885", "sw_fte", 2018).reference_date == "2018-09-30"


@pytest.mark.realdata
def test_real_population(worcs):
    # 117,046 is the figure quoted against 31 March 2019: it is the denominator of the
    # 2019 CLA rate (population_estimate in the 2019-2023 CLA release), which is
    # the ONS estimate for mid-2018 (ons_mid-year_population_estimates_2012_to_2024.csv,
    # time_period 2018). The mid-2019 estimate is 117,645.
    assert value(worcs, "cla_rate_population", 2019) == 117046
    assert value(worcs, "population_0_17", 2018) == 117046
    assert one(worcs, "885", "population_0_17", 2018).reference_date == "2018-06-30"
    assert value(worcs, "population_0_17", 2019) == 117645


@pytest.mark.realdata
def test_real_sen2(worcs):
    # sen2_age_caseload_2022.csv, Total_all for "Total", January 2018.
    assert value(worcs, "ehcp_total", 2018) == 3064
    # sen2_mi_2022.csv, NewallEHC, calendar year 2019.
    assert value(worcs, "ehcp_new", 2019) == 641


@pytest.mark.realdata
def test_real_s251(worcs):
    # s251_outturn_2013_14.csv, Worcestershire (885); published summaries give these in GBP m to 1 dp.
    def millions(measure):
        return round(value(worcs, measure, 2014) / 1e6, 1)

    assert millions("s251_cla_total_gross") == 32.3  # line 16, TotalExpenditure
    assert millions("s251_cla_residential_gross") == 12.9  # line 6
    # Summaries round this one to £8.6m; the file's figure is £8,547,173 (£8.5m).
    assert value(worcs, "s251_cla_residential_private", 2014) == 8_547_173
    assert millions("s251_cla_fostering_gross") == 14.3  # line 7
    assert millions("s251_cla_fostering_private") == 8.1
    assert millions("s251_cyp_total_excl_cera_gross") == 73.7  # line 33
    assert millions("s251_cyp_total_excl_cera_net") == 70.9


@pytest.mark.realdata
def test_real_suppressed_cell(real_dir):
    # cla_la_tables_2018.csv, Worcestershire, CLA_Ores is "x".
    row = one(read_dfe(real_dir / "cla_la_tables_2018.csv"), "885", "cla_placement_other_residential", 2018)
    assert math.isnan(row.value) and row.marker == "x"


@pytest.mark.realdata
def test_real_every_file_is_recognised(real_dir):
    for path in sorted(real_dir.glob("*.csv")):
        frame = read_dfe(path)
        assert len(frame) and (frame.la_code == "885").any(), path.name


@pytest.mark.realdata
def test_shipped_extract_is_what_the_script_builds(real_dir, tmp_path):
    # `make data` rebuilds the whole extract, byte for byte
    done = run_build("--source", str(real_dir), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for name in (EXTRACT_NAME, "dfe_extract.provenance.json"):
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), f"data/{name} is stale: rebuild it"
