"""Errors of the routing package: one root, so callers can catch what planning raises."""


class RoutingError(Exception):
    """Root of the routing errors."""


class PlanError(RoutingError):
    """A plan cannot be made: bad inputs, or no feasible routes."""
