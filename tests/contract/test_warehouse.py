"""The analysts' warehouse: tables, comments, cycles carried over, transitions, and sessions held open."""

import datetime as dt
import json
import re
import subprocess
import sys
import textwrap
from dataclasses import replace

import duckdb
import polars as pl
import pytest

from flows.errors import StageFileError
from flows.home import CHINA_TIME
from flows.stages.publish import publish
from flows.storage.name_index import INDEX_TABLES
from schemas.codes import resident_id_problem
from schemas.monitoring import MONITORING_TABLES
from schemas.vocabulary import MOVEMENTS, TYPE_RANK
from tests.support.stage_fixture import Business, Fixture, default_businesses, write_cycle

TABLES = {"directory", "features", "cycles", "quarantine", "linkage", "regions", "industries", "codes"}
TABLES |= set(MONITORING_TABLES)  # the monitoring figures, rebuilt at every publish (docs/monitoring.md)
TABLES |= set(INDEX_TABLES)  # the public search's name index, rebuilt at every publish (docs/web.md)
VIEWS = {"directory_latest", "transitions"}
CJK = re.compile(r"[\u4e00-\u9fff]")

EARLIER = Fixture(as_of=dt.date(2024, 7, 31), started_at="2024-08-01T02:00:00+08:00")
# 2025: three businesses change type, one is gone, one is new
CHANGED = Fixture().with_types(
    {1: ("不符合分型条件", ("SERIOUS",)), 2: ("发展型", ("发展A",)), 6: ("成长型", ("成长A",))}
)
LATER = replace(
    CHANGED,
    businesses=[b for b in CHANGED.businesses if b.n != 24]
    + [Business(n=30, region="410105", industry="H6210", business_type="生存型")],
)


def read_only(cycle):
    return duckdb.connect(str(cycle.warehouse), read_only=True)


@pytest.fixture
def two_cycles(tmp_path):
    first = write_cycle(tmp_path, EARLIER)
    publish(first, clock=lambda: dt.datetime(2024, 8, 1, 2, 5, tzinfo=CHINA_TIME))
    second = write_cycle(tmp_path, LATER)
    publish(second, clock=lambda: dt.datetime(2025, 8, 1, 2, 5, tzinfo=CHINA_TIME))
    return first, second


def test_every_table_and_view_and_every_column_has_a_chinese_comment(two_cycles):
    with read_only(two_cycles[1]) as con:
        tables = dict(con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall())
        views = dict(con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall())
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal"
        ).fetchall()
    assert set(tables) == TABLES
    assert set(views) == VIEWS
    for name, comment in {**tables, **views}.items():
        assert comment and CJK.search(comment), name
    assert {t for t, _, _ in columns} == TABLES | VIEWS
    uncommented = [(t, c) for t, c, comment in columns if not (comment and CJK.search(comment))]
    assert uncommented == []


def test_the_name_index_is_rebuilt_on_the_latest_yearly_cycle_at_every_publish(two_cycles):
    with read_only(two_cycles[1]) as con:
        indexed = con.execute("SELECT cycle_id, business_key, name FROM search_names ORDER BY doc").fetchall()
        latest = con.execute(
            "SELECT cycle_id, business_key, name FROM directory WHERE cycle_id = ? AND name <> '' "
            "ORDER BY name, uscc NULLS LAST, business_key",
            [two_cycles[1].cycle_id],
        ).fetchall()
        grams = con.execute("SELECT count(DISTINCT doc) FROM search_name_grams").fetchone()[0]
    assert indexed == latest and latest  # the later cycle's names only, in the list's order
    assert grams == sum(1 for _, _, name in latest if len(name) >= 2)


def test_directory_holds_both_cycles_and_directory_latest_only_the_latest(two_cycles):
    with read_only(two_cycles[1]) as con:
        per_cycle = con.execute("SELECT cycle_id, count(*) FROM directory GROUP BY ALL ORDER BY 1").fetchall()
        latest = con.execute("SELECT DISTINCT province, cycle_id FROM directory_latest").fetchall()
        columns = [r[0] for r in con.execute("DESCRIBE directory").fetchall()]
    assert per_cycle == [("41-20240731", 24), ("41-20250731", 24)]
    assert latest == [("41", "41-20250731")]
    assert columns[:3] == ["province", "cycle_id", "business_key"]


