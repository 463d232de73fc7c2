"""Misbehaving devices: each knob does what it says, reproducibly, and ingest copes."""

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingest.contract.decode import Reading, Rejection, decode
from ingest.mqtt import close_client, open_client
from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from simulators.history import register_town
from simulators.misbehave import MisbehavingPublisher, Misbehaviour
from simulators.realtime import RealtimeOptions, RealtimeSimulator
from simulators.world import build_world
from tests.helpers import wait_for

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)
TOPIC = "smartstreets/v1/t/bin-fill/b1"


def _run(
    knobs: Misbehaviour, n: int = 200, seed: int = 1
) -> tuple[list[tuple[str, bytes]], MisbehavingPublisher]:
    sent: list[tuple[str, bytes]] = []
    pub = MisbehavingPublisher(lambda t, b: sent.append((t, b)), knobs, random.Random(seed))
    for i in range(n):
        now = T0 + timedelta(seconds=10 * i)
        pub.send(TOPIC, json.dumps({"ts": now.isoformat(), "fill_pct": i % 100}).encode(), now)
    pub.flush_late()
    return sent, pub


def _seconds(body: bytes) -> float:
    return (datetime.fromisoformat(json.loads(body)["ts"]) - T0).total_seconds()


def test_duplicates_repeat_messages() -> None:
    """With duplicate=1 every message is sent twice in a row."""
    sent, _ = _run(Misbehaviour(duplicate=1), n=10)
    assert len(sent) == 20 and all(sent[i] == sent[i + 1] for i in range(0, 20, 2))


def test_out_of_order_and_late_reorder_but_keep_everything() -> None:
    """Held-back and late messages still arrive, after messages that followed them."""
    sent, pub = _run(Misbehaviour(out_of_order=0.2, late=0.1, late_s=30))
    times = [_seconds(b) for _, b in sent]
    assert sorted(times) == [10.0 * i for i in range(200)]
    assert times != sorted(times)
    assert pub.counts["out_of_order"] > 0 and pub.counts["late"] > 0


def test_malformed_payloads_are_refused_by_ingest() -> None:
    """Every corrupted payload is a Rejection; the rest decode as readings."""
    sent, pub = _run(Misbehaviour(malformed=0.3))
    results = [decode("smartstreets", t, b, T0 + timedelta(days=1)) for t, b in sent]
    assert sum(isinstance(r, Rejection) for r in results) == pub.counts["malformed"] > 0
    assert sum(isinstance(r, Reading) for r in results) == pub.counts["sent"]


def test_clock_skew_is_a_fixed_offset_per_device() -> None:
    """A device's clock is off by one constant amount."""
    sent, _ = _run(Misbehaviour(clock_skew_s=120), n=20)
    offsets = {round(_seconds(b) - 10 * i, 3) for i, (_, b) in enumerate(sent)}
    assert len(offsets) == 1 and offsets != {0.0}


def test_silent_devices_send_nothing_for_a_while() -> None:
    """A device that falls silent drops its messages for silent_s seconds."""
    sent, pub = _run(Misbehaviour(silent=0.05, silent_s=300))
    assert pub.counts["silenced"] > 20 and len(sent) == 200 - pub.counts["silenced"]


def test_same_seed_same_faults() -> None:
    """The faults replay exactly from the seed, and another seed gives other faults."""
    knobs = Misbehaviour(duplicate=0.1, out_of_order=0.1, malformed=0.1, clock_skew_s=5)
    assert _run(knobs, seed=3)[0] == _run(knobs, seed=3)[0]
    assert _run(knobs, seed=3)[0] != _run(knobs, seed=4)[0]


@pytest.mark.parametrize("name", ["duplicate", "out_of_order", "late", "malformed", "silent"])
def test_knobs_are_validated(name: str) -> None:
    """A chance outside [0, 1] is refused."""
    with pytest.raises(ValueError, match=f"Expected {name} in"):
        Misbehaviour(**{name: 1.5})


@pytest.fixture
def worker(database_url: str, mqtt_url: str, prefix: str, uid: str) -> Iterator[IngestWorker]:
    """An ingest worker of this test's own."""
    w = IngestWorker(
        database_url,
        mqtt_url,
        prefix,
        IngestSettings(client_id=f"ingest-{uid}", flush_ms=50, log_every_s=3600),
    )
    w.start()
    yield w
    w.stop()


def test_ingest_stores_each_reading_once_and_quarantines_garbage(
    worker: IngestWorker, conn: psycopg.Connection, mqtt_url: str, prefix: str, uid: str
) -> None:
    """A misbehaving town through real ingest: every distinct valid reading is one row and
    every corrupted payload one quarantine row."""
    town = build_world(f"mb-{uid}", seed=2, bins=6, counters=2).town
    register_town(conn, town, prefix)
    client = open_client(mqtt_url, f"sim-{uid}")
    knobs = Misbehaviour(duplicate=0.2, out_of_order=0.2, malformed=0.1)
    sim = RealtimeSimulator(
        town,
        client,
        prefix,
        RealtimeOptions(
            bin_every_s=0.1,
            counter_every_s=0.2,
            bump_every_s=0.2,
            phones=1,
            seed=2,
            misbehaviour=knobs,
        ),
    )
    sim.run(duration=2)
    close_client(client)
    assert sim.faults is not None
    counts = sim.faults.counts

    def stored() -> tuple[int, int]:
        rows = conn.execute(
            "SELECT (SELECT count(*) FROM bin_fill WHERE council = %(c)s)"
            " + (SELECT count(*) FROM footfall_count WHERE council = %(c)s)"
            " + (SELECT count(*) FROM bump_report WHERE council = %(c)s),"
            " (SELECT count(*) FROM quarantine WHERE council = %(c)s)",
            {"c": town.council},
        ).fetchone()
        assert rows is not None
        return int(rows[0]), int(rows[1])

    try:
        wait_for(
            lambda: stored() == (counts["sent"], counts["malformed"]),
            timeout=30,
            what=f"{counts['sent']} rows and {counts['malformed']} quarantined",
        )
    except AssertionError:
        reasons = conn.execute(
            "SELECT reason, count(*) FROM quarantine WHERE council = %s GROUP BY 1", (town.council,)
        ).fetchall()
        raise AssertionError(f"stored {stored()}, counts {dict(counts)}, {reasons}") from None
    assert counts["duplicated"] > 0 and counts["out_of_order"] > 0
