"""A pothole's life: candidate, confirmed, reported, repaired, reopened, or a duplicate.

A repaired pothole that keeps being hit by new phones is reopened, never silently confirmed
again, so a bad repair shows up as such.
"""

from typing import Literal

Lifecycle = Literal["candidate", "confirmed", "reported", "repaired", "reopened", "duplicate"]
Action = Literal["report", "repair", "mark_duplicate"]

# A council's action and the states it is allowed from; anything but a duplicate is marked one.
_ACTIONS: dict[Action, tuple[Lifecycle, tuple[Lifecycle, ...]]] = {
    "report": ("reported", ("confirmed", "reopened")),
    "repair": ("repaired", ("confirmed", "reported", "reopened")),
    "mark_duplicate": ("duplicate", ("candidate", "confirmed", "reported", "repaired", "reopened")),
}


def advance(
    state: Lifecycle,
    action: Action | None = None,
    *,
    devices: int = 0,
    min_devices: int = 3,
) -> Lifecycle:
    """The next state of a pothole in ``candidate → confirmed → reported → repaired → reopened``.

    Parameters
    ----------
    state
        The current state.
    action
        ``report`` (sent to the contractor), ``repair`` or ``mark_duplicate``; None when only
        new reports arrived.
    devices, min_devices
        Distinct phones that hit the spot since the state began (:func:`devices_since`), and
        how many confirm a candidate or reopen a repaired pothole.

    Returns
    -------
    Lifecycle
        The new state: a repaired pothole hit by enough new phones is ``reopened``, not
        silently confirmed again.

    Raises
    ------
    ValueError
        If the action is not allowed in ``state`` (a candidate is neither reported nor
        repaired, a duplicate is final).
    """
    if devices < 0:
        raise ValueError("Expected devices >= 0.")
    if action is not None:
        after, allowed = _ACTIONS[action]
        if state not in allowed:
            raise ValueError(f"Expected {action} in states {allowed}, not {state}.")
        return after
    enough = devices >= min_devices
    if state == "candidate" and enough:
        return "confirmed"
    if state == "repaired" and enough:
        return "reopened"
    return state
