"""The travel matrix every source returns: driving distances and times between points.

Figures are whole metres and whole seconds, as PyVRP wants integers.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ingest.kernel.params import require

Point = tuple[float, float]  # (lat, lon) in decimal degrees, WGS 84
Matrix = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class TravelMatrix:
    """Driving distance and duration from every point to every point.

    Attributes
    ----------
    source
        Where the figures come from: ``"network"``, ``"haversine"`` or ``"osrm"``.
    points
        The points as (lat, lon); row and column ``i`` belong to ``points[i]``.
    distance_m
        ``distance_m[i][j]``: metres driven from point ``i`` to point ``j``, rounded.
    duration_s
        ``duration_s[i][j]``: seconds driving from point ``i`` to point ``j``, rounded.
    legs
        Draws the road between two points (by index); ``None`` draws straight lines.
    """

    source: Literal["network", "haversine", "osrm"]
    points: tuple[Point, ...]
    distance_m: Matrix
    duration_s: Matrix
    legs: Callable[[int, int], list[Point]] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        require(
            self.source in ("network", "haversine", "osrm"),
            "Expected source in {'network', 'haversine', 'osrm'}.",
        )
        n = len(self.points)
        for matrix in (self.distance_m, self.duration_s):
            require(
                len(matrix) == n and all(len(row) == n for row in matrix),
                f"Expected {n} x {n} matrices.",
            )
            require(
                not any(x < 0 for row in matrix for x in row),
                "Expected distances and durations >= 0.",
            )

    def leg_path(self, i: int, j: int) -> list[Point]:
        """The driven line from point ``i`` to point ``j``, for maps.

        Parameters
        ----------
        i, j
            Indices of the two points.

        Returns
        -------
        list of (lat, lon)
            Starts at point ``i`` and ends at point ``j``: along the roads for ``"network"``
            and ``"osrm"`` (one OSRM route request per call; its failure raises
            ``TravelError``), a straight line for ``"haversine"``; just the point if ``i == j``.
        """
        n = len(self.points)
        require(0 <= i < n and 0 <= j < n, f"Expected i and j in [0, {n - 1}].")
        if i == j:
            return [self.points[i]]
        line = [self.points[i], *(self.legs(i, j) if self.legs else []), self.points[j]]
        return [p for k, p in enumerate(line) if k == 0 or p != line[k - 1]]


def checked_points(points: Sequence[Point]) -> tuple[Point, ...]:
    """``points`` as a tuple of float pairs; ``ValueError`` if empty or off the globe."""
    pts = tuple((float(lat), float(lon)) for lat, lon in points)
    require(bool(pts), "Expected at least one point.")
    for i, (lat, lon) in enumerate(pts):
        require(
            -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0,  # NaN fails too
            f"Expected lat in [-90, 90] and lon in [-180, 180] (point {i}).",
        )
    return pts


def rounded(matrix: Sequence[Sequence[float]]) -> Matrix:
    """``matrix`` in whole units."""
    return tuple(tuple(round(x) for x in row) for row in matrix)
