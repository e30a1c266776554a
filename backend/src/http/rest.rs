//! Routes for authenticated users (Bearer token): chat history, the inbox and booking status.

use axum::Json;
use axum::extract::State;
use chat_wire::proxy::ErrorResponse;
use chat_wire::{BookingId, ChatMessage, ChatStateView, MemberPresence, MessageId, ReadPosition};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use super::openapi::{InternalError, PayloadTooLarge, Unauthenticated, UnsupportedMediaType};
use crate::domain::BookingStatus;
use crate::store::PageCursor;

/// Query of the history route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct HistoryQuery {
    /// Messages after this id (resume after a reconnect).
    after_message_id: Option<MessageId>,
    /// Messages before this id (scroll back); ignored with `after_message_id`.
    before_message_id: Option<MessageId>,
    /// Page size, capped by HISTORY_PAGE_SIZE.
    #[param(minimum = 1)]
    limit: Option<u32>,
}

/// A page of history, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct HistoryPage {
    booking_id: BookingId,
    /// The messages, oldest first.
    messages: Vec<ChatMessage>,
    /// Whether more messages exist beyond this page in the direction asked for.
    has_more: bool,
    /// Where each member has read up to, so a reloaded client shows "seen" at once.
    read_positions: Vec<ReadPosition>,
    /// Whether each member is online and when they were last seen.
    presence: Vec<MemberPresence>,
    /// Whether the chat may be written in, and who blocked whom.
    chat_state: ChatStateView,
}

/// `GET /api/chat/bookings/{booking_id}/messages`.
#[utoipa::path(
    get,
    path = "/api/chat/bookings/{booking_id}/messages",
    operation_id = "listMessages",
    tag = "chat",
    summary = "History, oldest first, with read positions and presence",
    security(("bearer" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking."), HistoryQuery),
    responses(
        (status = 200, description = "A page of history", body = HistoryPage),
        (status = 400, description = "Bad query", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not a member", body = ErrorResponse),
        (status = 404, description = "Unknown booking", body = ErrorResponse),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn history(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<HistoryPage>, ApiError> {
    let cursor = match query.after_message_id {
        Some(after) => PageCursor::After(after),
        None => PageCursor::Before(query.before_message_id),
    };
    let page = state.chat.history(booking_id, &user.user_id, cursor, query.limit).await?;
    Ok(Json(HistoryPage {
        booking_id,
        messages: page.messages,
        has_more: page.has_more,
        read_positions: page.read_positions,
        presence: page.presence,
        chat_state: page.chat_state,
    }))
}

/// Query of the inbox route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct InboxQuery {
    /// How many bookings, at most 100 (the default).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// The caller's bookings, most recently active first.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Inbox {
    /// The bookings, most recently active first.
    bookings: Vec<InboxBooking>,
}

/// One booking of the inbox.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct InboxBooking {
    booking_id: BookingId,
    /// What is booked.
    title: String,
    status: BookingStatus,
    /// The owner's user id.
    owner_id: String,
    /// The renter's user id.
    renter_id: String,
    /// The other member.
    other_user_id: String,
    /// Epoch milliseconds of the last message, else of the booking's creation.
    active_at: i64,
    last_message: Option<ChatMessage>,
    /// The other member's messages after the caller's read position (at most 999: 999 means at least).
    unread_count: u32,
    /// The caller's read position; `null` if they have read nothing.
    last_read_message_id: Option<MessageId>,
    /// How far the other member has read: the caller's messages up to it show as seen.
    other_last_read_message_id: Option<MessageId>,
}

/// `GET /api/chat/inbox`: the caller's bookings with their last message, unread count and read positions.
#[utoipa::path(
    get,
    path = "/api/chat/inbox",
    operation_id = "getInbox",
    tag = "chat",
    summary = "The caller's bookings, most recently active first, each with its last message, unread count and read positions",
    description = "Bookings the caller owns or rents, ordered by their last message (else their creation).",
    security(("bearer" = [])),
    params(InboxQuery),
    responses(
        (status = 200, description = "The inbox", body = Inbox),
        (status = 400, description = "Bad query", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn inbox(
    user: AuthUser,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<InboxQuery>,
) -> Result<Json<Inbox>, ApiError> {
    let entries = state.chat.inbox(&user.user_id, query.limit).await?;
    let bookings = entries
        .into_iter()
        .map(|entry| {
            let booking = entry.booking;
            let other_user_id = if booking.owner_id == user.user_id {
                booking.renter_id.clone()
            } else {
                booking.owner_id.clone()
            };
            let other_last_read_message_id = entry
                .read_positions
                .iter()
                .find(|p| p.user_id == other_user_id)
                .map(|p| p.last_read_message_id);
            InboxBooking {
                booking_id: booking.id,
                title: booking.title,
                status: booking.status,
                owner_id: booking.owner_id,
                renter_id: booking.renter_id,
                other_user_id,
                active_at: entry.active_at,
                last_message: entry.last_message,
                unread_count: entry.unread_count,
                last_read_message_id: entry.last_read_message_id,
                other_last_read_message_id,
            }
        })
        .collect();
    Ok(Json(Inbox { bookings }))
}

/// Body of the status route.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct StatusChange {
    /// The status to move to (read as text, so that an unknown one is answered with the known ones).
    #[schema(value_type = BookingStatus)]
    status: String,
}

/// Answer of the status routes (the owner's and the service's).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct StatusChanged {
    pub(super) booking_id: BookingId,
    /// The status now.
    pub(super) status: BookingStatus,
    /// The status before.
    pub(super) previous_status: BookingStatus,
}

/// `PATCH /api/bookings/{booking_id}/status`: owner only, valid transitions only; tells the booking's
/// connections.
#[utoipa::path(
    patch,
    path = "/api/bookings/{booking_id}/status",
    operation_id = "changeBookingStatus",
    tag = "bookings",
    summary = "Change a booking's status (owner only); emits booking_status to its connections",
    security(("bearer" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking.")),
    request_body = StatusChange,
    responses(
        (status = 200, description = "Changed", body = StatusChanged),
        (status = 400, description = "Malformed body, or an unknown status", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the owner", body = ErrorResponse),
        (status = 404, description = "Unknown booking", body = ErrorResponse),
        (status = 409, description = "Transition not allowed (requested→confirmed|cancelled, confirmed→active|cancelled, active→completed)", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn change_status(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiJson(change): ApiJson<StatusChange>,
) -> Result<Json<StatusChanged>, ApiError> {
    let next = BookingStatus::parse(&change.status).ok_or_else(|| {
        ApiError::validation(format!(
            "unknown status {:?}: expected requested, confirmed, active, completed or cancelled",
            change.status
        ))
    })?;
    let previous_status = state.chat.change_status(booking_id, &user.user_id, next).await?;
    Ok(Json(StatusChanged { booking_id, status: next, previous_status }))
}
