"""Fuzzing the readers and validators (Hypothesis): arbitrary rows and arbitrary bytes, delivered as a source's file,
go through ingest and validate and end either refused as a whole with an ``InputError`` naming the file, or with
every delivered record accepted or quarantined — never another exception, never a row lost silently."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.errors import InputError
from flows.readers import source_of
from flows.stages.ingest import ingest
from flows.stages.validate import validate
from tests.support.inbox import cycle, registration_row, valid_row, write_csv

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOURCES = ("registration", "tax_payment", "social_security", "trademark")

# what departments' files are made of: delimiters, quotes, line ends, full-width forms, units, date words
_AWKWARD = list(",;\"'\t\n\r \u3000\u00a0，；“”０１２３４５６７８９－．／（）年月日元万ＡＸabc92\ufeff")
_TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(_AWKWARD), st.characters(exclude_categories=("Cs",), exclude_characters="\x00")),
    max_size=12,
)


def _template(source: str, seq: int) -> dict[str, str]:
    return registration_row(seq) if source == "registration" else valid_row(source, seq)


@st.composite
def rows_of_a_source(draw) -> tuple[str, list[dict[str, str]]]:
    """A source and 1–6 of its rows, each cell either valid or arbitrary text (possibly a valid value mangled)."""
    source = draw(st.sampled_from(SOURCES))
    rows = []
    for seq in range(1, draw(st.integers(1, 6)) + 1):
        row = _template(source, seq)
        for header, value in row.items():
            cell = st.one_of(
                st.just(value),
                _TEXT,
                _TEXT.map(lambda noise, v=value: v + noise),
                _TEXT.map(lambda noise, v=value: noise + v),
            )
            row[header] = draw(cell)
        rows.append(row)
    return source, rows


def _csv(rows: list[dict[str, str]], encoding: str) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\r\n" if encoding == "gb18030" else "\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def _run(files: dict[str, bytes]) -> tuple[dict[str, dict] | None, str | None]:
    """ingest + validate on an inbox of ``files`` (a valid registration added when none is given): the per-file
    counts of inputs.json, or the refusal's message."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as home:
        return _checked_run(Path(home), files)


def _checked_run(home: Path, files: dict[str, bytes]) -> tuple[dict[str, dict] | None, str | None]:
    inbox = home / "inbox"
    inbox.mkdir()
    for name, data in files.items():
        (inbox / name).write_bytes(data)
    if not any(name.startswith("registration") for name in files):
        write_csv(inbox / "registration.csv", [registration_row(i) for i in (1, 2, 3)])
    c = cycle(home, inbox, quarantine_threshold=1.0)
    try:
        ingest(c)
        validate(c)
    except InputError as refused:  # anything else fails the test, as a traceback would fail the user
        assert str(inbox) in str(refused)
        return None, str(refused)
    sources = json.loads((c.work_dir / "inputs.json").read_text(encoding="utf-8"))["sources"]
    counts = {f["file"]: f for s in sources for f in s["files"]}
    for entry in counts.values():
        assert entry["rows"] == entry["accepted"] + entry["quarantined"] + entry["duplicates_collapsed"], entry
    quarantined = pl.read_parquet(c.work_dir / "quarantine.parquet")
    for name, entry in counts.items():
        accepted = pl.read_parquet(c.accepted(source_of(name))).filter(pl.col("_file") == name)["_line"]
        lines = set(quarantined.filter(pl.col("file") == name)["line"])
        assert accepted.len() == entry["accepted"] and len(lines) == entry["quarantined"]
        assert not lines & set(accepted), f"{name}: a line both accepted and quarantined"
        assert all(2 <= line <= entry["rows"] + 1 for line in lines | set(accepted)), f"{name}: line out of range"
    return counts, None


@FUZZ
@given(rows_of_a_source(), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_arbitrary_rows_of_a_source_are_all_accepted_or_quarantined(source_rows, encoding):
    source, rows = source_rows
    try:
        data = _csv(rows, encoding)
    except UnicodeEncodeError:  # text GB18030 cannot encode is not what a GB18030 file can hold
        data = _csv(rows, "utf-8")
    name = f"{source}.csv"
    counts, refused = _run({name: data})
    assert refused is None, refused  # a correctly quoted CSV in a contract encoding is always readable
    blank = sum(all(value == "" for value in row.values()) for row in rows)
    assert counts[name]["rows"] == len(rows) - blank  # every record written was delivered


_MAGIC = [b"", b"PK\x03\x04", b"PAR1", b"\xef\xbb\xbf"]


@FUZZ
@given(
    st.sampled_from(["registration.csv", "registration.xlsx", "registration.parquet", "patent.csv"]),
    st.sampled_from(_MAGIC),
    st.binary(max_size=300),
)
def test_arbitrary_bytes_as_a_file_are_refused_or_reconciled(name, magic, data):
    _run({name: magic + data})


@FUZZ
@given(rows_of_a_source(), st.binary(min_size=1, max_size=8), st.floats(0, 1))
def test_invalid_bytes_spliced_into_a_csv_are_refused_or_reconciled(source_rows, noise, where):
    source, rows = source_rows
    data = _csv(rows, "utf-8")
    at = int(where * len(data))
    _run({f"{source}.csv": data[:at] + noise + data[at:]})
