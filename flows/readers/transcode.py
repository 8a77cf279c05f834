"""GB18030/GBK → UTF-8, streaming and on both cores, because DuckDB and Polars read UTF-8 only (design.md).

A file is cut into chunks at line ends — safe in GB18030, whose multi-byte sequences never contain the byte
``\\n`` — and the chunks are decoded in worker processes, in order, a few at a time, so memory stays bounded
by ``CHUNK_BYTES`` times the number of chunks in flight however large the file is.

This module imports only the standard library: the workers are spawned and import it on their own.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

CHUNK_BYTES = 16 << 20
PARALLEL_FROM_BYTES = 64 << 20  # below this, starting worker processes costs more than it saves


class Undecodable(ValueError):
    def __init__(self, line: int, encoding: str) -> None:
        self.line = line
        super().__init__(f"line {line} has bytes that are not {encoding}")


def _decoded(chunk: bytes, encoding: str) -> bytes | int:
    """The chunk in UTF-8, or the offset of the first byte that does not decode."""
    try:
        return chunk.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as error:
        return error.start


def _chunks(path: Path, skip: int) -> Iterator[bytes]:
    with path.open("rb") as stream:
        stream.seek(skip)
        rest = b""
        while block := stream.read(CHUNK_BYTES):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                rest = block
                continue
            rest = block[cut:]
            yield block[:cut]
        if rest:
            yield rest


def _in_order(path: Path, encoding: str, workers: int, skip: int) -> Iterator[tuple[bytes, bytes | int]]:
    if workers < 2 or path.stat().st_size < PARALLEL_FROM_BYTES:
        for chunk in _chunks(path, skip):
            yield chunk, _decoded(chunk, encoding)
        return
    spawn = multiprocessing.get_context("spawn")  # never fork a process that runs Polars and DuckDB threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        pending: deque[tuple[bytes, Future]] = deque()
        for chunk in _chunks(path, skip):
            pending.append((chunk, pool.submit(_decoded, chunk, encoding)))
            if len(pending) > workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


def transcode(path: Path, encoding: str, dest: Path, workers: int | None = None, skip: int = 0) -> None:
    """Write ``path`` (in ``encoding``), less its first ``skip`` bytes (a BOM), to ``dest`` in UTF-8;
    :class:`Undecodable` names the first bad line."""
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    lines_before = 0
    with dest.open("wb") as out:
        for chunk, result in _in_order(path, encoding, workers, skip):
            if isinstance(result, int):
                raise Undecodable(lines_before + chunk.count(b"\n", 0, result) + 1, encoding)
            out.write(result)
            lines_before += chunk.count(b"\n")
