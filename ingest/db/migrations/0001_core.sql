-- Core schema: the registry, one table per stream, quarantine, API tokens and retention settings.
-- Identical on PostgreSQL and TimescaleDB; storage specifics live in 0002.

CREATE TABLE council (
    slug        text PRIMARY KEY CHECK (slug ~ '^[a-z0-9-]{1,40}$'),
    name        text NOT NULL,
    timezone    text NOT NULL DEFAULT 'Europe/London',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Device ids are unique across the deployment, so a device's council is a fact of the registry and
-- a message naming another council in its topic can be refused.
CREATE TABLE device (
    device_id        text PRIMARY KEY CHECK (device_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    council          text NOT NULL REFERENCES council (slug),
    kind             text NOT NULL CHECK (kind IN ('bin', 'counter')),
    lat              double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon              double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    zone             text,
    capacity_litres  integer CHECK (capacity_litres > 0),
    registered_at    timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'bin' OR capacity_litres IS NOT NULL),
    CHECK (kind <> 'counter' OR zone IS NOT NULL)
);
CREATE INDEX device_council_kind ON device (council, kind);

CREATE TABLE bin_fill (
    council        text NOT NULL,
    device_id      text NOT NULL,
    ts             timestamptz NOT NULL,
    fill_pct       real NOT NULL,
    seq            bigint,
    battery_v      real,
    temperature_c  real,
    flags          text[] NOT NULL DEFAULT '{}',
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, ts)
);
CREATE INDEX bin_fill_council_ts ON bin_fill (council, ts DESC);

-- Phones are not registered: their pseudonymous id is only unique within a council's stream.
CREATE TABLE bump_report (
    council      text NOT NULL,
    device_id    text NOT NULL,
    ts           timestamptz NOT NULL,
    lat          double precision NOT NULL,
    lon          double precision NOT NULL,
    speed_mps    real NOT NULL,
    peak_z_g     real NOT NULL,
    seq          bigint,
    accuracy_m   real,
    heading_deg  real,
    sample_hz    real,
    samples_z_g  real[],
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council, device_id, ts)
);
CREATE INDEX bump_report_council_ts ON bump_report (council, ts DESC);

-- The counter's zone is copied from the registry at ingest so that history keeps the zone the
-- counter was in when it counted, and so rollups per zone need no join.
CREATE TABLE footfall_count (
    council       text NOT NULL,
    device_id     text NOT NULL,
    zone          text NOT NULL,
    period_start  timestamptz NOT NULL,
    period_end    timestamptz NOT NULL,
    count         integer NOT NULL CHECK (count >= 0),
    count_in      integer,
    count_out     integer,
    seq           bigint,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, period_start)
);
CREATE INDEX footfall_count_council_ts ON footfall_count (council, period_start DESC);

-- Every message that could not be stored as a reading lands here, raw bytes and all. The
-- fingerprint (sha256 of topic and payload) makes a redelivered message a second copy, not a
-- second row.
CREATE TABLE quarantine (
    id                bigserial PRIMARY KEY,
    fingerprint       bytea NOT NULL UNIQUE,
    received_at       timestamptz NOT NULL DEFAULT now(),
    last_received_at  timestamptz NOT NULL DEFAULT now(),
    copies            integer NOT NULL DEFAULT 1,
    topic             text NOT NULL,
    payload           bytea NOT NULL,
    reason            text NOT NULL,
    council           text,
    stream            text,
    device_id         text
);
CREATE INDEX quarantine_received ON quarantine (received_at DESC);
CREATE INDEX quarantine_council ON quarantine (council, received_at DESC);

-- Only a hash of each token's secret is kept; the id is the public half of the token.
CREATE TABLE api_token (
    token_id       text PRIMARY KEY,
    council        text NOT NULL REFERENCES council (slug),
    scope          text NOT NULL CHECK (scope IN ('crew', 'highways', 'admin')),
    name           text NOT NULL DEFAULT '',
    secret_sha256  bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    revoked_at     timestamptz
);

-- How long raw readings are kept, per stream table. Enforced by TimescaleDB retention jobs or,
-- on plain PostgreSQL, by apply_retention() (see 0002).
CREATE TABLE retention_setting (
    table_name   text PRIMARY KEY,
    time_column  text NOT NULL,
    keep         interval NOT NULL CHECK (keep > INTERVAL '0')
);
INSERT INTO retention_setting (table_name, time_column, keep) VALUES
    ('bump_report', 'ts', INTERVAL '90 days'),
    ('bin_fill', 'ts', INTERVAL '730 days'),
    ('footfall_count', 'period_start', INTERVAL '1095 days');
