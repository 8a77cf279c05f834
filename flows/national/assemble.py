"""``getihu national assemble``: check every province's package, keep the national directory, publish it.

Layout of a national home (national.md):

- ``inbox/<Y>/<P>/``: each province's package as its cycle published it (``manifest.json``, ``submission.*``…);
  ``inbox/<Y>/receipts.csv`` (省份, 接收时间) gives arrival times, else the manifest's modification time does.
- ``directory/province=<P>/<cycle_id>.parquet``: the national rows of each accepted cycle, every year kept, and
  ``<cycle_id>.manifest.json`` beside it (with ``arrived_at`` added). A refused or missing province's rows
  of the year are removed, so its latest accepted year stands in the published state.
- ``assembly/<Y>/``: ``submissions.csv``, ``duplicates.csv``, ``counts.csv``, ``report.html``.
- ``warehouse.duckdb``: ``directory``, ``directory_latest``, ``cycles``, ``transitions``, ``submissions``,
  ``duplicates``; built beside and renamed into place.

Every file is written from sorted rows and holds no clock reading: the same packages give the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq

from flows.home import CHINA_TIME
from flows.storage.warehouse import sql_literal
from reference import regions
from schemas.national import (
    AMENDMENT_COLUMNS,
    CORRECTION_BASIS,
    DIRECTORY_COLUMNS,
    MISSING,
    REFUSED,
    STATUS_LABELS,
    SUBMISSIONS,
    TABLE_COMMENTS,
)
from schemas.vocabulary import BUSINESS_TYPES, TYPE_RANK
from transforms.national import (
    Declared,
    Problem,
    correction_problems,
    cross_province_duplicates,
    directory_rows,
    latest_rows,
    manifest_problems,
    national_counts,
    status_of,
    submission_problems,
    timing_problems,
)


class AssemblyError(Exception):
    """The assembly cannot run at all (not one province's package: those are refused, and reported)."""


@dataclass
class Outcome:
    """One province's result in one year's assembly: its ``submissions`` row, and its rows when accepted."""

    province: str
    province_name: str
    status: str
    problems: list[Problem] = field(default_factory=list)
    declared: Declared | None = None
    arrived_at: dt.datetime | None = None
    rows: int | None = None
    kept_cycle_id: str | None = None

    @property
    def message(self) -> str:
        """One line for people: the province, its status and every failed check with its file."""
        head = f"{self.province_name}（{self.province}）：{STATUS_LABELS[self.status]}"
        if self.kept_cycle_id:
            head += f"，沿用 {self.kept_cycle_id}"
        return head + ("。" + "；".join(p.detail for p in self.problems) if self.problems else "")


@dataclass(frozen=True)
class Assembly:
    year: int
    home: Path
    outcomes: list[Outcome]
    duplicates: pl.DataFrame
    counts: pl.DataFrame

    @property
    def folder(self) -> Path:
        return assembly_dir(self.home, self.year)


# --- places --------------------------------------------------------------------------------------------


def inbox_dir(home: Path, year: int) -> Path:
    return home / "inbox" / str(year)


def directory_dir(home: Path) -> Path:
    return home / "directory"


def assembly_dir(home: Path, year: int) -> Path:
    return home / "assembly" / str(year)


def warehouse_path(home: Path) -> Path:
    return home / "warehouse.duckdb"


def provinces() -> dict[str, str]:
    """The 31 provinces: code → name (data/regions.csv)."""
    return dict(regions().select("province_code", "province_name").unique().sort("province_code").iter_rows())


# --- reading a package ---------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _rows_in(path: Path) -> int:
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    return pl.scan_csv(path, infer_schema=False).select(pl.len()).collect().item()


def read_submission(path: Path) -> pl.DataFrame:
    """A submission file with every column as text, the way the contract writes it (dates as YYYY-MM-DD)."""
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        return frame.with_columns(
            [
                pl.col(c).dt.strftime("%Y-%m-%d") if frame.schema[c] == pl.Date else pl.col(c).cast(pl.String)
                for c in frame.columns
            ]
        )
    return pl.read_csv(path, infer_schema=False)


def receipts(home: Path, year: int) -> dict[str, dt.datetime]:
    """``inbox/<Y>/receipts.csv``: province → arrival time (ISO 8601 with offset)."""
    path = inbox_dir(home, year) / "receipts.csv"
    if not path.is_file():
        return {}
    arrived = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            try:
                at = dt.datetime.fromisoformat(row["接收时间"])
                province = row["省份"].strip()
            except (KeyError, TypeError, ValueError) as e:
                raise AssemblyError(
                    f"{path} 第 {line} 行：需要 省份、接收时间（ISO 8601，带时区）两列（{e}）"
                ) from None
            if at.tzinfo is None:
                raise AssemblyError(f"{path} 第 {line} 行：接收时间 {row['接收时间']!r} 没有时区，如 +08:00")
            arrived[province] = at.astimezone(CHINA_TIME)
    return arrived


def _arrival(folder: Path, province: str, given: dict[str, dt.datetime]) -> dt.datetime:
    if province in given:
        return given[province]
    manifest = folder / "manifest.json"
    stamp = (manifest if manifest.is_file() else folder).stat().st_mtime  # no manifest: refused, the folder's time
    return dt.datetime.fromtimestamp(int(stamp), CHINA_TIME)


def file_problems(folder: Path, files: list[dict], where: str) -> list[Problem]:
    """Every file a manifest lists: present, its SHA-256 and its row count as listed."""
    problems = []
    for entry in files:
        path = folder / entry["name"]
        if not path.is_file():
            problems.append(Problem("file_missing", f"{where} {entry['name']}：清单所列文件缺失"))
            continue
        if sha256_of(path) != entry["sha256"]:
            problems.append(Problem("file_checksum", f"{where} {entry['name']}：SHA-256 与清单不符（文件被改动）"))
        try:
            rows = _rows_in(path)
        except (OSError, pl.exceptions.PolarsError, ValueError) as e:
            problems.append(Problem("file_unreadable", f"{where} {entry['name']}：无法读取（{e}）"))
            continue
        if rows != entry["rows"]:
            problems.append(
                Problem("file_rows", f"{where} {entry['name']}：清单 {entry['rows']:,} 行，文件 {rows:,} 行")
            )
    return problems


def read_corrections(
    folder: Path, declared: Declared, county_codes: pl.Series, rows: pl.DataFrame, where: str
) -> tuple[pl.DataFrame | None, list[Problem]]:
    """The cycle's corrections packages ``corrections-<NNN>/`` (objections.md, step 4), in order: the amendments
    of those that pass their checks, and a ``corrections`` problem naming each that does not (left out)."""
    amendments, problems = [], []
    for package in sorted(p for p in folder.glob("corrections-*") if p.is_dir()):
        here = f"{where} {package.name}"
        try:
            manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
            # the shape flows/objections/packages.py writes: "corrects": {"cycle_id", "manifest_sha256"}
            corrects = manifest["corrects"]
            corrected_cycle, corrected_manifest = str(corrects["cycle_id"]), str(corrects["manifest_sha256"])
            files = [
                {"name": str(f["name"]), "sha256": str(f["sha256"]), "rows": int(f["rows"])} for f in manifest["files"]
            ]
        except (
            OSError,
            UnicodeDecodeError,
            json.JSONDecodeError,
            AttributeError,
            KeyError,
            TypeError,
            ValueError,
        ) as e:
            problems.append(Problem("corrections", f"{here}/manifest.json：无法读取或缺少字段（{e}），更正包未予采用"))
            continue
        found = [Problem("corrections", p.detail + "，更正包未予采用") for p in file_problems(package, files, here)]
        if corrected_cycle != declared.cycle_id:
            found.append(
                Problem("corrections", f"{here}：所更正的周期 {corrected_cycle!r} 不是 {declared.cycle_id}，未予采用")
            )
        elif not (folder / "manifest.json").is_file() or sha256_of(folder / "manifest.json") != corrected_manifest:
            found.append(
                Problem(
                    "corrections",
                    f"{here}/manifest.json：所更正的报送包 manifest.json 的 SHA-256 与本次收到的不同，未予采用",
                )
            )
        data = package / "corrections.csv"
        if not found and data.is_file():
            frame = pl.read_csv(data, infer_schema=False)
            found += correction_problems(frame, declared, county_codes, rows["business_key"], f"{here}/corrections.csv")
        elif not found:
            found.append(Problem("corrections", f"{here}：缺少 corrections.csv，未予采用"))
        problems += found
        if found:
            continue
        amended = directory_rows(
            frame.drop(CORRECTION_BASIS), declared.province, declared.cycle_id, rows["arrived_at"][0]
        )
        objections = frame.select(
            business_key=pl.coalesce("统一社会信用代码", "注册号"), objection=pl.col(CORRECTION_BASIS)
        ).unique("business_key", keep="last", maintain_order=True)
        amendments.append(
            amended.join(objections, on="business_key", how="left").with_columns(corrections=pl.lit(package.name))
        )
    if not amendments:
        return None, problems
    return pl.concat(amendments).select(list(AMENDMENT_COLUMNS)).sort("corrections", "business_key"), problems


def check_package(
    folder: Path, province: str, name: str, year: int, arrived_at: dt.datetime, county_codes: pl.Series
) -> tuple[Outcome, pl.DataFrame | None, pl.DataFrame | None]:
    """Every check of national.md on one province's package; its directory rows and amendments when accepted."""
    where = f"{name}（{province}）"
    outcome = Outcome(province, name, REFUSED, arrived_at=arrived_at)
    manifest_file = folder / "manifest.json"
    if not manifest_file.is_file():
        outcome.problems.append(Problem("manifest_missing", f"{where} inbox/{year}/{province}/：缺少 manifest.json"))
        return outcome, None, None
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        outcome.problems.append(Problem("manifest_unreadable", f"{where} manifest.json：无法解析（{e}）"))
        return outcome, None, None
    declared, problems = manifest_problems(manifest, province, f"{where} manifest.json")
    outcome.problems += problems
    if declared is None:
        return outcome, None, None
    outcome.declared = declared
    outcome.problems += file_problems(folder, declared.files, where)
    listed = {e["name"] for e in declared.files}
    data = next(
        (folder / n for n in ("submission.parquet", "submission.csv") if n in listed and (folder / n).is_file()), None
    )
    if data is None:
        outcome.problems.append(
            Problem(
                "submission_missing",
                f"{where} inbox/{year}/{province}/：清单中没有可读的 submission.parquet 或 submission.csv",
            )
        )
        return outcome, None, None
    try:
        frame = read_submission(data)
    except (OSError, pl.exceptions.PolarsError) as e:
        outcome.problems.append(Problem("file_unreadable", f"{where} {data.name}：无法读取（{e}）"))
        return outcome, None, None
    outcome.rows = frame.height
    outcome.problems += submission_problems(frame, declared, county_codes, f"{where} {data.name}")
    outcome.problems += timing_problems(declared.as_of, arrived_at, year, f"{where} {data.name}")
    outcome.status = status_of(outcome.problems)
    if outcome.status == REFUSED:
        return outcome, None, None
    rows = directory_rows(frame, province, declared.cycle_id, arrived_at)
    amendments, problems = read_corrections(folder, declared, county_codes, rows, where)
    outcome.problems += problems
    return outcome, rows, amendments


# --- the national state --------------------------------------------------------------------------------


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(temporary, statistics=True)
    temporary.replace(path)


def _write_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _cycle_year(path: Path) -> int:
    return int(path.name.split("-")[1][:4])


def _cycle_files(pattern: Path, glob: str) -> list[Path]:
    """The cycles' row files (``<cycle_id>.parquet``), not their amendments beside them."""
    return sorted(p for p in pattern.glob(glob) if "." not in p.stem)


def _province_files(home: Path, province: str) -> list[Path]:
    return _cycle_files(directory_dir(home) / f"province={province}", "*-*.parquet")


def _store(
    home: Path,
    outcome: Outcome,
    rows: pl.DataFrame | None,
    manifest: dict | None,
    year: int,
    amendments: pl.DataFrame | None = None,
) -> None:
    """This year's rows of the province in the national state: replaced when accepted, removed when not."""
    folder = directory_dir(home) / f"province={outcome.province}"
    for old in _province_files(home, outcome.province):
        keep = rows is not None and outcome.declared is not None and old.stem == outcome.declared.cycle_id
        if _cycle_year(old) == year and not keep:
            old.unlink()
            old.with_name(f"{old.stem}.manifest.json").unlink(missing_ok=True)
            old.with_name(f"{old.stem}.amendments.parquet").unlink(missing_ok=True)
    if rows is None:
        earlier = _province_files(home, outcome.province)
        outcome.kept_cycle_id = earlier[-1].stem if earlier else None
        return
    folder.mkdir(parents=True, exist_ok=True)
    cycle_id = outcome.declared.cycle_id
    _write_parquet(rows, folder / f"{cycle_id}.parquet")
    amended = folder / f"{cycle_id}.amendments.parquet"
    if amendments is not None:
        _write_parquet(amendments, amended)
    else:
        amended.unlink(missing_ok=True)
    record = {**manifest, "arrived_at": outcome.arrived_at.isoformat(), "status": outcome.status}
    _write_text(
        folder / f"{cycle_id}.manifest.json", json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    )


def submissions_frame(year: int, outcomes: list[Outcome]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "year": [year] * len(outcomes),
            "province": [o.province for o in outcomes],
            "province_name": [o.province_name for o in outcomes],
            "status": [o.status for o in outcomes],
            "reasons": [[p.code for p in o.problems] for o in outcomes],
            "details": [[p.detail for p in o.problems] for o in outcomes],
            "arrived_at": [o.arrived_at for o in outcomes],
            "rows": [o.rows for o in outcomes],
            "as_of": [o.declared.as_of if o.declared else None for o in outcomes],
            "cycle_id": [o.declared.cycle_id if o.declared else None for o in outcomes],
            "ruleset": [o.declared.ruleset if o.declared else None for o in outcomes],
            "kept_cycle_id": [o.kept_cycle_id for o in outcomes],
        },
        schema={name: column.dtype.type for name, column in SUBMISSIONS.columns.items()},
    ).sort("province")
    return SUBMISSIONS.validate(frame)


