"""Real towns the simulator ships: small OpenStreetMap extracts of their roads (map data
© OpenStreetMap contributors, ODbL; see README.md here) and how to read each one.

The files sit next to this module (package data), so they are found wherever the package is
installed.
"""

from dataclasses import dataclass, replace
from pathlib import Path

from analytics.geo.osm import load_osm
from analytics.geo.roads import RoadNetwork

_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class TownMap:
    """A shipped extract and how to read it.

    Attributes
    ----------
    name
        What the town is called.
    path
        The extract (``.osm.pbf``).
    high_streets
        The streets of the town centre, where the people counters stand.
    zones
        ``(zone, streets)``: each zone is the box around those streets; first match wins.
    zone_names
        ``(zone, name for people)``.
    depot_street
        The street the council's vehicles start from (its depot), when known.
    """

    name: str
    path: Path
    high_streets: tuple[str, ...]
    zones: tuple[tuple[str, tuple[str, ...]], ...]
    zone_names: tuple[tuple[str, str], ...] = ()
    depot_street: str | None = None

    def load(self) -> RoadNetwork:
        """The town's roads, centre and zones, with the depot on :attr:`depot_street`."""
        network = load_osm(self.path, high_streets=self.high_streets, zones=self.zones)
        street = [e for e in network.edges if e.name == self.depot_street]
        if not street:
            return network
        return replace(network, depot=street[len(street) // 2].u)


OAKHAM = TownMap(
    "Oakham, Rutland",
    _HERE / "oakham.osm.pbf",
    # The market square opens off the east end of the High Street: both are the shopping centre.
    high_streets=("High Street", "Market Place"),
    # The square first, so its corner of the High Street counts as the market place; the
    # station zone is the road to the railway station, north-west of the centre.
    zones=(
        ("market-place", ("Market Place", "Market Street")),
        ("high-street", ("High Street",)),
        ("station", ("Station Road",)),
    ),
    zone_names=(
        ("market-place", "Market Place"),
        ("high-street", "High Street"),
        ("station", "Station Road"),
    ),
    # The town's industrial estate, where a council's vehicles would be kept.
    depot_street="Pillings Road",
)
TOWNS = (OAKHAM,)


def load_roads(path: Path) -> RoadNetwork:
    """The roads of the extract at ``path``: a shipped town's read its own way (centre streets,
    named zones), any other extract with :func:`analytics.geo.osm.load_osm`'s defaults."""
    for town in TOWNS:
        if path.resolve() == town.path:
            return town.load()
    return load_osm(path)
