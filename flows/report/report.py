"""``report.html``: one self-contained page a section chief reads — the cycle at a glance, in Chinese.

No scripts, stylesheets or fonts from elsewhere (the machines that read it may have no network):
the charts are inline SVG (``flows.report.charts``), the style is inline. The report says when the run
happened and how long it took, so it is the one file of the cycle folder that differs between runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import jinja2
import polars as pl

from flows.report.charts import Series, bar_chart, count, share, stacked_bar_chart
from flows.storage.work_files import CycleFiles
from schemas.national import DEADLINE
from schemas.sources import RULES, SOURCES
from schemas.terms import CYCLE_KIND_LABELS, EXTRA, YEARLY
from schemas.vocabulary import (
    CRITERIA_LABELS,
    LINK_OUTCOME_LABELS,
    LINK_OUTCOMES,
    LINK_SOURCE_LABELS,
    MOVEMENTS,
    SHOWN_TYPES,
    STAGE_LABELS,
)
from transforms.summary import (
    code_counts,
    linkage_outcomes,
    movement_matrix,
    quarantine_by_rule,
    set_apart,
    type_counts,
    types_by_city,
    types_by_region,
    types_by_section,
)

TYPE_COLORS = {"发展型": "#1b7f4f", "成长型": "#2f6fb5", "生存型": "#e0a526", "不符合分型条件": "#a3a8ae"}
TYPE_SERIES = [Series(t, TYPE_COLORS[t]) for t in SHOWN_TYPES]
MOVEMENT_COLORS = {"上升": "#1b7f4f", "下降": "#c0392b", "不变": "#a3a8ae", "新增": "#2f6fb5", "退出": "#5f6368"}

LINK_SERIES = [
    Series(LINK_OUTCOME_LABELS[o], c)
    for o, c in zip(LINK_OUTCOMES, ("#1b7f4f", "#4f9a74", "#8cc3a5", "#a3a8ae", "#c0392b"), strict=True)
]


def submission_deadline(year: int) -> dt.date:
    """The national directory's deadline for a yearly cycle of ``year``: 15 August (national.md)."""
    return dt.date(year, *DEADLINE)


def deadline_met(published_at: dt.datetime, deadline: dt.date, china_time: dt.tzinfo) -> bool:
    """Whether a publication at ``published_at`` lands on or before the deadline day in China."""
    return published_at.astimezone(china_time).date() <= deadline


@dataclass(frozen=True)
class ReportFacts:
    """What the report shows, gathered by publish."""

    province: str
    cycle_id: str
    as_of: dt.date
    report_year: int  # R (rules.md v2, Terms)
    cycle_kind: str  # yearly / extra / draft (schemas.terms): the deadline and the extra-cycle note read it
    files: CycleFiles
    published_at: dt.datetime
    publish_seconds: float
    previous_cycle_id: str | None
    transitions: pl.DataFrame  # this cycle's rows of the warehouse view ``transitions``
    regions: pl.DataFrame  # the province's regions (reference.province_regions)
    industries: pl.DataFrame  # GB/T 4754 sections and divisions (reference.industries)
    draft: bool = False  # a trial under a ruleset other than the filed one: labelled 草稿 throughout
    objections: dict | None = None  # flows.objections.figures.cycle_figures; None: no objection store in the home


def _type_rows(frame: pl.DataFrame, label: str) -> list[tuple[str, list[int]]]:
    return [(row[label], [row[s.name] for s in TYPE_SERIES]) for row in frame.iter_rows(named=True)]


def _type_table(frame: pl.DataFrame, keys: list[str]) -> list[dict]:
    return [
        {"keys": [row[k] for k in keys], "counts": [row[t] for t in SHOWN_TYPES], "total": row["total"]}
        for row in frame.iter_rows(named=True)
    ]


