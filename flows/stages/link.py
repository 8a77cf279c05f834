"""The link stage: accepted tables → ``linkage.parquet`` (transforms.link)."""

from __future__ import annotations

from flows.home import Cycle, StageResult
from flows.storage.work_files import LINKAGE_FILE, accepted_tables, write_parquet
from reference import province_regions
from transforms.link import linkage


def link(cycle: Cycle) -> StageResult:
    table = linkage(accepted_tables(cycle), province_regions(cycle.province)).collect()
    path = write_parquet(table, cycle.work_dir / LINKAGE_FILE)
    return StageResult(stage="link", outputs=(path,), rows={"linkage": table.height})
