"""``national run``: three small provinces' cycles as Prefect tasks on a 2-worker local Dask cluster, one worker
killed midway; the flow still completes, and a rerun reruns only what failed or changed (national.md)."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from tests.national.conftest import ROOT, synthetic_ruleset

YEAR = 2025
PROVINCES = ("32", "33", "41")  # 41 is typed by its filed standard, 32 and 33 by explicitly passed copies
UNFILED = "34"  # no filed standard and none passed: refused, as `getihu run` refuses it


@pytest.fixture(scope="module")
def generating(tmp_path_factory):
    """Three provinces' inboxes being made by `getihu generate` (300 businesses each), in the background."""
    home = tmp_path_factory.mktemp("national-run")
    running = []
    for seed, province in enumerate(PROVINCES):
        inbox = home / "provinces" / province / "inbox" / province / str(YEAR)
        command = [str(ROOT / ".venv" / "bin" / "getihu"), "generate", "--province", province, "--year", str(YEAR)]
        command += ["--businesses", "300", "--seed", str(seed), "--out", str(inbox)]
        running.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    return home, running


@pytest.fixture(scope="module")
def prefect_api(generating, tmp_path_factory):
    """One temporary Prefect API for the module (starting one takes 15–40 s here), shared with the workers."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    home = tmp_path_factory.mktemp("prefect-home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PREFECT_HOME", str(home))
        env.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        env.setenv("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        env.delenv("PREFECT_API_URL", raising=False)
        with temporary_settings(updates={PREFECT_HOME: str(home)}):
            server = SubprocessASGIServer()
            server.start(timeout=300)
            env.setenv("PREFECT_API_URL", server.api_url)  # workers spawned from here on inherit it
            with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
                yield server.api_url
            server.stop()


@pytest.fixture(scope="module")
def national_home(generating, prefect_api):
    """The national home once the generators (started before the server) are done."""
    home, running = generating
    for process in running:
        _, errors = process.communicate()
        assert process.returncode == 0, errors.decode()
    return home


def kill_a_busy_worker(cluster: LocalCluster, home: Path, killed: list) -> None:
    """Once a province's cycle has started, SIGKILL the worker process running a task (its nanny restarts it)."""
    with Client(cluster) as client:
        while not killed:
            if any((home / "provinces" / p / "work").exists() for p in PROVINCES):
                busy = [address for address, keys in client.processing().items() if keys]
                for nanny in cluster.workers.values():
                    if busy and nanny.worker_address == busy[0] and nanny.process and nanny.process.pid:
                        pid = nanny.process.pid
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
            time.sleep(0.2)


def test_national_run_survives_a_killed_worker_and_reruns_only_what_changed(prefect_api, national_home, monkeypatch):
    from flows.national.run import run_national

    monkeypatch.setenv("GETIHU_SECRET", "national-run-test-key")
    rulesets = {p: str(synthetic_ruleset(p, national_home)) for p in ("32", "33")}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        killed: list[int] = []
        killer = threading.Thread(target=kill_a_busy_worker, args=(cluster, national_home, killed), daemon=True)
        killer.start()
        record = run_national(
            YEAR,
            [*PROVINCES, UNFILED],
            national_home,
            rulesets=rulesets,
            dask_address=cluster.scheduler_address,
        )
        killer.join(timeout=0)
        assert killed, "no worker was killed: the cycles ended before the killer saw one start"
        results = {r["province"]: r for r in record["provinces"]}
        assert {p: results[p]["status"] for p in PROVINCES} == {p: "ran" for p in PROVINCES}
        assert results[UNFILED]["status"] == "failed"
        assert "没有备案的分型标准" in results[UNFILED]["error"] and "34" in results[UNFILED]["error"]
        statuses = record["assembly"]["statuses"]
        # the packages arrive now, after 15 August 2025: accepted, marked late
        assert {p: statuses[p] for p in PROVINCES} == {p: "late" for p in PROVINCES}
        assert statuses[UNFILED] == "missing"
        for p in PROVINCES:
            assert (national_home / "inbox" / str(YEAR) / p / "manifest.json").is_file()

        # a re-delivered file in 33's inbox: only 33 runs again (34 still fails: nothing was filed for it)
        touched = next((national_home / "provinces" / "33" / "inbox" / "33" / str(YEAR)).glob("registration.*"))
        os.utime(touched)
        again = run_national(
            YEAR, [*PROVINCES, UNFILED], national_home, rulesets=rulesets, dask_address=cluster.scheduler_address
        )
        assert {r["province"]: r["status"] for r in again["provinces"]} == {
            "32": "unchanged",
            "33": "ran",
            "41": "unchanged",
            UNFILED: "failed",
        }
    report = Path(again["assembly"]["report"]).read_text(encoding="utf-8")
    assert "江苏省（32）" in report and "逾期接收" in report
