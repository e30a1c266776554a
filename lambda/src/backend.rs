//! The HTTP adapter of [`Backend`]: the chat backend's proxy routes, called with the shared secret and a
//! timeout well under API Gateway's 29 s. One `reqwest` client (one connection pool) for the process.

use std::time::Duration;

use chat_wire::proxy::{
    ConnectRequest, ConnectResponse, DisconnectRequest, ErrorResponse, MessageRequest, PROXY_SECRET_HEADER,
    ProxyReply,
};
use chat_wire::{BookingId, ErrorBody, ErrorCode};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ports::{Backend, BackendError};

/// Calls the backend over HTTP.
#[derive(Debug, Clone)]
pub struct HttpBackend {
    client: reqwest::Client,
    base_url: String,
    secret: SecretString,
}

impl HttpBackend {
    /// A client of the backend at `base_url` (no trailing slash), giving up after `timeout`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS roots unavailable).
    pub fn new(base_url: &str, secret: SecretString, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            // rustls on ring with the system roots read once (chat_settings::tls), not reqwest's platform
            // verifier, which reads every certificate file of the system at start.
            .tls_backend_preconfigured(chat_settings::tls::client_config())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .pool_idle_timeout(Duration::from_secs(50))
            // A Lambda instance runs one invocation at a time and needs one or two connections; in the
            // local stack many invocations share this client, and after a burst (a close storm) only a
            // few connections are kept, not one per invocation of the burst.
            .pool_max_idle_per_host(8)
            .user_agent(concat!("chat-proxy/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, base_url: base_url.trim_end_matches('/').to_owned(), secret })
    }

    async fn call<T: Serialize + Sync>(
        &self,
        booking_id: BookingId,
        route: &str,
        body: &T,
    ) -> Result<Option<reqwest::Response>, BackendError> {
        let url = format!("{}/api/chat/ws/{booking_id}/{route}", self.base_url);
        let response = self
            .client
            .post(url)
            .header(PROXY_SECRET_HEADER, self.secret.expose_secret())
            .json(body)
            .send()
            .await
            .map_err(|e| BackendError::Unavailable(describe(&e)))?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        if status.is_success() {
            return Ok(Some(response));
        }
        if status.is_server_error() {
            return Err(BackendError::Unavailable(format!("backend answered {status}")));
        }
        let error = match response.json::<ErrorResponse>().await {
            Ok(body) => body.error,
            Err(_) => ErrorBody::new(code_for(status), format!("backend answered {status}")),
        };
        Err(BackendError::Refused { status: status.as_u16(), error })
    }

    async fn json<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, BackendError> {
        response.json::<T>().await.map_err(|e| {
            if e.is_timeout() {
                BackendError::Unavailable(describe(&e))
            } else {
                BackendError::Contract(describe(&e))
            }
        })
    }
}

/// The error chain of a reqwest error, without the URL (it is logged elsewhere, and never holds a token,
/// but keep log lines short).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_decode() {
        "unreadable body"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn code_for(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::UNAUTHORIZED => ErrorCode::AuthenticationError,
        StatusCode::FORBIDDEN => ErrorCode::AuthorizationError,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        _ => ErrorCode::ValidationError,
    }
}

impl Backend for HttpBackend {
    async fn connect(
        &self,
        booking_id: BookingId,
        request: &ConnectRequest,
    ) -> Result<ConnectResponse, BackendError> {
        match self.call(booking_id, "connect", request).await? {
            Some(response) => Self::json(response).await,
            None => Err(BackendError::Contract("connect answered 204".into())),
        }
    }

    async fn message(
        &self,
        booking_id: BookingId,
        request: &MessageRequest,
    ) -> Result<Option<ProxyReply>, BackendError> {
        match self.call(booking_id, "message", request).await? {
            Some(response) => Self::json(response).await.map(Some),
            None => Ok(None),
        }
    }

    async fn disconnect(
        &self,
        booking_id: BookingId,
        request: &DisconnectRequest,
    ) -> Result<(), BackendError> {
        self.call(booking_id, "disconnect", request).await.map(drop)
    }
}
