"""A council's baseline from the published statistics (wcf_model.council, wcf-model new-council).

The always-run tests read the shipped extract (data/dfe_extract.csv.gz, every
English authority). Tests marked ``realdata`` check the generated figures
against the DfE's own files in ./downloads/dfe (or $WCF_DOWNLOADS/dfe), read here with the csv
module alone so the check does not share code with the reader it checks.
"""

from __future__ import annotations

import csv
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, DFE_DOWNLOADS
from wcf_model.council import NATIONAL_DEFAULTS, build_baseline, write_baseline
from wcf_model.data import EXTRACT_NAME, load_extract, load_frame, read_extract
from wcf_model.tidy import combine, series
from wcf_model.dfe import read_dfe
from wcf_model.errors import DataError, UsageError
from wcf_model.appraisal import appraise
from wcf_model.scenario import load_scenario
from wcf_model.yamlio import plain

EXAMPLE = REPO / "scenarios" / "examples" / "slough-2026-27.yaml"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return load_frame()


@pytest.fixture(scope="module")
def slough(frame):
    return build_baseline(871, "2026-27", frame=frame)


def test_every_figure_has_a_source_a_grade_and_its_arithmetic(slough):
    assert len(slough.figures) > 50
    for name, fig in slough.figures.items():
        assert fig.source and fig.confidence in (1, 2, 4, 5) and fig.note, name
    # the published statistics name their file
    assert "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv" in \
        slough.figures["demand.referrals.rate_per_10k"].source


def test_national_defaults_are_listed_at_the_top_of_the_file(slough):
    text = slough.to_yaml()
    top = text[:text.index("\nscenario:")]
    assert "National defaults to replace with your own figures" in top
    listed = re.findall(r"^#   (\S+) = ", top, flags=re.M)
    assert listed == [f.name for f in slough.figures.values() if f.confidence >= 4]
    for name in NATIONAL_DEFAULTS:
        if name in slough.figures and slough.figures[name].confidence == 4:
            assert slough.figures[name].source.startswith("National default: "), name


def test_the_file_round_trips_through_validate_strict(slough, tmp_path):
    path = write_baseline(slough, tmp_path / "slough.yaml")
    sc = load_scenario(path, strict=True)
    assert sc.placeholders == () and sc.baseline == "in_house"
    written = plain(sc.document)
    expected = slough.document()
    # notes are folded onto lines and read back with single spaces
    for doc in (written, expected):
        for leaf in _leaves(doc["parameters"]):
            leaf["note"] = " ".join(leaf.get("note", "").split())
            leaf["source"] = " ".join(leaf["source"].split())
    assert written["parameters"] == expected["parameters"]
    assert written["scenario"]["authority"] == {"la_code": 871, "name": "Slough"}
    # and it runs
    res = appraise(sc)
    assert res.central.options["in_house"].npv_cost[0] > 0


def comments(text: str) -> str:
    """The file's opening comment block as one line of words (the file wraps it)."""
    top = text[:text.index("\nscenario:")]
    return " ".join(" ".join(line.lstrip("#").split()) for line in top.splitlines())


def _leaves(tree):
    for value in tree.values():
        if isinstance(value, dict) and ("value" in value or "values" in value):
            yield value
        elif isinstance(value, dict):
            yield from _leaves(value)


def test_a_base_year_after_the_latest_figures_is_reached_by_projecting_forward(slough, frame):
    # Slough's children looked after at 31 March 2025 (the latest published) were 173.
    published = series(load_extract(871), "cla_at_31_march")[2025]
    assert published == 173
    cla = slough.figures["demand.cla.opening_stock"]
    assert cla.confidence == 2
    assert "Projected from the published figure at 31 March 2025 (173)" in cla.note
    # One year of the model's stock-flow, by hand: starts over 2025-26 = the mid-2025
    # population (mid-2024 grown one year) / 10,000 x the start rate; exits = exit rate x
    # (opening + starts); closing = opening + starts - exits.
    # Rates forecast as paths by year are read at 2025-26.
    f = slough.figures

    def at(name):
        fig = f[name]
        return fig.value if fig.values is None else fig.values["2025-26"]
    pop = f["population.age_0_17"].values["2024-25"] * (1 + at("population.growth_rate"))
    starts = pop / 1e4 * at("demand.cla.start_rate_per_10k")
    closing = 173 + starts - at("demand.cla.exit_rate") * (173 + starts)
    assert cla.value == round(closing)
    header = comments(slough.to_yaml())
    assert "were projected forward by the model" in header and "demand.cla.opening_stock (173 at 31 March 2025" in header
    # the year the latest figures open needs no projection
    now = build_baseline(871, "2025-26", frame=frame)
    assert now.figures["demand.cla.opening_stock"].value == 173
    assert now.figures["demand.cla.opening_stock"].confidence == 1
    head = comments(now.to_yaml())
    assert "demand.cla.opening_stock (" not in head  # not among the stocks carried forward
    assert "demand.ehcp.opening_stock (1,695 at 31 March 2022" in head  # SEN2 ends in January 2022


