"""Header rows mapped to canonical names: aliases, units, refusals."""

import pytest

from schemas.sources import SOURCES
from transforms.headers import HeaderError, holding_source, mapped_headers

TAX_PAYMENT = SOURCES["tax_payment"]
HEADERS = ["纳税人识别号", "税种", "入库日期", "实缴金额（元）"]


def test_contract_headers_in_any_order_with_extras_kept():
    mapped = mapped_headers(TAX_PAYMENT, ["备注", *reversed(HEADERS)], {})
    assert mapped.canonical == {
        "实缴金额（元）": "amount_yuan",
        "入库日期": "paid_on",
        "税种": "tax_kind",
        "纳税人识别号": "taxpayer_id",
    }
    assert mapped.extras == ("备注",)
    assert mapped.factors == {"amount_yuan": 1}


@pytest.mark.parametrize(
    ("header", "factor"),
    [("实缴金额（万元）", 10_000), ("实缴金额(元)", 1), ("实缴金额 ( 万元 )", 10_000), ("入库金额（元）", 1)],
)
def test_money_units_in_full_width_or_ascii_brackets_and_aliases(header, factor):
    mapped = mapped_headers(TAX_PAYMENT, [*HEADERS[:3], header], {})
    assert mapped.canonical[header] == "amount_yuan"
    assert mapped.factors == {"amount_yuan": factor}


def test_a_money_header_without_a_unit_is_refused():
    with pytest.raises(HeaderError, match="金额列“实缴金额”没有单位；应为“实缴金额（元）”或“实缴金额（万元）”"):
        mapped_headers(TAX_PAYMENT, [*HEADERS[:3], "实缴金额"], {})


def test_an_unknown_money_unit_is_refused():
    with pytest.raises(HeaderError, match="单位是“千元”；应为（元）或（万元）"):
        mapped_headers(TAX_PAYMENT, [*HEADERS[:3], "实缴金额（千元）"], {})


def test_a_missing_required_column_is_named():
    with pytest.raises(HeaderError, match="缺少必需的列 入库日期"):
        mapped_headers(TAX_PAYMENT, [h for h in HEADERS if h != "入库日期"], {})


def test_a_column_delivered_twice_is_refused():
    with pytest.raises(HeaderError, match="列“纳税人识别号”和“税号”都是纳税人识别号；应只有一列"):
        mapped_headers(TAX_PAYMENT, [*HEADERS, "税号"], {})


def test_aliases_from_configuration():
    headers = [*HEADERS[:2], "缴库日期", HEADERS[3]]
    with pytest.raises(HeaderError):
        mapped_headers(TAX_PAYMENT, headers, {})
    assert mapped_headers(TAX_PAYMENT, headers, {"paid_on": ["缴库日期"]}).canonical["缴库日期"] == "paid_on"


def test_registration_needs_uscc_or_reg_no():
    registration = SOURCES["registration"]
    rest = ["经营者姓名", "经营者身份证件号码", "行业代码", "行政区划代码", "成立日期", "登记状态"]
    assert mapped_headers(registration, ["注册号", *rest], {}).canonical["注册号"] == "reg_no"
    with pytest.raises(HeaderError, match="应有“统一社会信用代码”或“注册号”列；两者都没有"):
        mapped_headers(registration, rest, {})


@pytest.mark.parametrize(
    ("header", "meant"),
    [("入库日", "入库日期"), ("入库日其", "入库日期"), ("入库日期间", "入库日期"), ("税款所属期始", "税款所属期起")],
)
def test_a_header_one_character_from_a_missing_column_is_refused_naming_both(header, meant):
    headers = [*(h for h in HEADERS if h != meant), header]
    with pytest.raises(HeaderError, match=f"列“{header}”与缺少的列“{meant}”只差一个字"):
        mapped_headers(TAX_PAYMENT, headers, {})


def test_a_money_header_one_character_off_is_compared_without_its_unit():
    with pytest.raises(HeaderError, match="列“实缴全额（元）”与缺少的列“实缴金额”只差一个字"):
        mapped_headers(TAX_PAYMENT, [*HEADERS[:3], "实缴全额（元）"], {})


def test_extras_two_characters_away_or_near_a_delivered_column_are_kept():
    # 税款所属期 is one character from both period columns, which are delivered; 缴款日期 is two from 入库日期
    headers = [*HEADERS, "税款所属期起", "税款所属期止", "税款所属期", "缴款日期", "序号"]
    assert mapped_headers(TAX_PAYMENT, headers, {}).extras == ("税款所属期", "缴款日期", "序号")


def test_a_configured_alias_is_not_taken_for_a_renamed_column():
    headers = [*HEADERS[:2], "入库日", HEADERS[3]]
    assert mapped_headers(TAX_PAYMENT, headers, {"paid_on": ["入库日"]}).canonical["入库日"] == "paid_on"


def test_a_file_holding_another_sources_columns_is_told_apart():
    sources = list(SOURCES.values())
    payments = ["纳税人识别号", "税种", "税款所属期起", "入库日期", "实缴金额（元）"]
    assert holding_source(SOURCES["taxpayer"], payments, sources).name == "tax_payment"
    assert holding_source(SOURCES["tax_payment"], payments, sources) is None
    # a serious_list with an extra 列入原因 matches abnormal_list better, but all of its own columns: it is kept
    assert (
        holding_source(SOURCES["serious_list"], ["统一社会信用代码", "列入日期", "列入原因", "移出日期"], sources)
        is None
    )
    assert holding_source(SOURCES["taxpayer"], ["纳税人识别号"], sources) is None
