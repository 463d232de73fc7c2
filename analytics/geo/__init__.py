"""Geometry and road networks: the kernel of places shared by decisions, simulators and the API."""
