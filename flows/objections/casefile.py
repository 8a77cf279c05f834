"""What a handler reads about objections — the queue and one objection's case file (案卷) — as plain data for the
web desk and the terminal alike. Nothing here decides or writes: the steps are ``flows.objections.desk`` /
``decisions`` / ``reply``, which the desk and ``getihu objection`` both call.

The case file's evidence on the business is what ``getihu query`` gathers (``flows.query``: the business's types
and reasons in every cycle, its features, the trademarks, patents and tax identities linked to it in the objected
cycle with their routes, the ambiguous ones naming it as a candidate — not credited — and its quarantined rows),
taken from the published warehouse opened read-only. Personal data as the terminal shows it: the phone masked,
no resident ID (the warehouse holds none in clear).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from flows.objections.decisions import _rejudgment_in_force
from flows.objections.desk import Desk, listing, next_deadline
from flows.objections.store import StoreError
from flows.objections.warehouse_tables import business_amendments
from flows.query import (
    LINK_STATUS_LABELS,
    _region_name,
    business_features,
    business_history,
    business_linkage,
    code_meaning,
    code_meanings,
    quarantined_rows,
    shown_value,
)
from flows.storage.warehouse import FEATURE_LABELS, open_read_only
from schemas.objections import (
    DEADLINE_LABELS,
    EVENT_LABELS,
    REFUSAL_LABELS,
    STATUS_LABELS,
    Decision,
    Event,
    Refusal,
    Status,
)
from schemas.outputs import RULE_LABELS
from schemas.sources import SOURCES
from schemas.vocabulary import LINK_DETAIL_LABELS, LINK_OUTCOME_LABELS, LINK_SOURCE_LABELS, ruleset_name

#: An objection's fields as the handler reads them (label, column), in this order — ``getihu objection show``
#: and the desk's page. The phone is the masked one; no column holds anything clearer.
CASE_FIELDS = (
    ("统一社会信用代码", "uscc"),
    ("名称", "name"),
    ("周期", "cycle_id"),
    ("提出人", "filed_by"),
    ("联系电话", "phone_masked"),
    ("主张分型", "claimed_type"),
    ("异议理由", "grounds"),
    ("材料", "materials"),
    ("原分型", "type_before"),
    ("受理期限", "intake_due"),
    ("决定期限", "decision_due"),
    ("更正期限", "correction_due"),
    ("决定", "decision"),
    ("决定理由", "decision_reasons"),
    ("不予受理原因", "refusal"),
)

#: The keys of an event's detail, in Chinese (the rest are shown under their own name).
DETAIL_LABELS = {
    "origin": "来源",
    "decision_due": "决定期限",
    "reason": "原因",
    "label": "说明",
    "note": "备注",
    "type_before": "原分型",
    "type_after": "重新判定分型",
    "decision": "决定",
    "reasons": "理由",
    "package": "更正包",
    "files": "文件",
    "source": "数据来源",
    "file": "文件",
    "rows": "行数",
    "confirmed_by": "确认部门",
    "confirmation_no": "确认文号",
    "sha256": "SHA-256",
    "rejudgment_id": "重新判定序号",
}


class Action:
    """The steps a handler may take on an objection in its status (the desk offers those only)."""

    ACCEPT = "accept"
    REFUSE = "refuse"
    ATTACH = "attach"
    REJUDGE = "rejudge"
    DECIDE = "decide"
    REPLY = "reply"


# --- the queue ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    objection_no: str
    status: str
    status_label: str
    uscc: str
    name: str
    cycle_id: str
    next_deadline: str  # "决定期限 2025-09-05", or empty
    provisional: bool  # the deadline falls in a year the official calendar does not know yet
    overdue: tuple[str, ...]  # the labels of the deadlines passed


def queue(desk: Desk) -> list[QueueRow]:
    """Every objection, overdue ones first (``flows.objections.desk.listing``'s order)."""
    rows = []
    for row, late in listing(desk):
        upcoming = next_deadline(row)
        rows.append(
            QueueRow(
                objection_no=row["objection_no"],
                status=row["status"],
                status_label=STATUS_LABELS[Status(row["status"])],
                uscc=row["uscc"],
                name=row["name"] or "",
                cycle_id=row["cycle_id"] or "",
                next_deadline=f"{upcoming[0]} {upcoming[1]}" if upcoming else "",
                provisional=bool(row["calendar_provisional"]) and upcoming is not None,
                overdue=tuple(DEADLINE_LABELS[d] for d in late),
            )
        )
    return rows


# --- the evidence on the business ---------------------------------------------------------------------


@dataclass(frozen=True)
class Coded:
    code: str
    label: str


@dataclass(frozen=True)
class CycleResult:
    cycle_id: str
    as_of: str
    business_type: str
    ruleset: str
    reasons: tuple[Coded, ...]
    conditions_met: tuple[Coded, ...]
    conditions_not_met: tuple[Coded, ...]  # the ruleset's conditions the business did not meet
    criteria_failed: tuple[Coded, ...]
    objected: bool  # the cycle the objection is about


@dataclass(frozen=True)
class Evidence:
    """The business as the warehouse knows it (``getihu query``'s record), for the objected cycle."""

    name: str
    uscc: str
    reg_no: str
    region: str
    results: tuple[CycleResult, ...]  # every cycle, oldest first
    feature_cycles: tuple[str, ...]
    features: tuple[tuple[str, tuple[str, ...]], ...]  # (Chinese label, value shown per cycle)
    linkage: tuple[dict, ...]  # 类别, 记录, 结果, 关联途径, 说明; the ambiguous ones not credited
    quarantined: tuple[dict, ...]  # 周期, 来源, 文件, 行号, 列, 报送值, 规则
    amendments: tuple[dict, ...]


def _ruleset_conditions(con, ruleset_id: str, version: str) -> list[str]:
    tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "codes" not in tables:
        return []
    rows = con.execute(
        "SELECT code FROM codes WHERE kind = 'condition' AND ruleset_id = ? AND ruleset_version = ? ORDER BY rowid",
        [ruleset_id, version],
    ).fetchall()
    return [r[0] for r in rows]


def evidence(warehouse: Path, province: str, business_key: str, cycle_id: str) -> Evidence | None:
    """The business's record in the published warehouse (None when it is not there)."""
    if not warehouse.exists():
        return None
    with open_read_only(warehouse) as con:
        who = con.execute(
            "SELECT name, uscc, reg_no, region_code FROM directory WHERE province = ? AND business_key = ? "
            "ORDER BY as_of DESC LIMIT 1",
            [province, business_key],
        ).fetchall()
        if not who:
            return None
        who = who[0]
        history = business_history(con, province, business_key)
        features = business_features(con, province, business_key)
        labels = code_meanings(con)
        linkage = business_linkage(con, province, business_key, cycle_id)
        quarantined = quarantined_rows(con, business_key)
        amendments = business_amendments(con, province, business_key)
        conditions = {
            (r["ruleset_id"], r["ruleset_version"]): _ruleset_conditions(con, r["ruleset_id"], r["ruleset_version"])
            for r in history.iter_rows(named=True)
        }

    def coded(codes, ruleset) -> tuple[Coded, ...]:
        return tuple(Coded(c, code_meaning(c, labels, ruleset)) for c in codes)

    results = []
    for r in history.iter_rows(named=True):
        ruleset = (r["ruleset_id"], r["ruleset_version"])
        not_met = [c for c in conditions[ruleset] if c not in set(r["conditions_met"])]
        results.append(
            CycleResult(
                cycle_id=r["cycle_id"],
                as_of=r["as_of"].isoformat(),
                business_type=r["business_type"],
                ruleset=ruleset_name(*ruleset),
                reasons=coded(r["reasons"], ruleset),
                conditions_met=coded(r["conditions_met"], ruleset),
                conditions_not_met=coded(not_met, ruleset),
                criteria_failed=coded(r["criteria_failed"], ruleset),
                objected=r["cycle_id"] == cycle_id,
            )
        )
    names = [c for c in features.columns if c != "cycle_id"]
    feature_rows = tuple(
        (FEATURE_LABELS.get(n, n), tuple(shown_value(v) for v in features[n].to_list())) for n in names
    )
    linked = tuple(
        {
            "类别": LINK_SOURCE_LABELS.get(r["source"], r["source"]),
            "记录": r["record"],
            "结果": LINK_STATUS_LABELS.get(r["status"], r["status"]),
            "关联途径": LINK_OUTCOME_LABELS.get(r["route"], "—") if r["route"] else "—",
            "说明": LINK_DETAIL_LABELS.get(r["detail"], shown_value(r["detail"])),
            "credited": r["status"] == "linked",
        }
        for r in linkage.iter_rows(named=True)
    )
    kept = tuple(
        {
            "周期": r["cycle_id"],
            "来源": SOURCES[r["source"]].label if r["source"] in SOURCES else r["source"],
            "文件": r["file"],
            "行号": str(r["line"]),
            "列": r["column"],
            "报送值": shown_value(r["value"]),
            "规则": f"{r['rule']} {RULE_LABELS.get(r['rule'], '')}".strip(),
        }
        for r in quarantined.iter_rows(named=True)
    )
    amended = tuple(
        {
            "周期": r["cycle_id"],
            "更正前": r["type_before"],
            "更正后": r["type_after"],
            "异议编号": r["objection_no"],
            "更正日期": r["amended_on"].isoformat(),
            "更正包": shown_value(r["package"]),
        }
        for r in (amendments.iter_rows(named=True) if amendments is not None else [])
    )
    return Evidence(
        name=who[0] or "（无名称）",
        uscc=shown_value(who[1]),
        reg_no=shown_value(who[2]),
        region=_region_name(who[3]),
        results=tuple(results),
        feature_cycles=tuple(features["cycle_id"].to_list()),
        features=feature_rows,
        linkage=linked,
        quarantined=kept,
        amendments=amended,
    )


# --- one objection's case file ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFile:
    objection_no: str
    status: str
    status_label: str
    fields: tuple[tuple[str, str], ...]  # CASE_FIELDS present on the objection
    overdue: tuple[str, ...]
    next_deadline: str
    events: tuple[dict, ...]  # 时间, 步骤, 经办人, 内容
    corrections: tuple[dict, ...]
    comparison: dict | None  # the latest re-judgment (``transforms.objections.comparison``), with 经办人 and 时间
    rejudgment_in_force: bool  # made after the last correction attached: a decision may rest on it
    expected_decision: str | None  # what the re-judgment in force calls for (调整 or 维持)
    actions: frozenset[str]
    letter: bool  # the reply letter can be shown
    evidence: Evidence | None
    refusals: tuple[tuple[str, str], ...] = field(default=tuple((r.value, REFUSAL_LABELS[r]) for r in Refusal))


def _event_text(detail: str) -> str:
    values = json.loads(detail or "{}")
    parts = []
    for key, value in values.items():
        if isinstance(value, list):
            value = "、".join(map(str, value))
        elif key == "source" and value in SOURCES:
            value = SOURCES[value].label
        elif key == "sha256":
            value = f"{value[:12]}…"  # the whole checksum is in the store
        parts.append(f"{DETAIL_LABELS.get(key, key)}：{value}")
    return "；".join(parts)


def _time(text: str | None) -> str:
    """A stored time (ISO 8601, China time) as the handler reads it: ``2025-08-11 10:00:00``."""
    return (text or "")[:19].replace("T", " ")


def _actions(row, in_force: bool) -> frozenset[str]:
    status = Status(row["status"])
    if status == Status.RECEIVED:
        return frozenset({Action.ACCEPT, Action.REFUSE})
    if status == Status.ACCEPTED:
        return frozenset({Action.ATTACH, Action.REJUDGE} | ({Action.DECIDE} if in_force else set()))
    if _letter_ready(row) and status != Status.REPLIED:
        return frozenset({Action.REPLY})
    return frozenset()


def _letter_ready(row) -> bool:
    """The reply can be written (``flows.objections.reply.reply``'s own conditions)."""
    if row["status"] not in (Status.REFUSED, Status.DECIDED, Status.AMENDED, Status.REPLIED):
        return False
    return not (row["decision"] == Decision.ADJUST.value and not row["amended_on"])


def case_file(desk: Desk, objection_no: str, today: dt.date | None = None) -> CaseFile:
    """Everything the handler reads about one objection (StoreError when there is none)."""
    from flows.objections.figures import overdue

    with desk.store() as store:
        row = store.get(objection_no)
        events = store.events(objection_no)
        corrections = store.corrections(objection_no)
        latest = store.latest_rejudgment(objection_no)
        try:
            _rejudgment_in_force(store, objection_no)
            in_force = True
        except StoreError:
            in_force = False
    compared = None
    if latest is not None:
        compared = json.loads(latest["comparison"]) | {"经办人": latest["handler"], "时间": _time(latest["at"])}
    expected = None
    if in_force and compared is not None:
        expected = (Decision.ADJUST if latest["type_after"] != latest["type_before"] else Decision.MAINTAIN).value
    upcoming = next_deadline(row)
    found = (
        evidence(desk.warehouse, row["province"], row["business_key"], row["cycle_id"])
        if row["business_key"] and row["cycle_id"]
        else None
    )
    return CaseFile(
        objection_no=row["objection_no"],
        status=row["status"],
        status_label=STATUS_LABELS[Status(row["status"])],
        fields=tuple((label, str(row[key])) for label, key in CASE_FIELDS if row[key]),
        overdue=tuple(DEADLINE_LABELS[d] for d in overdue(row, today or desk.today())),
        next_deadline=f"{upcoming[0]} {upcoming[1]}" if upcoming else "",
        events=tuple(
            {
                "时间": _time(e["at"]),
                "步骤": EVENT_LABELS[Event(e["kind"])],
                "经办人": e["handler"],
                "内容": _event_text(e["detail"]),
            }
            for e in events
        ),
        corrections=tuple(
            {
                "文件": c["file"],
                "数据来源": SOURCES[c["source"]].label if c["source"] in SOURCES else c["source"],
                "行数": c["rows"],
                "确认部门": c["confirmed_by"],
                "确认文号": c["confirmation_no"],
                "经办人": c["handler"],
                "时间": _time(c["at"]),
            }
            for c in corrections
        ),
        comparison=compared,
        rejudgment_in_force=in_force,
        expected_decision=expected,
        actions=_actions(row, in_force),
        letter=_letter_ready(row),
        evidence=found,
    )


def comparison_rows(compared: dict) -> list[dict]:
    """The re-judgment's features side by side as the handler reads them: label, before, after, changed, and the
    corrected records behind a change (file, line, 确认文号)."""
    return [
        {
            "label": f["label"],
            "before": shown_value(f["before"]),
            "after": shown_value(f["after"]),
            "changed": f["changed"],
            "by": "；".join(f"{b['file']} 第{b['line']}行 {b['confirmed_by']} {b['confirmation_no']}" for b in f["by"]),
        }
        for f in compared["features"]
    ]
