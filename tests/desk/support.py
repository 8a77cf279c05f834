"""The home the desk tests start from: the objection tests' tiny province-41 cycle (tests/objections/support.py)
with more evidence on business 1 — a trademark linked to it by its operator's ID, a trademark whose holder (a
name without ID) could be any of the four 张三 of 金水区 (ambiguous: credited to none) and two conflicting
annual reports of 2024 (quarantined as a duplicate conflict, its value naming the business).
"""

from __future__ import annotations

from pathlib import Path

from tests.objections.support import inbox_rows, run_cycle, write_inbox
from tests.support.inbox import uscc, valid_row


def evidence_inbox_rows() -> dict[str, list[dict[str, str]]]:
    rows = inbox_rows()
    by_operator = valid_row("trademark", 1)
    by_name = valid_row("trademark", 2) | {"注册号": "39999999", "注册人名称": "张三", "注册人证件号码": ""}
    rows["trademark"] = [by_operator, by_name]
    conflicting = valid_row("annual_report", 1) | {"营业额或营业收入（元）": "150000"}
    rows["annual_report"] = [*rows["annual_report"], conflicting]
    return rows


def desk_cycle(home: Path):
    inbox = home / "inbox" / "41" / "2025"
    write_inbox(inbox, evidence_inbox_rows())
    return run_cycle(home, inbox)


BUSINESS_1 = uscc(1)
