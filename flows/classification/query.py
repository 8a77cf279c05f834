"""``getihu query``: a business's 名特优新 recognitions and their events, shown after its types."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console, Group
from rich.table import Table

from flows.storage.warehouse import open_read_only


def recognition_record(warehouse: Path, province: str, uscc: str | None) -> Group | None:
    """The recognitions of one business and every event of them, from the published warehouse (read-only)."""
    if uscc is None or not warehouse.is_file():
        return None
    with open_read_only(warehouse) as con:
        present = {n for (n,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if not {"recognitions", "recognition_events"} <= present:
            return None
        params = {"province": province, "uscc": uscc}
        recognitions = con.execute(
            "SELECT recognition_no, category, channel, recognised_on, valid_until, status, ended_on "
            "FROM recognitions WHERE province = $province AND uscc = $uscc ORDER BY recognised_on",
            params,
        ).fetchall()
        events = con.execute(
            "SELECT recognition_no, date, event, reasons, document_no FROM recognition_events "
            "WHERE province = $province AND uscc = $uscc ORDER BY date, recognition_no, event",
            params,
        ).fetchall()
    if not recognitions:
        return None
    table = Table(title="名特优新认定", title_justify="left")
    for column in ("认定编号", "类别", "来源", "认定日期", "有效期至", "状态", "取消或撤销日期"):
        table.add_column(column, overflow="fold")
    for row in recognitions:
        table.add_row(*(str(v) if v is not None else "—" for v in row))
    history = Table(title="认定事件", title_justify="left")
    for column in ("认定编号", "日期", "事件", "原因", "文号"):
        history.add_column(column, overflow="fold")
    for row in events:
        history.add_row(*(str(v) if v is not None else "—" for v in row))
    return Group(table, history)


def print_recognitions(warehouse: Path, lookup) -> None:
    """After ``getihu query`` printed one business: its recognitions, if it has any."""
    if lookup.history is None or lookup.matches.height != 1:
        return
    business = lookup.matches.row(0, named=True)
    record = recognition_record(warehouse, business["province"], business["uscc"])
    if record is not None:
        Console().print(record)
