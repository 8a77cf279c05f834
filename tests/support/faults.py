"""Helpers for the fault tests: homes holding a published earlier cycle, and what a home has published.

A home here holds two generated inboxes of province 41: 2024 (already typed and published) and 2025 (the run
under test). Generating and typing the earlier cycle once per session and copying the home keeps each fault
test to one disturbed run and one rerun.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from flows.home import Cycle
from flows.secret import SECRET_VARIABLE
from flows.stages import execute
from flows.storage.warehouse import TABLES
from synth.generate import generate
from synth.world import Plan

SECRET = b"fault test key"
EARLIER = dt.date(2024, 7, 31)
LATER = dt.date(2025, 7, 31)
DATA_FILES = ("submission.csv", "submission.parquet", "public.csv", "quarantine.csv")
#: Columns of ``cycles`` that say when and how fast a run went (docs/architecture.md, "byte-identical").
RUN_DEPENDENT = {"cycles": ("started_at", "published_at", "stages")}

#: Runs a cycle of ``home`` in a process of its own: ``python -c RUN_CYCLE home as_of``. Test hooks are
#: installed by prepending code to it.
RUN_CYCLE = """
import datetime as dt, sys
from pathlib import Path
from flows.secret import SECRET_VARIABLE
from flows.home import Cycle
from flows.stages import execute
execute(Cycle(province="41", as_of=dt.date.fromisoformat(sys.argv[2]), home=Path(sys.argv[1]), secret=SECRET))
"""


def cycle_of(home: Path, as_of: dt.date) -> Cycle:
    return Cycle(province="41", as_of=as_of, home=home, secret=SECRET)


def generated_inboxes(folder: Path) -> Path:
    """Two years of province 41 under ``folder/inbox``, with their ground truth beside each year."""
    for year, businesses in ((2024, 300), (2025, 300)):
        generate(Plan("41", year, businesses, seed=11), folder / "inbox" / "41" / str(year), lambda *_: None)
    return folder


def home_with_earlier_cycle(inboxes: Path, home: Path) -> Path:
    """A home whose 2024 cycle is published and whose 2025 inbox is delivered but not yet typed."""
    for year in ("2024", "2025"):
        shutil.copytree(inboxes / "inbox" / "41" / year, home / "inbox" / "41" / year)
    execute(cycle_of(home, EARLIER))
    return home


def published_files(home: Path) -> dict[str, bytes]:
    """Every published file of the home, by path: the visible files under ``out/`` and the warehouse.

    Names starting with a dot (a cycle folder being built or set aside) are a run's scratch, not published.
    """
    files = {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted((home / "out").rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(home).parts)
    }
    files["warehouse.duckdb"] = (home / "warehouse.duckdb").read_bytes()
    return files


def warehouse_rows(warehouse: Path) -> dict[str, list[tuple]]:
    """Every row of every warehouse table, sorted, without the columns that differ from run to run."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = {}
        for table in TABLES:
            excluded = RUN_DEPENDENT.get(table, ())
            columns = "* EXCLUDE (" + ", ".join(excluded) + ")" if excluded else "*"
            rows[table] = con.execute(f"SELECT {columns} FROM {table} ORDER BY ALL").fetchall()
    return rows


def cycle_outputs(cycle: Cycle) -> dict[str, object]:
    """What must equal between two runs of a cycle: the data files' bytes and the manifest but generated_at."""
    manifest = json.loads((cycle.out_dir / "manifest.json").read_text(encoding="utf-8"))
    del manifest["generated_at"]
    return {"manifest": manifest, **{name: (cycle.out_dir / name).read_bytes() for name in DATA_FILES}}


def python_command(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", f"SECRET = {SECRET!r}\n{code}\n{RUN_CYCLE}", *args]


#: ``getihu run`` with the Prefect flow replaced by the same stages called directly (a Prefect server costs
#: ~20 s a run; tests/e2e/test_cli_run.py runs one for real). Test hooks are installed by prepending code to it.
CLI_WITHOUT_PREFECT = """
import sys
from pathlib import Path
import flows.cli, flows.cycle
from flows.home import cycle_for
from flows.secret import secret_from_environment
from flows.stages import execute

def typing_cycle(province, as_of, home, inbox, ruleset, quarantine_threshold, quarantine_minimum=None, year=None):
    secret = secret_from_environment()
    limits = (quarantine_threshold, quarantine_minimum)
    cycle = cycle_for(province, as_of, year, Path(home), inbox, ruleset, secret, *limits)
    return execute(cycle).to_json()

flows.cycle.typing_cycle = typing_cycle
sys.argv = ["getihu", "run", *sys.argv[1:]]
flows.cli.main()
"""


def environment(**extra: str) -> dict[str, str]:
    """The environment of a ``getihu run`` process: the test key, and no Prefect server to start or reach."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**env, SECRET_VARIABLE: SECRET.decode(), "PREFECT_API_URL": "http://127.0.0.1:9/api", **extra}


def getihu_run(hook: str, *args: str, env: dict[str, str] | None = None, wait: bool = True):
    """``getihu run ARGS`` in a process of its own, with ``hook`` installed first: its outcome, or (``wait=False``)
    the running process, its stderr a pipe."""
    command = [sys.executable, "-c", f"{hook}\n{CLI_WITHOUT_PREFECT}", *args]
    if not wait:
        return subprocess.Popen(
            command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env or environment()
        )
    return subprocess.run(command, capture_output=True, text=True, env=env or environment())


def copy_of(home: Path, folder: Path) -> Path:
    """A copy of ``home`` in ``folder``: the raw layer finds its files again by the inbox's new path."""
    copy = folder / "home"
    shutil.copytree(home, copy, symlinks=True)
    return copy
