"""The tiny published cycle every objection test starts from, built once per session and copied per test."""

from __future__ import annotations

import pytest

from tests.objections.support import copy_home, published_cycle


@pytest.fixture(scope="session")
def published_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("objections-published") / "home"
    published_cycle(home)
    return home


@pytest.fixture
def home(published_home, tmp_path):
    """A copy of the published home for one test to change."""
    return copy_home(published_home, tmp_path / "home")
