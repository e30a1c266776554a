//! Operational routes: liveness, readiness, metrics and the OpenAPI document.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;

/// The answer of `/healthz` and `/readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Health {
    /// `ok` (`/healthz`); `ready` or `unavailable` (`/readyz`).
    status: &'static str,
    /// `unreachable` when the database does not answer (`/readyz` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'static str>,
}

/// `GET /healthz`: the process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "ops",
    summary = "Liveness",
    security(()),
    responses((status = 200, description = "Up: {\"status\": \"ok\"}", body = Health)),
)]
pub(super) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok", database: None })
}

/// `GET /readyz`: the database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "ops",
    summary = "Readiness: the database answers",
    security(()),
    responses(
        (status = 200, description = "Ready: {\"status\": \"ready\"}", body = Health),
        (status = 503, description = "The database does not answer: {\"status\": \"unavailable\", \"database\": \"unreachable\"}", body = Health),
    ),
)]
pub(super) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match state.chat.store().ping().await {
        Ok(()) => (StatusCode::OK, Json(Health { status: "ready", database: None })),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health { status: "unavailable", database: Some("unreachable") }),
            )
        }
    }
}

/// `GET /metrics`: Prometheus text.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "ops",
    summary = "Prometheus metrics (OpenMetrics text)",
    security(()),
    responses((status = 200, description = "Metrics", body = String, content_type = "application/openmetrics-text")),
)]
pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    state.metrics.direct_connections.set(i64::try_from(state.hub.connection_count()).unwrap_or(i64::MAX));
    (
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.metrics.render(),
    )
}

/// The served OpenAPI document, as JSON text (made once, when the router is built).
#[derive(Debug, Clone)]
pub(super) struct Document(pub(super) Bytes);

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi",
    tag = "ops",
    summary = "This document",
    security(()),
    responses((status = 200, description = "This OpenAPI 3.1 document, generated from the routes", body = Object)),
)]
pub(super) async fn openapi(Extension(document): Extension<Document>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document.0)
}
