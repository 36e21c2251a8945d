"""The national sweep (wcf_model.sweep, wcf-model sweep): every authority, the same options, one table."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO
from wcf_model.errors import ScenarioError, UsageError
from wcf_model.sweep import (
    COLUMNS,
    appraise_authority,
    apply_option_set,
    current_authorities,
    load_option_set,
    ranked_option,
    run_sweep,
    sweep_tasks,
    write_sweep,
)

GENERIC = REPO / "scenarios" / "options" / "generic.yaml"
THREE = ["857", "871", "942"]  # Rutland, Slough, Cumberland (created in 2023)


@pytest.fixture(scope="module")
def option_set():
    return load_option_set(GENERIC)


@pytest.fixture(scope="module")
def tasks(option_set):
    return sweep_tasks(option_set, draws=40, seed=1, la_codes=THREE)


@pytest.fixture(scope="module")
def swept(tasks):
    return run_sweep(tasks, workers=1)


def test_one_row_per_authority_and_option(swept, option_set):
    table, refused = swept
    assert refused.empty
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == len(THREE) * len(option_set.options) == 12
    assert set(table.la_code) == set(THREE) and set(table.option) == set(option_set.options)
    base = table[table.baseline]
    assert (base.npv_vs_baseline == 0).all() and (base.council_cash_vs_baseline == 0).all()


def test_a_company_costs_the_council_its_running_costs_and_its_tax(swept):
    table, _ = swept
    company = table[table.option == "company_csc"].set_index("la_code")
    # the same fixed costs everywhere, so the same economic difference ...
    assert company.npv_vs_baseline.nunique() == 1 and (company.npv_vs_baseline > 0).all()
    # ... but irrecoverable VAT grows with what a council spends: Slough pays more than Rutland
    assert company.loc["871", "council_cash_vs_baseline"] > company.loc["857", "council_cash_vs_baseline"]
    for q in ("p10", "p50", "p90"):
        assert (company[f"council_cash_vs_baseline_{q}"] > 0).all()
    assert (company.council_cash_vs_baseline_p10 <= company.council_cash_vs_baseline_p90).all()


def test_the_cla_projection_is_each_authoritys_own(swept):
    table, _ = swept
    base = table[table.baseline].set_index("la_code")
    # Rutland's children looked after at the start of 2026-27 are a few dozen; Cumberland's some hundreds
    assert base.loc["857", "cla_opening"] < 60 < 300 < base.loc["942", "cla_opening"]
    assert (base.cla_final_p10 <= base.cla_final_p50).all() and (base.cla_final_p50 <= base.cla_final_p90).all()
    assert (base.cla_final_p10 < base.cla_final_p90).all()  # the rates carry their published ranges


def test_parallel_and_serial_give_the_same_table(tasks, swept):
    table, _ = run_sweep(tasks, workers=2)
    pd.testing.assert_frame_equal(table, swept[0])


def test_the_task_is_a_plain_function_of_its_inputs(tasks):
    # What a cluster needs: the task pickles, and the same task gives the same answer.
    again = pickle.loads(pickle.dumps(tasks[0]))
    assert appraise_authority(again).rows == appraise_authority(tasks[0]).rows


def test_an_authority_the_data_cannot_support_is_refused_not_fatal(tasks):
    bare = tasks[0]
    # no ONS estimate and no DfE rate denominator to stand in for it
    no_population = bare.la_rows[~bare.la_rows.measure.isin(["population_0_17", "cla_rate_population"])]
    result = appraise_authority(type(bare)(**{**bare.__dict__, "la_rows": no_population}))
    assert result.rows == [] and "no 0-17 population" in result.refused


def test_dates_move_with_the_base_year(option_set, tasks):
    from wcf_model.council import baseline_from_rows
    from wcf_model.authorities import history

    base = baseline_from_rows(history(tasks[1].la_rows, "871"), tasks[1].england_rows, "2028-29")
    sc = apply_option_set(base.document(), "<Slough 2028-29>", option_set.layer, option_set.base_year)
    # written for 2026-27 with go-live on 1 April 2027: two years later for a 2028-29 baseline
    assert sc.options["company_csc"].go_live == dt.date(2029, 4, 1)
    assert sc.options["company_csc"].one_off_costs["set_up"].when == "2028-29"


def test_a_bad_option_set_is_refused_with_its_file_and_line(write):
    text = GENERIC.read_text(encoding="utf-8").replace("extends: ../examples/slough-2026-27.yaml",
                                                       f"extends: {GENERIC.parent.parent / 'examples' / 'slough-2026-27.yaml'}")
    path = write("bad.yaml", text.replace("category: partnership_fee", "category: partnership_fees"))
    with pytest.raises(ScenarioError, match=r"bad\.yaml:\d+: options\.strategic_partnership\.recurring_costs\."
                                            r"partner_fee\.category"):
        load_option_set(path)


def test_the_chart_ranks_by_a_company_unless_told(option_set):
    assert ranked_option(option_set) == "company_csc"
    assert ranked_option(option_set, "company_broad") == "company_broad"
    with pytest.raises(UsageError, match="not an option"):
        ranked_option(option_set, "in_house")


def test_every_current_authority_is_swept():
    from wcf_model.data import load_frame

    codes = current_authorities(load_frame())
    assert len(codes) == 153 and "909" not in codes and "942" in codes  # Cumbria gone, Cumberland here


def test_files_are_written_whole_and_the_same_each_time(swept, option_set, tmp_path):
    table, refused = swept
    a = write_sweep(tmp_path / "a", table, refused, option_set, "company_csc", 40, 1, None)
    b = write_sweep(tmp_path / "b", table, refused, option_set, "company_csc", 40, 1, None)
    assert [p.name for p in a] == ["sweep.csv", "refused.csv", "ranking.png", "about.json"]
    for x, y in zip(a, b):
        assert x.read_bytes() == y.read_bytes(), x.name
    about = json.loads((tmp_path / "a" / "about.json").read_text())
    assert about["option_set"]["sha256"] == option_set.sha256 and about["authorities"] == 3
    assert about["chart"]["title"].startswith("Wholly owned company: children's social care would cost the council")
    assert "Rutland" in about["chart"]["alt"]


def test_sweep_command(tmp_path):
    done = subprocess.run([sys.executable, "-m", "wcf_model.cli", "sweep", "--la", "857", "--la", "E06000039",
                           "--draws", "20", "--workers", "1", "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    assert "2 authorities x 4 options x 20 draws" in done.stdout
    assert "authority/s" not in done.stderr  # no progress bar off a terminal
    table = pd.read_csv(tmp_path / "out" / "sweep.csv")
    assert set(table.la_code.astype(str)) == {"857", "871"}
    bad = subprocess.run([sys.executable, "-m", "wcf_model.cli", "sweep", "--la", "999", "-o", str(tmp_path / "x")],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert bad.returncode == 2 and "no authority with that code" in bad.stderr and not (tmp_path / "x").exists()
