-- Retention (store/src/user_data.rs): when a booking's retention period started (it ended, or its chat was
-- reopened after that), kept beside its chat state by the same write, and indexed while its chat awaits
-- deletion; the retention job clears it when it has deleted the chat, and records when (`purged_at`).
ALTER TABLE bookings ADD COLUMN retained_from BIGINT;
ALTER TABLE bookings ADD COLUMN purged_at BIGINT;
UPDATE bookings SET retained_from = MAX(
    json_extract(chat_state, '$.ended_at'),
    COALESCE(json_extract(chat_state, '$.reopened_at'), 0)
) WHERE chat_state IS NOT NULL AND json_extract(chat_state, '$.ended_at') IS NOT NULL;
CREATE INDEX bookings_by_retention ON bookings (retained_from, id) WHERE retained_from IS NOT NULL;
-- A user's uploads, for their export and erasure.
CREATE INDEX attachments_by_uploader ON attachments (booking_id, uploader_id);
