-- Roads imported before 0017 have no import stamp, and street names are cached per council only
-- while the stamp stays the same: give them one, so their index is built once, not per request.
-- Identical on PostgreSQL and TimescaleDB.
UPDATE council c SET roads_updated_at = now()
WHERE c.roads_updated_at IS NULL
  AND EXISTS (SELECT FROM road_segment s WHERE s.council = c.slug);
