-- Drives uploaded over HTTPS by residents' phones (POST /v1/councils/{c}/drives). A council opts
-- in (smartstreets councils set C --drives); each drive's trip token is recorded once, so a
-- second upload of the same drive is answered "already stored" without writing anything. The
-- drive's reports and coverage go to bump_report and trip_coverage like MQTT ones. Identical on
-- PostgreSQL and TimescaleDB: a plain table.

ALTER TABLE council ADD COLUMN drives_enabled boolean NOT NULL DEFAULT false;

CREATE TABLE drive_upload (
    council      text NOT NULL REFERENCES council (slug),
    trip         text NOT NULL CHECK (trip ~ '^[A-Za-z0-9_-]{16,64}$'),
    received_at  timestamptz NOT NULL DEFAULT now(),
    reports      integer NOT NULL CHECK (reports >= 0),
    coverage     boolean NOT NULL,
    PRIMARY KEY (council, trip)
);
CREATE INDEX drive_upload_received ON drive_upload (received_at);

-- As quarantine (0011): a policy for the tenant role, and no grant - the upload writes as the
-- service's own user, and no council-scoped route reads trips.
ALTER TABLE drive_upload ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_council ON drive_upload FOR ALL TO smartstreets_tenant
    USING (council = current_setting('smartstreets.council', true))
    WITH CHECK (council = current_setting('smartstreets.council', true));
