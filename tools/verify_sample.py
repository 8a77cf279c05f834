"""Verify a published 双随机 inspection sample from its own files: ``python tools/verify_sample.py sample-S-nN.json``.

Standard library only, on purpose: anyone can read it, run it with any Python 3.10+ and check that the sample
(``sample-S-nN.csv``) is exactly what the published seed and ratios draw from the published frame
(``sample-S-nN-frame.csv``), by method ``sha256-rank-v1`` (docs/measures.md, "How to verify a sample"):

1. strata = 行政区划代码 × 分型结果 × 名特优新, ordered by code, type (the manifest's ``type_order``), 否 before 是;
2. weight = households × ratio (``recognised_ratio`` for 名特优新 = 是); places = N × weight / Σ weight in exact
   fractions, whole parts first, the rest one each to the largest remainders (ties: the earlier stratum); a stratum
   allotted more than it holds gets all of it and the others share the rest again;
3. within a stratum, rank by SHA-256("<seed>:<主体键>") in hexadecimal, lowest first; take the first ``places``.

Exit 0 and "一致" when the sample matches, else 1 with the differences.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def allocate(populations: list[int], weights: list[Fraction], size: int) -> list[int]:
    places, capped, left = [0] * len(populations), set(), size
    while left:
        active = [i for i, w in enumerate(weights) if w > 0 and i not in capped]
        total = sum(weights[i] for i in active)
        quotas = {i: left * weights[i] / total for i in active}
        over = [i for i in active if quotas[i] > populations[i]]
        if over:
            for i in over:
                places[i], left = populations[i], left - populations[i]
                capped.add(i)
            continue
        whole = {i: int(quotas[i]) for i in active}
        rest = left - sum(whole.values())
        for i in sorted(active, key=lambda i: (-(quotas[i] - whole[i]), i))[:rest]:
            whole[i] += 1
        for i, n in whole.items():
            places[i] = n
        break
    return places


def expected_sample(manifest: dict, frame: list[dict[str, str]]) -> list[str]:
    """The 主体键 the seed draws from the frame, in stratum order then rank."""
    seed, size = manifest["seed"], manifest["size"]
    order = {t: i for i, t in enumerate(manifest["type_order"])}
    ratios = {}
    for entry in manifest["inspection"]["ratios"]:
        ratios[(entry["type"], "否")] = Fraction(Decimal(entry["ratio"]))
        ratios[(entry["type"], "是")] = Fraction(Decimal(entry["recognised_ratio"]))
    strata: dict[tuple, list[tuple[str, str]]] = {}
    for row in frame:
        stratum = (row["行政区划代码"], order[row["分型结果"]], row["名特优新"] == "是")
        key = row["主体键"]
        strata.setdefault(stratum, []).append((hashlib.sha256(f"{seed}:{key}".encode()).hexdigest(), key))
    names = sorted(strata)
    types = {i: t for t, i in order.items()}
    populations = [len(strata[s]) for s in names]
    weights = [len(strata[s]) * ratios[(types[s[1]], "是" if s[2] else "否")] for s in names]
    places = allocate(populations, weights, size)
    chosen = []
    for stratum, k in zip(names, places, strict=True):
        chosen += [key for _, key in sorted(strata[stratum])[:k]]
    return chosen


def verify(manifest_path: Path) -> list[str]:
    """The problems found (empty: the sample is the seed's draw)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    folder, problems = manifest_path.parent, []
    files = {entry["name"]: entry for entry in manifest["files"]}
    stem = manifest_path.name[: -len(".json")]
    sample_path, frame_path = folder / f"{stem}.csv", folder / f"{stem}-frame.csv"
    for path in (sample_path, frame_path):
        if _sha256(path) != files[path.name]["sha256"]:
            problems.append(f"{path.name}：SHA-256 与清单不符（文件被改动过）")
    if manifest["method"] != "sha256-rank-v1":
        problems.append(f"不认识的方法 {manifest['method']}")
        return problems
    expected = expected_sample(manifest, _rows(frame_path))
    published = [row["主体键"] for row in _rows(sample_path)]
    if published != expected:
        missing = sorted(set(expected) - set(published))
        extra = sorted(set(published) - set(expected))
        problems.append(f"样本与重算结果不一致：应抽未列 {missing[:10]}，列出但不应抽 {extra[:10]}，或顺序不同")
    return problems


def main() -> int:
    if len(sys.argv) != 2:
        print("用法：python tools/verify_sample.py <sample-种子-nN.json>", file=sys.stderr)
        return 2
    problems = verify(Path(sys.argv[1]))
    for problem in problems:
        print(problem)
    if not problems:
        print("一致：样本就是公布的种子从抽样框中抽出的样本")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
