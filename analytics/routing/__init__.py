"""Waste collection routes: which bins, in which order, per vehicle."""
