"""Request parameters the routers share, and the one way a parameter rule refuses a request.

Rules are plain checks that raise ``ValueError`` with a one-line message (``parse_bbox``,
``ingest.kernel.params.require``, ``date_window``); a route runs them inside
:func:`unprocessable`, which answers 422 with that message.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, HTTPException, Query, status

from analytics.geo.bbox import BBox, parse_bbox

_BBOX = "min_lon,min_lat,max_lon,max_lat (WGS 84)"


@contextmanager
def unprocessable() -> Iterator[None]:
    """Turn a ``ValueError`` raised inside into a 422 whose detail is its message."""
    try:
        yield
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def _parsed(text: str) -> BBox:
    with unprocessable():
        return parse_bbox(text)


def required_bbox(bbox: Annotated[str, Query(description=f"{_BBOX}.")]) -> BBox:
    """The ``bbox`` query parameter; 422 with the problem when it is not a box."""
    return _parsed(bbox)


def optional_bbox(
    bbox: Annotated[str | None, Query(description=f"{_BBOX}; default all.")] = None,
) -> BBox | None:
    """The optional ``bbox`` query parameter (``None``: everywhere)."""
    return None if bbox is None else _parsed(bbox)


def map_bbox(
    bbox: Annotated[
        str | None, Query(description=f"{_BBOX}; default: the council's roads.")
    ] = None,
) -> BBox | None:
    """The optional ``bbox`` of a map (``None``: the area of the council's roads)."""
    return None if bbox is None else _parsed(bbox)


RequiredBBox = Annotated[BBox, Depends(required_bbox)]
OptionalBBox = Annotated[BBox | None, Depends(optional_bbox)]
MapBBox = Annotated[BBox | None, Depends(map_bbox)]
