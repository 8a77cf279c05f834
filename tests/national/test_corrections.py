"""Corrections packages (objections.md, step 4): applied as amendments, the original rows kept; a corrections
package that fails its checks is left out and named, and the cycle it corrects keeps its status."""

import json

import duckdb
import polars as pl

from flows.national.assemble import assemble, sha256_of
from tests.national.conftest import receive, typed


def write_corrections(package, name, frame, corrects="41-20250731"):
    folder = package / name
    folder.mkdir()
    frame.write_csv(folder / "corrections.csv")
    counted = dict(frame.group_by("分型结果").len().iter_rows())
    manifest = {
        "schema_version": 1,
        "province": "41",
        "corrects": corrects,
        "counts": {t: counted.get(t, 0) for t in ("生存型", "成长型", "发展型", "不符合分型条件")},
        "files": [{"name": "corrections.csv", "sha256": sha256_of(folder / "corrections.csv"), "rows": frame.height}],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return folder


def test_corrections_are_amendments_and_a_bad_corrections_package_is_left_out(tmp_path, packages):
    inbox = receive(tmp_path, packages)
    submission = pl.read_csv(inbox / "41" / "submission.csv", infer_schema=False)
    survivors = submission.filter(pl.col("分型结果") == "生存型").head(2)
    raised = survivors.with_columns(
        分型结果=pl.lit("成长型"), 分型依据=pl.lit("成长①"), 更正依据=pl.lit("YY-2025-0001")
    )
    write_corrections(inbox / "41", "corrections-001", raised)
    bad = write_corrections(inbox / "41", "corrections-002", raised.with_columns(更正依据=pl.lit("YY-2025-0002")))
    tampered = (bad / "corrections.csv").read_text(encoding="utf-8").replace("YY-2025-0002", "YY-2025-0003")
    (bad / "corrections.csv").write_text(tampered, encoding="utf-8")
    assembly = assemble(tmp_path, 2025)
    outcome = next(o for o in assembly.outcomes if o.province == "41")
    assert outcome.status == "accepted"
    assert [p.code for p in outcome.problems] == ["corrections"]
    assert "corrections-002" in outcome.problems[0].detail and "SHA-256" in outcome.problems[0].detail
    keys = survivors["统一社会信用代码"].to_list()
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        amendments = con.execute(
            "SELECT business_key, business_type, objection, corrections FROM amendments ORDER BY 1"
        ).fetchall()
        original = con.execute(
            "SELECT business_type, amended FROM directory "
            "WHERE province = '41' AND business_key IN ? ORDER BY business_key",
            [keys],
        ).fetchall()
        latest = con.execute(
            "SELECT business_type FROM directory_latest WHERE province = '41' AND business_key IN ?", [keys]
        ).fetchall()
        unamended = con.execute("SELECT count(*) FROM directory WHERE NOT amended").fetchone()[0]
    assert amendments == [(k, "成长型", "YY-2025-0001", "corrections-001") for k in sorted(keys)]
    assert original == [("生存型", True), ("生存型", True)]
    assert latest == [("成长型",), ("成长型",)]
    assert unamended == typed(packages["32"]) + typed(packages["41"]) - 2
    counts = assembly.counts.filter(pl.col("province") == "41")
    submitted = submission.group_by("分型结果").len()
    survival = submitted.filter(pl.col("分型结果") == "生存型")["len"].item()
    assert counts["生存型"].item() == survival - 2
