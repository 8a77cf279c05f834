"""Ingest: formats, encodings, split files, the raw layer's lineage and idempotence, and every refusal."""

import datetime as dt
import importlib
import json
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from flows import readers
from flows.errors import InputError
from flows.stages.ingest import ingest
from flows.stages.validate import validate
from schemas.sources import SOURCES
from tests.support.inbox import csv_bytes, cycle, registration_row, resident_id, valid_row, write_csv, write_xlsx

transcode = importlib.import_module("flows.readers.transcode")  # the module: flows.readers exports the function


def registration(inbox, n=5, **kw):
    return write_csv(inbox / "registration.csv", [registration_row(i) for i in range(1, n + 1)], **kw)


def raw(c, sql):
    with duckdb.connect(str(c.raw_db), read_only=True) as con:
        return con.sql(sql).pl()


# --- formats and encodings ---------------------------------------------------------------------------------


def test_gb18030_xlsx_parquet_split_files_and_a_wan_yuan_header_read_as_one_province(tmp_path):
    inbox = tmp_path / "inbox"
    write_csv(inbox / "registration.csv", [registration_row(i) for i in range(1, 4)], encoding="gb18030")
    january = [valid_row("tax_payment", i) for i in (1, 2)]
    february = [valid_row("tax_payment", 3) | {"实缴金额（元）": "7"}]
    write_csv(inbox / "tax_payment_2024_01.csv", january, encoding="gb18030")
    (inbox / "tax_payment_2024_02.csv").write_bytes(b"\xef\xbb\xbf" + csv_bytes(february))  # UTF-8 with BOM
    report = {k: v for k, v in valid_row("annual_report", 1).items() if "元" not in k}
    write_xlsx(
        inbox / "annual_report.xlsx",
        [
            report
            | {"报送日期": dt.date(2025, 3, 15), "营业额或营业收入（万元）": 35.5, "从业人数": 3, "报告年度": 2024}
        ],
    )
    social = pl.DataFrame([valid_row("social_security", 1) | {"缴费金额（万元）": "0.0048"}]).drop("缴费金额（元）")
    social.write_parquet(inbox / "social_security.parquet")
    c = cycle(tmp_path, inbox)
    ingest(c)
    validate(c)

    assert pl.read_parquet(c.work_dir / "quarantine.parquet").height == 0
    assert pl.read_parquet(c.accepted("registration"))["name"].to_list() == [
        f"郑州市金水区小店{i}号" for i in (1, 2, 3)
    ]
    payments = pl.read_parquet(c.accepted("tax_payment"))
    assert payments.select("_file", "_line", "amount_yuan").rows() == [
        ("tax_payment_2024_01.csv", 2, Decimal("-150.25")),
        ("tax_payment_2024_01.csv", 3, Decimal("-150.25")),
        ("tax_payment_2024_02.csv", 2, Decimal("7.00")),
    ]
    report_row = pl.read_parquet(c.accepted("annual_report")).row(0, named=True)
    assert report_row["sales_yuan"] == Decimal("355000.00")  # 35.5 万元
    assert report_row["filed_on"] == dt.date(2025, 3, 15)
    assert report_row["staff_count"] == 3
    assert pl.read_parquet(c.accepted("social_security"))["amount_yuan"].to_list() == [Decimal("48.00")]
    inputs = {s["source"]: s for s in json.loads((c.work_dir / "inputs.json").read_text())["sources"]}
    assert [(f["file"], f["format"], f["encoding"]) for f in inputs["tax_payment"]["files"]] == [
        ("tax_payment_2024_01.csv", "csv", "gb18030"),
        ("tax_payment_2024_02.csv", "csv", "utf-8-sig"),
    ]
    assert inputs["annual_report"]["files"][0]["format"] == "xlsx"
    assert inputs["patent"]["status"] == "missing"
    assert pl.read_parquet(c.accepted("patent")).height == 0


def test_an_encoding_and_aliases_forced_in_inbox_toml(tmp_path):
    inbox = tmp_path / "inbox"
    rows = [registration_row(1) | {"经营场所": "金水路"}]
    text = csv_bytes(rows).decode().replace("经营者姓名", "业主姓名")
    (inbox).mkdir()
    (inbox / "registration.csv").write_bytes(text.encode("gbk"))
    (inbox / "inbox.toml").write_text('[registration]\nencoding = "GBK"\naliases = { operator_name = ["业主姓名"] }\n')
    c = cycle(tmp_path, inbox)
    ingest(c)
    validate(c)
    assert pl.read_parquet(c.accepted("registration"))["operator_name"].to_list() == ["张三"]


