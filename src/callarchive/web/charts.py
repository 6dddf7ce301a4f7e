"""Charts drawn on the server as inline SVG: bars per hour, a line over time, a progress bar.

Pure functions from figures to markup, so pages need no script and the Content Security Policy
no exception (SVG presentation attributes are not styles). Every chart has a `<title>` and an
`aria-label`, each bar and point a `<title>` with its value, and all text is escaped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 180
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 10, 22
HOUR = dt.timedelta(hours=1)

Label = Callable[[dt.datetime], str]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Point:
    """One figure at one time (for bars: the start of its hour)."""

    at: dt.datetime
    value: float


def per_hour(
    events: Iterable[tuple[dt.datetime, float]], *, end: dt.datetime, hours: int = 24
) -> list[Point]:
    """The sums of `events` in each of the `hours` whole hours up to the one holding `end`,
    oldest first (hours without events are 0; events outside them are left out)."""
    last = end.replace(minute=0, second=0, microsecond=0)
    first = last - (hours - 1) * HOUR
    sums = [0.0] * hours
    for at, value in events:
        index = math.floor((at - first) / HOUR)
        if 0 <= index < hours:
            sums[index] += value
    return [Point(at=first + n * HOUR, value=total) for n, total in enumerate(sums)]


def nice_ceiling(value: float) -> float:
    """The axis' top: the smallest 1, 2 or 5 times a power of ten at or above `value` (1 for
    nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power * (1 + 1e-9):
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


_MINUTE, _HOUR, _DAY = 60, 3600, 86_400
DURATION_STEPS = (
    *(n * _MINUTE for n in (1, 5, 10, 15, 30)),
    *(n * _HOUR for n in (1, 2, 3, 6, 12)),
    *(n * _DAY for n in (1, 2, 3, 7, 14, 30, 60, 90, 180, 365)),
)


def nice_duration(seconds: float) -> float:
    """The axis' top for durations: the smallest round span (1, 5, 10, 15, 30 minutes; 1, 2,
    3, 6, 12 hours; 1, 2, 3, 7, 14, 30, 60, 90, 180, 365 days; then whole years) at or above
    `seconds`."""
    for step in DURATION_STEPS:
        if seconds <= step:
            return float(step)
    return float(math.ceil(seconds / (365 * _DAY)) * 365 * _DAY)


def percent(fraction: float) -> str:
    """`fraction` as a percentage with one decimal, never rounded to 0.0 % or 100.0 % unless it
    is exactly nothing or everything: `0.99996` is `99.9%`, not a misleading `100.0%`."""
    share = min(1.0, max(0.0, fraction))
    shown = round(share * 100, 1)
    if share < 1:
        shown = min(shown, 99.9)
    if share > 0:
        shown = max(shown, 0.1)
    return f"{shown:.1f}%"


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _frame(title: str, body: list[str], css: str) -> Markup:
    label = escape(title)
    # Safe: every text in `body` and the title are escaped where they are put together.
    return Markup(  # noqa: S704
        f'<svg class="chart {css}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{label}" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>{"".join(body)}</svg>'
    )


def _y_axis(top: float, value_label: Callable[[float], str]) -> list[str]:
    bottom = HEIGHT - BOTTOM
    return [
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}"/>',
        f'<line class="grid" x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}"/>',
        _y_tick(TOP + 4, value_label(top)),
        _y_tick(bottom, value_label(0)),
    ]


def _y_tick(y: float, text: str) -> str:
    return f'<text class="tick" x="{LEFT - 4}" y="{y}" text-anchor="end">{escape(text)}</text>'


def _x_tick(x: float, text: str, anchor: str = "middle") -> str:
    return (
        f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">'
        f"{escape(text)}</text>"
    )


def _empty(title: str, css: str) -> Markup:
    middle = HEIGHT / 2
    return _frame(
        title,
        [f'<text class="empty" x="{WIDTH / 2}" y="{middle}" text-anchor="middle">No data</text>'],
        css,
    )


def bar_chart(
    points: Sequence[Point],
    *,
    title: str,
    label: Label,
    value_label: Callable[[float], str] = _number,
    ceiling: Callable[[float], float] = nice_ceiling,
    tick_every: int = 6,
) -> Markup:
    """One bar per point (e.g. conversations imported per hour); `label` names a point's time
    (on every `tick_every`th bar, and in each bar's tooltip)."""
    if not points:
        return _empty(title, "bars")
    top = ceiling(max(p.value for p in points))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / len(points)
    body = _y_axis(top, value_label)
    for n, point in enumerate(points):
        height = plot_height * max(0.0, point.value) / top
        x = LEFT + n * slot
        tip = escape(f"{label(point.at)}: {value_label(point.value)}")
        body.append(
            f'<rect class="bar" x="{x + slot * 0.1:.1f}" y="{HEIGHT - BOTTOM - height:.1f}" '
            f'width="{slot * 0.8:.1f}" height="{height:.1f}"><title>{tip}</title></rect>'
        )
        if n % tick_every == 0:
            body.append(_x_tick(x + slot / 2, label(point.at)))
    return _frame(title, body, "bars")


def line_chart(
    points: Sequence[Point],
    *,
    start: dt.datetime,
    end: dt.datetime,
    title: str,
    label: Label,
    value_label: Callable[[float], str] = _number,
    ceiling: Callable[[float], float] = nice_ceiling,
    ticks: int = 4,
) -> Markup:
    """A line through `points` (e.g. the lag after each run) over the span from `start` to `end`;
    `label` names the times of the `ticks` + 1 axis marks and of each point's tooltip."""
    shown = sorted((p for p in points if start <= p.at <= end), key=lambda p: p.at)
    if not shown or end <= start:
        return _empty(title, "line")
    top = ceiling(max(p.value for p in shown))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    span = (end - start).total_seconds()

    def xy(point: Point) -> tuple[float, float]:
        x = LEFT + plot_width * (point.at - start).total_seconds() / span
        y = HEIGHT - BOTTOM - plot_height * max(0.0, point.value) / top
        return x, y

    body = _y_axis(top, value_label)
    coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in map(xy, shown))
    body.append(f'<polyline class="line" fill="none" points="{coordinates}"/>')
    for point in shown:
        x, y = xy(point)
        tip = escape(f"{label(point.at)}: {value_label(point.value)}")
        body.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="2.5"><title>{tip}</title></circle>'
        )
    for n in range(ticks + 1):
        at = start + (end - start) * n / ticks
        anchor = "start" if n == 0 else "end" if n == ticks else "middle"
        body.append(_x_tick(LEFT + plot_width * n / ticks, label(at), anchor))
    return _frame(title, body, "line")


def progress_bar(fraction: float, *, title: str) -> Markup:
    """A bar filled to `fraction` (clamped to 0 to 1), its percentage in its label."""
    share = min(1.0, max(0.0, fraction))
    label = escape(f"{title}: {percent(share)}")
    return Markup(  # noqa: S704 - the only text, the label, is escaped
        f'<svg class="progress" viewBox="0 0 1000 14" preserveAspectRatio="none" role="img" '
        f'aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
        f'<rect class="done" x="0" y="0" height="14" width="{share * 1000:.1f}"/></svg>'
    )


__all__ = [
    "Point",
    "bar_chart",
    "line_chart",
    "nice_ceiling",
    "nice_duration",
    "per_hour",
    "percent",
    "progress_bar",
]
