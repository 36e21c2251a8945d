"""Output sets are committed whole: the old set or the new set, never a mix, and no temporary files.

Each test makes an old set (``run`` of a scenario), then writes a new one (the
same scenario with one cost changed, so every file differs) while something
goes wrong: a failure injected into each write in turn, a failure of the swap
itself (as when a file is open in Excel on Windows), or a signal (SIGTERM,
SIGHUP, SIGKILL) at several points of the save. Afterwards the output folder
must hold one whole set, and nothing else may be left beside it (after a
SIGKILL, once the next write has tidied up).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import functools
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pytest

from conftest import REPO
from wcf_model import cli, load_scenario, outputs
from wcf_model.errors import OutputError, UsageError
from wcf_model.outputs import MANIFEST, check_output_folder, recover, write_all, write_file, write_set

OBC = REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml"
SET = ["results.json", "summary.csv", "annual.csv", "results.xlsx"]
OPTION = "company_csc"


def scenario(folder: Path, name: str, running_cost: int) -> Path:
    """The outline business case with the company's running cost changed: each version's files all differ."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(f"""\
        scenario: {{name: outputs-test, extends: {os.path.relpath(OBC, folder)}}}
        options:
          {OPTION}:
            recurring_costs:
              company_running: {{value: {running_cost}, unit: GBP/year, category: company_running,
                                price_year: "2019-20", source: test, confidence: 5}}
        """), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict:
    """The two scenarios, and the old set written once for the module."""
    folder = tmp_path_factory.mktemp("outputs")
    old, new = scenario(folder / "s", "old", 1_280_000), scenario(folder / "s", "new", 2_000_000)
    out = folder / "o" / "out"
    assert cli.main(run_args(old, out)) == 0
    shas = {load_scenario(old).sha256: "old", load_scenario(new).sha256: "new"}
    assert which_set(out, shas) == "old"
    return {"old": old, "new": new, "out": out, "shas": shas}


@pytest.fixture
def case(made, tmp_path) -> dict:
    """A copy of the old set in a folder of its own, and the scenario of a new one."""
    out = tmp_path / "o" / "out"
    shutil.copytree(made["out"], out)
    return {**made, "out": out}


def run_args(path: Path, out: Path) -> list[str]:
    return ["run", str(path), "--out", str(out), "--draws", "3"]


def which_set(out: Path, shas: dict[str, str]) -> str:
    """"old" or "new": which run the folder's set came from, having checked every file is from that run.

    results.json names its scenario by sha256; summary.csv and results.xlsx
    must give the company's net present cost against the baseline that
    results.json gives, to the penny, and annual.csv the total of
    results.json's annual lines for it.
    """
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, *SET]), sorted(os.listdir(out))
    doc = json.loads((out / "results.json").read_text())
    company = next(o for o in doc["options"] if o["id"] == OPTION)
    npv = company["economic"]["npv_vs_baseline"]
    with open(out / "summary.csv", newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["option"] == OPTION)
    assert float(row["npv_vs_baseline"]) == pytest.approx(npv, abs=0.01)
    sheet = openpyxl.load_workbook(out / "results.xlsx")["Summary"]
    heads = [c.value for c in sheet[1]]
    column = next(i for i, h in enumerate(heads) if str(h).startswith("Economic cost against the baseline"))
    xlsx_row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == company["label"])
    assert xlsx_row[column] == pytest.approx(npv, abs=0.01)
    with open(out / "annual.csv", newline="") as f:
        annual = sum(float(r["value"]) for r in csv.DictReader(f) if r["option"] == OPTION)
    assert annual == pytest.approx(sum(a["value"] for a in doc["annual"] if a["option"] == OPTION), abs=1)
    return shas[doc["scenario"]["sha256"]]


def beside(out: Path) -> list[str]:
    """What the output folder's parent holds besides the folder: staging or set-aside folders."""
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


# ---------------------------------------------------------------------------
# A failure injected into each write
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("failing", [*SET, MANIFEST])
def test_a_failure_writing_any_file_leaves_the_old_set_and_nothing_beside(case, failing, monkeypatch, capsys):
    real = outputs._fsync

    def fsync(path: Path) -> None:  # runs right after each file of the set is written
        if path.name == failing and outputs._PARTIAL in path.parent.name:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path)

    monkeypatch.setattr(outputs, "_fsync", fsync)
    assert cli.main(run_args(case["new"], case["out"])) == 2
    err = capsys.readouterr().err
    assert f"cannot write outputs to {case['out']}: No space left on device" in err
    assert "the earlier outputs there are as they were" in err
    assert which_set(case["out"], case["shas"]) == "old"
    assert beside(case["out"]) == []