def test_transcoding_in_parallel_chunks_keeps_order_and_names_the_bad_line(tmp_path, monkeypatch):
    monkeypatch.setattr(transcode, "CHUNK_BYTES", 64)
    monkeypatch.setattr(transcode, "PARALLEL_FROM_BYTES", 0)
    lines = [f"第{i}行,金水区,{i}\n" for i in range(200)]
    source = tmp_path / "in.csv"
    source.write_bytes("".join(lines).encode("gb18030"))
    transcode.transcode(source, "gb18030", tmp_path / "out.csv", workers=2)
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "".join(lines)

    broken = "".join(lines[:150]).encode("gb18030") + b"\x81\x20,x\n" + "".join(lines[151:]).encode("gb18030")
    source.write_bytes(broken)
    with pytest.raises(transcode.Undecodable) as caught:
        transcode.transcode(source, "gb18030", tmp_path / "out.csv", workers=2)
    assert caught.value.line == 151


# --- the raw layer ------------------------------------------------------------------------------------------


def test_raw_rows_carry_lineage_and_extra_columns(tmp_path):
    inbox = tmp_path / "inbox"
    write_csv(inbox / "registration.csv", [registration_row(i) | {"备注": f"r{i}"} for i in (1, 2)])
    c = cycle(tmp_path, inbox)
    ingest(c)
    rows = raw(c, 'SELECT _source, _file, _sha256, _line, _load_id, "备注" FROM raw_registration ORDER BY _line')
    assert rows["_source"].to_list() == ["registration"] * 2
    assert rows["_file"].to_list() == ["registration.csv"] * 2
    assert rows["_line"].to_list() == [2, 3]
    assert rows["备注"].to_list() == ["r1", "r2"]
    assert rows["_sha256"].str.len_chars().to_list() == [64, 64]
    assert rows["_load_id"].n_unique() == 1


def test_loading_again_is_a_no_op_a_changed_file_replaces_its_predecessor_and_a_removed_file_goes(tmp_path):
    inbox = tmp_path / "inbox"
    registration(inbox, n=3)
    extra = write_csv(inbox / "penalty.csv", [valid_row("penalty", 1)])
    c = cycle(tmp_path, inbox)
    ingest(c)
    first = raw(c, "SELECT _load_id, count(*) AS n FROM raw_registration GROUP BY ALL")
    ingest(c)
    assert raw(c, "SELECT _load_id, count(*) AS n FROM raw_registration GROUP BY ALL").equals(first)

    registration(inbox, n=4)
    ingest(c)
    again = raw(c, "SELECT _load_id, count(*) AS n FROM raw_registration GROUP BY ALL")
    assert again["n"].to_list() == [4]
    assert again["_load_id"].to_list() != first["_load_id"].to_list()

    extra.unlink()
    ingest(c)
    assert raw(c, "SELECT count(*) AS n FROM raw_penalty")["n"].to_list() == [0]
    assert raw(c, "SELECT file FROM _files ORDER BY file")["file"].to_list() == ["registration.csv"]


def test_an_unusable_file_leaves_its_predecessor_in_the_raw_layer(tmp_path):
    inbox = tmp_path / "inbox"
    registration(inbox, n=3)
    c = cycle(tmp_path, inbox)
    ingest(c)
    path = registration(inbox, n=4)
    path.write_bytes(path.read_bytes() + ",".join(registration_row(9).values()).encode() + b",extra\n")
    with pytest.raises(InputError):
        ingest(c)
    assert raw(c, "SELECT count(*) AS n FROM raw_registration")["n"].to_list() == [3]


def test_two_inboxes_share_the_raw_layer_and_each_cycle_uses_its_own(tmp_path):
    registration(tmp_path / "2024", n=2)
    registration(tmp_path / "2025", n=3)
    c2024, c2025 = cycle(tmp_path, tmp_path / "2024"), cycle(tmp_path, tmp_path / "2025")
    assert ingest(c2024).rows == {"registration": 2}
    assert ingest(c2025).rows == {"registration": 3}
    validate(c2024)
    assert pl.read_parquet(c2024.accepted("registration")).height == 2


