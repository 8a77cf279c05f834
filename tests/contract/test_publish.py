"""The cycle folder against docs/spec/outputs.md, byte-identical reruns, and runs that die midway."""

import csv
import datetime as dt
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.errors import StageFileError
from flows.home import CHINA_TIME
from flows.stages.publish import publish, recover_cycle_folder
from schemas.outputs import EXCEL_CSV, EXCEL_FILES, SUBMISSION
from schemas.sources import SOURCES
from tests.support.stage_fixture import QUARANTINE_ROWS, Fixture, write_cycle

DATA_FILES = ["submission.csv", "submission.parquet", "public.csv", "quarantine.csv"]
SUBMISSION_HEADER = "统一社会信用代码,注册号,名称,行政区划代码,行业代码,分型结果,分型依据,判定日期,分型标准"
PUBLIC_HEADER = "统一社会信用代码,名称,行政区划代码,分型结果,判定日期"


def at(hour: int, minute: int = 0, day: int = 1) -> dt.datetime:
    return dt.datetime(2025, 8, day, hour, minute, tzinfo=CHINA_TIME)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


@pytest.fixture
def published(tmp_path):
    cycle = write_cycle(tmp_path)
    publish(cycle, clock=lambda: at(2))
    return cycle


def test_the_cycle_folder_holds_the_six_files_and_the_excel_copies_and_nothing_is_left_beside_it(published):
    folder = published.out_dir
    assert folder == published.home / "out" / "41" / "41-20250731"
    excel = [*EXCEL_FILES, EXCEL_CSV]
    assert sorted(p.name for p in folder.iterdir()) == sorted([*DATA_FILES, "manifest.json", "report.html", *excel])
    assert [p.name for p in folder.parent.iterdir()] == ["41-20250731"]
    assert sorted(p.name for p in published.home.iterdir()) == ["out", "rulesets", "warehouse.duckdb", "work"]


