-- Notifications of unread messages (the rules are in store/src/notifications.rs).
-- A member's settings, as the JSON of `NotificationSettings`; absent means the defaults. `version` guards
-- every write (compare-and-set: inserted at 1, raised by one each time), so two changes made at once are
-- never lost.
CREATE TABLE notification_settings (
    user_id    TEXT   PRIMARY KEY,
    settings   TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The last notification claimed for a member about a booking: the newest message it covered and when it
-- was claimed, epoch ms. Changed only from the values read (or inserted when absent), so of notifiers
-- racing for the same messages one sends.
CREATE TABLE notification_claims (
    booking_id         BIGINT NOT NULL,
    user_id            TEXT   NOT NULL,
    through_message_id BIGINT NOT NULL,
    notified_at        BIGINT NOT NULL,
    PRIMARY KEY (booking_id, user_id)
);
