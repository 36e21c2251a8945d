"""Back-testing against what the DfE later published."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import SHARED_DFE
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
    if not SHARED_DFE.is_dir():
        pytest.skip(f"published DfE files not found at {SHARED_DFE}")
    # Essex (881), read straight from the DfE downloads rather than the shipped extract
    result = backtest(881, fit_to=2019, data_dir=SHARED_DFE, last_year=2022)
    assert result.la_name == "Essex"
    row = result.table.query("measure == 'cla_at_31_march' and year == 2020").iloc[0]
    assert row.actual > 0 and abs(row.pct_error) < 50
