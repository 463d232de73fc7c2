"""The one parameter-check convention: ``ValueError("Expected x in [lo, hi].")``."""

import math

import pytest

from ingest.errors import first_line
from ingest.kernel.params import require, require_all_in, require_in


@pytest.mark.parametrize(
    ("value", "lo_open", "hi_open"),
    [(0.0, False, False), (1.0, False, False), (0.5, True, True), (0.0, False, True)],
)
def test_in_range_passes(value: float, lo_open: bool, hi_open: bool) -> None:
    """Values inside the interval, closed bounds included, pass silently."""
    require_in("x", value, 0.0, 1.0, lo_open=lo_open, hi_open=hi_open)


@pytest.mark.parametrize(
    ("value", "lo_open", "hi_open", "message"),
    [
        (-0.1, False, False, r"Expected x in \[0, 1\]\."),
        (1.5, False, False, r"Expected x in \[0, 1\]\."),
        (0.0, True, False, r"Expected x in \(0, 1\]\."),
        (1.0, False, True, r"Expected x in \[0, 1\)\."),
        (math.nan, False, False, r"Expected x in \[0, 1\]\."),
    ],
)
def test_out_of_range_names_field_and_interval(
    value: float, lo_open: bool, hi_open: bool, message: str
) -> None:
    """Outside the interval (or NaN) is a ValueError naming the field and the interval."""
    with pytest.raises(ValueError, match=message):
        require_in("x", value, 0.0, 1.0, lo_open=lo_open, hi_open=hi_open)


def test_bounds_print_without_trailing_zeros() -> None:
    """Float bounds print as %g and integers as they are."""
    with pytest.raises(ValueError, match=r"^Expected rows in \[1000, 50000\]\.$"):
        require_in("rows", 10, 1000, 50_000)
    with pytest.raises(ValueError, match=r"^Expected share in \[0, 0\.5\]\.$"):
        require_in("share", 0.9, 0.0, 0.5)


def test_require_all_in_checks_each_attribute() -> None:
    """Several attributes sharing one range are checked in order; the first bad one is named."""

    class Shares:
        late, lost = 0.2, 1.2

    require_all_in(Shares(), ("late",), 0, 1)
    with pytest.raises(ValueError, match="Expected lost in"):
        require_all_in(Shares(), ("late", "lost"), 0, 1)


def test_require_states_other_rules() -> None:
    """A rule other than a range gives its own message."""
    require(True, "never shown")
    with pytest.raises(ValueError, match=r"^Expected a before b\.$"):
        require(False, "Expected a before b.")


def test_first_line_of_a_long_message() -> None:
    """A multi-line error shows its first line; an empty one its type."""
    assert first_line(RuntimeError("  connection refused\nDETAIL: more\n")) == "connection refused"
    assert first_line(KeyError()) == "KeyError"
