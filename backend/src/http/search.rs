//! Full-text search of chat history over HTTP (issue 26; the rules are in `chat::search`):
//!
//! - `GET /api/chat/search?q=…&booking_id=…`: a member searches one booking, or all theirs without
//!   `booking_id`.
//! - `GET /api/service/search?q=…&booking_id=…|user_id=…`: the operator searches a booking or a user's
//!   bookings; each call is in the audit log, without the words.
//!
//! Both answer `{query, results, has_more, next}`: a page, newest first; `next` is the `before` of the
//! next one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_wire::proxy::ErrorResponse;
use chat_wire::{BookingId, ErrorCode, SearchResult};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiQuery, AuthUser};
use super::openapi::{InternalError, ServiceUnauthorized, Unauthenticated};
use super::service::ServiceCaller;
use crate::chat::{OperatorScope, SearchRequest, SearchResults};

/// Query of the member's search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SearchQuery {
    /// The words to find, 1 to 200 characters with a letter or a digit: every word must match, as a word
    /// prefix (SQL stores) or anywhere in a word (DynamoDB), whatever the case.
    q: String,
    /// Only this booking; absent: every booking of the caller (the 100 most recently active).
    #[param(minimum = 1)]
    booking_id: Option<BookingId>,
    /// The `next` of the previous page.
    before: Option<String>,
    /// How many results, 1 to 50 (the default 20).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
}

/// A page of search results.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SearchAnswer {
    /// The query as searched (trimmed).
    query: String,
    /// The matching messages, newest first (ties by booking, then message id), each with a snippet of
    /// its text around the first match. Open one in its context with the history route
    /// (`before_message_id` = `message_id` + 1, then `after_message_id`).
    results: Vec<SearchResult>,
    /// Whether more results follow.
    has_more: bool,
    /// Pass as `before` for the next page; `null` when this page is the last.
    next: Option<String>,
}

impl From<SearchResults> for SearchAnswer {
    fn from(found: SearchResults) -> Self {
        Self { query: found.query, results: found.results, has_more: found.has_more, next: found.next }
    }
}

/// `GET /api/chat/search`.
#[utoipa::path(
    get,
    path = "/api/chat/search",
    operation_id = "searchMessages",
    tag = "chat",
    summary = "Search the caller's chat history by words: one booking, or all theirs",
    security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "A page of results, newest first", body = SearchAnswer),
        (status = 400, description = "Bad query, limit or cursor", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not a member of the booking", body = ErrorResponse),
        (status = 404, description = "Unknown booking", body = ErrorResponse),
        (status = 429, description = "Over the rate limit", body = ErrorResponse),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn search(
    user: AuthUser,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<SearchAnswer>, ApiError> {
    let request = SearchRequest::parse(&query.q, query.before.as_deref(), query.limit)?;
    let found = state.chat.search_http(&user.user_id, query.booking_id, &request).await?;
    Ok(Json(found.into()))
}

/// Query of the operator's search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct OperatorSearchQuery {
    /// The words to find, as for the member's search.
    q: String,
    /// Search this booking (exactly one of `booking_id` and `user_id`).
    #[param(minimum = 1)]
    booking_id: Option<BookingId>,
    /// Search this user's bookings, their 100 most recently active.
    user_id: Option<String>,
    /// The `next` of the previous page.
    before: Option<String>,
    /// How many results, 1 to 50 (the default 20).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
}

/// `GET /api/service/search`.
#[utoipa::path(
    get,
    path = "/api/service/search",
    operation_id = "searchMessagesAsOperator",
    tag = "service",
    summary = "Search a booking's history, or a user's bookings', by words (audited, without the words)",
    security(("serviceToken" = [])),
    params(OperatorSearchQuery),
    responses(
        (status = 200, description = "A page of results, newest first", body = SearchAnswer),
        (status = 400, description = "Bad query, limit or cursor, or not one of booking_id and user_id", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 404, description = "Unknown booking", body = ErrorResponse),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn operator_search(
    caller: ServiceCaller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<OperatorSearchQuery>,
) -> Result<Json<SearchAnswer>, ApiError> {
    let scope = match (query.booking_id, query.user_id.as_deref()) {
        (Some(booking_id), None) => OperatorScope::Booking(booking_id),
        (None, Some(user_id)) if !user_id.is_empty() => OperatorScope::User(user_id),
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::ValidationError,
                "name exactly one of booking_id and user_id",
            ));
        }
    };
    let request = SearchRequest::parse(&query.q, query.before.as_deref(), query.limit)?;
    let found = state.chat.search_as_operator(scope, &request, caller.actor()).await?;
    Ok(Json(found.into()))
}
