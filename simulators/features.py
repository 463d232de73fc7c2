"""Road-surface features a phone in a vehicle feels: potholes, speed humps, manholes, rough roads.

One definition shared by the road network (which places them) and the phone simulator (which turns
them into bumps), so the two never drift apart.
"""

import random
from dataclasses import dataclass
from typing import Literal, get_args

from analytics.geo.roads import RoadClass, RoadNetwork
from ingest.kernel.params import require, require_in

FeatureKind = Literal["pothole", "speed_hump", "manhole", "rough"]
FEATURE_KINDS: tuple[FeatureKind, ...] = get_args(FeatureKind)


@dataclass(frozen=True)
class RoadFeature:
    """A feature on the road surface.

    Attributes
    ----------
    feature_id
        Stable id such as ``"pothole-0001"``.
    kind
        What it is; ``"rough"`` is a stretch of broken surface rather than a single defect.
    lat, lon
        Where it is, on the centre line of a road; for a rough stretch, where the stretch begins.
    severity
        How hard it jolts a vehicle, from 0 (barely felt) to 1 (as bad as it gets).
    length_m
        How far a rough stretch runs along the road from the point (tens to hundreds of metres);
        for the other kinds, their size along the road, which the phone simulator ignores.
    """

    feature_id: str
    kind: FeatureKind
    lat: float
    lon: float
    severity: float
    length_m: float = 0.0

    def __post_init__(self) -> None:
        require(self.kind in FEATURE_KINDS, f"Expected kind in {FEATURE_KINDS}.")
        require(
            -90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0,
            "Expected lat in [-90, 90] and lon in [-180, 180].",
        )
        require_in("severity", self.severity, 0.0, 1.0)
        require_in("length_m", self.length_m, 0.0, 10_000.0)


# Per kind: weight of each road class, then severity and length (m) ranges.
_Range = tuple[float, float]
_PLACEMENT: dict[FeatureKind, tuple[dict[RoadClass, float], _Range, _Range]] = {
    "pothole": ({RoadClass.RESIDENTIAL: 4, RoadClass.PRIMARY: 4, RoadClass.HIGH_STREET: 1,
                 RoadClass.RING: 1, RoadClass.SERVICE: 1}, (0.2, 1.0), (0.3, 1.5)),
    "speed_hump": ({RoadClass.RESIDENTIAL: 3, RoadClass.HIGH_STREET: 2}, (0.3, 0.8), (3.0, 4.0)),
    "manhole": (dict.fromkeys(RoadClass, 1.0), (0.05, 0.4), (0.6, 0.9)),
    "rough": ({RoadClass.RESIDENTIAL: 2, RoadClass.SERVICE: 2, RoadClass.PRIMARY: 1,
               RoadClass.RING: 1, RoadClass.HIGH_STREET: 1}, (0.1, 0.6), (50.0, 300.0)),
}  # fmt: skip


def place_features(
    network: RoadNetwork,
    rng: random.Random,
    potholes: int,
    speed_humps: int,
    manholes: int,
    rough_segments: int,
) -> list[RoadFeature]:
    """Scatter road-surface features over the network's edges.

    Potholes favour residential and primary roads, speed humps go only on residential streets
    and the high street, manholes anywhere; longer edges get proportionally more.

    Parameters
    ----------
    network
        Where to put them.
    rng
        The source of randomness; the same seed gives the same features.
    potholes, speed_humps, manholes, rough_segments
        How many of each kind.

    Returns
    -------
    list[RoadFeature]
        Grouped by kind, with ids ``pothole-0001``, ``speed-hump-0001``, ``manhole-0001``,
        ``rough-0001`` and so on; a rough segment's point is where its 50-300 m stretch begins.
    """
    counts: dict[FeatureKind, int] = {
        "pothole": potholes,
        "speed_hump": speed_humps,
        "manhole": manholes,
        "rough": rough_segments,
    }
    require(all(c >= 0 for c in counts.values()), "Expected feature counts >= 0.")
    features: list[RoadFeature] = []
    for kind, count in counts.items():
        weights, (s0, s1), (l0, l1) = _PLACEMENT[kind]
        edges = [e for e in network.edges if weights.get(e.road_class, 0) > 0 and e.length_m > 0]
        if count == 0:
            continue
        require(bool(edges), f"Expected roads to place {kind} features on.")
        chosen = rng.choices(edges, [weights[e.road_class] * e.length_m for e in edges], k=count)
        for n, edge in enumerate(chosen, start=1):
            # Away from the ends, so a feature belongs to one road rather than a junction.
            lat, lon = network.point_along(edge, rng.uniform(0.05, 0.95))
            severity, length = round(rng.uniform(s0, s1), 3), round(rng.uniform(l0, l1), 1)
            fid = f"{kind.replace('_', '-')}-{n:04d}"
            features.append(RoadFeature(fid, kind, round(lat, 7), round(lon, 7), severity, length))
    return features
