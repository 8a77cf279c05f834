"""``getihu measures`` and ``getihu sample`` on a small generated and typed province (the 2024 cycle of
``earlier_home``, tests/support/faults.py): files per department, the sample and its verification from the published
files alone, the warehouse tables, reruns, and no money nor personal data in what they write."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from flows.classification.warehouse import publish_classification
from flows.cli import app
from reference import measures_for
from schemas.measures import ELIGIBILITY_HEADERS, FRAME_HEADERS, SAMPLE_HEADERS
from tests.contract.test_personal_data_at_rest import delivered_resident_ids
from tests.support.faults import copy_of
from transforms.classification.frames import EVENT_SCHEMA, RECOGNITION_SCHEMA

ROOT = Path(__file__).resolve().parent.parent.parent
CYCLE = "41-20240731"
RUNNER = CliRunner()
#: Words of money columns (schemas/sources.py MONEY headers, features' labels): never a header of these files.
MONEY_WORDS = ("元", "金额", "税款", "营业额", "营业收入", "销售额")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _recognise(home: Path, uscc: str, region: str, category: str) -> None:
    """One 名特优新 recognition valid on the cycle's as-of date, written as the classification step writes it."""
    row = {c: None for c in RECOGNITION_SCHEMA} | {
        "recognition_no": f"MTYX-{region}-2023-0001",
        "uscc": uscc,
        "category": category,
        "region_code": region,
        "recognised_on": dt.date(2023, 11, 30),
        "valid_until": dt.date(2026, 11, 29),
        "round_year": 2023,
        "status": "有效",
    }
    recognitions = pl.DataFrame([row], schema=RECOGNITION_SCHEMA)
    publish_classification(home / "warehouse.duckdb", "41", None, recognitions, pl.DataFrame(schema=EVENT_SCHEMA))


@pytest.fixture(scope="module")
def home(earlier_home, tmp_path_factory):
    """A copy of the home with the 2024 cycle published, one 发展型 business recognised 知名, and the measures and
    one sample (seed 20240815, 30 places) written."""
    copy = copy_of(earlier_home, tmp_path_factory.mktemp("measures"))
    with duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True) as con:
        uscc, region = con.execute(
            "SELECT uscc, region_code FROM directory WHERE cycle_id = ? AND business_type = '发展型' "
            "AND uscc IS NOT NULL ORDER BY uscc LIMIT 1",
            [CYCLE],
        ).fetchone()
    _recognise(copy, uscc, region, "知名")
    copy.joinpath("recognised.txt").write_text(uscc, encoding="utf-8")
    cycle_folder = _files(copy / "out" / "41" / CYCLE)
    measures = RUNNER.invoke(app, ["measures", "--province", "41", "--year", "2024", "--home", str(copy)])
    assert measures.exit_code == 0, measures.output
    sample = RUNNER.invoke(
        app, ["sample", "--province", "41", "--year", "2024", "--home", str(copy), "--seed", "20240815", "--size", "30"]
    )
    assert sample.exit_code == 0, sample.output
    assert _files(copy / "out" / "41" / CYCLE) == cycle_folder  # the contract folder is never touched
    return copy


def measures_dir(home: Path) -> Path:
    return home / "out" / "41" / f"measures-{CYCLE}"


def inspection_dir(home: Path) -> Path:
    return home / "out" / "41" / f"inspection-{CYCLE}"


