"""Fuzzing: mutated scenarios, workbooks and actuals files never break wcf-model's promise.

The promise, for any file whatever: either the work is done and every result is
finite (strict JSON, no NaN, no infinity), or the file is refused with exit 2
(a :class:`~wcf_model.errors.WcfModelError`) whose message names the file. Never
an internal error (any other exception), never a hang, and never more than the
limits of :mod:`wcf_model.limits` allow.

Each test starts from a shipped file (the Worcestershire scenarios and the
example generated for Slough, the workbooks exported from them, the Worcestershire actuals) and
mutates it: values replaced by values of other types and extreme sizes, keys and
rows and sheets added, removed or renamed, structure broken (a truncated file,
random bytes, a damaged zip part), and the text re-encoded. The library is
called in this process (the command line's own error paths are the same
functions, and ``validate`` is run through ``wcf_model.cli.main`` too).

``make test`` runs a small, fixed set of examples (derandomised, so a failure is
the same on every machine); ``make fuzz`` loads the ``fuzz`` profile (see
``conftest.py``) and runs a long random campaign.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import json
import math
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from conftest import REPO
from wcf_model import cli, load_scenario
from wcf_model.errors import ScenarioError, WcfModelError
from wcf_model.actuals import read_actuals
from wcf_model.monitoring import compare
from wcf_model.appraisal import appraise
from wcf_model.results import first_non_finite, json_text
from wcf_model.workbook_export import build_workbook
from wcf_model.workbook_io import import_assumptions

WORCS = REPO / "scenarios" / "worcestershire"
CHAIN = ["base.yaml", "2018-outline-business-case.yaml", "2019-full-business-case.yaml"]
TEMPLATE = REPO / "scenarios" / "examples" / "slough-2026-27.yaml"  # a generated baseline, on its own
ACTUALS = REPO / "data" / "actuals" / "worcestershire.csv"

#: ``make fuzz`` loads the "fuzz" profile, whose many examples mark a campaign.
CAMPAIGN = settings.default.max_examples >= 1000


def sized(quick: int) -> settings:
    """A handful of fixed examples in ``make test``; the profile's many random ones in ``make fuzz``.

    The deadline only catches a hang: a single example takes well under a second.
    """
    return settings(max_examples=settings.default.max_examples if CAMPAIGN else quick,
                    derandomize=not CAMPAIGN, deadline=dt.timedelta(seconds=30), print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# ---------------------------------------------------------------------------
# What values a hostile or careless file holds
# ---------------------------------------------------------------------------

NASTY_TEXT = st.sampled_from([
    "", " ", "=cmd|' /C calc'!A0", "+1+1", "-", "@SUM(A1)", "\t", "\r\n", "8_50", "٣٣", "1e999", "-1e999", "nan",
    "inf", "2019-13-45", "2019-20", "2019-21", "go_live", "null", "~", "yes", "*a", "&a", "!!binary AA==",
    "!!python/object:os.system", "é" * 5, "a" * 20_000, "x\x00y", "£850", "25%", "1,000", "0x10", "1e15", "1e16",
    "demand.referrals.rate_per_10k", "triangular(low=1, mode=2, high=3)", "normal(mean=0, sd=-1)", "{", "[",
    "    value: " + "9" * 5000,  # a whole number Python will not turn into text (over 4,300 digits)
])
NUMBERS = st.one_of(
    st.integers(min_value=-10**6, max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 0.5, 1e15, -1e15, 1e16, 1e308, 10**30, -0.0, 2**63]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=12), NASTY_TEXT,
                    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=5)


@contextlib.contextmanager
def folder() -> Iterator[Path]:
    """A fresh folder for one example (pytest's tmp_path is one for all examples of a test)."""
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def names_a_file(exc: WcfModelError, files: list[str]) -> bool:
    """Whether an error says which file it is about."""
    text = str(exc)
    if isinstance(exc, ScenarioError) and exc.problems:
        return all(p.file for p in exc.problems) and any(f in text for f in files)
    return any(f in text for f in files)


def assert_finite_results(path: Path) -> None:
    """Load, appraise with a few draws, write results.json text: finite, strict, or a named refusal."""
    try:
        sc = load_scenario(path)
        res = appraise(sc, draws=4, seed=7)
        doc = json.loads(json_text(res), parse_constant=lambda c: pytest.fail(f"results.json holds {c}"))
    except WcfModelError as exc:
        assert names_a_file(exc, [str(path), str(path.parent)]), str(exc)
        return
    assert first_non_finite(doc) is None
    summary = res.summary().select_dtypes("number")
    assert np.isfinite(summary.to_numpy(dtype=float)).all()


# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------


def paths_in(tree, prefix=()) -> list[tuple]:
    """Every path to a value in a parsed YAML tree."""
    out = [prefix]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += paths_in(v, prefix + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += paths_in(v, prefix + (i,))
    return out


def mutate_tree(tree, data) -> None:
    """One structural change at a random place: a value of another type, a key removed or added."""
    path = data.draw(st.sampled_from(paths_in(tree)[1:]), label="path")
    parent = tree
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    op = data.draw(st.sampled_from(["replace", "delete", "add", "nest"]), label="op")
    if op == "replace":
        parent[key] = data.draw(VALUES, label="value")
    elif op == "delete":
        del parent[key]
    elif op == "add" and isinstance(parent, dict):
        parent[data.draw(st.one_of(st.text(max_size=10), NASTY_TEXT), label="key")] = data.draw(VALUES)
    else:
        parent[key] = [parent[key]] if data.draw(st.booleans()) else {"value": parent[key]}


def mutate_text(raw: bytes, data) -> bytes:
    """One change to a file's bytes: cut, splice, flip, re-encode, or YAML-specific damage."""
    op = data.draw(st.sampled_from(["truncate", "insert", "flip", "line", "encode", "alias", "tabs"]), label="op")
    at = data.draw(st.integers(0, max(len(raw) - 1, 0)), label="at")
    if op == "truncate":
        return raw[:at]
    if op == "insert":
        return raw[:at] + data.draw(st.binary(min_size=1, max_size=50), label="bytes") + raw[at:]
    if op == "flip":
        return raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1:] if raw else raw
    if op == "line":
        lines = raw.split(b"\n")
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        lines[i] = data.draw(NASTY_TEXT).encode("utf-8", "surrogatepass")
        return b"\n".join(lines)
    if op == "encode":
        codec = data.draw(st.sampled_from(["utf-16", "latin-1", "utf-8-sig", "cp1252"]), label="codec")
        return raw.decode("utf-8").encode(codec, "replace")
    if op == "alias":
        lines = raw.split(b"\n")
        i = data.draw(st.integers(0, len(lines) - 1))
        j = data.draw(st.integers(0, len(lines) - 1))
        lines[i] = lines[i].replace(b": ", b": &fz ", 1)
        lines[j] = lines[j].split(b":")[0] + b": *fz"
        return b"\n".join(lines)
    return raw.replace(b"  ", b"\t", data.draw(st.integers(1, 3)))


def write_chain(where: Path, target: str, content: bytes) -> Path:
    """The Worcestershire chain (or the Slough example) in ``where``, with ``target`` replaced; the file to load."""
    if target == TEMPLATE.name:
        (where / target).write_bytes(content)
        return where / target
    for name in CHAIN:
        (where / name).write_bytes(content if name == target else (WORCS / name).read_bytes())
    return where / CHAIN[-1]


SCENARIO_FILES = [*CHAIN, TEMPLATE.name]


def original(name: str) -> bytes:
    return (TEMPLATE if name == TEMPLATE.name else WORCS / name).read_bytes()


@sized(30)
@given(data=st.data())
def test_scenarios_with_changed_structure_give_finite_results_or_are_refused(data):
    target = data.draw(st.sampled_from(SCENARIO_FILES), label="file")
    tree = yaml.safe_load(original(target))
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        mutate_tree(tree, data)
    text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False).encode("utf-8", "surrogatepass")
    with folder() as where:
        assert_finite_results(write_chain(where, target, text))


