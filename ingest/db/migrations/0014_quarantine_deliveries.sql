-- Exact counting of quarantined copies. Under a persistent session the broker resends an
-- unacknowledged PUBLISH with its packet id and the DUP flag; whether that resend repeats a
-- delivery already counted is known only to the transaction that counted it. So the writer
-- records each counted delivery (client id, packet id, fingerprint) in the same transaction as
-- the quarantine upsert, and counts a DUP delivery only when its record is absent. Records are
-- forgotten after a day (the writer deletes them as it goes).
CREATE TABLE quarantine_delivery (
    client_id    text NOT NULL,
    packet_id    integer NOT NULL,
    fingerprint  bytea NOT NULL,
    counted_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, packet_id)
);
CREATE INDEX quarantine_delivery_counted ON quarantine_delivery (counted_at);

-- Ingest's own bookkeeping, with no council: closed to the tenant role (row-level security on,
-- no policy, no grant), like the salts.
ALTER TABLE quarantine_delivery ENABLE ROW LEVEL SECURITY;

-- A council's admins list their own quarantine through the API (the policy of 0011 confines
-- them to their council's rows); replaying it writes as the service's own user.
GRANT SELECT ON quarantine TO smartstreets_tenant;