def test_transitions_compare_each_business_with_the_previous_cycle_of_its_province(two_cycles):
    with read_only(two_cycles[1]) as con:
        rows = con.sql("SELECT * FROM transitions ORDER BY business_key").pl()
    assert set(rows["cycle_id"]) == {"41-20250731"}, "the first cycle of a province has nothing to compare with"
    assert set(rows["previous_cycle_id"]) == {"41-20240731"}
    before = {b.key: b.business_type for b in EARLIER.businesses}
    after = {b.key: b.business_type for b in LATER.businesses}

    def expected(key):
        if key not in before:
            return "新增"
        if key not in after:
            return "退出"
        step = TYPE_RANK[after[key]] - TYPE_RANK[before[key]]
        return "上升" if step > 0 else "下降" if step < 0 else "不变"

    assert rows.height == len(before.keys() | after.keys())
    for row in rows.iter_rows(named=True):
        assert row["previous_type"] == before.get(row["business_key"])
        assert row["business_type"] == after.get(row["business_key"])
        assert row["movement"] == expected(row["business_key"]), row
    assert set(rows["movement"]) == set(MOVEMENTS)


def test_cycles_record_counts_checksums_and_run_times(two_cycles):
    second = two_cycles[1]
    manifest = json.loads((second.out_dir / "manifest.json").read_text(encoding="utf-8"))
    with read_only(second) as con:
        con.execute("SET TimeZone = 'Asia/Shanghai'")
        row = con.sql("SELECT * FROM cycles WHERE cycle_id = '41-20250731'").pl().row(0, named=True)
        registration_rows = con.execute(
            "SELECT stages[1].rows['registration'] FROM cycles WHERE cycle_id = '41-20250731'"
        ).fetchall()[0][0]
    counts = manifest["counts"]
    assert (row["survival"], row["growth"], row["development"], row["ineligible"]) == tuple(counts.values())
    assert row["businesses"] == sum(counts.values())
    assert (row["ruleset_id"], row["ruleset_version"], row["ruleset_sha256"]) == (
        "HA",
        "2025.1",
        manifest["ruleset"]["sha256"],
    )
    assert row["inputs"] == manifest["inputs"]
    assert row["outputs"] == manifest["files"]
    assert row["missing_sources"] == ["penalty", "patent"]
    assert row["quarantined"] == 4
    assert row["started_at"].isoformat() == "2025-08-01T02:00:00+08:00"
    assert row["published_at"].isoformat() == manifest["generated_at"] == "2025-08-01T02:05:00+08:00"
    assert [s["stage"] for s in row["stages"]] == ["ingest", "validate", "link", "features", "type"]
    assert registration_rows == 24


def test_features_quarantine_and_linkage_are_kept_per_cycle(two_cycles):
    with read_only(two_cycles[1]) as con:
        features = con.execute("SELECT cycle_id, count(*) FROM features GROUP BY ALL ORDER BY 1").fetchall()
        quarantine = con.execute("SELECT cycle_id, count(*) FROM quarantine GROUP BY ALL ORDER BY 1").fetchall()
        linkage = con.execute("SELECT cycle_id, count(*) FROM linkage GROUP BY ALL ORDER BY 1").fetchall()
        money = con.execute("SELECT typeof(tax_paid_prev_year) FROM features LIMIT 1").fetchall()
    assert features == [("41-20240731", 24), ("41-20250731", 24)]
    assert quarantine == [("41-20240731", 4), ("41-20250731", 4)]
    assert linkage == [("41-20240731", 10), ("41-20250731", 10)]
    assert money == [("DECIMAL(18,2)",)]


def test_rerunning_a_cycle_replaces_its_rows_and_keeps_the_others(two_cycles, tmp_path):
    second = write_cycle(tmp_path, LATER.with_types({3: ("发展型", ("发展D",))}))
    publish(second, clock=lambda: dt.datetime(2025, 8, 2, 9, 0, tzinfo=CHINA_TIME))
    with read_only(second) as con:
        per_cycle = con.execute("SELECT cycle_id, count(*) FROM directory GROUP BY ALL ORDER BY 1").fetchall()
        cycles = con.execute("SELECT cycle_id FROM cycles ORDER BY as_of").fetchall()
        third = con.execute(
            "SELECT business_type FROM directory WHERE cycle_id = '41-20250731' AND business_key = ?",
            [LATER.businesses[2].key],
        ).fetchall()
        published = con.execute("SELECT count(*) FROM cycles WHERE published_at > '2025-08-02'").fetchall()
    assert per_cycle == [("41-20240731", 24), ("41-20250731", 24)]
    assert cycles == [("41-20240731",), ("41-20250731",)]
    assert third == [("发展型",)]
    assert published == [(1,)]


