"""Errors of the forecasting package: one root, so callers can catch what forecasting raises."""


class ForecastError(Exception):
    """Root of the forecasting errors."""


class HistoryError(ForecastError, ValueError):
    """A history cannot be used: missing columns, bad timestamps or counts, too little data."""
