"""The inputs report and workbook: content, accessibility basics, atomic writes."""

from __future__ import annotations

import html
import re
import shlex
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import openpyxl
import pytest

from conftest import MINIMAL, REPO
from wcf_model import UsageError, load_scenario
from wcf_model.outputs import write_all
from wcf_model.register import assumptions_register
from wcf_model.tables import options_inputs
from wcf_model.report import write_report


@pytest.fixture
def minimal(write):
    return load_scenario(write("s.yaml", MINIMAL))


def test_register_lists_every_figure_with_its_source(minimal):
    reg = assumptions_register(minimal)
    # 3 parameters + 1 one-off cost + 1 recurring cost + 1 effect in MINIMAL
    assert list(reg["name"]) == [
        "demand.cla.opening_stock", "demand.cla.exit_rate", "demand.referrals.rate_per_10k",
        "options.company.one_off_costs.property", "options.company.recurring_costs.running",
        "options.company.effects.fewer_referrals"]
    row = reg.set_index("name").loc["demand.cla.exit_rate"]
    assert (row["value"], row["unit"], row["source"], row["confidence"]) == ("0.25", "share", "judgement", 5)
    # written as the workbook writes it (one grammar), so it can be pasted into a distribution cell
    assert row["distribution"] == "triangular(low=0.2, mode=0.25, high=0.3)"
    # what the Monte Carlo run varies: the exit rate and the effect (tests/test_register.py checks it is
    # exactly what the sampler draws)
    assert list(reg.loc[reg["varies"], "name"]) == ["demand.cla.exit_rate", "options.company.effects.fewer_referrals"]


def test_options_table_sums_stated_costs(minimal):
    t = options_inputs(minimal).frame.set_index("option")
    assert t.loc["Company", "one_off"] == 1_330_000
    assert t.loc["Company", "recurring"] == 2_500_000
    assert t.loc["In-house (the baseline)", "csf"] == "fails DfE operational independence"


def test_report_html_and_workbook(minimal, tmp_path):
    out = tmp_path / "out"
    written = write_report(minimal, out_dir=out, notebooks=False)
    assert [p.name for p in written] == ["report.html", "results.xlsx"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "In-house (the baseline) against Company" in page
    assert "It rests on 6 figures: 2 are published statistics" in page  # the effect is a figure too
    # without a population nothing can be projected: the report says so and shows no invented result
    assert "No projection: the scenario gives no 0-17 population" in page and "The appraisal" not in page
    for img in re.findall(r"<img [^>]*>", page):
        assert re.search(r'alt="[^"]{20,}"', img), img
    wb = openpyxl.load_workbook(out / "results.xlsx")
    # MINIMAL has no population, so there is no appraisal: the inputs' sheets, the back-test and history only
    assert wb.sheetnames == ["About", "Back-test", "Published history", "Options", "Effects", "MCA inputs",
                             "Assumptions", "Assumptions by year"]
    assert wb["Assumptions"].max_row == 1 + 6  # five figures and the effect


def test_history_comes_from_the_shipped_extract(minimal, tmp_path):
    # a folder of its own: the output folder is replaced whole, so it may not hold the scenario
    write_report(minimal, out_dir=tmp_path / "r", notebooks=False)
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    # Worcestershire's published CLA at 31 March 2019 is 833 (DfE SSDA903, 2019 release): a stock at
    # 31 March 2019 belongs to the financial year 2018-19, as the model's own years and the actuals do
    row = re.search(r'<tr><td><span class="nw"[^>]*>2018-19</span></td>(.*?)</tr>', page).group(1)
    assert ">833<" in row
    # two history charts; MINIMAL has no population, so no projection charts; one back-test chart
    assert page.count("<figure>") == 3


def test_missing_history_is_a_note_not_a_failure(minimal, tmp_path):
    write_report(minimal, out_dir=tmp_path / "o", data_dir=tmp_path / "no-data", notebooks=False)
    assert "No published history is shown" in (tmp_path / "o" / "report.html").read_text()


def test_failed_write_leaves_earlier_outputs_untouched(tmp_path):
    (tmp_path / "a.txt").write_text("old a")
    (tmp_path / "b.txt").write_text("old b")

    def boom(path):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_all(tmp_path, {"a.txt": lambda p: p.write_text("new a"), "b.txt": boom})
    assert (tmp_path / "a.txt").read_text() == "old a" and (tmp_path / "b.txt").read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]  # no temporaries left


