"""The data files of the cycle folder (docs/spec/outputs.md, "Cycle folder"): headers, order and checks.

Headers map from the canonical names the pipeline uses to the Chinese headers the recipients read;
the order of each mapping is the order of the columns in the file.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.vocabulary import BUSINESS_TYPES

#: submission.csv / submission.parquet — canonical name (or derived value) → header, in contract order.
SUBMISSION_HEADERS: dict[str, str] = {
    "uscc": "统一社会信用代码",
    "reg_no": "注册号",
    "name": "名称",
    "region_code": "行政区划代码",
    "industry_code": "行业代码",
    "business_type": "分型结果",
    "reasons": "分型依据",
    "as_of": "判定日期",
    "ruleset": "分型标准",
}

#: public.csv (查询公示): the submission's identifying columns and result; no money, no personal data.
PUBLIC_HEADERS: dict[str, str] = {
    k: SUBMISSION_HEADERS[k] for k in ("uscc", "name", "region_code", "business_type", "as_of")
}

#: quarantine.csv: the columns of quarantine.parquet under the names outputs.md gives them.
QUARANTINE_HEADERS: dict[str, str] = {c: c for c in ("source", "file", "line", "column", "value", "rule")}

#: The Excel copies beside the contract files (for people, not in the manifest): file → sheet name. Code columns are
#: text cells, so 行业代码 ``0141`` keeps its zero and a 15-digit 注册号 stays a number-looking string.
EXCEL_FILES: dict[str, str] = {
    "submission.xlsx": "报送名录",
    "public.xlsx": "查询公示",
    "quarantine.xlsx": "隔离记录",
}

#: The UTF-8 CSV with a byte-order mark that Windows Excel reads without garbling the headers.
EXCEL_CSV = "submission-excel.csv"

#: Columns the Excel copy of the submission adds after 行业代码: the code normalised to 门类 letter + 大类 digits.
INDUSTRY_HEADERS: dict[str, str] = {
    "industry": "行业门类大类（如 H62）",
    "industry_section_name": "行业门类名称",
    "industry_division_name": "行业大类名称",
}

#: quarantine.xlsx: quarantine.csv's columns under Chinese headers, with each rule's Chinese meaning beside its code.
QUARANTINE_EXCEL_HEADERS: dict[str, str] = {
    "source": "数据来源代码",
    "source_label": "数据来源",
    "file": "文件",
    "line": "行号",
    "column": "列",
    "value": "报送值（个人证件号码已遮蔽）",
    "rule": "规则代码",
    "rule_label": "规则说明",
}

#: Chinese meaning of every quarantine rule (the keys of ``schemas.sources.RULES``), for the people who fix the data.
RULE_LABELS: dict[str, str] = {
    "required": "必填项为空",
    "uscc_format": "统一社会信用代码格式错误（应为18位，0-9 和除 I、O、S、V、Z 外的大写字母，第3-8位为数字）",
    "uscc_check": "统一社会信用代码校验位错误（GB 32100-2015）",
    "uscc_not_individual": "个体工商户的统一社会信用代码应以 92 开头",
    "reg_no_format": "注册号不是15位数字",
    "resident_id_format": "身份证件号码不是17位数字加1位数字或 X",
    "resident_id_birth_date": "身份证件号码第7-14位不是真实的出生日期（不存在的日期、早于1900年或晚于数据提取日期）",
    "resident_id_check": "身份证件号码校验位错误（GB 11643）",
    "taxpayer_id_format": "纳税人识别号既不是有效的统一社会信用代码，也不是有效的身份证件号码（可加2位后缀）",
    "party_id_format": "证件号码既不是有效的统一社会信用代码，也不是有效的身份证件号码",
    "date_format": "不是存在的日期（应为 YYYY-MM-DD、YYYY/MM/DD 或 YYYYMMDD）",
    "date_after_extraction": "日期晚于数据提取日期（inbox.toml 的 extracted_on，未写则为运行当天）",
    "date_implausible": "日期早于1949-10-01：是占位值，不是事件的日期",
    "period_format": "不是月份（应为 YYYYMM 或 YYYY-MM）",
    "year_format": "不是四位年份",
    "money_format": "不是金额",
    "money_negative": "金额为负数（只有税款金额可为负）",
    "count_format": "不是0或正整数",
    "flag_format": "不是 是/否、Y/N 或 1/0",
    "enum_unknown": "不是本列约定的取值之一",
    "region_format": "行政区划代码不是6位数字",
    "region_outside_province": "行政区划代码不属于本省",
    "region_unknown": "行政区划代码不是本省的县级代码",
    "industry_format": "行业代码不是 GB/T 4754-2017 的小类代码（如 H6210 或 6210）",
    "industry_unknown": "行业代码的大类或门类字母不在 GB/T 4754-2017 中",
    "nice_class_unknown": "国际分类不是1至45的尼斯分类",
    "duplicate_conflict": "另一行的键相同而内容不同",
}

#: Separator of the reason codes in 分型依据 (outputs.md: ``发展①;成长①``).
REASON_SEPARATOR = ";"

SUBMISSION = pa.DataFrameSchema(
    {
        "统一社会信用代码": pa.Column(pl.String, pa.Check.str_matches(r"^92[0-9A-Z]{16}$"), nullable=True),
        "注册号": pa.Column(pl.String, nullable=True),
        "名称": pa.Column(pl.String, nullable=True),
        "行政区划代码": pa.Column(pl.String, pa.Check.str_matches(r"^\d{6}$")),
        "行业代码": pa.Column(pl.String),
        "分型结果": pa.Column(pl.String, pa.Check.isin(BUSINESS_TYPES)),
        "分型依据": pa.Column(pl.String, nullable=True),
        "判定日期": pa.Column(pl.Date),
        "分型标准": pa.Column(pl.String, pa.Check.str_matches(r"^.+-.+$")),
    },
    checks=[
        pa.Check(
            lambda d: d.lazyframe.select(pl.col("统一社会信用代码").is_not_null() | pl.col("注册号").is_not_null()),
            name="has_uscc_or_reg_no",
        )
    ],
    strict=True,
    ordered=True,
    name="submission",
)
