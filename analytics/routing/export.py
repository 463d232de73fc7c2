"""A collection plan for other systems: GeoJSON for maps and GIS, GPX for satnavs.

Both read only the :class:`~analytics.routing.schema.Plan`.
"""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from analytics.routing.fill_words import visit_words
from analytics.routing.schema import Plan, VehicleRoute

GPX_NS = "http://www.topografix.com/GPX/1/1"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LL = {"lat", "lon"}


def route_of(plan: Plan, vehicle: int) -> VehicleRoute:
    """The plan's route of ``vehicle``; ``ValueError`` if it has none."""
    for route in plan.routes:
        if route.vehicle == vehicle:
            return route
    raise ValueError(f"Expected vehicle in {[r.vehicle for r in plan.routes]}, got {vehicle}.")


def _point(lat: float, lon: float, properties: dict[str, Any]) -> dict[str, Any]:
    geometry = {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def plan_geojson(plan: Plan) -> dict[str, Any]:
    """The plan as an RFC 7946 FeatureCollection, positions as [lon, lat].

    Per route a LineString (``kind`` "route"; ``geometry`` null when the path has under two
    points), per stop a Point (``kind`` "stop", ``order`` from 1), skipped and left-out bins as
    Points (``kind`` "bin", ``status`` "skipped" or "left_out") and the depot (``kind`` "depot").
    """
    features: list[dict[str, Any]] = []
    for r in plan.routes:
        line = [[lon, lat] for lat, lon in r.path]
        geometry = {"type": "LineString", "coordinates": line} if len(line) >= 2 else None
        properties = {"kind": "route", "vehicle": r.vehicle, "stops": len(r.stops)}
        properties |= r.model_dump(include={"distance_m", "duration_s", "load_litres"})
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
        for i, s in enumerate(r.stops, 1):
            stop = {"kind": "stop", "status": "planned", "order": i, "vehicle": r.vehicle}
            features.append(_point(s.lat, s.lon, stop | s.model_dump(mode="json", exclude=_LL)))
    for status, bins in (("skipped", plan.skipped), ("left_out", plan.left_out)):
        for b in bins:
            properties = {"kind": "bin", "status": status} | b.model_dump(mode="json", exclude=_LL)
            features.append(_point(b.lat, b.lon, properties))
    features.append(_point(*plan.depot, {"kind": "depot", "council": plan.council}))
    return {"type": "FeatureCollection", "features": features}


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = _XML_ILLEGAL.sub("", text)
    return element


def _gpx_time(moment: datetime) -> str:
    if moment.tzinfo is None:  # unknown offset: say so by giving none, rather than guess
        return moment.isoformat(timespec="seconds")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ll(lat: float, lon: float) -> dict[str, str]:
    return {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}"}


def plan_gpx(plan: Plan, vehicle: int | None = None) -> str:
    """The plan as GPX 1.1: the depot as a waypoint, per route an ``<rte>`` and a ``<trk>``.

    Each ``<rtept>`` is a stop (name: device id, desc: street and reason, time: planned
    arrival in UTC); the track is the driven path. ``vehicle`` keeps one route only; an unknown
    vehicle raises ValueError.
    """
    routes = plan.routes if vehicle is None else [route_of(plan, vehicle)]
    root = ET.Element("gpx", {"version": "1.1", "creator": "smartstreets", "xmlns": GPX_NS})
    meta = _sub(root, "metadata")
    _sub(meta, "name", f"{plan.council} collection plan {plan.shift_date.isoformat()}")
    _sub(meta, "time", _gpx_time(plan.created_at))
    depot = _sub(root, "wpt", **_ll(*plan.depot))
    _sub(depot, "name", "Depot")
    _sub(depot, "sym", "Building")
    for r in routes:  # the schema orders wpt, then rte, then trk
        rte = _sub(root, "rte")
        _sub(rte, "name", f"Vehicle {r.vehicle}")
        _sub(rte, "number", str(r.vehicle))
        for s in r.stops:
            point = _sub(rte, "rtept", **_ll(s.lat, s.lon))
            _sub(point, "time", _gpx_time(s.arrival))
            _sub(point, "name", s.device_id)
            fill = visit_words(
                s.fill_now_pct, s.fill_at_visit_pct, s.overflow_at, s.overflow_likely, s.arrival,
                s.arrival.tzinfo,
            )  # fmt: skip
            _sub(point, "cmt", s.street or "Street unknown")
            _sub(point, "desc", f"{s.street or 'Street unknown'}: {fill}; {s.reason}")
    for r in routes:
        trk = _sub(root, "trk")
        _sub(trk, "name", f"Vehicle {r.vehicle}")
        _sub(trk, "number", str(r.vehicle))
        segment = _sub(trk, "trkseg")
        for lat, lon in r.path:
            _sub(segment, "trkpt", **_ll(lat, lon))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