def national_directory(home: Path) -> pl.LazyFrame:
    """Every stored national row, all provinces and years."""
    files = _cycle_files(directory_dir(home), "province=*/*-*.parquet")
    if not files:
        return pl.DataFrame(schema=DIRECTORY_COLUMNS).lazy()
    return pl.scan_parquet(files, hive_partitioning=False)


def national_amendments(home: Path) -> pl.LazyFrame:
    """Every stored amendment, all provinces and years."""
    files = sorted(directory_dir(home).glob("province=*/*.amendments.parquet"))
    if not files:
        return pl.DataFrame(schema=AMENDMENT_COLUMNS).lazy()
    return pl.scan_parquet(files, hive_partitioning=False)


def _submissions_csv(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        status=pl.col("status").replace_strict(STATUS_LABELS),
        reasons=pl.col("reasons").list.join(";"),
        details=pl.col("details").list.join("；"),
        arrived_at=pl.col("arrived_at").dt.strftime("%Y-%m-%dT%H:%M:%S%:z"),
    ).rename(
        {
            "year": "年度",
            "province": "省份",
            "province_name": "省份名称",
            "status": "状态",
            "reasons": "未通过检查",
            "details": "说明",
            "arrived_at": "接收时间",
            "rows": "行数",
            "as_of": "判定日期",
            "cycle_id": "周期",
            "ruleset": "分型标准",
            "kept_cycle_id": "沿用周期",
        }
    )


