"""Each Kind's parsing and rule, with its boundaries, on a few values built inline."""

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from schemas.codes import uscc_check_char
from schemas.sources import Kind
from transforms import normalise

AS_OF = dt.date(2025, 7, 31)
SECTIONS = {"62": "H", "01": "A"}


def run(checked_fn, texts, kind=Kind.DATE, **kw):
    """(value, rule) of each text, normalised as a column of ``kind`` is; a broken value shows as null."""
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    checked = checked_fn(normalise.normalised(kind, pl.col("v")), **kw)
    out = frame.select(checked.rule.alias("rule")).hstack(frame.select(checked.value.alias("value")))
    out = out.with_columns(pl.when(pl.col("rule").is_null()).then(pl.col("value")).alias("value"))
    return list(zip(out["value"].to_list(), out["rule"].to_list(), strict=True))


def test_text_is_stripped_with_full_width_spaces_folded_and_empty_is_null():
    frame = pl.DataFrame({"v": ["\u3000 金水路 1号\u00a0", "", "\u3000", None]})
    assert frame.select(normalise.normalised(Kind.TEXT, pl.col("v")).alias("v"))["v"].to_list() == [
        "金水路 1号",
        None,
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-05", dt.date(2024, 1, 5)),
        ("2024/01/05", dt.date(2024, 1, 5)),
        ("20240105", dt.date(2024, 1, 5)),
        ("2024/1/5", dt.date(2024, 1, 5)),
        (" ２０２４－０１－０５ ", dt.date(2024, 1, 5)),  # full-width digits and dash
        ("2024-02-29", dt.date(2024, 2, 29)),
    ],
)
def test_date_accepts_the_contract_forms(text, expected):
    assert run(normalise.date, [text]) == [(expected, None)]


@pytest.mark.parametrize("text", ["2023-02-29", "2024-13-01", "2024-01/05", "2024.01.05", "05/01/2024", "2024015", "x"])
def test_date_rejects_what_is_not_a_real_date_in_a_contract_form(text):
    assert run(normalise.date, [text]) == [(None, "date_format")]


def test_date_after_the_cycle_date_is_flagged_from_the_next_day_on():
    frame = pl.DataFrame({"d": [AS_OF, AS_OF + dt.timedelta(days=1), None]})
    assert frame.select(normalise.after(pl.col("d"), AS_OF).alias("d"))["d"].to_list() == [
        None,
        "date_after_extraction",
        None,
    ]
    years = pl.DataFrame({"y": [2025, 2026]}, schema={"y": pl.Int32})
    assert years.select(normalise.after(pl.col("y"), AS_OF, kind_is_year=True).alias("y"))["y"].to_list() == [
        None,
        "date_after_extraction",
    ]


def test_period_is_the_first_day_of_its_month():
    assert run(normalise.period, ["202401", "2024-12", "202413", "2024/01", "2024-1", ""]) == [
        (dt.date(2024, 1, 1), None),
        (dt.date(2024, 12, 1), None),
        (None, "period_format"),
        (None, "period_format"),
        (None, "period_format"),
        (None, None),
    ]


def test_year_and_count_are_whole_numbers_excel_floats_included():
    assert run(normalise.year, ["2024", "2024.0", "24", "2024.5"]) == [
        (2024, None),
        (2024, None),
        (None, "year_format"),
        (None, "year_format"),
    ]
    assert run(normalise.count, ["0", "3", "3.0", "-1", "1.5", "三"]) == [
        (0, None),
        (3, None),
        (3, None),
        (None, "count_format"),
        (None, "count_format"),
        (None, "count_format"),
    ]


def money(raw, factor, negative_allowed):
    number = normalise.money_number(normalise.normalised(Kind.MONEY, raw))
    in_yuan = normalise.money_in_yuan(number.value, factor, negative_allowed)
    return normalise.Checked(in_yuan.value, pl.coalesce(number.rule, in_yuan.rule))


def test_money_is_normalised_to_yuan_with_the_unit_factor():
    texts = ["1,234.50", "1.2345", "0", "-5", "12元", "1.5e3", " １２ ", ""]
    frame = pl.DataFrame({"v": texts, "f": [1, 10_000, 1, 1, 1, 1, 1, 1]})
    checked = money(pl.col("v"), pl.col("f"), negative_allowed=False)
    out = frame.select(checked.value.alias("value"), checked.rule.alias("rule"))
    assert out.schema["value"] == pl.Decimal(18, 2)
    assert list(zip(out["value"].to_list(), out["rule"].to_list(), strict=True)) == [
        (Decimal("1234.50"), None),
        (Decimal("12345.00"), None),
        (Decimal("0.00"), None),  # zero is not negative
        (Decimal("-5.00"), "money_negative"),
        (None, "money_format"),
        (Decimal("1500.00"), None),
        (Decimal("12.00"), None),
        (None, None),
    ]


