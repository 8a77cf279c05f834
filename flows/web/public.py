"""The public pages (查询公示 and 异议申诉): no login, public columns only (``flows/web/public_data.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from flows.web.app import render
from reference import filed_rulesets, regions

router = APIRouter()


def _provinces() -> list[dict[str, str]]:
    names = dict(regions().select("province_code", "province_name").unique().iter_rows())
    return [{"code": p, "name": names.get(p, p)} for p in sorted(filed_rulesets())]


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    return render(request, "index.html.j2", title="查询公示", provinces=_provinces(), q="")
