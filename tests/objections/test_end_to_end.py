"""A whole objection through ``getihu objection``: filed, accepted, corrected, re-judged, decided 调整, replied;
then the cycle is run again on the same inputs and the amendment is still what directory_latest shows."""

from __future__ import annotations

import hashlib

import duckdb
from pypdf import PdfReader
from typer.testing import CliRunner

from flows.cli import app
from flows.objections.packages import verify_package
from flows.secret import SECRET_VARIABLE
from tests.objections.support import SECRET, objection_row, run_cycle, tax_correction_rows
from tests.support.inbox import resident_id, uscc, write_csv

PHONE = "13812345678"
CYCLE = "41-20250731"


def data_digests(folder):
    names = ("submission.csv", "submission.parquet", "public.csv", "quarantine.csv")
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names}


def test_a_whole_objection_and_a_rerun_of_the_cycle(home, tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_VARIABLE, SECRET.decode())
    runner = CliRunner()

    def getihu(*args: str) -> str:
        result = runner.invoke(app, ["objection", *args, "--home", str(home)])
        assert result.exit_code == 0, result.output
        return result.output

    objection = write_csv(tmp_path / "objection.csv", [objection_row("YY-2025-0001", 1)])
    correction = write_csv(tmp_path / "corrections" / "tax_payment.csv", tax_correction_rows())
    assert "待受理 1 件" in getihu("import", str(objection), "--handler", "王五")
    assert "已受理" in getihu("accept", "YY-2025-0001", "--handler", "王五")
    assert "金税确〔2025〕12号" in getihu("attach", "YY-2025-0001", str(correction), "--handler", "王五")
    shown = getihu("rejudge", "YY-2025-0001", "--handler", "王五")
    assert "生存型 → 发展型" in shown and "20000.00" in shown
    decided = getihu(
        "decide",
        "YY-2025-0001",
        "--decision",
        "调整",
        "--reasons",
        "税务部门确认上年度实缴税款2万元，符合发展A",
        "--handler",
        "王五",
    )
    assert "corrections-001" in decided
    replied = getihu("reply", "YY-2025-0001", "--handler", "王五")
    assert "reply-YY-2025-0001.html" in replied and "reply-YY-2025-0001.pdf" in replied

    letter = (home / "objections" / "YY-2025-0001" / "reply-YY-2025-0001.html").read_text(encoding="utf-8")
    for text in (
        "个体工商户分型异议答复书",
        "决定：调整",
        "由“生存型”调整为“发展型”",
        "20000.00",
        "60日",
        "6个月",
        "行政诉讼",
    ):
        assert text in letter
    assert "size: A4" in letter
    pdf = PdfReader(home / "objections" / "YY-2025-0001" / "reply-YY-2025-0001.pdf")
    assert "发展型" in "".join(page.extract_text() for page in pdf.pages)
    listed = getihu("list")
    assert "YY-2025-0001" in listed and "已答复" in listed

    folder = home / "out" / "41" / CYCLE
    before = data_digests(folder)
    run_cycle(home, home / "inbox" / "41" / "2025")  # the same inputs again
    assert data_digests(folder) == before
    assert (folder / "corrections-001" / "corrections.csv").is_file()  # carried into the rerun's folder
    report = (folder / "report.html").read_text(encoding="utf-8")  # the rerun says so
    assert "异议处理" in report and "本期已更正分型结果 1 户" in report and "调整 1 件" in report
    assert verify_package(folder / "corrections-001") == []  # same inputs, same publication time: same manifest
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute(
            "SELECT business_type, reasons, amended FROM directory_latest WHERE business_key = ?", [uscc(1)]
        ).fetchone()
        assert row == ("发展型", ["发展A"], True)
        moved = con.execute("SELECT count(*) FROM transitions").fetchone()[0]
        assert moved == 0  # the province's first cycle: nothing to compare with
        assert con.execute("SELECT count(*) FROM amendments").fetchone()[0] == 1
        assert con.execute("SELECT status FROM objections").fetchone()[0] == "replied"


def test_no_clear_phone_or_resident_id_anywhere_but_the_inbox(home, tmp_path, monkeypatch):
    test_a_whole_objection_and_a_rerun_of_the_cycle(home, tmp_path, monkeypatch)
    clear = [PHONE.encode()] + [resident_id(seq).encode() for seq in (1, 2, 3, 4)]
    for path in home.rglob("*"):
        if path.is_file() and "inbox" not in path.relative_to(home).parts:
            data = path.read_bytes()
            assert not [c for c in clear if c in data], path
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        for table in ("objections", "objection_events", "amendments"):
            text = con.execute(f"SELECT string_agg(CAST(t AS VARCHAR), '|') FROM {table} t").fetchone()[0]
            assert PHONE not in text and "5678" not in text.replace("138****5678", "")
