-- Late or backfilled readings older than the refresh policies' 30-day window are not picked up
-- by those policies: callers that write such data run CALL refresh_rollups(start, end).
-- A procedure (not a function) so that it can commit between the two aggregates.

CREATE PROCEDURE refresh_rollups(start_at timestamptz, end_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
    CALL refresh_continuous_aggregate('footfall_hourly_device', start_at, end_at);
    COMMIT;
    CALL refresh_continuous_aggregate('footfall_hourly_zone', start_at, end_at);
END
$$;