def test_one_workbook_and_one_excel_csv_per_department(home):
    names = {p.name for p in measures_dir(home).iterdir()}
    departments = measures_for("41").departments()
    assert names == {"summary.csv"} | {f"{d}.{ext}" for d in departments for ext in ("xlsx", "csv")}
    for department in departments:
        raw = (measures_dir(home) / f"{department}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
        table = pl.read_csv(raw, infer_schema=False)
        assert table.columns == list(ELIGIBILITY_HEADERS.values())
        assert set(table["措施编号"]) <= {m.id for m in measures_for("41").measures if m.department == department}


def test_the_lists_are_the_typed_businesses_that_qualify(home):
    tax = pl.read_csv(measures_dir(home) / "税务局.csv", infer_schema=False)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        survival = {
            u for (u,) in con.execute(
                "SELECT uscc FROM directory WHERE cycle_id = ? AND business_type = '生存型'", [CYCLE]
            ).fetchall()
        }  # fmt: skip
        big = {
            u for (u,) in con.execute(
                "SELECT d.uscc FROM directory d JOIN features f USING (cycle_id, business_key) WHERE d.cycle_id = ? "
                "AND d.business_type = '发展型' AND f.insured_incl_operator >= 5",
                [CYCLE],
            ).fetchall()
        }  # fmt: skip
    assert set(tax.filter(pl.col("措施编号") == "HA-生存-01")["统一社会信用代码"].drop_nulls()) == {
        u for u in survival if u is not None
    }
    assert set(tax.filter(pl.col("措施编号") == "HA-发展-05")["统一社会信用代码"].drop_nulls()) == big
    assert set(tax["分型结果"]) <= {"生存型", "发展型"}


def test_a_category_measure_lists_the_recognised_business(home):
    uscc = (home / "recognised.txt").read_text(encoding="utf-8")
    market = pl.read_csv(measures_dir(home) / "市场监督管理局.csv", infer_schema=False)
    famous = market.filter(pl.col("措施编号") == "HA-知名-01")
    assert famous.select("统一社会信用代码", "名特优新类别").rows() == [(uscc, "知名")]


def test_the_workbook_keeps_codes_as_text_and_explains_each_measure(home):
    book = openpyxl.load_workbook(measures_dir(home) / "税务局.xlsx", read_only=True)
    assert book.sheetnames == ["名单", "措施", "说明"]
    rows = list(book["名单"].iter_rows(values_only=True))
    assert list(rows[0]) == list(ELIGIBILITY_HEADERS.values())
    assert all(isinstance(r[2], str) and isinstance(r[5], str) and len(r[5]) == 6 for r in rows[1:] if r[2])
    measures = list(book["措施"].iter_rows(values_only=True))
    assert measures[0][:4] == ("措施编号", "措施名称", "享受条件", "户数")
    assert {r[0] for r in measures[1:]} == {"HA-生存-01", "HA-发展-05"}
    listed = [r[0] for r in rows[1:]]
    assert [(r[0], r[3]) for r in measures[1:]] == [(m, listed.count(m)) for m in ("HA-生存-01", "HA-发展-05")]
    about = dict(book["说明"].iter_rows(values_only=True))
    assert about["周期编号"] == CYCLE and about["部门"] == "税务局"


def test_the_warehouse_table_holds_every_listed_row_with_chinese_comments(home):
    listed = sum(
        pl.read_csv(p, infer_schema=False).height for p in measures_dir(home).glob("*.csv") if p.name != "summary.csv"
    )
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert (
            con.execute("SELECT count(*) FROM measure_eligibility WHERE cycle_id = ?", [CYCLE]).fetchone()[0] == listed
        )
        for table in ("measure_eligibility", "inspection_samples"):
            comments = con.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?", [table]
            ).fetchall()
            assert comments and all(c and re.search(r"[\u4e00-\u9fff]", c) for _, c in comments), table
            assert con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = ?", [table]).fetchone()[0]


def test_the_sample_has_its_size_and_its_files(home):
    folder = inspection_dir(home)
    stem = "sample-20240815-n30"
    assert {p.name for p in folder.iterdir()} == {f"{stem}{s}" for s in (".csv", ".xlsx", ".json", "-frame.csv")}
    sample = pl.read_csv(folder / f"{stem}.csv", infer_schema=False)
    assert sample.columns == list(SAMPLE_HEADERS.values()) and sample.height == 30
    frame = pl.read_csv(folder / f"{stem}-frame.csv", infer_schema=False)
    assert frame.columns == list(FRAME_HEADERS.values())
    manifest = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
    assert (manifest["seed"], manifest["size"], manifest["cycle_id"], manifest["method"]) == (
        "20240815",
        30,
        CYCLE,
        "sha256-rank-v1",
    )
    book = openpyxl.load_workbook(folder / f"{stem}.xlsx", read_only=True)
    assert book.sheetnames == ["说明", "分层", "样本"]
    strata = list(book["分层"].iter_rows(values_only=True))
    assert sum(int(r[7]) for r in strata[1:]) == 30
    assert sum(int(r[4]) for r in strata[1:]) == frame.height
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM inspection_samples WHERE seed = '20240815'").fetchone()[0] == 30