def test_submission_csv_is_utf8_with_the_contract_header_one_row_per_business_sorted_by_key(published):
    raw = (published.out_dir / "submission.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = csv_rows(published.out_dir / "submission.csv")
    assert ",".join(rows[0]) == SUBMISSION_HEADER
    body = rows[1:]
    assert len(body) == len(Fixture().businesses)
    assert all(len(r) == 9 for r in body)
    keys = [r[0] or r[1] for r in body]  # the business key: the USCC, or the 注册号 without one
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert {r[5] for r in body} == {"生存型", "成长型", "发展型", "不符合分型条件"}
    assert {r[7] for r in body} == {"2025-07-31"}
    assert {r[8] for r in body} == {"HA-2025.1"}
    by_key = {r[0] or r[1]: r for r in body}
    first = Fixture().businesses[0]
    assert by_key[first.key][6] == ";".join(first.reasons)
    assert any("," in r[2] for r in body), "a name with a comma must survive quoting"
    assert any(r[0] == "" and r[1] for r in body), "a business without USCC has an empty 统一社会信用代码"


def test_submission_parquet_has_the_same_rows_and_columns_as_the_csv(published):
    parquet = pl.read_parquet(published.out_dir / "submission.parquet")
    SUBMISSION.validate(parquet)
    text = pl.read_csv(published.out_dir / "submission.csv", infer_schema=False)
    assert parquet.columns == text.columns == SUBMISSION_HEADER.split(",")
    assert parquet.with_columns(pl.col("判定日期").cast(pl.String)).fill_null("").equals(text.fill_null(""))


def test_public_csv_has_the_five_public_columns_for_the_same_businesses_and_no_money(published):
    rows = csv_rows(published.out_dir / "public.csv")
    assert ",".join(rows[0]) == PUBLIC_HEADER
    submission = csv_rows(published.out_dir / "submission.csv")[1:]
    assert rows[1:] == [[r[0], r[2], r[3], r[5], r[7]] for r in submission]
    text = (published.out_dir / "public.csv").read_text(encoding="utf-8")
    for business in Fixture().businesses:
        assert f"{business.tax_paid:.2f}" not in text


def test_quarantine_csv_lists_every_quarantined_row_with_its_lineage(published):
    rows = csv_rows(published.out_dir / "quarantine.csv")
    assert rows[0] == ["source", "file", "line", "column", "value", "rule"]
    assert sorted(tuple(r) for r in rows[1:]) == sorted(tuple(map(str, r)) for r in QUARANTINE_ROWS)
    order = list(SOURCES)
    assert [order.index(r[0]) for r in rows[1:]] == sorted(order.index(r[0]) for r in rows[1:])
    assert ["social_security", "social_security_2024_01.csv", "4", "个人身份证件号码", "410105**********2X"] in [
        r[:5] for r in rows
    ]


def test_manifest_has_the_exact_shape_and_its_checksums_match_the_files(published):
    manifest = json.loads((published.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest) == [
        "schema_version",
        "province",
        "cycle_id",
        "as_of",
        "report_year",
        "cycle_kind",
        "ruleset",
        "counts",
        "inputs",
        "files",
        "generated_at",
    ]
    assert manifest["schema_version"] == 1
    assert (manifest["province"], manifest["cycle_id"], manifest["as_of"]) == ("41", "41-20250731", "2025-07-31")
    assert (manifest["report_year"], manifest["cycle_kind"]) == (2024, "yearly")  # outputs.md v2
    assert manifest["ruleset"] == {"id": "HA", "version": "2025.1", "sha256": sha256(published.ruleset)}
    assert list(manifest["counts"]) == ["生存型", "成长型", "发展型", "不符合分型条件"]
    expected = {t: sum(b.business_type == t for b in Fixture().businesses) for t in manifest["counts"]}
    assert manifest["counts"] == expected
    assert [f["name"] for f in manifest["files"]] == DATA_FILES
    for entry in manifest["files"]:
        path = published.out_dir / entry["name"]
        assert list(entry) == ["name", "sha256", "rows"]
        assert entry["sha256"] == sha256(path)
        assert entry["rows"] == pl.read_parquet(path).height if path.suffix == ".parquet" else len(csv_rows(path)) - 1
    assert manifest["generated_at"] == "2025-08-01T02:00:00+08:00"


def test_manifest_lists_every_delivered_file_in_source_order_and_no_missing_source(published):
    inputs = json.loads((published.out_dir / "manifest.json").read_text(encoding="utf-8"))["inputs"]
    fields = ["source", "file", "sha256", "rows", "accepted", "quarantined", "duplicates_collapsed"]
    assert all(list(i) == fields for i in inputs)  # outputs.md's fields, then the collapsed copies (issue 13)
    # every file adds up: read = accepted + quarantined + identical copies collapsed
    assert all(i["rows"] == i["accepted"] + i["quarantined"] + i["duplicates_collapsed"] for i in inputs)
    collapsed = {i["file"]: i["duplicates_collapsed"] for i in inputs if i["duplicates_collapsed"]}
    assert collapsed == {"annual_report.csv": 2}
    sources = [i["source"] for i in inputs]
    assert sources == sorted(sources, key=list(SOURCES).index)
    assert "penalty" not in sources and "patent" not in sources
    assert [i["file"] for i in inputs if i["source"] == "tax_payment"] == [
        "tax_payment_2024_01.csv",
        "tax_payment_2024_03.csv",
    ]
    registration = next(i for i in inputs if i["source"] == "registration")
    assert registration["rows"] == registration["accepted"] + registration["quarantined"] == 26


def test_a_rerun_gives_byte_identical_files_but_for_the_report_and_generated_at(tmp_path):
    cycle = write_cycle(tmp_path)
    publish(cycle, clock=lambda: at(2))
    first = {p.name: p.read_bytes() for p in cycle.out_dir.iterdir()}
    publish(cycle, clock=lambda: at(9, 30, day=3))
    second = {p.name: p.read_bytes() for p in cycle.out_dir.iterdir()}
    for name in DATA_FILES:
        assert first[name] == second[name], name
    before, after = (json.loads(m["manifest.json"]) for m in (first, second))
    assert after.pop("generated_at") == "2025-08-03T09:30:00+08:00"
    assert before.pop("generated_at") != "2025-08-03T09:30:00+08:00"
    assert before == after
    assert b"2025-08-03 09:30" in second["report.html"]


def test_the_same_cycle_published_from_another_home_gives_the_same_bytes(tmp_path):
    one, two = write_cycle(tmp_path / "one"), write_cycle(tmp_path / "elsewhere" / "two")
    publish(one, clock=lambda: at(2))
    publish(two, clock=lambda: at(2))
    for name in [*DATA_FILES, "manifest.json"]:
        assert (one.out_dir / name).read_bytes() == (two.out_dir / name).read_bytes(), name


def test_the_report_is_not_in_the_manifest_and_mentions_no_home_path(published):
    manifest = (published.out_dir / "manifest.json").read_text(encoding="utf-8")
    assert "report.html" not in manifest
    for name in [*DATA_FILES, "manifest.json"]:
        assert str(published.home).encode() not in (published.out_dir / name).read_bytes()


# --- bad files between stages: a clear message, nothing published -----------------------------------------


def broken_cycle(tmp_path, damage) -> tuple:
    cycle = write_cycle(tmp_path)
    damage(cycle.work_dir)
    with pytest.raises(StageFileError) as caught:
        publish(cycle)
    assert not cycle.out_dir.exists()
    assert not cycle.warehouse.exists()
    return str(caught.value)


def test_a_missing_directory_names_the_file_and_the_stage_that_writes_it(tmp_path):
    message = broken_cycle(tmp_path, lambda work: (work / "directory.parquet").unlink())
    assert "directory.parquet：文件不存在" in message and "type 阶段" in message


def test_a_file_that_is_not_parquet_is_refused_with_its_name(tmp_path):
    message = broken_cycle(tmp_path, lambda work: (work / "linkage.parquet").write_text("source,record\n"))
    assert "linkage.parquet：不是可读取的 Parquet 文件" in message


def test_an_unknown_business_type_is_refused_with_the_column_and_value(tmp_path):
    def damage(work):
        frame = pl.read_parquet(work / "directory.parquet")
        frame.with_columns(business_type=pl.lit("外星型")).write_parquet(work / "directory.parquet")

    message = broken_cycle(tmp_path, damage)
    assert "column business_type" in message and "外星型" in message


def test_a_duplicated_business_is_refused(tmp_path):
    def damage(work):
        frame = pl.read_parquet(work / "directory.parquet")
        pl.concat([frame, frame.head(1)]).write_parquet(work / "directory.parquet")

    assert "column business_key" in broken_cycle(tmp_path, damage)


def test_a_directory_of_another_cycle_is_not_published_under_this_one(tmp_path):
    def damage(work):
        frame = pl.read_parquet(work / "directory.parquet")
        frame.with_columns(cycle_id=pl.lit("41-20240731")).write_parquet(work / "directory.parquet")

    message = broken_cycle(tmp_path, damage)
    assert "41-20240731" in message and "应为 41-20250731" in message


def test_features_of_other_businesses_are_refused(tmp_path):
    def damage(work):
        pl.read_parquet(work / "features.parquet").head(20).write_parquet(work / "features.parquet")

    assert "directory.parquet 中有 4 户没有特征" in broken_cycle(tmp_path, damage)


def test_an_unknown_quarantine_rule_is_refused(tmp_path):
    def damage(work):
        frame = pl.read_parquet(work / "quarantine.parquet")
        frame.with_columns(rule=pl.lit("looks_odd")).write_parquet(work / "quarantine.parquet")

    assert "quarantine.parquet" in broken_cycle(tmp_path, damage)


def test_inputs_json_of_the_wrong_shape_is_refused(tmp_path):
    message = broken_cycle(tmp_path, lambda work: (work / "inputs.json").write_text('{"sources": [{"source": "x"}]}'))
    assert "inputs.json：inputs.json 的结构" in message


def test_run_json_without_utc_offset_is_refused(tmp_path):
    def damage(work):
        run = json.loads((work / "run.json").read_text())
        (work / "run.json").write_text(json.dumps(run | {"started_at": "2025-08-01T02:00:00"}))

    assert "没有 UTC 时差" in broken_cycle(tmp_path, damage)


def test_two_rulesets_in_one_directory_are_refused(tmp_path):
    def damage(work):
        frame = pl.read_parquet(work / "directory.parquet")
        mixed = frame.with_columns(
            ruleset_version=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("2024.9")).otherwise("ruleset_version")
        )
        mixed.write_parquet(work / "directory.parquet")

    assert "应只有一个分型标准编号和版本，实有 HA-2024.9, HA-2025.1" in broken_cycle(tmp_path, damage)


# --- a run that dies midway leaves the previous state ------------------------------------------------------


def folder_state(folder: Path) -> dict[str, bytes]:
    """The folder's files, after checking that it is complete: every file the manifest lists, intact."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        assert sha256(folder / entry["name"]) == entry["sha256"]
    assert (folder / "report.html").is_file()
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name not in ("report.html", "manifest.json")}


def warehouse_types(warehouse: Path, cycle_id: str) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT business_key, business_type FROM directory WHERE cycle_id = ?", [cycle_id]
        ).fetchall()
    return dict(rows)


CHANGED = {1: ("不符合分型条件", ("SERIOUS",)), 2: ("发展型", ("发展A",))}


@pytest.fixture
def republish(tmp_path):
    """A published cycle whose stage files were then rewritten with other types: the next publish changes it."""
    cycle = write_cycle(tmp_path)
    publish(cycle, clock=lambda: at(2))
    old = folder_state(cycle.out_dir), warehouse_types(cycle.warehouse, cycle.cycle_id)
    write_cycle(tmp_path, Fixture().with_types(CHANGED))
    return cycle, old


def test_a_failure_between_build_and_swap_leaves_the_previous_folder_and_warehouse(republish, monkeypatch):
    cycle, (old_folder, old_types) = republish

    def fail(built, folder):
        raise OSError("disk full")

    monkeypatch.setattr("flows.stages.publish.replace_folder", fail)
    with pytest.raises(OSError, match="disk full"):
        publish(cycle)
    assert folder_state(cycle.out_dir) == old_folder
    assert warehouse_types(cycle.warehouse, cycle.cycle_id) == old_types
    monkeypatch.undo()

    publish(cycle)
    assert folder_state(cycle.out_dir) != old_folder
    assert warehouse_types(cycle.warehouse, cycle.cycle_id) != old_types
    assert sorted(p.name for p in cycle.out_dir.parent.iterdir()) == ["41-20250731"]
    assert not (cycle.home / "warehouse.duckdb.building").exists()


KILLER = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    from pathlib import Path
    from flows.home import Cycle
    from flows.stages.publish import publish

    home, ruleset, kill_at = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    renames = 0
    real_rename, real_replace = Path.rename, Path.replace

    def counted(real):
        def rename(self, target):
            global renames
            renames += 1
            if renames == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, target)
        return rename

    Path.rename, Path.replace = counted(real_rename), counted(real_replace)
    publish(Cycle(province="41", as_of=dt.date(2025, 7, 31), home=home, secret=b"x", ruleset=ruleset))
    """
)


