"""Issue 14, finding 3: ``getihu`` speaks Chinese where staff read — every command's help, -h, --version, usage
errors and the messages flows/cli.py prints — without showing Python internals."""

import re

import pytest
import typer
from typer.testing import CliRunner

from flows.cli import app

COMMANDS = [
    "generate",
    "query",
    "run",
    "serve",
    "cycles",
    "compare",
    "classify",
    "classify review",
    "classify generate",
    "national",
    "national assemble",
    "national run",
    "national serve",
    "monitor",
    "web",
    "web user",
    "web user add",
    "web user list",
    "web user disable",
    "web user enable",
    "web user password",
]
INTERNALS = re.compile(r"<(bool|int|float|text|path|list\[str\])>|\{text\}|\bTEXT\b|\bINTEGER\b|\bFLOAT\b|\bPATH\b")
ENGLISH_WORDS = re.compile(r"\b(Usage|Options|Arguments|Commands|Show this message|default:|required)\b")


def invoke(*args, **kw):
    return CliRunner().invoke(app, list(args), terminal_width=200, **kw)


@pytest.mark.parametrize("command", [[], *(c.split() for c in COMMANDS)])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_help_is_chinese_and_shows_no_internals(command, flag):
    result = invoke(*command, flag)
    assert result.exit_code == 0, result.output
    assert "用法：" in result.output and "选项" in result.output and "显示本帮助后退出" in result.output
    assert not INTERNALS.search(result.output), INTERNALS.search(result.output)
    assert not ENGLISH_WORDS.search(result.output), ENGLISH_WORDS.search(result.output)


def test_every_option_and_command_has_a_chinese_description():
    group = typer.main.get_command(app)
    chinese = re.compile(r"[\u4e00-\u9fff]")
    for name, command in group.commands.items():
        assert chinese.search(command.help or ""), name
        for param in command.params:
            assert chinese.search(getattr(param, "help", None) or ""), f"{name} {param.name}"


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and re.fullmatch(r"getihu \d+\.\d+\.\d+\n", result.output)


def test_a_province_name_is_refused_naming_its_code():
    result = invoke("run", "--province", "河南")
    assert result.exit_code == 2
    assert "--province 河南" in result.output and "41" in result.output and "两位数字" in result.output


def test_usage_errors_are_chinese():
    assert "缺少选项" in invoke("run").output
    assert "应为整数" in invoke("run", "--province", "41", "--year", "x").output


def test_query_says_in_chinese_that_nothing_matched(tmp_path, monkeypatch):
    from flows.stages.publish import publish
    from tests.support.stage_fixture import write_cycle

    publish(write_cycle(tmp_path))
    result = invoke("query", "不存在的店", "--home", str(tmp_path))
    assert result.exit_code == 1 and "没有统一社会信用代码或注册号为“不存在的店”" in result.output


def every_command(group=None, path=()):
    """The path of every command and group under ``getihu``, walked from the CLI itself (a new command is included
    without being listed)."""
    group = group or typer.main.get_command(app)
    for name, command in sorted(group.commands.items()):
        yield (*path, name)
        if hasattr(command, "commands"):  # a group (typer's TyperGroup)
            yield from every_command(command, (*path, name))


#: Python and click internals a help must not show: ``{file}``, ``<str>``, ``<list[str]>``, ``TEXT``, ``PATH`` …
ANY_INTERNAL = re.compile(
    r"<[a-z_%-]+(\[[a-z_, ]+\])?>|\{[a-z_]+\}|\b(TEXT|INTEGER|FLOAT|PATH|BOOLEAN|FILENAME|OPTIONS|COMMAND|ARGS)\b"
)
#: An English sentence: three words of ASCII letters in a row (identifiers such as --province, GETIHU_SECRET,
#: getihu run, file names and codes have at most two, or hold digits, dashes, dots or underscores).
ENGLISH_SENTENCE = re.compile(r"(?<![\w./-])(?!getihu\b)[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}(?![\w./-])")


def without_command_names(text: str) -> str:
    """``text`` with every command's own name (``getihu web user password``: words, not a sentence) taken out."""
    for name in sorted((" ".join(c) for c in every_command()), key=len, reverse=True):
        text = text.replace(f"getihu {name}", "getihu")
    return text


def test_the_walk_reaches_every_sub_command():
    found = {" ".join(c) for c in every_command()}
    assert {"check", "objection decide", "national assemble", "classify review"} <= found


def test_english_sentence_check_can_fail():
    assert ENGLISH_SENTENCE.search("选项：the file is missing")
    assert ENGLISH_SENTENCE.search("Show this message and exit.")
    assert not ENGLISH_SENTENCE.search("getihu run --province 41 GETIHU_SECRET make serve docs/serve.md")
    assert not ENGLISH_SENTENCE.search(without_command_names("用法：getihu web user password [选项]"))
    assert ENGLISH_SENTENCE.search(without_command_names("用法：getihu web user password sets the new password"))
    assert ANY_INTERNAL.search("[选项] {file}") and ANY_INTERNAL.search("--text <str>")
    assert ANY_INTERNAL.search("用法：getihu objection accept [OPTIONS]")


@pytest.mark.parametrize("command", [" ".join(c) for c in every_command()])
def test_every_command_found_in_the_cli_has_chinese_help_without_english_sentences_or_internals(command):
    result = invoke(*command.split(), "--help")
    assert result.exit_code == 0, result.output
    assert "用法：" in result.output and "显示本帮助后退出" in result.output
    assert not ANY_INTERNAL.search(result.output), ANY_INTERNAL.search(result.output)
    prose = without_command_names(result.output)
    assert not ENGLISH_SENTENCE.search(prose), ENGLISH_SENTENCE.search(prose)
