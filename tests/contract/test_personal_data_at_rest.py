"""After real runs, no resident ID of the inbox is anywhere under the home but the inbox, nor on the terminal.

Every resident ID delivered (operators, insured people, taxpayers and trademark holders that are people; bad
ones too) is read from the inbox files, and then looked for in the text of every file under the home: every
table and view of every DuckDB database, every Parquet file, every SQLite database (Prefect's), and every
other file as text (CSV, JSON, HTML, logs). A planted ID in each kind of file proves the scan finds one.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.readers import source_of
from flows.secret import DEVELOPMENT_SECRET, SECRET_VARIABLE
from schemas.codes import normalised_code, uscc_problem
from schemas.sources import SOURCES, Kind
from tests.support.generated import column_by_header, read_rows

ROOT = Path(__file__).resolve().parent.parent.parent

ID_SHAPED = r"^[0-9]{17}[0-9X]"
PERSONAL_KINDS = (Kind.RESIDENT_ID, Kind.TAXPAYER_ID, Kind.PARTY_ID)


def delivered_resident_ids(inbox: Path) -> set[str]:
    """Every value of a personal column shaped like a resident ID (its first 18 characters, normalised), as
    delivered and normalised; a taxpayer or holder that is a valid USCC is a business, not a person."""
    values = []
    for path in sorted(inbox.iterdir()):
        source = source_of(path.name)
        if source is None:
            continue
        columns = column_by_header(SOURCES[source])
        personal = [h for h, c in columns.items() if c.kind in PERSONAL_KINDS]
        values += [row[h] for row in read_rows(path) for h in personal if row.get(h)]
    ids = (
        pl.DataFrame({"delivered": values}, schema={"delivered": pl.String})
        .with_columns(code=normalised_code(pl.col("delivered")).str.slice(0, 18))
        .filter(pl.col("code").str.contains(ID_SHAPED) & uscc_problem(pl.col("code")).is_not_null())
    )
    return {*ids["code"], *ids["delivered"].str.strip_chars()}


def _duckdb_texts(con: duckdb.DuckDBPyConnection, relations: list[str]) -> list[str]:
    return [
        repr(con.execute(f"SELECT string_agg(CAST(COLUMNS(*) AS VARCHAR), '|') FROM {r}").fetchall()) for r in relations
    ]


def texts_of(path: Path) -> list[str]:
    """The content of ``path`` as text, whatever kind of file it is; compressed data decompressed."""
    head = path.read_bytes()[:16]
    if head.startswith(b"SQLite format 3"):
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return [repr(con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables]
    if path.suffix == ".duckdb":
        with duckdb.connect(str(path), read_only=True) as con:
            relations = [
                f'"{s}"."{t}"'
                for s, t in con.execute(
                    "SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
                    "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal"
                ).fetchall()
            ]
            return _duckdb_texts(con, relations)
    if head.startswith(b"PAR1"):
        with duckdb.connect() as con:
            return _duckdb_texts(con, [f"read_parquet('{path}')"])
    return [path.read_bytes().decode("utf-8", errors="replace")]


def leaks(home: Path, ids: set[str], also: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Where any of ``ids`` appears: file (relative to the home) or stream name → the IDs found there."""
    found = {}
    texts = {
        str(p.relative_to(home)): "\n".join(texts_of(p))
        for p in home.rglob("*")
        if p.is_file() and p.relative_to(home).parts[0] != "inbox"
    }
    for where, text in {**texts, **(also or {})}.items():
        hits = sorted(i for i in ids if i in text)
        if hits:
            found[where] = hits
    return found


@pytest.fixture(scope="module")
def generated_inbox(real_run):
    """The inbox of the real run (tests/conftest.py): with faults, so bad IDs are quarantined and shown masked."""
    return real_run[0] / "inbox" / "41" / "2025"


def test_the_scan_finds_an_id_in_every_kind_of_file(tmp_path, generated_inbox):
    planted = next(iter(delivered_resident_ids(generated_inbox)))
    frame = pl.DataFrame({"note": ["x", planted], "n": [1, 2]})
    frame.write_parquet(tmp_path / "a.parquet", compression="zstd")
    with duckdb.connect(str(tmp_path / "b.duckdb")) as con:
        con.execute("CREATE TABLE t AS SELECT [?] AS ids", [planted])
    with sqlite3.connect(tmp_path / "c.db") as con:
        con.execute("CREATE TABLE t (v TEXT)")
        con.execute("INSERT INTO t VALUES (?)", [planted])
    (tmp_path / "d.log").write_text(f"line {planted}\n", encoding="utf-8")
    found = leaks(tmp_path, {planted})
    assert found == {name: [planted] for name in ("a.parquet", "b.duckdb", "c.db", "d.log")}


def test_no_resident_id_leaves_the_inbox_in_a_real_run_through_prefect(real_run, generated_inbox):
    home, done = real_run
    ids = delivered_resident_ids(generated_inbox)
    assert len(ids) > 300  # operators, insured people, taxpayers and holders that are people, bad IDs too
    assert done.returncode == 0, done.stderr
    scanned = {p.relative_to(home).parts[0] for p in home.rglob("*") if p.is_file()}
    assert {"out", "work", "warehouse.duckdb"} <= scanned
    assert list((home / "work" / "prefect").rglob("*.db")), "Prefect's database is scanned too"
    assert leaks(home, ids, {"stdout": done.stdout, "stderr": done.stderr}) == {}


