"""The house's floors (docs/architecture.md, "Layout"): a layer imports only from the layers below it.

``schemas/`` is the bottom: it imports nothing of the project but itself. ``transforms/`` are pure and import
no I/O layer; ``reference/`` reads data/ and knows only schemas; ``synth/`` generates inboxes from the
contract and never imports the pipeline. Every import counts, also one inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Package → the project packages it must not import.
FORBIDDEN: dict[str, frozenset[str]] = {
    "schemas": frozenset({"transforms", "flows", "reference", "synth", "bench", "tests", "tools"}),
    "transforms": frozenset({"flows", "reference", "synth", "bench", "tests", "tools"}),
    "reference": frozenset({"transforms", "flows", "synth", "bench", "tests", "tools"}),
    "synth": frozenset({"flows", "bench", "tests", "tools"}),
    "flows": frozenset({"bench", "tests", "tools"}),  # flows/cli.py's `getihu generate` calls synth
}


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every module ``path`` imports, wherever in the file the import stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def violations(root: Path, forbidden: dict[str, frozenset[str]] = FORBIDDEN) -> list[str]:
    """``file: imports package`` for every import that crosses a floor the wrong way."""
    found = []
    for package, banned in forbidden.items():
        for path in sorted((root / package).rglob("*.py")):
            for name in sorted(imported_packages(path) & banned):
                found.append(f"{path.relative_to(root)}: imports {name}")
    return found


def test_every_layer_imports_only_from_the_layers_below_it():
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    ("package", "line"),
    [
        ("schemas", "from transforms.codes import uscc_problem"),
        ("schemas", "import flows.errors"),
        ("synth", "    from flows.reference import province_regions  # inside a function"),
        ("transforms", "from flows.home import Cycle"),
    ],
)
def test_a_planted_violation_is_found(tmp_path, package, line):
    (tmp_path / package).mkdir()
    body = f"def f():\n{line}\n" if line.startswith(" ") else f"{line}\n"
    (tmp_path / package / "planted.py").write_text(body, encoding="utf-8")
    assert violations(tmp_path) == [f"{package}/planted.py: imports {line.split()[1].split('.')[0]}"]
