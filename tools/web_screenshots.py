"""Serve a demo home's web front and save a PNG of each page — a documented check, not a test.

    .venv/bin/python tools/web_screenshots.py [--home DIR] [--out web-screenshots/]

Without ``--home`` it types the small province of the web tests (tests/web/support.py: four businesses of
郑州市金水区, published 1 August 2025) in a temporary home. Each page is shot at desktop width and at a phone's
(375 px), and the business page also as printed (A4 PDF's first page is not rasterised: its print stylesheet is
shot with ``emulate_media(media="print")``). Needs Debian's ``chromium`` and a CJK font (``fonts-noto-cjk``).

To add a page, add a ``Shot`` to ``SHOTS`` — a name, an address, and optionally a function that acts on the
page first (fill a form, log in): the handlers' desk adds its pages the same way (``DESK_SHOTS``: the login page,
the queue with an overdue objection, an objection received, one re-judged with a correction, one answered, and its
reply letter on screen and printed). The desk's pages are shot only in the temporary home, where ``desk_demo``
files those objections and a demo handler's account; a ``--home`` given is never changed.
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

from tests.objections.support import SECRET, Clock, objection_row, tax_correction_rows  # noqa: E402
from tests.support.inbox import resident_id, uscc, write_csv  # noqa: E402
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
#: The demo handler of the desk's shots (``desk_demo``).
DESK_LOGIN, DESK_PASSWORD = "wangwu", "demo-password-not-for-production"


def _logged_in(page) -> None:
    """On the login page the desk sent an anonymous visitor to: log in, and land where it was going."""
    page.fill("#login", DESK_LOGIN)
    page.fill("#password", DESK_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def _logged_in_printed(page) -> None:
    """As ``_logged_in``, the page then shown as printed (the print stylesheet hides the login button)."""
    page.emulate_media(media="screen")
    _logged_in(page)
    page.emulate_media(media="print")


DESK_SHOTS = [
    Shot("12-desk-login", "/desk/login"),
    Shot("13-desk-queue", "/desk", _logged_in),
    Shot("14-desk-objection-received", "/desk/objections/YY-2025-0002", _logged_in),
    Shot("15-desk-objection-rejudged", "/desk/objections/YY-2025-0001", _logged_in),
    Shot("16-desk-objection-replied", "/desk/objections/YY-2025-0003", _logged_in),
    Shot("17-desk-reply", "/desk/objections/YY-2025-0003/reply", _logged_in),
    Shot("18-desk-reply-print", "/desk/objections/YY-2025-0003/reply", _logged_in_printed, media="print"),
]


def desk_demo(home: Path) -> None:
    """The desk's demo objections in a (temporary) typed home, handled as of 11 August 2025 by the desk functions:
    YY-2025-0001 accepted, the tax office's confirmation attached, re-judged (生存型 → 发展型, awaiting a decision);
    YY-2025-0002 received on 1 August and not accepted in 5 working days (overdue); YY-2025-0003 re-judged, 维持,
    replied. And the demo handler's account."""
    from flows.objections.accounts import open_accounts
    from flows.objections.decisions import decide
    from flows.objections.desk import Desk, accept, attach, import_objections, run_rejudgment
    from flows.objections.reply import reply
    from schemas.objections import Decision

    desk = Desk(home=home, secret=SECRET, clock=Clock(dt.date(2025, 8, 11)))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        late = write_csv(folder / "late.csv", [objection_row("YY-2025-0002", 2, "2025-08-01")])
        import_objections(desk, late, "登记员", received_on=dt.date(2025, 8, 1))
        rows = [objection_row("YY-2025-0001", 1), objection_row("YY-2025-0003", 3, 主张分型="发展型")]
        import_objections(desk, write_csv(folder / "objection.csv", rows), "登记员")
        for number in ("YY-2025-0001", "YY-2025-0003"):
            accept(desk, number, "王五")
        attach(desk, "YY-2025-0001", [write_csv(folder / "c" / "tax_payment.csv", tax_correction_rows())], "王五")
        run_rejudgment(desk, "YY-2025-0001", "王五")
        run_rejudgment(desk, "YY-2025-0003", "王五")
        decide(desk, "YY-2025-0003", Decision.MAINTAIN, "成立已满6年（成长D），发展型条件均未满足", "王五")
        reply(desk, "YY-2025-0003", "王五")
    with open_accounts(home) as accounts:
        accounts.add(DESK_LOGIN, "王五", DESK_PASSWORD)


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
                context.set_default_timeout(0)
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
        shots = SHOTS
        home = args.home
        if home is None:
            home = typed_home(Path(scratch) / "home")
            desk_demo(home)
            shots = SHOTS + DESK_SHOTS
        for path in shoot(home, args.out, shots):
            print(path)


if __name__ == "__main__":
    main()
