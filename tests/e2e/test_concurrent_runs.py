"""Two runs at once on one home, and an analyst holding the warehouse open read-write while a run publishes.

What a user can expect (docs/architecture.md, "Publishing"): a second run waits for the first, says whom it
waits for, and then runs; a read-only analyst session is never disturbed (tests/e2e/test_cycle.py,
tests/contract/test_warehouse.py); a read-write session does not stop the scheduled run either: publish warns and goes
ahead, and the session keeps the file it opened (tests/contract/test_warehouse_reference.py).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb

from flows.stages import execute
from flows.stages.publish import publish
from tests.support.faults import (
    LATER,
    copy_of,
    cycle_of,
    cycle_outputs,
    getihu_run,
    python_command,
    warehouse_rows,
)
from tests.support.stage_fixture import write_cycle

ANALYST = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])  # read-write, nothing written yet: no write-ahead log betrays it
    print("open", flush=True)
    sys.stdin.readline()  # the run happens now
    con.close()
    """
)


def test_publish_goes_ahead_while_an_analyst_holds_the_warehouse_read_write(earlier_home, undisturbed, tmp_path):
    home = copy_of(earlier_home, tmp_path)
    session = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(home / "warehouse.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert session.stdout.readline() == "open\n"
    cycle = cycle_of(home, LATER)
    try:
        execute(cycle)  # the scheduled run completes: the client keeps the file it opened
    finally:
        session.stdin.write("\n")
        session.stdin.flush()
        assert session.wait() == 0
    assert cycle_outputs(cycle) == cycle_outputs(undisturbed)
    assert warehouse_rows(cycle.warehouse) == warehouse_rows(undisturbed.warehouse)


def test_a_table_an_analyst_added_is_carried_over_by_the_next_publish(tmp_path):
    cycle = write_cycle(tmp_path)
    publish(cycle)
    with duckdb.connect(str(cycle.warehouse)) as con:
        con.execute("CREATE TABLE analyst_notes AS SELECT '成长型复核' AS note")
    publish(cycle)
    with duckdb.connect(str(cycle.warehouse), read_only=True) as con:
        assert con.execute("SELECT note FROM analyst_notes").fetchall() == [("成长型复核",)]
        assert con.execute("SELECT count(*) FROM cycles").fetchone() == (1,)


#: Holds the run at the start of publish, with the home's lock, until told to go on.
PAUSE_AT_PUBLISH = textwrap.dedent(
    """
    import sys
    import flows.stages

    def paused(function):
        def run(cycle):
            print("publishing", flush=True)
            sys.stdin.readline()
            return function(cycle)
        return run

    flows.stages.STAGES = tuple(
        (name, paused(function) if name == "publish" else function) for name, function in flows.stages.STAGES
    )
    """
)


def test_a_second_run_in_another_process_waits_naming_the_first_then_both_complete(earlier_home, undisturbed, tmp_path):
    home = copy_of(earlier_home, tmp_path)
    first = subprocess.Popen(
        python_command(PAUSE_AT_PUBLISH, str(home), LATER.isoformat()),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert first.stdout.readline() == "publishing\n"
    second = getihu_run(
        "",
        "--province",
        "41",
        "--as-of",
        LATER.isoformat(),
        "--home",
        str(home),
        wait=False,
    )
    told = second.stderr.readline()  # the waiting run says so at once, before the first run goes on
    assert f"getihu run 41-20250731（进程 {first.pid}" in told and "最多等待" in told
    first.stdin.write("\n")
    first.stdin.close()
    assert first.wait() == 0, first.stderr.read()
    assert second.wait() == 0, second.stderr.read()
    assert cycle_outputs(cycle_of(home, LATER)) == cycle_outputs(undisturbed)
