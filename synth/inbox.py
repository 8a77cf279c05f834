"""Writing delivered rows to the inbox chunk by chunk, remembering the physical line of every row.

Files stay open across chunks and grow by appending, so no source is ever held whole in memory.
Line numbers are 1-based with the header as line 1 (for .xlsx: the sheet row), as the quarantine reports them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import IO

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from schemas.sources import SOURCES, Kind
from synth.layout import CELL_DATES, ISO_DATE, LAYOUTS, columns, headers

BOM = b"\xef\xbb\xbf"


class _Csv:
    def __init__(self, path: Path, source: str) -> None:
        self.layout = LAYOUTS[source]
        self.handle: IO[bytes] = path.open("wb")
        if self.layout.encoding == "utf-8-sig":
            self.handle.write(BOM)
        self._write(pl.DataFrame(schema={h: pl.String for h in headers(source)}), header=True)

    def _write(self, frame: pl.DataFrame, header: bool) -> None:
        text = frame.write_csv(include_header=header, line_terminator=self.layout.line_terminator)
        encoding = "utf-8" if self.layout.encoding == "utf-8-sig" else self.layout.encoding
        self.handle.write(text.encode(encoding))

    def append(self, frame: pl.DataFrame) -> None:
        self._write(frame, header=False)

    def close(self) -> None:
        self.handle.close()


class _Xlsx:
    """One sheet, written row by row in constant memory; dates as real date cells where the layout says so."""

    def __init__(self, path: Path, source: str, created: dt.date) -> None:
        self.book = xlsxwriter.Workbook(path, {"constant_memory": True})
        # xlsxwriter stamps the creation time into the file unless told: fix it for byte-identical output
        self.book.set_properties({"created": dt.datetime.combine(created, dt.time())})
        self.sheet = self.book.add_worksheet(SOURCES[source].label)
        self.date_cell = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.headers = headers(source)
        dated = LAYOUTS[source].date_format == CELL_DATES
        self.date_columns = {i for i, c in enumerate(columns(source)) if dated and c.kind is Kind.DATE}
        self.sheet.write_row(0, 0, self.headers)
        self.row = 1

    def append(self, frame: pl.DataFrame) -> None:
        for values in frame.select(self.headers).iter_rows():
            for col, value in enumerate(values):
                if value is None:
                    continue
                if col in self.date_columns:
                    try:
                        day = dt.datetime.strptime(value, ISO_DATE)
                    except ValueError:  # an injected bad date stays text, as a person would have typed it
                        self.sheet.write_string(self.row, col, value)
                        continue
                    self.sheet.write_datetime(self.row, col, day, self.date_cell)
                else:
                    self.sheet.write_string(self.row, col, value)
            self.row += 1

    def close(self) -> None:
        self.book.close()


class _Parquet:
    def __init__(self, path: Path, source: str) -> None:
        self.headers = headers(source)
        self.schema = pa.schema([(h, pa.string()) for h in self.headers])
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")

    def append(self, frame: pl.DataFrame) -> None:
        self.writer.write_table(frame.select(self.headers).to_arrow().cast(self.schema))

    def close(self) -> None:
        self.writer.close()


class InboxWriter:
    """Appends each chunk's delivered rows to the right file and reports where every row landed."""

    def __init__(self, inbox: Path, file_format: str, as_of: dt.date, names: dict[str, str] | None = None) -> None:
        self.inbox = inbox
        self.file_format = file_format
        self.as_of = as_of
        self.names = names or {}  # source -> the file stem a department gives it (one-file sources only)
        self.sources: set[str] = set()
        self.files: dict[str, _Csv | _Xlsx | _Parquet] = {}
        self.lines: dict[str, int] = {}  # last line written per file

    def _extension(self, source: str) -> str:
        return "parquet" if self.file_format == "parquet" else LAYOUTS[source].csv_extension

    def _open(self, name: str, source: str) -> str:
        self.sources.add(source)
        if name == source:
            name = self.names.get(source, name)
        file = f"{name}.{self._extension(source)}"
        if file not in self.files:
            path = self.inbox / file
            ext = self._extension(source)
            self.files[file] = (
                _Parquet(path, source)
                if ext == "parquet"
                else _Xlsx(path, source, self.as_of)
                if ext == "xlsx"
                else _Csv(path, source)
            )
            self.lines[file] = 1
        return file

    def write(self, source: str, frame: pl.DataFrame) -> pl.DataFrame:
        """Append ``frame`` (delivered text, ``_part`` naming the file) and return ``_rid, file, line`` per row."""
        placed = []
        for part in frame.partition_by("_part", maintain_order=True):
            file = self._open(part["_part"][0], source)
            rows = part.select(headers(source)).with_columns(pl.all().replace("", None))
            self.files[file].append(rows)
            first = self.lines[file] + 1
            self.lines[file] += part.height
            placed.append(
                part.select("_rid").with_columns(
                    file=pl.lit(file), line=pl.int_range(first, first + part.height, dtype=pl.Int64)
                )
            )
        return (
            pl.concat(placed)
            if placed
            else pl.DataFrame(schema={"_rid": pl.Int64, "file": pl.String, "line": pl.Int64})
        )

    def ensure(self, source: str) -> None:
        """A source with no rows at all still gets its file, with the header only."""
        if source not in self.sources:
            self._open(source, source)

    def close(self) -> dict[str, int]:
        """Close every file; return the number of data rows per file."""
        for handle in self.files.values():
            handle.close()
        return {file: lines - 1 for file, lines in sorted(self.lines.items())}
