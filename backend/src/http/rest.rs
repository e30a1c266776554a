//! Routes for authenticated users (Bearer token): chat history, the inbox and booking status.

use axum::Json;
use axum::extract::State;
use chat_wire::{BookingId, ChatMessage, MemberPresence, MessageId, ReadPosition};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use crate::domain::BookingStatus;
use crate::store::PageCursor;

/// Query of the history route.
#[derive(Debug, Deserialize)]
pub(super) struct HistoryQuery {
    after_message_id: Option<MessageId>,
    before_message_id: Option<MessageId>,
    limit: Option<u32>,
}

/// A page of history, oldest first.
#[derive(Debug, Serialize)]
pub(super) struct HistoryPage {
    booking_id: BookingId,
    messages: Vec<ChatMessage>,
    has_more: bool,
    read_positions: Vec<ReadPosition>,
    presence: Vec<MemberPresence>,
}

/// `GET /api/chat/bookings/{booking_id}/messages`.
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
    }))
}

/// Query of the inbox route.
#[derive(Debug, Deserialize)]
pub(super) struct InboxQuery {
    limit: Option<u32>,
}

/// The caller's bookings, most recently active first.
#[derive(Debug, Serialize)]
pub(super) struct Inbox {
    bookings: Vec<InboxBooking>,
}

/// One booking of the inbox.
#[derive(Debug, Serialize)]
pub(super) struct InboxBooking {
    booking_id: BookingId,
    title: String,
    status: BookingStatus,
    owner_id: String,
    renter_id: String,
    /// The other member.
    other_user_id: String,
    /// Epoch milliseconds of the last message, else of the booking's creation.
    active_at: i64,
    last_message: Option<ChatMessage>,
    /// The other member's messages after the caller's read position (at most 999).
    unread_count: u32,
    last_read_message_id: Option<MessageId>,
    /// How far the other member has read: the caller's messages up to it show as seen.
    other_last_read_message_id: Option<MessageId>,
}

/// `GET /api/chat/inbox`: the caller's bookings with their last message, unread count and read positions.
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
#[derive(Debug, Deserialize)]
pub(super) struct StatusChange {
    status: String,
}

/// Answer of the status route.
#[derive(Debug, Serialize)]
pub(super) struct StatusChanged {
    booking_id: BookingId,
    status: BookingStatus,
    previous_status: BookingStatus,
}

/// `PATCH /api/bookings/{booking_id}/status`: owner only, valid transitions only; tells the booking's
/// connections.
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
