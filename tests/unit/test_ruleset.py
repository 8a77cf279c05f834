"""Rulesets as data: the two shipped files, every kind of error a filed ruleset can have, and a new province."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import polars as pl
import pytest

from reference import RULESETS_DIR, load_ruleset, ruleset_for
from schemas.ruleset import RulesetError, parse_ruleset, parse_ruleset_text
from schemas.vocabulary import DEVELOPMENT, GROWTH
from tests.support.frames import feature_row, feature_table
from transforms.business_types import business_types

HA_TEXT = (RULESETS_DIR / "41.toml").read_text(encoding="utf-8")


def test_the_shipped_rulesets_load_with_their_documents_codes():
    hl, ha = ruleset_for("23"), ruleset_for("41")
    assert (hl.name, ha.name) == ("HL-2024.1", "HA-2024.1")
    assert [c.code for c in hl.conditions] == ["成长①", "成长②", "成长③", "发展①", "发展②", "发展③", "发展④", "发展⑤"]
    assert [c.code for c in ha.conditions] == ["成长A", "成长B", "成长C", "成长D", "发展A", "发展B", "发展C", "发展D"]
    for ruleset in (hl, ha):
        assert (ruleset.requirement.feature, ruleset.requirement.at_least) == ("years_established", 2)
        assert all((c.label and c.interpretations) or c.feature == "general_taxpayer" for c in ruleset.conditions)


def test_the_labels_are_the_seeds_words():
    # ../shared/seeds of the checkout (main or a worktree under wt/)
    found = [p / "shared" / "seeds" for p in Path(__file__).resolve().parents if (p / "shared" / "seeds").is_dir()]
    if not found:
        pytest.skip("the seeds (../shared/seeds) are not next to this checkout")
    seeds = found[0]
    texts = {"23": "001_6f7411fb8adad7e0.txt", "41": "002_d36122914c6e782b.txt"}
    for province, seed in texts.items():
        text = re.sub(r"\s+", "", (seeds / seed).read_text(encoding="utf-8"))
        for condition in ruleset_for(province).conditions:
            label = re.sub(r"\s+", "", condition.label)
            assert label in text, condition.code


def ha_with(change) -> dict:
    """The Henan ruleset's data with ``change(data)`` applied."""
    data = tomllib.loads(HA_TEXT)
    change(data)
    return data


def condition(data: dict, code: str) -> dict:
    return next(c for c in data["conditions"] if c["code"] == code)


def error_of(data: dict) -> str:
    with pytest.raises(RulesetError) as caught:
        parse_ruleset(data, "rulesets/41.toml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # an unknown feature
        (
            lambda d: condition(d, "成长C").update(feature="sales"),
            "条件 成长C（第 3 个 [[conditions]]）：未知的特征 'sales'",
        ),
        # a missing / empty label
        (lambda d: condition(d, "成长B").pop("label"), "条件 成长B（第 2 个 [[conditions]]）的 label：缺少此项"),
        (
            lambda d: condition(d, "成长B").update(label=" "),
            "条件 成长B（第 2 个 [[conditions]]）的 label：不能为空",
        ),
        # tiers that overlap
        (
            lambda d: condition(d, "发展B").update(at_least=5),
            "insured_incl_operator 上的条件 成长B 和 发展B 重叠：都包含 5",
        ),
        (
            lambda d: condition(d, "发展A").update(above=None, at_least=10000),
            "tax_paid_prev_year 上的条件 成长A 和 发展A 在 10000 处重叠",
        ),
        (lambda d: condition(d, "成长C").pop("below"), "sales_prev_year 上的条件 成长C 和 发展C 重叠"),
        # tiers that leave a gap
        (
            lambda d: condition(d, "发展B").update(at_least=7),
            "insured_incl_operator 上的条件 成长B 和 发展B 之间有空缺：6 两个条件都不满足",
        ),
        (
            lambda d: condition(d, "发展C").update(at_least=None, above=600000),
            "sales_prev_year 上的条件 成长C 和 发展C 之间有空缺：600000 本身两个条件都不满足",
        ),
        (
            lambda d: condition(d, "发展A").update(above=20000),
            "tax_paid_prev_year 上的条件 成长A 和 发展A 之间有空缺：10000 与 20000 之间的值两个条件都不满足",
        ),
        # tiers out of order, or a top tier with a cap
        (
            lambda d: condition(d, "发展D").update(type=GROWTH) or condition(d, "成长D").update(type=DEVELOPMENT),
            "years_established 上的条件 成长D 和 发展D 顺序颠倒：较高的值反而得到较低的类型 成长型",
        ),
        (lambda d: condition(d, "发展D").update(below=30), "条件 发展D 给 years_established 设了上限"),
        # bad thresholds
        (
            lambda d: condition(d, "成长A").update(at_most=10000.5),
            "条件 成长A（第 1 个 [[conditions]]）：at_most = 10000.5 是浮点数",
        ),
        (lambda d: condition(d, "成长A").update(at_most="1万"), "at_most = '1万' 不是数字"),
        (lambda d: condition(d, "成长A").update(at_most="10000.001"), "at_most = '10000.001' 不是最多 2 位小数的数额"),
        (lambda d: condition(d, "成长B").update(at_least=-1), "at_least = -1 是负数"),
        (lambda d: condition(d, "成长B").update(at_least="3"), "insured_incl_operator 是整数，它的阈值也应为整数"),
        (lambda d: condition(d, "成长B").update(at_least=True), "at_least = True 不是数字"),
        (
            lambda d: condition(d, "成长C").update(at_least=600000),
            "条件 成长C（第 3 个 [[conditions]]）：没有任何值能满足 at_least = 600000、below = 600000",
        ),
        (lambda d: condition(d, "成长C").update(above=1), "有两个下限或两个上限"),
        (
            lambda d: [condition(d, "成长C").pop(k) for k in ("at_least", "below")],
            "没有阈值：请为 sales_prev_year 给出 at_least、above、at_most、below 之一",
        ),
        (
            lambda d: condition(d, "成长C").update(equals=True),
            "sales_prev_year 是数值：应用 at_least、above、at_most、below 比较，不能用 equals",
        ),
        (
            lambda d: condition(d, "成长C").update(at_leats=1),
            "条件 成长C（第 3 个 [[conditions]]）的 at_leats：不是可用的键",
        ),
        # everything else a filed ruleset can get wrong
        (
            lambda d: condition(d, "成长C").update(type="生存型"),
            "条件 成长C（第 3 个 [[conditions]]）的 type：应为 '成长型' 或 '发展型'",
        ),
        (lambda d: condition(d, "成长C").update(code="成长B"), "条件编号重复使用：成长B"),
        (
            lambda d: condition(d, "成长C").update(interpretations=[1, 42]),
            "条件 成长C 引用了解释 [42]，但文件中没有定义",
        ),
        (lambda d: d.update(id="Henan"), "id：'Henan' 格式不符，应为两个大写字母"),
        (lambda d: d.update(version="1"), "version：'1' 格式不符，应为“标准年份.本文件修订号”"),
        (lambda d: d.pop("document"), "document：缺少此项"),
        (lambda d: d.update(conditions=[]), "conditions：至少应有 1 项"),
        (lambda d: d["requirement"].update(feature="age"), "requirement：未知的特征 'age'"),
    ],
)
def test_a_bad_ruleset_is_one_clear_error_naming_the_file_and_the_condition(change, message):
    error = error_of(ha_with(change))
    assert error.startswith("rulesets/41.toml：")
    assert message in error


