"""After real runs, no resident ID of the inbox is anywhere under the home but the inbox, nor on the terminal.

Every resident ID delivered (operators, insured people, taxpayers and trademark holders that are people; bad
ones too) is read from the inbox files, and then looked for in the text of every file under the home: every
table and view of every DuckDB database, every Parquet file, every SQLite database (Prefect's, the objection
store), the text of every PDF (reply letters), every member of a zip container (.xlsx), and every other file
as text (CSV, JSON, HTML, logs). A planted ID in each kind of file proves the scan finds one.

Objections (issue 17): a whole objection with resident IDs and phone numbers written into every free field of
``objection.csv`` and an insured person's ID in a confirmed correction; the same scan over the store, the
replies, the corrections package, the warehouse tables and the commands' output, each place proven seen.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

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
    if head.startswith(b"%PDF"):  # the reply letters: text streams are compressed, so their text is extracted
        return [page.extract_text() for page in PdfReader(path).pages]
    if head.startswith(b"PK\x03\x04"):  # .xlsx and other zip containers: every member, decompressed
        with zipfile.ZipFile(path) as archive:
            return [archive.read(n).decode("utf-8", errors="replace") for n in archive.namelist()]
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
    frame.write_excel(tmp_path / "e.xlsx")  # compressed XML in a zip
    found = leaks(tmp_path, {planted})
    assert found == {name: [planted] for name in ("a.parquet", "b.duckdb", "c.db", "d.log", "e.xlsx")}


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


# --- objections: the store, replies, corrections packages, warehouse tables, command output (issue 17) -------

OBJECTION_NO = "YY-2025-0901"
PHONES = ("13912345678", "13698765432", "0371-65432198")


def _objection_planted() -> dict[str, str]:
    from tests.support.inbox import resident_id

    return {
        "提出人": resident_id(921, dt.date(1977, 4, 5)),
        "异议理由": resident_id(922, dt.date(1988, 8, 8)),
        "材料": resident_id(923, dt.date(1991, 2, 3)),
        "insured": resident_id(924, dt.date(1985, 6, 7)),
    }


@pytest.fixture(scope="module")
def objection_run(tmp_path_factory):
    """A tiny published cycle, then one whole objection through ``getihu objection`` with planted IDs and phones
    (filed, accepted, two corrections attached, re-judged, decided 调整, replied), then the cycle run again so
    the warehouse carries the objection tables. Returns the home, the planted values and every command's output."""
    from flows.cli import app
    from tests.objections.support import SECRET, objection_row, published_cycle, run_cycle, tax_correction_rows
    from tests.support.inbox import valid_row, write_csv

    home = tmp_path_factory.mktemp("objection-run") / "home"
    published_cycle(home)
    letters = tmp_path_factory.mktemp("objection-letters")
    ids = _objection_planted()
    row = objection_row(
        OBJECTION_NO,
        1,
        提出人=f"张三（身份证 {ids['提出人']}）",
        联系电话=PHONES[0],
        异议理由=f"本人身份证号{ids['异议理由']}，另可拨打 {PHONES[1]}；上年度已缴纳税款，分型结果未计入",
        材料=f"身份证复印件（{ids['材料']}），座机 {PHONES[2]}",
    )
    objection = write_csv(letters / "objection.csv", [row])
    tax = write_csv(letters / "corrections" / "tax_payment.csv", tax_correction_rows())
    insured = valid_row("social_security", 1) | {
        "个人身份证件号码": ids["insured"],
        "确认部门": "郑州市金水区人力资源和社会保障局",
        "确认文号": "金人社确〔2025〕7号",
    }
    social = write_csv(letters / "corrections" / "social_security.csv", [insured])
    outputs = {}
    runner = CliRunner()
    environment = {SECRET_VARIABLE: SECRET.decode()}
    for args in (
        ("import", str(objection)),
        ("accept", OBJECTION_NO),
        ("attach", OBJECTION_NO, str(tax), str(social)),
        ("rejudge", OBJECTION_NO),
        ("decide", OBJECTION_NO, "--decision", "调整", "--reasons", "税务部门确认上年度实缴税款2万元，符合发展A"),
        ("reply", OBJECTION_NO),
        ("show", OBJECTION_NO),
        ("list",),
    ):
        handler = ["--handler", "王五"] if args[0] not in ("show", "list") else []
        done = runner.invoke(app, ["objection", *args, *handler, "--home", str(home)], env=environment)
        outputs[f"getihu objection {args[0]}"] = done.output
        assert done.exit_code == 0, (args, done.output)
    run_cycle(home, home / "inbox" / "41" / "2025")  # publishes the objection tables into the warehouse
    return home, {**ids, **{f"phone {i}": p for i, p in enumerate(PHONES)}}, outputs