def test_no_clear_resident_id_reaches_the_raw_layer_the_accepted_tables_or_the_quarantine(tmp_path):
    inbox = tmp_path / "inbox"
    people = [resident_id(i) for i in range(1, 4)]
    bad = people[0][:-1] + ("0" if people[0][-1] != "0" else "1")
    write_csv(inbox / "registration.csv", [registration_row(1), registration_row(2, **{"经营者身份证件号码": bad})])
    write_csv(
        inbox / "social_security.csv",
        [valid_row("social_security", 1) | {"个人身份证件号码": p} for p in people],
    )
    write_csv(inbox / "tax_abnormal.csv", [valid_row("tax_abnormal", 1)])
    write_csv(inbox / "trademark.csv", [valid_row("trademark", 1)])
    c = cycle(tmp_path, inbox, quarantine_threshold=1.0)
    ingest(c)
    validate(c)
    clear = {*people, bad, resident_id(1), resident_id(501)}
    pattern = "|".join(clear)

    with duckdb.connect(str(c.raw_db), read_only=True) as con:
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
        assert len(tables) == 1 + len(SOURCES)  # _files and one view per source
        for (table,) in tables:
            frame = con.sql(f"SELECT * FROM {table}").pl()
            for name in frame.columns:
                assert not frame[name].cast(pl.String).str.contains(pattern).any(), (table, name)
    for stored in [c.raw_db, *c.raw_db.parent.rglob("*.parquet")]:
        assert not [p for p in clear if p.encode() in stored.read_bytes()], stored
    for path in [*c.accepted_dir.glob("*.parquet"), c.work_dir / "quarantine.parquet"]:
        frame = pl.read_parquet(path)
        for name in frame.columns:
            assert not frame[name].cast(pl.String).str.contains(pattern).any(), (path.name, name)
    assert pl.read_parquet(c.work_dir / "quarantine.parquet")["value"].to_list() == [bad[:6] + "*" * 10 + bad[-2:]]


def test_outputs_are_byte_identical_between_runs(tmp_path):
    inbox = tmp_path / "inbox"
    registration(inbox, n=4)
    write_csv(inbox / "social_security.csv", [valid_row("social_security", i) for i in range(1, 4)])
    c = cycle(tmp_path, inbox)
    ingest(c)
    validate(c)
    files = sorted(c.work_dir.rglob("*.*"))
    first = {p: p.read_bytes() for p in files}
    c.raw_db.unlink()
    ingest(c)
    validate(c)
    assert {p: p.read_bytes() for p in files} == first


# --- refusals -----------------------------------------------------------------------------------------------


def refusal(tmp_path, inbox) -> str:
    with pytest.raises(InputError) as caught:
        c = cycle(tmp_path, inbox)
        ingest(c)
        validate(c)
    return str(caught.value)


def test_no_registration_is_fatal(tmp_path):
    write_csv(tmp_path / "inbox" / "penalty.csv", [valid_row("penalty", 1)])
    assert "没有登记注册信息文件" in refusal(tmp_path, tmp_path / "inbox")


def test_an_empty_file_is_refused(tmp_path):
    registration(tmp_path / "inbox")
    (tmp_path / "inbox" / "penalty.csv").write_bytes(b"")
    assert refusal(tmp_path, tmp_path / "inbox").endswith("penalty.csv：文件是空的；应有表头行和记录")


def test_a_registration_without_records_is_refused(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "registration.csv").write_text(",".join(registration_row(1)) + "\n")
    assert "登记注册信息没有记录" in refusal(tmp_path, tmp_path / "inbox")


def test_undecodable_bytes_are_refused_with_their_line(tmp_path):
    inbox = tmp_path / "inbox"
    rows = [registration_row(i) for i in range(1, 4)]
    data = csv_bytes(rows)
    lines = data.split(b"\n")
    lines[3] = lines[3].replace("张三".encode(), b"\xff\xfe")
    (inbox).mkdir()
    (inbox / "registration.csv").write_bytes(b"\n".join(lines))
    message = refusal(tmp_path, inbox)
    assert "registration.csv 第 4 行：含有不是 UTF-8 文本的字节" in message


