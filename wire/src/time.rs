//! The clock as every part writes it on the wire and in records: milliseconds since the Unix epoch for
//! frame timestamps and message times, seconds for token expiries and record TTLs (JWT's `exp` and
//! DynamoDB's TTL both count seconds).

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Seconds since the Unix epoch.
pub fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// How long until `epoch_seconds`; zero if it has passed.
pub fn until_epoch_seconds(epoch_seconds: i64) -> std::time::Duration {
    let seconds = epoch_seconds.saturating_sub(now_seconds()).max(0);
    std::time::Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_and_seconds_read_the_same_clock() {
        let (ms, s) = (now_millis(), now_seconds());
        assert!((ms / 1000 - s).abs() <= 1);
        assert!(s > 1_700_000_000, "after 2023");
        assert_eq!(until_epoch_seconds(s - 10), std::time::Duration::ZERO);
        assert!(until_epoch_seconds(s + 100) > std::time::Duration::from_secs(98));
    }
}
