"""An OSRM server's table and route services as travel figures, over plain HTTP."""

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from analytics.routing.errors import TravelError
from analytics.routing.matrix import Point, TravelMatrix, checked_points, rounded
from ingest.kernel.params import require, require_in


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
    pts = checked_points(points)
    base = base_url.rstrip("/")
    require(
        urlsplit(base).scheme in ("http", "https") and bool(urlsplit(base).netloc),
        "Expected an http:// or https:// base_url.",
    )
    require_in("timeout_s", timeout_s, 0.0, 600.0, lo_open=True)
    require_in("max_table_size", max_table_size, 1, 10_000)
    n = len(pts)
    metres = [[0.0] * n for _ in range(n)]
    seconds = [[0.0] * n for _ in range(n)]
    blocks = [range(a, min(a + max_table_size, n)) for a in range(0, n, max_table_size)]
    for rows in blocks:
        for cols in blocks:
            data = _get_json(_table_url(base, pts, rows, cols), timeout_s, "table")
            _read_block(data, "distances", rows, cols, metres, pts)
            _read_block(data, "durations", rows, cols, seconds, pts)
    legs = _OsrmLegs(base, pts, timeout_s)
    return TravelMatrix("osrm", pts, rounded(metres), rounded(seconds), legs)


def _table_url(base: str, pts: tuple[Point, ...], rows: range, cols: range) -> str:
    """The table request for points ``rows`` by ``cols``, sending each point once."""
    ids = list(rows) if rows == cols else [*rows, *cols]
    query = "annotations=distance,duration"
    if rows != cols:
        sources = ";".join(str(k) for k in range(len(rows)))
        destinations = ";".join(str(k) for k in range(len(rows), len(ids)))
        query += f"&sources={sources}&destinations={destinations}"
    return f"{base}/table/v1/driving/{_lonlat([pts[k] for k in ids])}?{query}"


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
