"""Bounding boxes in WGS 84, as ``min_lon,min_lat,max_lon,max_lat``: the one parser of them.

Web maps, the API's ``bbox`` parameter and OGC services all write a box in this order
(longitude first). Parsing raises ``ValueError`` with the problem in one line, for a route to
turn into a 4xx or a command line into an error message.
"""

from typing import NamedTuple

from analytics.geo.geometry import METRES_PER_DEGREE, metres_per_degree_lon


class BBox(NamedTuple):
    """A box between two meridians and two parallels, in decimal degrees."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


WORLD = BBox(-180.0, -90.0, 180.0, 90.0)
"""The box holding every point."""

_MIN_COS_LAT = 0.01
"""Near the poles a metre spans ever more longitude; the widening stops growing here (~89.4°)."""


def parse_bbox(text: str) -> BBox:
    """Parse ``min_lon,min_lat,max_lon,max_lat``.

    Parameters
    ----------
    text
        Four comma-separated numbers, longitudes in [-180, 180] and latitudes in [-90, 90],
        each minimum below its maximum.

    Returns
    -------
    BBox
        The box.

    Raises
    ------
    ValueError
        When the text is not four numbers or they do not make a box; the message names the
        problem (``bbox must ...``).
    """
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError("bbox must be min_lon,min_lat,max_lon,max_lat")
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError:
        raise ValueError("bbox values must be numbers") from None
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise ValueError(
            "bbox must have min < max, longitudes in [-180, 180] and latitudes in [-90, 90]"
        )
    return BBox(min_lon, min_lat, max_lon, max_lat)


def widened(box: BBox, margin_m: float) -> BBox:
    """``box`` grown by ``margin_m`` metres on every side, within :data:`WORLD`.

    The longitude margin is taken at the box's middle latitude (flat projection), which is
    exact enough for a town-sized box.
    """
    mid_lat = (box.min_lat + box.max_lat) / 2
    dlat = margin_m / METRES_PER_DEGREE
    dlon = margin_m / max(METRES_PER_DEGREE * _MIN_COS_LAT, metres_per_degree_lon(mid_lat))
    return BBox(
        max(WORLD.min_lon, box.min_lon - dlon),
        max(WORLD.min_lat, box.min_lat - dlat),
        min(WORLD.max_lon, box.max_lon + dlon),
        min(WORLD.max_lat, box.max_lat + dlat),
    )
