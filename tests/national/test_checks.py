"""Each check of a province's package and each status (national.md, "Checks, per package")."""

import datetime as dt
import os

import duckdb
import polars as pl
import pytest

from flows.national.assemble import assemble, inbox_dir
from schemas.codes import USCC_ALPHABET
from schemas.national import CHECKS
from schemas.terms import report_year
from tests.national.conftest import as_last_year, edit_manifest, receive, rewrite_submission, typed


def statuses(assembly) -> dict[str, tuple[str, list[str]]]:
    return {o.province: (o.status, [p.code for p in o.problems]) for o in assembly.outcomes}


def test_on_time_packages_are_accepted_and_the_other_provinces_missing(tmp_path, packages):
    receive(tmp_path, packages)
    assembly = assemble(tmp_path, 2025)
    found = statuses(assembly)
    assert found["32"] == ("accepted", []) and found["41"] == ("accepted", [])
    assert len(found) == 31
    assert {p for p, (s, _) in found.items() if s == "missing"} == set(found) - {"32", "41"}
    assert found["11"] == ("missing", ["no_package"])
    assert "北京市（11）" in next(o.message for o in assembly.outcomes if o.province == "11")
    assert (tmp_path / "directory" / "province=41" / "41-20250731.parquet").is_file()
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        names = {
            n
            for (n,) in con.execute(
                "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        }
        assert {"directory", "directory_latest", "cycles", "transitions", "submissions", "duplicates"} <= names
        assert con.execute("SELECT count(*) FROM submissions").fetchone() == (31,)
        rows = con.execute("SELECT province, count(*) FROM directory_latest GROUP BY ALL ORDER BY 1").fetchall()
    assert rows == [(p, typed(packages[p])) for p in ("32", "41")]
    # the generator's designed cases hold one business registered in Nanjing in every province: counted once
    assert assembly.duplicates["uscc"].unique().to_list() == ["92320102MAFP5526UA"]
    assert assembly.counts.drop("province").sum_horizontal().sum() == typed(packages["32"]) + typed(packages["41"]) - 1
    report = (assembly.folder / "report.html").read_text(encoding="utf-8")
    assert "全国个体工商户名录" in report and "<svg" in report and "未报送" in report


def _tamper(folder):
    path = folder / "submission.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("生存型", "发展型", 1), encoding="utf-8")


def _region_of_another_province(folder):
    rewrite_submission(
        folder,
        lambda f: f.with_columns(
            pl.when(pl.int_range(pl.len()) == 5)
            .then(pl.lit("410105"))
            .otherwise(pl.col("行政区划代码"))
            .alias("行政区划代码")
        ),
    )


def _invalid_uscc(folder):
    def change(frame):
        first = frame.filter(pl.col("统一社会信用代码").is_not_null())["统一社会信用代码"][0]
        wrong = first[:17] + next(c for c in USCC_ALPHABET if c != first[17])
        return frame.with_columns(pl.col("统一社会信用代码").replace(first, wrong))

    rewrite_submission(folder, change)


def _wrong_count(folder):
    edit_manifest(folder, lambda m: m["counts"].update({"发展型": m["counts"]["发展型"] + 1}))


def _wrong_rows(folder):
    edit_manifest(folder, lambda m: m["files"][0].update({"rows": m["files"][0]["rows"] + 1}))


def _missing_file(folder):
    (folder / "public.csv").unlink()


def _unknown_schema_version(folder):
    edit_manifest(folder, lambda m: m.update({"schema_version": 7}))


def _broken_manifest(folder):
    (folder / "manifest.json").write_text("{not json", encoding="utf-8")


def _no_manifest(folder):
    (folder / "manifest.json").unlink()


def _no_submission(folder):
    for name in ("submission.csv", "submission.parquet"):
        (folder / name).unlink()


def _other_province_manifest(folder):
    edit_manifest(folder, lambda m: m.update({"province": "41"}))


def _as_of_not_the_manifest_s(folder):
    edit_manifest(folder, lambda m: m.update({"as_of": "2025-07-30"}))


def _other_ruleset(folder):
    edit_manifest(folder, lambda m: m["ruleset"].update({"version": "2099.1"}))


def _extra_column(folder):
    rewrite_submission(folder, lambda f: f.with_columns(备注=pl.lit("x")))


def _wrong_report_year(folder):
    edit_manifest(folder, lambda m: m.update({"report_year": 2025, "cycle_kind": "yearly"}))


def _extra_cycle(folder):
    edit_manifest(folder, lambda m: m.update({"report_year": 2024, "cycle_kind": "extra"}))


def _unknown_business_type(folder):
    rewrite_submission(
        folder,
        lambda f: f.with_columns(
            pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("小微型")).otherwise(pl.col("分型结果")).alias("分型结果")
        ),
    )


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_tamper, ["file_checksum"]),
        (_region_of_another_province, ["region"]),
        (_invalid_uscc, ["uscc"]),
        (_wrong_count, ["counts"]),
        (_wrong_rows, ["file_rows"]),
        (_missing_file, ["file_missing"]),
        (_unknown_schema_version, ["manifest_schema_version"]),
        (_broken_manifest, ["manifest_unreadable"]),
        (_no_manifest, ["manifest_missing"]),
        (_no_submission, ["file_missing", "file_missing", "submission_missing"]),
        (_other_province_manifest, ["manifest_province"]),
        (_as_of_not_the_manifest_s, ["as_of"]),
        (_other_ruleset, ["ruleset"]),
        (_extra_column, ["columns"]),
        (_wrong_report_year, ["report_year"]),
        (_extra_cycle, ["cycle_kind"]),
        (_unknown_business_type, ["business_type"]),
    ],
)
def test_a_package_failing_a_check_is_refused_with_the_check_named(tmp_path, packages, damage, expected):
    inbox = receive(tmp_path, packages)
    damage(inbox / "32")
    found = statuses(assemble(tmp_path, 2025))
    assert found["32"] == ("refused", expected)
    assert found["41"] == ("accepted", [])
    assert not list((tmp_path / "directory" / "province=32").glob("*.parquet"))
    assert all(code in CHECKS for code in expected)


