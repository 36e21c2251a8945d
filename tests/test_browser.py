"""The HTML report as a person sees it, in headless Chromium at 1280 pixels wide.

Checks that the page loads with no console errors, that every chart image has
loaded and has alt text, that the first screen (the top 900 pixels) of both
Worcestershire reports names the option the evidence favours and gives its
range, and that no table breaks a word across lines. Screenshots of the first
screens are written to the test's temporary folder for a person to look at.
Without a Chromium the test is skipped with the reason, unless
WCF_REQUIRE_BROWSER=1 (set by .ci/run), where a skip would hide a missing
install and so fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO
from wcf_model import load_scenario
from wcf_model.report import write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--hide-scrollbars")
#: The first screen: a laptop browser window.
WIDTH, SCREEN = 1280, 900

# Inserted into a copy of the page: after load, record what a reader would
# notice, where --dump-dom can read it. FIND is replaced by the strings whose
# position on the page is wanted: for each, the bottom of the first place it
# is drawn, in pixels from the top of the page.
CHECKER = """
<script>
window.addEventListener("load", () => {
  const images = [...document.images].map(img => ({
    loaded: img.complete && img.naturalWidth > 0, alt: (img.getAttribute("alt") || "").trim()}));
  const answer = (document.querySelector(".answer") || {}).textContent || "";
  const where = {};
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) texts.push(walker.currentNode);
  for (const wanted of FIND) {
    for (const node of texts) {
      const at = node.textContent.indexOf(wanted);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + wanted.length);
      const rects = [...range.getClientRects()];
      where[wanted] = Math.max(...rects.map(r => r.bottom + window.scrollY));
      break;
    }
  }
  // a word in a table cell drawn on two lines has been broken
  const broken = [];
  for (const cell of document.querySelectorAll("td, th")) {
    const inner = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    while (inner.nextNode() && broken.length < 20) {
      const node = inner.currentNode;
      for (const m of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  const out = document.createElement("pre");
  out.id = "wcf-check";
  out.textContent = JSON.stringify({images, answer, where, broken});
  document.body.appendChild(out);
});
</script>
"""


def browser() -> str | None:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    return None


def open_page(exe: str, html: str, folder, find: list[str] = ()) -> tuple[dict, list[str]]:
    """Load ``html`` (with the checker added) in a 1280-pixel window; return (what the checker saw, console lines)."""
    checked = folder / "checked.html"
    script = CHECKER.replace("FIND", json.dumps(list(find)))
    checked.write_text(html.replace("</body>", script + "</body>"), encoding="utf-8")
    run = subprocess.run([exe, *FLAGS, f"--window-size={WIDTH},{SCREEN}", f"--user-data-dir={folder / 'profile'}",
                          "--dump-dom", checked.as_uri()], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    found = re.search(r'<pre id="wcf-check">(.*?)</pre>', run.stdout, re.S)
    assert found, "the page never finished loading (no check result in the DOM)"
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                        .replace("&gt;", ">").replace("&#39;", "'"))
    # Chromium logs every console message, errors included, as "CONSOLE"; the report has
    # no scripts of its own, so any console line at all is a fault
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    return result, console


@pytest.fixture(scope="module")
def exe():
    path = browser()
    if path is None:
        if os.environ.get("WCF_REQUIRE_BROWSER") == "1":
            pytest.fail("WCF_REQUIRE_BROWSER=1 but no Chromium was found (install Debian's chromium)")
        pytest.skip("no Chromium on this machine (install Debian's chromium to run the browser test)")
    return path


def screenshot(exe: str, page, png) -> None:
    """What a reader sees first: the top of the page in a 1280 by 900 pixel window."""
    run = subprocess.run([exe, *FLAGS, f"--window-size={WIDTH},{SCREEN}", f"--user-data-dir={png.parent / 'shot'}",
                          f"--screenshot={png}", page.as_uri()], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0 and png.is_file(), run.stderr[-2000:]


REPORTS = {
    "2018": (REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml", {}),
    "2019": (REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml",
             {"actuals": REPO / "data" / "actuals" / "worcestershire.csv", "option": "company_broad"}),
}


@pytest.fixture(scope="module", params=sorted(REPORTS))
def report(exe, tmp_path_factory, request):
    """A Worcestershire report opened in the browser, with the words its first screen must hold."""
    from wcf_model.analysis import answer, study
    from wcf_model.formats import money_m

    path, extra = REPORTS[request.param]
    out = tmp_path_factory.mktemp(f"report-{request.param}")
    sc = load_scenario(path)
    write_report(sc, out_dir=out, draws=100, seed=11, notebooks=False, **extra)
    ans = answer(study(sc, 100, 11, **extra).analysis)
    preferred = sc.options[ans.preferred].label
    low, high = ans.npv_range
    wanted = [preferred, f"between {money_m(low)} and {money_m(high)}"]
    result, console = open_page(exe, (out / "report.html").read_text(encoding="utf-8"), out, wanted)
    png = out / f"first-screen-{request.param}.png"
    screenshot(exe, out / "report.html", png)
    return sc, result, console, wanted, png


@pytest.fixture(scope="module")
def page(report):
    sc, result, console, _, _ = report
    return sc, result, console


def test_the_checks_catch_a_broken_page(exe, tmp_path):
    bad = ('<html><body><div class="answer">x</div><img src="missing.png" alt="">'
           '<table><tr><td style="width:3em">unbreakable-looking-word</td></tr></table>'
           '<p style="margin-top:1200px">far down</p>'
           '<script>console.error("boom")</script></body></html>')
    result, console = open_page(exe, bad, tmp_path, ["far down"])
    assert console and "boom" in console[0]
    assert result["images"] == [{"loaded": False, "alt": ""}]
    assert result["where"]["far down"] > SCREEN
    assert result["broken"] == ["unbreakable-looking-word"]   # a narrow cell breaks it at its hyphens


def test_first_screen_names_the_preferred_option_and_its_range(report):
    _, result, _, wanted, png = report
    for text in wanted:
        assert text in result["where"], f"{text!r} is not on the page"
        assert result["where"][text] <= SCREEN, f"{text!r} is {result['where'][text]:.0f} px down, below the first screen"
    from PIL import Image

    with Image.open(png) as shot:
        assert shot.size == (WIDTH, SCREEN)


def test_tables_never_break_a_word(report):
    _, result, _, _, _ = report
    assert result["broken"] == []


def test_no_console_errors(page):
    _, _, console = page
    assert console == []


def test_every_chart_loaded_and_has_alt_text(page):
    _, result, _ = page
    images = result["images"]
    assert len(images) >= 10          # the appraisal, uncertainty, caseload and history charts
    assert all(img["loaded"] for img in images)
    assert all(len(img["alt"]) > 20 for img in images)


def test_answer_names_the_preferred_option(page):
    sc, result, _ = page
    assert "the evidence favours" in result["answer"].replace("The evidence favours", "the evidence favours")
