"""Pydantic's findings about a data file, in Chinese, for the person who wrote the file.

The rulesets (``schemas.ruleset``), the 名特优新 classification standards (``schemas.classification``) and the
measures and inspection files (``schemas.measures``) are pydantic models checked on load. ``refusal`` turns one
``ValidationError`` into one message: the file, then each problem as ``<where>：<what>`` joined by ``；`` —
``rulesets/41.toml：条件 成长C（第 3 个 [[conditions]]）的 label：缺少此项``. Where a problem is comes from the
caller (it knows its file's tables); what it is comes from here: our own checks' text as raised, pydantic's own
checks by their type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

#: Pydantic's own checks, in Chinese (the ``ctx`` of the error fills the braces).
PYDANTIC_MESSAGES = {
    "missing": "缺少此项",
    "extra_forbidden": "不是可用的键（拼写有误，或不属于这里）",
    "string_type": "应为文本（加引号）",
    "string_pattern_mismatch": "格式不符（应符合 {pattern}）",
    "int_type": "应为整数",
    "bool_type": "应为 true 或 false",
    "literal_error": "应为 {expected}",
    "list_type": "应为列表",
    "model_type": "应为表",
    "dict_type": "应为表",
    "too_short": "至少应有 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "greater_than_equal": "应不小于 {ge}",
    "less_than_equal": "应不大于 {le}",
}


def problem_message(problem: Mapping[str, Any], pattern_meanings: Mapping[str, str] | None = None) -> str:
    """One problem pydantic found, in Chinese: our own checks' text, or pydantic's check by its type.

    ``pattern_meanings`` says, per field name, what a field with a pattern holds (``"应为两位数字…"``), so a value
    that does not match is explained rather than shown the regular expression."""
    if problem["type"] in ("value_error", "assertion_error"):
        return str(problem["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    loc = problem.get("loc") or ("",)
    if problem["type"] == "string_pattern_mismatch" and pattern_meanings and loc[-1] in pattern_meanings:
        return f"{problem['input']!r} 格式不符，{pattern_meanings[loc[-1]]}"
    template = PYDANTIC_MESSAGES.get(problem["type"])
    if template is None:
        return f"不符合要求（{problem['msg']}）"
    context = {
        k: str(v).replace("' or '", "' 或 '").replace("', '", "'、'") for k, v in (problem.get("ctx") or {}).items()
    }
    try:
        return template.format_map(context)
    except KeyError:
        return f"不符合要求（{problem['msg']}）"


def refusal(
    error: ValidationError,
    origin: str,
    where: Callable[[tuple[Any, ...]], str],
    pattern_meanings: Mapping[str, str] | None = None,
) -> str:
    """The message refusing file ``origin``: ``<origin>：<where>：<what>；<where>：<what>…``.

    ``where`` names the place of a problem from its pydantic location (empty for the file as a whole)."""
    problems = []
    for problem in error.errors(include_url=False):
        message = problem_message(problem, pattern_meanings)
        place = where(problem["loc"])
        problems.append(f"{place}：{message}" if place else message)
    return f"{origin}：" + "；".join(problems)
