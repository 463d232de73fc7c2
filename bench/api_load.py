"""The load generator of ``bench/api.py``: a fixed-response server for the client's ceiling,
keep-alive HTTP/1.1 connections sending requests back to back, and the tally and report of what
came back."""

import asyncio
import contextlib
import multiprocessing
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from deploy.embedded import free_port


def wait_ok(url: str, proc: subprocess.Popen[bytes] | None, timeout: float = 60) -> None:
    """Wait until ``url`` answers (any HTTP status); fail if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the API exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=3):  # noqa: S310 (our own loopback URL)
                return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


_FIXED = (
    b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'
)


class _Fixed(asyncio.Protocol):
    """Answers every request with the same bytes: what a server costs when it costs nothing."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            self.buffer = self.buffer[end + 4 :]
            self.transport.write(_FIXED)  # type: ignore[attr-defined]


def _serve_fixed(port: int) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Fixed, "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(main())


@contextlib.contextmanager
def fixed_server() -> Iterator[tuple[str, int]]:
    """The trivial server in a process of its own; yields (host, port)."""
    port = free_port()
    proc = multiprocessing.get_context("spawn").Process(target=_serve_fixed, args=(port,))
    proc.start()
    try:
        wait_ok(f"http://127.0.0.1:{port}/", None, timeout=20)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.join(10)


# -- the load generator -------------------------------------------------------------------------


@dataclass
class Tally:
    """Latencies (ns) of the 200s, and how many answers were anything else."""

    latencies: list[int] = field(default_factory=list)
    errors: int = 0
    statuses: Counter[str] = field(default_factory=Counter)


async def _connection(
    host: str, port: int, paths: Sequence[str], offset: int, until: float, tallies: list[Tally]
) -> None:
    requests = [
        f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n".encode()
        for p in paths
    ]
    clock = time.perf_counter_ns
    i = offset
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < until:
            k = i % len(paths)
            i += 1
            started = clock()
            try:
                writer.write(requests[k])
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                        break
                if length:
                    await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                tallies[k].errors += 1
                tallies[k].statuses["no answer"] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            elapsed = clock() - started
            if head[9:12] == b"200":
                tallies[k].latencies.append(elapsed)
            else:
                tallies[k].errors += 1
                tallies[k].statuses[head[9:12].decode()] += 1
    finally:
        writer.close()


async def _load(
    host: str, port: int, paths: Sequence[str], connections: int, seconds: float
) -> tuple[list[Tally], float]:
    tallies = [Tally() for _ in paths]
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(
        *(_connection(host, port, paths, c, until, tallies) for c in range(connections))
    )
    return tallies, time.monotonic() - started


def load(
    host: str, port: int, paths: Sequence[str], connections: int, seconds: float
) -> tuple[list[Tally], float]:
    """Keep ``connections`` connections busy for ``seconds``, alternating ``paths``; the tally of
    each path and the wall time."""
    return asyncio.run(_load(host, port, paths, connections, seconds))


# -- the report ---------------------------------------------------------------------------------


def _pct(ordered: list[int], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


HEADER = (
    f"{'run':28s} {'endpoint':20s} {'requests':>9s} {'errors':>7s} {'req/s':>8s} "
    f"{'p50':>7s} {'p90':>7s} {'p99':>7s} {'max':>7s}  (ms)"
)


def report(label: str, names: Sequence[str], tallies: list[Tally], seconds: float) -> None:
    """One line per endpoint, plus their total when there are several."""
    rows = list(zip(names, tallies, strict=True))
    if len(rows) > 1:
        rows.append(
            (
                "total",
                Tally([x for t in tallies for x in t.latencies], sum(t.errors for t in tallies)),
            )
        )
    for name, tally in rows:
        ordered = sorted(tally.latencies)
        done = len(ordered) + tally.errors
        print(
            f"{label:28s} {name:20s} {done:9d} {tally.errors:7d} {done / seconds:8.0f} "
            f"{_pct(ordered, 0.5):7.1f} {_pct(ordered, 0.9):7.1f} {_pct(ordered, 0.99):7.1f} "
            f"{(ordered[-1] / 1e6 if ordered else float('nan')):7.1f}"
        )
        if tally.statuses:
            print(f"{'':28s}   errors: {dict(tally.statuses)}")
