"""Header rows mapped to canonical names: aliases, units, refusals."""

import pytest

from schemas.sources import SOURCES
from transforms.headers import HeaderError, mapped_headers

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
    with pytest.raises(HeaderError, match="“实缴金额” has no unit; expected “实缴金额（元）” or “实缴金额（万元）”"):
        mapped_headers(TAX_PAYMENT, [*HEADERS[:3], "实缴金额"], {})


def test_an_unknown_money_unit_is_refused():
    with pytest.raises(HeaderError, match="unit “千元”"):
        mapped_headers(TAX_PAYMENT, [*HEADERS[:3], "实缴金额（千元）"], {})


def test_a_missing_required_column_is_named():
    with pytest.raises(HeaderError, match="required column 入库日期 is missing"):
        mapped_headers(TAX_PAYMENT, [h for h in HEADERS if h != "入库日期"], {})


def test_a_column_delivered_twice_is_refused():
    with pytest.raises(HeaderError, match="“纳税人识别号” and “税号” are both 纳税人识别号"):
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
    with pytest.raises(HeaderError, match="a column 统一社会信用代码 or 注册号 is required"):
        mapped_headers(registration, rest, {})
