"""Decision and correction (objections.md, "The procedure" 3–4).

The decision follows the latest re-judgment, made after the last correction was attached: ``调整`` when the
re-judged type differs from the published one (the type changes to the re-judged type, whatever was claimed),
``维持`` when it does not. A ``调整`` records the amendment, writes the corrections package for the national
directory and puts both into the warehouse — the published cycle folder's files stay as they were.
"""

from __future__ import annotations

import json

import polars as pl

from flows.objections import deadlines
from flows.objections.desk import Desk, _expect
from flows.objections.packages import write_package
from flows.objections.store import StoreError
from flows.objections.warehouse_tables import refresh_warehouse
from flows.storage.warehouse import open_read_only
from schemas.objections import Decision, Event, Status
from schemas.work_files import DIRECTORY_COLUMNS


def _rejudgment_in_force(store, objection_no: str):
    """The latest re-judgment, provided no correction was attached after it."""
    latest = store.latest_rejudgment(objection_no)
    if latest is None:
        raise StoreError(f"异议 {objection_no} 尚未重新判定：请先运行 getihu objection rejudge {objection_no}")
    attached_after = store.con.execute(
        "SELECT count(*) FROM events WHERE objection_no = ? AND kind = ? AND event_id > "
        "(SELECT max(event_id) FROM events WHERE objection_no = ? AND kind = ?)",
        (objection_no, str(Event.ATTACHED), objection_no, str(Event.REJUDGED)),
    ).fetchone()[0]
    if attached_after:
        raise StoreError(f"异议 {objection_no} 在最近一次重新判定之后又附了更正材料：请重新判定后再决定")
    return latest


def decide(desk: Desk, objection_no: str, decision: Decision, reasons: str, handler: str) -> str | None:
    """Record the decision; for ``调整`` also the amendment, the corrections package and the warehouse.
    Returns the package's folder name for ``调整``."""
    if not reasons or not reasons.strip():
        raise StoreError("决定须写明理由（--reasons）")
    today = desk.today()
    with desk.store() as store, store.transaction():
        row = store.get(objection_no)
        _expect(row, Status.ACCEPTED)
        latest = _rejudgment_in_force(store, objection_no)
        changes = latest["type_after"] != latest["type_before"]
        expected = Decision.ADJUST if changes else Decision.MAINTAIN
        if decision != expected:
            raise StoreError(
                f"重新判定的结果为 {latest['type_after']}（原为 {latest['type_before']}），"
                f"应作出“{expected.value}”决定：分型结果由标准决定，不由主张或经办人决定"
            )
        values = {
            "status": str(Status.DECIDED),
            "decision": decision.value,
            "decision_reasons": reasons.strip(),
            "decided_on": today.isoformat(),
            "type_after": latest["type_after"],
        }
        if decision == Decision.ADJUST:
            values["correction_due"] = deadlines.add_working_days(
                today, desk.periods.correction_working_days
            ).isoformat()
        store.update(objection_no, **values)
        store.event(
            objection_no,
            Event.DECIDED,
            handler,
            {"decision": decision.value, "reasons": reasons.strip(), "rejudgment_id": latest["rejudgment_id"]},
        )
    if decision == Decision.ADJUST:
        return amend(desk, objection_no, handler)
    return None


def amend(desk: Desk, objection_no: str, handler: str) -> str:
    """Record the amendment of a ``调整`` decision, write its corrections package, refresh the warehouse."""
    with desk.store() as store:
        row = store.get(objection_no)
        latest = store.latest_rejudgment(objection_no)
    if row["decision"] != Decision.ADJUST.value or row["amended_on"]:
        raise StoreError(f"异议 {objection_no} 没有待更正的调整决定")
    compared = json.loads(latest["comparison"])
    codes = {
        k: [c["code"] for c in compared[k]] for k in ("reasons_after", "conditions_met_after", "criteria_failed_after")
    }
    with open_read_only(desk.warehouse) as con:
        published = con.sql(
            f"SELECT {', '.join(DIRECTORY_COLUMNS)} FROM directory WHERE cycle_id = $cycle AND business_key = $key",
            params={"cycle": row["cycle_id"], "key": row["business_key"]},
        ).pl()
    amended = published.with_columns(
        business_type=pl.lit(row["type_after"]),
        reasons=pl.lit(codes["reasons_after"], dtype=pl.List(pl.String)),
        conditions_met=pl.lit(codes["conditions_met_after"], dtype=pl.List(pl.String)),
        criteria_failed=pl.lit(codes["criteria_failed_after"], dtype=pl.List(pl.String)),
    )
    cycle_folder = desk.home / "out" / row["province"] / row["cycle_id"]
    package = write_package(cycle_folder, amended, [objection_no], desk.clock())
    today = desk.today()
    with desk.store() as store, store.transaction():
        store.add_amendment(
            {
                "province": row["province"],
                "cycle_id": row["cycle_id"],
                "business_key": row["business_key"],
                "type_before": row["type_before"],
                "type_after": row["type_after"],
                "reasons_after": json.dumps(codes["reasons_after"], ensure_ascii=False),
                "conditions_met": json.dumps(codes["conditions_met_after"], ensure_ascii=False),
                "criteria_failed": json.dumps(codes["criteria_failed_after"], ensure_ascii=False),
                "objection_no": objection_no,
                "amended_on": today.isoformat(),
                "package": package.name,
                "handler": handler,
                "at": store.now(),
            }
        )
        store.update(objection_no, status=str(Status.AMENDED), amended_on=today.isoformat())
        store.event(
            objection_no,
            Event.AMENDED,
            handler,
            {"type_before": row["type_before"], "type_after": row["type_after"], "package": package.name},
        )
    refresh_warehouse(desk.home, f"getihu objection decide {objection_no}")
    return package.name
