-- Resume after a gap: `changed_at` is when a message last changed (sent, edited, deleted, a reaction added or
-- removed), epoch ms, so a reconnecting client gets every message it holds that changed while it was away
-- (`sync` with `from_message_id` and `changed_since`). Existing rows start at their latest known change.
ALTER TABLE messages ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;
UPDATE messages SET changed_at = MAX(created_at, COALESCE(edited_at, 0), COALESCE(deleted_at, 0));

-- Rate limits shared by every backend on this database: a counter per user and window (a minute, and a
-- second for the burst), each raised only while under its limit. Old windows are deleted as new ones open.
CREATE TABLE rate_windows (
    user_id  TEXT   NOT NULL,
    period   TEXT   NOT NULL,
    actions  BIGINT NOT NULL,
    ends_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, period)
);
CREATE INDEX rate_windows_by_end ON rate_windows (ends_at);
