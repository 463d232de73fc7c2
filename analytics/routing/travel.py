"""Driving distances and times between collection points, for the route planner.

Three sources, in the order ``travel_matrix`` prefers them:

- ``osrm_matrix``: the table service of an OSRM server, when the council runs one;
- ``network_matrix``: fastest paths on a ``RoadNetwork`` (generated, or loaded from an
  OpenStreetMap extract), whose edges are two-way;
- ``haversine_matrix``: great-circle distance times a circuity factor, needing no data.

Figures are whole metres and whole seconds, as PyVRP wants integers.
"""

import heapq
import http.client
import json
import logging
import math
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from analytics.geo.geometry import METRES_PER_DEGREE, haversine_m
from analytics.geo.roads import RoadNetwork
from analytics.routing.errors import RoutingError

log = logging.getLogger(__name__)

Point = tuple[float, float]  # (lat, lon) in decimal degrees, WGS 84
Matrix = tuple[tuple[int, ...], ...]


class TravelError(RoutingError):
    """Travel figures that cannot be had: a point off the roads, a pair with no route, or an
    OSRM server that cannot be reached or refuses the request."""


@dataclass(frozen=True)
class TravelMatrix:
    """Driving distance and duration from every point to every point.

    Attributes
    ----------
    source
        Where the figures come from: ``"network"``, ``"haversine"`` or ``"osrm"``.
    points
        The points as (lat, lon); row and column ``i`` belong to ``points[i]``.
    distance_m
        ``distance_m[i][j]``: metres driven from point ``i`` to point ``j``, rounded.
    duration_s
        ``duration_s[i][j]``: seconds driving from point ``i`` to point ``j``, rounded.
    legs
        Draws the road between two points (by index); ``None`` draws straight lines.
    """

    source: Literal["network", "haversine", "osrm"]
    points: tuple[Point, ...]
    distance_m: Matrix
    duration_s: Matrix
    legs: Callable[[int, int], list[Point]] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.source not in ("network", "haversine", "osrm"):
            raise ValueError("Expected source in {'network', 'haversine', 'osrm'}.")
        n = len(self.points)
        for matrix in (self.distance_m, self.duration_s):
            if len(matrix) != n or any(len(row) != n for row in matrix):
                raise ValueError(f"Expected {n} x {n} matrices.")
            if any(x < 0 for row in matrix for x in row):
                raise ValueError("Expected distances and durations >= 0.")

    def leg_path(self, i: int, j: int) -> list[Point]:
        """The driven line from point ``i`` to point ``j``, for maps.

        Parameters
        ----------
        i, j
            Indices of the two points.

        Returns
        -------
        list of (lat, lon)
            Starts at point ``i`` and ends at point ``j``: along the roads for ``"network"``
            and ``"osrm"`` (one OSRM route request per call; its failure raises
            ``TravelError``), a straight line for ``"haversine"``; just the point if ``i == j``.
        """
        n = len(self.points)
        if not (0 <= i < n and 0 <= j < n):
            raise ValueError(f"Expected i and j in [0, {n - 1}].")
        if i == j:
            return [self.points[i]]
        line = [self.points[i], *(self.legs(i, j) if self.legs else []), self.points[j]]
        return [p for k, p in enumerate(line) if k == 0 or p != line[k - 1]]


