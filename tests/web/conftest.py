"""Fixtures of the web front's tests: one typed home per session, one server and one browser per module."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.objections.support import Clock
from tests.web.support import chromium, copy_home, served, typed_home

#: The web front's day in these tests: ten days after the cycle was published (within the 30-day filing period).
TODAY = dt.date(2025, 8, 11)


@pytest.fixture(scope="session")
def typed(tmp_path_factory):
    """A small typed and published province-41 home, shared read-only (copy it before changing it)."""
    return typed_home(tmp_path_factory.mktemp("web-typed") / "home")


@pytest.fixture(scope="module")
def web_home(typed, tmp_path_factory):
    """This module's own copy of the typed home (objections filed here stay in this module)."""
    return copy_home(typed, tmp_path_factory.mktemp("web-home") / "home")


@pytest.fixture(scope="module")
def server(web_home):
    with served(web_home, clock=Clock(TODAY)) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, server):
    """A fresh browser page (own cookies) on the module's server; ``page.goto("/")`` is relative to it."""
    context = browser.new_context(base_url=server.url, locale="zh-CN")
    context.set_default_timeout(0)  # no wall-clock limit: a loaded machine is slow, not wrong
    page = context.new_page()
    yield page
    context.close()
