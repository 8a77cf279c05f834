"""After real runs, no resident ID of the inbox is anywhere under the home but the inbox, nor on the terminal.

Every resident ID delivered (operators, insured people, taxpayers and trademark holders that are people; bad
ones too) is read from the inbox files, and then looked for in the text of every file under the home: every
table and view of every DuckDB database, every Parquet file, every SQLite database (Prefect's), and every
other file as text (CSV, JSON, HTML, logs). A planted ID in each kind of file proves the scan finds one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.readers import source_of
from schemas.codes import normalised_code, uscc_problem
from schemas.sources import SOURCES, Kind
from tests.support.generated import column_by_header, read_rows

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
