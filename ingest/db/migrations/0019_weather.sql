-- Hourly weather of a council's town, an optional covariate of its footfall forecasts: the
-- observations of past hours and its provider's forecast of the coming ones, as loaded by
-- `smartstreets forecast weather` from a file the council's source wrote. Forecasts read it
-- and never call a provider. Not for the API: only the refresh job (the owner) reads it.
CREATE TABLE weather_hourly (
    council  text NOT NULL REFERENCES council (slug),
    ts       timestamptz NOT NULL,
    temp_c   real,
    rain_mm  real,
    PRIMARY KEY (council, ts)
);
ALTER TABLE weather_hourly ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_council ON weather_hourly FOR ALL TO smartstreets_tenant
    USING (council = current_setting('smartstreets.council', true))
    WITH CHECK (council = current_setting('smartstreets.council', true));
