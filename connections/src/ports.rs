//! The ports of connection delivery: where connection records live ([`ConnectionStore`]) and how frames
//! reach WebSocket connections ([`ConnectionGateway`]), each with its errors.
//!
//! - [`ConnectionStore`]: [`crate::store::DynamoDbConnectionStore`], [`crate::store::InMemoryConnectionStore`].
//! - [`ConnectionGateway`]: [`crate::gateway::ManagementApiGateway`]; the local stack brings one that
//!   delivers into the API Gateway emulator in process.
//!
//! The methods return `impl Future + Send` so that users are generic over their adapters with no boxing.

use std::future::Future;

use chat_wire::BookingId;

use crate::record::ConnectionRecord;

/// A failure of the connection store. Its text carries the cause, so one log field tells the whole story.
#[derive(Debug, thiserror::Error)]
#[error("connection store failed while {operation}: {source}")]
pub struct StoreError {
    /// What we were doing.
    pub operation: &'static str,
    /// The adapter's error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Where connection records live.
pub trait ConnectionStore: Send + Sync + 'static {
    /// Records a connection under its booking. (Later events of the connection carry its booking and user
    /// in API Gateway's authorizer context, so nothing ever looks a record up by connection id.)
    ///
    /// # Errors
    /// [`StoreError`] if the record could not be written.
    fn put(&self, record: &ConnectionRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets a connection. Removing an unknown connection succeeds.
    ///
    /// # Errors
    /// [`StoreError`] if the store cannot be written.
    fn remove(
        &self,
        booking_id: BookingId,
        connection_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a user connection (`?type=user`): `connection` in each of `booking_ids` (its `booking_id`
    /// is ignored), so each booking's one Query per message finds it, and once under its user, where
    /// [`ConnectionStore::user_connections`] finds it when the user joins a booking later. The DynamoDB
    /// adapter writes them with one `BatchWriteItem` per 25 records.
    ///
    /// # Errors
    /// [`StoreError`] if a record could not be written (some of the others may have been).
    fn put_user_connection(
        &self,
        connection: &ConnectionRecord,
        booking_ids: &[BookingId],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets a user connection: its records in `booking_ids` and under its user (a user connection's
    /// `$disconnect`). Unknown records are no error.
    ///
    /// # Errors
    /// [`StoreError`] if the store cannot be written (some records may have been removed).
    fn remove_user_connection(
        &self,
        user_id: &str,
        connection_id: &str,
        booking_ids: &[BookingId],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The user connections of `user_id`, expired ones included, from the records under the user: one
    /// Query. Their `booking_id` is 0: they cover bookings, not one.
    ///
    /// # Errors
    /// [`StoreError`] if the store cannot be read.
    fn user_connections(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<ConnectionRecord>, StoreError>> + Send;

    /// Every connection of a booking, expired records included (DynamoDB deletes expired items only
    /// eventually, and the fan-out tells their connections and closes them): one paginated query, never
    /// a scan.
    ///
    /// # Errors
    /// [`StoreError`] if the store cannot be read.
    fn list(
        &self,
        booking_id: BookingId,
    ) -> impl Future<Output = Result<Vec<ConnectionRecord>, StoreError>> + Send;

    /// One connection's record, expired or not. Read only for a connection whose `$connect` token has
    /// expired, to learn whether a `refresh` extended it (one `GetItem`).
    ///
    /// # Errors
    /// [`StoreError`] if the store cannot be read.
    fn find(
        &self,
        booking_id: BookingId,
        connection_id: &str,
    ) -> impl Future<Output = Result<Option<ConnectionRecord>, StoreError>> + Send;

    /// Moves a recorded connection's expiry to `ttl` (after a `refresh`); `false` when there is no record
    /// to extend (the connection is gone, or was forgotten).
    ///
    /// # Errors
    /// [`StoreError`] if the store cannot be written.
    fn renew(
        &self,
        booking_id: BookingId,
        connection_id: &str,
        ttl: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// A user connection's record under its user, expired or not: its expiry as the last `refresh` left it
    /// (one `GetItem`).
    ///
    /// # Errors
    /// [`StoreError`] if the store cannot be read.
    fn find_user_connection(
        &self,
        user_id: &str,
        connection_id: &str,
    ) -> impl Future<Output = Result<Option<ConnectionRecord>, StoreError>> + Send;

    /// Moves a user connection's expiry to `ttl` (after a `refresh`): its record under its user, then its
    /// records in `booking_ids` (one `UpdateItem` each; a booking without its record is skipped). `false`
    /// when it has no record under its user (it is gone, or was forgotten).
    ///
    /// # Errors
    /// [`StoreError`] if the store cannot be written.
    fn renew_user_connection(
        &self,
        user_id: &str,
        connection_id: &str,
        booking_ids: &[BookingId],
        ttl: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Why a frame could not be pushed to a connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// The connection no longer exists (410 GoneException): forget it.
    #[error("connection is gone")]
    Gone,
    /// Throttling or a 5xx: worth retrying after a pause.
    #[error("temporary failure: {0}")]
    Retryable(String),
    /// The frame is over API Gateway's 128 KB message limit (413 PayloadTooLargeException).
    #[error("frame of {0} bytes is over the message limit")]
    TooLarge(usize),
    /// Anything else (forbidden, payload too large, a malformed id): retrying will not help.
    #[error("failed: {0}")]
    Failed(String),
}

/// Pushes frames to WebSocket connections (API Gateway's Management API).
pub trait ConnectionGateway: Send + Sync + 'static {
    /// Sends one text frame to a connection through the Management API at `endpoint`.
    ///
    /// # Errors
    /// [`PostError::Gone`], [`PostError::Retryable`], [`PostError::TooLarge`] or [`PostError::Failed`].
    fn post(
        &self,
        endpoint: &str,
        connection_id: &str,
        frame: &str,
    ) -> impl Future<Output = Result<(), PostError>> + Send;

    /// Closes a connection.
    ///
    /// # Errors
    /// As [`ConnectionGateway::post`]; closing a gone connection is [`PostError::Gone`].
    fn close(
        &self,
        endpoint: &str,
        connection_id: &str,
    ) -> impl Future<Output = Result<(), PostError>> + Send;
}

/// Lets a shared adapter serve as a port (the emulator shares one store between its parts).
impl<T: ConnectionStore> ConnectionStore for std::sync::Arc<T> {
    fn put(&self, record: &ConnectionRecord) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put(record)
    }
    fn remove(
        &self,
        booking_id: BookingId,
        connection_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).remove(booking_id, connection_id)
    }
    fn put_user_connection(
        &self,
        connection: &ConnectionRecord,
        booking_ids: &[BookingId],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put_user_connection(connection, booking_ids)
    }
    fn remove_user_connection(
        &self,
        user_id: &str,
        connection_id: &str,
        booking_ids: &[BookingId],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).remove_user_connection(user_id, connection_id, booking_ids)
    }
    fn user_connections(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<ConnectionRecord>, StoreError>> + Send {
        (**self).user_connections(user_id)
    }
    fn list(
        &self,
        booking_id: BookingId,
    ) -> impl Future<Output = Result<Vec<ConnectionRecord>, StoreError>> + Send {
        (**self).list(booking_id)
    }
    fn find(
        &self,
        booking_id: BookingId,
        connection_id: &str,
    ) -> impl Future<Output = Result<Option<ConnectionRecord>, StoreError>> + Send {
        (**self).find(booking_id, connection_id)
    }
    fn renew(
        &self,
        booking_id: BookingId,
        connection_id: &str,
        ttl: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).renew(booking_id, connection_id, ttl)
    }
    fn find_user_connection(
        &self,
        user_id: &str,
        connection_id: &str,
    ) -> impl Future<Output = Result<Option<ConnectionRecord>, StoreError>> + Send {
        (**self).find_user_connection(user_id, connection_id)
    }
    fn renew_user_connection(
        &self,
        user_id: &str,
        connection_id: &str,
        booking_ids: &[BookingId],
        ttl: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).renew_user_connection(user_id, connection_id, booking_ids, ttl)
    }
}

impl<T: ConnectionGateway> ConnectionGateway for std::sync::Arc<T> {
    fn post(
        &self,
        endpoint: &str,
        connection_id: &str,
        frame: &str,
    ) -> impl Future<Output = Result<(), PostError>> + Send {
        (**self).post(endpoint, connection_id, frame)
    }
    fn close(
        &self,
        endpoint: &str,
        connection_id: &str,
    ) -> impl Future<Output = Result<(), PostError>> + Send {
        (**self).close(endpoint, connection_id)
    }
}
