import polars as pl

from transforms.summary import (
    code_counts,
    industry_division,
    linkage_outcomes,
    movement_matrix,
    quarantine_by_rule,
    type_counts,
    types_by_city,
    types_by_region,
    types_by_section,
)

CODES = pl.List(pl.String)


def test_type_counts_lists_every_type_even_when_none_has_it():
    directory = pl.DataFrame({"business_type": ["发展型", "生存型", "发展型"]})
    assert type_counts(directory) == {"生存型": 1, "成长型": 0, "发展型": 2, "不符合分型条件": 0}
    assert list(type_counts(directory)) == ["生存型", "成长型", "发展型", "不符合分型条件"]


def test_industry_division_reads_codes_with_and_without_the_section_letter():
    codes = pl.DataFrame({"code": ["H6210", "6210", "A0511", "0511"]})
    assert codes.select(industry_division(pl.col("code")))["code"].to_list() == ["62", "62", "05", "05"]


def test_types_by_region_names_counties_and_cities_and_keeps_unknown_codes_visible():
    directory = pl.DataFrame(
        {
            "region_code": ["410105", "410105", "410102", "419999"],
            "business_type": ["发展型", "生存型", "生存型", "成长型"],
        }
    )
    regions = pl.DataFrame(
        {
            "region_code": ["410102", "410105"],
            "region_name": ["中原区", "金水区"],
            "city_code": ["4101", "4101"],
            "city_name": ["郑州市", "郑州市"],
        }
    )
    by_region = types_by_region(directory, regions)
    assert by_region.select("region_code", "region_name", "city_name", "发展型", "生存型", "total").rows() == [
        ("410102", "中原区", "郑州市", 0, 1, 1),
        ("410105", "金水区", "郑州市", 1, 1, 2),
        ("419999", "419999", "4199", 0, 0, 1),
    ]
    assert types_by_city(by_region).select("city_name", "total").rows() == [("郑州市", 3), ("4199", 1)]


def test_types_by_section_maps_divisions_to_sections_and_unknown_divisions_to_a_question_mark():
    directory = pl.DataFrame({"industry_code": ["H6210", "6220", "0511", "9999"], "business_type": ["发展型"] * 4})
    industries = pl.DataFrame(
        {
            "division": ["05", "62"],
            "section": ["A", "H"],
            "section_name": ["农、林、牧、渔业", "住宿和餐饮业"],
        }
    )
    assert types_by_section(directory, industries).select("section", "total").rows() == [("?", 1), ("A", 1), ("H", 2)]


def test_code_counts_count_businesses_per_code_most_frequent_first():
    directory = pl.DataFrame(
        {"criteria_failed": [["ABNORMAL", "ANNUAL_REPORT"], ["ABNORMAL"], [], ["STATUS"]]},
        schema={"criteria_failed": CODES},
    )
    assert code_counts(directory, "criteria_failed").rows() == [("ABNORMAL", 2), ("ANNUAL_REPORT", 1), ("STATUS", 1)]


def test_linkage_outcomes_count_each_record_once_and_its_businesses_separately():
    linkage = pl.DataFrame(
        [
            ("trademark", "T1", "b1", "operator_id", "linked"),
            ("trademark", "T1", "b2", "operator_id", "linked"),
            ("trademark", "T2", None, None, "ambiguous"),
            ("patent", "P1", "b3", "name", "linked"),
            ("taxpayer", "k1", None, None, "unlinked"),
            ("taxpayer", "92410105MA00000011", "92410105MA00000011", "uscc", "linked"),
        ],
        schema=["source", "record", "business_key", "route", "status"],
        orient="row",
    )
    outcomes = linkage_outcomes(linkage)
    assert outcomes["source"].to_list() == ["trademark", "patent", "taxpayer"]
    assert outcomes.select("operator_id", "ambiguous", "total", "links").row(0) == (1, 1, 2, 2)
    assert outcomes.select("name", "total", "links").row(1) == (1, 1, 1)
    assert outcomes.select("uscc", "unlinked", "total", "links").row(2) == (1, 1, 2, 1)


def test_quarantine_by_rule_counts_rows_per_source_and_rule():
    quarantine = pl.DataFrame(
        {"source": ["registration", "registration", "tax_payment"], "rule": ["uscc_check", "uscc_check", "date_format"]}
    )
    assert quarantine_by_rule(quarantine).rows() == [
        ("registration", "uscc_check", 2),
        ("tax_payment", "date_format", 1),
    ]


def test_movement_matrix_crosses_previous_and_current_types_with_new_and_gone_businesses():
    transitions = pl.DataFrame(
        {
            "previous_type": ["生存型", "生存型", None, "发展型", "不符合分型条件"],
            "business_type": ["成长型", "生存型", "生存型", None, "生存型"],
        }
    )
    matrix = movement_matrix(transitions)
    assert matrix["previous_type"].to_list() == ["发展型", "生存型", "不符合分型条件", None]
    assert matrix.filter(pl.col("previous_type") == "生存型").select("生存型", "成长型", "total").row(0) == (1, 1, 2)
    assert matrix.filter(pl.col("previous_type") == "发展型")["退出"].to_list() == [1]
    assert matrix.filter(pl.col("previous_type").is_null())["生存型"].to_list() == [1]