def test_no_clear_id_or_phone_of_an_objection_anywhere_but_the_inbox(objection_run):
    home, planted, outputs = objection_run
    store = home / "objections" / "objections.sqlite3"
    folder = home / "objections" / OBJECTION_NO
    assert store.is_file() and (folder / f"reply-{OBJECTION_NO}.pdf").is_file()
    assert list((home / "out" / "41").glob("*/corrections-001/corrections.csv"))
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        for table in ("objections", "objection_events", "amendments"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    # the phone number's own digits, and the masked forms the handler sees instead
    values = set(planted.values()) | {p.replace("-", "") for p in PHONES}
    assert leaks(home, values, outputs) == {}
    shown = texts_of(store)
    assert any("139****5678" in t for t in shown) and any("136****5432" in t for t in shown)
    assert any(planted["异议理由"][:6] + "*" * 10 + planted["异议理由"][-2:] in t for t in shown)


def test_the_scan_sees_each_place_an_objection_writes(objection_run, tmp_path):
    """A planted ID and phone number in each place the objection wrote — the store, a reply's HTML and PDF, the
    corrections package's CSV and manifest, a kept correction, each warehouse table, a log — are all found."""
    from flows.objections.reply import html_to_pdf

    source, planted_values, _ = objection_run
    home = tmp_path / "home"
    shutil.copytree(source, home)
    planted = next(iter(_objection_planted().values()))
    phone = PHONES[0]
    text = f"{planted} {phone}"
    folder = home / "objections" / OBJECTION_NO
    package = next((home / "out" / "41").glob("*/corrections-001"))
    with sqlite3.connect(home / "objections" / "objections.sqlite3") as con:
        con.execute("UPDATE objections SET grounds = ?", [text])
    (folder / f"reply-{OBJECTION_NO}.html").write_text(text, encoding="utf-8")
    (folder / f"reply-{OBJECTION_NO}.pdf").write_bytes(html_to_pdf(f"<p>{text}</p>"))
    kept = next(folder.glob("social_security.csv*.parquet"))
    pl.read_parquet(kept).with_columns(确认文号=pl.lit(text)).write_parquet(kept)
    for name in ("corrections.csv", "manifest.json"):
        with (package / name).open("a", encoding="utf-8") as stream:
            stream.write(text)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("UPDATE objections SET grounds = ?", [text])
        con.execute("UPDATE objection_events SET handler = ?", [text])
        con.execute("UPDATE amendments SET objection_no = ?", [text])
    (home / "objections" / "desk.log").write_text(text, encoding="utf-8")
    found = leaks(home, {planted, phone})
    places = [
        "objections/objections.sqlite3",
        f"objections/{OBJECTION_NO}/reply-{OBJECTION_NO}.html",
        f"objections/{OBJECTION_NO}/reply-{OBJECTION_NO}.pdf",
        str(kept.relative_to(home)),
        str((package / "corrections.csv").relative_to(home)),
        str((package / "manifest.json").relative_to(home)),
        "objections/desk.log",
    ]
    assert {p: found.get(p) for p in places} == {p: sorted([planted, phone]) for p in places}
    assert found["warehouse.duckdb"] == sorted([planted, phone])
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:  # each table on its own
        for table in ("objections", "objection_events", "amendments"):
            assert planted in "\n".join(_duckdb_texts(con, [table])), table
    # nowhere else (the store's write-ahead log may still hold the updated page: it is scanned as well)
    assert set(found) - {*places, "warehouse.duckdb"} <= {"objections/objections.sqlite3-wal"}
    assert planted_values  # the fixture's own run is the test above
