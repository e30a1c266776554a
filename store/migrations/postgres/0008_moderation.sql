-- Same schema as migrations/sqlite/0008_moderation.sql, in PostgreSQL's dialect; the queries are shared.
-- Ids compare bytewise (`COLLATE "C"`), as on SQLite and DynamoDB, whatever the database's locale.

CREATE TABLE reports (
    id               TEXT COLLATE "C" PRIMARY KEY,
    booking_id       BIGINT NOT NULL,
    reporter_id      TEXT   NOT NULL,
    reported_user_id TEXT   NOT NULL,
    message_id       BIGINT,
    reason           TEXT   NOT NULL,
    details          TEXT,
    created_at       BIGINT NOT NULL,
    status           TEXT   NOT NULL CHECK (status IN ('open', 'resolved')),
    outcome          TEXT,
    note             TEXT,
    resolved_by      TEXT,
    resolved_at      BIGINT,
    CHECK ((status = 'open' AND outcome IS NULL AND note IS NULL AND resolved_by IS NULL AND resolved_at IS NULL)
        OR (status = 'resolved' AND outcome IS NOT NULL AND resolved_by IS NOT NULL AND resolved_at IS NOT NULL))
);

CREATE INDEX reports_by_status ON reports (status, id);

CREATE FUNCTION reports_refuse_changing_resolved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a resolved report is final';
END
$$;

CREATE TRIGGER reports_resolved_are_final BEFORE UPDATE ON reports
    FOR EACH ROW WHEN (OLD.status = 'resolved') EXECUTE FUNCTION reports_refuse_changing_resolved();

CREATE TABLE audit_log (
    id         TEXT COLLATE "C" PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    booking_id BIGINT,
    target     TEXT,
    detail     TEXT   NOT NULL
);

CREATE INDEX audit_log_by_booking ON audit_log (booking_id, id);

-- Append-only, enforced by the database: UPDATE, DELETE and TRUNCATE are refused.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;

CREATE TRIGGER audit_log_refuses_update_and_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_refuses_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
