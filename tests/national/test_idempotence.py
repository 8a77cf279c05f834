"""Reruns are idempotent: the same packages give byte-identical national files (national.md, "Assembly")."""

import hashlib
import shutil

import duckdb

from flows.national.assemble import assemble
from tests.national.conftest import receive


def digests(home):
    files = sorted(p for d in ("directory", "assembly") for p in (home / d).rglob("*") if p.is_file())
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def warehouse_contents(home):
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return {
            table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in ("directory", "directory_latest", "cycles", "transitions", "submissions", "duplicates")
        }


def test_the_same_packages_give_byte_identical_national_files(tmp_path, packages):
    first, second = tmp_path / "first", tmp_path / "second"
    receive(first, packages)
    assemble(first, 2025)
    before = digests(first)
    assemble(first, 2025)  # a rerun in the same home
    assert digests(first) == before
    shutil.copytree(first / "inbox", second / "inbox")  # copytree keeps the times: the same packages elsewhere
    assemble(second, 2025)
    assert digests(second) == before
    assert "assembly/2025/report.html" in before and "directory/province=32/32-20250731.parquet" in before
    # DuckDB's own file is not byte-stable between writes; its contents are
    assert warehouse_contents(first) == warehouse_contents(second)


def test_one_assembly_at_a_time_per_home(tmp_path):
    import fcntl

    import pytest

    from flows.national.assemble import AssemblyError

    with (tmp_path / "assembly.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(AssemblyError, match="另一个汇总正在运行"):
            assemble(tmp_path, 2025)
    assert statuses_of(assemble(tmp_path, 2025)) == {"missing"}  # free again: every province missing


def statuses_of(assembly):
    return {o.status for o in assembly.outcomes}
