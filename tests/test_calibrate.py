"""Calibration from an authority's history: each formula by hand, the window,
the fallback to England, no use of later years, units, and the scenario tree.

The synthetic authority "Testshire" below has round figures so every expected
value can be worked by hand; fit_to is 2018 and the window 2016-2018 unless a
test says otherwise. Its 2019 figures exist only to show they are never used.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml

from conftest import MINIMAL
from wcf_model import load_scenario
from wcf_model.calibrate import PARAMETERS, Estimate, missing, to_parameters
from wcf_model.calibrate import calibrate as calibrate_any


def calibrate(*args, **kwargs):
    """The windowed method, whose formulas these tests work by hand (the pooled
    forecast paths are tested in test_forecast.py)."""
    return calibrate_any(*args, method="window", **kwargs)
from wcf_model.catalogue import UNITS, parameter_specs
from wcf_model.data import load_extract
from wcf_model.tidy import ENGLAND, TIDY_COLUMNS, combine
from wcf_model.errors import DataError, UsageError

C = "c"  # the DfE's "confidential" marker


def tidy(code: str, new_code: str, name: str, figures: dict[str, dict[int, float | str]]) -> pd.DataFrame:
    """Tidy rows from {measure: {year: number or marker}}; a marker gives NaN."""
    rows = []
    for measure, by_year in figures.items():
        for year, cell in by_year.items():
            marker = cell if isinstance(cell, str) else ""
            rows.append({
                "la_code": code, "new_la_code": new_code, "la_name": name, "measure": measure,
                "year": year, "reference_date": f"{year}-03-31",
                "value": math.nan if marker else float(cell), "marker": marker, "unit": "",
                "source_file": "synthetic.csv", "publication": "synthetic", "release": 2020,
            })
    frame = pd.DataFrame(rows, columns=TIDY_COLUMNS)
    return frame.astype({"year": "int64", "release": "int64", "value": "float64"})


LA_FIGURES = {
    "population_0_17": {2014: 100_000, 2015: 100_000, 2016: 102_000, 2017: 102_000, 2018: 104_000,
                        2019: 110_000},
    "referrals": {2016: 4_000, 2017: 5_100, 2018: 4_080, 2019: 9_999},
    "rereferral_percent": {2016: 20, 2017: 25, 2018: 30, 2019: 90},
    "cin_at_31_march": {2015: 3_000, 2016: 3_200, 2017: 3_000, 2018: 3_300, 2019: 5_000},
    "cin_started": {2016: 2_000, 2017: 3_060, 2018: 2_856, 2019: 100},
    "cin_ended": {2016: 1_800, 2017: 3_130, 2018: 1_464, 2019: 100},
    "cpp_at_31_march": {2016: 320, 2017: 450, 2018: 660, 2019: 999},
    "cla_at_31_march": {2015: 500, 2016: 520, 2017: 540, 2018: 600, 2019: 650},
    "cla_during_year": {2016: 700, 2017: 720, 2018: 780, 2019: 830},
    "cla_starts": {2019: 250},
    "cla_ceased": {2019: 200},
    "cla_uasc": {2017: 27, 2018: C, 2019: 65},
    "ehcp_total": {2015: 1_000, 2016: 1_100, 2017: 1_260, 2018: 1_300, 2019: 2_000},
    "ehcp_new": {2015: 150, 2016: 153, 2017: 204, 2018: 312, 2019: 999},
    "sw_caseload_per_fte": {2017: 18, 2018: 16, 2019: 30},
    "sw_cases": {2017: 2_700, 2018: 2_640, 2019: 9_999},
    "sw_agency_percent": {2017: 10, 2018: 20, 2019: 50},
    "sw_vacancy_percent": {2017: 15, 2018: 25, 2019: 50},
    "sw_turnover_percent": {2017: 12, 2018: C, 2019: 50},
}

# England: round ratios that differ from Testshire's, so a fallback shows.
ENG_FIGURES = {
    "population_0_17": {2015: 10_000_000, 2016: 10_000_000, 2017: 10_000_000, 2018: 10_000_000},
    "referrals": {2016: 600_000, 2017: 600_000, 2018: 600_000},
    "cin_at_31_march": {2015: 400_000, 2016: 400_000, 2017: 400_000, 2018: 400_000},
    "cin_started": {2016: 400_000, 2017: 400_000, 2018: 400_000},
    "cin_ended": {2016: 320_000, 2017: 400_000, 2018: 480_000},
    "cla_at_31_march": {2017: 70_000, 2018: 75_000},
    "cla_during_year": {2018: 100_000},
    "sw_caseload_per_fte": {2016: 17, 2017: 17, 2018: 20},
}


def la(**changes: dict[int, float | str]) -> pd.DataFrame:
    """Testshire, with some measures replaced (an empty dict removes one)."""
    figures = {**LA_FIGURES, **changes}
    return tidy("100", "E10000099", "Testshire", {m: v for m, v in figures.items() if v})


def england(**changes: dict[int, float | str]) -> pd.DataFrame:
    figures = {**ENG_FIGURES, **changes}
    return tidy(ENGLAND, ENGLAND, "England", {m: v for m, v in figures.items() if v})


@pytest.fixture(scope="module")
def est() -> dict[str, Estimate]:
    return calibrate(la(), england(), fit_to=2018)


# Every windowed ratio for Y = 2016, 2017, 2018, worked by hand.
BY_HAND = {
    # growth: 100,000 -> 102,000 (+0.02), 102,000 -> 102,000 (0), 102,000 -> 104,000 (+2/102)
    "population.growth_rate": (0.02 + 0 + 2 / 102) / 3,
    # referrals / population at mid-(Y-1) x 10,000: 4,000/100,000 -> 400; 5,100/102,000 -> 500;
    # 4,080/102,000 -> 400
    "demand.referrals.rate_per_10k": (400 + 500 + 400) / 3,
    # re-referral percentages 20, 25, 30 -> 0.25
    "demand.referrals.rereferral_share": 0.25,
    # CIN started / referrals: 2,000/4,000 = 0.5; 3,060/5,100 = 0.6; 2,856/4,080 = 0.7
    "demand.cin.start_share_of_referrals": 0.6,
    # ended / (previous 31 March + started): 1,800/(3,000+2,000) = 0.36;
    # 3,130/(3,200+3,060) = 0.5; 1,464/(3,000+2,856) = 0.25
    # implied by the counts: 1 - 3,200/5,000 = 0.36; 1 - 3,000/6,260; 1 - 3,300/5,856
    "demand.cin.exit_rate": (0.36 + (1 - 3_000 / 6_260) + (1 - 3_300 / 5_856)) / 3,
    # CPP / CIN at 31 March: 320/3,200 = 0.1; 450/3,000 = 0.15; 660/3,300 = 0.2
    "demand.cpp.share_of_cin": 0.15,
    # no published starts before 2019: derived starts = during - previous 31 March:
    # 700-500 = 200, 720-520 = 200, 780-540 = 240; / population at mid-(Y-1) x 10,000
    "demand.cla.start_rate_per_10k": (200 / 100_000 + 200 / 102_000 + 240 / 102_000) * 1e4 / 3,
    # derived exit rate = (during - 31 March) / during: 180/700, 180/720, 180/780
    "demand.cla.exit_rate": (180 / 700 + 180 / 720 + 180 / 780) / 3,
    # new plans in calendar Y / population at mid-Y x 10,000: 153/102,000 -> 15;
    # 204/102,000 -> 20; 312/104,000 -> 30
    "demand.ehcp.new_per_10k": (15 + 20 + 30) / 3,
    # implied ceased = January Y-1 + new in Y-1 - January Y, / (January Y-1 + new in Y-1):
    # Y=2016: 1,000+150-1,100 = 50 -> 50/1,150; Y=2017: 1,100+153-1,260 = -7 -> 0 (clipped);
    # Y=2018: 1,260+204-1,300 = 164 -> 164/1,464
    "demand.ehcp.ceased_rate": (50 / 1_150 + 0 + 164 / 1_464) / 3,
    # workforce: no 2016 census; 2017 and 2018 only
    "workforce.caseload_target": (18 + 16) / 2,
    # cases held at 30 September Y / children in need at 31 March Y: 2,700 / 3,000 = 0.9; 2,640 / 3,300 = 0.8
    "workforce.cases_per_child_in_need": (0.9 + 0.8) / 2,
    "workforce.agency_share": (0.10 + 0.20) / 2,
    "workforce.vacancy_rate": (0.15 + 0.25) / 2,
    # turnover suppressed in 2018: 2017 alone
    "workforce.turnover_rate": 0.12,
}


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_windowed_ratios_by_hand(est, name):
    assert est[name].value == pytest.approx(BY_HAND[name], rel=1e-12)
    assert est[name].values is None
    assert not est[name].fallback
    assert max(est[name].years) <= 2018


def test_opening_stocks_are_the_fit_to_positions(est):
    got = {n: est[f"demand.{n}.opening_stock"].value for n in ("cin", "cpp", "cla", "ehcp")}
    assert got == {"cin": 3_300, "cpp": 660, "cla": 600, "ehcp": 1_300}
    assert "January census" in est["demand.ehcp.opening_stock"].method
    assert est["demand.cla.opening_stock"].years == (2018,)


def test_population_by_financial_year_up_to_fit_to(est):
    pop = est["population.age_0_17"]
    # mid-2014 -> 2014-15 ... mid-2018 -> 2018-19; mid-2019 is after fit_to
    assert pop.value is None
    assert pop.values == {"2014-15": 100_000, "2015-16": 100_000, "2016-17": 102_000,
                          "2017-18": 102_000, "2018-19": 104_000}
    assert pop.unit == "children"


def test_uasc_share_uses_latest_year_with_both(est):
    # 2018 UASC suppressed: latest year with both is 2017, 27 / 540 = 0.05
    u = est["demand.cla.uasc_share"]
    assert u.value == pytest.approx(0.05)
    assert u.years == (2017,) and not u.fallback
    assert "2017" in u.note


def test_notes_say_what_was_missing_derived_or_clipped(est):
    assert "sw_turnover_percent suppressed (c) in 2018" in est["workforce.turnover_rate"].note
    assert "sw_caseload_per_fte not in the data in 2016" in est["workforce.caseload_target"].note
    assert est["workforce.caseload_target"].years == (2017, 2018)
    assert "derived" in est["demand.cla.start_rate_per_10k"].note
    assert "2016 to 2018" in est["demand.cla.exit_rate"].note
    ceased = est["demand.ehcp.ceased_rate"].note
    assert "Testshire's implied ceased plans below zero, taken as 0, for Y = 2017" in ceased
    assert est["demand.referrals.rate_per_10k"].note == ""


def test_cin_exit_rate_notes_when_the_counts_do_not_reconcile(est):
    # 2016 reconciles (3,000 + 2,000 - 1,800 = 3,200); 2017 and 2018 do not. The counts imply
    # 1 - 3,200/5,000 = 0.36, 1 - 3,000/6,260 = 0.5208, 1 - 3,300/5,856 = 0.4365: mean 0.439,
    # which is used; the episodes ended give 1,800/5,000, 3,130/6,260, 1,464/5,856 = 0.36, 0.5,
    # 0.25: mean 0.370, which the note reports
    assert est["demand.cin.exit_rate"].value == pytest.approx(0.43908, abs=1e-5)
    assert "the published episodes ended give 0.370" in est["demand.cin.exit_rate"].note
    one = calibrate(la(), england(), fit_to=2016, window=1)["demand.cin.exit_rate"]
    assert one.value == pytest.approx(0.36) and one.note == ""


@pytest.mark.parametrize("window, expected", [
    (1, 400),  # 2018 alone: 4,080 / 102,000 x 10,000
    (2, 450),  # 2017 and 2018: (500 + 400) / 2
    (3, 1300 / 3),
    (5, 1300 / 3),  # 2014 and 2015 have no referrals: the years available are used
])
def test_window(window, expected):
    e = calibrate(la(), england(), fit_to=2018, window=window)["demand.referrals.rate_per_10k"]
    assert e.value == pytest.approx(expected)
    assert e.years == tuple(range(max(2016, 2019 - window), 2019))
    assert f"a window of {window} year(s) ending 2018" in e.method


def test_window_below_one_is_refused():
    with pytest.raises(UsageError):
        calibrate(la(), england(), fit_to=2018, window=0)


def test_fallback_to_england_when_suppressed_in_every_year():
    out = calibrate(la(cin_started={2016: C, 2017: C, 2018: C, 2019: 100}), england(), fit_to=2018)
    e = out["demand.cin.start_share_of_referrals"]
    # England: 400,000 started / 600,000 referrals in each year = 2/3
    assert e.value == pytest.approx(2 / 3)
    assert e.fallback
    assert "Testshire: cin_started suppressed (c) in 2016 to 2018; England's figure used" in e.note
    assert "England's figures" in e.method
    assert to_parameters(out, "test")["demand"]["cin"]["start_share_of_referrals"]["confidence"] == 4


def test_partly_suppressed_uses_the_authoritys_other_years():
    e = calibrate(la(cin_started={2016: C, 2017: 3_060, 2018: 2_856}), england(),
                  fit_to=2018)["demand.cin.start_share_of_referrals"]
    # 2017: 3,060 / 5,100 = 0.6; 2018: 2,856 / 4,080 = 0.7
    assert e.value == pytest.approx((0.6 + 0.7) / 2)
    assert not e.fallback and e.years == (2017, 2018)
    assert "cin_started suppressed (c) in 2016" in e.note


def test_fallback_for_workforce_with_no_census_in_window():
    # fit_to 2016: Testshire has no census until 2017; England's 2016 caseload is 17
    e = calibrate(la(), england(), fit_to=2016, window=1)["workforce.caseload_target"]
    assert (e.value, e.fallback, e.years) == (17, True, (2016,))


def test_opening_stock_falls_back_to_englands_rate_times_own_population():
    e = calibrate(la(cla_at_31_march={2017: 540, 2018: C}), england(), fit_to=2018)["demand.cla.opening_stock"]
    # England 75,000 per 10,000,000 children at mid-2017; Testshire 102,000 children at mid-2017
    assert e.value == pytest.approx(75_000 / 10_000_000 * 102_000)
    assert e.fallback and "cla_at_31_march suppressed (c) in 2018" in e.note


def test_parameters_without_figures_anywhere_are_left_out_and_listed():
    out = calibrate(la(sw_turnover_percent={}), england(), fit_to=2018)
    assert "workforce.turnover_rate" not in out
    assert "workforce.turnover_rate" in missing(out)
    assert missing(calibrate(la(), england(), fit_to=2018)) == []


def test_cla_flows_without_starts_or_during_year_are_left_out():
    # The older tables hold no starts and ceased; without the children looked
    # after during the year neither the authority nor England gives a flow.
    out = calibrate(la(cla_during_year={}), england(cla_during_year={}), fit_to=2018)
    assert {"demand.cla.start_rate_per_10k", "demand.cla.exit_rate"} <= set(missing(out))
    assert "demand.cla.opening_stock" in out


def test_cla_flows_fall_back_to_englands_derived_flows():
    out = calibrate(la(cla_during_year={}), england(), fit_to=2018, window=1)
    # England 2018: starts 100,000 - 70,000 = 30,000 / 10,000,000 x 10,000 = 30;
    # exit rate (100,000 - 75,000) / 100,000 = 0.25
    starts, exits = out["demand.cla.start_rate_per_10k"], out["demand.cla.exit_rate"]
    assert (starts.value, exits.value) == (pytest.approx(30), pytest.approx(0.25))
    assert starts.fallback and exits.fallback
    assert "cla_ceased not published and not derivable (cla_during_year not in the data) in 2018" in exits.note
    assert "England's exit rate derived" in exits.note


def test_cla_flows_use_published_figures_where_they_exist():
    e = calibrate(la(), england(), fit_to=2019, window=1)
    # 2019: 250 starts / 104,000 children at mid-2018 x 10,000; 200 / (600 + 250) ceased
    assert e["demand.cla.start_rate_per_10k"].value == pytest.approx(250 / 104_000 * 1e4)
    assert e["demand.cla.exit_rate"].value == pytest.approx(200 / 850)
    assert "derived" not in e["demand.cla.exit_rate"].note
    # window 2: 2018 derived (180/780), 2019 published (200/850); the note names 2018 only
    e2 = calibrate(la(), england(), fit_to=2019, window=2)["demand.cla.exit_rate"]
    assert e2.value == pytest.approx((180 / 780 + 200 / 850) / 2)
    assert "derived" in e2.note and "Y = 2018" in e2.note and "2019" not in e2.note


def test_shares_are_clipped_into_range_and_say_so():
    # 5,000 CIN episodes started from 4,080 referrals in 2018 alone: 1.23, clipped to 1
    e = calibrate(la(cin_started={2018: 5_000}), england(), fit_to=2018, window=1)
    s = e["demand.cin.start_share_of_referrals"]
    assert s.value == 1 and "clipped" in s.note


def _perturb_after(frame: pd.DataFrame, fit_to: int) -> pd.DataFrame:
    later = frame["year"] > fit_to
    out = frame.copy()
    out.loc[later, "value"] = out.loc[later, "value"] * 3 + 7
    extra = frame[later].assign(measure="cla_starts", value=1e6)  # new kinds of later rows too
    extra = extra.drop_duplicates("year")
    return pd.concat([out, extra[~extra["year"].isin(out.loc[out.measure == "cla_starts", "year"])]])


@pytest.mark.parametrize("method", ["window", "pooled"])
@pytest.mark.parametrize("fit_to", [2016, 2017, 2018])
def test_nothing_after_fit_to_is_used(fit_to, method):
    base = calibrate_any(la(), england(), fit_to=fit_to, method=method)
    extended = england(population_0_17={**ENG_FIGURES["population_0_17"], 2019: 1, 2020: 2},
                       cin_ended={2016: 320_000, 2017: 400_000, 2018: 480_000, 2019: 1})
    for la_frame, eng_frame in [
        (_perturb_after(la(), fit_to), _perturb_after(england(), fit_to)),
        (la()[la()["year"] <= fit_to], england()[england()["year"] <= fit_to]),
        (la(), extended),
    ]:
        assert calibrate_any(la_frame, eng_frame, fit_to=fit_to, method=method) == base
    assert all(max(e.years) <= fit_to for e in base.values())


def test_units_and_ranges_match_the_catalogue():
    specs = parameter_specs()
    for fit_to in (2016, 2018):
        out = calibrate(la(), england(), fit_to=fit_to)
        assert list(out) == [p for p in PARAMETERS if p in out]
        for name, e in out.items():
            assert e.unit == specs[name].unit, name
            unit = UNITS[e.unit]
            for v in (e.values or {}).values() if e.values is not None else [e.value]:
                assert unit.low is None or v >= unit.low, name
                assert unit.high is None or v <= unit.high, name


def test_to_parameters_tree_is_a_valid_strict_scenario(est, write):
    tree = to_parameters(est, "DfE statistics, synthetic test extract")
    leaf = tree["demand"]["cla"]["exit_rate"]
    assert leaf["unit"] == "share" and leaf["confidence"] == 1
    assert leaf["note"].startswith("Mean over Y = 2016 to 2018") and "derived" in leaf["note"]
    assert tree["population"]["age_0_17"]["values"]["2018-19"] == 104_000
    doc = yaml.safe_load(MINIMAL)
    doc["parameters"] = tree
    sc = load_scenario(write("calibrated.yaml", yaml.safe_dump(doc, sort_keys=False)), strict=True)
    assert set(sc.parameters) == set(est)
    assert sc.parameters["demand.cin.exit_rate"].central() == pytest.approx(BY_HAND["demand.cin.exit_rate"])


def test_to_parameters_refuses_a_wrong_unit(est):
    bad = {"demand.cla.exit_rate": Estimate("demand.cla.exit_rate", 0.2, None, "percent", "m", (2018,), False)}
    with pytest.raises(UsageError):
        to_parameters(bad, "x")


def test_frames_must_be_one_authority_and_combined():
    with pytest.raises(DataError, match="one authority"):
        calibrate(pd.concat([la(), england()]), england(), fit_to=2018)
    with pytest.raises(DataError, match="combine"):
        calibrate(pd.concat([la(), la()]), england(), fit_to=2018)


def test_combined_frames_are_accepted(est):
    assert calibrate(combine([la()]), combine([england()]), fit_to=2018) == est


# ---------------------------------------------------------------------------
# The shipped extract: Worcestershire, fitted to 31 March 2018
# ---------------------------------------------------------------------------


def test_worcestershire_fit_to_2018(write):
    la_rows, eng_rows = load_extract(885), load_extract(ENGLAND)
    out = calibrate(la_rows, eng_rows, fit_to=2018)
    assert missing(out) == []
    # CLA at 31 March 2018: 796 in the 2019 LA tables (793 in the 2018 release)
    assert out["demand.cla.opening_stock"].value == 796
    # CIN at 31 March 2018 3,386 (B1); CPP 424 (D5)
    assert out["demand.cin.opening_stock"].value == 3_386
    assert out["demand.cpp.opening_stock"].value == 424
    # Referrals in 2017-18: 4,461 (C1) over the mid-2017 population 116,697 (ONS) x 10,000 = 382.27
    one = calibrate(la_rows, eng_rows, fit_to=2018, window=1)
    assert one["demand.referrals.rate_per_10k"].value == pytest.approx(4_461 / 116_697 * 1e4)
    # three years: 4,966 / 115,430 (mid-2015), 5,497 / 116,203 (mid-2016), 4,461 / 116,697
    assert out["demand.referrals.rate_per_10k"].value == pytest.approx(
        (4_966 / 115_430 + 5_497 / 116_203 + 4_461 / 116_697) / 3 * 1e4)
    # CLA flows are derived from looked after during the year (LA tables), e.g. 2018:
    # exit rate (1,042 - 796) / 1,042; starts (1,042 - 767) / 116,697 x 10,000
    assert one["demand.cla.exit_rate"].value == pytest.approx((1_042 - 796) / 1_042)
    assert one["demand.cla.start_rate_per_10k"].value == pytest.approx((1_042 - 767) / 116_697 * 1e4)
    # the workforce census starts in September 2017
    assert out["workforce.caseload_target"].years == (2017, 2018)
    assert not any(e.fallback for e in out.values())
    doc = yaml.safe_load(MINIMAL)
    doc["parameters"] = to_parameters(out, "DfE statistics, data/dfe_extract.csv.gz, fitted to 2018")
    assert set(load_scenario(write("w.yaml", yaml.safe_dump(doc)), strict=True).parameters) == set(out)
