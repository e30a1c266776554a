-- Same schema as migrations/sqlite/0006_notifications.sql, in PostgreSQL's dialect; the queries are shared.
CREATE TABLE notification_settings (
    user_id    TEXT   PRIMARY KEY,
    settings   TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE notification_claims (
    booking_id         BIGINT NOT NULL,
    user_id            TEXT   NOT NULL,
    through_message_id BIGINT NOT NULL,
    notified_at        BIGINT NOT NULL,
    PRIMARY KEY (booking_id, user_id)
);
