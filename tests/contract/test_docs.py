"""docs/architecture.md's generated parts match the code they are generated from (tools/docs.py)."""

from __future__ import annotations

import pytest

from tools import docs


def test_the_generated_parts_of_architecture_md_are_current():
    text = docs.ARCHITECTURE.read_text(encoding="utf-8")
    assert docs.generated(text) == text, "docs/architecture.md is stale: run python tools/docs.py"


def test_a_stale_feature_table_is_noticed():
    text = docs.ARCHITECTURE.read_text(encoding="utf-8")
    stale = text.replace("| `valid_patents` |", "| `valid_patent_count` |")
    assert docs.generated(stale) != stale


def test_a_doc_without_the_markers_is_refused():
    with pytest.raises(ValueError, match="no markers"):
        docs.generated("# Architecture\n")
