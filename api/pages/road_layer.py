"""The council's roads under a page's map: lines styled by class, and street-name labels.

Maps draw the roads from the council's imported segments (``road_segment``) so that they show
streets with no tile server and no network. Road classes come from the simulator and the OSM
loader (``ring``, ``high_street``, ...) or from OSM ``highway`` tags of GeoJSON imports; both
map to four tiers in :data:`_TIER_OF`, the one place a class gets its look.

Pages stay small: coordinates are rounded to 0.1 SVG unit and written relative, consecutive
segments of a street join into one run, each tier is one path drawn twice (casing, then fill)
through ``<use>``, and roads outside the frame are left out.
"""

import html
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from api.pages.maps import MAP_W, MapFrame

Box = tuple[float, float, float, float]
"""An axis-aligned box in SVG units: x0, y0, x1, y1."""
Tenths = tuple[int, int]
"""An SVG point in tenths of a unit (rounding once keeps joins and relative steps exact)."""


@dataclass(frozen=True)
class Road:
    """A stretch of road as stored: its name, class and (lat, lon) points."""

    name: str | None
    road_class: str | None
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class TierStyle:
    """How a tier is drawn: casing and fill colours, their widths (SVG units, at street
    scale), the label size (``None``: never labelled) and the widest view it is drawn in."""

    casing: str
    fill: str
    casing_w: float
    fill_w: float
    label_size: float | None
    max_m_per_unit: float


TIERS = {
    "major": TierStyle("#b7791f", "#f6c56b", 7.0, 5.0, 11.0, math.inf),
    "main": TierStyle("#8f8050", "#fdf0bd", 6.0, 4.2, 10.5, math.inf),
    "minor": TierStyle("#a3acb6", "#ffffff", 4.4, 3.0, 9.5, 20.0),
    "service": TierStyle("#b9c0c8", "#ffffff", 2.6, 1.6, None, 6.0),
}
"""The tiers, drawn and labelled in this order of importance (most important last on top)."""

_TIER_OF = {
    **dict.fromkeys(("ring", "motorway", "trunk"), "major"),
    **dict.fromkeys(("high_street", "primary", "secondary", "tertiary"), "main"),
    **dict.fromkeys(("residential", "unclassified", "living_street", "road"), "minor"),
    **dict.fromkeys(("service", "track", "pedestrian", "busway", "bus_guideway"), "service"),
}
"""Simulator/OSM-loader classes and OSM ``highway`` tags (``*_link`` as their road)."""

FULL_DETAIL_M_PER_UNIT = 3.0
"""Views up to this many metres per SVG unit (about 1.2 km across) draw roads full width;
wider views draw them thinner."""
_MARGIN = 12.0
"""How far outside the frame (SVG units) a road still counts as in it: joins stay unbroken."""
_CHAR_W = 0.58
"""A label character's mean width as a share of its size (bold sans-serif), for label boxes."""


def road_tier(road_class: str | None) -> str:
    """The tier (``major``, ``main``, ``minor`` or ``service``) of a road class; unknown
    classes are drawn as minor roads."""
    base = (road_class or "").strip().lower().removesuffix("_link")
    return _TIER_OF.get(base, "minor")


@dataclass(frozen=True)
class RoadLayer:
    """The drawn roads: ``lines`` and ``labels`` (SVG, aria-hidden) for the page to stack, and
    the street names labelled."""

    lines: str
    labels: str
    named: tuple[str, ...]


def _num(tenths: int) -> str:
    whole, frac = divmod(abs(tenths), 10)
    text = f"{whole}.{frac}" if frac else str(whole)
    text = text.removeprefix("0") if whole == 0 and frac else text
    return f"-{text}" if tenths < 0 else text


def _d(runs: Iterable[list[Tenths]]) -> str:
    """Path data of ``runs``: absolute moves, relative lines, the shortest numbers."""
    parts = []
    for run in runs:
        (x, y), steps = run[0], []
        for nx, ny in run[1:]:
            steps.append(f"{_num(nx - x)} {_num(ny - y)}")
            x, y = nx, ny
        parts.append(f"M{_num(run[0][0])} {_num(run[0][1])}l" + " ".join(steps))
    return "".join(parts).replace(" -", "-")


