"""The round and the yearly review, end to end: read, decide, write ``out/<P>/mtyx-<Y>/``, keep the register,
publish the warehouse tables.

Both steps hold the home's run lock (``flows.lock``) from reading the register to publishing, like ``getihu run``:
the warehouse is shared by every province and step. The output folder is built beside its place and swapped in
(``flows.publish``); what an earlier step of the year wrote there (the review's ``review.csv`` for the round) is
carried over.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.classification.cycle_data import load_cycle
from flows.classification.inbox import FOLDER, ClassificationInputs, read_classification_inbox
from flows.classification.report import render_report
from flows.classification.standards import load_standards
from flows.classification.store import all_applications, previous_state, save_state
from flows.classification.warehouse import publish_classification
from flows.home import warehouse_path
from flows.stages.publish import recover_cycle_folder, replace_folder
from flows.storage.lock import home_lock
from reference import industries, province_regions, regions
from schemas.classification import CANDIDATE, CANDIDATES, DECISIONS, RECOGNISED
from transforms.classification import frames
from transforms.classification.review import yearly_review
from transforms.classification.round import classification_round
from transforms.validate import Context


@dataclass(frozen=True)
class StepResult:
    folder: Path
    counts: dict[str, int]
    quarantined: int


def round_day(year: int) -> dt.date:
    """Recognition by 30 November (000 §二(五)1)."""
    return dt.date(year, 11, 30)


def review_day(year: int) -> dt.date:
    """The review looks at the register as of the yearly cycle: 31 July, the information reports' deadline."""
    return dt.date(year, 7, 31)


def out_folder(home: Path, province: str, year: int) -> Path:
    return home / "out" / province / f"mtyx-{year}"


def _inputs(home: Path, province: str, year: int, inbox: Path | None, secret: bytes, day: dt.date):
    folder = (inbox or home / "inbox" / province / str(year)) / FOLDER
    context = Context(
        extracted_on=day,
        province=province,
        regions=tuple(province_regions(province)["region_code"]),
        sections=dict(industries().select("division", "section").iter_rows()),
    )
    return read_classification_inbox(folder, secret, context)


def _csv(frame: pl.DataFrame, path: Path, headers: dict[str, str], schema=None) -> None:
    """Write ``frame`` under its Chinese headers, after checking it against ``schema`` when given."""
    shown = frame.select([pl.col(c).alias(h) for c, h in headers.items()])
    if schema is not None:
        schema.validate(shown, lazy=True)
    shown.write_csv(path)


DECISION_HEADERS = {
    "application_no": "申报编号",
    "uscc": "统一社会信用代码",
    "name": "名称",
    "region_code": "行政区划代码",
    "category": "申报类别",
    "channel": "来源",
    "business_type": "分型结果",
    "score": "得分",
    "indicators_met": "达标指标",
    "outcome": "结果",
    "reasons": "原因",
}
CANDIDATE_HEADERS = {
    "uscc": "统一社会信用代码",
    "name": "名称",
    "region_code": "行政区划代码",
    "category": "申报类别",
    "business_type": "分型结果",
}
QUOTA_HEADERS = {
    "quota_unit": "名额单位",
    "base": "成长型+发展型",
    "places": "名额",
    "held": "已有有效认定",
    "candidates": "本轮拟认定",
    "recognised": "本轮认定",
    "freed": "审核空出名额",
    "remaining": "剩余",
}
REGISTER_HEADERS = {
    "recognition_no": "认定编号",
    "uscc": "统一社会信用代码",
    "name": "名称",
    "region_code": "行政区划代码",
    "category": "认定类别",
    "channel": "来源",
    "recognised_on": "认定日期",
    "valid_until": "有效期至",
    "benefits_from": "享受政策起始日",
    "status": "状态",
}
REVIEW_HEADERS = {
    "recognition_no": "认定编号",
    "uscc": "统一社会信用代码",
    "region_code": "行政区划代码",
    "category": "认定类别",
    "recognised_on": "认定日期",
    "valid_until": "有效期至",
    "result": "结果",
    "reasons": "原因",
}


