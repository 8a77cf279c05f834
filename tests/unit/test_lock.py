"""Two runs against one home: the second waits with a message, or gives up with one; a dead run blocks nothing."""

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from flows.errors import HomeBusy
from flows.storage.lock import home_lock, lock_path

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from flows.storage.lock import home_lock
    with home_lock(Path(sys.argv[1]), "getihu run 41-20250731"):
        print("holding", flush=True)
        time.sleep(600)
    """
)


@pytest.fixture
def held_by_another_process(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "holding\n"
    yield holder
    holder.kill()
    holder.wait()


def test_a_second_run_gives_up_after_its_wait_with_a_message_naming_the_holder(tmp_path, held_by_another_process):
    told = []
    with (
        pytest.raises(HomeBusy) as caught,
        home_lock(tmp_path, "getihu run 23-20250731", wait_seconds=0, on_wait=told.append),
    ):
        pytest.fail("the lock was held by another process")
    message = str(caught.value)
    assert str(lock_path(tmp_path)) in message
    assert f"getihu run 41-20250731（进程 {held_by_another_process.pid}" in message
    assert "没有改动任何内容" in message
    assert len(told) == 1 and "最多等待 0 秒" in told[0]


def test_a_run_killed_while_holding_the_lock_does_not_block_the_next(tmp_path, held_by_another_process):
    held_by_another_process.send_signal(signal.SIGKILL)
    held_by_another_process.wait()
    told = []
    with home_lock(tmp_path, "getihu run 41-20250731", wait_seconds=0, on_wait=told.append):
        assert f"（进程 {os.getpid()}，" in lock_path(tmp_path).read_text()
    assert told == []


def test_a_waiting_run_goes_ahead_once_the_holder_has_finished(tmp_path):
    first_holds, first_may_finish = threading.Event(), threading.Event()
    order = []

    def first():
        with home_lock(tmp_path, "first run"):
            order.append("first starts")
            first_holds.set()
            first_may_finish.wait()
            order.append("first ends")

    holder = threading.Thread(target=first)
    holder.start()
    first_holds.wait()

    def waiting(message):
        assert "first run（进程" in message and "正在使用" in message
        first_may_finish.set()

    with home_lock(tmp_path, "second run", on_wait=waiting):
        order.append("second starts")
    holder.join()
    assert order == ["first starts", "first ends", "second starts"]


def test_the_lock_is_released_when_the_block_raises(tmp_path):
    with pytest.raises(RuntimeError), home_lock(tmp_path, "failing run"):
        raise RuntimeError("stage failed")
    with home_lock(tmp_path, "next run", wait_seconds=0, on_wait=pytest.fail):
        pass
