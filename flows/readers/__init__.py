"""Reading an inbox: which file is which source, the optional ``inbox.toml``, and each file as text batches.

Every reader yields the same thing: batches of all-String columns named ``_c0``, ``_c1``, ... in header order,
plus ``_line`` (1-based line of the record in its file, the header being line 1; for a record that spans
several lines because of a quoted line break, the line it starts on counts as one), and the header row as
delivered. Blank records (every cell empty) are dropped: they hold nothing to lose.

A file that cannot be read raises :class:`flows.errors.InputError` naming the file and the line.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import hashlib
import re
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

from flows.errors import InputError
from flows.readers.transcode import Undecodable, transcode
from reference import tax_kinds
from schemas.sources import SOURCES, Column, Kind

FORMATS = ("csv", "xlsx", "parquet")
CONFIG_FILE = "inbox.toml"
BATCH_ROWS = 1_000_000
_SNIFF_BYTES = 1 << 16
_BOM = b"\xef\xbb\xbf"
_OTHER_DELIMITERS = {"\t": "制表符", ";": "分号", "；": "分号", "|": "竖线"}
_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030"}
_MAGIC = {
    b"PK\x03\x04": "看起来是 Excel 工作簿（.xlsx）或其他 zip 压缩包",
    b"PAR1": "看起来是 Parquet 文件",
    b"\xd0\xcf\x11\xe0": "看起来是旧版 Excel 工作簿（.xls）",
}


@dataclass(frozen=True)
class InboxFile:
    source: str
    path: Path
    name: str  # relative to the inbox: the file as the data owners know it
    format: str


@dataclass(frozen=True)
class InboxConfig:
    """``inbox.toml`` (extracts.md v2; the syntax is in :func:`inbox_config`)."""

    extracted_on: dt.date | None = None  # when the extracts were taken; None: the day of the run
    files: dict[str, str] = field(default_factory=dict)  # file name or glob -> source
    encodings: dict[str, str] = field(default_factory=dict)  # source -> forced CSV encoding
    aliases: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # source -> column -> headers
    values: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # source -> column -> spelling -> value
    thresholds: dict[str, float] = field(default_factory=dict)  # source -> quarantine_threshold
    minimums: dict[str, int] = field(default_factory=dict)  # source -> quarantine_minimum


@dataclass
class Table:
    headers: list[str]
    batches: Iterator[pl.DataFrame]
    encoding: str | None  # CSV only


def source_of(name: str, config: InboxConfig | None = None) -> str | None:
    """The source a file name belongs to: the ``[files]`` entry of ``inbox.toml`` that matches it (an exact name
    before a glob), else ``<source>*.<ext>``, the longest source name winning."""
    if config is not None and config.files:
        if name in config.files:
            return config.files[name]
        globbed = sorted({s for pattern, s in config.files.items() if fnmatch.fnmatchcase(name, pattern)})
        if len(globbed) == 1:
            return globbed[0]
    stem, _, ext = name.rpartition(".")
    if ext.lower() not in FORMATS:
        return None
    matches = [s for s in SOURCES if stem.startswith(s)]
    return max(matches, key=len, default=None)


def _mapped(inbox: Path, name: str, config: InboxConfig) -> str | None:
    """The source of file ``name`` by ``config``, refusing a file two globs give to different sources and a mapped
    file of a format no reader reads."""
    if name not in config.files:
        globbed = sorted({s for pattern, s in config.files.items() if fnmatch.fnmatchcase(name, pattern)})
        if len(globbed) > 1:
            raise InputError(
                inbox / CONFIG_FILE,
                f"[files] 把 {name} 映射到多个来源（{'、'.join(globbed)}）；每个文件应只匹配一个模式",
            )
    source = source_of(name, config)
    if source is not None and name.rpartition(".")[2].lower() not in FORMATS:
        raise InputError(
            inbox / CONFIG_FILE,
            f"[files] 把 {name} 映射到 {source}，但它不是 .csv、.xlsx 或 .parquet 文件；应为这三种格式之一",
        )
    return source


def _delivered(inbox: Path) -> list[Path]:
    if not inbox.is_dir():
        raise InputError(inbox, "收件目录不存在；应为存放本周期各部门报送文件的目录")
    return sorted((p for p in inbox.iterdir() if p.is_file() and p.name != CONFIG_FILE), key=lambda p: p.name)


def inbox_files(inbox: Path, config: InboxConfig | None = None) -> list[InboxFile]:
    """Every file of the inbox that stands for a source, sorted by source order, then name. ``config``: the inbox's
    ``inbox.toml`` (read when not given)."""
    config = inbox_config(inbox) if config is None else config
    order = list(SOURCES)
    files = [
        InboxFile(source, _confined(inbox, path), path.name, path.suffix.lower().lstrip("."))
        for path in _delivered(inbox)
        if (source := _mapped(inbox, path.name, config)) is not None
    ]
    return sorted(files, key=lambda f: (order.index(f.source), f.name))


def unrecognised_files(inbox: Path, config: InboxConfig | None = None) -> list[str]:
    """The names, sorted, of the inbox's files (``inbox.toml`` aside) that stand for no source: never ignored
    silently — listed in ``inputs.json``, the terminal summary and the report."""
    config = inbox_config(inbox) if config is None else config
    return [p.name for p in _delivered(inbox) if _mapped(inbox, p.name, config) is None]


def _confined(inbox: Path, path: Path) -> Path:
    """``path``, once it is sure to be in the inbox: a symbolic link out of it would read what nobody delivered."""
    if not path.resolve().is_relative_to(inbox.resolve()):
        raise InputError(
            path,
            f"是指向收件目录之外 {path.resolve()} 的符号链接；请把报送的文件本身放进收件目录",
        )
    return path


_SOURCE_SETTINGS = ("encoding", "aliases", "values", "quarantine_threshold", "quarantine_minimum")


def inbox_config(inbox: Path) -> InboxConfig:
    """The optional ``inbox.toml`` (extracts.md v2); anything it cannot mean stops the run naming the file::

    extracted_on = 2025-08-03                    # a TOML date: when the extracts were taken

    [files]                                      # file name, or glob, = source
    "专利.csv" = "patent"
    "严重违法失信名单*.xlsx" = "serious_list"

    [registration]                               # per source, every key optional
    encoding = "gb18030"                         # utf-8, gb18030 or gbk (CSV)
    aliases = { status = ["经营状态"] }          # column -> extra headers
    values = { status = { "营业" = "存续" } }    # enumeration column -> { delivered spelling = value }
    quarantine_threshold = 0.10                  # share of quarantined rows, 0 to 1 (default 0.05)
    quarantine_minimum = 20                      # quarantined rows a stop also needs, more than (default 20)
    """
    path = inbox / CONFIG_FILE
    if not path.exists() and not path.is_symlink():
        return InboxConfig()
    _confined(inbox, path)
    if not path.is_file():
        raise InputError(path, "不是文件；应为 TOML 格式的文本文件（或者不放 inbox.toml）")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(path, f"不是 UTF-8 编码的有效 TOML（{error}）") from None
    except OSError as error:
        raise InputError(path, f"无法读取（{error.strerror}）") from None
    config = InboxConfig(extracted_on=_extracted_on(path, data.pop("extracted_on", None)))
    config.files.update(_files(path, data.pop("files", {})))
    for source, settings in data.items():
        if source not in SOURCES or not isinstance(settings, dict):
            raise InputError(
                path,
                f"“{source}” 不是可用的设置；应为 extracted_on、[files] 或某个来源的表 [{'] ['.join(SOURCES)}]",
            )
        unknown = set(settings) - set(_SOURCE_SETTINGS)
        if unknown:
            raise InputError(path, f"[{source}] 有未知的设置 {sorted(unknown)}；应为 {'、'.join(_SOURCE_SETTINGS)}")
        if "encoding" in settings:
            encoding = str(settings["encoding"]).lower()
            if encoding not in _ENCODINGS:
                raise InputError(path, f"[{source}] encoding “{encoding}”：应为 utf-8、gb18030 或 gbk")
            config.encodings[source] = _ENCODINGS[encoding]
        if "aliases" in settings:
            config.aliases[source] = _aliases(path, source, settings["aliases"])
        if "values" in settings:
            config.values[source] = _values(path, source, settings["values"])
        if "quarantine_threshold" in settings:
            share = settings["quarantine_threshold"]
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
                raise InputError(path, f"[{source}] quarantine_threshold = {share!r}：应为 0 到 1 之间的比例，如 0.10")
            config.thresholds[source] = float(share)
        if "quarantine_minimum" in settings:
            minimum = settings["quarantine_minimum"]
            if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
                raise InputError(path, f"[{source}] quarantine_minimum = {minimum!r}：应为行数，0 或更大的整数")
            config.minimums[source] = minimum
    return config


def _extracted_on(path: Path, value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InputError(path, f"extracted_on = {value!r}：应为不加引号的 TOML 日期，如 extracted_on = 2025-08-01")
    return value


def _files(path: Path, table: object) -> dict[str, str]:
    if not isinstance(table, dict):
        raise InputError(path, '[files]：应为“文件名（或通配模式）= 来源”的表，如 "专利.csv" = "patent"')
    for pattern, source in table.items():
        if source not in SOURCES:
            raise InputError(path, f"[files] “{pattern}” = {source!r}：应为来源名称，{'、'.join(SOURCES)} 之一")
    return dict(table)


def _aliases(path: Path, source: str, table: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise InputError(path, f'[{source}] aliases：应为“列名 = [表头]”的表，如 {{ name = ["字号"] }}')
    columns = {c.name for c in SOURCES[source].columns}
    aliases: dict[str, tuple[str, ...]] = {}
    for column, headers in table.items():
        if column not in columns:
            raise InputError(path, f"[{source}] aliases：{column} 不是该来源的列；应为 {sorted(columns)} 之一")
        if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
            raise InputError(path, f"[{source}] aliases.{column}：应为表头的列表")
        aliases[column] = tuple(headers)
    return aliases


def _values(path: Path, source: str, table: object) -> dict[str, dict[str, str]]:
    example = '{ status = { "营业" = "存续" } }'
    if not isinstance(table, dict):
        raise InputError(path, f"[{source}] values：应为“列名 = {{ 报送写法 = 取值 }}”的表，如 {example}")
    enums = {c.name: c for c in SOURCES[source].columns if c.kind is Kind.ENUM}
    values: dict[str, dict[str, str]] = {}
    for column, spellings in table.items():
        if column not in enums:
            raise InputError(path, f"[{source}] values：{column} 不是枚举列；应为 {sorted(enums)} 之一")
        if not isinstance(spellings, dict) or not all(isinstance(v, str) for v in spellings.values()):
            raise InputError(path, f"[{source}] values.{column}：应为“报送写法 = 取值”的表，如 {example}")
        allowed = enum_values(enums[column])
        for spelling, value in spellings.items():
            if value not in allowed:
                raise InputError(
                    path,
                    f"[{source}] values.{column}：“{spelling}” = “{value}”：取值应为 {'、'.join(allowed)} 之一",
                )
        values[column] = dict(spellings)
    return values


def enum_values(column: Column) -> tuple[str, ...]:
    """The canonical values of an enumeration column: its own, or its reference list's (``data/tax_kinds.csv``)."""
    if column.values:
        return column.values
    if column.reference_values == "tax_kinds":
        return tuple(sorted(set(tax_kinds()["tax_kind"])))
    raise ValueError(f"{column.name}: no values and no known reference list {column.reference_values!r}")


