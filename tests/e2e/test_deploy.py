"""The deployments ``make serve`` serves (the yearly cycle on its schedule, reruns on demand), the run form they
show in the Prefect UI, the names and artifacts of their runs, and telemetry off (issue 14, finding 4)."""

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cycle import PARAMETER_HELP, PROVINCE_FLOWS, deployments, run_name, typing_cycle
from flows.home import now_in_china


def by_name(home: Path) -> dict:
    return {d.name: d for d in deployments(["23", "41"], home)}


def test_each_province_has_a_yearly_and_a_rerun_deployment_of_the_cycle_flow(tmp_path):
    made = by_name(tmp_path)
    assert sorted(made) == ["rerun-23", "rerun-41", "yearly-23", "yearly-41"]
    assert {d.flow_name for d in made.values()} == {"getihu-cycle"}
    assert made["yearly-41"].parameters == {"home": str(tmp_path)}
    assert made["yearly-41"].entrypoint.endswith("flows/cycle.py:typing_cycle_41")
    assert made["rerun-23"].entrypoint.endswith("flows/cycle.py:typing_cycle_23")


def test_the_yearly_run_is_1_august_at_2_in_the_morning_in_china_and_reruns_have_no_schedule(tmp_path):
    made = by_name(tmp_path)
    (yearly,) = made["yearly-41"].schedules
    assert (yearly.schedule.cron, yearly.schedule.timezone) == ("0 2 1 8 *", "Asia/Shanghai")
    assert not made["rerun-41"].schedules


def test_a_per_province_deployment_has_no_province_field_and_every_field_is_described_in_chinese(tmp_path):
    for deployment in by_name(tmp_path).values():
        properties = deployment._parameter_openapi_schema.model_dump()["properties"]
        assert "province" not in properties
        assert set(properties) == set(PARAMETER_HELP) - {"province"}
        for name, field in properties.items():
            assert field["description"] == PARAMETER_HELP[name]
        assert "省份" in deployment.description
    terminal = typing_cycle.parameters.model_dump()["properties"]
    assert terminal["province"]["description"].startswith("省份：") and "province" in typing_cycle.parameters.required
    assert terminal["as_of"]["default"] is None
    # left empty, the limits come from inbox.toml per source, else 5% and 20 rows (flows.stages.validate)
    assert terminal["quarantine_threshold"]["default"] is None and terminal["quarantine_minimum"]["default"] is None


def test_a_run_is_named_by_its_cycle_id_and_without_as_of_defaults_like_the_cli():
    this_year = now_in_china().year
    assert run_name("41", {}) == f"41-{this_year}0731"
    assert run_name("41", {"year": 2025}) == "41-20250731"
    assert run_name("41", {"as_of": "2025-09-30"}) == "41-20250930"
    assert run_name("41", {"as_of": dt.date(2025, 9, 30), "draft": True}) == "41-20250930-draft"
    assert "None" not in run_name("41", {"as_of": None, "year": None})
    assert run_name("41", {"as_of": "not a date"}).startswith("41-")


def test_the_province_flow_fixes_the_province():
    assert set(PROVINCE_FLOWS) >= {"23", "41"}
    assert "province" not in PROVINCE_FLOWS["41"].parameters.model_dump()["properties"]


def test_telemetry_is_off_when_the_flows_are_imported():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "DO_NOT_TRACK"}
    code = (
        "import flows.cycle, os\n"
        "from prefect.settings import get_current_settings\n"
        "from prefect._internal.analytics.enabled import is_telemetry_enabled\n"
        "s = get_current_settings()\n"
        "print(s.server.analytics_enabled, s.cloud.enable_orchestration_telemetry, is_telemetry_enabled())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split() == ["False", "False", "False"]


def test_make_serve_turns_telemetry_off_and_its_log_is_ignored():
    root = Path(__file__).resolve().parents[2]
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    assert "PREFECT_SERVER_ANALYTICS_ENABLED=false" in makefile and "DO_NOT_TRACK=1" in makefile
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "data/prefect-server.log"], cwd=root, capture_output=True, check=False
    )
    assert ignored.returncode == 0


@pytest.fixture(scope="module")
def prefect_database(real_run):
    """The database of the ephemeral Prefect server the session's real ``getihu run`` used (no server of our own)."""
    home, done = real_run
    assert done.returncode == 0, done.stderr
    (database,) = (home / "work" / "prefect").glob("*.db")
    with sqlite3.connect(database) as con:
        yield con


def test_the_real_run_is_named_by_its_cycle_id(prefect_database):
    names = [name for (name,) in prefect_database.execute("SELECT name FROM flow_run")]
    assert names == ["41-20250731"]


def test_the_real_run_leaves_a_markdown_artifact_with_counts_and_paths(prefect_database, real_run):
    home, _ = real_run
    rows = prefect_database.execute("SELECT key, type, data FROM artifact").fetchall()
    assert [(key, kind) for key, kind, _ in rows] == [("getihu-41-20250731", "markdown")]
    markdown = json.loads(rows[0][2]) if rows[0][2].startswith('"') else rows[0][2]
    out = (home / "out" / "41" / "41-20250731").resolve()
    for text in ("| 发展型 |", "| 合计 |", str(out / "report.html"), str(out / "submission.csv")):
        assert text in markdown