def _chain(lines: list[list[Tenths]]) -> list[list[Tenths]]:
    """Join lines that meet end to start (either way round) into longer runs."""
    ends: dict[Tenths, list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        ends[line[0]].append(i)
        ends[line[-1]].append(i)
    used = [False] * len(lines)

    def take(point: Tenths) -> list[Tenths] | None:
        for j in ends[point]:
            if not used[j]:
                used[j] = True
                line = lines[j]
                return line if line[0] == point else line[::-1]
        return None

    runs = []
    for i, line in enumerate(lines):
        if used[i]:
            continue
        used[i] = True
        run = list(line)
        while (nxt := take(run[-1])) is not None:
            run += nxt[1:]
        while (prev := take(run[0])) is not None:
            run = prev[::-1][:-1] + run
        runs.append(run)
    return runs


def _visible(run: list[Tenths], height: float) -> list[list[Tenths]]:
    """The pieces of ``run`` with a step inside the frame (widened by the margin)."""
    x0, y0 = -_MARGIN * 10, -_MARGIN * 10
    x1, y1 = (MAP_W + _MARGIN) * 10, (height + _MARGIN) * 10
    pieces: list[list[Tenths]] = []
    current: list[Tenths] = []
    for a, b in itertools.pairwise(run):
        outside = (
            max(a[0], b[0]) < x0
            or min(a[0], b[0]) > x1
            or max(a[1], b[1]) < y0
            or min(a[1], b[1]) > y1
        )
        if not outside:
            current = current or [a]
            current.append(b)
        elif current:
            pieces.append(current)
            current = []
    if current:
        pieces.append(current)
    return pieces


def _length(run: Sequence[Tenths]) -> float:
    return sum(math.dist(a, b) for a, b in itertools.pairwise(run)) / 10


def _along(run: Sequence[Tenths], share: float) -> tuple[float, float, float]:
    """The point ``share`` of the way along ``run`` (SVG units) and the run's angle there,
    turned to read left to right (degrees)."""
    goal, walked = share * _length(run) * 10, 0.0
    for a, b in itertools.pairwise(run):
        step = math.dist(a, b)
        if step and walked + step >= goal:
            t = (goal - walked) / step
            angle = math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))
            angle = angle - 180 if angle > 90 else angle + 180 if angle <= -90 else angle
            return (a[0] + t * (b[0] - a[0])) / 10, (a[1] + t * (b[1] - a[1])) / 10, angle
        walked += step
    return run[-1][0] / 10, run[-1][1] / 10, 0.0


def label_box(x: float, y: float, angle: float, text: str, size: float) -> Box:
    """The axis-aligned box around ``text`` of ``size`` centred on (x, y), turned by
    ``angle`` degrees (a crude width estimate, plus a halo)."""
    w, h = _CHAR_W * size * len(text) + 4, size + 4
    c, s = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    hw, hh = (w * c + h * s) / 2, (w * s + h * c) / 2
    return x - hw, y - hh, x + hw, y + hh


def overlaps(box: Box, others: Iterable[Box]) -> bool:
    """Whether ``box`` meets any of ``others``."""
    return any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3] for o in others)


def _label(
    name: str, run: list[Tenths], size: float, height: float, taken: list[Box]
) -> tuple[float, float, float] | None:
    """Where to write ``name`` on ``run``: its middle, else further towards either end;
    ``None`` when the run is too short or every place meets a label already placed."""
    if _length(run) < 0.6 * _CHAR_W * size * len(name):
        return None
    for share in (0.5, 0.3, 0.7, 0.2, 0.8):
        x, y, angle = _along(run, share)
        box = label_box(x, y, angle, name, size)
        inside = box[0] >= 2 and box[1] >= 2 and box[2] <= MAP_W - 2 and box[3] <= height - 2
        if inside and not overlaps(box, taken):
            taken.append(box)
            return x, y, angle
    return None


