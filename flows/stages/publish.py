"""The publish stage: the cycle folder of outputs.md and the analysts' warehouse, each replaced atomically.

Everything is built beside its final place first — ``out/<P>/.<cycle_id>.building/`` and
``warehouse.duckdb.building`` — and only then renamed into place, so a run killed at any point leaves
the previous cycle folder and warehouse as they were. The cycle folder cannot be swapped in one rename
(``rename(2)`` does not replace a non-empty directory): the previous folder is first renamed aside to
``.<cycle_id>.previous`` and removed after the new one is in place. The next publish of the cycle finds
and finishes or undoes whatever a killed run left (:func:`recover_cycle_folder`).

The cycle folder is swapped before the warehouse: the warehouse's ``cycles`` table is the record of
what was published, so it never names a folder that is not there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pandera.errors
import polars as pl

from flows.errors import StageFileError
from flows.home import Cycle, StageResult, now_in_china
from flows.objections.figures import cycle_figures
from flows.objections.packages import carry_corrections
from flows.readers import sha256_of
from flows.report.report import ReportFacts, render_report
from flows.storage import warehouse
from flows.storage.excel import write_excel_csv, write_xlsx_files
from flows.storage.work_files import CycleFiles, read_cycle_files, schema_problems
from reference import filed_rulesets, industries, province_regions, regions, ruleset_for
from schemas.outputs import EXCEL_CSV, EXCEL_FILES, SUBMISSION
from schemas.ruleset import RulesetError
from transforms.publication import (
    code_labels,
    normalised_industry,
    public_rows,
    quarantine_excel_rows,
    quarantine_rows,
    submission_rows,
)
from transforms.summary import set_apart, type_counts

MANIFEST_SCHEMA_VERSION = 1


def _building(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.building")


def _aside(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.previous")


def recover_cycle_folder(folder: Path) -> None:
    """Finish or undo the folder swap of a run killed midway, and drop its half-built folder."""
    aside = _aside(folder)
    if aside.exists():
        if folder.exists():
            shutil.rmtree(aside)  # killed after the new folder was in place
        else:
            aside.rename(folder)  # killed between the two renames: the previous folder goes back
    shutil.rmtree(_building(folder), ignore_errors=True)


def replace_folder(built: Path, folder: Path) -> None:
    """Put ``built`` in place of ``folder``; the previous folder stays complete under another name until then."""
    aside = _aside(folder)
    if folder.exists():
        folder.rename(aside)
    built.rename(folder)
    shutil.rmtree(aside, ignore_errors=True)


def _file_entry(path: Path, rows: int) -> dict:
    return {"name": path.name, "sha256": sha256_of(path), "rows": rows}


def write_data_files(folder: Path, files: CycleFiles) -> list[dict]:
    """Write the four data files the manifest lists; return their manifest entries in that order."""
    submission = submission_rows(files.directory.lazy()).collect()
    try:
        SUBMISSION.validate(submission, lazy=True)
    except pandera.errors.SchemaErrors as e:
        raise StageFileError(
            f"{folder}：由本周期 directory.parquet 得出的报送名录不符合 outputs.md 的约定：{schema_problems(e)}"
        ) from None
    public = public_rows(submission.lazy()).collect()
    quarantine = quarantine_rows(files.quarantine.lazy()).collect()

    submission.write_csv(folder / "submission.csv")
    submission.write_parquet(folder / "submission.parquet")
    public.write_csv(folder / "public.csv")
    quarantine.write_csv(folder / "quarantine.csv")
    write_excel_copies(folder, files, submission, public)
    return [
        _file_entry(folder / "submission.csv", submission.height),
        _file_entry(folder / "submission.parquet", submission.height),
        _file_entry(folder / "public.csv", public.height),
        _file_entry(folder / "quarantine.csv", quarantine.height),
    ]


def write_excel_copies(folder: Path, files: CycleFiles, submission: pl.DataFrame, public: pl.DataFrame) -> None:
    """The files for people beside the contract files (not in the manifest): ``.xlsx`` copies of the submission
    (with the normalised industry), of public.csv and of the quarantine (Chinese headers and rule meanings), and
    the submission as a CSV Excel opens (``submission-excel.csv``)."""
    created = submission.get_column("判定日期").min() if submission.height else dt.date(2000, 1, 1)
    excel_submission = normalised_industry(submission.lazy(), industries().lazy()).collect()
    quarantine = quarantine_excel_rows(files.quarantine.lazy()).collect()
    tables = {"submission.xlsx": excel_submission, "public.xlsx": public, "quarantine.xlsx": quarantine}
    write_xlsx_files({folder / name: (frame, EXCEL_FILES[name]) for name, frame in tables.items()}, created)
    write_excel_csv(excel_submission, folder / EXCEL_CSV)


def input_entries(files: CycleFiles) -> list[dict]:
    """Every delivered file, in source order, as the manifest lists it."""
    return [
        {
            "source": s.source,
            "file": f.file,
            "sha256": f.sha256,
            "rows": f.rows,
            "accepted": f.accepted,
            "quarantined": f.quarantined,
            "duplicates_collapsed": f.duplicates_collapsed,  # additive (issue 13): rows = the three together
        }
        for s in files.inputs
        for f in s.files
    ]


def manifest(cycle: Cycle, files: CycleFiles, data_files: list[dict], generated_at: dt.datetime) -> dict:
    """``manifest.json`` in the exact shape of outputs.md; ``generated_at`` is its only run-dependent field."""
    return {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "province": cycle.province,
        "cycle_id": cycle.cycle_id,
        "as_of": cycle.as_of.isoformat(),
        "report_year": cycle.report_year,
        "cycle_kind": cycle.cycle_kind,
        "ruleset": {"id": files.ruleset.id, "version": files.ruleset.version, "sha256": files.ruleset.sha256},
        "counts": type_counts(files.directory),
        "inputs": input_entries(files),
        "files": data_files,
        "generated_at": generated_at.isoformat(),
    }


def cycle_entry(
    cycle: Cycle, files: CycleFiles, data_files: list[dict], published_at: dt.datetime
) -> warehouse.CycleEntry:
    """The ``cycles`` row of this run."""
    return warehouse.CycleEntry(
        province=cycle.province,
        cycle_id=cycle.cycle_id,
        as_of=cycle.as_of,
        report_year=cycle.report_year,
        cycle_kind=cycle.cycle_kind,
        ruleset_id=files.ruleset.id,
        ruleset_version=files.ruleset.version,
        ruleset_sha256=files.ruleset.sha256,
        ruleset_file=files.ruleset.file,
        type_counts=type_counts(files.directory),
        set_apart=set_apart(files.directory, files.run),
        quarantined=files.quarantine.height,
        missing_sources=[s.source for s in files.inputs if s.status == "missing"],
        inputs=input_entries(files),
        outputs=data_files,
        started_at=files.run.started_at,
        published_at=published_at,
        stages=[{"stage": s.stage, "seconds": s.seconds, "rows": s.rows} for s in files.run.stages],
    )


def warehouse_files(cycle: Cycle) -> dict[str, Path]:
    """The stage files holding this cycle's rows of each warehouse table (checked by ``read_cycle_files``)."""
    return {table: cycle.work_dir / f"{table}.parquet" for table in ("directory", "features", "quarantine", "linkage")}


