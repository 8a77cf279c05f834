"""Linkage (rules.md §3): every route, and every trap where a guess would give a business a type it did not earn."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from reference import province_regions
from schemas.vocabulary import LINK_OUTCOMES, LINK_ROUTES, TAX_ROWS
from schemas.work_files import LINKAGE_SCHEMA
from tests.support.frames import business, features_of, sources, uscc
from transforms.link import AMBIGUOUS, DETAILS, LINKED, UNLINKED, county_of_address, linkage
from transforms.summary import linkage_outcomes

B1, B2, B3 = uscc(1), uscc(2), uscc(3)


def links(province: str = "41", **rows) -> pl.DataFrame:
    return linkage(sources(**rows), province_regions(province)).collect()


def outcome(table: pl.DataFrame, record: str, holder_no: int = 1) -> list[tuple]:
    rows = table.filter((pl.col("record") == record) & (pl.col("holder_no") == holder_no))
    return rows.select("status", "route", "business_key", "candidates", "detail").rows()


def payment(**identity) -> dict:
    return identity | {"tax_kind": "增值税", "paid_on": dt.date(2024, 6, 1), "amount_yuan": Decimal("100")}


def trademark(no: str, holder_name: str, **values) -> dict:
    row = {
        "trademark_no": no,
        "holder_name": holder_name,
        "registered_on": dt.date(2020, 1, 1),
        "trademark_status": "注册",
    }
    return row | values


# --- tax identities --------------------------------------------------------------------------------------


def test_tax_by_uscc_and_a_uscc_of_no_registered_business():
    stranger = uscc(99)
    table = links(registration=[business(1)], tax_payment=[payment(taxpayer_uscc=B1), payment(taxpayer_uscc=stranger)])
    assert outcome(table, B1) == [(LINKED, "uscc", B1, [], None)]
    assert outcome(table, stranger) == [(UNLINKED, None, None, [], "uscc_not_registered")]


def test_a_tax_record_without_an_id_of_a_business_or_operator_links_to_nobody():
    table = links(registration=[business(1)], tax_payment=[payment(taxpayer_key="k" * 32)])
    assert outcome(table, "k" * 32) == [(UNLINKED, None, None, [], "not_an_operator")]


@pytest.mark.parametrize("suffix", [None, "01", "A1"])
def test_suffix_forms_of_the_operators_tax_id_link_to_the_operators_one_business(suffix):
    key = business(1)["operator_key"]
    table = links(registration=[business(1)], taxpayer=[{"taxpayer_key": key, "taxpayer_suffix": suffix}])
    identity = key if suffix is None else f"{key}/{suffix}"
    assert outcome(table, identity) == [(LINKED, "operator_id", B1, [], None)]


def test_operator_with_two_businesses_in_force_tax_is_ambiguous_and_counts_for_nobody():
    key = "op-two"
    registration = [business(1, operator_key=key), business(2, operator_key=key)]
    tax = [payment(taxpayer_key=key, taxpayer_suffix="01")]
    table = links(registration=registration, tax_payment=tax)
    assert outcome(table, f"{key}/01") == [(AMBIGUOUS, None, None, sorted([B1, B2]), "operator_several_in_force")]
    features = features_of(sources(registration=registration, tax_payment=tax))
    assert features["tax_paid_prev_year"].to_list() == [Decimal("0.00"), Decimal("0.00")]


def test_operator_with_two_businesses_one_in_force_tax_links_to_that_one():
    key = "op-two"
    registration = [business(1, operator_key=key, status="注销"), business(2, operator_key=key)]
    table = links(registration=registration, tax_payment=[payment(taxpayer_key=key)])
    assert outcome(table, key) == [(LINKED, "operator_id", B2, [], None)]


def test_operator_with_two_businesses_none_in_force_is_ambiguous():
    key = "op-two"
    registration = [business(1, operator_key=key, status="注销"), business(2, operator_key=key, status="吊销")]
    table = links(registration=registration, tax_payment=[payment(taxpayer_key=key)])
    assert outcome(table, key) == [(AMBIGUOUS, None, None, sorted([B1, B2]), "operator_none_in_force")]


def test_a_tax_identity_is_one_record_with_the_rows_of_each_tax_source_behind_it():
    tax = [payment(taxpayer_uscc=B1)] * 3
    table = links(registration=[business(1)], tax_payment=tax, taxpayer=[{"taxpayer_uscc": B1}])
    assert table.select("source", "record", *TAX_ROWS).rows() == [("taxpayer", B1, 1, 0, 3)]


# --- trademarks by ID ------------------------------------------------------------------------------------


def test_trademark_of_an_operator_with_two_businesses_counts_for_both():
    key = "op-two"
    registration = [business(1, operator_key=key), business(2, operator_key=key)]
    table = links(registration=registration, trademark=[trademark("T1", "经营者1", holder_key=key)])
    assert outcome(table, "T1") == [(LINKED, "operator_id", B1, [], None), (LINKED, "operator_id", B2, [], None)]


def test_trademark_by_holder_uscc_and_of_a_company():
    company = "91410100MA0000001X"
    table = links(
        registration=[business(1)],
        trademark=[trademark("T1", "某店", holder_uscc=B1), trademark("T2", "某公司", holder_uscc=company)],
    )
    assert outcome(table, "T1") == [(LINKED, "uscc", B1, [], None)]
    assert outcome(table, "T2") == [(UNLINKED, None, None, [], "uscc_not_registered")]


def test_a_holder_with_an_id_is_never_linked_by_a_namesakes_name():
    registration = [business(1, operator_name="张三", name="张三小吃店")]
    rows = [
        trademark("T1", "张三", holder_key="someone-else", holder_address="河南省郑州市金水区花园路1号"),
        trademark("T2", "张三小吃店", holder_uscc=uscc(50)),
    ]
    table = links(registration=registration, trademark=rows)
    assert outcome(table, "T1") == [(UNLINKED, None, None, [], "not_an_operator")]
    assert outcome(table, "T2") == [(UNLINKED, None, None, [], "uscc_not_registered")]


# --- trademarks and patents without an ID: by name -------------------------------------------------------


def test_a_business_name_links_after_normalising_spaces_and_width():
    table = links(
        registration=[business(1, name="郑州市金水区ABC小吃店")],
        trademark=[trademark("T1", "郑州市金水区 ＡＢＣ　小吃店")],
    )
    assert outcome(table, "T1") == [(LINKED, "name", B1, [], "business_name")]


def test_a_shared_business_name_is_ambiguous_with_its_candidates():
    registration = [business(1, name="老王面馆"), business(2, name="老王面馆"), business(3, name="老李面馆")]
    table = links(registration=registration, trademark=[trademark("T1", "老王面馆")])
    assert outcome(table, "T1") == [(AMBIGUOUS, None, None, sorted([B1, B2]), "several_businesses_named")]


def test_a_person_holder_links_to_the_one_operator_of_that_name_in_the_county_of_the_address():
    registration = [
        business(1, operator_name="张三", region_code="410105"),  # 郑州市金水区
        business(2, operator_name="张三", region_code="410102"),  # 郑州市中原区: another 张三, another county
    ]
    table = links(
        registration=registration,
        trademark=[trademark("T1", "张三", holder_address="河南省郑州市金水区花园路1号")],
    )
    assert outcome(table, "T1") == [(LINKED, "name", B1, [], "operator_name")]


def test_the_identified_operator_holds_it_for_each_of_their_businesses():
    registration = [
        business(1, operator_name="张三", operator_key="op-z", region_code="410105"),
        business(2, operator_name="张三", operator_key="op-z", region_code="410102"),
    ]
    table = links(registration=registration, trademark=[trademark("T1", "张三", holder_address="郑州市金水区")])
    assert [row[2] for row in outcome(table, "T1")] == [B1, B2]


def test_two_operators_of_that_name_in_the_county_are_ambiguous():
    registration = [
        business(1, operator_name="张三", region_code="410105"),
        business(2, operator_name="张三", region_code="410105"),
    ]
    table = links(registration=registration, trademark=[trademark("T1", "张三", holder_address="郑州市金水区")])
    assert outcome(table, "T1") == [(AMBIGUOUS, None, None, sorted([B1, B2]), "several_operators_named")]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("河南省郑州市中原区建设路", "no_name_match"),  # a county where no 张三 operates
        ("金水区花园路", "no_county_in_address"),  # no city: 金水区 alone is not trusted
        ("江苏省南京市鼓楼区", "no_county_in_address"),  # 鼓楼区 is also in 开封市: not this province's
        (None, "no_county_in_address"),
    ],
)
def test_a_person_holder_outside_the_operators_county_is_not_linked(address, reason):
    registration = [business(1, operator_name="张三", region_code="410105")]
    table = links(registration=registration, trademark=[trademark("T1", "张三", holder_address=address)])
    assert outcome(table, "T1") == [(UNLINKED, None, None, [], reason)]


def test_county_names_repeated_within_a_province_need_their_city():
    addresses = pl.LazyFrame(
        {
            "address": [
                "黑龙江省佳木斯市向阳区长安路",
                "黑龙江省鹤岗市向阳区",
                "向阳区红旗路",
                "哈尔滨市道里区 鹤岗市向阳区",
            ]
        }
    )
    counties = dict(county_of_address(addresses, province_regions("23")).collect().rows())
    assert counties == {"黑龙江省佳木斯市向阳区长安路": "230803", "黑龙江省鹤岗市向阳区": "230402"}


def test_a_county_the_province_administers_directly_is_named_with_the_province():
    addresses = pl.LazyFrame({"address": ["河南省济源市沁园路", "济源市沁园路"]})
    assert county_of_address(addresses, province_regions("41")).collect().rows() == [("河南省济源市沁园路", "419001")]


def test_each_holder_of_a_patent_links_on_its_own():
    registration = [
        business(1, name="郑州市金水区老王面馆", operator_name="王五"),
        business(2, operator_name="赵六", region_code="410105"),
    ]
    patent = {
        "application_no": "P1",
        "patent_kind": "外观设计",
        "holder_names": "郑州市金水区老王面馆； 赵六;",
        "holder_address": "河南省郑州市金水区文化路",
        "granted_on": dt.date(2023, 1, 1),
        "legal_status": "有效",
    }
    table = links(registration=registration, patent=[patent])
    assert outcome(table, "P1", 1) == [(LINKED, "name", B1, [], "business_name")]
    # the address is the first holder's, so the second holder's county is unknown
    assert outcome(table, "P1", 2) == [(UNLINKED, None, None, [], "no_county_in_address")]
    assert table.filter(pl.col("record") == "P1").height == 2


# --- the table -------------------------------------------------------------------------------------------


def test_counts_per_source_by_route_unlinked_and_ambiguous():
    key = "op-two"
    registration = [
        business(1, operator_key=key, name="老王面馆"),
        business(2, operator_key=key),
        business(3, name="老王面馆"),
        business(4, name="老李面馆"),
    ]
    table = links(
        registration=registration,
        tax_payment=[payment(taxpayer_uscc=B1)] * 2 + [payment(taxpayer_key=key)] + [payment(taxpayer_uscc=uscc(9))],
        trademark=[
            trademark("T1", "x", holder_key=key),
            trademark("T2", "老王面馆"),
            trademark("T3", "无名"),
            trademark("T4", "老李面馆"),
        ],
    )
    counts = linkage_outcomes(table)  # the report's counting, the one place linkage is counted
    assert counts.columns == ["source", *LINK_OUTCOMES, "total", "links"]
    assert counts.rows() == [
        # one trademark by operator_id, though it counts for two businesses (links)
        ("trademark", 0, 1, 1, 1, 1, 4, 3),
        ("taxpayer", 1, 0, 0, 1, 1, 3, 1),  # one identity by uscc, though it made two payments
    ]


def test_the_table_has_its_schema_sorted_by_key_and_no_clear_personal_data():
    registration = [business(1, operator_name="张三", name="张三小吃店")]
    table = links(
        registration=registration,
        trademark=[trademark("T2", "张三", holder_address="郑州市金水区"), trademark("T1", "张三小吃店")],
        taxpayer=[{"taxpayer_key": business(1)["operator_key"], "taxpayer_suffix": "01"}],
    )
    assert table.schema == LINKAGE_SCHEMA
    assert set(table["route"].drop_nulls()) <= set(LINK_ROUTES)
    assert set(table["detail"].drop_nulls()) <= set(DETAILS)
    assert table.equals(table.sort("source", "record", "holder_no", "business_key", nulls_last=True))
    assert not any(table[c].str.contains("张三").any() for c, dtype in table.schema.items() if dtype == pl.String)