@pytest.mark.parametrize("code, published", [(871, 73.9), (885, 198.0)])
def test_the_social_workers_the_baseline_needs_are_close_to_those_published(frame, code, published):
    # Slough's 30 September 2025 census: 73.9 case-holding FTE (1,235 cases, caseload 16.7);
    # Worcestershire's: 198.0 (2,896 cases, caseload 14.6). The model's first year, 2026-27, counts
    # children in need x cases per child in need / caseload. Dividing children in need by the caseload,
    # as the DfE's cases were not its children in need, gave Slough 89 and Worcestershire 240, a fifth
    # too many; with the cases each child in need brings (0.84 and 0.78, the mean of 2023-2025) the
    # first year is within 6% of the last census.
    from wcf_model.council import _parameters
    from wcf_model.projection import project_parameters

    b = build_baseline(code, frame=frame)
    first = project_parameters(_parameters(b.figures), [b.base_year]).measures()["social_worker_in_post_fte"][0, 0]
    assert first == pytest.approx(published, rel=0.06)


def test_a_past_base_year_uses_the_figures_published_then(frame):
    # Worcestershire's 2019-20 case: 833 looked after at 31 March 2019 (DfE children looked after tables, 2019).
    b = build_baseline(885, "2019-20", frame=frame)
    assert b.figures["demand.cla.opening_stock"].value == 833
    assert max(b.figures["population.age_0_17"].values) == "2019-20"


def test_spend_is_the_section_251_outturn_uprated_and_graded_as_a_proxy(frame):
    b = build_baseline(885, "2026-27", frame=frame)
    budget = b.figures["services.social_care.budget"]
    assert budget.confidence == 4 and budget.price_year == "2013-14"
    rows = load_extract(885)

    def s251(slug):
        return series(rows, f"s251_{slug}_gross")[2014]
    # Social care lines except looked-after children grow with children in need:
    # opening stock at the start of 2026-27 / 3,700 at 31 March 2014 (DfE children in need tables).
    cin = b.figures["demand.cin.opening_stock"].value / series(rows, "cin_at_31_march")[2014]
    cla = b.figures["demand.cla.opening_stock"].value / series(rows, "cla_at_31_march")[2014]
    price = (1 + b.figures["costs.real_growth.placements"].value) ** 13  # 2013-14 to 2026-27
    placements = s251("cla_residential") + s251("cla_fostering")
    expected = (placements * cla * price + (s251("cla_total") - placements) * cla
                + sum(s251(x) for x in ("other_children_families", "safeguarding_total",
                                        "family_support_direct_payments", "family_support_short_breaks",
                                        "family_support_disabled_other", "youth_justice")) * cin)
    assert budget.value == pytest.approx(expected, abs=500)  # written to the nearest £1,000
    assert "£32,289,037" in budget.note  # Worcestershire's 2013-14 looked-after children spend (DfE section 251 outturn: £32.3m)


def test_a_newer_section_251_file_is_read_the_same_way(tmp_path):
    # The same layout, a later year, named as the DfE names it: the generator uses it.
    text = (REPO / "tests" / "fixtures" / "dfe" / "s251_outturn_2013_14.csv").read_bytes()
    newer = tmp_path / "s251_outturn_2016_17.csv"
    newer.write_bytes(text.replace(b"32289037", b"40000000"))
    data = tmp_path / "data"
    data.mkdir()
    extract = combine([read_extract(REPO / "data" / EXTRACT_NAME), read_dfe(newer)])
    extract.to_csv(data / EXTRACT_NAME, index=False)
    b = build_baseline(885, "2026-27", data_dir=data)
    budget = b.figures["services.social_care.budget"]
    assert budget.price_year == "2016-17"
    assert "£40,000,000" in budget.note and "s251_outturn_2016_17.csv" in budget.source


