-- A council's profile in one place: how pages name it and its zones, where it is, what it
-- publishes. The display name, time zone, holiday calendar, drives and counter-level
-- publication were already columns of council; the depot stays in collection_depot.
-- Identical on PostgreSQL and TimescaleDB (small tables).

ALTER TABLE council
    ADD COLUMN locale text NOT NULL DEFAULT 'en-GB'
        CHECK (locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'),
    -- west, south, east, north in degrees; the area the council's maps and imports cover.
    ADD COLUMN bbox double precision[] CHECK (
        bbox IS NULL OR (
            cardinality(bbox) = 4
            AND bbox[1] BETWEEN -180 AND 180 AND bbox[3] BETWEEN -180 AND 180
            AND bbox[2] BETWEEN -90 AND 90 AND bbox[4] BETWEEN -90 AND 90
            AND bbox[1] < bbox[3] AND bbox[2] < bbox[4]
        )
    ),
    -- The council's boundary as a GeoJSON Polygon or MultiPolygon (optional).
    ADD COLUMN boundary jsonb CHECK (
        boundary IS NULL OR boundary ->> 'type' IN ('Polygon', 'MultiPolygon')
    ),
    -- URL of the licence the council's open data is published under; NULL: the deployment's.
    ADD COLUMN open_data_licence text CHECK (open_data_licence ~ '^https?://\S+$'),
    -- When the council's roads were last imported (street names are cached until it changes)
    -- and whose map data they are, shown wherever they are drawn (ODbL asks it of OSM data).
    ADD COLUMN roads_updated_at timestamptz,
    ADD COLUMN roads_attribution text CHECK (length(roads_attribution) <= 300);

-- A zone's name for people, and its boundary (a GeoJSON Polygon or MultiPolygon) when the
-- council has drawn one; without a boundary, maps draw a zone around its counters.
CREATE TABLE council_zone (
    council       text NOT NULL REFERENCES council (slug) ON DELETE CASCADE,
    zone          text NOT NULL CHECK (zone ~ '^\S(.{0,78}\S)?$'),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 120),
    boundary      jsonb CHECK (
        boundary IS NULL OR boundary ->> 'type' IN ('Polygon', 'MultiPolygon')
    ),
    PRIMARY KEY (council, zone)
);

ALTER TABLE council_zone ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_council ON council_zone FOR ALL TO smartstreets_tenant
    USING (council = current_setting('smartstreets.council', true))
    WITH CHECK (council = current_setting('smartstreets.council', true));
GRANT SELECT ON council_zone TO smartstreets_tenant;

-- A council's admin edits its own profile through the API, on the request's council-scoped
-- connection: the policies above and on council and collection_depot keep it to its own rows.
GRANT UPDATE (name, timezone, holiday_calendar, locale, bbox, boundary, open_data_licence,
    publish_counters, drives_enabled) ON council TO smartstreets_tenant;
GRANT INSERT, UPDATE, DELETE ON council_zone TO smartstreets_tenant;
GRANT INSERT, UPDATE ON collection_depot TO smartstreets_tenant;