def haversine_matrix(
    points: Sequence[Point], *, circuity: float = 1.3, speed_kmh: float = 25.0
) -> TravelMatrix:
    """Estimated figures from straight lines, for when there is no road data.

    Parameters
    ----------
    points
        (lat, lon) of the depot and the bins.
    circuity
        Road distance over great-circle distance. 1.3 is a typical urban detour factor: the
        fastest paths between bins measure a median of 1.32 on the generated town and 1.38
        on Oakham's OpenStreetMap streets (pairs at least 300 m apart).
    speed_kmh
        Average driving speed. 25 km/h is an urban average for a refuse truck: 20 and 30 mph
        streets, junctions and traffic, not counting the time stopped at bins.

    Returns
    -------
    TravelMatrix
        Symmetric, ``source="haversine"``; legs are straight lines.
    """
    pts = _checked(points)
    if not 1.0 <= circuity <= 5.0:
        raise ValueError("Expected circuity in [1, 5].")
    if not 0.0 < speed_kmh <= 130.0:
        raise ValueError("Expected speed_kmh in (0, 130].")
    metres = [[haversine_m(*a, *b) * circuity for b in pts] for a in pts]
    seconds = [[m / (speed_kmh / 3.6) for m in row] for row in metres]
    return TravelMatrix("haversine", pts, _rounded(metres), _rounded(seconds))


def network_matrix(
    network: RoadNetwork, points: Sequence[Point], *, max_snap_m: float = 500.0
) -> TravelMatrix:
    """Fastest driving paths on a road network, one Dijkstra search per point.

    Each point snaps to the nearest point of the nearest edge (a bin stands mid-street), and
    a path starts and ends with the part of that edge between the snapped point and the node
    it leaves or enters. The walk from a point to its snapped point is not counted. Paths
    minimise time; ``distance_m`` is the length of the fastest path, not the shortest.

    Parameters
    ----------
    network
        The roads; edges are two-way, as ``RoadNetwork`` treats them.
    points
        (lat, lon) of the depot and the bins.
    max_snap_m
        Furthest a point may be from every edge before it is an error.

    Returns
    -------
    TravelMatrix
        ``source="network"``; legs follow the edges of the fastest paths.

    Raises
    ------
    TravelError
        If a point is farther than ``max_snap_m`` from every edge, or a pair has no path.
    """
    pts = _checked(points)
    if not 0.0 < max_snap_m <= 5000.0:
        raise ValueError("Expected max_snap_m in (0, 5000].")
    grid = _EdgeGrid(network)
    snaps = []
    for i, p in enumerate(pts):
        snap = grid.nearest(p, max_snap_m)
        if snap is None:
            raise TravelError(f"point {i} {p} is more than {max_snap_m:g} m from every road")
        snaps.append(snap)
    adjacency: list[list[tuple[int, float, float]]] = [[] for _ in network.nodes]
    for e in network.edges:
        adjacency[e.u].append((e.v, e.travel_time_s, e.length_m))
        adjacency[e.v].append((e.u, e.travel_time_s, e.length_m))
    targets = {n for s in snaps for n in (network.edges[s.edge].u, network.edges[s.edge].v)}
    metres, seconds, via, trees = [], [], [], []
    for i, s in enumerate(snaps):
        e = network.edges[s.edge]
        roots = [
            (e.u, s.fraction * e.travel_time_s, s.fraction * e.length_m),
            (e.v, (1 - s.fraction) * e.travel_time_s, (1 - s.fraction) * e.length_m),
        ]
        t_at, m_at, prev = _fastest(adjacency, roots, targets)
        row = [
            _arrival(network, s, q, t_at, m_at) if i != j else (0.0, 0.0, -1)
            for j, q in enumerate(snaps)
        ]
        for j, (t, _, _) in enumerate(row):
            if math.isinf(t):
                raise TravelError(f"no road path from point {i} {pts[i]} to point {j} {pts[j]}")
        seconds.append([t for t, _, _ in row])
        metres.append([m for _, m, _ in row])
        via.append(tuple(n for _, _, n in row))
        trees.append(prev)
    legs = _NetworkLegs(network, tuple(snaps), tuple(via), tuple(trees))
    return TravelMatrix("network", pts, _rounded(metres), _rounded(seconds), legs)


