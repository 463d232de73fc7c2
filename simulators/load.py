"""Load mode: many devices publishing at a target message rate, and the rate actually achieved.

Readings are valid bin-fill messages from ``devices`` simulated bins, round robin, paced in
small bursts against the wall clock; the broker's acknowledgements are awaited at the end, so
the achieved rate counts only what the broker took.
"""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt

from ingest.contract.topics import Stream, build_topic
from ingest.kernel.params import require
from ingest.mqtt import Publisher


@dataclass(frozen=True)
class LoadReport:
    """What a load run achieved."""

    target_rate: float
    published: int
    acknowledged: bool
    seconds: float

    @property
    def achieved_rate(self) -> float:
        """Messages per second the broker acknowledged."""
        return self.published / self.seconds if self.seconds > 0 else 0.0


def run_load(
    client: mqtt.Client,
    prefix: str,
    council: str,
    device_ids: list[str],
    rate: float,
    duration: float,
) -> LoadReport:
    """Publish bin readings from ``device_ids`` at ``rate`` messages/s for ``duration`` s."""
    require(
        rate > 0 and duration > 0 and bool(device_ids),
        "Expected rate > 0, duration > 0 and at least one device.",
    )
    publisher = Publisher(client)
    topics = [build_topic(prefix, council, Stream.BIN_FILL, d) for d in device_ids]
    burst = max(1, int(rate / 100))  # ~100 bursts a second keeps pacing smooth and cheap
    started = time.monotonic()
    origin = datetime.now(UTC)
    sent = 0
    while (elapsed := time.monotonic() - started) < duration:
        due = int(rate * elapsed) + burst
        while sent < due:
            # Each message its own instant, so no two share a natural key.
            ts = (origin + timedelta(seconds=sent / rate)).isoformat()
            body = json.dumps({"ts": ts, "fill_pct": sent % 100, "seq": sent})
            publisher.publish(topics[sent % len(topics)], body.encode())
            sent += 1
        time.sleep(max(0.0, (sent - burst) / rate - (time.monotonic() - started)))
    acknowledged = publisher.flush(timeout=60)
    return LoadReport(rate, sent, acknowledged, time.monotonic() - started)