def test_outputs_are_never_written_into_scenarios_or_data():
    with pytest.raises(UsageError, match="holds inputs"):
        write_all(REPO / "scenarios" / "x", {"f": lambda p: p.write_text("x")})
    assert not (REPO / "scenarios" / "x").exists()


def test_report_command(write, tmp_path):
    path = write("s.yaml", MINIMAL)
    r = subprocess.run([sys.executable, "-m", "wcf_model.cli", "report", str(path), "--out", str(tmp_path / "r"),
                        "--no-notebooks"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"wrote {tmp_path / 'r' / 'report.html'}",
                                     f"wrote {tmp_path / 'r' / 'results.xlsx'}"]
    # not a terminal: no progress bar, and nothing else on standard error
    assert r.stderr == ""


# -- the Worcestershire reports ----------------------------------------------------

FBC = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"
OBC = REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml"
ACTUALS = REPO / "data" / "actuals" / "worcestershire.csv"


@pytest.fixture(scope="module")
def fbc_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("fbc")
    write_report(FBC, out_dir=out, draws=200, seed=5, notebooks=False, actuals=ACTUALS, option="company_broad")
    return out, (out / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def obc_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("obc")
    write_report(OBC, out_dir=out, draws=200, seed=5, notebooks=False)
    return out, (out / "report.html").read_text(encoding="utf-8")


def answer_text(page: str) -> str:
    block = re.search(r'<section class="answer"[^>]*>(.*?)</section>', page, re.S).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", block))


def test_the_first_screen_answers_with_the_appraisal_s_numbers(fbc_page):
    from wcf_model.analysis import analyse_results, study
    from wcf_model.formats import money_m

    _, page = fbc_page
    sc = load_scenario(FBC)
    res = study(sc, 200, 5).analysis.res
    text = answer_text(page)
    sentences = [s for s in re.split(r"(?<=\.)\s+(?=[A-Z])", text.strip()) if s]
    assert 3 <= len(sentences) <= 5, sentences
    # among the options that meet every critical success factor, the multi-criteria analysis's preferred one
    passing = [o for o, opt in sc.options.items() if all(c.met for c in opt.csf.values())]
    preferred = res.mca.preferred
    assert preferred in passing
    assert f"Of the {len(passing)} options that meet every critical success factor" in text
    assert f"the evidence favours {sc.options[preferred].label}" in text
    chosen, base = res.central.options[preferred], res.central.options["in_house"]
    # economic case: the central net present costs, the preferred option minus in-house
    npv = chosen.npv_cost[0] - base.npv_cost[0]
    # council cash: every line of the financial account the council pays (VAT and tax included),
    # inflated to cash, summed over the ten years, the preferred option minus in-house
    def council(r):
        return sum((ln.values[0] * res.central.nominal_index).sum() for ln in r.lines if ln.funder == "council")
    cash = council(chosen) - council(base)
    # the one range: 10th and 90th percentiles of the draws of the difference
    draws = res.uncertain.options
    lo, hi = np.percentile(draws[preferred].npv_cost - draws["in_house"].npv_cost, [10, 90])
    assert f"it would cost {money_m(npv)} more over 10 years in the economic case" in text
    assert f"{money_m(cash)} more in council cash including VAT and tax" in text
    assert f"8 times in 10 the economic cost lies between {money_m(lo)} and {money_m(hi)} more" in text
    # what it turns on, in words: the inputs with the widest tornado bars for the preferred option
    bars = analyse_results(res).tornado.query("option == @preferred").sort_values("swing", ascending=False)
    first, second = (label.removesuffix(f" ({sc.options[preferred].label})") for label in bars["label"][:2])
    assert f"turns most on the {first[0].lower() + first[1:]}, then on the {second[0].lower() + second[1:]}" in text
    # the options that fail a critical success factor are shown with the reason beside them
    failing = re.search(r'<div class="failing">(.*?)</div>', page, re.S).group(1)
    for label in ("In-house with improvement plan", "Strategic partnership with another council"):
        assert f"<strong>{label}</strong> fails Operational independence from the council" in failing
    # then one chart, before anything else
    after = page[page.index("</section>"):]
    assert after.index("<figure>") < after.index("<h2>")


def test_the_2018_answer_names_the_only_option_that_passes(obc_page):
    _, page = obc_page
    text = answer_text(page)
    assert ("The evidence favours Wholly owned company: children's social care: it is the only option that "
            "meets every critical success factor.") in text


def test_one_range_convention(fbc_page, obc_page):
    for _, page in (fbc_page, obc_page):
        text = html.unescape(re.sub(r"<[^>]+>", " ", page))
        assert "9 draws" not in text and "95th" not in text and "5th percentile" not in text
        assert set(re.findall(r"\d+ times in 10", text)) == {"8 times in 10"}
        assert "10th to 90th percentile" in text


class _Visible(HTMLParser):
    """Text a reader sees, and alt text, outside elements marked ``key`` (the register's names, the command)."""

    VOID = {"img", "br", "wbr", "meta", "link", "input"}

    def __init__(self):
        super().__init__()
        self.hidden: list[bool] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        hide = (self.hidden and self.hidden[-1]) or tag in ("style", "script") or "key" in (a.get("class") or "").split()
        if tag in self.VOID:
            if not hide:
                self.text += [a.get("alt") or "", a.get("title") or ""]
            return
        self.hidden.append(hide)

    def handle_endtag(self, tag):
        if tag not in self.VOID:
            self.hidden.pop()

    def handle_data(self, data):
        if not (self.hidden and self.hidden[-1]):
            self.text.append(data)


IDENTIFIERS = {
    # a token of its own, not part of a file's path or name (a source may cite data/reference_class.csv)
    "snake_case": re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-]|\.[a-z])"),
    "dotted parameter path": re.compile(
        r"\b(?:population|demand|workforce|costs|services|finance|appraisal|options|parameters|mca)\.[a-z0-9_]+"),
    "scientific notation": re.compile(r"\b\d+(?:\.\d+)?[eE][+-]?\d+\b"),
}


