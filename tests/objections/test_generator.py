"""The objection export for a generated cycle: intake and re-judgment give what its truth says."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from flows.home import Cycle
from flows.objections.decisions import decide
from flows.objections.desk import Desk, accept, attach, import_objections, run_rejudgment
from flows.objections.rejudge import rejudge
from flows.objections.store import Store
from flows.stages import execute
from schemas.objections import Decision
from synth.generate import generate
from synth.objections import objection_export
from synth.world import Plan
from tests.objections.support import Clock, copy_home, published_on

SECRET = b"generated objections"
AS_OF = dt.date(2025, 7, 31)


@pytest.fixture(scope="module")
def generated_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("generated-objections") / "home"
    generate(Plan("41", 2025, 400, seed=11), home / "inbox" / "41" / "2025", lambda *_: None)
    cycle = Cycle("41", AS_OF, home, SECRET, quarantine_threshold=0.5)
    execute(cycle, run_stage=published_on(dt.datetime(2025, 8, 1, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))))
    return home


@pytest.mark.slow
def test_rejudging_without_corrections_gives_back_every_published_business(generated_home):
    cycle = Cycle("41", AS_OF, generated_home, SECRET)
    directory = pl.read_parquet(cycle.work_dir / "directory.parquet")
    for row in directory.gather_every(5).iter_rows(named=True):  # every type, 注册号-only and linked ones among them
        result = rejudge(cycle, row["business_key"], [])
        assert result.after == result.before, row["business_key"]
        assert result.directory_row == row


@pytest.mark.slow
def test_the_export_of_a_generated_cycle_meets_its_truth(generated_home, tmp_path):
    home = copy_home(generated_home, tmp_path / "home")
    out = objection_export(home, "41", AS_OF, tmp_path / "export", per_kind=2)
    truth = pl.read_csv(out / "truth.csv", infer_schema=False).fill_null("")
    assert set(truth["kind"]) >= {"founded_tax", "founded_listing", "unfounded", "late", "duplicate", "unknown"}

    desk = Desk(home=home, secret=SECRET, clock=Clock(dt.date(2025, 9, 30)))
    result = import_objections(desk, out / "objection.csv", "生成器")
    refused = dict((number, reason.value) for number, reason in result.refused)
    for row in truth.iter_rows(named=True):
        assert refused.get(row["异议编号"], "") == row["expected_refusal"], row
    for row in truth.filter(pl.col("expected_decision") != "").iter_rows(named=True):
        number = row["异议编号"]
        accept(desk, number, "生成器")
        if row["correction"]:
            attach(desk, number, [out / "corrections" / number / f"{row['correction']}.csv"], "生成器")
        rejudged = run_rejudgment(desk, number, "生成器")
        changed = rejudged.after.business_type != rejudged.before.business_type
        assert changed == (row["expected_decision"] == "调整"), row
        decide(desk, number, Decision(row["expected_decision"]), "按重新判定结果", "生成器")
    with Store(home) as store:
        assert len(store.amendments()) == truth.filter(pl.col("expected_decision") == "调整").height