@sized(30)
@given(data=st.data())
def test_scenarios_with_damaged_text_give_finite_results_or_are_refused(data):
    target = data.draw(st.sampled_from(SCENARIO_FILES), label="file")
    with folder() as where:
        path = write_chain(where, target, mutate_text(original(target), data))
        assert_finite_results(path)
        # the command line says the same, as exit 0 or 2 and never an internal error
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["validate", str(path)])
        assert code in (0, 2) and "internal error" not in err.getvalue() and "Traceback" not in err.getvalue()


# ---------------------------------------------------------------------------
# Workbooks
# ---------------------------------------------------------------------------


@functools.cache
def exported() -> dict[str, bytes]:
    """Each shipped scenario's assumptions workbook, as exported (made once; not a fixture, so a
    failing example's report does not print the workbooks' bytes)."""
    out = {}
    for path in (WORCS / CHAIN[1], WORCS / CHAIN[2]):
        buf = io.BytesIO()
        build_workbook(load_scenario(path)).save(buf)
        out[path.name] = buf.getvalue()
    return out


CELL_VALUES = st.one_of(NUMBERS.filter(lambda x: not isinstance(x, int) or abs(x) < 2**63), NASTY_TEXT,
                        st.text(max_size=15), st.none(), st.booleans(),
                        st.sampled_from(["=1+1", "=A1", "=SUM(C2:C9)"]),
                        st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)))


