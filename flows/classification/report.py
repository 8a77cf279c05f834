"""``report.html`` of a classification step: the round (or review) at a glance, charts as inline SVG."""

from __future__ import annotations

from collections import Counter

import polars as pl
from markupsafe import Markup, escape

from flows.report.charts import Series, bar_chart, stacked_bar_chart
from schemas.classification import REASONS

_STYLE = (
    "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#f3f3f3}"
    "td:first-child,th:first-child{text-align:left}"
)


def _counts(values) -> list[tuple[str, float]]:
    return [(k, float(v)) for k, v in sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0]))]


def _table(headers: list[str], rows: list[list[object]]) -> Markup:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return Markup(f"<table><tr>{head}</tr>{body}</table>")


def render_report(
    title: str,
    facts: list[tuple[str, str]],
    decisions: pl.DataFrame | None,
    quota: pl.DataFrame | None,
    events: pl.DataFrame,
    review: pl.DataFrame | None,
    region_names: dict[str, str],
) -> str:
    parts: list[Markup | str] = [Markup(f"<h1>{escape(title)}</h1>"), _table(["项目", "值"], [list(f) for f in facts])]
    if decisions is not None and decisions.height:
        parts.append(Markup("<h2>申报</h2>"))
        parts.append(bar_chart("按类别", _counts(decisions["category"].to_list()), color="#4e79a7"))
        counties = [region_names.get(r or "", r or "（不在名录）") for r in decisions["region_code"].to_list()]
        parts.append(bar_chart("按县（区）", _counts(counties)[:30], color="#59a14f"))
        parts.append(Markup("<h2>结果和原因</h2>"))
        parts.append(bar_chart("结果", _counts(decisions["outcome"].to_list()), color="#f28e2b"))
        reasons = [c for r in decisions["reasons"].to_list() if r for c in r.split(";")]
        labelled = [(f"{code} {REASONS[code][:18]}", n) for code, n in _counts(reasons)]
        if labelled:
            parts.append(bar_chart("不予认定的原因（一份申报可有多个）", labelled, color="#e15759"))
    if quota is not None and quota.height:
        parts.append(Markup("<h2>名额使用</h2>"))
        used = quota.filter(pl.col("places") > 0).sort("quota_unit")
        rows = [
            (region_names.get(u, u), [float(h), float(c), float(r)])
            for u, h, c, r in used.select("quota_unit", "held", "candidates", "remaining").iter_rows()
        ]
        series = [Series("已有有效认定", "#76b7b2"), Series("本轮拟认定", "#4e79a7"), Series("剩余", "#dddddd")]
        if rows:
            parts.append(stacked_bar_chart("每个名额单位", rows[:40], series))
        freed = int(quota["freed"].sum())
        parts.append(Markup(f"<p>审核（走访核实、公示异议）空出的名额：{freed}，不自动递补，由认定部门决定。</p>"))
    if events.height:
        parts.append(Markup("<h2>名录变动（本年度记录的事件）</h2>"))
        parts.append(bar_chart("事件", _counts(events["event"].to_list()), color="#b07aa1"))
    if review is not None and review.height:
        parts.append(Markup("<h2>年度评估确认</h2>"))
        parts.append(bar_chart("结果", _counts(review["result"].to_list()), color="#9c755f"))
    body = "".join(str(p) for p in parts)
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )
