"""Issue 14, finding 8: the contract lives in the repository (docs/spec/), in step with ../shared/spec/ where that
exists; docs/inbox.md names every source's file name."""

from pathlib import Path

import pytest

from schemas.sources import SOURCES

ROOT = Path(__file__).resolve().parents[2]
SHARED = next(
    (p for p in (ROOT.parent / "shared" / "spec", ROOT.parent.parent / "shared" / "spec") if p.is_dir()), None
)


@pytest.mark.skipif(SHARED is None, reason="../shared/spec/ is not beside this clone")
def test_docs_spec_is_the_shared_contract():
    shared = {p.name: p.read_bytes() for p in sorted(SHARED.glob("*.md"))}
    ours = {p.name: p.read_bytes() for p in sorted((ROOT / "docs" / "spec").glob("*.md"))}
    assert ours == shared, "copy ../shared/spec/*.md into docs/spec/"


def test_the_readme_links_the_contract_inside_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared/spec" not in readme and "docs/spec/" in readme
    assert (ROOT / "docs" / "spec" / "outputs.md").is_file()


def test_docs_inbox_names_every_source():
    text = (ROOT / "docs" / "inbox.md").read_text(encoding="utf-8")
    for name, source in SOURCES.items():
        assert f"`{name}`" in text and source.label in text
