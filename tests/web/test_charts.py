"""The status page's charts: hourly sums, the axis' top, bars, a line and a progress bar as SVG."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

from callarchive.web.charts import (
    HEIGHT,
    Point,
    bar_chart,
    line_chart,
    nice_ceiling,
    nice_duration,
    per_hour,
    percent,
    progress_bar,
)

END = dt.datetime(2026, 11, 25, 12, 40, tzinfo=dt.UTC)
SVG = "{http://www.w3.org/2000/svg}"


def hour(at: dt.datetime) -> str:
    return f"{at:%H:%M}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def test_events_are_summed_into_the_hours_up_to_the_end() -> None:
    events = [
        (END, 2.0),
        (END.replace(minute=1), 3.0),  # same hour as END
        (END - dt.timedelta(hours=2), 4.0),
        (END - dt.timedelta(hours=24), 100.0),  # before the first hour
        (END + dt.timedelta(hours=1), 100.0),  # after the last
    ]
    points = per_hour(events, end=END, hours=24)
    assert len(points) == 24
    assert points[0].at == dt.datetime(2026, 11, 24, 13, tzinfo=dt.UTC)
    assert points[-1] == Point(at=dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC), value=5.0)
    assert points[-3].value == 4.0
    assert sum(p.value for p in points) == 9.0


@pytest.mark.parametrize(
    ("value", "top"),
    [(0, 1), (-3, 1), (0.3, 0.5), (1, 1), (7, 10), (12, 20), (180, 200), (5000, 5000)],
)
def test_the_axis_top_is_a_round_number_at_or_above_the_largest(value: float, top: float) -> None:
    assert nice_ceiling(value) == pytest.approx(top)


@pytest.mark.parametrize(
    ("seconds", "top"),
    [(0, 60), (59, 60), (61, 300), (3600, 3600), (15 * 3600, 86_400), (400 * 86_400, 730 * 86_400)],
)
def test_a_duration_axis_tops_at_a_round_span(seconds: float, top: float) -> None:
    assert nice_duration(seconds) == top


@pytest.mark.parametrize(
    ("fraction", "shown"),
    [
        (0, "0.0%"),
        (0.425, "42.5%"),
        (0.99996, "99.9%"),
        (1, "100.0%"),
        (0.0001, "0.1%"),
        (2, "100.0%"),
    ],
)
def test_a_share_is_never_rounded_to_all_or_nothing(fraction: float, shown: str) -> None:
    assert percent(fraction) == shown


def test_bars_are_as_tall_as_their_share_of_the_axis() -> None:
    points = [Point(at=END - dt.timedelta(hours=n), value=v) for n, v in ((2, 0), (1, 5), (0, 10))]
    svg = parsed(bar_chart(points, title="Imported per hour", label=hour, tick_every=1))
    bars = svg.findall(f"{SVG}rect")
    heights = [float(b.get("height", "")) for b in bars]
    assert heights[0] == 0
    assert heights[2] == pytest.approx(2 * heights[1])
    assert [b.findtext(f"{SVG}title") for b in bars][2] == "12:40: 10"
    assert svg.get("aria-label") == "Imported per hour"
    assert svg.get("role") == "img"


def test_a_line_goes_through_its_points_over_the_span() -> None:
    start = END - dt.timedelta(hours=24)
    points = [
        Point(at=start, value=3600.0),
        Point(at=END - dt.timedelta(hours=12), value=1800.0),
        Point(at=END, value=0.0),
        Point(at=start - dt.timedelta(hours=1), value=99999.0),  # outside the span: left out
    ]
    svg = parsed(
        line_chart(
            points, start=start, end=END, title="Lag", label=hour, value_label=lambda s: f"{s:.0f}s"
        )
    )
    polyline = svg.find(f"{SVG}polyline")
    assert polyline is not None
    xy = [tuple(map(float, pair.split(","))) for pair in polyline.get("points", "").split()]
    assert len(xy) == 3
    assert xy[0][0] < xy[1][0] < xy[2][0]
    assert xy[0][1] < xy[1][1] < xy[2][1]  # lower lag, lower on the chart (larger y)
    ticks = [t.text for t in svg.findall(f"{SVG}text")]
    assert "5000s" in ticks  # the axis' top, above 3600
    in_hours = parsed(
        line_chart(points, start=start, end=END, title="Lag", label=hour, ceiling=nice_duration)
    )
    assert "3,600" in [t.text for t in in_hours.findall(f"{SVG}text")]
    assert hour(start) in ticks
    assert hour(END) in ticks


@pytest.mark.parametrize("chart", ["bars", "line"])
def test_a_chart_without_figures_says_so(chart: str) -> None:
    if chart == "bars":
        svg = bar_chart([], title="t", label=hour)
    else:
        svg = line_chart([], start=END - dt.timedelta(hours=1), end=END, title="t", label=hour)
    assert parsed(svg).findtext(f"{SVG}text") == "No data"


def test_text_in_charts_is_escaped() -> None:
    svg = bar_chart(
        [Point(at=END, value=1)], title='<script>alert("x")</script>', label=lambda _: "a&b"
    )
    assert "<script>" not in svg
    tree = parsed(svg)
    assert tree.findtext(f"{SVG}title") == '<script>alert("x")</script>'
    assert tree.findtext(f"{SVG}rect/{SVG}title") == "a&b: 1"


@pytest.mark.parametrize(("fraction", "width"), [(0.425, 425.0), (-1, 0.0), (3, 1000.0)])
def test_a_progress_bar_is_filled_to_its_share(fraction: float, width: float) -> None:
    svg = parsed(progress_bar(fraction, title="History imported"))
    done = svg.find(f"{SVG}rect")
    assert done is not None
    assert float(done.get("width", "")) == width
    assert re.fullmatch(r"History imported: \d+\.\d%", svg.get("aria-label", ""))


def test_charts_fit_their_view_box() -> None:
    points = [Point(at=END - dt.timedelta(hours=n), value=n * 7.0) for n in range(24)]
    for element in parsed(bar_chart(points, title="t", label=hour)).iter(f"{SVG}rect"):
        top = float(element.get("y", "0"))
        assert 0 <= top <= top + float(element.get("height", "0")) <= HEIGHT
