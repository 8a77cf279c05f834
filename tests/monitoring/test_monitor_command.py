"""``getihu monitor`` (issue 20): its contract on published fixture cycles — two yearly cycles and an extra one."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.stages.publish import publish
from schemas.monitoring import COLUMN_LABELS, MONITORING_TABLES
from tests.support.stage_fixture import Fixture, write_cycle


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("monitor")
    fixture = Fixture()
    first = fixture.businesses[0].n
    publish(write_cycle(home, replace(fixture, as_of=dt.date(2024, 7, 31))))
    grown = fixture.with_types({first: ("发展型", ("发展A",))})
    publish(write_cycle(home, replace(grown, as_of=dt.date(2025, 7, 31))))
    publish(write_cycle(home, replace(fixture, as_of=dt.date(2025, 9, 30))))  # an extra cycle after it
    return home


def invoke(*args):
    return CliRunner().invoke(app, ["monitor", *args], terminal_width=200)


def test_monitor_writes_the_page_and_every_figure(home, tmp_path):
    result = invoke("--province", "41", "--home", str(home), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "2 个年度周期，1 个临时周期" in result.output
    page = (tmp_path / "monitoring.html").read_text(encoding="utf-8")
    for table in MONITORING_TABLES:
        stem = table.removeprefix("monitoring_")
        assert (tmp_path / f"{stem}.xlsx").stat().st_size > 0
        assert (tmp_path / f"{stem}.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    # the extra cycle is listed, labelled, and is no base of the year-on-year figures
    assert "临时 2025-09-30" in page and "2024年度 → 2025年度" in page
    assert "<script" not in page and not re.search(r"(src|href)=\"https?:", page)  # works offline
    kinds = pl.read_csv(tmp_path / "employment.csv").select("周期编号", "周期类型").unique().sort("周期编号").rows()
    assert kinds == [("41-20240731", "年度分型"), ("41-20250731", "年度分型"), ("41-20250930", "临时分型")]
    transitions = pl.read_csv(tmp_path / "transitions.csv")
    assert transitions["周期编号"].unique().to_list() == ["41-20250731"]
    survival = pl.read_csv(tmp_path / "survival.csv")
    assert survival["周期编号"].unique().to_list() == ["41-20240731"]
    assert survival["下一年度周期编号"].unique().to_list() == ["41-20250731"]


def test_the_same_warehouse_gives_the_same_bytes(home, tmp_path):
    invoke("--province", "41", "--home", str(home), "--out", str(tmp_path / "a"))
    invoke("--province", "41", "--home", str(home), "--out", str(tmp_path / "b"))
    for path in sorted((tmp_path / "a").iterdir()):
        if path.suffix != ".xlsx":  # xlsx zips carry their own write time
            assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_the_warehouse_holds_the_figures_with_chinese_comments(home):
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        comments = dict(
            con.execute(
                "SELECT table_name, comment FROM duckdb_tables() WHERE table_name LIKE 'monitoring_%'"
            ).fetchall()
        )
        assert set(comments) == set(MONITORING_TABLES) and all(c.startswith("监测分析") for c in comments.values())
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE table_name LIKE 'monitoring_%'"
        ).fetchall()
        assert all(comment == COLUMN_LABELS[column] for _, column, comment in columns)
        kinds = con.execute("SELECT DISTINCT cycle_id, cycle_kind FROM monitoring_region_types ORDER BY 1").fetchall()
        assert kinds == [("41-20240731", "yearly"), ("41-20250731", "yearly"), ("41-20250930", "extra")]
        assert con.execute("SELECT DISTINCT cycle_id FROM monitoring_transitions").fetchall() == [("41-20250731",)]
    finally:
        con.close()


def test_a_province_without_cycles_is_told_so(home, tmp_path):
    result = invoke("--province", "23", "--home", str(home), "--out", str(tmp_path))
    assert result.exit_code == 1 and "没有省份 23 的分型周期" in result.output
    assert not (tmp_path / "monitoring.html").exists()


def test_a_home_without_warehouse_is_told_so(tmp_path):
    result = invoke("--province", "41", "--home", str(tmp_path))
    assert result.exit_code == 1 and "getihu monitor" in result.output
