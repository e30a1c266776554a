//! Local-only helpers, mounted only with `APP_ENV=local`: the widget's demo page at `/` and its build at
//! `/dist/` (from disk: `web/demo`, `web/dist`), the API reference at `/docs` (pages generated from the
//! OpenAPI and AsyncAPI documents by `make api-docs` into `web/api-docs`), `GET /dev/config` (where the
//! page connects) and `GET /dev/token?user=`, which mints a token so the page (and a developer's shell)
//! can connect as any demo user.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::path::Path;

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
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
    let api_docs = dir.join("api-docs");
    routes
        .route("/docs", get(docs_index))
        .route("/docs/{page}", get(move |page: UrlPath<String>| docs_page(api_docs.clone(), page)))
        .nest_service("/dist", ServeDir::new(dist))
        .fallback_service(
            ServeDir::new(demo).fallback(get(move || async move { (StatusCode::NOT_FOUND, Html(missing)) })),
        )
}

/// The API reference's pages, `make api-docs`'s output: (file, content type, what it is).
const DOCS_PAGES: [(&str, &str, &str); 3] = [
    ("http.html", "text/html; charset=utf-8", "HTTP API: the backend's routes (OpenAPI)"),
    (
        "websocket.html",
        "text/html; charset=utf-8",
        "WebSocket API: the frames clients send and receive (AsyncAPI)",
    ),
    ("asyncapi.yaml", "application/yaml", "The AsyncAPI document itself"),
];

/// `GET /docs`: what the API reference has, with links.
async fn docs_index() -> Html<String> {
    let items: String = DOCS_PAGES
        .iter()
        .map(|(file, _, what)| format!("<li><a href=\"/docs/{file}\">{what}</a></li>"))
        .collect();
    Html(format!(
        "<!doctype html><meta charset=\"utf-8\"><title>Booking chat API reference</title>\
         <h1>Booking chat API reference</h1><ul>{items}\
         <li><a href=\"/api/openapi.json\">The OpenAPI document itself</a></li></ul>\
         <p>The pages are built from <code>backend/openapi.json</code> and <code>docs/asyncapi.yaml</code> by \
         <code>make api-docs</code> (<code>make dev</code> runs it).</p>"
    ))
}

/// `GET /docs/{page}`: one of [`DOCS_PAGES`], from disk; a page not built yet says how to build it.
async fn docs_page(dir: std::path::PathBuf, UrlPath(page): UrlPath<String>) -> Response {
    let Some((file, content_type, _)) = DOCS_PAGES.iter().find(|(file, _, _)| *file == page) else {
        return (StatusCode::NOT_FOUND, Html("<p>No such page: see <a href=\"/docs\">/docs</a>.</p>"))
            .into_response();
    };
    let path = dir.join(file);
    match tokio::fs::read(&path).await {
        Ok(body) => ([(header::CONTENT_TYPE, *content_type)], body).into_response(),
        Err(error) => {
            tracing::debug!(path = %path.display(), error = %error, "API reference page not built");
            let missing = format!(
                "<!doctype html><title>Booking chat API reference</title><p><code>{}</code> is not built: run \
                 <code>make api-docs</code> (or <code>make dev</code>, which does) from the repository.</p>",
                path.display()
            );
            (StatusCode::NOT_FOUND, Html(missing)).into_response()
        }
    }
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
