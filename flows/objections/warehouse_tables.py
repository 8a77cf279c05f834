"""The objection tables of the analysts' warehouse (objections.md, "Outputs and tables"): ``objections``,
``objection_events`` and ``amendments``, copied from the objection store; ``directory`` gains an ``amended``
flag and ``directory_latest`` and ``transitions`` show the amended type.

Two ways in, both on a building copy that is then swapped in like a run's (``flows.warehouse``):

- every publish calls :func:`add_objection_tables` on its building connection (the hook in
  ``flows.warehouse.build_warehouse``), so a rerun of a cycle keeps its amendments visible;
- a decision between runs calls :func:`refresh_warehouse`, under the home's run lock.

A home where no objection was ever filed (no store file) gets none of this: its warehouse is unchanged.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import duckdb
import polars as pl

from flows.home import warehouse_path
from flows.objections.store import store_path
from flows.storage import warehouse
from flows.storage.lock import home_lock

OBJECTION_TABLES = ("objections", "objection_events", "amendments")

TABLE_COMMENTS = {
    "objections": "异议：每件异议一行——主体、所异议的周期、状态、各项期限、决定及理由（联系电话不入库）",
    "objection_events": "异议办理记录：每一步一行——经办人、时间、内容；只增不删",
    "amendments": "分型更正：每一户每一期因异议调整分型结果的记录——调整前后分型、依据、异议编号、更正包",
}

COLUMN_COMMENTS = {
    "objections": {
        "objection_no": "异议编号",
        "province": "省级行政区划代码（两位）",
        "cycle_id": "所异议的周期编号（未找到已发布周期时为空）",
        "as_of": "所异议的判定日期",
        "business_key": "主体键（未找到该户时为空）",
        "uscc": "申诉人填报的统一社会信用代码",
        "name": "名称",
        "filed_on": "提出日期",
        "received_on": "收到日期（受理期限自次日起算）",
        "filed_by": "提出人",
        "claimed_type": "主张分型",
        "grounds": "异议理由",
        "materials": "材料",
        "origin": "来源：objection.csv 的文件与行号，或 web",
        "status": (
            "状态：received 待受理、accepted 已受理、refused 不予受理、decided 已决定、amended 已更正、replied 已答复"
        ),
        "refusal": "不予受理原因：UNKNOWN_BUSINESS、UNKNOWN_CYCLE、LATE、DUPLICATE",
        "intake_due": "受理期限（收到后5个工作日）",
        "accepted_on": "受理日期",
        "decision_due": "决定期限（受理后20个工作日）",
        "decision": "决定：调整 或 维持",
        "decision_reasons": "决定理由",
        "decided_on": "决定日期（不予受理的为不予受理日期）",
        "correction_due": "更正期限（调整决定后5个工作日）",
        "type_before": "原分型结果（本期发布）",
        "type_after": "重新判定的分型结果",
        "amended_on": "更正日期",
        "replied_on": "答复日期",
        "calendar_provisional": "期限所在年份的法定节假日尚未公布，暂按周一至周五计算",
    },
    "objection_events": {
        "event_id": "记录序号",
        "objection_no": "异议编号",
        "kind": "步骤：filed、accepted、refused、attached、rejudged、decided、amended、replied",
        "handler": "经办人",
        "at": "时间（北京时间）",
        "detail": "内容（JSON）",
    },
    "amendments": {
        "amendment_id": "更正序号",
        "province": "省级行政区划代码（两位）",
        "cycle_id": "所更正的周期编号",
        "business_key": "主体键",
        "type_before": "更正前分型结果",
        "type_after": "更正后分型结果",
        "reasons_after": "更正后的分型依据",
        "conditions_met": "更正后满足的分型标准条件代码",
        "criteria_failed": "更正后未满足的基础条件代码",
        "objection_no": "异议编号（更正依据）",
        "amended_on": "更正日期",
        "package": "报送国家名录的更正包（corrections-NNN）",
        "handler": "经办人",
        "at": "时间（北京时间）",
    },
}

_OBJECTION_COLUMNS = {
    "objection_no": pl.String,
    "province": pl.String,
    "cycle_id": pl.String,
    "as_of": pl.Date,
    "business_key": pl.String,
    "uscc": pl.String,
    "name": pl.String,
    "filed_on": pl.Date,
    "received_on": pl.Date,
    "filed_by": pl.String,
    "claimed_type": pl.String,
    "grounds": pl.String,
    "materials": pl.String,
    "origin": pl.String,
    "status": pl.String,
    "refusal": pl.String,
    "intake_due": pl.Date,
    "accepted_on": pl.Date,
    "decision_due": pl.Date,
    "decision": pl.String,
    "decision_reasons": pl.String,
    "decided_on": pl.Date,
    "correction_due": pl.Date,
    "type_before": pl.String,
    "type_after": pl.String,
    "amended_on": pl.Date,
    "replied_on": pl.Date,
    "calendar_provisional": pl.Boolean,
}
_EVENT_COLUMNS = {
    "event_id": pl.Int64,
    "objection_no": pl.String,
    "kind": pl.String,
    "handler": pl.String,
    "at": pl.String,
    "detail": pl.String,
}
_AMENDMENT_COLUMNS = {
    "amendment_id": pl.Int64,
    "province": pl.String,
    "cycle_id": pl.String,
    "business_key": pl.String,
    "type_before": pl.String,
    "type_after": pl.String,
    "reasons_after": pl.List(pl.String),
    "conditions_met": pl.List(pl.String),
    "criteria_failed": pl.List(pl.String),
    "objection_no": pl.String,
    "amended_on": pl.Date,
    "package": pl.String,
    "handler": pl.String,
    "at": pl.String,
}
_LISTS = ("reasons_after", "conditions_met", "criteria_failed")


def _frame(rows: list[sqlite3.Row], schema: dict) -> pl.DataFrame:
    records = []
    for row in rows:
        record = {name: row[name] for name in schema}
        for name in _LISTS:
            if name in record:
                record[name] = json.loads(record[name])
        records.append(record)
    text_schema = {n: (pl.String if t in (pl.Date, pl.Boolean) else t) for n, t in schema.items()}
    frame = pl.DataFrame(records, schema=text_schema, orient="row")
    return frame.with_columns(
        *(pl.col(n).str.to_date() for n, t in schema.items() if t == pl.Date),
        *(pl.col(n).cast(pl.Int8).cast(pl.Boolean) for n, t in schema.items() if t == pl.Boolean),
    )


def store_frames(home: Path) -> dict[str, pl.DataFrame] | None:
    """The store's rows as the warehouse holds them (no phone column); None when no store exists."""
    path = store_path(home)
    if not path.exists():
        return None
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    con.row_factory = sqlite3.Row
    try:
        con.execute("PRAGMA busy_timeout = 60000")
        objections = con.execute("SELECT * FROM objections ORDER BY objection_no").fetchall()
        events = con.execute("SELECT * FROM events ORDER BY event_id").fetchall()
        amendments = con.execute("SELECT * FROM amendments ORDER BY amendment_id").fetchall()
    finally:
        con.close()
    return {
        "objections": _frame(objections, _OBJECTION_COLUMNS),
        "objection_events": _frame(events, _EVENT_COLUMNS),
        "amendments": _frame(amendments, _AMENDMENT_COLUMNS),
    }


