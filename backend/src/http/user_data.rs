//! The operator's routes for one user's data and for retention (issue 26; the rules are in
//! `chat::user_data` and `chat::export`, the design in docs/privacy.md). Service credential only; each
//! call is recorded in the audit log with the `X-Operator` who made it.
//!
//! - `GET /api/service/users/{user_id}/export`: everything the chat holds about the user, streamed.
//! - `POST /api/service/users/{user_id}/erase`: erases the user, as far as one call's budget goes.
//! - `POST /api/service/retention/run`: one pass of the retention job, now.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chat_wire::proxy::ErrorResponse;
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiPath, ApiQuery};
use super::openapi::{InternalError, ServiceUnauthorized};
use super::service::ServiceCaller;
use crate::chat::{Budget, Erasure, RetentionPass};

/// How long one erase call or retention pass may work: under API Gateway's 30-second limit.
const CALL_BUDGET: Duration = Duration::from_secs(20);

/// Most messages one erase call makes tombstones of, when the caller does not say.
const DEFAULT_ERASE_MESSAGES: u64 = 2_000;

/// `GET /api/service/users/{user_id}/export`.
#[utoipa::path(
    get,
    path = "/api/service/users/{user_id}/export",
    operation_id = "exportUser",
    tag = "service",
    summary = "Everything the chat holds about one user, as one JSON document (docs/export.schema.json), streamed",
    description = "Their messages (tombstones included), reactions, uploads' metadata, read positions, presence, \
        blocks, reports and notification settings (push subscriptions without their keys). The document ends with \
        `\"complete\": true`; a failure half-way ends the transfer with an error instead. Recorded in the audit log.",
    security(("serviceToken" = [])),
    params(("user_id" = String, Path, description = "The user, as the marketplace names them.")),
    responses(
        (status = 200, description = "The export", body = Object, content_type = "application/json"),
        (status = 400, description = "Malformed user id", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn export(
    caller: ServiceCaller,
    State(state): State<AppState>,
    ApiPath(user_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let pieces = state.chat.export_user(&user_id, caller.actor()).await?;
    let headers = [
        (header::CONTENT_TYPE, "application/json".to_owned()),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"user-export.json\"".to_owned()),
        (header::CACHE_CONTROL, "no-store".to_owned()),
    ];
    Ok((headers, Body::from_stream(pieces)).into_response())
}

/// How much one erase call may do.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EraseQuery {
    /// Most messages to make tombstones in this call (default 2,000); the call also stops after 20 s.
    #[param(minimum = 1, maximum = 10000)]
    max_messages: Option<u64>,
}

/// `POST /api/service/users/{user_id}/erase`.
#[utoipa::path(
    post,
    path = "/api/service/users/{user_id}/erase",
    operation_id = "eraseUser",
    tag = "service",
    summary = "Erase a user: tombstones (\"Deleted user\") for their messages; their reactions, files, read positions, presence and settings deleted; their connections closed",
    description = "Idempotent and resumable: each call does at most `max_messages` (or 20 s) of work and answers \
        `complete: false` until nothing is left; call again until `complete` is true. Recorded in the audit log.",
    security(("serviceToken" = [])),
    params(("user_id" = String, Path, description = "The user, as the marketplace names them."), EraseQuery),
    responses(
        (status = 200, description = "What this call did, and whether the erasure is complete", body = Erasure),
        (status = 400, description = "Malformed user id or query", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 503, description = "The file store failed: call again", body = ErrorResponse),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn erase(
    caller: ServiceCaller,
    State(state): State<AppState>,
    ApiPath(user_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<EraseQuery>,
) -> Result<Json<Erasure>, ApiError> {
    let messages = query.max_messages.unwrap_or(DEFAULT_ERASE_MESSAGES).clamp(1, 10_000);
    let erasure = state.chat.erase_user(&user_id, caller.actor(), Budget::new(CALL_BUDGET, messages)).await?;
    Ok(Json(erasure))
}

/// `POST /api/service/retention/run`.
#[utoipa::path(
    post,
    path = "/api/service/retention/run",
    operation_id = "runRetention",
    tag = "service",
    summary = "Run one pass of the retention job now: delete the chats and files of bookings that ended more than CHAT_RETENTION_DAYS ago",
    description = "What the scheduled job does (hourly on AWS and under `make dev`). `complete: false` when it \
        stopped at its 20-second budget with chats still due. Recorded in the audit log when it deleted anything.",
    security(("serviceToken" = [])),
    responses(
        (status = 200, description = "What the pass did", body = RetentionPass),
        (status = 400, description = "Retention is off (CHAT_RETENTION_DAYS unset)", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 503, description = "The file store failed: the next pass continues", body = ErrorResponse),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn run_retention(
    caller: ServiceCaller,
    State(state): State<AppState>,
) -> Result<Json<RetentionPass>, ApiError> {
    Ok(Json(state.chat.run_retention(caller.actor(), CALL_BUDGET).await?))
}
