"""Objections to a type (../shared/spec/objections.md) as data: the ``objection.csv`` source, the statuses,
refusal reasons, decisions and event kinds with their Chinese labels, and the periods of the procedure.

``objection.csv`` is read like an extract (extracts.md conventions: UTF-8 or GB18030, header aliases, the same
row rules and quarantine), so it is described by a :class:`schemas.sources.Source`. 联系电话 is personal data
but not an ID number: it is masked when it is read (``transforms.objections.masked_phone``) and only the mask
is kept; the clear number never reaches a table, a file or a log.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from schemas.sources import Column, Kind, Source
from schemas.vocabulary import DEVELOPMENT, GROWTH, INELIGIBLE, SURVIVAL

#: Types an operator may claim (主张分型): any type the cycle can give.
CLAIMABLE_TYPES = (SURVIVAL, GROWTH, DEVELOPMENT, INELIGIBLE)


OBJECTION = Source(
    name="objection",
    label="异议申诉",
    department="个体工商户名录异议申诉模块",
    key=("objection_no",),
    columns=(
        Column("objection_no", "异议编号", Kind.TEXT, "the module's number of the objection", required=True),
        Column(
            "uscc",
            "统一社会信用代码",
            Kind.TEXT,  # checked by intake against the directory: a bad code is UNKNOWN_BUSINESS, not quarantine
            "the business's 统一社会信用代码 as the operator gave it",
            required=True,
            aliases=("社会信用代码", "信用代码"),
        ),
        Column("as_of", "判定日期", Kind.DATE, "the as-of date of the cycle objected to", required=True),
        Column("filed_on", "提出日期", Kind.DATE, "the day the objection was filed", required=True),
        Column("filed_by", "提出人", Kind.TEXT, "who filed it (the operator or an agent)"),
        Column("phone", "联系电话", Kind.TEXT, "contact number: masked on reading, never kept in clear"),
        Column(
            "claimed_type",
            "主张分型",
            Kind.ENUM,
            "the type the operator claims",
            values=CLAIMABLE_TYPES,
        ),
        Column("grounds", "异议理由", Kind.TEXT, "the operator's reasons"),
        Column("materials", "材料", Kind.TEXT, "references to the attached documents"),
    ),
)

#: Columns of ``objection.csv`` the operator writes freely: phone numbers and ID numbers in them are masked on
#: reading (``transforms.objections.personal_data_masked``), as 联系电话 is.
FREE_TEXT = ("filed_by", "grounds", "materials")

#: Columns every correction file carries besides its extract's own (objections.md, "Inputs").
CONFIRMED_BY = "确认部门"
CONFIRMATION_NO = "确认文号"
CORRECTION_COLUMNS = (CONFIRMED_BY, CONFIRMATION_NO)


class Status(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    DECIDED = "decided"
    AMENDED = "amended"  # 调整 decided and the amendment recorded
    REPLIED = "replied"


STATUS_LABELS: dict[Status, str] = {
    Status.RECEIVED: "待受理",
    Status.ACCEPTED: "已受理",
    Status.REFUSED: "不予受理",
    Status.DECIDED: "已决定",
    Status.AMENDED: "已更正",
    Status.REPLIED: "已答复",
}

#: Statuses in which the objection is still open (a second one on the same cycle is a DUPLICATE).
OPEN_STATUSES = (Status.RECEIVED, Status.ACCEPTED, Status.DECIDED, Status.AMENDED)


class Refusal(StrEnum):
    UNKNOWN_BUSINESS = "UNKNOWN_BUSINESS"
    UNKNOWN_CYCLE = "UNKNOWN_CYCLE"
    LATE = "LATE"
    DUPLICATE = "DUPLICATE"


REFUSAL_LABELS: dict[Refusal, str] = {
    Refusal.UNKNOWN_BUSINESS: "未找到该统一社会信用代码对应的个体工商户，或该户未参加所异议的分型周期",
    Refusal.UNKNOWN_CYCLE: "所异议的判定日期没有已发布的分型结果",
    Refusal.LATE: "异议超出分型结果发布之日起的申诉期限",
    Refusal.DUPLICATE: "同一户对同一分型周期已有尚未办结的异议",
}


class Decision(StrEnum):
    ADJUST = "调整"
    MAINTAIN = "维持"


class Event(StrEnum):
    FILED = "filed"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    ATTACHED = "attached"
    REJUDGED = "rejudged"
    DECIDED = "decided"
    AMENDED = "amended"
    REPLIED = "replied"
    NOTE = "note"


EVENT_LABELS: dict[Event, str] = {
    Event.FILED: "收到异议",
    Event.ACCEPTED: "受理",
    Event.REFUSED: "不予受理",
    Event.ATTACHED: "附更正材料",
    Event.REJUDGED: "重新判定",
    Event.DECIDED: "作出决定",
    Event.AMENDED: "更正分型结果",
    Event.REPLIED: "答复申诉人",
    Event.NOTE: "备注",
}


class Deadline(StrEnum):
    INTAKE = "intake"  # accept or refuse, from receipt
    DECISION = "decision"  # decide, from acceptance
    CORRECTION = "correction"  # amend, from a 调整 decision


DEADLINE_LABELS: dict[Deadline, str] = {
    Deadline.INTAKE: "受理期限",
    Deadline.DECISION: "决定期限",
    Deadline.CORRECTION: "更正期限",
}


@dataclass(frozen=True)
class Periods:
    """The procedure's periods (objections.md, "The procedure"); defaults from 《个体工商户年度报告暂行办法》
    articles 19–20, as the contract takes them. Working days count China's official calendar."""

    filing_days: int = 30  # calendar days from the cycle's publication within which an objection is in time
    intake_working_days: int = 5
    decision_working_days: int = 20
    correction_working_days: int = 5
    review_days: int = 60  # 行政复议: days from receiving the reply
    lawsuit_months: int = 6  # 行政诉讼


DEFAULT_PERIODS = Periods()
