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
