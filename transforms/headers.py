"""A delivered header row → canonical column names, with the unit of every money column.

Headers are matched after folding full-width forms and dropping spaces, so ``实缴金额 (元)`` and
``实缴金额（元）`` are the same header. Aliases come from ``Column.aliases`` and from configuration.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from schemas.sources import MONEY_UNITS, Column, Kind, Source

#: Sources where one of several columns must be present: 统一社会信用代码 unless 注册号 (registration, and the
#: sources keyed by 统一社会信用代码 that may carry 注册号 for a legacy business, extracts.md v2).
ONE_OF_REQUIRED: dict[str, tuple[str, ...]] = {
    name: ("uscc", "reg_no")
    for name in ("registration", "annual_report", "abnormal_list", "serious_list", "suspension", "penalty")
}

_UNIT = re.compile(r"^(?P<name>.+)\((?P<unit>[^()]+)\)$")


class HeaderError(ValueError):
    """The header row cannot be mapped: the message names the column and what was expected."""


@dataclass(frozen=True)
class HeaderMap:
    canonical: dict[str, str]  # delivered header -> canonical column name
    factors: dict[str, int]  # money column -> factor to yuan of the unit in its header
    extras: tuple[str, ...]  # delivered headers of no contract column, kept in the raw layer

    @property
    def delivered(self) -> dict[str, str]:
        """Canonical column name -> the header as delivered."""
        return {name: header for header, name in self.canonical.items()}


_BRACKETS = str.maketrans({"[": "(", "]": ")", "【": "(", "】": ")", "〔": "(", "〕": ")", "{": "(", "}": ")"})
_REPEATED_UNIT = re.compile(r"(\([^()]+\))\1+$")  # 营业额(元)(元): the unit written twice


def folded(header: str) -> str:
    """A header as compared: full-width forms folded (NFKC); BOM, zero-width and other invisible format characters
    (Unicode category Cf) and all white space removed; square and lenticular brackets read as parentheses; a unit
    written twice in a row once (``营业额[元]``, ``营业额（元）（元）`` and ``营业额(元)`` are one header)."""
    text = unicodedata.normalize("NFKC", header)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = re.sub(r"\s+", "", text).translate(_BRACKETS)
    return _REPEATED_UNIT.sub(r"\1", text)


def _names(column: Column, extra_aliases: Sequence[str]) -> set[str]:
    return {folded(h) for h in (column.header, *column.aliases, *extra_aliases)}


def mapped_headers(source: Source, headers: Sequence[str], aliases: Mapping[str, Sequence[str]]) -> HeaderMap:
    """Map ``headers`` of a file of ``source``; ``aliases``: canonical name -> extra headers from configuration.

    Raises :class:`HeaderError` for a required column missing, a column delivered twice, or a money
    header without a known unit.
    """
    names = {c.name: _names(c, aliases.get(c.name, ())) for c in source.columns}
    canonical: dict[str, str] = {}
    factors: dict[str, int] = {}
    extras: list[str] = []
    for header in headers:
        key = folded(header)
        unit_match = _UNIT.match(key)
        match = next((c for c in source.columns if c.kind is not Kind.MONEY and key in names[c.name]), None)
        if match is None and unit_match:
            match = next(
                (c for c in source.columns if c.kind is Kind.MONEY and unit_match["name"] in names[c.name]), None
            )
            if match is not None:
                if unit_match["unit"] not in MONEY_UNITS:
                    raise HeaderError(f"列“{header}”的单位是“{unit_match['unit']}”；应为（元）或（万元）")
                factors[match.name] = MONEY_UNITS[unit_match["unit"]]
        if match is None:
            unitless = next((c for c in source.columns if c.kind is Kind.MONEY and key in names[c.name]), None)
            base = re.sub(r"(\([^()]*\))+$", "", key)
            several = next((c for c in source.columns if c.kind is Kind.MONEY and base in names[c.name]), None)
            if unitless is None and several is not None:
                expected = "或".join(f"“{several.header}（{unit}）”" for unit in MONEY_UNITS)
                raise HeaderError(f"金额列“{header}”的单位不止一个；应为{expected}")
            if unitless is not None:
                expected = "或".join(f"“{unitless.header}（{unit}）”" for unit in MONEY_UNITS)
                raise HeaderError(f"金额列“{header}”没有单位；应为{expected}")
            extras.append(header)
            continue
        if match.name in canonical.values():
            first = next(h for h, n in canonical.items() if n == match.name)
            raise HeaderError(f"列“{first}”和“{header}”都是{match.header}；应只有一列")
        canonical[header] = match.name
    renamed = _renamed(source, extras, names, set(canonical.values()))
    if renamed:
        header, column = renamed
        raise HeaderError(
            f"列“{header}”与缺少的列“{column.header}”只差一个字；应为“{column.header}”：请更正表头；"
            f"如果它是该列已知的另一种写法，请加入 inbox.toml"
            f'（[{source.name}] aliases = {{ {column.name} = ["{header}"] }}）'
        )
    missing = [c for c in source.required_columns if c.name not in canonical.values()]
    if missing:
        expected = "、".join(c.header for c in missing)
        raise HeaderError(f"缺少必需的列 {expected}（文件中的表头：{'、'.join(headers)}）")
    one_of = ONE_OF_REQUIRED.get(source.name, ())
    if one_of and not set(one_of) & set(canonical.values()):
        expected = "或".join(f"“{source.column(n).header}”" for n in one_of)
        raise HeaderError(f"应有{expected}列；两者都没有")
    return HeaderMap(canonical=canonical, factors=factors, extras=tuple(extras))


def _one_edit_apart(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by exactly one character replaced, inserted or deleted."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    rest = first if len(a) < len(b) else first + 1
    return a[rest:] == b[first + 1 :]


def _renamed(
    source: Source, extras: Sequence[str], names: Mapping[str, set[str]], delivered: set[str]
) -> tuple[str, Column] | None:
    """An extra header one character away from a header of a column the file lacks: a typo or an unlisted variant,
    whose values would otherwise be kept as an extra column and the contract column read as empty."""
    for header in extras:
        for column in source.columns:
            compared = _compared(folded(header), column)
            if column.name not in delivered and any(_one_edit_apart(compared, n) for n in names[column.name]):
                return header, column
    return None


def _compared(key: str, column: Column) -> str:
    """A folded header as compared with ``column``'s names: a money column's without its unit."""
    unit_match = _UNIT.match(key)
    return unit_match["name"] if column.kind is Kind.MONEY and unit_match else key


def matched_columns(source: Source, headers: Sequence[str]) -> set[str]:
    """The columns of ``source`` (canonical names) that ``headers`` hold, by contract header or alias."""
    found = set()
    for header in headers:
        for column in source.columns:
            if _compared(folded(header), column) in _names(column, ()):
                found.add(column.name)
    return found


def holding_source(source: Source, headers: Sequence[str], sources: Sequence[Source]) -> Source | None:
    """The source whose columns a file named for ``source`` holds instead, if any: the headers match fewer than
    half of ``source``'s columns and more columns of another source. A file of one source saved under another's
    name would otherwise be read as that source, its own columns kept as extras."""
    own = len(matched_columns(source, headers))
    if own * 2 >= len(source.columns):
        return None
    counts = [(len(matched_columns(other, headers)), other) for other in sources if other.name != source.name]
    best, other = max(counts, key=lambda pair: pair[0], default=(0, None))
    return other if best > own else None
