"""The web front under test: a small typed province home, the app served by uvicorn on a free port in a thread,
and Debian's Chromium driven by Playwright (never ``playwright install``: the office machine has no outside network).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from flows.web.app import create_app
from flows.web.security import WebLimits
from tests.objections.support import SECRET, published_cycle

#: Debian's package (``apt-get install chromium``; .ci/run installs it).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
#: Limits high enough that a test module's own pages never hit them (the limit tests set their own).
ROOMY = WebLimits(search="10000/minute", filing="10000/minute")


def typed_home(home: Path) -> Path:
    """The tiny province-41 cycle of the objection tests, typed and published into ``home`` (four businesses,
    hand-made rows: tests/objections/support.py); its personal IDs are keyed with ``SECRET``."""
    published_cycle(home)
    return home


def copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 and a free port, in a thread of this process."""

    def __init__(self, app) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn stopped before it started serving")
            self.thread.join(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join()
        self.socket.close()


@contextlib.contextmanager
def served(home: Path, **options) -> Iterator[LiveServer]:
    options.setdefault("secret", SECRET)
    options.setdefault("limits", ROOMY)
    with LiveServer(create_app(home, **options)) as server:
        yield server


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium (Debian's) through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
