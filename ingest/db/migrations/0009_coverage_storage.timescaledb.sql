-- TimescaleDB: trip_coverage is a compressed hypertable like the other raw streams, so that its
-- retention drops whole chunks; the retention job is set from the row 0008 added.
SELECT create_hypertable('trip_coverage', by_range('ts_start', INTERVAL '7 days'));
ALTER TABLE trip_coverage SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'council',
    timescaledb.compress_orderby = 'ts_start DESC, device_id'
);
SELECT add_compression_policy('trip_coverage', compress_after => INTERVAL '7 days');
SELECT set_retention('trip_coverage', keep) FROM retention_setting
WHERE table_name = 'trip_coverage';
