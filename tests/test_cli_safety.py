"""The command line's error paths: arguments, a reader that goes away, actuals left out, the limits listed."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import MINIMAL, REPO
from wcf_model import cli, limits

WORCS = REPO / "scenarios" / "worcestershire"


@pytest.mark.parametrize("args,message", [
    (["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    (["--seed", "1_0"], "argument --seed: expected a whole number, got '1_0'"),
    (["--seed", "1e3"], "argument --seed: expected a whole number, got '1e3'"),
    (["--seed", str(2**64)], "argument --seed: must be at most"),
    (["--draws", "0"], "argument --draws: must be at least 1, got 0"),
    (["--draws", "10000000"], "argument --draws: must be at most 1,000,000, got 10,000,000"),
])
def test_bad_numbers_on_the_command_line_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", str(WORCS / "base.yaml"), *args])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_output_cut_short_by_the_reader_exits_quietly(tmp_path):
    # `wcf-model validate FOLDER | head -c 100`: the reader goes away after 100 bytes of
    # more than a pipe holds (500 lines of about 150 bytes), so the writer meets a closed pipe
    for i in range(500):
        (tmp_path / f"s{i:03}.yaml").write_text(MINIMAL.replace("name: minimal", f"name: minimal-{i}"))
    proc = subprocess.Popen([sys.executable, "-m", "wcf_model.cli", "validate", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == cli.EXIT_BROKEN_PIPE
    assert err == "", err  # no traceback, no "internal error", no "Exception ignored"


def test_actuals_outside_the_projection_are_listed_not_dropped(tmp_path, capsys):
    import csv
    import io

    actuals = tmp_path / "actuals.csv"
    shipped = (REPO / "data" / "actuals" / "worcestershire.csv").read_text(encoding="utf-8")
    later = io.StringIO()
    writer = csv.DictWriter(later, fieldnames=shipped.splitlines()[0].split(","), lineterminator="\n")
    for period, value in (("2035-36", 900), ("2036-37", 910)):
        writer.writerow({"la_code": "885", "measure": "cla_closing", "period": period, "value": value,
                         "unit": "children", "source": "a later year", "note": ""})
    actuals.write_text(shipped + later.getvalue(), encoding="utf-8")
    assert cli.main(["report", str(WORCS / "2019-full-business-case.yaml"), "--no-notebooks", "--draws", "20",
                     "--actuals", str(actuals), "--option", "company_broad", "--out", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    assert f"note: {actuals}: 2 figure(s) of cla_closing (2035-36, 2036-37) not compared: outside the projection's " \
           "years (2019-20 to 2028-29)" in err
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "(2035-36, 2036-37), outside the projection&#x27;s years" in page


def test_every_limit_is_listed_in_the_readme_with_its_value():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Limits", 1)[1].split("\n## ", 1)[0]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(MAX_\w+)` \| ([^|]+) \|", section, re.M)}
    names = sorted(n for n in dir(limits) if n.startswith("MAX_"))
    assert sorted(rows) == names
    words = {"MAX_MAGNITUDE": "10^15", "MAX_SEED": "2^63 - 1", "MAX_DRAWS_MEMORY": "2 GiB"}
    for name in names:
        value = getattr(limits, name)
        assert {"MAX_MAGNITUDE": 1e15, "MAX_SEED": 2**63 - 1, "MAX_DRAWS_MEMORY": 2 * 1024**3}.get(name, value) == value
        assert rows[name].strip().removesuffix(" bytes") == words.get(name, f"{value:,}"), name


def test_problems_are_printed_fifty_at_most_then_counted(tmp_path, capsys):
    # 1,000 lines naming no measure (999 of them also repeating the first): 1,999 problems,
    # of which the message lists the first 50 and counts the rest (a million lines once printed 86 MB)
    actuals = tmp_path / "actuals.csv"
    actuals.write_text("measure,period,value,source\n" + "no_such_measure,2019-20,1,DfE\n" * 1000, encoding="utf-8")
    assert cli.main(["report", str(WORCS / "2019-full-business-case.yaml"), "--no-notebooks",
                     "--actuals", str(actuals), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "1,999 problems in actuals file" in err
    assert err.count(f"\n  {actuals}:") == 50  # one line each
    assert "... and 1,949 more (only the first 50 are shown" in err
    assert len(err) < 20_000


def test_the_readme_s_draws_example_is_the_code_s():
    # The Limits table gives what one draw of the 2019 case needs and the draws that fit;
    # both come from appraisal.bytes_per_draw, so they move when the model gains lines.
    from wcf_model import load_scenario
    from wcf_model.appraisal import appraise_options
    from wcf_model.appraisal import bytes_per_draw

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.search(r"about ([\d,]+) kB for the 2019 Worcestershire case, so at most about ([\d,]+) draws", readme)
    per = bytes_per_draw(appraise_options(load_scenario(WORCS / "2019-full-business-case.yaml"), None, 1))
    assert int(m.group(1).replace(",", "")) == pytest.approx(per / 1e3, rel=0.05)
    assert int(m.group(2).replace(",", "")) == pytest.approx(limits.MAX_DRAWS_MEMORY / per, rel=0.05)