def _register_csv(recognitions: pl.DataFrame, names: pl.DataFrame, day: dt.date, path: Path) -> int:
    valid = frames.valid_on(recognitions, day).join(names, on="uscc", how="left").sort("region_code", "recognition_no")
    _csv(valid, path, REGISTER_HEADERS)
    return valid.height


def _building(folder: Path) -> Path:
    recover_cycle_folder(folder)
    building = folder.with_name(f".{folder.name}.building")
    if folder.exists():
        shutil.copytree(folder, building)
    else:
        building.mkdir(parents=True)
    return building


def _quarantine_csv(inputs: ClassificationInputs, path: Path) -> None:
    inputs.quarantine.write_csv(path)


def _region_names() -> dict[str, str]:
    return dict(regions().select("region_code", "region_name").iter_rows())


def _step_inputs(
    home: Path, province: str, year: int, inbox: Path | None, secret: bytes, day: dt.date, standards_dir: Path | None
):
    """What a round or a review reads before taking the lock: the standards, the year's typing cycle, the inbox."""
    standards = load_standards(province, standards_dir)
    cycle = load_cycle(home, province, year)
    return standards, cycle, _inputs(home, province, year, inbox, secret, day)


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    return dict(frame.group_by(column).agg(pl.len()).sort(column).iter_rows())


def _register_and_quarantine(
    cycle, recognitions: pl.DataFrame, inputs: ClassificationInputs, day: dt.date, building: Path
) -> int:
    """register.csv (the recognitions with their businesses' names) and quarantine.csv of a step being built;
    returns the recognitions valid on ``day``."""
    names = cycle.names(set(recognitions["uscc"]))
    valid = _register_csv(recognitions, names, day, building / "register.csv")
    _quarantine_csv(inputs, building / "quarantine.csv")
    return valid


def _publish_step(
    home: Path, province: str, html: str, building: Path, folder: Path, recognitions: pl.DataFrame, events
) -> None:
    """The step's report, its folder swapped into place, the register and events into the warehouse."""
    (building / "report.html").write_text(html, encoding="utf-8")
    replace_folder(building, folder)
    publish_classification(warehouse_path(home), province, all_applications(home, province), recognitions, events)


