"""Small bar charts as inline SVG, drawn on the server (no JavaScript, nothing from a CDN).

Each chart is ``role="img"`` with a ``<title>`` and a ``<desc>`` that sums it up in words;
every bar carries its own ``<title>`` (a tooltip, and read out by screen readers that walk
the SVG). Pages also show the figures as a table next to the chart. A chart with nothing to
draw returns ``None`` so the page can say so in words instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

Number = Decimal | float | int

WIDTH = 640
BAR_COLOR = "#0b5c57"
MUTED = "#5b6575"
GRID = "#dde2ea"


def _tag(template: str, **kwargs) -> str:
    """``format_html`` with coordinates rounded to one decimal (it escapes every argument,
    so numbers are made text first)."""
    return format_html(
        template,
        **{k: f"{v:.1f}" if isinstance(v, float) else v for k, v in kwargs.items()},
    )


def nice_max(value: float) -> float:
    """A round number at or above ``value`` for the top of the axis (1, 2, 2.5, 5 × 10ⁿ)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    base = 10**exponent
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * base:
            return step * base
    return 10 * base  # pragma: no cover - the loop always returns


def grouped(value: Number, decimals: int = 0) -> str:
    """``12345.6`` → ``12 346`` (Norwegian grouping with a no-break space, comma decimals)."""
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def _has_values(values: Sequence[Number | None], *, zero_is_data: bool = False) -> bool:
    """Whether there is anything to draw: a non-zero value, or with ``zero_is_data`` any value
    at all (an average of 0 days is a result; 0 kroner collected is not)."""
    if zero_is_data:
        return any(v is not None for v in values)
    return any(v for v in values if v is not None)


def _svg_open(chart_id: str, width: int, height: int, title: str, desc: str) -> str:
    return _tag(
        '<svg class="chart {size}" id="{id}" viewBox="0 0 {w} {h}" width="100%" role="img" '
        'aria-labelledby="{id}-title" aria-describedby="{id}-desc" preserveAspectRatio="xMidYMid meet" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>',
        id=chart_id,
        size="chart-narrow" if width < WIDTH else "chart-wide",
        w=width,
        h=height,
        title=title,
        desc=desc,
    )


def column_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[Number | None],
    x_label: str,
    y_label: str,
    fmt: Callable[[Any], str],
    axis_fmt: Callable[[Any], str] = grouped,
    height: int = 280,
    width: int = WIDTH,
    zero_is_data: bool = False,
) -> SafeString | None:
    """Vertical bars, one per label (months), with a y axis of four steps.

    ``None`` values are drawn as no bar. A narrow chart (a phone's, ``width`` < 640)
    labels every other month so the labels do not run into each other."""
    if not _has_values(values, zero_is_data=zero_is_data):
        return None
    left, right, top, bottom = (64 if width >= WIDTH else 62), 12, 16, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    label_every = 1 if width >= WIDTH or len(values) <= 6 else 2
    top_value = nice_max(max(float(v) for v in values if v is not None))
    parts = [_svg_open(chart_id, width, height, title, desc)]
    for i in range(5):
        tick = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            _tag(
                '<line x1="{x1}" x2="{x2}" y1="{y}" y2="{y}" stroke="{c}" />'
                '<text x="{tx}" y="{ty}" text-anchor="end" font-size="11" fill="{m}">{t}</text>',
                x1=left,
                x2=width - right,
                y=y,
                c=GRID,
                tx=left - 6,
                ty=y + 4,
                m=MUTED,
                t=axis_fmt(tick),
            )
        )
    slot = plot_w / len(values)
    bar_w = min(slot * 0.68, 48)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + slot * i + (slot - bar_w) / 2
        if value is not None and float(value) > 0:
            bar_h = max(plot_h * float(value) / top_value, 1.5)
            parts.append(
                _tag(
                    '<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="2" '
                    'fill="{c}"><title>{label}: {value}</title></rect>',
                    x=x,
                    y=top + plot_h - bar_h,
                    w=bar_w,
                    h=bar_h,
                    c=BAR_COLOR,
                    label=label,
                    value=fmt(value),
                )
            )
        if (len(values) - 1 - i) % label_every:
            continue  # the newest month always keeps its label
        parts.append(
            _tag(
                '<text x="{x}" y="{y}" text-anchor="middle" font-size="11" fill="{m}">'
                "{label}</text>",
                x=left + slot * i + slot / 2,
                y=top + plot_h + 16,
                m=MUTED,
                label=label,
            )
        )
    parts.append(
        _tag(
            '<line x1="{l}" x2="{r}" y1="{y}" y2="{y}" stroke="{m}" />'
            '<text x="{cx}" y="{xy}" text-anchor="middle" font-size="12" fill="{m}">{xl}</text>'
            '<text transform="translate(12 {cy}) rotate(-90)" text-anchor="middle" '
            'font-size="12" fill="{m}">{yl}</text></svg>',
            l=left,
            r=width - right,
            y=top + plot_h,
            m=MUTED,
            cx=left + plot_w / 2,
            xy=height - 10,
            xl=x_label,
            cy=top + plot_h / 2,
            yl=y_label,
        )
    )
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is format_html-escaped


