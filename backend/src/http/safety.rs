//! Trust and safety over HTTP (issue 23; the rules are in `chat::safety`):
//!
//! - `PUT|DELETE /api/chat/bookings/{booking_id}/block`: a member blocks the other member of the
//!   booking, or lifts their block (the member's token).
//! - `PUT /api/service/bookings/{booking_id}/chat`: the operator closes a booking's chat or reopens it
//!   (the service credential).
//!
//! Each answers the chat state as members now see it; the booking's connections get it as a
//! `chat_state` frame.

use axum::Json;
use axum::extract::State;
use chat_wire::proxy::ErrorResponse;
use chat_wire::{BookingId, ChatStateView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, AuthUser};
use super::openapi::{
    InternalError, PayloadTooLarge, ServiceUnauthorized, Unauthenticated, UnsupportedMediaType,
};
use super::service::ServiceCaller;

/// `PUT /api/chat/bookings/{booking_id}/block`.
#[utoipa::path(
    put,
    path = "/api/chat/bookings/{booking_id}/block",
    operation_id = "blockMember",
    tag = "chat",
    summary = "Block the other member of the booking: they can no longer write in its chat (idempotent)",
    security(("bearer" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking.")),
    responses(
        (status = 200, description = "Blocked (or already)", body = ChatStateView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not a member", body = ErrorResponse),
        (status = 404, description = "Unknown booking", body = ErrorResponse),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn block(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
) -> Result<Json<ChatStateView>, ApiError> {
    Ok(Json(state.chat.set_block(booking_id, &user.user_id, true).await?))
}

/// `DELETE /api/chat/bookings/{booking_id}/block`.
#[utoipa::path(
    delete,
    path = "/api/chat/bookings/{booking_id}/block",
    operation_id = "unblockMember",
    tag = "chat",
    summary = "Lift the caller's block of the other member (idempotent)",
    security(("bearer" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking.")),
    responses(
        (status = 200, description = "Not blocked (any more)", body = ChatStateView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not a member", body = ErrorResponse),
        (status = 404, description = "Unknown booking", body = ErrorResponse),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn unblock(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
) -> Result<Json<ChatStateView>, ApiError> {
    Ok(Json(state.chat.set_block(booking_id, &user.user_id, false).await?))
}

/// Body of the service's chat route.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct ChatOpening {
    /// `false` closes the chat (read-only for both members); `true` reopens it, an ended booking's
    /// included (its grace period then no longer applies).
    open: bool,
    /// What the members are told when it closes, at most 500 characters.
    #[serde(default)]
    note: Option<String>,
}

/// Answer of the service's chat route.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ChatOpened {
    booking_id: BookingId,
    /// Whether this call changed anything (false: it was so already).
    changed: bool,
    /// The chat state as members now see it.
    chat_state: ChatStateView,
}

/// `PUT /api/service/bookings/{booking_id}/chat`.
#[utoipa::path(
    put,
    path = "/api/service/bookings/{booking_id}/chat",
    operation_id = "setChatOpen",
    tag = "service",
    summary = "Close a booking's chat (read-only, with a note to its members) or reopen it; its connections get a chat_state frame",
    security(("serviceToken" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking (the marketplace's id).")),
    request_body = ChatOpening,
    responses(
        (status = 200, description = "The chat state now", body = ChatOpened),
        (status = 400, description = "Malformed body, or a note too long", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 404, description = "Unknown booking", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn set_chat_open(
    caller: ServiceCaller,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiJson(body): ApiJson<ChatOpening>,
) -> Result<Json<ChatOpened>, ApiError> {
    let (chat_state, changed) =
        state.chat.set_chat_open(booking_id, body.open, body.note, caller.actor()).await?;
    Ok(Json(ChatOpened { booking_id, changed, chat_state }))
}
