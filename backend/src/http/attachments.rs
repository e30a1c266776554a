//! Attachments over HTTP (issue 24; the rules are in `chat::attachments`, the design in
//! docs/attachments.md):
//!
//! - `POST /api/chat/bookings/{booking_id}/attachments`: a member asks to upload a file: the pending
//!   attachment and the form to POST it with.
//! - `GET /api/chat/bookings/{booking_id}/attachments/{attachment_id}`: an attachment (its uploader's in
//!   any state, the other member's once sent).
//! - `GET /api/chat/bookings/{booking_id}/attachments/{attachment_id}/url?variant=`: a signed URL of its
//!   file or thumbnail, valid minutes.
//! - `POST /api/service/attachments/processed`: the media processor's verdict (the service credential).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_wire::proxy::ErrorResponse;
use chat_wire::{Attachment, AttachmentVariant, BookingId, UploadTarget};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use super::openapi::{
    InternalError, PayloadTooLarge, ServiceUnauthorized, Unauthenticated, UnsupportedMediaType,
};
use super::service::ServiceCaller;
use crate::chat::Verdict;

/// A file a member wants to upload.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct NewUpload {
    /// The file's name.
    name: String,
    /// Its declared type: one of `ATTACHMENTS_TYPES`.
    content_type: String,
    /// Its size in bytes: at most `ATTACHMENTS_MAX_BYTES`.
    size: u64,
}

/// The pending attachment and its form.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Upload {
    /// `pending` until the processor has looked at the bytes.
    attachment: Attachment,
    /// POST the file with this form: every field, then the file as `file`.
    upload: UploadTarget,
}

/// `POST /api/chat/bookings/{booking_id}/attachments`.
#[utoipa::path(
    post,
    path = "/api/chat/bookings/{booking_id}/attachments",
    operation_id = "uploadAttachment",
    tag = "chat",
    summary = "Ask to upload a file: the pending attachment and a signed form, valid minutes",
    security(("bearer" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking.")),
    request_body = NewUpload,
    responses(
        (status = 201, description = "The attachment and its form", body = Upload),
        (status = 400, description = "A type not allowed, a bad name, an empty file, attachments off", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not a member, blocked, or the chat is closed", body = ErrorResponse),
        (status = 404, description = "Unknown booking", body = ErrorResponse),
        (status = 413, description = "Declared larger than ATTACHMENTS_MAX_BYTES", body = ErrorResponse),
        (status = 415, response = UnsupportedMediaType),
        (status = 429, description = "Too many requests", body = ErrorResponse),
        (status = 500, response = InternalError),
        (status = 503, description = "The file store is unavailable", body = ErrorResponse),
    ),
)]
pub(super) async fn upload(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiJson(body): ApiJson<NewUpload>,
) -> Result<(StatusCode, Json<Upload>), ApiError> {
    let declared = (body.name.as_str(), body.content_type.as_str(), body.size);
    let (attachment, upload) = state.chat.upload(booking_id, &user.user_id, declared).await?;
    Ok((StatusCode::CREATED, Json(Upload { attachment, upload })))
}

/// `GET /api/chat/bookings/{booking_id}/attachments/{attachment_id}`.
#[utoipa::path(
    get,
    path = "/api/chat/bookings/{booking_id}/attachments/{attachment_id}",
    operation_id = "getAttachment",
    tag = "chat",
    summary = "An attachment: its uploader's in any state, the other member's once a message carries it",
    security(("bearer" = [])),
    params(
        ("booking_id" = i64, Path, minimum = 1, description = "The booking."),
        ("attachment_id" = String, Path, description = "The attachment."),
    ),
    responses(
        (status = 200, description = "The attachment", body = Attachment),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not a member", body = ErrorResponse),
        (status = 404, description = "Unknown booking or attachment", body = ErrorResponse),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn get(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath((booking_id, attachment_id)): ApiPath<(BookingId, String)>,
) -> Result<Json<Attachment>, ApiError> {
    Ok(Json(state.chat.attachment(booking_id, &user.user_id, &attachment_id).await?))
}

/// Query of the URL route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct UrlQuery {
    /// `original` (the default) or `thumbnail`.
    #[param(value_type = Option<String>)]
    #[serde(default)]
    variant: AttachmentVariant,
}

/// A signed URL.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SignedUrl {
    /// Fetch the file here; never store it.
    url: String,
    /// When it stops working, epoch milliseconds.
    expires_at: i64,
}

/// `GET /api/chat/bookings/{booking_id}/attachments/{attachment_id}/url`.
#[utoipa::path(
    get,
    path = "/api/chat/bookings/{booking_id}/attachments/{attachment_id}/url",
    operation_id = "attachmentUrl",
    tag = "chat",
    summary = "A URL of an attachment's file or thumbnail, signed for a few minutes",
    security(("bearer" = [])),
    params(
        ("booking_id" = i64, Path, minimum = 1, description = "The booking."),
        ("attachment_id" = String, Path, description = "The attachment."),
        UrlQuery,
    ),
    responses(
        (status = 200, description = "The URL", body = SignedUrl),
        (status = 400, description = "Not ready, or no thumbnail", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not a member", body = ErrorResponse),
        (status = 404, description = "Unknown booking or attachment", body = ErrorResponse),
        (status = 500, response = InternalError),
        (status = 503, description = "The file store is unavailable", body = ErrorResponse),
    ),
)]
pub(super) async fn url(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath((booking_id, attachment_id)): ApiPath<(BookingId, String)>,
    ApiQuery(query): ApiQuery<UrlQuery>,
) -> Result<Json<SignedUrl>, ApiError> {
    let signed = state.chat.attachment_url(booking_id, &user.user_id, &attachment_id, query.variant).await?;
    Ok(Json(SignedUrl { url: signed.url, expires_at: signed.expires_at }))
}

/// What the media processor found in one upload.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct Processed {
    /// The booking.
    booking_id: BookingId,
    /// The attachment.
    attachment_id: String,
    /// `ready` with what was found, or `rejected` with why.
    #[serde(flatten)]
    verdict: Verdict,
}

/// `POST /api/service/attachments/processed`.
#[utoipa::path(
    post,
    path = "/api/service/attachments/processed",
    operation_id = "attachmentProcessed",
    tag = "service",
    summary = "The media processor's verdict on an upload (once; a repeat answers the attachment unchanged)",
    security(("serviceToken" = [])),
    request_body = Processed,
    responses(
        (status = 200, description = "The attachment as it is now", body = Attachment),
        (status = 400, description = "Malformed body", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 404, description = "Unknown attachment", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn processed(
    _service: ServiceCaller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Processed>,
) -> Result<Json<Attachment>, ApiError> {
    state
        .chat
        .processed(body.booking_id, &body.attachment_id, body.verdict)
        .await?
        .map(Json)
        .ok_or_else(|| crate::chat::ChatError::AttachmentNotFound.into())
}
