"""Issue 14, finding 5: the warehouse names regions, industries and codes; it tells yearly from extra cycles, keeps
``directory_latest`` and ``transitions`` on yearly cycles; an analyst's read-write client does not stop a run."""

import datetime as dt
import subprocess
import sys
import textwrap
from dataclasses import replace

import duckdb
import pytest

from flows.home import CHINA_TIME
from flows.stages.publish import publish
from schemas.outputs import RULE_LABELS
from schemas.vocabulary import CRITERIA_LABELS
from tests.support.stage_fixture import Fixture, write_cycle

DATES = [dt.date(2024, 7, 31), dt.date(2025, 3, 31), dt.date(2025, 7, 31), dt.date(2025, 9, 30)]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    home = tmp_path_factory.mktemp("kinds")
    for i, as_of in enumerate(DATES):
        cycle = write_cycle(home, replace(Fixture(), as_of=as_of))
        publish(cycle, clock=lambda i=i: dt.datetime(2025, 10, 1, i, tzinfo=CHINA_TIME))
    return cycle.warehouse


def query(warehouse, sql):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_cycles_say_yearly_or_extra(warehouse):
    assert query(warehouse, "SELECT cycle_id, cycle_kind FROM cycles ORDER BY as_of") == [
        ("41-20240731", "yearly"),
        ("41-20250331", "extra"),
        ("41-20250731", "yearly"),
        ("41-20250930", "extra"),
    ]


def test_directory_latest_is_the_latest_yearly_cycle_not_a_later_extra_one(warehouse):
    assert query(warehouse, "SELECT DISTINCT cycle_id FROM directory_latest") == [("41-20250731",)]


def test_transitions_compare_with_the_previous_yearly_cycle_skipping_extra_ones(warehouse):
    pairs = query(warehouse, "SELECT DISTINCT cycle_id, previous_cycle_id FROM transitions ORDER BY 1")
    assert pairs == [
        ("41-20250331", "41-20240731"),
        ("41-20250731", "41-20240731"),
        ("41-20250930", "41-20250731"),
    ]


def test_regions_and_industries_have_their_names(warehouse):
    (region,) = query(
        warehouse, "SELECT region_name, city_name, province_name FROM regions WHERE region_code = '410102'"
    )
    assert region == ("中原区", "郑州市", "河南省")
    assert query(warehouse, "SELECT section, section_name, division_name FROM industries WHERE division = '62'") == [
        ("H", "住宿和餐饮业", "餐饮业")
    ]


def test_directory_has_the_normalised_industry(warehouse):
    rows = query(warehouse, "SELECT DISTINCT industry_code, industry FROM directory WHERE industry_code IS NOT NULL")
    assert rows and all(industry is None or (industry[0].isalpha() and len(industry) == 3) for _, industry in rows)
    assert all(industry is None or industry[1:] in code for code, industry in rows)


def test_codes_give_every_criterion_reason_condition_and_quarantine_rule_in_chinese(warehouse):
    codes = {
        (kind, rid, code): label
        for kind, rid, code, label in query(warehouse, "SELECT kind, ruleset_id, code, label FROM codes")
    }
    for code, label in CRITERIA_LABELS.items():
        assert codes[("criterion", None, code)] == label
    for code, label in RULE_LABELS.items():
        assert codes[("quarantine_rule", None, code)] == label
    assert {("reason", None, "MIN_AGE"), ("reason", None, "NO_CONDITION")} <= set(codes)
    henan = {code for kind, rid, code in codes if kind == "condition" and rid == "HA"}
    assert {"成长A", "发展A"} <= henan
    assert codes[("requirement", "HA", "REQUIREMENT")] == "成立2年（含）以上"


ANALYST = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])  # read-write, as DBeaver and the DuckDB CLI open a file by default
    print("open", flush=True)
    sys.stdin.readline()
    print(con.execute("SELECT count(*) FROM cycles").fetchone()[0], flush=True)  # still its own (old) file
    con.close()
    """
)


def test_a_read_write_client_left_open_does_not_stop_the_run_which_publishes_and_warns(tmp_path, capsys):
    first = write_cycle(tmp_path, replace(Fixture(), as_of=DATES[0]))
    publish(first)
    session = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(first.warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert session.stdout.readline() == "open\n"
        second = write_cycle(tmp_path, replace(Fixture(), as_of=DATES[2]))
        publish(second)
        session.stdin.write("\n")
        session.stdin.flush()
        assert session.stdout.readline() == "1\n", "the client keeps the file it opened"
    finally:
        session.stdin.close()
        assert session.wait() == 0
    assert "以读写方式打开着数据仓库" in capsys.readouterr().err
    assert (second.out_dir / "submission.csv").is_file()
    assert query(second.warehouse, "SELECT count(*) FROM cycles") == [(2,)]