def warn(message: str) -> None:
    """A warning for the person running the cycle: on stderr (the terminal) and in the log (Prefect's UI)."""
    import logging
    import sys

    logging.getLogger("getihu").warning(message)
    print(f"警告：{message}", file=sys.stderr, flush=True)


def rulesets_of(cycle: Cycle) -> list:
    """The filed rulesets and the cycle's own (a draft's), for the warehouse's ``codes``; one that does not load
    (it was checked before the run) is left out."""
    found = []
    for province, path in filed_rulesets().items():
        try:
            found.append(ruleset_for(province, path))
        except RulesetError:
            continue
    if cycle.ruleset is not None:
        with contextlib.suppress(RulesetError):
            found.append(ruleset_for(cycle.province, cycle.ruleset))
    return found


def _write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def publish(cycle: Cycle, clock: Callable[[], dt.datetime] = now_in_china) -> StageResult:
    """Publish a typed cycle: write ``cycle.out_dir`` and replace ``cycle.warehouse``.

    The caller holds the home's run lock (``flows.storage.lock``): the warehouse carries every cycle of every
    province, so two publishes at once would each drop the other's cycle.
    """
    began = time.monotonic()
    files = read_cycle_files(cycle)
    folder = cycle.out_dir
    recover_cycle_folder(folder)
    held = warehouse.clear_leftovers(cycle.warehouse)
    if held:
        warn(held)
    previous = cycle.warehouse if cycle.warehouse.exists() else None
    building = _building(folder)
    building.mkdir(parents=True)

    data_files = write_data_files(building, files)
    published_at = clock()
    built = warehouse.building_path(cycle.warehouse)
    warehouse.build_warehouse(
        built,
        previous,
        cycle_entry(cycle, files, data_files, published_at),
        warehouse_files(cycle),
        {"regions": regions(), "industries": industries(), "codes": code_labels(rulesets_of(cycle))},
    )
    _write_json(building / "manifest.json", manifest(cycle, files, data_files, published_at))

    with warehouse.open_read_only(built) as con:
        transitions = warehouse.cycle_transitions(con, cycle.cycle_id)
        previous_cycle = warehouse.previous_cycle_id(con, cycle.province, cycle.as_of)
    facts = ReportFacts(
        province=cycle.province,
        cycle_id=cycle.cycle_id,
        as_of=cycle.as_of,
        report_year=cycle.report_year,
        cycle_kind=cycle.cycle_kind,
        files=files,
        published_at=published_at,
        publish_seconds=time.monotonic() - began,
        previous_cycle_id=previous_cycle,
        transitions=transitions,
        regions=province_regions(cycle.province),
        industries=industries(),
        draft=cycle.draft,
        objections=cycle_figures(cycle.home, cycle.cycle_id),
    )
    (building / "report.html").write_text(render_report(facts), encoding="utf-8")

    carry_corrections(folder, building)  # corrections packages sent for this cycle stay with it
    replace_folder(building, folder)
    warehouse.replace_published(built, cycle.warehouse)
    return StageResult(
        stage="publish",
        outputs=(folder, cycle.warehouse),
        rows={"submission": files.directory.height, "quarantine": files.quarantine.height},
    )
