"""The files a backfill writes beside the history: the town, its days, its roads and the ground
truth (what bins, counters and phones really did), so analytics can be scored against it.

Fixed formats and newlines, so the same seed gives the same files, byte for byte.
"""

import csv
import json
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

from analytics.geo.roads import RoadNetwork
from ingest.db.registry import write_registry_csv
from simulators.calendar import DayFactors
from simulators.features import RoadFeature
from simulators.town import Town

BIN_TRUTH = ("bin_truth.csv", ("bin", "time", "true_fill", "reported_fill", "stuck"))
FOOTFALL_TRUTH = (
    "footfall_truth.csv",
    ("counter", "zone", "period_start", "period_end", "count", "reported"),
)
BUMP_TRUTH = (
    "bump_truth.csv",
    ("trip", "feature_id", "kind", "time", "speed_mps", "peak_g", "private"),
)


class RowWriter(Protocol):
    """What the truth files are written through (a ``csv.writer``)."""

    def writerow(self, row: Iterable[object], /) -> object: ...


class NoTruth:
    """A :class:`RowWriter` that keeps nothing, for history without its truth."""

    def writerow(self, row: Iterable[object], /) -> None:
        """Drop ``row``."""


def truth_csv(stack: ExitStack, out: Path, file: tuple[str, tuple[str, ...]]) -> RowWriter:
    """A CSV writer on ``out / name`` with its header written, closed with ``stack``."""
    name, header = file
    handle = stack.enter_context((out / name).open("w", newline="", encoding="utf-8"))
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(header)
    return writer


def write_registry(out: Path, town: Town) -> Path:
    """``registry.csv``: the town's devices in the ``devices import`` format."""
    path = out / "registry.csv"
    path.write_text(write_registry_csv(town.devices()), encoding="utf-8")
    return path


def write_days(out: Path, factors: Sequence[DayFactors]) -> Path:
    """``days.json``: each day's weather, holidays and events."""
    days = [
        {
            "day": f.day.isoformat(),
            "weather": round(f.weather, 4),
            "bank_holiday": f.bank_holiday,
            "school_holiday": f.school_holiday,
            "event": f.event,
            "event_boost": round(f.event_boost, 4),
        }
        for f in factors
    ]
    path = out / "days.json"
    path.write_text(json.dumps(days, indent=1) + "\n", encoding="utf-8")
    return path


def write_roads(out: Path, network: RoadNetwork) -> Path:
    """``roads.geojson``: the road network."""
    path = out / "roads.geojson"
    path.write_text(json.dumps(network.to_geojson(), indent=1) + "\n", encoding="utf-8")
    return path


def write_features(out: Path, features: Sequence[RoadFeature]) -> list[Path]:
    """potholes.csv and speed_humps.csv as the issue names them, and every feature in one file."""
    written = []
    for name, kinds, columns in (
        ("potholes.csv", {"pothole"}, ("id", "lat", "lon", "severity")),
        ("speed_humps.csv", {"speed_hump"}, ("id", "lat", "lon", "severity")),
        (
            "road_features.csv",
            {"pothole", "speed_hump", "manhole", "rough"},
            ("id", "kind", "lat", "lon", "severity", "length_m"),
        ),
    ):
        path = out / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for f in features:
                if f.kind in kinds:
                    row = {
                        "id": f.feature_id,
                        "kind": f.kind,
                        "lat": f"{f.lat:.7f}",
                        "lon": f"{f.lon:.7f}",
                        "severity": f"{f.severity:.3f}",
                        "length_m": f"{f.length_m:.1f}",
                    }
                    writer.writerow([row[c] for c in columns])
        written.append(path)
    return written