_LATEST_AMENDMENT = """
    SELECT * FROM amendments
    QUALIFY row_number() OVER (PARTITION BY cycle_id, business_key ORDER BY amendment_id DESC) = 1
"""

#: The directory as amended: each business's latest amendment of a cycle replaces its type and reasons.
AMENDED_DIRECTORY = f"""
    SELECT d.* REPLACE (
        coalesce(a.type_after, d.business_type) AS business_type,
        coalesce(a.reasons_after, d.reasons) AS reasons,
        coalesce(a.conditions_met, d.conditions_met) AS conditions_met,
        coalesce(a.criteria_failed, d.criteria_failed) AS criteria_failed
    )
    FROM directory d LEFT JOIN ({_LATEST_AMENDMENT}) a
      ON a.cycle_id = d.cycle_id AND a.business_key = d.business_key
"""


def _amended_view(view: str) -> str:
    sql = warehouse._VIEW_SQL[view]
    assert "FROM directory d" in sql, f"the {view} view no longer reads 'FROM directory d'"
    return sql.replace("FROM directory d", f"FROM ({AMENDED_DIRECTORY}) d")


def add_objection_tables(con: duckdb.DuckDBPyConnection, home: Path) -> None:
    """On a building warehouse connection: the objection tables from the store, the ``amended`` flag of
    ``directory``, and ``directory_latest`` / ``transitions`` over the amended directory. No store: nothing."""
    frames = store_frames(home)
    if frames is None:
        return
    for table, frame in frames.items():
        con.register(f"incoming_{table}", frame)
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM incoming_{table}")
        con.unregister(f"incoming_{table}")
        con.execute(f"COMMENT ON TABLE {table} IS {warehouse.sql_literal(TABLE_COMMENTS[table])}")
        for column, comment in COLUMN_COMMENTS[table].items():
            if column in frame.columns:
                con.execute(f"COMMENT ON COLUMN {table}.{column} IS {warehouse.sql_literal(comment)}")
    con.execute("ALTER TABLE directory ADD COLUMN IF NOT EXISTS amended BOOLEAN DEFAULT false")
    con.execute(
        "UPDATE directory SET amended = EXISTS (SELECT 1 FROM amendments a "
        "WHERE a.cycle_id = directory.cycle_id AND a.business_key = directory.business_key) "
        "WHERE amended IS NULL OR amended <> EXISTS (SELECT 1 FROM amendments a "
        "WHERE a.cycle_id = directory.cycle_id AND a.business_key = directory.business_key)"
    )
    for view in ("directory_latest", "transitions"):
        con.execute(f"CREATE OR REPLACE VIEW {view} AS {_amended_view(view)}")


def refresh_warehouse(home: Path, purpose: str = "getihu objection") -> None:
    """Publish the store's current state into the home's warehouse between runs: a building copy with the
    objection tables, swapped in atomically under the run lock. No warehouse yet: nothing to do."""
    published = warehouse_path(home)
    with home_lock(home, purpose):
        if not published.exists():
            return
        with warehouse.rewritten(published) as con:
            carried = {
                (t, c): comment
                for t, c, comment in con.execute(
                    "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE comment IS NOT NULL"
                ).fetchall()
            }
            add_objection_tables(con, home)
            warehouse._add_comments(con, carried)


def has_amendments(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.sql(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'amendments' AND database_name = current_database()"
    ).fetchall()
    return bool(found[0][0])


def business_amendments(con: duckdb.DuckDBPyConnection, province: str, business_key: str) -> pl.DataFrame | None:
    """A business's amendments, oldest first (``getihu query``); None in a warehouse without the table."""
    if not has_amendments(con):
        return None
    return con.sql(
        "SELECT cycle_id, type_before, type_after, reasons_after, objection_no, amended_on, package "
        "FROM amendments WHERE province = $province AND business_key = $key ORDER BY amendment_id",
        params={"province": province, "key": business_key},
    ).pl()