def test_a_version_2_manifest_with_right_report_year_and_cycle_kind_is_accepted(tmp_path, packages):
    inbox = receive(tmp_path, packages)
    edit_manifest(inbox / "32", lambda m: m.update({"schema_version": 2, "report_year": 2024, "cycle_kind": "yearly"}))
    assert statuses(assemble(tmp_path, 2025))["32"] == ("accepted", [])


def test_the_refusal_names_the_province_and_the_file_in_chinese(tmp_path, packages):
    inbox = receive(tmp_path, packages)
    _tamper(inbox / "32")
    outcome = next(o for o in assemble(tmp_path, 2025).outcomes if o.province == "32")
    assert outcome.message.startswith("江苏省（32）：拒收")
    assert "submission.csv" in outcome.message and "SHA-256" in outcome.message


def test_a_package_after_15_august_is_accepted_but_late(tmp_path, packages):
    receive(tmp_path, packages, arrived="2025-08-16T00:00:01+08:00")
    found = statuses(assemble(tmp_path, 2025))
    assert found["32"] == ("late", ["arrived_late"])
    assert (tmp_path / "directory" / "province=32" / "32-20250731.parquet").is_file()


def test_without_receipts_the_manifest_s_time_is_the_arrival(tmp_path, packages):
    inbox = receive(tmp_path, packages)
    (inbox / "receipts.csv").unlink()
    on_time = dt.datetime(2025, 8, 15, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()
    os.utime(inbox / "41" / "manifest.json", (on_time, on_time))
    os.utime(inbox / "32" / "manifest.json", (on_time + 120, on_time + 120))
    found = statuses(assemble(tmp_path, 2025))
    assert found["41"] == ("accepted", [])
    assert found["32"] == ("late", ["arrived_late"])


def test_an_as_of_before_30_june_is_late_and_one_of_another_year_refused(tmp_path, packages):
    inbox = receive(tmp_path, packages)
    for province, as_of in (("32", "2025-06-15"), ("41", "2024-07-31")):
        rewrite_submission(
            inbox / province, lambda f, d=as_of: f.with_columns(pl.lit(dt.date.fromisoformat(d)).alias("判定日期"))
        )
        edit_manifest(
            inbox / province,
            lambda m, d=as_of: m.update({"as_of": d, "report_year": report_year(dt.date.fromisoformat(d))}),
        )
    found = statuses(assemble(tmp_path, 2025))
    assert found["32"] == ("late", ["as_of_window"])
    assert found["41"] == ("refused", ["as_of_year"])


def last_year(home, packages):
    """The packages of 2024 (the 2025 ones a year earlier), assembled: last year's national state."""
    inbox = receive(home, packages, year=2024, arrived="2024-08-01T09:00:00+08:00")
    for province in packages:
        rewrite_submission(inbox / province, as_last_year)
        edit_manifest(
            inbox / province,
            lambda m, p=province: m.update({"as_of": "2024-07-31", "cycle_id": f"{p}-20240731", "report_year": 2023}),
        )
    assembly = assemble(home, 2024)
    assert statuses(assembly)["41"] == ("accepted", [])


def test_a_refused_province_keeps_last_year_s_rows(tmp_path, packages):
    last_year(tmp_path, packages)
    inbox = receive(tmp_path, packages)
    _tamper(inbox / "41")
    assembly = assemble(tmp_path, 2025)
    outcome = next(o for o in assembly.outcomes if o.province == "41")
    assert (outcome.status, outcome.kept_cycle_id) == ("refused", "41-20240731")
    assert "沿用 41-20240731" in outcome.message
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        latest = con.execute(
            "SELECT province, cycle_id, count(*) FROM directory_latest GROUP BY ALL ORDER BY 1"
        ).fetchall()
        kept = con.execute(
            "SELECT status, kept_cycle_id FROM submissions WHERE year = 2025 AND province = '41'"
        ).fetchone()
        moved = con.execute("SELECT count(*) FROM transitions WHERE cycle_id = '32-20250731'").fetchone()[0]
    assert latest == [("32", "32-20250731", typed(packages["32"])), ("41", "41-20240731", typed(packages["41"]))]
    assert kept == ("refused", "41-20240731")
    assert moved >= typed(packages["32"])  # 32 compared with its 2024 cycle
    # the business both hold is counted in 32, whose cycle is the later one
    assert assembly.duplicates.filter(pl.col("counted"))["province"].to_list() == ["32"]
    counted_41 = assembly.counts.filter(pl.col("province") == "41").drop("province").sum_horizontal().item()
    assert counted_41 == typed(packages["41"]) - 1


def test_a_province_refused_after_being_accepted_loses_this_year_s_rows(tmp_path, packages):
    inbox = receive(tmp_path, packages)
    assemble(tmp_path, 2025)
    _tamper(inbox / "41")
    found = next(o for o in assemble(tmp_path, 2025).outcomes if o.province == "41")
    assert (found.status, found.kept_cycle_id) == ("refused", None)
    assert not list((tmp_path / "directory" / "province=41").glob("*.parquet"))


def test_inbox_layout(tmp_path):
    assert inbox_dir(tmp_path, 2025) == tmp_path / "inbox" / "2025"
