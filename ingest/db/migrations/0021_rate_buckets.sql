-- Token buckets of the API's rate limits, shared by every API process (`api --workers N`, or
-- several pods) so that a client gets the limit once, not once per process. Each process takes
-- a lease of a few tokens at a time with one INSERT … ON CONFLICT DO UPDATE (api.shared_limiter),
-- so a row is written once every few requests of its client. UNLOGGED: the buckets are
-- throwaway state, not worth WAL; a crash empties the table, which only refills everyone's
-- bucket. Not for tenants: only the API's own connection (not smartstreets_tenant) touches it.
CREATE UNLOGGED TABLE rate_bucket (
    bucket   text PRIMARY KEY,           -- limit and client, e.g. 'public:192.0.2.7'
    tokens   double precision NOT NULL,  -- left after the last lease
    granted  integer NOT NULL,           -- tokens the last lease took
    updated  timestamptz NOT NULL        -- when the last lease was taken (the server's clock)
);
CREATE INDEX rate_bucket_updated ON rate_bucket (updated);
