"""The register and the assumptions workbook read the one uncertain-input specification
(:func:`wcf_model.uncertain.uncertain_inputs`), so what they call uncertain is what the
Monte Carlo run samples: no more, no less, with the same distribution, centre and unit."""

from __future__ import annotations

import openpyxl
import pytest

from conftest import MINIMAL, REPO
from wcf_model import load_scenario
from wcf_model.formats import RANGE, range_columns
from wcf_model.grammar import parse_distribution
from wcf_model.register import assumptions_register
from wcf_model.tables import register_table
from wcf_model.uncertain import PATH_MULTIPLIER, uncertain_inputs
from wcf_model.workbook_export import export_assumptions
from wcf_model.workbook_io import import_assumptions
from wcf_model.workbook_layout import MONTE_CARLO_COLUMNS

SCENARIOS = ["scenarios/worcestershire/2018-outline-business-case.yaml",
             "scenarios/worcestershire/2019-full-business-case.yaml",
             "scenarios/examples/slough-2026-27.yaml"]
VARIES, RANGE_COLUMN = MONTE_CARLO_COLUMNS


@pytest.fixture(scope="module", params=SCENARIOS, ids=lambda p: p.rsplit("/", 1)[-1].removesuffix(".yaml"))
def shipped(request):
    return REPO / request.param, load_scenario(REPO / request.param)


def _same_inputs(a, b) -> None:
    assert [(i.name, i.label, i.spec, i.central, i.unit) for i in a] == \
           [(i.name, i.label, i.spec, i.central, i.unit) for i in b]


# -- the register -------------------------------------------------------------


def test_the_registers_uncertain_rows_are_exactly_the_uncertain_inputs(shipped):
    _, sc = shipped
    reg = assumptions_register(sc)
    inputs = uncertain_inputs(sc)
    assert list(reg.loc[reg["varies"], "name"]) == [i.name for i in inputs]
    assert reg["name"].is_unique
    rows = reg.set_index("name")
    low, high = range_columns()
    for i in inputs:
        row = rows.loc[i.name]
        assert parse_distribution(row["distribution"]) == i.spec
        assert (row["central"], row["distribution_unit"]) == (i.central, i.unit)
        assert row[low] == pytest.approx(float(i.value(RANGE[0] / 100)[0]))
        assert row[high] == pytest.approx(float(i.value(RANGE[1] / 100)[0]))
    # a figure that does not vary shows no distribution and no range
    still = reg[~reg["varies"]]
    assert (still["distribution"] == "").all() and still[low].isna().all()


def test_the_readable_register_says_which_figures_vary_and_over_what_range(shipped):
    _, sc = shipped
    table = register_table(sc)
    frame = table.frame
    names = [k.split(" (")[0] for k in frame["key"]]
    assert [n for n, v in zip(names, frame["varies"]) if v == "yes"] == [i.name for i in uncertain_inputs(sc)]
    assert set(frame["varies"]) <= {"yes", "no"}
    assert table.columns["varies"].heading == "Varies in the Monte Carlo run"
    assert (frame.loc[frame["varies"] == "no", "range"] == "").all()
    assert (frame.loc[frame["varies"] == "yes", "range"] != "").all()


@pytest.fixture
def toy(write):
    """MINIMAL with a figure held fixed, a figure by year with a distribution, and an effect without one."""
    text = MINIMAL.replace(
        "opening_stock: {value: 833, unit: children, source: DfE SSDA903 2019, confidence: 1}",
        "opening_stock: {value: 833, unit: children, source: DfE SSDA903 2019, confidence: 1,"
        " distribution: {type: fixed}}",
    ).replace(
        "rate_per_10k: {value: 421, unit: per 10k children/year, source: DfE CIN census 2019, confidence: 1}",
        "rate_per_10k: {values: {\"2019-20\": 421, \"2020-21\": 430}, unit: per 10k children/year,"
        " source: DfE CIN census 2019, confidence: 1,"
        " distribution: {type: triangular, low: 0.9, mode: 1, high: 1.1}}",
    ).replace(
        "    csf:\n      independence: {met: true",
        "      more_leaving:\n"
        "        driver: demand.cla.exit_rate\n"
        "        change: 0.02\n"
        "        mode: add\n"
        "        evidence: judgement\n"
        "        confidence: 5\n"
        "    csf:\n      independence: {met: true",
    )
    assert "more_leaving" in text and "type: fixed" in text and "values:" in text
    return load_scenario(write("toy.yaml", text))


