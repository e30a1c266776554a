-- Same schema as migrations/sqlite/0001_init.sql, in PostgreSQL's dialect; the queries are shared.
CREATE TABLE bookings (
    id              BIGINT PRIMARY KEY,
    owner_id        TEXT   NOT NULL,
    renter_id       TEXT   NOT NULL,
    title           TEXT   NOT NULL,
    status          TEXT   NOT NULL
        CHECK (status IN ('requested', 'confirmed', 'active', 'completed', 'cancelled')),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    -- Touched by every message insert: taking this row's lock first serialises inserts per booking, so
    -- message ids commit in order and `sync {after_message_id}` can never skip one.
    last_message_at BIGINT
);

CREATE TABLE messages (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id        BIGINT NOT NULL REFERENCES bookings (id),
    sender_id         TEXT   NOT NULL,
    body              TEXT   NOT NULL,
    client_message_id TEXT,
    created_at        BIGINT NOT NULL,
    -- Idempotency of send_message. NULL keys (legacy frames) never collide.
    UNIQUE (booking_id, sender_id, client_message_id)
);
CREATE INDEX messages_by_booking ON messages (booking_id, id);

CREATE TABLE reactions (
    message_id BIGINT NOT NULL REFERENCES messages (id),
    booking_id BIGINT NOT NULL,
    user_id    TEXT   NOT NULL,
    emoji      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);
CREATE INDEX reactions_by_booking ON reactions (booking_id, message_id);

CREATE TABLE read_receipts (
    booking_id           BIGINT NOT NULL REFERENCES bookings (id),
    user_id              TEXT   NOT NULL,
    last_read_message_id BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    PRIMARY KEY (booking_id, user_id)
);
