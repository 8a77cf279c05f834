"""A full disk or a read-only home: one clear paragraph, exit 4, and nothing half-published.

The home lives on a small tmpfs mounted for this module (the tests run as root, as on the build machine; they
are skipped, saying why, where mounting is not allowed). A hook in the run's process fills the disk when the
chosen stage starts, so each stage meets the full disk at its first write, and publish also meets it with room
for the warehouse copy but not for the new cycle's rows.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from flows.errors import EXIT_STORAGE
from flows.stages import execute
from tests.support.faults import LATER, cycle_of, cycle_outputs, environment, getihu_run, published_files

#: Fills the file system holding FILLER when stage FILL_AT starts, leaving FILL_LEAVE bytes free.
FILL = textwrap.dedent(
    """
    import os
    import flows.stages

    def filled(function):
        def run(cycle):
            with open(os.environ["FILLER"], "wb", buffering=0) as filler:
                try:
                    while True:
                        filler.write(bytes(4096))
                except OSError:
                    pass
            size = os.path.getsize(os.environ["FILLER"])
            os.truncate(os.environ["FILLER"], max(0, size - int(os.environ["FILL_LEAVE"])))
            return function(cycle)
        return run

    flows.stages.STAGES = tuple(
        (name, filled(function) if name == os.environ["FILL_AT"] else function)
        for name, function in flows.stages.STAGES
    )
    """
)


def mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


def unmount(path: Path) -> None:
    subprocess.run(["umount", str(path)], check=True)


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory):
    """A 24 MB tmpfs: the home of a 300-business province with its cycle published takes about 6 MB (warehouse,
    work files, the checked tables kept for reuse), and a failed publish leaves its building copy beside it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; these tests run as root on the build machine")
    point = tmp_path_factory.mktemp("small-disk")
    mounted = mount("-t", "tmpfs", "-o", "size=24m", "tmpfs", str(point))
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield point
    unmount(point)


@pytest.fixture(scope="module")
def inboxes(fault_inboxes):
    return fault_inboxes


@pytest.fixture(scope="module")
def published_home(small_disk, inboxes):
    """A home on the small disk with the 2025 cycle published; the inbox stays on the ordinary disk.

    Shared by the tests: each leaves it as published (what they prove) and removes its filler."""
    home = small_disk / "home"
    execute(replace(cycle_of(home, LATER), inbox=inbox_of(inboxes)))
    return home


def inbox_of(inboxes: Path) -> Path:
    return inboxes / "inbox" / "41" / "2025"


def run_args(home: Path, inboxes: Path) -> list[str]:
    return ["--province", "41", "--as-of", LATER.isoformat(), "--home", str(home), "--inbox", str(inbox_of(inboxes))]


def assert_one_paragraph_and_nothing_published(done, home: Path, before: dict[str, bytes], reason: str) -> None:
    assert done.returncode == EXIT_STORAGE, done.stderr
    messages = [line for line in done.stderr.splitlines() if line.startswith("getihu run：")]
    assert len(messages) == 1 and "Traceback" not in done.stderr, done.stderr  # the rest is the stage progress
    assert reason in messages[0] and "没有发布任何新结果" in messages[0]
    assert published_files(home) == before


@pytest.mark.parametrize(
    ("stage", "room"),
    [("ingest", "none"), ("validate", "none"), ("publish", "none"), ("publish", "the warehouse copy")],
    ids=["ingest", "validate", "publish", "publish-room-for-the-warehouse-copy-only"],
)
def test_a_full_disk_stops_the_run_with_a_message_and_publishes_nothing(published_home, inboxes, stage, room):
    home = published_home
    # room for the byte copy of the warehouse, not for one more block of DuckDB (256 KB): it fails writing rows
    leave = (home / "warehouse.duckdb").stat().st_size + 64 * 1024 if room == "the warehouse copy" else 0
    before, outputs = published_files(home), cycle_outputs(cycle_of(home, LATER))
    filler = home.parent / "filler"
    try:
        done = getihu_run(
            FILL,
            *run_args(home, inboxes),
            env=environment(FILLER=str(filler), FILL_AT=stage, FILL_LEAVE=str(leave)),
        )
    finally:
        filler.unlink()
    assert_one_paragraph_and_nothing_published(done, home, before, os.strerror(28))
    assert not (home / "warehouse.duckdb.wal").exists()

    if stage == "publish":  # what it left aside (a half-built warehouse, a building folder) is no obstacle
        rerun = getihu_run("", *run_args(home, inboxes), env=environment())
        assert rerun.returncode == 0, rerun.stderr
        assert cycle_outputs(cycle_of(home, LATER)) == outputs


def test_a_read_only_home_stops_the_run_with_a_message_and_changes_nothing(published_home, inboxes):
    home = published_home
    before = published_files(home)
    bound = mount("--bind", str(home), str(home))
    assert bound.returncode == 0, bound.stderr
    try:
        remounted = mount("-o", "remount,ro,bind", str(home))
        assert remounted.returncode == 0, remounted.stderr
        done = getihu_run("", *run_args(home, inboxes), env=environment())
        assert_one_paragraph_and_nothing_published(done, home, before, os.strerror(30))
        assert str(home) in done.stderr
    finally:
        unmount(home)
