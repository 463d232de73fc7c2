-- What each series' latest forecast knew: the end of its last counted hour, how today's counts
-- so far compare with the usual for those hours (the nowcast the first hours lean on), and,
-- for a series whose forecast was withheld, why ("unknown": a counter that stopped counting or
-- counts a trickle). Replaced at every refresh, like footfall_forecast.
CREATE TABLE footfall_forecast_series (
    council        text NOT NULL REFERENCES council (slug),
    series         text NOT NULL,
    made_at        timestamptz NOT NULL,
    counted_until  timestamptz,
    today_ratio    real,
    unknown        text,
    PRIMARY KEY (council, series)
);
ALTER TABLE footfall_forecast_series ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_council ON footfall_forecast_series FOR ALL TO smartstreets_tenant
    USING (council = current_setting('smartstreets.council', true))
    WITH CHECK (council = current_setting('smartstreets.council', true));
GRANT SELECT ON footfall_forecast_series TO smartstreets_tenant;
