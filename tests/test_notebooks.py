"""The notebooks the report executes: run side by side, kept in order, a failure named."""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from wcf_model import load_scenario
from wcf_model.notebooks import execute_notebooks, notebook_workers

OBC = REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml"


def _notebook(path, *sources):
    cells = [{"cell_type": "code", "id": "parameters", "metadata": {"tags": ["parameters"]}, "execution_count": None,
              "outputs": [], "source": 'scenario = ""\n'}]
    cells += [{"cell_type": "code", "id": f"cell-{i}", "metadata": {}, "execution_count": None, "outputs": [],
               "source": s} for i, s in enumerate(sources)]
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                                            "display_name": "Python 3"}},
                                "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    return path


def test_workers_are_the_processors_at_most_one_per_notebook():
    assert notebook_workers(1) == 1
    assert 1 <= notebook_workers(50) <= 50


def test_notebooks_run_side_by_side_come_back_in_order_and_a_failure_is_named(tmp_path):
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
    sc = load_scenario(OBC)
    first = _notebook(tmp_path / "00_first.ipynb", "leftover = 1")
    second = _notebook(tmp_path / "01_second.ipynb", "print(leftover)")
    with pytest.raises(RuntimeError, match=r"notebook 01_second.ipynb failed .*NameError"):
        execute_notebooks(sc, 10, paths=[first, second], workers=1)
