-- Trust and safety (store/src/moderation.rs): members' reports and the operator's audit log. Ids are text
-- that sorts in creation order (`new_record_id`), so both are read oldest first and paged by the last id.

-- A report, open until resolved; the resolution's columns are all set, or (while open) all NULL.
CREATE TABLE reports (
    id               TEXT   PRIMARY KEY,
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

-- The operator's queues: open (or resolved) reports, oldest first.
CREATE INDEX reports_by_status ON reports (status, id);

-- A resolution is final: the store resolves only an open report (`UPDATE ... WHERE status = 'open'`), and
-- the database refuses any change to a resolved one.
CREATE TRIGGER reports_resolved_are_final BEFORE UPDATE ON reports WHEN OLD.status = 'resolved'
BEGIN
    SELECT RAISE(ABORT, 'a resolved report is final');
END;

-- Every moderation action, appended once and never changed: the triggers below refuse UPDATE and DELETE.
-- `detail` is small JSON context, never a message body or a token.
CREATE TABLE audit_log (
    id         TEXT   PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    booking_id BIGINT,
    target     TEXT,
    detail     TEXT   NOT NULL
);

-- A booking's entries, oldest first.
CREATE INDEX audit_log_by_booking ON audit_log (booking_id, id);

CREATE TRIGGER audit_log_refuses_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_refuses_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
