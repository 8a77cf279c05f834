"""Replies (答复, objections.md, "The procedure" 5): a letter in Chinese per objection — the decision, the facts it
rests on (the business's own conditions and feature values, nobody else's) and the remedies — as HTML that
prints on A4, and as PDF through ``xhtml2pdf``.

The PDF uses reportlab's built-in Adobe CID font STSong-Light: nothing to download and nothing embedded, so a
reader shows it with its own Song typeface (every common PDF reader in China has one). The letter carries no
phone number and no ID number: the objection holds only a masked phone, which the letter does not print.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import jinja2

from flows.objections.desk import Desk, _expect
from flows.objections.store import StoreError, objection_dir
from reference import province_regions
from schemas.objections import DEFAULT_PERIODS, REFUSAL_LABELS, Decision, Event, Refusal, Status

_TEMPLATE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
).get_template("reply.html.j2")


def _day(text: str | None) -> str:
    if not text:
        return ""
    day = dt.date.fromisoformat(text[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def _value(value: object) -> str:
    if value is None:
        return "无"
    if value is True:
        return "是"
    if value is False:
        return "否"
    return str(value)


def letter_html(desk: Desk, objection_no: str) -> str:
    """The reply letter of an objection as HTML (A4)."""
    with desk.store() as store:
        o = store.get(objection_no)
        latest = store.latest_rejudgment(objection_no)
        amendment = store.con.execute(
            "SELECT package FROM amendments WHERE objection_no = ? ORDER BY amendment_id DESC LIMIT 1", (objection_no,)
        ).fetchone()
    refused = o["status"] == Status.REFUSED or bool(o["refusal"])
    compared = json.loads(latest["comparison"]) if latest is not None and not refused else {}
    features = [
        {**f, "before_text": _value(f["before"]), "after_text": _value(f["after"])}
        for f in compared.get("features", [])
    ]
    names = province_regions(o["province"])["province_name"] if o["province"] else []
    office = f"{names[0]}市场监督管理局" if len(names) else "省级市场监督管理局"
    ruleset = ""
    if desk.warehouse.exists() and o["cycle_id"]:
        from flows.storage.warehouse import open_read_only

        with open_read_only(desk.warehouse) as con:
            found = con.execute(
                "SELECT ruleset_id, ruleset_version FROM cycles WHERE cycle_id = ?", [o["cycle_id"]]
            ).fetchone()
        ruleset = f"{found[0]}-{found[1]}" if found else ""
    return _TEMPLATE.render(
        title="个体工商户分型异议不予受理通知书" if refused else "个体工商户分型异议答复书",
        o=o,
        refused=refused,
        refusal_label=REFUSAL_LABELS[Refusal(o["refusal"])] if refused else "",
        received=_day(o["received_on"]),
        ruleset=ruleset,
        features=features,
        c=compared,
        codes=lambda items: "、".join(f"{i['code']}（{i['label']}）" for i in items) or "无",
        corrections=compared.get("corrections", []),
        package=amendment[0] if amendment else None,
        review_days=desk.periods.review_days if desk.periods else DEFAULT_PERIODS.review_days,
        lawsuit_months=desk.periods.lawsuit_months,
        office=office,
        today=_day(desk.today().isoformat()),
    )


def html_to_pdf(html: str) -> bytes:
    """The letter as PDF (xhtml2pdf on reportlab, the CID font STSong-Light for Chinese)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from xhtml2pdf import pisa

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    # xhtml2pdf takes the first font family only: the CID font, which every PDF reader in China can show
    # and would draw the <title> in Helvetica: the PDF goes without it
    source = re.sub(r"<title>.*?</title>", "", html.replace('"STSong-Light", "SimSun"', '"STSong-Light"'))
    result = pisa.CreatePDF(source, dest=out, encoding="utf-8")
    if result.err:
        raise RuntimeError(f"xhtml2pdf could not render the letter ({result.err} errors)")
    return out.getvalue()


def reply(desk: Desk, objection_no: str, handler: str, pdf: bool = True) -> list[Path]:
    """Write the letter (HTML, and PDF) to ``<home>/objections/<异议编号>/`` and record the reply."""
    with desk.store() as store:
        row = store.get(objection_no)
    _expect(row, Status.REFUSED, Status.DECIDED, Status.AMENDED, Status.REPLIED)
    if row["decision"] == Decision.ADJUST.value and not row["amended_on"]:
        raise StoreError(f"异议 {objection_no} 已决定调整但尚未更正，请先完成更正再答复")
    html = letter_html(desk, objection_no)
    folder = objection_dir(desk.home, objection_no)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / f"reply-{objection_no}.html"]
    written[0].write_text(html, encoding="utf-8")
    if pdf:
        written.append(folder / f"reply-{objection_no}.pdf")
        written[1].write_bytes(html_to_pdf(html))
    with desk.store() as store, store.transaction():
        store.update(objection_no, status=str(Status.REPLIED), replied_on=desk.today().isoformat())
        store.event(objection_no, Event.REPLIED, handler, {"files": [p.name for p in written]})
    return written