def test_a_yes_no_feature_takes_equals_true_only():
    data = tomllib.loads((RULESETS_DIR / "23.toml").read_text(encoding="utf-8"))
    condition(data, "发展①").update(equals=False)
    assert "general_taxpayer 是“是/否”特征：条件应写 `equals = true`" in error_of(data)
    condition(data, "发展①").update(equals=True, at_least=1)
    assert "general_taxpayer 是“是/否”特征" in error_of(data)


def test_two_conditions_on_one_yes_no_feature_overlap():
    data = tomllib.loads((RULESETS_DIR / "23.toml").read_text(encoding="utf-8"))
    data["conditions"].append(dict(condition(data, "发展①"), code="发展⑥"))
    assert "条件 发展①、发展⑥ 重叠：都读取 general_taxpayer = true" in error_of(data)


def test_not_toml_is_an_error_with_its_line():
    with pytest.raises(RulesetError, match=r"^x\.toml：不是有效的 TOML（.*line 2"):
        parse_ruleset_text('id = "HA"\nversion = \n', "x.toml")


def test_a_province_without_a_ruleset_is_told_how_to_file_one():
    with pytest.raises(RulesetError) as caught:
        ruleset_for("42")
    message = str(caught.value)
    assert "省份 42 没有备案的分型标准" in message
    assert "写 data/rulesets/42.toml" in message and "--ruleset FILE" in message and "已备案：23、41" in message


def test_a_ruleset_file_that_is_missing_or_of_another_province(tmp_path):
    with pytest.raises(RulesetError, match="分型标准文件不存在"):
        ruleset_for("41", tmp_path / "nope.toml")
    with pytest.raises(RulesetError, match=re.escape("这是省份 23 的分型标准（HL-2024.1），而本周期是省份 41")):
        ruleset_for("41", RULESETS_DIR / "23.toml")


def test_any_ruleset_file_runs_and_a_new_province_is_a_new_file_only(tmp_path):
    # Hubei (42), hypothetically: one condition per type on features that exist
    text = """
id = "HB"
version = "2025.1"
province = "42"
title = "湖北省个体工商户分型标准（示例）"
document = "a test document"
source = "tests/unit/test_ruleset.py"
version_note = "a test"

[requirement]
label = "成立1年（含）以上"
feature = "years_established"
at_least = 1

[[conditions]]
code = "成长甲"
type = "成长型"
label = "有商标"
feature = "valid_trademarks"
at_least = 1
below = 3

[[conditions]]
code = "发展甲"
type = "发展型"
label = "3件（含）以上商标"
feature = "valid_trademarks"
at_least = 3
"""
    path = tmp_path / "42.toml"
    path.write_text(text, encoding="utf-8")
    ruleset = ruleset_for("42", path)
    assert load_ruleset(path) == ruleset
    rows = [
        feature_row(business_key="a", years_established=1, valid_trademarks=2),
        feature_row(business_key="b", years_established=1, valid_trademarks=3),
        feature_row(business_key="c", years_established=0, valid_trademarks=3),
    ]
    typed = business_types(feature_table(rows), ruleset).collect().sort("business_key")
    assert typed.select("business_type", "reasons").rows() == [
        ("成长型", ["成长甲"]),
        ("发展型", ["发展甲"]),
        ("生存型", ["MIN_AGE"]),
    ]
    assert typed.schema["reasons"] == pl.List(pl.String)
