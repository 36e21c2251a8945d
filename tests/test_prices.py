"""GDP deflators and price-year conversion."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import HMT_DOWNLOADS, REPO
from wcf_model import DataError
from wcf_model.prices import DEFLATOR_FILE, deflator_path, load_deflators, price_factor



def test_march_2020_vintage_and_its_chained_forecasts():
    d = load_deflators("2020-03")
    assert d["2018-19"] == 100.0 and d["2016-17"] == pytest.approx(96.245425)
    # 2019-20 forecast: 2018-19 level x (1 + 1.9169%) = 101.9169
    assert d["2019-20"] == pytest.approx(101.9169)
    assert d.index[-1] == "2024-25"
    assert "March 2020 (Budget)" in d.attrs["publication"]


def test_price_factor_by_hand():
    d = load_deflators("2020-03")
    # PSSRU foster care £646 a week in 2016-17 prices -> 2019-20 prices: x 101.9169 / 96.245425
    assert 646 * price_factor("2016-17", "2019-20", d) == pytest.approx(646 * 101.9169 / 96.245425)
    assert price_factor("2019-20", "2019-20", d) == 1.0


def test_years_beyond_the_series_grow_at_the_stated_inflation():
    d = load_deflators("2020-03")
    path = deflator_path(d, ["2024-25", "2025-26", "2027-28"], inflation=0.03)
    assert path[1] == pytest.approx(path[0] * 1.03) and path[2] == pytest.approx(path[0] * 1.03 ** 3)


def test_latest_vintage_by_default_and_unknown_vintage():
    assert load_deflators().name == "2026-03"
    with pytest.raises(DataError, match="no deflator vintage '1999-01'"):
        load_deflators("1999-01")


@pytest.mark.realdata
def test_shipped_series_is_what_the_script_builds(tmp_path):
    if not HMT_DOWNLOADS.is_dir():
        pytest.skip(f"HM Treasury tables not found at {HMT_DOWNLOADS}")
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "build_deflators.py"), "--source", str(HMT_DOWNLOADS),
                        "--out", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / DEFLATOR_FILE).read_bytes() == (REPO / "data" / DEFLATOR_FILE).read_bytes()


def test_a_changed_deflator_file_is_read_again_and_callers_cannot_change_each_others_copy(tmp_path):
    shipped = (REPO / "data" / DEFLATOR_FILE).read_text(encoding="utf-8")
    (tmp_path / DEFLATOR_FILE).write_text(shipped, encoding="utf-8")
    first = load_deflators("2020-03", data_dir=tmp_path)
    assert first["2018-19"] == 100.0
    first["2018-19"] = -1.0  # one caller's copy is its own
    assert load_deflators("2020-03", data_dir=tmp_path)["2018-19"] == 100.0
    # the file changed (2018-19 = 100 -> 200.25) is what the next appraisal reads, not the copy read before
    rows = shipped.splitlines()
    (tmp_path / DEFLATOR_FILE).write_text("\n".join(
        [rows[0]] + [r.replace(",2018-19,100.0,", ",2018-19,200.25,") for r in rows[1:]]) + "\n", encoding="utf-8")
    assert load_deflators("2020-03", data_dir=tmp_path)["2018-19"] == 200.25
