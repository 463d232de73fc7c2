-- Plain PostgreSQL storage: the rollups are ordinary views with the same names and columns as
-- the TimescaleDB continuous aggregates, and retention is a function the scheduler calls.
-- date_bin with a UTC origin buckets exactly as time_bucket does, whatever the session time zone.

CREATE VIEW footfall_hourly_device AS
SELECT council,
       device_id,
       zone,
       date_bin(INTERVAL '1 hour', period_start, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
       sum(count)::bigint AS count,
       count(*)::bigint AS readings
FROM footfall_count
GROUP BY council, device_id, zone, 4;

CREATE VIEW footfall_hourly_zone AS
SELECT council,
       zone,
       bucket,
       sum(count)::bigint AS count,
       count(*)::bigint AS counters
FROM footfall_hourly_device
GROUP BY council, zone, bucket;

CREATE FUNCTION set_retention(stream_table text, keep interval) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE retention_setting SET keep = set_retention.keep WHERE table_name = stream_table;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no retention setting for table %', stream_table;
    END IF;
END
$$;

-- Deletes raw readings older than their table's retention; returns how many rows went.
CREATE FUNCTION apply_retention() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n bigint;
    total bigint := 0;
BEGIN
    FOR r IN SELECT table_name, time_column, keep FROM retention_setting LOOP
        EXECUTE format('DELETE FROM %I WHERE %I < now() - $1', r.table_name, r.time_column)
            USING r.keep;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END LOOP;
    RETURN total;
END
$$;
