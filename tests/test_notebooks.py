"""Every notebook runs top to bottom under papermill, and is stored without outputs; the report runs them side by
side, in one kernel per processor, kept in order, a failure named."""

from __future__ import annotations

import json

import pytest

from conftest import REPO, DFE_DOWNLOADS, require

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
OBC = REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml"
SCENARIO = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["00_overview.ipynb", "01_demand.ipynb", "02_options.ipynb",
                                          "03_uncertainty.ipynb", "04_mca.ipynb", "05_scenario_comparison.ipynb",
                                          "06_monitoring.ipynb", "07_reference_class.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs_and_has_a_parameters_cell(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    source = "".join(tagged[0]["source"])
    assert "scenario =" in source and "draws =" in source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_under_papermill(path, tmp_path):
    papermill = require("papermill")
    out = tmp_path / path.name
    parameters = {"scenario": str(SCENARIO), "draws": 20}
    if path.name == "07_reference_class.ipynb" and DFE_DOWNLOADS.is_dir():
        # the estimates need every council's figures; without them the notebook says so and goes on
        parameters.update(data=str(DFE_DOWNLOADS), placebos=199)
    papermill.execute_notebook(str(path), str(out), parameters=parameters,
                               cwd=str(path.parent), progress_bar=False, kernel_name="python3")
    # strict JSON, as the report's copies are: no NaN or Infinity in any output
    executed = json.loads(out.read_text(encoding="utf-8"), parse_constant=lambda c: pytest.fail(f"{path.name}: {c}"))
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_reads_every_parameter_without_a_warning(path, caplog):
    """A comment holding '=' once hid 'draws' from papermill ('Unable to parse line 3')."""
    import ast

    translators = require("papermill.translators")
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    source = "".join(cell["source"])
    assigned = [t.id for node in ast.parse(source).body if isinstance(node, ast.Assign) for t in node.targets]
    with caplog.at_level("WARNING"):
        found = translators.PythonTranslator.inspect({"source": source})
    assert [r.getMessage() for r in caplog.records] == []
    assert [p.name for p in found] == assigned
    assert {"scenario", "draws", "seed"} <= set(assigned)


# ---------------------------------------------------------------------------
# How the report executes them (wcf_model.notebooks)
# ---------------------------------------------------------------------------


def _notebook(path, *sources):
    cells = [{"cell_type": "code", "id": "parameters", "metadata": {"tags": ["parameters"]}, "execution_count": None,
              "outputs": [], "source": 'scenario = ""\n'}]
    cells += [{"cell_type": "code", "id": f"cell-{i}", "metadata": {}, "execution_count": None, "outputs": [],
               "source": s} for i, s in enumerate(sources)]
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                                            "display_name": "Python 3"}},
                                "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    return path


def test_workers_are_the_processors_at_most_one_per_notebook(monkeypatch):
    import os

    from wcf_model.notebooks import notebook_workers

    assert notebook_workers(1) == 1
    assert 1 <= notebook_workers(50) <= 50
    # on a machine that lets this process use three processors: three kernels for eight
    # notebooks, two for two
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert notebook_workers(8) == 3
    assert notebook_workers(2) == 2


def test_notebooks_run_side_by_side_come_back_in_order_and_a_failure_is_named(tmp_path):
    from wcf_model import load_scenario
    from wcf_model.notebooks import execute_notebooks

    sc = load_scenario(OBC)
    # the first takes longest, so it finishes last; the result is still in the notebooks' order
    slow = _notebook(tmp_path / "00_slow.ipynb", "import time\ntime.sleep(2)\nprint('slow', scenario)")
    quick = _notebook(tmp_path / "01_quick.ipynb", "print('quick')")
    done = execute_notebooks(sc, 10, paths=[slow, quick], workers=2)
    assert list(done) == ["00_slow.ipynb", "01_quick.ipynb"]
    assert "2018-outline-business-case.yaml" in done["00_slow.ipynb"][0]   # the scenario was passed in
    bad = _notebook(tmp_path / "02_bad.ipynb", "raise ValueError('no such option')")
    with pytest.raises(RuntimeError, match=r"notebook 02_bad.ipynb failed for .*ValueError: no such option"):
        execute_notebooks(sc, 10, paths=[quick, bad], workers=2)


def test_one_kernel_runs_each_notebook_with_a_clear_namespace(tmp_path):
    # the second notebook runs in the first one's kernel, but cannot see its names
    from wcf_model import load_scenario
    from wcf_model.notebooks import execute_notebooks

    sc = load_scenario(OBC)
    first = _notebook(tmp_path / "00_first.ipynb", "leftover = 1")
    second = _notebook(tmp_path / "01_second.ipynb", "print(leftover)")
    with pytest.raises(RuntimeError, match=r"notebook 01_second.ipynb failed .*NameError"):
        execute_notebooks(sc, 10, paths=[first, second], workers=1)


# ---------------------------------------------------------------------------
# The report hands its analysis to the notebooks
# ---------------------------------------------------------------------------


