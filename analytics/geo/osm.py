"""Load a road network from an OpenStreetMap extract (``.osm.pbf``), for towns that want their
own streets in the simulator. Map data © OpenStreetMap contributors, ODbL.

Drivable ways become edges between consecutive way nodes; the largest connected part is kept.
The town centre is the middle of the busiest run of streets named "High Street" (or the
extract's middle); the zones are a square around it, or boxes around named streets of the
centre; the depot is the service-road node nearest the centre. :func:`extract_town` cuts a
town's roads out of a county extract, small enough to ship.
"""

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import osmium

from analytics.geo.bbox import BBox, widened
from analytics.geo.geometry import haversine_m, moved
from analytics.geo.roads import Edge, Node, RoadClass, RoadNetwork, Zone
from ingest.kernel.params import require_in

_CLASS_BY_HIGHWAY = {
    "motorway": RoadClass.RING, "motorway_link": RoadClass.RING,
    "trunk": RoadClass.RING, "trunk_link": RoadClass.RING,
    "primary": RoadClass.PRIMARY, "primary_link": RoadClass.PRIMARY,
    "secondary": RoadClass.PRIMARY, "secondary_link": RoadClass.PRIMARY,
    "tertiary": RoadClass.PRIMARY, "tertiary_link": RoadClass.PRIMARY,
    "unclassified": RoadClass.RESIDENTIAL, "residential": RoadClass.RESIDENTIAL,
    "living_street": RoadClass.RESIDENTIAL, "road": RoadClass.RESIDENTIAL,
    "service": RoadClass.SERVICE,
}  # fmt: skip
_Link = tuple[int, int, RoadClass, str, float]
_MAXSPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*$")
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL (openstreetmap.org/copyright)"
"""What the Open Database Licence asks to show wherever a map or data from an extract is shown."""
EXTRACT_TAGS = ("highway", "name", "ref", "maxspeed", "oneway", "junction")
"""The way tags :func:`extract_town` keeps: what the loader and routing read."""
_ZONE_REACH_M = 1500.0
"""A named zone takes only the streets of that name this near the centre: a county has many
Church Streets."""


class OsmError(ValueError):
    """An extract that cannot be read or holds no usable roads."""


def _speed(tags: osmium.osm.TagList, road_class: RoadClass) -> float:
    match = _MAXSPEED.match(str(tags.get("maxspeed", "")))
    if match is None:
        return road_class.default_speed_mps
    value = float(match[1])
    # In the UK an untagged unit means mph; elsewhere km/h is the default unit.
    mps = value * (0.44704 if match[2] in ("mph", None) else 1 / 3.6)
    return max(2.0, min(mps, 31.3))