@contextmanager
def _assembly_lock(home: Path):
    """One assembly at a time per national home: ``flock(2)``, released by the kernel if the process dies."""
    home.mkdir(parents=True, exist_ok=True)
    with (home / "assembly.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AssemblyError(f"{home}：另一个汇总正在运行（assembly.lock 被占用），请等它结束后再运行") from None
        yield


def assemble(home: Path, year: int, only: list[str] | None = None) -> Assembly:
    """One year's assembly of the national directory under ``home`` (see the module's docstring)."""
    with _assembly_lock(home):
        return _assemble(home, year, only)


def _assemble(home: Path, year: int, only: list[str] | None) -> Assembly:
    names = provinces()
    unknown = sorted(set(only or []) - set(names))
    if unknown:
        raise AssemblyError(f"未知的省份代码：{', '.join(unknown)}（data/regions.csv 有 {len(names)} 个省份）")
    inbox = inbox_dir(home, year)
    given = receipts(home, year)
    counties = regions().select("region_code", "province_code")
    outcomes = []
    for province, name in names.items():
        folder = inbox / province
        if only is not None and province not in only:
            continue
        if not folder.is_dir():
            outcome = Outcome(
                province,
                name,
                MISSING,
                [Problem("no_package", f"{name}（{province}）：inbox/{year}/{province}/ 未收到报送包")],
            )
            _store(home, outcome, None, None, year)
            outcomes.append(outcome)
            continue
        county_codes = counties.filter(pl.col("province_code") == province)["region_code"]
        arrived_at = _arrival(folder, province, given)
        outcome, rows, amendments = check_package(folder, province, name, year, arrived_at, county_codes)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8")) if rows is not None else None
        _store(home, outcome, rows, manifest, year, amendments)
        outcomes.append(outcome)

    latest = latest_rows(national_directory(home), national_amendments(home))
    duplicates = cross_province_duplicates(latest)
    counts = national_counts(latest, duplicates)
    submissions = submissions_frame(year, outcomes)

    folder = assembly_dir(home, year)
    folder.mkdir(parents=True, exist_ok=True)
    _write_parquet(submissions, folder / "submissions.parquet")
    _submissions_csv(submissions).write_csv(folder / "submissions.csv")
    duplicates.write_csv(folder / "duplicates.csv")
    counts.write_csv(folder / "counts.csv")
    result = Assembly(year, home, outcomes, duplicates, counts)
    publish_warehouse(home, duplicates, national_amendments(home).collect())

    from flows.national.report import render_national_report

    _write_text(folder / "report.html", render_national_report(result, latest))
    return result


# --- the national warehouse ----------------------------------------------------------------------------


def _cycles_frame(home: Path) -> pl.DataFrame:
    rows = []
    for path in sorted(directory_dir(home).glob("province=*/*.manifest.json")):
        m = json.loads(path.read_text(encoding="utf-8"))
        rows.append(
            {
                "province": m["province"],
                "cycle_id": m["cycle_id"],
                "as_of": dt.date.fromisoformat(m["as_of"]),
                "ruleset_id": m["ruleset"]["id"],
                "ruleset_version": m["ruleset"]["version"],
                "ruleset_sha256": m["ruleset"]["sha256"],
                "businesses": sum(m["counts"].values()),
                **{f"count_{i}": m["counts"][t] for i, t in enumerate(BUSINESS_TYPES)},
                "status": m["status"],
                "arrived_at": dt.datetime.fromisoformat(m["arrived_at"]),
                "generated_at": m["generated_at"],
                "files": json.dumps(m["files"], ensure_ascii=False),
            }
        )
    frame = (
        pl.DataFrame(rows, infer_schema_length=None)
        if rows
        else pl.DataFrame(
            {"province": [], "cycle_id": [], "as_of": []},
            schema={"province": pl.String, "cycle_id": pl.String, "as_of": pl.Date},
        )
    )
    return frame.rename({f"count_{i}": t for i, t in enumerate(BUSINESS_TYPES)}, strict=False)


def _rank(column: str) -> str:
    return "CASE " + column + " " + " ".join(f"WHEN '{t}' THEN {r}" for t, r in TYPE_RANK.items()) + " END"


_VIEWS = {
    "directory_latest": """
        SELECT d.* REPLACE (coalesce(a.business_type, d.business_type) AS business_type,
                            coalesce(a.reasons, d.reasons) AS reasons)
        FROM directory d
        JOIN (SELECT province, arg_max(cycle_id, as_of) AS cycle_id FROM cycles GROUP BY province) latest
          USING (province, cycle_id)
        LEFT JOIN (SELECT cycle_id, business_key, arg_max(business_type, corrections) AS business_type,
                          arg_max(reasons, corrections) AS reasons
                   FROM amendments GROUP BY ALL) a USING (cycle_id, business_key)""",
    "transitions": f"""
        WITH sequence AS (
            SELECT province, cycle_id, as_of,
                   lag(cycle_id) OVER (PARTITION BY province ORDER BY as_of) AS previous_cycle_id FROM cycles),
        now AS (SELECT s.*, d.business_key, d.business_type FROM directory d JOIN sequence s USING (province, cycle_id)
                WHERE s.previous_cycle_id IS NOT NULL),
        before AS (SELECT s.*, d.business_key, d.business_type AS previous_type
                   FROM directory d JOIN sequence s ON d.province = s.province AND d.cycle_id = s.previous_cycle_id)
        SELECT coalesce(now.province, before.province) AS province,
               coalesce(now.cycle_id, before.cycle_id) AS cycle_id,
               coalesce(now.as_of, before.as_of) AS as_of,
               coalesce(now.previous_cycle_id, before.previous_cycle_id) AS previous_cycle_id,
               coalesce(now.business_key, before.business_key) AS business_key,
               before.previous_type, now.business_type,
               CASE WHEN before.previous_type IS NULL THEN '新增' WHEN now.business_type IS NULL THEN '退出'
                    WHEN {_rank("now.business_type")} > {_rank("before.previous_type")} THEN '上升'
                    WHEN {_rank("now.business_type")} < {_rank("before.previous_type")} THEN '下降'
                    ELSE '不变' END AS movement
        FROM now FULL JOIN before ON now.cycle_id = before.cycle_id AND now.business_key = before.business_key""",
}


def publish_warehouse(home: Path, duplicates: pl.DataFrame, amendments: pl.DataFrame) -> Path:
    """Rebuild ``warehouse.duckdb`` from the national state beside it and rename it into place (atomic)."""
    target = warehouse_path(home)
    building = target.with_name(target.name + ".building")
    building.unlink(missing_ok=True)
    submissions = sorted((home / "assembly").glob("*/submissions.parquet"))
    files = _cycle_files(directory_dir(home), "province=*/*-*.parquet")
    cycles = _cycles_frame(home)
    con = duckdb.connect(str(building), config={"threads": 1, "preserve_insertion_order": True})
    try:
        if files:
            listing = ", ".join(sql_literal(str(f)) for f in files)
            con.execute(
                f"CREATE TABLE directory AS SELECT * FROM read_parquet([{listing}], hive_partitioning = false) "
                "ORDER BY province, cycle_id, business_key"
            )
        else:
            con.register("empty_directory", pl.DataFrame(schema=DIRECTORY_COLUMNS))
            con.execute("CREATE TABLE directory AS SELECT * FROM empty_directory")
        con.register("cycles_frame", cycles)
        con.execute("CREATE TABLE cycles AS SELECT * FROM cycles_frame ORDER BY province, as_of")
        con.register("amendments_frame", amendments)
        con.execute(
            "CREATE TABLE amendments AS SELECT * FROM amendments_frame "
            "ORDER BY province, cycle_id, corrections, business_key"
        )
        con.execute(
            "CREATE TABLE directory_amended AS SELECT d.*, a.business_key IS NOT NULL AS amended FROM directory d "
            "LEFT JOIN (SELECT DISTINCT cycle_id, business_key FROM amendments) a USING (cycle_id, business_key) "
            "ORDER BY province, cycle_id, business_key"
        )
        con.execute("DROP TABLE directory")
        con.execute("ALTER TABLE directory_amended RENAME TO directory")
        con.register("duplicates_frame", duplicates)
        con.execute("CREATE TABLE duplicates AS SELECT * FROM duplicates_frame ORDER BY uscc, province")
        listing = ", ".join(sql_literal(str(f)) for f in submissions)
        con.execute(
            f"CREATE TABLE submissions AS SELECT * FROM read_parquet([{listing}], hive_partitioning = false) "
            "ORDER BY year, province"
        )
        for view, sql in _VIEWS.items():
            con.execute(f"CREATE VIEW {view} AS {sql}")
        for name, comment in TABLE_COMMENTS.items():
            kind = "VIEW" if name in _VIEWS else "TABLE"
            con.execute(f"COMMENT ON {kind} {name} IS {sql_literal(comment)}")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    building.replace(target)
    return target
