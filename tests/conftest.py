"""Shared test helpers: a small valid scenario and a way to write variants of it."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings

#: ``make fuzz``: the fuzzing suite (tests/test_fuzz.py) as a long random campaign.
settings.register_profile("fuzz", max_examples=1000)

REPO = Path(__file__).resolve().parents[1]
#: The published downloads the data scripts read (DfE statistics in dfe/, HM Treasury
#: deflators in hmt/): ./downloads by default, or the folder WCF_DOWNLOADS names.
#: Tests that read them are skipped when they are absent.
DOWNLOADS = Path(os.environ.get("WCF_DOWNLOADS", REPO / "downloads"))
DFE_DOWNLOADS = DOWNLOADS / "dfe"
HMT_DOWNLOADS = DOWNLOADS / "hmt"

#: A small scenario that is valid under --strict. Tests copy it and break one
#: thing at a time, so each test shows exactly which rule it exercises.
MINIMAL = textwrap.dedent("""\
    scenario:
      name: minimal
      title: A minimal scenario for tests
      authority: {la_code: 885, name: Worcestershire}
      base_year: "2019-20"
      years: 10
    parameters:
      demand:
        cla:
          opening_stock: {value: 833, unit: children, source: DfE SSDA903 2019, confidence: 1}
          exit_rate:
            value: 0.25
            unit: share
            source: judgement
            confidence: 5
            distribution: {type: triangular, low: 0.2, mode: 0.25, high: 0.3}
        referrals:
          rate_per_10k: {value: 421, unit: per 10k children/year, source: DfE CIN census 2019, confidence: 1}
    options:
      in_house:
        label: In-house
        vehicle: council
        baseline: true
        scope: [social_care]
        csf:
          independence: {met: false, rationale: the council keeps operational control}
      company:
        label: Company
        vehicle: company
        go_live: 2019-10-01
        scope: [social_care]
        one_off_costs:
          property: {value: 1330000, category: property, source: press, confidence: 3, price_year: "2017-18"}
        recurring_costs:
          running: {value: 2500000, category: company_running, source: press, confidence: 3}
        effects:
          fewer_referrals:
            driver: demand.referrals.rate_per_10k
            change: -0.03
            mode: multiply
            ramp_years: 3
            distribution: {type: triangular, low: -0.08, mode: -0.03, high: 0}
            evidence: none quantified
            confidence: 5
        csf:
          independence: {met: true, rationale: an arm's-length company}
    mca:
      critical_success_factors:
        independence: {label: DfE operational independence}
      criteria:
        pace: {label: Pace of improvement, weight: 60}
        cost: {label: Cost, weight: 40, derived_from: npv_cost}
      scores:
        pace:
          in_house: {score: 0, rationale: slowest}
          company: {score: 100, rationale: fastest}
    """)


@pytest.fixture
def write(tmp_path: Path):
    """``write(name, text)`` -> path of a file written under tmp_path."""
    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path
    return _write


def require(module: str):
    """Import an optional tool, or skip with the reason; on CI (CI=true) a
    missing tool is a failure, so a skipped test can never pass CI silently."""
    import importlib
    import os

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{module} is needed on CI: {exc}")
        pytest.skip(f"{module} is not installed (pip install -e '.[notebooks]'): {exc}")