def enum_spellings(column: Column) -> dict[str, str]:
    """A reference list's spellings of an enumeration column's values (spelling → value); none for the others."""
    if column.reference_values == "tax_kinds":
        return dict(tax_kinds().select("spelling", "tax_kind").iter_rows())
    return {}


def format_problem(path: Path, fmt: str) -> str | None:
    """Why ``path`` is not a readable ``fmt`` file, judged from its first and last bytes; None if it may be."""
    size = path.stat().st_size
    if size == 0:
        return "文件是空的；应有表头行和记录"
    with path.open("rb") as stream:
        head = stream.read(_SNIFF_BYTES)
        stream.seek(max(0, size - 4))
        tail = stream.read(4)
    looks_like = next((what for magic, what in _MAGIC.items() if head.startswith(magic)), None)
    if fmt == "xlsx" and not head.startswith(b"PK\x03\x04"):
        return f"不是 Excel 工作簿（.xlsx）；{looks_like or '看起来是文本文件'}"
    if fmt == "parquet" and not (head.startswith(b"PAR1") and tail == b"PAR1"):
        return f"不是 Parquet 文件；{looks_like or '看起来是文本文件'}"
    if fmt == "csv":
        if looks_like:
            return f"不是 CSV 文本文件；{looks_like}"
        if b"\x00" in head:
            return "不是 CSV 文本文件：含有 NUL 字节（二进制数据或 UTF-16 文本）"
        if not head.strip():
            return "文件是空的；应有表头行和记录"
    return None