def osrm_matrix(
    base_url: str, points: Sequence[Point], *, timeout_s: float = 30.0, max_table_size: int = 100
) -> TravelMatrix:
    """Figures from an OSRM server's table service (``/table/v1/driving``).

    OSRM refuses tables of more than ``max-table-size`` squared cells (``osrm-routed
    --max-table-size``, 100 by default), so more than ``max_table_size`` points are asked
    for in blocks of at most ``max_table_size`` sources by as many destinations, each block
    sending only its own coordinates with ``sources=`` and ``destinations=``.

    Parameters
    ----------
    base_url
        The server, e.g. ``http://localhost:5000``.
    points
        (lat, lon) of the depot and the bins.
    timeout_s
        Seconds to wait for each answer.
    max_table_size
        The server's ``--max-table-size``.

    Returns
    -------
    TravelMatrix
        ``source="osrm"``; each ``leg_path`` call asks the route service for the geometry.

    Raises
    ------
    TravelError
        If the server cannot be reached, answers an HTTP error, a code other than ``"Ok"``,
        a table of the wrong shape, or no route (``null``) for a pair.
    """
    pts = _checked(points)
    base = base_url.rstrip("/")
    if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).netloc:
        raise ValueError("Expected an http:// or https:// base_url.")
    if not 0.0 < timeout_s <= 600.0:
        raise ValueError("Expected timeout_s in (0, 600].")
    if not 1 <= max_table_size <= 10_000:
        raise ValueError("Expected max_table_size in [1, 10000].")
    n = len(pts)
    metres = [[0.0] * n for _ in range(n)]
    seconds = [[0.0] * n for _ in range(n)]
    blocks = [range(a, min(a + max_table_size, n)) for a in range(0, n, max_table_size)]
    for rows in blocks:
        for cols in blocks:
            ids = list(rows) if rows == cols else [*rows, *cols]
            query = "annotations=distance,duration"
            if rows != cols:
                sources = ";".join(str(k) for k in range(len(rows)))
                destinations = ";".join(str(k) for k in range(len(rows), len(ids)))
                query += f"&sources={sources}&destinations={destinations}"
            url = f"{base}/table/v1/driving/{_lonlat([pts[k] for k in ids])}?{query}"
            data = _get_json(url, timeout_s, "table")
            _read_block(data, "distances", rows, cols, metres, pts)
            _read_block(data, "durations", rows, cols, seconds, pts)
    legs = _OsrmLegs(base, pts, timeout_s)
    return TravelMatrix("osrm", pts, _rounded(metres), _rounded(seconds), legs)


def travel_matrix(
    points: Sequence[Point], *, network: RoadNetwork | None = None, osrm_url: str | None = None
) -> TravelMatrix:
    """The best figures available: OSRM if configured, else the network if given, else
    haversine times circuity (defaults of each). A failing OSRM raises; it does not fall back."""
    source = "osrm" if osrm_url else "network" if network is not None else "haversine"
    log.info("travel matrix source=%s points=%d", source, len(points))
    if osrm_url:
        return osrm_matrix(osrm_url, points)
    if network is not None:
        return network_matrix(network, points)
    return haversine_matrix(points)


@dataclass(frozen=True)
class _Snap:
    """Where a point meets the roads: ``fraction`` of the way along edge ``edge`` from its u."""

    edge: int
    fraction: float
    lat: float
    lon: float


