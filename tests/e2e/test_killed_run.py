"""A run killed (SIGKILL) in the middle of each stage: the published state stays, and the next run finishes it.

The run goes in a process of its own, which a small hook kills at a chosen point of one stage: while it writes
its first Parquet file (the file left half written, as a kill during the write leaves it), or right after a step
that changes what later runs read (the first inbox file loaded into the raw layer, the first warehouse table
built). Then: everything published before — every file under ``out/`` and the warehouse — is byte for byte what
it was, the lock is free, and a rerun gives the same outputs as a run nobody disturbed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap

import pytest

from flows.stages import STAGES, execute
from flows.storage.lock import home_lock
from tests.support.faults import (
    EARLIER,
    LATER,
    copy_of,
    cycle_of,
    cycle_outputs,
    published_files,
    python_command,
    warehouse_rows,
)

#: Installed in the killed process: arms the kill when the chosen stage starts, so earlier stages run whole.
HOOK = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import polars as pl
    import pyarrow.parquet as pq
    import flows.stages.ingest, flows.stages, flows.storage.warehouse

    stage, point = sys.argv[3], sys.argv[4]
    armed = False

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def torn(real):
        # the first Parquet file the stage writes is left half written: the process dies during the write
        def write(self, path, *args, **kwargs):
            result = real(self, path, *args, **kwargs)
            if armed:
                size = os.path.getsize(path)
                os.truncate(path, size // 2)
                die()
            return result
        return write

    def after(module, name):
        real = getattr(module, name)
        def hooked(*args, **kwargs):
            result = real(*args, **kwargs)
            if armed:
                die()
            return result
        setattr(module, name, hooked)

    if point == "torn-parquet":
        pl.DataFrame.write_parquet = torn(pl.DataFrame.write_parquet)
        pl.LazyFrame.sink_parquet = torn(pl.LazyFrame.sink_parquet)
        pq.write_table = torn(pq.write_table)  # frames with list columns
    elif point == "first-file-loaded":
        after(flows.stages.ingest, "_swap_in")
    elif point == "first-table-built":
        after(flows.storage.warehouse, "_replace_cycle_rows")

    def arming(name, function):
        def run(cycle):
            global armed
            armed = name == stage
            return function(cycle)
        return run

    flows.stages.STAGES = tuple((name, arming(name, function)) for name, function in flows.stages.STAGES)
    """
)

KILL_POINTS = [
    ("ingest", "torn-parquet"),
    ("ingest", "first-file-loaded"),
    ("validate", "torn-parquet"),
    ("link", "torn-parquet"),
    ("features", "torn-parquet"),
    ("type", "torn-parquet"),
    ("publish", "torn-parquet"),
    ("publish", "first-table-built"),
]


def test_every_stage_has_a_kill_point():
    assert {stage for stage, _ in KILL_POINTS} == {name for name, _ in STAGES}


@pytest.mark.parametrize(("stage", "point"), KILL_POINTS, ids=[f"{s}-{p}" for s, p in KILL_POINTS])
def test_a_run_killed_mid_stage_leaves_the_published_state_and_the_next_run_completes_it(
    earlier_home, undisturbed, tmp_path, stage, point
):
    home = copy_of(earlier_home, tmp_path)
    before = published_files(home)

    killed = subprocess.run(
        python_command(HOOK, str(home), LATER.isoformat(), stage, point), capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    assert published_files(home) == before
    assert not cycle_of(home, LATER).out_dir.exists()
    with home_lock(home, "the next run", wait_seconds=0, on_wait=pytest.fail):
        pass

    cycle = cycle_of(home, LATER)
    execute(cycle)
    assert cycle_outputs(cycle) == cycle_outputs(undisturbed)
    assert warehouse_rows(cycle.warehouse) == warehouse_rows(undisturbed.warehouse)
    earlier = cycle_of(home, EARLIER).out_dir.relative_to(home)
    assert {k: v for k, v in published_files(home).items() if k.startswith(str(earlier))} == {
        k: v for k, v in before.items() if k.startswith(str(earlier))
    }
    assert sorted(os.listdir(cycle.out_dir.parent)) == ["41-20240731", "41-20250731"]
    assert not (home / "warehouse.duckdb.building").exists() and not (home / "warehouse.duckdb.wal").exists()