def identifiers_shown(page: str) -> dict[str, list[str]]:
    parser = _Visible()
    parser.feed(page)
    text = "\n".join(parser.text)
    return {kind: sorted(set(p.findall(text))) for kind, p in IDENTIFIERS.items() if p.search(text)}


def test_the_identifier_check_catches_identifiers():
    page = ('<p>It turns most on effect send independent special; in_house costs 1.28e+06 (data/some_file.csv)</p>'
            '<img alt="demand.cla.exit_rate"><td class="key"><code>options.x.y_z</code></td>')
    assert identifiers_shown(page) == {"snake_case": ["in_house"],
                                       "dotted parameter path": ["demand.cla"], "scientific notation": ["1.28e+06"]}


def test_words_not_identifiers(fbc_page, obc_page):
    for _, page in (fbc_page, obc_page):
        assert identifiers_shown(page) == {}
    # the register still gives each figure's name, where a user needs it to change one
    assert ('<td class="key"><code><span class="nw">costs.</span><wbr><span class="nw">placements.</span><wbr>'
            '<span class="nw">weekly.</span><wbr><span class="nw">ifa ') in fbc_page[1]


def test_finance_form(fbc_page):
    _, page = fbc_page
    # money in £m to one decimal place: no sum of a million pounds or more written in full pounds, in prose
    # or tables (the assumptions register at the end gives each input exactly as the scenario states it)
    # (nor the national defaults, an extract of the register)
    ends = [page.find(h) for h in ('<h2 id="national-defaults">', "<h2>Assumptions register</h2>") if h in page]
    results = page[:min(ends)]
    text = html.unescape(re.sub(r"<[^>]+>", " ", results))
    assert not re.search(r"£\d{1,3}(,\d{3}){2,}", text)
    # every year in a table is a financial year; no bare calendar year in a table cell
    assert not re.search(r'<td class="num">(19|20)\d\d</td>', page)
    assert re.search(r'<td><span class="nw"[^>]*>2019-20</span></td>', page)
    # chances and shares are percentages, and no payback reads "never", not a blank
    summary = re.search(r'<section class="answer".*?<table class="wcf">(.*?)</table>', page, re.S).group(1)
    chances = re.findall(r'<td class="num">([^<]*%)</td>', summary)
    assert len(chances) == 5 and all(re.fullmatch(r"\d+%|under 1%|over 99%", c) for c in chances), chances
    assert "never" in summary and ">1<" not in summary and ">0<" not in summary


