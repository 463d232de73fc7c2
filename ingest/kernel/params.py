"""The one convention for checking parameters: ``ValueError("Expected x in [lo, hi].")``.

Algorithm parameters are frozen dataclasses that call these from ``__post_init__``; command
lines and routes catch the ``ValueError`` at their edge and turn it into a one-line error or a
4xx. The message names the field as the caller spells it.
"""

import math


def _bound(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def require_in(
    name: str,
    value: float,
    lo: float,
    hi: float,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> None:
    """Raise ``ValueError("Expected name in [lo, hi].")`` unless ``lo <= value <= hi``.

    ``lo_open`` / ``hi_open`` exclude the bound (written ``(lo`` / ``hi)``); NaN is never in range.
    """
    below = value <= lo if lo_open else value < lo
    above = value >= hi if hi_open else value > hi
    if below or above or (isinstance(value, float) and math.isnan(value)):
        interval = f"{'(' if lo_open else '['}{_bound(lo)}, {_bound(hi)}{')' if hi_open else ']'}"
        raise ValueError(f"Expected {name} in {interval}.")


def require_all_in(owner: object, names: tuple[str, ...], lo: float, hi: float) -> None:
    """:func:`require_in` for several attributes of ``owner`` that share one closed range."""
    for name in names:
        require_in(name, getattr(owner, name), lo, hi)


def require(condition: bool, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``condition`` holds: for rules other than a range."""
    if not condition:
        raise ValueError(message)
