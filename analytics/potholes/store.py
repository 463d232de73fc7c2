"""Stored potholes: confirmed from the council's bump reports, matched to earlier refreshes so
each keeps its id and lifecycle, and moved along that lifecycle by the council's actions.

When the clusters of several stored potholes now merge into one (each direction of travel was
stored apart before), the oldest keeps its id and the others become its duplicates."""

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import psycopg
from psycopg.rows import dict_row

from analytics.geo.geometry import local_distance_m
from analytics.potholes.batch import confirm_all, with_quality
from analytics.potholes.confirm import (
    Asset,
    AssetKind,
    ConfirmParams,
    DeviceReport,
    Pothole,
    cluster_reports,
    confirm,
    devices_since,
)
from analytics.potholes.coverage_store import load_segments
from analytics.potholes.lifecycle import Action, Lifecycle, advance
from analytics.potholes.merge import RoadLookup
from ingest.contract.payloads import BumpReport
from ingest.db.councils import require_council

WINDOW = timedelta(days=90)
"""How far back bump reports count."""

LOAD_BATCH = 20_000
"""Reports read and scored at a time."""


class TransitionError(ValueError):
    """A council's action that the pothole's state does not allow."""


def load_reports(conn: psycopg.Connection, council: str, now: datetime) -> list[DeviceReport]:
    """The council's bump reports of the ``WINDOW`` before ``now``, oldest first, each scored
    (:func:`with_quality`) batch by batch as read and kept without its window of samples: a
    million reports then fit in memory."""
    out: list[DeviceReport] = []
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            SELECT device_id, ts, lat, lon, speed_mps, peak_z_g, accuracy_m, heading_deg,
                   sample_hz, samples_z_g
            FROM bump_report
            WHERE council = %s AND ts > %s AND ts <= %s
            ORDER BY ts, device_id
            """,
            (council, now - WINDOW, now),
        )
        while rows := cur.fetchmany(LOAD_BATCH):
            batch = [DeviceReport(r.pop("device_id"), BumpReport(**r)) for r in rows]
            out.extend(with_quality(batch, keep_samples=False))
    return out


def load_assets(conn: psycopg.Connection, council: str) -> list[Asset]:
    """The council's road assets."""
    rows = conn.execute(
        "SELECT kind, lat, lon, radius_m FROM road_asset WHERE council = %s", (council,)
    ).fetchall()
    return [Asset(cast(AssetKind, k), lat, lon, radius) for k, lat, lon, radius in rows]


def refresh_potholes(
    conn: psycopg.Connection,
    council: str,
    now: datetime | None = None,
    params: ConfirmParams | None = None,
) -> dict[str, int]:
    """Confirm potholes from the last 90 days of reports and store them.

    Parameters
    ----------
    conn
        A connection; the refresh runs in one transaction.
    council
        The council's slug.
    now
        The end of the window (default: now).
    params
        Confirmation parameters (default: :class:`ConfirmParams`); ``radius_m`` and
        ``heading_tol_deg`` also match potholes to stored ones, and the directions of travel of
        a merged pothole to the stored potholes it merges (within ``merge_m`` of it).

    Returns
    -------
    dict[str, int]
        Counts of ``reports`` read, ``clusters`` (potholes) found, potholes ``inserted``,
        ``updated``, whose state ``changed``, and ``merged`` (marked duplicates of the oldest
        stored pothole of one merged pothole).

    Raises
    ------
    LookupError
        An unknown council.
    """
    now = now or datetime.now(UTC)
    params = params or ConfirmParams()
    counts = dict.fromkeys(("reports", "clusters", "inserted", "updated", "changed", "merged"), 0)
    with conn.transaction():
        require_council(conn, council)
        reports = load_reports(conn, council, now)
        assets = load_assets(conn, council)
        segments = load_segments(conn, council)
        roads = RoadLookup(segments) if segments else None
        stored = _stored(conn, council)
        counts["reports"] = len(reports)
        found = confirm_all(reports, assets, params, roads)
        counts["clusters"] = len(found)
        # Each pothole first takes its nearest stored one, then a merged pothole also takes
        # those its directions of travel were stored as.
        first = [_take(stored, _nearest_live(stored, p, params)) for _, p in found]
        more = [_merged(stored, group, p, params) for group, p in found]
        for (group, p), match, merged in zip(found, first, more, strict=True):
            matches = [m for m in (match, *merged) if m is not None]
            if not matches:
                _insert(conn, council, p, now)
                counts["inserted"] += 1
                continue
            live = [m for m in matches if m["state"] != "duplicate"]
            keep = min(live, key=lambda m: m["pothole_id"]) if live else matches[0]
            state = _next_state(keep, p, group, params)
            _update(conn, keep["pothole_id"], p, state, now if state != keep["state"] else None)
            counts["updated"] += 1
            counts["changed"] += state != keep["state"]
            for m in live:
                if m is not keep:
                    _mark_duplicate(conn, m, keep["pothole_id"], now)
                    counts["merged"] += 1
    return counts


