"""Reorganised authorities, joint returns and the register of authorities (wcf_model.authorities).

The figures are the shipped extract's (data/dfe_extract.csv.gz), which holds
every English authority, so these tests run on a clean checkout.
"""

from __future__ import annotations

import pandas as pd
import pytest

from wcf_model.authorities import RATE_RULES, SUCCESSIONS, history, published, register
from wcf_model.backtest import backtest
from wcf_model.data import load_frame
from wcf_model.tidy import series
from wcf_model.errors import DataError


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return load_frame()


def value(frame: pd.DataFrame, code: str, measure: str, year: int) -> float:
    rows = frame[(frame.la_code == code) & (frame.measure == measure) & (frame.year == year)]
    assert len(rows) == 1, (code, measure, year)
    return float(rows.value.iloc[0])


def test_a_split_authority_before_it_existed_is_its_predecessor_times_its_population_share(frame):
    # North Northamptonshire (940) was created on 1 April 2021 from Northamptonshire (928).
    # Its share of the two successors' children aged 0-17 at mid-2021, the first estimate for both:
    share = value(frame, "940", "population_0_17", 2021) / (
        value(frame, "940", "population_0_17", 2021) + value(frame, "941", "population_0_17", 2021))
    h = history(frame, "940")
    cla = series(h, "cla_at_31_march")
    # 31 March 2019: Northamptonshire's 1,123 children looked after x the share
    assert cla[2019] == pytest.approx(value(frame, "928", "cla_at_31_march", 2019) * share)
    # its own published figure from 31 March 2022 is untouched
    assert cla[2022] == value(frame, "940", "cla_at_31_march", 2022)
    row = h[(h.measure == "cla_at_31_march") & (h.year == 2019)].iloc[0]
    assert row.source_file == "" and row.publication.startswith("Estimated for the years before 1 April 2021")
    assert f"x {share:.4f}" in row.publication
    # a rate of the area is taken as it is, not scaled
    assert series(h, "rereferral_percent")[2019] == value(frame, "928", "rereferral_percent", 2019)
    assert "Northamptonshire (928) was created" not in h.attrs["note"]
    assert h.attrs["note"].startswith("North Northamptonshire (940) was created on 1 April 2021")


def test_a_merger_recomputes_rates_from_the_summed_counts(frame):
    # Dorset (838) before 1 April 2019: Dorset County, Poole and Bournemouth together.
    h = history(frame, "838")
    members = ("835", "836", "837")
    referrals = sum(value(frame, c, "referrals", 2018) for c in members)
    rereferrals = sum(value(frame, c, "rereferrals", 2018) for c in members)
    assert series(h, "rereferral_percent")[2018] == pytest.approx(100 * rereferrals / referrals)
    agency = sum(value(frame, c, "sw_agency_fte", 2018) for c in members)
    in_post = sum(value(frame, c, "sw_fte", 2018) for c in members)
    assert series(h, "sw_agency_percent")[2018] == pytest.approx(100 * agency / (agency + in_post))


def test_the_rate_rules_are_the_dfes_own_definitions(frame):
    # Recomputing each published rate from its published counts gives the published
    # rate (to its rounding) for nearly every authority and year.
    for measure, (num, dens, times) in RATE_RULES.items():
        wide = frame[frame.measure.isin({measure, num, *dens})].pivot_table(
            index=["la_code", "year"], columns="measure", values="value")
        wide = wide.dropna()
        recomputed = wide[num] * times / sum(wide[d] for d in dens)
        close = (recomputed - wide[measure]).abs() <= 0.05 * wide[measure].abs() + 0.06
        assert len(wide) > 100 and close.mean() > 0.97, (measure, close.mean())


def test_a_predecessor_after_abolition_is_the_sum_of_its_successors_only_when_exact(frame):
    # Cumbria was split into Cumberland and Westmorland and Furness: exactly its area.
    h = history(frame, "909")
    assert series(h, "cla_at_31_march")[2025] == value(frame, "942", "cla_at_31_march", 2025) + value(
        frame, "943", "cla_at_31_march", 2025)
    assert len(published(h)) == len(h)  # an exact sum is a published figure, not an estimate
    # Dorset County's area went partly to BCP with Bournemouth and Poole: nothing after 2019
    dorset = history(frame, "835")
    assert series(dorset, "cla_at_31_march").dropna().index.max() == 2019
    assert "no figures cover exactly its area" in dorset.attrs["note"]


def test_an_abolished_authority_gets_its_population_from_the_dfes_rate_denominators(frame):
    # The DfE re-publishes the ONS series on current boundaries only, so Dorset County (835)
    # has none; the 2019 LA tables divided its 452 children looked after at 31 March 2018
    # by 76,861, the mid-2017 estimate.
    pop = series(history(frame, "835"), "population_0_17")
    assert pop[2017] == 76_861
    row = history(frame, "835").query("measure == 'population_0_17' and year == 2017").iloc[0]
    assert "mid-2017" in row.publication and row.source_file == "cla_la_tables_2019.csv"


def test_a_joint_workforce_return_gives_its_rates_not_its_counts(frame):
    # Kingston upon Thames and Richmond upon Thames return one workforce census (314/318).
    h = history(frame, "314")
    assert series(h, "sw_agency_percent")[2022] == value(frame, "314/318", "sw_agency_percent", 2022)
    assert "sw_fte" not in set(h.measure) or series(h, "sw_fte").dropna().empty
    with pytest.raises(DataError, match="joint social work workforce return of Kingston upon Thames"):
        history(frame, "314/318")


@pytest.mark.parametrize("code", sorted({c for s in SUCCESSIONS for c in s.predecessors + s.successors}))
def test_every_reorganised_authority_can_be_back_tested_to_2018(code):
    # Nine authorities could not be back-tested at all ("no 0-17 population for LA 835
    # up to 2018"); fitted on the figures up to 2018, each is compared with what was
    # published after, and never against an apportioned estimate.
    bt = backtest(code, fit_to=2018)
    assert len(bt.table) and bt.table["actual"].notna().all()
    estimated = history(load_frame(), code)
    estimated = estimated[~estimated.index.isin(published(estimated).index)]
    scored = set(zip(bt.table.measure, bt.table.year))
    assert not scored & set(zip(estimated.measure, estimated.year))


def test_an_authority_with_nothing_left_to_compare_is_refused_with_the_reason():
    with pytest.raises(DataError, match=r"no published figures after 2021 for LA 836.*Poole \(836\) was "
                                        r"abolished on 1 April 2019"):
        backtest(836, fit_to=2021)


def test_the_register_lists_every_authority_once(frame):
    reg = register(frame)
    assert reg.la_code.is_unique and len(reg) == 158  # 153 today and 5 abolished since 2019
    assert not reg.la_code.str.contains("/").any()
    slough = reg.set_index("la_code").loc["871"]
    assert slough.la_name == "Slough" and slough.new_la_code == "E06000039" and slough.reorganisation == ""


def test_every_row_of_a_history_names_the_authoritys_region():
    rows = history(load_frame(), 838)  # Dorset Council, with its predecessors' apportioned years
    assert set(zip(rows["region_code"], rows["region_name"])) == {("E12000009", "South West")}
    assert (rows["publication"].str.startswith("Estimated")).any()
