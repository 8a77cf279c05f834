"""Deadlines of the objection procedure in working days of China's official calendar (objections.md).

Working days are those the State Council's yearly notice makes working days: Monday to Friday except the
statutory holidays, plus the weekend days worked in exchange (调休, e.g. Sunday 28 September 2025 before the
National Day week). ``chinesecalendar`` carries those notices. A period counts from the day after the event
(期间开始的日不计算在内); a period in calendar days whose last day is not a working day ends on the next
working day (《民法典》第二百零三条).

A year the installed calendar does not know yet (the notice is published each November) is counted Monday to
Friday, and :func:`calendar_known` says so, so that the handler is told that the deadline is provisional.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

_ONE_DAY = dt.timedelta(days=1)


def calendar_known(day: dt.date) -> bool:
    """Whether the installed calendar has the official holidays and 调休 of ``day``'s year."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_working_day(day: dt.date) -> bool:
    """A working day of the official calendar (调休 weekend days included, holidays excluded)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The last day of a period of ``days`` working days counted from the day after ``start``."""
    if days < 0:
        raise ValueError(f"a period cannot be negative: {days}")
    day, counted = start, 0
    while counted < days:
        day += _ONE_DAY
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    day, counted = start, 0
    while day < end:
        day += _ONE_DAY
        counted += is_working_day(day)
    return counted


def calendar_period_end(start: dt.date, days: int) -> dt.date:
    """The last day of a period of ``days`` calendar days from ``start``, moved to the next working day when it
    falls on a rest day or holiday."""
    end = start + dt.timedelta(days=days)
    while not is_working_day(end):
        end += _ONE_DAY
    return end
