-- Retention (store/src/user_data.rs): when a booking's retention period started (it ended, or its chat was
-- reopened after that), kept beside its chat state by the same write, and indexed while its chat awaits
-- deletion; the retention job clears it when it has deleted the chat, and records when (`purged_at`).
ALTER TABLE bookings ADD COLUMN retained_from BIGINT;
ALTER TABLE bookings ADD COLUMN purged_at BIGINT;
UPDATE bookings SET retained_from = GREATEST(
    (chat_state::jsonb ->> 'ended_at')::BIGINT,
    COALESCE((chat_state::jsonb ->> 'reopened_at')::BIGINT, 0)
) WHERE chat_state IS NOT NULL AND (chat_state::jsonb ->> 'ended_at') IS NOT NULL;
CREATE INDEX bookings_by_retention ON bookings (retained_from, id) WHERE retained_from IS NOT NULL;
-- A user's uploads, for their export and erasure.
CREATE INDEX attachments_by_uploader ON attachments (booking_id, uploader_id);
