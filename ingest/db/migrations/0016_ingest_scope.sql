-- API tokens of scope ingest: a network server (The Things Stack, ChirpStack) posting a council's
-- devices' uplinks by HTTP webhook, and nothing else.

ALTER TABLE api_token
    DROP CONSTRAINT api_token_scope_check,
    ADD CONSTRAINT api_token_scope_check
        CHECK (scope IN ('crew', 'highways', 'admin', 'ingest'));