def test_the_reports_analysis_is_read_back_only_for_its_own_scenario_draws_and_seed(tmp_path, monkeypatch):
    from wcf_model import load_scenario
    from wcf_model.analysis import analyse
    from wcf_model.notebooks import HANDOFF, hand_over, reported_analysis

    sc = load_scenario(OBC)
    handed = analyse(sc, 20, 3)
    path = tmp_path / "analysis.pickle"
    hand_over(handed, path)
    monkeypatch.delenv(HANDOFF, raising=False)
    assert reported_analysis(sc, 20, 3) is None                     # a notebook run on its own computes its own
    monkeypatch.setenv(HANDOFF, str(path))
    got = reported_analysis(sc, 20, 3)
    assert got is not None and got.res.uncertain.seed == 3 and got.res.uncertain.draws == 20
    assert got.tornado.equals(handed.tornado)
    # another number of draws, another seed or another scenario: the notebook computes its own
    assert reported_analysis(sc, 21, 3) is None
    assert reported_analysis(sc, 20, 4) is None
    assert reported_analysis(load_scenario(SCENARIO), 20, 3) is None
    # no seed means the scenario's own
    hand_over(analyse(sc, 20, None), path)
    assert reported_analysis(sc, 20, None) is not None
    assert reported_analysis(sc, 20, sc.header.seed) is not None


def test_a_notebook_waits_for_the_reports_analysis_and_stops_if_the_report_failed(tmp_path, monkeypatch):
    import threading

    from wcf_model import load_scenario
    from wcf_model.analysis import analyse
    from wcf_model.notebooks import HANDOFF, hand_over, hand_over_nothing, reported_analysis

    sc = load_scenario(OBC)
    handed = analyse(sc, 20, 3)
    path = tmp_path / "analysis.pickle"
    monkeypatch.setenv(HANDOFF, str(path))
    later = threading.Timer(0.3, hand_over, (handed, path))
    later.start()
    assert reported_analysis(sc, 20, 3) is not None                 # it waited for the file
    later.join()
    path.unlink()
    hand_over_nothing(path, "the scenario is refused")
    with pytest.raises(RuntimeError, match="the scenario is refused"):
        reported_analysis(sc, 20, 3)


def test_a_notebook_given_the_reports_analysis_shows_it_and_does_not_compute_its_own(tmp_path):
    """The report hands over an analysis whose multi-criteria analysis was taken out: the overview
    says the scenario scores no criteria, which its own analysis of the same scenario would not."""
    import dataclasses

    from wcf_model import load_scenario
    from wcf_model.analysis import analyse
    from wcf_model.notebooks import NOTEBOOK_DIR, execute_notebooks

    sc = load_scenario(OBC)
    assert analyse(sc, 20, 3).mca is not None
    handed = dataclasses.replace(analyse(sc, 20, 3), mca=None)
    done = execute_notebooks(sc, 20, 3, paths=[NOTEBOOK_DIR / "00_overview.ipynb"], workers=1, analysis=handed)
    assert "The scenario scores no criteria." in done["00_overview.ipynb"][1]
    # run on its own, the same notebook computes the analysis, MCA and all
    alone = execute_notebooks(sc, 20, 3, paths=[NOTEBOOK_DIR / "00_overview.ipynb"], workers=1)
    assert "The scenario scores no criteria." not in alone["00_overview.ipynb"][1]


def test_a_report_that_fails_before_its_analysis_stops_the_notebooks_waiting_for_it(tmp_path):
    from wcf_model import load_scenario
    from wcf_model.notebooks import NotebookRun

    sc = load_scenario(OBC)
    waits = _notebook(tmp_path / "00_waits.ipynb",
                      "from wcf_model.notebooks import reported_analysis\nreported_analysis(__import__('wcf_model')"
                      ".load_scenario(scenario), 10, None)")
    run = NotebookRun(sc, 10, paths=[waits], workers=1, analysis_to_come=True)
    run.give_up("ScenarioError: the scenario is refused")
    with pytest.raises(RuntimeError, match="00_waits.ipynb .*the scenario is refused"):
        run.result()


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="kernels are forked on Linux only")
def test_a_kernel_starts_with_the_reports_libraries_already_imported(tmp_path):
    import sys

    from wcf_model import load_scenario
    from wcf_model.notebooks import _ForkedKernel, execute_notebooks

    sc = load_scenario(OBC)
    probe = _notebook(tmp_path / "00_probe.ipynb", "import sys\nprint(sorted({'pandas', 'wcf_model'} & set(sys.modules)))")
    done = execute_notebooks(sc, 10, paths=[probe], workers=1)
    assert "['pandas', 'wcf_model']" in done["00_probe.ipynb"][0]
    # a kernel specification naming another interpreter, or not ipykernel, is started as it says
    assert _ForkedKernel.can_start([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not _ForkedKernel.can_start(["/usr/bin/env", "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not _ForkedKernel.can_start([sys.executable, "-m", "other_kernel", "-f", "k.json"])
