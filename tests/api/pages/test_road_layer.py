"""The road layer under the pages' maps: class styles, joined streets, one label a street, and
roads outside the frame left out."""

import re
import xml.etree.ElementTree as ET

import pytest

from analytics.geo.geometry import moved
from api.pages.maps import MapFrame, fit_frame
from api.pages.road_layer import TIERS, Road, road_layer, road_tier

CENTRE = (52.6697, -0.7269)


def _frame(half_m: float = 400.0) -> MapFrame:
    """A flat frame about ``2 * half_m`` across, centred on CENTRE."""
    return fit_frame([moved(*CENTRE, -half_m, -half_m), moved(*CENTRE, half_m, half_m)], False)


def _street(name: str | None, cls: str, east: float, north: float, de: float, dn: float) -> Road:
    """A straight road from (east, north) metres off CENTRE, ``de`` east and ``dn`` north."""
    return Road(name, cls, (moved(*CENTRE, east, north), moved(*CENTRE, east + de, north + dn)))


def _split(name: str, cls: str, start_e: float, north: float, pieces: int) -> list[Road]:
    """A street running east in ``pieces`` consecutive 150 m segments, stored out of order."""
    roads = [_street(name, cls, start_e + 150 * i, north, 150, 0) for i in range(pieces)]
    return roads[::2] + roads[1::2]


def _xml(layer_svg: str) -> ET.Element:
    return ET.fromstring(f'<svg xmlns:xlink="x">{layer_svg}</svg>')  # noqa: S314 - our own output


@pytest.mark.parametrize(
    ("road_class", "tier"),
    [
        ("ring", "major"),
        ("motorway", "major"),
        ("trunk_link", "major"),
        ("high_street", "main"),
        ("primary", "main"),
        ("secondary", "main"),
        ("tertiary_link", "main"),
        ("residential", "minor"),
        ("unclassified", "minor"),
        ("living_street", "minor"),
        ("service", "service"),
        ("track", "service"),
        ("Primary ", "main"),
        ("cycleway-ish", "minor"),
        ("", "minor"),
        (None, "minor"),
    ],
)
def test_simulator_and_osm_classes_map_to_four_tiers(road_class: str | None, tier: str) -> None:
    """Both vocabularies of road class land in one of the four tiers; unknown ones are minor."""
    assert road_tier(road_class) == tier


def test_each_tier_is_one_path_drawn_with_its_casing_and_fill() -> None:
    """A tier's roads make one path, drawn twice (casing, fill) in the tier's colours, least
    important tier first; the whole layer is hidden from assistive technology."""
    roads = [
        _street("Ring Road", "ring", -400, -300, 800, 0),
        _street("Mill Lane", "residential", -300, 100, 600, 0),
        _street(None, "service", 0, -200, 0, 150),
        _street("Church Street", "secondary", 0, -350, 0, 700),
    ]
    layer = road_layer(_frame(), roads)
    root = _xml(layer.lines)
    group = root.find("g")
    assert group is not None and group.get("aria-hidden") == "true"
    paths = {p.get("id"): p.get("d", "") for p in root.iter("path")}
    assert list(paths) == ["rd-service", "rd-minor", "rd-main", "rd-major"]
    assert all(d.count("M") == 1 for d in paths.values())
    uses = [(u.get("href"), u.get("stroke")) for u in root.iter("use")]
    assert uses == [
        *((f"#rd-{t}", TIERS[t].casing) for t in ("service", "minor", "main", "major")),
        *((f"#rd-{t}", TIERS[t].fill) for t in ("service", "minor", "main", "major")),
    ]
    widths = {u.get("href"): float(u.get("stroke-width", "0")) for u in root.iter("use")}
    assert widths["#rd-major"] > widths["#rd-main"] > widths["#rd-minor"] > widths["#rd-service"]


