"""``getihu check`` (issue 14, finding 7): an inbox validated by the run's own ingest and validate, nothing typed or
published — the home's out/, work/ and warehouse are left as they were."""

from __future__ import annotations

import hashlib

import polars as pl
from typer.testing import CliRunner

from flows.cli import app
from tests.support.inbox import csv_bytes, registration_row, valid_row, write_csv


def inbox_of(home, registration_rows):
    inbox = home / "inbox" / "41" / "2025"
    write_csv(inbox / "registration.csv", registration_rows)
    write_csv(inbox / "serious_list.csv", [valid_row("serious_list", 1)])
    (inbox / "说明.txt").write_text("交接说明\n", encoding="utf-8")
    return inbox


def check(home, *extra):
    args = ["check", "--province", "41", "--year", "2025", "--home", str(home), *extra]
    return CliRunner().invoke(app, args, env={"GETIHU_SECRET": "a test key", "COLUMNS": "200"})


def state_of(home):
    """Every file outside the inbox and drafts/ with its checksum: what a check must not change."""
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file() and p.relative_to(home).parts[0] not in ("inbox", "drafts")
    }


def test_check_names_sources_unrecognised_files_and_the_would_be_quarantine_and_touches_nothing_published(tmp_path):
    rows = [registration_row(i) for i in range(1, 4)]
    rows[1]["成立日期"] = "2015-02-30"
    inbox_of(tmp_path, rows)
    (tmp_path / "out" / "41" / "41-20240731").mkdir(parents=True)
    (tmp_path / "out" / "41" / "41-20240731" / "submission.csv").write_text("earlier\n", encoding="utf-8")
    (tmp_path / "warehouse.duckdb").write_bytes(b"an earlier warehouse")
    (tmp_path / "work" / "41").mkdir(parents=True)
    (tmp_path / "work" / "41" / "raw.duckdb").write_bytes(b"an earlier raw layer")
    before = state_of(tmp_path)

    result = check(tmp_path)

    assert result.exit_code == 0, result.output
    out = result.output
    assert "registration.csv" in out and "登记注册信息（registration）" in out
    assert "serious_list.csv" in out and "严重违法失信名单（serious_list）" in out
    assert "未识别的文件 1 个" in out and "说明.txt" in out
    assert "date_format" in out and "不是存在的日期" in out  # the rule with its Chinese meaning
    assert "检查通过" in out
    scratch = tmp_path / "drafts" / "check" / "41-20250731"
    quarantine = pl.read_csv(scratch / "quarantine.csv")
    assert quarantine.select("file", "line", "rule").rows() == [("registration.csv", 3, "date_format")]
    assert (scratch / "quarantine.xlsx").is_file()
    assert state_of(tmp_path) == before  # out/, work/ and the warehouse as they were
    assert not (tmp_path / "out" / "41" / "41-20250731").exists()


def test_check_exits_2_when_the_threshold_would_stop_the_run_and_still_writes_the_quarantine(tmp_path):
    rows = [registration_row(i) for i in range(1, 31)]
    for row in rows[:25]:
        row["成立日期"] = "2015-02-30"
    inbox_of(tmp_path, rows)
    out = tmp_path / "elsewhere"
    result = check(tmp_path, "--out", str(out))
    assert result.exit_code == 2
    assert "正式运行会停止" in result.output and "登记注册信息（registration）" in result.output
    assert pl.read_csv(out / "quarantine.csv").height == 25
    assert not (tmp_path / "drafts").exists() and not (tmp_path / "work").exists()


def test_check_exits_2_naming_a_file_that_cannot_be_read(tmp_path):
    inbox = inbox_of(tmp_path, [registration_row(1)])
    (inbox / "registration.csv").write_bytes(csv_bytes([registration_row(1)]).replace(b",", b"\t"))
    result = check(tmp_path)
    assert result.exit_code == 2
    assert "registration.csv" in result.output and "Traceback" not in result.output
