"""Every quarantine rule of the contract, caught end to end: inbox → ingest → validate → quarantine.parquet."""

import json

import polars as pl
import pytest

from flows.stages.ingest import ingest
from flows.stages.validate import validate
from schemas.sources import RULES, SOURCES
from tests.support.inbox import cycle, resident_id, uscc, valid_row, write_csv

VALID_ROWS = 6

# (source, header as delivered, bad value, rule) — one row each, appended after the valid rows
BREACHES = [
    ("registration", "经营者姓名", "", "required"),
    ("registration", "统一社会信用代码", uscc(900, prefix="91"), "uscc_not_individual"),
    ("registration", "注册号", "12345", "reg_no_format"),
    ("registration", "经营者身份证件号码", "41010519800230" + "0011", "resident_id_birth_date"),
    ("registration", "季节性经营", "有", "flag_format"),
    ("registration", "行政区划代码", "4101", "region_format"),
    ("registration", "行政区划代码", "230102", "region_outside_province"),
    ("registration", "行政区划代码", "419999", "region_unknown"),
    ("registration", "行业代码", "H621", "industry_format"),
    ("registration", "行业代码", "9910", "industry_unknown"),
    ("registration", "成立日期", "2025-08-06", "date_after_extraction"),  # the day after the extraction date
    ("annual_report", "统一社会信用代码", "92410105ABC", "uscc_format"),
    ("annual_report", "报告年度", "24", "year_format"),
    ("annual_report", "营业额或营业收入（元）", "-1", "money_negative"),
    ("annual_report", "从业人数", "-1", "count_format"),
    ("abnormal_list", "统一社会信用代码", uscc(901)[:-1] + ("0" if uscc(901)[-1] != "0" else "1"), "uscc_check"),
    ("suspension", "歇业起始日期", "2024-02-30", "date_format"),
    ("tax_payment", "纳税人识别号", "12345", "taxpayer_id_format"),
    ("tax_payment", "实缴金额（元）", "12元", "money_format"),
    ("tax_payment", "税种", "营业税", "enum_unknown"),
    ("social_security", "个人身份证件号码", "41010519800517", "resident_id_format"),
    (
        "social_security",
        "个人身份证件号码",
        resident_id(902)[:-1] + ("0" if resident_id(902)[-1] != "0" else "1"),
        "resident_id_check",
    ),
    ("social_security", "费款所属期", "202413", "period_format"),
    ("trademark", "注册人证件号码", resident_id(903) + "01", "party_id_format"),
    ("trademark", "国际分类", "46", "nice_class_unknown"),
    ("patent", "法律状态", "审查中", "enum_unknown"),
]


def build_inbox(inbox):
    """Valid rows of every source, then one row per breach, a conflicting and an identical duplicate."""
    expected = []
    rows = {name: [valid_row(name, i) for i in range(1, VALID_ROWS + 1)] for name in SOURCES}
    for n, (source, header, value, rule) in enumerate(BREACHES):
        row = valid_row(source, 100 + n)
        row[header] = value
        rows[source].append(row)
        expected.append((source, f"{source}.csv", len(rows[source]) + 1, header, rule))
    conflict = valid_row("taxpayer", 1) | {"纳税人名称": "另一个名称"}
    rows["taxpayer"].append(conflict)
    expected += [
        ("taxpayer", "taxpayer.csv", 2, "纳税人识别号", "duplicate_conflict"),
        ("taxpayer", "taxpayer.csv", len(rows["taxpayer"]) + 1, "纳税人识别号", "duplicate_conflict"),
    ]
    rows["penalty"].append(valid_row("penalty", 2))  # identical to line 3: collapsed, not quarantined
    for name, source_rows in rows.items():
        write_csv(inbox / f"{name}.csv", source_rows)
    (inbox / "inbox.toml").write_text("extracted_on = 2025-08-05\n", encoding="utf-8")
    return expected


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    expected = build_inbox(home / "inbox")
    c = cycle(home, home / "inbox", quarantine_threshold=1.0)
    ingest(c)
    validate(c)
    return c, expected


def test_every_rule_of_the_contract_is_exercised():
    exercised = {rule for *_, rule in BREACHES} | {"duplicate_conflict"}
    assert exercised == set(RULES) - {"date_implausible"}  # issue 13: corpus case placeholder_dates covers it


def test_every_breach_is_quarantined_under_its_rule_line_and_delivered_header_and_nothing_else(validated):
    c, expected = validated
    quarantine = pl.read_parquet(c.work_dir / "quarantine.parquet")
    found = sorted(quarantine.select("source", "file", "line", "column", "rule").iter_rows())
    assert found == sorted(expected)


def test_quarantine_shows_personal_values_masked(validated):
    c, _ = validated
    quarantine = pl.read_parquet(c.work_dir / "quarantine.parquet")
    shown = dict(quarantine.filter(pl.col("column") == "个人身份证件号码").select("rule", "value").iter_rows())
    assert shown["resident_id_format"] == "410105******17"
    assert shown["resident_id_check"].startswith("410105") and "*" * 10 in shown["resident_id_check"]
    assert dict(quarantine.filter(pl.col("rule") == "flag_format").select("column", "value").iter_rows()) == {
        "季节性经营": "有"
    }


def test_counts_reconcile_per_source_and_file(validated):
    c, _ = validated
    inputs = json.loads((c.work_dir / "inputs.json").read_text(encoding="utf-8"))
    assert [s["source"] for s in inputs["sources"]] == list(SOURCES)
    by_source = {s["source"]: s for s in inputs["sources"]}
    for entry in inputs["sources"]:
        assert entry["status"] == "loaded"
        assert entry["rows"] == entry["accepted"] + entry["quarantined"] + entry["duplicates_collapsed"]
        for file in entry["files"]:
            assert file["rows"] == file["accepted"] + file["quarantined"] + file["duplicates_collapsed"]
        assert pl.read_parquet(c.accepted(entry["source"])).height == entry["accepted"]
    assert by_source["penalty"]["duplicates_collapsed"] == 1
    assert by_source["penalty"]["quarantined"] == 0
    assert by_source["taxpayer"]["quarantined"] == 2
    assert by_source["registration"]["quarantined"] == sum(1 for b in BREACHES if b[0] == "registration")
