"""The national directory's checks and counts on frames and parsed manifests (national.md); no files, no clock.

Every check returns :class:`Problem` values: the check's code (``schemas.national.CHECKS``) and a sentence in
Chinese naming the province and the file. ``flows.national.assemble`` reads the files and calls these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from schemas.codes import uscc_problem
from schemas.national import (
    ACCEPTED,
    CHECKS,
    CORRECTION_BASIS,
    DEADLINE,
    DIRECTORY_COLUMNS,
    DUPLICATE_COLUMNS,
    KNOWN_SCHEMA_VERSIONS,
    LATE,
    LATE_CHECKS,
    REFUSED,
    REFUSING_CHECKS,
    WINDOW_START,
)
from schemas.outputs import SUBMISSION_HEADERS
from schemas.terms import report_year
from schemas.vocabulary import BUSINESS_TYPES, ruleset_name

#: How many offending values a message quotes.
EXAMPLES = 3


@dataclass(frozen=True)
class Problem:
    """One failed check of one package: its code and what a person reads."""

    code: str
    detail: str

    @property
    def refuses(self) -> bool:
        return self.code in REFUSING_CHECKS

    @property
    def delays(self) -> bool:
        return self.code in LATE_CHECKS


@dataclass(frozen=True)
class Declared:
    """What a manifest declares that the rows are checked against."""

    province: str
    cycle_id: str
    as_of: dt.date
    ruleset: str  # as 分型标准 writes it: id-version
    counts: dict[str, int]
    files: list[dict]  # name, sha256, rows


def _problem(code: str, where: str, what: str = "") -> Problem:
    return Problem(code, f"{where}：{CHECKS[code]}" + (f"（{what}）" if what else ""))


def manifest_problems(manifest: object, province: str, where: str) -> tuple[Declared | None, list[Problem]]:
    """The manifest's shape: known version, required fields, the right province, v2 fields when present.

    ``where`` names the province and file for messages, e.g. ``"河南省（41）manifest.json"``.
    """
    if not isinstance(manifest, dict):
        return None, [_problem("manifest_unreadable", where, "不是 JSON 对象")]
    version = manifest.get("schema_version")
    if version not in KNOWN_SCHEMA_VERSIONS:
        known = "、".join(str(v) for v in KNOWN_SCHEMA_VERSIONS)
        return None, [_problem("manifest_schema_version", where, f"为 {version!r}，已知版本：{known}")]
    try:
        ruleset = manifest["ruleset"]
        counts = {t: int(manifest["counts"][t]) for t in BUSINESS_TYPES}
        files = [
            {"name": str(f["name"]), "sha256": str(f["sha256"]), "rows": int(f["rows"])} for f in manifest["files"]
        ]
        declared = Declared(
            province=str(manifest["province"]),
            cycle_id=str(manifest["cycle_id"]),
            as_of=dt.date.fromisoformat(manifest["as_of"]),
            ruleset=ruleset_name(ruleset["id"], ruleset["version"]),
            counts=counts,
            files=files,
        )
    except (KeyError, TypeError, ValueError) as e:
        return None, [_problem("manifest_fields", where, f"{type(e).__name__}: {e}")]
    problems = []
    if declared.province != province:
        problems.append(_problem("manifest_province", where, f"清单为 {declared.province}，目录为 {province}"))
    if "report_year" in manifest and manifest["report_year"] != report_year(declared.as_of):
        problems.append(
            _problem(
                "report_year",
                where,
                f"为 {manifest['report_year']!r}，判定日期 {declared.as_of} 应为 {report_year(declared.as_of)}",
            )
        )
    if "cycle_kind" in manifest and manifest["cycle_kind"] != "yearly":
        problems.append(_problem("cycle_kind", where, f"为 {manifest['cycle_kind']!r}"))
    return declared, problems


def timing_problems(as_of: dt.date, arrived_at: dt.datetime | None, year: int, where: str) -> list[Problem]:
    """The as-of date in ``year`` (else refused), on or after 30 June (else late); arrival by 15 August (else late)."""
    problems = []
    if as_of.year != year:
        problems.append(_problem("as_of_year", where, f"判定日期 {as_of}，报送年度 {year}"))
    elif as_of < dt.date(year, *WINDOW_START):
        problems.append(_problem("as_of_window", where, f"判定日期 {as_of}"))
    if arrived_at is not None and arrived_at.date() > dt.date(year, *DEADLINE):
        problems.append(_problem("arrived_late", where, f"送达 {arrived_at.isoformat()}"))
    return problems


def _examples(frame: pl.DataFrame, mask: pl.Expr, column: str) -> str:
    bad = frame.with_row_index("row", 1).filter(mask)
    shown = "，".join(f"第 {r} 行 {v!r}" for r, v in bad.select("row", column).head(EXAMPLES).iter_rows())
    return f"{bad.height:,} 行，如{shown}"


def submission_problems(frame: pl.DataFrame, declared: Declared, counties: pl.Series, where: str) -> list[Problem]:
    """The rows against the contract and the manifest: columns, types, USCC, county of this province, as-of, ruleset.

    ``frame`` holds the submission as read, every column a string; ``counties`` the province's county codes.
    Row numbers in messages count data rows from 1.
    """
    expected = list(SUBMISSION_HEADERS.values())
    if frame.columns != expected:
        missing = [c for c in expected if c not in frame.columns]
        extra = [c for c in frame.columns if c not in expected]
        what = f"缺少 {missing}，多出 {extra}" if missing or extra else "列序不同"
        return [_problem("columns", where, what)]
    problems = []
    checks = {
        "business_type": ("分型结果", ~pl.col("分型结果").is_in(BUSINESS_TYPES)),
        "uscc": (
            "统一社会信用代码",
            uscc_problem(pl.col("统一社会信用代码")).is_not_null()
            | (pl.col("统一社会信用代码").is_null() & pl.col("注册号").is_null()),
        ),
        "region": ("行政区划代码", ~pl.col("行政区划代码").is_in(counties.implode()).fill_null(False)),
        "as_of": ("判定日期", pl.col("判定日期").ne_missing(pl.lit(declared.as_of.isoformat()))),
        "ruleset": ("分型标准", pl.col("分型标准").ne_missing(pl.lit(declared.ruleset))),
    }
    flags = frame.select(**{code: mask.fill_null(True).any() for code, (_, mask) in checks.items()}).row(0, named=True)
    for code, (column, mask) in checks.items():
        if flags[code]:
            problems.append(_problem(code, f"{where} {column}", _examples(frame, mask.fill_null(True), column)))
    counted = dict(frame.group_by("分型结果").len().iter_rows())
    found = {t: counted.get(t, 0) for t in BUSINESS_TYPES}
    if found != declared.counts:
        differ = "，".join(
            f"{t} 清单 {declared.counts[t]:,} 行数 {found[t]:,}"
            for t in BUSINESS_TYPES
            if found[t] != declared.counts[t]
        )
        problems.append(_problem("counts", where, differ))
    return problems


def status_of(problems: list[Problem]) -> str:
    """accepted, late or refused: any refusing problem refuses; otherwise a late one marks it late."""
    if any(p.refuses for p in problems):
        return REFUSED
    return LATE if any(p.delays for p in problems) else ACCEPTED


def correction_problems(
    frame: pl.DataFrame, declared: Declared, counties: pl.Series, businesses: pl.Series, where: str
) -> list[Problem]:
    """A corrections package's rows (the submission's columns plus 更正依据) against the cycle they correct:
    every row's checks as a submission's, an objection number on each, and a business the cycle holds."""
    if frame.columns != [*SUBMISSION_HEADERS.values(), CORRECTION_BASIS]:
        return [_problem("corrections", where, f"列应为报送列加 {CORRECTION_BASIS}")]
    counted = dict(frame.group_by("分型结果").len().iter_rows())
    as_counted = Declared(**{**declared.__dict__, "counts": {t: counted.get(t, 0) for t in BUSINESS_TYPES}})
    found = submission_problems(frame.drop(CORRECTION_BASIS), as_counted, counties, where)
    problems = [_problem("corrections", p.detail) for p in found]
    if frame[CORRECTION_BASIS].is_null().any():
        problems.append(_problem("corrections", where, f"{CORRECTION_BASIS} 为空"))
    keys = frame.select(pl.coalesce("统一社会信用代码", "注册号").alias("key"))["key"]
    unknown = keys.filter(~keys.is_in(businesses.implode()))
    if len(unknown):
        problems.append(_problem("corrections", where, f"{len(unknown)} 户不在所更正的周期中，如 {unknown[0]!r}"))
    return problems


def directory_rows(frame: pl.DataFrame, province: str, cycle_id: str, arrived_at: dt.datetime) -> pl.DataFrame:
    """A checked submission as national ``directory`` rows, sorted by business key."""
    renamed = frame.rename({header: name for name, header in SUBMISSION_HEADERS.items()})
    return (
        renamed.with_columns(
            province=pl.lit(province),
            cycle_id=pl.lit(cycle_id),
            as_of=pl.col("as_of").str.to_date("%Y-%m-%d"),
            business_key=pl.coalesce("uscc", "reg_no"),
            arrived_at=pl.lit(arrived_at),
        )
        .select([pl.col(c).cast(t) for c, t in DIRECTORY_COLUMNS.items()])
        .sort("business_key", "region_code")
    )


def latest_rows(directory: pl.LazyFrame, amendments: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Each province's rows of its latest accepted cycle (an earlier year's when this year's was refused), with
    the type and reasons of its amendments (the last corrections package of a business wins)."""
    latest = directory.group_by("province").agg(pl.col("as_of").max().alias("latest"))
    rows = directory.join(latest, on="province").filter(pl.col("as_of") == pl.col("latest")).drop("latest")
    if amendments is None:
        return rows
    last = (
        amendments.sort("cycle_id", "business_key", "corrections")
        .group_by("cycle_id", "business_key", maintain_order=True)
        .agg(pl.col("business_type").last().alias("amended_type"), pl.col("reasons").last().alias("amended_reasons"))
    )
    return (
        rows.join(last, on=["cycle_id", "business_key"], how="left")
        .with_columns(
            business_type=pl.coalesce("amended_type", "business_type"),
            reasons=pl.coalesce("amended_reasons", "reasons"),
        )
        .drop("amended_type", "amended_reasons")
    )