class _EdgeGrid:
    """Edges bucketed by the square cells their bounding boxes touch, in a flat projection
    around the network's mean latitude (metres; plenty accurate across a town)."""

    def __init__(self, network: RoadNetwork, cell_m: float = 100.0) -> None:
        self.network, self.cell_m = network, cell_m
        lat0 = sum(n.lat for n in network.nodes) / len(network.nodes)
        self.per_lon = METRES_PER_DEGREE * math.cos(math.radians(lat0))
        self.xy = [self._xy((n.lat, n.lon)) for n in network.nodes]
        self.cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        for k, e in enumerate(network.edges):
            (ax, ay), (bx, by) = self.xy[e.u], self.xy[e.v]
            for cx in range(self._cell(min(ax, bx)), self._cell(max(ax, bx)) + 1):
                for cy in range(self._cell(min(ay, by)), self._cell(max(ay, by)) + 1):
                    self.cells[cx, cy].append(k)

    def _xy(self, p: Point) -> tuple[float, float]:
        return p[1] * self.per_lon, p[0] * METRES_PER_DEGREE

    def _cell(self, metres: float) -> int:
        return math.floor(metres / self.cell_m)

    def nearest(self, p: Point, max_m: float) -> _Snap | None:
        """The nearest point of the nearest edge, if within ``max_m``: rings of cells outwards,
        until no edge in a farther ring can be nearer than the best so far."""
        px, py = self._xy(p)
        cx, cy = self._cell(px), self._cell(py)
        best: tuple[float, int, float] = (math.inf, -1, 0.0)
        seen: set[int] = set()
        for r in range(math.ceil(max_m / self.cell_m) + 1):
            ring = [(cx + dx, cy + dy) for dx in range(-r, r + 1) for dy in range(-r, r + 1)]
            near = {
                k
                for c in ring
                if max(abs(c[0] - cx), abs(c[1] - cy)) == r
                for k in self.cells.get(c, ())
            } - seen
            seen |= near
            for k in sorted(near):
                e = self.network.edges[k]
                (ax, ay), (bx, by) = self.xy[e.u], self.xy[e.v]
                dx, dy = bx - ax, by - ay
                span = dx * dx + dy * dy
                t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / span)) if span else 0.0
                best = min(best, (math.hypot(ax + t * dx - px, ay + t * dy - py), k, t))
            if best[0] <= r * self.cell_m:
                break  # edges not yet seen lie in farther rings, at least r cells away
        if best[0] > max_m:
            return None
        _, k, t = best
        lat, lon = self.network.point_along(self.network.edges[k], t)
        return _Snap(k, t, lat, lon)


def _fastest(
    adjacency: list[list[tuple[int, float, float]]],
    roots: list[tuple[int, float, float]],
    targets: set[int],
) -> tuple[list[float], list[float], list[int]]:
    """Dijkstra by time from several roots (node, seconds, metres) until every target is
    settled: seconds and metres of the fastest path to each node, and its predecessor."""
    n, push, pop = len(adjacency), heapq.heappush, heapq.heappop
    t_at, m_at, prev = [math.inf] * n, [math.inf] * n, [-1] * n
    heap: list[tuple[float, int]] = []
    for node, t, m in roots:
        if t < t_at[node]:
            t_at[node], m_at[node] = t, m
            push(heap, (t, node))
    settled, left = bytearray(n), len(targets)
    while heap and left:
        t, u = pop(heap)
        if settled[u]:
            continue  # a stale entry: u was reached faster since it was pushed
        settled[u] = 1
        left -= u in targets
        mu = m_at[u]
        for v, dt, dm in adjacency[u]:
            tv = t + dt
            if tv < t_at[v]:
                t_at[v], m_at[v], prev[v] = tv, mu + dm, u
                push(heap, (tv, v))
    return t_at, m_at, prev


def _arrival(
    network: RoadNetwork, s: _Snap, q: _Snap, t_at: list[float], m_at: list[float]
) -> tuple[float, float, int]:
    """Seconds, metres and the node entered from (-1: along the shared edge) to reach ``q``."""
    e = network.edges[q.edge]
    f, tt, mm = q.fraction, e.travel_time_s, e.length_m
    options = [(t_at[e.u] + f * tt, m_at[e.u] + f * mm, e.u)]
    options.append((t_at[e.v] + (1 - f) * tt, m_at[e.v] + (1 - f) * mm, e.v))
    if q.edge == s.edge:
        options.append((abs(f - s.fraction) * tt, abs(f - s.fraction) * mm, -1))
    return min(options)


@dataclass(frozen=True)
class _NetworkLegs:
    """The fastest-path trees of a network matrix, to draw its legs."""

    network: RoadNetwork
    snaps: tuple[_Snap, ...]
    via: tuple[tuple[int, ...], ...]
    trees: tuple[list[int], ...]

    def __call__(self, i: int, j: int) -> list[Point]:
        nodes, node = [], self.via[i][j]
        while node != -1:
            nodes.append(node)
            node = self.trees[i][node]
        s, q = self.snaps[i], self.snaps[j]
        return [(s.lat, s.lon), *self.network.route_points(reversed(nodes)), (q.lat, q.lon)]


