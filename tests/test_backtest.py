"""Back-testing against what the DfE later published."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, DFE_DOWNLOADS
from wcf_model import DataError
from wcf_model.backtest import backtest


@pytest.fixture(scope="module")
def worcs():
    return backtest(885, fit_to=2018, last_year=2023)


def test_first_year_by_hand(worcs):
    e = worcs.estimates
    pop_2018_19 = e["population.age_0_17"].values["2018-19"]   # mid-2018: 117,046
    assert pop_2018_19 == 117_046
    # closing at 31 March 2019 = (1 - exit rate of 2018-19) x (796 at 31 March 2018 + starts in 2018-19)
    starts = pop_2018_19 / 10_000 * e["demand.cla.start_rate_per_10k"].value
    expected = (1 - e["demand.cla.exit_rate"].values["2018-19"]) * (796 + starts)
    row = worcs.table.query("measure == 'cla_at_31_march' and year == 2019").iloc[0]
    assert row.projected == pytest.approx(expected)
    # published: 833 children looked after at 31 March 2019 (DfE SSDA903, 2019)
    assert row.actual == 833
    assert row.pct_error == pytest.approx((expected - 833) / 833 * 100)


def test_only_years_after_the_fit_are_compared(worcs):
    assert worcs.table["year"].min() == 2019 and worcs.table["year"].max() == 2023
    assert set(worcs.table["measure"]) >= {"cla_at_31_march", "cin_at_31_march", "cpp_at_31_march",
                                           "referrals", "sw_case_holders_fte"}


def test_mape_is_the_mean_absolute_percentage_error(worcs):
    cla = worcs.table.query("measure == 'cla_at_31_march'")
    assert worcs.mape["cla_at_31_march"] == pytest.approx(cla["pct_error"].abs().mean())
    assert len(cla) == 5


def test_the_fit_never_sees_the_years_it_is_tested_on():
    # a fit to 2018 is the same whether the comparison stops in 2020 or in 2023
    short = backtest(885, fit_to=2018, last_year=2020)
    long_ = backtest(885, fit_to=2018, last_year=2023)
    merged = short.table.merge(long_.table, on=["measure", "year"])
    assert len(merged) == len(short.table)
    assert (merged["projected_x"] == merged["projected_y"]).all()


def test_nothing_to_compare_is_a_clear_error():
    with pytest.raises(DataError, match="no published figures after 2030"):
        backtest(885, fit_to=2030)


def test_json_and_exit_codes():
    run = [sys.executable, "-m", "wcf_model.cli", "backtest", "--la", "E10000034", "--fit-to", "2018",
           "--to", "2023", "--json"]
    r = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["la_name"] == "Worcestershire" and data["fit_to"] == 2018
    assert set(data["mape_percent"]) >= {"cla_at_31_march", "referrals"}
    bad = subprocess.run(run[:4] + ["--la", "999", "--fit-to", "2018"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "no rows for la_code 999" in bad.stderr


@pytest.mark.realdata
def test_any_authority_from_the_raw_downloads():
    if not DFE_DOWNLOADS.is_dir():
        pytest.skip(f"published DfE files not found at {DFE_DOWNLOADS}")
    # Essex (881), read straight from the DfE downloads rather than the shipped extract
    result = backtest(881, fit_to=2019, data_dir=DFE_DOWNLOADS, last_year=2022)
    assert result.la_name == "Essex"
    row = result.table.query("measure == 'cla_at_31_march' and year == 2020").iloc[0]
    assert row.actual > 0 and abs(row.pct_error) < 50


def test_json_error_figures_cover_exactly_the_years_they_name():
    bt = backtest(885, fit_to=2018, last_year=2021, draws=0)
    data = json.loads(__import__("wcf_model.backtest", fromlist=["backtest_json"]).backtest_json(bt))
    assert data["compared_years"] == {"from": 2019, "to": 2021}
    cla = data["scores"]["cla_at_31_march"]
    assert cla["years"] == [2019, 2020, 2021]
    rows = [r for r in data["rows"] if r["measure"] == "cla_at_31_march"]
    # MAPE is the mean of exactly those years' absolute percentage errors
    assert data["mape_percent"]["cla_at_31_march"] == pytest.approx(
        sum(abs(r["pct_error"]) for r in rows) / 3, abs=0.01)
    # and MASE divides their mean absolute error by the mean yearly change up to 2018:
    # Worcestershire's looked-after children 642, 688, 694, 767, 796 (2014-2018): changes 46, 6, 73, 29
    scale = (46 + 6 + 73 + 29) / 4
    assert cla["mase_model"] == pytest.approx(sum(abs(r["error"]) for r in rows) / 3 / scale, abs=0.002)
    # EHC plans are published to January 2022 in the data: 2019-2021 all scored here
    assert data["scores"]["ehcp_total"]["years"] == [2019, 2020, 2021]
    assert data["excluded"] == []


def test_the_naive_forecasts_beside_the_model_by_hand(worcs):
    cla = worcs.table.query("measure == 'cla_at_31_march'").set_index("year")
    # the last published figure, 796 at 31 March 2018, carried flat
    assert (cla["flat"] == 796).all()
    # a straight line through 642, 688, 694, 767, 796 (2014-2018): mean 717.4 at 2016, slope
    # (-2 x -75.4 - 1 x -29.4 + 1 x 49.6 + 2 x 78.6) / 10 = 38.7 a year, so 2019 is 717.4 + 3 x 38.7
    assert cla.loc[2019, "linear"] == pytest.approx(717.4 + 3 * 38.7)
    assert worcs.scores.set_index("measure").loc["cla_at_31_march", "years"] == 5


def test_the_band_comes_from_draws(worcs):
    rows = worcs.table.dropna(subset=["p10"])
    assert len(rows) and (rows["p10"] <= rows["projected"]).all() and (rows["projected"] <= rows["p90"]).all()
    assert worcs.draws == 500


def one_authority(folder):
    """An extract of Worcestershire and England alone (the shipped one holds every authority)."""
    from wcf_model.data import EXTRACT_NAME, read_extract

    frame = read_extract(REPO / "data" / EXTRACT_NAME)
    folder.mkdir(parents=True, exist_ok=True)
    frame[frame.la_code.isin(["885", "E92000001"])].to_csv(folder / EXTRACT_NAME, index=False)
    return folder


def test_backtest_all_needs_every_authority_for_the_pooled_method(tmp_path):
    run = [sys.executable, "-m", "wcf_model.cli", "backtest", "--all", "--origins", "2018", "-o", str(tmp_path / "o"),
           "--data", str(one_authority(tmp_path / "data"))]
    r = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "the pooled method needs at least 30" in r.stderr
    assert not (tmp_path / "o").exists()


def test_backtest_all_writes_its_tables_and_stays_quiet_off_a_terminal(tmp_path):
    # an extract of one authority is enough for the windowed method
    out = tmp_path / "national"
    run = [sys.executable, "-m", "wcf_model.cli", "backtest", "--all", "--method", "window", "--origins",
           "2017,2018", "--horizon", "3", "--draws", "0", "--jobs", "1", "-o", str(out),
           "--data", str(one_authority(tmp_path / "data"))]
    r = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # no progress bar when stderr is not a terminal
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == {"summary.csv", "scores.csv", "forecasts.csv", "coverage.csv",
                                                "unscored.csv", "summary.txt", "backtest.png"}
    import pandas as pd

    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["origin"]) == {2017, 2018}
    assert set(summary["measure"]) == {"referrals", "cin_at_31_march", "cpp_at_31_march", "cla_at_31_march"}
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert forecasts.groupby("origin")["year"].agg(["min", "max"]).to_dict("index") == {
        2017: {"min": 2018, "max": 2020}, 2018: {"min": 2019, "max": 2021}}
    assert "Rolling-origin back-test of 1 authorities" in r.stdout


def test_backtest_arguments_that_do_not_go_together(capsys):
    from wcf_model.cli import main

    for args, words in [(["--la", "885"], "needs --fit-to"),
                        (["--la", "885", "--fit-to", "2018", "--origins", "2016"], "go with --all"),
                        (["--all", "--fit-to", "2018"], "go with --la"),
                        (["--all", "--origins", "20x6"], "expected years separated by commas"),
                        (["--la", "885", "--all"], "not allowed with argument")]:
        try:
            code = main(["backtest", *args])
        except SystemExit as exit_:  # argparse's own checks
            code = exit_.code
        err = capsys.readouterr().err
        assert code == 2 and words in err and "Traceback" not in err, (args, err)


@pytest.mark.realdata
def test_national_backtest_is_the_same_in_parallel_and_names_what_it_cannot_score():
    if not DFE_DOWNLOADS.is_dir():
        pytest.skip(f"published DfE files not found at {DFE_DOWNLOADS}")
    from wcf_model.backtest import national_backtest
    from wcf_model.dfe import read_folder

    frame = read_folder(DFE_DOWNLOADS, None)[0]
    # a slice: the shared parameters are fitted on every authority, 30 and two changed ones scored
    from wcf_model.authorities import register

    some = sorted(register(frame)["la_code"])[:30] + ["835", "940"]
    one = national_backtest(frame, origins=[2021], horizon=2, draws=40, jobs=1, progress=False, authorities=some)
    two = national_backtest(frame, origins=[2021], horizon=2, draws=40, jobs=2, progress=False, authorities=some)
    pd_testing = __import__("pandas").testing
    pd_testing.assert_frame_equal(one.scores.sort_values(["la_code", "measure"]).reset_index(drop=True),
                                  two.scores.sort_values(["la_code", "measure"]).reset_index(drop=True))
    assert one.authorities == 32
    # called without a source of its data, the headline names none (no empty brackets), and it names
    # the band it scores as the report names its range
    assert one.to_text().startswith("Rolling-origin back-test of 32 authorities; method ")
    assert "and 10th-90th percentile band coverage:" in one.to_text()
    reasons = one.unscored.set_index(["la_code", "measure"])["reason"]
    # North Northamptonshire (940), created in April 2021, starts from its share of Northamptonshire's
    # figures at 31 March 2021 and is scored on its own 2022 and 2023 figures
    assert set(one.scores.loc[one.scores["la_code"] == "940", "years"]) == {2}
    # Dorset County Council (835) was replaced in 2019: nothing published after
    assert reasons[("835", "cin_at_31_march")] == "no published figure in the 2 years after the origin"


def test_national_backtest_bridges_reorganisations_as_the_one_authority_back_test_does():
    # The same mapping as `backtest --la` (wcf_model.authorities.history): Dorset County (835) had no
    # ONS population on its old boundaries, so it takes the one the DfE divided its CLA rate by; Dorset
    # Council (838), created in April 2019, is fitted on its predecessors' apportioned figures and scored
    # on what it published itself; Northamptonshire (928) is scored after its 2021 abolition against the
    # sum of its two successors (exactly its area). Joint workforce returns are not authorities.
    from wcf_model.backtest import backtest, national_backtest
    from wcf_model.data import load_frame

    frame = load_frame()
    codes = ["835", "838", "928", "940", "885"]
    nb = national_backtest(frame, origins=[2018, 2019], horizon=3, method="window", draws=0, jobs=1,
                           progress=False, authorities=codes)
    scored = nb.scores.set_index(["origin", "la_code", "measure"])
    for code, origin in [("835", 2018), ("838", 2019), ("928", 2019), ("940", 2019), ("885", 2018)]:
        one = backtest(code, fit_to=origin, last_year=origin + 3, method="window", draws=0)
        for measure, row in one.scores.set_index("measure").iterrows():
            if measure not in nb.scores["measure"].values or not np.isfinite(row["mase_model"]):
                continue
            assert scored.loc[(origin, code, measure), "mase_model"] == pytest.approx(row["mase_model"]), \
                (code, origin, measure)
            assert scored.loc[(origin, code, measure), "years"] == row["years"]
    # Dorset County's last figures (31 March 2019) are scored from 2018; nothing after its abolition
    assert scored.loc[(2018, "835", "cla_at_31_march"), "years"] == 1
    # North Northamptonshire's apportioned years are fitted on, never scored: only 2022 from 2019
    assert scored.loc[(2019, "940", "cla_at_31_march"), "years"] == 1
    reasons = nb.unscored.set_index(["origin", "la_code", "measure"])["reason"]
    assert reasons[(2018, "940", "cla_at_31_march")] == "no published figure in the 3 years after the origin"
    assert not reasons.str.contains("population").any()
    # every authority in the data, but not the joint workforce returns (314/318, 940/941)
    assert national_backtest(frame, origins=[2018], horizon=1, method="window", draws=0, jobs=1,
                             progress=False, authorities=["885"]).authorities == 1
    with pytest.raises(DataError, match="joint social work workforce return"):
        national_backtest(frame, origins=[2018], horizon=1, method="window", draws=0, jobs=1, progress=False,
                          authorities=["940/941"])
