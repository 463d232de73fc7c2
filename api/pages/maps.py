"""The SVG map frame shared by the printable pages (crews' routes, highways' map).

Pages draw their own map so that they work without a network; map tiles go beneath only when a
tile URL template is configured.
"""

import html
import math
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from analytics.geo.bbox import BBox
from analytics.geo.geometry import EARTH_RADIUS_M

MAP_W, PAD, MIN_SPAN_M = 400.0, 28.0, 300.0
"""SVG width, the margin kept free around what is drawn, and the least span shown (m)."""


@dataclass(frozen=True)
class MapFrame:
    """Where a (lat, lon) lands in the SVG: a projection to base units, then scale and shift.

    Base units are metres on a local equirectangular plane, or Web Mercator pixels at zoom 0
    (a 256-unit world) when tiles are drawn beneath; y grows southwards in both.
    """

    mercator: bool
    lat0: float
    lon0: float
    scale: float = 1.0  # SVG units per base unit
    left: float = 0.0  # base coordinates of the SVG's top-left corner
    top: float = 0.0
    height: float = 0.0

    def base(self, lat: float, lon: float) -> tuple[float, float]:
        if self.mercator:
            phi = math.radians(max(min(lat, 85.0511), -85.0511))
            return (lon + 180) / 360 * 256, (1 - math.asinh(math.tan(phi)) / math.pi) * 128
        k = math.pi / 180 * EARTH_RADIUS_M
        return (lon - self.lon0) * k * math.cos(math.radians(self.lat0)), (self.lat0 - lat) * k

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        bx, by = self.base(lat, lon)
        return (bx - self.left) * self.scale, (by - self.top) * self.scale

    def latlon(self, x: float, y: float) -> tuple[float, float]:
        """The (lat, lon) drawn at SVG point (x, y): the inverse of :meth:`xy`."""
        bx, by = x / self.scale + self.left, y / self.scale + self.top
        if self.mercator:
            lat = math.degrees(math.atan(math.sinh(math.pi * (1 - by / 128))))
            return lat, bx / 256 * 360 - 180
        k = math.pi / 180 * EARTH_RADIUS_M
        return self.lat0 - by / k, self.lon0 + bx / (k * math.cos(math.radians(self.lat0)))

    def bbox(self) -> BBox:
        """The area the SVG shows, as (min lon, min lat, max lon, max lat)."""
        north, west = self.latlon(0.0, 0.0)
        south, east = self.latlon(MAP_W, self.height)
        return BBox(west, south, east, north)

    @property
    def metres_per_unit(self) -> float:
        if not self.mercator:
            return 1 / self.scale
        return 2 * math.pi * EARTH_RADIUS_M * math.cos(math.radians(self.lat0)) / 256 / self.scale


def fit_frame(points: list[tuple[float, float]], mercator: bool) -> MapFrame:
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    probe = MapFrame(mercator, (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2)
    xs, ys = zip(*(probe.base(*p) for p in points), strict=True)
    least = MIN_SPAN_M / probe.metres_per_unit  # a lone stop still gets a street-sized map
    dx, dy = max(max(xs) - min(xs), least), max(max(ys) - min(ys), least)
    inner = MAP_W - 2 * PAD
    height = min(max(inner * dy / dx + 2 * PAD, 300.0), 560.0)
    scale = min(inner / dx, (height - 2 * PAD) / dy)
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    return replace(
        probe, scale=scale, left=cx - MAP_W / 2 / scale, top=cy - height / 2 / scale, height=height
    )


def frame_of_bbox(bbox: BBox, mercator: bool) -> MapFrame:
    """The frame that shows ``bbox`` (min lon, min lat, max lon, max lat) whole."""
    return fit_frame([(bbox.min_lat, bbox.min_lon), (bbox.max_lat, bbox.max_lon)], mercator)


def corner_boxes(frame: MapFrame) -> list[tuple[float, float, float, float]]:
    """The (x0, y0, x1, y1) boxes that :func:`scale_and_north` covers, kept free of labels."""
    length = _scale_bar(frame)[1]
    return [
        (6.0, frame.height - 38, length + 22, frame.height - 6),
        (MAP_W - 37, 7.0, MAP_W - 7, 47.0),
    ]


def tile_images(frame: MapFrame, template: str) -> str:
    zoom = min(max(round(math.log2(frame.scale)), 0), 19)  # tiles drawn nearest native size
    n, span = 2**zoom, 256 / 2**zoom
    size = span * frame.scale + 0.5  # the half unit hides hairline seams
    columns = range(
        math.floor(frame.left / span), math.floor((frame.left + MAP_W / frame.scale) / span) + 1
    )
    rows = range(
        max(math.floor(frame.top / span), 0),
        min(math.floor((frame.top + frame.height / frame.scale) / span), n - 1) + 1,
    )
    images = []
    for ty in rows:
        for tx in columns:
            url = template.replace("{z}", str(zoom)).replace("{x}", str(tx % n))
            url = url.replace("{y}", str(ty)).replace("{s}", "a")
            x, y = (tx * span - frame.left) * frame.scale, (ty * span - frame.top) * frame.scale
            images.append(
                f'<image href="{html.escape(url)}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{size:.1f}" height="{size:.1f}" preserveAspectRatio="none"/>'
            )
    return "".join(images)


def _scale_bar(frame: MapFrame) -> tuple[float, float]:
    """The scale bar's round length in metres (about a quarter of the width) and in SVG units."""
    target = MAP_W / 4 * frame.metres_per_unit
    metres = max(m * 10**e for e in range(7) for m in (1, 2, 5) if m * 10**e <= target)
    return metres, metres / frame.metres_per_unit


def scale_and_north(frame: MapFrame) -> str:
    """A scale bar of a round length (about a quarter of the width) and a north arrow."""
    metres, length = _scale_bar(frame)
    y = frame.height - 12
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    return (
        f'<g aria-hidden="true"><rect class="panel" x="6" y="{y - 26:.1f}" '
        f'width="{length + 16:.1f}" height="32" rx="4"/>'
        f'<path class="bar" d="M14 {y - 8:.1f}v6h{length:.1f}v-6"/>'
        f'<text class="ink" x="14" y="{y - 12:.1f}">{label}</text>'
        f'<g transform="translate({MAP_W - 22:.0f} 26)"><rect class="panel" x="-15" y="-19" '
        'width="30" height="40" rx="4"/><text class="ink" x="0" y="-6" text-anchor="middle">N'
        '</text><path d="M0 -1 L7 16 L0 11 L-7 16Z" fill="#111"/></g></g>'
    )


def streets_credit(credit: str | None) -> str:
    """The credit line of the roads drawn from the council's map data, HTML-escaped."""
    return f"Streets: {html.escape(credit)}. " if credit else ""


def tile_credit(tile_url: str) -> str:
    """The attribution line for tiles from ``tile_url``, HTML-escaped."""
    host = urlsplit(tile_url.replace("{s}.", "")).hostname or tile_url
    return f"Map tiles: {html.escape(host)} · © OpenStreetMap contributors. "
