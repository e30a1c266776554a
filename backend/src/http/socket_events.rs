//! The WebSocket events the Lambda proxy relays, as routes (`/api/chat/ws/{booking_id}/connect|connected|
//! message|disconnect`, and `/api/chat/ws/user/connect` for a user connection), guarded by the shared proxy
//! secret. See `chat_wire::proxy` for the contract.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chat_wire::proxy::{
    ConnectRequest, ConnectResponse, ConnectedRequest, ConnectionType, DisconnectRequest, ErrorResponse,
    MessageRequest, PROXY_SECRET_HEADER, ProxyReply, UserConnectResponse,
};
use chat_wire::{BookingId, ErrorCode};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::openapi::{InternalError, PayloadTooLarge, Unauthenticated, UnsupportedMediaType};
use crate::chat::{Caller, Session};

/// Proof that the caller presented the proxy secret.
#[derive(Debug)]
pub(super) struct ProxyCaller;

impl FromRequestParts<AppState> for ProxyCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = parts.headers.get(PROXY_SECRET_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
        let expected = state.proxy_secret.expose_secret().as_bytes();
        if bool::from(presented.ct_eq(expected)) {
            Ok(Self)
        } else {
            tracing::warn!(
                present = !presented.is_empty(),
                "proxy route called without the right proxy secret"
            );
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::AuthorizationError,
                "missing or wrong proxy secret",
            ))
        }
    }
}

