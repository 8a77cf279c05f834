"""Support measures (免申即享) as data: every shipped measure's rule at its boundaries on hand-made rows, the seeds'
words, and every load error naming the file and the measure."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from reference import MEASURES_DIR, measures_for
from schemas.features import FEATURES
from schemas.measures import Measure, MeasuresError, parse_measures_text
from transforms.measures import eligibility, qualifies

TYPES = ("生存型", "成长型", "发展型", "不符合分型条件")

HEAD = """
province = "41"
version = "2025.1"
title = "测试措施"
document = "测试文件"
source = "test"
"""


def measures_of(body: str, origin: str = "measures/41.toml"):
    return parse_measures_text(HEAD + body, origin)


def rows(*businesses: dict) -> pl.LazyFrame:
    """Hand-made businesses: every feature null unless given, no 名特优新 unless given."""
    schema = {
        "business_key": pl.String,
        "business_type": pl.String,
        "categories": pl.List(pl.String),
        **{f.name: f.dtype for f in FEATURES.values()},
    }
    filled = [
        {"business_key": f"K{i:03d}", "categories": [], **{f: None for f in FEATURES}, **b}
        for i, b in enumerate(businesses)
    ]
    return pl.LazyFrame(filled, schema=schema)


def qualified(measure: Measure, *businesses: dict) -> list[bool]:
    return rows(*businesses).select(qualifies(measure)).collect().to_series().to_list()


# --- the rule of a measure, on hand-made rows ------------------------------------------------------------

TRANSFORM = measures_of(
    """
[[measures]]
id = "个转企"
name = "个转企奖励"
department = "市场监督管理局"
quote = "q"
cite = "c"
types = ["发展型"]
conditions = [{ feature = "insured_incl_operator", at_least = 5 }]

[[measures]]
id = "首贷"
name = "首贷"
department = "金融监管局"
quote = "q"
cite = "c"
types = ["成长型"]

[[measures]]
id = "知名"
name = "知名类宣传"
department = "市场监督管理局"
quote = "q"
cite = "c"
types = ["生存型", "成长型", "发展型"]
categories = ["知名"]

[[measures]]
id = "引导参保"
name = "引导参保"
department = "人社局"
quote = "q"
cite = "c"
types = ["发展型"]
conditions = [{ feature = "insured_incl_operator", at_most = 0 }]

