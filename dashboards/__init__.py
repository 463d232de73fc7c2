"""Grafana dashboards as JSON, and the tool that provisions them."""
