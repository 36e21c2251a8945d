"""The package reads one way: no import circle, and no import from a layer above.

The layers are those of docs/design.md ("Layers"). Every import between modules
of ``wcf_model`` counts, whether at the top of a file or inside a function (an
import moved into a function to dodge a circle is still a circle); only imports
under ``if TYPE_CHECKING:`` are left out, since they never run. A new module
must be given a layer here, which is the point: whoever adds it decides where it
lives.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "wcf_model"

#: Layer of each module, lowest first (docs/design.md, "Layers"). A module may
#: import from its own layer or any below it.
LAYERS: dict[str, int] = {}
for _layer, _modules in enumerate([
    # 1. foundations (plots is the chart style kit: matplotlib and the palette, nothing of the model)
    "errors limits memory yamlio outputs version formats grammar catalogue progress plots",
    # 2. scenario files and data
    "schema scenario overlay validation distributions uncertain tidy data dfe authorities prices effect_library",
    # 3. uncertain inputs: sampling
    "inputs",
    # 4. the engine, and the decision arithmetic the appraisal stores (MCA scores, chance of least cost)
    "demand forecast calibrate workforce projection costs tax effects discounting accounts mca voi",
    # 5. the appraisal: the one orchestrator and the data-only Results it returns
    "appraisal results",
    # 6. analysis: what is read from a Results
    "sensitivity decision compare measures actuals monitoring backtest reference_class sweep council analysis",
    # 7. presentation
    "tables figures reference_figures monitoring_chart register workbook workbook_layout workbook_export "
    "workbook_import workbook_io notebooks report",
    # 8. the command line
    "cli",
], start=1):
    for _name in _modules.split():
        LAYERS[_name] = _layer


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports ("__init__" for the package itself)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.ImportFrom):
                if child.level == 1 and child.module:            # from .x import y
                    found.add(child.module.split(".")[0])
                elif child.level == 1:                           # from . import x
                    for alias in child.names:
                        found.add(alias.name if alias.name in LAYERS or (PACKAGE / f"{alias.name}.py").exists()
                                  else "__init__")
                elif child.module and child.module.split(".")[0] == "wcf_model":
                    parts = child.module.split(".")
                    found.add(parts[1] if len(parts) > 1 else "__init__")
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    parts = alias.name.split(".")
                    if parts[0] == "wcf_model":
                        found.add(parts[1] if len(parts) > 1 else "__init__")
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return found


def _graph() -> dict[str, set[str]]:
    return {p.stem: _imports(p) - {p.stem} for p in sorted(PACKAGE.glob("*.py"))}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_the_graph_reader_sees_a_circle_and_an_import_up(tmp_path):
    # The checks below can fail: a two-module circle is found, and so is a
    # function-level import of the package itself.
    assert _circles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from . import __version__\n    from .report import x\n"
                 "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .cli import y\n")
    assert _imports(f) == {"__init__", "report"}


def test_no_import_circle():
    circles = _circles(_graph())
    assert not circles, "import circles in wcf_model/: " + "; ".join(" <-> ".join(c) for c in circles)


def test_every_module_has_a_layer():
    missing = sorted(set(_graph()) - set(LAYERS) - {"__init__", "__main__"})
    assert not missing, f"give these modules a layer in tests/test_layers.py and docs/design.md: {missing}"


def test_no_import_runs_back_up():
    upward = []
    for module, imported in _graph().items():
        if module in ("__init__", "__main__"):
            continue
        for other in sorted(imported):
            if other == "__init__":
                upward.append(f"{module} imports the package itself (wcf_model/__init__.py)")
            elif other in LAYERS and module in LAYERS and LAYERS[other] > LAYERS[module]:
                upward.append(f"{module} (layer {LAYERS[module]}) imports {other} (layer {LAYERS[other]})")
    assert not upward, "imports that run back up:\n" + "\n".join(upward)


def _names_written_as_text(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants in code (not docstrings) that name a column of the range's ends, e.g. "p10" or
    "x_p90_pc" (the median, p50, and other percentiles a table states as such are not the range)."""
    import re

    from wcf_model.formats import RANGE

    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    column = re.compile(rf"(^|_)p({RANGE[0]}|{RANGE[1]})(_|$)")
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and column.search(node.value)]


def test_the_reported_range_is_named_in_one_place():
    # formats.RANGE chooses the percentiles every range reports and formats.range_columns names their
    # columns: a column typed "p10" elsewhere would keep that name if the range became 5th-95th.
    found = {f"{path.name}:{line}": text for path in sorted(PACKAGE.glob("*.py")) if path.name != "formats.py"
             for line, text in _names_written_as_text(ast.parse(path.read_text(encoding="utf-8")))}
    assert not found, f"name the range's columns with formats.range_columns(): {found}"
    # the test sees such a name where one is typed, and not in a docstring
    assert _names_written_as_text(ast.parse('"""Columns p10 and p90."""\nx = row["p10"]\n')) == [(2, "p10")]
