"""Road-surface features a phone in a vehicle feels: potholes, speed humps, manholes, rough roads.

One definition shared by the road network (which places them) and the phone simulator (which turns
them into bumps), so the two never drift apart.
"""

from dataclasses import dataclass
from typing import Literal, get_args

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
        if self.kind not in FEATURE_KINDS:
            raise ValueError(f"Expected kind in {FEATURE_KINDS}.")
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise ValueError("Expected lat in [-90, 90] and lon in [-180, 180].")
        if not 0.0 <= self.severity <= 1.0:
            raise ValueError("Expected severity in [0, 1].")
        if not 0.0 <= self.length_m <= 10_000.0:
            raise ValueError("Expected length_m in [0, 10000].")
