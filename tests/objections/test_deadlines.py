"""Deadlines in working days of China's official calendar, 调休 included (objections.md, "The procedure")."""

from __future__ import annotations

import datetime as dt

from flows.objections import deadlines
from flows.objections.desk import accept, import_objections
from flows.objections.store import Store
from tests.objections.support import desk_for, objection_row
from tests.support.inbox import write_csv

D = dt.date


def test_intake_across_the_adjusted_weekend_before_national_day():
    # Sunday 28 September 2025 is worked (调休); 1–8 October are holidays
    assert deadlines.is_working_day(D(2025, 9, 28))
    assert not deadlines.is_working_day(D(2025, 10, 6))
    assert deadlines.add_working_days(D(2025, 9, 26), 5) == D(2025, 10, 10)


def test_decision_across_the_national_day_week_and_its_adjusted_saturday():
    # 9, 10, 11 (Saturday, worked) October, then whole weeks: the 20th working day is 4 November
    assert deadlines.is_working_day(D(2025, 10, 11))
    assert deadlines.add_working_days(D(2025, 9, 30), 20) == D(2025, 11, 4)


def test_correction_counts_the_adjusted_saturday():
    assert deadlines.add_working_days(D(2025, 10, 9), 5) == D(2025, 10, 15)


def test_an_ordinary_week():
    assert deadlines.add_working_days(D(2025, 8, 8), 5) == D(2025, 8, 15)
    assert deadlines.working_days_between(D(2025, 8, 8), D(2025, 8, 15)) == 5


def test_the_filing_period_ending_in_the_holiday_moves_to_the_next_working_day():
    assert deadlines.calendar_period_end(D(2025, 9, 5), 30) == D(2025, 10, 9)
    assert deadlines.calendar_period_end(D(2025, 8, 1), 30) == D(2025, 9, 1)  # 31 August is a Sunday


def test_a_year_the_calendar_does_not_know_counts_monday_to_friday_and_says_so():
    assert not deadlines.calendar_known(D(2031, 1, 6))
    assert deadlines.add_working_days(D(2031, 1, 3), 5) == D(2031, 1, 10)


def test_the_desk_sets_the_deadlines_from_the_calendar(home, tmp_path):
    desk, clock = desk_for(home, D(2025, 9, 26))
    write_csv(tmp_path / "objection.csv", [objection_row("YY-D", 1, filed_on="2025-08-20")])
    import_objections(desk, tmp_path / "objection.csv", "王五")
    with Store(home) as store:
        assert store.get("YY-D")["intake_due"] == "2025-10-10"
    clock.day = D(2025, 9, 30)
    assert accept(desk, "YY-D", "王五") == D(2025, 11, 4)
