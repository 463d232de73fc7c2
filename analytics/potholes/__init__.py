"""Potholes: jolts found by phones in vehicles, and the reference detector that finds them."""
