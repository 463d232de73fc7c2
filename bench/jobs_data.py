"""Inputs of ``bench/jobs.py``, each seeded: a council's collection day on real roads, a year of
footfall for many counters replicated from Melbourne's, a national quarter of bump reports and
many drives' coverage tracks on a generated town. Generating them is never timed."""

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from analytics.geo.geometry import METRES_PER_DEGREE, metres_per_degree_lon
from analytics.geo.osm import load_osm
from analytics.geo.roads import RoadNetwork
from analytics.potholes.confirm import DeviceReport
from analytics.potholes.coverage import Track
from analytics.potholes.privacy import TRIP_END_MARGIN_M
from analytics.routing.vrp import Fleet, Visit
from ingest.contract.payloads import BumpReport

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
RUTLAND = SHARED / "osm" / "rutland-latest.osm.pbf"
MELBOURNE = SHARED / "footfall" / "melbourne_39sensors_2012_2015_hourly.csv.gz"


def collection_day(
    bins: int, seed: int, radius_m: float = 8000.0
) -> tuple[RoadNetwork, list[tuple[float, float]], list[Visit]]:
    """Bins on Rutland's real roads around Oakham, the depot first; a day's visits for them.

    Seven in ten bins must be emptied, the rest are worth a detour of 0.3 to 1.5 km; town-centre
    bins (one in six) must be reached between 07:00 and 10:00 of a 06:00 shift; one bin in ten is
    a large container on a lift.
    """
    network = load_osm(RUTLAND, radius_m=radius_m)
    rng = random.Random(f"jobs-routing-{seed}")
    depot = network.nodes[network.depot]
    points = [(depot.lat, depot.lon)]
    visits = []
    fleet = day_fleet(15)
    for k in range(bins):
        edge = rng.choice(network.edges)
        points.append(network.point_along(edge, rng.uniform(0.1, 0.9)))
        large = rng.random() < 0.1
        required = rng.random() < 0.7
        window = (3600, 4 * 3600) if rng.random() < 1 / 6 else None
        visits.append(
            Visit(
                point=k + 1,
                load_litres=rng.randint(200, 600) if large else rng.randint(20, 120),
                service_s=fleet.service_time(1100 if large else 240),
                required=required,
                prize=0 if required else rng.randint(300, 1500),
                window_s=window,
            )
        )
    return network, points, visits


def day_fleet(vehicles: int) -> Fleet:
    """A council's collection fleet for an 8-hour day with two trips per vehicle."""
    return Fleet(vehicles=vehicles, capacity_litres=12_000, shift_s=8 * 3600, trips=2)


def footfall_history(counters: int, seed: int, now: datetime) -> pl.DataFrame:
    """``series, ts, count`` for ``counters`` counters over the year before ``now``: each is one
    of Melbourne's 39 sensors (in turn) scaled by 0.3 to 3 with 10% multiplicative noise."""
    raw = (
        pl.read_csv(MELBOURNE, schema_overrides={"sensor_id": pl.String, "count": pl.Float64})
        .with_columns(
            pl.col("timestamp_local")
            .str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False)
            .dt.replace_time_zone("Australia/Melbourne", ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
            .alias("ts")
        )
        .filter(pl.col("ts").is_not_null(), pl.col("ts") >= now - timedelta(weeks=52))
        .filter(pl.col("ts") < now)
        .unique(["sensor_id", "ts"])
        .sort("sensor_id", "ts")
    )
    sensors = raw["sensor_id"].unique().sort().to_list()
    rng = np.random.default_rng(seed)
    frames = []
    for c in range(counters):
        one = raw.filter(pl.col("sensor_id") == sensors[c % len(sensors)])
        noise = rng.lognormal(0.0, 0.1, one.height) * rng.uniform(0.3, 3.0)
        frames.append(
            one.select(
                series=pl.lit(f"counter:c{c:05d}"),
                ts="ts",
                count=(pl.col("count") * pl.Series(noise)).round(0),
            )
        )
    return pl.concat(frames)


