"""Backtest windows: the periods a backtest's origins are drawn from, and their local midnights.

A :class:`Window` is a named run of local dates (for example six weeks over Christmas) with
origins every ``stride_days`` days from its last date back to its first. Several windows
spread over seasons, with and without holidays, show whether a forecaster generalises or
only fits the period it was tuned on.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from ingest.kernel.params import require

_SPEC = re.compile(
    r"^(?P<name>[\w.+-]+)=(?P<first>\d{4}-\d{2}-\d{2})\.\.(?P<last>\d{4}-\d{2}-\d{2})"
    r"(?:/(?P<stride>\d+))?$"
)


@dataclass(frozen=True)
class Window:
    """A period of origins.

    Parameters
    ----------
    name
        Short label (``xmas-2013``).
    first, last
        First and last local date an origin may fall on (inclusive).
    stride_days
        Days between origins, counted back from ``last``.
    """

    name: str
    first: date
    last: date
    stride_days: int = 1

    def __post_init__(self) -> None:
        require(self.first <= self.last, "Expected a window with first <= last.")
        require(self.stride_days >= 1, "Expected stride_days >= 1.")

    def days(self) -> list[date]:
        """Local dates of the origins, oldest first."""
        n = (self.last - self.first).days // self.stride_days
        return [self.last - timedelta(days=k * self.stride_days) for k in range(n, -1, -1)]

    @classmethod
    def parse(cls, text: str, stride_days: int = 1) -> "Window":
        """A window from ``NAME=FIRST..LAST[/STRIDE]`` (ISO dates), e.g.
        ``xmas-2013=2013-12-09..2014-01-19/3``; ``stride_days`` when no stride is given."""
        m = _SPEC.match(text.strip())
        require(m is not None, f"Expected NAME=YYYY-MM-DD..YYYY-MM-DD[/DAYS], got {text!r}.")
        assert m is not None
        return cls(
            m["name"],
            date.fromisoformat(m["first"]),
            date.fromisoformat(m["last"]),
            int(m["stride"]) if m["stride"] else stride_days,
        )


def origin_dates(
    history_end: datetime,
    horizon: int,
    origins: int,
    tz: str,
    last_origin: date | None,
    stride_days: int = 1,
) -> list[date]:
    """Local dates of the origins: ``origins`` days ``stride_days`` apart ending at
    ``last_origin`` or at the last day whose midnight plus ``horizon`` hours is within the
    history (ending ``history_end``)."""
    if last_origin is None:
        zone = ZoneInfo(tz)
        last_origin = (history_end - timedelta(hours=horizon)).astimezone(zone).date()
        if datetime.combine(last_origin, time(), zone) + timedelta(hours=horizon) > history_end:
            last_origin -= timedelta(days=1)
    return [last_origin - timedelta(days=k * stride_days) for k in range(origins - 1, -1, -1)]


def midnights(days: list[date], tz: str) -> list[int]:
    """UTC epoch hours of local midnights (a midnight that does not exist is skipped)."""
    frame = pl.DataFrame({"d": days}, schema={"d": pl.Date}).select(
        pl.col("d")
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        .dt.epoch("s")
        // 3600
    )
    return [int(h) for h in frame["d"].drop_nulls()]
