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

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

Number = Decimal | float | int

WIDTH = 640
BAR_COLOR = "#0b5c57"
MUTED = "#5b6575"
GRID = "#dde2ea"


def _n(value: Number) -> str:
    """A coordinate as the SVG's text: a float to one decimal, an integer as it is."""
    return f"{value:.1f}" if isinstance(value, float) else str(value)


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


def _svg_open(chart_id: str, width: int, height: int, title: str, desc: str) -> dict:
    """What ``charts/_svg_open.svg`` needs."""
    return {
        "id": chart_id,
        "size": "chart-narrow" if width < WIDTH else "chart-wide",
        "width": _n(width),
        "height": _n(height),
        "title": title,
        "desc": desc,
    }


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
    ticks = []
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        ticks.append(
            {
                "y": _n(y),
                "text_x": _n(left - 6),
                "text_y": _n(y + 4),
                "text": axis_fmt(top_value * i / 4),
            }
        )
    slot = plot_w / len(values)
    bar_w = min(slot * 0.68, 48)
    columns = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + slot * i + (slot - bar_w) / 2
        bar = None
        if value is not None and float(value) > 0:
            bar_h = max(plot_h * float(value) / top_value, 1.5)
            y = top + plot_h - bar_h
            bar = {
                "x": _n(x),
                "y": _n(y),
                "width": _n(bar_w),
                "height": _n(bar_h),
                "value": fmt(value),
            }
        # The newest month always keeps its label.
        labelled = not (len(values) - 1 - i) % label_every
        columns.append(
            {
                "label": label,
                "bar": bar,
                "label_x": _n(left + slot * i + slot / 2) if labelled else None,
            }
        )
    return render_to_string(
        "charts/column_chart.svg",
        {
            "svg": _svg_open(chart_id, width, height, title, desc),
            "left": _n(left),
            "right": _n(width - right),
            "grid": GRID,
            "muted": MUTED,
            "bar_color": BAR_COLOR,
            "ticks": ticks,
            "columns": columns,
            "label_y": _n(top + plot_h + 16),
            "axis": {
                "y": _n(top + plot_h),
                "center_x": _n(left + plot_w / 2),
                "x_label_y": _n(height - 10),
                "x_label": x_label,
                "center_y": _n(top + plot_h / 2),
                "y_label": y_label,
            },
        },
    )


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
    rows = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + row_h * i
        bar_w = plot_w * float(value) / top_value if value else 0
        rows.append(
            {
                "label": label,
                "value": fmt(value),
                "y": _n(y + 6),
                "text_y": _n(y + row_h / 2 + 4),
                "bar_width": _n(max(bar_w, 2)) if bar_w else None,
                "color": colors[i] if colors else BAR_COLOR,
            }
        )
    return render_to_string(
        "charts/bar_chart.svg",
        {
            "svg": _svg_open(chart_id, width, height, title, desc),
            "muted": MUTED,
            "y_label": y_label,
            "y_label_x": _n(left - 8),
            "label_x": _n(left - 8),
            "font_size": _n(12 if narrow else 13),
            "left": _n(left),
            "plot_width": _n(plot_w),
            "bar_height": _n(row_h - 12),
            "value_x": _n(left + plot_w + 8),
            "rows": rows,
            "center_x": _n(left + plot_w / 2),
            "x_label_y": _n(height - 12),
            "x_label": x_label,
        },
    )
