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
