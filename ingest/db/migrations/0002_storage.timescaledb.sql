-- TimescaleDB storage: hypertables, compression, retention jobs and continuous aggregates with
-- the same names and columns as the plain-PostgreSQL views.

SELECT create_hypertable('bin_fill', by_range('ts', INTERVAL '7 days'));
SELECT create_hypertable('bump_report', by_range('ts', INTERVAL '7 days'));
SELECT create_hypertable('footfall_count', by_range('period_start', INTERVAL '30 days'));

ALTER TABLE bin_fill SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id',
    timescaledb.compress_orderby = 'ts DESC'
);
ALTER TABLE bump_report SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'council, device_id',
    timescaledb.compress_orderby = 'ts DESC'
);
ALTER TABLE footfall_count SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id',
    timescaledb.compress_orderby = 'period_start DESC'
);
SELECT add_compression_policy('bin_fill', compress_after => INTERVAL '14 days');
SELECT add_compression_policy('bump_report', compress_after => INTERVAL '14 days');
SELECT add_compression_policy('footfall_count', compress_after => INTERVAL '60 days');

CREATE MATERIALIZED VIEW footfall_hourly_device
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT council,
       device_id,
       zone,
       time_bucket(INTERVAL '1 hour', period_start) AS bucket,
       sum(count)::bigint AS count,
       count(*)::bigint AS readings
FROM footfall_count
GROUP BY council, device_id, zone, time_bucket(INTERVAL '1 hour', period_start)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('footfall_hourly_device',
    start_offset => INTERVAL '30 days',
    end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '15 minutes');

-- A continuous aggregate on the per-device one, so "counters" is the number of devices that
-- reported in the hour (DISTINCT is not available inside a continuous aggregate).
CREATE MATERIALIZED VIEW footfall_hourly_zone
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT council,
       zone,
       time_bucket(INTERVAL '1 hour', bucket) AS bucket,
       sum(count)::bigint AS count,
       count(*)::bigint AS counters
FROM footfall_hourly_device
GROUP BY council, zone, time_bucket(INTERVAL '1 hour', bucket)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('footfall_hourly_zone',
    start_offset => INTERVAL '30 days',
    end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '15 minutes');

CREATE FUNCTION set_retention(stream_table text, keep interval) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE retention_setting SET keep = set_retention.keep WHERE table_name = stream_table;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no retention setting for table %', stream_table;
    END IF;
    PERFORM remove_retention_policy(stream_table::regclass, if_exists => true);
    PERFORM add_retention_policy(stream_table::regclass, drop_after => keep);
END
$$;

-- TimescaleDB's retention jobs drop whole chunks; nothing is left for this function to do.
CREATE FUNCTION apply_retention() RETURNS bigint
LANGUAGE sql AS $$ SELECT 0::bigint $$;

SELECT set_retention(table_name, keep) FROM retention_setting;
