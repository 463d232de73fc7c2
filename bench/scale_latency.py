"""The API part of ``bench/scale.py`` as it runs: a fresh API process with its public cache on
(each endpoint's first request, then warm ones, then the public endpoints' throughput) and one
with it off (cold), both councils, each figure printed against its target."""

import argparse
import os
from pathlib import Path

from bench.scale_api import (
    Council,
    Endpoint,
    Timing,
    endpoints,
    prepare,
    throughput,
    time_endpoints,
    url_of,
)
from bench.scale_report import console, latency_table, throughput_line
from bench.servers import api_server
from ingest.db.connect import connect

PUBLIC_RPS, PUBLIC_P99_MS = 1000, 50.0


def time_api(
    label: str, url: str, roles: dict[str, str], args: argparse.Namespace, workdir: Path
) -> None:
    """Every GET endpoint for both councils: a fresh process (first request, then warm), a
    fresh process with the public cache off; then the public endpoints' throughput."""
    log = workdir / "api.log"
    timings: dict[tuple[str, str], Timing] = {}
    with api_server(url, 1, True, log) as (host, port):
        base = f"http://{host}:{port}"
        found, writes = endpoints(base)
        with connect(url) as conn:
            councils = [prepare(conn, base, slug) for slug in roles.values()]
        pairs = _pairs(found, councils)
        time_endpoints(base, pairs, args.requests, timings, cold=False)
        # The public /v1 answers (not those a council withholds, 403, or has none of, 404).
        public = [
            p
            for e, c, p in pairs
            if not e.private
            and e.path.startswith("/v1/")
            and timings[(e.path, c.slug)].statuses == {200}
        ]
        tally, seconds = throughput(host, port, public, args.connections, args.load_seconds)
    with api_server(url, 1, False, log) as (host, port):
        time_endpoints(f"http://{host}:{port}", pairs, args.requests, timings, cold=True)
    latency_table(
        f"API on {label} (ms; first: a fresh process's first request; cold: public cache off)",
        found,
        roles,
        timings,
    )
    console.print(f"not timed (they write): {', '.join(writes)}")
    throughput_line(
        f"{label}: public /v1 endpoints, both councils, {args.connections} connections",
        tally,
        seconds,
        PUBLIC_RPS,
        PUBLIC_P99_MS,
    )
    console.print("load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


def _pairs(found: list[Endpoint], councils: list[Council]) -> list[tuple[Endpoint, Council, str]]:
    out = []
    for e in found:
        for c in councils:
            path = url_of(e, c)
            if path is not None:
                out.append((e, c, path))
    return out