def csv_encoding(path: Path, forced: str | None) -> str:
    """``utf-8``, ``utf-8-sig`` or ``gb18030``: forced by configuration, or judged from the header line.

    Contract headers are Chinese, so the header line alone tells UTF-8 from GB18030; a bad byte further
    down is then reported with its own line when the file is read. A UTF-8 BOM does not decide: some tools put
    one before GBK text, and :func:`csv_table` skips it whatever the encoding.
    """
    with path.open("rb") as stream:
        head = stream.read(_SNIFF_BYTES)
    header = head.removeprefix(_BOM).split(b"\n", 1)[0]
    encoding = forced or next((e for e in ("utf-8", "gb18030") if _decodes(header, e)), None)
    if encoding is None:
        raise InputError(path, _undecodable_message("UTF-8 或 GB18030"), line=1)
    if encoding == "utf-8" and head.startswith(_BOM):
        return "utf-8-sig"
    return encoding


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _undecodable_message(expected: str) -> str:
    return f"含有不是 {expected} 文本的字节；应为 UTF-8 或 GB18030/GBK 编码的 CSV 文件"


def _first_bad_line(path: Path, encoding: str) -> int | None:
    with path.open("rb") as stream:
        for number, line in enumerate(stream, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError:
                return number
    return None


def _csv_headers(path: Path, shown: Path) -> list[str]:
    """The header row of a UTF-8 file, parsed as CSV (quoted headers included)."""
    with path.open("rb") as stream:
        first = stream.readline()
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(shown, _undecodable_message("UTF-8"), line=1) from None
    try:
        header = next(csv.reader([line]), None)
    except csv.Error:
        raise InputError(shown, "有只以 CR 结尾的行；行尾应为 LF 或 CRLF", line=1) from None
    if not header or not any(h.strip() for h in header):
        raise InputError(shown, "没有表头行；第 1 行应为中文列名", line=1)
    other = next((name for mark, name in _OTHER_DELIMITERS.items() if len(header) == 1 and mark in header[0]), None)
    if other:
        raise InputError(shown, f"用{other}分隔字段；应使用逗号（CSV 文件）", line=1)
    return header


def _malformed_line(path: Path, width: int) -> tuple[int | None, str]:
    """Where and how a file Polars could not parse breaks the CSV format (its error does not say where)."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream, strict=True)
        try:
            next(reader, None)
            for record in reader:
                if len(record) > width:
                    return reader.line_num, f"字段数多于表头的 {width} 列"
        except csv.Error:
            return reader.line_num, "有一个加引号的字段，引号没有闭合；每个引号都应闭合"
    return None, "无法按 CSV 格式读取"


def _positional(batch: pl.DataFrame) -> pl.DataFrame:
    """Drop records with every cell empty; ``_line`` as Int64 first."""
    cells = [c for c in batch.columns if c != "_line"]
    blank = pl.all_horizontal(pl.col(c).is_null() | (pl.col(c) == "") for c in cells)
    return batch.filter(~blank).select(pl.col("_line").cast(pl.Int64), *cells)


def _refuse_nul(batch: pl.DataFrame, shown: Path) -> None:
    """A NUL byte anywhere in a CSV file (only the first 64 KB are sniffed before reading) is binary data, never
    text a department typed: the file is refused naming the line, instead of the byte reaching published files."""
    cells = [c for c in batch.columns if c != "_line"]
    has_nul = pl.any_horizontal(pl.col(c).str.contains("\x00", literal=True) for c in cells) if cells else pl.lit(False)
    lines = batch.filter(has_nul.fill_null(False))["_line"]
    if len(lines):
        raise InputError(shown, "不是 CSV 文本文件：含有 NUL 字节（二进制数据或 UTF-16 文本）", line=int(lines.min()))


def _utf8_batches(path: Path, shown: Path, width: int) -> Iterator[pl.DataFrame]:
    frame = pl.scan_csv(
        path,
        has_header=True,
        new_columns=[f"_c{i}" for i in range(width)],
        infer_schema=False,
        row_index_name="_line",
        row_index_offset=2,
        encoding="utf8",
        raise_if_empty=False,
        glob=False,  # a home or inbox path may hold [ or ?
    )
    try:
        for batch in frame.collect_batches(chunk_size=BATCH_ROWS):
            _refuse_nul(batch, shown)
            yield _positional(batch)
    except pl.exceptions.ComputeError as error:
        if "utf-8" in str(error):
            raise InputError(shown, _undecodable_message("UTF-8"), line=_first_bad_line(path, "utf-8")) from None
        # Polars' message quotes the record, which may hold a resident ID: it is not repeated
        line, problem = _malformed_line(path, width)
        raise InputError(shown, problem, line=line) from None


@contextmanager
def csv_table(path: Path, forced_encoding: str | None, scratch: Path) -> Iterator[Table]:
    """A CSV file as a :class:`Table`; a GB18030 file is first transcoded to UTF-8 under ``scratch``."""
    encoding = csv_encoding(path, forced_encoding)
    readable = path
    if encoding == "gb18030":
        readable = scratch / f"{path.name}.utf-8"
        with path.open("rb") as stream:
            bom = stream.read(len(_BOM)) == _BOM
        try:
            transcode(path, encoding, readable, skip=len(_BOM) if bom else 0)
        except Undecodable as error:
            raise InputError(path, _undecodable_message("GB18030"), line=error.line) from None
    try:
        headers = _csv_headers(readable, path)
        yield Table(headers, _utf8_batches(readable, path, len(headers)), encoding)
    finally:
        if readable != path:
            readable.unlink(missing_ok=True)


_MIDNIGHT = " 00:00:00"  # a date exported as a date-time: `2024-03-01 00:00:00`
_DATE_AT_MIDNIGHT = r"^\d{4}-\d{2}-\d{2} 00:00:00$"


def _without_midnight(text: pl.Series) -> pl.Series:
    """``2024-03-01 00:00:00`` as ``2024-03-01``; the regular expression runs on the few values that end so."""
    candidates = text.str.ends_with(_MIDNIGHT).fill_null(False).arg_true()
    if not len(candidates):
        return text
    dates = text.gather(candidates)
    return text.scatter(
        candidates,
        pl.select(pl.when(dates.str.contains(_DATE_AT_MIDNIGHT)).then(dates.str.head(10)).otherwise(dates)).to_series(),
    )


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Typed cells (.xlsx, .parquet) as the text a department would have exported.

    Dates as ``YYYY-MM-DD``; whole floats without ``.0`` (Excel stores every number as a float);
    booleans as ``1``/``0``.
    """
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            exprs.append(col.dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(col.dt.strftime("%Y-%m-%d %H:%M:%S"))
        elif dtype.is_float():
            whole = col.is_finite() & (col == col.round(0)) & (col.abs() < 2**53)
            exprs.append(pl.when(whole).then(col.cast(pl.Int64).cast(pl.String)).otherwise(col.cast(pl.String)))
        elif dtype == pl.Boolean:
            exprs.append(col.cast(pl.Int8).cast(pl.String))
        else:
            exprs.append(col.cast(pl.String))
    text = frame.select(e.alias(n) for e, n in zip(exprs, frame.columns, strict=True))
    return text.with_columns(_without_midnight(text[name]) for name in text.columns)


def _numbered(batches: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Batches of a sheet or Parquet file (``_line`` first) as positional text columns."""
    for batch in batches:
        text = _as_text(batch.drop("_line"))
        text = text.rename({old: f"_c{i}" for i, old in enumerate(text.columns)})
        yield _positional(text.with_columns(batch["_line"]))


def _sliced(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    frame = frame.with_row_index("_line", offset=2)
    for offset in range(0, max(frame.height, 1), BATCH_ROWS):
        yield frame.slice(offset, BATCH_ROWS)


_NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')
_SHOWN_RANGES = 5


_FORMULA_CELL = re.compile(rb'<(?:\w+:)?c r="([A-Z]+[0-9]+)"[^>]*?(?<!/)>(.*?)</(?:\w+:)?c>', re.DOTALL)
_CACHED_VALUE = re.compile(rb"<(?:\w+:)?v>[^<]")


@dataclass(frozen=True)
class _Sheet:
    name: str  # as Excel shows it on its tab
    member: str  # its zip member


def _first_visible_sheet(book: zipfile.ZipFile) -> _Sheet | None:
    """The first sheet a person opening the workbook sees: hidden (or very hidden) sheets are skipped — a stale
    copy of last year's data kept out of sight must not be read instead of the data sheet."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    for sheet in workbook.findall("main:sheets/main:sheet", _NS):
        if sheet.get("state", "visible") != "visible":
            continue
        target = next(r.get("Target", "") for r in rels if r.get("Id") == sheet.get(f"{{{_NS['r']}}}id"))
        return _Sheet(sheet.get("name", ""), target.lstrip("/") if target.startswith("/") else f"xl/{target}")
    return None


def sheet_problems(path: Path, member: str) -> tuple[list[str], list[str]]:
    """The merged ranges (``A1:M1``) and the formula cells without a cached value (``C7``) of a sheet, read from
    its XML as a stream. Excel lists merged ranges after the cells, and neither fastexcel nor a read-only openpyxl
    reports them: a merged cell keeps its value in its first cell only, so the others would read as empty. A
    formula never calculated (written by a program, not saved by Excel) has no value to read: it would read as
    empty too."""
    with zipfile.ZipFile(path) as book, book.open(member) as sheet:
        ranges: list[str] = []
        uncached: list[str] = []
        tail = b""

        def scan(block: bytes) -> None:
            ranges.extend(m.decode() for m in _MERGE_CELL.findall(block))
            for cell, content in _FORMULA_CELL.findall(block):
                if b"<f" in content and not _CACHED_VALUE.search(content):
                    uncached.append(cell.decode())

        while block := sheet.read(1 << 20):
            block = tail + block
            cut = max(block.rfind(b"<c "), block.rfind(b"<mergeCell"))  # an element cut by the block boundary
            cut = cut if cut > 0 else len(block)  # is searched in the next block
            scan(block[:cut])
            tail = block[cut:]
        scan(tail)
    return ranges, uncached


def merged_cells(path: Path) -> list[str]:
    """The merged ranges of a workbook's first visible sheet (:func:`sheet_problems`)."""
    with zipfile.ZipFile(path) as book:
        sheet = _first_visible_sheet(book)
    return sheet_problems(path, sheet.member)[0] if sheet else []


@contextmanager
def xlsx_table(path: Path) -> Iterator[Table]:
    """The first visible sheet of a workbook; its first row is the header."""
    try:
        with zipfile.ZipFile(path) as book:
            sheet = _first_visible_sheet(book)
        if sheet is None:
            raise InputError(path, "没有可见的工作表；数据应在第一个可见的工作表上")
        header_row = pl.read_excel(
            path,
            sheet_name=sheet.name,
            has_header=False,
            read_options={"n_rows": 1},
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
        )
        frame = pl.read_excel(
            path,
            sheet_name=sheet.name,
            infer_schema_length=None,
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
        )
    except InputError:
        raise
    except Exception as error:  # fastexcel raises its own error types for every kind of broken workbook
        raise InputError(path, f"无法作为 Excel 工作簿读取（{str(error).splitlines()[0]}）") from None
    if header_row.height == 0:
        raise InputError(path, "第一个工作表是空的；应有表头行和记录", line=1)
    merged, uncached = sheet_problems(path, sheet.member)
    if uncached:
        raise InputError(
            path,
            f"工作表“{sheet.name}”的单元格 "
            f"{', '.join(uncached[:_SHOWN_RANGES])}{' …' if len(uncached) > _SHOWN_RANGES else ''} "
            "有公式但没有计算出的值；应为数值：用 Excel 打开工作簿并保存（保存时会计算公式），或粘贴为数值",
        )
    if merged:
        raise InputError(
            path,
            f"第一个工作表有合并单元格（{', '.join(merged[:_SHOWN_RANGES])}）；表头应在第 1 行、每个单元格一个值："
            "请取消合并、填入各单元格的值，并删除标题行",
        )
    headers = ["" if v is None else str(v) for v in header_row.row(0)]
    yield Table(headers, _numbered(_sliced(frame)), None)


def _parquet_problem(error: Exception) -> str:
    return f"无法作为 Parquet 文件读取（{str(error).splitlines()[0]}）"


def _parquet_batches(path: Path) -> Iterator[pl.DataFrame]:
    """The rows of a Parquet file in batches of ``BATCH_ROWS``, ``_line`` first (the header counts as line 1)."""
    rows = pl.scan_parquet(path, glob=False).with_row_index("_line", offset=2)
    try:
        yield from rows.collect_batches(chunk_size=BATCH_ROWS)
    except Exception as error:  # a file damaged past its footer fails only when its pages are read
        raise InputError(path, _parquet_problem(error)) from None


@contextmanager
def parquet_table(path: Path) -> Iterator[Table]:
    try:
        schema = pl.read_parquet_schema(path)
    except Exception as error:  # pyarrow/polars raise many error types for a damaged file
        raise InputError(path, _parquet_problem(error)) from None
    nested = [name for name, dtype in schema.items() if dtype.is_nested() or dtype == pl.Object]
    if nested:  # refused from the schema alone: reading the values would quote them, IDs included
        shown = "、".join(f"“{name}”（{schema[name].base_type()!r}）" for name in nested)
        raise InputError(path, f"有嵌套列 {shown}；每个单元格应为一个普通值（文本、数字、日期）")
    headers = list(schema)
    yield Table(headers, _numbered(_parquet_batches(path)), None)


@contextmanager
def opened(file: InboxFile, config: InboxConfig, scratch: Path) -> Iterator[Table]:
    """``file`` as a :class:`Table`, after checking it is the format its extension says."""
    problem = format_problem(file.path, file.format)
    if problem:
        raise InputError(file.path, problem)
    if file.format == "csv":
        with csv_table(file.path, config.encodings.get(file.source), scratch) as table:
            yield table
    elif file.format == "xlsx":
        with xlsx_table(file.path) as table:
            yield table
    else:
        with parquet_table(file.path) as table:
            yield table


def sha256_of(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
