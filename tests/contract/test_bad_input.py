"""The bad-input corpus (tests/corpus/, docs/bad-input.md): every case ends in its documented outcome through the
real ingest and validate stages, never a traceback, and its counts reconcile."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import polars as pl
import pytest

from flows.errors import InputError
from flows.readers import inbox_config, source_of
from flows.stages.ingest import ingest
from flows.stages.validate import validate
from tests.support.inbox import cycle, registration_row, write_csv

CORPUS = Path(__file__).parent.parent / "corpus"
DOC = Path(__file__).parent.parent.parent / "docs" / "bad-input.md"
CASES = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))["case"]
OUTCOMES = ("accepted", "quarantined", "refused")


def inbox_config_of(inbox: Path):
    """The case's inbox.toml when it is one the readers take, else none (a refused case is refused by ingest)."""
    try:
        return inbox_config(inbox)
    except InputError:
        return None


def case_inbox(name: str, tmp_path: Path) -> Path:
    """The case's files as an inbox, beside a valid registration of three rows when the case has none."""
    inbox = tmp_path / "inbox"
    shutil.copytree(CORPUS / name, inbox)
    if not any(source_of(p.name, inbox_config_of(inbox)) == "registration" for p in inbox.iterdir()):
        write_csv(inbox / "registration.csv", [registration_row(i) for i in range(1, 4)])
    return inbox


def reconciled_counts(work_dir: Path) -> dict[str, dict]:
    """inputs.json per file, after checking rows = accepted + quarantined + collapsed for each."""
    files = {}
    for source in json.loads((work_dir / "inputs.json").read_text(encoding="utf-8"))["sources"]:
        for entry in source["files"]:
            assert entry["rows"] == entry["accepted"] + entry["quarantined"] + entry["duplicates_collapsed"], entry
            files[entry["file"]] = entry
    return files


def accepted_value(c, file: str, line: int, column: str) -> str:
    table = pl.read_parquet(c.accepted(source_of(file, inbox_config(c.inbox_dir))))
    values = table.filter((pl.col("_file") == file) & (pl.col("_line") == line))[column].to_list()
    assert len(values) == 1, f"{file} line {line} is not accepted"
    return str(values[0])


def test_every_case_has_a_folder_and_an_outcome():
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == {case["name"] for case in CASES}
    assert all(case["outcome"] in OUTCOMES for case in CASES)


def test_the_documented_table_lists_every_case_with_its_outcome():
    rows = re.findall(r"^\| `([a-z0-9_]+)` \|[^|]*\|\s*(\w+)\s*\|", DOC.read_text(encoding="utf-8"), re.MULTILINE)
    assert dict(rows) == {case["name"]: case["outcome"] for case in CASES}
    assert len(rows) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_a_case_ends_in_its_documented_outcome(case, tmp_path):
    inbox = case_inbox(case["name"], tmp_path)
    c = cycle(tmp_path, inbox, quarantine_threshold=1.0)  # the threshold is tested on its own
    if case["outcome"] == "refused":
        with pytest.raises(InputError) as refused:
            ingest(c)
            validate(c)
        message = str(refused.value)
        assert message.startswith(str(inbox))
        assert re.search("[\u4e00-\u9fff]", message.partition("：")[2]), message  # Chinese, after the place
        for words in case["message"]:
            assert words in message
        return
    ingest(c)
    validate(c)
    files = reconciled_counts(c.work_dir)
    assert {name: files[name]["rows"] for name in case["rows"]} == case["rows"]
    quarantine = pl.read_parquet(c.work_dir / "quarantine.parquet").filter(pl.col("file").is_in(list(case["rows"])))
    expected = sorted((q["file"], q["line"], q["column"], q["rule"]) for q in case.get("quarantine", []))
    assert sorted(quarantine.select("file", "line", "column", "rule").rows()) == expected
    assert (case["outcome"] == "quarantined") == bool(expected)
    for file, entry in files.items():
        if file in case["rows"]:
            lines = set(quarantine.filter(pl.col("file") == file)["line"])
            source = source_of(file, inbox_config(c.inbox_dir))
            accepted = set(pl.read_parquet(c.accepted(source)).filter(pl.col("_file") == file)["_line"])
            assert entry["quarantined"] == len(lines - accepted)  # a field quarantined in an accepted row: no row
            assert entry["fields_quarantined"] == quarantine.filter(pl.col("line").is_in(accepted)).height
    for value in case.get("values", []):
        assert accepted_value(c, value["file"], value["line"], value["column"]) == value["value"]
    if "unrecognised" in case:  # never silently ignored: listed in inputs.json
        inputs = json.loads((c.work_dir / "inputs.json").read_text(encoding="utf-8"))
        assert inputs["unrecognised_files"] == case["unrecognised"]
