"""The whole simulated world of one council: road network, devices on it, features in its roads.

Built the same way by every mode (live, backfill, demo), so a seed names one world.
"""

import random
from dataclasses import dataclass
from pathlib import Path

from analytics.geo.roads import RoadNetwork
from simulators.features import RoadFeature, place_features
from simulators.roadgen import TownParams, generate_town
from simulators.town import Town, make_town_on
from simulators.towns import load_roads


@dataclass(frozen=True)
class World:
    """A road network, the town's devices placed on it, and the road-surface features."""

    network: RoadNetwork
    town: Town
    features: tuple[RoadFeature, ...]


def build_world(
    council: str, *, seed: int = 1, bins: int = 500, counters: int = 20, osm: Path | None = None
) -> World:
    """The world of ``council`` for ``seed``: the same arguments give the same world.

    With ``osm``, the roads come from that OpenStreetMap extract instead of the generator (a
    town of :mod:`simulators.towns` with its own zones), and the town's centre is the middle of
    its first zone.
    """
    if osm is not None:
        network = load_roads(osm)
        zone = network.zones[0].polygon
        centre = ((zone[0][1] + zone[2][1]) / 2, (zone[0][0] + zone[2][0]) / 2)
    else:
        params = TownParams()
        network = generate_town(params, seed=seed)
        centre = params.centre
    town = make_town_on(network, council, seed=seed, bins=bins, counters=counters, centre=centre)
    # About one pothole per km of road, a town with a maintenance backlog: the generated town
    # has some 60 km; a real town's counts grow with its length of road.
    scale = 1.0 if osm is None else sum(e.length_m for e in network.edges) / 60_000
    features = place_features(
        network,
        random.Random(f"features-{seed}"),
        potholes=round(60 * scale),
        speed_humps=round(25 * scale),
        manholes=round(80 * scale),
        rough_segments=round(20 * scale),
    )
    return World(network, town, tuple(features))
