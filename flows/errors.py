"""Errors a user gets as one paragraph, never as a traceback: the CLI prints ``str(error)`` and exits non-zero."""

from __future__ import annotations

import errno
import os
from pathlib import Path

#: The machine refusing to store something: a full disk or quota, a read-only file system, no permission.
STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)

#: Exit codes of ``getihu run`` besides 0: what the person at the terminal can do about it differs.
EXIT_UNEXPECTED, EXIT_INPUT, EXIT_BUSY, EXIT_STORAGE = 1, 2, 3, 4


class GetihuError(Exception):
    """Every error a user gets as one paragraph; ``exit_code`` is what ``getihu run`` exits with."""

    exit_code = EXIT_UNEXPECTED


class PipelineStop(GetihuError):
    """The run stops before anything is published; the message says why and what was expected."""

    exit_code = EXIT_INPUT


def where_in_file(path: Path | str, line: int | None = None) -> str:
    """A place in a delivered file as messages name it: ``registration.csv 第 12 行``, or the file alone."""
    return f"{path} 第 {line} 行" if line is not None else str(path)


class InputError(PipelineStop):
    """A delivered file (or the inbox configuration) cannot be used at all."""

    def __init__(self, path: Path | str, problem: str, *, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        super().__init__(f"{where_in_file(self.path, line)}：{problem}")


class QuarantineThresholdError(PipelineStop):
    """One or more sources had a larger share of quarantined rows than the cycle allows."""


class ConfigurationError(PipelineStop):
    """The run was started wrongly: a missing secret, options that contradict each other."""


#: What each refusal means, in Chinese (the system's own words follow in brackets).
STORAGE_REASONS = {
    errno.ENOSPC: "磁盘空间已满",
    errno.EDQUOT: "超出磁盘配额",
    errno.EROFS: "文件系统只读",
    errno.EACCES: "没有写入权限",
    errno.EPERM: "没有写入权限",
}


def storage_refusal(error: BaseException, where: Path | None = None) -> str | None:
    """``path：reason`` in Chinese when ``error`` (or what caused it) is the machine refusing a write, else None.

    Python and pyarrow raise ``OSError`` with its errno; DuckDB raises its own exceptions whose text carries the
    system's message (``Could not write file "…/raw.duckdb.wal": No space left on device``), matched by that text.
    A refusal that names no file (a write to an open file, which Python reports without its name) names ``where``,
    the folder the command was writing under, so that every storage message says where.
    """
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in STORAGE_ERRNOS:
            reason = f"{STORAGE_REASONS[error.errno]}（{os.strerror(error.errno)}）"
            path = error.filename or (f"{where}（其中的文件）" if where is not None else None)
            return f"{path}：{reason}" if path else reason
        text = str(error).splitlines()[0] if str(error) else ""
        for number in STORAGE_ERRNOS:
            if os.strerror(number) in text:
                named = "/" in text or where is None
                return (
                    f"{STORAGE_REASONS[number]}：{text}" if named else f"{where}：{STORAGE_REASONS[number]}（{text}）"
                )
        error = error.__cause__ or error.__context__
    return None


class HomeBusy(GetihuError):
    """Another run held the home's lock for longer than this run was willing to wait."""

    exit_code = EXIT_BUSY


class StageFileError(GetihuError):
    """A file between stages is missing or not what docs/architecture.md says; the message says which and why."""


class WarehouseError(GetihuError):
    """The published warehouse cannot be read or replaced; the message says why and what to do."""


class WarehouseBusy(WarehouseError):
    """Another program holds the published warehouse open read-write: what it writes would be lost in the swap."""

    exit_code = EXIT_BUSY


def exit_code_of(error: BaseException) -> int:
    """The exit code for a user-facing error; a ruleset that does not parse (schemas.ruleset) is an input error."""
    from schemas.ruleset import RulesetError

    return EXIT_INPUT if isinstance(error, RulesetError) else getattr(error, "exit_code", EXIT_UNEXPECTED)


class QueryError(GetihuError):
    """The query cannot be answered (no warehouse, empty text); the message says why."""