@pytest.mark.parametrize(
    ("kill_at", "folder_after"),
    [(1, "previous"), (2, "previous"), (3, "new")],
    ids=["before-the-folder-swap", "between-the-folder-renames", "between-folder-and-warehouse-swaps"],
)
def test_a_publish_killed_at_any_rename_leaves_complete_state_and_the_next_run_finishes(
    republish, kill_at, folder_after
):
    cycle, (old_folder, old_types) = republish
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(cycle.home), str(cycle.ruleset), str(kill_at)],
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    # the warehouse is the previous one: it is swapped last, by the rename that never ran
    assert warehouse_types(cycle.warehouse, cycle.cycle_id) == old_types
    # the folder is complete: the previous one (killed between the renames it waits aside until the next
    # publish puts it back) or, once swapped, the new one
    recover_cycle_folder(cycle.out_dir)
    assert (folder_state(cycle.out_dir) == old_folder) == (folder_after == "previous")

    publish(cycle)
    assert folder_state(cycle.out_dir) != old_folder
    assert warehouse_types(cycle.warehouse, cycle.cycle_id) != old_types
    assert sorted(p.name for p in cycle.out_dir.parent.iterdir()) == ["41-20250731"]
    assert sorted(os.listdir(cycle.home)) == ["out", "rulesets", "warehouse.duckdb", "work"]
