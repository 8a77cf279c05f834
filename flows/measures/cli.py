"""``getihu measures`` (免申即享 lists per department) and ``getihu sample`` (the 双随机 sample), Chinese for people."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Province = Annotated[
    str, typer.Option(metavar="省份代码", help="两位数字的省级行政区划代码，如 41（河南）或 23（黑龙江）")
]
Year = Annotated[int | None, typer.Option(metavar="年份", help="年度 Y：取该年 7 月 31 日的年度分型周期")]
Home = Annotated[Path, typer.Option(metavar="目录", help="主目录：存放数据仓库和发布结果")]
CycleId = Annotated[
    str | None, typer.Option("--cycle", metavar="周期编号", help="已发布的周期编号，如 41-20250731 或临时分型周期")
]


def _fail(name: str, error: Exception) -> typer.Exit:
    from flows.errors import EXIT_INPUT, exit_code_of
    from schemas.measures import MeasuresError

    typer.echo(f"{name}：{error}", err=True)
    return typer.Exit(EXIT_INPUT if isinstance(error, MeasuresError) else exit_code_of(error))


def measures(
    province: Province,
    year: Year = None,
    home: Home = Path("data"),
    cycle: CycleId = None,
    measures_file: Annotated[
        Path | None, typer.Option("--measures", metavar="文件", help="帮扶措施文件（默认 data/measures/<省>.toml）")
    ] = None,
) -> None:
    """帮扶措施“免申即享”：按部门列出一个已发布周期中符合各项措施条件的个体工商户（每部门一个 .xlsx 和 .csv），
    写入 <主目录>/out/<省>/measures-<周期编号>/ 和数据仓库的 measure_eligibility 表。"""
    from flows.errors import GetihuError
    from flows.home import check_province
    from flows.measures.commands import run_measures
    from schemas.measures import MeasuresError

    try:
        check_province(province)
        result = run_measures(province, year, home, cycle, measures_file)
    except (GetihuError, MeasuresError) as e:
        raise _fail("getihu measures", e) from None
    typer.echo(f"getihu measures {result.cycle_id}：{len(result.counts)} 个部门")
    for department, rows in result.counts.items():
        typer.echo(f"  {department}：{rows:,} 行")
    typer.echo(f"输出：{result.folder}/")


def sample(
    province: Province,
    seed: Annotated[
        str, typer.Option(metavar="种子", help="公布的随机种子（字母、数字、- 和 _），同一种子同一周期抽出同一样本")
    ],
    year: Year = None,
    home: Home = Path("data"),
    cycle: CycleId = None,
    size: Annotated[
        int | None,
        typer.Option(metavar="户数", help="样本量 N；默认为各层 户数×抽查比例 之和（四舍五入）"),
    ] = None,
    inspection_file: Annotated[
        Path | None,
        typer.Option("--inspection", metavar="文件", help="抽查比例和频次文件（默认 data/inspection/<省>.toml）"),
    ] = None,
) -> None:
    """“双随机、一公开”抽查：按 县（区）× 分型结果 × 名特优新 分层，从已发布周期中抽取样本，可由公布的种子复核；
    写入 <主目录>/out/<省>/inspection-<周期编号>/ 和数据仓库的 inspection_samples 表。"""
    from flows.errors import GetihuError
    from flows.home import check_province
    from flows.measures.commands import run_sample
    from schemas.measures import MeasuresError

    try:
        check_province(province)
        result = run_sample(province, year, home, seed, size, cycle, inspection_file)
    except (GetihuError, MeasuresError) as e:
        raise _fail("getihu sample", e) from None
    typer.echo(f"getihu sample {result.cycle_id}：种子 {seed}，从 {result.population:,} 户中抽取 {result.size:,} 户")
    typer.echo(f"输出：{result.folder}/{result.stem}.xlsx")
    typer.echo(f"核验：python tools/verify_sample.py {result.folder}/{result.stem}.json")
