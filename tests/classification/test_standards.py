"""Classification standards as data: the shipped files load, the most specific applies, errors name the place."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from schemas.classification import (
    CREDENTIAL_TYPES,
    StandardError,
    Standards,
    parse_standard,
    parse_standard_text,
)
from tests.classification.helpers import business, standard_data
from transforms.classification.model import Credential
from transforms.classification.standard import indicator_met, score

DATA = Path(__file__).resolve().parents[2] / "data" / "classification"


def shipped(province: str) -> Standards:
    files = {
        p.stem: parse_standard_text(p.read_text(encoding="utf-8"), p.name)
        for p in DATA.glob("*.toml")
        if p.stem.startswith(province)
    }
    return Standards(files)


def test_the_shipped_standards_load():
    for province in ("23", "41"):
        s = shipped(province)
        assert s.quota.level == "county"
    assert "410102" in shipped("41").files


def test_the_county_override_applies_to_its_county_only():
    s = shipped("41")
    assert s.category("410102", "特色")[0].region == "410102"
    assert s.category("410103", "特色")[0].region == "41"
    assert s.category("410102", "知名")[0].region == "41"  # categories it does not change come from the province


def test_the_credential_types_are_the_contracts_closed_list():
    assert len(CREDENTIAL_TYPES) == 19 and "政府表彰" in CREDENTIAL_TYPES and "非遗工坊" in CREDENTIAL_TYPES


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["categories"]["知名"]["indicators"][0].update(feature="stars"),
            "知名类指标 T（第 1 个 [[categories.知名.indicators]]）：未知的特征 'stars'",
        ),
        (
            lambda d: d["categories"]["知名"]["indicators"][0].update(label=" "),
            "知名类指标 T（第 1 个 [[categories.知名.indicators]]）的 label：不能为空",
        ),
        (
            lambda d: d["categories"]["知名"]["indicators"][0].pop("label"),
            "知名类指标 T（第 1 个 [[categories.知名.indicators]]）的 label：缺少此项",
        ),
        (
            lambda d: d["categories"]["特色"].update(pass_mark=4),
            "类别 特色（[categories.特色]）：合格分 pass_mark = 4 无法达到",
        ),
        (
            lambda d: d["categories"]["优质"]["indicators"].append(
                {"code": "C", "label": "证书", "points": 1, "credential": "金牌"}
            ),
            "优质类指标 C（第 4 个 [[categories.优质.indicators]]）：未知的证书/荣誉类型 '金牌'",
        ),
        (lambda d: d["categories"].pop("新兴"), "省级分类标准须包含全部四个类别，缺少：新兴"),
        (lambda d: d["quota"].update(share=1.5), "名额 [quota]：share = 1.5 不在 0（不含）到 1（含）之间"),
        (lambda d: d["categories"]["知名"]["indicators"][0].update(at_least="许多"), "at_least = '许多' 不是数"),
    ],
)
def test_a_broken_standard_is_refused_naming_the_file_and_the_indicator(change, message):
    data = standard_data()
    change(data)
    with pytest.raises(StandardError) as error:
        parse_standard(data, "41.toml")
    assert str(error.value).startswith("41.toml：")
    assert message in str(error.value)


def test_a_file_for_another_region_is_refused():
    with pytest.raises(StandardError, match=r"^23\.toml：region = '41' 与文件名的行政区划代码 23 不一致$"):
        parse_standard(standard_data(), "23.toml")


def test_a_credential_counts_when_valid_on_the_application_date_and_of_the_level():
    s = shipped("41")
    b = business("B", region="410103", points=0)
    on = dt.date(2025, 8, 20)
    honours = [Credential("B", "非遗传承人", "县", dt.date(2020, 1, 1), on)]  # last valid day
    assert score(s, b, "优质", honours, on).met == ("优质三",)
    expired = [Credential("B", "非遗传承人", "县", dt.date(2020, 1, 1), on - dt.timedelta(days=1))]
    assert score(s, b, "优质", expired, on).met == ()
    too_low = [Credential("B", "技能荣誉", "县", dt.date(2020, 1, 1))]  # 优质二b needs 市 or above
    assert score(s, b, "优质", too_low, on).met == ()
    assert score(s, b, "优质", [Credential("B", "技能荣誉", "省", dt.date(2020, 1, 1))], on).met == ("优质二b",)


def test_industry_and_website_indicators():
    s = shipped("41")
    ind = s.category("410103", "新兴")[1].indicators
    it = business("B", region="410103", points=0)
    assert indicator_met(ind[1], it.__class__(**{**it.__dict__, "industry_code": "I6510"}), [], dt.date(2025, 1, 1))
    assert not indicator_met(ind[1], it, [], dt.date(2025, 1, 1))  # H6210 is 餐饮
    web = business("W", region="410103", points=0, has_website=True)
    assert score(s, web, "新兴", [], dt.date(2025, 8, 20)).met == ("新兴一",)
