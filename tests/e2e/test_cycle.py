"""End to end on small generated provinces: the whole cycle, against the generator's intent and the contract."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import threading

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.errors import InputError
from flows.home import Cycle
from flows.stages import STAGES, execute
from schemas.features import FEATURES
from schemas.outputs import SUBMISSION
from synth.generate import generate
from synth.world import Plan

SECRET = b"end-to-end test key"
DATA_FILES = ("submission.csv", "submission.parquet", "public.csv", "quarantine.csv")


def generated_home(tmp_path_factory, province: str, year: int, businesses: int, faults: float = 0.0, as_of=None):
    home = tmp_path_factory.mktemp(f"home-{province}")
    generate(
        Plan(province, year, businesses, seed=7, faults=faults, as_of=as_of),
        home / "inbox" / province / str(year),
        lambda *_: None,
    )
    return home


@pytest.fixture(scope="module")
def henan(tmp_path_factory):
    """Province 41 with injected faults, typed as of 31 July 2025."""
    home = generated_home(tmp_path_factory, "41", 2025, 1500, faults=0.01)
    # a few faults in a source of 30 rows pass the default 5% threshold by chance; this test is about features
    cycle = Cycle(province="41", as_of=dt.date(2025, 7, 31), home=home, secret=SECRET, quarantine_threshold=0.5)
    return cycle, execute(cycle)


def truth_of(cycle: Cycle) -> pl.DataFrame:
    return pl.read_parquet(cycle.inbox_dir.with_name(f"{cycle.inbox_dir.name}.truth") / "facts.parquet")


def features_of(cycle: Cycle) -> pl.DataFrame:
    return pl.read_parquet(cycle.work_dir / "features.parquet")


def assert_features_equal_the_generators_intent(cycle: Cycle) -> None:
    """Every business that existed on D has the truth's features; one established after D has none (not typed).
    The generator sends 注册号 in the reports of legacy businesses, so none is unmatchable."""
    truth = truth_of(cycle).filter(~pl.col("registration_quarantined"))
    truth = truth.filter(~pl.col("established_after_as_of"))
    if "unmatchable" not in truth.columns:
        truth = truth.with_columns(unmatchable=pl.lit(False))
    features = features_of(cycle)
    assert sorted(features["business_key"]) == sorted(truth["business_key"])
    joined = truth.join(features, on="business_key", suffix="_pipeline")
    for feature in FEATURES:
        differing = joined.filter(~pl.col(feature).eq_missing(pl.col(f"{feature}_pipeline")))
        assert differing.is_empty(), differing.select("business_key", "designed_case", feature, f"{feature}_pipeline")


def test_every_business_gets_the_features_the_generator_intended(henan):
    cycle, _ = henan
    assert_features_equal_the_generators_intent(cycle)


def test_a_heilongjiang_province_on_29_february_gets_its_intended_features_and_its_own_ruleset(tmp_path_factory):
    home = generated_home(tmp_path_factory, "23", 2024, 800, as_of=dt.date(2024, 2, 29))
    cycle = Cycle(province="23", as_of=dt.date(2024, 2, 29), home=home, secret=SECRET)
    execute(cycle)
    assert_features_equal_the_generators_intent(cycle)
    submission = pl.read_csv(cycle.out_dir / "submission.csv", infer_schema=False)
    assert submission["分型标准"].unique().to_list() == ["HL-2024.1"]
    assert submission["判定日期"].unique().to_list() == ["2024-02-29"]


def test_an_extra_cycle_in_february_types_a_province_realistically_with_its_intended_features(tmp_path_factory):
    """Issue 12, finding 3: with D = 2026-02-28 the report year is 2024 (the 2025 report is not due until
    30 June 2026), so a generated province is typed like a yearly one, not everyone 不符合分型条件."""
    as_of = dt.date(2026, 2, 28)
    home = generated_home(tmp_path_factory, "41", 2026, 1500, as_of=as_of)
    cycle = Cycle(province="41", as_of=as_of, home=home, secret=SECRET)
    execute(cycle)
    assert_features_equal_the_generators_intent(cycle)
    manifest = json.loads((cycle.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["report_year"], manifest["cycle_kind"]) == (2024, "extra")
    counts = manifest["counts"]
    assert counts["不符合分型条件"] < sum(counts.values()) / 2
    assert min(counts["生存型"], counts["成长型"], counts["发展型"]) > 0


def test_the_run_record_times_every_stage_in_order(henan):
    cycle, record = henan
    assert [s.stage for s in record.stages] == [name for name, _ in STAGES]
    written = json.loads((cycle.work_dir / "run.json").read_text(encoding="utf-8"))
    assert written["finished_at"] is not None and [s["stage"] for s in written["stages"]] == [n for n, _ in STAGES]
    assert all(s["seconds"] >= 0 for s in written["stages"])


def test_the_cycle_folder_honours_the_contract_and_its_counts_reconcile(henan):
    cycle, _ = henan
    folder = cycle.out_dir
    assert sorted(p.name for p in folder.iterdir()) == sorted((*DATA_FILES, "manifest.json", "report.html"))
    submission = pl.read_csv(folder / "submission.csv", infer_schema=False)
    assert submission.columns == list(SUBMISSION.columns)
    SUBMISSION.validate(pl.read_parquet(folder / "submission.parquet"), lazy=True)
    inputs = json.loads((cycle.work_dir / "inputs.json").read_text(encoding="utf-8"))
    registration = next(s for s in inputs["sources"] if s["source"] == "registration")
    run = json.loads((cycle.work_dir / "run.json").read_text(encoding="utf-8"))
    features = next(s["rows"] for s in run["stages"] if s["stage"] == "features")
    assert submission.height == registration["accepted"] - features["not_yet_established"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    counts = dict(submission["分型结果"].value_counts().iter_rows())
    assert manifest["counts"] == {t: counts.get(t, 0) for t in manifest["counts"]}
    public = pl.read_csv(folder / "public.csv", infer_schema=False)
    assert public.columns == ["统一社会信用代码", "名称", "行政区划代码", "分型结果", "判定日期"]
    assert public.height == submission.height
    quarantine = pl.read_csv(folder / "quarantine.csv", infer_schema=False)
    assert quarantine.height >= sum(s["quarantined"] for s in inputs["sources"]) > 0


def test_delivered_rows_reconcile_with_what_the_generator_wrote(henan):
    cycle, _ = henan
    written = json.loads((cycle.inbox_dir.with_name("2025.truth") / "generated.json").read_text(encoding="utf-8"))
    inputs = json.loads((cycle.work_dir / "inputs.json").read_text(encoding="utf-8"))
    delivered = {f["file"]: f["rows"] for s in inputs["sources"] for f in s["files"]}
    assert delivered == written["files"]
    for source in inputs["sources"]:
        assert source["rows"] == source["accepted"] + source["quarantined"] + source["duplicates_collapsed"]


def test_a_rerun_gives_byte_identical_files_and_the_same_manifest_but_for_generated_at(henan):
    cycle, _ = henan
    before = {name: (cycle.out_dir / name).read_bytes() for name in DATA_FILES}
    manifest_before = json.loads((cycle.out_dir / "manifest.json").read_text(encoding="utf-8"))
    execute(cycle)
    assert {name: (cycle.out_dir / name).read_bytes() for name in DATA_FILES} == before
    manifest_after = json.loads((cycle.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in manifest_after.items() if k != "generated_at"} == {
        k: v for k, v in manifest_before.items() if k != "generated_at"
    }


ANALYST = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    before = con.sql("select count(*) from directory").fetchall()[0][0]
    print(before, flush=True)
    sys.stdin.readline()  # the run happens now
    print(con.sql("select count(*) from directory").fetchall()[0][0], flush=True)
    """
)


