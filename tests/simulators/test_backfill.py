"""The backfill: reproducible to the byte, written through ingest, with truth that shows the
structure the analytics rely on."""

import csv
import itertools
import random
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from analytics.forecasting.calendars import BANK_HOLIDAYS, is_school_holiday
from simulators.backfill import backfill
from simulators.bins import simulate_bin
from simulators.calendar import day_factors
from simulators.features import place_features
from simulators.footfall import simulate_counter
from simulators.roadgen import TownParams, generate_town
from simulators.town import make_town_on
from simulators.world import build_world

START = date(2026, 9, 7)  # a Monday
LOCAL = ZoneInfo("Europe/London")
FILES = ("registry.csv", "days.json", "bin_truth.csv", "footfall_truth.csv")


def _run(out: Path, seed: int, conn: psycopg.Connection | None = None, council: str = "bf"):
    town = build_world(council, seed=seed, bins=12, counters=3).town
    return backfill(
        town, start=START, days=14, seed=seed, out=out, prefix="smartstreets", conn=conn
    )


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    """Two runs with one seed write identical files; another seed writes different ones."""
    _run(tmp_path / "a", 3)
    _run(tmp_path / "b", 3)
    _run(tmp_path / "c", 4)
    for name in FILES:
        a, b, c = ((tmp_path / d / name).read_bytes() for d in "abc")
        assert a == b, name
        assert a != c, name


