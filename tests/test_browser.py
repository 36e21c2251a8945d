"""The HTML report as a person sees it, in headless Chromium.

Checks that the page loads with no console errors, that every chart image has
loaded and has alt text, and that the summary names every option. Without a
Chromium the test is skipped with the reason, unless WCF_REQUIRE_BROWSER=1
(set by .ci/run), where a skip would hide a missing install and so fails.
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
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000")

# Inserted into a copy of the page: after load, record what a reader would
# notice, where --dump-dom can read it.
CHECKER = """
<script>
window.addEventListener("load", () => {
  const images = [...document.images].map(img => ({
    loaded: img.complete && img.naturalWidth > 0, alt: (img.getAttribute("alt") || "").trim()}));
  const summary = (document.querySelector(".summary") || {}).textContent || "";
  const out = document.createElement("pre");
  out.id = "wcf-check";
  out.textContent = JSON.stringify({images, summary});
  document.body.appendChild(out);
});
</script>
"""


def browser() -> str | None:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    return None


def open_page(exe: str, html: str, folder) -> tuple[dict, list[str]]:
    """Load ``html`` (with the checker added) and return (what the checker saw, console lines)."""
    checked = folder / "checked.html"
    checked.write_text(html.replace("</body>", CHECKER + "</body>"), encoding="utf-8")
    run = subprocess.run([exe, *FLAGS, f"--user-data-dir={folder / 'profile'}", "--dump-dom", checked.as_uri()],
                         capture_output=True, text=True, timeout=120)
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


@pytest.fixture(scope="module")
def page(exe, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    sc = load_scenario(REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml")
    write_report(sc, out_dir=out, draws=100, notebooks=False)
    result, console = open_page(exe, (out / "report.html").read_text(encoding="utf-8"), out)
    return sc, result, console


def test_the_checks_catch_a_broken_page(exe, tmp_path):
    bad = ('<html><body><ul class="summary"><li>x</li></ul><img src="missing.png" alt="">'
           '<script>console.error("boom")</script></body></html>')
    result, console = open_page(exe, bad, tmp_path)
    assert console and "boom" in console[0]
    assert result["images"] == [{"loaded": False, "alt": ""}]


def test_no_console_errors(page):
    _, _, console = page
    assert console == []


def test_every_chart_loaded_and_has_alt_text(page):
    _, result, _ = page
    images = result["images"]
    assert len(images) >= 10          # the appraisal, uncertainty, caseload and history charts
    assert all(img["loaded"] for img in images)
    assert all(len(img["alt"]) > 20 for img in images)


def test_summary_names_every_option(page):
    sc, result, _ = page
    for opt in sc.options.values():
        assert opt.label in result["summary"]
