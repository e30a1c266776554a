//! Per-user rate limiting of client actions: a token bucket per user, in memory (the in-memory adapter of
//! [`crate::store::RateLimits`]; the DynamoDB store brings one shared by every instance).
//!
//! Each backend instance limits on its own, so the effective limit of a fleet is the per-instance limit
//! times the instances a user's requests reach; that is good enough to stop a runaway client, which is
//! the point. Buckets that have refilled completely are forgotten, so memory follows active users only.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use futures_util::future::BoxFuture;

use crate::store::{RateLimits, StoreError};

/// How many buckets may exist before full ones are swept.
const SWEEP_THRESHOLD: usize = 10_000;

/// A token bucket per user.
#[derive(Debug)]
pub struct RateLimiter {
    capacity: f64,
    refill_per_second: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// Allows `per_minute` actions per minute sustained, with bursts of up to `burst`.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            capacity: f64::from(burst.max(1)),
            refill_per_second: f64::from(per_minute) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token from the user's bucket; `false` means the user is over the limit.
    pub fn try_acquire(&self, user_id: &str) -> bool {
        self.try_acquire_at(user_id, Instant::now())
    }

    fn try_acquire_at(&self, user_id: &str, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= SWEEP_THRESHOLD {
            buckets.retain(|_, b| self.refilled(*b, now) < self.capacity);
        }
        let bucket =
            buckets.entry(user_id.to_owned()).or_insert(Bucket { tokens: self.capacity, updated: now });
        bucket.tokens = self.refilled(*bucket, now);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        (bucket.tokens + elapsed * self.refill_per_second).min(self.capacity)
    }
}

impl RateLimits for RateLimiter {
    fn try_acquire<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let admitted = RateLimiter::try_acquire(self, user_id);
        Box::pin(async move { Ok(admitted) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_is_allowed_then_refused_then_refilled() {
        let limiter = RateLimiter::new(60, 3);
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.try_acquire_at("u", t0)));
        assert!(!limiter.try_acquire_at("u", t0));
        assert!(limiter.try_acquire_at("other", t0), "users are limited separately");
        assert!(limiter.try_acquire_at("u", t0 + Duration::from_secs(1)), "one token per second");
        assert!(!limiter.try_acquire_at("u", t0 + Duration::from_secs(1)));
    }
}
