"""The public pages (查询公示 and 异议申诉): no login, public columns only (``flows/web/public_data.py``).

``/`` search · ``/search?q=`` by name (part, paginated) or by USCC / 注册号 (exact) · ``/business/<USCC or 注册号>``
· ``/standard/<P>`` the province's typing standard · ``/objection`` the operator's objection form.
"""

from __future__ import annotations

import re
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from flows.objections.desk import Desk, file_from_web
from flows.objections.store import Store, StoreError
from flows.web import public_data
from flows.web.app import WebContext, render
from flows.web.identity import is_operator
from flows.web.security import rate_limited
from reference import filed_rulesets, ruleset_for
from schemas.objections import CLAIMABLE_TYPES, OBJECTION, REFUSAL_LABELS, Refusal
from schemas.vocabulary import CRITERIA_LABELS

router = APIRouter()

#: Who files an objection that comes through the public form (the store's handler of the FILED event).
WEB_HANDLER = "网上申诉"
_HEADERS = {c.name: c.header for c in OBJECTION.columns}
_numbering = threading.Lock()


def _web(request: Request) -> WebContext:
    return request.app.state.web


def _provinces() -> list[dict[str, str]]:
    names = public_data.province_names()
    return [{"code": p, "name": names.get(p, p)} for p in sorted(filed_rulesets())]


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    return render(request, "index.html.j2", title="查询公示", provinces=_provinces(), q="")


