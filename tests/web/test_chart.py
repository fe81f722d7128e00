"""The equity chart's renderer on synthetic points: one line per series, escaped labels, exact
values at the axes' extremes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tradecore_web.chart import ChartSeries, line_chart

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
_SVG = "{http://www.w3.org/2000/svg}"


def _series(label: str, *values: str) -> ChartSeries:
    return ChartSeries(
        label=label,
        points=tuple(
            (T0 + timedelta(hours=index), Decimal(value)) for index, value in enumerate(values)
        ),
    )


def _parsed(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # well-formed XML, or this raises


def test_one_polyline_per_series_with_the_exact_extremes_on_the_axes() -> None:
    svg = line_chart(
        [
            _series("main · USD", "1000.10", "1200.000000001", "999.99"),
            _series("saxo · EUR", "50", "75.5"),
        ],
        title="Equity in USD",
    )

    root = _parsed(svg)
    lines = root.findall(f"{_SVG}polyline")
    assert [line.get("data-series") for line in lines] == ["main · USD", "saxo · EUR"]
    assert [len(line.get("points", "").split()) for line in lines] == [3, 2]
    texts = {each.get("class"): each.text for each in root.iter(f"{_SVG}text")}
    assert texts["chart-max"] == "1200.000000001"  # exact: no float rounding
    assert texts["chart-min"] == "50"
    assert texts["chart-first"] == "2026-03-01 09:30 UTC"
    assert texts["chart-last"] == "2026-03-01 11:30 UTC"


def test_the_highest_value_is_drawn_at_the_top_and_the_lowest_at_the_bottom() -> None:
    svg = line_chart([_series("a", "10", "30", "20")], title="t", height=300)

    points = _parsed(svg).find(f"{_SVG}polyline").get("points")  # type: ignore[union-attr]
    ys = [float(pair.split(",")[1]) for pair in points.split()]
    xs = [float(pair.split(",")[0]) for pair in points.split()]
    assert ys[1] < ys[2] < ys[0]  # SVG's y grows downwards
    assert xs == sorted(xs)
    assert xs[0] < xs[-1]


def test_labels_are_escaped_never_markup() -> None:
    svg = line_chart(
        [_series('<script>alert(1)</script>"&', "1", "2")], title="<b>Equity</b> & more"
    )

    assert "<script>" not in svg
    assert "<b>" not in svg
    root = _parsed(svg)
    assert root.find(f"{_SVG}polyline").get("data-series") == '<script>alert(1)</script>"&'  # type: ignore[union-attr]
    legend = [each.text for each in root.iter(f"{_SVG}text") if each.get("class") == "chart-legend"]
    assert legend == ['<script>alert(1)</script>"&']


def test_a_flat_line_and_a_lone_point_are_drawn_without_dividing_by_zero() -> None:
    flat = line_chart([_series("flat", "5", "5", "5")], title="t")
    lone = line_chart([_series("one", "7.25")], title="t")

    assert re.search(r'points="[\d.]+,[\d.]+ [\d.]+,[\d.]+ [\d.]+,[\d.]+"', flat)
    root = _parsed(lone)
    assert root.find(f"{_SVG}circle") is not None
    texts = {each.get("class"): each.text for each in root.iter(f"{_SVG}text")}
    assert texts["chart-max"] == texts["chart-min"] == "7.25"


def test_a_chart_without_points_says_so() -> None:
    svg = line_chart([ChartSeries(label="empty", points=())], title="Equity")

    root = _parsed(svg)
    assert root.find(f"{_SVG}polyline") is None
    assert "Equity" in "".join(root.itertext())
