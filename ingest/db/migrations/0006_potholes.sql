-- Potholes as the analytics confirmed them, with their lifecycle, and the council's layer of
-- road assets (speed humps, manholes, level crossings) that jolt vehicles but are not defects.
-- Identical on PostgreSQL and TimescaleDB: small tables updated in place per refresh.

CREATE TABLE road_asset (
    council   text NOT NULL REFERENCES council (slug),
    asset_id  text NOT NULL,
    kind      text NOT NULL CHECK (kind IN ('speed_hump', 'manhole', 'level_crossing')),
    lat       double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon       double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    radius_m  real NOT NULL DEFAULT 8 CHECK (radius_m > 0 AND radius_m <= 500),
    PRIMARY KEY (council, asset_id)
);

-- state_changed_at starts the count of distinct phones that confirm a candidate or reopen a
-- repaired pothole; duplicate_of points at the pothole a duplicate was merged into.
CREATE TABLE pothole (
    pothole_id        bigserial PRIMARY KEY,
    council           text NOT NULL REFERENCES council (slug),
    lat               double precision NOT NULL,
    lon               double precision NOT NULL,
    heading_deg       real,
    severity          real NOT NULL,
    confidence        real NOT NULL,
    reports           integer NOT NULL,
    devices           integer NOT NULL,
    first_seen        timestamptz NOT NULL,
    last_seen         timestamptz NOT NULL,
    state             text NOT NULL CHECK (
        state IN ('candidate', 'confirmed', 'reported', 'repaired', 'reopened', 'duplicate')
    ),
    state_changed_at  timestamptz NOT NULL,
    duplicate_of      bigint REFERENCES pothole (pothole_id)
);
CREATE INDEX pothole_council_state ON pothole (council, state);
