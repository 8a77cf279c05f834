"""Re-judgment (objections.md, "The procedure" 2): the business typed again as of the cycle's ``D``, under the
cycle's ruleset, from the cycle's accepted tables (``work/<P>/<cycle_id>/accepted/*.parquet``) plus the confirmed
corrections of the objection, by the cycle's own transforms — ``transforms.link.linkage``,
``transforms.features.source_facts`` / ``features_from_facts`` and ``transforms.business_types.business_types``
/ ``directory``, exactly as ``flows.stages`` calls them. There is no second implementation.

Linkage looks at the whole province (a name or an operator may match several businesses), so it runs on the
whole corrected tables; when no correction touches a source linkage reads, the cycle's own ``linkage.parquet``
is the same table and is read instead. Features are then assembled for the one business only.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.home import Cycle, now_in_china
from flows.objections.reading import KEPT_SUFFIX, kept_correction, read_small_file, rules_context
from flows.readers import sha256_of
from flows.stages.features import report_conflicts
from flows.storage.warehouse import FEATURE_LABELS, open_read_only
from flows.storage.work_files import LINKAGE_FILE, accepted_tables
from reference import province_regions, ruleset_file, ruleset_for, taxes
from schemas.features import FEATURES
from schemas.objections import CONFIRMATION_NO, CONFIRMED_BY
from schemas.ruleset import Ruleset
from schemas.sources import SOURCES
from schemas.work_files import DIRECTORY_DETAILS
from transforms.business_types import business_types as classify_businesses
from transforms.business_types import directory
from transforms.features import features_from_facts, source_facts
from transforms.link import linkage
from transforms.objections import REPORT_CONFLICTS, Typed, business_slice, comparison, corrected, reason_labels

#: The sources ``transforms.link.linkage`` reads.
LINKAGE_INPUTS = frozenset({"registration", "taxpayer", "tax_abnormal", "tax_payment", "trademark", "patent"})


class RejudgeError(Exception):
    """Re-judgment cannot be done as the contract requires (data or ruleset of the cycle missing)."""


@dataclass(frozen=True)
class Correction:
    """One confirmed correction file of an objection, read by the extract readers and row rules."""

    source: str
    path: Path
    rows: pl.DataFrame  # valid rows in the accepted table's columns
    records: list[dict]  # per row: source, file, line, 确认部门, 确认文号 (for "which correction changed what")


@dataclass(frozen=True)
class Rejudgment:
    before: Typed
    after: Typed
    directory_row: dict  # the re-judged business in DIRECTORY_COLUMNS
    comparison: dict


def load_corrections(cycle: Cycle, files: list[tuple[str, Path]], confirmed_by: dt.date) -> list[Correction]:
    """Read the objection's correction files (source, path) as validate would. ``confirmed_by`` bounds their dates
    as ``extracted_on`` bounds an extract's (rules.md v2): dates after ``D`` are accepted and simply not in
    force on ``D``; only a date after ``confirmed_by`` is refused."""
    if not files:
        return []
    context = rules_context(cycle.province, confirmed_by)
    loaded = []
    for source, path in files:
        if path.name.endswith(KEPT_SUFFIX):  # checked when attached (dates bounded by that earlier day)
            name = path.name.removesuffix(KEPT_SUFFIX)
            valid, confirmations = kept_correction(path, (CONFIRMED_BY, CONFIRMATION_NO))
        else:
            name = path.name
            read = read_small_file(path, SOURCES[source], context, cycle.secret)
            if read.quarantine.height:
                raise RejudgeError(f"{path}: {read.quarantine.height} 处不符合数据规范，请先更正材料再附入")
            valid = read.valid
            confirmations = read.extras.select(
                "_line",
                *(
                    pl.col(c) if c in read.extras.columns else pl.lit(None).alias(c)
                    for c in (CONFIRMED_BY, CONFIRMATION_NO)
                ),
            )
        records = [
            {"source": source, "file": name, "line": line, "confirmed_by": by, "confirmation_no": no}
            for line, by, no in confirmations.iter_rows()
        ]
        loaded.append(Correction(source, path, valid, records))
    return loaded


def corrected_tables(cycle: Cycle, corrections: list[Correction]) -> dict[str, pl.LazyFrame]:
    tables = accepted_tables(cycle)
    for name in SOURCES:  # registration first: the other sources' records are matched to its businesses
        rows = [c.rows for c in corrections if c.source == name]
        if rows:
            tables[name] = corrected(tables[name], pl.concat(rows), SOURCES[name], tables["registration"])
    return tables


def corrected_report_conflicts(cycle: Cycle, corrections: list[Correction]) -> pl.LazyFrame | None:
    """The cycle's annual-report conflicts (``flows.stages.features.report_conflicts``) without the keys a
    confirmed annual-report correction settles: the correction replaces the conflicting versions."""
    conflicts = report_conflicts(cycle)
    rows = [c.rows for c in corrections if c.source == "annual_report"]
    if conflicts is None or not rows:
        return conflicts
    key = list(conflicts.collect_schema())
    settled = pl.concat(rows).select(pl.col(k).cast(t) for k, t in conflicts.collect_schema().items()).lazy()
    return conflicts.join(settled.unique(), on=key, how="anti", nulls_equal=True)


def type_business(
    cycle: Cycle,
    tables: dict[str, pl.LazyFrame],
    business_key: str,
    ruleset: Ruleset,
    links: pl.LazyFrame,
    conflicts: pl.LazyFrame | None = None,
) -> tuple[Typed, dict]:
    """One business typed by the cycle's transforms, called as ``flows.stages.features`` calls them (the report
    year ``R``, the 税种 that are taxes, the annual-report conflicts): its features row, result and directory
    row. ``conflicts``: the cycle's annual-report conflicts (default: as the cycle wrote them)."""
    conflicts = conflicts if conflicts is not None else report_conflicts(cycle)
    given = {**tables, REPORT_CONFLICTS: conflicts} if conflicts is not None else tables
    sliced, links = business_slice(given, links, business_key)
    registration = sliced["registration"]
    facts = source_facts(
        sliced,
        links,
        cycle.as_of,
        taxes=taxes(),
        report_year=cycle.report_year,
        report_conflicts=sliced.get(REPORT_CONFLICTS),
    )
    features = features_from_facts(facts).collect(engine="in-memory")
    if features.height != 1:
        raise RejudgeError(f"{cycle.cycle_id}: 主体 {business_key} 在本期登记注册信息中有 {features.height} 行")
    typed = classify_businesses(features.lazy(), ruleset)
    details = registration.select(DIRECTORY_DETAILS)
    row = directory(details, typed, ruleset, cycle.as_of, cycle.cycle_id).collect().row(0, named=True)
    values = features.row(0, named=True)
    return (
        Typed(
            features={k: values[k] for k in FEATURES},
            business_type=row["business_type"],
            reasons=tuple(row["reasons"]),
            conditions_met=tuple(row["conditions_met"]),
            criteria_failed=tuple(row["criteria_failed"]),
        ),
        row,
    )


