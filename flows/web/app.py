"""The web front's application: ``create_app(home)`` builds it, ``getihu web`` serves it (uvicorn).

Every page is a Jinja2 template (autoescaped) extending ``base.html.j2``; static files (one stylesheet) are
served from ``flows/web/static`` — nothing is fetched from another host. Routers are added in ``_routers()``
order: the public pages (``flows/web/public.py``) and the handlers' desk (``flows/web/desk.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import jinja2
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from flows.home import now_in_china, warehouse_path
from flows.web.security import (
    BodySizeLimit,
    RateLimits,
    SecurityHeaders,
    WebLimits,
    csrf_field,
    csrf_protect,
    session_secret,
)
from flows.web.warehouse import NoWarehouse, PublishedWarehouse

HERE = Path(__file__).resolve().parent
#: Searches reading the warehouse at once: look-ups by code, name searches through the name index, and scans of
#: every name (a one-character text, which has no 2-character gram to look up; ``public_data.search_lane``).
READ_LANES = {"lookup": 4, "name": 2, "scan": 1}
SESSION_COOKIE = "getihu_session"
log = logging.getLogger("getihu.web")

#: Chinese titles and explanations of the error pages, by status.
ERRORS = {
    400: ("请求有误", "提交的内容不完整或格式不对，请返回上一页检查后重新提交。"),
    403: ("请求被拒绝", "页面已过期或请求不是从本站表单提交的。请刷新表单页面后重新提交。"),
    404: ("找不到这个页面", "地址不存在，或者没有这户个体工商户。请从首页重新查询。"),
    405: ("请求方式不对", "这个地址不接受这种请求方式。"),
    413: ("提交的内容太大", "提交的内容超过了允许的大小，请删减后重新提交。"),
    422: ("请求有误", "提交的内容不完整或格式不对，请返回上一页检查后重新提交。"),
    429: ("请求过于频繁", "您在短时间内的查询或提交次数过多，请稍等几分钟后再试。"),
    500: ("系统出错了", "服务器处理请求时出错，已记录在服务器日志中。请稍后再试；若持续出现，请联系数据管理部门。"),
    503: ("暂时无法查询", "数据仓库暂时不可用（例如尚未发布分型结果）。请稍后再试。"),
}


@dataclass
class WebContext:
    """What the pages share: the home, the published warehouse, the key for personal IDs, the clock."""

    home: Path
    warehouse: PublishedWarehouse
    secret: bytes | None
    clock: Callable[[], dt.datetime] = now_in_china
    extra: dict = field(default_factory=dict)


def _templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates = Jinja2Templates(env=environment)
    templates.env.globals["site_name"] = "个体工商户名录 查询公示"
    return templates


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """A page from ``templates/``, with ``csrf_field()`` available to its forms."""
    templates: Jinja2Templates = request.app.state.templates
    context.setdefault("title", "")
    return templates.TemplateResponse(
        request,
        template,
        {"csrf_field": lambda: csrf_field(request), **context},
        status_code=status_code,
    )


def error_page(request: Request, status: int) -> HTMLResponse:
    title, explanation = ERRORS.get(status, ERRORS[500])
    return render(request, "error.html.j2", status_code=status, title=title, explanation=explanation, status=status)


async def _http_error(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
    response = error_page(request, exc.status_code)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _validation_error(request: Request, exc: RequestValidationError) -> HTMLResponse:
    return error_page(request, 400)


async def _no_warehouse(request: Request, exc: NoWarehouse) -> HTMLResponse:
    return error_page(request, 503)


async def _unexpected(request: Request, exc: Exception) -> HTMLResponse:
    # the details go to the server's log, never to the browser
    log.error("网页请求出错：%s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500)


def _plain_error(status: int):
    """An ASGI answer for the middleware that stops a request before the app sees it (413)."""

    async def answer(scope, receive, send):
        title, explanation = ERRORS[status]
        body = (
            f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{title}</title>'
            f"<h1>{title}</h1><p>{explanation}</p></html>"
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return answer


def _routers() -> list:
    from flows.web import desk, public

    return [public.router, desk.router]


def create_app(
    home: Path,
    *,
    secret: bytes | None = None,
    limits: WebLimits | None = None,
    clock: Callable[[], dt.datetime] = now_in_china,
    https_only: bool = False,
) -> FastAPI:
    """The web front of ``home``: its published warehouse (read-only) and its objection store.

    ``secret`` is the key of personal IDs (``GETIHU_SECRET``): the objection form keys the resident ID typed with
    it to compare with the business's keyed operator ID. ``https_only`` marks the session cookie Secure (set it
    when served over HTTPS, e.g. behind nginx).
    """
    home = Path(home)
    limits = limits or WebLimits()
    app = FastAPI(
        title="getihu web",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        debug=False,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.web = WebContext(home, PublishedWarehouse(warehouse_path(home)), secret, clock)
    app.state.templates = _templates()
    app.state.rate_limits = RateLimits(limits)
    app.state.limits = limits
    # searches wait here, without a worker thread, for their turn at the warehouse (READ_LANES)
    app.state.read_lanes = {lane: anyio.Semaphore(n) for lane, n in READ_LANES.items()}

    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(NoWarehouse, _no_warehouse)
    app.add_exception_handler(Exception, _unexpected)

    # middleware: the last added is the outermost
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(home),
        session_cookie=SESSION_COOKIE,
        max_age=8 * 3600,
        same_site="lax",
        https_only=https_only,
    )
    app.add_middleware(BodySizeLimit, max_body=limits.max_body, on_too_large=_plain_error(413))
    app.add_middleware(SecurityHeaders)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in _routers():
        app.include_router(router)
    return app
