"""Hostile and unlucky inputs: exit 2, a message naming the file, nothing of the user's changed.

Every case of ``tests/hostile.py`` (the files a hostile or unlucky user tried:
bombs, pipes and devices, damaged workbooks, impossible output paths, figures
that would silently mean something else) must:

* exit 2 (bad input), never 1 (internal error), with no traceback;
* name the file (and the line, or the sheet and cell, where there is one) and
  say what is wrong;
* change nothing under the case's folder: no file rewritten, no temporary
  file left;
* when run in a process of its own (the cases that could hang or exhaust
  memory), stay under 500 MB. Their time is measured by
  ``benchmarks/hostile.py``; the timeout here only stops a hang.

Cases that cannot hang or take memory run in this process through
``wcf_model.cli.main``, which is the same code path and much quicker.
"""

from __future__ import annotations

import sys

import pytest

import hostile
from wcf_model import cli

#: Peak memory a hostile input may make wcf-model use [MB] (an idle wcf-model process is about 100 MB).
PEAK_MB = 500
#: Address space each isolated run may reserve [bytes]: should a case ever regress, it fails
#: with a MemoryError instead of taking the machine's memory (a million draws once needed 36 GB).
ADDRESS_SPACE_CAP = 3 * 2**30


def _in_process(case: hostile.Case, monkeypatch, capsys) -> tuple[int, str]:
    # Each case is refused before anything is written; should that ever stop
    # being so, fail here rather than write (the root-folder case would write into /).
    from wcf_model import outputs, report, workbook_export, workbook_io

    def forbidden(*args, **kwargs):
        raise AssertionError(f"{case.name} reached a write: {args[:1]}")

    for module, name in ((outputs, "write_set"), (outputs, "write_file"), (outputs, "write_all"),
                         (report, "write_set"), (workbook_io, "write_file"),
                         (workbook_export, "write_file")):
        monkeypatch.setattr(module, name, forbidden, raising=False)
    monkeypatch.chdir(case.folder)
    try:
        code = cli.main(case.argv)
    except SystemExit as exc:  # argparse refuses bad arguments by exiting
        code = exc.code
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize("name", list(hostile.BUILDERS))
def test_hostile_input_is_refused_naming_the_file_and_nothing_changes(name, tmp_path, monkeypatch, capsys):
    try:
        case = hostile.BUILDERS[name](tmp_path)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    before = hostile.snapshot(tmp_path)
    if case.isolate:
        outcome = hostile.run(case, memory_cap=ADDRESS_SPACE_CAP)
        assert outcome.code is not None, f"{name} hung: stopped after {case.timeout:.0f} s"
        assert outcome.peak_mb < PEAK_MB, f"{name} took {outcome.peak_mb:.0f} MB"
        code, text = outcome.code, outcome.stdout + outcome.stderr
    else:
        code, text = _in_process(case, monkeypatch, capsys)
    assert code == 2, text
    assert "Traceback" not in text and "internal error" not in text, text
    assert case.names in text, text
    assert case.says in text, text
    assert hostile.snapshot(tmp_path) == before, "a file of the user's was changed or a temporary file left"


def test_the_unfixed_cases_are_the_issue_s_cases():
    # Every case the issue lists has a builder (so none is dropped by a rename).
    wanted = {
        "import_over_its_own_workbook", "run_over_a_folder_named_like_an_output",
        "draws_a_million_on_the_command_line", "draws_ten_million_on_the_command_line",
        "draws_a_million_in_the_scenario", "workbook_with_200000_bad_rows", "actuals_with_a_million_bad_rows",
        "billion_laughs", "extends_a_fifo", "extends_dev_zero", "workbook_zip_bomb",
        "workbook_chartsheet_named_parameters", "workbook_truncated_sheet_xml", "workbook_truncated_workbook_xml",
        "out_names_a_file", "output_file_names_a_folder", "out_name_too_long", "out_under_proc",
        "out_is_the_root_folder", "out_on_a_full_disk", "seed_minus_one", "actuals_field_over_131072_characters",
        "actuals_all_out_of_range", "one_off_cost_outside_the_period", "recurring_cost_ending_before_it_starts",
        "option_ending_before_go_live", "effect_starting_after_the_horizon", "correlation_pair_given_twice",
        "contract_longer_than_the_appraisal", "set_effect_leaving_the_driver_range", "effect_multiplying_by_1e300",
        "workbook_number_with_underscore", "workbook_opening_stock_of_1e308", "backtest_with_a_corrupt_dfe_file",
    }
    assert wanted <= set(hostile.BUILDERS)


@pytest.mark.skipif(sys.platform != "linux", reason="/proc and FIFOs as on Linux")
def test_a_fifo_given_as_an_actuals_file_or_workbook_is_refused_at_once(tmp_path):
    import os

    from wcf_model.errors import DataError, ScenarioError
    from wcf_model.actuals import read_actuals
    from wcf_model.workbook_import import read_edits

    os.mkfifo(tmp_path / "pipe.csv")
    os.mkfifo(tmp_path / "pipe.xlsx")
    with pytest.raises(DataError, match="not a regular file but a named pipe"):
        read_actuals(tmp_path / "pipe.csv")
    with pytest.raises(ScenarioError, match="not a regular file but a named pipe"):
        read_edits(tmp_path / "pipe.xlsx", base=None)
