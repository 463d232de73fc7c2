"""Generate a small town's road network: high street, radial primaries, a ring road, a jittered
residential grid, a depot and town-centre zones.

Everything is built in metres around the centre and converted to lat/lon at the end; the same
seed gives the same network to the byte.
"""

import math
import random
from dataclasses import dataclass

from analytics.geo.geometry import haversine_m, moved
from analytics.geo.roads import Edge, Node, RoadClass, RoadNetwork, Zone
from ingest.kernel.params import require, require_in


@dataclass(frozen=True)
class TownParams:
    """Shape of a generated town.

    Attributes
    ----------
    centre
        (lat, lon) of the town centre, where the high street and the primaries cross.
    grid
        Residential blocks from the centre to the edge of the grid, per side.
    block_m
        Spacing of the residential grid, in metres.
    ring_radius_m
        Distance from the centre to the ring road.
    high_street_length_m
        Length of the high street, centred on the centre.
    zones
        Names of the town-centre zones, laid end to end along the high street.
    """

    centre: tuple[float, float] = (52.6697, -0.7269)
    grid: int = 8
    block_m: float = 120.0
    ring_radius_m: float = 1400.0
    high_street_length_m: float = 600.0
    zones: tuple[str, ...] = ("high-street", "market-place", "station")

    def __post_init__(self) -> None:
        require(
            -80.0 <= self.centre[0] <= 80.0 and -180.0 <= self.centre[1] <= 180.0,
            "Expected centre latitude in [-80, 80] and longitude in [-180, 180].",
        )
        require_in("grid", self.grid, 1, 50)
        require_in("block_m", self.block_m, 20.0, 1000.0)
        require_in("ring_radius_m", self.ring_radius_m, 4 * self.block_m, 20_000.0)
        # The high street must end well inside the ring, where the grid is not clipped away.
        hi = 1.2 * self.ring_radius_m
        require_in("high_street_length_m", self.high_street_length_m, self.block_m, hi)
        require(
            len(set(self.zones)) == len(self.zones) and all(self.zones),
            "Expected distinct, non-empty zone names.",
        )


_TREES = ("Ash", "Beech", "Cedar", "Elm", "Hazel", "Holly", "Larch", "Lime", "Maple", "Oak")
_COMPASS = (
    "North", "North East", "East", "South East", "South", "South West", "West", "North West",
)  # fmt: skip
_REMOVED_SHARE = 0.15  # of residential streets: enough to break the grid's regularity
_Link = tuple[int, int, RoadClass, str]
_XY = tuple[float, float]  # metres east and north of the centre


