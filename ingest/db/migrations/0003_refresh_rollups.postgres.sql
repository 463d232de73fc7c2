-- On plain PostgreSQL the rollups are views and always current; the procedure exists so that
-- callers need not know which storage path they run on.

CREATE PROCEDURE refresh_rollups(start_at timestamptz, end_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
    NULL;
END
$$;
