"""``getihu generate --years`` (issue 20) and the monitoring of what it makes: a province of 300 businesses over
2023-2025, each year typed by the cycle's stages (as ``getihu run`` runs them), then ``getihu monitor``."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.home import cycle_for
from flows.secret import DEVELOPMENT_SECRET
from flows.stages import execute
from schemas.monitoring import MONITORING_TABLES
from synth.businesses import ACTIVE
from synth.history import year_plans
from synth.world import Plan

YEARS = (2023, 2024, 2025)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("three-years")
    result = CliRunner().invoke(
        app,
        ["generate", "--province", "41", "--year", "2023", "--years", "3", "--businesses", "300", "--seed", "7",
         "--out", str(home / "inbox" / "41")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for year in YEARS:
        execute(cycle_for("41", None, year, home, None, None, DEVELOPMENT_SECRET.encode()))
    return home


def registers(home) -> dict[int, pl.DataFrame]:
    return {
        y: pl.read_csv(home / "inbox" / "41" / str(y) / "registration.csv", infer_schema=False).select(
            uscc="统一社会信用代码", status="登记状态", established="成立日期"
        )
        for y in YEARS
    }


def test_the_same_businesses_run_through_the_years(home):
    found = registers(home)
    sizes = [found[y].height for y in YEARS]
    assert sizes[0] < sizes[1] < sizes[2] == 300  # businesses are founded every year; 300 in the last register
    for earlier, later in itertools.pairwise(YEARS):
        kept = found[earlier].filter(pl.col("uscc").is_not_null())
        assert kept.join(found[later], on="uscc", how="anti").is_empty()  # nobody vanishes from the register
        same = kept.join(found[later], on="uscc", suffix="_later")
        assert (same["established"] == same["established_later"]).all()
        # closed stays closed; some who were 存续 are closed a year later, none come back
        was_closed = ~same["status"].is_in(ACTIVE)
        now_closed = ~same["status_later"].is_in(ACTIVE)
        assert now_closed.filter(was_closed).all()
        assert (now_closed & ~was_closed).sum() > 0


def test_closures_follow_the_truth_history(home):
    history = pl.read_parquet(home / "inbox" / "41" / "2025.truth" / "history.parquet")
    extracted = {p.year: p.extracted_on for p in year_plans(Plan("41", 2023, 300), 3)}
    found = registers(home)
    for year in YEARS:
        closed = history.filter(pl.col("closed_on") <= extracted[year])["business_key"]
        register = found[year].filter(pl.col("uscc").is_in(closed.implode()))
        assert register.height and not register["status"].is_in(ACTIVE).any()
        founded_later = history.filter(pl.col("established_on") > extracted[year])["business_key"]
        assert not found[year]["uscc"].is_in(founded_later.implode()).any()


def test_a_years_run_is_reproducible(tmp_path):
    from synth.history import generate_years

    plan = Plan("41", 2024, 300, seed=2)
    generate_years(plan, 2, tmp_path / "a")
    generate_years(plan, 2, tmp_path / "b")
    for path in sorted((tmp_path / "a").rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes(), path


def test_years_refuses_an_as_of_date():
    with pytest.raises(ValueError, match="不能同时给 --as-of"):
        year_plans(Plan("41", 2024, 300, as_of=dt.date(2024, 9, 30)), 2)


def test_monitoring_of_the_generated_province(home, tmp_path):
    result = CliRunner().invoke(app, ["monitor", "--province", "41", "--home", str(home), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert set(MONITORING_TABLES) <= tables
        per_cycle = con.execute(
            "SELECT cycle_id, sum(businesses) FROM monitoring_region_types GROUP BY ALL ORDER BY 1"
        ).fetchall()
        typed = con.execute("SELECT cycle_id, count(*) FROM directory GROUP BY ALL ORDER BY 1").fetchall()
        assert per_cycle == typed and len(typed) == 3
        pairs = con.execute(
            "SELECT previous_cycle_id, cycle_id, sum(businesses) FILTER (movement = '退出'), "
            "sum(businesses) FILTER (movement = '新增') FROM monitoring_transitions GROUP BY ALL ORDER BY 1"
        ).fetchall()
        assert [p[:2] for p in pairs] == [("41-20230731", "41-20240731"), ("41-20240731", "41-20250731")]
        assert all(new > 0 for *_, new in pairs)  # businesses founded in between
        survival = con.execute(
            "SELECT sum(businesses), sum(surviving), sum(closed), sum(absent) FROM monitoring_survival"
        ).fetchone()
        assert survival[0] == survival[1] + survival[2] + survival[3] and 0 < survival[2] < survival[0] / 2
        jobs = con.execute(
            "SELECT business_type, sum(insured) / sum(businesses) FROM monitoring_employment GROUP BY ALL"
        ).fetchall()
        per_business = dict(jobs)
        assert per_business["发展型"] > per_business["生存型"]  # the larger types absorb more jobs
        assert con.execute("SELECT count(*) FROM monitoring_candidates WHERE business_type <> '发展型'").fetchone() == (
            0,
        )
    finally:
        con.close()
    page = (tmp_path / "monitoring.html").read_text(encoding="utf-8")
    assert "2023年度 → 2024年度" in page and "2024年度 → 2025年度" in page
    # no personal data: no resident ID number, no operator's name
    operators = pl.read_csv(home / "inbox" / "41" / "2025" / "registration.csv", infer_schema=False)["经营者姓名"]
    files = [page] + [p.read_text(encoding="utf-8-sig") for p in tmp_path.glob("*.csv")]
    for text in files:
        assert not re.search(r"\b\d{17}[\dX]\b", text)
        assert not any(name in text for name in operators.drop_nulls().unique().to_list() if len(name) >= 2)


def test_generate_years_refuses_what_it_cannot_make(tmp_path):
    base = ["generate", "--province", "41", "--year", "2024", "--businesses", "300", "--out", str(tmp_path)]
    refused = CliRunner().invoke(app, [*base, "--years", "2", "--as-of", "2024-09-30"])
    assert refused.exit_code == 2 and "不能同时给 --as-of" in refused.output
    too_many = CliRunner().invoke(app, [*base, "--years", "11"])
    assert too_many.exit_code == 2 and "--years 须是 1 到 10 的整数" in too_many.output
    assert not any(tmp_path.iterdir())  # nothing written


def test_a_business_keeps_its_annual_report_habit(home):
    """The same report year is filed in every delivery; not filing one year makes not filing the next likelier."""

    def reports(year: int) -> pl.DataFrame:
        path = home / "inbox" / "41" / str(year) / "annual_report.csv"
        frame = pl.read_csv(path, infer_schema=False).select(uscc="统一社会信用代码", report_year="报告年度")
        return frame.drop_nulls("uscc").unique()

    found = registers(home)
    active = (
        found[2024]
        .filter(pl.col("status").is_in(ACTIVE))
        .join(found[2025].filter(pl.col("status").is_in(ACTIVE)), on="uscc", how="semi")
        .filter(pl.col("established") < "2022")
    )["uscc"]
    filed_2023 = {
        y: set(reports(y).filter(pl.col("report_year") == "2023")["uscc"]) & set(active) for y in (2024, 2025)
    }
    assert filed_2023[2024] and filed_2023[2024] <= filed_2023[2025]
    latest = reports(2025)
    did = {y: set(latest.filter(pl.col("report_year") == str(y))["uscc"]) & set(active) for y in (2022, 2023)}
    missed_2022 = set(active) - did[2022]
    missed_both = missed_2022 - did[2023]
    overall = 1 - len(did[2023]) / len(active)
    assert len(missed_both) / len(missed_2022) > 2 * overall
