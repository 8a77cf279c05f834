"""Issue 13 (hardening): what a hostile tester found, each case through the real stages."""

from __future__ import annotations

import dataclasses

import duckdb
import polars as pl

from flows.stages.ingest import ingest
from flows.stages.validate import validate
from tests.support.inbox import csv_bytes, cycle, registration_row, valid_row, write_csv


def raw(c, sql):
    with duckdb.connect(str(c.raw_db), read_only=True) as con:
        return con.sql(sql).pl()


def registration(inbox, n=3, **kw):
    return write_csv(inbox / "registration.csv", [registration_row(i) for i in range(1, n + 1)], **kw)


# --- item 1, 2: what the raw layer reuses is keyed by everything it depends on -----------------------------


def test_a_changed_key_keys_every_file_again_as_a_fresh_home_would(tmp_path):
    inbox = tmp_path / "inbox"
    registration(inbox)
    write_csv(inbox / "social_security.csv", [valid_row("social_security", 1)])
    queries = [
        f"SELECT {k} FROM {t} ORDER BY _line"
        for t, k in (("raw_registration", "operator_key"), ("raw_social_security", "person_key"))
    ]
    first = cycle(tmp_path / "home", inbox)
    ingest(first)
    under_first_key = [raw(first, sql) for sql in queries]
    other_key = dataclasses.replace(first, secret=b"another key")
    ingest(other_key)  # no file changed
    fresh = dataclasses.replace(other_key, home=tmp_path / "fresh")
    ingest(fresh)
    for sql, before in zip(queries, under_first_key, strict=True):
        assert raw(other_key, sql).equals(raw(fresh, sql))
        assert not raw(other_key, sql).equals(before)
    fingerprints = raw(other_key, "SELECT DISTINCT key_fingerprint FROM _files")["key_fingerprint"].to_list()
    assert len(fingerprints) == 1 and b"another key".hex() not in fingerprints[0]