def test_the_register_follows_the_sampler_on_fixed_by_year_and_effects(toy):
    reg = assumptions_register(toy).set_index("name")
    # `type: fixed` is held at its value by the sampler, so the register does not call it uncertain
    assert not reg.loc["demand.cla.opening_stock", "varies"]
    assert reg.loc["demand.cla.opening_stock", "distribution"] == ""
    # a distribution on a figure by year multiplies its whole path, centred on 1
    row = reg.loc["demand.referrals.rate_per_10k"]
    assert row["varies"] and (row["central"], row["distribution_unit"]) == (1.0, PATH_MULTIPLIER)
    # the option's effects are figures of the register too: one sampled, one not
    effect = reg.loc["options.company.effects.fewer_referrals"]
    assert effect["varies"] and effect["central"] == -0.03 and effect["unit"] == "share"
    assert effect["source"] == "none quantified" and effect["confidence"] == 5
    assert not reg.loc["options.company.effects.more_leaving", "varies"]
    # added to a share, the change is in percentage points
    assert reg.loc["options.company.effects.more_leaving", "unit"] == "share points"
    table = register_table(toy).frame.set_index("figure")
    assert table.loc["Referral rate", "range"].endswith("times the values by year")
    assert table.loc["Referral rate", "uncertainty"] == "triangular: low x 0.9, most likely x 1, high x 1.1"


# -- the assumptions workbook -------------------------------------------------


def _workbook_inputs(path) -> dict[str, dict]:
    """Name -> the cells that say how the figure varies, read from an exported workbook."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for sheet, key, central in (("Parameters", ("name",), "value"),
                                ("Option costs", ("option", "kind", "item"), "value"),
                                ("Effects", ("option", "effect"), "change")):
        ws = wb[sheet]
        cols = {c.value: c.column for c in ws[1] if c.value is not None}
        for r in range(2, ws.max_row + 1):
            k = [ws.cell(r, cols[c]).value for c in key]
            name = (k[0] if sheet == "Parameters" else
                    f"options.{k[0]}.{'one_off_costs' if k[1] == 'one_off' else 'recurring_costs'}.{k[2]}"
                    if sheet == "Option costs" else f"options.{k[0]}.effects.{k[1]}")
            out[name] = {c: ws.cell(r, cols[c]).value for c in (central, "distribution", VARIES, RANGE_COLUMN)}
            out[name]["central"] = out[name].pop(central)
    return out


def test_the_workbook_marks_what_varies_as_the_sampler_reads_it(shipped, tmp_path):
    _, sc = shipped
    book = tmp_path / "assumptions.xlsx"
    export_assumptions(sc, book)
    cells = _workbook_inputs(book)
    inputs = uncertain_inputs(sc)
    # the sheets hold every option's costs, then every option's effects; the sampler goes option by option
    assert sorted(n for n, c in cells.items() if c[VARIES] == "yes") == sorted(i.name for i in inputs)
    assert {c[VARIES] for c in cells.values()} <= {"yes", "no"}
    for i in inputs:
        c = cells[i.name]
        assert parse_distribution(c["distribution"]) == i.spec
        assert c["central"] == (None if i.unit == PATH_MULTIPLIER else i.central)
        assert c[RANGE_COLUMN]


def test_an_export_and_import_leaves_the_uncertain_inputs_unchanged(shipped, tmp_path):
    path, sc = shipped
    book = tmp_path / "assumptions.xlsx"
    export_assumptions(sc, book)
    out = tmp_path / "edited.yaml"
    assert import_assumptions(book, path, out) == []   # no edits: nothing changes, nothing written
    assert not out.exists()
    # an edit that touches no number: the scenario read back samples exactly the same inputs
    wb = openpyxl.load_workbook(book)
    ws = wb["Parameters"]
    note = [c.column for c in ws[1] if c.value == "note"][0]
    ws.cell(2, note).value = "Checked against the council's ledger (test)"
    wb.save(book)
    assert len(import_assumptions(book, path, out)) == 1
    _same_inputs(uncertain_inputs(load_scenario(out)), uncertain_inputs(sc))


FBC = REPO / "scenarios/worcestershire/2019-full-business-case.yaml"


def _distributions_typed(tmp_path, **typed: str):
    """The full business case's workbook with distribution cells on "Parameters" typed over, by name;
    returns the workbook's path and the row number of each name typed."""
    book = tmp_path / "assumptions.xlsx"
    export_assumptions(load_scenario(FBC), book)
    wb = openpyxl.load_workbook(book)
    ws = wb["Parameters"]
    column = [c.column for c in ws[1] if c.value == "distribution"][0]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    for name, text in typed.items():
        ws.cell(rows[name], column).value = text
    wb.save(book)
    return book, {name: rows[name] for name in typed}


