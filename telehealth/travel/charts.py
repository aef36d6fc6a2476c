"""Charts for the travel report as inline SVG: pure functions from rows to markup, no I/O.

Every chart reads without JavaScript: it is an image (`role="img"`) whose `<title>` names it
and whose `<desc>` lists every value, so a screen reader hears the figures the bars show. Value
labels are drawn as text. Negative values (a hub further away than the hospital is extra
travel) are drawn the other way from a visible zero line, in a second colour.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

BLUE = "#005eb8"  # NHS blue: travel avoided
RED = "#d5281b"  # NHS red: extra travel (negative); 4.6:1 against white
TEXT = "#212b32"  # NHS text colour
GREY = "#4c6272"  # NHS secondary text colour, for the zero line's label
FAMILY = 'font-family="Frutiger W01, Arial, sans-serif"'
FONT = f'{FAMILY} font-size="14"'
LABEL_CHARS = 24

Rows = Sequence[tuple[str, Decimal]]


def number(value: Decimal) -> str:
    """A figure as the tables show it: thousands separated, its decimal places kept."""
    return f"{value:,}"


def _describe(rows: Rows, unit: str) -> str:
    return "; ".join(f"{label}: {number(value)} {unit}" for label, value in rows) + "."


def _chart_id(title: str) -> str:
    return "chart-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "untitled")


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _open(title: str, desc: str, width: int, height: int) -> list[str]:
    ident = _chart_id(title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{ident}-title {ident}-desc" class="bt-chart">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]


def _empty(title: str, width: int) -> Markup:
    parts = _open(title, "No data for this selection.", width, 60)
    parts.append(f'<text x="8" y="36" fill="{TEXT}" {FONT}>No data</text></svg>')
    return Markup("".join(parts))


def _scale(values: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """The largest positive and the largest negative extent, so zero sits where it must."""
    high = max([Decimal(0), *values])
    low = max([Decimal(0), *(-v for v in values)])
    return high, low


def _px(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')):f}"


def bar_chart(
    rows: Rows, *, title: str, unit: str, width: int = 640, bar_height: int = 28
) -> Markup:
    """Horizontal bars, one per row (e.g. per Integrated Care Community), labelled left."""
    if not rows:
        return _empty(title, width)
    high, low = _scale([v for _, v in rows])
    label_w, value_w, gap = 190, 110, 6
    left = label_w + (value_w if low else 0)
    plot = Decimal(width - left - value_w)
    span = (high + low) or Decimal(1)
    zero = left + plot * low / span
    height = len(rows) * (bar_height + gap) + gap + 22
    parts = _open(title, _describe(rows, unit), width, height)
    for n, (label, value) in enumerate(rows):
        y = gap + n * (bar_height + gap)
        middle = y + bar_height // 2 + 5
        length = plot * abs(value) / span
        x = zero if value >= 0 else zero - length
        colour = BLUE if value >= 0 else RED
        parts.append(
            f'<text x="{label_w - 8}" y="{middle}" text-anchor="end" fill="{TEXT}" {FONT}>'
            f"{escape(_short(label))}</text>"
            f'<rect x="{_px(x)}" y="{y}" width="{_px(length)}" height="{bar_height}" '
            f'fill="{colour}"><title>{escape(label)}: {escape(number(value))} '
            f"{escape(unit)}</title></rect>"
        )
        tip, anchor = (x + length + 6, "start") if value >= 0 else (x - 6, "end")
        parts.append(
            f'<text x="{_px(tip)}" y="{middle}" text-anchor="{anchor}" fill="{TEXT}" {FONT} '
            f'class="bt-chart__value">{escape(number(value))}</text>'
        )
    bottom = height - 22
    parts.append(
        f'<line x1="{_px(zero)}" y1="0" x2="{_px(zero)}" y2="{bottom}" stroke="{TEXT}" '
        f'stroke-width="2" class="bt-chart__zero"/>'
        f'<text x="{_px(zero)}" y="{bottom + 16}" text-anchor="middle" fill="{GREY}" {FONT}>'
        f"0 {escape(unit)}</text></svg>"
    )
    return Markup("".join(parts))


def column_chart(
    rows: Rows, *, title: str, unit: str, width: int = 640, height: int = 280
) -> Markup:
    """Vertical columns in the rows' order (e.g. a monthly trend), labelled beneath."""
    if not rows:
        return _empty(title, width)
    high, low = _scale([v for _, v in rows])
    step = Decimal(width - 8) / len(rows)
    turn = step < 64  # crowded: the labels stand up at an angle
    top, below = (70 if turn else 24), 64
    plot = Decimal(height - top - below - (24 if low else 0))
    span = (high + low) or Decimal(1)
    zero = top + plot * high / span
    column = step * Decimal("0.7")
    parts = _open(title, _describe(rows, unit), width, height)
    for n, (label, value) in enumerate(rows):
        centre = 8 + step * n + step / 2
        length = plot * abs(value) / span
        y = zero - length if value >= 0 else zero
        colour = BLUE if value >= 0 else RED
        parts.append(
            f'<rect x="{_px(centre - column / 2)}" y="{_px(y)}" width="{_px(column)}" '
            f'height="{_px(length)}" fill="{colour}"><title>{escape(label)}: '
            f"{escape(number(value))} {escape(unit)}</title></rect>"
        )
        if value >= 0:
            parts.append(_text(centre, y - 6, number(value), "bt-chart__value", turn, "start"))
        else:
            parts.append(_text(centre, y + length + 16, number(value), "bt-chart__value", turn))
        foot = Decimal(height - below + 18)
        parts.append(_text(centre, foot, label, "bt-chart__label", turn))
    parts.append(
        f'<line x1="0" y1="{_px(zero)}" x2="{width}" y2="{_px(zero)}" stroke="{TEXT}" '
        f'stroke-width="2" class="bt-chart__zero"/></svg>'
    )
    return Markup("".join(parts))


def _text(
    x: Decimal, y: Decimal, content: str, kind: str, turn: bool, turned_anchor: str = "end"
) -> str:
    """A label centred on x; when turned it runs at an angle from (x, y), up to the right
    for `start`, down to the left for `end`."""
    at = f'x="{_px(x)}" y="{_px(y)}"'
    if turn:
        placed = (
            f'{at} text-anchor="{turned_anchor}" font-size="12" '
            f'transform="rotate(-60 {_px(x)} {_px(y)})"'
        )
    else:
        placed = f'{at} text-anchor="middle" font-size="14"'
    return f'<text {placed} fill="{TEXT}" {FAMILY} class="{kind}">{escape(content)}</text>'