def _types_section(directory: pl.DataFrame, regions: pl.DataFrame, industries: pl.DataFrame) -> dict:
    by_region = types_by_region(directory, regions)
    by_city = types_by_city(by_region)
    by_section = types_by_section(directory, industries).with_columns(
        label=pl.concat_str("section", pl.lit(" "), "section_name")
    )
    county_label = by_region.with_columns(label=pl.concat_str("city_name", pl.lit(" · "), "region_name"))
    return {
        "city_chart": stacked_bar_chart("各地市分型户数", _type_rows(by_city, "city_name"), TYPE_SERIES),
        "county_chart": stacked_bar_chart(
            "各县区分型结构",
            _type_rows(county_label, "label"),
            TYPE_SERIES,
            shares=True,
            bar_height=14,
            gap=4,
        ),
        "county_table": _type_table(county_label, ["region_code", "label"]),
        "section_chart": stacked_bar_chart("各行业门类分型户数", _type_rows(by_section, "label"), TYPE_SERIES),
        "section_table": _type_table(by_section, ["section", "section_name"]),
    }


def _reasons_section(directory: pl.DataFrame) -> dict:
    ineligible = directory.filter(pl.col("business_type") == "不符合分型条件")
    failed = code_counts(ineligible, "criteria_failed")
    met = code_counts(directory.filter(pl.col("business_type") != "不符合分型条件"), "conditions_met")
    failed_items = [(f"{CRITERIA_LABELS.get(c, c)}", n) for c, n in failed.iter_rows()]
    return {
        "ineligible": ineligible.height,
        "failed_chart": bar_chart("不符合分型条件的原因", failed_items, color=TYPE_COLORS["不符合分型条件"])
        if failed_items
        else None,
        "failed_table": [
            {"code": c, "label": CRITERIA_LABELS.get(c, c), "count": n, "share": share(n, ineligible.height)}
            for c, n in failed.iter_rows()
        ],
        "met_chart": bar_chart("满足的分型条件", list(met.iter_rows()), color=TYPE_COLORS["成长型"])
        if met.height
        else None,
    }


def _movements_section(transitions: pl.DataFrame) -> dict:
    counts = dict(transitions.group_by("movement").len().iter_rows())
    items = [(m, counts.get(m, 0)) for m in MOVEMENTS]
    matrix = movement_matrix(transitions)
    columns = [*SHOWN_TYPES, "退出"]
    largest = max([row[c] for row in matrix.iter_rows(named=True) for c in columns] + [1])
    return {
        "chart": bar_chart("与上期相比", items, color=[MOVEMENT_COLORS[m] for m in MOVEMENTS]),
        "columns": columns,
        "matrix": [
            {
                "previous": row["previous_type"] or "新增",
                "cells": [(row[c], row[c] / largest) for c in columns],
                "total": row["total"],
            }
            for row in matrix.iter_rows(named=True)
        ],
    }


def _linkage_section(linkage: pl.DataFrame) -> dict:
    outcomes = linkage_outcomes(linkage)
    rows = [
        (LINK_SOURCE_LABELS.get(r["source"], r["source"]), [r[o] for o in LINK_OUTCOMES])
        for r in outcomes.iter_rows(named=True)
    ]
    return {
        "chart": stacked_bar_chart("记录关联结果", rows, LINK_SERIES, shares=True) if rows else None,
        "headers": [LINK_OUTCOME_LABELS[o] for o in LINK_OUTCOMES],
        "table": [
            {
                "source": LINK_SOURCE_LABELS.get(r["source"], r["source"]),
                "counts": [r[o] for o in LINK_OUTCOMES],
                "total": r["total"],
                "links": r["links"],
                "linked_share": share(r["total"] - r["unlinked"] - r["ambiguous"], r["total"]),
            }
            for r in outcomes.iter_rows(named=True)
        ],
    }