def test_unit_costs_come_from_the_outturn_where_the_placements_of_its_year_are_published(tmp_path):
    # A 2018-19 outturn in the same layout: Worcestershire's placements at 31 March 2019 are
    # published (607 fostered, 143 in homes, secure units and semi-independent living; 413 in
    # its own provision), so its spend gives weekly costs of its own.
    text = (REPO / "tests" / "fixtures" / "dfe" / "s251_outturn_2013_14.csv").read_bytes()
    newer = tmp_path / "s251_outturn_2018_19.csv"
    newer.write_bytes(text)
    data = tmp_path / "data"
    data.mkdir()
    combine([read_extract(REPO / "data" / EXTRACT_NAME), read_dfe(newer)]).to_csv(data / EXTRACT_NAME, index=False)
    b = build_baseline(885, "2026-27", data_dir=data)
    rows = load_extract(885)
    own = series(rows, "cla_provider_own")[2019]
    # suppressed provider counts (other councils, other public bodies) count as none
    others = sum(np.nan_to_num(series(rows, f"cla_provider_{p}")[2019])
                 for p in ("private", "voluntary", "other_la", "other_public"))
    assert (own, others) == (413, 304 + 40)
    share = own / (own + others)
    fostering_own = 6_161_310  # line 7, OwnProvision, in the fixture
    expected = fostering_own / (607 * share) / (365.25 / 7)
    cost = b.figures["costs.placements.weekly.in_house_fostering"]
    assert cost.value == round(expected) and cost.price_year == "2018-19" and cost.confidence == 4
    assert "The national default would be £646" in cost.note
    # the 2013-14 outturn at hand has no placement counts for its year: national defaults stay
    shipped = build_baseline(885, "2026-27")
    assert shipped.figures["costs.placements.weekly.in_house_fostering"].value == 646


def test_an_authority_with_suppressed_figures_falls_back_to_england_and_says_so(frame):
    # City of London: children looked after at 31 March 2025 suppressed (c).
    b = build_baseline(201, "2026-27", frame=frame)
    cla = b.figures["demand.cla.opening_stock"]
    assert cla.confidence == 4 and cla.source.startswith("England's figures in place of the authority's own")
    assert any("England's are used" in n for n in b.notes)


def test_a_reorganised_authority_says_how_its_history_was_bridged(frame):
    b = build_baseline(942, "2026-27", frame=frame)  # Cumberland, from Cumbria on 1 April 2023
    assert "Cumberland (942) was created on 1 April 2023" in comments(b.to_yaml())


def test_bad_requests_are_refused(frame, tmp_path, slough):
    with pytest.raises(DataError, match="no rows for la_code 999"):
        build_baseline(999, frame=frame)
    with pytest.raises(UsageError, match="expected a financial year such as 2026-27"):
        build_baseline(871, "2026", frame=frame)
    with pytest.raises(DataError, match="joint social work workforce return"):
        build_baseline("314/318", frame=frame)
    (tmp_path / "mine.yaml").write_text("my own work\n")
    with pytest.raises(UsageError, match="already exists"):
        write_baseline(slough, tmp_path / "mine.yaml")
    assert (tmp_path / "mine.yaml").read_text() == "my own work\n"  # nothing of the user's overwritten


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wcf_model.cli", *args], capture_output=True, text=True,
                          cwd=cwd, check=False)


