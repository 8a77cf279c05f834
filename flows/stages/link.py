"""The link stage: accepted tables → ``linkage.parquet`` (transforms.link)."""

from __future__ import annotations

import polars as pl

from flows.home import Cycle, StageResult
from flows.storage.work_files import LINKAGE_FILE, QUARANTINED_BUSINESSES_FILE, accepted_tables, write_parquet
from reference import province_regions
from transforms.link import linkage


def link(cycle: Cycle) -> StageResult:
    set_aside = cycle.work_dir / QUARANTINED_BUSINESSES_FILE
    quarantined = pl.scan_parquet(set_aside, glob=False) if set_aside.exists() else None
    table = linkage(accepted_tables(cycle), province_regions(cycle.province), quarantined).collect()
    path = write_parquet(table, cycle.work_dir / LINKAGE_FILE)
    return StageResult(stage="link", outputs=(path,), rows={"linkage": table.height})
