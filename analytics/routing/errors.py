"""Errors of the routing package: one root, so callers can catch what planning raises."""


class RoutingError(Exception):
    """Root of the routing errors."""


class PlanError(RoutingError):
    """A plan cannot be made: bad inputs, or no feasible routes."""


class TravelError(RoutingError):
    """Travel figures that cannot be had: a point off the roads, a pair with no route, or an
    OSRM server that cannot be reached or refuses the request."""
