//! The proxy's own port: the chat backend's proxy routes ([`Backend`]), with its errors. The connection
//! ports (records and delivery) are `chat_connections::ports`.
//!
//! The methods return `impl Future + Send` so the handler is generic over its adapters with no boxing.

use std::future::Future;

use chat_wire::proxy::{
    ConnectRequest, ConnectResponse, ConnectedRequest, DisconnectRequest, MessageRequest, ProxyReply,
    UserConnectResponse,
};
use chat_wire::{BookingId, ErrorBody};

/// Why the backend did not give a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The backend answered 4xx with its error body: the request was refused, not failed.
    #[error("backend refused with {status}: {}", .error.message)]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The backend's error.
        error: ErrorBody,
    },
    /// Unreachable, too slow, or 5xx.
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    /// A 2xx answer that does not follow the contract.
    #[error("backend answered outside the contract: {0}")]
    Contract(String),
}

/// The chat backend's proxy routes.
pub trait Backend: Send + Sync + 'static {
    /// `$connect`: authenticate and authorise.
    ///
    /// # Errors
    /// [`BackendError::Refused`] for 401/403/404 (and other 4xx), else unavailable or contract errors.
    fn connect(
        &self,
        booking_id: BookingId,
        request: &ConnectRequest,
    ) -> impl Future<Output = Result<ConnectResponse, BackendError>> + Send;

    /// `$connect` recorded the connection: the member's presence (best effort).
    ///
    /// # Errors
    /// As [`Backend::connect`].
    fn connected(
        &self,
        booking_id: BookingId,
        request: &ConnectedRequest,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// `$connect` of a user connection (no booking): authenticate, and list the user's bookings.
    ///
    /// # Errors
    /// As [`Backend::connect`].
    fn connect_user(
        &self,
        request: &ConnectRequest,
    ) -> impl Future<Output = Result<UserConnectResponse, BackendError>> + Send;

    /// `$default`: one client frame. `None` means the backend had nothing to send (204).
    ///
    /// # Errors
    /// As [`Backend::connect`].
    fn message(
        &self,
        booking_id: BookingId,
        request: &MessageRequest,
    ) -> impl Future<Output = Result<Option<ProxyReply>, BackendError>> + Send;

    /// `$disconnect`, best effort.
    ///
    /// # Errors
    /// As [`Backend::connect`].
    fn disconnect(
        &self,
        booking_id: BookingId,
        request: &DisconnectRequest,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;
}

impl<T: Backend> Backend for std::sync::Arc<T> {
    fn connect(
        &self,
        booking_id: BookingId,
        request: &ConnectRequest,
    ) -> impl Future<Output = Result<ConnectResponse, BackendError>> + Send {
        (**self).connect(booking_id, request)
    }
    fn connect_user(
        &self,
        request: &ConnectRequest,
    ) -> impl Future<Output = Result<UserConnectResponse, BackendError>> + Send {
        (**self).connect_user(request)
    }
    fn connected(
        &self,
        booking_id: BookingId,
        request: &ConnectedRequest,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        (**self).connected(booking_id, request)
    }
    fn message(
        &self,
        booking_id: BookingId,
        request: &MessageRequest,
    ) -> impl Future<Output = Result<Option<ProxyReply>, BackendError>> + Send {
        (**self).message(booking_id, request)
    }
    fn disconnect(
        &self,
        booking_id: BookingId,
        request: &DisconnectRequest,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        (**self).disconnect(booking_id, request)
    }
}
