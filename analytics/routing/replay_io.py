"""Reading a replay file: each bin's end-of-day fill and its threshold.

Two layouts are accepted. Wyndham City's compactor export, ``bin_id,date,fullness_0_10,
fullness_threshold`` (fullness and threshold on the sensor's 0-10 scale, one reading a day;
other columns such as ``status`` are ignored), and the generic ``bin_id,timestamp,fill_pct`` of
``smartstreets bins forecast`` (any number of readings a day; a ``threshold_pct`` column is
optional). Fill becomes percent (Wyndham's 8 is 80%); a day with several readings keeps its last
one in file order, the fill the day ended with. Files may be gzip-compressed (``.gz``).
"""

import gzip
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from analytics.routing.errors import RoutingError

WYNDHAM_COLUMNS = ("bin_id", "date", "fullness_0_10", "fullness_threshold")
GENERIC_COLUMNS = ("bin_id", "timestamp", "fill_pct")
DEFAULT_THRESHOLD_PCT = 80.0  # the generic layout without threshold_pct: SelectionParams' default


class ReplayInputError(RoutingError):
    """A replay file that cannot be read: missing, of unknown columns, or with a bad value."""


@dataclass(frozen=True)
class BinSeries:
    """One bin's readings: ``days`` ascending and distinct, ``fill_pct`` each day's last
    reading (0-100), ``threshold_pct`` the fill at which it should be emptied, ``step_pct``
    the sensor's resolution (0: continuous)."""

    bin_id: str
    days: tuple[date, ...]
    fill_pct: tuple[float, ...]
    threshold_pct: float
    step_pct: float = 0.0


def read_replay(path: Path) -> list[BinSeries]:
    """Each bin's daily series from a replay file, in order of bin id.

    Raises
    ------
    ReplayInputError
        The file is missing or unreadable, has neither layout's columns, or a bad value (the
        message names the line).
    """
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        frame = pl.read_csv(io.BytesIO(raw), infer_schema=False)
    except FileNotFoundError:
        raise ReplayInputError(f"{path}: no such file") from None
    except (OSError, EOFError, pl.exceptions.PolarsError) as exc:
        raise ReplayInputError(f"{path}: not a readable CSV file ({exc})") from None
    columns = set(frame.columns)
    if set(WYNDHAM_COLUMNS) <= columns:
        rows = _wyndham_rows(frame)
        step = 20.0 if all(r[2] % 20 == 0 for r in rows) else 10.0  # "even steps" of 0-10
    elif set(GENERIC_COLUMNS) <= columns:
        rows, step = _generic_rows(frame), 0.0
    else:
        raise ReplayInputError(
            f"{path}: expected columns {','.join(WYNDHAM_COLUMNS)} or {','.join(GENERIC_COLUMNS)}"
            f" (found {','.join(frame.columns) or 'none'})"
        )
    if not rows:
        raise ReplayInputError(f"{path}: no readings")
    return _series(rows, step)


_Row = tuple[str, date, float, float]  # bin, day, fill %, threshold %


def _wyndham_rows(frame: pl.DataFrame) -> list[_Row]:
    out: list[_Row] = []
    for line, (bin_id, day, fill, threshold) in enumerate(
        frame.select(WYNDHAM_COLUMNS).iter_rows(), start=2
    ):
        level = _number(fill, "fullness_0_10", line, 0, 10)
        limit = _number(threshold, "fullness_threshold", line, 1, 10)
        out.append((_bin(bin_id, line), _day(day, line), level * 10, limit * 10))
    return out


def _generic_rows(frame: pl.DataFrame) -> list[_Row]:
    has_threshold = "threshold_pct" in frame.columns
    cols = [*GENERIC_COLUMNS, "threshold_pct"] if has_threshold else list(GENERIC_COLUMNS)
    out: list[_Row] = []
    for line, row in enumerate(frame.select(cols).iter_rows(), start=2):
        fill = min(_number(row[2], "fill_pct", line, 0, 1000), 100.0)  # past 100: overflowing
        limit = _number(row[3], "threshold_pct", line, 10, 100) if has_threshold else None
        out.append(
            (_bin(row[0], line), _timestamp_day(row[1], line), fill, limit or DEFAULT_THRESHOLD_PCT)
        )
    return out


def _series(rows: list[_Row], step_pct: float) -> list[BinSeries]:
    by_bin: dict[str, dict[date, float]] = {}
    thresholds: dict[str, float] = {}
    for bin_id, day, fill, threshold in rows:
        by_bin.setdefault(bin_id, {})[day] = fill  # later rows of a day win: the day's last
        thresholds[bin_id] = threshold  # a changed threshold: the latest applies
    return [
        BinSeries(
            b, tuple(sorted(days)), tuple(days[d] for d in sorted(days)), thresholds[b], step_pct
        )
        for b, days in sorted(by_bin.items())
    ]


def _bin(value: str | None, line: int) -> str:
    if value is None or not value.strip():
        raise ReplayInputError(f"line {line}: empty bin_id")
    return value.strip()


def _number(value: str | None, name: str, line: int, lo: float, hi: float) -> float:
    try:
        number = float(value or "")
    except ValueError:
        raise ReplayInputError(f"line {line}: {name} {value!r} is not a number") from None
    if not lo <= number <= hi:  # NaN fails too
        raise ReplayInputError(f"line {line}: {name} {value} is outside [{lo:g}, {hi:g}]")
    return number


def _day(value: str | None, line: int) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise ReplayInputError(f"line {line}: date {value!r} is not YYYY-MM-DD") from None


def _timestamp_day(value: str | None, line: int) -> date:
    # The day as written: a bin's litter follows its local day, which the timestamp carries.
    try:
        return datetime.fromisoformat((value or "").strip()).date()
    except ValueError:
        raise ReplayInputError(f"line {line}: timestamp {value!r} is not ISO 8601") from None
