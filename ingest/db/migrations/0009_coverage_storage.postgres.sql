-- Plain PostgreSQL: trip_coverage stays an ordinary table; apply_retention() (0002) already
-- deletes its rows past the retention set in 0008.
SELECT 1;
