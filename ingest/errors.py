"""Exceptions raised by the ingest package.

Everything derives from :class:`IngestError` so that callers can catch the package's failures
without a bare ``except``. Transient errors are worth retrying; permanent ones are not.
"""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message: what a one-line error or log line shows of a
    database or library error whose message runs over several lines."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class IngestError(Exception):
    """Root of the ingest package's exceptions."""


class TransientError(IngestError):
    """A failure that may go away by itself (database restarting, broker unreachable)."""


class PermanentError(IngestError):
    """A failure that retrying cannot fix (bad input, bad configuration)."""


class InvalidTopic(PermanentError):
    """A topic that does not follow the device contract."""


class RegistryError(PermanentError):
    """A device registry file or row that cannot be imported."""


class MigrationError(PermanentError):
    """The schema cannot be brought up to date."""
