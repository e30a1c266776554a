//! Routes of browsers' Web Push subscriptions ([`crate::preferences`]), Bearer JWT:
//!
//! - `GET /api/chat/notifications/push`: the key browsers subscribe with (`null`: this deployment sends no
//!   Web Push) and the caller's subscribed browsers' endpoints.
//! - `POST /api/chat/notifications/push`: a browser's `PushSubscription.toJSON()`, added (or renewed).
//! - `DELETE /api/chat/notifications/push?endpoint=...`: one browser removed (idempotent).
//!
//! The answers never carry a subscription's keys: they are the browser's, and the server only needs them
//! to encrypt.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_store::notifications::NotificationSettings;
use chat_store::push::{PushKeys, PushSubscription};
use chat_wire::ErrorCode;
use chat_wire::proxy::ErrorResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, AuthUser};
use super::openapi::{InternalError, PayloadTooLarge, Unauthenticated, UnsupportedMediaType};

/// The caller's Web Push state.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PushView {
    /// The VAPID public key (base64url, 65-byte uncompressed P-256 point) to pass to
    /// `pushManager.subscribe({applicationServerKey})`; `null` when this deployment sends no Web Push.
    #[schema(
        example = "BAyxfX2yDDVX89iGA6AcB3RABlpEtOAjwrshO0jTHUh3k3T-rdim-K1TnK6e6Ou6pRaIFVe_8ofBbqRgGLqSnGc"
    )]
    public_key: Option<String>,
    /// The browsers subscribed, oldest first (at most 10).
    subscriptions: Vec<PushEndpoint>,
}

/// One subscribed browser.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PushEndpoint {
    /// Its push service URL (what `PushSubscription.endpoint` says in that browser).
    endpoint: String,
    /// When it subscribed, epoch ms.
    created_at: i64,
}

/// A browser's subscription: exactly what `PushSubscription.toJSON()` gives (other fields are ignored).
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct NewSubscription {
    /// The push service URL.
    #[schema(example = "https://fcm.googleapis.com/fcm/send/dXJ...:APA91b...")]
    endpoint: String,
    /// The browser's keys.
    keys: PushKeys,
}

/// The browser to remove.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EndpointQuery {
    /// Its push service URL.
    endpoint: String,
}

fn view(state: &AppState, settings: NotificationSettings) -> Json<PushView> {
    let subscriptions = settings
        .push_subscriptions
        .into_iter()
        .map(|s| PushEndpoint { endpoint: s.endpoint, created_at: s.created_at })
        .collect();
    Json(PushView { public_key: state.preferences.push_public_key().map(str::to_owned), subscriptions })
}

fn unavailable() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "this deployment sends no Web Push")
}

/// `GET /api/chat/notifications/push`.
#[utoipa::path(
    get,
    path = "/api/chat/notifications/push",
    operation_id = "getPushSubscriptions",
    tag = "chat",
    summary = "The key browsers subscribe to Web Push with, and the caller's subscribed browsers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The key (`null`: no Web Push here) and the browsers", body = PushView),
        (status = 401, response = Unauthenticated),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn get(user: AuthUser, State(state): State<AppState>) -> Result<Json<PushView>, ApiError> {
    let settings = state.preferences.get(&user.user_id).await?;
    Ok(view(&state, settings))
}

/// `POST /api/chat/notifications/push`.
#[utoipa::path(
    post,
    path = "/api/chat/notifications/push",
    operation_id = "subscribePush",
    tag = "chat",
    summary = "Subscribe a browser to Web Push notifications of unread messages (idempotent)",
    description = "The body is the browser's `PushSubscription.toJSON()`. The endpoint must be on a push \
        service the deployment allows (`PUSH_ENDPOINT_HOSTS`: the browsers' own by default). The same \
        endpoint again replaces its keys; beyond 10 browsers the oldest is dropped. The member's \
        `push_enabled` setting turns all of them off at once.",
    security(("bearer" = [])),
    request_body = NewSubscription,
    responses(
        (status = 200, description = "The caller's browsers now", body = PushView),
        (status = 400, description = "Malformed body, keys, or an endpoint not on an allowed push service", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "This deployment sends no Web Push", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn subscribe(
    user: AuthUser,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewSubscription>,
) -> Result<Json<PushView>, ApiError> {
    if state.preferences.push_public_key().is_none() {
        return Err(unavailable());
    }
    let subscription = PushSubscription {
        endpoint: body.endpoint,
        keys: body.keys,
        created_at: chat_wire::time::now_millis(),
    };
    let settings = state.preferences.subscribe_push(&user.user_id, subscription).await?;
    Ok(view(&state, settings))
}

/// `DELETE /api/chat/notifications/push`.
#[utoipa::path(
    delete,
    path = "/api/chat/notifications/push",
    operation_id = "unsubscribePush",
    tag = "chat",
    summary = "Stop Web Push to one browser (idempotent)",
    security(("bearer" = [])),
    params(EndpointQuery),
    responses(
        (status = 200, description = "The caller's browsers now", body = PushView),
        (status = 400, description = "No endpoint given", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn unsubscribe(
    user: AuthUser,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EndpointQuery>,
) -> Result<Json<PushView>, ApiError> {
    let settings = state.preferences.unsubscribe_push(&user.user_id, &query.endpoint).await?;
    Ok(view(&state, settings))
}