def test_undecodable_gb18030_bytes_are_refused_with_their_line(tmp_path):
    inbox = tmp_path / "inbox"
    data = csv_bytes([registration_row(i) for i in range(1, 4)], encoding="gb18030")
    lines = data.split(b"\n")
    lines[2] = lines[2] + b"\x81\x20"
    inbox.mkdir()
    (inbox / "registration.csv").write_bytes(b"\n".join(lines))
    assert "registration.csv 第 3 行：含有不是 GB18030 文本的字节" in refusal(tmp_path, inbox)


def test_a_required_column_missing_is_named(tmp_path):
    inbox = tmp_path / "inbox"
    rows = [{k: v for k, v in registration_row(1).items() if k != "登记状态"}]
    write_csv(inbox / "registration.csv", rows)
    assert "registration.csv 第 1 行：缺少必需的列 登记状态" in refusal(tmp_path, inbox)


def test_a_money_header_without_a_unit_is_refused(tmp_path):
    inbox = tmp_path / "inbox"
    registration(inbox)
    row = valid_row("tax_payment", 1)
    row["实缴金额"] = row.pop("实缴金额（元）")
    write_csv(inbox / "tax_payment.csv", [row])
    assert "tax_payment.csv 第 1 行：金额列“实缴金额”没有单位" in refusal(tmp_path, inbox)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("penalty.xlsx", "统一社会信用代码,决定书文号\n", "不是 Excel 工作簿（.xlsx）；看起来是文本文件"),
        ("penalty.csv", b"PK\x03\x04rest of a zip", "不是 CSV 文本文件；看起来是 Excel 工作簿"),
        ("penalty.parquet", "a,b\n1,2\n", "不是 Parquet 文件；看起来是文本文件"),
        ("penalty.csv", "统一社会信用代码\x00\x00".encode("utf-16-le"), "含有 NUL 字节"),
        ("penalty.xlsx", b"PK\x03\x04not really a workbook", "无法作为 Excel 工作簿读取"),
        ("penalty.parquet", b"PAR1garbagePAR1", "无法作为 Parquet 文件读取"),
    ],
)
def test_a_file_that_is_not_the_format_its_extension_says_is_refused(tmp_path, name, content, expected):
    inbox = tmp_path / "inbox"
    registration(inbox)
    (inbox / name).write_bytes(content.encode() if isinstance(content, str) else content)
    message = refusal(tmp_path, inbox)
    assert name in message and expected in message


def test_a_record_with_more_fields_than_the_header_is_refused_with_its_line(tmp_path):
    inbox = tmp_path / "inbox"
    path = registration(inbox)
    path.write_text(path.read_text() + ",".join(registration_row(9).values()) + ",extra\n")
    assert "registration.csv 第 7 行：字段数多于表头的 13 列" in refusal(tmp_path, inbox)


def test_a_quote_never_closed_is_refused_with_its_line_and_without_the_record(tmp_path):
    inbox = tmp_path / "inbox"
    path = registration(inbox, n=3)
    path.write_text(path.read_text() + f'"{resident_id(7)},never closed\n')
    message = refusal(tmp_path, inbox)
    assert "registration.csv 第 5 行：有一个加引号的字段，引号没有闭合" in message
    assert resident_id(7) not in message


def test_lines_ending_in_cr_alone_are_refused(tmp_path):
    inbox = tmp_path / "inbox"
    path = registration(inbox, n=3)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    assert "registration.csv 第 1 行：有只以 CR 结尾的行" in refusal(tmp_path, inbox)


def test_a_broken_inbox_toml_is_refused(tmp_path):
    inbox = tmp_path / "inbox"
    registration(inbox)
    (inbox / "inbox.toml").write_text('[registration]\nencoding = "latin-1"\n')
    assert "inbox.toml：[registration] encoding “latin-1”：应为 utf-8、gb18030 或 gbk" in refusal(tmp_path, inbox)
    (inbox / "inbox.toml").write_text('[registration.aliases]\nnope = ["x"]\n')
    assert "aliases：nope 不是该来源的列" in refusal(tmp_path, inbox)


def test_blank_records_are_not_rows(tmp_path):
    inbox = tmp_path / "inbox"
    path = registration(inbox, n=2)
    path.write_text(path.read_text() + ",,,,,,,,,,,,\n" + ",".join(registration_row(3).values()) + "\n")
    c = cycle(tmp_path, inbox)
    ingest(c)
    validate(c)
    assert pl.read_parquet(c.accepted("registration"))["_line"].to_list() == [2, 3, 5]