def published(con, cycle_id: str, business_key: str) -> tuple[Typed, dict]:
    """The business as the cycle published it (warehouse ``directory`` and ``features``), on an open connection."""
    row = con.execute(
        "SELECT * FROM directory WHERE cycle_id = ? AND business_key = ?", [cycle_id, business_key]
    ).fetchone()
    names = [d[0] for d in con.description]
    features = con.execute(
        "SELECT * FROM features WHERE cycle_id = ? AND business_key = ?", [cycle_id, business_key]
    ).fetchone()
    feature_names = [d[0] for d in con.description]
    if row is None or features is None:
        raise RejudgeError(f"{cycle_id}: 已发布的名录中没有主体 {business_key}")
    row = dict(zip(names, row, strict=True))
    values = dict(zip(feature_names, features, strict=True))
    return (
        Typed(
            features={k: values.get(k) for k in FEATURES},
            business_type=row["business_type"],
            reasons=tuple(row["reasons"]),
            conditions_met=tuple(row["conditions_met"]),
            criteria_failed=tuple(row["criteria_failed"]),
        ),
        row,
    )


def cycle_ruleset_checked(cycle: Cycle, published_sha256: str | None) -> Ruleset:
    """The ruleset the cycle applied: the file given (or the province's filed one), refused when its checksum is
    not the one the cycle recorded — re-judging under another standard would not be re-judgment."""
    path = ruleset_file(cycle.province, cycle.ruleset)
    if published_sha256 and path.is_file() and sha256_of(path) != published_sha256:
        raise RejudgeError(
            f"{path}: 不是本期 {cycle.cycle_id} 所用的分型标准（SHA-256 不同）；请用 --ruleset 指定本期所用的标准文件"
        )
    return ruleset_for(cycle.province, cycle.ruleset)


def rejudge(
    cycle: Cycle, business_key: str, correction_files: list[tuple[str, Path]], confirmed_by: dt.date | None = None
) -> Rejudgment:
    """Type ``business_key`` again for ``cycle`` with the corrections; compare with what was published.
    ``confirmed_by``: the latest date the corrections may name (default: today in China)."""
    if not cycle.accepted_dir.is_dir():
        raise RejudgeError(f"{cycle.accepted_dir}: 本期的接收数据不在，无法重新判定（需要该期运行时的工作目录）")
    with open_read_only(cycle.warehouse) as con:
        found = con.execute("SELECT ruleset_sha256 FROM cycles WHERE cycle_id = ?", [cycle.cycle_id]).fetchone()
        if found is None:
            raise RejudgeError(f"{cycle.cycle_id}: 没有已发布的这一期")
        before, _ = published(con, cycle.cycle_id, business_key)
    ruleset = cycle_ruleset_checked(cycle, found[0])
    corrections = load_corrections(cycle, correction_files, confirmed_by or now_in_china().date())
    tables = corrected_tables(cycle, corrections)
    touched = {c.source for c in corrections}
    cycle_links = cycle.work_dir / LINKAGE_FILE
    if touched & LINKAGE_INPUTS or not cycle_links.exists():
        links = linkage(tables, province_regions(cycle.province)).collect().lazy()
    else:
        links = pl.scan_parquet(cycle_links)
    conflicts = corrected_report_conflicts(cycle, corrections)
    after, row = type_business(cycle, tables, business_key, ruleset, links, conflicts)
    records = [r for c in corrections for r in c.records]
    compared = comparison(before, after, FEATURE_LABELS, reason_labels(ruleset), records)
    return Rejudgment(before, after, row, json.loads(json.dumps(compared, ensure_ascii=False, default=str)))
