"""Reading what the earlier stages of a cycle wrote (docs/architecture.md, "Files between stages"), checked.

A missing or malformed file is a :class:`StageFileError` naming the file, what is wrong and which stage
writes it — publish never sends a submission built from a half-finished or stale cycle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandera.errors
import pandera.polars as pa
import polars as pl
import pyarrow.parquet as pq

from flows.errors import StageFileError
from flows.home import Cycle
from flows.readers import sha256_of
from reference import ruleset_file, ruleset_for
from schemas.accepted import empty_accepted
from schemas.ruleset import Ruleset
from schemas.sources import SOURCES
from schemas.work_files import (
    DIRECTORY,
    FEATURES_TABLE,
    LINKAGE,
    QUARANTINE,
    InputFile,
    RulesetUsed,
    RunRecord,
    SourceInputs,
)

#: Which stage writes each file, for the message when it is missing.
WRITTEN_BY = {
    "directory.parquet": "type",
    "features.parquet": "features",
    "linkage.parquet": "link",
    "quarantine.parquet": "validate",
    "inputs.json": "validate",
    "run.json": "the cycle flow",
}


@dataclass(frozen=True)
class CycleFiles:
    """Everything publish needs from the earlier stages of one cycle: the checked columns of its files (all of
    the directory's and the quarantine's; ``business_key`` of the features; the linkage's outcome columns)."""

    directory: pl.DataFrame
    features: pl.DataFrame
    linkage: pl.DataFrame
    quarantine: pl.DataFrame
    inputs: tuple[SourceInputs, ...]
    run: RunRecord
    ruleset: RulesetUsed
    unrecognised_files: tuple[str, ...] = ()  # inbox files that stand for no source (inputs.json)
    episode_conflicts: pl.DataFrame | None = None  # listing episodes delivered in several versions (validate)


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise StageFileError(
            f"{path}：文件不存在。它由 {WRITTEN_BY[path.name]} 阶段写入；请从头运行本周期（getihu run）。"
        )
    return path


def schema_problems(errors: pandera.errors.SchemaErrors, limit: int = 5) -> str:
    """The first few failures of a pandera validation as one line each: column, check, an example.

    A check on whole rows names the row, never its values: they may be personal data.
    """
    cases = errors.failure_cases.select(
        "schema_context", "column", "check", pl.col("failure_case").cast(pl.String), "index"
    )
    lines = []
    first_of_each = cases.unique(["column", "check"], keep="first", maintain_order=True).head(limit)
    for case in first_of_each.iter_rows(named=True):
        failing = cases.filter((pl.col("column") == case["column"]) & (pl.col("check") == case["check"])).height
        if case["schema_context"] == "DataFrameSchema":
            example = f"row {case['index'] + 1}" if case["index"] is not None else "the file"
            lines.append(f"{case['check']}: {failing} row(s), e.g. {example}")
        else:
            example = repr(case["failure_case"])
            lines.append(f"column {case['column']}: {case['check']} fails for {failing} row(s), e.g. {example}")
    return "; ".join(lines)


def read_checked(path: Path, schema: pa.DataFrameSchema) -> pl.DataFrame:
    """The columns ``schema`` names of a parquet file between stages, validated (values included).

    Only those columns are read: the warehouse takes the files' other columns straight from the files, and at
    ten million businesses the features table alone is over a gigabyte in memory.
    """
    try:
        present = pl.read_parquet_schema(_existing(path))
        frame = pl.read_parquet(path, columns=[c for c in schema.columns if c in present], glob=False)
    except (OSError, pl.exceptions.PolarsError) as e:
        raise StageFileError(f"{path}：不是可读取的 Parquet 文件（{e}）") from None
    try:
        return schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as e:
        raise StageFileError(f"{path}：内容与 docs/architecture.md 的约定不符：{schema_problems(e)}") from None


def read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(_existing(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StageFileError(f"{path}：不是可读取的 JSON 文件（{e}）") from None
    if not isinstance(value, dict):
        raise StageFileError(f"{path}：应为一个 JSON 对象")
    return value


def parse_inputs(value: dict[str, Any], path: Path) -> tuple[SourceInputs, ...]:
    try:
        return tuple(
            SourceInputs(
                source=s["source"],
                status=s["status"],
                rows=int(s["rows"]),
                accepted=int(s["accepted"]),
                quarantined=int(s["quarantined"]),
                duplicates_collapsed=int(s["duplicates_collapsed"]),
                files=tuple(
                    InputFile(
                        file=f["file"],
                        sha256=f["sha256"],
                        format=f["format"],
                        encoding=f.get("encoding"),
                        rows=int(f["rows"]),
                        accepted=int(f["accepted"]),
                        quarantined=int(f["quarantined"]),
                        duplicates_collapsed=int(f["duplicates_collapsed"]),
                    )
                    for f in s["files"]
                ),
            )
            for s in value["sources"]
        )
    except (KeyError, TypeError, ValueError) as e:
        raise StageFileError(f"{path}：inputs.json 的结构与 docs/architecture.md 不符（{e!r}）") from None


def parse_run(value: dict[str, Any], path: Path) -> RunRecord:
    try:
        record = RunRecord.from_json(value)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise StageFileError(f"{path}：run.json 的结构与 docs/architecture.md 不符（{e!r}）") from None
    if record.started_at.tzinfo is None:
        raise StageFileError(f"{path}：started_at {value['started_at']!r} 没有 UTC 时差")
    return record


def ruleset_used(directory: pl.DataFrame, path: Path, source: Path) -> RulesetUsed:
    """The one ruleset id and version the directory was typed with, and the checksum of its file."""
    named = directory.select("ruleset_id", "ruleset_version").unique().sort("ruleset_id", "ruleset_version")
    if named.height != 1:
        found = ", ".join(f"{i}-{v}" for i, v in named.iter_rows()) or "none"
        raise StageFileError(f"{source}：应只有一个分型标准编号和版本，实有 {found}")
    if not path.is_file():
        raise StageFileError(f"{path}：本周期分型所用的分型标准文件不存在")
    ruleset_id, version = named.row(0)
    return RulesetUsed(id=ruleset_id, version=version, sha256=sha256_of(path), file=path.name)


def _check_same_cycle(directory: pl.DataFrame, cycle: Cycle, source: Path) -> None:
    # a directory left over from another cycle must not be published under this one's name
    stale = directory.filter((pl.col("cycle_id") != cycle.cycle_id) | (pl.col("as_of") != cycle.as_of))
    if stale.height:
        row = stale.row(0, named=True)
        raise StageFileError(
            f"{source}：含周期 {row['cycle_id']}（判定日期 {row['as_of']}）的行，应为 {cycle.cycle_id}"
            f"（判定日期 {cycle.as_of}）；本周期的 type 阶段尚未运行"
        )


def _check_same_businesses(features: pl.DataFrame, directory: pl.DataFrame, source: Path) -> None:
    keys = directory.select("business_key")
    missing = keys.join(features.select("business_key"), on="business_key", how="anti")
    extra = features.select("business_key").join(keys, on="business_key", how="anti")
    if missing.height or extra.height:
        example = (missing if missing.height else extra).sort("business_key")["business_key"][0]
        raise StageFileError(
            f"{source}：directory.parquet 中有 {missing.height} 户没有特征，{extra.height} 行特征没有对应的户"
            f"（如 {example}）；features 和 type 两个阶段的结果应来自同一次运行"
        )


def read_cycle_files(cycle: Cycle) -> CycleFiles:
    """Read and check every file publish needs from ``cycle.work_dir``."""
    work = cycle.work_dir
    directory = read_checked(work / "directory.parquet", DIRECTORY)
    _check_same_cycle(directory, cycle, work / "directory.parquet")
    features = read_checked(work / "features.parquet", FEATURES_TABLE)
    _check_same_businesses(features, directory, work / "features.parquet")
    return CycleFiles(
        directory=directory,
        features=features,
        linkage=read_checked(work / "linkage.parquet", LINKAGE),
        quarantine=read_checked(work / "quarantine.parquet", QUARANTINE),
        inputs=parse_inputs(read_json(work / "inputs.json"), work / "inputs.json"),
        run=parse_run(read_json(work / "run.json"), work / "run.json"),
        ruleset=ruleset_used(directory, ruleset_file(cycle.province, cycle.ruleset), work / "directory.parquet"),
        unrecognised_files=tuple(str(name) for name in read_json(work / "inputs.json").get("unrecognised_files", [])),
        episode_conflicts=pl.read_parquet(work / EPISODE_CONFLICTS_FILE)
        if (work / EPISODE_CONFLICTS_FILE).is_file()
        else None,
    )


EPISODE_CONFLICTS_FILE = "episode_conflicts.parquet"


LINKAGE_FILE = "linkage.parquet"


QUARANTINED_BUSINESSES_FILE = "quarantined_businesses.parquet"


FEATURES_FILE = "features.parquet"


DIRECTORY_FILE = "directory.parquet"


def accepted_tables(cycle: Cycle) -> dict[str, pl.LazyFrame]:
    """Every source's accepted table, scanned lazily; a source that was not delivered is an empty table."""
    return {
        name: pl.scan_parquet(cycle.accepted(name), glob=False)
        if cycle.accepted(name).exists()
        else empty_accepted(name).lazy()
        for name in SOURCES
    }


def write_parquet(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` atomically (temporary file, then rename).

    Frames with list columns go through pyarrow: polars 2.1 wrote the directory's three lists in 20 s at 10M
    businesses, pyarrow in 4 s; without lists polars' writer is the faster (features at 1M: 0.08 s against 0.26 s).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".parquet.tmp")
    if any(isinstance(dtype, pl.List) for dtype in frame.schema.values()):
        pq.write_table(frame.to_arrow(), temporary, compression="lz4")
    else:
        frame.write_parquet(temporary, compression="lz4")
    temporary.replace(path)
    return path


def cycle_ruleset(cycle: Cycle) -> Ruleset:
    """The ruleset the cycle applies: ``cycle.ruleset`` (``--ruleset FILE``) or the province's filed one."""
    return ruleset_for(cycle.province, cycle.ruleset)
