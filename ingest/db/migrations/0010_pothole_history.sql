-- Every state a pothole has been in, and when: highways teams see confirmations, reports and
-- repairs over time, not only each pothole's current state. A trigger records the changes,
-- whichever code makes them; identical on PostgreSQL and TimescaleDB.

CREATE TABLE pothole_state_change (
    pothole_id  bigint NOT NULL REFERENCES pothole (pothole_id) ON DELETE CASCADE,
    council     text NOT NULL,
    state       text NOT NULL,
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (pothole_id, changed_at, state)
);
CREATE INDEX pothole_state_change_council ON pothole_state_change (council, changed_at DESC);

CREATE FUNCTION record_pothole_state() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state THEN
        INSERT INTO pothole_state_change (pothole_id, council, state, changed_at)
        VALUES (NEW.pothole_id, NEW.council, NEW.state, NEW.state_changed_at)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER pothole_state_history
AFTER INSERT OR UPDATE OF state ON pothole
FOR EACH ROW EXECUTE FUNCTION record_pothole_state();

-- Potholes stored before this migration start their history in their current state.
INSERT INTO pothole_state_change (pothole_id, council, state, changed_at)
SELECT pothole_id, council, state, state_changed_at FROM pothole;
