"""The command line, run as a user runs it: a subprocess, exit codes, output."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import MINIMAL


def wcf(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wcf_model.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_validate_ok(write):
    path = write("s.yaml", MINIMAL)
    r = wcf("validate", "--strict", path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"ok {path}: 3 parameters, 2 options (baseline in_house)")


def test_validate_reports_every_problem_as_file_line_key(write):
    text = MINIMAL.replace("years: 10", "years: -1").replace("vehicle: company", "vehicle: compnay")
    path = write("s.yaml", text)
    r = wcf("validate", path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert f"{path}:6: scenario.years: must be at least 1, got -1" in r.stderr
    assert f"{path}:29: options.company.vehicle: expected one of" in r.stderr
    assert "did you mean 'company'?" in r.stderr


def test_validate_several_files_and_a_folder(write, tmp_path):
    good = write("dir/good.yaml", MINIMAL)
    bad = write("dir/bad.yaml", "scenario: [1]\n")
    r = wcf("validate", tmp_path / "dir")
    assert r.returncode == 2
    assert f"ok {good}" in r.stdout and f"INVALID {bad}" in r.stderr
    assert "1 of 2 file(s) invalid" in r.stderr


def test_strict_flag(write):
    path = write("s.yaml", MINIMAL.replace(", source: DfE SSDA903 2019, confidence: 1", ""))
    assert wcf("validate", path).returncode == 0
    r = wcf("validate", "--strict", path)
    assert r.returncode == 2 and "has no source" in r.stderr and "under --strict" in r.stderr


def test_bad_arguments_exit_2_without_traceback():
    r = wcf("validate")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "usage:" in r.stderr
    r = wcf("no-such-command")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_empty_folder_is_a_usage_error(tmp_path):
    r = wcf("validate", tmp_path)
    assert r.returncode == 2 and "holds no .yaml scenario files" in r.stderr
    assert "Traceback" not in r.stderr


def test_debug_shows_the_traceback(tmp_path):
    r = wcf("--debug", "validate", tmp_path)
    assert r.returncode == 2 and "Traceback" in r.stderr


def test_version():
    r = wcf("--version")
    assert r.returncode == 0 and r.stdout.startswith("wcf-model ")


def test_help_gives_a_sentence_per_argument_and_an_example_per_command():
    import argparse

    from wcf_model.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == {"validate", "run", "report", "export-assumptions", "import-assumptions", "diff",
                                "backtest", "reference-class", "new-council", "sweep", "authorities"}
    for name, p in sub.choices.items():
        assert p.epilog.startswith("examples:") and f"wcf-model {name} " in p.epilog, name
        assert p.description and len(p.description) > 40, name
        for action in p._actions:
            if action.dest != "help":
                # positional arguments too: a whole sentence, not a bare name
                assert action.help and action.help[0].isupper() and len(action.help) > 20, (name, action.dest)
    r = wcf("report", "--help")
    assert r.returncode == 0
    assert re.search(r"SCENARIO +The scenario file to report on\.", r.stdout) and "examples:" in r.stdout


def test_progress_is_a_bar_on_a_terminal_and_silent_elsewhere(tmp_path):
    import os
    import pty

    from conftest import REPO

    scenario = REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml"
    out = tmp_path / "out"
    parent, child = pty.openpty()     # standard error on a terminal, as when a user runs it
    # the scenario's own 1,000 draws: a run of a few seconds, long enough for the bar to appear
    proc = subprocess.Popen([sys.executable, "-m", "wcf_model.cli", "run", str(scenario), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=child)
    os.close(child)
    shown = b""
    while True:
        try:
            data = os.read(parent, 4096)
        except OSError:      # the other end closed
            break
        if not data:
            break
        shown += data
    proc.communicate(timeout=300)
    os.close(parent)
    assert proc.returncode == 0
    assert b"wcf-model run:" in shown and b"appraisal" in shown      # the bar and the stage it is at
    quiet = wcf("run", scenario, "--draws", "20", "--out", out)
    # not a terminal: no bar (the warnings about what the costs leave out are still given)
    assert quiet.returncode == 0 and "wcf-model run:" not in quiet.stderr and "\r" not in quiet.stderr
