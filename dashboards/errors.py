"""What can go wrong while checking or provisioning dashboards."""


class DashboardsError(Exception):
    """Root of the dashboards package's errors."""


class GrafanaError(DashboardsError):
    """Grafana could not be reached, refused the token or refused a request; one line."""


class DataSourceError(DashboardsError):
    """The database URL cannot be turned into a Grafana data source."""