def test_the_import_says_when_a_figure_starts_or_stops_varying(tmp_path):
    book, _ = _distributions_typed(tmp_path, **{
        "demand.cin.opening_stock": "triangular(low=3400, mode=3588, high=3800)", "demand.cla.exit_rate": "fixed()"})
    lines = import_assumptions(book, FBC, tmp_path / "edited.yaml")
    said = {line.split(":")[0]: line for line in lines}
    assert "now varies in the Monte Carlo run" in said["demand.cin.opening_stock"]
    assert "no longer varies in the Monte Carlo run" in said["demand.cla.exit_rate"]
    names = [i.name for i in uncertain_inputs(load_scenario(tmp_path / "edited.yaml"))]
    assert "demand.cin.opening_stock" in names and "demand.cla.exit_rate" not in names


def test_an_import_whose_result_the_sampler_would_read_otherwise_is_refused(tmp_path, monkeypatch):
    """The check reads the overlay back through uncertain_inputs; here the workbook's reading is made to
    disagree with it (as a fault in the overlay or its merge would), and the import refuses at the cell."""
    import wcf_model.workbook_io as io

    fbc = FBC
    book, rows = _distributions_typed(tmp_path, **{"demand.cla.exit_rate": "triangular(low=0.15, mode=0.2, high=0.25)"})
    row = rows["demand.cla.exit_rate"]
    monkeypatch.setattr(io, "_drawn", lambda edit, base: (None, 0.0))
    with pytest.raises(io.ScenarioError) as exc:
        import_assumptions(book, fbc, tmp_path / "edited.yaml")
    [p] = exc.value.problems
    assert p.key == f"Parameters!A{row}" and "would draw it as triangular(low=0.15" in p.message
    assert not (tmp_path / "edited.yaml").exists()


def test_a_workbook_without_the_monte_carlo_columns_still_imports(tmp_path):
    """The two columns are read-only and never read back: a workbook from before them, or with them
    deleted, reads the same."""
    fbc = FBC
    book = tmp_path / "assumptions.xlsx"
    export_assumptions(load_scenario(fbc), book)
    wb = openpyxl.load_workbook(book)
    for sheet in ("Parameters", "Option costs", "Effects"):
        ws = wb[sheet]
        first = [c.column for c in ws[1] if c.value == VARIES][0]
        ws.delete_cols(first, 2)
    ws = wb["Parameters"]
    ws.cell(2, [c.column for c in ws[1] if c.value == "note"][0]).value = "Checked (test)"
    wb.save(book)
    assert len(import_assumptions(book, fbc, tmp_path / "edited.yaml")) == 1
