"""登记状态 (extracts.md v2, registration; rules.md v2 §1, STATUS): the contract's statuses, each named once, and the
STATUS label that names every status failing it — 迁出 included — wherever a reader meets it (issue 12's leftover)."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.stages.publish import publish
from reference import ruleset_for
from schemas.sources import SOURCES
from schemas.vocabulary import CRITERIA_LABELS, INELIGIBLE
from tests.support.frames import business, features_of, sources
from tests.support.stage_fixture import Fixture, write_cycle
from transforms.business_types import business_types

#: extracts.md v2, registration, 登记状态: 存续, 吊销, 注销, 撤销, 迁出 — and only 存续 passes STATUS (rules.md §1).
SPEC_STATUSES = ("存续", "吊销", "注销", "撤销", "迁出")
FAILING = ("吊销", "注销", "撤销", "迁出")
LABEL = "登记状态非存续（吊销、注销、撤销、迁出）"


def test_the_contract_lists_the_statuses_of_the_spec():
    assert set(SOURCES["registration"].column("status").values) == set(SPEC_STATUSES)


def test_the_status_label_names_every_status_that_fails_status():
    assert CRITERIA_LABELS["STATUS"] == LABEL
    for status in FAILING:
        assert status in CRITERIA_LABELS["STATUS"]


@pytest.mark.parametrize("status", SPEC_STATUSES)
def test_only_a_business_in_force_passes_status(status):
    rows = sources(registration=[business(1, status=status)])
    typed = business_types(features_of(rows).lazy(), ruleset_for("41")).collect().row(0, named=True)
    assert ("STATUS" in typed["criteria_failed"]) == (status != "存续")
    assert typed["business_type"] == INELIGIBLE  # every one of them: these rows carry no annual report either


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """One cycle whose first business failed STATUS (as a 迁出 business does)."""
    home = tmp_path_factory.mktemp("home")
    fixture = Fixture().with_types({1: (INELIGIBLE, ("STATUS",))})
    cycle = write_cycle(home, fixture)
    publish(cycle)
    return home, cycle, next(b for b in fixture.businesses if b.n == 1)


def test_the_report_names_moved_out_in_the_status_reason(published):
    _, cycle, _ = published
    assert LABEL in (cycle.out_dir / "report.html").read_text(encoding="utf-8")


def test_the_warehouse_codes_and_getihu_query_name_moved_out(published):
    home, cycle, moved_out = published
    with duckdb.connect(str(cycle.warehouse), read_only=True) as con:
        (label,) = con.execute("SELECT label FROM codes WHERE kind = 'criterion' AND code = 'STATUS'").fetchone()
    assert label == LABEL
    result = CliRunner().invoke(app, ["query", moved_out.key, "--home", str(home)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert f"STATUS {LABEL}" in result.output
