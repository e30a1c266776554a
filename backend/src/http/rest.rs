//! Routes for authenticated users (Bearer token): chat history and booking status.

use axum::Json;
use axum::extract::State;
use chat_wire::{BookingId, ChatMessage, MessageId};
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
    Ok(Json(HistoryPage { booking_id, messages: page.messages, has_more: page.has_more }))
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
