-- Council isolation in the database. The API serves a request about one council with
--     SET LOCAL ROLE smartstreets_tenant;
--     SELECT set_config('smartstreets.council', <council>, true);
-- (api/tenancy.py), and the row-level security policies below then admit that council's rows
-- only, even where a query forgets its WHERE council = ... . Everything else - ingest, the
-- scheduler's jobs, migrations, the CLI and the API's routes that name no council - runs as the
-- tables' owner (or a superuser), to which no policy applies. Identical on PostgreSQL and
-- TimescaleDB.
--
-- Roles are shared by every database of a server, so the role is created only when missing; an
-- owner without CREATEROLE gets a message saying what a superuser has to run once.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'smartstreets_tenant') THEN
        BEGIN
            CREATE ROLE smartstreets_tenant NOLOGIN;
        EXCEPTION
            -- Another database of this server is being migrated at the same moment.
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'role smartstreets_tenant does not exist and % may not create it',
                    current_user
                USING HINT = format('As a superuser run: CREATE ROLE smartstreets_tenant NOLOGIN; '
                                    'GRANT smartstreets_tenant TO %I; then migrate again.',
                                    current_user);
        END;
    END IF;
    -- The migrating user is the API's user in the usual deployment: it must be allowed to SET
    -- ROLE to the tenant role (superusers always are). Being its member changes nothing else
    -- for the tables' owner, which bypasses row-level security.
    IF NOT pg_has_role(current_user, 'smartstreets_tenant', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT smartstreets_tenant TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION '% may not grant itself the role smartstreets_tenant', current_user
            USING HINT = format('As a superuser run: GRANT smartstreets_tenant TO %I; '
                                'then migrate again.', current_user);
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO smartstreets_tenant', current_schema());
END
$$;

-- Every table with a council, but the raw streams (see below): rows are visible and writable by
-- the tenant role only when their council is the request's. A missing setting matches nothing,
-- so a forgotten set_config fails closed. The council table names its council "slug".
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'device', 'quarantine', 'api_token', 'collection_depot', 'collection_window',
        'collection_plan', 'bin_collection', 'council_event', 'footfall_forecast', 'road_asset',
        'pothole', 'alert', 'road_segment', 'road_coverage', 'pothole_state_change'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_council ON %I FOR ALL TO smartstreets_tenant '
            'USING (council = current_setting(''smartstreets.council'', true)) '
            'WITH CHECK (council = current_setting(''smartstreets.council'', true))', t);
    END LOOP;
END
$$;

ALTER TABLE council ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_council ON council FOR ALL TO smartstreets_tenant
    USING (slug = current_setting('smartstreets.council', true))
    WITH CHECK (slug = current_setting('smartstreets.council', true));

-- An alert's deliveries belong to the alert's council (the subquery is itself filtered).
ALTER TABLE alert_delivery ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_council ON alert_delivery FOR ALL TO smartstreets_tenant
    USING (EXISTS (SELECT FROM alert a WHERE a.alert_id = alert_delivery.alert_id));

-- What the API reads and writes, and nothing more: no tokens (see api_token_lookup), phone
-- trips, alerts, quarantine or salts. Route code that needs another table fails loudly.
GRANT SELECT ON council, device, collection_depot, collection_window, collection_plan,
    bin_collection, council_event, footfall_forecast, road_asset, pothole, road_segment,
    road_coverage, pothole_state_change
    TO smartstreets_tenant;
GRANT INSERT, UPDATE ON collection_plan TO smartstreets_tenant;
GRANT USAGE ON SEQUENCE collection_plan_plan_id_seq TO smartstreets_tenant;
GRANT INSERT ON bin_collection TO smartstreets_tenant;
GRANT UPDATE (state, state_changed_at, duplicate_of) ON pothole TO smartstreets_tenant;
-- The pothole_state_history trigger runs as the role that changed the pothole.
GRANT INSERT ON pothole_state_change TO smartstreets_tenant;

-- The raw streams and their hourly rollups cannot carry policies that the tenant role would
-- meet: TimescaleDB refuses row-level security on compressed hypertables, and the rollups run
-- with their owner's rights (views) or cannot be made to run with the caller's (continuous
-- aggregates refuse security_invoker). So the tenant role may not read them at all; it reads
-- views of the same names in the schema smartstreets_tenant, which the API puts first on the
-- search path and which keep the request's council's rows only. security_barrier keeps a
-- caller's own functions from seeing rows before that filter, as a policy would. Phone trips
-- (trip_coverage) are not served by the API and get no view.
CREATE SCHEMA IF NOT EXISTS smartstreets_tenant;
GRANT USAGE ON SCHEMA smartstreets_tenant TO smartstreets_tenant;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'bin_fill', 'bump_report', 'footfall_count', 'footfall_hourly_device',
        'footfall_hourly_zone'
    ] LOOP
        EXECUTE format(
            'CREATE VIEW smartstreets_tenant.%1$I WITH (security_barrier) AS '
            'SELECT * FROM %2$I.%1$I '
            'WHERE council = current_setting(''smartstreets.council'', true)',
            t, current_schema());
        EXECUTE format('GRANT SELECT ON smartstreets_tenant.%I TO smartstreets_tenant', t);
    END LOOP;
END
$$;

-- Token checks come before the request knows whose it is (a token of another council is a 403,
-- not an unknown token), so the tenant role may look up one live token by its id - the public
-- half of the token - and nothing else of api_token. SECURITY DEFINER with a fixed search path
-- (pg_temp last) so that no caller's objects can stand in for the table.
DO $$
BEGIN
    EXECUTE format(
        $f$
        CREATE FUNCTION api_token_lookup(lookup_id text)
        RETURNS TABLE (council text, scope text, secret_sha256 bytea)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %1$I, pg_temp AS
        'SELECT t.council, t.scope, t.secret_sha256 FROM %1$I.api_token t
         WHERE t.token_id = lookup_id AND t.revoked_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > now())'
        $f$,
        current_schema());
END
$$;
REVOKE ALL ON FUNCTION api_token_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_token_lookup(text) TO smartstreets_tenant;
