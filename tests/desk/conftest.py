"""Fixtures of the handlers' desk tests: a clock to move, and a cheap password hasher where the cost of Argon2 is
not what a test is about (the production parameters take about half a second a hash here)."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher

from flows.objections import accounts

CHINA = dt.timezone(dt.timedelta(hours=8))


class MovingClock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture
def clock():
    return MovingClock(dt.datetime(2025, 8, 11, 9, 0, tzinfo=CHINA))


@pytest.fixture
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def desk_published(tmp_path_factory):
    """The desk's tiny published cycle (tests/desk/support.py), built once per session."""
    from tests.desk.support import desk_cycle

    home = tmp_path_factory.mktemp("desk-published") / "home"
    desk_cycle(home)
    return home


@pytest.fixture
def desk_home(desk_published, tmp_path):
    """A copy of it for one test to change."""
    from tests.objections.support import copy_home

    return copy_home(desk_published, tmp_path / "home")
