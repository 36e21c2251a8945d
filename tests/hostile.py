"""Hostile and unlucky inputs, built on demand, and a way to run them.

Each builder makes the files of one case in a folder of its own and says which
``wcf-model`` command to run, what the message must name and say, and which
files must come through untouched. ``tests/test_hostile.py`` runs every case
and checks the promise (exit 2, a message naming the file, no traceback,
nothing of the user's changed, no temporary files left); ``benchmarks/hostile.py``
runs the same cases and measures each one's time and peak memory.

The cases are the ones a hostile or unlucky user tried: files other than
scenarios where a scenario, workbook or actuals file belongs, output paths that
cannot or must not be written, and figures that would silently mean something
else.
"""

from __future__ import annotations

import hashlib
import io
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORCS = REPO / "scenarios" / "worcestershire"
OBC = "2018-outline-business-case.yaml"
#: What "cmd|' /C calc'!A0" would do if a spreadsheet ran it: the classic DDE payload.
DDE = "=cmd|' /C calc'!A0"


@dataclass
class Case:
    """One hostile input and what wcf-model must do with it."""

    name: str
    argv: list[str]                 # arguments to wcf-model, run in ``folder``
    folder: Path
    names: str                      # the file the message must name
    says: str                       # a phrase the message must hold
    code: int = 2
    fsize_limit: int | None = None  # bytes a file may grow to (a full disk)
    timeout: float = 60.0           # a guard against hangs, not a speed target
    isolate: bool = False           # run in a process of its own (it could hang or take memory if broken)


@dataclass
class Outcome:
    code: int | None                # None when the guard timed it out
    seconds: float                  # wall time
    cpu_seconds: float              # user + system time: less disturbed by other work on the machine
    peak_mb: float
    stdout: str
    stderr: str


def snapshot(folder: Path) -> dict[str, tuple[str, str]]:
    """Every entry under ``folder``: relative path -> (kind, sha256 of a file's bytes)."""
    out: dict[str, tuple[str, str]] = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        rel = str(path.relative_to(folder))
        if stat.S_ISREG(mode):
            out[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
        else:
            out[rel] = ("dir" if stat.S_ISDIR(mode) else "special", "")
    return out


def run(case: Case, python: str = sys.executable, env: dict[str, str] | None = None,
        memory_cap: int | None = None) -> Outcome:
    """Run a case's command as a user would; wall time and the child's own peak memory.

    ``memory_cap`` (bytes of address space) keeps a run of the unfixed code
    from taking the machine's memory; the fixed code never comes near it.
    """
    def limits() -> None:
        if case.fsize_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (case.fsize_limit, case.fsize_limit))
        if memory_cap is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))

    timed_out = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen([python, "-m", "wcf_model.cli", *case.argv], cwd=case.folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limits)
    streams: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda n=n, s=s: streams.__setitem__(n, s.read()))
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()

    def kill() -> None:
        timed_out.set()
        proc.kill()

    guard = threading.Timer(case.timeout, kill)
    guard.start()
    # wait4 rather than Popen.wait: it also gives this child's own peak memory
    _, status, usage = os.wait4(proc.pid, 0)
    guard.cancel()
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    return Outcome(None if timed_out.is_set() else proc.returncode, seconds, usage.ru_utime + usage.ru_stime,
                   usage.ru_maxrss / 1024,
                   streams["out"].decode("utf-8", "replace"), streams["err"].decode("utf-8", "replace"))


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------


def scenario_copy(folder: Path) -> Path:
    """The Worcestershire 2018 outline business case and its base, copied into ``folder/s``."""
    s = folder / "s"
    s.mkdir(parents=True, exist_ok=True)
    for name in ("base.yaml", OBC):
        shutil.copy(WORCS / name, s / name)
    return s / OBC


def child(folder: Path, name: str, body: str = "", header: str = "", parent: str = OBC) -> Path:
    """A scenario in ``folder/s`` that extends the copied outline business case: ``header`` adds
    keys to its ``scenario:`` block, ``body`` the rest."""
    path = folder / "s" / name
    head = f"scenario:\n  name: {Path(name).stem}\n  extends: {parent}\n" + textwrap.indent(
        textwrap.dedent(header), "  ")
    path.write_text(head + textwrap.dedent(body), encoding="utf-8")
    return path


