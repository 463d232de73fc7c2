"""FIWARE Smart Data Models shapes of the open data, as NGSI-LD keyValues entities.

``WasteContainer`` per bin (bins are council street furniture) and ``CrowdFlowObserved`` per
zone for its latest complete hour, with small counts withheld as in the tables. NGSI-LD has no
null attribute, so a withheld or unknown value is an absent attribute.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from api.open_data import MIN_PEOPLE
from api.open_data_formats import Row

SDM_CONTEXT = "https://smartdatamodels.org/context.jsonld"

_STATUS = (("fire", "burning"), ("tilted", "dropped"), ("lid_open", "lidOpen"))
"""Sensor flags to WasteContainer status, most urgent first."""


def _urn(kind: str, council: str, local: str) -> str:
    return f"urn:ngsi-ld:{kind}:{council}:{quote(local, safe='')}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def container_status(flags: list[str]) -> str:
    """The WasteContainer status of a reading's flags: burning, dropped, lidOpen or ok."""
    return next((status for flag, status in _STATUS if flag in flags), "ok")


def waste_containers(council: str, rows: list[Row]) -> list[dict[str, Any]]:
    """One WasteContainer per bin from ``latest_bin_states`` rows."""
    entities = []
    for r in rows:
        entity: dict[str, Any] = {
            "id": _urn("WasteContainer", council, r["device_id"]),
            "type": "WasteContainer",
            "location": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
        }
        if r["address"]:
            entity["address"] = {"streetAddress": r["address"]}
        if r["capacity_litres"] is not None:
            entity["binCapacity"] = r["capacity_litres"]
        if r["ts"] is not None:
            entity["fillingLevel"] = round(min(max(float(r["fill_pct"]), 0.0), 100.0) / 100, 3)
            entity["status"] = container_status(list(r["flags"]))
            entity["dateModified"] = _iso(r["ts"])
            if r["temperature_c"] is not None:
                entity["temperature"] = round(float(r["temperature_c"]), 1)
        if r["last_emptied"] is not None:
            entity["dateLastEmptying"] = _iso(r["last_emptied"])
        entity["@context"] = SDM_CONTEXT
        entities.append(entity)
    return entities


def crowd_flows(council: str, rows: list[Row], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """One CrowdFlowObserved per zone from ``latest_zone_hours`` rows, named by the zones'
    display names (``names``); ``peopleCount`` is absent when under ``MIN_PEOPLE``."""
    entities = []
    for r in rows:
        start, end = r["bucket"], r["bucket"] + timedelta(hours=1)
        entity: dict[str, Any] = {
            "id": _urn("CrowdFlowObserved", council, r["zone"]),
            "type": "CrowdFlowObserved",
            "name": names.get(r["zone"], r["zone"]),
            "dateObserved": f"{_iso(start)}/{_iso(end)}",
            "dateObservedFrom": _iso(start),
            "dateObservedTo": _iso(end),
        }
        if r["count"] >= MIN_PEOPLE:
            entity["peopleCount"] = int(r["count"])
        entity["@context"] = SDM_CONTEXT
        entities.append(entity)
    return entities
