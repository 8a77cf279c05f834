"""Province packages for the national tests: two small provinces' cycles, published once per session.

Province 41 is typed by its filed standard; province 32 has none, so it is typed by a copy of 41's with the
province changed, passed explicitly (as ``--ruleset`` would be).
"""

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from flows.home import cycle_for
from flows.stages import execute
from synth.generate import generate
from synth.world import Plan

ROOT = Path(__file__).resolve().parents[2]
YEAR = 2025
BUSINESSES = 300


def synthetic_ruleset(province: str, folder: Path) -> Path:
    """data/rulesets/41.toml with the province changed: a draft standard for a synthetic province."""
    text = (ROOT / "data" / "rulesets" / "41.toml").read_text(encoding="utf-8")
    lines = [f'province = "{province}"' if line.startswith("province = ") else line for line in text.splitlines()]
    path = folder / f"{province}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def packages(tmp_path_factory) -> dict[str, Path]:
    """Province → its published 2025 cycle folder (the package as the province sends it)."""
    base = tmp_path_factory.mktemp("national-packages")
    made = {}
    for province, seed in (("32", 11), ("41", 12)):
        inbox = base / "inbox" / province
        generate(Plan(province, YEAR, BUSINESSES, seed=seed), inbox, lambda *_: None)
        ruleset = synthetic_ruleset(province, base) if province == "32" else None
        cycle = cycle_for(province, None, YEAR, base / "home", inbox, ruleset, b"national-tests")
        execute(cycle)
        made[province] = cycle.out_dir
    return made


def receive(
    home: Path, packages: dict[str, Path], year: int = YEAR, arrived: str = "2025-08-10T10:00:00+08:00"
) -> Path:
    """Copy the packages into ``home``'s inbox for ``year`` and write receipts.csv with one arrival time for all."""
    inbox = home / "inbox" / str(year)
    inbox.mkdir(parents=True, exist_ok=True)
    for province, folder in packages.items():
        shutil.copytree(folder, inbox / province, copy_function=shutil.copy2)
    lines = ["省份,接收时间"] + [f"{p},{arrived}" for p in sorted(packages)]
    (inbox / "receipts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return inbox


def rewrite_submission(folder: Path, change) -> None:
    """Apply ``change`` (frame → frame) to both submission files and bring the manifest's checksums, rows and
    counts up to date: a package that is consistent in itself, so only the checks on the rows can fail."""
    from flows.national.assemble import sha256_of

    frame = change(pl.read_parquet(folder / "submission.parquet"))
    frame.write_parquet(folder / "submission.parquet")
    frame.write_csv(folder / "submission.csv")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["name"].startswith("submission."):
            entry["sha256"] = sha256_of(folder / entry["name"])
            entry["rows"] = frame.height
    counted = dict(frame.group_by("分型结果").len().iter_rows())
    manifest["counts"] = {t: counted.get(t, 0) for t in manifest["counts"]}
    write_manifest(folder, manifest)


def edit_manifest(folder: Path, change) -> None:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    write_manifest(folder, manifest)


def write_manifest(folder: Path, manifest: dict) -> None:
    path = folder / "manifest.json"
    stat = path.stat()
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    import os

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # an edit is not a new arrival


def as_last_year(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("判定日期").dt.offset_by("-1y"))


def typed(package: Path) -> int:
    """Businesses a package's cycle typed (a business established after D is not typed: rules.md v2, Terms)."""
    return sum(json.loads((package / "manifest.json").read_text(encoding="utf-8"))["counts"].values())