# --- IDs where no personal column was declared, and a refusal (issue 13, items 10-12) ----------------------


def _planted_inbox(inbox: Path) -> dict[str, str]:
    """A small inbox whose resident IDs sit where no personal column is declared: typed into 注册号, in an extra
    column of taxpayer.csv, shifted into 经营者姓名 by a missing field. Returns place -> planted ID."""
    from tests.support.inbox import csv_bytes, registration_row, resident_id, valid_row, write_csv

    planted = {
        "注册号": resident_id(901, dt.date(1975, 3, 9)),
        "extra column": resident_id(902, dt.date(1982, 11, 30)),
        "shifted": resident_id(903, dt.date(1990, 1, 2)),
    }
    rows = [registration_row(i) for i in range(1, 7)]
    rows[4]["注册号"] = planted["注册号"]
    text = csv_bytes(rows).decode()
    shifted = registration_row(7, 经营者身份证件号码=planted["shifted"])
    values = [v for k, v in shifted.items() if k != "经营者姓名"]  # one field missing: the ID moves left
    (inbox / "registration.csv").parent.mkdir(parents=True, exist_ok=True)
    (inbox / "registration.csv").write_text(text + ",".join(values) + "\n", encoding="utf-8")
    taxpayers = [valid_row("taxpayer", i) | {"法定代表人身份证件号码": resident_id(910 + i)} for i in (1, 2)]
    taxpayers[0]["法定代表人身份证件号码"] = planted["extra column"]
    write_csv(inbox / "taxpayer.csv", taxpayers)
    return planted


def _run(home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env[SECRET_VARIABLE] = DEVELOPMENT_SECRET
    command = [str(ROOT / ".venv" / "bin" / "getihu"), "run", "--province", "41", "--year", "2025", "--home", str(home)]
    command += ["--quarantine-threshold", "0.5"]  # the planted rows are a large share of a small inbox
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=home)


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("planted-run")
    planted = _planted_inbox(home / "inbox" / "41" / "2025")
    return home, planted, _run(home)


def test_ids_typed_into_other_columns_reach_no_file_the_quarantine_shows_them_masked(planted_run):
    home, planted, done = planted_run
    assert done.returncode == 0, done.stderr
    cycle_dir = next((home / "out" / "41").iterdir())
    quarantine = (cycle_dir / "quarantine.csv").read_text(encoding="utf-8")
    assert planted["注册号"][:6] + "*" * 10 + planted["注册号"][-2:] in quarantine  # the scan would see it in clear
    raw_views = "\n".join(texts_of(home / "work" / "41" / "raw.duckdb"))
    for place in ("extra column", "shifted"):  # the raw layer keeps them masked, where the scan looks
        assert planted[place][:6] + "*" * 10 + planted[place][-2:] in raw_views, place
    assert leaks(home, set(planted.values()), {"stdout": done.stdout, "stderr": done.stderr}) == {}


def test_a_nested_parquet_column_is_refused_naming_file_and_column_and_no_id_reaches_logs_or_prefect(
    tmp_path_factory,
):
    home = tmp_path_factory.mktemp("nested-run")
    inbox = home / "inbox" / "41" / "2025"
    planted = set(_planted_inbox(inbox).values())
    from tests.support.inbox import resident_id

    nested_id = resident_id(904, dt.date(1968, 7, 21))
    planted.add(nested_id)
    pl.DataFrame({"申请号": ["CN1"], "专利权人": [[nested_id, "张三"]]}).write_parquet(inbox / "patent.parquet")
    done = _run(home)
    assert done.returncode == 2, done.stderr
    assert "patent.parquet" in done.stderr and "专利权人" in done.stderr
    # issue 13, item 17: the refusal exits through the normal path, its stages' DuckDB objects released first —
    # before, ~40 lines of "nanobind: leaked instances" followed the one-paragraph message
    assert "leaked" not in done.stderr and "nanobind" not in done.stderr, done.stderr
    logs = list(home.rglob("error.log"))
    prefect = list((home / "work" / "prefect").rglob("*.db"))
    assert prefect, "Prefect's database is scanned too"
    assert leaks(home, planted, {"stdout": done.stdout, "stderr": done.stderr}) == {}, logs


def test_the_scan_finds_an_id_in_an_error_log_and_a_prefect_database(tmp_path):
    planted = "41010519680721904X"
    (tmp_path / "work" / "41-20250731").mkdir(parents=True)
    (tmp_path / "work" / "41-20250731" / "error.log").write_text(f"Traceback: {planted}\n", encoding="utf-8")
    (tmp_path / "work" / "prefect").mkdir()
    with sqlite3.connect(tmp_path / "work" / "prefect" / "prefect.db") as con:
        con.execute("CREATE TABLE log (message TEXT)")
        con.execute("INSERT INTO log VALUES (?)", [f"failed: {planted}"])
    assert set(leaks(tmp_path, {planted})) == {"work/41-20250731/error.log", "work/prefect/prefect.db"}
