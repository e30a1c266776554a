-- A booking's chat state (store/src/chat_state.rs): who blocked whom, the operator's closing, when the
-- booking ended. JSON, read with the booking on every frame; `chat_version` guards every write
-- (compare-and-set from the version read, 0 while never written), so two changes at once are both kept.
ALTER TABLE bookings ADD COLUMN chat_state TEXT;
ALTER TABLE bookings ADD COLUMN chat_version BIGINT NOT NULL DEFAULT 0;
-- A message the operator hid (a tombstone, like a sender's delete): the reason the members see, and when.
ALTER TABLE messages ADD COLUMN hidden_reason TEXT;
ALTER TABLE messages ADD COLUMN hidden_at BIGINT;
