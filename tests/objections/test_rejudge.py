"""Re-judgment equals a fresh cycle run on the corrected inbox, for the business objected to."""

from __future__ import annotations

import polars as pl
import pytest

from flows.home import Cycle
from flows.objections.desk import accept, attach, import_objections, run_rejudgment
from flows.objections.rejudge import RejudgeError, rejudge
from flows.objections.store import StoreError
from reference import ruleset_file
from schemas.features import FEATURES
from tests.objections.support import (
    SECRET,
    abnormal_correction_rows,
    desk_for,
    inbox_rows,
    objection_row,
    run_cycle,
    tax_correction_rows,
    write_inbox,
)
from tests.support.inbox import AS_OF, uscc, write_csv

CONFIRMATION = ("确认部门", "确认文号")


def without_confirmation(rows):
    return [{k: v for k, v in row.items() if k not in CONFIRMATION} for row in rows]


def fresh_run(tmp_path, corrections: dict[str, list[dict]]):
    """A whole new cycle on the inbox with the corrections put in: added rows, and replaced records."""
    rows = inbox_rows()
    for source, extra in corrections.items():
        plain = without_confirmation(extra)
        if source == "abnormal_list":  # same record (统一社会信用代码, 列入日期): the correction replaces it
            keys = {(r["统一社会信用代码"], r["列入日期"]) for r in plain}
            rows[source] = [r for r in rows[source] if (r["统一社会信用代码"], r["列入日期"]) not in keys]
        rows[source] = rows.get(source, []) + plain
    inbox = tmp_path / "fresh" / "inbox"
    write_inbox(inbox, rows)
    cycle = run_cycle(tmp_path / "fresh" / "home", inbox)
    return pl.read_parquet(cycle.work_dir / "features.parquet"), pl.read_parquet(cycle.work_dir / "directory.parquet")


def rejudged(home, tmp_path, seq: int, source: str, rows):
    desk, _ = desk_for(home)
    write_csv(tmp_path / "objection.csv", [objection_row("YY-1", seq)])
    import_objections(desk, tmp_path / "objection.csv", "王五")
    accept(desk, "YY-1", "王五")
    attach(desk, "YY-1", [write_csv(tmp_path / "in" / f"{source}.csv", rows)], "王五")
    return run_rejudgment(desk, "YY-1", "王五")


@pytest.mark.parametrize(
    ("seq", "source", "rows", "before", "after"),
    [
        (1, "tax_payment", tax_correction_rows(), "生存型", "发展型"),
        (2, "abnormal_list", abnormal_correction_rows(), "不符合分型条件", "生存型"),
        # removed after D (2025-07-31), confirmed before the correction is attached (2025-08-11): accepted, and
        # the listing is still in force on D (rules.md v2)
        (
            2,
            "abnormal_list",
            [dict(abnormal_correction_rows()[0], 移出日期="2025-08-05")],
            "不符合分型条件",
            "不符合分型条件",
        ),
    ],
)
def test_rejudgment_equals_a_fresh_cycle_on_the_corrected_inbox(home, tmp_path, seq, source, rows, before, after):
    result = rejudged(home, tmp_path, seq, source, rows)
    features, directory = fresh_run(tmp_path, {source: rows})
    key = uscc(seq)
    fresh = directory.filter(pl.col("business_key") == key).row(0, named=True)
    fresh_features = features.filter(pl.col("business_key") == key).row(0, named=True)
    assert (result.before.business_type, result.after.business_type) == (before, after)
    assert result.after.business_type == fresh["business_type"]
    assert list(result.after.reasons) == fresh["reasons"]
    assert list(result.after.conditions_met) == fresh["conditions_met"]
    assert list(result.after.criteria_failed) == fresh["criteria_failed"]
    assert dict(result.after.features) == {k: fresh_features[k] for k in FEATURES}
    assert result.directory_row == fresh


def test_the_comparison_says_which_corrected_record_changed_which_value(home, tmp_path):
    result = rejudged(home, tmp_path, 2, "abnormal_list", abnormal_correction_rows())
    changed = [f for f in result.comparison["features"] if f["changed"]]
    assert [(f["feature"], f["before"], f["after"]) for f in changed] == [("on_abnormal_list", True, False)]
    assert changed[0]["by"] == [
        {
            "source": "abnormal_list",
            "file": "abnormal_list.csv",
            "line": 2,
            "confirmed_by": "郑州市金水区市场监督管理局",
            "confirmation_no": "金市监确〔2025〕3号",
        }
    ]
    assert [c["code"] for c in result.comparison["criteria_failed_before"]] == ["ABNORMAL"]
    assert result.comparison["criteria_failed_after"] == []


def test_without_corrections_the_rejudgment_is_the_published_type(home):
    for seq in (1, 2, 3, 4):
        result = rejudge(Cycle("41", AS_OF, home, SECRET), uscc(seq), [])
        assert result.after == result.before


def test_a_correction_for_another_business_or_unconfirmed_is_refused(home, tmp_path):
    desk, _ = desk_for(home)
    write_csv(tmp_path / "objection.csv", [objection_row("YY-1", 1)])
    import_objections(desk, tmp_path / "objection.csv", "王五")
    accept(desk, "YY-1", "王五")
    other = [dict(tax_correction_rows()[0], 纳税人识别号=uscc(3))]
    with pytest.raises(StoreError, match="不属于"):
        attach(desk, "YY-1", [write_csv(tmp_path / "a" / "tax_payment.csv", other)], "王五")
    unconfirmed = [dict(tax_correction_rows()[0], 确认文号="")]
    with pytest.raises(StoreError, match="确认文号"):
        attach(desk, "YY-1", [write_csv(tmp_path / "b" / "tax_payment.csv", unconfirmed)], "王五")
    # rules.md v2: a date after D is accepted; one after the day the correction is attached (2025-08-11, the
    # bound a correction has instead of an extraction date) cannot have been confirmed and is refused
    after_attaching = [dict(tax_correction_rows()[0], 入库日期="2025-08-12")]
    with pytest.raises(StoreError, match="date_after_extraction"):
        attach(desk, "YY-1", [write_csv(tmp_path / "c" / "tax_payment.csv", after_attaching)], "王五")
    after_d = [dict(tax_correction_rows()[0], 入库日期="2025-08-11")]
    assert attach(desk, "YY-1", [write_csv(tmp_path / "d" / "tax_payment.csv", after_d)], "王五")


def test_another_ruleset_than_the_cycles_is_refused(home, tmp_path):
    other = tmp_path / "41.toml"
    other.write_text(ruleset_file("41").read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    with pytest.raises(RejudgeError, match="SHA-256"):
        rejudge(Cycle("41", AS_OF, home, SECRET, ruleset=other), uscc(1), [])
