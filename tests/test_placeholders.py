"""Placeholders can never pass: validate --strict fails them, run and report refuse them.

The old template's figures were marked "REPLACE" yet passed ``validate --strict``,
ran, and gave a report with no word of warning. A placeholder is the word
REPLACE or PLACEHOLDER, in capitals, in any text of a scenario.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO
from wcf_model.errors import ScenarioError
from wcf_model.report import write_report
from wcf_model.scenario import load_scenario
from wcf_model.validation import find_placeholders

HELD = f"""\
scenario:
  name: held
  title: "REPLACE: council name, children's services"
  extends: {REPO / "scenarios" / "worcestershire" / "base.yaml"}
parameters:
  demand:
    cla:
      opening_stock:
        value: 700
        unit: children
        source: "REPLACE: DfE CLA tables, looked after at 31 March"
        confidence: 5
options:
  in_house:
    description: "PLACEHOLDER: what the council does now"
"""


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wcf_model.cli", *args], capture_output=True, text=True,
                          cwd=REPO, check=False)


def test_validate_strict_names_every_placeholder_with_its_line(write):
    path = write("held.yaml", HELD)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, strict=True)
    found = {(p.key, p.line) for p in caught.value.problems}
    # the title (line 3), the figure whose source is marked (reported at the figure's key,
    # on the marked line 11: its number is the placeholder), and the option's description (line 15)
    assert found == {("scenario.title", 3), ("parameters.demand.cla.opening_stock", 11),
                     ("options.in_house.description", 15)}
    done = cli("validate", "--strict", str(path))
    assert done.returncode == 2 and "is a placeholder" in done.stderr and "held.yaml:11:" in done.stderr


def test_without_strict_a_placeholder_is_a_warning_not_a_pass(write):
    path = write("held.yaml", HELD)
    assert len(load_scenario(path).placeholders) == 3
    done = cli("validate", str(path))
    assert done.returncode == 0 and "warning:" in done.stderr and "3 placeholder(s) left in" in done.stderr


def test_lower_case_words_are_not_placeholders():
    assert find_placeholders({"note": "replace with your own pay scale", "x": "placeholder"}, "f") == []
    assert len(find_placeholders({"note": "REPLACE"}, "f")) == 1


def test_run_refuses_placeholders_unless_allowed(write, tmp_path):
    path = write("held.yaml", HELD)
    out = tmp_path / "out"
    done = cli("run", str(path), "--out", str(out))
    assert done.returncode == 2 and "--allow-placeholders" in done.stderr and "Traceback" not in done.stderr
    assert "parameters.demand.cla.opening_stock" in done.stderr
    assert not out.exists()  # nothing written
    done = cli("run", str(path), "--out", str(out), "--allow-placeholders")
    assert done.returncode == 0, done.stderr
    assert "3 placeholder(s) left in" in done.stderr
    results = json.loads((out / "results.json").read_text())
    assert len(results["placeholders"]) == 3


@pytest.mark.filterwarnings("ignore:no option passes every critical success factor")
def test_a_report_with_placeholders_says_so_before_anything_else(write, tmp_path):
    path = write("held.yaml", HELD)
    with pytest.raises(ScenarioError, match="report refuses figures that describe no council"):
        write_report(path, out_dir=tmp_path / "no", notebooks=False, draws=20)
    assert not (tmp_path / "no").exists()
    written = write_report(path, out_dir=tmp_path / "yes", notebooks=False, draws=20, allow_placeholders=True)
    page = next(p for p in written if p.name == "report.html").read_text(encoding="utf-8")
    banner = page.index('class="notice placeholders"')
    # on the first screen, before the answer, as an element of its own
    assert banner < page.index('<section class="answer"')
    assert "This scenario still holds 3 placeholders" in page
    assert "cannot be used for a decision" in page


def test_every_shipped_scenario_is_free_of_placeholders():
    # scenarios/effects/ holds effect libraries, not scenarios; no text there is marked either
    for path in sorted((REPO / "scenarios").rglob("*.yaml")):
        if "effects" in path.parts:
            assert find_placeholders({"text": path.read_text(encoding="utf-8")}, str(path)) == [], path
            continue
        assert load_scenario(path, strict=True).placeholders == (), path
