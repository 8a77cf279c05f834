"""The features stage: accepted tables + linkage → ``features.parquet`` (transforms.features)."""

from __future__ import annotations

import polars as pl

from flows.home import Cycle, StageResult
from flows.stages.validate import conflicts_path
from flows.storage.work_files import FEATURES_FILE, LINKAGE_FILE, accepted_tables, write_parquet
from reference import taxes
from transforms.features import features_from_facts, not_yet_established, source_facts


def report_conflicts(cycle: Cycle) -> pl.LazyFrame | None:
    """``accepted/annual_report_conflicts.parquet`` (validate), or none when validate wrote none."""
    path = conflicts_path(cycle, "annual_report")
    return pl.scan_parquet(path, glob=False) if path.exists() else None


def features(cycle: Cycle) -> StageResult:
    links = pl.scan_parquet(cycle.work_dir / LINKAGE_FILE, glob=False)
    tables = accepted_tables(cycle)
    facts = source_facts(
        tables,
        links,
        cycle.as_of,
        taxes=taxes(),
        report_year=cycle.report_year,
        report_conflicts=report_conflicts(cycle),
    )
    # the large sources stream through their aggregations; what is left is small enough to assemble in memory
    collected = pl.collect_all([*facts.values(), not_yet_established(tables["registration"], cycle.as_of)])
    assembled = features_from_facts(
        {name: frame.rechunk().lazy() for name, frame in zip(facts, collected, strict=False)}
    )
    table = assembled.collect(engine="in-memory")
    keys = table["business_key"]
    repeated = keys == keys.shift(1)  # sorted by key: a business with two rows has them side by side
    if repeated.any():  # only an accepted table breaking its key can cause it
        twice = keys.filter(repeated).unique(maintain_order=True).head(5).to_list()
        raise ValueError(
            f"{cycle.accepted_dir}: businesses {', '.join(twice)} got several feature rows; registration must have "
            "one row per business_key"
        )
    path = write_parquet(table, cycle.work_dir / FEATURES_FILE)
    return StageResult(
        stage="features",
        outputs=(path,),
        rows={
            "businesses": table.height,
            "not_yet_established": collected[-1].height,
            "unmatchable": int(table["unmatchable"].sum()),
        },
    )