def test_a_swap_the_system_refuses_leaves_the_old_set(case, monkeypatch, capsys):
    # as when results.xlsx is open in Excel on Windows: the folder cannot be moved
    def busy(a, b):
        raise OSError(errno.EBUSY, "Device or resource busy", str(b))

    monkeypatch.setattr(outputs, "_exchange", busy)
    assert cli.main(run_args(case["new"], case["out"])) == 2
    assert "Device or resource busy" in capsys.readouterr().err
    assert which_set(case["out"], case["shas"]) == "old" and beside(case["out"]) == []


def test_without_an_atomic_exchange_a_failed_second_rename_puts_the_old_set_back(case, monkeypatch, capsys):
    real_rename = os.rename
    calls = []

    def rename(a, b):
        calls.append((a, b))
        if len(calls) == 2:  # the new set into place, after the old one was moved aside
            raise OSError(errno.EACCES, "Permission denied", str(b))
        real_rename(a, b)

    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
    monkeypatch.setattr(outputs.os, "rename", rename)
    assert cli.main(run_args(case["new"], case["out"])) == 2
    monkeypatch.undo()
    assert len(calls) == 3  # aside, in (failed), back
    assert which_set(case["out"], case["shas"]) == "old" and beside(case["out"]) == []


def test_both_ways_of_swapping_give_the_new_set(case, monkeypatch):
    assert cli.main(run_args(case["new"], case["out"])) == 0
    assert which_set(case["out"], case["shas"]) == "new" and beside(case["out"]) == []
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
    assert cli.main(run_args(case["old"], case["out"])) == 0
    assert which_set(case["out"], case["shas"]) == "old" and beside(case["out"]) == []


# ---------------------------------------------------------------------------
# Signals at several points of the save, in a process of its own
# ---------------------------------------------------------------------------

#: Runs ``wcf-model run`` with one point of the save made to wait, so a signal
#: lands exactly there. The points are the file-system steps of write_set.
KILLABLE = textwrap.dedent("""\
    import os, sys, time
    from wcf_model import cli, outputs

    point, args = sys.argv[1], sys.argv[2:]
    real_fsync, real_swap, real_rename, real_remove = outputs._fsync, outputs._swap, os.rename, outputs._remove
    state = {"swapping": False, "renames": 0, "waited": False}

    def wait(here, seconds=60):
        if here == point and not state["waited"]:
            state["waited"] = True
            print("waiting", flush=True)
            time.sleep(seconds)

    def fsync(path):
        real_fsync(path)
        if outputs._PARTIAL in str(path.parent) and path.is_file():
            wait("wrote the first file")
            wait("wrote " + path.name)

    def swap(staging, target):
        wait("before the swap", 1)  # signals are held here: a short wait, then the swap goes on
        state["swapping"] = True
        real_swap(staging, target)

    def rename(a, b):
        real_rename(a, b)
        state["renames"] += 1
        if state["swapping"] and state["renames"] == 1 and point == "between the renames":
            outputs.os.rename = real_rename
            wait(point, 1)

    def remove(path):
        if state["swapping"]:
            wait("removing the old set", 1)
        real_remove(path)

    outputs._fsync, outputs._swap, outputs._remove = fsync, swap, remove
    if point == "between the renames":
        outputs._exchange = lambda a, b: False
        outputs.os.rename = rename
    sys.exit(cli.main(args))
    """)

#: Which set a stopped save leaves: a signal before the swap stops the run with the
#: old set; SIGTERM and SIGHUP are held during the swap, which then finishes; a
#: SIGKILL during the swap leaves what the next write completes.
AFTER = {
    "wrote summary.csv": {"SIGTERM": "old", "SIGHUP": "old", "SIGKILL": "old"},
    f"wrote {MANIFEST}": {"SIGKILL": "old"},
    "before the swap": {"SIGTERM": "new", "SIGKILL": "old"},
    "between the renames": {"SIGTERM": "new", "SIGKILL": "new"},
    "removing the old set": {"SIGTERM": "new", "SIGKILL": "new"},
}


@pytest.mark.parametrize("point,signame", [(p, s) for p, by in AFTER.items() for s in by])
def test_a_signal_at_any_point_of_the_save_leaves_one_whole_set(case, point, signame):
    sig = getattr(signal, signame)
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, point, *run_args(case["new"], case["out"])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "waiting", proc.communicate()[1]
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if signame == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL
        recover(case["out"])  # what the next write to the folder does first
    else:
        assert proc.returncode == 128 + sig, err  # stopped cleanly, having removed its temporary files
        assert "Traceback" not in err
    assert which_set(case["out"], case["shas"]) == AFTER[point][signame]
    assert beside(case["out"]) == []


def test_the_next_run_after_a_kill_tidies_up_and_writes(case):
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, "wrote summary.csv", *run_args(case["new"], case["out"])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "waiting"
    proc.kill()
    proc.communicate()
    assert len(beside(case["out"])) == 1  # the staging folder of the killed run
    assert cli.main(run_args(case["new"], case["out"])) == 0
    assert which_set(case["out"], case["shas"]) == "new" and beside(case["out"]) == []


