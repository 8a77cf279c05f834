"""Intake of objection.csv: the extract readers and row rules, each refusal reason, the phone kept masked."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3

import pytest

from flows.objections.desk import accept, file_from_web, import_objections, listing, refuse
from flows.objections.store import Store, StoreError, store_path
from schemas.objections import Refusal, Status
from tests.objections.support import desk_for, objection_row
from tests.support.inbox import write_csv

PHONE = "13812345678"


def imported(home, tmp_path, rows, day=dt.date(2025, 8, 11), encoding="utf-8"):
    desk, clock = desk_for(home, day)
    path = write_csv(tmp_path / "objection.csv", rows, encoding=encoding)
    return desk, clock, import_objections(desk, path, "王五")


def status_of(home, number):
    with Store(home) as store:
        return store.get(number)


def test_a_valid_objection_awaits_acceptance(home, tmp_path):
    _, _, result = imported(home, tmp_path, [objection_row("YY-1", 1)])
    assert result.filed == ["YY-1"] and not result.refused
    row = status_of(home, "YY-1")
    assert (row["status"], row["cycle_id"], row["type_before"]) == ("received", "41-20250731", "生存型")


def test_unknown_business(home, tmp_path):
    _, _, result = imported(home, tmp_path, [objection_row("YY-1", 77)])
    assert result.refused == [("YY-1", Refusal.UNKNOWN_BUSINESS)]
    assert status_of(home, "YY-1")["status"] == Status.REFUSED


def test_unknown_cycle(home, tmp_path):
    _, _, result = imported(home, tmp_path, [objection_row("YY-1", 1, 判定日期="2024-07-31")])
    assert result.refused == [("YY-1", Refusal.UNKNOWN_CYCLE)]


def test_late_after_thirty_days_of_publication(home, tmp_path):
    # published 1 August 2025: 30 days end on Sunday 31 August, so Monday 1 September is still in time
    rows = [objection_row("YY-1", 1, filed_on="2025-09-01"), objection_row("YY-2", 3, filed_on="2025-09-02")]
    _, _, result = imported(home, tmp_path, rows, day=dt.date(2025, 9, 3))
    assert result.filed == ["YY-1"]
    assert result.refused == [("YY-2", Refusal.LATE)]


def test_duplicate_while_the_first_is_open_but_not_after_it_is_closed(home, tmp_path):
    desk, _, result = imported(home, tmp_path, [objection_row("YY-1", 1), objection_row("YY-2", 1)])
    assert result.refused == [("YY-2", Refusal.DUPLICATE)]
    refuse(desk, "YY-1", Refusal.LATE, "王五", "材料不全")  # closed
    write_csv(tmp_path / "again.csv", [objection_row("YY-3", 1)])
    assert import_objections(desk, tmp_path / "again.csv", "王五").filed == ["YY-3"]


def test_importing_the_same_file_again_files_nothing_twice(home, tmp_path):
    desk, _, _ = imported(home, tmp_path, [objection_row("YY-1", 1)])
    again = import_objections(desk, tmp_path / "objection.csv", "王五")
    assert again.already == ["YY-1"] and not again.filed


def test_rows_breaking_the_rules_are_quarantined_and_gb18030_is_read(home, tmp_path):
    rows = [objection_row("YY-1", 1), objection_row("YY-2", 3, 提出日期="2025-13-45"), objection_row("", 4)]
    _, _, result = imported(home, tmp_path, rows, encoding="gb18030")
    assert result.filed == ["YY-1"]
    assert sorted(result.quarantine["rule"]) == ["date_format", "required"]
    assert set(result.quarantine["column"]) == {"提出日期", "异议编号"}
    assert PHONE not in result.quarantine_file.read_text(encoding="utf-8")


def test_the_phone_is_kept_masked_only(home, tmp_path):
    rows = [objection_row("YY-1", 1), objection_row("YY-2", 3, 提出日期="bad")]
    imported(home, tmp_path, rows)
    assert status_of(home, "YY-1")["phone_masked"] == "138****5678"
    for path in (home / "objections").rglob("*"):
        if path.is_file():
            assert PHONE.encode() not in path.read_bytes(), path


def test_accept_only_once_and_every_step_has_a_handler(home, tmp_path):
    desk, _, _ = imported(home, tmp_path, [objection_row("YY-1", 1)])
    with pytest.raises(StoreError, match="经办人"):
        accept(desk, "YY-1", " ")
    accept(desk, "YY-1", "王五")
    with pytest.raises(StoreError, match="状态"):
        accept(desk, "YY-1", "王五")
    with Store(home) as store:
        assert [(e["kind"], e["handler"]) for e in store.events("YY-1")] == [("filed", "王五"), ("accepted", "王五")]


def test_nothing_is_ever_deleted(home, tmp_path):
    imported(home, tmp_path, [objection_row("YY-1", 1)])
    con = sqlite3.connect(store_path(home))
    for table in ("events", "objections"):
        with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
            con.execute(f"DELETE FROM {table}")
    con.close()


def test_overdue_objections_are_listed_first(home, tmp_path):
    desk, clock, _ = imported(home, tmp_path, [objection_row("YY-1", 1), objection_row("YY-2", 3)])
    clock.day = dt.date(2025, 8, 13)
    accept(desk, "YY-2", "王五")  # accepted in time; YY-1 is left lying
    clock.day = dt.date(2025, 8, 25)
    rows = listing(desk)
    assert [(r["objection_no"], [d.value for d in late]) for r, late in rows] == [("YY-1", ["intake"]), ("YY-2", [])]


def _file_events(home, worker: int, count: int) -> None:
    with Store(home) as store:
        for i in range(count):
            with store.transaction():
                store.event("YY-1", "note", f"worker-{worker}", {"i": i})


def test_concurrent_writers_all_land(home, tmp_path):
    imported(home, tmp_path, [objection_row("YY-1", 1)])
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_file_events, args=(home, w, 40)) for w in range(4)]
    for w in workers:
        w.start()
    with Store(home) as reader:  # a reader while they write: WAL never blocks it
        assert reader.get("YY-1")["status"] == "received"
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    with Store(home) as store:
        notes = [e for e in store.events("YY-1") if e["kind"] == "note"]
        assert len(notes) == 160
        assert store.con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_single_objection_from_the_web_desk_takes_the_same_rules(home):
    desk, _ = desk_for(home)
    result = file_from_web(desk, objection_row("WEB-1", 3), "网上受理")
    assert result.filed == ["WEB-1"]
    bad = file_from_web(desk, objection_row("WEB-2", 3, 判定日期="31/07/2025"), "网上受理")
    assert not bad.filed and bad.quarantine["rule"].to_list() == ["date_format"]
    assert status_of(home, "WEB-1")["phone_masked"] == "138****5678"
