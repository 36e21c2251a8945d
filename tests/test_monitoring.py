"""Monitoring: reading actuals, comparing them with the projection, the summary and the chart."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import wcf_model as wm
from conftest import REPO
from wcf_model.backtest import COMPARED
from wcf_model.errors import DataError, UsageError
from wcf_model.appraisal import appraise
from wcf_model.scenario import load_scenario
from wcf_model.actuals import ACTUALS_COLUMNS, published_actuals, read_actuals
from wcf_model.measures import MEASURES, PUBLISHED
from wcf_model.monitoring import COMPARISON_COLUMNS, compare, not_compared, projected_bands, summary
from wcf_model.monitoring_chart import headline, monitoring_chart

SHIPPED = REPO / "data" / "actuals" / "worcestershire.csv"
SCENARIO = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"
HEADER = "measure,period,value,unit,source,note\n"


@pytest.fixture(scope="module")
def fbc_results():
    """The 2019 full business case with a few draws (enough for a band)."""
    return wm.appraise(wm.load_scenario(SCENARIO), draws=50, seed=1)


def bands(rows) -> pd.DataFrame:
    """A hand-built table of projected bands: (measure, year, p10, p50, p90) tuples."""
    return pd.DataFrame(rows, columns=["measure", "year", "p10", "p50", "p90"])


def actuals(rows) -> pd.DataFrame:
    """Hand-built actuals: (measure, period, value) tuples."""
    return pd.DataFrame([{"measure": m, "period": p, "value": float(v), "unit": MEASURES[m].unit,
                          "source": "test", "note": ""} for m, p, v in rows], columns=list(ACTUALS_COLUMNS))


# ---------------------------------------------------------------------------
# read_actuals
# ---------------------------------------------------------------------------


def test_the_shipped_file_reads_and_follows_the_period_convention():
    frame = read_actuals(SHIPPED)
    assert list(frame.columns) == list(ACTUALS_COLUMNS)
    assert frame["source"].str.len().min() > 0
    value = frame.set_index(["measure", "period"])["value"]
    # a stock at 31 March 2020 is 2019-20 (DfE 2020: 819 children looked after)
    assert value["cla_closing", "2019-20"] == 819
    # a census on 30 September 2019 is also 2019-20 (187.3 case-holding FTE)
    assert value["social_worker_in_post_fte", "2019-20"] == 187.3
    # the January 2020 SEN2 census is 2019-20
    assert value["ehcp_closing", "2019-20"] == 4053
    # the year to 31 March 2020 is 2019-20
    assert value["referrals", "2019-20"] == 5394
    assert set(frame["period"]) == {"2019-20", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25"}


def test_every_problem_is_reported_at_once_with_file_line_and_column(write):
    path = write("bad.csv", HEADER.replace("note", "note,colour") +
                 "cla_closing,2019-20,819,children,DfE 2020,,red\n"              # 2: unknown column only
                 "cla_at_31_march,2020-21,859,children,DfE,,\n"                  # 3: DfE name
                 "cla_closng,2020-21,859,children,DfE,,\n"                       # 4: typo
                 "cin_closing,2019/20,3263,children,DfE,,\n"                     # 5: period
                 "cin_closing,2020-22,3210,children,DfE,,\n"                     # 6: not a financial year
                 "cpp_closing,2019-20,\"1,523\",children,DfE,,\n"                # 7: thousands separator
                 "cpp_closing,2020-21,lots,children,,,\n"                        # 8: value and source
                 "social_worker_agency_percent,2019-20,0.125,share,DfE,,\n"      # 9: unit
                 "cla_closing,2019-20,820,children,DfE,,\n"                      # 10: duplicate of line 2
                 "referrals,2019-20,-5,referrals,DfE,,\n")                       # 11: negative
    with pytest.raises(DataError) as info:
        read_actuals(path)
    message = str(info.value)
    expected = [
        (1, "colour", "unknown column"),
        (3, "measure", "use the model's name 'cla_closing'"),
        (4, "measure", "did you mean cla_closing"),
        (5, "period", "expected a financial year such as 2019-20"),
        (6, "period", "not a financial year"),
        (7, "value", "without thousands separators"),
        (8, "value", "'lots' is not a number"),
        (8, "source", "is empty"),
        (9, "unit", "'share' is not the unit of social_worker_agency_percent"),
        (10, "period", "already given on line 2"),
        (11, "value", "negative"),
    ]
    for line, column, words in expected:
        assert any(p.file == str(path) and p.line == line and p.key == column and words in p.message
                   for p in info.value.problems), (line, column, words)
        assert f"{path}:{line}: {column}:" in message
    assert len(info.value.problems) == len(expected)
    assert message.startswith(f"{len(expected)} problems in actuals file {path}")


def test_missing_required_columns_are_named_on_line_1(write):
    path = write("cols.csv", "measure,period,value\ncla_closing,2019-20,819\n")
    with pytest.raises(DataError, match=r"cols\.csv:1: source: required column is missing"):
        read_actuals(path)


def test_a_line_with_the_wrong_number_of_fields_is_named(write):
    path = write("short.csv", HEADER + "cla_closing,2019-20,819\ncla_closing,2020-21,859,children,DfE,\n")
    with pytest.raises(DataError, match=r"short\.csv:2: 3 fields but the header has 6"):
        read_actuals(path)


def test_line_numbers_count_quoted_newlines_and_blank_lines(write):
    path = write("multi.csv", HEADER + 'cla_closing,2019-20,819,children,DfE,"a note\nover two lines"\n\n'
                 "cla_closing,2020-21,x,children,DfE,\n")
    with pytest.raises(DataError, match=r"multi\.csv:5: value: 'x' is not a number"):
        read_actuals(path)


def test_a_file_that_is_not_utf8_is_refused_with_its_line(write):
    path = write("latin.csv", (HEADER + "cla_closing,2019-20,819,children,Caf\u00e9 report,\n").encode("latin-1"))
    with pytest.raises(DataError, match=r"latin\.csv:2: the file is not UTF-8"):
        read_actuals(path)


def test_empty_and_header_only_files_are_refused(write):
    with pytest.raises(DataError, match="the file is empty"):
        read_actuals(write("empty.csv", ""))
    with pytest.raises(DataError, match="a header but no figures"):
        read_actuals(write("header.csv", HEADER))
    with pytest.raises(DataError, match="no actuals file"):
        read_actuals(REPO / "no-such-file.csv")


def test_unit_and_note_are_optional_and_the_unit_is_filled_in(write):
    path = write("min.csv", "source,value,period,measure\nDfE 2020,819,2019-20,cla_closing\n")
    frame = read_actuals(path)
    assert frame.to_dict("records") == [{"measure": "cla_closing", "period": "2019-20", "value": 819.0,
                                         "unit": "children", "source": "DfE 2020", "note": ""}]


# ---------------------------------------------------------------------------
# compare, by hand
# ---------------------------------------------------------------------------


def test_variance_and_band_by_hand():
    b = bands([("cla_closing", "2019-20", 840.0, 870.0, 900.0),
               ("cla_closing", "2020-21", 850.0, 890.0, 950.0),
               ("cla_closing", "2021-22", 860.0, 910.0, 1000.0),
               ("cla_closing", "2022-23", 870.0, 930.0, 990.0)])
    a = actuals([("cla_closing", "2019-20", 819), ("cla_closing", "2020-21", 950),
                 ("cla_closing", "2021-22", 860), ("cla_closing", "2022-23", 998)])
    c = compare(b, a)
    assert list(c.columns) == list(COMPARISON_COLUMNS)
    assert c["variance"].tolist() == [819 - 870, 950 - 890, 860 - 910, 998 - 930]
    assert c["variance_pct"].iloc[0] == pytest.approx(-51 / 870 * 100)
    # on the edge of the band counts as within; strictly beyond is outside
    assert c["outside_band"].tolist() == [True, False, False, True]
    assert c["direction"].tolist() == ["below", "within", "within", "above"]
    s = summary(c).iloc[0]
    assert s["years_compared"] == 4 and s["years_outside_band"] == 2
    assert s["years_above"] == 1 and s["years_below"] == 1 and s["outside_in"] == "2019-20, 2022-23"
    assert s["mean_abs_variance_pct"] == pytest.approx(np.mean([51 / 870, 60 / 890, 50 / 910, 68 / 930]) * 100)


def test_actuals_the_projection_cannot_meet_are_listed_not_dropped():
    b = bands([("cla_closing", "2019-20", 840.0, 870.0, 900.0)])
    a = actuals([("cla_closing", "2019-20", 819), ("cla_closing", "2018-19", 833),
                 ("ehcp_closing", "2019-20", 4053), ("ehcp_closing", "2020-21", 4182)])
    c = compare(b, a)
    assert len(c) == 1
    gone = not_compared(c).set_index("measure")
    assert gone.loc["cla_closing", "periods"] == "2018-19"
    assert "outside the projection's years" in gone.loc["cla_closing", "reason"]
    assert gone.loc["ehcp_closing", "figures"] == 2
    assert "not projected" in gone.loc["ehcp_closing", "reason"]


def test_a_table_with_several_options_needs_one_named():
    b = pd.concat([bands([("cla_closing", "2019-20", 840.0, 870.0, 900.0)]).assign(option=o)
                   for o in ("in_house", "company")])
    with pytest.raises(UsageError, match="say which option"):
        compare(b, actuals([("cla_closing", "2019-20", 819)]))
    with pytest.raises(UsageError, match="'trust' is not in the bands"):
        compare(b, actuals([("cla_closing", "2019-20", 819)]), option="trust")
    assert compare(b, actuals([("cla_closing", "2019-20", 819)]), option="company").attrs["option"] == "company"


def test_headlines_are_computed_from_the_comparison():
    b = bands([("cla_closing", y, 800.0, 850.0, 900.0) for y in ("2019-20", "2020-21", "2021-22")])
    within = compare(b, actuals([("cla_closing", y, 850) for y in ("2019-20", "2020-21", "2021-22")]))
    assert headline(within, "cla_closing") == \
        "Children looked after at 31 March stayed within the projection's 80% band in all 3 years"
    some = compare(b, actuals([("cla_closing", "2019-20", 850), ("cla_closing", "2020-21", 950),
                               ("cla_closing", "2021-22", 990)]))
    assert headline(some, "cla_closing") == \
        "Children looked after at 31 March ran above the projection's 80% band in 2 of 3 years (2020-21, 2021-22)"
    every = compare(b, actuals([("cla_closing", y, 700) for y in ("2019-20", "2020-21", "2021-22")]))
    assert headline(every, "cla_closing") == \
        "Children looked after at 31 March ran below the projection's 80% band in every year, 2019-20 to 2021-22"
    mixed = compare(b, actuals([("cla_closing", "2019-20", 700), ("cla_closing", "2020-21", 950),
                                ("cla_closing", "2021-22", 850)]))
    assert headline(mixed, "cla_closing") == \
        "Children looked after at 31 March fell outside the projection's 80% band in 2 of 3 years (1 above, 1 below)"


def test_chart_has_a_computed_headline_subtitle_and_alt_text():
    b = bands([("cla_closing", "2019-20", 840.0, 870.0, 900.0), ("cla_closing", "2020-21", 850.0, 890.0, 950.0)])
    c = compare(b, actuals([("cla_closing", "2019-20", 819), ("cla_closing", "2020-21", 900)]))
    chart = monitoring_chart(c, "cla_closing", authority="Worcestershire", option_label="Company")
    assert chart.title == headline(c, "cla_closing")
    assert chart.title.startswith("Children looked after at 31 March ran below")
    assert "Worcestershire, Company" in chart.subtitle and "10th-90th percentile band" in chart.subtitle
    assert "2019-20: published 819, projected median 870 (80% band 840 to 900), below the band" in chart.alt
    assert "2020-21: published 900" in chart.alt and "within the band" in chart.alt
    assert chart.png().startswith(b"\x89PNG")
    assert 'alt="Chart of children looked after' in chart.html()
    with pytest.raises(UsageError, match="no comparison rows for 'cin_closing'"):
        monitoring_chart(c, "cin_closing")


# ---------------------------------------------------------------------------
# compare, on the 2019 full business case
# ---------------------------------------------------------------------------


def test_compare_with_the_company_that_went_live(fbc_results):
    c = compare(fbc_results, SHIPPED, option="company_broad")
    assert c.attrs["option"] == "company_broad" and c.attrs["authority"] == "Worcestershire"
    assert c.attrs["draws"] == 50
    # every shipped measure is projected by this scenario except the company's budget, overspend and staff,
    # which the business case has no counterpart for: listed with the reason, never dropped
    left = not_compared(c).set_index("measure")
    assert set(left.index) == {"gross_budget", "outturn_variance", "staff_fte"}
    assert left.loc["staff_fte", "reason"].startswith("not projected: the model counts the social workers")
    # a comparison combines and rounds like any frame (its attrs hold plain data)
    assert len(pd.concat([c, c.round(1)])) == 2 * len(c)
    caseloads = fbc_results.caseloads
    p50 = caseloads.query("option == 'company_broad' and measure == 'cla_closing' and year == '2019-20'")["p50"]
    row = c.query("measure == 'cla_closing' and period == '2019-20'").iloc[0]
    # DfE 2020: 819 children looked after at 31 March 2020, against the median for 2019-20
    assert row["actual"] == 819
    assert row["projected"] == pytest.approx(float(p50.iloc[0]))
    assert row["variance"] == pytest.approx(819 - float(p50.iloc[0]))
    assert row["variance_pct"] == pytest.approx((819 - float(p50.iloc[0])) / float(p50.iloc[0]) * 100)
    # the projection's bands are Results.caseloads' for every projected measure
    both = c.merge(caseloads[caseloads["option"] == "company_broad"], left_on=["measure", "period"],
                   right_on=["measure", "year"])
    money = c["measure"].isin(["social_worker_agency_percent", "gross_spend", "company_surplus", "corporation_tax",
                               "dsg_high_needs_cumulative_deficit"])
    assert len(both) == len(c) - money.sum()
    assert np.allclose(both["projected"], both["p50"]) and np.allclose(both["p10_x"], both["p10_y"])


def test_agency_share_is_computed_draw_by_draw(fbc_results):
    m = fbc_results.uncertain.options["company_broad"].projection.measures()
    share = m["social_worker_agency_fte"] / m["social_worker_in_post_fte"] * 100
    b = projected_bands(fbc_results, "company_broad").query("measure == 'social_worker_agency_percent'")
    assert np.allclose(b["p50"], np.percentile(share, 50, axis=0))
    assert np.allclose(b["p10"], np.percentile(share, 10, axis=0))


def test_the_default_option_is_the_baseline_and_unknown_options_are_refused(fbc_results):
    assert compare(fbc_results, SHIPPED).attrs["option"] == "in_house"
    with pytest.raises(UsageError, match="'trust' is not in the appraisal; its options are in_house"):
        compare(fbc_results, SHIPPED, option="trust")


def test_cash_can_be_monitored(fbc_results, write):
    path = write("cash.csv", HEADER + "cash,2023-24,177000000,GBP,test,\n")
    c = compare(fbc_results, path, option="company_broad")
    cash = fbc_results.cash_bands().query("option == 'company_broad' and measure == 'cash' and year == '2023-24'")
    assert c["projected"].iloc[0] == pytest.approx(float(cash["p50"].iloc[0]))
    assert "£177.0m" in monitoring_chart(c, "cash").alt


# ---------------------------------------------------------------------------
# The shipped file and the script that builds it
# ---------------------------------------------------------------------------


def test_published_measures_line_up_as_in_back_tests():
    for published, (model, _kind) in COMPARED.items():
        assert PUBLISHED[model] == published
    assert set(PUBLISHED) <= set(MEASURES)


def test_shipped_actuals_are_what_the_script_builds(tmp_path):
    out = tmp_path / "worcestershire.csv"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "build_actuals.py"), "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == SHIPPED.read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_the_script_refuses_bad_years(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "build_actuals.py"), "--first", "2019/20",
                           "--out", str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert done.returncode == 2 and "--first: expected a financial year" in done.stderr
    assert not (tmp_path / "x.csv").exists()


# ---------------------------------------------------------------------------
# The company's money
# ---------------------------------------------------------------------------


def test_signed_money_measures_may_be_negative_and_others_may_not(write):
    ok = write("signed.csv", HEADER + "company_surplus,2020-21,-150000,GBP,accounts,a deficit\n")
    assert read_actuals(ok)["value"].iloc[0] == -150000
    bad = write("neg.csv", HEADER + "gross_spend,2020-21,-1,GBP,accounts,\n")
    with pytest.raises(DataError, match="negative"):
        read_actuals(bad)


def test_the_company_s_money_against_the_2019_case(fbc_results):
    c = compare(fbc_results, SHIPPED, option="company_broad").set_index(["measure", "period"])
    r = fbc_results.uncertain.options["company_broad"]
    # Kidderminster Shuttle: a surplus of about £625,000 and £122,500 corporation tax in 2019-20,
    # against the median of the case's surplus share x turnover, and its tax
    surplus = np.percentile(r.company.profits[:, 0] * fbc_results.uncertain.nominal_index[0], 50)
    assert c.loc[("company_surplus", "2019-20"), "actual"] == 625_000
    assert c.loc[("company_surplus", "2019-20"), "projected"] == pytest.approx(surplus)
    assert c.loc[("corporation_tax", "2019-20"), "actual"] == 122_500
    # Community Care: the 2023-24 forecast outturn, £148.4m + £28.6m, against the company's gross spending
    assert c.loc[("gross_spend", "2023-24"), "actual"] == 177_000_000
    assert c.loc[("gross_spend", "2023-24"), "projected"] > 0
    # BBC: the DSG high-needs deficit, £44m at the end of 2023-24
    assert c.loc[("dsg_high_needs_cumulative_deficit", "2023-24"), "actual"] == 44_000_000


def test_spend_gap_steps_add_up_to_what_was_spent():
    from wcf_model.appraisal import appraise_options
    from wcf_model.monitoring import money_measures, spend_gap

    sc = wm.load_scenario(REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml")
    gap = spend_gap(sc, "company_broad", read_actuals(SHIPPED), "2023-24")
    assert list(gap["step"]) == ["projected", "inflation", "children looked after", "the rest"]
    # the first step is the case's own projection, central run, cash
    case = appraise_options(sc)
    t = case.years.index("2023-24")
    assert gap["amount"].iloc[0] == pytest.approx(
        money_measures(case.options["company_broad"], case.nominal_index)["gross_spend"][0, t])
    # inflation turned out higher than the March 2020 forecast, and more children were looked after
    assert gap["amount"].iloc[1] > 0 and gap["amount"].iloc[2] > 0
    # the steps add up to the published figure, to the penny
    assert gap["total"].iloc[-1] == pytest.approx(177_000_000, abs=0.01)


# ---------------------------------------------------------------------------
# The authority is the scenario's
# ---------------------------------------------------------------------------

SLOUGH_2019 = """\
scenario:
  extends: {base}
  name: slough-2019
  title: Slough from 2019-20, on Worcestershire's other figures
  authority: {{la_code: 871, name: Slough}}
