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

#: Sources where one of several columns must be present (registration: 统一社会信用代码 unless 注册号).
ONE_OF_REQUIRED: dict[str, tuple[str, ...]] = {"registration": ("uscc", "reg_no")}

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


def folded(header: str) -> str:
    """A header as compared: full-width forms folded (NFKC), BOM and all white space removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", header).replace("\ufeff", ""))


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
                    raise HeaderError(
                        f"column “{header}” has the unit “{unit_match['unit']}”; expected （元） or （万元）"
                    )
                factors[match.name] = MONEY_UNITS[unit_match["unit"]]
        if match is None:
            unitless = next((c for c in source.columns if c.kind is Kind.MONEY and key in names[c.name]), None)
            if unitless is not None:
                expected = " or ".join(f"“{unitless.header}（{unit}）”" for unit in MONEY_UNITS)
                raise HeaderError(f"money column “{header}” has no unit; expected {expected}")
            extras.append(header)
            continue
        if match.name in canonical.values():
            first = next(h for h, n in canonical.items() if n == match.name)
            raise HeaderError(f"columns “{first}” and “{header}” are both {match.header}; expected one")
        canonical[header] = match.name
    missing = [c for c in source.required_columns if c.name not in canonical.values()]
    if missing:
        expected = "、".join(c.header for c in missing)
        raise HeaderError(f"required column {expected} is missing (headers found: {', '.join(headers)})")
    one_of = ONE_OF_REQUIRED.get(source.name, ())
    if one_of and not set(one_of) & set(canonical.values()):
        expected = " or ".join(source.column(n).header for n in one_of)
        raise HeaderError(f"a column {expected} is required; neither is present")
    return HeaderMap(canonical=canonical, factors=factors, extras=tuple(extras))
