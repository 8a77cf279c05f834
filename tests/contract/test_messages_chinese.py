"""Issue 14, item 3: a data office reads the readers' and the ruleset's refusals to fix a delivery, so each is Chinese
and names the file — ``registration.csv 第 4 行：…`` where a line applies — keeping codes, settings and field names
as they are. Every error path of ``flows.readers``, ``schemas.ruleset`` and the 名特优新 classification standard
(``schemas.classification``) that a file can reach is walked here."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from flows.errors import InputError
from flows.readers import InboxConfig, InboxFile, inbox_config, inbox_files, opened
from schemas.ruleset import RulesetError, parse_ruleset, parse_ruleset_text
from schemas.sources import SOURCES
from tests.support.inbox import csv_bytes, registration_row
from transforms.headers import HeaderError, mapped_headers

CHINESE = re.compile("[\u4e00-\u9fff]")
#: Two ASCII words in a row: English prose (codes, settings, features and file names are single words).
ENGLISH_SENTENCE = re.compile(r"(?<![\w./-])[A-Za-z]{2,} [A-Za-z]{2,}(?![\w./-])")
#: English glue between codes (``UTF-8 or GB18030``), which the sentence check cannot see.
ENGLISH_WORD = re.compile(r"(?<![\w./-])(?:or|and|is|not|the|of|to|expected)(?![\w./-])")
#: What the system itself says, quoted in full-width brackets after the Chinese (tomllib, fastexcel, Polars).
SYSTEM_WORDS = re.compile(r"（[^（）]*[A-Za-z][^（）]*）$")
RULESETS = Path(__file__).resolve().parents[2] / "data" / "rulesets"


def assert_chinese(message: str, place: str) -> None:
    """``message`` starts with ``place`` and a full-width colon, then says what is wrong in Chinese."""
    assert message.startswith(f"{place}："), message
    problem = SYSTEM_WORDS.sub("", message.removeprefix(f"{place}："))
    assert CHINESE.search(problem), message
    assert not ENGLISH_SENTENCE.search(problem) and not ENGLISH_WORD.search(problem), message


# --- the inbox and inbox.toml ----------------------------------------------------------------------------------

TOML_CASES = {
    "not TOML": "extracted_on = = 1\n",
    "a setting of nothing": "[nothing]\nencoding = 'utf-8'\n",
    "an unknown source setting": "[registration]\nencodng = 'utf-8'\n",
    "an encoding": "[registration]\nencoding = 'latin-1'\n",
    "a threshold above 1": "[registration]\nquarantine_threshold = 5\n",
    "a negative minimum": "[registration]\nquarantine_minimum = -1\n",
    "a quoted date": "extracted_on = '2025-08-01'\n",
    "files not a table": "files = 'registration.csv'\n",
    "files to no source": "[files]\n'专利.csv' = 'patents'\n",
    "aliases not a table": "[registration]\naliases = 'x'\n",
    "aliases of no column": "[registration.aliases]\nnope = ['x']\n",
    "aliases not a list": "[registration.aliases]\nname = 'x'\n",
    "values not a table": "[registration]\nvalues = 'x'\n",
    "values of no enumeration": "[registration.values]\nname = { a = 'b' }\n",
    "values not a table of spellings": "[registration.values]\nstatus = 'x'\n",
    "a value outside the list": "[registration.values]\nstatus = { 营业 = '开着' }\n",
}


@pytest.mark.parametrize("toml", list(TOML_CASES.values()), ids=list(TOML_CASES))
def test_every_refusal_of_inbox_toml_is_chinese_and_names_it(tmp_path, toml):
    (tmp_path / "inbox.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        inbox_config(tmp_path)
    assert caught.value.line is None
    assert_chinese(str(caught.value), str(tmp_path / "inbox.toml"))


def test_an_inbox_toml_that_is_a_folder_is_refused_in_chinese(tmp_path):
    (tmp_path / "inbox.toml").mkdir()
    with pytest.raises(InputError) as caught:
        inbox_config(tmp_path)
    assert_chinese(str(caught.value), str(tmp_path / "inbox.toml"))


def test_the_inbox_itself_and_its_files_are_refused_in_chinese(tmp_path):
    with pytest.raises(InputError) as caught:
        inbox_files(tmp_path / "missing")
    assert_chinese(str(caught.value), str(tmp_path / "missing"))

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "严重违法失信名单2025.csv").write_text("x\n")
    two = InboxConfig(files={"严重*.csv": "serious_list", "*2025.csv": "penalty"})
    with pytest.raises(InputError) as caught:
        inbox_files(inbox, two)
    assert_chinese(str(caught.value), str(inbox / "inbox.toml"))
    assert "严重违法失信名单2025.csv" in str(caught.value) and "penalty、serious_list" in str(caught.value)

    (inbox / "专利.txt").write_text("x\n")
    with pytest.raises(InputError) as caught:
        inbox_files(inbox, InboxConfig(files={"专利.txt": "patent"}))
    assert_chinese(str(caught.value), str(inbox / "inbox.toml"))

    outside = tmp_path / "elsewhere.csv"
    outside.write_text("x\n")
    (inbox / "penalty.csv").symlink_to(outside)
    with pytest.raises(InputError) as caught:
        inbox_files(inbox, InboxConfig())
    assert_chinese(str(caught.value), str(inbox / "penalty.csv"))


# --- the files -------------------------------------------------------------------------------------------------


def registration_csv(rows: int = 3) -> bytes:
    return csv_bytes([registration_row(i) for i in range(1, rows + 1)])


def with_line(data: bytes, number: int, change: Callable[[bytes], bytes]) -> bytes:
    lines = data.split(b"\n")
    lines[number - 1] = change(lines[number - 1])
    return b"\n".join(lines)


def workbook(path: Path, build: Callable) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(registration_row(1)))
    for i in (1, 2):
        sheet.append(list(registration_row(i).values()))
    build(sheet)
    book.save(path)


def write(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content)


#: name -> (file name, how it is written, the line the message names or None)
FILE_CASES: dict[str, tuple[str, Callable[[Path], None], int | None]] = {
    "an empty CSV": ("registration.csv", write(b""), None),
    "a blank CSV": ("registration.csv", write(b"\n\n  \n"), None),
    "text named .xlsx": ("registration.xlsx", write(registration_csv()), None),
    "text named .parquet": ("registration.parquet", write(registration_csv()), None),
    "a zip named .csv": ("registration.csv", write(b"PK\x03\x04rest of a zip"), None),
    "an old workbook named .csv": ("registration.csv", write(b"\xd0\xcf\x11\xe0rest"), None),
    "UTF-16 named .csv": ("registration.csv", write("统一社会信用代码,名称\n".encode("utf-16-le")), None),
    "a header in no encoding": ("registration.csv", write(b"\xff\xfe\xff,\xff\n1,2\n"), 1),
    "a UTF-8 file with a bad line": (
        "registration.csv",
        write(with_line(registration_csv(), 4, lambda line: line.replace("张三".encode(), b"\xff\xfe"))),
        4,
    ),
    "a GB18030 file with a bad line": (
        "registration.csv",
        write(with_line(csv_bytes([registration_row(i) for i in (1, 2, 3)], "gb18030"), 3, lambda x: x + b"\x81\x20")),
        3,
    ),
    "CR line ends": ("registration.csv", write(registration_csv().replace(b"\n", b"\r")), 1),
    "no header": ("registration.csv", write(b",,,\n" + registration_csv()), 1),
    "tabs": ("registration.csv", write(registration_csv().replace(b",", b"\t")), 1),
    "vertical bars": ("registration.csv", write(registration_csv().replace(b",", b"|")), 1),
    "more fields than the header": (
        "registration.csv",
        write(registration_csv() + b"a,b,c,d,e,f,g,h,i,j,k,l,m,n\n"),
        5,
    ),
    "a quote never closed": ("registration.csv", write(registration_csv() + b'"never closed,x\n'), 5),
    "a NUL byte after the first 64 KB": (
        "registration.csv",
        write(registration_csv(700) + ",".join(registration_row(701).values()).encode() + b"\x00\n"),
        702,
    ),
    "a broken workbook": ("registration.xlsx", write(b"PK\x03\x04not really a workbook"), None),
    "an empty sheet": ("registration.xlsx", lambda path: workbook(path, lambda sheet: sheet.delete_rows(1, 3)), 1),
    "a formula never calculated": (
        "registration.xlsx",
        lambda path: workbook(path, lambda s: s.append(["=1+1"])),
        None,
    ),
    "merged cells": ("registration.xlsx", lambda path: workbook(path, lambda sheet: sheet.merge_cells("L2:L3")), None),
    "a broken Parquet file": ("registration.parquet", write(b"PAR1garbagePAR1"), None),
    "nested columns": (
        "registration.parquet",
        lambda path: pl.DataFrame({"统一社会信用代码": [["a", "b"]], "名称": ["x"]}).write_parquet(path),
        None,
    ),
}


@pytest.mark.parametrize("case", list(FILE_CASES.values()), ids=list(FILE_CASES))
def test_every_refusal_of_a_file_is_chinese_and_names_the_file_and_line(tmp_path, case):
    name, make, line = case
    path = tmp_path / name
    make(path)
    file = InboxFile("registration", path, name, path.suffix.lstrip("."))
    with pytest.raises(InputError) as caught, opened(file, InboxConfig(), tmp_path) as table:
        for _ in table.batches:
            pass
    assert caught.value.line == line
    place = f"{path} 第 {line} 行" if line is not None else str(path)
    assert_chinese(str(caught.value), place)


HEADER_CASES = {
    "a unit not known": ["实缴金额（千元）"],
    "a money column without its unit": ["实缴金额"],
    "a money column with two units": ["实缴金额（元）（万元）"],
    "a column twice": ["纳税人识别号", "税号"],
    "one character away": ["实缴全额（元）"],
}


@pytest.mark.parametrize("extra", list(HEADER_CASES.values()), ids=list(HEADER_CASES))
def test_every_refusal_of_a_header_row_is_chinese(extra):
    """The header messages (ingest frames them as ``tax_payment.csv 第 1 行：``, tests/corpus)."""
    source = SOURCES["tax_payment"]
    headers = [c.header for c in source.required_columns if c.name != "amount_yuan"] + extra
    with pytest.raises(HeaderError) as caught:
        mapped_headers(source, headers, {})
    assert CHINESE.search(str(caught.value)) and not ENGLISH_SENTENCE.search(str(caught.value)), caught.value


def test_a_missing_required_column_and_a_missing_key_are_refused_in_chinese():
    registration = SOURCES["registration"]
    for headers in ([c.header for c in registration.columns if c.name != "status"], ["名称"]):
        with pytest.raises(HeaderError) as caught:
            mapped_headers(registration, headers, {})
        assert CHINESE.search(str(caught.value)) and not ENGLISH_SENTENCE.search(str(caught.value)), caught.value


# --- the ruleset -----------------------------------------------------------------------------------------------


def henan() -> dict:
    return tomllib.loads((RULESETS / "41.toml").read_text(encoding="utf-8"))


def first_condition(data: dict) -> dict:
    return data["conditions"][0]


RULESET_CASES: dict[str, tuple[Callable[[dict], object], str]] = {
    "a key misspelt": (lambda d: first_condition(d).update(at_leats=1), "at_leats"),
    "a field missing": (lambda d: d.pop("title"), "title"),
    "an id that is no code": (lambda d: d.update(id="Henan"), "id"),
    "a province that is no code": (lambda d: d.update(province="河南"), "province"),
    "text where a number belongs": (
        lambda d: d.setdefault("interpretations", []).append({"number": "1", "text": "x"}),
        "number",
    ),
    "a type of no rank": (lambda d: first_condition(d).update(type="生存型"), "type"),
    "no conditions": (lambda d: d.update(conditions=[]), "conditions"),
    "conditions not a list": (lambda d: d.update(conditions="x"), "conditions"),
    "a label not text": (lambda d: first_condition(d).update(label=1), "label"),
    "a float threshold": (lambda d: first_condition(d).update(at_most=10000.5), "at_most"),
    "an unknown feature": (lambda d: d["requirement"].update(feature="age"), "age"),
    "a gap between tiers": (lambda d: d["conditions"][4].update(above=20000), "tax_paid_prev_year"),
    "a code used twice": (lambda d: d["conditions"][1].update(code=first_condition(d)["code"]), "成长"),
}


@pytest.mark.parametrize("case", list(RULESET_CASES.values()), ids=list(RULESET_CASES))
def test_every_refusal_of_a_ruleset_is_chinese_and_names_the_file_and_the_field(case):
    change, named = case
    data = henan()
    change(data)
    with pytest.raises(RulesetError) as caught:
        parse_ruleset(data, "rulesets/41.toml")
    assert_chinese(str(caught.value), "rulesets/41.toml")
    assert named in str(caught.value)


def test_a_ruleset_that_is_not_toml_is_refused_in_chinese_with_its_line():
    with pytest.raises(RulesetError) as caught:
        parse_ruleset_text('id = "HA"\nversion = \n', "draft.toml")
    assert_chinese(str(caught.value), "draft.toml")
    assert "line 2" in str(caught.value)  # tomllib's own words, in brackets after the Chinese


@pytest.mark.parametrize(
    "toml",
    [
        "[application\n",
        "[nothing]\nencoding = 'utf-8'\n",
        "[{s}]\nencoding = 'latin-1'\n",
        "[{s}.aliases]\nnope = []\n",
    ],
)
def test_every_refusal_of_the_classification_folders_inbox_toml_is_chinese(tmp_path, toml):
    from flows.classification.inbox import folder_config
    from schemas.classification import CLASSIFICATION_SOURCES

    (tmp_path / "inbox.toml").write_text(toml.format(s=next(iter(CLASSIFICATION_SOURCES))), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        folder_config(tmp_path)
    assert_chinese(str(caught.value), str(tmp_path / "inbox.toml"))


# --- the 名特优新 classification standard ----------------------------------------------------------------------

STANDARDS = RULESETS.parent / "classification"


def henan_standard() -> dict:
    return tomllib.loads((STANDARDS / "41.toml").read_text(encoding="utf-8"))


def indicator(data: dict, category: str = "知名", number: int = 1) -> dict:
    return data["categories"][category]["indicators"][number - 1]


#: name -> (how the shipped 41.toml is broken, what the message must name)
STANDARD_CASES: dict[str, tuple[Callable[[dict], object], str]] = {
    "an unknown feature": (
        lambda d: indicator(d, number=2).update(feature="stars"),
        "知名类指标 知名二（第 2 个 [[categories.知名.indicators]]）：未知的特征 'stars'",
    ),
    "a key misspelt": (lambda d: indicator(d).update(at_leats=1), "的 at_leats："),
    "a label missing": (lambda d: indicator(d).pop("label"), "的 label：缺少此项"),
    "a label blank": (lambda d: indicator(d).update(label=" "), "的 label：不能为空"),
    "no points": (lambda d: indicator(d).update(points=0), "的 points：应不小于 1"),
    "points not a number": (lambda d: indicator(d).update(points="2"), "的 points：应为整数"),
    "two things read": (lambda d: indicator(d).update(industries=["62"]), "feature、industries、credential"),
    "nothing read": (lambda d: indicator(d).pop("credential"), "feature、industries、credential"),
    "a yes/no feature with a threshold": (
        lambda d: indicator(d, number=2).update(feature="has_website"),
        "has_website",
    ),
    "a number without its threshold": (lambda d: indicator(d, number=2).pop("at_least"), "at_least"),
    "a threshold that is no number": (
        lambda d: indicator(d, number=2).update(at_least="许多"),
        "at_least = '许多' 不是数",
    ),
    "a negative threshold": (lambda d: indicator(d, number=2).update(at_least=-1), "at_least = -1"),
    "a bad industry code": (
        lambda d: indicator(d).clear() or indicator(d).update(code="X", label="行业", points=1, industries=["H6"]),
        "'H6'",
    ),
    "an unknown credential": (
        lambda d: indicator(d).clear() or indicator(d).update(code="X", label="证书", points=1, credential="金牌"),
        "未知的证书/荣誉类型 '金牌'",
    ),
    "a level without a credential": (lambda d: indicator(d, number=2).update(min_level="省"), "min_level"),
    "a level of no rank": (
        lambda d: (
            indicator(d).clear()
            or indicator(d).update(code="X", label="证书", points=1, credential="老字号", min_level="乡")
        ),
        "min_level",
    ),
    "a code used twice": (lambda d: indicator(d, number=2).update(code="知名一"), "指标编号重复使用：知名一"),
    "a pass mark out of reach": (
        lambda d: d["categories"]["特色"].update(pass_mark=99),
        "类别 特色（[categories.特色]）：合格分 pass_mark = 99 无法达到",
    ),
    "an unknown category": (lambda d: d["categories"].update(驰名=d["categories"]["知名"]), "驰名"),
    "a category missing": (lambda d: d["categories"].pop("新兴"), "缺少：新兴"),
    "a share above 1": (lambda d: d.setdefault("quota", {}).update(share=1.5), "名额 [quota]：share = 1.5"),
    "a share that is no number": (lambda d: d.setdefault("quota", {}).update(share="五"), "share = '五' 不是数"),
    "an allocation of the wrong level": (
        lambda d: d.setdefault("quota", {}).update(level="county", allocations={"4101": 0.1}),
        "'4101'",
    ),
    "an allocation outside the province": (
        lambda d: d.setdefault("quota", {}).update(level="county", allocations={"420102": 0.1}),
        "420102",
    ),
    "a growth share of 0": (lambda d: d.update(growth_share=0), "growth_share = 0"),
    "a region that is no code": (lambda d: d.update(region="河南"), "region = '河南'"),
    "a version that is no version": (lambda d: d.update(version="2025"), "version：'2025' 格式不符"),
    "a field missing": (lambda d: d.pop("title"), "title：缺少此项"),
}


@pytest.mark.parametrize("case", list(STANDARD_CASES.values()), ids=list(STANDARD_CASES))
def test_every_refusal_of_a_classification_standard_is_chinese_and_names_the_file_and_the_indicator(case):
    from schemas.classification import StandardError, parse_standard

    change, named = case
    data = henan_standard()
    change(data)
    with pytest.raises(StandardError) as caught:
        parse_standard(data, "classification/41.toml")
    assert_chinese(str(caught.value), "classification/41.toml")
    assert named in str(caught.value)


def test_a_city_or_county_standard_that_oversteps_is_refused_in_chinese():
    from schemas.classification import StandardError, parse_standard

    base = {"id": "T", "version": "2025.1", "title": "t", "document": "d", "source": "s"}
    for data, named in [
        ({**base, "region": "4101"}, "growth_share"),  # changes nothing
        ({**base, "region": "4101", "growth_share": 0.1, "quota": {"share": 0.1}}, "quota.allocations"),
        ({**base, "region": "4101", "growth_share": 0.1}, "4102"),  # the file is another region's
    ]:
        with pytest.raises(StandardError) as caught:
            parse_standard(data, "4102.toml" if named == "4102" else "4101.toml")
        place = "4102.toml" if named == "4102" else "4101.toml"
        assert_chinese(str(caught.value), place)
        assert named in str(caught.value)


def test_a_standard_that_is_not_toml_or_missing_or_alone_is_refused_in_chinese(tmp_path):
    from flows.classification.standards import load_standards
    from schemas.classification import StandardError, Standards, parse_standard_text

    with pytest.raises(StandardError) as caught:
        parse_standard_text('id = "T"\nversion = \n', "41.toml")
    assert_chinese(str(caught.value), "41.toml")
    assert "line 2" in str(caught.value)  # tomllib's own words, in brackets after the Chinese

    with pytest.raises(StandardError) as caught:
        load_standards("41", tmp_path)
    assert_chinese(str(caught.value), str(tmp_path / "41.toml"))

    with pytest.raises(StandardError) as caught:
        Standards({})
    assert CHINESE.search(str(caught.value)) and not ENGLISH_SENTENCE.search(str(caught.value)), caught.value