# ---------------------------------------------------------------------------
# The report's set: report.html, results.xlsx and the notebooks together
# ---------------------------------------------------------------------------


def fake_notebooks(names: list[str]):
    """A stand-in for :class:`wcf_model.notebooks.NotebookRun` whose notebooks come back at once."""
    class Run:
        def __init__(self, *args, **kwargs):
            pass

        def hand_over(self, analysis) -> None:
            pass

        def give_up(self, why: str) -> None:
            pass

        def close(self) -> None:
            pass

        def result(self, *args, **kwargs):
            return {n: ("{}", f"<p>{n}</p>") for n in names}

    return Run


def test_report_set_includes_its_notebooks(tmp_path, monkeypatch, capsys):
    from wcf_model import report

    minimal = scenario(tmp_path / "s", "old", 1_280_000)
    out = tmp_path / "o" / "r"
    monkeypatch.setattr(report, "NotebookRun", fake_notebooks(["00_a.ipynb", "01_b.ipynb"]))
    report.write_report(minimal, out_dir=out, draws=3)
    first = (out / "report.html").read_bytes()
    assert sorted(p.name for p in (out / "notebooks").iterdir()) == ["00_a.html", "00_a.ipynb", "01_b.html",
                                                                    "01_b.ipynb"]

    # a failure writing the last notebook leaves the whole earlier set, the report included
    real = outputs._fsync

    def fsync(path: Path) -> None:
        if path.name == "01_b.html" and path.parent.name == "notebooks":
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        real(path)

    monkeypatch.setattr(outputs, "_fsync", fsync)
    newer = scenario(tmp_path / "s", "new", 2_000_000)
    with pytest.raises(OutputError, match="Read-only file system"):
        report.write_report(newer, out_dir=out, draws=3)
    assert (out / "report.html").read_bytes() == first and beside(out) == []

    # a report without notebooks does not leave the earlier run's notebooks beside it
    monkeypatch.setattr(outputs, "_fsync", real)
    notes = []
    report.write_report(newer, out_dir=out, draws=3, notebooks=False, say=notes.append)
    assert not (out / "notebooks").exists() and (out / "report.html").read_bytes() != first
    assert "held notebooks from an earlier command" in notes[0]


# ---------------------------------------------------------------------------
# Where outputs may go
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("where,message", [
    ("/", "root folder"), ("/etc", "system folder"), ("/proc/wcf-model", "system folder"),
    ("/usr/share/wcf-model", "system folder"),
])
def test_system_folders_are_refused(where, message):
    with pytest.raises(OutputError, match=message):
        check_output_folder(where)


