"""What the Prefect machinery adds to a cycle: the same stages called directly, and run as the Prefect flow.

Each variant runs in a fresh child process on the same generated province and home, timed from the
parent (interpreter start-up and imports included, as a user waits for them), ``--repeat`` times:

- ``direct``: ``flows.stages.execute`` calling the stage functions (no Prefect imported);
- ``ephemeral``: the flow with no ``PREFECT_API_URL`` — Prefect starts a temporary server, as ``getihu run`` does;
- ``server``: the flow against a Prefect server started once beforehand (``PREFECT_API_URL`` set).

    .venv/bin/python bench/flow_overhead.py --businesses 20000 [--repeat 3] [--work /tmp/flow-overhead]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SECRET = "flow-overhead benchmark key"

DIRECT = """
import datetime as dt, os, sys
from pathlib import Path
from flows.home import Cycle
from flows.stages import execute
secret = os.environ["GETIHU_SECRET"].encode()
execute(Cycle(province="41", as_of=dt.date(2025, 7, 31), home=Path(sys.argv[1]), secret=secret))
"""

FLOW = """
import sys
from flows.cycle import typing_cycle
typing_cycle(province="41", year=2025, home=sys.argv[1])
"""


def child_env(prefect_home: Path, api_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "GETIHU_SECRET": SECRET,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def timed(code: str, home: Path, env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run([PYTHON, "-c", code, str(home)], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def started_server(prefect_home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = child_env(prefect_home, None)
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api"
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2)
            return server, url
        except OSError:
            if server.poll() is not None:
                raise SystemExit("the Prefect server did not start") from None
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--businesses", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/flow-overhead"))
    args = parser.parse_args()

    home, prefect_home = args.work / "home", args.work / "prefect"
    shutil.rmtree(args.work, ignore_errors=True)
    prefect_home.mkdir(parents=True)
    subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "getihu"),
            "generate",
            "--province",
            "41",
            "--year",
            "2025",
            "--businesses",
            str(args.businesses),
            "--out",
            str(home / "inbox" / "41" / "2025"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    timed(DIRECT, home, child_env(prefect_home, None))  # loads the raw layer once: every variant then reruns

    times: dict[str, list[float]] = {"direct": [], "ephemeral": [], "server": []}
    server, url = started_server(prefect_home)
    try:
        for _ in range(args.repeat):  # interleaved, so load on the shared machine hits every variant alike
            times["direct"].append(timed(DIRECT, home, child_env(prefect_home, None)))
            times["ephemeral"].append(timed(FLOW, home, child_env(prefect_home, None)))
            times["server"].append(timed(FLOW, home, child_env(prefect_home, url)))
    finally:
        server.terminate()
        server.wait()

    direct = statistics.median(times["direct"])
    print(f"province 41, {args.businesses:,} businesses, median of {args.repeat} (seconds, child process wall time)")
    print("| variant | median | runs | added to direct |")
    print("|---|---:|---|---:|")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"| {name} | {median:.1f} | {', '.join(f'{t:.1f}' for t in runs)} | {median - direct:+.1f} |")


if __name__ == "__main__":
    sys.exit(main())
