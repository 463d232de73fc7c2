"""The ingest benchmark's contenders: the ways of draining the backlog it compares.

* ``bare``: a paho-mqtt subscriber that only receives and acknowledges (the client's ceiling);
* ``naive``: an ingestor that INSERTs and commits one message at a time (first N messages only);
* ``ingest`` (the real ``smartstreets ingest`` CLI) with MQTT 5 Receive Maximum left small and
  raised, and with ``--workers 2`` on a shared subscription.
"""

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bench.ingest_backlog import PREFIX, TOPIC_FILTER
from bench.ingest_mqtt import SMALL_RECEIVE_MAXIMUM

SHARE_GROUP = "smartstreets"  # the group `smartstreets ingest --workers N` subscribes with
RAISED_RECEIVE_MAXIMUM = 10_000
CONTENDER_KEYS = ("bare", "naive", "ingest-rm20", "ingest", "ingest-workers2")
# The baselines run in child processes of the bench's own entry point, with a role.
ENTRY_POINT = Path(__file__).resolve().with_name("ingest.py")


@dataclass
class Contender:
    """One way of draining the backlog; ``skipped`` says why it cannot run here."""

    key: str
    label: str
    kind: Literal["bare", "naive", "ingest"]
    client_ids: list[str]
    topic_filter: str
    target: int
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    skipped: str | None = None


def cli_flags(executable: str) -> str:
    """The help text of ``smartstreets ingest``, to see which options this checkout has."""
    out = subprocess.run(
        [executable, "ingest", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        check=False,
    )
    return out.stdout + out.stderr


def plan(args: argparse.Namespace, bench_db_url: str, mqtt_url: str) -> list[Contender]:
    """The contenders to run, and those this checkout's CLI cannot run (``skipped``)."""
    me = [sys.executable, str(ENTRY_POINT)]
    role = [
        "--mqtt-url", mqtt_url, "--receive-maximum", str(RAISED_RECEIVE_MAXIMUM),
        "--database-url", bench_db_url,
    ]  # fmt: skip
    cli = str(Path(sys.executable).with_name("smartstreets"))
    if not Path(cli).exists():
        cli = shutil.which("smartstreets") or cli
    help_text = cli_flags(cli)
    ingest_env = {
        "SMARTSTREETS_DATABASE_URL": bench_db_url,
        "SMARTSTREETS_MQTT_URL": mqtt_url,
        "SMARTSTREETS_MQTT_PREFIX": PREFIX,
    }
    n = args.messages

    def ingest(key: str, label: str, rm: int | None, workers: int) -> Contender:
        client_id = f"bench-{key}"
        command = [cli, "ingest", "--no-migrate", "--client-id", client_id]
        if workers > 1:
            command += ["--workers", str(workers)]
        if rm is not None:
            command += ["--receive-maximum", str(rm)]
        ids = [f"{client_id}-{i}" for i in range(1, workers + 1)] if workers > 1 else [client_id]
        topic = f"$share/{SHARE_GROUP}/{TOPIC_FILTER}" if workers > 1 else TOPIC_FILTER
        contender = Contender(key, label, "ingest", ids, topic, n, command, ingest_env, workers)
        missing = [f for f in command if f.startswith("--") and f not in help_text]
        if missing:
            contender.skipped = f"this CLI has no {', '.join(missing)}"
        return contender

    wanted: list[Contender] = [
        Contender(
            "bare", "bare paho subscriber", "bare", ["bench-bare"], TOPIC_FILTER, n,
            [*me, "--role", "bare", "--client-id", "bench-bare", "--expect", str(n), *role],
        ),
        Contender(
            "naive", f"naive, first {args.naive_limit:,}", "naive", ["bench-naive"], TOPIC_FILTER,
            args.naive_limit, [*me, "--role", "naive", "--client-id", "bench-naive", *role],
        ),
        ingest("ingest-rm20", f"ingest rm {SMALL_RECEIVE_MAXIMUM}", SMALL_RECEIVE_MAXIMUM, 1),
        ingest("ingest", f"ingest rm {RAISED_RECEIVE_MAXIMUM}", RAISED_RECEIVE_MAXIMUM, 1),
        ingest("ingest-workers2", f"ingest --workers 2, rm {RAISED_RECEIVE_MAXIMUM}",
               RAISED_RECEIVE_MAXIMUM, 2),
    ]  # fmt: skip
    if "--receive-maximum" not in help_text:
        # Until the CLI grows --receive-maximum, still measure what it does out of the box.
        wanted.insert(2, ingest("ingest-default", "ingest (CLI defaults)", None, 1))
    return [c for c in wanted if c.key not in args.skip]