def test_an_extra_cycle_while_an_analyst_holds_the_warehouse_open_adds_a_cycle_with_transitions(henan):
    cycle, _ = henan
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(cycle.warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    before = int(analyst.stdout.readline())
    later = Cycle(
        province="41",
        as_of=dt.date(2025, 9, 30),
        home=cycle.home,
        secret=SECRET,
        inbox=cycle.inbox_dir,
        quarantine_threshold=cycle.quarantine_threshold,
    )
    execute(later)
    analyst.stdin.write("\n")
    analyst.stdin.flush()
    assert int(analyst.stdout.readline()) == before  # the open session still sees the state it opened
    assert analyst.wait() == 0
    with duckdb.connect(str(cycle.warehouse), read_only=True) as con:
        cycles = [r[0] for r in con.sql("select cycle_id from cycles where province = '41' order by 1").fetchall()]
        moves = dict(con.sql("select movement, count(*) from transitions group by 1").fetchall())
        latest = con.sql("select distinct cycle_id from directory_latest where province = '41'").fetchall()
    assert cycles == ["41-20250731", "41-20250930"]
    assert latest == [("41-20250930",)]
    assert moves.get("上升", 0) > 0  # businesses that turned 2, 6 or 10 in August and September moved up


def test_getihu_query_shows_a_generated_business_in_every_cycle(henan):
    cycle, _ = henan
    uscc = pl.read_csv(cycle.out_dir / "submission.csv", infer_schema=False).filter(
        pl.col("统一社会信用代码").is_not_null()
    )["统一社会信用代码"][0]
    result = CliRunner().invoke(app, ["query", uscc, "--home", str(cycle.home)])
    assert result.exit_code == 0, result.output
    assert uscc in result.output and "41-20250731" in result.output


def test_a_second_run_on_the_same_home_waits_for_the_first_and_both_complete(henan):
    cycle, _ = henan
    outcomes = []

    def run() -> None:
        try:
            execute(cycle)
            outcomes.append("done")
        except Exception as e:  # reported by the assertion
            outcomes.append(repr(e))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == ["done", "done"]
    assert_features_equal_the_generators_intent(cycle)


def test_an_unusable_file_stops_the_run_before_anything_is_published(tmp_path_factory):
    home = generated_home(tmp_path_factory, "41", 2025, 300)
    inbox = home / "inbox" / "41" / "2025"
    (inbox / "penalty.csv").write_bytes(b"\xff\xfe\x00garbage that is no CSV\n")
    cycle = Cycle(province="41", as_of=dt.date(2025, 7, 31), home=home, secret=SECRET)
    with pytest.raises(InputError, match=r"penalty\.csv"):
        execute(cycle)
    assert not cycle.out_dir.exists() and not cycle.warehouse.exists()
