"""The national assembly's deployment: 16 August, 02:00 Asia/Shanghai — the night after the 15 August deadline.

``getihu national serve --home DIR`` serves it (needs a Prefect server, as ``getihu serve`` does); each year's
run assembles that year's packages, the year taken from the date it runs on.
"""

from __future__ import annotations

from pathlib import Path

from prefect.schedules import Cron

from flows.national.run import national_assembly

ASSEMBLY_CRON = "0 2 16 8 *"
TIMEZONE = "Asia/Shanghai"


def assembly_deployment(home: Path):
    return national_assembly.to_deployment(
        name="national-assembly",
        schedule=Cron(ASSEMBLY_CRON, timezone=TIMEZONE),
        parameters={"home": str(home)},
        description="全国个体工商户名录：8月16日02:00（北京时间）汇总各省报送包，检查、入库并出具报告。",
        tags=["getihu", "national", "yearly"],
    )
