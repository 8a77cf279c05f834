"""``getihu generate``: a synthetic province's inbox for one cycle, and its ground truth next to it.

Businesses are made in chunks of ``CHUNK_SIZE``; each chunk's rows are written (appended) before the next is
made, so memory stays bounded at any size. Every random draw comes from a stream seeded by (seed, chunk,
aspect), so the same arguments give byte-identical files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from schemas.sources import SOURCES
from synth import designed
from synth.businesses import businesses
from synth.faults import DUPLICATE, Breaker, forced_rules, inject
from synth.inbox import InboxWriter
from synth.layout import LAYOUTS, delivered
from synth.records import ChunkRecords
from synth.truth import facts, links
from synth.world import Plan, World

FAULT_COLUMNS = ["source", "file", "line", "column", "rule", "value"]
CONFIG_FILE = "inbox.toml"
#: Sources where a conflicting duplicate is not simply quarantined under rules.md v2 (Terms): an annual report
#: version with a same-day twin (filed, figures unknown) and a listing episode with a twin (resolved against
#: the business). Their faults.csv rows still say duplicate_conflict.
V2_CONFLICT_SOURCES = ("annual_report", "abnormal_list", "serious_list", "suspension", "tax_abnormal")


def department_names(plan: Plan) -> dict[str, str]:
    """With ``--department-names``: the file stems some departments really use, per source (else none)."""
    if not plan.department_names:
        return {}
    return {"patent": "专利", "serious_list": f"严重违法失信名单{plan.year}"}


def inbox_toml(plan: Plan, files: dict[str, int]) -> str:
    """The inbox's ``inbox.toml``: when the extracts were taken (extracts.md v2); dates after it are impossible.

    With ``--department-names``, a ``[files]`` table maps each file so named (TOML key: the file name, or a glob)
    to its source (value: the source's name), e.g. ``"专利.csv" = "patent"``.
    """
    text = (
        "# written by getihu generate: the departments' extraction date (extracts.md v2)\n"
        f"extracted_on = {plan.extracted_on.isoformat()}\n"
    )
    renamed = department_names(plan)
    if renamed:
        text += "\n# files named as the departments name them: file name (or glob) = source\n[files]\n"
        for source, stem in sorted(renamed.items(), key=lambda item: item[1]):
            for file in sorted(f for f in files if f.split(".")[0] == stem):
                text += f'"{file}" = "{source}"\n'
    return text


#: Versions the generator sends on purpose (not --faults) that a v2 pipeline sees as conflicts: rows with the
#: same key and different content. Report versions filed on one day (both quarantined, the report filed with
#: unknown figures) and listing episodes with one start and different ends (in force if any version says so).
CONFLICT_GROUPS = {
    "annual_report": ("report_year", "filed_on"),
    "abnormal_list": ("listed_on",),
    "serious_list": ("listed_on",),
}


def sent_conflicts(source: str, rows: pl.DataFrame) -> pl.DataFrame | None:
    """Rows of ``source`` in such a conflict: ``_rid`` and faults.csv's other columns (None: no such source)."""
    if source not in CONFLICT_GROUPS or rows.is_empty():
        return None
    group = ["_bidx", *CONFLICT_GROUPS[source]]
    content = pl.struct([c for c in rows.columns if not c.startswith("_")])
    return rows.filter((pl.len().over(group) > 1) & (content.n_unique().over(group) > 1)).select(
        "_rid",
        source=pl.lit(source),
        column=pl.lit("统一社会信用代码"),
        rule=pl.lit(DUPLICATE),
        value=pl.col("uscc").fill_null(""),
    )


def truth_dir(inbox: Path) -> Path:
    """Where the ground truth goes: beside the inbox, never inside it (``41/2025`` → ``41/2025.truth``)."""
    return inbox.parent / f"{inbox.name}.truth"


@dataclass(frozen=True)
class Generated:
    inbox: Path
    truth: Path
    files: dict[str, int]  # rows per inbox file
    faults: int
    duplicates: int


#: A chunk's registration spine made elsewhere (``synth.history``: one year of a several-year province).
Spine = Callable[[int], pl.DataFrame]


def chunk_frames(
    world: World,
    chunk: int,
    cases: designed.Cases | None,
    spine: Spine | None = None,
    records_of: type[ChunkRecords] = ChunkRecords,
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    """One chunk's businesses, every source as typed rows with a row id ``_rid``, and the linkage truth.

    The designed ``cases`` (given for chunk 0 only) come first, as business numbers 0, 1, 2, ...
    ``spine`` gives the chunk's businesses instead of drawing them (no designed cases then); ``records_of`` makes
    the departments' rows.
    """
    start, stop = world.plan.chunk_bounds(chunk)
    first = start + (cases.businesses.height if cases else 0)
    biz = spine(chunk) if spine else businesses(world, first, stop, world.plan.rng(chunk, "businesses"))
    records = records_of(world, chunk, biz)
    identities = records.tax_identities()
    trademark, trademark_links = records.trademark()
    patent, patent_links = records.patent()
    typed = {
        "registration": biz,
        "annual_report": records.annual_report(),
        "abnormal_list": records.abnormal_list(),
        "serious_list": records.serious_list(),
        "suspension": records.suspension(),
        "penalty": records.penalty(),
        "taxpayer": records.taxpayer(identities),
        "tax_abnormal": records.tax_abnormal(identities),
        "tax_payment": records.tax_payment(identities),
        "social_security": records.social_security(),
        "trademark": trademark,
        "patent": patent,
    }
    truth = {
        "tax": identities.select("taxpayer_id", "_bidx", "owner", "attributable"),
        "trademark": trademark_links,
        "patent": patent_links,
    }
    if cases:
        biz = pl.concat([cases.businesses, biz], how="diagonal_relaxed")
        typed = {s: pl.concat([cases.typed[s], f], how="diagonal_relaxed") for s, f in typed.items()}
        typed["registration"] = biz
        truth = {k: pl.concat([cases.truth[k], f], how="diagonal_relaxed") for k, f in truth.items()}
    typed = {s: f.with_columns(_rid=pl.int_range(pl.len(), dtype=pl.Int64)) for s, f in typed.items()}
    return typed["registration"], typed, truth


DEPARTMENT_STEMS = ("专利", "严重违法失信名单")  # what --department-names writes (department_names)


def _clear(inbox: Path, truth: Path) -> None:
    """Remove what an earlier run wrote (source files and the truth), so no stale monthly file survives."""
    if truth.exists():
        shutil.rmtree(truth)
    for path in inbox.glob("*"):
        ours = path.stem.startswith(tuple(SOURCES)) or path.stem.startswith(DEPARTMENT_STEMS)
        if path.is_file() and path.suffix in (".csv", ".xlsx", ".parquet") and ours:
            path.unlink()
    (inbox / CONFIG_FILE).unlink(missing_ok=True)
    inbox.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True)


class _Appender:
    """A Parquet file written chunk by chunk with the schema of its first chunk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer: pq.ParquetWriter | None = None

    def append(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table.cast(self.writer.schema))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def generate(
    plan: Plan,
    inbox: Path,
    progress: Callable[[int, int], None] | None = None,
    spine: Spine | None = None,
    records_of: type[ChunkRecords] = ChunkRecords,
) -> Generated:
    """Write the inbox of ``plan``'s cycle and its truth; ``spine``: the businesses come from there, without the
    designed cases, and ``records_of`` makes their rows (``synth.history``: one year of several)."""
    world = World(plan)
    truth = truth_dir(inbox)
    _clear(inbox, truth)
    writer = InboxWriter(inbox, plan.file_format, plan.as_of_date, department_names(plan))
    fact_file, link_file = _Appender(truth / "facts.parquet"), _Appender(truth / "links.parquet")
    fault_parts: list[pl.DataFrame] = []
    conflict_parts: list[pl.DataFrame] = []
    duplicate_parts: list[pl.DataFrame] = []
    cases = designed.cases(world) if spine is None else None
    protected = cases.businesses.height if cases else 0
    for chunk in range(plan.chunks):
        biz, typed, links_truth = chunk_frames(world, chunk, cases if chunk == 0 else None, spine, records_of)
        forced = forced_rules({s: f.height for s, f in typed.items()}) if chunk == 0 and plan.faults else {}
        quarantined: dict[str, pl.Series] = {}
        conflicts: dict[str, pl.Series] = {}
        for source in SOURCES:
            frame = delivered(source, typed[source])
            conflicting = sent_conflicts(source, typed[source])
            injected = None
            if plan.faults:
                breaker = Breaker(plan.province, plan.extracted_on, plan.rng(chunk, "faults/" + source))
                injected = inject(
                    source, frame, plan.faults, plan.rng(chunk, "faults/rows/" + source), breaker, protected,
                    forced.get(source, []), conflicting["_rid"] if conflicting is not None else None,
                )  # fmt: skip
                frame = injected.frame
            placed = writer.write(source, frame)
            if conflicting is not None:
                conflict_parts.append(conflicting.join(placed, on="_rid").select(FAULT_COLUMNS))
            quarantined[source] = injected.quarantined if injected else pl.Series("_rid", [], dtype=pl.Int64)
            if injected is not None and source in V2_CONFLICT_SOURCES:
                twins = injected.faults.filter(pl.col("rule") == DUPLICATE)["_rid"]
                conflicts[source] = quarantined[source].filter(quarantined[source].is_in(twins.implode()))
                quarantined[source] = quarantined[source].filter(~quarantined[source].is_in(twins.implode()))
            if injected is not None:
                fault_parts.append(
                    injected.faults.join(placed, on="_rid").with_columns(source=pl.lit(source)).select(FAULT_COLUMNS)
                )
                duplicate_parts.append(
                    injected.duplicates.join(placed, on="_rid")
                    .with_columns(source=pl.lit(source))
                    .select("source", "file", "line")
                )
        fact_file.append(facts(biz, typed, links_truth, quarantined, plan.as_of_date, plan.report_year, conflicts))
        link_file.append(links(biz, typed, links_truth))
        if progress:
            progress(chunk + 1, plan.chunks)
    for source in SOURCES:
        writer.ensure(source)
    files = writer.close()
    (inbox / CONFIG_FILE).write_text(inbox_toml(plan, files), encoding="utf-8")
    fact_file.close()
    link_file.close()
    # conflicting versions the generator made on purpose (not --faults), see CONFLICT_GROUPS
    pl.concat(conflict_parts).sort("source", "file", "line").write_csv(truth / "conflicts.csv")
    faults = duplicates = 0
    if plan.faults:
        fault_frame = pl.concat(fault_parts).sort("file", "line", "column")
        fault_frame.write_csv(truth / "faults.csv")
        duplicate_frame = pl.concat(duplicate_parts).sort("file", "line")
        duplicate_frame.write_csv(truth / "duplicates.csv")
        faults, duplicates = fault_frame.height, duplicate_frame.height
    summary = {
        "province": plan.province,
        "year": plan.year,
        "as_of": plan.as_of_date.isoformat(),
        "report_year": plan.report_year,
        "extracted_on": plan.extracted_on.isoformat(),
        "businesses": plan.businesses,
        "seed": plan.seed,
        "faults": plan.faults,
        "format": plan.file_format,
        "layouts": {s: LAYOUTS[s].__dict__ | {"extra": [h for h, _ in LAYOUTS[s].extra]} for s in SOURCES},
        "files": files,
    }
    (truth / "generated.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=list) + "\n")
    return Generated(inbox=inbox, truth=truth, files=files, faults=faults, duplicates=duplicates)
