"""Issue 15: a source's checked tables are kept and reused by the next cycle while everything they depend on is
unchanged (docs/reliability.md, "Reused between runs"), and checked again when any one of those changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import flows.stages.validate as validate_stage
from flows.stages.ingest import ingest
from flows.stages.validate import validate
from tests.support.inbox import cycle, registration_row, valid_row, write_csv

EXTRACTED = "extracted_on = 2025-08-03\n"


@pytest.fixture
def checks(monkeypatch):
    """The sources checked afresh (not reused), in order, for each call of validate."""
    checked: list[str] = []
    original = validate_stage._validate_source

    def counting(source, *args):
        checked.append(source.name)
        return original(source, *args)

    monkeypatch.setattr(validate_stage, "_validate_source", counting)
    return checked


def inbox_with(tmp_path, rows=None, toml=EXTRACTED):
    inbox = tmp_path / "inbox"
    rows = rows or [registration_row(1), registration_row(2, 成立日期="2015-02-30")]  # line 3: no such date
    write_csv(inbox / "registration.csv", rows)
    write_csv(inbox / "social_security.csv", [valid_row("social_security", 1)])
    (inbox / "inbox.toml").write_text(toml, encoding="utf-8")
    return inbox


def run(c):
    ingest(c)
    validate(c)


def outputs(c) -> dict[str, bytes]:
    """Every file validate wrote, by name relative to the cycle's work folder."""
    return {str(p.relative_to(c.work_dir)): p.read_bytes() for p in sorted(c.work_dir.rglob("*")) if p.is_file()}


def test_another_as_of_date_on_an_unchanged_inbox_reuses_every_checked_table_and_writes_the_same_bytes(
    tmp_path, checks
):
    inbox = inbox_with(tmp_path)
    first = cycle(tmp_path / "home", inbox)
    run(first)
    assert checks == ["registration", "social_security"]
    second = dataclasses.replace(first, as_of=dt.date(2025, 9, 30))
    run(second)
    assert checks == ["registration", "social_security"]  # nothing checked again
    fresh = dataclasses.replace(second, home=tmp_path / "fresh")
    run(fresh)
    assert outputs(second) == outputs(fresh)
    quarantine = pl.read_parquet(second.work_dir / "quarantine.parquet")
    assert quarantine.filter(pl.col("file") == "registration.csv")["line"].to_list() == [3]  # still caught


def test_a_changed_file_is_checked_again(tmp_path, checks):
    inbox = inbox_with(tmp_path)
    c = cycle(tmp_path / "home", inbox)
    run(c)
    write_csv(inbox / "registration.csv", [registration_row(1), registration_row(2), registration_row(3)])
    run(dataclasses.replace(c, as_of=dt.date(2025, 9, 30)))
    assert checks == ["registration", "social_security", "registration"]
    accepted = pl.read_parquet(dataclasses.replace(c, as_of=dt.date(2025, 9, 30)).accepted("registration"))
    assert accepted.height == 3


def test_changed_inbox_toml_settings_for_the_file_check_it_again(tmp_path, checks):
    inbox = inbox_with(tmp_path)
    c = cycle(tmp_path / "home", inbox)
    run(c)
    (inbox / "inbox.toml").write_text(EXTRACTED + '[registration]\nencoding = "utf-8"\n', encoding="utf-8")
    run(c)
    assert checks == ["registration", "social_security", "registration"]


def test_another_extraction_date_checks_every_source_again(tmp_path, checks):
    inbox = inbox_with(tmp_path)
    c = cycle(tmp_path / "home", inbox)
    run(c)
    (inbox / "inbox.toml").write_text("extracted_on = 2015-02-01\n", encoding="utf-8")
    run(c)
    assert checks == ["registration", "social_security"] * 2
    quarantine = pl.read_parquet(c.work_dir / "quarantine.parquet")
    assert "date_after_extraction" in quarantine["rule"].to_list()  # 成立日期 2015-03-01 is now after it


def test_another_key_checks_every_source_again(tmp_path, checks):
    inbox = inbox_with(tmp_path)
    c = cycle(tmp_path / "home", inbox)
    run(c)
    before = pl.read_parquet(c.accepted("registration"))["operator_key"].to_list()
    other = dataclasses.replace(c, secret=b"another key")
    run(other)
    assert checks == ["registration", "social_security"] * 2
    assert pl.read_parquet(other.accepted("registration"))["operator_key"].to_list() != before


def test_changed_validation_code_checks_every_source_again(tmp_path, checks, monkeypatch):
    inbox = inbox_with(tmp_path)
    c = cycle(tmp_path / "home", inbox)
    run(c)
    monkeypatch.setattr(validate_stage, "_code_fingerprint", lambda: "another version of the rules")
    run(c)
    assert checks == ["registration", "social_security"] * 2


def test_the_validation_code_fingerprint_covers_every_module_validate_imports():
    """Every module of the project that flows/stages/validate.py imports is part of the code fingerprint."""
    import ast
    import importlib.util

    code = validate_stage._code_fingerprint()
    assert len(code) == 64 and code == validate_stage._code_fingerprint()
    root = validate_stage._ROOT
    tree = ast.parse(Path(validate_stage.__file__).read_text(encoding="utf-8"))
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    ours = [m for m in modules if m.split(".")[0] in {"flows", "schemas", "transforms", "reference"}]
    assert "transforms.validate" in ours and "flows.storage.raw" in ours
    covered = [root / c for c in validate_stage._VALIDATION_CODE]
    for module in ours:
        path = Path(importlib.util.find_spec(module).origin).resolve()
        assert any(path == c or path.is_relative_to(c) for c in covered), module


def test_an_incomplete_kept_folder_is_not_reused(tmp_path, checks):
    inbox = inbox_with(tmp_path)
    c = cycle(tmp_path / "home", inbox)
    run(c)
    (kept,) = list(validate_stage.validated_dir(c, "registration").iterdir())
    (kept / "entry.json").unlink()  # as a run killed midway, or a hand, might leave it
    run(c)
    assert checks == ["registration", "social_security", "registration"]
    assert pl.read_parquet(c.accepted("registration")).height == 1