def test_history_goes_through_ingest_and_matches_truth(
    tmp_path: Path, conn: psycopg.Connection, uid: str
) -> None:
    """Every reported reading is stored once, nothing is quarantined, and the stored values are
    the ones in the truth files."""
    council = f"bf-{uid}"
    result = _run(tmp_path, 5, conn, council)
    with (tmp_path / "bin_truth.csv").open() as f:
        bins = list(csv.DictReader(f))
    with (tmp_path / "footfall_truth.csv").open() as f:
        counts = list(csv.DictReader(f))
    reported = [c for c in counts if c["reported"] == "1"]
    assert result.quarantined == 0
    assert result.written == {"bin_fill": len(bins), "footfall_count": len(reported)}
    stored = conn.execute(
        "SELECT sum(count) FROM footfall_count WHERE council = %s", (council,)
    ).fetchone()
    assert stored == (sum(int(c["count"]) for c in reported),)
    sample = bins[len(bins) // 2]
    row = conn.execute(
        "SELECT fill_pct FROM bin_fill WHERE device_id = %s AND ts = %s",
        (sample["bin"], datetime.fromisoformat(sample["time"])),
    ).fetchone()
    assert row is not None and row[0] == pytest.approx(float(sample["reported_fill"]))


def test_footfall_has_daily_and_weekly_cycles() -> None:
    """Lunchtime beats 3 a.m., Saturdays beat Sundays and weekdays, over four weeks."""
    days = day_factors(START, 28, seed=1, events_per_month=0)
    periods = list(simulate_counter(800, days, random.Random(1), outage_per_day=0))
    by_hour: dict[int, list[int]] = defaultdict(list)
    by_weekday: dict[int, list[int]] = defaultdict(list)
    for p in periods:
        local = p.start.astimezone(LOCAL)
        by_hour[local.hour].append(p.count)
        by_weekday[local.weekday()].append(p.count)
    mean = {h: statistics.mean(v) for h, v in by_hour.items()}
    assert mean[12] > 20 * max(mean[3], 0.05)
    weekday = {d: statistics.mean(v) for d, v in by_weekday.items()}
    assert weekday[5] > weekday[6] and weekday[5] > statistics.mean(weekday[d] for d in range(5))


def test_outages_are_missing_data_not_zeros() -> None:
    """A counter that is down sends nothing, while the truth keeps what it missed."""
    days = day_factors(START, 28, seed=2)
    periods = list(simulate_counter(800, days, random.Random(2), outage_per_day=0.3))
    missed = [p for p in periods if not p.reported]
    assert missed, "expected some outages at 0.3 a day"
    assert sum(p.count for p in missed) > 0  # people passed while nobody counted


def test_calendar_knows_holidays() -> None:
    """Bank holidays and school holidays lower or raise the day's footfall factor."""
    christmas = date(2026, 12, 25)
    assert christmas in BANK_HOLIDAYS and is_school_holiday(date(2026, 8, 10))
    assert not is_school_holiday(date(2026, 11, 10))
    factors = day_factors(date(2026, 12, 24), 2, seed=1, events_per_month=0)
    assert factors[1].bank_holiday and factors[1].footfall < factors[1].weather


@pytest.mark.parametrize(
    ("busy", "quiet"), [("high_street", "residential"), ("park", "residential")]
)
def test_fill_rates_follow_location_type(busy: str, quiet: str) -> None:
    """With its type's usual rate, a busier location type fills faster over a fortnight."""
    days = day_factors(START, 14, seed=1, events_per_month=0)

    def rise(kind: str, rate: float) -> float:
        samples = list(simulate_bin(kind, rate, days, random.Random(7)))
        ups = [
            b.true_fill - a.true_fill
            for a, b in itertools.pairwise(samples)
            if b.true_fill >= a.true_fill
        ]
        return sum(ups) / 14

    assert rise(busy, 4.0) > 1.5 * rise(quiet, 1.2)


def test_bins_are_emptied_and_sensors_stick() -> None:
    """Fill drops to near empty on collection rounds, and stuck sensors repeat one value."""
    days = day_factors(START, 28, seed=1)
    samples = list(simulate_bin("high_street", 4.0, days, random.Random(11)))
    drops = [b for a, b in itertools.pairwise(samples) if b.true_fill < a.true_fill - 30]
    assert drops and all(d.true_fill <= 5 for d in drops)
    assert all(d.ts.astimezone(LOCAL).hour == 7 for d in drops)
    stuck_rng = random.Random(3)
    from simulators.bins import BinSensorParams

    stuck = [
        s
        for s in simulate_bin("park", 2.0, days, stuck_rng, BinSensorParams(stuck_per_day=0.5))
        if s.stuck
    ]
    assert stuck
    runs = defaultdict(set)
    for s in stuck:
        runs[s.reported_fill].add(s.ts)
    assert max(len(v) for v in runs.values()) > 10


def test_timestamps_walk_through_dst() -> None:
    """Readings stay evenly spaced in real time across the October clock change."""
    days = day_factors(date(2026, 10, 24), 3, seed=1)
    samples = list(simulate_bin("residential", 1.0, days, random.Random(1)))
    gaps = {(b.ts - a.ts).total_seconds() for a, b in itertools.pairwise(samples)}
    assert gaps == {1800.0}
    assert all(s.ts.tzinfo is not None and s.ts.utcoffset() == UTC.utcoffset(None) for s in samples)


def test_phones_report_the_potholes_they_hit(
    tmp_path: Path, conn: psycopg.Connection, uid: str
) -> None:
    """Pothole hits in the truth come back as bump reports at that moment (about as often as the
    detector finds real potholes: a fifth to a half of hits, bench/detector.py), and jolts at
    potholes are larger than reports elsewhere."""
    network = generate_town(TownParams(), seed=2)
    features = place_features(
        network, random.Random(2), potholes=40, speed_humps=10, manholes=10, rough_segments=5
    )
    council = f"ph-{uid}"
    town = make_town_on(network, council, seed=2, bins=0, counters=0)
    result = backfill(
        town,
        start=START,
        days=2,
        seed=2,
        out=tmp_path,
        prefix="smartstreets",
        conn=conn,
        network=network,
        features=features,
        phones=6,
    )
    assert result.quarantined == 0 and result.written.get("bump_report", 0) > 0
    with (tmp_path / "bump_truth.csv").open() as f:
        # Hits in a trip's first or last 200 m are the phone's own: it sends nothing of them.
        hits = [h for h in csv.DictReader(f) if h["kind"] == "pothole" and h["private"] == "0"]
    assert hits
    reports = conn.execute(
        "SELECT device_id, ts, peak_z_g FROM bump_report WHERE council = %s", (council,)
    ).fetchall()
    # Phones are stored as pseudonyms, so hits are matched to reports by time alone.
    matched = []
    for h in hits:
        t = datetime.fromisoformat(h["time"])
        near = [p for _, ts, p in reports if abs((ts - t).total_seconds()) < 1.5]
        if near:
            matched.append(max(near))
    assert len(matched) >= 0.15 * len(hits), f"{len(matched)} of {len(hits)} hits reported"
    others = [p for _, _, p in reports]
    assert statistics.mean(matched) >= statistics.mean(others)
