-- Footfall forecasts, as the analytics last made them, and what each council publishes.
-- Identical on PostgreSQL and TimescaleDB: a small table rewritten per refresh.

-- Per council: whether per-counter figures may be published for zones with fewer than three
-- counters (off: a lone counter's numbers say too much about one doorway), which holiday
-- calendar its forecasts use, and its events.
ALTER TABLE council ADD COLUMN publish_counters boolean NOT NULL DEFAULT false;
ALTER TABLE council ADD COLUMN holiday_calendar text NOT NULL DEFAULT 'england';

CREATE TABLE council_event (
    council  text NOT NULL REFERENCES council (slug),
    day      date NOT NULL,
    name     text NOT NULL,
    uplift   real CHECK (uplift > 0),
    PRIMARY KEY (council, day, name)
);

-- series is 'zone:<zone>' or 'counter:<device id>'; usual is the mean of the same hour of the
-- week over the previous four weeks, kept beside the forecast so pages can show both.
CREATE TABLE footfall_forecast (
    council   text NOT NULL REFERENCES council (slug),
    series    text NOT NULL,
    ts        timestamptz NOT NULL,
    forecast  real NOT NULL,
    lo80      real NOT NULL,
    hi80      real NOT NULL,
    usual     real,
    made_at   timestamptz NOT NULL,
    PRIMARY KEY (council, series, ts)
);