def test_a_folder_with_other_files_is_refused_and_kept(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("{}")
    (out / "my notes.docx").write_text("mine")
    with pytest.raises(OutputError, match=r"holds my notes\.docx, not written by wcf-model"):
        write_set(out, {"results.json": lambda p: p.write_text("new")})
    assert (out / "results.json").read_text() == "{}" and (out / "my notes.docx").read_text() == "mine"


def test_a_folder_of_earlier_outputs_without_a_manifest_is_replaced(tmp_path):
    # as written before output sets had manifests, with an interrupted write's temporary file
    out = tmp_path / "out"
    out.mkdir()
    for name in ("results.json", "summary.csv", ".results.json.ab12cd34.tmp"):
        (out / name).write_text("old")
    write_set(out, {"results.json": lambda p: p.write_text("new")})
    assert sorted(os.listdir(out)) == [MANIFEST, "results.json"] and (out / "results.json").read_text() == "new"


def test_outputs_over_or_around_inputs_are_refused(tmp_path):
    data = tmp_path / "in" / "scenario.yaml"
    data.parent.mkdir()
    data.write_text("x")
    with pytest.raises(OutputError, match="holds an input"):
        check_output_folder(tmp_path, inputs=[data])
    with pytest.raises(OutputError, match="it is a scenario file being read"):
        write_file(data, lambda p: p.write_text("y"), inputs=[data])
    with pytest.raises(UsageError, match="holds inputs"):
        check_output_folder(REPO / "data" / "x")
    with pytest.raises(OutputError, match="it is a folder of inputs being read"):  # --data DIR --out DIR
        check_output_folder(data.parent, inputs=[data.parent])
    assert data.read_text() == "x"


def test_an_interrupted_write_all_is_finished_by_the_next(tmp_path, monkeypatch):
    # a kill after the first of two moves: the journal lets the next write finish the second
    (tmp_path / "a.csv").write_text("old a")
    (tmp_path / "b.csv").write_text("old b")
    real = os.replace
    moves = []

    def replace(a, b):
        moves.append(b)
        if len(moves) == 2:
            raise KeyboardInterrupt  # stands for the kill: nothing after it runs
        real(a, b)

    monkeypatch.setattr(outputs.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_all(tmp_path, {"a.csv": lambda p: p.write_text("new a"), "b.csv": lambda p: p.write_text("new b")})
    monkeypatch.undo()
    assert (tmp_path / "a.csv").read_text() == "new a" and (tmp_path / "b.csv").read_text() == "old b"
    write_all(tmp_path, {"c.csv": lambda p: p.write_text("c")})
    assert (tmp_path / "b.csv").read_text() == "new b"
    assert sorted(os.listdir(tmp_path)) == ["a.csv", "b.csv", "c.csv"]


# ---------------------------------------------------------------------------
# Every command that writes a set: report, sweep, backtest --all, reference-class
# ---------------------------------------------------------------------------

#: Each command as ``argv(seed, out)``, small enough to run a dozen times: two seeds (or
#: origins) give two sets whose files differ. The sweep and the national back-test read a
#: small extract (England and three authorities) made by the ``small_data`` fixture.
GENERIC = REPO / "scenarios" / "options" / "generic.yaml"
COMMANDS = {
    "report": lambda seed, out, data: ["report", str(OBC), "--no-notebooks", "--draws", "5", "--seed", str(seed),
                                       "--out", str(out)],
    "sweep": lambda seed, out, data: ["sweep", "--la", "885", "--draws", "10", "--workers", "1", "--seed",
                                      str(seed), "--options", str(GENERIC), "--data", str(data), "-o", str(out)],
    "backtest --all": lambda seed, out, data: ["backtest", "--all", "--origins", str(2017 + seed), "--method",
                                               "window", "--draws", "0", "--jobs", "1", "--data", str(data),
                                               "--out", str(out)],
    "reference-class": lambda seed, out, data: ["reference-class", "--placebos", "19", "--seed", str(seed),
                                                "--data", str(REPO / "data"), "--out", str(out)],
}
#: (point of the save, signal) -> the set the folder holds afterwards: a kill while the
#: files are written leaves the old set; SIGTERM is held through the swap, which finishes;
#: a SIGKILL between the two renames of a swap (where the system cannot exchange two
#: folders in one step) is finished by the next write.
COMMAND_KILLS = {("wrote the first file", "SIGKILL"): "old", ("before the swap", "SIGTERM"): "new",
                 ("between the renames", "SIGKILL"): "new"}


def contents(folder: Path) -> dict[str, str]:
    """Every file under ``folder``: relative path -> sha256."""
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    import pandas as pd

    folder = tmp_path_factory.mktemp("small-data")
    frame = pd.read_csv(REPO / "data" / "dfe_extract.csv.gz", dtype=str, keep_default_na=False)
    frame[frame["la_code"].isin(["E92000001", "885", "871", "857"])].to_csv(folder / "dfe_extract.csv.gz",
                                                                           index=False)
    return folder


@pytest.fixture(scope="module", params=list(COMMANDS))
def command_sets(request, small_data, tmp_path_factory) -> dict:
    """A command's new set and old set, each written to the same folder (so any file naming
    its folder, such as the report's reproduce line, is the same), and the old one kept."""
    base = tmp_path_factory.mktemp("sets")
    out = base / "o" / "out"
    argv = functools.partial(COMMANDS[request.param], out=out, data=small_data)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(argv(2)) == 0
        new = contents(out)
        assert cli.main(argv(1)) == 0
    old = contents(out)
    assert MANIFEST in old and {k for k in old if k != MANIFEST} == {k for k in new if k != MANIFEST}
    # at least two files differ, so a folder holding one from each run is seen as a mix
    assert len([k for k in old if old[k] != new[k] and k != MANIFEST]) >= 2
    shutil.copytree(out, base / "kept")
    return {"command": request.param, "argv": argv, "out": out, "kept": base / "kept", "old": old, "new": new}


@pytest.mark.parametrize("point,signame", list(COMMAND_KILLS))
def test_every_command_s_set_is_old_or_new_after_a_kill(command_sets, point, signame):
    sets, out = command_sets, command_sets["out"]
    shutil.rmtree(out)
    shutil.copytree(sets["kept"], out)
    sig = getattr(signal, signame)
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, point, *sets["argv"](2)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    while line and line != "waiting":  # what a command prints as it works
        line = proc.stdout.readline().strip()
    assert line == "waiting", proc.communicate()[1]
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if signame == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL
        recover(out)  # what the next write to the folder does first
    else:
        assert proc.returncode == 128 + sig and "Traceback" not in err, err
    got = contents(out)
    assert got == sets[COMMAND_KILLS[point, signame]], f"{sets['command']}: a mixed or damaged set"
    assert beside(out) == []