[[measures]]
id = "纳税"
name = "纳税大户"
department = "税务局"
quote = "q"
cite = "c"
types = ["成长型", "发展型"]
conditions = [{ feature = "tax_paid_prev_year", above = "10000.50" }, { feature = "general_taxpayer", equals = true }]
"""
)


def measure(measure_id: str) -> Measure:
    return next(m for m in TRANSFORM.measures if m.id == measure_id)


def test_a_development_business_with_insured_people_at_the_threshold_qualifies_for_the_award():
    award = measure("个转企")
    assert qualified(
        award,
        {"business_type": "发展型", "insured_incl_operator": 4},
        {"business_type": "发展型", "insured_incl_operator": 5},
        {"business_type": "发展型", "insured_incl_operator": 6},
    ) == [False, True, True]


def test_the_award_needs_the_type_too_and_a_missing_value_meets_nothing():
    award = measure("个转企")
    assert qualified(
        award,
        {"business_type": "成长型", "insured_incl_operator": 9},
        {"business_type": "不符合分型条件", "insured_incl_operator": 9},
        {"business_type": "发展型", "insured_incl_operator": None},
    ) == [False, False, False]


def test_a_measure_by_type_alone_takes_exactly_that_type():
    loans = measure("首贷")
    assert qualified(loans, *({"business_type": t} for t in TYPES)) == [False, True, False, False]


def test_a_category_measure_takes_holders_of_that_category_only():
    famous = measure("知名")
    assert qualified(
        famous,
        {"business_type": "成长型", "categories": ["知名"]},
        {"business_type": "成长型", "categories": ["特色"]},
        {"business_type": "成长型", "categories": []},
        {"business_type": "不符合分型条件", "categories": ["知名"]},  # the type is still required
        {"business_type": "生存型", "categories": ["特色", "知名"]},
    ) == [True, False, False, False, True]


def test_an_upper_bound_of_zero_takes_only_zero():
    insure = measure("引导参保")
    assert qualified(
        insure,
        {"business_type": "发展型", "insured_incl_operator": 0},
        {"business_type": "发展型", "insured_incl_operator": 1},
    ) == [True, False]


def test_every_condition_must_hold_money_exclusive_to_the_cent():
    big = measure("纳税")
    money = pl.Decimal(18, 2)
    out = (
        rows(
            {"business_type": "成长型", "tax_paid_prev_year": Decimal("10000.50"), "general_taxpayer": True},
            {"business_type": "成长型", "tax_paid_prev_year": Decimal("10000.51"), "general_taxpayer": True},
            {"business_type": "发展型", "tax_paid_prev_year": Decimal("99999.00"), "general_taxpayer": False},
        )
        .with_columns(pl.col("tax_paid_prev_year").cast(money))
        .select(qualifies(big))
        .collect()
        .to_series()
        .to_list()
    )
    assert out == [False, True, False]


def test_eligibility_lists_each_measure_and_business_once_sorted_by_department_and_measure():
    listed = eligibility(
        rows(
            {"business_type": "发展型", "insured_incl_operator": 0},
            {"business_type": "成长型", "insured_incl_operator": 2, "categories": ["知名"]},
            {"business_type": "发展型", "insured_incl_operator": 7},
        ),
        TRANSFORM,
        ["business_key", "business_type"],
    ).collect()
    assert listed.select("department", "measure_id", "business_key").rows() == [
        ("人社局", "引导参保", "K000"),
        ("市场监督管理局", "个转企", "K002"),
        ("市场监督管理局", "知名", "K001"),
        ("金融监管局", "首贷", "K001"),
    ]


# --- the shipped measures: each rule at its boundaries -------------------------------------------------

SHIPPED = [(p, m) for p in ("23", "41") for m in measures_for(p).measures]


def _boundary_rows(m: Measure) -> list[tuple[dict, bool]]:
    """Rows just meeting and just missing each of the measure's conditions, for one of its types, and the same
    row under a type it does not take; expectations from the words ≥, ≤ (not from the compiler)."""
    base = {"business_type": m.types[0], "categories": list(m.categories[:1])}
    for c in m.conditions:  # every condition met at its own threshold
        base[c.feature] = int(c.at_least if c.at_least is not None else c.at_most)
    cases = [(base, True)]
    for c in m.conditions:
        if c.at_least is not None:
            cases += [({**base, c.feature: c.at_least - 1}, False), ({**base, c.feature: c.at_least + 1}, True)]
        if c.at_most is not None:
            cases += [({**base, c.feature: c.at_most + 1}, False)]
            if c.at_most > 0:
                cases += [({**base, c.feature: c.at_most - 1}, True)]
    cases += [({**base, "business_type": t}, False) for t in TYPES if t not in m.types]
    if m.categories:
        cases += [({**base, "categories": []}, False)]
    return cases


@pytest.mark.parametrize(("province", "shipped"), SHIPPED, ids=[f"{p}:{m.id}" for p, m in SHIPPED])
def test_each_shipped_measure_at_its_boundaries(province, shipped):
    assert all(c.at_least is not None or c.at_most is not None for c in shipped.conditions), "extend _boundary_rows"
    cases = _boundary_rows(shipped)
    assert qualified(shipped, *(row for row, _ in cases)) == [expected for _, expected in cases]


def test_the_individual_to_enterprise_awards_read_insured_people_at_least_five():
    # the brief's example, spelled out: 发展型 with 4 / 5 insured people
    for province, ids in (("23", ["HL-发展-A"]), ("41", ["HA-发展-04", "HA-发展-05", "HA-发展-06"])):
        for measure_id in ids:
            award = next(m for m in measures_for(province).measures if m.id == measure_id)
            assert qualified(
                award,
                {"business_type": "发展型", "insured_incl_operator": 4},
                {"business_type": "发展型", "insured_incl_operator": 5},
                {"business_type": "成长型", "insured_incl_operator": 5},
            ) == [False, True, False], measure_id


def test_the_shipped_files_cover_every_type_section_of_the_seeds():
    for province, prefix in (("23", "HL"), ("41", "HA")):
        loaded = measures_for(province)
        assert loaded.province == province
        for section in ("生存", "成长", "发展"):
            assert any(m.id.startswith(f"{prefix}-{section}-") for m in loaded.measures), (province, section)
        assert {c for m in loaded.measures for c in m.categories} <= {"知名", "特色", "优质", "新兴"}


def test_every_quote_is_the_seeds_words():
    found = [p / "shared" / "seeds" for p in Path(__file__).resolve().parents if (p / "shared" / "seeds").is_dir()]
    if not found:
        pytest.skip("the seeds (../shared/seeds) are not next to this checkout")
    texts = {"23": "001_6f7411fb8adad7e0.txt", "41": "002_d36122914c6e782b.txt"}
    for province, seed in texts.items():
        text = re.sub(r"\s+", "", (found[0] / seed).read_text(encoding="utf-8"))
        for m in measures_for(province).measures:
            assert re.sub(r"\s+", "", m.quote) in text, m.id
            assert m.cite.startswith(seed[:3]), m.id


# --- load errors: Chinese, naming the file and the measure ----------------------------------------------

ONE = """
[[measures]]
id = "M-1"
name = "措施一"
department = "人社局"
quote = "q"
cite = "c"
types = ["成长型"]
"""


def error_of(body: str) -> str:
    with pytest.raises(MeasuresError) as caught:
        measures_of(body)
    return str(caught.value)


def test_an_unknown_feature_is_named_with_the_file_and_the_measure():
    message = error_of(ONE + 'conditions = [{ feature = "insured", at_least = 5 }]\n')
    assert message.startswith("measures/41.toml：")
    assert "措施 M-1（第 1 条 [[measures]]）" in message and "未知的特征 'insured'" in message


def test_an_unknown_type_is_named():
    message = error_of(ONE.replace('["成长型"]', '["成长形"]'))
    assert "措施 M-1" in message and "未知的分型结果 成长形" in message


def test_an_unknown_category_is_named():
    message = error_of(ONE + 'categories = ["驰名"]\n')
    assert "措施 M-1" in message and "未知的名特优新类别 驰名" in message


def test_an_empty_measure_list_is_refused():
    message = error_of("measures = []\n")
    assert message.startswith("measures/41.toml：") and "没有任何措施" in message


def test_a_missing_measure_list_is_refused():
    assert "measures：缺少此项" in error_of("")


def test_a_duplicate_id_is_named():
    message = error_of(ONE + ONE.replace('name = "措施一"', 'name = "措施二"'))
    assert "措施编号重复：M-1" in message


def test_a_yes_no_feature_takes_equals_true_only():
    message = error_of(ONE + 'conditions = [{ feature = "general_taxpayer", at_least = 1 }]\n')
    assert "措施 M-1" in message and "equals = true" in message


def test_a_numeric_feature_needs_a_threshold():
    assert "阈值" in error_of(ONE + 'conditions = [{ feature = "valid_patents" }]\n')


def test_a_condition_without_a_feature_is_refused():
    assert "缺少 feature" in error_of(ONE + "conditions = [{ at_least = 5 }]\n")


def test_a_department_that_cannot_be_a_file_name_is_refused():
    assert "部门名称" in error_of(ONE.replace('department = "人社局"', 'department = "人社局/就业科"'))


def test_broken_toml_names_the_file():
    with pytest.raises(MeasuresError, match=r"^x\.toml：不是有效的 TOML"):
        parse_measures_text("province = ", "x.toml")


def test_the_loader_refuses_another_provinces_file_and_a_missing_one(tmp_path):
    other = tmp_path / "41.toml"
    other.write_text((MEASURES_DIR / "23.toml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(MeasuresError, match="省份 23 的文件"):
        measures_for("41", other)
    with pytest.raises(MeasuresError, match=r"帮扶措施.*未备案"):
        measures_for("11")
