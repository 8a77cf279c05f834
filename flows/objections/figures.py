"""The objection figures of objections.md, "Outputs and tables": received, accepted, refused (by reason), decided
(调整/维持), overdue, median working days from acceptance to decision — for the handlers' summary
(``getihu objection summary``) and for a cycle's run report."""

from __future__ import annotations

import datetime as dt
import sqlite3
import statistics
from collections.abc import Sequence
from pathlib import Path

from flows.home import now_in_china
from flows.objections import deadlines
from flows.objections.store import as_date, store_path
from schemas.objections import Deadline, Decision, Status


def overdue(row, today: dt.date) -> list[Deadline]:
    """The deadlines of an objection that have passed without their step being done."""
    late = []
    if row["status"] == Status.RECEIVED and today > as_date(row["intake_due"]):
        late.append(Deadline.INTAKE)
    if row["status"] == Status.ACCEPTED and row["decision_due"] and today > as_date(row["decision_due"]):
        late.append(Deadline.DECISION)
    if row["decision"] == Decision.ADJUST and not row["amended_on"] and today > as_date(row["correction_due"]):
        late.append(Deadline.CORRECTION)
    return late


def summarise(rows: Sequence, today: dt.date) -> dict:
    refused: dict[str, int] = {}
    decided: dict[str, int] = {}
    days = []
    for r in rows:
        if r["refusal"]:
            refused[r["refusal"]] = refused.get(r["refusal"], 0) + 1
        if r["decision"]:
            decided[r["decision"]] = decided.get(r["decision"], 0) + 1
            days.append(deadlines.working_days_between(as_date(r["accepted_on"]), as_date(r["decided_on"])))
    return {
        "received": len(rows),
        "accepted": sum(1 for r in rows if r["accepted_on"]),
        "refused": refused,
        "refused_total": sum(refused.values()),
        "decided": decided,
        "overdue": sum(1 for r in rows if overdue(r, today)),
        "median_working_days_to_decide": statistics.median(days) if days else None,
        "amended": sum(1 for r in rows if r["amended_on"]),
    }


def cycle_figures(home: Path, cycle_id: str, today: dt.date | None = None) -> dict | None:
    """The figures of the objections to one cycle, for its run report; None when no objection was ever filed."""
    path = store_path(home)
    if not path.exists():
        return None
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    con.row_factory = sqlite3.Row
    try:
        rows = con.execute("SELECT * FROM objections WHERE cycle_id = ?", (cycle_id,)).fetchall()
    finally:
        con.close()
    return summarise(rows, today or now_in_china().date())
