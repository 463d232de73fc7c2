-- Waste collection: where crews start, when zones may be served, the plans made and the bins
-- crews emptied. Identical on PostgreSQL and TimescaleDB (small tables, no time-series storage).

ALTER TABLE device ADD COLUMN address text;

-- A council's depot (where vehicles start, tip and finish).
CREATE TABLE collection_depot (
    council  text PRIMARY KEY REFERENCES council (slug),
    name     text NOT NULL DEFAULT 'depot',
    lat      double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon      double precision NOT NULL CHECK (lon BETWEEN -180 AND 180)
);

-- Local times within which a zone's bins must be emptied (e.g. the high street before 10:00).
CREATE TABLE collection_window (
    council   text NOT NULL REFERENCES council (slug),
    zone      text NOT NULL,
    earliest  time NOT NULL,
    latest    time NOT NULL CHECK (latest > earliest),
    PRIMARY KEY (council, zone)
);

-- Every plan made, whole, as the crews received it.
CREATE TABLE collection_plan (
    plan_id     bigserial PRIMARY KEY,
    council     text NOT NULL REFERENCES council (slug),
    shift_date  date NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    plan        jsonb NOT NULL
);
CREATE INDEX collection_plan_council_date ON collection_plan (council, shift_date, created_at DESC);

-- Bins emptied, as crews marked them; the fill model takes these as certain collections.
CREATE TABLE bin_collection (
    device_id     text NOT NULL REFERENCES device (device_id),
    council       text NOT NULL,
    collected_at  timestamptz NOT NULL,
    plan_id       bigint REFERENCES collection_plan (plan_id),
    source        text NOT NULL DEFAULT 'crew' CHECK (source IN ('crew', 'import')),
    PRIMARY KEY (device_id, collected_at)
);
CREATE INDEX bin_collection_council ON bin_collection (council, collected_at DESC);