def bump_reports(
    reports: int, seed: int, end: datetime, batch: int = 20_000
) -> Iterator[list[DeviceReport]]:
    """``reports`` bump reports of 90 days before ``end`` over a 40 km square, oldest first in
    batches of ``batch`` (as the refresh reads them): three quarters from one spot per 40
    reports, hit from both directions by a pool of phones, the rest scattered jolts; phones at
    20, 50 or 100 Hz, each report with its one-second window."""
    rng = np.random.default_rng(seed)
    spots = max(1, reports // 40)
    lat0, lon0 = 52.0, -1.0
    sx, sy = rng.uniform(0, 40_000, spots), rng.uniform(0, 40_000, spots)
    road_heading = rng.uniform(0, 180, spots)
    hit = rng.random(reports) < 0.75
    spot = rng.integers(0, spots, reports)
    x = np.where(hit, sx[spot], rng.uniform(0, 40_000, reports)) + rng.normal(0, 4, reports)
    y = np.where(hit, sy[spot], rng.uniform(0, 40_000, reports)) + rng.normal(0, 4, reports)
    heading = (
        np.where(hit, road_heading[spot], rng.uniform(0, 180, reports))
        + 180 * rng.integers(0, 2, reports)
        + rng.normal(0, 8, reports)
    ) % 360
    lat = lat0 + y / METRES_PER_DEGREE
    lon = lon0 + x / metres_per_degree_lon(lat0)
    phones = rng.integers(0, max(1, reports // 20), reports)
    seconds = np.sort(rng.uniform(0, 90 * 86400 - 1, reports))
    hz = rng.choice([20.0, 50.0, 100.0], reports)
    peak = np.clip(rng.gamma(4, 0.1, reports), 0.16, 3.0)
    speed = rng.uniform(3, 20, reports)
    accuracy = rng.uniform(3, 20, reports)
    start = end - timedelta(days=90)
    windows = {h: _jolt(h) for h in (20.0, 50.0, 100.0)}
    out: list[DeviceReport] = []
    for i in range(reports):
        if len(out) == batch:
            yield out
            out = []
        shape = windows[float(hz[i])]
        out.append(
            DeviceReport(
                f"p{int(phones[i]):07d}",
                BumpReport.model_construct(
                    ts=start + timedelta(seconds=float(seconds[i])),
                    lat=round(float(lat[i]), 7),
                    lon=round(float(lon[i]), 7),
                    speed_mps=round(float(speed[i]), 2),
                    peak_z_g=round(float(peak[i]), 3),
                    seq=None,
                    accuracy_m=round(float(accuracy[i]), 1),
                    heading_deg=round(float(heading[i]), 1),
                    sample_hz=float(hz[i]),
                    samples_z_g=[round(v * float(peak[i]), 3) for v in shape],
                ),
            )
        )
    yield out


def _jolt(hz: float) -> list[float]:
    """A pothole's down-then-up over one second at ``hz``, unit peak."""
    n = int(hz) + 1
    return [
        math.sin(2 * math.pi * (k - n / 2) / (0.12 * hz))
        * math.exp(-(((k - n / 2) / (0.05 * hz)) ** 2))
        for k in range(n)
    ]


def coverage_tracks(network: RoadNetwork, drives: int, seed: int, start: datetime) -> list[Track]:
    """One coverage track per random trip: a fix every 25 m with 4 m of GPS noise, the first
    and last ``TRIP_END_MARGIN_M`` left off as phones do."""
    rng = random.Random(f"jobs-coverage-{seed}")
    noise = np.random.default_rng(seed)
    lat0 = network.nodes[0].lat
    mx, my = metres_per_degree_lon(lat0), METRES_PER_DEGREE
    tracks = []
    for k in range(drives):
        path = network.random_trip(rng)
        pts = np.array(network.route_points(path))
        xy = np.column_stack([pts[:, 1] * mx, pts[:, 0] * my])
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        at = np.arange(TRIP_END_MARGIN_M, cum[-1] - TRIP_END_MARGIN_M, 25.0)
        if len(at) < 2:
            continue
        x = np.interp(at, cum, xy[:, 0]) + noise.normal(0, 4, len(at))
        y = np.interp(at, cum, xy[:, 1]) + noise.normal(0, 4, len(at))
        when = start + timedelta(minutes=k % 100_000)
        points = tuple((round(b / my, 6), round(a / mx, 6)) for a, b in zip(x, y, strict=True))
        tracks.append(
            Track(f"p1-{k % 5000:016x}", when, when + timedelta(seconds=cum[-1] / 10), points)
        )
    return tracks


def utc(text: str) -> datetime:
    """An ISO date or time as a UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