def _quarantine_section(files: CycleFiles) -> dict:
    rules = quarantine_by_rule(files.quarantine).head(12)
    return {
        "sources": [
            {
                "label": f"{SOURCES[s.source].label}（{s.source}）" if s.source in SOURCES else s.source,
                "missing": s.status == "missing",
                "files": len(s.files),
                "encodings": "、".join(sorted({f.encoding or f.format for f in s.files})),
                "rows": s.rows,
                "accepted": s.accepted,
                "quarantined": s.quarantined,
                "duplicates": s.duplicates_collapsed,
                "share": share(s.quarantined, s.rows),
            }
            for s in files.inputs
        ],
        "total": files.quarantine.height,
        "chart": bar_chart(
            "隔离行数最多的规则",
            [(f"{src} · {rule}", n) for src, rule, n in rules.iter_rows()],
            color="#c0392b",
        )
        if rules.height
        else None,
        "rules": [
            {"source": src, "rule": rule, "meaning": RULES.get(rule, ""), "rows": n}
            for src, rule, n in rules.iter_rows()
        ],
        "unrecognised": list(files.unrecognised_files),
        "episodes": _episodes(files.episode_conflicts),
    }


def _episodes(conflicts: pl.DataFrame | None) -> list[dict]:
    """Listing episodes delivered in several versions: each resolved against the business (rules.md v2, Terms)."""
    if conflicts is None:
        return []
    return [  # every one: rare by nature (0.4% of episodes in a generated province)
        {
            "source": f"{SOURCES[r['source']].label}（{r['source']}）",
            "business": r["business"],
            "started_on": r["started_on"],
            "versions": r["versions"],
        }
        for r in conflicts.iter_rows(named=True)
    ]


def _timings_section(facts: ReportFacts) -> dict:
    stages = [(s.stage, s.seconds) for s in facts.files.run.stages] + [("publish", facts.publish_seconds)]
    return {
        "chart": bar_chart(
            "各阶段耗时",
            [(STAGE_LABELS.get(s, s), sec) for s, sec in stages],
            color="#5f6368",
            value_label=lambda v: f"{v:,.1f} 秒",
        ),
        "total": sum(sec for _, sec in stages),
        "started_at": facts.files.run.started_at,
    }


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["count"] = count
    return env


def render_report(facts: ReportFacts) -> str:
    """The whole page as one string."""
    china_time = facts.published_at.tzinfo
    directory = facts.files.directory
    counts = type_counts(directory)
    total = sum(counts.values())
    deadline = submission_deadline(facts.as_of.year)
    regions = facts.regions
    province_name = regions["province_name"][0] if regions.height else facts.province
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            province=facts.province,
            province_name=province_name,
            cycle_id=facts.cycle_id,
            draft=facts.draft,
            as_of=facts.as_of,
            report_year=facts.report_year,
            cycle_kind=CYCLE_KIND_LABELS[facts.cycle_kind],
            set_apart=set_apart(facts.files.directory, facts.files.run),
            ruleset=facts.files.ruleset,
            published_at=facts.published_at,
            deadline=deadline,
            deadline_met=deadline_met(facts.published_at, deadline, china_time),
            yearly=facts.cycle_kind == YEARLY,  # only the yearly cycle is the national submission (national.md)
            extra_cycle=facts.cycle_kind == EXTRA,
            total=total,
            kpis=[
                {"type": t, "count": counts[t], "share": share(counts[t], total), "color": TYPE_COLORS[t]}
                for t in SHOWN_TYPES
            ],
            type_chart=bar_chart(
                "分型结果户数",
                [(t, counts[t]) for t in SHOWN_TYPES],
                color=[TYPE_COLORS[t] for t in SHOWN_TYPES],
            ),
            types=_types_section(directory, facts.regions, facts.industries),
            reasons=_reasons_section(directory),
            previous_cycle_id=facts.previous_cycle_id,
            movements=_movements_section(facts.transitions) if facts.previous_cycle_id else None,
            linkage=_linkage_section(facts.files.linkage),
            quarantine=_quarantine_section(facts.files),
            timings=_timings_section(facts),
            objections=facts.objections,
        )
    )
