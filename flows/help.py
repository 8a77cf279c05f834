"""typer's own words in ``getihu --help`` and in its usage errors, in Chinese: staff read them (issue 14).

typer (0.29) renders help with the module constants of ``typer.rich_utils`` and a vendored copy of click whose
few words (``Usage:``, the help option's line, the usage-error texts) are plain strings. ``chinese_help`` replaces
them once, before the first command is parsed; a typer without one of them is left as it is.
"""

from __future__ import annotations

#: typer.rich_utils constant → its Chinese text.
RICH_TEXTS = {
    "DEFAULT_STRING": "[默认：{}]",
    "ENVVAR_STRING": "[环境变量：{}]",
    "REQUIRED_LONG_STRING": "[必填]",
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "ERRORS_PANEL_TITLE": "错误",
    "ABORTED_TEXT": "已中止。",
    "RICH_HELP": "用 [blue]'{command_path} {help_option}'[/] 查看帮助。",
    "DEPRECATED_STRING": "（已弃用）",
}

#: Usage errors of the vendored click (exact English text → Chinese), matched at the start of the message.
USAGE_ERRORS = {
    "Missing option": "缺少选项",
    "Missing argument": "缺少参数",
    "Missing parameter": "缺少参数",
    "No such option": "没有这个选项",
    "No such command": "没有这个命令",
    "Invalid value for": "取值无效：",
    "Got unexpected extra argument": "多余的参数",
}

#: Phrases inside usage errors (the vendored click's and pydantic's) → Chinese.
PHRASES = {
    "Possible options:": "可用的选项：",
    "Did you mean": "是否想用",
    "Input should be a valid integer, unable to parse string as an integer": "应为整数",
    "Input should be a valid number, unable to parse string as a number": "应为数字",
    "Value error, ": "",
    "does not match the formats": "不符合日期格式",
    "does not match the format": "不符合日期格式",
}

HELP_LINE = "显示本帮助后退出"

#: typer's and click's default usage pieces → the ones ``getihu`` itself sets (flows/cli.py).
USAGE_PIECES = {"[OPTIONS]": "[选项]", "COMMAND [ARGS]...": "命令 [参数]..."}


def chinese_help() -> None:
    """Put the Chinese texts in place (idempotent)."""
    import typer.rich_utils as rich_utils

    for name, text in RICH_TEXTS.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, text)
    try:
        from typer._click import core, formatting
    except ImportError:  # a typer without its vendored click: its own words stay
        return
    if getattr(formatting.HelpFormatter.write_usage, "chinese", False):
        return
    write_usage = formatting.HelpFormatter.write_usage

    def chinese_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        for english, chinese in USAGE_PIECES.items():  # a sub-app made without options_metavar says [OPTIONS]
            args = args.replace(english, chinese)
        write_usage(self, prog, args, "用法：" if prefix is None else prefix)

    chinese_usage.chinese = True
    formatting.HelpFormatter.write_usage = chinese_usage

    get_help_option = core.Command.get_help_option

    def chinese_help_option(self, ctx):
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = HELP_LINE
        return option

    core.Command.get_help_option = chinese_help_option
    _no_type_for_flags()
    _translate_usage_errors()


#: The kind of a value typer would show as a Python type (``<str>``, ``<path>``) → what staff read.
VALUE_KINDS = {
    "<str>": "文本",
    "<text>": "文本",
    "<path>": "路径",
    "<file>": "文件",
    "<directory>": "目录",
    "<int>": "整数",
    "<integer>": "整数",
    "<float>": "数字",
    "<%Y-%m-%d>": "YYYY-MM-DD",
    "<list[str]>": "文本…",
}


def _no_type_for_flags() -> None:
    # A flag takes no value: typer would show its Python type (``<bool>``) where a value's kind goes. A value's kind
    # without a metavar is its Python type (``<str>``, ``<path>``): shown in Chinese. An argument shows its metavar
    # in the name column already, and typer's usage line wraps a required one in braces (``{number}``): plain here.
    from typer.core import TyperArgument, TyperOption

    display_type_rich = TyperOption.display_type_rich

    def without_bool(self, ctx):
        if getattr(self, "is_flag", False) and self.metavar is None:
            return None
        shown = display_type_rich(self, ctx)
        return VALUE_KINDS.get(shown, shown) if self.metavar is None else shown

    TyperOption.display_type_rich = without_bool
    argument_type = TyperArgument.display_type_rich

    def argument_kind(self, ctx):
        if self.metavar is not None:
            return None
        shown = argument_type(self, ctx)
        return VALUE_KINDS.get(shown, shown)

    TyperArgument.display_type_rich = argument_kind
    if hasattr(TyperArgument, "_usage_display_name"):

        def usage_name(self) -> str:
            name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
            return name + ("..." if self.nargs != 1 else "")

        TyperArgument._usage_display_name = usage_name


def _translate_usage_errors() -> None:
    from typer._click import exceptions

    def translated(format_message):
        def chinese_message(self) -> str:
            text = format_message(self)
            for english, chinese in USAGE_ERRORS.items():
                if text.startswith(english):
                    text = chinese + text[len(english) :].rstrip(".")
                    break
            for english, chinese in PHRASES.items():
                text = text.replace(english, chinese)
            return text

        return chinese_message

    for cls in vars(exceptions).values():
        if isinstance(cls, type) and issubclass(cls, exceptions.UsageError) and "format_message" in vars(cls):
            cls.format_message = translated(cls.format_message)
