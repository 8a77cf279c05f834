"""The data files of the cycle folder (../shared/spec/outputs.md, "Cycle folder"): headers, order and checks.

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