def bar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[Number | None],
    x_label: str,
    y_label: str,
    fmt: Callable[[Any], str],
    max_value: Number | None = None,
    colors: Sequence[str] | None = None,
    width: int = WIDTH,
) -> SafeString | None:
    """Horizontal bars, one row per label (statuses, entry steps), each with its value."""
    if not _has_values(values):
        return None
    narrow = width < WIDTH
    left, right, top, row_h = (136 if narrow else 170), (68 if narrow else 90), 26, 34
    height = top + row_h * len(values) + 40
    plot_w = width - left - right
    top_value = float(max_value) if max_value else max(float(v) for v in values if v is not None)
    top_value = top_value or 1.0
    parts = [_svg_open(chart_id, width, height, title, desc)]
    parts.append(
        _tag(
            '<text x="{x}" y="{y}" text-anchor="end" font-size="12" fill="{m}">{yl}</text>',
            x=left - 8,
            y=16,
            m=MUTED,
            yl=y_label,
        )
    )
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + row_h * i
        color = colors[i] if colors else BAR_COLOR
        bar_w = plot_w * float(value) / top_value if value else 0
        parts.append(
            _tag(
                '<text x="{lx}" y="{ty}" text-anchor="end" font-size="{fs}" fill="#1d2430">'
                "{label}</text>"
                '<rect x="{x}" y="{ry}" width="{w}" height="{h}" rx="3" fill="#eef2f6" />',
                lx=left - 8,
                ty=y + row_h / 2 + 4,
                fs=12 if narrow else 13,
                label=label,
                x=left,
                ry=y + 6,
                w=plot_w,
                h=row_h - 12,
            )
        )
        if bar_w:
            parts.append(
                _tag(
                    '<rect x="{x}" y="{ry}" width="{w}" height="{h}" rx="3" fill="{c}">'
                    "<title>{label}: {value}</title></rect>",
                    x=left,
                    ry=y + 6,
                    w=max(bar_w, 2),
                    h=row_h - 12,
                    c=color,
                    label=label,
                    value=fmt(value),
                )
            )
        parts.append(
            _tag(
                '<text x="{vx}" y="{ty}" font-size="13" font-weight="600" fill="#1d2430">'
                "{value}</text>",
                vx=left + plot_w + 8,
                ty=y + row_h / 2 + 4,
                value=fmt(value),
            )
        )
    parts.append(
        _tag(
            '<text x="{cx}" y="{y}" text-anchor="middle" font-size="12" fill="{m}">{xl}</text>'
            "</svg>",
            cx=left + plot_w / 2,
            y=height - 12,
            m=MUTED,
            xl=x_label,
        )
    )
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is format_html-escaped
