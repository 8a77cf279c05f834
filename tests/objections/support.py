"""A tiny province-41 cycle run end to end (ingest → publish, no Prefect) for the objection tests, and the
objection and correction files its operators and departments send.

Businesses (as of 31 July 2025, ruleset HA 2024.1):

- 1: established 2021, a 2024 annual report with small sales, no tax paid → 生存型 (NO_CONDITION). The tax
  office confirms a 2024 payment of 20,000 yuan → 发展A → 发展型.
- 2: as 1 but listed on the abnormal list since 2023-01-03 → 不符合分型条件 (ABNORMAL). The listing was removed
  on 2025-05-01, before D → 生存型.
- 3: established 2016 (成长D) → 成长型; an unfounded objection.
- 4: 生存型, for late and duplicate objections.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from flows.home import Cycle
from flows.objections.desk import Desk
from flows.stages import execute
from flows.stages.publish import publish
from tests.support.inbox import AS_OF, registration_row, uscc, valid_row, write_csv

SECRET = b"test-secret-not-for-production"
PUBLISHED = dt.datetime(2025, 8, 1, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def inbox_rows() -> dict[str, list[dict[str, str]]]:
    registration = [
        registration_row(1, 成立日期="2021-03-01"),
        registration_row(2, 成立日期="2021-04-01"),
        registration_row(3, 成立日期="2016-05-01"),
        registration_row(4, 成立日期="2020-06-01"),
    ]
    reports = []
    for seq in (1, 2, 3, 4):
        row = valid_row("annual_report", seq)
        row["营业额或营业收入（元）"] = "100000"
        reports.append(row)
    abnormal = [valid_row("abnormal_list", 2) | {"列入日期": "2023-01-03", "移出日期": ""}]
    taxpayer = [
        valid_row("taxpayer", seq) | {"一般纳税人登记日期": "", "一般纳税人注销日期": ""} for seq in (1, 2, 3, 4)
    ]
    return {
        "registration": registration,
        "annual_report": reports,
        "abnormal_list": abnormal,
        "taxpayer": taxpayer,
    }


def tax_correction_rows() -> list[dict[str, str]]:
    return [
        {
            "纳税人识别号": uscc(1),
            "税种": "增值税",
            "税款所属期起": "2024-04-01",
            "税款所属期止": "2024-06-30",
            "入库日期": "2024-07-15",
            "实缴金额（元）": "20000",
            "确认部门": "国家税务总局郑州市金水区税务局",
            "确认文号": "金税确〔2025〕12号",
        }
    ]


def abnormal_correction_rows() -> list[dict[str, str]]:
    return [
        {
            "统一社会信用代码": uscc(2),
            "列入日期": "2023-01-03",
            "列入原因": "未年报",
            "移出日期": "2025-05-01",
            "确认部门": "郑州市金水区市场监督管理局",
            "确认文号": "金市监确〔2025〕3号",
        }
    ]


def write_inbox(inbox: Path, rows: dict[str, list[dict[str, str]]]) -> None:
    for source, source_rows in rows.items():
        write_csv(inbox / f"{source}.csv", source_rows)


def run_cycle(home: Path, inbox: Path) -> Cycle:
    cycle = Cycle(province="41", as_of=AS_OF, home=home, secret=SECRET, inbox=inbox)
    execute(cycle, run_stage=published_on(PUBLISHED), clock=lambda: PUBLISHED)
    return cycle


def published_on(moment: dt.datetime):
    """Run the stages directly, publish with its clock at ``moment`` (the filing period counts from it)."""

    def run(name, stage, cycle):
        return publish(cycle, clock=lambda: moment) if name == "publish" else stage(cycle)

    return run


def published_cycle(home: Path) -> Cycle:
    """The tiny cycle published in ``home`` (its inbox in ``home/inbox/41/2025``)."""
    inbox = home / "inbox" / "41" / "2025"
    write_inbox(inbox, inbox_rows())
    return run_cycle(home, inbox)


def copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


class Clock:
    """A settable clock in China time."""

    def __init__(self, day: dt.date) -> None:
        self.day = day

    def __call__(self) -> dt.datetime:
        return dt.datetime(self.day.year, self.day.month, self.day.day, 10, 0, tzinfo=PUBLISHED.tzinfo)


def desk_for(home: Path, day: dt.date = dt.date(2025, 8, 11)) -> tuple[Desk, Clock]:
    clock = Clock(day)
    return Desk(home=home, secret=SECRET, clock=clock), clock


def objection_row(no: str, seq: int, filed_on: str = "2025-08-10", **overrides: str) -> dict[str, str]:
    row = {
        "异议编号": no,
        "统一社会信用代码": uscc(seq),
        "判定日期": "2025-07-31",
        "提出日期": filed_on,
        "提出人": "张三",
        "联系电话": "13812345678",
        "主张分型": "发展型",
        "异议理由": "上年度已缴纳税款，分型结果未计入",
        "材料": "完税证明1份",
    }
    row.update(overrides)
    return row
