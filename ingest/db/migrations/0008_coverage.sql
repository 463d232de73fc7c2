-- Phone privacy and road coverage. Identical on PostgreSQL and TimescaleDB; 0009 makes
-- trip_coverage a hypertable where TimescaleDB is present.

-- One random salt per period of ingest time. Ingest hashes phone ids with it before storing
-- them and deletes it once its period is over, so periods cannot be linked afterwards.
CREATE TABLE phone_salt (
    period_days  integer NOT NULL CHECK (period_days > 0),
    period       bigint NOT NULL,
    salt         bytea NOT NULL CHECK (length(salt) >= 16),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (period_days, period)
);

-- Where a phone drove on one trip (trip ends already left off by the phone), as parallel
-- arrays of latitudes and longitudes. device_id is the phone's pseudonym.
CREATE TABLE trip_coverage (
    council      text NOT NULL,
    device_id    text NOT NULL,
    ts_start     timestamptz NOT NULL,
    ts_end       timestamptz NOT NULL,
    lats         double precision[] NOT NULL,
    lons         double precision[] NOT NULL,
    seq          bigint,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council, device_id, ts_start)
);
CREATE INDEX trip_coverage_council_ts ON trip_coverage (council, ts_start DESC);

INSERT INTO retention_setting (table_name, time_column, keep) VALUES
    ('trip_coverage', 'ts_start', INTERVAL '35 days');

-- The council's roads, one row per segment between junctions (or shorter), as imported from
-- OpenStreetMap or GeoJSON; coverage is counted per segment.
CREATE TABLE road_segment (
    council     text NOT NULL REFERENCES council (slug),
    segment_id  text NOT NULL,
    name        text NOT NULL DEFAULT '',
    road_class  text NOT NULL DEFAULT '',
    lats        double precision[] NOT NULL CHECK (cardinality(lats) >= 2),
    lons        double precision[] NOT NULL CHECK (cardinality(lons) = cardinality(lats)),
    length_m    real NOT NULL CHECK (length_m >= 0),
    PRIMARY KEY (council, segment_id)
);

-- Passes per segment over the last 30 days, as of the last coverage refresh. phones counts
-- distinct phone pseudonyms within one salt period (the largest such count).
CREATE TABLE road_coverage (
    council       text NOT NULL,
    segment_id    text NOT NULL,
    passes        integer NOT NULL CHECK (passes >= 0),
    phones        integer NOT NULL CHECK (phones >= 0),
    last_pass     timestamptz,
    refreshed_at  timestamptz NOT NULL,
    PRIMARY KEY (council, segment_id),
    FOREIGN KEY (council, segment_id) REFERENCES road_segment (council, segment_id)
        ON DELETE CASCADE
);
