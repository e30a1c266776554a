-- Presence: a member is online while one of their connections to the booking is live (recorded at connect,
-- removed at disconnect, and lapsing at its token's expiry when a disconnect is lost).
CREATE TABLE presence_connections (
    booking_id    BIGINT NOT NULL,
    connection_id TEXT   NOT NULL,
    user_id       TEXT   NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (booking_id, connection_id)
);

-- When each member was last seen online (their last disconnect); never moves backwards.
CREATE TABLE last_seen (
    booking_id   BIGINT NOT NULL,
    user_id      TEXT   NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (booking_id, user_id)
);
