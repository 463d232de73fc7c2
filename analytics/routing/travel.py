"""Driving distances and times between collection points, for the route planner.

Three sources, in the order ``travel_matrix`` prefers them:

- ``osrm_matrix`` (:mod:`analytics.routing.osrm`): the table service of an OSRM server, when
  the council runs one;
- ``network_matrix`` (:mod:`analytics.routing.road_matrix`): fastest paths on a
  ``RoadNetwork`` (generated, or loaded from an OpenStreetMap extract), whose edges are two-way;
- ``haversine_matrix``: great-circle distance times a circuity factor, needing no data.

Each returns a :class:`~analytics.routing.matrix.TravelMatrix` in whole metres and seconds.
"""

import logging
from collections.abc import Sequence

from analytics.geo.geometry import haversine_m
from analytics.geo.roads import RoadNetwork
from analytics.routing.errors import TravelError
from analytics.routing.matrix import Point, TravelMatrix, checked_points, rounded
from analytics.routing.osrm import osrm_matrix
from analytics.routing.road_matrix import network_matrix
from ingest.kernel.params import require_in

__all__ = [
    "Point",
    "TravelError",
    "TravelMatrix",
    "haversine_matrix",
    "network_matrix",
    "osrm_matrix",
    "travel_matrix",
]

log = logging.getLogger(__name__)


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
    pts = checked_points(points)
    require_in("circuity", circuity, 1.0, 5.0)
    require_in("speed_kmh", speed_kmh, 0.0, 130.0, lo_open=True)
    metres = [[haversine_m(*a, *b) * circuity for b in pts] for a in pts]
    seconds = [[m / (speed_kmh / 3.6) for m in row] for row in metres]
    return TravelMatrix("haversine", pts, rounded(metres), rounded(seconds))


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