def apply_action(
    conn: psycopg.Connection,
    council: str,
    pothole_id: int,
    action: Action,
    duplicate_of: int | None = None,
    now: datetime | None = None,
) -> Lifecycle:
    """Apply a council's action to a stored pothole and return its new state.

    Raises
    ------
    LookupError
        No such pothole in the council (or no such ``duplicate_of``).
    TransitionError
        The action is not allowed in the pothole's state.
    ValueError
        ``duplicate_of`` is missing or the pothole itself.
    """
    now = now or datetime.now(UTC)
    with conn.transaction():
        current = _state(conn, council, pothole_id, lock=True)
        if action == "mark_duplicate":
            if duplicate_of is None or duplicate_of == pothole_id:
                raise ValueError("mark_duplicate needs duplicate_of, another pothole's id")
            _state(conn, council, duplicate_of, lock=False)
        else:
            duplicate_of = None
        try:
            state = advance(current, action)
        except ValueError as exc:
            raise TransitionError(f"cannot {action} pothole {pothole_id}: {exc}") from None
        conn.execute(
            "UPDATE pothole SET state = %s, state_changed_at = %s, duplicate_of = %s "
            "WHERE pothole_id = %s",
            (state, now, duplicate_of, pothole_id),
        )
    return state


def _state(conn: psycopg.Connection, council: str, pothole_id: int, *, lock: bool) -> Lifecycle:
    """A pothole's state, its row locked for the transaction with ``lock``.

    Raises
    ------
    LookupError
        No such pothole in the council.
    """
    query = "SELECT state FROM pothole WHERE council = %s AND pothole_id = %s"
    row = conn.execute(query + " FOR UPDATE" if lock else query, (council, pothole_id)).fetchone()
    if row is None:
        raise LookupError(f"no pothole {pothole_id} in council {council!r}")
    return cast(Lifecycle, row[0])


def _stored(conn: psycopg.Connection, council: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT pothole_id, lat, lon, heading_deg, state, state_changed_at "
            "FROM pothole WHERE council = %s ORDER BY pothole_id",
            (council,),
        )
        return cur.fetchall()


def _nearest(
    stored: Sequence[dict[str, Any]], p: Pothole, params: ConfirmParams
) -> dict[str, Any] | None:
    best, best_d = None, math.inf
    for s in stored:
        d = local_distance_m(s["lat"], s["lon"], p.lat, p.lon)
        if d <= params.radius_m and d < best_d and _headings_agree(s["heading_deg"], p, params):
            best, best_d = s, d
    return best


def _nearest_live(
    stored: Sequence[dict[str, Any]], p: Pothole, params: ConfirmParams
) -> dict[str, Any] | None:
    """The nearest stored pothole that is not a duplicate, else the nearest duplicate."""
    live = [s for s in stored if s["state"] != "duplicate"]
    return _nearest(live, p, params) or _nearest(stored, p, params)


def _take(stored: list[dict[str, Any]], match: dict[str, Any] | None) -> dict[str, Any] | None:
    if match is not None:
        stored.remove(match)
    return match


def _merged(
    stored: list[dict[str, Any]], group: Sequence[DeviceReport], p: Pothole, params: ConfirmParams
) -> list[dict[str, Any]]:
    """The stored potholes that the directions of travel of merged ``p`` match, within
    ``merge_m`` of it (taken out of ``stored``)."""
    directions = cluster_reports(group, params)
    if len(directions) < 2:
        return []
    near = [
        s for s in stored if local_distance_m(s["lat"], s["lon"], p.lat, p.lon) <= params.merge_m
    ]
    out = []
    for members in directions:
        for q in confirm([group[i] for i in members], (), params):
            match = _take(stored, _nearest(near, q, params))
            if match is not None:
                near.remove(match)
                out.append(match)
    return out


def _mark_duplicate(
    conn: psycopg.Connection, s: dict[str, Any], duplicate_of: int, now: datetime
) -> None:
    state = advance(cast(Lifecycle, s["state"]), "mark_duplicate")
    conn.execute(
        "UPDATE pothole SET state = %s, state_changed_at = %s, duplicate_of = %s "
        "WHERE pothole_id = %s",
        (state, now, duplicate_of, s["pothole_id"]),
    )


def _headings_agree(stored: float | None, p: Pothole, params: ConfirmParams) -> bool:
    if stored is None or p.heading_deg is None:
        return True
    diff = abs(stored - p.heading_deg) % 360.0
    return min(diff, 360.0 - diff) <= params.heading_tol_deg


def _next_state(
    match: dict[str, Any], p: Pothole, group: Sequence[DeviceReport], params: ConfirmParams
) -> Lifecycle:
    state = cast(Lifecycle, match["state"])
    if state == "candidate":
        return p.state  # confirmation also weighs the reports' quality, not only phones
    devices = devices_since(group, match["state_changed_at"])
    return advance(state, None, devices=devices, min_devices=params.min_devices)


def _insert(conn: psycopg.Connection, council: str, p: Pothole, now: datetime) -> None:
    conn.execute(
        """
        INSERT INTO pothole (council, lat, lon, heading_deg, severity, confidence, reports,
                             devices, first_seen, last_seen, state, state_changed_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (council, *_figures(p), p.state, now),
    )


def _update(
    conn: psycopg.Connection, pothole_id: int, p: Pothole, state: str, changed: datetime | None
) -> None:
    conn.execute(
        """
        UPDATE pothole SET lat = %s, lon = %s, heading_deg = %s, severity = %s,
               confidence = %s, reports = %s, devices = %s, first_seen = %s, last_seen = %s,
               state = %s, state_changed_at = coalesce(%s, state_changed_at)
        WHERE pothole_id = %s
        """,
        (*_figures(p), state, changed, pothole_id),
    )


def _figures(p: Pothole) -> tuple[Any, ...]:
    return (
        p.lat,
        p.lon,
        p.heading_deg,
        p.severity,
        p.confidence,
        p.reports,
        p.devices,
        p.first_seen,
        p.last_seen,
    )
