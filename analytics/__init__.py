"""Decisions made from the data: collection routes, busyness and forecasts, confirmed potholes."""
