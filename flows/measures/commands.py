"""``getihu measures`` and ``getihu sample``: the files for the departments and for the inspectors, and their
warehouse tables, from a published cycle (docs/measures.md).

Folders beside the cycle folder, never inside it (the cycle folder is the contract of outputs.md and is replaced
whole by every rerun of the cycle):

- ``<home>/out/<P>/measures-<cycle_id>/``: ``<部门>.xlsx`` and ``<部门>.csv`` per department, ``summary.csv``;
- ``<home>/out/<P>/inspection-<cycle_id>/``: per draw ``sample-<种子>-n<N>.xlsx``, ``.csv``, ``-frame.csv`` and
  ``.json`` (the manifest a verifier starts from).

Each is built aside and renamed into place under the home's run lock; nothing in them depends on the time of the
run, so a rerun gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.errors import PipelineStop
from flows.home import warehouse_path
from flows.measures.cycle_data import PublishedCycle, check_published, cycle_id_for, published_cycle
from flows.measures.warehouse import publish_rows
from flows.stages.publish import recover_cycle_folder, replace_folder
from flows.storage.excel import write_excel_csv, write_workbook
from flows.storage.lock import home_lock
from reference import DATA_DIR, INSPECTION_DIR, inspection_for, measures_for
from schemas.measures import (
    ELIGIBILITY_HEADERS,
    FRAME_HEADERS,
    SAMPLE_HEADERS,
    SEED_PATTERN,
    STRATA_HEADERS,
    Inspection,
    Measures,
)
from schemas.terms import CYCLE_KIND_LABELS
from schemas.vocabulary import BUSINESS_TYPES
from transforms.inspection import METHOD, SampleError, drawn, frame, strata
from transforms.measures import eligibility
from transforms.publication import formula_safe

#: The business columns a measure's row carries (the department's list and the warehouse table).
CARRIED = ["business_key", "uscc", "reg_no", "name", "region_code", "region_name", "business_type", "categories"]
#: 名特优新 as the files print it.
YES, NO = "是", "否"


@dataclass(frozen=True)
class MeasuresResult:
    folder: Path
    cycle_id: str
    counts: dict[str, int]  # department -> rows of its list


@dataclass(frozen=True)
class SampleResult:
    folder: Path
    cycle_id: str
    stem: str
    size: int
    population: int


def measures_folder(home: Path, province: str, cycle_id: str) -> Path:
    return home / "out" / province / f"measures-{cycle_id}"


def inspection_folder(home: Path, province: str, cycle_id: str) -> Path:
    return home / "out" / province / f"inspection-{cycle_id}"


def _building(folder: Path, keep: bool) -> Path:
    """A fresh folder beside ``folder`` to build into: a copy of it when ``keep`` (earlier draws stay)."""
    recover_cycle_folder(folder)
    building = folder.with_name(f".{folder.name}.building")
    if keep and folder.exists():
        shutil.copytree(folder, building)
    else:
        building.mkdir(parents=True)
    return building


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _shown(rows: pl.DataFrame, headers: dict[str, str]) -> pl.DataFrame:
    """The rows under their Chinese headers; a 名称 that a spreadsheet could run is made text (formula_safe)."""
    return rows.with_columns(formula_safe(pl.col("name"))).select(
        pl.col(column).alias(header) for column, header in headers.items()
    )


def _about(cycle: PublishedCycle, facts: list[tuple[str, str]]) -> pl.DataFrame:
    common = [
        ("省份", cycle.province),
        ("周期编号", cycle.cycle_id),
        ("判定日期", cycle.as_of.isoformat()),
        ("周期类型", CYCLE_KIND_LABELS.get(cycle.cycle_kind, cycle.cycle_kind)),
    ]
    return pl.DataFrame([*common, *facts], schema={"项目": pl.String, "内容": pl.String}, orient="row")


def _data_file(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(DATA_DIR.parent))
    except ValueError:
        return path.name


# --- getihu measures --------------------------------------------------------------------------------------


def _measure_sheet(measures: Measures, department: str, listed: pl.DataFrame) -> pl.DataFrame:
    counts = dict(listed.group_by("measure_id").len().iter_rows())
    return pl.DataFrame(
        [
            (m.id, m.name, m.who, counts.get(m.id, 0), m.quote, m.cite, m.note)
            for m in measures.measures
            if m.department == department
        ],
        schema={
            **dict.fromkeys(["措施编号", "措施名称", "享受条件"], pl.String),
            "户数": pl.Int64,
            **dict.fromkeys(["依据原文", "出处", "说明"], pl.String),
        },
        orient="row",
    )


def run_measures(
    province: str, year: int | None, home: Path, cycle: str | None = None, measures_file: Path | None = None
) -> MeasuresResult:
    """Per department the businesses of the cycle that qualify for each of its measures: files and warehouse."""
    measures = measures_for(province, measures_file)
    source = measures_file or DATA_DIR / "measures" / f"{province}.toml"
    cycle_id = cycle_id_for(province, year, cycle)
    check_published(home)
    with home_lock(home, f"getihu measures {cycle_id}"):
        published = published_cycle(home, province, cycle_id)
        rows = eligibility(published.businesses.lazy(), measures, CARRIED).collect()
        listed = rows.with_columns(pl.col("categories").list.join("、").replace("", None))
        folder = measures_folder(home, province, cycle_id)
        building = _building(folder, keep=False)
        counts = {}
        for department in measures.departments():
            mine = listed.filter(pl.col("department") == department)
            table = _shown(mine, ELIGIBILITY_HEADERS)
            about = _about(
                published,
                [
                    ("部门", department),
                    ("措施文件", f"{_data_file(source)}（版本 {measures.version}）"),
                    ("依据", measures.document),
                    ("名单", "符合本部门各项措施条件的个体工商户，每项措施每户一行；无须申请（免申即享）"),
                    ("分型结果", "本期发布的分型结果（异议更正后的）"),
                    ("名特优新类别", "判定日期持有的有效名特优新认定；空：无"),
                ],
            )
            sheets = {"名单": table, "措施": _measure_sheet(measures, department, mine), "说明": about}
            write_workbook(sheets, building / f"{department}.xlsx", published.as_of, title=f"{department} 免申即享名单")
            write_excel_csv(table, building / f"{department}.csv")
            counts[department] = mine.height
        summary = pl.DataFrame(
            [
                (m.department, m.id, m.name, m.who, rows.filter(pl.col("measure_id") == m.id).height)
                for m in sorted(measures.measures, key=lambda m: m.department)
            ],
            schema=["部门", "措施编号", "措施名称", "享受条件", "户数"],
            orient="row",
        )
        write_excel_csv(summary, building / "summary.csv")
        replace_folder(building, folder)
        table_rows = rows.select(
            pl.lit(province).alias("province"),
            pl.lit(cycle_id).alias("cycle_id"),
            pl.lit(published.as_of).alias("as_of"),
            pl.lit(measures.version).alias("measures_version"),
            "department",
            "measure_id",
            "measure_name",
            *CARRIED,
        )
        publish_rows(
            warehouse_path(home), "measure_eligibility", table_rows, {"province": province, "cycle_id": cycle_id}
        )
    return MeasuresResult(folder, cycle_id, counts)


# --- getihu sample ----------------------------------------------------------------------------------------


def _manifest(
    cycle: PublishedCycle,
    seed: str,
    size: int,
    inspection: Inspection,
    source: Path,
    files: list[Path],
    rows: list[int],
) -> dict:
    return {
        "province": cycle.province,
        "cycle_id": cycle.cycle_id,
        "as_of": cycle.as_of.isoformat(),
        "seed": seed,
        "size": size,
        "method": METHOD,
        "strata": ["行政区划代码", "分型结果", "名特优新"],
        "type_order": list(BUSINESS_TYPES),
        "inspection": {
            "file": _data_file(source),
            "version": inspection.version,
            "sha256": _sha256(source),
            "ratios": [
                {
                    "type": t.type,
                    "ratio": str(t.ratio_for(False)),
                    "recognised_ratio": str(t.ratio_for(True)),
                    "frequency": t.frequency,
                }
                for t in inspection.types
            ],
        },
        "files": [{"name": p.name, "sha256": _sha256(p), "rows": n} for p, n in zip(files, rows, strict=True)],
    }


def run_sample(
    province: str,
    year: int | None,
    home: Path,
    seed: str,
    size: int | None = None,
    cycle: str | None = None,
    inspection_file: Path | None = None,
) -> SampleResult:
    """Draw the cycle's 双随机 sample with ``seed`` (transforms/inspection.py): files and warehouse."""
    if not re.match(SEED_PATTERN, seed):
        raise PipelineStop(f"--seed {seed!r}：随机种子只能由字母、数字、- 和 _ 组成（1 到 64 个字符），如 20250815")
    inspection = inspection_for(province, inspection_file)
    source = inspection_file or INSPECTION_DIR / f"{province}.toml"
    cycle_id = cycle_id_for(province, year, cycle)
    check_published(home)
    with home_lock(home, f"getihu sample {cycle_id} {seed}"):
        published = published_cycle(home, province, cycle_id)
        businesses = published.businesses.filter(~pl.col("criteria_failed").list.contains("STATUS"))
        population = businesses.select(
            "business_key", "region_code", "business_type", recognised=pl.col("categories").list.len() > 0
        )
        ranked = frame(population, inspection, seed)
        try:
            allotted = strata(ranked, size)
        except SampleError as e:
            raise PipelineStop(f"getihu sample {cycle_id}：{e}") from None
        names = published.businesses.select("business_key", "uscc", "reg_no", "name", "region_name")
        sample = drawn(ranked, allotted).join(names, on="business_key", how="left", maintain_order="left")
        total = int(allotted.get_column("places").sum())
        region_names = published.businesses.select("region_code", "region_name").unique("region_code")
        allotted = allotted.join(region_names, on="region_code", how="left", maintain_order="left")

        def yes_no(rows: pl.DataFrame) -> pl.DataFrame:
            return rows.with_columns(recognised=pl.when(pl.col("recognised")).then(pl.lit(YES)).otherwise(pl.lit(NO)))

        folder = inspection_folder(home, province, cycle_id)
        building = _building(folder, keep=True)
        stem = f"sample-{seed}-n{total}"
        sample_table = _shown(yes_no(sample), SAMPLE_HEADERS)
        frame_table = yes_no(ranked).select(pl.col(c).alias(h) for c, h in FRAME_HEADERS.items())
        strata_table = yes_no(allotted).select(pl.col(c).alias(h) for c, h in STRATA_HEADERS.items())
        csv_path, frame_path = building / f"{stem}.csv", building / f"{stem}-frame.csv"
        write_excel_csv(sample_table, csv_path)
        write_excel_csv(frame_table, frame_path)
        about = _about(
            published,
            [
                ("随机种子", seed),
                ("样本量", str(total)),
                ("抽样框户数", str(ranked.height)),
                ("抽样框", "判定日期登记状态为存续的个体工商户（已注销、吊销的不抽）"),
                ("分层", "行政区划代码 × 分型结果 × 名特优新（判定日期持有有效认定：是/否）"),
                (
                    "方法",
                    f"{METHOD}：各层按 户数×抽查比例 分配，最大余数法取整；层内按 SHA-256(种子:主体键) 排序取前若干户",
                ),
                ("抽查比例文件", f"{_data_file(source)}（版本 {inspection.version}）"),
                ("核验", f"python tools/verify_sample.py {stem}.json（见 docs/measures.md）"),
            ],
        )
        sheets = {"说明": about, "分层": strata_table, "样本": sample_table}
        write_workbook(sheets, building / f"{stem}.xlsx", published.as_of, title=f"{cycle_id} 双随机抽查样本 {seed}")
        manifest = _manifest(
            published, seed, total, inspection, source, [csv_path, frame_path], [sample.height, ranked.height]
        )
        (building / f"{stem}.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        replace_folder(building, folder)
        table_rows = sample.select(
            pl.lit(province).alias("province"),
            pl.lit(cycle_id).alias("cycle_id"),
            pl.lit(published.as_of).alias("as_of"),
            pl.lit(seed).alias("seed"),
            pl.lit(total, dtype=pl.Int64).alias("size"),
            pl.lit(METHOD).alias("method"),
            pl.lit(inspection.version).alias("inspection_version"),
            "region_code",
            "region_name",
            "business_type",
            "recognised",
            "ratio",
            "frequency",
            "rank",
            "draw_key",
            "business_key",
            "uscc",
            "reg_no",
            "name",
        )
        key = {"province": province, "cycle_id": cycle_id, "seed": seed, "size": total}
        publish_rows(warehouse_path(home), "inspection_samples", table_rows, key)
    return SampleResult(folder, cycle_id, stem, total, ranked.height)
