"""The cycle's stages in order, and ``execute``: the cycle itself — lock, stages, timings, ``run.json``.

``execute`` takes how to run a stage as an argument: the Prefect flow (``flows.cycle``) runs each as a
task, tests and benchmarks call the stage functions directly. So the logic the flow runs is the logic the
tests prove, and this module does not import Prefect.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

from flows.home import Cycle, StageResult, now_in_china
from flows.progress import stage_status
from flows.stages import business_types, features, ingest, link, publish, validate
from flows.storage.lock import home_lock
from schemas.work_files import RunRecord, StageTime

Stage = Callable[[Cycle], StageResult]

#: The stages in the order they run (docs/architecture.md, "Stages"); the name is what run.json and the report show.
#: One module per stage; ``flows.stages.<module>`` stays the module (not its function), so it can be patched.
STAGES: tuple[tuple[str, Stage], ...] = (
    ("ingest", ingest.ingest),
    ("validate", validate.validate),
    ("link", link.link),
    ("features", features.features),
    ("type", business_types.type_businesses),
    ("publish", publish.publish),
)

#: How a cycle runs one stage: directly, or as a Prefect task.
StageRunner = Callable[[str, Stage, Cycle], StageResult]


def run_directly(name: str, stage: Stage, cycle: Cycle) -> StageResult:
    return stage(cycle)


def write_run_record(record: RunRecord, cycle: Cycle) -> Path:
    """``run.json`` in the cycle's work folder, written atomically."""
    path = cycle.work_dir / "run.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(record.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    temporary.replace(path)
    return path


def execute(
    cycle: Cycle, run_stage: StageRunner = run_directly, clock: Callable[[], dt.datetime] = now_in_china
) -> RunRecord:
    """Run the whole cycle under the home's lock; ``run.json`` is written before publish, which reports it."""
    with home_lock(cycle.home, f"getihu run {cycle.cycle_id}"):
        record = RunRecord(cycle.cycle_id, cycle.province, cycle.as_of, started_at=clock())
        for name, stage in STAGES:
            if name == "publish":
                write_run_record(record, cycle)
            began = time.monotonic()
            with stage_status(name):
                result = run_stage(name, stage, cycle)
            record.stages.append(StageTime(name, round(time.monotonic() - began, 3), result.rows))
        record.finished_at = clock()
        write_run_record(record, cycle)
    return record
