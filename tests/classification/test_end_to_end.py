"""End to end on a generated province over four years: the round of year 1, reviews with cancellations and
extensions, the round of year 4 seeing the expiries and the ban — checked against the generator's planted truth."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.classification.commands import run_review, run_round
from flows.classification.query import recognition_record
from flows.classification.store import previous_state
from flows.home import Cycle
from flows.stages import execute
from synth.classification import write_classification
from synth.generate import generate
from synth.world import Plan

SECRET = b"test-secret-classification-e2e"
YEARS = (2025, 2026, 2027, 2028)
DATA = Path(__file__).resolve().parents[2] / "data" / "classification"


def _standards(folder: Path) -> Path:
    """The shipped Henan standards, with a quota share fit for a province 1,000 times smaller than Henan:
    its counties have tens of 成长型/发展型 businesses, not thousands, and 5% of them would be no place at all."""
    folder.mkdir()
    for path in DATA.glob("41*.toml"):
        text = path.read_text(encoding="utf-8")
        (folder / path.name).write_text(text.replace("share = 0.05", "share = 0.25"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    home = tmp_path_factory.mktemp("mtyx-home")
    standards = _standards(tmp_path_factory.mktemp("mtyx-standards") / "standards")
    steps = {}
    for year in YEARS:
        inbox = home / "inbox" / "41" / str(year)
        generate(Plan("41", year, 3000, seed=5), inbox, lambda *_: None)
        register = previous_state(home, "41", year, "review")[0] if year > YEARS[0] else None
        truth = write_classification(inbox, "41", year, seed=5, register=register)
        execute(Cycle(province="41", as_of=dt.date(year, 7, 31), home=home, secret=SECRET, quarantine_threshold=0.5))
        if year > YEARS[0]:  # the typing cycle's own swap carried the classification tables over
            with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
                steps[(year, "carried")] = con.execute("SELECT count(*) FROM recognitions").fetchone()[0]
        if year > YEARS[0]:
            steps[(year, "review")] = run_review("41", year, home, SECRET, standards_dir=standards)
        steps[(year, "round")] = run_round("41", year, home, SECRET, standards_dir=standards)
        steps[(year, "truth")] = pl.read_csv(truth / "cases.csv", infer_schema=False)
    return home, steps


def decisions(home: Path, year: int) -> pl.DataFrame:
    return pl.read_csv(home / "out" / "41" / f"mtyx-{year}" / "decisions.csv", infer_schema=False)


def test_every_planted_round_case_gets_its_code(province):
    home, steps = province
    checked = 0
    for year in YEARS:
        d = decisions(home, year)
        reasons = dict(d.select("申报编号", "原因").iter_rows())
        outcome = dict(d.select("申报编号", "结果").iter_rows())
        for case in steps[(year, "truth")].filter(pl.col("record").str.starts_with("MT2")).to_dicts():
            codes = (reasons[case["record"]] or "").split(";")
            if case["expect"]:
                assert case["expect"] in codes, (year, case)
            if case["expect_not"]:
                assert case["expect_not"] not in codes, (year, case)
            if case["expect_one_of"]:
                pair = [
                    n for n, a in d.select("申报编号", "统一社会信用代码").iter_rows() if a == case["expect_one_of"]
                ]
                won = [outcome[n] in ("拟认定", "认定") for n in [case["record"], *pair]]
                assert sum(won) <= 1, (year, case)
            checked += 1
    assert checked > 60


def test_every_application_has_one_outcome_and_reasons_only_when_refused(province):
    home, _ = province
    for year in YEARS:
        d = decisions(home, year)
        assert d["申报编号"].n_unique() == d.height
        assert set(d["结果"]) <= {"拟认定", "认定", "不予认定"}
        assert ((d["结果"] == "不予认定") == d["原因"].is_not_null()).all()


def test_the_round_recognises_and_the_quota_binds(province):
    home, _ = province
    quota = pl.read_csv(home / "out" / "41" / "mtyx-2025" / "quota.csv")
    assert quota["本轮认定"].sum() > 5
    assert (quota["已有有效认定"] + quota["本轮认定"] <= quota["名额"]).all()
    assert "OVER_QUOTA" in ";".join(decisions(home, 2025)["原因"].drop_nulls())


def test_reviews_cancel_revoke_and_record_operator_changes(province):
    home, steps = province
    _, events = previous_state(home, "41", 2027, "round")
    for year in (2026, 2027):
        review = pl.read_csv(home / "out" / "41" / f"mtyx-{year}" / "review.csv", infer_schema=False)
        results = dict(review.select("认定编号", "原因").iter_rows())
        for case in steps[(year, "truth")].filter(pl.col("record").str.starts_with("MTYX")).to_dicts():
            if case["expect"] == "OPERATOR_CHANGED":
                mine = events.filter((pl.col("recognition_no") == case["record"]) & (pl.col("year") == year))
                assert "经营者变更" in mine["event"].to_list()
            else:
                assert case["expect"] in (results.get(case["record"]) or ""), (year, case)
    assert {"取消", "撤销", "经营者变更"} <= set(events["event"])


def test_year_four_sees_extensions_expiries_and_the_ban(province):
    home, steps = province
    review = pl.read_csv(home / "out" / "41" / "mtyx-2028" / "review.csv", infer_schema=False)
    assert {"延期", "期满"} <= set(review["结果"])
    extended = review.filter(pl.col("结果") == "延期")
    assert all(re.fullmatch(r"(EXT_[ABCD];?)+(;FELL_TO_SURVIVAL)?", r) for r in extended["原因"])
    assert (extended["有效期至"] == "2031-11-29").all()
    d = decisions(home, 2028)
    planted = steps[(2028, "truth")]
    assert not planted.filter(pl.col("case") == "revoked_reapplies").is_empty()  # the ban is really tried
    assert "BANNED" in ";".join(d["原因"].drop_nulls())
    register = pl.read_csv(home / "out" / "41" / "mtyx-2028" / "register.csv", infer_schema=False)
    assert register.filter(pl.col("认定日期") == "2025-11-30")["有效期至"].eq("2031-11-29").all()


def test_no_personal_data_in_any_output(province):
    home, _ = province
    ids = set()
    for year in YEARS:
        for path in (home / "inbox" / "41" / str(year)).glob("registration*.csv"):
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
            ids |= set(frame[next(c for c in frame.columns if "经营者身份证件号码" in c)].drop_nulls().head(500))
        folder = home / "inbox" / "41" / str(year) / "classification"
        ids |= set(pl.read_csv(folder / "dishonest_debtor.csv", infer_schema=False)["身份证件号码"].drop_nulls())
        ids |= set(pl.read_csv(folder / "info_report.csv", infer_schema=False)["新经营者身份证件号码"].drop_nulls())
    assert ids
    for path in (home / "out").rglob("*"):
        if path.is_file() and path.parent.name.startswith("mtyx-"):
            text = path.read_text(encoding="utf-8")
            assert not any(i in text for i in ids), path
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        for table in ("applications", "recognitions", "recognition_events"):
            dump = str(con.execute(f"SELECT * FROM {table}").fetchall())
            assert not any(i in dump for i in ids)


def test_warehouse_tables_view_and_comments(province):
    home, steps = province
    assert all(steps[(year, "carried")] > 0 for year in YEARS[1:])
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        tables = {n for (n,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert {"applications", "recognitions", "recognition_events", "directory", "cycles"} <= tables
        assert con.execute("SELECT count(*) FROM directory").fetchone()[0] > 10_000  # the typing cycles are intact
        missing = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE comment IS NULL AND table_name IN "
            "('applications', 'recognitions', 'recognition_events', 'recognitions_valid')"
        ).fetchall()
        assert not missing
        on = con.execute("SELECT count(*) FROM recognitions_valid_on(DATE '2026-01-01')").fetchone()[0]
        assert on > 0
        assert con.execute("SELECT count(*) FROM recognitions_valid").fetchone()[0] >= 0
        assert con.execute("SELECT count(*) FROM applications").fetchone()[0] == sum(
            decisions(home, y).height for y in YEARS
        )


def test_a_step_run_again_gives_the_same_files(province):
    home, _ = province
    folder = home / "out" / "41" / "mtyx-2028"
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix == ".csv"}
    run_round("41", 2028, home, SECRET, standards_dir=next(home.parent.glob("mtyx-standards*")) / "standards")
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix == ".csv"}
    assert before == after


def test_report_and_query(province):
    home, _ = province
    html = (home / "out" / "41" / "mtyx-2027" / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 5 and "名额使用" in html and "年度评估确认" in html
    register = pl.read_csv(home / "out" / "41" / "mtyx-2025" / "register.csv", infer_schema=False)
    record = recognition_record(home / "warehouse.duckdb", "41", register["统一社会信用代码"][0])
    assert record is not None and len(record.renderables) == 2
