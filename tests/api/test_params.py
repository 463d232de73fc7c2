"""Shared request parameters: one way a rule's ValueError becomes a 422, and the bbox."""

import pytest
from fastapi import HTTPException

from analytics.geo.bbox import BBox
from api.params import map_bbox, optional_bbox, required_bbox, unprocessable


def test_value_error_becomes_422_with_its_message() -> None:
    """A ValueError inside ``unprocessable`` is a 422 whose detail is the message."""
    with pytest.raises(HTTPException) as caught, unprocessable():
        raise ValueError("since must be before until")
    assert caught.value.status_code == 422
    assert caught.value.detail == "since must be before until"


def test_other_errors_pass_through() -> None:
    """Only ValueError is a client's mistake; anything else is not turned into a 422."""
    with pytest.raises(KeyError), unprocessable():
        raise KeyError("x")


def test_bbox_parameters() -> None:
    """The bbox dependencies parse the box, allow it to be absent where optional, and refuse a
    bad one with 422 and the parser's message."""
    assert required_bbox("0,50,1,51") == BBox(0.0, 50.0, 1.0, 51.0)
    assert optional_bbox(None) is None and map_bbox(None) is None
    assert optional_bbox("0,50,1,51") == map_bbox("0,50,1,51") == (0.0, 50.0, 1.0, 51.0)
    for parse in (required_bbox, optional_bbox, map_bbox):
        with pytest.raises(HTTPException) as caught:
            parse("1,2,3")
        assert caught.value.status_code == 422
        assert caught.value.detail == "bbox must be min_lon,min_lat,max_lon,max_lat"