@router.get("/search", response_class=HTMLResponse, dependencies=[Depends(rate_limited("search"))])
async def search(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    text = q.strip()[: public_data.MAX_QUERY]
    if not text:
        return render(request, "search.html.j2", title="查询", q="", result=None)
    warehouse = _web(request).warehouse

    def run() -> public_data.SearchResult:
        with warehouse.cursor() as con:
            return public_data.search(con, text, page)

    # queued before taking a worker thread: name searches never hold up look-ups by code, scans of every name
    # (a one-character text) never hold up name searches through the index
    lane = public_data.search_lane(text)
    async with request.app.state.read_lanes[lane]:
        result = await run_in_threadpool(run)
    return render(
        request, "search.html.j2", title=f"查询：{text}", q=text, result=result, max_matches=public_data.MAX_MATCHES
    )


@router.get("/business/{code}", response_class=HTMLResponse, dependencies=[Depends(rate_limited("search"))])
def business(request: Request, code: str) -> HTMLResponse:
    web = _web(request)
    with web.warehouse.cursor() as con:
        found = public_data.business(con, code, web.clock().date())
    if found is None:
        raise HTTPException(status_code=404)
    names = public_data.province_names()
    return render(
        request,
        "business.html.j2",
        title=found.business["name"] or found.business["uscc"] or "个体工商户",
        found=found,
        b=found.business,
        province_name=names.get(found.business["province"], found.business["province"]),
        standard_title=_standard_title(found.business["province"]),
    )


def _standard_title(province: str) -> str:
    try:
        return ruleset_for(province).title
    except Exception:  # a province without a filed standard file here: the page still shows its id and version
        return ""


@router.get("/standard/{province}", response_class=HTMLResponse)
def standard(request: Request, province: str) -> HTMLResponse:
    if not re.fullmatch(r"\d{2}", province) or province not in filed_rulesets():
        raise HTTPException(status_code=404)
    ruleset = ruleset_for(province)
    by_type = {kind: [c for c in ruleset.conditions if c.type == kind] for kind in ("成长型", "发展型")}
    return render(
        request,
        "standard.html.j2",
        title=ruleset.title,
        ruleset=ruleset,
        by_type=by_type,
        criteria=CRITERIA_LABELS,
        province_name=public_data.province_names().get(province, province),
    )


# --- 异议申诉 -------------------------------------------------------------------------------------------


@router.get("/objection", response_class=HTMLResponse)
def objection_form(request: Request, uscc: Annotated[str, Query(max_length=40)] = "") -> HTMLResponse:
    return render(request, "objection.html.j2", title="异议申诉", form={"uscc": uscc}, errors={}, types=CLAIMABLE_TYPES)


_PHONE = re.compile(r"^[0-9+\- ]{7,20}$")


def _form_errors(form: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not form["uscc"]:
        errors["uscc"] = "请填写统一社会信用代码"
    if not form["operator_name"]:
        errors["operator_name"] = "请填写经营者姓名"
    if not re.fullmatch(r"[0-9]{17}[0-9Xx]", form["operator_id"]):
        errors["operator_id"] = "请填写18位居民身份证号码"
    if form["claimed_type"] not in CLAIMABLE_TYPES:
        errors["claimed_type"] = "请选择主张的分型结果"
    if not form["grounds"]:
        errors["grounds"] = "请填写异议理由"
    if not _PHONE.fullmatch(form["phone"]):
        errors["phone"] = "请填写联系电话（7至20位数字）"
    return errors


def _next_number(store: Store, year: int, province: str) -> str:
    prefix = f"YY{year}{province}"
    numbers = [row["objection_no"] for row in store.all() if row["objection_no"].startswith(prefix)]
    sequence = max((int(n[len(prefix) :]) for n in numbers if n[len(prefix) :].isdigit()), default=0) + 1
    return f"{prefix}{sequence:05d}"


@router.post("/objection", response_class=HTMLResponse, dependencies=[Depends(rate_limited("filing"))])
def objection_file(
    request: Request,
    uscc: Annotated[str, Form(max_length=40)] = "",
    operator_name: Annotated[str, Form(max_length=50)] = "",
    operator_id: Annotated[str, Form(max_length=30)] = "",
    claimed_type: Annotated[str, Form(max_length=20)] = "",
    grounds: Annotated[str, Form(max_length=2000)] = "",
    materials: Annotated[str, Form(max_length=500)] = "",
    phone: Annotated[str, Form(max_length=30)] = "",
) -> HTMLResponse:
    web = _web(request)
    form = {
        "uscc": public_data.code_form(uscc),
        "operator_name": operator_name.strip(),
        "operator_id": operator_id.strip(),
        "claimed_type": claimed_type,
        "grounds": grounds.strip(),
        "materials": materials.strip(),
        "phone": phone.strip(),
    }
    shown = {k: v for k, v in form.items() if k not in ("operator_id", "phone")}  # never echoed back

    def again(errors: dict[str, str], status: int = 400) -> HTMLResponse:
        return render(
            request,
            "objection.html.j2",
            status_code=status,
            title="异议申诉",
            form=shown,
            errors=errors,
            types=CLAIMABLE_TYPES,
        )

    errors = _form_errors(form)
    if errors:
        return again(errors)
    with web.warehouse.cursor() as con:
        found = public_data.business(con, form["uscc"], web.clock().date())
    if found is None or found.business["uscc"] != form["uscc"]:
        return again({"uscc": "没有查到这个统一社会信用代码的个体工商户分型结果，请核对后重新填写"})
    b = found.business
    if web.secret is None or not is_operator(
        web.home,
        b["province"],
        b["cycle_id"],
        b["business_key"],
        form["operator_name"],
        form["operator_id"],
        web.secret,
    ):
        return again({"identity": "经营者姓名或身份证件号码与登记信息不一致，异议未提交。请核对后重新填写。"}, 403)

    desk = Desk(home=web.home, secret=web.secret, clock=web.clock)
    today = desk.today()
    with _numbering:
        for _ in range(5):  # a number taken meanwhile by another filing (an import): take the next
            with desk.store() as store:
                number = _next_number(store, today.year, b["province"])
            record = {
                _HEADERS["objection_no"]: number,
                _HEADERS["uscc"]: form["uscc"],
                _HEADERS["as_of"]: b["as_of"].isoformat(),
                _HEADERS["filed_on"]: today.isoformat(),
                _HEADERS["filed_by"]: form["operator_name"],
                _HEADERS["phone"]: form["phone"],
                _HEADERS["claimed_type"]: form["claimed_type"],
                _HEADERS["grounds"]: form["grounds"],
                _HEADERS["materials"]: form["materials"],
            }
            try:
                result = file_from_web(desk, record, WEB_HANDLER)
            except StoreError:
                continue
            break
        else:
            raise HTTPException(status_code=503)
    if result.quarantine is not None and result.quarantine.height:
        return again({"form": "填写的内容不符合要求，请核对后重新提交。"})
    with desk.store() as store:
        filed = store.get(number)
    refusal = Refusal(filed["refusal"]) if filed["refusal"] else None
    return render(
        request,
        "objection_filed.html.j2",
        title="异议已提交",
        number=number,
        b=b,
        claimed_type=form["claimed_type"],
        received_on=filed["received_on"],
        intake_due=filed["intake_due"],
        refusal=REFUSAL_LABELS[refusal] if refusal else None,
        decision_days=desk.periods.decision_working_days,
        intake_days=desk.periods.intake_working_days,
    )