def test_a_changed_inbox_toml_reads_unchanged_files_again(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    text = csv_bytes([registration_row(1)]).decode().replace("经营场所", "营业场所")
    (inbox / "registration.csv").write_text(text, encoding="utf-8")
    (inbox / "inbox.toml").write_text('[registration]\naliases = { address = ["经营地址"] }\n', encoding="utf-8")
    c = cycle(tmp_path, inbox)
    ingest(c)
    validate(c)
    assert pl.read_parquet(c.accepted("registration"))["address"].to_list() == [None]
    (inbox / "inbox.toml").write_text('[registration]\naliases = { address = ["营业场所"] }\n', encoding="utf-8")
    ingest(c)  # the file did not change; its settings did
    validate(c)
    assert pl.read_parquet(c.accepted("registration"))["address"].to_list() == ["金水路1号"]


# --- item 3: a business whose registration row is quarantined still exists ---------------------------------


def test_a_quarantined_registration_still_counts_among_its_operators_businesses(tmp_path):
    from flows.stages.link import link
    from tests.support.inbox import resident_id

    inbox = tmp_path / "inbox"
    operator = resident_id(1)
    rows = [registration_row(i, 经营者身份证件号码=operator) for i in (1, 2)] + [registration_row(3)]
    rows[1]["资金数额（万元）"] = "五万"  # quarantined: money_format
    write_csv(inbox / "registration.csv", rows)
    payment = valid_row("tax_payment", 1) | {"纳税人识别号": operator}
    write_csv(inbox / "tax_payment.csv", [payment])
    c = cycle(tmp_path, inbox, quarantine_threshold=1.0)
    ingest(c)
    validate(c)
    link(c)
    linkage = pl.read_parquet(c.work_dir / "linkage.parquet").filter(pl.col("source") == "taxpayer")
    assert linkage["status"].to_list() == ["ambiguous"]
    assert linkage["detail"].to_list() == ["operator_several_in_force"]
    assert sorted(linkage["candidates"][0]) == sorted([rows[0]["统一社会信用代码"], rows[1]["统一社会信用代码"]])


# --- items 10-12: a resident ID wherever it is typed -------------------------------------------------------


def test_an_id_in_any_column_is_masked_in_the_raw_layer_and_the_quarantine(tmp_path):
    from tests.support.inbox import resident_id

    inbox = tmp_path / "inbox"
    in_reg_no, in_extra = resident_id(901), resident_id(902)
    rows = [registration_row(i) for i in (1, 2, 3)]
    rows[2]["注册号"] = in_reg_no
    write_csv(inbox / "registration.csv", rows)
    write_csv(inbox / "taxpayer.csv", [valid_row("taxpayer", 1) | {"法定代表人身份证件号码": in_extra}])
    c = cycle(tmp_path, inbox, quarantine_threshold=1.0)
    ingest(c)
    validate(c)
    quarantine = pl.read_parquet(c.work_dir / "quarantine.parquet")
    assert quarantine.select("column", "value", "rule").rows() == [
        ("注册号", in_reg_no[:6] + "*" * 10 + in_reg_no[-2:], "reg_no_format")
    ]
    held = raw(c, "SELECT * FROM raw_taxpayer").rows() + raw(c, "SELECT * FROM raw_registration").rows()
    text = repr(held)
    assert in_reg_no not in text and in_extra not in text
    assert in_extra[:6] + "*" * 10 + in_extra[-2:] in text
    assert rows[0]["统一社会信用代码"] in text  # a USCC is not personal, and all-digit ones are not masked


def test_a_nested_parquet_column_is_refused_naming_file_and_column_without_its_values(tmp_path):
    import pytest

    from flows.errors import InputError, exit_code_of
    from tests.support.inbox import resident_id

    inbox = tmp_path / "inbox"
    registration(inbox)
    person = resident_id(904)
    pl.DataFrame({"申请号": ["CN1"], "专利权人": [[person, "张三"]]}).write_parquet(inbox / "patent.parquet")
    with pytest.raises(InputError) as refused:
        ingest(cycle(tmp_path, inbox))
    assert "patent.parquet" in str(refused.value) and "“专利权人”" in str(refused.value)
    assert person not in str(refused.value)
    assert exit_code_of(refused.value) == 2


# --- item 16: a NUL byte after the first 64 KB -------------------------------------------------------------


def test_a_nul_byte_after_the_first_64_kb_refuses_the_file_naming_its_line(tmp_path):
    import pytest

    from flows.errors import InputError

    inbox = tmp_path / "inbox"
    rows = [registration_row(i, 经营场所="金水路" + "号" * 40) for i in range(1, 801)]  # well over 64 KB
    rows[700]["名称"] = "小店\x00701"
    write_csv(inbox / "registration.csv", rows)
    assert (inbox / "registration.csv").read_bytes().index(b"\x00") > 1 << 16
    with pytest.raises(InputError) as refused:
        ingest(cycle(tmp_path, inbox))
    assert "registration.csv 第 702 行：" in str(refused.value) and "NUL" in str(refused.value)


# --- item 13: names the raw layer uses itself, and paths with glob characters ------------------------------


def test_extra_headers_named_like_internal_columns_are_kept_under_other_names(tmp_path):
    inbox = tmp_path / "inbox"
    internal = ["_line", "filename", "operator_key", "holder_key", "_c0"]
    rows = [registration_row(i) | {name: f"{name}-{i}" for name in internal} for i in (1, 2)]
    write_csv(inbox / "registration.csv", rows)
    write_csv(inbox / "trademark.csv", [valid_row("trademark", 1) | {"holder_key": "x"}])
    c = cycle(tmp_path, inbox)
    ingest(c)
    validate(c)
    held = raw(c, "SELECT * FROM raw_registration ORDER BY _line")
    assert held["_line"].to_list() == [2, 3]
    assert held["filename_15"].to_list() == ["filename-1", "filename-2"]
    assert held["operator_key"].str.len_chars().to_list() == [32, 32]  # the key, not the extra's text
    assert pl.read_parquet(c.accepted("registration")).height == 2


def test_a_home_path_with_a_question_mark_is_refused_naming_it(tmp_path):
    import pytest

    from flows.errors import ConfigurationError, exit_code_of
    from flows.home import cycle_for

    with pytest.raises(ConfigurationError) as refused:
        cycle_for("41", None, 2025, tmp_path / "home?", None, None, b"k")
    assert "home?" in str(refused.value) and exit_code_of(refused.value) == 2


def test_a_home_and_an_inbox_whose_paths_hold_glob_characters(tmp_path):
    inbox = tmp_path / "inbox [2025]?*"
    registration(inbox)
    c = cycle(tmp_path / "home [a]*", inbox)
    ingest(c)
    validate(c)
    assert raw(c, "SELECT count(*) AS n FROM raw_registration")["n"].to_list() == [3]
    assert pl.read_parquet(c.accepted("registration"), glob=False).height == 3
