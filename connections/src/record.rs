//! A connection record: who is connected to which booking, and until when.

use chat_wire::BookingId;
use chat_wire::proxy::ConnectionType;

/// API Gateway closes every WebSocket after two hours; no record may outlive that.
pub const MAX_CONNECTION_SECONDS: i64 = 2 * 60 * 60;

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

/// The record's expiry: never later than the token's expiry nor two hours after connect.
pub fn ttl_for(connected_at_ms: i64, token_expires_at: i64) -> i64 {
    token_expires_at.min(connected_at_ms.div_euclid(1000) + MAX_CONNECTION_SECONDS)
}

/// Seconds since the Unix epoch.
pub fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
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