def test_the_plain_money_path_parses_what_it_parses_as_the_full_path_does():
    texts = ["-150.25", "1.5e3", "+4", "0.1", "12元", " 3", "1,000", "１２", ""]
    frame = pl.DataFrame({"v": texts})
    plain = frame.select(normalise.money_plain(pl.col("v")))["v"]
    full = frame.select(normalise.money_number(normalise.normalised(Kind.MONEY, pl.col("v"))).value.alias("v"))["v"]
    assert [p for p in plain if p is not None] == [f for p, f in zip(plain, full, strict=True) if p is not None]
    assert plain.to_list()[:4] == [Decimal("-150.25"), Decimal("1500"), Decimal("4"), Decimal("0.1")]


def test_money_may_be_negative_where_the_contract_allows_refunds():
    frame = pl.DataFrame({"v": ["-150.25"], "f": [1]})
    checked = money(pl.col("v"), pl.col("f"), negative_allowed=True)
    assert frame.select(checked.value, checked.rule.alias("r")).row(0) == (Decimal("-150.25"), None)


def test_flags():
    assert run(normalise.flag, ["是", "否", "Y", "n", "1", "0", "有", ""]) == [
        (True, None),
        (False, None),
        (True, None),
        (False, None),
        (True, None),
        (False, None),
        (None, "flag_format"),
        (None, None),
    ]


def test_enum_maps_aliases_to_the_canonical_value():
    values, aliases = ("存续", "吊销", "注销", "撤销"), {"在营": "存续"}
    assert run(normalise.enum, ["在营", " 存续\u3000", "营业", ""], Kind.ENUM, values=values, aliases=aliases) == [
        ("存续", None),
        ("存续", None),
        (None, "enum_unknown"),
        (None, None),
    ]


def test_uscc_of_an_individual_business_starts_with_92():
    body = "92410105000000001"
    good = body + uscc_check_char(body)
    company = "91410105000000001" + uscc_check_char("91410105000000001")
    wrong = body + ("0" if good[-1] != "0" else "1")
    assert run(normalise.uscc, [good.lower(), company, wrong, "9241"], individual=True) == [
        (good, None),
        (None, "uscc_not_individual"),
        (None, "uscc_check"),
        (None, "uscc_format"),
    ]
    assert run(normalise.uscc, [company], individual=False) == [(company, None)]


def test_reg_no_is_15_digits():
    assert run(normalise.reg_no, ["410105000000001", "41010500000001", ""]) == [
        ("410105000000001", None),
        (None, "reg_no_format"),
        (None, None),
    ]


# Digits other than ASCII 0-9 (issue 13, item 17): full-width digits are the same digits typed by a Chinese input
# method and fold to ASCII (their NFKC form); Arabic-Indic (٤), Devanagari (४), mathematical (𝟒) or circled (④) digits
# are not what a register writes, and are quarantined under the column's format rule, never read as digits.
ARABIC_INDIC_REG_NO = "".join(chr(0x0660 + int(d)) for d in "410105000000001")
DEVANAGARI_REG_NO = "".join(chr(0x0966 + int(d)) for d in "410105000000001")
FULL_WIDTH_REG_NO = "".join(chr(0xFF10 + int(d)) for d in "410105000000001")


def test_reg_no_in_non_ascii_digits_is_quarantined_and_full_width_is_folded():
    assert run(normalise.reg_no, [FULL_WIDTH_REG_NO, ARABIC_INDIC_REG_NO, DEVANAGARI_REG_NO], kind=Kind.REG_NO) == [
        ("410105000000001", None),
        (None, "reg_no_format"),
        (None, "reg_no_format"),
    ]


def test_other_code_kinds_read_only_ascii_digits():
    arabic = "".join(chr(0x0660 + int(d)) for d in "410105")
    assert run(normalise.region, [arabic], kind=Kind.REGION, province="41", regions=("410105",)) == [
        (None, "region_format")
    ]
    assert run(normalise.industry, ["H" + arabic[:4]], kind=Kind.INDUSTRY, sections=SECTIONS) == [
        (None, "industry_format")
    ]
    assert run(normalise.date, ["".join(chr(0x0660 + int(d)) for d in "20240101")]) == [(None, "date_format")]
    assert run(normalise.count, ["\u0663"], kind=Kind.COUNT) == [(None, "count_format")]


def test_region_must_be_a_county_of_the_province():
    assert run(normalise.region, ["410105", "4101", "230102", "419999", ""], province="41", regions=("410105",)) == [
        ("410105", None),
        (None, "region_format"),
        (None, "region_outside_province"),
        (None, "region_unknown"),
        (None, None),
    ]


def test_industry_class_with_or_without_its_section_letter():
    assert run(normalise.industry, ["H6210", "6210", "h6210", "A6210", "9910", "H621", ""], sections=SECTIONS) == [
        ("H6210", None),
        ("6210", None),
        ("H6210", None),
        (None, "industry_unknown"),  # 62 is in section H, not A
        (None, "industry_unknown"),  # no division 99
        (None, "industry_format"),
        (None, None),
    ]


def test_nice_class_from_1_to_45():
    assert run(normalise.nice_class, ["1", "45", "0", "46", "4a"]) == [
        (1, None),
        (45, None),
        (None, "nice_class_unknown"),
        (None, "nice_class_unknown"),
        (None, "nice_class_unknown"),
    ]