class _Builder:
    """Nodes in metres from the centre, and the links between them."""

    def __init__(self) -> None:
        self.xy: list[_XY] = []
        self.links: list[_Link] = []

    def node(self, xy: _XY) -> int:
        self.xy.append(xy)
        return len(self.xy) - 1

    def chain(self, a: int, b: int, cls: RoadClass, name: str, step: float) -> None:
        """Link a to b in a straight line, with a junction node every ``step`` metres or so."""
        (xa, ya), (xb, yb) = self.xy[a], self.xy[b]
        n = max(1, round(math.hypot(xb - xa, yb - ya) / step))
        ids = [a] + [
            self.node((xa + (xb - xa) * k / n, ya + (yb - ya) * k / n)) for k in range(1, n)
        ]
        self.links += [(p, q, cls, name) for p, q in zip(ids, [*ids[1:], b], strict=True)]

    def reconnect(self, spare: list[_Link]) -> None:
        """Add just enough of ``spare`` to connect every node (union-find); the rest stay out."""
        parent = list(range(len(self.xy)))

        def root(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b, _, _ in self.links:
            parent[root(a)] = root(b)
        for link in spare:
            if root(link[0]) != root(link[1]):
                parent[root(link[0])] = root(link[1])
                self.links.append(link)
        if len({root(x) for x in range(len(parent))}) != 1:
            raise RuntimeError("Generated road network is not connected.")


@dataclass(frozen=True)
class _Axes:
    """The town's frame: ``theta`` is the high street's direction, anticlockwise from east."""

    theta: float

    def at(self, u: float, w: float) -> _XY:
        """Metres east and north of a point ``u`` along and ``w`` across the high street."""
        c, s = math.cos(self.theta), math.sin(self.theta)
        return u * c - w * s, u * s + w * c

    def arm_name(self, du: int, dw: int) -> str:
        """The name of a primary leaving the centre in direction (``du``, ``dw``)."""
        east, north = self.at(du, dw)
        return f"{_COMPASS[round(math.degrees(math.atan2(east, north)) / 45) % 8]} Road"


def generate_town(params: TownParams = TownParams(), seed: int = 1) -> RoadNetwork:
    """Generate a connected small-town road network.

    The high street runs through the centre; its line and the perpendicular through the centre
    continue as four primaries to a ring road of 16 to 24 nodes. A jittered residential grid, with
    some streets removed, fills the space inside the ring; the depot sits on a service road just
    inside the ring; the zones are rectangles laid end to end along the high street.

    Parameters
    ----------
    params
        Shape of the town.
    seed
        Seed of the only source of randomness; the same seed gives the same network.

    Returns
    -------
    RoadNetwork
        A network in which every node is reachable from the depot.
    """
    p, rng, b = params, random.Random(seed), _Builder()
    axes = _Axes(rng.uniform(0.0, math.pi))
    h = math.ceil(p.high_street_length_m / 2 / p.block_m)  # high-street segments each side
    cells = _grid(p, axes, h, b, rng)
    removed = _streets(axes, h, cells, b, rng)
    ring = _ring(p, axes, b, rng)
    for di, dj in ((1, 0), (0, 1), (-1, 0), (0, -1)):
        s = 0
        while (di * (s + 1), dj * (s + 1)) in cells:
            s += 1
        end = _ring_towards(b, ring, axes.theta + math.atan2(dj, di))
        b.chain(cells[di * s, dj * s], end, RoadClass.PRIMARY, axes.arm_name(di, dj), p.block_m)
    depot = _depot(p, axes, b, ring, rng)
    b.reconnect(removed)
    return _to_network(b, p.centre, depot, _zones(p, axes))


def _grid(
    p: TownParams, axes: _Axes, h: int, b: _Builder, rng: random.Random
) -> dict[tuple[int, int], int]:
    """The jittered grid's nodes inside the ring, by cell.

    Cell (i, j) is i blocks along and j across the high street; row 0 holds the high street
    (its own spacing, ``h`` segments each side, so it has the requested length) and column 0
    the cross primary.
    """
    cells: dict[tuple[int, int], int] = {}
    jit = 0.12 * p.block_m
    for i in range(-max(p.grid, h), max(p.grid, h) + 1):
        for j in range(-p.grid, p.grid + 1):
            if j == 0 and abs(i) <= h:
                u, w = i * p.high_street_length_m / (2 * h), 0.0
            elif abs(i) <= p.grid:
                u, w = i * p.block_m, j * p.block_m
            else:
                continue
            if math.hypot(u, w) > 0.85 * p.ring_radius_m:
                continue  # leave room for the ring road
            # The two axes stay straight-ish (a few metres); the rest of the grid wobbles.
            du = 0.0 if j == 0 else rng.uniform(-1, 1) * (3.0 if i == 0 else jit)
            dw = 0.0 if i == 0 else rng.uniform(-1, 1) * (3.0 if j == 0 else jit)
            cells[i, j] = b.node(axes.at(u + du, w + dw))
    return cells


def _streets(
    axes: _Axes, h: int, cells: dict[tuple[int, int], int], b: _Builder, rng: random.Random
) -> list[_Link]:
    """Link neighbouring cells: the high street and the primaries along the axes, named
    residential streets elsewhere, of which some are left out; returns those left out."""
    optional: list[_Link] = []
    for (i, j), n in cells.items():
        for di, dj in ((1, 0), (0, 1)):
            if (m := cells.get((i + di, j + dj))) is None:
                continue
            line, along = (j, i) if di else (i, j)  # which row/column, and where on it
            if line != 0:
                # Either side of an axis gets its own suffix, so a name means one street.
                kind = ("Street", "Lane", "Avenue", "Close")[(line < 0) + (0 if di else 2)]
                name = f"{_TREES[abs(line) % len(_TREES)]} {kind}"
                optional.append((n, m, RoadClass.RESIDENTIAL, name))
            elif di and -h <= i < h:
                b.links.append((n, m, RoadClass.HIGH_STREET, "High Street"))
            else:
                side = 1 if along >= 0 else -1
                b.links.append((n, m, RoadClass.PRIMARY, axes.arm_name(di * side, dj * side)))
    removed: list[_Link] = []
    for link in optional:
        (removed if rng.random() < _REMOVED_SHARE else b.links).append(link)
    return removed


def _ring(p: TownParams, axes: _Axes, b: _Builder, rng: random.Random) -> list[int]:
    """The ring road: 16 to 24 nodes, a little irregular in angle and radius."""
    k = rng.randint(16, 24)
    ring = []
    for r in range(k):
        a = axes.theta + math.tau * (r + rng.uniform(-0.2, 0.2)) / k
        radius = p.ring_radius_m * rng.uniform(0.95, 1.05)
        ring.append(b.node((radius * math.cos(a), radius * math.sin(a))))
    b.links += [(ring[r], ring[(r + 1) % k], RoadClass.RING, "Ring Road") for r in range(k)]
    return ring


def _ring_towards(b: _Builder, ring: list[int], angle: float) -> int:
    """The ring node closest in direction to ``angle`` (anticlockwise from east)."""

    def off(n: int) -> float:
        return abs(math.remainder(math.atan2(b.xy[n][1], b.xy[n][0]) - angle, math.tau))

    return min(ring, key=off)


def _depot(p: TownParams, axes: _Axes, b: _Builder, ring: list[int], rng: random.Random) -> int:
    """The depot: on a diagonal, between primaries, one block in from the ring."""
    gate = _ring_towards(b, ring, axes.theta + math.pi / 4 + rng.randrange(4) * math.pi / 2)
    shrink = 1 - p.block_m / math.hypot(*b.xy[gate])
    depot = b.node((b.xy[gate][0] * shrink, b.xy[gate][1] * shrink))
    b.links.append((gate, depot, RoadClass.SERVICE, "Depot Road"))
    return depot


def _zones(p: TownParams, axes: _Axes) -> list[tuple[str, list[_XY]]]:
    """The town-centre zones: rectangles laid end to end along the high street."""
    length, half, pad = p.high_street_length_m, 0.4 * p.block_m, 0.25 * p.block_m
    zones_xy: list[tuple[str, list[_XY]]] = []
    for z, name in enumerate(p.zones):
        u0 = -length / 2 + z * length / len(p.zones) - (pad if z == 0 else 0.0)
        u1 = -length / 2 + (z + 1) * length / len(p.zones) + (pad if z == len(p.zones) - 1 else 0.0)
        corners = ((u0, -half), (u1, -half), (u1, half), (u0, half), (u0, -half))
        zones_xy.append((name, [axes.at(u, w) for u, w in corners]))
    return zones_xy


def _to_network(
    b: _Builder, centre: tuple[float, float], depot: int, zones_xy: list[tuple[str, list[_XY]]]
) -> RoadNetwork:
    def ll(xy: _XY) -> tuple[float, float]:
        # Rounded to about a centimetre, so the GeoJSON stays compact and the text reproducible.
        lat, lon = moved(*centre, *xy)
        return round(lat, 7), round(lon, 7)

    nodes = tuple(Node(i, *ll(xy)) for i, xy in enumerate(b.xy))
    edges = []
    for u, v, cls, name in b.links:
        metres = haversine_m(nodes[u].lat, nodes[u].lon, nodes[v].lat, nodes[v].lon)
        edges.append(Edge(u, v, cls, name, metres, cls.default_speed_mps))
    zones = tuple(Zone(name, tuple(ll(xy)[::-1] for xy in ring)) for name, ring in zones_xy)
    return RoadNetwork(nodes, tuple(edges), depot, zones)
