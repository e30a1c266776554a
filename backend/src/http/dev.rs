//! Local-only helpers, mounted only with `APP_ENV=local`: the demo page at `/`, `GET /dev/config` (where the
//! page connects) and `GET /dev/token?user=`, which mints a token so the page (and a developer's shell) can
//! connect as any demo user.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use chat_wire::ErrorCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::ApiQuery;
use crate::auth::mint_token;

/// The demo page: two chat panes on booking 1.
const DEMO_PAGE: &str = include_str!("../../static/demo.html");

/// How long a development token lives.
const DEV_TOKEN_TTL: Duration = Duration::from_secs(8 * 3600);

/// `GET /`.
pub(super) async fn demo_page() -> Html<&'static str> {
    Html(DEMO_PAGE)
}

/// `GET /dev/config`: where the demo page connects, and in which URL style.
pub(super) async fn config(State(state): State<AppState>) -> Json<Value> {
    Json(match &state.demo_ws_url {
        Some(url) => json!({"ws_url": url, "style": "api_gateway"}),
        None => json!({"ws_url": Value::Null, "style": "direct"}),
    })
}

/// Query of `GET /dev/token`.
#[derive(Debug, Deserialize)]
pub(super) struct TokenQuery {
    user: String,
}

/// `GET /dev/token?user=alice`: `{"token": "...", "expires_in": 28800}`.
pub(super) async fn token(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Result<Json<Value>, ApiError> {
    let user = query.user.trim();
    if user.is_empty() || user.len() > 64 || !user.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::validation("user must be 1 to 64 printable ASCII characters"));
    }
    let Some(jwt) = state.dev_jwt.as_deref() else {
        return Err(ApiError::validation("development tokens are only available with APP_ENV=local"));
    };
    let token = mint_token(jwt, user, DEV_TOKEN_TTL).map_err(|e| {
        tracing::error!(error = %e, "could not mint a development token");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalError, "internal error")
    })?;
    Ok(Json(json!({"token": token, "expires_in": DEV_TOKEN_TTL.as_secs()})))
}
