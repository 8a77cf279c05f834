"""The national directory's vocabulary (../shared/spec/national.md): statuses, checks, and its own tables.

A province's package is checked file by file; each failed check has an English code (what the
``submissions`` table and the tests use) and a Chinese label (what people read in messages and the report).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

#: Each province's status in one year's assembly: exactly one of these.
ACCEPTED, LATE, REFUSED, MISSING = "accepted", "late", "refused", "missing"
STATUSES = (ACCEPTED, LATE, REFUSED, MISSING)
STATUS_LABELS = {ACCEPTED: "已接收", LATE: "逾期接收", REFUSED: "拒收", MISSING: "未报送"}

#: Manifest schema versions this directory reads. Version 1 packages may lack ``report_year`` and ``cycle_kind``
#: (outputs.md v2 adds them): absent, they are not checked; present, they are.
KNOWN_SCHEMA_VERSIONS = (1, 2)

#: The checks that refuse a package: code → Chinese label.
REFUSING_CHECKS: dict[str, str] = {
    "manifest_missing": "缺少 manifest.json",
    "manifest_unreadable": "manifest.json 无法解析",
    "manifest_schema_version": "manifest.json 的 schema_version 未知",
    "manifest_fields": "manifest.json 缺少或写错必需字段",
    "manifest_province": "manifest.json 的省份与报送目录不符",
    "report_year": "manifest.json 的 report_year 与判定日期不符",
    "cycle_kind": "manifest.json 的 cycle_kind 不是年度周期（yearly）",
    "file_missing": "清单所列文件缺失",
    "file_checksum": "文件 SHA-256 与清单不符（文件被改动）",
    "file_rows": "文件行数与清单不符",
    "file_unreadable": "数据文件无法读取",
    "submission_missing": "报送包中没有 submission.parquet 或 submission.csv",
    "columns": "列名或列序与报送合同不符",
    "counts": "各分型户数与数据行不符",
    "business_type": "分型结果不是四类之一",
    "uscc": "统一社会信用代码无效",
    "region": "行政区划代码不是本省的县级区划",
    "as_of": "判定日期与清单的 as_of 不符",
    "ruleset": "分型标准与清单声明的不符",
    "as_of_year": "判定日期不在报送年度",
}

#: The checks that accept a package but mark it late: code → Chinese label.
LATE_CHECKS: dict[str, str] = {
    "as_of_window": "判定日期早于当年年度窗口（6月30日）",
    "arrived_late": "8月15日后送达",
}

#: A corrections package (objections.md, step 4) that fails its checks is left out and named; the cycle it
#: corrects keeps its status.
CORRECTION_CHECKS: dict[str, str] = {"corrections": "更正包未通过检查，未予采用"}

CHECKS: dict[str, str] = {**REFUSING_CHECKS, **LATE_CHECKS, **CORRECTION_CHECKS, "no_package": "未收到报送包"}

#: The column a corrections package adds to the submission's: the objection number (objections.md).
CORRECTION_BASIS = "更正依据"

#: The deadline and window, as (month, day) of the year ``Y``.
DEADLINE = (8, 15)
WINDOW_START = (6, 30)

#: ``submissions``: one row per province and year (national.md, "Checks, per package").
SUBMISSIONS = pa.DataFrameSchema(
    {
        "year": pa.Column(pl.Int32, description="报送年度"),
        "province": pa.Column(pl.String, pa.Check.str_matches(r"^\d{2}$"), description="省份（两位代码）"),
        "province_name": pa.Column(pl.String, description="省份名称"),
        "status": pa.Column(pl.String, pa.Check.isin(STATUSES), description="状态"),
        "reasons": pa.Column(pl.List(pl.String), description="未通过的检查（代码）"),
        "details": pa.Column(pl.List(pl.String), description="未通过的检查（说明，含文件）"),
        "arrived_at": pa.Column(pl.Datetime("us", "Asia/Shanghai"), nullable=True, description="送达时间"),
        "rows": pa.Column(pl.Int64, nullable=True, description="报送行数"),
        "as_of": pa.Column(pl.Date, nullable=True, description="判定日期"),
        "cycle_id": pa.Column(pl.String, nullable=True, description="周期编号"),
        "ruleset": pa.Column(pl.String, nullable=True, description="分型标准（编号-版本）"),
        "kept_cycle_id": pa.Column(pl.String, nullable=True, description="拒收或未报送时沿用的往年周期"),
    },
    strict=True,
    ordered=True,
    name="submissions",
)

#: ``directory``: the national rows, the submission's columns under the warehouse's names plus where they came from.
DIRECTORY_COLUMNS: dict[str, pl.DataType] = {
    "province": pl.String(),
    "cycle_id": pl.String(),
    "as_of": pl.Date(),
    "business_key": pl.String(),
    "uscc": pl.String(),
    "reg_no": pl.String(),
    "name": pl.String(),
    "region_code": pl.String(),
    "industry_code": pl.String(),
    "business_type": pl.String(),
    "reasons": pl.String(),
    "ruleset": pl.String(),
    "arrived_at": pl.Datetime("us", "Asia/Shanghai"),
}

#: ``amendments``: a business's type changed after an objection, from a province's corrections package.
AMENDMENT_COLUMNS: dict[str, pl.DataType] = {
    **DIRECTORY_COLUMNS,
    "objection": pl.String(),
    "corrections": pl.String(),
}

#: ``duplicates``: a USCC in two or more provinces' current rows, one row per province holding it.
DUPLICATE_COLUMNS: dict[str, pl.DataType] = {
    "uscc": pl.String(),
    "province": pl.String(),
    "cycle_id": pl.String(),
    "as_of": pl.Date(),
    "region_code": pl.String(),
    "counted_in": pl.String(),
    "counted": pl.Boolean(),
}

TABLE_COMMENTS: dict[str, str] = {
    "directory": "全国个体工商户名录：各省已接收报送包的每一行（含省份、周期、送达时间）",
    "directory_latest": "各省最新一期已接收的名录（拒收或未报送的省份沿用往年），已适用更正",
    "amendments": "更正：各省更正包中经异议复核调整分型结果的主体（原行保留在 directory）",
    "cycles": "各省已接收的周期：每期一行——省份、判定日期、分型标准、各类户数、文件校验和",
    "transitions": "分型变动：每户本期分型结果与本省上一期已接收周期的对比",
    "submissions": "报送情况：每年每省一行——状态（已接收、逾期、拒收、未报送）与未通过的检查",
    "duplicates": "跨省重复：同一统一社会信用代码出现在两个以上省份的最新名录中，待两省核实",
}
