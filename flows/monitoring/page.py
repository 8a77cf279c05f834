"""``getihu monitor``: ``monitoring.html`` and the figures as ``.xlsx`` and Excel CSV, for one province over all its
cycles in the warehouse (docs/monitoring.md).

The page is built like ``report.html`` (``flows.report``): one self-contained file, charts as inline SVG, style
inline, no scripts or fonts from elsewhere, A4 when printed. It says nothing about when it was made, so the same
warehouse gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
import polars as pl

from flows.monitoring.tables import province_figures
from flows.report.charts import bar_chart, count, share, stacked_bar_chart
from flows.report.report import MOVEMENT_COLORS, TYPE_COLORS, TYPE_SERIES
from flows.storage.excel import write_excel_csv, write_xlsx
from flows.storage.warehouse import open_read_only
from reference import industries, monitoring_for, province_regions
from schemas.monitoring import COLUMN_LABELS, MONITORING_TABLES, Conversion
from schemas.terms import CYCLE_KIND_LABELS
from schemas.vocabulary import MOVEMENTS, SHOWN_TYPES
from transforms.monitoring import NO_SECTION, YEARLY

PAGE = "monitoring.html"
LEFT = "（退出名录）"
NEW = "（新进入名录）"


class NoCycles(ValueError):
    """The warehouse holds no cycle of the province."""


def header(column: str) -> str:
    """The short Chinese header of a figure's column: its label up to the first explanation."""
    return COLUMN_LABELS[column].split("：")[0].split("（")[0]


def cycle_label(row: dict) -> str:
    """``2025年度`` for a yearly cycle, ``临时 2025-09-30`` for an extra one (``草稿 …`` in a draft warehouse)."""
    if row["cycle_kind"] == YEARLY:
        return f"{row['as_of'].year}年度"
    return f"{'草稿' if row['cycle_kind'] == 'draft' else '临时'} {row['as_of'].isoformat()}"


@dataclass(frozen=True)
class Written:
    page: Path
    files: list[Path]
    cycles: int
    yearly: int


def _pivot(frame: pl.DataFrame, index: str, names: dict[str, str]) -> list[dict]:
    """Rows of ``index`` with a count per type, the total and the 发展型 share, largest total first."""
    rows = []
    for value, group in frame.group_by(index, maintain_order=True):
        counts = dict(zip(group["business_type"], group["businesses"], strict=True))
        total = sum(counts.values())
        rows.append(
            {
                "code": value[0],
                "name": names.get(value[0], value[0]),
                "counts": [counts.get(t, 0) for t in SHOWN_TYPES],
                "total": total,
                "development": share(counts.get("发展型", 0), total),
            }
        )
    return sorted(rows, key=lambda r: (-r["total"], r["code"]))


def _with_change(latest: list[dict], earlier: list[dict] | None) -> list[dict]:
    before = {r["code"]: r for r in earlier or []}
    for row in latest:
        old = before.get(row["code"])
        row["change"] = None if old is None else row["total"] - old["total"]
        row["development_change"] = None if old is None else row["counts"][0] - old["counts"][0]  # SHOWN_TYPES[0]
    return latest


def _signed(value: int | None) -> str:
    return "–" if value is None else f"{value:+,d}" if value else "0"


