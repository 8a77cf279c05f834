"""The benchmark's baselines compute what the pipeline computes, and the harness records its table newest first.

``make bench`` compares the pipeline with a DuckDB SQL and a pandas implementation of the same rules and refuses a
figure when their results differ; these tests keep the baselines honest on a small generated province (every
designed case of the generator is in it), so a rule changed in the pipeline but not in them shows here first.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from typer.testing import CliRunner

from bench import pandas_cycle, sql_cycle
from bench.floor import read_once
from bench.run import PROVINCE, record, same_results
from flows.cli import app
from flows.home import Cycle
from flows.stages.business_types import type_businesses
from flows.stages.features import features as features_stage
from flows.stages.ingest import ingest
from flows.stages.link import link as link_stage
from flows.stages.validate import validate

AS_OF = dt.date(2025, 7, 31)


@pytest.fixture(scope="module", params=["csv", "parquet"])
def typed(request, tmp_path_factory):
    """A province of 400 businesses run through ingest, validate, link, features and type."""
    home = tmp_path_factory.mktemp(request.param)
    inbox = home / "inbox" / PROVINCE / "2025"
    arguments = ["generate", "--province", PROVINCE, "--year", "2025", "--businesses", "400", "--out", str(inbox)]
    result = CliRunner().invoke(app, [*arguments, "--format", request.param])
    assert result.exit_code == 0, result.output
    cycle = Cycle(province=PROVINCE, as_of=AS_OF, home=home, secret=b"test", inbox=inbox)
    rows = ingest(cycle).rows
    validate(cycle)
    for stage in (link_stage, features_stage, type_businesses):
        stage(cycle)
    return cycle, rows


def typed_businesses(cycle: Cycle) -> int:
    """The businesses typed: those that existed on D (one established after it is not typed, rules.md v2)."""
    return pl.read_parquet(cycle.work_dir / "directory.parquet").height


@pytest.mark.slow
def test_the_sql_baseline_gives_every_business_the_pipelines_type_reasons_and_features(typed, tmp_path):
    cycle, _ = typed
    out = tmp_path / "sql.parquet"
    sql_cycle.run(cycle.inbox_dir, PROVINCE, AS_OF, out, tmp_path / "scratch")
    assert same_results(cycle.work_dir, out, "sql") == f"identical for all {typed_businesses(cycle)} businesses"


@pytest.mark.slow
def test_the_pandas_baseline_gives_every_business_the_pipelines_type_and_reasons(typed, tmp_path):
    cycle, _ = typed
    out = tmp_path / "pandas.parquet"
    pandas_cycle.run(cycle.inbox_dir, PROVINCE, AS_OF, out)
    assert same_results(cycle.work_dir, out, "pandas") == f"identical for all {typed_businesses(cycle)} businesses"


@pytest.mark.slow
def test_the_floor_reads_every_row_the_pipeline_ingests(typed, tmp_path):
    cycle, ingested = typed
    assert read_once(cycle.inbox_dir, tmp_path)["rows"] == ingested


@pytest.mark.slow
def test_a_business_typed_differently_is_reported_by_its_key(typed, tmp_path):
    cycle, _ = typed
    out = tmp_path / "pandas.parquet"
    pandas_cycle.run(cycle.inbox_dir, PROVINCE, AS_OF, out)
    results = pl.read_parquet(out)
    changed = results.filter(pl.col("business_type") != "发展型")["business_key"][0]
    results.with_columns(
        business_type=pl.when(pl.col("business_key") == changed).then(pl.lit("发展型")).otherwise("business_type")
    ).write_parquet(out)
    expected = f"DIFFERENT for 1 of {typed_businesses(cycle)} businesses (e.g. {changed})"
    assert same_results(cycle.work_dir, out, "pandas") == expected


def test_a_new_section_goes_above_the_earlier_entries(tmp_path):
    benchmarks = tmp_path / "BENCHMARKS.md"
    benchmarks.write_text("# Benchmarks\n\nNewest first.\n\n## older\n\ntext\n", encoding="utf-8")
    record(benchmarks, "## newer\n\nfigures\n")
    assert benchmarks.read_text(encoding="utf-8") == (
        "# Benchmarks\n\nNewest first.\n\n## newer\n\nfigures\n\n## older\n\ntext\n"
    )
