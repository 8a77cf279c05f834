"""One run at a time per home: an OS file lock on ``<home>/.lock`` (docs/architecture.md, "Home layout").

The warehouse holds every cycle of every province in the home, so two runs publishing at once would
each drop the other's cycle. ``flock(2)`` locks belong to the open file, and the kernel releases them
when the process ends however it ends: a run that was killed never leaves a lock behind. The file's
content only says who holds it, for the message a waiting run prints.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.errors import HomeBusy

#: How long a second run waits for the first before giving up; a yearly cycle of a large province takes minutes.
DEFAULT_WAIT_SECONDS = 30 * 60
POLL_SECONDS = 1.0


def lock_path(home: Path) -> Path:
    return home / ".lock"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or "另一次 getihu 运行"


def _tell(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def home_lock(
    home: Path,
    purpose: str,
    *,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    on_wait: Callable[[str], None] = _tell,
) -> Iterator[None]:
    """Hold ``home``'s run lock for the ``with`` block, waiting up to ``wait_seconds`` for a run that holds it.

    ``purpose`` (e.g. ``"getihu run 41-20250731"``) is what a run waiting for this one is told.
    Raises :class:`HomeBusy` with a message naming the holder when the wait runs out.
    """
    path = lock_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            on_wait(f"{path}：{_holder(path)} 正在使用本主目录；最多等待 {wait_seconds:.0f} 秒，等它结束。")
            deadline = time.monotonic() + wait_seconds
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise HomeBusy(
                        f"{path}：等待 {wait_seconds:.0f} 秒后仍被 {_holder(path)} 占用；没有改动任何内容。"
                        "请在它结束后重新运行。"
                    )
                time.sleep(POLL_SECONDS)
        since = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{purpose}（进程 {os.getpid()}，自 {since} 起）\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
