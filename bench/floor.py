"""The floor: every file of an inbox read once, every column of every row, into a count — and nothing else.

CSV and Parquet files are read by DuckDB (``count(*)`` and ``count()`` of every column, so no column is skipped
and Parquet row counts are not taken from the file's metadata). What DuckDB cannot read here is read the way the
pipeline must read it too: GB18030 files are transcoded first (``flows.readers.transcode``; DuckDB has no GB18030
decoder on these machines), ``.xlsx`` files are read by ``polars.read_excel`` (DuckDB needs its ``excel``
extension, which cannot be downloaded here).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from flows.readers import csv_encoding, inbox_files
from flows.readers.transcode import transcode


def read_once(inbox: Path, scratch: Path) -> dict:
    """Rows of every source of ``inbox``, each file read once."""
    scratch.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    rows: dict[str, int] = {}
    for file in inbox_files(inbox):
        if file.format == "xlsx":
            count = pl.read_excel(file.path).height
        else:
            path = file.path
            if file.format == "csv" and csv_encoding(path, None) == "gb18030":
                path = scratch / f"{file.name}.utf-8"
                transcode(file.path, "gb18030", path)
            reader = "read_parquet(?)" if file.format == "parquet" else "read_csv(?, all_varchar = true)"
            count = con.execute(f"SELECT count(*), count(COLUMNS(*)) FROM {reader}", [str(path)]).fetchone()[0]
            if path != file.path:
                path.unlink()
        rows[file.source] = rows.get(file.source, 0) + count
    return {"rows": rows}