@dataclass(frozen=True)
class _OsrmLegs:
    """Asks OSRM's route service for the geometry of a leg."""

    base: str
    points: tuple[Point, ...]
    timeout_s: float

    def __call__(self, i: int, j: int) -> list[Point]:
        pair = _lonlat([self.points[i], self.points[j]])
        url = f"{self.base}/route/v1/driving/{pair}?overview=full&geometries=geojson"
        data = _get_json(url, self.timeout_s, "route")
        try:
            return [
                (float(lat), float(lon))
                for lon, lat in data["routes"][0]["geometry"]["coordinates"]
            ]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise TravelError(f"OSRM route from point {i} to point {j} has no geometry") from exc


def _read_block(
    data: dict[str, Any],
    key: str,
    rows: range,
    cols: range,
    out: list[list[float]],
    pts: tuple[Point, ...],
) -> None:
    """Copy OSRM's ``key`` table for points ``rows`` by ``cols`` into ``out``."""
    table = data.get(key)
    shape = f"{len(rows)} x {len(cols)}"
    if not isinstance(table, list) or len(table) != len(rows):
        raise TravelError(f"OSRM table service answered {key} that are not a {shape} table")
    for i, row in zip(rows, table, strict=True):
        if not isinstance(row, list) or len(row) != len(cols):
            raise TravelError(f"OSRM table service answered {key} that are not a {shape} table")
        for j, x in zip(cols, row, strict=True):
            if x is None:
                raise TravelError(
                    f"OSRM finds no route from point {i} {pts[i]} to point {j} {pts[j]}"
                )
            if not isinstance(x, int | float) or x < 0:
                raise TravelError(f"OSRM answered {x!r} in {key} from point {i} to point {j}")
            out[i][j] = float(x)


def _lonlat(points: Sequence[Point]) -> str:
    return ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)  # 6 decimals: ~0.1 m


def _get_json(url: str, timeout_s: float, service: str) -> dict[str, Any]:
    where = url.split(f"/{service}/v1/", 1)[0]
    # S310: osrm_matrix checked that the scheme is http(s).
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise TravelError(
            f"OSRM {service} service at {where} answered HTTP {exc.code}{_why(exc.read())}"
        ) from exc
    except (OSError, http.client.HTTPException) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError):
            raise TravelError(f"OSRM at {where} did not answer within {timeout_s:g} s") from exc
        raise TravelError(f"cannot reach OSRM at {where}: {reason}") from exc
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise TravelError(f"OSRM {service} service at {where} did not answer JSON") from exc
    if not isinstance(data, dict) or data.get("code") != "Ok":
        raise TravelError(f"OSRM {service} service at {where} refused the request{_why(data)}")
    return data


def _why(answer: Any) -> str:
    """The ``: code (message)`` of an OSRM answer (a dict, or JSON bytes), or ``""``."""
    if isinstance(answer, bytes):
        try:
            answer = json.loads(answer)
        except ValueError:
            return ""
    if not isinstance(answer, dict) or "code" not in answer:
        return ""
    return f": {answer['code']} ({answer.get('message', 'no message')})"


def _checked(points: Sequence[Point]) -> tuple[Point, ...]:
    pts = tuple((float(lat), float(lon)) for lat, lon in points)
    if not pts:
        raise ValueError("Expected at least one point.")
    for i, (lat, lon) in enumerate(pts):
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):  # NaN fails too
            raise ValueError(f"Expected lat in [-90, 90] and lon in [-180, 180] (point {i}).")
    return pts


def _rounded(matrix: Sequence[Sequence[float]]) -> Matrix:
    return tuple(tuple(round(x) for x in row) for row in matrix)
