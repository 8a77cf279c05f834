"""Fixtures shared by several test modules; each module's own fixtures stay in the module."""

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import settings

from flows.secret import DEVELOPMENT_SECRET, SECRET_VARIABLE
from flows.stages import execute
from synth.generate import generate
from synth.world import Plan
from tests.support.faults import LATER, copy_of, cycle_of, generated_inboxes, home_with_earlier_cycle

ROOT = Path(__file__).resolve().parent.parent

# no wall-clock limit in a test (hypothesis's default 200 ms deadline fails on a loaded 2-core machine)
settings.register_profile("getihu", deadline=None)
settings.load_profile("getihu")


@pytest.fixture(scope="session")
def real_run(tmp_path_factory):
    """One real ``getihu run`` through an ephemeral Prefect server (about 30 s), as ``make run`` does it, on a
    generated inbox of province 41 with injected faults: the home and the finished process (stdout, stderr)."""
    home = tmp_path_factory.mktemp("real-run")
    generate(Plan("41", 2025, 300, seed=3, faults=0.01), home / "inbox" / "41" / "2025", lambda *_: None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env[SECRET_VARIABLE] = DEVELOPMENT_SECRET
    command = [str(ROOT / ".venv" / "bin" / "getihu"), "run", "--province", "41", "--year", "2025"]
    # a few faults in a source of 30 rows pass the default 5% threshold by chance
    command += ["--home", str(home), "--quarantine-threshold", "0.5"]
    return home, subprocess.run(command, capture_output=True, text=True, env=env, cwd=home)


@pytest.fixture(scope="session")
def fault_inboxes(tmp_path_factory):
    """Generated inboxes of province 41 for 2024 and 2025 (tests/support/faults.py)."""
    return generated_inboxes(tmp_path_factory.mktemp("fault-inboxes"))


@pytest.fixture(scope="session")
def earlier_home(fault_inboxes, tmp_path_factory):
    """A home with the 2024 cycle published and the 2025 inbox delivered; tests work on a copy (``copy_of``)."""
    return home_with_earlier_cycle(fault_inboxes, tmp_path_factory.mktemp("earlier") / "home")


@pytest.fixture(scope="session")
def undisturbed(earlier_home, tmp_path_factory):
    """The 2025 cycle run in a copy of ``earlier_home`` without a fault: what every disturbed run must equal."""
    cycle = cycle_of(copy_of(earlier_home, tmp_path_factory.mktemp("undisturbed")), LATER)
    execute(cycle)
    return cycle
