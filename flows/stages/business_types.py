"""The link, features and type stages: read the cycle's files, call the pure transforms, write one file each.

Files follow docs/architecture.md, "Stages": ``accepted/<source>.parquet`` → ``linkage.parquet`` →
``features.parquet`` → ``directory.parquet``, all under ``cycle.work_dir``. The accepted tables are scanned
lazily, so the large sources (tax_payment, social_security) stream through filters and aggregations and never
sit in memory whole. Every file is sorted by its key before it is written, and written under a temporary name
first, so a stage that fails leaves the previous file intact.
"""

from __future__ import annotations

import polars as pl

from flows.home import Cycle, StageResult
from flows.storage.work_files import DIRECTORY_FILE, FEATURES_FILE, accepted_tables, cycle_ruleset, write_parquet
from schemas.work_files import DIRECTORY_DETAILS
from transforms.business_types import business_types, directory


def type_businesses(cycle: Cycle) -> StageResult:
    ruleset = cycle_ruleset(cycle)
    # one row per business each: in memory, where joins on string keys are several times faster than streamed
    typed = business_types(pl.read_parquet(cycle.work_dir / FEATURES_FILE, glob=False).lazy(), ruleset)
    registration = accepted_tables(cycle)["registration"].select(DIRECTORY_DETAILS).collect().rechunk()
    table = directory(registration.lazy(), typed, ruleset, cycle.as_of, cycle.cycle_id).collect(engine="in-memory")
    path = write_parquet(table, cycle.work_dir / DIRECTORY_FILE)
    return StageResult(stage="type", outputs=(path,), rows={"businesses": table.height})