def page_context(province: str, figures: dict[str, pl.DataFrame], conversion: Conversion) -> dict:
    regions = province_regions(province)
    region_names = dict(zip(regions["region_code"], regions["region_name"], strict=True))
    sections = industries().select("section", "section_name").unique()
    section_names = dict(zip(sections["section"], sections["section_name"], strict=True)) | {NO_SECTION: "行业不详"}
    by_region = figures["monitoring_region_types"]
    cycles = by_region.select("cycle_id", "as_of", "report_year", "cycle_kind").unique().sort("as_of").to_dicts()
    if not cycles:
        raise NoCycles(province)
    for c in cycles:
        c["label"] = cycle_label(c)
        own = by_region.filter(pl.col("cycle_id") == c["cycle_id"])
        c["counts"] = [own.filter(pl.col("business_type") == t)["businesses"].sum() for t in SHOWN_TYPES]
        c["total"] = sum(c["counts"])
    yearly = [c for c in cycles if c["cycle_kind"] == YEARLY]
    extra = [c for c in cycles if c["cycle_kind"] != YEARLY]
    latest = yearly[-1] if yearly else cycles[-1]
    previous = yearly[-2] if len(yearly) > 1 else None

    def pivot(table: str, index: str, names: dict[str, str], cycle: dict | None) -> list[dict] | None:
        if cycle is None:
            return None
        return _pivot(figures[table].filter(pl.col("cycle_id") == cycle["cycle_id"]), index, names)

    cities_of = regions.select("region_code", "city_code", "city_name")
    city_names = dict(zip(cities_of["city_code"], cities_of["city_name"], strict=False))

    def by_city(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.join(cities_of, on="region_code", how="left")
            .with_columns(pl.col("city_code").fill_null(pl.col("region_code").str.slice(0, 4)))
            .group_by("cycle_id", "city_code", "business_type")
            .agg(pl.col("businesses").sum())
            .sort("city_code", "business_type")
        )

    city_figure = by_city(figures["monitoring_region_types"])
    cities = _with_change(
        _pivot(city_figure.filter(pl.col("cycle_id") == latest["cycle_id"]), "city_code", city_names),
        _pivot(city_figure.filter(pl.col("cycle_id") == previous["cycle_id"]), "city_code", city_names)
        if previous
        else None,
    )
    counties = _with_change(
        pivot("monitoring_region_types", "region_code", region_names, latest),
        pivot("monitoring_region_types", "region_code", region_names, previous),
    )
    section_rows = _with_change(
        pivot("monitoring_section_types", "section", section_names, latest),
        pivot("monitoring_section_types", "section", section_names, previous),
    )
    series_chart = stacked_bar_chart("各期分型户数", [(c["label"], c["counts"]) for c in cycles], TYPE_SERIES)
    county_chart = stacked_bar_chart(
        f"{latest['label']}各地市分型结构",
        [(r["name"], r["counts"]) for r in cities],
        TYPE_SERIES,
        shares=True,
    )
    section_chart = stacked_bar_chart(
        f"{latest['label']}各行业门类分型结构",
        [(f"{r['code']} {r['name']}", r["counts"]) for r in section_rows],
        TYPE_SERIES,
        shares=True,
    )
    transitions = figures["monitoring_transitions"]
    matrices = []
    for c in yearly[1:]:
        own = transitions.filter(pl.col("cycle_id") == c["cycle_id"])
        if own.is_empty():
            continue
        cells = {(r["previous_type"] or NEW, r["business_type"] or LEFT): r["businesses"] for r in own.to_dicts()}
        columns = [*SHOWN_TYPES, LEFT]
        rows = [
            {
                "label": p,
                "cells": [cells.get((p, t), 0) for t in columns],
                "total": sum(cells.get((p, t), 0) for t in columns),
            }
            for p in [*SHOWN_TYPES, NEW]
        ]
        moves = own.group_by("movement").agg(pl.col("businesses").sum())
        moved = dict(zip(moves["movement"], moves["businesses"], strict=True))
        previous_label = next(y["label"] for y in yearly if y["cycle_id"] == own["previous_cycle_id"][0])
        matrices.append(
            {
                "label": c["label"],
                "previous_label": previous_label,
                "columns": columns,
                "rows": rows,
                "chart": bar_chart(
                    f"{previous_label}→{c['label']}分型变动",
                    [(m, moved.get(m, 0)) for m in MOVEMENTS],
                    color=[MOVEMENT_COLORS[m] for m in MOVEMENTS],
                ),
            }
        )
    survival = figures["monitoring_survival"]
    survival_pairs = []
    for c in yearly[:-1]:
        own = survival.filter(pl.col("cycle_id") == c["cycle_id"])
        if own.is_empty():
            continue
        by_type = {r["business_type"]: r for r in own.to_dicts()}
        next_label = next(y["label"] for y in yearly if y["cycle_id"] == own["next_cycle_id"][0])
        rows = [by_type[t] | {"rate": share(by_type[t]["surviving"], by_type[t]["businesses"])} for t in SHOWN_TYPES
                if t in by_type]  # fmt: skip
        survival_pairs.append(
            {
                "label": f"{c['label']}→{next_label}",
                "rows": rows,
                "chart": bar_chart(
                    f"{c['label']}存续的个体工商户到{next_label}仍存续的比例",
                    [(r["business_type"], 100 * r["survival_rate"]) for r in rows],
                    color=[TYPE_COLORS[r["business_type"]] for r in rows],
                    value_label=lambda v: f"{v:.1f}%",
                ),
            }
        )
    employment = figures["monitoring_employment"]
    jobs = []
    for c in cycles:
        own = {r["business_type"]: r for r in employment.filter(pl.col("cycle_id") == c["cycle_id"]).to_dicts()}
        jobs.append(
            {
                "cycle": c,
                "rows": [own.get(t) for t in SHOWN_TYPES],
                "insured": sum(r["insured"] for r in own.values()),
                "reported": sum(r["reported_employees"] or 0 for r in own.values()),
            }
        )
    latest_jobs = next(j for j in jobs if j["cycle"]["cycle_id"] == latest["cycle_id"])
    jobs_chart = stacked_bar_chart(
        "各期参保人数（以单位形式缴纳社保，含经营者本人），按分型",
        [(j["cycle"]["label"], [r["insured"] if r else 0 for r in j["rows"]]) for j in jobs],
        TYPE_SERIES,
    )
    candidates = figures["monitoring_candidates"]
    candidate_counts = [
        {"cycle": c, "count": candidates.filter(pl.col("cycle_id") == c["cycle_id"]).height} for c in cycles
    ]
    latest_candidates = candidates.filter(pl.col("cycle_id") == latest["cycle_id"])
    by_county = (
        latest_candidates.join(cities_of, on="region_code", how="left")
        .group_by("city_code")
        .agg(n=pl.len())
        .sort(["n", "city_code"], descending=[True, False])
    )
    candidate_chart = (
        bar_chart(
            f"{latest['label']}{conversion.label}，按地市",
            [(city_names.get(r["city_code"], r["city_code"] or "不详"), r["n"]) for r in by_county.to_dicts()],
            color=TYPE_COLORS["发展型"],
        )
        if by_county.height
        else None
    )
    return {
        "province": province,
        "province_name": regions["province_name"][0] if regions.height else province,
        "cycles": cycles,
        "yearly": yearly,
        "extra": extra,
        "latest": latest,
        "previous": previous,
        "types": SHOWN_TYPES,
        "type_colors": TYPE_COLORS,
        "series_chart": series_chart,
        "counties": counties,
        "cities": cities,
        "county_chart": county_chart,
        "sections": section_rows,
        "section_chart": section_chart,
        "matrices": matrices,
        "survival": survival_pairs,
        "jobs": jobs,
        "latest_jobs": latest_jobs,
        "jobs_chart": jobs_chart,
        "conversion": conversion,
        "candidate_counts": candidate_counts,
        "latest_candidates": latest_candidates.height,
        "candidate_chart": candidate_chart,
        "tables": MONITORING_TABLES,
    }


