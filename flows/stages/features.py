"""The features stage: accepted tables + linkage → ``features.parquet`` (transforms.features)."""

from __future__ import annotations

import polars as pl

from flows.home import Cycle, StageResult
from flows.storage.work_files import FEATURES_FILE, LINKAGE_FILE, accepted_tables, write_parquet
from transforms.features import features_from_facts, source_facts


def features(cycle: Cycle) -> StageResult:
    links = pl.scan_parquet(cycle.work_dir / LINKAGE_FILE, glob=False)
    facts = source_facts(accepted_tables(cycle), links, cycle.as_of)
    # the large sources stream through their aggregations; what is left is small enough to assemble in memory
    collected = pl.collect_all(facts.values())
    assembled = features_from_facts(
        {name: frame.rechunk().lazy() for name, frame in zip(facts, collected, strict=True)}
    )
    table = assembled.collect(engine="in-memory")
    keys = table["business_key"]
    repeated = keys == keys.shift(1)  # sorted by key: a business with two rows has them side by side
    if repeated.any():  # only an accepted table breaking its key can cause it
        twice = keys.filter(repeated).unique(maintain_order=True).head(5).to_list()
        raise ValueError(
            f"{cycle.accepted_dir}: businesses {', '.join(twice)} got several feature rows; registration must have "
            "one row per business_key and annual_report one per 统一社会信用代码 and 报告年度"
        )
    path = write_parquet(table, cycle.work_dir / FEATURES_FILE)
    return StageResult(stage="features", outputs=(path,), rows={"businesses": table.height})