parameters:
  population:
    age_0_17: {{values: {{"2019-20": 43479}}, unit: children, source: ONS mid-2019 estimate, confidence: 1}}
"""


def test_an_actuals_file_for_another_authority_is_refused(write):
    # The failure: Worcestershire's 117,526 children were charted against Slough's
    # projected 43,900. The shipped file names its authority (la_code 885) on every line.
    path = write("slough.yaml", SLOUGH_2019.format(base=REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"))
    res = appraise(load_scenario(path))
    assert read_actuals(SHIPPED).attrs["la_code"] == "885"
    with pytest.raises(DataError, match=r"holds figures for Worcestershire \(885\), but the scenario is for "
                                        r"Slough \(871\)"):
        compare(res, SHIPPED)


def test_the_same_authority_by_its_new_code_is_accepted(write, tmp_path):
    text = SHIPPED.read_text(encoding="utf-8").replace(",885\n", ",E10000034\n")
    path = write("worcs.csv", text)
    assert read_actuals(path).attrs["la_code"] == "E10000034"
    res = appraise(load_scenario(REPO / "scenarios" / "worcestershire" / "base.yaml"))
    assert len(compare(res, path)) > 0


def test_an_actuals_file_holds_one_authority(write):
    text = SHIPPED.read_text(encoding="utf-8").splitlines()
    text[2] = text[2].removesuffix(",885") + ",871"
    with pytest.raises(DataError, match=r":3: la_code: 871 differs from 885 on line 2"):
        read_actuals(write("mixed.csv", "\n".join(text) + "\n"))


def test_published_actuals_are_the_authoritys_own(write):
    # Slough's children looked after at 31 March 2020 (DfE, 2023 release): 195; its mid-2019 population 43,479.
    figures, _ = published_actuals(871, "2019-20", "2024-25")
    assert figures.attrs["la_code"] == "871"
    cla = figures[(figures.measure == "cla_closing") & (figures.period == "2019-20")].value.iloc[0]
    assert cla == 195
    pop = figures[(figures.measure == "population_0_17") & (figures.period == "2019-20")].value.iloc[0]
    assert pop == 43_479