def edit_cells(book: bytes, data) -> bytes:
    """Cells set to other values, rows and sheets removed or renamed, with openpyxl."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    wb = load_workbook(io.BytesIO(book))
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        ws = wb[data.draw(st.sampled_from(wb.sheetnames), label="sheet")]
        op = data.draw(st.sampled_from(["cell", "cell", "cell", "delete_row", "insert_row", "rename", "remove"]),
                       label="op")
        if op == "cell":
            row = data.draw(st.integers(1, ws.max_row + 2), label="row")
            col = data.draw(st.integers(1, ws.max_column + 2), label="col")
            value = data.draw(CELL_VALUES, label="value")
            try:
                ws.cell(row, col).value = value
            except (ValueError, TypeError, IllegalCharacterError):  # openpyxl refuses some values itself
                pass
        elif op == "delete_row":
            ws.delete_rows(data.draw(st.integers(1, ws.max_row)))
        elif op == "insert_row":
            ws.insert_rows(data.draw(st.integers(1, ws.max_row + 1)))
        elif op == "rename":
            with contextlib.suppress(ValueError):
                ws.title = data.draw(st.sampled_from(["Parameters", "parameters", "By Year", "Effects ", "x"]))
        elif len(wb.sheetnames) > 1:
            wb.remove(ws)
    buf = io.BytesIO()
    try:
        wb.save(buf)
    except (AttributeError, TypeError, ValueError, IllegalCharacterError):  # openpyxl cannot save what it was given
        reject()
    return buf.getvalue()


def damage_zip(book: bytes, data) -> bytes:
    """A part of the archive truncated, dropped, replaced by random bytes or given extra XML."""
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        parts = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    name = data.draw(st.sampled_from([n for n, _ in parts]), label="part")
    op = data.draw(st.sampled_from(["truncate", "drop", "random", "inject", "whole"]), label="op")
    if op == "whole":  # the .xlsx file itself cut short or with bytes flipped
        at = data.draw(st.integers(0, len(book) - 1))
        return book[:at] if data.draw(st.booleans()) else book[:at] + bytes([book[at] ^ 0xFF]) + book[at + 1:]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, content in parts:
            if n == name:
                if op == "drop":
                    continue
                if op == "truncate":
                    content = content[: data.draw(st.integers(0, max(len(content) - 1, 0)))]
                elif op == "random":
                    content = data.draw(st.binary(max_size=200))
                else:
                    content = content.replace(b"<sheetData>", b"<sheetData>" + data.draw(st.sampled_from([
                        b"<row r='0'/>", b"<row r='999999999'><c r='XFD1'/></row>", b"<c/>", b"&lt;", b"<row>",
                        b"<![CDATA[x]]>", b"<row r='2'><c r='A2' t='s'><v>99999</v></c></row>"])), 1)
            z.writestr(n, content)
    return buf.getvalue()


def assert_import_promise(book: bytes, base: Path) -> None:
    with folder() as where:
        path = where / "edited.xlsx"
        path.write_bytes(book)
        try:
            lines = import_assumptions(path, base, where / "new.yaml")
        except WcfModelError as exc:
            assert names_a_file(exc, [str(path), str(base), str(where / "new.yaml")]), str(exc)
            return
        if lines:  # what was written is a scenario that loads, and appraises to finite results
            assert_finite_results(where / "new.yaml")


@sized(25)
@given(data=st.data())
def test_edited_workbooks_import_or_are_refused(data):
    name = data.draw(st.sampled_from(sorted(exported())), label="workbook")
    assert_import_promise(edit_cells(exported()[name], data), WORCS / name)


@sized(25)
@given(data=st.data())
def test_damaged_workbooks_are_refused_by_name(data):
    name = data.draw(st.sampled_from(sorted(exported())), label="workbook")
    assert_import_promise(damage_zip(exported()[name], data), WORCS / name)


# ---------------------------------------------------------------------------
# Actuals files
# ---------------------------------------------------------------------------


@functools.cache
def bands() -> pd.DataFrame:
    """The 2019 case's projected bands for the company, as a table (so each example is quick)."""
    from wcf_model.monitoring import projected_bands

    res = appraise(load_scenario(WORCS / CHAIN[2]), draws=20, seed=1)
    return projected_bands(res, "company_broad")