def test_coordinates_are_rounded_and_consecutive_segments_join() -> None:
    """Numbers carry at most one decimal, and a street stored as several consecutive segments
    (in any order) is drawn as one run: one move, the shared ends written once."""
    layer = road_layer(_frame(), _split("High Street", "high_street", -300, 0, 4))
    d = _xml(layer.lines).find(".//path").get("d", "")  # type: ignore[union-attr]
    assert d.count("M") == 1
    numbers = re.findall(r"-?\d*\.?\d+", d)
    assert len(numbers) == 2 * 5 and all(re.fullmatch(r"-?\d*(\.\d)?", n) for n in numbers)


def test_a_street_is_labelled_once_at_its_longest_run() -> None:
    """A street in two separate stretches gets one label, on the longer stretch's middle; an
    unnamed road and a service road get none."""
    roads = [
        *_split("High Street", "high_street", -350, 0, 4),  # 600 m from -350 to 250 m east
        _street("High Street", "high_street", -350, 250, 120, 0),  # a short stretch elsewhere
        _street(None, "primary", -300, -250, 600, 0),
        _street("Back Yard", "service", -300, 150, 600, 0),
    ]
    frame = _frame()
    layer = road_layer(frame, roads)
    texts = list(_xml(layer.labels).iter("text"))
    assert layer.named == ("High Street",) and [t.text for t in texts] == ["High Street"]
    x, y = map(float, re.findall(r"-?[\d.]+", texts[0].get("transform", ""))[:2])
    mid_x, mid_y = frame.xy(*moved(*CENTRE, -50, 0))
    assert abs(x - mid_x) < 1 and abs(y - mid_y) < 1


def test_labels_that_would_collide_are_skipped() -> None:
    """Of two named streets a few metres apart, only the more important is labelled; a label
    is also kept off the boxes the page reserves (its scale bar)."""
    roads = [
        _street("Low Road", "residential", -75, 5, 150, 0),
        _street("Great North Road", "primary", -300, 0, 600, 0),
    ]
    frame = _frame()
    assert road_layer(frame, roads).named == ("Great North Road",)
    blocked = road_layer(frame, roads, avoid=[(0, 0, 400, frame.height)])
    assert blocked.named == () and blocked.labels == ""


def test_labels_read_left_to_right() -> None:
    """A street drawn from east to west is labelled upright, not upside down."""
    layer = road_layer(_frame(), [_street("Church Street", "secondary", 300, -100, -600, -150)])
    (text,) = _xml(layer.labels).iter("text")
    angle = float(re.search(r"rotate\((-?[\d.]+)\)", text.get("transform", "")).group(1))  # type: ignore[union-attr]
    assert -90 < angle <= 90


def test_roads_outside_the_frame_are_left_out() -> None:
    """A road kilometres away is not drawn, and a long road crossing the frame is drawn only
    where it is in or near the frame."""
    frame = _frame(300)
    far = _street("Far Lane", "residential", 5000, 5000, 150, 0)
    assert road_layer(frame, [far]) == road_layer(frame, [])
    assert road_layer(frame, []).lines == ""
    crossing = Road(
        "Long Road", "primary", tuple(moved(*CENTRE, e, 0) for e in range(-6000, 6001, 150))
    )
    d = _xml(road_layer(frame, [crossing]).lines).find(".//path").get("d", "")  # type: ignore[union-attr]
    xs = [float(x) for x in re.findall(r"M(-?[\d.]+)", d)]
    assert len(xs) == 1 and -200 < xs[0] < 0  # starts one step outside the left edge
    assert d.count(" ") + d.count("-") < 20  # a handful of steps, not 80


def test_wide_views_leave_out_small_roads() -> None:
    """A view many kilometres across drops service and minor roads and keeps major ones."""
    frame = _frame(8000)
    roads = [
        _street("Ring Road", "ring", -5000, 0, 10000, 0),
        _street("Mill Lane", "residential", -300, 100, 600, 0),
        _street(None, "service", 0, -200, 0, 150),
    ]
    ids = [p.get("id") for p in _xml(road_layer(frame, roads).lines).iter("path")]
    assert ids == ["rd-major"]