def test_a_table_written_with_other_columns_is_rebuilt_by_name_with_nulls_for_the_earlier_cycles(tmp_path):
    first = write_cycle(tmp_path, EARLIER)
    publish(first)
    with duckdb.connect(str(first.warehouse)) as con:  # a warehouse from before valid_patents existed
        con.execute("ALTER TABLE features DROP COLUMN valid_patents")
        con.execute("ALTER TABLE features ADD COLUMN retired INTEGER DEFAULT 7")
        con.execute("COMMENT ON COLUMN features.retired IS '旧版特征'")
    publish(write_cycle(tmp_path, LATER))
    with read_only(first) as con:
        per_cycle = con.execute(
            "SELECT cycle_id, count(*), count(valid_patents), count(retired) FROM features GROUP BY ALL ORDER BY 1"
        ).fetchall()
        comment = con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'features' AND column_name = 'valid_patents'"
        ).fetchall()
    assert per_cycle == [("41-20240731", 24, 0, 24), ("41-20250731", 24, 24, 0)]
    assert comment == [("判定日期有效专利数（本户或经营者持有）",)]


def test_republishing_a_cycle_again_and_again_does_not_grow_the_warehouse(tmp_path):
    cycle = write_cycle(tmp_path)
    sizes = []
    for _ in range(6):
        publish(cycle)
        sizes.append(cycle.warehouse.stat().st_size)
    assert sizes[-1] <= sizes[1]


def test_cycles_of_other_provinces_are_carried_over_and_compared_only_within_their_province(two_cycles, tmp_path):
    heilongjiang = Fixture(
        province="23",
        businesses=[replace(b, region="230102") for b in default_businesses()[:12]],
    )
    publish(write_cycle(tmp_path, heilongjiang))
    with read_only(two_cycles[1]) as con:
        cycles = con.execute("SELECT province, cycle_id FROM cycles ORDER BY province, as_of").fetchall()
        latest = con.execute("SELECT province, count(*) FROM directory_latest GROUP BY ALL ORDER BY 1").fetchall()
        compared = con.execute("SELECT DISTINCT province, cycle_id FROM transitions ORDER BY 1").fetchall()
    assert cycles == [("23", "23-20250731"), ("41", "41-20240731"), ("41", "41-20250731")]
    assert latest == [("23", 12), ("41", 24)]
    assert compared == [("41", "41-20250731")]


