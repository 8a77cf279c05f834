import datetime as dt

import polars as pl

from schemas.outputs import PUBLIC_HEADERS, SUBMISSION_HEADERS
from transforms.publication import public_rows, quarantine_rows, submission_rows

CODES = pl.List(pl.String)


def directory(rows: list[dict]) -> pl.LazyFrame:
    base = {
        "uscc": None,
        "reg_no": None,
        "name": None,
        "region_code": "410105",
        "industry_code": "H6210",
        "business_type": "生存型",
        "reasons": [],
        "ruleset_id": "HA",
        "ruleset_version": "2025.1",
        "as_of": dt.date(2025, 7, 31),
    }
    return pl.LazyFrame(
        [base | r for r in rows],
        schema_overrides={
            "reasons": CODES,
            "as_of": pl.Date,
            "uscc": pl.String,
            "reg_no": pl.String,
            "name": pl.String,
        },
    )


def test_submission_has_the_contract_headers_in_order_and_is_sorted_by_business_key():
    rows = directory(
        [
            {"business_key": "92410105MA00000022", "uscc": "92410105MA00000022", "name": "乙"},
            {"business_key": "410105600000001", "reg_no": "410105600000001", "name": "甲"},
            {"business_key": "92410105MA00000011", "uscc": "92410105MA00000011", "reg_no": "410105600000009"},
        ]
    )
    submission = submission_rows(rows).collect()
    assert submission.columns == [
        "统一社会信用代码",
        "注册号",
        "名称",
        "行政区划代码",
        "行业代码",
        "分型结果",
        "分型依据",
        "判定日期",
        "分型标准",
    ]
    assert submission.columns == list(SUBMISSION_HEADERS.values())
    assert submission["注册号"].to_list() == ["410105600000001", "410105600000009", None]
    assert submission["统一社会信用代码"].to_list() == [None, "92410105MA00000011", "92410105MA00000022"]


def test_reasons_are_joined_with_semicolons_and_an_empty_list_gives_an_empty_cell():
    rows = directory(
        [
            {"business_key": "a", "reasons": ["发展①", "成长①"], "business_type": "发展型"},
            {"business_key": "b", "reasons": ["ABNORMAL", "ANNUAL_REPORT"], "business_type": "不符合分型条件"},
            {"business_key": "c", "reasons": []},
        ]
    )
    assert submission_rows(rows).collect()["分型依据"].to_list() == ["发展①;成长①", "ABNORMAL;ANNUAL_REPORT", None]


def test_ruleset_is_printed_as_id_dash_version_and_the_as_of_date_stays_a_date():
    submission = submission_rows(directory([{"business_key": "a"}])).collect()
    assert submission["分型标准"].to_list() == ["HA-2025.1"]
    assert submission.schema["判定日期"] == pl.Date
    assert submission.write_csv().splitlines()[1].endswith(",2025-07-31,HA-2025.1")


def test_public_extract_keeps_only_the_five_public_columns_in_the_submission_order():
    submission = submission_rows(directory([{"business_key": "b", "name": "乙"}, {"business_key": "a", "name": "甲"}]))
    public = public_rows(submission).collect()
    assert public.columns == ["统一社会信用代码", "名称", "行政区划代码", "分型结果", "判定日期"]
    assert public.columns == list(PUBLIC_HEADERS.values())
    assert public["名称"].to_list() == ["甲", "乙"]


def test_quarantine_rows_are_ordered_by_source_in_contract_order_then_file_and_line():
    quarantine = pl.LazyFrame(
        [
            ("tax_payment", "tax_payment_2024_02.csv", 3, "实缴金额（元）", "x", "money_format"),
            ("registration", "registration.csv", 12, "成立日期", "2025-02-30", "date_format"),
            ("tax_payment", "tax_payment_2024_01.csv", 9, "入库日期", "y", "date_format"),
            ("registration", "registration.csv", 4, "统一社会信用代码", "z", "uscc_check"),
            ("annual_report", "annual_report.csv", 2, "报告年度", "20x4", "year_format"),
        ],
        schema=["source", "file", "line", "column", "value", "rule"],
        orient="row",
    )
    rows = quarantine_rows(quarantine).collect()
    assert rows.columns == ["source", "file", "line", "column", "value", "rule"]
    assert rows.select("source", "line").rows() == [
        ("registration", 4),
        ("registration", 12),
        ("annual_report", 2),
        ("tax_payment", 9),
        ("tax_payment", 3),
    ]


def test_a_name_or_quarantine_value_excel_would_run_is_published_as_text():
    # issue 13, item 15: CSV formula injection
    from transforms.publication import formula_safe

    values = ["=1+1", "@SUM(A1)", "+86 138", "-2+3", "\tx", "-150.25", "+3", "郑州=店", "烩面馆", None]
    safe = pl.DataFrame({"v": values}, schema={"v": pl.String}).select(formula_safe(pl.col("v")))
    expected = ["'=1+1", "'@SUM(A1)", "'+86 138", "'-2+3", "'\tx", "-150.25", "+3", "郑州=店", "烩面馆", None]
    assert safe.to_series().to_list() == expected
