"""What ``bench/jobs.py`` prints: timings under a spinner, verdicts with the load average."""

import os
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

T = TypeVar("T")
console = Console(highlight=False)


def load() -> str:
    """The 1-minute load average, to read beside a timing."""
    return f"load {os.getloadavg()[0]:.2f}"


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def step(text: str) -> Iterator[None]:
    """A spinner with elapsed time while a step runs."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        progress.add_task(text, total=None)
        yield


def timed(text: str, work: Callable[[], T]) -> tuple[T, float]:
    """``work()`` under a spinner, with its wall time in seconds."""
    with step(text):
        started = time.perf_counter()
        out = work()
        return out, time.perf_counter() - started


def verdict(job: str, figure: str, ok: bool, target: str) -> None:
    """One result line: the job, its figure, PASS or FAIL against the target, the load."""
    mark = "[green]PASS[/]" if ok else "[red]FAIL[/]"
    console.print(f"{mark}  {job}: {figure} (target {target}; {load()})")