def test_no_column_of_any_table_holds_a_resident_id_in_clear(two_cycles):
    with read_only(two_cycles[1]) as con:
        columns = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal").fetchall()
        texts = [
            text
            for table, column in columns
            for (text,) in con.execute(f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM {table}').fetchall()
            if text
        ]
    assert len(texts) > 500
    numbers = pl.DataFrame({"id": texts}).select(pl.col("id").str.extract_all(r"[0-9]{17}[0-9X]")).explode("id")
    clear_ids = numbers.drop_nulls().filter(resident_id_problem(pl.col("id")).is_null())
    assert clear_ids.height == 0


def test_a_personal_id_in_clear_in_the_quarantine_is_refused_without_printing_it(tmp_path):
    cycle = write_cycle(tmp_path)
    quarantine = pl.read_parquet(cycle.work_dir / "quarantine.parquet")
    clear = quarantine.with_columns(
        value=pl.when(pl.col("column") == "个人身份证件号码").then(pl.lit("11010519491231002X")).otherwise("value")
    )
    clear.write_parquet(cycle.work_dir / "quarantine.parquet")
    with pytest.raises(StageFileError) as caught:
        publish(cycle)
    assert "personal ID in clear" in str(caught.value)
    assert "11010519491231002X" not in str(caught.value)
    assert not cycle.warehouse.exists()


def test_an_empty_personal_value_in_the_quarantine_is_published(tmp_path):
    # a `required` breach of a personal column has no value to hide
    cycle = write_cycle(tmp_path)
    quarantine = pl.read_parquet(cycle.work_dir / "quarantine.parquet")
    empty = quarantine.with_columns(
        value=pl.when(pl.col("column") == "个人身份证件号码").then(pl.lit(None)).otherwise("value"),
        rule=pl.when(pl.col("column") == "个人身份证件号码").then(pl.lit("required")).otherwise("rule"),
    )
    assert empty.filter(pl.col("column") == "个人身份证件号码").height > 0
    empty.write_parquet(cycle.work_dir / "quarantine.parquet")
    publish(cycle)
    assert cycle.warehouse.exists()


# --- an analyst holding the warehouse open -----------------------------------------------------------------

ANALYST = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    def look():
        cycles = con.execute("SELECT count(*) FROM cycles").fetchall()[0][0]
        rows = con.execute("SELECT count(*), count(DISTINCT business_type) FROM directory").fetchall()[0]
        print(cycles, *rows, flush=True)
    look()
    sys.stdin.readline()  # the test publishes meanwhile
    look()
    """
)


def test_an_analyst_session_in_another_process_keeps_reading_the_old_state_and_new_sessions_see_the_new(tmp_path):
    first = write_cycle(tmp_path, EARLIER)
    publish(first)
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(first.warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert analyst.stdout.readline().split() == ["1", "24", "4"]
        publish(write_cycle(tmp_path, LATER))  # DuckDB's lock on the open file does not stop the run
        out, _ = analyst.communicate("go\n")
    finally:
        analyst.kill()
    assert analyst.returncode == 0
    assert out.split() == ["1", "24", "4"], "the open session still reads the state it opened, unbroken"
    newcomer = subprocess.run(
        [sys.executable, "-c", ANALYST, str(first.warehouse)], input="\n", capture_output=True, text=True, check=True
    )
    assert newcomer.stdout.split()[:2] == ["2", "48"]


def test_an_analyst_connection_in_the_same_process_stays_on_the_old_state_until_every_connection_closes(tmp_path):
    first = write_cycle(tmp_path, EARLIER)
    publish(first)
    analyst = read_only(first)
    publish(write_cycle(tmp_path, LATER))
    assert analyst.execute("SELECT count(*) FROM cycles").fetchall() == [(1,)]
    assert analyst.execute("SELECT count(*) FROM directory").fetchall() == [(24,)]
    # DuckDB reuses the open database of the same path within a process: a second connection shares it
    with read_only(first) as again:
        assert again.execute("SELECT count(*) FROM cycles").fetchall() == [(1,)]
    analyst.close()
    with read_only(first) as fresh:
        assert fresh.execute("SELECT count(*) FROM cycles").fetchall() == [(2,)]


CRASHED_WRITER = textwrap.dedent(
    """
    import os, signal, sys, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("PRAGMA disable_checkpoint_on_shutdown")
    con.execute("SET checkpoint_threshold = '1GB'")
    con.execute("UPDATE cycles SET ruleset_file = 'edited.toml'")
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_write_ahead_log_left_by_a_killed_read_write_client_is_merged_before_the_swap(tmp_path):
    first = write_cycle(tmp_path, EARLIER)
    publish(first)
    subprocess.run([sys.executable, "-c", CRASHED_WRITER, str(first.warehouse)], check=False)
    wal = first.warehouse.with_name("warehouse.duckdb.wal")
    assert wal.exists()
    publish(write_cycle(tmp_path, LATER))
    assert not wal.exists(), "a WAL left beside the new file would be replayed against it"
    with read_only(first) as con:
        assert con.execute("SELECT cycle_id, ruleset_file FROM cycles ORDER BY as_of").fetchall() == [
            ("41-20240731", "edited.toml"),
            ("41-20250731", "41.toml"),
        ]


@pytest.mark.parametrize(
    ("as_of", "report_year", "kind"), [(dt.date(2025, 7, 31), 2024, "yearly"), (dt.date(2026, 2, 28), 2024, "extra")]
)
def test_the_cycle_names_its_report_year_and_kind_and_counts_apart_the_unestablished_and_unmatchable(
    tmp_path, as_of, report_year, kind
):
    """rules.md v2 Terms, outputs.md v2: R and cycle_kind in the manifest, the cycles row and the report; businesses
    established after D and unmatchable ones counted apart (deliveries.md items 9–11)."""
    fixture = replace(Fixture(as_of=as_of).with_types({5: ("不符合分型条件", ("UNMATCHABLE",))}), not_yet_established=3)
    cycle = write_cycle(tmp_path, fixture)
    publish(cycle, clock=lambda: dt.datetime(2026, 3, 1, 2, 5, tzinfo=CHINA_TIME))
    manifest = json.loads((cycle.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["report_year"], manifest["cycle_kind"]) == (report_year, kind)
    with read_only(cycle) as con:
        row = con.sql("SELECT * FROM cycles").pl().row(0, named=True)
        comments = dict(
            con.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'cycles' AND column_name IN "
                "('report_year', 'cycle_kind', 'not_yet_established', 'unmatchable')"
            ).fetchall()
        )
    assert (row["report_year"], row["cycle_kind"]) == (report_year, kind)
    assert (row["not_yet_established"], row["unmatchable"]) == (3, 1)
    assert row["businesses"] == len(fixture.businesses)  # the unestablished are not among them
    assert len(comments) == 4 and all(comments.values())
    report = (cycle.out_dir / "report.html").read_text(encoding="utf-8")
    assert f"报告年度 {report_year}" in report
    assert "判定日期后成立" in report and "无法匹配年报" in report
