"""``getihu classify`` and the deployments: messages for people, exit codes, schedules."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from flows.classification.flow import REVIEW_CRON, ROUND_CRON, classification_deployments
from flows.cli import app

RUNNER = CliRunner()


def test_classify_needs_province_and_year(tmp_path, monkeypatch):
    monkeypatch.setenv("GETIHU_SECRET", "test-secret-cli-0123456789abcdef")
    result = RUNNER.invoke(app, ["classify", "--home", str(tmp_path)])
    assert result.exit_code == 2 and "--province" in result.output


def test_classify_without_the_years_typing_cycle_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("GETIHU_SECRET", "test-secret-cli-0123456789abcdef")
    result = RUNNER.invoke(app, ["classify", "--province", "41", "--year", "2025", "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "getihu run --province 41 --year 2025" in result.output
    result = RUNNER.invoke(app, ["classify", "review", "--province", "41", "--year", "2026", "--home", str(tmp_path)])
    assert result.exit_code == 2 and "2026" in result.output


def test_a_broken_standard_stops_the_step_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GETIHU_SECRET", "test-secret-cli-0123456789abcdef")
    (tmp_path / "std").mkdir()
    (tmp_path / "std" / "41.toml").write_text('id = "X"\n', encoding="utf-8")
    args = ["classify", "--province", "41", "--year", "2025", "--home", str(tmp_path), "--standards"]
    result = RUNNER.invoke(app, [*args, str(tmp_path / "std")])
    assert result.exit_code == 2 and "41.toml" in result.output


def test_deployments_round_on_16_august_review_after_the_cycle():
    made = classification_deployments(["41", "23"], Path("/tmp/home"))
    assert [d.name for d in made] == ["mtyx-round-41", "mtyx-review-41", "mtyx-round-23", "mtyx-review-23"]
    assert ROUND_CRON == "0 2 16 8 *" and REVIEW_CRON == "0 2 8 8 *"
    assert made[0].parameters == {"home": "/tmp/home"}  # the province is fixed by the flow (test_deployments.py)
