"""Cross-province duplicates (national.md, "Assembly"): kept in both, flagged, counted once — in the province of
the region code the business carries in the later as-of cycle."""

import datetime as dt

import polars as pl

from flows.national.assemble import assemble
from schemas.national import DIRECTORY_COLUMNS
from tests.national.conftest import edit_manifest, receive, rewrite_submission, typed
from transforms.national import counted_rows, cross_province_duplicates, national_counts

CHINA = dt.timezone(dt.timedelta(hours=8))


def rows(*records):
    """Directory rows from (province, as_of, uscc, region_code, type) tuples."""
    frame = pl.DataFrame(
        [
            {
                "province": p,
                "cycle_id": f"{p}-{a:%Y%m%d}",
                "as_of": a,
                "business_key": u,
                "uscc": u,
                "reg_no": None,
                "name": None,
                "region_code": r,
                "industry_code": "5211",
                "business_type": t,
                "reasons": "",
                "ruleset": "HA-2024.1",
                "arrived_at": dt.datetime(2025, 8, 1, tzinfo=CHINA),
            }
            for p, a, u, r, t in records
        ],
        schema=DIRECTORY_COLUMNS,
    )
    return frame.lazy()


JULY_2025, JULY_2024 = dt.date(2025, 7, 31), dt.date(2024, 7, 31)


def test_a_business_in_two_provinces_is_counted_once_in_the_later_cycle_s_province():
    latest = rows(
        ("32", JULY_2024, "A", "320102", "生存型"),  # 32 refused this year: its 2024 rows stand
        ("41", JULY_2025, "A", "410105", "成长型"),  # the business moved to 41
        ("32", JULY_2024, "B", "320102", "生存型"),
        ("41", JULY_2025, "C", "410105", "发展型"),
    )
    duplicates = cross_province_duplicates(latest)
    assert duplicates.select("uscc", "province", "counted_in", "counted").rows() == [
        ("A", "32", "41", False),
        ("A", "41", "41", True),
    ]
    counts = national_counts(latest, duplicates)
    assert counts.rows() == [("32", 1, 0, 0, 0), ("41", 0, 1, 1, 0)]
    assert counted_rows(latest, duplicates).collect().height == 3


def test_the_later_cycle_decides_even_when_its_row_carries_the_other_province_s_region():
    latest = rows(("32", JULY_2025, "A", "410105", "生存型"), ("41", JULY_2024, "A", "410105", "生存型"))
    duplicates = cross_province_duplicates(latest)
    assert duplicates["counted_in"].unique().to_list() == ["41"]


def test_rows_without_uscc_are_never_duplicates():
    latest = rows(("32", JULY_2025, None, "320102", "生存型"), ("41", JULY_2025, None, "410105", "生存型"))
    assert cross_province_duplicates(latest).is_empty()
    assert national_counts(latest, cross_province_duplicates(latest))["生存型"].sum() == 2


def test_assembly_flags_a_duplicate_in_both_provinces_and_lists_it(tmp_path, packages):
    inbox = receive(tmp_path, packages)
    # 32's cycle a fortnight earlier: the business both hold counts in 41, whose cycle is the later one
    earlier = dt.date(2025, 7, 15)
    rewrite_submission(inbox / "32", lambda f: f.with_columns(pl.lit(earlier).alias("判定日期")))
    edit_manifest(inbox / "32", lambda m: m.update({"as_of": "2025-07-15", "cycle_id": "32-20250715"}))
    assembly = assemble(tmp_path, 2025)
    listed = pl.read_csv(assembly.folder / "duplicates.csv", infer_schema=False)
    assert listed.select("uscc", "province", "counted_in", "counted").rows() == [
        ("92320102MAFP5526UA", "32", "41", "false"),
        ("92320102MAFP5526UA", "41", "41", "true"),
    ]
    by_province = dict(assembly.counts.select("province", pl.sum_horizontal(pl.exclude("province"))).iter_rows())
    assert by_province == {"32": typed(packages["32"]) - 1, "41": typed(packages["41"])}
    report = (assembly.folder / "report.html").read_text(encoding="utf-8")
    assert "92320102MAFP5526UA" in report and "跨省重复" in report
