"""Render a run report in headless Chromium and save a screenshot — a documented check, not a test.

    .venv/bin/python tools/report_screenshot.py [--report out/41/41-20250731/report.html] [--out report.png]
    .venv/bin/python tools/report_screenshot.py --monitoring [--out monitoring.png]      # getihu monitor's page
    .venv/bin/python tools/report_screenshot.py --report out/41/monitoring/monitoring.html --tiles 5

Without ``--report`` it publishes two cycles of the small test fixture (tests/support/stage_fixture.py) in a
temporary home and shoots the second one's report, which has every section filled. Needs Debian's
``chromium`` and a CJK font (``apt-get install -y chromium fonts-noto-cjk``); the test suite does not.
Chromium gets no network and a fresh profile, so the shot also shows that the page needs nothing
from outside the file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TILE_HEIGHT = 1300


def fixture_report(home: Path) -> Path:
    """Publish the fixture's 2024 and 2025 cycles under ``home``; return the 2025 report."""
    sys.path.insert(0, str(ROOT))
    from flows.stages.publish import publish
    from tests.support.stage_fixture import Fixture, write_cycle

    publish(write_cycle(home, Fixture(as_of=dt.date(2024, 7, 31), started_at="2024-08-01T02:00:00+08:00")))
    later = Fixture().with_types(
        {1: ("不符合分型条件", ("SERIOUS",)), 2: ("发展型", ("发展A",)), 8: ("成长型", ("成长A",))}
    )
    cycle = write_cycle(home, later)
    publish(cycle)
    return cycle.out_dir / "report.html"


def fixture_monitoring(home: Path) -> Path:
    """Publish the fixture's 2024 and 2025 yearly cycles and an extra cycle after them under ``home``, run
    ``getihu monitor`` on them; return its ``monitoring.html``."""
    sys.path.insert(0, str(ROOT))
    from dataclasses import replace

    from flows.monitoring.page import default_out, write_monitoring
    from flows.stages.publish import publish
    from tests.support.stage_fixture import Fixture, write_cycle

    fixture = Fixture()
    publish(write_cycle(home, replace(fixture, as_of=dt.date(2024, 7, 31))))
    grown = fixture.with_types({fixture.businesses[0].n: ("发展型", ("发展A",))})
    publish(write_cycle(home, replace(grown, as_of=dt.date(2025, 7, 31))))
    publish(write_cycle(home, replace(fixture, as_of=dt.date(2025, 9, 30))))
    return write_monitoring(home, "41", default_out(home, "41")).page


def tile_page(report: Path, offset: int, width: int, height: int) -> str:
    """A page that shows ``report`` from ``offset`` pixels down, so a tall report can be shot in readable pieces."""
    return (
        '<!DOCTYPE html><html><body style="margin:0;overflow:hidden">'
        f'<iframe src="{report.resolve().as_uri()}" style="position:absolute;top:-{offset}px;left:0;'
        f'width:{width}px;height:{offset + height}px;border:0"></iframe></body></html>'
    )


def _chromium() -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium is not installed: apt-get install -y chromium fonts-noto-cjk")
    return chromium


_MEASURE = (
    "<script>window.addEventListener('load', () => "
    "{ document.title = 'height:' + document.documentElement.scrollHeight; });</script>"
)


def page_height(report: Path, width: int) -> int | None:
    """The report's height in pixels at ``width``, as Chromium lays it out (None when it cannot be measured)."""
    with tempfile.TemporaryDirectory(prefix="getihu-measure-") as scratch:
        measured = Path(scratch) / "measured.html"
        measured.write_text(report.read_text(encoding="utf-8") + _MEASURE, encoding="utf-8")
        with tempfile.TemporaryDirectory(prefix="getihu-chromium-") as profile:
            done = subprocess.run(
                [
                    _chromium(),
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    f"--user-data-dir={profile}",
                    f"--window-size={width},{TILE_HEIGHT}",
                    "--virtual-time-budget=5000",
                    "--dump-dom",
                    measured.as_uri(),
                ],
                check=False,
                capture_output=True,
                timeout=120,
            )
    found = re.search(rb"height:(\d+)", done.stdout or b"")
    return int(found[1]) if found else None


def tiles_needed(height: int | None, requested: int) -> int:
    """How many of the ``requested`` tiles of ``TILE_HEIGHT`` pixels hold part of a page ``height`` pixels tall: a
    tile past the end would be blank (all of them when the height is unknown)."""
    if height is None:
        return requested
    return min(requested, max(1, math.ceil(height / TILE_HEIGHT)))


def screenshot(report: Path, png: Path, width: int, height: int) -> None:
    chromium = _chromium()
    png.unlink(missing_ok=True)  # a shot left from an earlier call must not pass for this one
    with tempfile.TemporaryDirectory(prefix="getihu-chromium-") as profile:
        done = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--screenshot={png.resolve()}",
                f"--window-size={width},{height}",
                report.resolve().as_uri(),
            ],
            check=False,
            capture_output=True,
            timeout=120,
        )
    if done.returncode != 0 or not png.is_file() or png.stat().st_size == 0:
        sys.exit(
            f"chromium wrote no screenshot to {png} (exit {done.returncode}): "
            f"{(done.stderr or b'').decode(errors='replace').strip()[-500:]}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="a report.html (or monitoring.html); default: the fixture's")
    parser.add_argument(
        "--monitoring", action="store_true", help="without --report: the fixture's monitoring.html (getihu monitor)"
    )
    parser.add_argument("--out", type=Path, default=Path("report.png"), help="the PNG to write")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=5200, help="the page is cut at this height")
    parser.add_argument("--tiles", type=int, default=0, help="also write N shots of 1,300 pixels each, top to bottom")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="getihu-report-") as home:
        report = args.report or (fixture_monitoring if args.monitoring else fixture_report)(Path(home))
        screenshot(report, args.out, args.width, args.height)
        print(f"{args.out} ({args.width}×{args.height}) from {args.report or 'the fixture report'}")
        tiles = tiles_needed(page_height(report, args.width), args.tiles) if args.tiles else 0
        if tiles < args.tiles:
            print(f"the report fills {tiles} tile(s) of {TILE_HEIGHT} pixels; not writing the blank ones past its end")
        for i in range(tiles):
            tile = Path(home) / f"tile-{i + 1}.html"
            tile.write_text(tile_page(report, i * TILE_HEIGHT, args.width, TILE_HEIGHT), encoding="utf-8")
            png = args.out.with_name(f"{args.out.stem}-{i + 1}{args.out.suffix}")
            screenshot(tile, png, args.width, TILE_HEIGHT)
            print(png)


if __name__ == "__main__":
    main()
