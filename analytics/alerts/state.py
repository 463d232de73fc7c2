"""What changed since the last check: alerts to open and alerts to resolve."""

from collections.abc import Iterable
from dataclasses import dataclass

from analytics.alerts.rules import Firing


@dataclass(frozen=True)
class OpenAlert:
    """An alert opened by an earlier check and not yet resolved."""

    alert_id: int
    kind: str
    subject: str

    @property
    def key(self) -> tuple[str, str]:
        """What makes it the same alert as a :class:`Firing`."""
        return (self.kind, self.subject)


@dataclass(frozen=True)
class Changes:
    """Firings with no open alert (to open) and open alerts no longer firing (to resolve)."""

    to_open: list[Firing]
    to_resolve: list[OpenAlert]

    def __bool__(self) -> bool:
        return bool(self.to_open or self.to_resolve)


def diff(firing: Iterable[Firing], open_alerts: Iterable[OpenAlert]) -> Changes:
    """Compare the conditions holding now with the alerts already open.

    A condition already open is left alone (an alert fires once); one that holds twice (the
    same kind and subject) opens once.
    """
    now: dict[tuple[str, str], Firing] = {}
    for f in firing:
        now.setdefault(f.key, f)
    opened = {a.key: a for a in open_alerts}
    return Changes(
        to_open=[f for key, f in now.items() if key not in opened],
        to_resolve=[a for key, a in opened.items() if key not in now],
    )