def exported_workbook(folder: Path, name: str = "edited.xlsx") -> tuple[Path, Path]:
    """The outline business case's assumptions workbook, exported by wcf-model itself."""
    from wcf_model import load_scenario
    from wcf_model.workbook_export import export_assumptions

    scenario = scenario_copy(folder)
    book = folder / name
    export_assumptions(load_scenario(scenario), book)
    return scenario, book


def edit_workbook(book: Path, edit: Callable) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(book)
    edit(wb)
    wb.save(book)


def set_parameter(wb, name: str, **cells) -> None:
    """Set cells of one row of the Parameters sheet by column heading."""
    ws = wb["Parameters"]
    heads = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == name:
            for column, value in cells.items():
                row[heads.index(column)].value = value
            return
    raise KeyError(name)


def rewrite_zip(book: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    """Rewrite each member of an .xlsx through ``change(name, data)`` (None drops it)."""
    with zipfile.ZipFile(book) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            new = change(info.filename, data)
            if new is not None:
                z.writestr(info.filename, new)
    book.write_bytes(buf.getvalue())


def sheet_member(book: Path, title: str) -> str:
    """The zip member holding sheet ``title``."""
    from openpyxl import load_workbook

    wb = load_workbook(book, read_only=True)
    index = wb.sheetnames.index(title) + 1
    wb.close()
    return f"xl/worksheets/sheet{index}.xml"


def sheet_xml(rows: list[list[str]]) -> bytes:
    """A worksheet's XML holding ``rows`` of text (inline strings), written directly: far
    quicker than openpyxl for a sheet of 200,000 rows."""
    from xml.sax.saxutils import escape

    from openpyxl.utils import get_column_letter

    out = ['<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
           'spreadsheetml/2006/main"><sheetData>']
    for r, row in enumerate(rows, start=1):
        cells = "".join(f'<c r="{get_column_letter(i)}{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                        for i, v in enumerate(row, start=1) if v != "")
        out.append(f'<row r="{r}">{cells}</row>')
    out.append("</sheetData></worksheet>")
    return "".join(out).encode("utf-8")


def actuals_header() -> str:
    return "measure,period,value,unit,source,note\n"


# ---------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------

BUILDERS: dict[str, Callable[[Path], Case]] = {}


def case(fn: Callable[[Path], Case]) -> Callable[[Path], Case]:
    BUILDERS[fn.__name__] = fn
    return fn


# -- data loss --------------------------------------------------------------


@case
def import_over_its_own_workbook(f: Path) -> Case:
    scenario, book = exported_workbook(f)
    edit_workbook(book, lambda wb: set_parameter(wb, "demand.cla.opening_stock", value=900,
                                                 source="Council performance report, June 2019"))
    return Case("import_over_its_own_workbook",
                ["import-assumptions", "edited.xlsx", "--base", f"s/{OBC}", "-o", "edited.xlsx"], f,
                names="edited.xlsx", says="is the workbook being read")


@case
def run_over_a_folder_named_like_an_output(f: Path) -> Case:
    scenario = scenario_copy(f)
    out = f / "out"
    (out / "results.xlsx").mkdir(parents=True)           # stands for a file another program holds
    (out / "results.xlsx" / "keep.txt").write_text("mine")
    (out / "results.json").write_text("{}\n")
    return Case("run_over_a_folder_named_like_an_output",
                ["run", f"s/{OBC}", "--draws", "10", "--out", "out"], f,
                names="out", says="not written by wcf-model")


# -- hangs and resource exhaustion --------------------------------------------


@case
def draws_a_million_on_the_command_line(f: Path) -> Case:
    scenario_copy(f)
    return Case("draws_a_million_on_the_command_line",
                ["run", f"s/{OBC}", "--draws", "1000000", "--out", "out"], f,
                names="--draws", says="would need about", isolate=True)


@case
def draws_ten_million_on_the_command_line(f: Path) -> Case:
    scenario_copy(f)
    return Case("draws_ten_million_on_the_command_line",
                ["run", f"s/{OBC}", "--draws", "10000000", "--out", "out"], f,
                names="--draws", says="at most", isolate=True)


@case
def draws_a_million_in_the_scenario(f: Path) -> Case:
    scenario_copy(f)
    child(f, "many-draws.yaml", header="draws: 1000000\n")
    return Case("draws_a_million_in_the_scenario", ["run", "s/many-draws.yaml", "--out", "out"], f,
                names="s/many-draws.yaml:4: scenario.draws", says="would need about", isolate=True)


@case
def workbook_with_200000_bad_rows(f: Path) -> Case:
    """The Parameters sheet replaced by 200,000 rows naming no parameter, with text for a value."""
    scenario, book = exported_workbook(f)
    member = sheet_member(book, "Parameters")
    head = ["name", "description", "value", "unit", "price_year", "source", "confidence", "distribution", "note"]
    rows = [head] + [[f"no.such.parameter_{i}", "", "x"] for i in range(200_000)]
    rewrite_zip(book, lambda name, data: sheet_xml(rows) if name == member else data)
    return Case("workbook_with_200000_bad_rows",
                ["import-assumptions", "edited.xlsx", "--base", f"s/{OBC}", "-o", "new.yaml"], f,
                names="edited.xlsx", says="'Parameters' has rows down to 10,001", isolate=True)


@case
def actuals_with_a_million_bad_rows(f: Path) -> Case:
    scenario_copy(f)
    line = "no_such_measure,2019-20,x,children,nowhere,\n"
    (f / "actuals.csv").write_text(actuals_header() + line * 1_000_000)
    return Case("actuals_with_a_million_bad_rows",
                ["report", f"s/{OBC}", "--no-notebooks", "--draws", "20", "--actuals", "actuals.csv",
                 "--out", "out"], f, names="actuals.csv", says="is over 5,000,000 bytes", isolate=True)


@case
def billion_laughs(f: Path) -> Case:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    (f / "laughs.yaml").write_text("scenario:\n  name: laughs\n" + "\n".join(lines) + "\n")
    return Case("billion_laughs", ["validate", "laughs.yaml"], f, names="laughs.yaml", says="aliases", isolate=True)


@case
def deeply_nested_yaml(f: Path) -> Case:
    (f / "deep.yaml").write_text("scenario: " + "[" * 20_000 + "]" * 20_000 + "\n")
    return Case("deeply_nested_yaml", ["validate", "deep.yaml"], f, names="deep.yaml", says="deep", isolate=True)


@case
def recursive_yaml_alias(f: Path) -> Case:
    (f / "loop.yaml").write_text("scenario: &a\n  name: loop\n  again: *a\n")
    return Case("recursive_yaml_alias", ["validate", "loop.yaml"], f, names="loop.yaml", says="alias", isolate=True)


@case
def extends_a_fifo(f: Path) -> Case:
    os.mkfifo(f / "pipe.yaml")
    (f / "s.yaml").write_text("scenario:\n  name: s\n  extends: pipe.yaml\n")
    return Case("extends_a_fifo", ["validate", "s.yaml"], f, names="pipe.yaml", says="not a regular file",
                timeout=30, isolate=True)


@case
def extends_dev_zero(f: Path) -> Case:
    (f / "s.yaml").write_text("scenario:\n  name: s\n  extends: /dev/zero\n")
    return Case("extends_dev_zero", ["validate", "s.yaml"], f, names="/dev/zero", says="not a regular file",
                timeout=30, isolate=True)


@case
def scenario_is_a_fifo(f: Path) -> Case:
    os.mkfifo(f / "pipe.yaml")
    return Case("scenario_is_a_fifo", ["validate", "pipe.yaml"], f, names="pipe.yaml",
                says="not a regular file", timeout=30, isolate=True)


@case
def workbook_zip_bomb(f: Path) -> Case:
    """About 1 MB on disk, 1 GB of sheet XML once decompressed: one cell of a billion letters."""
    scenario, book = exported_workbook(f)
    member = sheet_member(book, "Parameters")

    def bomb(name: str, data: bytes) -> bytes | None:
        return None if name == member else data

    rewrite_zip(book, bomb)
    with zipfile.ZipFile(book, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open(member, "w", force_zip64=True) as out:
            out.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxml'
                      b'formats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr">'
                      b"<is><t>")
            chunk = b"a" * (1 << 20)
            for _ in range(1024):
                out.write(chunk)
            out.write(b"</t></is></c></row></sheetData></worksheet>")
    return Case("workbook_zip_bomb",
                ["import-assumptions", "edited.xlsx", "--base", f"s/{OBC}", "-o", "new.yaml"], f,
                names="edited.xlsx", says="decompress", isolate=True)


@case
def workbook_xml_entity_bomb(f: Path) -> Case:
    """Nested XML entities in a sheet: a billion letters from a few hundred bytes."""
    scenario, book = exported_workbook(f)
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {b} "{("&" + a + ";") * 10}">' for a, b in zip("abcdefgh", "bcdefghi"))
    doctype = f"<!DOCTYPE worksheet [{entities}]>".encode()

    member = sheet_member(book, "Effects")

    def bomb(name: str, data: bytes) -> bytes:
        if name != member:
            return data
        if data.startswith(b"<?xml"):
            data = data.partition(b"?>")[2]
        return doctype + data.replace(b"<t>", b"<t>&i;", 1)

    rewrite_zip(book, bomb)
    return Case("workbook_xml_entity_bomb",
                ["import-assumptions", "edited.xlsx", "--base", f"s/{OBC}", "-o", "new.yaml"], f,
                names="edited.xlsx", says="DOCTYPE", isolate=True)


# -- internal errors where a clear message is due ---------------------------------


@case
def workbook_chartsheet_named_parameters(f: Path) -> Case:
    scenario, book = exported_workbook(f)

    def swap(wb) -> None:
        index = wb.sheetnames.index("Parameters")
        wb.remove(wb["Parameters"])
        wb.create_chartsheet("Parameters", index)

    edit_workbook(book, swap)
    return Case("workbook_chartsheet_named_parameters",
                ["import-assumptions", "edited.xlsx", "--base", f"s/{OBC}", "-o", "new.yaml"], f,
                names="edited.xlsx: Parameters", says="chart sheet")


@case
def workbook_truncated_sheet_xml(f: Path) -> Case:
    scenario, book = exported_workbook(f)
    member = sheet_member(book, "Parameters")
    rewrite_zip(book, lambda name, data: data[: len(data) // 2] if name == member else data)
    return Case("workbook_truncated_sheet_xml",
                ["import-assumptions", "edited.xlsx", "--base", f"s/{OBC}", "-o", "new.yaml"], f,
                names="edited.xlsx", says="'Parameters' (xl/worksheets/sheet2.xml) is damaged")


@case
def workbook_truncated_workbook_xml(f: Path) -> Case:
    scenario, book = exported_workbook(f)
    rewrite_zip(book, lambda name, data: data[: len(data) // 2] if name == "xl/workbook.xml" else data)
    return Case("workbook_truncated_workbook_xml",
                ["import-assumptions", "edited.xlsx", "--base", f"s/{OBC}", "-o", "new.yaml"], f,
                names="edited.xlsx", says="xl/workbook.xml")


@case
def out_names_a_file(f: Path) -> Case:
    scenario_copy(f)
    (f / "notes.txt").write_text("my notes\n")
    return Case("out_names_a_file", ["run", f"s/{OBC}", "--draws", "10", "--out", "notes.txt"], f,
                names="notes.txt", says="is a file")


@case
def output_file_names_a_folder(f: Path) -> Case:
    scenario, book = exported_workbook(f)
    edit_workbook(book, lambda wb: set_parameter(wb, "demand.cla.opening_stock", value=900,
                                                 source="Council performance report, June 2019"))
    (f / "new.yaml").mkdir()
    return Case("output_file_names_a_folder",
                ["import-assumptions", "edited.xlsx", "--base", f"s/{OBC}", "-o", "new.yaml"], f,
                names="new.yaml", says="is a folder")


@case
def export_over_a_folder(f: Path) -> Case:
    scenario_copy(f)
    (f / "book.xlsx").mkdir()
    return Case("export_over_a_folder", ["export-assumptions", f"s/{OBC}", "book.xlsx"], f,
                names="book.xlsx", says="is a folder")


def _run_out(f: Path, name: str, out: str, names: str, says: str) -> Case:
    """``run`` of the outline business case with ``--out`` naming a place outputs cannot or must not go."""
    scenario_copy(f)
    return Case(name, ["run", f"s/{OBC}", "--draws", "10", "--out", out], f, names=names, says=says)


@case
def out_name_too_long(f: Path) -> Case:
    return _run_out(f, "out_name_too_long", "x" * 300, names="xxxxxxxx", says="too long")


@case
def out_under_proc(f: Path) -> Case:
    return _run_out(f, "out_under_proc", "/proc/wcf-model-out", names="/proc/wcf-model-out", says="system folder")


@case
def out_is_the_root_folder(f: Path) -> Case:
    return _run_out(f, "out_is_the_root_folder", "/", names="/", says="root folder")


@case
def out_holds_the_scenario(f: Path) -> Case:
    return _run_out(f, "out_holds_the_scenario", "s", names="s", says="holds an input")


@case
def out_on_a_full_disk(f: Path) -> Case:
    scenario_copy(f)
    out = f / "out"
    out.mkdir()
    (out / "results.json").write_text('{"old": true}\n')
    return Case("out_on_a_full_disk", ["run", f"s/{OBC}", "--draws", "10", "--out", "out"], f,
                names="out", says="cannot write", fsize_limit=50_000, isolate=True)


@case
def seed_minus_one(f: Path) -> Case:
    scenario_copy(f)
    return Case("seed_minus_one", ["run", f"s/{OBC}", "--seed", "-1", "--out", "out"], f,
                names="--seed", says="at least 0")


@case
def actuals_field_over_131072_characters(f: Path) -> Case:
    scenario_copy(f)
    (f / "actuals.csv").write_text(actuals_header() + "cla_closing,2019-20,800,children,DfE," + "n" * 140_000 + "\n")
    return Case("actuals_field_over_131072_characters",
                ["report", f"s/{OBC}", "--no-notebooks", "--draws", "20", "--actuals", "actuals.csv",
                 "--out", "out"], f, names="actuals.csv:2", says="characters")


@case
def actuals_all_out_of_range(f: Path) -> Case:
    scenario_copy(f)
    rows = "".join(f"cla_closing,{y}-{(y + 1) % 100:02d},800,children,DfE,\n" for y in range(2040, 2046))
    (f / "actuals.csv").write_text(actuals_header() + rows)
    return Case("actuals_all_out_of_range",
                ["report", f"s/{OBC}", "--no-notebooks", "--draws", "20", "--actuals", "actuals.csv",
                 "--out", "out"], f, names="actuals.csv", says="2019-20 to 2028-29")


# -- silently wrong ------------------------------------------------------------------


def _validate_case(name: str, f: Path, body: str, says: str, line: int, header: str = "") -> Case:
    """``validate`` of a scenario extending the outline business case; the message names FILE:LINE: key."""
    scenario_copy(f)
    child(f, f"{name}.yaml", body, header)
    return Case(name, ["validate", f"s/{name}.yaml"], f, names=f"s/{name}.yaml:{line}: {says}", says=says)


@case
def one_off_cost_outside_the_period(f: Path) -> Case:
    return _validate_case("one_off_cost_outside_the_period", f, """\
        options:
          company_csc:
            one_off_costs:
              project_management: {value: 1740000, unit: GBP, category: project_management, price_year: "2018-19",
                                   when: "2031-32", source: test, confidence: 3}
        """, "options.company_csc.one_off_costs.project_management.when", 8)


@case
def recurring_cost_ending_before_it_starts(f: Path) -> Case:
    return _validate_case("recurring_cost_ending_before_it_starts", f, """\
        options:
          company_csc:
            recurring_costs:
              client_function: {value: 800000, unit: GBP/year, category: client_function, start: "2022-23",
                                end: "2020-21", source: test, confidence: 5}
        """, "options.company_csc.recurring_costs.client_function.end", 8)


@case
def option_ending_before_go_live(f: Path) -> Case:
    return _validate_case("option_ending_before_go_live", f, """\
        options:
          company_csc:
            end: "2019-20"
            go_live: 2021-10-01
        """, "options.company_csc.end", 6)


@case
def effect_starting_after_the_horizon(f: Path) -> Case:
    return _validate_case("effect_starting_after_the_horizon", f, """\
        options:
          company_csc:
            effects:
              late:
                driver: demand.referrals.rate_per_10k
                change: -0.5
                mode: multiply
                start: "2035-36"
                evidence: test
                confidence: 5
        """, "options.company_csc.effects.late.start", 11)


@case
def correlation_pair_given_twice(f: Path) -> Case:
    return _validate_case("correlation_pair_given_twice", f, """\
        correlations:
          first: {inputs: [options.company_csc.recurring_costs.client_function,
                           options.company_csc.recurring_costs.company_running], rank_correlation: 0.5}
          second: {inputs: [options.company_csc.recurring_costs.company_running,
                            options.company_csc.recurring_costs.client_function], rank_correlation: -0.5}
        """, "correlations.second", 7)


@case
def contract_longer_than_the_appraisal(f: Path) -> Case:
    return _validate_case("contract_longer_than_the_appraisal", f, "", "scenario.contract_years", 4,
                          header="contract_years: 12\n")


@case
def set_effect_leaving_the_driver_range(f: Path) -> Case:
    return _validate_case("set_effect_leaving_the_driver_range", f, """\
        options:
          company_csc:
            effects:
              agency:
                driver: workforce.agency_share
                change: 0.1
                mode: set
                distribution: {type: normal, mean: 0.1, sd: 0.2}
                evidence: test
                confidence: 5
        """, "options.company_csc.effects.agency.distribution", 11)


@case
def effect_multiplying_by_1e300(f: Path) -> Case:
    return _validate_case("effect_multiplying_by_1e300", f, """\
        options:
          company_csc:
            effects:
              huge:
                driver: demand.referrals.rate_per_10k
                change: 1.0e+300
                mode: multiply
                evidence: test
                confidence: 5
        """, "options.company_csc.effects.huge.change", 9)


@case
def opening_stock_of_1e308(f: Path) -> Case:
    return _validate_case("opening_stock_of_1e308", f, """\
        parameters:
          demand:
            cla:
              opening_stock: {value: 1.0e+308, unit: children, source: test, confidence: 1}
        """, "parameters.demand.cla.opening_stock.value", 7)


@case
def workbook_number_with_underscore(f: Path) -> Case:
    scenario, book = exported_workbook(f)
    edit_workbook(book, lambda wb: set_parameter(wb, "demand.cla.opening_stock", value="8_50",
                                                 source="Council performance report, June 2019"))
    return Case("workbook_number_with_underscore",
                ["import-assumptions", "edited.xlsx", "--base", f"s/{OBC}", "-o", "new.yaml"], f,
                names="edited.xlsx:11: Parameters!C11", says="8_50")


@case
def workbook_opening_stock_of_1e308(f: Path) -> Case:
    scenario, book = exported_workbook(f)
    edit_workbook(book, lambda wb: set_parameter(wb, "demand.cla.opening_stock", value=1e308,
                                                 source="Council performance report, June 2019"))
    return Case("workbook_opening_stock_of_1e308",
                ["import-assumptions", "edited.xlsx", "--base", f"s/{OBC}", "-o", "new.yaml"], f,
                names="edited.xlsx:11: Parameters!C11", says="at most 1e+15")


def _dfe_copy(f: Path) -> Path | None:
    # The published downloads: ./downloads/dfe, or $WCF_DOWNLOADS/dfe (as in conftest.py).
    published = Path(os.environ.get("WCF_DOWNLOADS", REPO / "downloads")) / "dfe"
    if not published.is_dir():
        return None
    dfe = f / "dfe"
    shutil.copytree(published, dfe)
    return dfe


@case
def backtest_with_a_corrupt_dfe_file(f: Path) -> Case:
    """A download damaged in one cell (Worcestershire's 833 children looked after at 31 March 2019)."""
    dfe = _dfe_copy(f)
    if dfe is None:
        raise FileNotFoundError("the DfE downloads (./downloads/dfe or $WCF_DOWNLOADS/dfe) are needed for this case")
    target = dfe / "cla_la_tables_2019.csv"
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if ",885,Worcestershire," in line)
    lines[i] = lines[i].replace(",833,", ",8?3,", 1)
    target.write_text("".join(lines), encoding="utf-8")
    return Case("backtest_with_a_corrupt_dfe_file",
                ["backtest", "--la", "885", "--fit-to", "2018", "--data", "dfe"], f,
                names="cla_la_tables_2019.csv", says="cannot be read")
