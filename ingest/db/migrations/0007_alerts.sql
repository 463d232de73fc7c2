-- Alerts: conditions worth telling a person about (a bin on fire, a silent device, a new
-- pothole), each opened once and resolved once, and an outbox of the notifications owed.
-- Identical on PostgreSQL and TimescaleDB: small tables updated in place per check.

-- subject is what the alert is about within the council: a device id or a pothole id.
CREATE TABLE alert (
    alert_id     bigserial PRIMARY KEY,
    council      text NOT NULL REFERENCES council (slug),
    kind         text NOT NULL CHECK (
        kind IN ('bin_fire', 'bin_tilted', 'bin_overflowing', 'device_silent', 'battery_low',
                 'pothole_confirmed')
    ),
    subject      text NOT NULL,
    message      text NOT NULL,
    details      jsonb NOT NULL DEFAULT '{}',
    since        timestamptz NOT NULL,
    opened_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    resolution   text
);
-- At most one open alert per condition: this is what makes an alert fire once.
CREATE UNIQUE INDEX alert_open_once ON alert (council, kind, subject) WHERE resolved_at IS NULL;
CREATE INDEX alert_council_opened ON alert (council, opened_at DESC);

-- One row per notification owed to one channel, written in the same transaction that opens or
-- resolves the alert; sent_at is set only after the channel accepted it, so a failed delivery
-- is retried by the next check. channel is 'email' or 'webhook:' and a hash of the URL (webhook
-- URLs often carry their secret).
CREATE TABLE alert_delivery (
    alert_id         bigint NOT NULL REFERENCES alert (alert_id) ON DELETE CASCADE,
    status           text NOT NULL CHECK (status IN ('firing', 'resolved')),
    channel          text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    last_attempt_at  timestamptz,
    last_error       text,
    sent_at          timestamptz,
    PRIMARY KEY (alert_id, status, channel)
);
CREATE INDEX alert_delivery_unsent ON alert_delivery (channel) WHERE sent_at IS NULL;
