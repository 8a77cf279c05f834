"""Fixtures shared by several test modules; each module's own fixtures stay in the module."""

import pytest

from flows.stages import execute
from tests.faults import LATER, copy_of, cycle_of, generated_inboxes, home_with_earlier_cycle


@pytest.fixture(scope="session")
def fault_inboxes(tmp_path_factory):
    """Generated inboxes of province 41 for 2024 and 2025 (tests/faults.py)."""
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
