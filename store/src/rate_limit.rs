//! Per-user rate limits, shared by every backend instance on a store (every Lambda instance on DynamoDB,
//! every server on one PostgreSQL): two windows per user, counted where the chat is stored
//! ([`crate::RateLimits`], one adapter per store).
//!
//! An action is admitted when the user's count in the current calendar minute is under
//! `RATE_LIMIT_PER_MINUTE` and their count in the current second under `RATE_LIMIT_BURST`, and then counts
//! in both: a flooding client is stopped within a second, a steady one at the minute's limit. Both counts
//! are raised in one write (DynamoDB: one conditional `UpdateItem`; SQL: one transaction), so instances
//! never admit more than the limits between them. A window outlives its period by a minute, then goes
//! (DynamoDB's TTL; SQL deletes a user's windows ended over a minute ago once it has counted).

/// The windows an action at `now_ms` counts in, and their limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// Minutes since the Unix epoch.
    pub minute: i64,
    /// Seconds since the Unix epoch.
    pub second: i64,
}

impl Windows {
    /// The windows of an action at `now_ms` (epoch milliseconds).
    pub fn at(now_ms: i64) -> Self {
        Self { minute: now_ms.div_euclid(60_000), second: now_ms.div_euclid(1000) }
    }

    /// When the minute's window may be forgotten, epoch seconds: a minute after it ends.
    pub fn forget_after(self) -> i64 {
        (self.minute + 2) * 60
    }
}

/// The limits of [`Windows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Actions per calendar minute.
    pub per_minute: u32,
    /// Actions per second.
    pub burst: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_counts_in_its_minute_and_its_second() {
        let windows = Windows::at(1_700_000_123_456);
        assert_eq!(windows, Windows { minute: 28_333_335, second: 1_700_000_123 });
        assert_eq!(windows.forget_after(), (28_333_335 + 2) * 60);
        assert_eq!(Windows::at(59_999).minute, 0);
        assert_eq!(Windows::at(60_000).minute, 1);
    }
}
