"""The handler's desk: every step of the procedure of objections.md as one function each — file (import or a
single objection), accept, refuse, attach corrections, re-judge, decide, and the state and deadlines behind
``getihu objection list``. Each step is one store transaction with its event (handler and time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flows.home import Cycle, now_in_china, warehouse_path
from flows.objections import deadlines
from flows.objections.figures import overdue, summarise
from flows.objections.reading import keep_correction, kept_correction_path, read_small_file, rules_context
from flows.objections.rejudge import RejudgeError, rejudge
from flows.objections.store import Store, StoreError, as_date, objection_dir, store_dir
from flows.readers import source_of
from flows.storage.warehouse import open_read_only
from schemas.objections import (
    CONFIRMATION_NO,
    CONFIRMED_BY,
    DEADLINE_LABELS,
    DEFAULT_PERIODS,
    FREE_TEXT,
    OBJECTION,
    OPEN_STATUSES,
    REFUSAL_LABELS,
    Deadline,
    Decision,
    Event,
    Periods,
    Refusal,
    Status,
)
from schemas.sources import SOURCES
from transforms.objections import IntakeFacts, masked_phone, not_of_business, personal_data_masked, refusal


@dataclass
class Desk:
    """Where and how objections are handled: the home, the key for personal IDs, the periods, the clock."""

    home: Path
    secret: bytes
    periods: Periods = DEFAULT_PERIODS
    clock: object = now_in_china

    def today(self) -> dt.date:
        return self.clock().date()

    def store(self) -> Store:
        return Store(self.home, self.clock)

    @property
    def warehouse(self) -> Path:
        return warehouse_path(self.home)


@dataclass
class ImportResult:
    filed: list[str] = field(default_factory=list)
    refused: list[tuple[str, Refusal]] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    quarantine: pl.DataFrame | None = None
    quarantine_file: Path | None = None


# --- intake --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    province: str | None
    cycle_id: str | None
    published_on: dt.date | None
    business_key: str | None
    name: str | None
    type_before: str | None


def find_cycle_and_business(warehouse: Path, uscc: str, as_of: dt.date) -> Found:
    """The published cycle with the as-of date and the business in it, by USCC (or 注册号-only key)."""
    if not warehouse.exists():
        return Found(None, None, None, None, None, None)
    code = (uscc or "").strip().upper()
    province = code[2:4] if len(code) == 18 else None
    with open_read_only(warehouse) as con:
        hit = con.execute(
            "SELECT d.province, d.cycle_id, c.published_at, d.business_key, d.name, d.business_type "
            "FROM directory d JOIN cycles c ON c.cycle_id = d.cycle_id "
            "WHERE d.as_of = ? AND (d.uscc = ? OR d.business_key = ?) ORDER BY d.province LIMIT 1",
            [as_of, code, code],
        ).fetchone()
        if hit:
            return Found(hit[0], hit[1], _china_date(hit[2]), hit[3], hit[4], hit[5])
        cycle = con.execute(
            "SELECT province, cycle_id, published_at FROM cycles WHERE as_of = ? AND province = ?", [as_of, province]
        ).fetchone()
    if cycle:
        return Found(cycle[0], cycle[1], _china_date(cycle[2]), None, None, None)
    return Found(province, None, None, None, None, None)


def _china_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(now_in_china().tzinfo).date()
    return value


def file_objection(
    desk: Desk, values: dict, origin: str, handler: str, received_on: dt.date | None = None
) -> Refusal | None:
    """File one objection (from ``objection.csv`` or the web desk) and check it; a refusal reason found is
    recorded at once (a REFUSED event by the same handler). Returns the reason, or None when it awaits
    acceptance. ``values`` are canonical columns of ``objection.csv`` with the phone already masked."""
    received_on = received_on or desk.today()
    found = find_cycle_and_business(desk.warehouse, values["uscc"], values["as_of"])
    filing_deadline = (
        deadlines.calendar_period_end(found.published_on, desk.periods.filing_days) if found.published_on else None
    )
    intake_due = deadlines.add_working_days(received_on, desk.periods.intake_working_days)
    with desk.store() as store, store.transaction():
        if store.exists(values["objection_no"]):
            raise StoreError(f"异议编号 {values['objection_no']} 已登记")
        others = (
            store.open_on(found.cycle_id, found.business_key, tuple(map(str, OPEN_STATUSES)))
            if found.business_key
            else []
        )
        reason = refusal(
            IntakeFacts(
                found.published_on, found.business_key is not None, values["filed_on"], filing_deadline, tuple(others)
            )
        )
        store.add(
            {
                "objection_no": values["objection_no"],
                "province": found.province or "",
                "cycle_id": found.cycle_id,
                "as_of": values["as_of"].isoformat(),
                "business_key": found.business_key,
                "uscc": values["uscc"],
                "name": found.name,
                "filed_on": values["filed_on"].isoformat(),
                "received_on": received_on.isoformat(),
                "filed_by": values.get("filed_by"),
                "phone_masked": values.get("phone"),
                "claimed_type": values.get("claimed_type"),
                "grounds": values.get("grounds"),
                "materials": values.get("materials"),
                "origin": origin,
                "status": str(Status.RECEIVED),
                "intake_due": intake_due.isoformat(),
                "type_before": found.type_before,
                "calendar_provisional": int(not deadlines.calendar_known(intake_due)),
            },
            handler,
        )
        if reason is not None:
            _refuse(store, values["objection_no"], reason, handler, "受理审查自动发现", desk.today())
    return reason


def import_objections(desk: Desk, path: Path, handler: str, received_on: dt.date | None = None) -> ImportResult:
    """File every valid row of an ``objection.csv`` (the module's export); rows breaking the extract rules are
    quarantined to ``<home>/objections/quarantine/``; an 异议编号 already filed is left as it is."""
    context = rules_context("00", desk.today())
    mask = {"phone": masked_phone(pl.col("phone"))} | {c: personal_data_masked(pl.col(c)) for c in FREE_TEXT}
    read = read_small_file(path, OBJECTION, context, desk.secret, mask=mask)
    result = ImportResult(quarantine=read.quarantine)
    if read.quarantine.height:
        folder = store_dir(desk.home) / "quarantine"
        folder.mkdir(parents=True, exist_ok=True)
        result.quarantine_file = folder / f"{path.stem}-{read.sha256[:12]}.csv"
        read.quarantine.write_csv(result.quarantine_file)
    for row in read.valid.iter_rows(named=True):
        with desk.store() as store:
            if store.exists(row["objection_no"]):
                result.already.append(row["objection_no"])
                continue
        reason = file_objection(desk, row, f"{path.name}:{row['_line']}", handler, received_on)
        if reason is None:
            result.filed.append(row["objection_no"])
        else:
            result.refused.append((row["objection_no"], reason))
    return result


def file_from_web(desk: Desk, record: dict[str, str], handler: str) -> ImportResult:
    """One objection from the directory's web desk, its fields named by the headers of ``objection.csv``:
    checked by the same readers and row rules as the module's export (it is read as a one-row file, which is
    removed at once: the clear phone number is never kept)."""
    import csv
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "objection-web.csv"
        with path.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=list(record))
            writer.writeheader()
            writer.writerow(record)
        return import_objections(desk, path, handler)


def _expect(row, *statuses: Status) -> None:
    if row["status"] not in statuses:
        allowed = "、".join(s.value for s in statuses)
        raise StoreError(f"异议 {row['objection_no']} 当前状态为 {row['status']}，此操作要求状态为 {allowed}")


def _refuse(store: Store, objection_no: str, reason: Refusal, handler: str, note: str, today: dt.date) -> None:
    store.update(objection_no, status=str(Status.REFUSED), refusal=str(reason), decided_on=today.isoformat())
    store.event(
        objection_no, Event.REFUSED, handler, {"reason": str(reason), "label": REFUSAL_LABELS[reason], "note": note}
    )


def accept(desk: Desk, objection_no: str, handler: str) -> dt.date:
    """Accept an objection; returns the decision deadline (20 working days from today)."""
    today = desk.today()
    with desk.store() as store, store.transaction():
        row = store.get(objection_no)
        _expect(row, Status.RECEIVED)
        due = deadlines.add_working_days(today, desk.periods.decision_working_days)
        store.update(
            objection_no,
            status=str(Status.ACCEPTED),
            accepted_on=today.isoformat(),
            decision_due=due.isoformat(),
            calendar_provisional=int(row["calendar_provisional"] or not deadlines.calendar_known(due)),
        )
        store.event(objection_no, Event.ACCEPTED, handler, {"decision_due": due.isoformat()})
    return due


def refuse(desk: Desk, objection_no: str, reason: Refusal, handler: str, note: str = "") -> None:
    with desk.store() as store, store.transaction():
        _expect(store.get(objection_no), Status.RECEIVED)
        _refuse(store, objection_no, reason, handler, note, desk.today())


# --- corrections and re-judgment ------------------------------------------------------------------------


def cycle_of(desk: Desk, row, ruleset: Path | None = None) -> Cycle:
    return Cycle(
        province=row["province"],
        as_of=dt.date.fromisoformat(row["as_of"]),
        home=desk.home,
        secret=desk.secret,
        ruleset=ruleset,
    )


def attach(desk: Desk, objection_no: str, files: list[Path], handler: str) -> list[dict]:
    """Attach confirmed corrections: each file an extract of the contract (``tax_payment.csv``, ...) with
    确认部门 and 确认文号 on every row, of the objected business only, valid under the cycle's row rules.
    Files are copied into ``<home>/objections/<异议编号>/`` and never replaced."""
    with desk.store() as store:
        row = store.get(objection_no)
        attached = store.corrections(objection_no)
    _expect(row, Status.ACCEPTED)
    cycle = cycle_of(desk, row)
    context = rules_context(cycle.province, desk.today())  # a correction names no date after it is attached
    folder = objection_dir(desk.home, objection_no)
    entries = []
    for path in files:
        source = source_of(path.name)
        if source is None:
            raise StoreError(f"{path.name}: 文件名须以数据来源开头（如 tax_payment.csv、abnormal_list.csv）")
        read = read_small_file(path, SOURCES[source], context, desk.secret)
        if read.quarantine.height:
            shown = "; ".join(
                f"第{r['line']}行 {r['column']}: {r['rule']}" for r in read.quarantine.head(5).iter_rows(named=True)
            )
            raise StoreError(f"{path.name}: 有 {read.quarantine.height} 处不符合数据规范（{shown}）；未附入")
        missing = [c for c in (CONFIRMED_BY, CONFIRMATION_NO) if c not in read.extras.columns]
        if (
            missing
            or read.extras.select(
                pl.any_horizontal(
                    pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in (CONFIRMED_BY, CONFIRMATION_NO)
                )
            )
            .to_series()
            .any()
        ):
            raise StoreError(f"{path.name}: 每行须填写 {CONFIRMED_BY} 和 {CONFIRMATION_NO}（数据部门的确认）；未附入")
        others = not_of_business(read.valid, source, row["business_key"])
        if others.height:
            raise StoreError(
                f"{path.name}: 有 {others.height} 行不属于被异议的主体 {row['business_key']}；更正只能涉及该户；未附入"
            )
        target = kept_correction_path(folder, path.name)
        if any(a["file"] == path.name and a["sha256"] != read.sha256 for a in attached):
            raise StoreError(f"{path.name}: 已有同名的更正文件，内容不同；更正文件不覆盖，请换一个文件名")
        folder.mkdir(parents=True, exist_ok=True)
        if not target.exists():  # the valid rows, IDs keyed: the delivered file (maybe with 身份证件号码) is not kept
            keep_correction(read, target, (CONFIRMED_BY, CONFIRMATION_NO))
        confirmations = read.extras.select(CONFIRMED_BY, CONFIRMATION_NO).unique(maintain_order=True)
        entries.append(
            {
                "source": source,
                "file": path.name,
                "sha256": read.sha256,
                "rows": read.valid.height,
                "confirmed_by": "、".join(confirmations[CONFIRMED_BY].to_list()),
                "confirmation_no": "、".join(confirmations[CONFIRMATION_NO].to_list()),
            }
        )
    with desk.store() as store, store.transaction():
        for entry in entries:
            store.add_correction(objection_no, entry, handler)
            store.event(objection_no, Event.ATTACHED, handler, entry)
    return entries


def correction_files(desk: Desk, objection_no: str) -> list[tuple[str, Path]]:
    with desk.store() as store:
        rows = store.corrections(objection_no)
    seen: dict[str, tuple[str, Path]] = {}
    folder = objection_dir(desk.home, objection_no)
    for r in rows:
        kept = kept_correction_path(folder, r["file"])
        seen[r["file"]] = (r["source"], kept if kept.exists() else folder / r["file"])  # else: attached as delivered
    return list(seen.values())


def run_rejudgment(desk: Desk, objection_no: str, handler: str, ruleset: Path | None = None):
    """Re-judge the objected business with its confirmed corrections; the comparison is kept in the store."""
    with desk.store() as store:
        row = store.get(objection_no)
    _expect(row, Status.ACCEPTED)
    result = rejudge(
        cycle_of(desk, row, ruleset), row["business_key"], correction_files(desk, objection_no), desk.today()
    )
    with desk.store() as store, store.transaction():
        store.add_rejudgment(
            objection_no, result.before.business_type, result.after.business_type, result.comparison, handler
        )
        store.event(
            objection_no,
            Event.REJUDGED,
            handler,
            {"type_before": result.before.business_type, "type_after": result.after.business_type},
        )
    return result


# --- state, deadlines, figures --------------------------------------------------------------------------


def next_deadline(row) -> tuple[str, dt.date] | None:
    if row["status"] == Status.RECEIVED:
        return DEADLINE_LABELS[Deadline.INTAKE], as_date(row["intake_due"])
    if row["status"] == Status.ACCEPTED:
        return DEADLINE_LABELS[Deadline.DECISION], as_date(row["decision_due"])
    if row["decision"] == Decision.ADJUST and not row["amended_on"]:
        return DEADLINE_LABELS[Deadline.CORRECTION], as_date(row["correction_due"])
    return None


def listing(desk: Desk) -> list[tuple[object, list[Deadline]]]:
    """Every objection with its overdue deadlines: overdue ones first (oldest deadline first), then the rest by
    receipt."""
    today = desk.today()
    with desk.store() as store:
        rows = store.all()
    marked = [(r, overdue(r, today)) for r in rows]

    def order(item):
        row, late = item
        upcoming = next_deadline(row)
        return (not late, upcoming[1] if upcoming else dt.date.max, row["received_on"], row["objection_no"])

    return sorted(marked, key=order)


def figures(desk: Desk, province: str | None = None) -> dict:
    """The handlers' summary over every objection (of one province)."""
    with desk.store() as store:
        rows = [r for r in store.all() if province is None or r["province"] == province]
    return summarise(rows, desk.today())


__all__ = [
    "Desk",
    "RejudgeError",
    "accept",
    "attach",
    "figures",
    "file_objection",
    "import_objections",
    "listing",
    "refuse",
    "run_rejudgment",
]
