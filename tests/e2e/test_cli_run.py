"""``getihu run`` as a user meets it: refusals before anything starts, one-paragraph messages, exit codes."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import flows.cycle
from flows.cli import app
from flows.errors import EXIT_BUSY, EXIT_INPUT, EXIT_STORAGE, EXIT_UNEXPECTED, HomeBusy, InputError, WarehouseBusy
from flows.secret import SECRET_VARIABLE


@pytest.fixture
def home(tmp_path):
    (tmp_path / "inbox" / "41" / "2025").mkdir(parents=True)
    return tmp_path


def run(*args: str, secret: str | None = "a test key"):
    env = {SECRET_VARIABLE: secret} if secret is not None else {}
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        if secret is None:
            patch.delenv(SECRET_VARIABLE, raising=False)
        return runner.invoke(app, ["run", *args], env=env)


def test_a_run_without_the_secret_refuses_to_start(home):
    result = run("--province", "41", "--home", str(home), secret=None)
    assert result.exit_code == EXIT_INPUT
    assert "没有设置 GETIHU_SECRET" in result.output and "Traceback" not in result.output


def test_year_and_as_of_that_disagree_are_refused(home):
    result = run("--province", "41", "--year", "2025", "--as-of", "2024-07-31", "--home", str(home))
    assert result.exit_code == EXIT_INPUT
    assert "--year 2025 与 --as-of 2024-07-31 不一致" in result.output


def test_a_province_without_a_filed_standard_is_told_how_to_file_one(tmp_path):
    (tmp_path / "inbox" / "11" / "2025").mkdir(parents=True)
    result = run("--province", "11", "--year", "2025", "--home", str(tmp_path))
    assert result.exit_code == EXIT_INPUT
    assert "省份 11 没有备案的分型标准" in result.output
    assert "data/rulesets/11.toml" in result.output


def test_a_missing_inbox_is_named(tmp_path):
    result = run("--province", "41", "--year", "2025", "--home", str(tmp_path))
    assert result.exit_code == EXIT_INPUT
    assert str(tmp_path / "inbox" / "41" / "2025") in result.output


def test_a_bad_quarantine_threshold_is_refused(home):
    result = run("--province", "41", "--year", "2025", "--home", str(home), "--quarantine-threshold", "5")
    assert result.exit_code == EXIT_INPUT
    assert "应为 0 到 1 之间的比例" in result.output


def test_a_bad_quarantine_minimum_is_refused(home):
    result = run("--province", "41", "--year", "2025", "--home", str(home), "--quarantine-minimum", "-1")
    assert result.exit_code == EXIT_INPUT
    assert "--quarantine-minimum -1：应为 0 或更大的整数" in result.output


@pytest.mark.parametrize(
    ("error", "code", "shown"),
    [
        (InputError(Path("inbox/penalty.csv"), "不是 UTF-8 文本", line=3), EXIT_INPUT, "penalty.csv 第 3 行："),
        (HomeBusy("data/.lock：等待 1800 秒后仍被 getihu run 41-20250731 占用"), EXIT_BUSY, "仍被"),
        (WarehouseBusy("data/warehouse.duckdb: held open read-write"), EXIT_BUSY, "held open read-write"),
        (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "data/out/x.csv"), EXIT_STORAGE, "x.csv：磁盘空间已满"),
        # a write to an open file is refused without its name: the home it was writing under is named (issue 13)
        (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), EXIT_STORAGE, "（其中的文件）：磁盘空间已满（No space"),
        (ZeroDivisionError("division by zero"), EXIT_UNEXPECTED, "因意外错误停止（ZeroDivisionError"),
    ],
)
def test_every_failure_is_one_paragraph_with_its_exit_code_and_no_traceback(home, monkeypatch, error, code, shown):
    def failing_flow(**_):
        raise error

    monkeypatch.setattr(flows.cycle, "typing_cycle", failing_flow)
    result = run("--province", "41", "--year", "2025", "--home", str(home))
    assert result.exit_code == code
    assert shown in result.output and "Traceback" not in result.output
    if code == EXIT_UNEXPECTED:  # the details are kept for a developer, not shown
        log = home / "work" / "41" / "41-20250731" / "error.log"
        assert "Traceback" in log.read_text(encoding="utf-8") and str(log) in result.output


def test_an_unexpected_error_whose_details_cannot_be_kept_says_so_without_a_traceback(home, monkeypatch):
    def failing_flow(**_):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(flows.cycle, "typing_cycle", failing_flow)
    (home / "work").write_text("a file where the work folder should be", encoding="utf-8")
    result = run("--province", "41", "--year", "2025", "--home", str(home))
    assert result.exit_code == EXIT_UNEXPECTED
    assert "无法保存到" in result.output and "Traceback" not in result.output


def test_a_real_run_through_an_ephemeral_prefect_server_prints_the_summary_and_the_paths(real_run):
    home, done = real_run
    assert done.returncode == 0, done.stderr
    assert "开发用密钥" in done.stderr and "Traceback" not in done.stderr
    out = home / "out" / "41" / "41-20250731"
    for line in ("41-20250731", "合计", str(out / "submission.csv"), str(out / "report.html")):
        assert line in done.stdout
    assert (out / "manifest.json").is_file() and (home / "warehouse.duckdb").is_file()
