"""A recording's two-channel waveform as inline SVG (customer above, agent below).

Drawn server-side from the peaks computed at import: one vertical stroke per peak, each channel
around its own centre line, scaled so the loudest peak fills its half. The player's position is
a separate element the page's script moves (static/app.js).
"""

from __future__ import annotations

from callarchive.analysis import Waveform

HALF = 50.0  # height of one channel's band in SVG units
LABELS = ("customer", "agent")


def _path(peaks: tuple[tuple[float, float], ...], centre: float, scale: float) -> str:
    strokes = []
    for x, (low, high) in enumerate(peaks):
        top = centre - high * scale
        bottom = centre - low * scale
        if bottom - top < 0.5:  # keep silence visible as a hairline
            top, bottom = centre - 0.25, centre + 0.25
        strokes.append(f"M{x + 0.5:.1f} {top:.2f}V{bottom:.2f}")
    return "".join(strokes)


def waveform_svg(waveform: Waveform) -> str:
    """The SVG markup of `waveform` (numbers only: nothing in it comes from user input)."""
    width = max((len(channel) for channel in waveform.channels), default=0) or 1
    loudest = max(
        (abs(value) for channel in waveform.channels for pair in channel for value in pair),
        default=0.0,
    )
    scale = (HALF / 2 * 0.9) / loudest if loudest > 0 else 0.0
    opening = (
        f'<svg viewBox="0 0 {width} {2 * HALF:.0f}" preserveAspectRatio="none" role="img" '
        'aria-label="waveform: customer above, agent below" class="wave">'
    )
    parts = [opening]
    for index, channel in enumerate(waveform.channels[:2]):
        centre = HALF * index + HALF / 2
        colour = "#1b5fad" if index == 0 else "#1e7b34"
        parts.append(
            f'<path d="{_path(channel, centre, scale)}" stroke="{colour}" '
            f'stroke-width="1" fill="none" vector-effect="non-scaling-stroke">'
            f"<title>{LABELS[index]}</title></path>"
        )
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["waveform_svg"]
