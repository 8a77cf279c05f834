"""The files between stages that publish reads (docs/architecture.md, "Files between stages"), as pandera schemas.

Publish is the last gate before a file leaves for the national directory, so it checks values, not only
names and types: a business type outside the four, a duplicated business or an unknown quarantine rule
stops the run with a message instead of being sent.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.sources import RULES, SOURCES
from schemas.vocabulary import BUSINESS_TYPES, LINK_ROUTES, LINK_STATUSES, LINKED_SOURCES, TAX_ROWS

#: Headers (and their aliases) of the personal columns: a quarantined value under one of them must arrive masked.
PERSONAL_HEADERS = sorted(
    {h for source in SOURCES.values() for c in source.columns if c.personal for h in (c.header, *c.aliases)}
)


_CODE_LIST = pl.List(pl.String)

DIRECTORY = pa.DataFrameSchema(
    {
        "business_key": pa.Column(pl.String, unique=True, description="USCC, or 注册号 without a USCC"),
        "uscc": pa.Column(pl.String, nullable=True, description="统一社会信用代码"),
        "reg_no": pa.Column(pl.String, nullable=True, description="注册号"),
        "name": pa.Column(pl.String, nullable=True, description="名称"),
        "region_code": pa.Column(pl.String, pa.Check.str_matches(r"^\d{6}$"), description="行政区划代码"),
        "industry_code": pa.Column(pl.String, description="行业代码, as registered"),
        "business_type": pa.Column(pl.String, pa.Check.isin(BUSINESS_TYPES), description="分型结果"),
        "reasons": pa.Column(_CODE_LIST, description="reason codes printed as 分型依据"),
        "conditions_met": pa.Column(_CODE_LIST, description="ruleset condition codes met"),
        "criteria_failed": pa.Column(_CODE_LIST, description="basic-criteria codes failed"),
        "ruleset_id": pa.Column(pl.String, description="ruleset id"),
        "ruleset_version": pa.Column(pl.String, description="ruleset version"),
        "as_of": pa.Column(pl.Date, description="判定日期"),
        "cycle_id": pa.Column(pl.String, description="<P>-<YYYYMMDD>"),
    },
    name="directory.parquet",
)

FEATURES_TABLE = pa.DataFrameSchema(
    {"business_key": pa.Column(pl.String, unique=True, description="the business")},
    name="features.parquet",
)

LINKAGE = pa.DataFrameSchema(
    {
        "source": pa.Column(pl.String, pa.Check.isin(LINKED_SOURCES), description="where the record comes from"),
        "record": pa.Column(pl.String, description="the record's key in its source (never a clear resident ID)"),
        "business_key": pa.Column(pl.String, nullable=True, description="the business reached; null unless linked"),
        "route": pa.Column(pl.String, pa.Check.isin(LINK_ROUTES), nullable=True, description="how it was reached"),
        "status": pa.Column(pl.String, pa.Check.isin(LINK_STATUSES), description="linked, unlinked or ambiguous"),
        "candidates": pa.Column(_CODE_LIST, description="business keys that matched an ambiguous record"),
    },
    name="linkage.parquet",
)

QUARANTINE = pa.DataFrameSchema(
    {
        "source": pa.Column(pl.String, pa.Check.isin(list(SOURCES)), description="source name"),
        "file": pa.Column(pl.String, description="file, relative to the inbox"),
        "line": pa.Column(pl.Int64, pa.Check.ge(1), coerce=True, description="1-based line, the header is 1"),
        "column": pa.Column(pl.String, nullable=True, description="Chinese header as delivered"),
        "value": pa.Column(pl.String, nullable=True, description="delivered text, personal values masked"),
        "rule": pa.Column(pl.String, pa.Check.isin(list(RULES)), description="a key of schemas.sources.RULES"),
    },
    checks=[
        # validate masks personal values (docs/architecture.md, "Personal data"); an ID in clear must not go on
        pa.Check(
            lambda data: data.lazyframe.select(
                # an empty value (a `required` breach) hides nothing
                (~(pl.col("column").is_in(PERSONAL_HEADERS) & pl.col("value").str.contains(r"[0-9]{15}"))).fill_null(
                    True
                )
            ),
            name="personal_values_masked",
            error="a personal ID in clear (validate must mask it: first 6 and last 2 characters)",
        )
    ],
    name="quarantine.parquet",
)


QUARANTINE_SCHEMA = {
    "source": pl.String,
    "file": pl.String,
    "line": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "rule": pl.String,
}


LINKAGE_SCHEMA = pl.Schema(
    {
        "source": pl.String(),  # taxpayer (a tax identity), trademark or patent
        "record": pl.String(),  # tax identity / 注册号 / 申请号
        "business_key": pl.String(),  # null unless linked
        "route": pl.String(),  # null unless linked
        "status": pl.String(),
        "candidates": pl.List(pl.String()),  # ambiguous: every business it could be, sorted; else empty
        "holder_no": pl.Int16(),  # 1-based position among a patent's holders; 1 otherwise
        "detail": pl.String(),  # a key of DETAILS: which name route, or why not linked
        **{rows: pl.Int64() for rows in TAX_ROWS},  # tax identities: rows of each tax source; else null
    }
)


DIRECTORY_DETAILS = ("business_key", "uscc", "reg_no", "name", "region_code", "industry_code")  # from registration


DIRECTORY_COLUMNS = (
    "business_key",
    "uscc",
    "reg_no",
    "name",
    "region_code",
    "industry_code",
    "business_type",
    "reasons",
    "conditions_met",
    "criteria_failed",
    "ruleset_id",
    "ruleset_version",
    "as_of",
    "cycle_id",
)
