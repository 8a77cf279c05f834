"""``getihu check``: an inbox validated as a run would validate it, without typing or publishing anything.

The same stages do the work — ``ingest`` and ``validate`` (flows/stages), no copy of their rules — on a cycle whose
home is a scratch folder, ``<home>/drafts/check/<cycle id>/`` (or ``--out``): its raw layer and work files go there,
and the inbox is read where it is. Nothing under ``<home>/out/``, ``<home>/work/`` or the warehouse is touched.
What a run would do with the inbox is then told: which file is read as which source and which are not recognised,
rows read, accepted and quarantined per file, the quarantine per file and rule with each rule's Chinese meaning, and
whether the quarantine threshold would stop the run. The would-be quarantine is left in the scratch folder as
``quarantine.csv`` (UTF-8 with BOM) and ``quarantine.xlsx``, with ``inputs.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from rich.table import Table

from flows.errors import QuarantineThresholdError
from flows.home import Cycle, cycle_for
from flows.readers import inbox_config, inbox_files, unrecognised_files
from flows.stages.ingest import ingest
from flows.stages.validate import QUARANTINE_CSV, QUARANTINE_FILE, validate
from flows.storage.excel import write_xlsx
from schemas.outputs import EXCEL_FILES, RULE_LABELS
from schemas.sources import SOURCES
from transforms.publication import quarantine_excel_rows

CHECK_FOLDER = Path("drafts") / "check"


@dataclass(frozen=True)
class Checked:
    """What ``check`` found: the scratch folder, the tables to show and the stop the run would meet (if any)."""

    folder: Path
    files: Table
    rules: Table
    unrecognised: list[str]
    stop: str | None  # the threshold message a run would stop with, else None


def check_cycle(
    province: str,
    as_of: dt.date | None,
    year: int | None,
    home: Path,
    inbox: Path | None,
    out: Path | None,
    secret: bytes | None,
    quarantine_threshold: float | None = None,
    quarantine_minimum: int | None = None,
) -> Cycle:
    """The scratch cycle: the real cycle's inbox, as-of date and limits, with ``out`` (default
    ``<home>/drafts/check/<cycle id>/``) as its home. Without a key, a random one: the check keeps no key."""
    key = secret if secret is not None else os.urandom(32)
    real = cycle_for(province, as_of, year, home, inbox, None, key, quarantine_threshold, quarantine_minimum)
    scratch = out if out is not None else home / CHECK_FOLDER / real.cycle_id
    return cycle_for(
        province, real.as_of, None, scratch, real.inbox_dir, None, key, quarantine_threshold, quarantine_minimum
    )


def _file_table(cycle: Cycle) -> Table:
    inputs = json.loads((cycle.work_dir / "inputs.json").read_text(encoding="utf-8"))
    table = Table(title=f"{cycle.inbox_dir} 中识别出的文件", title_justify="left")
    table.add_column("文件", overflow="fold", min_width=16)
    table.add_column("数据来源", overflow="fold")
    for header in ("行数", "接收", "隔离", "重复合并"):
        table.add_column(header, justify="right")
    for source in inputs["sources"]:
        if source["status"] == "missing":
            table.add_row("（未报送）", f"{SOURCES[source['source']].label}（{source['source']}）", "", "", "", "")
        for f in source["files"]:
            table.add_row(
                f["file"],
                f"{SOURCES[source['source']].label}（{source['source']}）",
                f"{f['rows']:,}",
                f"{f['accepted']:,}",
                f"{f['quarantined']:,}",
                f"{f['duplicates_collapsed']:,}",
            )
    return table


def _rule_table(quarantine: pl.DataFrame) -> Table:
    table = Table(title="将被隔离的记录（按文件和规则）", title_justify="left")
    table.add_column("文件", overflow="fold", min_width=16)
    table.add_column("规则代码", no_wrap=True)
    table.add_column("规则说明", overflow="fold")
    table.add_column("条数", justify="right")
    counts = quarantine.group_by("file", "rule").agg(pl.len().alias("n")).sort("file", "rule")
    for file, rule, n in counts.iter_rows():
        table.add_row(file, rule, RULE_LABELS.get(rule, ""), f"{n:,}")
    return table


def check(cycle: Cycle) -> Checked:
    """Ingest and validate ``cycle`` (a scratch cycle of :func:`check_cycle`); the would-be quarantine is copied
    beside its home as ``quarantine.csv`` and ``quarantine.xlsx``. An unusable file raises ``InputError`` as a run's
    would; the threshold a run would stop at is returned, not raised, with everything found."""
    cycle.home.mkdir(parents=True, exist_ok=True)
    config = inbox_config(cycle.inbox_dir)
    inbox_files(cycle.inbox_dir, config)  # an unreadable inbox.toml or a link out of the inbox stops here
    ingest(cycle)
    stop = None
    try:
        validate(cycle)
    except QuarantineThresholdError as e:
        stop = str(e)
    quarantine = pl.read_parquet(cycle.work_dir / QUARANTINE_FILE)
    shutil.copyfile(cycle.work_dir / QUARANTINE_CSV, cycle.home / QUARANTINE_CSV)
    shutil.copyfile(cycle.work_dir / "inputs.json", cycle.home / "inputs.json")
    rows = quarantine_excel_rows(quarantine.lazy()).collect()
    write_xlsx(rows, cycle.home / "quarantine.xlsx", EXCEL_FILES["quarantine.xlsx"], cycle.as_of)
    return Checked(
        folder=cycle.home,
        files=_file_table(cycle),
        rules=_rule_table(quarantine),
        unrecognised=unrecognised_files(cycle.inbox_dir, config),
        stop=stop,
    )
