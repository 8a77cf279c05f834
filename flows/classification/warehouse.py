"""The classification tables of the analysts' warehouse, published with the typing cycle's atomic swap.

Beside the typing tables: ``applications`` (every application of every round), ``recognitions`` (one row per
recognition, its current state), ``recognition_events`` (every event; nothing deleted) and the view
``recognitions_valid`` (valid today) with the macro ``recognitions_valid_on(day)`` for any other day. A step
replaces its province's rows of the three tables. Like ``getihu run``, it builds a byte copy of the published file
beside it and renames it into place (``flows.warehouse``), under the home's run lock; the typing cycle's swap
carries these tables over untouched, and this one carries the typing tables over.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.storage import warehouse as typing_warehouse
from flows.storage.warehouse import sql_literal

TABLES = ("applications", "recognitions", "recognition_events")
VIEWS = ("recognitions_valid",)

TABLE_COMMENTS = {
    "applications": "名特优新申报：每轮每份申报（自主申报或部门推荐）一行——分型结果、得分、达标指标、结果和原因代码",
    "recognitions": "名特优新认定：每项认定一行，当前状态（有效、取消、撤销、期满）与有效期",
    "recognition_events": "名特优新认定事件：认定、取消、撤销、延期、期满、经营者变更，逐条保留，从不删除",
    "recognitions_valid": "今日有效的名特优新认定（其他日期用宏 recognitions_valid_on(日期)），列同 recognitions",
}

COLUMN_COMMENTS = {
    "province": "省级行政区划代码（两位）",
    "year": "认定轮次年度（申报）或记录事件的年度（事件）",
    "application_no": "申报编号",
    "uscc": "统一社会信用代码",
    "name": "名称",
    "region_code": "行政区划代码（县级，6位）",
    "category": "类别：知名、特色、优质、新兴",
    "applied_on": "申报（推荐）日期",
    "channel": "来源：自主申报或部门推荐",
    "recommender": "推荐部门",
    "relaxation": "放宽情形（退役军人、高校毕业生、残疾人、返乡创业农民工）",
    "business_type": "本年度集中分型结果",
    "score": "分类标准得分",
    "pass_mark": "所申报类别的合格分",
    "indicators_met": "达标指标代码（;分隔）",
    "standard": "适用的分类标准（编号-版本）",
    "quota_unit": "名额单位（省、市或县级代码）",
    "rank": "通过前五步的申报中的排名",
    "outcome": "结果：拟认定、认定或不予认定",
    "reasons": "原因代码（;分隔，含义见 schemas/classification.py）",
    "recognition_no": "认定编号",
    "operator_key": "经营者身份证件号码的密钥化形式（非明文）",
    "recognised_on": "认定日期",
    "valid_until": "有效期至（含当日）",
    "benefits_from": "开始享受扶持政策日期（认定次年1月1日）",
    "round_year": "认定轮次年度",
    "status": "当前状态：有效、取消、撤销、期满",
    "ended_on": "取消或撤销日期（自当日起不再有效）",
    "base_type": "认定（或最近一次延期）时的分型结果",
    "base_sales": "认定（或延期）时上一年度营业额（元），延期情形A的基数",
    "base_tax": "认定（或延期）时上一年度实缴税款（元），延期情形A的基数",
    "base_insured": "认定（或延期）时上一年度参保人数，延期情形A的基数",
    "event": "事件：认定、取消、撤销、延期、期满、经营者变更",
    "date": "事件日期",
    "document_no": "文号",
    "step": "记录事件的步骤：round（认定轮次）或 review（年度评估确认）",
}

_VALID = (
    "recognised_on <= {day} AND valid_until >= {day} "
    "AND NOT (status IN ('取消', '撤销') AND ended_on IS NOT NULL AND ended_on <= {day})"
)


def publish_classification(
    warehouse: Path, province: str, applications: pl.DataFrame | None, recognitions: pl.DataFrame, events: pl.DataFrame
) -> None:
    """Replace ``province``'s classification rows in the warehouse, atomically. The caller holds the home lock."""
    with typing_warehouse.rewritten(warehouse) as con:
        frames = {
            "applications": applications,
            "recognitions": recognitions,
            "recognition_events": events,
        }
        for table, frame in frames.items():
            if frame is None:
                continue
            rows = frame.select(pl.lit(province).alias("province"), pl.all())  # noqa: F841 (read by DuckDB)
            con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM rows LIMIT 0")
            con.execute(f"DELETE FROM {table} WHERE province = ?", [province])
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows")
        con.execute(
            f"CREATE OR REPLACE VIEW recognitions_valid AS SELECT * FROM recognitions WHERE "
            f"{_VALID.format(day='current_date')}"
        )
        con.execute(
            "CREATE OR REPLACE MACRO recognitions_valid_on(day) AS TABLE "
            f"SELECT * FROM recognitions WHERE {_VALID.format(day='day::DATE')}"
        )
        present = {n for (n,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        for name in (*TABLES, *VIEWS):
            if name not in present and name not in VIEWS:
                continue
            kind = "VIEW" if name in VIEWS else "TABLE"
            con.execute(f"COMMENT ON {kind} {name} IS {sql_literal(TABLE_COMMENTS[name])}")
        columns = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE list_contains($names, table_name)",
            {"names": [*TABLES, *VIEWS]},
        ).fetchall()
        for table, column in columns:
            con.execute(f'COMMENT ON COLUMN {table}."{column}" IS {sql_literal(COLUMN_COMMENTS[column])}')