def test_a_source_over_the_quarantine_threshold_stops_the_run_naming_source_count_and_rules(tmp_path):
    from flows.errors import QuarantineThresholdError

    inbox = tmp_path / "inbox"
    rows = [registration_row(i) for i in range(1, 21)]
    rows[0]["成立日期"] = "2030-01-01"  # 1 of 20 = 5%: at the threshold, not over it
    write_csv(inbox / "registration.csv", rows)
    c = cycle(tmp_path, inbox, quarantine_minimum=2)  # a small source: the minimum count is tested on its own
    ingest(c)
    validate(c)
    rows[1]["登记状态"] = "歇业"
    rows[2]["登记状态"] = "营业"
    write_csv(inbox / "registration.csv", rows)
    ingest(c)
    with pytest.raises(QuarantineThresholdError) as caught:
        validate(c)
    assert str(caught.value).startswith(
        "已停止：登记注册信息（registration）20 行中隔离 3 行（15.0%），超过阈值 5.0% 且多于 2 行；"
        "最常见的规则：enum_unknown（2）、date_after_extraction（1）。未发布任何结果。"
    )
    assert not c.accepted_dir.exists()
    assert pl.read_parquet(c.work_dir / "quarantine.parquet").height == 3


def test_typed_parquet_cells_read_as_the_text_a_department_exports_batch_by_batch(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "BATCH_ROWS", 2)
    path = tmp_path / "penalty.parquet"
    pl.DataFrame(
        {
            "日期": [dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 1, 8, 30), None],
            "文本": ["2024-03-01 00:00:00", "第1号 00:00:00", " "],
            "金额": [3.0, 2.5, None],
            "标志": [True, False, None],
        }
    ).write_parquet(path)
    with readers.parquet_table(path) as table:
        batches = list(table.batches)
    assert table.headers == ["日期", "文本", "金额", "标志"]
    assert [b.height for b in batches] == [2, 1]
    assert pl.concat(batches).rows() == [
        (2, "2024-03-01", "2024-03-01", "3", "1"),
        (3, "2024-03-01 08:30:00", "第1号 00:00:00", "2.5", "0"),
        (4, None, " ", None, None),
    ]


def test_a_utf8_bom_before_gbk_text_is_skipped_and_the_text_read_as_gb18030(tmp_path):
    rows = [registration_row(i) for i in (1, 2)]
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(b"\xef\xbb\xbf" + csv_bytes(rows, encoding="gbk"))
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(b"\xef\xbb\xbf" + csv_bytes(rows))
    assert (readers.csv_encoding(gbk, None), readers.csv_encoding(utf8, None)) == ("gb18030", "utf-8-sig")
    with readers.csv_table(gbk, None, tmp_path) as table:
        assert table.headers == list(rows[0])
        assert [b["_c3"].to_list() for b in table.batches] == [["张三", "张三"]]


@pytest.mark.parametrize("delimiter, named", [("\t", "制表符"), (";", "分号")])
def test_a_file_delimited_by_tabs_or_semicolons_is_refused_naming_the_delimiter(tmp_path, delimiter, named):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    lines = [delimiter.join(registration_row(1)), delimiter.join(registration_row(1).values())]
    (inbox / "registration.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert f"registration.csv 第 1 行：用{named}分隔字段；应使用逗号" in refusal(tmp_path, inbox)


def test_merged_cells_of_the_first_sheet_are_found_and_the_workbook_refused(tmp_path):
    import openpyxl

    plain = write_xlsx(tmp_path / "plain.xlsx", [registration_row(1)])
    assert readers.merged_cells(plain) == []
    book = openpyxl.Workbook()
    book.active.append(list(registration_row(1)))
    for i in (1, 2):
        book.active.append(list(registration_row(i).values()))
    book.active.merge_cells("L2:L3")
    book.create_sheet("notes").merge_cells("A1:B1")  # a later sheet is not read
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    book.save(inbox / "registration.xlsx")
    assert readers.merged_cells(inbox / "registration.xlsx") == ["L2:L3"]
    assert "registration.xlsx：第一个工作表有合并单元格（L2:L3）" in refusal(tmp_path, inbox)