def test_tables_never_break_a_word(fbc_page):
    _, page = fbc_page
    css = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    # cells wrap between words only, never inside one (and never with a hyphen added)
    assert "overflow-wrap: normal; word-break: normal;\n  hyphens: manual;" in css and "anywhere" not in css
    # hyphenated words (2019-20, go-live) are kept whole
    assert re.search(r'<span class="nw"[^>]*>go-live</span>', page)


def test_reproduce_line_reproduces_the_report(tmp_path):
    out = tmp_path / "first"
    write_report(FBC, out_dir=out, draws=60, seed=3, notebooks=False, actuals=ACTUALS, option="company_broad")
    page = (out / "report.html").read_text(encoding="utf-8")
    command = html.unescape(re.search(r'Reproduce this report with <code class="key">(.*?)</code>', page).group(1))
    words = shlex.split(command)
    assert words[:2] == ["wcf-model", "report"]
    for flag, value in (("--draws", "60"), ("--seed", "3"), ("--option", "company_broad"), ("--out", str(out))):
        assert words[words.index(flag) + 1] == value
    assert "--actuals" in words and "--no-notebooks" in words
    first = {name: (out / name).read_bytes() for name in ("report.html", "results.xlsx")}
    (out / "report.html").unlink()
    run = subprocess.run([sys.executable, "-m", "wcf_model.cli", *words[1:]], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    # the same command writes the same report and workbook, byte for byte: no section dropped
    for name, data in first.items():
        assert (out / name).read_bytes() == data, name
    assert "Monitoring: what happened against what was projected" in (out / "report.html").read_text()


def test_worcestershire_report_shows_projection_bands_and_backtest(fbc_page):
    out, page = fbc_page
    # NPV and cash charts, NPV distribution, a tornado for each of the 4 options beside the baseline,
    # 4 monitoring charts, 3 caseload projections, 1 back-test chart, 2 published-history charts
    assert page.count("<figure>") == 17
    assert "Children looked after are projected to number" in page and "8 times in 10 between" in page
    # the back-test: the 2018 forecast against what happened, the naive forecasts beside it, and
    # one sentence on how far to trust the projection
    assert "Forecast from 2018, the model was out by" in page and "the best naive forecast" in page
    assert "How far to trust it: had this method been used in 2018" in page
    assert "Multi-criteria analysis" in page and "Value of information" in page
    assert "The cost to the council: VAT, tax, who pays and the high-needs block" in page
    # the company's money against the case, and the gap in its spending explained step by step
    assert "money against the business case" in page
    assert "How far the case was from what was spent." in page and "children looked after" in page
    wb = openpyxl.load_workbook(out / "results.xlsx")
    assert wb.sheetnames[:7] == ["About", "Summary", "Cost to the council", "Appraisal", "Cash by year", "Who pays",
                                 "VAT and tax"]
    # caseloads by financial year: 10 years from 2019-20
    assert wb["Caseloads"].max_row == 1 + 10 and wb["Caseloads"]["A2"].value == "2019-20"
    assert "Monitoring" in wb.sheetnames


def test_a_run_without_draws_says_so_in_a_banner(tmp_path):
    write_report(OBC, out_dir=tmp_path, draws=1, notebooks=False)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<div class="notice" role="note">This report was run at central values only' in page
    assert "These are central values only" in answer_text(page)


def test_notebooks_run_for_the_report_without_absolute_paths_or_raw_tables(tmp_path):
    written = write_report(FBC, out_dir=tmp_path, draws=40, notebooks=True, actuals=ACTUALS, option="company_broad")
    notebooks = sorted(p.name for p in (tmp_path / "notebooks").iterdir())
    assert "00_overview.ipynb" in notebooks and "00_overview.html" in notebooks
    assert len(written) == 2 + len(notebooks)
    for name in notebooks:
        text = (tmp_path / "notebooks" / name).read_text(encoding="utf-8")
        assert str(REPO) not in text and "/tmp" not in text, name
        if name.endswith(".html"):
            assert "import wcf_model" not in text                    # no code cells in the rendering
            body = html.unescape(re.sub(r"<(style|script)\b.*?</\1>", "", text, flags=re.S))
            assert not re.search(r"\d+ rows × \d+ columns", body), name
            assert not IDENTIFIERS["scientific notation"].search(re.sub(r"<[^>]+>", " ", body)), name
