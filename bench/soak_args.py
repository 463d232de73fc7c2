"""The soak's command line."""

import argparse
from collections.abc import Sequence
from pathlib import Path

from bench.args import Parser, positive

DESCRIPTION = (
    "Devices publish while the broker, the database and ingest are killed and restarted; "
    "then every message must be stored exactly once."
)
KINDS = ("broker", "database", "ingest")
"""The services the soak kills."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = Parser(description=DESCRIPTION, prog="bench/soak.py")
    parser.add_argument("--minutes", type=float, default=30.0, help="publishing time (30)")
    parser.add_argument("--seed", type=int, default=1, help="seed of traffic and faults (1)")
    parser.add_argument("--rate", type=positive, default=200, help="messages a second (200)")
    parser.add_argument("--workers", type=positive, default=2, help="ingest workers (2)")
    parser.add_argument("--publishers", type=positive, default=4, help="MQTT publishers (4)")
    parser.add_argument("--bad-share", type=float, default=0.01, help="malformed share (0.01)")
    parser.add_argument(
        "--gap",
        type=float,
        nargs=2,
        default=(60.0, 240.0),
        metavar=("MIN", "MAX"),
        help="seconds between faults, drawn uniformly (60 240)",
    )
    parser.add_argument(
        "--outage",
        type=float,
        nargs=2,
        default=(2.0, 30.0),
        metavar=("MIN", "MAX"),
        help="seconds a killed service stays down (2 30)",
    )
    parser.add_argument(
        "--resend-window",
        type=float,
        default=10.0,
        help="after a reconnect, publishers re-send what the broker acknowledged this many "
        "seconds before the drop (10; 0 shows what a broker crash loses without it)",
    )
    parser.add_argument(
        "--kinds",
        nargs="+",
        choices=KINDS,
        default=list(KINDS),
        help="services to kill (broker database ingest)",
    )
    parser.add_argument("--drain-timeout", type=float, default=300.0, help="seconds (300)")
    parser.add_argument("--log-dir", type=Path, help="keep service logs here (default: temp)")
    return parser.parse_args(argv)