/// The `$connect` authorizer: authenticate the token and check membership. Nothing is recorded: presence
/// waits for the connection's record ([`connected`]).
#[utoipa::path(
    post,
    path = "/api/chat/ws/{booking_id}/connect",
    operation_id = "proxyConnect",
    tag = "proxy",
    summary = "$connect authorizer: authenticate a WebSocket connection to a booking",
    security(("proxySecret" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking of the connection.")),
    request_body = ConnectRequest,
    responses(
        (status = 200, description = "Accepted: the proxy records the connection until the token expires, then calls connected", body = ConnectResponse),
        (status = 400, description = "Malformed request, or a connection of type user (it has its own route)", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not a member of the booking, or wrong proxy secret", body = ErrorResponse),
        (status = 404, description = "Unknown booking", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
#[tracing::instrument(skip_all, fields(booking_id, connection_id = %request.connection_id))]
pub(super) async fn connect(
    _caller: ProxyCaller,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiJson(request): ApiJson<ConnectRequest>,
) -> Result<Json<ConnectResponse>, ApiError> {
    tracing::Span::current().record("booking_id", booking_id);
    if request.connection_type == ConnectionType::User {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::ValidationError,
            "a user connection names no booking: connect it through /api/chat/ws/user/connect",
        ));
    }
    let membership = state.chat.connect(booking_id, &request.token).await?;
    tracing::info!(user_id = %membership.user_id, connection_type = request.connection_type.as_str(), "connection accepted");
    Ok(Json(ConnectResponse { user_id: membership.user_id, booking_id, expires_at: membership.expires_at }))
}

/// `$connect` recorded the connection: the member's presence (best effort: always 204). After the
/// record, never before it, so a handshake that fails leaves no one online.
#[utoipa::path(
    post,
    path = "/api/chat/ws/{booking_id}/connected",
    operation_id = "proxyConnected",
    tag = "proxy",
    summary = "$connect recorded the connection: the member's presence follows",
    security(("proxySecret" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The connection's booking.")),
    request_body = ConnectedRequest,
    responses(
        (status = 204, description = "Recorded: the booking hears the member came online if this is their first live connection."),
        (status = 400, description = "Malformed request", body = ErrorResponse),
        (status = 403, description = "Wrong proxy secret", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
    ),
)]
#[tracing::instrument(skip_all, fields(booking_id, connection_id = %request.connection_id, user_id = %request.user_id))]
pub(super) async fn connected(
    _caller: ProxyCaller,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiJson(request): ApiJson<ConnectedRequest>,
) -> StatusCode {
    tracing::Span::current().record("booking_id", booking_id);
    let session = Session { connected_at: request.connected_at, expires_at: request.expires_at };
    state.chat.joined(booking_id, session, &request.user_id, &request.connection_id).await;
    StatusCode::NO_CONTENT
}

/// `$connect` of a user connection: authenticate the token and list the user's bookings (the proxy
/// records the connection in each). A user connection counts for no presence.
#[utoipa::path(
    post,
    path = chat_wire::proxy::USER_CONNECT_PATH,
    operation_id = "proxyConnectUser",
    tag = "proxy",
    summary = "$connect of a user connection (?type=user, no booking): authenticate it, list the user's bookings",
    description = "The answer lists the user's most recently active bookings (at most 100): the proxy records \
        the connection in each, and the connection's frames name their booking (booking_id) and go to that \
        booking's message route. A user connection counts for no presence.",
    security(("proxySecret" = [])),
    request_body = ConnectRequest,
    responses(
        (status = 200, description = "Accepted: the user and their bookings", body = UserConnectResponse),
        (status = 400, description = "Malformed request", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Wrong proxy secret", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
#[tracing::instrument(skip_all, fields(connection_id = %request.connection_id))]
pub(super) async fn connect_user(
    _caller: ProxyCaller,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ConnectRequest>,
) -> Result<Json<UserConnectResponse>, ApiError> {
    let accepted = state.chat.connect_user(&request.token).await?;
    tracing::info!(user_id = %accepted.user_id, bookings = accepted.booking_ids.len(), "user connection accepted");
    Ok(Json(UserConnectResponse {
        user_id: accepted.user_id,
        expires_at: accepted.expires_at,
        booking_ids: accepted.booking_ids,
    }))
}

/// `$default`: one client frame; answers the frame to deliver and to whom.
#[utoipa::path(
    post,
    path = "/api/chat/ws/{booking_id}/message",
    operation_id = "proxyMessage",
    tag = "proxy",
    summary = "$default: one client frame",
    security(("proxySecret" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The connection's booking (for a user connection: the booking its frame names).")),
    request_body = MessageRequest,
    responses(
        (status = 200, description = "The frame to deliver, and to whom. Problems with the client's frame are error \
            frames (type=error) with broadcast=false, never HTTP errors.", body = ProxyReply),
        (status = 204, description = "Nothing to deliver (allowed by the contract, and the Lambda then sends nothing; \
            this backend always answers with a frame)."),
        (status = 400, description = "Malformed request", body = ErrorResponse),
        (status = 403, description = "Wrong proxy secret", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
    ),
)]
pub(super) async fn message(
    _caller: ProxyCaller,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiJson(request): ApiJson<MessageRequest>,
) -> Response {
    let session = match (request.connected_at, request.expires_at) {
        (Some(connected_at), Some(expires_at)) => Some(Session { connected_at, expires_at }),
        _ => None,
    };
    let caller = Caller {
        booking_id,
        user_id: &request.user_id,
        connection_type: request.connection_type,
        session,
        connection_id: &request.connection_id,
    };
    let reply = state.chat.handle_frame(caller, request.message).await;
    let answer = ProxyReply::new(&reply.frame, reply.audience)
        .renewing(reply.renewed_until)
        .with_user_frames(reply.user_frames);
    Json(answer).into_response()
}

/// `$disconnect`: the member's presence follows (best effort: always 204).
#[utoipa::path(
    post,
    path = "/api/chat/ws/{booking_id}/disconnect",
    operation_id = "proxyDisconnect",
    tag = "proxy",
    summary = "$disconnect (best effort): the member's presence follows",
    security(("proxySecret" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The connection's booking.")),
    request_body = DisconnectRequest,
    responses(
        (status = 204, description = "Recorded: the member goes offline if this was their last connection."),
        (status = 400, description = "Malformed request", body = ErrorResponse),
        (status = 403, description = "Wrong proxy secret", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
    ),
)]
#[tracing::instrument(skip_all, fields(booking_id, connection_id = %request.connection_id, user_id = %request.user_id))]
pub(super) async fn disconnect(
    _caller: ProxyCaller,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiJson(request): ApiJson<DisconnectRequest>,
) -> StatusCode {
    tracing::Span::current().record("booking_id", booking_id);
    tracing::info!("connection closed");
    state.chat.left(booking_id, &request.user_id, &request.connection_id).await;
    StatusCode::NO_CONTENT
}
