"""Corrections packages for the national directory (objections.md, "The procedure" 4):
``<home>/out/<P>/<cycle_id>/corrections-<NNN>/`` with ``corrections.csv`` — the submission's columns plus
更正依据 (the objection number) — and its own ``manifest.json`` (checksums, counts, the cycle it corrects).

The cycle's own files are never touched: a package is built beside the cycle folder and renamed into it, and
a rerun of the cycle carries the packages into its new folder (:func:`carry_corrections`, called by publish).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pandera.errors
import polars as pl

from flows.readers import sha256_of
from schemas.outputs import SUBMISSION
from transforms.publication import submission_rows

PACKAGE_PREFIX = "corrections-"
BASIS_HEADER = "更正依据"
_PACKAGE = re.compile(rf"^{PACKAGE_PREFIX}(\d{{3}})$")
MANIFEST_SCHEMA_VERSION = 1


def packages(cycle_folder: Path) -> list[Path]:
    if not cycle_folder.is_dir():
        return []
    return sorted(p for p in cycle_folder.iterdir() if p.is_dir() and _PACKAGE.match(p.name))


def carry_corrections(previous_folder: Path, building: Path) -> None:
    """Copy the corrections packages of the published cycle folder into the folder that replaces it."""
    for package in packages(previous_folder):
        shutil.copytree(package, building / package.name)


def write_package(
    cycle_folder: Path, directory_rows: pl.DataFrame, basis: list[str], generated_at: dt.datetime
) -> Path:
    """Write the next ``corrections-<NNN>/`` of ``cycle_folder``: ``directory_rows`` (directory columns, the
    amended type) as the submission's rows plus 更正依据 = ``basis`` (one objection number per row)."""
    manifest_path = cycle_folder / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path}: the cycle folder to correct is not there")
    cycle_manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    number = max((int(_PACKAGE.match(p.name).group(1)) for p in packages(cycle_folder)), default=0) + 1
    name = f"{PACKAGE_PREFIX}{number:03d}"
    ordered = directory_rows.with_columns(pl.Series("_basis", basis)).sort("business_key")
    submission = submission_rows(ordered.drop("_basis").lazy()).collect()
    try:
        SUBMISSION.validate(submission, lazy=True)
    except pandera.errors.SchemaErrors as e:
        raise ValueError(f"{name}: the amended rows do not make a valid submission: {e}") from None
    rows = submission.with_columns(ordered["_basis"].alias(BASIS_HEADER))
    building = cycle_folder.parent / f".{cycle_folder.name}.{name}.building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    rows.write_csv(building / "corrections.csv")
    counts: dict[str, int] = {}
    for business_type in rows["分型结果"]:
        counts[business_type] = counts.get(business_type, 0) + 1
    manifest = {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "package": name,
        "province": cycle_manifest["province"],
        "cycle_id": cycle_manifest["cycle_id"],
        "as_of": cycle_manifest["as_of"],
        "ruleset": cycle_manifest["ruleset"],
        "corrects": {"cycle_id": cycle_manifest["cycle_id"], "manifest_sha256": sha256_of(manifest_path)},
        "counts": counts,
        "objections": sorted(set(basis)),
        "files": [{"name": "corrections.csv", "sha256": sha256_of(building / "corrections.csv"), "rows": rows.height}],
        "generated_at": generated_at.isoformat(),
    }
    (building / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    target = cycle_folder / name
    building.rename(target)
    return target


def verify_package(package: Path) -> list[str]:
    """Problems of a corrections package against its manifest and the cycle it corrects; empty when it verifies."""
    problems = []
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        path = package / entry["name"]
        if not path.is_file():
            problems.append(f"{entry['name']}: missing")
            continue
        if sha256_of(path) != entry["sha256"]:
            problems.append(f"{entry['name']}: SHA-256 differs from the manifest")
        rows = pl.read_csv(path, infer_schema=False)
        if rows.height != entry["rows"]:
            problems.append(f"{entry['name']}: {rows.height} rows, the manifest says {entry['rows']}")
        counted: dict[str, int] = {}
        for business_type in rows["分型结果"]:
            counted[business_type] = counted.get(business_type, 0) + 1
        if counted != manifest["counts"]:
            problems.append(f"{entry['name']}: counts by type differ from the manifest")
    cycle_manifest = package.parent / "manifest.json"
    if not cycle_manifest.is_file() or sha256_of(cycle_manifest) != manifest["corrects"]["manifest_sha256"]:
        problems.append("the cycle's manifest.json is not the one the package corrects")
    return problems
