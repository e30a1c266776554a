-- Same as migrations/sqlite/0005_resume.sql, in PostgreSQL's dialect; the queries are shared.
ALTER TABLE messages ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;
UPDATE messages SET changed_at = GREATEST(created_at, COALESCE(edited_at, 0), COALESCE(deleted_at, 0));

CREATE TABLE rate_windows (
    user_id  TEXT   NOT NULL,
    period   TEXT   NOT NULL,
    actions  BIGINT NOT NULL,
    ends_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, period)
);
CREATE INDEX rate_windows_by_end ON rate_windows (ends_at);
