"""Issue 14, finding 8: tools/report_screenshot.py fails when Chromium wrote nothing, instead of reporting success."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_chromium_that_writes_nothing_makes_the_tool_fail(tmp_path):
    fake = tmp_path / "bin" / "chromium"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    fake.chmod(0o755)
    report = tmp_path / "report.html"
    report.write_text("<html><body>报告</body></html>", encoding="utf-8")
    env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}"}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "report_screenshot.py"),
            "--report",
            str(report),
            "--out",
            str(tmp_path / "shot.png"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode != 0 and "wrote no screenshot" in done.stderr
    assert not (tmp_path / "shot.png").exists()


FAKE_CHROMIUM = """#!/bin/sh
# a stand-in for Chromium: the page measures 2,000 pixels; a screenshot is a few bytes
for arg in "$@"; do
  case "$arg" in
    --dump-dom) echo "<html><head><title>height:2000</title></head></html>"; exit 0 ;;
    --screenshot=*) printf 'png' > "${arg#--screenshot=}" ;;
  esac
done
exit 0
"""


def test_tiles_past_the_end_of_the_report_are_not_written(tmp_path):
    """Issue 14, finding 8: --tiles 4 on a report 2,000 pixels tall wrote two blank tiles; now only the two that
    show the report are written, and the tool says so."""
    fake = tmp_path / "bin" / "chromium"
    fake.parent.mkdir()
    fake.write_text(FAKE_CHROMIUM, encoding="utf-8")
    fake.chmod(0o755)
    report = tmp_path / "report.html"
    report.write_text("<html><body>报告</body></html>", encoding="utf-8")
    env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}"}
    command = [sys.executable, str(ROOT / "tools" / "report_screenshot.py"), "--report", str(report)]
    command += ["--out", str(tmp_path / "shot.png"), "--tiles", "4"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.glob("shot*.png")) == ["shot-1.png", "shot-2.png", "shot.png"]
    assert "fills 2 tile(s)" in done.stdout
