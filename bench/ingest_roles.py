"""The ingest benchmark's baselines, run in child processes: a bare subscriber that only
acknowledges, and a naive ingestor that INSERTs and commits one message at a time."""

import argparse
import json
import signal
from typing import Any

import paho.mqtt.client as mqtt
from psycopg import sql

from bench.ingest_backlog import PREFIX
from bench.ingest_mqtt import manual_ack_client
from ingest.contract.topics import Stream, parse_topic
from ingest.db.connect import connect
from ingest.db.registry import load_devices
from ingest.db.writer import table_of


def role_bare(args: argparse.Namespace) -> None:
    """Receive and acknowledge; print progress, and ``done`` once ``--expect`` messages came."""
    count = 0

    def on_message(c: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal count
        c.ack(msg.mid, msg.qos)
        count += 1
        if count == args.expect:
            print(f"done {count}", flush=True)
        elif count % 2000 == 0:
            print(f"progress {count}", flush=True)

    client = manual_ack_client(args.mqtt_url, args.client_id, args.receive_maximum, on_message)
    signal.signal(signal.SIGTERM, lambda *_: client.disconnect())
    client.loop_forever()


_NAIVE_COLUMNS = {
    Stream.BIN_FILL: (
        "council", "device_id", "ts", "fill_pct", "seq", "battery_v", "temperature_c", "flags",
    ),
    Stream.BUMP: (
        "council", "device_id", "ts", "lat", "lon", "speed_mps", "peak_z_g", "seq",
        "accuracy_m", "heading_deg", "sample_hz", "samples_z_g",
    ),
    Stream.FOOTFALL: (
        "council", "device_id", "zone", "period_start", "period_end", "count", "count_in",
        "count_out", "seq",
    ),
}  # fmt: skip


def _naive_insert(stream: Stream) -> sql.Composed:
    columns = _NAIVE_COLUMNS[stream]
    return sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
        sql.Identifier(table_of(stream)),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )


def role_naive(args: argparse.Namespace) -> None:
    """One INSERT and one commit per message, then the acknowledgement."""
    conn = connect(args.database_url, autocommit=True)
    zones = {d.device_id: d.zone for d in load_devices(conn).values()}
    statements = {stream: _naive_insert(stream) for stream in _NAIVE_COLUMNS}

    def on_message(c: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        parts = parse_topic(PREFIX, msg.topic)
        body: dict[str, Any] = json.loads(msg.payload)
        body.update(council=parts.council, device_id=parts.device_id)
        body["zone"] = zones.get(parts.device_id)
        body.setdefault("flags", [])
        values = [body.get(column) for column in _NAIVE_COLUMNS[parts.stream]]
        conn.execute(statements[parts.stream], values)
        c.ack(msg.mid, msg.qos)

    client = manual_ack_client(args.mqtt_url, args.client_id, args.receive_maximum, on_message)
    signal.signal(signal.SIGTERM, lambda *_: client.disconnect())
    try:
        client.loop_forever()
    finally:
        conn.close()