def test_the_frame_is_the_living_businesses_of_the_cycle(home):
    frame = pl.read_csv(inspection_dir(home) / "sample-20240815-n30-frame.csv", infer_schema=False)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        living = con.execute(
            "SELECT count(*) FROM directory WHERE cycle_id = ? AND NOT list_contains(criteria_failed, 'STATUS')",
            [CYCLE],
        ).fetchone()[0]
    assert frame.height == living and frame["主体键"].is_unique().all()


def _verify(manifest: Path) -> subprocess.CompletedProcess:
    # the verifier runs on its own, with the standard library only (no project import)
    return subprocess.run(
        [sys.executable, "-I", str(ROOT / "tools" / "verify_sample.py"), str(manifest)], capture_output=True, text=True
    )


def test_anyone_can_verify_the_draw_from_the_published_files_alone(home, tmp_path):
    source = (ROOT / "tools" / "verify_sample.py").read_text(encoding="utf-8")
    assert not re.search(r"^(from|import) (flows|transforms|schemas|reference|polars)", source, re.M)
    published = tmp_path / "published"
    published.mkdir()
    for path in inspection_dir(home).glob("sample-20240815-n30*"):
        published.joinpath(path.name).write_bytes(path.read_bytes())
    checked = _verify(published / "sample-20240815-n30.json")
    assert checked.returncode == 0 and "一致" in checked.stdout, checked.stdout + checked.stderr


def test_verification_fails_when_a_drawn_business_is_swapped(home, tmp_path):
    stem = "sample-20240815-n30"
    for path in inspection_dir(home).glob(f"{stem}*"):
        tmp_path.joinpath(path.name).write_bytes(path.read_bytes())
    frame = pl.read_csv(tmp_path / f"{stem}-frame.csv", infer_schema=False)
    sample_path = tmp_path / f"{stem}.csv"
    text = sample_path.read_text(encoding="utf-8-sig")
    drawn = set(pl.read_csv(sample_path, infer_schema=False)["主体键"])
    first = sorted(drawn)[0]
    undrawn = next(k for k in frame["主体键"] if k not in drawn)
    sample_path.write_text(text.replace(first, undrawn), encoding="utf-8-sig", newline="")
    manifest_path = tmp_path / f"{stem}.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for entry in manifest["files"]:  # even with the checksum forged, the recomputed draw disagrees
        entry["sha256"] = hashlib.sha256((tmp_path / entry["name"]).read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    checked = _verify(manifest_path)
    assert checked.returncode == 1 and "不一致" in checked.stdout


def test_reruns_give_the_same_bytes_and_another_seed_another_sample(home):
    before = _files(measures_dir(home)), _files(inspection_dir(home))
    args = ["--province", "41", "--year", "2024", "--home", str(home)]
    assert RUNNER.invoke(app, ["measures", *args]).exit_code == 0
    assert RUNNER.invoke(app, ["sample", *args, "--seed", "20240815", "--size", "30"]).exit_code == 0
    assert (_files(measures_dir(home)), _files(inspection_dir(home))) == before
    assert RUNNER.invoke(app, ["sample", *args, "--seed", "other-seed", "--size", "30"]).exit_code == 0
    first = pl.read_csv(inspection_dir(home) / "sample-20240815-n30.csv", infer_schema=False)
    other = pl.read_csv(inspection_dir(home) / "sample-other-seed-n30.csv", infer_schema=False)
    assert other.height == 30 and set(first["主体键"]) != set(other["主体键"])
    assert _files(inspection_dir(home))["sample-20240815-n30.csv"] == before[1]["sample-20240815-n30.csv"]


def test_no_money_and_no_personal_data_in_the_files(home):
    ids = delivered_resident_ids(home / "inbox" / "41" / "2024")
    assert ids, "the inbox delivers resident IDs: the check below can fail"
    for folder in (measures_dir(home), inspection_dir(home)):
        for path in folder.glob("*.csv"):
            table = pl.read_csv(path, infer_schema=False)
            assert not [c for c in table.columns if any(w in c for w in MONEY_WORDS)], path.name
            text = path.read_text(encoding="utf-8-sig")
            assert not [i for i in ids if i in text], path.name
            assert not re.search(r"(?<![0-9A-Z])[0-9]{17}[0-9X](?![0-9A-Z])", text), path.name


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["measures", "--province", "41", "--year", "2031"], "没有已发布的周期 41-20310731"),
        (["measures", "--province", "41", "--cycle", "23-20240731"], "不是省份 41 的周期"),
        (["measures", "--province", "河南", "--year", "2024"], "--province 河南"),
        (["sample", "--province", "41", "--year", "2024", "--seed", "a b"], "随机种子只能由"),
        (["sample", "--province", "41", "--year", "2024", "--seed", "s", "--size", "99999"], "超过了可抽取的"),
        (["measures", "--province", "23", "--year", "2024"], "没有已发布的周期 23-20240731"),
    ],
)
def test_a_command_that_cannot_run_says_why_and_exits_2(home, args, expected):
    result = RUNNER.invoke(app, [*args, "--home", str(home)])
    assert result.exit_code == 2 and expected in result.output, result.output


