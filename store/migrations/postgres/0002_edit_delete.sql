-- Same as migrations/sqlite/0002_edit_delete.sql, in PostgreSQL's dialect; the queries are shared.
-- `edited_at`: when the author last edited the message (NULL: never). `deleted_at`: when the author deleted
-- it (NULL: not deleted); a deleted message keeps its row and id, with an empty body, so history has no
-- gap. Edits and deletes are `UPDATE ... WHERE sender_id = ... AND deleted_at IS NULL`, so a deleted
-- message can never be edited back to life.
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
