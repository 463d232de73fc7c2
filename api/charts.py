"""A zone's day as an SVG chart residents can read: today and tomorrow, hour by hour, counted
so far, forecast (with its 80% band) and usual. Drawn on the server: no script, no CDN."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

W, H = 480.0, 300.0
LEFT, RIGHT, TOP, BOTTOM = 48.0, 8.0, 18.0, 62.0
FORECAST, BAND, USUAL, ACTUAL = "#0b5cad", "#cfe3fa", "#6b6b6b", "#111111"


@dataclass(frozen=True)
class HourPoint:
    """One local hour of the chart; any value may be missing."""

    start: datetime  # local time
    actual: float | None
    forecast: float | None
    lo80: float | None
    hi80: float | None
    usual: float | None


def _path(points: Sequence[tuple[float, float] | None]) -> str:
    """An SVG path through the points, broken where a point is missing."""
    parts, pen_down = [], False
    for p in points:
        if p is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{p[0]:.1f},{p[1]:.1f}")
        pen_down = True
    return "".join(parts)


def _nice_top(value: float) -> float:
    """The smallest top at or above ``value`` whose quarters are round numbers."""
    magnitude = 1.0
    while magnitude * 10 <= value / 4:
        magnitude *= 10
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * magnitude * 4 >= value:
            return step * magnitude * 4
    return value


def day_chart(zone: str, hours: Sequence[HourPoint], now: datetime) -> str:
    """The chart of ``hours`` (today then tomorrow, local), with a line at ``now``."""
    if not hours:
        return "<p>No figures for this zone yet.</p>"
    values = [v for h in hours for v in (h.actual, h.forecast, h.hi80, h.usual) if v is not None]
    top = _nice_top(max(values, default=0.0) or 10.0)
    span = len(hours)
    inner_w, inner_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(i: float) -> float:
        return LEFT + inner_w * i / max(span - 1, 1)

    def y(v: float) -> float:
        return TOP + inner_h * (1 - v / top)

    def line(attr: str) -> list[tuple[float, float] | None]:
        out: list[tuple[float, float] | None] = []
        for i, h in enumerate(hours):
            v = getattr(h, attr)
            out.append(None if v is None else (x(i), y(v)))
        return out

    band_upper = [(x(i), y(h.hi80)) for i, h in enumerate(hours) if h.hi80 is not None]
    band_lower = [(x(i), y(h.lo80)) for i, h in enumerate(hours) if h.lo80 is not None]
    band = ""
    if band_upper and len(band_upper) == len(band_lower):
        ring = band_upper + band_lower[::-1]
        band = f'<path d="{_path(ring)}Z" fill="{BAND}" stroke="none"/>'
    grid = []
    for k in range(5):
        value = top * k / 4
        grid.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#ddd"/><text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{value:,.0f}</text>"
        )
    ticks = []
    for i, h in enumerate(hours):
        if h.start.hour % 6 == 0:
            label = h.start.strftime("%a") if h.start.hour == 0 else f"{h.start.hour:02d}"
            ticks.append(
                f'<text x="{x(i):.1f}" y="{H - BOTTOM + 20}" text-anchor="middle">{label}</text>'
            )
            if h.start.hour == 0:
                ticks.append(
                    f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{TOP}" y2="{H - BOTTOM}" '
                    'stroke="#999"/>'
                )
    now_i = next((i for i, h in enumerate(hours) if h.start > now), span) - 1
    now_mark = (
        f'<line x1="{x(now_i):.1f}" x2="{x(now_i):.1f}" y1="{TOP}" y2="{H - BOTTOM}" '
        f'stroke="{ACTUAL}" stroke-dasharray="2 3"/>'
        f'<text x="{x(now_i) + 4:.1f}" y="{TOP + 12}">now</text>'
        if 0 <= now_i < span
        else ""
    )
    peak = max(
        ((h.forecast, h.start) for h in hours if h.forecast is not None and h.start > now),
        default=None,
    )
    description = (
        f"Busiest hour ahead: about {peak[0]:,.0f} people around {peak[1]:%H:%M} on {peak[1]:%A}."
        if peak
        else "No forecast yet."
    )
    title_id = f"chart-{abs(hash(zone)) % 10**8}"
    legend = (
        f'<g transform="translate(8,{H - 26})">'
        f'<rect width="18" height="10" y="-9" fill="{BAND}"/><text x="24">likely range</text>'
        f'<line x1="130" x2="156" y1="-4" y2="-4" stroke="{FORECAST}" stroke-width="3"/>'
        f'<text x="162">forecast</text>'
        f'<line x1="250" x2="276" y1="-4" y2="-4" stroke="{USUAL}" stroke-width="2" '
        f'stroke-dasharray="5 4"/><text x="282">usual</text>'
        f'<line x1="340" x2="366" y1="-4" y2="-4" stroke="{ACTUAL}" stroke-width="2"/>'
        f'<text x="372">counted</text></g>'
    )
    return (
        f'<svg class="chart" viewBox="0 0 {W:.0f} {H:.0f}" role="img" '
        f'aria-labelledby="{title_id}-t {title_id}-d" font-size="15" font-family="sans-serif">'
        f'<title id="{title_id}-t">People per hour in {escape(zone)}, today and tomorrow'
        f'</title><desc id="{title_id}-d">{escape(description)}</desc>'
        f"{band}{''.join(grid)}{''.join(ticks)}"
        f'<path class="usual" d="{_path(line("usual"))}" fill="none" stroke="{USUAL}" '
        f'stroke-width="2" stroke-dasharray="5 4"/>'
        f'<path class="forecast" d="{_path(line("forecast"))}" fill="none" '
        f'stroke="{FORECAST}" stroke-width="3"/>'
        f'<path class="actual" d="{_path(line("actual"))}" fill="none" stroke="{ACTUAL}" '
        f'stroke-width="2"/>{now_mark}{legend}</svg>'
    )


def chart_table(hours: Sequence[HourPoint]) -> str:
    """The chart's figures as a table, for screen readers and anyone who prefers numbers."""

    def cell(v: float | None) -> str:
        return "" if v is None else f"{v:,.0f}"

    rows = "".join(
        f'<tr><th scope="row">{h.start:%a %H:%M}</th><td>{cell(h.actual)}</td>'
        f"<td>{cell(h.forecast)}</td><td>{cell(h.lo80)}&ndash;{cell(h.hi80)}</td>"
        f"<td>{cell(h.usual)}</td></tr>"
        for h in hours
    )
    return (
        '<table><thead><tr><th scope="col">Hour</th><th scope="col">Counted</th>'
        '<th scope="col">Forecast</th><th scope="col">Likely range</th>'
        f'<th scope="col">Usual</th></tr></thead><tbody>{rows}</tbody></table>'
    )
