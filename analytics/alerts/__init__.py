"""Alerts: bins on fire, tipped over or overflowing, silent devices, low batteries and new
potholes, told once through webhooks and email, and told again when they clear."""