def test_a_home_without_a_warehouse_is_refused_and_left_as_it_was(tmp_path):
    for command in (["measures"], ["sample", "--seed", "1"]):
        result = RUNNER.invoke(app, [*command, "--province", "41", "--year", "2024", "--home", str(tmp_path / "new")])
        assert result.exit_code == 2 and "还没有数据仓库" in result.output and "getihu run" in result.output
    assert not (tmp_path / "new").exists()


def test_a_broken_measures_file_stops_with_its_name(home, tmp_path):
    broken = tmp_path / "41.toml"
    broken.write_text(
        (ROOT / "data" / "measures" / "41.toml")
        .read_text(encoding="utf-8")
        .replace('feature = "insured_incl_operator", at_least = 1', 'feature = "insured", at_least = 1'),
        encoding="utf-8",
    )
    result = RUNNER.invoke(
        app, ["measures", "--province", "41", "--year", "2024", "--home", str(home), "--measures", str(broken)]
    )
    assert result.exit_code == 2
    assert "41.toml" in result.output and "措施 HA-成长-01" in result.output and "未知的特征" in result.output


def test_a_type_amended_after_an_objection_counts_with_its_amended_value(earlier_home, tmp_path):
    copy = copy_of(earlier_home, tmp_path)
    with duckdb.connect(str(copy / "warehouse.duckdb")) as con:
        key, uscc = con.execute(
            "SELECT business_key, uscc FROM directory WHERE cycle_id = ? AND business_type = '生存型' "
            "AND uscc IS NOT NULL ORDER BY business_key LIMIT 1",
            [CYCLE],
        ).fetchone()
        con.execute(  # the columns the amended directory reads (flows/objections/warehouse_tables.py)
            "CREATE TABLE amendments AS SELECT 1 AS amendment_id, '41' AS province, ? AS cycle_id, ? AS business_key, "
            "'生存型' AS type_before, '成长型' AS type_after, ['成长A'] AS reasons_after, ['成长A'] AS conditions_met, "
            "[]::VARCHAR[] AS criteria_failed",
            [CYCLE, key],
        )
    result = RUNNER.invoke(app, ["measures", "--province", "41", "--year", "2024", "--home", str(copy)])
    assert result.exit_code == 0, result.output
    tax = pl.read_csv(measures_dir(copy) / "税务局.csv", infer_schema=False)
    loans = pl.read_csv(measures_dir(copy) / "金融监督管理总局河南监管局.csv", infer_schema=False)
    assert uscc not in set(tax.filter(pl.col("措施编号") == "HA-生存-01")["统一社会信用代码"])
    assert loans.filter(pl.col("统一社会信用代码") == uscc).select("措施编号", "分型结果").rows() == [
        ("HA-成长-03", "成长型")
    ]


def test_a_rerun_of_the_typing_cycle_carries_both_tables_over(home, tmp_path):
    from flows.stages import execute
    from tests.support.faults import EARLIER, cycle_of

    copy = copy_of(home, tmp_path)
    tables = ("measure_eligibility", "inspection_samples")

    def state() -> dict:
        with duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True) as con:
            return {
                t: (
                    con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall(),
                    con.execute(
                        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?", [t]
                    ).fetchall(),
                )
                for t in tables
            }

    before = state()
    execute(cycle_of(copy, EARLIER))
    assert state() == before
