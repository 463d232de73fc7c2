"""Misbehaviour knobs: devices that repeat themselves, arrive late or out of order, send
garbage, run fast or slow clocks, or fall silent, so ingest is tested against what real fleets
do. Every choice comes from the given random generator, so a seed replays the same faults."""

import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ingest.kernel.params import require, require_all_in

_CHANCES = ("duplicate", "out_of_order", "late", "malformed", "silent")
_TIME_FIELDS = ("ts", "period_start", "period_end")
# Deleting one of these breaks any payload; deleting an optional field would not.
_REQUIRED = frozenset(
    ("ts", "period_start", "period_end", "fill_pct", "count", "lat", "lon", "speed_mps", "peak_z_g")
)


@dataclass(frozen=True)
class Misbehaviour:
    """How badly devices behave; every chance is per message, in [0, 1].

    Parameters
    ----------
    duplicate
        Chance a message is sent twice.
    out_of_order
        Chance a message is held back and sent after the device's next one.
    late
        Chance a message is held back for ``late_s`` seconds.
    malformed
        Chance a payload is corrupted (truncated, a wrong type, a missing field, junk).
    clock_skew_s
        Standard deviation of a fixed clock offset per device, in seconds.
    silent
        Chance that a device falls silent for ``silent_s`` seconds (messages never sent).
    """

    duplicate: float = 0.0
    out_of_order: float = 0.0
    late: float = 0.0
    late_s: float = 60.0
    malformed: float = 0.0
    clock_skew_s: float = 0.0
    silent: float = 0.0
    silent_s: float = 300.0

    def __post_init__(self) -> None:
        require_all_in(self, _CHANCES, 0, 1)
        require(
            self.late_s >= 0 and self.silent_s >= 0 and self.clock_skew_s >= 0,
            "Expected late_s, silent_s and clock_skew_s >= 0.",
        )

    @property
    def any(self) -> bool:
        """Whether any knob is turned."""
        return any(getattr(self, name) for name in (*_CHANCES, "clock_skew_s"))


def corrupt(body: bytes, rng: random.Random) -> bytes:
    """A payload broken in one of the ways firmware breaks them."""
    data = json.loads(body)
    kind = rng.randrange(4)
    if kind == 0:
        return body[: max(1, len(body) // 2)]  # truncated in flight
    if kind == 1:
        data[rng.choice(sorted(data))] = "n/a"  # every field is a number, time or list
    elif kind == 2:
        del data[rng.choice(sorted(_REQUIRED & set(data)))]
    else:
        return body + b"\x00\xff"  # junk after the object
    return json.dumps(data).encode()


@dataclass
class MisbehavingPublisher:
    """Wraps a publish function and applies the knobs per device."""

    publish: Callable[[str, bytes], None]
    knobs: Misbehaviour
    rng: random.Random
    counts: Counter[str] = field(default_factory=Counter)
    _skew: dict[str, float] = field(default_factory=dict)
    _held: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    _late: list[tuple[datetime, str, bytes]] = field(default_factory=list)
    _silent_until: dict[str, datetime] = field(default_factory=dict)

    def _skewed(self, topic: str, body: bytes) -> bytes:
        skew = self._skew.setdefault(topic, self.rng.gauss(0, self.knobs.clock_skew_s))
        data = json.loads(body)
        for key in _TIME_FIELDS:
            if key in data:
                t = datetime.fromisoformat(data[key]) + timedelta(seconds=skew)
                data[key] = t.isoformat()
        return json.dumps(data).encode()

    def send(self, topic: str, body: bytes, now: datetime) -> None:
        """Publish one message the way a misbehaving device would."""
        k, rng = self.knobs, self.rng
        self.flush_late(now)
        until = self._silent_until.get(topic)
        if until is not None and now < until:
            self.counts["silenced"] += 1
            return
        if k.silent and rng.random() < k.silent:
            self._silent_until[topic] = now + timedelta(seconds=k.silent_s)
            self.counts["silenced"] += 1
            return
        if k.clock_skew_s:
            body = self._skewed(topic, body)
        if k.malformed and rng.random() < k.malformed:
            self.counts["malformed"] += 1
            self.publish(topic, corrupt(body, rng))
            return
        if k.late and rng.random() < k.late:
            self.counts["late"] += 1
            self._late.append((now + timedelta(seconds=k.late_s), topic, body))
            return
        held = self._held.pop(topic, None)
        if k.out_of_order and held is None and rng.random() < k.out_of_order:
            self.counts["out_of_order"] += 1
            self._held[topic] = (topic, body)
            return
        self._emit(topic, body)
        if held is not None:
            self._emit(*held)  # the held-back message arrives after its successor

    def _emit(self, topic: str, body: bytes) -> None:
        self.publish(topic, body)
        self.counts["sent"] += 1
        if self.knobs.duplicate and self.rng.random() < self.knobs.duplicate:
            self.publish(topic, body)
            self.counts["duplicated"] += 1

    def flush_late(self, now: datetime | None = None) -> None:
        """Send held-back messages whose time has come (all of them when ``now`` is None)."""
        due = [m for m in self._late if now is None or m[0] <= now]
        self._late = [m for m in self._late if m not in due]
        for _, topic, body in due:
            self._emit(topic, body)
        if now is None:
            for topic, body in list(self._held.values()):
                self._emit(topic, body)
            self._held.clear()
