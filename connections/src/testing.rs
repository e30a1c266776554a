//! Fakes of the ports for tests of the code that uses them (enabled by the `testing` feature): a gateway
//! that records what it is asked to deliver and can play gone, flaky, broken or too-small connections, a
//! store that is down, and records made now.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chat_wire::BookingId;
use serde_json::Value;

use chat_wire::proxy::ConnectionType;

use crate::ports::{ConnectionGateway, ConnectionStore, PostError, StoreError};
use crate::record::ConnectionRecord;
use chat_wire::time::{now_millis, now_seconds};

/// A chat connection's record, opened ten minutes ago (its handshake long done), valid for an hour more.
pub fn record(booking_id: BookingId, connection_id: &str, user_id: &str) -> ConnectionRecord {
    ConnectionRecord {
        booking_id,
        connection_id: connection_id.into(),
        user_id: user_id.into(),
        connection_type: ConnectionType::Chat,
        connected_at: now_millis() - 10 * 60 * 1000,
        ttl: now_seconds() + 3600,
    }
}

/// A chat connection's record written just now, by a `$connect` whose upgrade may not be finished.
pub fn connecting_record(booking_id: BookingId, connection_id: &str, user_id: &str) -> ConnectionRecord {
    ConnectionRecord { connected_at: now_millis(), ..record(booking_id, connection_id, user_id) }
}

/// A gateway that records what it is asked to do; some connections can be made gone or flaky.
#[derive(Debug, Default)]
pub struct RecordingGateway {
    posts: Mutex<Vec<(String, String, Value)>>,
    closed: Mutex<Vec<String>>,
    gone: Mutex<HashSet<String>>,
    /// Connection id → how many more posts fail with a retryable error.
    flaky: Mutex<HashMap<String, u32>>,
    /// Connections whose posts always fail with a non-retryable error.
    broken: Mutex<HashSet<String>>,
    /// Frames larger than this are refused as API Gateway refuses them (413).
    max_frame_bytes: Mutex<Option<usize>>,
    /// Connection id → how many more posts answer 410 because its upgrade is not finished.
    upgrading: Mutex<HashMap<String, u32>>,
}

impl RecordingGateway {
    fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Posts to `connection_id` answer 410 Gone from now on.
    pub fn make_gone(&self, connection_id: &str) {
        Self::lock(&self.gone).insert(connection_id.into());
    }
    /// The next `posts` posts to `connection_id` answer 410, as API Gateway does while a connection's
    /// upgrade is not finished.
    pub fn make_upgrading(&self, connection_id: &str, posts: u32) {
        Self::lock(&self.upgrading).insert(connection_id.into(), posts);
    }
    /// The next `failures` posts to `connection_id` are throttled (retryable).
    pub fn make_flaky(&self, connection_id: &str, failures: u32) {
        Self::lock(&self.flaky).insert(connection_id.into(), failures);
    }
    /// Posts to `connection_id` fail for good (403) from now on.
    pub fn make_broken(&self, connection_id: &str) {
        Self::lock(&self.broken).insert(connection_id.into());
    }
    /// Frames over `bytes` are refused as over API Gateway's message limit (413).
    pub fn refuse_frames_over(&self, bytes: usize) {
        *Self::lock(&self.max_frame_bytes) = Some(bytes);
    }
    /// Frames posted to `connection_id`, in order.
    pub fn frames_to(&self, connection_id: &str) -> Vec<Value> {
        Self::lock(&self.posts)
            .iter()
            .filter(|(_, c, _)| c == connection_id)
            .map(|(_, _, f)| f.clone())
            .collect()
    }
    /// Every (endpoint, connection) posted to.
    pub fn targets(&self) -> Vec<(String, String)> {
        Self::lock(&self.posts).iter().map(|(e, c, _)| (e.clone(), c.clone())).collect()
    }
    /// The connections closed, in order.
    pub fn closed(&self) -> Vec<String> {
        Self::lock(&self.closed).clone()
    }
    /// How many frames were delivered.
    pub fn post_count(&self) -> usize {
        Self::lock(&self.posts).len()
    }
}

impl ConnectionGateway for RecordingGateway {
    async fn post(&self, endpoint: &str, connection_id: &str, frame: &str) -> Result<(), PostError> {
        if Self::lock(&self.gone).contains(connection_id) {
            return Err(PostError::Gone);
        }
        if let Some(left) = Self::lock(&self.upgrading).get_mut(connection_id)
            && *left > 0
        {
            *left -= 1;
            return Err(PostError::Gone);
        }
        if Self::lock(&self.broken).contains(connection_id) {
            return Err(PostError::Failed("403 Forbidden".into()));
        }
        if Self::lock(&self.max_frame_bytes).is_some_and(|max| frame.len() > max) {
            return Err(PostError::TooLarge(frame.len()));
        }
        if let Some(left) = Self::lock(&self.flaky).get_mut(connection_id)
            && *left > 0
        {
            *left -= 1;
            return Err(PostError::Retryable("429 LimitExceededException".into()));
        }
        let frame: Value = serde_json::from_str(frame).unwrap_or_else(|_| Value::String(frame.to_owned()));
        Self::lock(&self.posts).push((endpoint.into(), connection_id.into(), frame));
        Ok(())
    }

    async fn close(&self, _endpoint: &str, connection_id: &str) -> Result<(), PostError> {
        Self::lock(&self.closed).push(connection_id.into());
        Ok(())
    }
}

/// A connection store that is down: every call fails, as a frozen DynamoDB does once the SDK times out.
#[derive(Debug, Default)]
pub struct DownStore;

fn down() -> StoreError {
    StoreError { operation: "anything", source: "operation timed out".into() }
}

impl ConnectionStore for DownStore {
    async fn put_user_connection(&self, _: &ConnectionRecord, _: &[BookingId]) -> Result<(), StoreError> {
        Err(down())
    }
    async fn remove_user_connection(&self, _: &str, _: &str, _: &[BookingId]) -> Result<(), StoreError> {
        Err(down())
    }
    async fn user_connections(&self, _user_id: &str) -> Result<Vec<ConnectionRecord>, StoreError> {
        Err(down())
    }
    async fn find_user_connection(&self, _: &str, _: &str) -> Result<Option<ConnectionRecord>, StoreError> {
        Err(down())
    }
    async fn renew_user_connection(
        &self,
        _: &str,
        _: &str,
        _: &[BookingId],
        _: i64,
    ) -> Result<bool, StoreError> {
        Err(down())
    }
    async fn put(&self, _record: &ConnectionRecord) -> Result<(), StoreError> {
        Err(down())
    }
    async fn remove(&self, _booking_id: BookingId, _connection_id: &str) -> Result<(), StoreError> {
        Err(down())
    }
    async fn list(&self, _booking_id: BookingId) -> Result<Vec<ConnectionRecord>, StoreError> {
        Err(down())
    }
    async fn find(&self, _booking_id: BookingId, _id: &str) -> Result<Option<ConnectionRecord>, StoreError> {
        Err(down())
    }
    async fn renew(&self, _booking_id: BookingId, _id: &str, _ttl: i64) -> Result<bool, StoreError> {
        Err(down())
    }
}
