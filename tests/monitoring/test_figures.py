"""Each monitoring figure on the hand-made three-year history of tests/monitoring/history.py."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from reference import monitoring_for
from schemas.monitoring import Conversion, MonitoringConfigError, Threshold, parse_monitoring_text
from tests.monitoring.history import D_, X23, Y23, Y24, Y25, G, N, S, cycles, directory, features, key, transitions
from transforms import monitoring

CONVERSION = Conversion(
    label="个转企培育对象",
    basis="测试口径",
    types=("发展型",),
    min_yearly_cycles=1,
    any_of=(
        Threshold("insured_incl_operator", 5, "参保5人以上"),
        Threshold("sales_prev_year", 1_000_000, "销售额100万元以上"),
    ),
)


def rows(frame: pl.LazyFrame, *columns: str) -> list[tuple]:
    return [tuple(r) for r in frame.collect().select(*columns).iter_rows()]


def test_cycle_order_skips_extra_cycles_as_neighbours():
    order = monitoring.cycle_order(cycles().lazy()).collect()
    assert order["cycle_id"].to_list() == [Y23, X23, Y24, Y25]
    assert order["previous_yearly"].to_list() == [None, Y23, Y23, Y24]
    assert order["next_yearly"].to_list() == [Y24, Y24, Y25, None]


def test_types_by_region_count_every_type_per_cycle_and_label_the_extra_cycle():
    figure = monitoring.types_by(directory().lazy(), cycles().lazy(), "region_code").collect()
    counts = {(r["cycle_id"], r["region_code"], r["business_type"]): r["businesses"] for r in figure.to_dicts()}
    assert counts[(Y23, "410102", S)] == 1 and counts[(Y23, "410102", D_)] == 1
    assert counts[(Y23, "410102", G)] == 0 and counts[(Y23, "410102", N)] == 0  # zeros are rows too
    assert counts[(Y23, "410103", S)] == 1 and counts[(Y23, "410103", G)] == 1 and counts[(Y23, "410103", N)] == 1
    assert counts[(Y24, "410103", N)] == 1  # C, closed
    assert counts[(Y25, "410103", S)] == 2  # E and F
    assert figure.filter(pl.col("cycle_id") == X23)["cycle_kind"].unique().to_list() == ["extra"]
    assert figure.height == 4 * 2 * 4  # 4 cycles × 2 counties × 4 types
    assert figure["businesses"].sum() == directory().height


def test_types_by_section_use_the_section_letter_and_mark_unknown_industry():
    figure = monitoring.types_by(directory().lazy(), cycles().lazy(), "section").collect()
    counts = {(r["cycle_id"], r["section"], r["business_type"]): r["businesses"] for r in figure.to_dicts()}
    assert counts[(Y23, "F", S)] == 1 and counts[(Y23, "F", G)] == 1 and counts[(Y23, "F", N)] == 1
    assert counts[(Y23, monitoring.NO_SECTION, S)] == 1  # D has no industry
    assert counts[(Y25, "O", S)] == 1 and counts[(Y25, "H", D_)] == 1


def test_transition_matrix_compares_yearly_cycles_only():
    figure = monitoring.transition_counts(transitions().lazy(), cycles().lazy())
    got = rows(figure, "cycle_id", "previous_cycle_id", "previous_type", "business_type", "movement", "businesses")
    assert sorted(got, key=str) == sorted(
        [
            (Y24, Y23, S, G, "上升", 1),  # A
            (Y24, Y23, D_, D_, "不变", 1),  # B
            (Y24, Y23, G, N, "下降", 1),  # C closed
            (Y24, Y23, S, None, "退出", 1),  # D gone
            (Y24, Y23, None, S, "新增", 1),  # E new
            (Y24, Y23, N, S, "上升", 1),  # F
            (Y25, Y24, G, D_, "上升", 1),  # A
            (Y25, Y24, D_, D_, "不变", 1),  # B
            (Y25, Y24, N, None, "退出", 1),  # C gone
            (Y25, Y24, S, S, "不变", 2),  # E, F
        ],
        key=str,
    )


def test_survival_counts_who_is_still_active_a_year_later():
    figure = monitoring.survival(directory().lazy(), features().lazy(), cycles().lazy())
    got = rows(figure, "cycle_id", "next_cycle_id", "business_type", "businesses", "surviving", "closed", "absent")
    assert got == [
        (Y23, Y24, S, 2, 1, 0, 1),  # A survives, D is gone
        (Y23, Y24, G, 1, 0, 1, 0),  # C closed
        (Y23, Y24, D_, 1, 1, 0, 0),  # B
        (Y23, Y24, N, 1, 1, 0, 0),  # F, 存续 though not typed
        (Y24, Y25, S, 2, 2, 0, 0),  # E, F (C was not 存续 in 2024: not counted)
        (Y24, Y25, G, 1, 1, 0, 0),  # A
        (Y24, Y25, D_, 1, 1, 0, 0),  # B
    ]
    assert figure.collect()["survival_rate"].to_list()[0] == pytest.approx(0.5)


def test_employment_sums_insured_people_and_reported_employees_per_type():
    figure = monitoring.employment(directory().lazy(), features().lazy(), cycles().lazy()).collect()
    by = {(r["cycle_id"], r["business_type"]): r for r in figure.to_dicts()}
    assert by[(Y25, D_)] | {} == by[(Y25, D_)]
    assert (by[(Y25, D_)]["businesses"], by[(Y25, D_)]["insured"], by[(Y25, D_)]["insured_employees"]) == (2, 9, 7)
    assert by[(Y25, D_)]["reported_employees"] == 7
    assert (by[(Y23, S)]["insured"], by[(Y23, S)]["insuring_businesses"], by[(Y23, S)]["reported_employees"]) == (
        1,
        1,
        0,
    )  # A 1 person; D none, no report figure (null) counts as nothing
    assert by[(X23, D_)]["cycle_kind"] == "extra"


def test_candidates_are_development_businesses_over_a_threshold():
    figure = monitoring.candidates(directory().lazy(), features().lazy(), cycles().lazy(), CONVERSION)
    got = rows(figure, "cycle_id", "cycle_kind", "business_key", "yearly_cycles_as_type", "conditions")
    assert got == [
        (X23, "extra", key("B"), 2, "销售额100万元以上"),  # 150 万 in the extra cycle; 发展型 in 2023 too
        (Y24, "yearly", key("B"), 2, "参保5人以上"),
        (Y25, "yearly", key("A"), 1, "参保5人以上"),
        (Y25, "yearly", key("B"), 3, "销售额100万元以上"),  # the extra cycle is not a yearly cycle in the row
    ]
    assert "sales_prev_year" not in figure.collect_schema()  # no money in the figure


def test_candidates_may_need_several_yearly_cycles_in_a_row():
    two = dataclasses.replace(CONVERSION, min_yearly_cycles=2)
    figure = monitoring.candidates(directory().lazy(), features().lazy(), cycles().lazy(), two)
    assert rows(figure, "cycle_id", "business_key") == [(X23, key("B")), (Y24, key("B")), (Y25, key("B"))]


def test_figures_name_every_monitoring_table():
    from schemas.monitoring import MONITORING_TABLES

    made = monitoring.figures(cycles().lazy(), directory().lazy(), features().lazy(), transitions().lazy(), CONVERSION)
    assert set(made) == set(MONITORING_TABLES)


def test_filed_criteria_load_and_read_existing_features():
    for province in ("23", "41"):
        conversion = monitoring_for(province)
        assert conversion.types == ("发展型",) and conversion.any_of


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "缺少 [conversion]"),
        ('[conversion]\nlabel="x"\nbasis="y"\ntypes=["大型"]\n', "types"),
        (
            '[conversion]\nlabel="x"\nbasis="y"\ntypes=["发展型"]\n[[conversion.any_of]]\nfeature="nope"\n'
            'at_least=1\nlabel="z"\n',
            "'nope' 不是数值特征",
        ),
        (
            '[conversion]\nlabel="x"\nbasis="y"\ntypes=["发展型"]\n[[conversion.any_of]]\nfeature="seasonal"\n'
            'at_least=1\nlabel="z"\n',
            "不是数值特征",
        ),
        ('[conversion]\nlabel="x"\nbasis="y"\ntypes=["发展型"]\nmin_yearly_cycles=0\n', "min_yearly_cycles"),
        ('[conversion]\nlabel="x"\nbasis="y"\ntypes=["发展型"]\n', "至少要有一条"),
    ],
)
def test_a_broken_criterion_file_is_named(text, says):
    with pytest.raises(MonitoringConfigError) as caught:
        parse_monitoring_text(text, "data/monitoring/99.toml")
    assert "data/monitoring/99.toml" in str(caught.value) and says in str(caught.value)
