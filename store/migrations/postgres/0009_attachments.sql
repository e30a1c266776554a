-- Attachments (store/src/attachments.rs): each upload's record, from its form to the message that claims
-- it (`message_id`, set once, in the message's own transaction), and on each message its files'
-- descriptions as JSON.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    booking_id BIGINT NOT NULL,
    uploader_id TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT NOT NULL,
    message_id BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_by_booking ON attachments (booking_id);
ALTER TABLE messages ADD COLUMN attachments TEXT;