def road_layer(
    frame: MapFrame, roads: Sequence[Road], avoid: Sequence[Box] = (), ident: str = "rd"
) -> RoadLayer:
    """The roads of ``frame`` drawn from ``roads``, and their names.

    Parameters
    ----------
    frame
        The map's frame; roads outside it are left out, and wide views leave out service
        (then minor) roads and draw the rest thinner.
    roads
        The segments, in any order; consecutive segments of one street are joined.
    avoid
        Boxes that labels keep clear of (the scale bar, other labels).
    ident
        Prefix of the ids the layer defines, unique in the page.
    """
    mpu = frame.metres_per_unit
    thin = min(1.0, math.sqrt(FULL_DETAIL_M_PER_UNIT / mpu))
    by_street: dict[tuple[str, str], list[list[Tenths]]] = defaultdict(list)
    for road in roads:
        tier = road_tier(road.road_class)
        if mpu > TIERS[tier].max_m_per_unit:
            continue
        points: list[Tenths] = []
        for lat, lon in road.points:
            x, y = frame.xy(lat, lon)
            p = (round(x * 10), round(y * 10))
            if not points or p != points[-1]:
                points.append(p)
        if len(points) > 1:
            by_street[(tier, (road.name or "").strip())].append(points)
    runs: dict[tuple[str, str], list[list[Tenths]]] = {}
    for key, found in by_street.items():
        pieces = [p for run in _chain(found) for p in _visible(run, frame.height)]
        if pieces:
            runs[key] = pieces
    if not runs:
        return RoadLayer("", "", ())
    tiers = [t for t in TIERS if any(k[0] == t for k in runs)][::-1]  # least important first
    defs = "".join(
        f'<path id="{ident}-{t}" d="{_d(p for k, v in runs.items() if k[0] == t for p in v)}"/>'
        for t in tiers
    )
    casings = "".join(
        f'<use href="#{ident}-{t}" stroke="{TIERS[t].casing}" '
        f'stroke-width="{TIERS[t].casing_w * thin:.1f}"/>'
        for t in tiers
    )
    fills = "".join(
        f'<use href="#{ident}-{t}" stroke="{TIERS[t].fill}" '
        f'stroke-width="{TIERS[t].fill_w * thin:.1f}"/>'
        for t in tiers
    )
    lines = (
        f'<g class="roads" aria-hidden="true" fill="none" stroke-linecap="round" '
        f'stroke-linejoin="round"><defs>{defs}</defs>{casings}{fills}</g>'
    )
    taken, texts, named = list(avoid), [], []
    candidates = sorted(
        (
            (list(TIERS).index(tier), -_length(run), name, tier, run)
            for (tier, name), pieces in runs.items()
            if name and TIERS[tier].label_size is not None
            for run in [max(pieces, key=_length)]
        ),
        key=lambda c: c[:3],
    )
    for *_, name, tier, run in candidates:
        if name in named:
            continue  # one label a street, even when it has two tiers
        size = TIERS[tier].label_size or 0.0
        spot = _label(name, run, size, frame.height, taken)
        if spot is None:
            continue
        x, y, angle = spot
        turn = f" rotate({angle:.0f})" if round(angle) else ""
        texts.append(
            f'<text transform="translate({x:.1f} {y:.1f}){turn}" font-size="{size:g}">'
            f"{html.escape(name)}</text>"
        )
        named.append(name)
    labels = (
        '<g class="road-names" aria-hidden="true" font-family="sans-serif" font-weight="600" '
        'fill="#374151" stroke="#fff" stroke-width="3" stroke-linejoin="round" '
        f'paint-order="stroke" text-anchor="middle" dominant-baseline="central">{"".join(texts)}'
        "</g>"
        if texts
        else ""
    )
    return RoadLayer(lines, labels, tuple(named))
