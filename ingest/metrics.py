"""Prometheus metrics of the ingest worker, updated where the work happens."""

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


@dataclass(frozen=True)
class IngestMetrics:
    """The worker's counters, gauges and histograms, in a registry of their own."""

    registry: CollectorRegistry
    received: Counter
    written: Counter
    duplicates: Counter
    quarantined: Counter
    acknowledged: Counter
    write_errors: Counter
    batch_size: Histogram
    batch_seconds: Histogram
    lag_seconds: Histogram
    queue_depth: Gauge

    @classmethod
    def create(cls) -> "IngestMetrics":
        """A fresh set of metrics (one per worker, so tests can run several in one process)."""
        reg = CollectorRegistry()
        return cls(
            registry=reg,
            received=Counter(
                "smartstreets_ingest_received",
                "Messages received from the broker",
                ["stream"],
                registry=reg,
            ),
            written=Counter(
                "smartstreets_ingest_written",
                "Rows committed to a reading table",
                ["table"],
                registry=reg,
            ),
            duplicates=Counter(
                "smartstreets_ingest_duplicates",
                "Readings already stored (redeliveries, device retries)",
                registry=reg,
            ),
            quarantined=Counter(
                "smartstreets_ingest_quarantined",
                "Messages committed to quarantine",
                ["reason"],
                registry=reg,
            ),
            acknowledged=Counter(
                "smartstreets_ingest_acknowledged",
                "Messages acknowledged to the broker after commit",
                registry=reg,
            ),
            write_errors=Counter(
                "smartstreets_ingest_write_errors",
                "Batches that failed to commit and were retried",
                registry=reg,
            ),
            batch_size=Histogram(
                "smartstreets_ingest_batch_size",
                "Messages per committed batch",
                buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 20000),
                registry=reg,
            ),
            batch_seconds=Histogram(
                "smartstreets_ingest_batch_seconds",
                "Time to write and commit one batch",
                buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
                registry=reg,
            ),
            lag_seconds=Histogram(
                "smartstreets_ingest_lag_seconds",
                "From the reading's own timestamp to its commit",
                buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
                registry=reg,
            ),
            queue_depth=Gauge(
                "smartstreets_ingest_queue_depth",
                "Messages received but not yet committed",
                registry=reg,
            ),
        )

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        """Expose ``/metrics`` on ``port``."""
        start_http_server(port, addr=host, registry=self.registry)
