//! The HTTP edge's single error type.
//!
//! Every non-2xx answer has the body `{"error": {"code": "...", "message": "..."}}`. 5xx answers hide their
//! cause from the client and log the whole chain instead.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chat_wire::ErrorBody;
use chat_wire::ErrorCode;
use chat_wire::proxy::ErrorResponse;

use crate::auth::AuthError;
use crate::chat::ChatError;

/// An error answer of the HTTP API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ApiError {
    /// An answer with this status, code and client-visible message.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), source: None }
    }

    /// A 400 `VALIDATION_ERROR`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::ValidationError, message)
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<ChatError> for ApiError {
    fn from(error: ChatError) -> Self {
        let status = match &error {
            ChatError::Unauthenticated(_) | ChatError::OtherUser => StatusCode::UNAUTHORIZED,
            ChatError::BookingNotFound | ChatError::MessageNotFound | ChatError::AttachmentNotFound => {
                StatusCode::NOT_FOUND
            }
            ChatError::NotMember | ChatError::NotOwner | ChatError::NotSender => StatusCode::FORBIDDEN,
            ChatError::Invalid(_) => StatusCode::BAD_REQUEST,
            ChatError::InvalidTransition { .. } => StatusCode::CONFLICT,
            ChatError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ChatError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ChatError::Blocked | ChatError::ChatClosed => StatusCode::FORBIDDEN,
            ChatError::Refused(_) => StatusCode::BAD_REQUEST,
            ChatError::HookUnavailable | ChatError::FilesUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ChatError::Unexpected(_) | ChatError::NoSession => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let code = error.code();
        let message = error.public_message();
        Self { status, code, message, source: Some(Box::new(error)) }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        ChatError::from(error).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                "request body is too large",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::ValidationError,
                "expected Content-Type: application/json",
            ),
            _ => Self::validation(rejection.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::validation(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::validation(rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = if self.status.is_server_error() {
            let mut chain = String::new();
            let mut cause = self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static));
            while let Some(error) = cause {
                if !chain.is_empty() {
                    chain.push_str(": ");
                }
                chain.push_str(&error.to_string());
                cause = error.source();
            }
            tracing::error!(status = self.status.as_u16(), error = %chain, "request failed");
            "internal error".to_owned()
        } else {
            self.message
        };
        let body = ErrorResponse { error: ErrorBody::new(self.code, message) };
        (self.status, Json(body)).into_response()
    }
}
