"""Every notebook runs top to bottom under papermill, and is stored without outputs."""

from __future__ import annotations

import json

import pytest

from conftest import REPO, DFE_DOWNLOADS, require

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
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