def load_osm(
    path: Path,
    radius_m: float = 3000.0,
    zone_half_m: float = 300.0,
    zone_name: str = "town-centre",
    *,
    high_streets: Sequence[str] = ("High Street",),
    zones: Sequence[tuple[str, Sequence[str]]] = (),
    zone_margin_m: float = 40.0,
) -> RoadNetwork:
    """Read the drivable roads within ``radius_m`` of the town centre of an extract.

    An extract often covers a county; the radius keeps the town (and routing fast).
    ``high_streets`` names the streets of the town centre (the high-street road class, where
    counters stand). Without ``zones`` there is one square zone ``zone_name`` around the centre;
    with them, each ``(name, streets)`` is the box around those streets (within 1.5 km of the
    centre) widened by ``zone_margin_m``, and a point in several is in the first.
    """
    require_in("radius_m", radius_m, 500, 50_000)
    require_in("zone_half_m", zone_half_m, 50, 5000)
    require_in("zone_margin_m", zone_margin_m, 0, 1000)
    high_names = {s.lower() for s in high_streets}
    index: dict[int, int] = {}
    coords: list[tuple[float, float]] = []
    links: list[tuple[int, int, RoadClass, str, float]] = []
    try:
        source = osmium.FileProcessor(str(path)).with_locations()
        for way in source.with_filter(osmium.filter.KeyFilter("highway")):
            if not isinstance(way, osmium.osm.Way):
                continue
            road_class = _CLASS_BY_HIGHWAY.get(str(way.tags.get("highway", "")))
            if road_class is None:
                continue
            name = str(way.tags.get("name", "") or way.tags.get("ref", ""))
            if name.lower() in high_names:
                road_class = RoadClass.HIGH_STREET
            speed = _speed(way.tags, road_class)
            prev = None
            for nd in way.nodes:
                if not nd.location.valid():
                    prev = None
                    continue
                if nd.ref not in index:
                    index[nd.ref] = len(coords)
                    coords.append((nd.lat, nd.lon))
                cur = index[nd.ref]
                if prev is not None and prev != cur:
                    links.append((prev, cur, road_class, name, speed))
                prev = cur
    except RuntimeError as exc:  # libosmium reports unreadable files this way
        raise OsmError(f"cannot read {path}: {exc}") from exc
    if not links:
        raise OsmError(f"{path} holds no drivable roads")
    centre = _centre(coords, links)
    links = [
        link
        for link in links
        if max(haversine_m(*coords[link[0]], *centre), haversine_m(*coords[link[1]], *centre))
        <= radius_m
    ]
    keep = _largest_component(len(coords), links)
    renumber = {old: new for new, old in enumerate(sorted(keep))}
    nodes = tuple(Node(renumber[i], *coords[i]) for i in sorted(keep))
    edges = tuple(
        Edge(renumber[u], renumber[v], cls, name, haversine_m(*coords[u], *coords[v]), speed)
        for u, v, cls, name, speed in links
        if u in keep
    )
    depot = _depot(nodes, edges, centre)
    if zones:
        named = tuple(
            _street_zone(nodes, edges, centre, name, streets, zone_margin_m)
            for name, streets in zones
        )
        return RoadNetwork(nodes, edges, depot, named)
    south, west = moved(*centre, -zone_half_m, -zone_half_m)
    north, east = moved(*centre, zone_half_m, zone_half_m)
    return RoadNetwork(nodes, edges, depot, (_box_zone(zone_name, BBox(west, south, east, north)),))


def _box_zone(name: str, box: BBox) -> Zone:
    west, south, east, north = box
    return Zone(name, ((west, south), (east, south), (east, north), (west, north), (west, south)))


def _street_zone(
    nodes: tuple[Node, ...],
    edges: tuple[Edge, ...],
    centre: tuple[float, float],
    name: str,
    streets: Sequence[str],
    margin_m: float,
) -> Zone:
    wanted = {s.lower() for s in streets}
    points = [
        nodes[i]
        for e in edges
        if e.name.lower() in wanted
        for i in (e.u, e.v)
        if haversine_m(nodes[i].lat, nodes[i].lon, *centre) <= _ZONE_REACH_M
    ]
    if not points:
        raise OsmError(f"zone {name!r}: no street named {', '.join(streets)} near the centre")
    lats, lons = [n.lat for n in points], [n.lon for n in points]
    return _box_zone(name, widened(BBox(min(lons), min(lats), max(lons), max(lats)), margin_m))


def _largest_component(count: int, links: Sequence[_Link]) -> set[int]:
    adjacency: dict[int, list[int]] = defaultdict(list)
    for u, v, *_ in links:
        adjacency[u].append(v)
        adjacency[v].append(u)
    best: set[int] = set()
    seen: set[int] = set()
    for start in adjacency:
        if start in seen:
            continue
        part, stack = {start}, [start]
        while stack:
            for nxt in adjacency[stack.pop()]:
                if nxt not in part:
                    part.add(nxt)
                    stack.append(nxt)
        seen |= part
        if len(part) > len(best):
            best = part
    return best