def cross_province_duplicates(latest: pl.LazyFrame) -> pl.DataFrame:
    """USCCs present in two or more provinces' current rows: one row per province holding it.

    Each is counted once, in the province of the 行政区划代码 it carries in the later as-of cycle (national.md);
    equal as-of dates fall to the later arrival, then the higher province code, so the choice is always the same.
    """
    rows = latest.filter(pl.col("uscc").is_not_null()).select(
        "uscc", "province", "cycle_id", "as_of", "region_code", "arrived_at"
    )
    spread = rows.group_by("uscc").agg(pl.col("province").n_unique().alias("provinces")).filter(pl.col("provinces") > 1)
    held = rows.join(spread.select("uscc"), on="uscc")
    winner = (
        held.sort("uscc", "as_of", "arrived_at", "province", "region_code")
        .group_by("uscc", maintain_order=True)
        .agg(pl.col("region_code").last().str.slice(0, 2).alias("counted_in"))
    )
    return (
        held.join(winner, on="uscc")
        .with_columns(counted=pl.col("province") == pl.col("counted_in"))
        .select([pl.col(c).cast(t) for c, t in DUPLICATE_COLUMNS.items()])
        .sort("uscc", "province")
        .collect()
    )


def counted_rows(latest: pl.LazyFrame, duplicates: pl.DataFrame) -> pl.LazyFrame:
    """The current rows that national counts count: a duplicated USCC only where it is counted."""
    not_counted = duplicates.lazy().filter(~pl.col("counted")).select("uscc", "province")
    return latest.join(not_counted, on=["uscc", "province"], how="anti", nulls_equal=False)


def national_counts(latest: pl.LazyFrame, duplicates: pl.DataFrame) -> pl.DataFrame:
    """Businesses by province × type, each duplicated business counted once; every type a column, in order."""
    counts = (
        counted_rows(latest, duplicates)
        .group_by("province", "business_type")
        .len()
        .collect()
        .pivot("business_type", index="province", values="len")
    )
    for t in BUSINESS_TYPES:
        if t not in counts.columns:
            counts = counts.with_columns(pl.lit(0, pl.UInt32).alias(t))
    return counts.select("province", *[pl.col(t).fill_null(0).cast(pl.Int64) for t in BUSINESS_TYPES]).sort("province")