def mutate_actuals(text: str, data) -> bytes:
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        op = data.draw(st.sampled_from(["field", "field", "delete", "duplicate", "header", "quote", "long"]),
                       label="op")
        i = data.draw(st.integers(0, len(lines) - 1), label="line") if lines else 0
        if not lines:
            break
        if op == "field":
            fields = lines[i].split(",")
            j = data.draw(st.integers(0, len(fields) - 1))
            fields[j] = str(data.draw(st.one_of(NASTY_TEXT, NUMBERS, st.text(max_size=10))))
            lines[i] = ",".join(fields)
        elif op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "header":
            lines[0] = lines[0].replace(data.draw(st.sampled_from(["measure", "period", "value", "source"])),
                                        data.draw(st.sampled_from(["", "Measure", "measure", "x"])), 1)
        elif op == "quote":
            lines[i] = lines[i] + '"'
        else:
            lines[i] = lines[i] + "," + "n" * data.draw(st.sampled_from([10, 10_001, 140_000]))
    out = "\n".join(lines)
    codec = data.draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]), label="codec")
    return out.encode(codec, "replace")


@sized(50)
@given(data=st.data())
def test_damaged_actuals_compare_or_are_refused_by_name(data):
    with folder() as where:
        path = where / "actuals.csv"
        path.write_bytes(mutate_actuals(ACTUALS.read_text(encoding="utf-8"), data))
        try:
            comparison = compare(bands(), read_actuals(path))
        except WcfModelError as exc:
            assert str(path) in str(exc), str(exc)
            return
        numbers = comparison[["actual", "projected", "p10", "p90", "variance"]].to_numpy(dtype=float)
        assert np.isfinite(numbers).all()
        assert all(math.isfinite(v) or math.isnan(v) for v in comparison["variance_pct"])  # NaN when projected is 0