def _centre(coords: list[tuple[float, float]], links: Sequence[_Link]) -> tuple[float, float]:
    """The middle of the busiest High Street: of each connected run of streets named High
    Street (an extract may hold several towns), the one with most road nodes within 1 km.
    The middle of the extract when it has none."""
    high = [link for link in links if link[2] is RoadClass.HIGH_STREET]
    if not high:
        lats, lons = zip(*coords, strict=True)
        return sum(lats) / len(lats), sum(lons) / len(lons)
    best: tuple[int, tuple[float, float]] | None = None
    remaining = high
    while remaining:
        part = _largest_component(len(coords), remaining)
        remaining = [link for link in remaining if link[0] not in part]
        mid = (
            sum(coords[i][0] for i in part) / len(part),
            sum(coords[i][1] for i in part) / len(part),
        )
        # A degree of latitude is ~111 km: a cheap box test first, then the true distance.
        density = sum(
            1
            for c in coords
            if abs(c[0] - mid[0]) < 0.01
            and abs(c[1] - mid[1]) < 0.016
            and haversine_m(*c, *mid) <= 1000
        )
        if best is None or density > best[0]:
            best = (density, mid)
    return best[1] if best else (0.0, 0.0)


def _depot(nodes: tuple[Node, ...], edges: tuple[Edge, ...], centre: tuple[float, float]) -> int:
    service = {e.u for e in edges if e.road_class is RoadClass.SERVICE}
    pool = [nodes[i] for i in service] or list(nodes)
    return min(pool, key=lambda n: haversine_m(n.lat, n.lon, *centre)).node_id


def extract_town(source: Path, out: Path, box: BBox) -> int:
    """Cut a town's drivable roads out of a larger extract, small enough to ship.

    Parameters
    ----------
    source
        An OpenStreetMap extract (``.osm.pbf``), say a county from Geofabrik.
    out
        Where the cut goes (overwritten); the format follows the suffix.
    box
        The town. Every drivable way with a node inside it is kept whole, with all its nodes.

    Returns
    -------
    int
        How many ways were written. Only the tags in :data:`EXTRACT_TAGS` are kept, and no
        editing metadata (users, changesets); the replication timestamp of ``source`` is kept in
        the header, for the licence's attribution of a dated copy.
    """
    ways: set[int] = set()
    wanted: set[int] = set()
    try:
        source_roads = osmium.FileProcessor(str(source)).with_locations()
        for way in source_roads.with_filter(osmium.filter.KeyFilter("highway")):
            if not isinstance(way, osmium.osm.Way):
                continue
            if str(way.tags.get("highway", "")) not in _CLASS_BY_HIGHWAY:
                continue
            if any(nd.location.valid() and _inside(box, nd.lat, nd.lon) for nd in way.nodes):
                ways.add(way.id)
                wanted.update(nd.ref for nd in way.nodes)
        header = osmium.io.Header()
        header.add_box(osmium.osm.Box(osmium.osm.Location(box[0], box[1]),
                                      osmium.osm.Location(box[2], box[3])))  # fmt: skip
        stamp = osmium.io.Reader(str(source), osmium.osm.osm_entity_bits.NOTHING)
        header.set(
            "osmosis_replication_timestamp", stamp.header().get("osmosis_replication_timestamp")
        )
        stamp.close()
        with osmium.SimpleWriter(str(out), header=header, overwrite=True) as writer:
            for obj in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY):
                if isinstance(obj, osmium.osm.Node) and obj.id in wanted:
                    writer.add_node(osmium.osm.mutable.Node(id=obj.id, location=obj.location))
                elif isinstance(obj, osmium.osm.Way) and obj.id in ways:
                    tags: dict[str, Any] = {k: v for k, v in obj.tags if k in EXTRACT_TAGS}
                    refs = [nd.ref for nd in obj.nodes]
                    writer.add_way(osmium.osm.mutable.Way(id=obj.id, nodes=refs, tags=tags))
    except RuntimeError as exc:
        raise OsmError(f"cannot cut {source} into {out}: {exc}") from exc
    return len(ways)


def _inside(box: BBox, lat: float, lon: float) -> bool:
    return box.min_lon <= lon <= box.max_lon and box.min_lat <= lat <= box.max_lat
