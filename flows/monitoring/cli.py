"""``getihu monitor``: the province's monitoring page and figures (docs/monitoring.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def monitor(
    province: Annotated[str, typer.Option(metavar="省份代码", help="两位数字的省级行政区划代码，如 41（河南）")],
    home: Annotated[Path, typer.Option("--home", metavar="目录", help="存放 warehouse.duckdb 的主目录")] = Path("data"),
    out: Annotated[
        Path | None, typer.Option(metavar="目录", help="写入的目录（默认 <主目录>/out/<省份>/monitoring/）")
    ] = None,
) -> None:
    """监测分析：按数据仓库中一省的全部分型周期，写出 monitoring.html（各县、各行业分型结构，年度分型变动，
    一年后存续率，吸纳就业，个转企培育对象）和各项数据的 .xlsx、.csv；年度周期和临时（加开）周期分开标注。"""
    from flows.errors import GetihuError
    from flows.monitoring.page import NoCycles, default_out, write_monitoring
    from schemas.monitoring import MonitoringConfigError

    target = out or default_out(home, province)
    try:
        written = write_monitoring(home, province, target)
    except NoCycles:
        typer.echo(f"getihu monitor：数据仓库 {home / 'warehouse.duckdb'} 中没有省份 {province} 的分型周期；"
                   "先用 getihu run 运行并发布。", err=True)  # fmt: skip
        raise typer.Exit(1) from None
    except (GetihuError, MonitoringConfigError) as e:
        typer.echo(f"getihu monitor：{e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"已写出 {written.page}（{written.yearly} 个年度周期，{written.cycles - written.yearly} 个临时周期）"
        f"和 {len(written.files) - 1} 个数据文件到 {target}/"
    )
