"""Charts read as drawn: no two labels overlap, financial years on the axes, axes that do not start at zero say so."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from conftest import REPO
from wcf_model.plots import Chart, label_overlaps, line_chart

FBC = REPO / "scenarios" / "worcestershire" / "2019-full-business-case.yaml"
OBC = REPO / "scenarios" / "worcestershire" / "2018-outline-business-case.yaml"


def test_the_overlap_check_sees_overlapping_labels():
    fig, ax = plt.subplots()
    ax.annotate("first label", (0.5, 0.5))
    ax.annotate("second label", (0.5, 0.5))
    ax.annotate("far away", (0.05, 0.05))
    assert label_overlaps(fig) == [("first label", "second label")]
    plt.close(fig)


def test_lines_that_end_together_get_labels_apart():
    # two options whose cash is all but the same: the labels at their ends must not sit on each other
    same = pd.Series([115.2, 124.5, 134.0], index=[2019, 2020, 2021])
    chart = line_chart({"In-house with improvement plan": same, "Strategic partnership": same + 0.3},
                       title="t", subtitle="s", alt="a", ylabel="£ million a year", ymin=None, unit="£")
    assert label_overlaps(chart.figure) == []
    ticks = [t.get_text() for t in chart.figure.axes[0].get_xticklabels()]
    assert ticks == ["2019-20", "2020-21", "2021-22"]
    assert "axis starts at £" in chart.figure.axes[0].get_ylabel() and "not zero" in chart.figure.axes[0].get_ylabel()


@pytest.fixture(scope="module")
def charts(tmp_path_factory):
    """Every chart both Worcestershire reports draw: (title, overlapping labels, x tick labels, y label, y limits)."""
    from wcf_model.report import write_report

    seen: list[tuple] = []
    original = Chart.png

    def recording(self):
        if self._png is None:   # measured as drawn, just before the figure is saved and closed
            ax = self.figure.axes[0]
            found = label_overlaps(self.figure)
            seen.append((self.title, found, [t.get_text() for t in ax.get_xticklabels()], ax.get_ylabel(),
                         ax.get_ylim(), len(ax.get_yticks())))
        return original(self)

    Chart.png = recording
    try:
        out = tmp_path_factory.mktemp("charts")
        write_report(FBC, out_dir=out / "fbc", draws=100, notebooks=False,
                     actuals=REPO / "data" / "actuals" / "worcestershire.csv", option="company_broad")
        write_report(OBC, out_dir=out / "obc", draws=100, notebooks=False)
    finally:
        Chart.png = original
    return seen


def test_no_two_labels_overlap_in_any_chart_of_either_report(charts):
    assert len(charts) == 17 + 11   # the 2019 case has four options beside the baseline, the 2018 case two
    assert {title: found for title, found, *_ in charts if found} == {}


def test_every_year_axis_reads_in_financial_years(charts):
    fy = re.compile(r"\d{4}-\d{2}")
    for title, _, ticks, *_ in charts:
        ticks = [t for t in ticks if t]
        if any(re.fullmatch(r"(19|20)\d\d(-\d\d)?", t) for t in ticks):   # a chart over years
            assert all(fy.fullmatch(t) for t in ticks), (title, ticks)


def test_axes_that_do_not_start_at_zero_say_so(charts):
    for title, _, _, ylabel, (bottom, top), yticks in charts:
        if yticks and 0 < bottom < top:
            assert "not zero" in ylabel, title


def test_a_range_that_leaves_out_the_central_value_is_drawn_as_it_is():
    # With few draws, or a skewed distribution, the central run can fall outside its own
    # 10th-90th percentile range: central 2.0 with a range of 2.5 to 4.0. The whisker is
    # the range itself, 2.5 to 4.0 (once an error: matplotlib refuses a negative xerr, 2.0 - 2.5).
    from wcf_model.plots import interval_chart

    chart = interval_chart(["Company", "Partnership"], central=[2.0, 1.0], low=[2.5, 0.5], high=[4.0, 1.5],
                           title="t", subtitle="s", alt="a", xlabel="£ million")
    ax = chart.figure.axes[0]
    spans = sorted(tuple(sorted({round(x, 6) for x, _ in seg})) for coll in ax.collections
                   if type(coll).__name__ == "LineCollection" for seg in coll.get_segments())
    assert spans == [(0.5, 1.5), (2.5, 4.0)]
    plt.close(chart.figure)


def test_a_report_of_three_draws_is_written(tmp_path):
    # three draws put the central run outside the range of the 2018 case's options
    from wcf_model import cli

    assert cli.main(["report", str(OBC), "--no-notebooks", "--draws", "3", "--out", str(tmp_path / "r")]) == 0
