"""The national report ``assembly/<Y>/report.html``: one page, in Chinese, inline SVG charts, no clock reading.

Counts by province × type (each cross-province duplicate counted once), by industry section, the provinces
that were late, refused or missing and why, the duplicates to resolve, and movements since last year.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import jinja2
import polars as pl

from flows.report.charts import bar_chart, stacked_bar_chart
from flows.report.report import MOVEMENT_COLORS, TYPE_COLORS, TYPE_SERIES
from reference import industries
from schemas.national import ACCEPTED, STATUS_LABELS
from schemas.vocabulary import BUSINESS_TYPES, MOVEMENTS, SHOWN_TYPES
from transforms.national import counted_rows
from transforms.summary import types_by_section

DUPLICATES_SHOWN = 50


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _movements(home: Path, year: int) -> list[tuple[str, int]]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        found = dict(
            con.execute(
                "SELECT movement, count(*) FROM transitions WHERE year(as_of) = ? GROUP BY movement", [year]
            ).fetchall()
        )
    finally:
        con.close()
    return [(m, found.get(m, 0)) for m in MOVEMENTS]


def render_national_report(assembly, latest: pl.LazyFrame) -> str:
    """The page for one year's assembly (``flows.national.assemble.Assembly``)."""
    names = {o.province: o.province_name for o in assembly.outcomes}
    counts = assembly.counts.with_columns(total=pl.sum_horizontal(*BUSINESS_TYPES))
    present = counts.filter(pl.col("total") > 0)
    province_rows = [
        (f"{names.get(p, p)}（{p}）", [row[t] for t in SHOWN_TYPES])
        for p, row in zip(present["province"], present.iter_rows(named=True), strict=True)
    ]
    counted = counted_rows(latest, assembly.duplicates).select("industry_code", "business_type").collect()
    sections = types_by_section(counted, industries()).with_columns(
        label=pl.concat_str("section", pl.lit(" "), "section_name")
    )
    section_rows = [(r["label"], [r[t] for t in SHOWN_TYPES]) for r in sections.iter_rows(named=True)]
    movements = _movements(assembly.home, assembly.year)
    by_status = {s: [o for o in assembly.outcomes if o.status == s] for s in STATUS_LABELS}
    duplicated = assembly.duplicates["uscc"].n_unique()
    return (
        _environment()
        .get_template("national.html.j2")
        .render(
            year=assembly.year,
            total=int(counts["total"].sum()),
            totals={t: int(counts[t].sum()) for t in SHOWN_TYPES},
            type_colors=TYPE_COLORS,
            status_labels=STATUS_LABELS,
            accepted=ACCEPTED,
            by_status=by_status,
            outcomes=assembly.outcomes,
            province_chart=stacked_bar_chart("各省分型户数（跨省重复只计一次）", province_rows, TYPE_SERIES)
            if province_rows
            else None,
            section_chart=stacked_bar_chart("各行业门类分型户数", section_rows, TYPE_SERIES) if section_rows else None,
            movement_chart=bar_chart(
                "本年与上年相比的分型变动", movements, color=[MOVEMENT_COLORS[m] for m in MOVEMENTS]
            )
            if any(n for _, n in movements)
            else None,
            duplicated=duplicated,
            duplicates=assembly.duplicates.head(DUPLICATES_SHOWN * 2).to_dicts(),
            names=names,
        )
    )
