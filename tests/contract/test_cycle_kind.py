"""The report reads the cycle's kind (outputs.md v2, manifest ``cycle_kind``: yearly for the province's yearly as-of
date, extra for any other; a draft is neither), never guesses it by comparing ``D`` with 15 August (issue 12's
leftover). Only the yearly cycle is the national directory's submission, so only it carries the 15 August badge."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import duckdb

from flows.cycles import published_cycles
from flows.home import CHINA_TIME, Cycle
from flows.stages.publish import publish
from schemas.terms import EXTRA, YEARLY
from tests.support.stage_fixture import Fixture, write_cycle

EXTRA_NOTE = "加开的判定周期"
BADGE = '<div class="deadline'  # the 15 August badge (按期 / 逾期)


@dataclasses.dataclass(frozen=True)
class YearlyOn(Cycle):
    """A yearly cycle judged on another day than 31 July (outputs.md: "31 July unless configured")."""

    @property
    def cycle_kind(self) -> str:
        return YEARLY


def published(tmp_path, as_of: dt.date, at: dt.datetime, yearly: bool = False) -> tuple[str, dict]:
    cycle = write_cycle(tmp_path, Fixture(as_of=as_of))
    if yearly:
        cycle = YearlyOn(**{f.name: getattr(cycle, f.name) for f in dataclasses.fields(cycle)})
    publish(cycle, clock=lambda: at)
    manifest = json.loads((cycle.out_dir / "manifest.json").read_text(encoding="utf-8"))
    return (cycle.out_dir / "report.html").read_text(encoding="utf-8"), manifest


def test_a_yearly_cycle_judged_after_15_august_is_the_yearly_submission(tmp_path):
    """D = 20 August is after the deadline day; the kind, not the date, says the cycle is the yearly one."""
    report, manifest = published(
        tmp_path, dt.date(2025, 8, 20), dt.datetime(2025, 8, 21, 9, 0, tzinfo=CHINA_TIME), yearly=True
    )
    assert manifest["cycle_kind"] == YEARLY
    assert EXTRA_NOTE not in report
    assert "（年度分型）" in report
    assert BADGE in report and "✘ 逾期" in report  # published on 21 August: after 15 August


def test_an_extra_cycle_before_15_august_says_it_is_not_the_yearly_submission(tmp_path):
    """D = 30 June 2025 is before 15 August, yet not the yearly as-of day: an extra cycle, with no deadline badge."""
    report, manifest = published(tmp_path, dt.date(2025, 6, 30), dt.datetime(2025, 7, 2, 9, 0, tzinfo=CHINA_TIME))
    assert manifest["cycle_kind"] == EXTRA
    assert EXTRA_NOTE in report and "（临时分型）" in report
    assert BADGE not in report and "✔ 按期" not in report


def test_the_yearly_cycle_on_31_july_has_the_badge_and_no_extra_note(tmp_path):
    report, manifest = published(tmp_path, dt.date(2025, 7, 31), dt.datetime(2025, 8, 1, 2, 5, tzinfo=CHINA_TIME))
    assert manifest["cycle_kind"] == YEARLY
    assert BADGE in report and "✔ 按期" in report and EXTRA_NOTE not in report


def test_getihu_cycles_reads_the_kind_and_guesses_only_for_a_cycle_published_without_one(tmp_path):
    """A cycle published before ``cycles.cycle_kind`` existed (null) is yearly when judged on 31 July."""
    published(tmp_path, dt.date(2025, 8, 20), dt.datetime(2025, 8, 21, 9, 0, tzinfo=CHINA_TIME), yearly=True)
    kinds = published_cycles(tmp_path).select("cycle_id", "cycle_kind").rows()
    assert kinds == [("41-20250820", YEARLY)]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("UPDATE cycles SET cycle_kind = NULL")
    assert published_cycles(tmp_path).select("cycle_id", "cycle_kind").rows() == [("41-20250820", EXTRA)]