def test_new_council_command(tmp_path):
    out = tmp_path / "slough.yaml"
    done = run_cli("new-council", "--la", "E06000039", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "national defaults or proxies" in done.stdout and "next: wcf-model validate --strict" in done.stdout
    assert run_cli("validate", "--strict", str(out)).returncode == 0
    again = run_cli("new-council", "--la", "871", "-o", str(out))
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr
    assert run_cli("new-council", "--la", "871", "-o", str(out), "--force").returncode == 0


def test_the_shipped_example_is_what_the_generator_writes():
    # scenarios/examples/slough-2026-27.yaml is `wcf-model new-council --la 871 -o ...`: stale if not
    b = build_baseline(871)
    b.command = "wcf-model new-council --la 871 --base-year 2026-27"
    assert EXAMPLE.read_text(encoding="utf-8") == b.to_yaml(), "regenerate scenarios/examples/slough-2026-27.yaml"


# ---------------------------------------------------------------------------
# Five authorities of different sizes and data gaps, checked against the DfE's own files
# ---------------------------------------------------------------------------

FIVE = {
    "330": "Birmingham",  # the largest city
    "857": "Rutland",  # the smallest county unitary
    "886": "Kent",  # a large county
    "201": "City of London",  # a few hundred children; suppressed figures
    "941": "West Northamptonshire",  # created in 2021; a joint workforce return
}


def raw(name: str) -> list[dict]:
    with open(DFE_DOWNLOADS / name, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def raw_value(rows: list[dict], code: str, year: int, column: str, **where) -> float | None:
    for r in rows:
        if r.get("old_la_code") == code and r["time_period"] == str(year) and all(r[k] == v for k, v in where.items()):
            text = r[column]
            return float(text) if re.fullmatch(r"-?\d+(\.\d+)?", text) else None
    raise AssertionError(f"no row for {code} {year} in the raw file")


@pytest.mark.realdata
@pytest.mark.parametrize("code", list(FIVE))
def test_five_authorities_build_validate_run_and_report(code, tmp_path):
    if not DFE_DOWNLOADS.is_dir():
        pytest.skip(f"published DfE files not found at {DFE_DOWNLOADS}")
    from wcf_model.report import write_report

    out = tmp_path / f"{code}.yaml"
    done = run_cli("new-council", "--la", code, "-o", str(out))
    assert done.returncode == 0, done.stderr
    sc = load_scenario(out, strict=True)
    assert sc.header.authority.name == FIVE[code]
    figures = {n: p for n, p in sc.parameters.items()}

    # Population: the ONS mid-2024 estimate of children aged 0-17, as the DfE re-publishes it.
    pop = raw_value(raw("ons_mid-year_population_estimates_2012_to_2024.csv"), code, 2024, "population_estimate",
                    age_group="Children aged 0 to 17 years")
    assert figures["population.age_0_17"].values["2024-25"] == pop

    # Children looked after at 31 March 2025, the published figure the opening stock was carried from.
    cla_rows = raw("cla_number_and_rate_per_10k_children_2021_to_2025.csv")
    cla = raw_value(cla_rows, code, 2025, "children_count", population_type="Children looked after on 31 March each year")
    note = figures["demand.cla.opening_stock"].note or ""
    if cla is None:  # City of London's is suppressed: England's rate stands in, and the note says so
        assert figures["demand.cla.opening_stock"].confidence == 4
        assert "England" in figures["demand.cla.opening_stock"].source
    else:
        assert f"Projected from the published figure at 31 March 2025 ({cla:,.0f})" in " ".join(note.split())

    # The agency share is the mean of the three latest census rates (30 September 2023-2025).
    csww = raw("csww_indicators_2017_to_2025.csv")
    joint = "940 / 941" if code == "941" else code
    rates = [raw_value(csww, joint, y, "agency_rate_fte") for y in (2023, 2024, 2025)]
    rates = [r for r in rates if r is not None]
    if rates and figures["workforce.agency_share"].confidence == 1:
        assert figures["workforce.agency_share"].value == pytest.approx(sum(rates) / len(rates) / 100, abs=5e-5)

    run = run_cli("run", str(out), "--out", str(tmp_path / "run"), "--draws", "50")
    assert run.returncode == 0, run.stderr
    written = write_report(out, out_dir=tmp_path / "report", draws=50, notebooks=False)
    page = next(p for p in written if p.name == "report.html").read_text(encoding="utf-8")
    assert FIVE[code] in page and "National defaults to replace with your own figures" in page
    assert "Worcestershire" not in page  # the authority is the scenario's everywhere


def test_the_example_reports_with_its_notebooks_for_its_own_authority(tmp_path):
    # `wcf-model report` on a generated baseline: the notebooks that compare options or score an
    # MCA have nothing to show and are not run (and say so); the others show Slough, never another council.
    from wcf_model.report import write_report

    said = []
    written = write_report(EXAMPLE, out_dir=tmp_path, draws=20, say=said.append)
    names = {p.name for p in written}
    assert {"01_demand.html", "06_monitoring.html", "report.html"} <= names
    assert "04_mca.ipynb" not in names and any("04_mca.ipynb not run" in line for line in said)
    monitoring = (tmp_path / "notebooks" / "06_monitoring.html").read_text(encoding="utf-8")
    assert "Nothing has been published for Slough" in monitoring and "Worcestershire (885)" not in monitoring
    demand = (tmp_path / "notebooks" / "01_demand.html").read_text(encoding="utf-8")
    assert "Slough (published)" in demand or "Slough" in demand
