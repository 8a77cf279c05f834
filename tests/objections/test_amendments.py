"""Decisions, amendments and corrections packages: the published cycle folder never changes."""

from __future__ import annotations

import hashlib
import json

import duckdb
import pytest
from rich.console import Console

from flows.objections.decisions import decide
from flows.objections.desk import accept, attach, import_objections, run_rejudgment
from flows.objections.packages import verify_package
from flows.objections.store import Store, StoreError
from flows.query import business_record, look_up
from schemas.objections import Decision
from tests.objections.support import desk_for, objection_row, tax_correction_rows
from tests.support.inbox import uscc, write_csv

CYCLE = "41-20250731"


def digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def accepted(home, tmp_path, rows):
    desk, clock = desk_for(home)
    write_csv(tmp_path / "objection.csv", rows)
    import_objections(desk, tmp_path / "objection.csv", "王五")
    for row in rows:
        accept(desk, row["异议编号"], "王五")
    return desk, clock


def test_an_amendment_leaves_the_published_files_byte_identical_and_its_package_verifies(home, tmp_path):
    folder = home / "out" / "41" / CYCLE
    published = digests(folder)
    desk, _ = accepted(home, tmp_path, [objection_row("YY-1", 1)])
    attach(desk, "YY-1", [write_csv(tmp_path / "in" / "tax_payment.csv", tax_correction_rows())], "王五")
    run_rejudgment(desk, "YY-1", "王五")
    assert decide(desk, "YY-1", Decision.ADJUST, "税务部门确认上年度实缴税款2万元", "王五") == "corrections-001"
    assert digests(folder) == published
    package = folder / "corrections-001"
    assert verify_package(package) == []
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["cycle_id"] == CYCLE and manifest["counts"] == {"发展型": 1} and manifest["objections"] == ["YY-1"]
    assert manifest["corrects"]["manifest_sha256"] == published["manifest.json"]
    lines = (package / "corrections.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith(",更正依据") and lines[0].startswith("统一社会信用代码,注册号,名称")
    assert lines[1].split(",")[-5:] == ["发展型", "发展A", "2025-07-31", "HA-2024.1", "YY-1"]
    (package / "corrections.csv").write_text("\n".join(lines[:1]) + "\n", encoding="utf-8")
    assert verify_package(package)  # tampered: no longer verifies


def test_the_warehouse_shows_the_amended_type_and_keeps_the_published_one(home, tmp_path):
    desk, _ = accepted(home, tmp_path, [objection_row("YY-1", 1)])
    attach(desk, "YY-1", [write_csv(tmp_path / "in" / "tax_payment.csv", tax_correction_rows())], "王五")
    run_rejudgment(desk, "YY-1", "王五")
    decide(desk, "YY-1", Decision.ADJUST, "税务部门确认上年度实缴税款2万元", "王五")
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        key = uscc(1)
        latest = con.execute(
            "SELECT business_type, reasons, amended FROM directory_latest WHERE business_key = ?", [key]
        )
        assert latest.fetchone() == ("发展型", ["发展A"], True)
        published = con.execute("SELECT business_type, amended FROM directory WHERE business_key = ?", [key])
        assert published.fetchone() == ("生存型", True)
        assert con.execute("SELECT count(*) FROM directory WHERE amended").fetchone()[0] == 1
        amendment = con.execute("SELECT type_before, type_after, objection_no, package FROM amendments").fetchall()
        assert amendment == [("生存型", "发展型", "YY-1", "corrections-001")]
        kinds = [k for (k,) in con.execute("SELECT kind FROM objection_events ORDER BY event_id").fetchall()]
        assert kinds == ["filed", "accepted", "attached", "rejudged", "decided", "amended"]
        columns = {
            c
            for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name='objections'").fetchall()
        }
        assert "phone_masked" not in columns
        uncommented = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE comment IS NULL AND table_name IN "
            "('objections', 'objection_events', 'amendments', 'directory', 'directory_latest')"
        ).fetchall()
        assert uncommented == []


def test_the_decision_follows_the_rejudgment_not_the_claim(home, tmp_path):
    desk, _ = accepted(home, tmp_path, [objection_row("YY-1", 1), objection_row("YY-3", 3, 主张分型="发展型")])
    run_rejudgment(desk, "YY-3", "王五")  # no correction: still 成长型
    with pytest.raises(StoreError, match="维持"):
        decide(desk, "YY-3", Decision.ADJUST, "申诉人主张发展型", "王五")
    assert decide(desk, "YY-3", Decision.MAINTAIN, "经重新判定，仍为成长型", "王五") is None
    with pytest.raises(StoreError, match="尚未重新判定"):
        decide(desk, "YY-1", Decision.MAINTAIN, "理由", "王五")
    run_rejudgment(desk, "YY-1", "王五")
    attach(desk, "YY-1", [write_csv(tmp_path / "in" / "tax_payment.csv", tax_correction_rows())], "王五")
    with pytest.raises(StoreError, match="重新判定后再决定"):
        decide(desk, "YY-1", Decision.MAINTAIN, "理由", "王五")
    run_rejudgment(desk, "YY-1", "王五")
    with pytest.raises(StoreError, match="调整"):
        decide(desk, "YY-1", Decision.MAINTAIN, "理由", "王五")
    with Store(home) as store:
        assert store.get("YY-3")["decision"] == "维持" and store.amendments() == []


def test_query_shows_the_amended_type_and_its_history(home, tmp_path):
    desk, _ = accepted(home, tmp_path, [objection_row("YY-1", 1)])
    attach(desk, "YY-1", [write_csv(tmp_path / "in" / "tax_payment.csv", tax_correction_rows())], "王五")
    run_rejudgment(desk, "YY-1", "王五")
    decide(desk, "YY-1", Decision.ADJUST, "税务部门确认上年度实缴税款2万元", "王五")
    lookup = look_up(home / "warehouse.duckdb", uscc(1))
    assert lookup.history["business_type"].to_list() == ["发展型"]
    assert lookup.amendments.select("type_before", "type_after", "objection_no").rows() == [
        ("生存型", "发展型", "YY-1")
    ]
    console = Console(width=200, record=True)
    console.print(business_record(lookup))
    text = console.export_text()
    assert "分型更正" in text and "corrections-001" in text
    untouched = look_up(home / "warehouse.duckdb", uscc(3))
    assert untouched.history["business_type"].to_list() == ["成长型"] and untouched.amendments.is_empty()
