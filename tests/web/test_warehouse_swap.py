"""PublishedWarehouse: a request after a publish reads the new file; one that started before finishes on the old."""

from __future__ import annotations

import duckdb
import pytest

from flows.web.warehouse import NoWarehouse, PublishedWarehouse


def _database(path, value: int) -> None:
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE t AS SELECT {value} AS v")
    con.close()


def test_a_publish_is_seen_by_the_next_request_and_the_running_one_keeps_its_file(tmp_path):
    published = tmp_path / "warehouse.duckdb"
    _database(published, 1)
    warehouse = PublishedWarehouse(published)
    with warehouse.cursor() as running:
        assert running.execute("SELECT v FROM t").fetchall() == [(1,)]
        _database(tmp_path / "building.duckdb", 2)
        (tmp_path / "building.duckdb").replace(published)  # what replace_published does
        with warehouse.cursor() as after:
            assert after.execute("SELECT v FROM t").fetchall() == [(2,)]
        assert running.execute("SELECT v FROM t").fetchall() == [(1,)]
    with warehouse.cursor() as later:
        assert later.execute("SELECT v FROM t").fetchall() == [(2,)]
    warehouse.close()


def test_the_warehouse_is_read_only(tmp_path):
    _database(tmp_path / "warehouse.duckdb", 1)
    with PublishedWarehouse(tmp_path / "warehouse.duckdb").cursor() as con, pytest.raises(duckdb.Error):
        con.execute("INSERT INTO t VALUES (3)").fetchall()


def test_no_warehouse_yet(tmp_path):
    with pytest.raises(NoWarehouse), PublishedWarehouse(tmp_path / "warehouse.duckdb").cursor():
        pass
