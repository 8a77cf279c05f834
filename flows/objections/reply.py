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
from pathlib import Path

import jinja2

from flows.objections.desk import Desk, _expect
from flows.objections.store import StoreError, objection_dir
from flows.reference import province_regions
from schemas.objections import DEFAULT_PERIODS, REFUSAL_LABELS, Decision, Event, Refusal, Status

_TEMPLATE = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(
    """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{{ title }}（{{ o.objection_no }}）</title>
<style>
@page { size: A4; margin: 25mm 22mm 22mm 22mm; }
body { font-family: "STSong-Light", "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 12pt;
       line-height: 1.7; color: #000; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 4mm 0; }
p.no { text-align: center; margin: 0 0 8mm 0; }
table { border-collapse: collapse; width: 100%; margin: 3mm 0; }
th, td { border: 0.5pt solid #000; padding: 1.5mm 2mm; font-size: 10.5pt; vertical-align: top; }
th { background: #eee; }
td.changed { font-weight: bold; }
p.sign { text-align: right; margin-top: 12mm; }
tr { page-break-inside: avoid; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="no">异议编号：{{ o.objection_no }}</p>
<p>{{ o.filed_by or "申诉人" }}：</p>
<p>{{ received }}，本局收到你对{{ o.name or "你户" }}（统一社会信用代码 {{ o.uscc }}）
判定日期为 {{ o.as_of }} 的个体工商户分型结果提出的异议{% if o.claimed_type %}，主张分型为“{{ o.claimed_type }}”{% endif %}。
{% if o.grounds %}你提出的理由是：{{ o.grounds }}。{% endif %}现答复如下：</p>
{% if refused %}
<p>经审查，{{ refusal_label }}，根据个体工商户分型异议处理的有关规定，本局决定不予受理。</p>
{% else %}
<p>本局受理后，按照判定日期 {{ o.as_of }} 和当期分型标准（{{ ruleset }}），以当期数据及有关部门确认的更正材料，
对你户重新进行了分型判定。</p>
{% if o.decision == "调整" %}
<p><b>决定：调整。</b>你户该期分型结果由“{{ o.type_before }}”调整为“{{ o.type_after }}”。
更正结果已报送个体工商户名录{% if package %}（更正包 {{ package }}）{% endif %}。</p>
{% else %}
<p><b>决定：维持。</b>经重新判定，你户该期分型结果仍为“{{ o.type_before }}”，予以维持。</p>
{% endif %}
<p>理由：{{ o.decision_reasons }}</p>
<p>你户在判定日期的有关情况如下（仅为你户本身的数据）：</p>
<table>
<tr><th>项目</th><th>原判定</th><th>重新判定</th></tr>
{% for f in features %}
<tr><td>{{ f.label }}</td><td>{{ f.before_text }}</td><td{% if f.changed %} class="changed"{% endif %}>{{ f.after_text }}</td></tr>
{% endfor %}
</table>
<table>
<tr><th></th><th>原判定</th><th>重新判定</th></tr>
<tr><td>分型结果</td><td>{{ c.type_before }}</td><td>{{ c.type_after }}</td></tr>
<tr><td>满足的分型条件</td><td>{{ codes(c.conditions_met_before) }}</td><td>{{ codes(c.conditions_met_after) }}</td></tr>
<tr><td>未满足的基础条件</td><td>{{ codes(c.criteria_failed_before) }}</td><td>{{ codes(c.criteria_failed_after) }}</td></tr>
</table>
{% if corrections %}
<p>所依据的更正材料：{% for r in corrections %}{{ r.confirmed_by }}{{ r.confirmation_no }}{% if not loop.last %}；{% endif %}{% endfor %}。</p>
{% endif %}
{% endif %}
<p>如对本答复不服，可以自收到本答复之日起{{ review_days }}日内依法申请行政复议，或者自收到本答复之日起{{ lawsuit_months }}个月内依法向人民法院提起行政诉讼。</p>
<p>特此答复。</p>
<p class="sign">{{ office }}<br>{{ today }}</p>
</body>
</html>
"""
)


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
        from flows.warehouse import open_read_only

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
    result = pisa.CreatePDF(html.replace('"STSong-Light", "SimSun"', '"STSong-Light"'), dest=out, encoding="utf-8")
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
