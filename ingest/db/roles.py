"""Database roles the schema refers to by name (migration 0011 creates them)."""

TENANT_ROLE = "smartstreets_tenant"
"""The role, and the schema of filtering views, of council-scoped requests."""
