"""The handlers' desk (受理台): the objection queue, an objection's case file and every step of the procedure, behind a
login (docs/web.md, "受理台").

Every step goes through the functions ``getihu objection`` calls (``flows.objections.desk`` / ``decisions`` /
``reply``): one implementation, the logged-in account's handler name on every event. What a page shows comes from
``flows.objections.casefile`` — the same data as ``getihu objection list`` / ``show`` and ``getihu query``, with the
phone masked and no resident ID.

Access: every ``/desk`` address but the login page needs a session of an active account whose password has not
changed since it logged in (checked on every request, so disabling an account ends its sessions at once). An
anonymous GET is sent to the login page; an anonymous POST is refused (403), as is any POST without the session's
CSRF token (the app-wide check of ``flows.web.security``). Logging in replaces the session (no fixation); failed
logins are throttled (``flows.objections.accounts``).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from flows.errors import InputError
from flows.objections.accounts import WINDOW, Account, open_accounts
from flows.objections.casefile import Action, case_file, comparison_rows, queue
from flows.objections.desk import Desk, RejudgeError
from flows.objections.store import StoreError, objection_dir
from flows.storage.warehouse import WarehouseError
from flows.web.app import render
from flows.web.security import client_address
from schemas.objections import Decision, Refusal, Status


def _posts_need_a_handler(request: Request) -> None:
    """Router-wide: a POST from no logged-in account is refused (403) before its form is even read. Every desk
    form but the login form."""
    if request.method != "GET" and request.url.path != "/desk/login" and _account(request) is None:
        raise HTTPException(status_code=403)


router = APIRouter(dependencies=[Depends(_posts_need_a_handler)])

_LOGIN = "desk_login"
_PASSWORD_AT = "desk_password_at"
_FLASH = "desk_flash"

#: What a step may fail with: said to the handler on the objection's page, never a stack trace.
_REFUSALS = (StoreError, RejudgeError, InputError, WarehouseError, FileNotFoundError)


class _Anonymous(Exception):
    pass


def _account(request: Request) -> Account | None:
    login = request.session.get(_LOGIN)
    if not login:
        return None
    with open_accounts(request.app.state.web.home, request.app.state.web.clock) as accounts:
        return accounts.current(login, request.session.get(_PASSWORD_AT, ""))


def _signed_in(request: Request) -> Account:
    """The handler of this request; a POST without one is refused here (a GET is sent to the login page)."""
    account = _account(request)
    if account is None:
        if request.method != "GET":
            raise HTTPException(status_code=403)
        raise _Anonymous
    return account


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/desk/login?next={quote(target, safe='')}", status_code=303)


def _desk(request: Request) -> Desk:
    web = request.app.state.web
    return Desk(home=web.home, secret=web.secret or b"", clock=web.clock)


def _page(request: Request, template: str, account: Account, status_code: int = 200, **context) -> HTMLResponse:
    flash = request.session.pop(_FLASH, None)
    return render(request, template, status_code=status_code, handler=account.handler, flash=flash, **context)


def _back(request: Request, objection_no: str, text: str, ok: bool = True) -> RedirectResponse:
    request.session[_FLASH] = {"text": text, "ok": ok}
    return RedirectResponse(f"/desk/objections/{quote(objection_no, safe='')}", status_code=303)


def _local(target: str | None) -> str:
    """Where to go after logging in: a desk address of this site only (never another host)."""
    if target and target.startswith("/desk") and not target.startswith("//") and "\\" not in target:
        return target
    return "/desk"


# --- logging in and out ---------------------------------------------------------------------------------


@router.get("/desk/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/desk") -> Response:
    if _account(request) is not None:
        return RedirectResponse(_local(next), status_code=303)
    return render(request, "desk_login.html.j2", title="受理台登录", next=_local(next), message=None, login="")


@router.post("/desk/login", response_class=HTMLResponse)
def login_post(
    request: Request,
    login: str = Form("", max_length=100),
    password: str = Form("", max_length=200),
    next: str = Form("/desk", max_length=500),
) -> Response:
    web = request.app.state.web
    with open_accounts(web.home, web.clock) as accounts:
        result = accounts.log_in(login, password, client_address(request))
    if result.account is None:
        minutes = int(WINDOW.total_seconds() // 60)
        message = (
            f"登录失败次数过多，请 {minutes} 分钟后再试。" if result.throttled else "登录名或密码不对，或账号已停用。"
        )
        return render(
            request,
            "desk_login.html.j2",
            status_code=429 if result.throttled else 401,
            title="受理台登录",
            next=_local(next),
            message=message,
            login=login,
        )
    request.session.clear()  # a new session for the account: whatever was in the old one is gone
    request.session[_LOGIN] = result.account.login
    request.session[_PASSWORD_AT] = result.account.password_changed_at
    return RedirectResponse(_local(next), status_code=303)


@router.post("/desk/logout")
def logout(request: Request) -> Response:
    _signed_in(request)
    request.session.clear()
    return RedirectResponse("/desk/login", status_code=303)


# --- the queue and the case file ------------------------------------------------------------------------


@router.get("/desk", response_class=HTMLResponse)
def desk_queue(request: Request) -> Response:
    try:
        account = _signed_in(request)
    except _Anonymous:
        return _to_login(request)
    rows = queue(_desk(request))
    late = sum(1 for r in rows if r.overdue)
    return _page(request, "desk_queue.html.j2", account, title="异议队列", rows=rows, late=late)


@router.get("/desk/objections/{objection_no}", response_class=HTMLResponse)
def objection_page(request: Request, objection_no: str) -> Response:
    try:
        account = _signed_in(request)
    except _Anonymous:
        return _to_login(request)
    try:
        case = case_file(_desk(request), objection_no)
    except StoreError:
        raise HTTPException(status_code=404) from None
    return _page(
        request,
        "desk_objection.html.j2",
        account,
        title=f"异议 {case.objection_no}",
        case=case,
        comparison_rows=comparison_rows(case.comparison) if case.comparison else [],
        Action=Action,
        decisions=[d.value for d in Decision],
    )


# --- the steps --------------------------------------------------------------------------------------------


def _step(request: Request, objection_no: str, run) -> Response:
    account = _signed_in(request)
    try:
        text = run(_desk(request), account.handler)
    except _REFUSALS as e:
        return _back(request, objection_no, str(e), ok=False)
    return _back(request, objection_no, text)


@router.post("/desk/objections/{objection_no}/accept")
def accept_step(request: Request, objection_no: str) -> Response:
    from flows.objections.desk import accept

    return _step(request, objection_no, lambda desk, h: f"已受理，决定期限 {accept(desk, objection_no, h)}")


@router.post("/desk/objections/{objection_no}/refuse")
def refuse_step(
    request: Request,
    objection_no: str,
    reason: str = Form(..., max_length=40),
    note: str = Form("", max_length=2000),
) -> Response:
    from flows.objections.desk import refuse

    def run(desk, handler):
        try:
            chosen = Refusal(reason)
        except ValueError:
            raise StoreError("请选择不予受理的原因") from None
        refuse(desk, objection_no, chosen, handler, note.strip())
        return f"不予受理：{chosen.value}"

    return _step(request, objection_no, run)


#: A correction file's name as kept: the source's name first, letters, digits, ``_ - .`` only.
_FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@router.post("/desk/objections/{objection_no}/attach")
def attach_step(request: Request, objection_no: str, files: Annotated[list[UploadFile], File()]) -> Response:
    from flows.objections.desk import attach

    def run(desk, handler):
        if not desk.secret:
            raise StoreError(
                "未设置个人信息密钥（GETIHU_SECRET）：更正材料须与本期数据同样处理证件号码，请以该密钥启动网页"
            )
        with tempfile.TemporaryDirectory() as scratch:
            paths = []
            for upload in files:
                name = Path(upload.filename or "").name
                if not _FILE_NAME.match(name) or name.startswith("."):
                    raise StoreError(f"文件名 {name!r} 不可用：请以数据来源命名（如 tax_payment.csv）")
                path = Path(scratch) / name
                path.write_bytes(upload.file.read())
                paths.append(path)
            entries = attach(desk, objection_no, paths, handler)
        return "已附入 " + "；".join(
            f"{e['file']}（{e['rows']} 行，{e['confirmed_by']} {e['confirmation_no']}）" for e in entries
        )

    return _step(request, objection_no, run)


@router.post("/desk/objections/{objection_no}/rejudge")
def rejudge_step(request: Request, objection_no: str) -> Response:
    from flows.objections.desk import run_rejudgment

    def run(desk, handler):
        if not desk.secret:
            raise StoreError("未设置个人信息密钥（GETIHU_SECRET）：重新判定要用与本期相同的密钥，请以该密钥启动网页")
        result = run_rejudgment(desk, objection_no, handler)
        return f"重新判定：{result.before.business_type} → {result.after.business_type}"

    return _step(request, objection_no, run)


@router.post("/desk/objections/{objection_no}/decide")
def decide_step(
    request: Request,
    objection_no: str,
    decision: str = Form(..., max_length=10),
    reasons: str = Form("", max_length=4000),
) -> Response:
    from flows.objections.decisions import decide

    def run(desk, handler):
        try:
            chosen = Decision(decision)
        except ValueError:
            raise StoreError("决定应为 调整 或 维持") from None
        package = decide(desk, objection_no, chosen, reasons, handler)
        return f"决定：{chosen.value}" + (f"；更正包 {package}" if package else "")

    return _step(request, objection_no, run)


@router.post("/desk/objections/{objection_no}/reply")
def reply_step(request: Request, objection_no: str) -> Response:
    from flows.objections.reply import reply

    account = _signed_in(request)
    try:
        reply(_desk(request), objection_no, account.handler, pdf=True)
    except _REFUSALS as e:
        return _back(request, objection_no, str(e), ok=False)
    request.session[_FLASH] = {"text": "答复书已生成并记录", "ok": True}
    return RedirectResponse(f"/desk/objections/{quote(objection_no, safe='')}/reply", status_code=303)


# --- the letter -----------------------------------------------------------------------------------------

_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_TOOLBAR_STYLE = """
.desk-toolbar { font-family: system-ui, sans-serif; font-size: 11pt; margin: 0 0 6mm 0; padding: 2mm 0;
  border-bottom: 1px solid #999; display: flex; gap: 4mm; align-items: center; }
.desk-toolbar button { font: inherit; padding: 1mm 4mm; }
@media print { .desk-toolbar { display: none; } }
@media screen {
  html { background: #e6e6e6; }
  body { max-width: 210mm; margin: 6mm auto; padding: 8mm 18mm 14mm; background: #fff; box-shadow: 0 0 3mm #bbb; }
}
"""


def _letter(request: Request, objection_no: str) -> str:
    """The letter sent (the file ``getihu objection reply`` wrote, dated the day of the reply) once replied;
    before that, a preview as it would be written today."""
    from flows.objections.reply import letter_html

    desk = _desk(request)
    try:
        case = case_file(desk, objection_no)
    except StoreError:
        raise HTTPException(status_code=404) from None
    if not case.letter:
        raise HTTPException(status_code=404)
    sent = objection_dir(desk.home, objection_no) / f"reply-{objection_no}.html"
    if case.status == Status.REPLIED and sent.is_file():
        return sent.read_text(encoding="utf-8")
    return letter_html(desk, objection_no)


@router.get("/desk/letter.css")
def letter_css(request: Request) -> Response:
    """The letter's own A4 style (the page's Content-Security-Policy allows no inline style) and the toolbar's."""
    _signed_in_or_403(request)
    from flows.objections.reply import _TEMPLATE

    source = Path(_TEMPLATE.filename).read_text(encoding="utf-8")
    found = _STYLE.search(source)
    return Response((found.group(1) if found else "") + _TOOLBAR_STYLE, media_type="text/css")


def _signed_in_or_403(request: Request) -> Account:
    account = _account(request)
    if account is None:
        raise HTTPException(status_code=403)
    return account


@router.get("/desk/objections/{objection_no}/reply", response_class=HTMLResponse)
def reply_letter(request: Request, objection_no: str) -> Response:
    """The reply letter as it prints on A4, with a toolbar that does not print."""
    try:
        _signed_in(request)
    except _Anonymous:
        return _to_login(request)
    html = _letter(request, objection_no)
    number = quote(objection_no, safe="")
    pdf = objection_dir(request.app.state.web.home, objection_no) / f"reply-{objection_no}.pdf"
    flash = request.session.pop(_FLASH, None)
    toolbar = (
        '<div class="desk-toolbar">'
        f'<a href="/desk/objections/{number}">返回异议</a>'
        '<button type="button" id="print-letter">打印</button>'
        + (
            f'<a href="/desk/objections/{number}/reply.pdf">PDF</a>'
            if pdf.exists()
            else "<span>尚未生成答复（预览）</span>"
        )
        + (f"<span>{_escape(flash['text'])}</span>" if flash else "")
        + "</div>"
    )
    html = _STYLE.sub('<link rel="stylesheet" href="/desk/letter.css">', html, count=1)
    html = html.replace("<body>", f"<body>\n{toolbar}", 1)
    html = html.replace("</body>", '<script src="/static/desk-print.js"></script>\n</body>', 1)
    return HTMLResponse(html)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


@router.get("/desk/objections/{objection_no}/reply.pdf")
def reply_pdf(request: Request, objection_no: str) -> Response:
    _signed_in_or_403(request)
    try:
        path = objection_dir(request.app.state.web.home, objection_no) / f"reply-{objection_no}.pdf"
    except StoreError:
        raise HTTPException(status_code=404) from None
    if not path.is_file():
        raise HTTPException(status_code=404)
    return FileResponse(path, media_type="application/pdf", filename=path.name)