def render_page(context: dict) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["count"] = count
    environment.filters["signed"] = _signed
    return environment.get_template("monitoring.html.j2").render(**context)


def _names(province: str) -> dict[str, pl.DataFrame]:
    regions = province_regions(province).select("region_code", 县级行政区划名称="region_name")
    sections = industries().select("section", 行业门类名称="section_name").unique().sort("section")
    return {"region_code": regions, "section": sections}


def _named(frame: pl.DataFrame, names: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """``frame`` for people reading the files: the name of its region or section beside the code, the cycle's kind
    in Chinese (年度分型, 临时分型)."""
    if "cycle_kind" in frame.columns:
        frame = frame.with_columns(pl.col("cycle_kind").replace(CYCLE_KIND_LABELS))
    for column, table in names.items():
        if column in frame.columns:
            at = frame.columns.index(column) + 1
            frame = frame.join(table, on=column, how="left", maintain_order="left")
            name = table.columns[1]
            order = [*frame.columns[:at], name, *[c for c in frame.columns[at:] if c != name]]
            frame = frame.select(order)
    return frame


def write_monitoring(home: Path, province: str, out: Path) -> Written:
    """Read the warehouse under ``home`` and write the page and the figures of ``province`` into ``out``."""
    from flows.home import warehouse_path

    conversion = monitoring_for(province)
    con = open_read_only(warehouse_path(home))
    try:
        figures = province_figures(con, province, conversion)
    finally:
        con.close()
    context = page_context(province, figures, conversion)
    out.mkdir(parents=True, exist_ok=True)
    page = out / PAGE
    page.write_text(render_page(context), encoding="utf-8")
    created = max(c["as_of"] for c in context["cycles"])
    files = [page]
    names = _names(province)
    for table, frame in figures.items():
        named = _named(frame, names)
        people = named.rename({c: header(c) for c in frame.columns})
        stem = table.removeprefix("monitoring_")
        write_xlsx(people, out / f"{stem}.xlsx", MONITORING_TABLES[table].split("：")[0][:31], created)
        write_excel_csv(people, out / f"{stem}.csv")
        files += [out / f"{stem}.xlsx", out / f"{stem}.csv"]
    return Written(page, files, len(context["cycles"]), len(context["yearly"]))


def default_out(home: Path, province: str) -> Path:
    return home / "out" / province / "monitoring"
