"""A council's profile as the admin API and ``smartstreets councils`` show and take it.

The profile itself (its fields, checks and storage) lives in ``ingest.db.council_profile``; here
is what needs the decisions layer: the holiday calendar must be one the forecaster knows.
"""

import json
from typing import Any

from analytics.forecasting.calendars import CALENDARS
from ingest.db.council_profile import CouncilProfile, ProfileChange


def check_change(change: ProfileChange) -> ProfileChange:
    """``change`` if its holiday calendar is a built-in one; ValueError naming them otherwise."""
    if change.holiday_calendar is not None and change.holiday_calendar not in CALENDARS:
        known = ", ".join(sorted(CALENDARS))
        raise ValueError(f"unknown holiday calendar {change.holiday_calendar!r} (known: {known})")
    return change


def profile_json(profile: CouncilProfile) -> dict[str, Any]:
    """The profile as JSON: the admin API's body and ``councils show --json``."""
    return {
        "slug": profile.slug,
        "name": profile.name,
        "timezone": profile.timezone,
        "holiday_calendar": profile.holiday_calendar,
        "locale": profile.locale,
        "bbox": None if profile.bbox is None else list(profile.bbox),
        "boundary": profile.boundary,
        "depot": None if profile.depot is None else profile.depot.model_dump(),
        "zones": [z.model_dump() for z in profile.zones],
        "publish_counters": profile.publish_counters,
        "drives_enabled": profile.drives_enabled,
        "open_data_licence": profile.open_data_licence,
    }


def profile_lines(profile: CouncilProfile, default_licence: str) -> list[str]:
    """The profile as ``key: value`` lines for people."""
    depot = profile.depot
    lines = [
        f"slug: {profile.slug}",
        f"name: {profile.name}",
        f"timezone: {profile.timezone}",
        f"holiday calendar: {profile.holiday_calendar}",
        f"locale: {profile.locale}",
        "bbox: " + ("—" if profile.bbox is None else ",".join(f"{v:g}" for v in profile.bbox)),
        f"boundary: {'set' if profile.boundary else '—'}",
        "depot: " + ("—" if depot is None else f"{depot.name} at {depot.lat:.5f},{depot.lon:.5f}"),
        f"counter-level figures: {'published' if profile.publish_counters else 'withheld'}",
        f"drives: {'enabled' if profile.drives_enabled else 'disabled'}",
        f"open-data licence: {profile.open_data_licence or default_licence + ' (default)'}",
        f"zones: {len(profile.zones) or '—'}",
    ]
    for z in profile.zones:
        shape = ", boundary" if z.boundary else ""
        lines.append(f"  {z.zone}: {z.display_name}{shape}")
    return lines


def zones_from_geojson(text: str, source: str) -> list[dict[str, Any]]:
    """Zones from a GeoJSON FeatureCollection of polygons whose properties name the zone
    (``zone``) and its display name (``display_name`` or ``name``); ValueError otherwise."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{source}: not JSON: {exc}") from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list) or not features:
        raise ValueError(f"{source}: expected a GeoJSON FeatureCollection with features")
    zones = []
    for i, f in enumerate(features):
        props = f.get("properties") if isinstance(f, dict) else None
        props = props if isinstance(props, dict) else {}
        zone = props.get("zone")
        if not isinstance(zone, str) or not zone:
            raise ValueError(f"{source}: feature {i} has no 'zone' property")
        display = props.get("display_name") or props.get("name") or zone
        zones.append({"zone": zone, "display_name": display, "boundary": f.get("geometry")})
    return zones
