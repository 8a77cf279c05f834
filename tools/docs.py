"""Rewrite the generated parts of docs/architecture.md from the code that defines them.

``python tools/docs.py`` rewrites them; ``python tools/docs.py --check`` exits 1 when the doc is stale
(tests/contract/test_docs.py runs the same check). Each generated part sits between two markers:
``<!-- generated: NAME (tools/docs.py) -->`` and ``<!-- end generated: NAME -->``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"
sys.path.insert(0, str(ROOT))


def _dtype(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"Decimal({dtype.precision}, {dtype.scale})"
    return str(dtype)


def features_table() -> str:
    """The feature registry (schemas/features.py) as a Markdown table."""
    from schemas.features import FEATURES

    lines = ["| feature | type | 中文 | meaning (rules.md) |", "|---|---|---|---|"]
    lines += [f"| `{f.name}` | {_dtype(f.dtype)} | {f.label} | {f.meaning} |" for f in FEATURES.values()]
    return "\n".join(lines)


GENERATED: dict[str, Callable[[], str]] = {"features": features_table}


def generated(text: str) -> str:
    """``text`` with every generated part rewritten."""
    for name, make in GENERATED.items():
        pattern = re.compile(
            rf"(<!-- generated: {name} \(tools/docs.py\) -->\n)(?:.*?\n)?(<!-- end generated: {name} -->)", re.S
        )
        if not pattern.search(text):
            raise ValueError(f"{ARCHITECTURE}: no markers for the generated part {name!r}")
        made = make()
        text = pattern.sub(lambda m, made=made: m.group(1) + made + "\n" + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    new = generated(text)
    if "--check" in argv:
        if new != text:
            print(f"{ARCHITECTURE} is stale: run python tools/docs.py", file=sys.stderr)
            return 1
        return 0
    ARCHITECTURE.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
