"""The equity chart: lines of values over time drawn as server-side SVG (no script, no library).

:func:`line_chart` is pure: series in, markup out. Labels (connection names, currencies) are
escaped; the axes carry the exact values of the extremes (the lowest and highest value, the
first and last time), as text, never rounded through a float. Floats are used only for the
pixel positions of the lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from html import escape

from attrs import frozen
from markupsafe import Markup

__all__ = ["PALETTE", "ChartSeries", "line_chart"]

PALETTE = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7f8f")
"""The lines' colours, in turn (a series beyond the last starts again at the first)."""

_LEFT, _RIGHT, _TOP, _BOTTOM = 12, 12, 28, 40
_LEGEND_ROW = 18


@frozen(kw_only=True)
class ChartSeries:
    """One line: a label (``main · USD``) and its points, oldest first.

    :param points: ``(time, value)`` pairs; times are UTC.
    """

    label: str
    points: tuple[tuple[datetime, Decimal], ...]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _number(value: Decimal) -> str:
    return format(value, "f")


def _extent(series: Sequence[ChartSeries]) -> tuple[datetime, datetime, Decimal, Decimal]:
    times = [at for each in series for at, _ in each.points]
    values = [value for each in series for _, value in each.points]
    return min(times), max(times), min(values), max(values)


def line_chart(
    series: Sequence[ChartSeries], *, title: str, width: int = 720, height: int = 300
) -> Markup:
    """An SVG chart of ``series``, one polyline each (a lone point is drawn as a dot), with a
    legend, the lowest and highest value on the vertical axis and the first and last time on
    the horizontal one, all exact. A chart with no point says so instead.

    :param title: the chart's accessible name (escaped, like every label).
    """
    drawn = [each for each in series if each.points]
    legend_height = _LEGEND_ROW * len(drawn)
    total_height = height + legend_height
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {total_height}" width="100%" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not drawn:
        parts.append(
            f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" '
            f'class="chart-empty">{escape(title)}: —</text></svg>'
        )
        return Markup("".join(parts))
    first, last, low, high = _extent(drawn)
    plot_w = width - _LEFT - _RIGHT
    plot_h = height - _TOP - _BOTTOM
    span_s = (last - first).total_seconds()
    span_v = high - low

    def x(at: datetime) -> float:
        if span_s == 0:
            return _LEFT + plot_w / 2
        return _LEFT + plot_w * (at - first).total_seconds() / span_s

    def y(value: Decimal) -> float:
        if span_v == 0:
            return _TOP + plot_h / 2
        return _TOP + plot_h * float((high - value) / span_v)

    bottom = _TOP + plot_h
    parts.append(
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" '
        f'fill="none" stroke="#d0d7de"/>'
    )
    # The vertical axis: the highest value at the top, the lowest at the bottom, exact.
    parts.append(
        f'<text x="{_LEFT + 4}" y="{_TOP - 8}" class="chart-max">{escape(_number(high))}</text>'
    )
    parts.append(
        f'<text x="{_LEFT + 4}" y="{bottom + 16}" class="chart-min">{escape(_number(low))}</text>'
    )
    # The horizontal axis: the first and the last time.
    parts.append(
        f'<text x="{_LEFT}" y="{bottom + 32}" class="chart-first">{escape(_when(first))}</text>'
    )
    parts.append(
        f'<text x="{width - _RIGHT}" y="{bottom + 32}" text-anchor="end" '
        f'class="chart-last">{escape(_when(last))}</text>'
    )
    for index, each in enumerate(drawn):
        colour = PALETTE[index % len(PALETTE)]
        coordinates = " ".join(f"{x(at):.1f},{y(value):.1f}" for at, value in each.points)
        label = escape(each.label)
        if len(each.points) == 1:
            (at, value) = each.points[0]
            parts.append(
                f'<circle cx="{x(at):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}" '
                f'data-series="{label}"/>'
            )
        parts.append(
            f'<polyline points="{coordinates}" fill="none" stroke="{colour}" '
            f'stroke-width="2" data-series="{label}"/>'
        )
        row = height + _LEGEND_ROW * index + 12
        parts.append(
            f'<line x1="{_LEFT}" y1="{row - 4}" x2="{_LEFT + 18}" y2="{row - 4}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        parts.append(f'<text x="{_LEFT + 24}" y="{row}" class="chart-legend">{label}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