def run_round(
    province: str,
    year: int,
    home: Path,
    secret: bytes,
    inbox: Path | None = None,
    recognised_on: dt.date | None = None,
    standards_dir: Path | None = None,
) -> StepResult:
    """The round of ``year`` (classification.md, "The round")."""
    day = recognised_on or round_day(year)
    standards, cycle, inputs = _step_inputs(home, province, year, inbox, secret, day, standards_dir)
    t = inputs.tables
    with home_lock(home, f"getihu classify {province} {year}"):
        held, history = previous_state(home, province, year, "round")
        register = frames.recognitions(held)
        applications = frames.applications(t["application"])
        wanted = {a.uscc for a in applications} | {r.uscc for r in register}
        businesses = frames.businesses(cycle.selected(wanted))
        reviews = frames.reviews(t["review"]) if t["review"].height else None
        result = classification_round(
            year,
            applications,
            businesses,
            cycle.typed_counts,
            frames.penalties(cycle.penalties(wanted)),
            frames.debtors(t["dishonest_debtor"]),
            frames.credentials(t["credential"]),
            register,
            frames.office_events(t["event"]),
            standards,
            day,
            reviews,
        )
        decisions = frames.decision_frame(result.decisions, year)
        quota = frames.quota_frame(result.quota)
        recognitions = frames.recognition_frame([*register, *result.recognitions])
        new_events = frames.event_frame(result.events)
        events = pl.concat([history, new_events], how="vertical_relaxed")
        save_state(home, province, year, "round", recognitions, events, decisions)

        folder = out_folder(home, province, year)
        building = _building(folder)
        chosen = decisions.filter(
            pl.col("outcome").is_in([CANDIDATE, RECOGNISED]) | (pl.col("reasons") == "REVIEW_FAILED")
        ).sort("region_code", "uscc")
        _csv(chosen, building / "candidates.csv", CANDIDATE_HEADERS, CANDIDATES)
        _csv(decisions, building / "decisions.csv", DECISION_HEADERS, DECISIONS)
        _csv(quota, building / "quota.csv", QUOTA_HEADERS)
        valid = _register_and_quarantine(cycle, recognitions, inputs, day, building)
        counts = _counts(decisions, "outcome")
        facts = [
            ("省份", province),
            ("轮次年度", str(year)),
            ("认定日期", day.isoformat()),
            ("分类标准", "、".join(f"{s.name}（{c}）" for c, s in sorted(standards.files.items()))),
            ("名额口径", f"{standards.quota.level}，比例 {standards.quota.share}"),
            ("申报份数", str(decisions.height)),
            *((f"结果：{k}", str(v)) for k, v in counts.items()),
            ("本轮结束时有效认定", str(valid)),
            ("隔离行", str(inputs.quarantine.height)),
            ("走访核实和公示异议", "已录入" if reviews is not None else "尚未录入：结果为拟认定，待公示"),
        ]
        this_year = events.filter(pl.col("year") == year)  # the review's movements of the year too
        review_file = building / "review.csv"
        review = pl.read_csv(review_file).rename({"结果": "result"}) if review_file.exists() else None
        title = f"{province} 名特优新认定 {year}"
        html = render_report(title, facts, decisions, quota, this_year, review, _region_names())
        _publish_step(home, province, html, building, folder, recognitions, events)
    return StepResult(folder, counts, inputs.quarantine.height)


def run_review(
    province: str,
    year: int,
    home: Path,
    secret: bytes,
    inbox: Path | None = None,
    review_on: dt.date | None = None,
    standards_dir: Path | None = None,
) -> StepResult:
    """The yearly review of ``year``, after its typing cycle (classification.md, "The register and the yearly
    review")."""
    day = review_on or review_day(year)
    standards, cycle, inputs = _step_inputs(home, province, year, inbox, secret, day, standards_dir)
    t = inputs.tables
    with home_lock(home, f"getihu classify review {province} {year}"):
        held, history = previous_state(home, province, year, "review")
        register = frames.recognitions(held)
        wanted = {r.uscc for r in register}
        businesses = frames.businesses(cycle.selected(wanted))
        outcome = yearly_review(
            year,
            register,
            businesses,
            frames.info_reports(t["info_report"]),
            frames.penalties(cycle.penalties(wanted)),
            frames.debtors(t["dishonest_debtor"]),
            frames.credentials(t["credential"]),
            frames.office_events(t["event"]),
            standards,
            day,
        )
        recognitions = frames.recognition_frame(outcome.recognitions)
        new_events = frames.event_frame(outcome.events)
        events = pl.concat([history, new_events], how="vertical_relaxed")
        save_state(home, province, year, "review", recognitions, events)
        review = frames.review_frame(outcome.rows)

        folder = out_folder(home, province, year)
        building = _building(folder)
        _csv(review, building / "review.csv", REVIEW_HEADERS)
        valid = _register_and_quarantine(cycle, recognitions, inputs, day, building)
        counts = _counts(review, "result")
        facts = [
            ("省份", province),
            ("评估年度", str(year)),
            ("评估日期", day.isoformat()),
            ("评估的认定", str(review.height)),
            *((f"结果：{k}", str(v)) for k, v in counts.items()),
            ("评估后有效认定", str(valid)),
            ("隔离行", str(inputs.quarantine.height)),
        ]
        html = render_report(
            f"{province} 名特优新年度评估确认 {year}", facts, None, None, new_events, review, _region_names()
        )
        _publish_step(home, province, html, building, folder, recognitions, events)
    return StepResult(folder, counts, inputs.quarantine.height)
