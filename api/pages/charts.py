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


@dataclass(frozen=True)
class _Axes:
    """Where hour ``i`` of ``span`` and a count ``v`` up to ``top`` land in the SVG."""

    span: int
    top: float

    def x(self, i: float) -> float:
        return LEFT + (W - LEFT - RIGHT) * i / max(self.span - 1, 1)

    def y(self, v: float) -> float:
        return TOP + (H - TOP - BOTTOM) * (1 - v / self.top)

    def line(self, hours: Sequence[HourPoint], attr: str) -> list[tuple[float, float] | None]:
        """The points of one series, ``None`` where it has no value."""
        out: list[tuple[float, float] | None] = []
        for i, h in enumerate(hours):
            v = getattr(h, attr)
            out.append(None if v is None else (self.x(i), self.y(v)))
        return out


def _band(axes: _Axes, hours: Sequence[HourPoint]) -> str:
    """The forecast's 80% band, when every hour with an upper bound has a lower one."""
    upper = [(axes.x(i), axes.y(h.hi80)) for i, h in enumerate(hours) if h.hi80 is not None]
    lower = [(axes.x(i), axes.y(h.lo80)) for i, h in enumerate(hours) if h.lo80 is not None]
    if not upper or len(upper) != len(lower):
        return ""
    ring: list[tuple[float, float] | None] = [*upper, *lower[::-1]]
    return f'<path d="{_path(ring)}Z" fill="{BAND}" stroke="none"/>'


def _grid(axes: _Axes) -> str:
    """Five horizontal lines, from 0 to the top, labelled with their counts."""
    grid = []
    for k in range(5):
        value = axes.top * k / 4
        y = axes.y(value)
        grid.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ddd"/><text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{value:,.0f}</text>"
        )
    return "".join(grid)


def _ticks(axes: _Axes, hours: Sequence[HourPoint]) -> str:
    """Every sixth hour labelled; a day's name and a vertical line at each midnight."""
    ticks = []
    for i, h in enumerate(hours):
        if h.start.hour % 6 == 0:
            x = axes.x(i)
            label = h.start.strftime("%a") if h.start.hour == 0 else f"{h.start.hour:02d}"
            ticks.append(
                f'<text x="{x:.1f}" y="{H - BOTTOM + 20}" text-anchor="middle">{label}</text>'
            )
            if h.start.hour == 0:
                ticks.append(
                    f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{H - BOTTOM}" stroke="#999"/>'
                )
    return "".join(ticks)


def _now_mark(axes: _Axes, hours: Sequence[HourPoint], now: datetime) -> str:
    """A dashed line at the hour holding ``now``, if the chart shows it."""
    now_i = next((i for i, h in enumerate(hours) if h.start > now), axes.span) - 1
    if not 0 <= now_i < axes.span:
        return ""
    x = axes.x(now_i)
    return (
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{H - BOTTOM}" '
        f'stroke="{ACTUAL}" stroke-dasharray="2 3"/>'
        f'<text x="{x + 4:.1f}" y="{TOP + 12}">now</text>'
    )


def _description(hours: Sequence[HourPoint], now: datetime) -> str:
    """The chart's gist in a sentence: the busiest forecast hour ahead."""
    peak = max(
        ((h.forecast, h.start) for h in hours if h.forecast is not None and h.start > now),
        default=None,
    )
    if peak is None:
        return "No forecast yet."
    return (
        f"Busiest hour ahead: about {peak[0]:,.0f} people around {peak[1]:%H:%M} on {peak[1]:%A}."
    )


LEGEND = (
    f'<g transform="translate(8,{H - 26})">'
    f'<rect width="18" height="10" y="-9" fill="{BAND}"/><text x="24">likely range</text>'
    f'<line x1="130" x2="156" y1="-4" y2="-4" stroke="{FORECAST}" stroke-width="3"/>'
    f'<text x="162">forecast</text>'
    f'<line x1="250" x2="276" y1="-4" y2="-4" stroke="{USUAL}" stroke-width="2" '
    f'stroke-dasharray="5 4"/><text x="282">usual</text>'
    f'<line x1="340" x2="366" y1="-4" y2="-4" stroke="{ACTUAL}" stroke-width="2"/>'
    f'<text x="372">counted</text></g>'
)
"""The key of the chart's band and lines, beneath the axis."""


def day_chart(zone: str, hours: Sequence[HourPoint], now: datetime) -> str:
    """The chart of ``hours`` (today then tomorrow, local), with a line at ``now``."""
    if not hours:
        return "<p>No figures for this zone yet.</p>"
    values = [v for h in hours for v in (h.actual, h.forecast, h.hi80, h.usual) if v is not None]
    axes = _Axes(span=len(hours), top=_nice_top(max(values, default=0.0) or 10.0))
    title_id = f"chart-{abs(hash(zone)) % 10**8}"
    return (
        f'<svg class="chart" viewBox="0 0 {W:.0f} {H:.0f}" role="img" '
        f'aria-labelledby="{title_id}-t {title_id}-d" font-size="15" font-family="sans-serif">'
        f'<title id="{title_id}-t">People per hour in {escape(zone)}, today and tomorrow'
        f'</title><desc id="{title_id}-d">{escape(_description(hours, now))}</desc>'
        f"{_band(axes, hours)}{_grid(axes)}{_ticks(axes, hours)}"
        f'<path class="usual" d="{_path(axes.line(hours, "usual"))}" fill="none" '
        f'stroke="{USUAL}" stroke-width="2" stroke-dasharray="5 4"/>'
        f'<path class="forecast" d="{_path(axes.line(hours, "forecast"))}" fill="none" '
        f'stroke="{FORECAST}" stroke-width="3"/>'
        f'<path class="actual" d="{_path(axes.line(hours, "actual"))}" fill="none" '
        f'stroke="{ACTUAL}" stroke-width="2"/>{_now_mark(axes, hours, now)}{LEGEND}</svg>'
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
