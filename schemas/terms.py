"""The terms of a cycle (rules.md v2, "Terms"): the as-of date ``D``, the report year ``R`` and the cycle's kind.

``R`` is the latest year whose annual report was due on or before ``D``: reports for a year are due by 30 June
of the next year, so ``R = Y-1`` when ``D`` is on or after 30 June of its year ``Y``, and ``Y-2`` before. Every
"上一年度" of the basic criteria and of the typing standards means ``R``.
"""

from __future__ import annotations

import datetime as dt

#: Annual reports for year ``R`` are due by this day (month, day) of ``R + 1`` (000 §一(四)1, rules.md Terms).
REPORT_DUE = (6, 30)

#: The yearly cycle's as-of day (month, day): after the annual-report period (rules.md, Terms).
YEARLY_AS_OF = (7, 31)

YEARLY, EXTRA = "yearly", "extra"

#: ``cycle_kind`` as people read it (report, warehouse comments).
CYCLE_KIND_LABELS = {YEARLY: "年度分型", EXTRA: "临时分型"}


def report_year(as_of: dt.date) -> int:
    """``R``: ``Y-1`` when ``as_of`` is on or after 30 June of its year ``Y``, else ``Y-2``."""
    due = dt.date(as_of.year, *REPORT_DUE)
    return as_of.year - 1 if as_of >= due else as_of.year - 2


def yearly_as_of(year: int) -> dt.date:
    """The yearly cycle's as-of date of ``year``: 31 July."""
    return dt.date(year, *YEARLY_AS_OF)


def cycle_kind(as_of: dt.date) -> str:
    """``yearly`` for the yearly as-of date (31 July), ``extra`` for any other date (outputs.md, manifest)."""
    return YEARLY if as_of == yearly_as_of(as_of.year) else EXTRA
