"""One small delivered file — ``objection.csv`` or a confirmed correction — read by the cycle's own readers and
checked by the cycle's own row rules: the same encodings, header aliases, normalisation, keyed personal IDs and
quarantine entries as an extract going through ingest and validate (``flows.readers``, ``transforms.headers``,
``transforms.personal``, ``transforms.validate``). Only the raw layer is skipped: these files are a few rows.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.errors import InputError
from flows.readers import InboxConfig, InboxFile, opened, sha256_of
from flows.stages.ingest import _targets
from flows.stages.validate import context_of
from flows.storage.raw import raw_columns
from schemas.accepted import empty_accepted
from schemas.sources import SOURCES, Kind, Source
from schemas.work_files import QUARANTINE_SCHEMA
from transforms.headers import HeaderError, HeaderMap, mapped_headers
from transforms.personal import Keyer
from transforms.validate import Context, checked, factor_name, rule_entries, valid_rows


@dataclass(frozen=True)
class Read:
    """What a file gave: its valid rows (typed, lineage ``_file``/``_line``), quarantine entries, extras."""

    path: Path
    sha256: str
    rows: int
    valid: pl.DataFrame
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA; personal values masked
    extras: pl.DataFrame  # ``_line`` and the delivered columns of no contract column (e.g. 确认部门)
    header_map: HeaderMap


def rules_context(province: str, extracted_on: dt.date) -> Context:
    """What the row rules need, as validate builds it for a cycle (``flows.stages.validate.context_of``).

    ``extracted_on`` bounds the file's dates (rules.md v2): a date after it is impossible and quarantined
    (``date_after_extraction``); a date after the cycle's ``D`` is accepted — re-judgment as of ``D`` simply
    does not count it. For a correction the bound is the day it is attached or re-judged (the department has
    confirmed it by then); for ``objection.csv`` the day it is imported."""
    return context_of(_Province(province), InboxConfig(extracted_on=extracted_on))


@dataclass(frozen=True)
class _Province:
    """The one attribute of a ``Cycle`` that ``context_of`` reads."""

    province: str


def read_small_file(
    path: Path, source: Source, context: Context, secret: bytes, mask: dict[str, pl.Expr] | None = None
) -> Read:
    """Read ``path`` as a file of ``source``. ``mask``: column -> expression replacing the delivered text before
    anything else sees it (the phone number of ``objection.csv``)."""
    fmt = path.suffix.lower().lstrip(".")
    file = InboxFile(source.name, path, path.name, fmt)
    batches: list[pl.DataFrame] = []
    with tempfile.TemporaryDirectory() as scratch, opened(file, InboxConfig(), Path(scratch)) as table:
        try:
            header_map = mapped_headers(source, table.headers, {})
        except HeaderError as error:
            raise InputError(path, str(error), line=1) from None
        targets = _targets(table.headers, header_map, source)
        for batch in table.batches:
            batches.append(batch.rename(targets))
    frame = pl.concat(batches, how="diagonal") if batches else pl.DataFrame(schema={"_line": pl.Int64})
    if mask:
        frame = frame.with_columns(expression.alias(name) for name, expression in mask.items() if name in frame.columns)
    contract = set(header_map.canonical.values())
    extras = frame.select("_line", *(c for c in frame.columns if c not in contract and c != "_line"))
    for column in source.columns:
        if column.personal and column.name in frame.columns:
            frame = Keyer(column, secret).keyed(frame)
    present = set(frame.columns)
    raw = frame.select(
        pl.lit(path.name).alias("_file"),
        pl.col("_line").cast(pl.Int64),
        *(pl.col(c) if c in present else pl.lit(None, dtype=pl.String).alias(c) for c in raw_columns(source)),
        *(
            pl.lit(header_map.factors.get(c.name, 1), dtype=pl.Int64).alias(factor_name(c))
            for c in source.columns
            if c.kind is Kind.MONEY
        ),
    )
    rows = checked(raw, source, context)
    entries = rule_entries(rows, source) if rows.height else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    delivered = header_map.delivered
    entries = entries.with_columns(pl.col("column").replace_strict(delivered, default=pl.col("column")))
    valid = valid_rows(rows, source) if rows.height else None
    if source.name in SOURCES:
        schema = empty_accepted(source.name).schema
        valid = (
            empty_accepted(source.name) if valid is None else valid.select(pl.col(n).cast(t) for n, t in schema.items())
        )
    elif valid is None:
        valid = pl.DataFrame()
    return Read(path, sha256_of(path), raw.height, valid, entries, extras, header_map)


#: How an attached correction is kept under ``objections/<异议编号>/``: its valid rows as the accepted table holds
#: them (personal IDs keyed, never in clear) with 确认部门 and 确认文号 of each row, not the delivered file.
KEPT_SUFFIX = ".keyed.parquet"


def kept_correction_path(folder: Path, delivered_name: str) -> Path:
    return folder / f"{delivered_name}{KEPT_SUFFIX}"


def keep_correction(read: Read, target: Path, confirmations: tuple[str, ...]) -> None:
    """Write ``read``'s valid rows and each row's confirmation columns to ``target`` (sorted: same file, same
    bytes). The delivered file may hold resident IDs (an insured person's 身份证件号码): it is not copied."""
    given = read.extras.select("_line", *(pl.col(c).cast(pl.String) for c in confirmations))
    rows = read.valid.join(given, on="_line", how="left").sort("_line")
    temporary = target.with_name(f".{target.name}.tmp")
    rows.write_parquet(temporary)
    temporary.replace(target)


def kept_correction(path: Path, confirmations: tuple[str, ...]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A kept correction: its valid rows, and ``_line`` with the confirmation columns."""
    rows = pl.read_parquet(path)
    return rows.drop(confirmations), rows.select("_line", *confirmations)
