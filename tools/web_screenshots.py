"""Serve a demo home's web front and save a PNG of each page — a documented check, not a test.

    .venv/bin/python tools/web_screenshots.py [--home DIR] [--out web-screenshots/]

Without ``--home`` it types the small province of the web tests (tests/web/support.py: four businesses of
郑州市金水区, published 1 August 2025) in a temporary home. Each page is shot at desktop width and at a phone's
(375 px), and the business page also as printed (A4 PDF's first page is not rasterised: its print stylesheet is
shot with ``emulate_media(media="print")``). Needs Debian's ``chromium`` and a CJK font (``fonts-noto-cjk``).

To add a page, add a ``Shot`` to ``SHOTS`` — a name, an address, and optionally a function that acts on the
page first (fill a form, log in): the handlers' desk adds its pages the same way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.objections.support import Clock  # noqa: E402
from tests.support.inbox import resident_id, uscc  # noqa: E402
from tests.web.support import chromium, served, typed_home  # noqa: E402


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    act: Callable | None = None  # called with the Playwright page after it loaded
    media: str = "screen"


def _objection(operator_id: str) -> Callable:
    def fill(page) -> None:
        page.get_by_label("经营者姓名").fill("张三")
        page.get_by_label("经营者身份证件号码").fill(operator_id)
        page.get_by_label("您认为应当的分型结果").select_option("发展型")
        page.get_by_label("异议理由").fill("上年度已缴纳税款，分型结果未计入")
        page.get_by_label("联系电话").fill("13812345678")
        page.get_by_role("button", name="提交异议").click()
        page.wait_for_load_state()

    return fill


SHOTS = [
    Shot("01-index", "/"),
    Shot("02-search-name", "/search?q=小店"),
    Shot("03-search-uscc", f"/search?q={uscc(3)}"),
    Shot("04-business", f"/business/{uscc(3)}"),
    Shot("05-business-print", f"/business/{uscc(3)}", media="print"),
    Shot("06-standard-41", "/standard/41"),
    Shot("07-standard-23", "/standard/23"),
    Shot("08-objection-form", f"/objection?uscc={uscc(4)}"),
    Shot("09-objection-refused", f"/objection?uscc={uscc(4)}", _objection(resident_id(7))),
    Shot("10-objection-filed", f"/objection?uscc={uscc(4)}", _objection(resident_id(4))),
    Shot("11-not-found", "/business/000000000000000000"),
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 740}}


def shoot(home: Path, out: Path, shots: list[Shot] = SHOTS) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with served(home, clock=Clock(dt.date(2025, 8, 11))) as server, chromium() as browser:
        for viewport_name, viewport in VIEWPORTS.items():
            for shot in shots:
                if viewport_name == "phone" and shot.media == "print":
                    continue
                context = browser.new_context(base_url=server.url, locale="zh-CN", viewport=viewport)
                page = context.new_page()
                page.emulate_media(media=shot.media)
                page.goto(shot.path)
                if shot.act:
                    shot.act(page)
                path = out / f"{shot.name}-{viewport_name}.png"
                page.screenshot(path=str(path), full_page=True)
                written.append(path)
                context.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a typed home (default: the web tests' small province)")
    parser.add_argument("--out", type=Path, default=Path("web-screenshots"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or typed_home(Path(scratch) / "home")
        for path in shoot(home, args.out):
            print(path)


if __name__ == "__main__":
    main()
