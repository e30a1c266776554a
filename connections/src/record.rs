//! A connection record: who is connected to which booking, and until when.

use chat_wire::BookingId;
use chat_wire::proxy::ConnectionType;
use chat_wire::server::MAX_CONNECTION_SECONDS;

/// How long after API Gateway accepted a connection (`connected_at`) its upgrade may still be unfinished:
/// the authorizer and the `$connect` route each have API Gateway's 29-second integration timeout, and the
/// record is written at the end of `$connect`. Until the upgrade is done the Management API answers 410 for
/// the connection, exactly as for one that is gone; a 410 for a record this young is therefore not taken
/// as gone ([`crate::Delivery::Connecting`]): the record stays, and the client's `sync` on opening returns
/// what it could not be sent.
pub const HANDSHAKE_WINDOW_MS: i64 = 60_000;

/// One WebSocket connection of a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    /// The booking (DynamoDB partition key, stored as a string).
    pub booking_id: BookingId,
    /// API Gateway's connection id (sort key).
    pub connection_id: String,
    /// The user authenticated at `$connect`.
    pub user_id: String,
    /// What the connection is for.
    pub connection_type: ConnectionType,
    /// When API Gateway accepted the connection, milliseconds since the Unix epoch.
    pub connected_at: i64,
    /// When the record expires, seconds since the Unix epoch (DynamoDB TTL; also checked on read,
    /// because DynamoDB deletes expired items only eventually).
    pub ttl: i64,
}

impl ConnectionRecord {
    /// Whether the record has expired at `now_seconds`.
    pub fn is_expired(&self, now_seconds: i64) -> bool {
        self.ttl <= now_seconds
    }
}

/// Whether a connection accepted at `connected_at_ms` may still be in its handshake at `now_ms`
/// ([`HANDSHAKE_WINDOW_MS`]).
pub fn may_be_connecting(connected_at_ms: i64, now_ms: i64) -> bool {
    now_ms.saturating_sub(connected_at_ms) < HANDSHAKE_WINDOW_MS
}

/// The record's expiry: never later than the token's expiry nor two hours after connect.
pub fn ttl_for(connected_at_ms: i64, token_expires_at: i64) -> i64 {
    token_expires_at.min(connected_at_ms.div_euclid(1000) + MAX_CONNECTION_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_is_the_earlier_of_token_expiry_and_two_hours() {
        let connected_at_ms = 1_700_000_000_000;
        assert_eq!(ttl_for(connected_at_ms, 1_700_000_600), 1_700_000_600, "token expires first");
        assert_eq!(ttl_for(connected_at_ms, 1_800_000_000), 1_700_000_000 + 7200, "two hours first");
    }
}
