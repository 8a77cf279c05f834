"""Loading the classification standards of a province: ``data/classification/<code>.toml``."""

from __future__ import annotations

from pathlib import Path

from schemas.classification import StandardError, Standards, parse_standard_text

STANDARDS_DIR = Path(__file__).resolve().parents[2] / "data" / "classification"


def load_standards(province: str, folder: Path | None = None) -> Standards:
    """The province's file and every city or county override under it; each checked, errors naming the file."""
    folder = folder or STANDARDS_DIR
    paths = sorted(p for p in folder.glob(f"{province}*.toml") if p.stem.isdigit())
    if not any(p.stem == province for p in paths):
        raise StandardError(f"{folder / (province + '.toml')}：没有该省的名特优新分类标准文件")
    return Standards({p.stem: parse_standard_text(p.read_text(encoding="utf-8"), p.name) for p in paths})
