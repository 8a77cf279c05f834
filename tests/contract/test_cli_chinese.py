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
