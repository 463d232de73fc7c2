-- Road roughness. Phones measure an estimated International Roughness Index (m/km) per stretch
-- of about 100 m and send it with their coverage tracks; the coverage refresh keeps, per road
-- segment, the median over the stretches matched to it and how many distinct phones measured it
-- (published only from three phones, as the heatmap). Identical on PostgreSQL and TimescaleDB:
-- adding nullable columns without a default is allowed on a compressed hypertable.

ALTER TABLE trip_coverage
    ADD COLUMN rough_lats double precision[],
    ADD COLUMN rough_lons double precision[],
    ADD COLUMN rough_iri real[];

ALTER TABLE road_coverage
    ADD COLUMN iri_m_per_km real CHECK (iri_m_per_km >= 0),
    ADD COLUMN iri_phones integer NOT NULL DEFAULT 0 CHECK (iri_phones >= 0),
    ADD COLUMN iri_stretches integer NOT NULL DEFAULT 0 CHECK (iri_stretches >= 0);
