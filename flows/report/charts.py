"""Inline SVG bar charts for the run report: no scripts, no external files, readable when printed.

Every label and value is escaped; the result is markup to place in the page as is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT_SIZE = 12
LABEL_GAP = 8


@dataclass(frozen=True)
class Series:
    name: str
    color: str


def text_width(text: str) -> float:
    """Roughly how wide ``text`` is drawn: CJK characters are square, Latin ones about 0.6 of the size."""
    return sum(FONT_SIZE if ord(ch) >= 0x2E80 else FONT_SIZE * 0.6 for ch in text)


def _label_room(labels: Sequence[str], given: float | None) -> float:
    return given if given is not None else max([text_width(t) for t in labels] + [0]) + LABEL_GAP + 4


def count(value: float) -> str:
    return f"{value:,.0f}"


def share(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "–"


def _text(x: float, y: float, text: str, *, anchor: str = "start", weight: str = "normal", fill: str = "#333") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{FONT_SIZE}" '
        f'font-weight="{weight}" fill="{fill}" dominant-baseline="central">{escape(text)}</text>'
    )


def _rect(x: float, y: float, w: float, h: float, color: str, title: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{color}">'
        f"<title>{escape(title)}</title></rect>"
    )


def _legend(series: Sequence[Series], width: float) -> tuple[str, float]:
    parts, x = [], 0.0
    for s in series:
        parts.append(f'<rect x="{x:.1f}" y="2" width="12" height="12" fill="{s.color}"/>')
        parts.append(_text(x + 16, 8, s.name))
        x += 16 + FONT_SIZE * (len(s.name) + 2)
    return "".join(parts), 24.0


def _svg(width: float, height: float, body: str, title: str) -> Markup:
    return Markup(
        f'<svg role="img" aria-label="{escape(title)}" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    color: str | Sequence[str],
    value_label: Callable[[float], str] = count,
    label_width: float | None = None,
    width: float = 900,
    bar_height: float = 18,
    gap: float = 6,
) -> Markup:
    """One horizontal bar per item, scaled to the largest, its value printed after it.

    The labels get the room the longest needs unless ``label_width`` is given.
    """
    colors = [color] * len(items) if isinstance(color, str) else list(color)
    label_width = _label_room([label for label, _ in items], label_width)
    value_width = 90
    scale = (width - label_width - value_width) / max([v for _, v in items] + [1])
    rows = []
    for i, ((label, value), c) in enumerate(zip(items, colors, strict=True)):
        y = i * (bar_height + gap)
        middle = y + bar_height / 2
        rows.append(_text(label_width - LABEL_GAP, middle, label, anchor="end"))
        rows.append(_rect(label_width, y, value * scale, bar_height, c, f"{label}：{value_label(value)}"))
        rows.append(_text(label_width + value * scale + 6, middle, value_label(value)))
    height = max(len(items) * (bar_height + gap) - gap, bar_height)
    return _svg(width, height, "".join(rows), title)


def stacked_bar_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[Series],
    *,
    shares: bool = False,
    label_width: float | None = None,
    width: float = 900,
    bar_height: float = 18,
    gap: float = 6,
) -> Markup:
    """One stacked horizontal bar per row, a segment per series; ``shares`` draws every bar at full width.

    With ``shares`` the bars compare proportions between rows of very different size (counties); the
    total is printed after each bar either way.
    """
    legend, top = _legend(series, width)
    label_width = _label_room([label for label, _ in rows], label_width)
    value_width = 90
    room = width - label_width - value_width
    largest = max([sum(values) for _, values in rows] + [1])
    parts = [legend]
    for i, (label, values) in enumerate(rows):
        total = sum(values)
        scale = (room / total if total else 0) if shares else room / largest
        y = top + i * (bar_height + gap)
        middle = y + bar_height / 2
        parts.append(_text(label_width - LABEL_GAP, middle, label, anchor="end"))
        x = label_width
        for value, s in zip(values, series, strict=True):
            if value:
                tip = f"{label} · {s.name}：{count(value)}（{share(value, total)}）"
                parts.append(_rect(x, y, value * scale, bar_height, s.color, tip))
                x += value * scale
        parts.append(_text(x + 6, middle, count(total)))
    height = top + max(len(rows) * (bar_height + gap) - gap, bar_height)
    return _svg(width, height, "".join(parts), title)
