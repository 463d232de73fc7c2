"""Errors of the alerts package: one root, so callers can catch what a check raises."""


class AlertError(Exception):
    """Root of the alerts errors."""


class DeliveryError(AlertError):
    """A channel did not accept a notification; it stays owed and is retried next check."""
