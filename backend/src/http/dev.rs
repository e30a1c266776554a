//! Local-only helpers, mounted only with `APP_ENV=local`: the widget's demo page at `/` and its build at
//! `/dist/` (from disk: `web/demo`, `web/dist`), `GET /dev/config` (where the page connects) and
//! `GET /dev/token?user=`, which mints a token so the page (and a developer's shell) can connect as any
//! demo user.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::path::Path;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use chat_wire::ErrorCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::services::ServeDir;

use super::AppState;
use super::error::ApiError;
use super::extract::ApiQuery;
use crate::auth::mint_token;

/// How long a development token lives.
const DEV_TOKEN_TTL: Duration = Duration::from_secs(8 * 3600);

/// The widget package's demo page (`{dir}/demo`, at `/`) and build (`{dir}/dist`, at `/dist/`), read from
/// disk on every request. Without a build, `/` says how to make one.
pub(super) fn static_files(routes: Router<AppState>, dir: &Path) -> Router<AppState> {
    let (demo, dist) = (dir.join("demo"), dir.join("dist"));
    if !dist.join("booking-chat.js").is_file() {
        tracing::warn!(dir = %dist.display(), "no widget build: the demo page needs `make web` first");
    }
    let missing = format!(
        "<!doctype html><title>Booking chat</title><p>The demo page is served from <code>{}</code>, and its widget \
         from <code>{}</code>: run <code>make web</code> (or <code>make dev</code>, which does) from the repository, \
         or point <code>STATIC_DIR</code> at the <code>web/</code> folder.</p>",
        demo.display(),
        dist.display()
    );
    routes.nest_service("/dist", ServeDir::new(dist)).fallback_service(
        ServeDir::new(demo).fallback(get(move || async move { (StatusCode::NOT_FOUND, Html(missing)) })),
    )
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
