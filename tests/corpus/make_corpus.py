"""Writes the bad-input corpus beside this script: ``python -m tests.corpus.make_corpus``.

Each case is a folder holding the files a department delivered (cases.toml says what must become of them); the
test adds a valid ``registration.csv`` to a case that has none. Rows are built from ``tests.support.inbox`` so every
code is valid and the only thing wrong with a case is what its name says. The output is committed: the bytes
are what the tests read, and this script says how they were made.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl

from tests.support.inbox import csv_bytes, registration_row, resident_id, valid_row

HERE = Path(__file__).parent


def _registration(n: int = 3, **overrides: str) -> list[dict[str, str]]:
    return [registration_row(i, **overrides) for i in range(1, n + 1)]


def _write(case: str, name: str, data: bytes) -> None:
    path = HERE / case / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _csv(rows: list[dict[str, str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    lines = [delimiter.join(rows[0]), *(delimiter.join(r.values()) for r in rows)]
    return ("\n".join(lines) + "\n").encode(encoding)


def text_cases() -> None:
    rows = _registration()
    truncated = csv_bytes(rows)
    _write("truncated_last_line", "registration.csv", truncated[: truncated.rindex(b",H6210,")])
    quoted_address = csv_bytes([*rows[:2], rows[2] | {"经营场所": "金水路1号,\n2楼"}])
    cut_in_quote = quoted_address[: quoted_address.rindex(b"\n2")]  # the closing quote never came
    _write("truncated_in_quoted_field", "registration.csv", cut_in_quote)
    _write("crlf", "registration.csv", csv_bytes(rows).replace(b"\n", b"\r\n"))

    utf8 = csv_bytes(rows).split(b"\n")
    gb = csv_bytes(rows, encoding="gb18030").split(b"\n")
    _write("mixed_utf8_gb18030", "registration.csv", b"\n".join([*utf8[:3], gb[3], b""]))
    _write("mixed_gb18030_utf8", "taxpayer.csv", _mixed_taxpayer())
    _write("gbk_with_utf8_bom", "registration.csv", b"\xef\xbb\xbf" + csv_bytes(rows, encoding="gbk"))
    _write("tab_delimited", "registration.csv", _csv(rows, "\t"))
    _write("semicolon_delimited", "registration.csv", _csv(rows, ";"))

    quoted = _registration(3)
    quoted[0]["经营场所"] = "金水路1号,\n2楼"
    quoted[1]["名称"] = '郑州市"老王"烩面馆, 金水店'
    quoted[2]["成立日期"] = "2015-02-30"
    _write("quoted_newline_and_comma", "registration.csv", csv_bytes(quoted))

    serial = _registration(2)
    serial[1]["成立日期"] = "42064"  # 2015-03-01 as Excel counts days
    _write("excel_date_serial_in_csv", "registration.csv", csv_bytes(serial))

    dates = _registration(2)
    dates[0]["成立日期"] = "2024年5月1日"
    dates[1]["成立日期"] = "2024.5.1"
    _write("chinese_and_dotted_dates", "registration.csv", csv_bytes(dates))

    wide = _registration(2)
    wide[0]["成立日期"] = "２０１５－０３－０１"
    wide[0]["资金数额（万元）"] = "１２．５"
    wide[0]["统一社会信用代码"] = "\u3000" + wide[0]["统一社会信用代码"].lower() + "\u3000"
    wide[1]["名称"] = "\u3000郑州市\u3000金水区小店\u3000"
    wide[1]["行政区划代码"] = "４１０１０５"
    _write("full_width_digits_and_spaces", "registration.csv", csv_bytes(wide))

    amounts = [valid_row("tax_payment", i) for i in range(1, 5)]
    for row, amount in zip(amounts, ["1,234.50", "1.2E+05", "-1,000", "1.234.5"], strict=True):
        row["实缴金额（元）"] = amount
    _write("amounts_separators_and_exponent", "tax_payment.csv", csv_bytes(amounts))

    _write("empty_file", "registration.csv", b"")
    _write("header_only_registration", "registration.csv", csv_bytes(rows)[: csv_bytes(rows).index(b"\n") + 1])
    patent = csv_bytes([valid_row("patent", 1)])
    _write("header_only_optional_source", "patent.csv", patent[: patent.index(b"\n") + 1])

    duplicated = [",".join([*rows[0], "统一社会信用代码"])] + [
        ",".join([*r.values(), r["统一社会信用代码"]]) for r in rows
    ]
    _write("duplicate_headers", "registration.csv", ("\n".join(duplicated) + "\n").encode())
    renamed = [{("经营者姓命" if k == "经营者姓名" else k): v for k, v in r.items()} for r in rows]
    _write("required_column_renamed_by_one_character", "registration.csv", csv_bytes(renamed))
    renamed_optional = [{("经营场地" if k == "经营场所" else k): v for k, v in r.items()} for r in rows]
    _write("optional_column_renamed_by_one_character", "registration.csv", csv_bytes(renamed_optional))
    _write(
        "taxpayer_file_holding_tax_payments", "taxpayer.csv", csv_bytes([valid_row("tax_payment", i) for i in (1, 2)])
    )
    _write(
        "registration_file_holding_annual_reports",
        "registration.csv",
        csv_bytes([valid_row("annual_report", i) for i in (1, 2)]),
    )


def _mixed_taxpayer() -> bytes:
    """A GB18030 taxpayer file whose last line was appended in UTF-8."""
    rows = [valid_row("taxpayer", i) | {"纳税人名称": f"金水区小店{i}号"} for i in (1, 2, 3)]
    gb = csv_bytes(rows, encoding="gb18030").split(b"\n")
    utf8 = csv_bytes(rows).split(b"\n")
    return b"\n".join([*gb[:3], utf8[3], b""])


def xlsx_cases() -> None:
    """Workbooks as departments lay them out by hand."""
    rows = _registration(3)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2024年度个体工商户登记注册信息"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    region = list(rows[0]).index("行政区划代码") + 1
    sheet.merge_cells(start_row=3, start_column=region, end_row=5, end_column=region)  # one county for all three
    _save(book, "xlsx_title_row_and_merged_cells")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(rows[0]))
    established = list(rows[0]).index("成立日期")
    for i, row in enumerate(rows):
        values: list[object] = list(row.values())
        values[established] = 42064 + i  # a date column left as General: the cell holds the serial number
        sheet.append(values)
    _save(book, "xlsx_date_serial")


def hardening_cases() -> None:
    """Issue 13: what a hostile tester sent."""
    dates = _registration(4)
    for row, date in zip(dates, ["0001-01-01", "00000101", "1900-01-01", "1949-10-01"], strict=True):
        row["成立日期"] = date
    _write("placeholder_dates", "registration.csv", csv_bytes(dates))

    commas = _registration(4)
    for row, amount in zip(commas, ["45,5", "1,234.5", "12,34", "1,234,567"], strict=True):
        row["资金数额（万元）"] = amount
    _write("decimal_comma_amounts", "registration.csv", csv_bytes(commas))

    same = _registration(3)
    same[0]["注册号"] = "410105000000001"
    same[1] = same[0] | {"统一社会信用代码": ""}  # the same business, its USCC not delivered in this row
    _write("one_business_with_and_without_uscc", "registration.csv", csv_bytes(same))

    reports = [valid_row("annual_report", i) for i in (1, 2)]
    odd = {
        "营业额或营业收入（元）": "营业额或营业收入[元]",
        "纳税总额（元）": "纳税\u200b\u200b总额（元）（元）",
        "从业人数": "\ufeff从业\u200d人数",
    }
    _write(
        "invisible_header_differences",
        "annual_report.csv",
        csv_bytes([{odd.get(k, k): v for k, v in r.items()} for r in reports]),
    )

    bad_field = [valid_row("annual_report", i) for i in (1, 2)]
    bad_field[0]["从业人数"] = "-1"
    _write("bad_optional_field_keeps_the_record", "annual_report.csv", csv_bytes(bad_field))


def hardening_xlsx_cases() -> None:
    rows = _registration(3)
    book = openpyxl.Workbook()
    stale = book.active
    stale.title = "旧数据"
    stale.append(list(rows[0]))
    stale.append(list(registration_row(9).values()))
    stale.sheet_state = "hidden"
    data = book.create_sheet("登记注册信息")
    data.append(list(rows[0]))
    for row in rows:
        data.append(list(row.values()))
    _save(book, "xlsx_hidden_first_sheet")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    sheet["I3"] = '=TEXT(DATE(2015,3,1),"yyyy-mm-dd")'  # 成立日期 as a formula openpyxl never calculates
    _save(book, "xlsx_formula_without_cached_value")


def _save(book: openpyxl.Workbook, case: str) -> None:
    folder = HERE / case
    folder.mkdir(parents=True, exist_ok=True)
    book.save(folder / "registration.xlsx")


def _toml(case: str, text: str) -> None:
    _write(case, "inbox.toml", text.encode("utf-8"))


def v2_cases() -> None:
    """Deliveries as departments really send them (issue 12, extracts.md v2)."""
    rows = _registration()
    labels = [registration_row(1, 登记状态="存续（在营、开业、在册）"), registration_row(2, 登记状态="在业")]
    labels.append(registration_row(3, 登记状态="吊销，未注销"))
    _write("national_status_labels", "registration.csv", csv_bytes(labels))
    _write(
        "status_value_alias_in_inbox_toml",
        "registration.csv",
        csv_bytes([*rows[:2], registration_row(3, 登记状态="营业")]),
    )
    _toml("status_value_alias_in_inbox_toml", '[registration]\nvalues = { status = { "营业" = "存续" } }\n')
    _write("status_moved_out", "registration.csv", csv_bytes([*rows[:2], registration_row(3, 登记状态="迁出")]))

    after = [valid_row("abnormal_list", 1) | {"列入日期": "2025-03-01", "移出日期": "2025-08-03"}]
    after.append(valid_row("abnormal_list", 2) | {"列入日期": "2025-08-02"})  # listed after D, before extraction
    after.append(valid_row("abnormal_list", 3) | {"列入日期": "2025-03-01", "移出日期": "2025-08-06"})
    _write("dates_after_as_of_before_extraction", "abnormal_list.csv", csv_bytes(after[:2]))
    _toml("dates_after_as_of_before_extraction", "extracted_on = 2025-08-05\n")
    _write("date_after_extraction", "abnormal_list.csv", csv_bytes(after))
    _toml("date_after_extraction", "extracted_on = 2025-08-05\n")

    kinds = [valid_row("tax_payment", i) for i in range(1, 5)]
    for row, kind in zip(kinds, ("教育费附加", "城建税", "文化事业建设费", "个税"), strict=True):
        row["税种"] = kind
    _write("tax_kinds_surcharges_and_unknown", "tax_payment.csv", csv_bytes(kinds))

    legacy = valid_row("annual_report", 1) | {"统一社会信用代码": "", "注册号": "410105600000001"}
    neither = valid_row("annual_report", 2) | {"统一社会信用代码": "", "注册号": ""}
    _write("annual_report_by_reg_no", "annual_report.csv", csv_bytes([legacy, neither]))

    _write("chinese_file_name_mapped", "专利.csv", csv_bytes([valid_row("patent", 1)]))
    _toml("chinese_file_name_mapped", '[files]\n"专利.csv" = "patent"\n')
    _write("chinese_file_name_unmapped", "专利.csv", csv_bytes([valid_row("patent", 1)]))

    _toml("inbox_toml_aliases_not_a_table", '[registration]\naliases = "x"\n')
    _write("inbox_toml_is_a_folder", "inbox.toml/README.txt", b"a folder named inbox.toml\n")
    _toml("inbox_toml_extracted_on_quoted", 'extracted_on = "2025-08-05"\n')
    _toml("inbox_toml_files_to_unknown_source", '[files]\n"专利.csv" = "patents"\n')


def polish_cases() -> None:
    """Issue 13, item 17: IDs born after the extract, 注册号 in digits other than ASCII."""
    born = _registration(4)
    born[0]["经营者身份证件号码"] = resident_id(1, dt.date(2025, 8, 6))  # the day after extracted_on
    born[1]["经营者身份证件号码"] = resident_id(2, dt.date(2025, 8, 5))  # born on the day: possible
    impossible = "41010519900230003"  # 30 February
    born[2]["经营者身份证件号码"] = impossible + "0"
    _write("resident_id_born_after_extraction", "registration.csv", csv_bytes(born))
    _toml("resident_id_born_after_extraction", "extracted_on = 2025-08-05\n")

    digits = _registration(4)
    for row, zero in zip(digits, (0xFF10, 0x0660, 0x0966, ord("0")), strict=True):
        row["注册号"] = "".join(chr(zero + int(d)) for d in f"4101050000000{row['名称'][-2]}1")
    _write("reg_no_non_ascii_digits", "registration.csv", csv_bytes(digits))


def main() -> None:
    for folder in HERE.iterdir():
        if folder.is_dir() and folder.name != "__pycache__":
            shutil.rmtree(folder)
    text_cases()
    xlsx_cases()
    hardening_cases()
    hardening_xlsx_cases()
    v2_cases()
    polish_cases()


if __name__ == "__main__":
    main()
