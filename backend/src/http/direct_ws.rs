//! `GET /chat/ws/{booking_id}`: a WebSocket straight to the backend, for local use without API Gateway.
//!
//! It speaks exactly the frames of the proxied path and goes through the same [`ChatService`], so the two
//! transports cannot disagree; only delivery differs (the in-process [`LocalHub`] instead of the Lambda's
//! fan-out). The token is taken as API Gateway's path takes it: `?token=`, the `bearer.<jwt>` subprotocol
//! (then `chat.v1` is echoed), `Authorization: Bearer` or `X-Api-Key`. Authentication and membership are
//! checked before the upgrade, so a refused client gets 401/403/404 instead of a socket.
//!
//! [`ChatService`]: crate::chat::ChatService
//! [`LocalHub`]: crate::notifier::LocalHub

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::Response;
use chat_wire::handshake::{CHAT_SUBPROTOCOL, find_token};
use chat_wire::proxy::{Audience, ConnectionType, ErrorResponse};
use chat_wire::server::{MAX_CONNECTION_SECONDS, TOKEN_EXPIRED_MESSAGE};
use chat_wire::time::{now_millis, until_epoch_seconds};
use chat_wire::{BookingId, ErrorCode, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiPath, ApiQuery};
use super::openapi::{InternalError, Unauthenticated};
use crate::auth::AuthError;
use crate::chat::{Caller, Session};
use crate::notifier::Outbound;

/// Largest message accepted on the socket (API Gateway's message limit); frames above the configured
/// frame limit but within this one are answered with `PAYLOAD_TOO_LARGE` and the socket stays open.
const MAX_WS_MESSAGE_BYTES: usize = 128 * 1024;

/// Query of the direct WebSocket.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct WsQuery {
    /// The JWT; wins over the subprotocol and the headers.
    token: Option<String>,
    /// What the connection is for (the description is its schema's: `schema_with` drops this one).
    #[serde(rename = "type")]
    #[param(schema_with = direct_connection_types)]
    connection_type: Option<String>,
}

/// The `?type=` this transport serves: `chat` (the default) or `booking`.
fn direct_connection_types() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some(
            "What the connection is for: chat (the default) or booking (its status only). User connections go \
             through API Gateway.",
        ))
        .enum_values(Some([ConnectionType::Chat.as_str(), ConnectionType::Booking.as_str()]))
        .default(Some(ConnectionType::Chat.as_str().into()))
        .build()
}

/// Authenticates, then upgrades.
#[utoipa::path(
    get,
    path = "/chat/ws/{booking_id}",
    operation_id = "openDirectWebSocket",
    tag = "chat",
    summary = "Direct WebSocket (local use): the same frames as through API Gateway",
    description = "Authentication and membership are checked before the upgrade, so a refused client gets \
        401/403/404 instead of a socket. The token: ?token=, the Sec-WebSocket-Protocol pair 'chat.v1, \
        bearer.<jwt>' (then chat.v1 is echoed), Authorization: Bearer, or X-Api-Key. The frames are those of \
        docs/asyncapi.yaml; when the token expires the socket gets TOKEN_EXPIRED and closes with 1008. Served by \
        the chat-backend binary, not by the backend as a Lambda.",
    security(("queryToken" = []), ("subprotocolToken" = []), ("bearer" = []), ("apiKeyHeader" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking."), WsQuery),
    responses(
        (status = 101, description = "Switching protocols"),
        (status = 400, description = "Not a WebSocket handshake (plain-text body), a malformed booking_id or an unknown type", content(
            (ErrorResponse = "application/json"),
            (String = "text/plain"),
        )),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not a member", body = ErrorResponse),
        (status = 404, description = "Unknown booking", body = ErrorResponse),
        (status = 426, description = "The connection cannot be upgraded (plain-text body)", body = String, content_type = "text/plain"),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn upgrade(
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiQuery(query): ApiQuery<WsQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (token, _source) = find_token(
        query.token.as_deref(),
        header("sec-websocket-protocol"),
        header("authorization"),
        header("x-api-key"),
    )
    .ok_or(AuthError::Missing)?;
    let connection_type = match query.connection_type.as_deref() {
        None => ConnectionType::Chat,
        // User connections are API Gateway's (and the emulator's) only: this transport has no records to
        // write per booking.
        Some(text) => {
            ConnectionType::parse(text).filter(|t| *t != ConnectionType::User).ok_or_else(|| {
                ApiError::validation(format!(
                    "connection type {text:?} is not served here: expected chat or booking (user connections \
                 go through API Gateway)"
                ))
            })?
        }
    };
    let membership = state.chat.connect(booking_id, token).await?;
    let max_frame = state.limits.max_ws_frame_bytes;
    // Small read chunks: most connections are idle, and the library's default is 128 KiB each.
    let ws = ws.read_buffer_size(4 * 1024).write_buffer_size(0);
    Ok(ws.protocols([CHAT_SUBPROTOCOL]).max_message_size(MAX_WS_MESSAGE_BYTES.max(max_frame)).on_upgrade(
        move |socket| {
            serve(state, socket, booking_id, membership.user_id, connection_type, membership.expires_at)
        },
    ))
}

#[tracing::instrument(skip(state, socket, expires_at), fields(connection_id))]
async fn serve(
    state: AppState,
    socket: WebSocket,
    booking_id: BookingId,
    user_id: String,
    connection_type: ConnectionType,
    expires_at: i64,
) {
    let connection_id = uuid::Uuid::new_v4().to_string();
    tracing::Span::current().record("connection_id", connection_id.as_str());
    tracing::info!("direct connection opened");
    // The connection lives until its token expires; a `refresh` moves that (never past the two hours
    // API Gateway allows, so both transports behave alike).
    let mut session = Session { connected_at: now_millis(), expires_at };
    let closes_at = session.connected_at / 1000 + MAX_CONNECTION_SECONDS;
    // Into the hub before anything else, so that no frame broadcast from now on is missed (its own
    // arrival is announced to the others only, as through API Gateway).
    let mut outbound = state.hub.join(booking_id, &connection_id, &user_id, connection_type);
    state.chat.joined(booking_id, session, &user_id, &connection_id).await;
    let (mut sink, mut stream) = socket.split();
    let expiry = tokio::time::sleep(until_epoch_seconds(expires_at.min(closes_at)));
    tokio::pin!(expiry);
    let max_frame = state.limits.max_ws_frame_bytes;

    let close = loop {
        tokio::select! {
            incoming = stream.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => {
                        let frame = ServerFrame::error(ErrorCode::ValidationError, "binary frames are not supported; send JSON text", now_millis());
                        if sink.send(Message::Text(frame.to_text().into())).await.is_err() { break None; }
                        continue;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    // RFC 6455 (and API Gateway) close with 1007 on a text frame that is not UTF-8.
                    Some(Err(error)) if is_invalid_utf8(&error) => {
                        break Some(CloseFrame { code: close_code::INVALID, reason: "text frame is not valid UTF-8".into() });
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break None,
                };
                if text.len() > max_frame {
                    let frame = ServerFrame::error(
                        ErrorCode::PayloadTooLarge,
                        format!("frame is {} bytes; the limit is {max_frame}", text.len()),
                        now_millis(),
                    );
                    if sink.send(Message::Text(frame.to_text().into())).await.is_err() { break None; }
                    continue;
                }
                let caller = Caller {
                    booking_id,
                    user_id: &user_id,
                    connection_type,
                    session: Some(session),
                    connection_id: &connection_id,
                };
                let reply = state.chat.handle_frame(caller, Value::String(text.as_str().to_owned())).await;
                if let Some(renewed) = reply.renewed_until {
                    session.expires_at = renewed;
                    expiry.as_mut().reset(tokio::time::Instant::now() + until_epoch_seconds(renewed.min(closes_at)));
                }
                // The sender's copy goes through the hub too, so it takes its place in this connection's
                // queue after what was broadcast before it; only it carries the frame's `request_id`.
                match reply.audience {
                    Audience::Sender => {
                        if sink.send(Message::Text(reply.frame.to_text().into())).await.is_err() {
                            break None;
                        }
                    }
                    Audience::Booking => {
                        state.hub.deliver_answer(booking_id, &reply.frame, None, Some(&connection_id));
                    }
                    Audience::BookingExceptSender => {
                        state.hub.deliver_answer(booking_id, &reply.frame, Some(&connection_id), None);
                    }
                }
            }
            queued = outbound.recv() => match queued {
                Some(Outbound::Text(text)) => {
                    if sink.send(Message::Text(text.as_ref().into())).await.is_err() { break None; }
                }
                Some(Outbound::Close(code, reason)) => break Some(CloseFrame { code, reason: reason.into() }),
                // The hub dropped us for not keeping up.
                None => break Some(CloseFrame { code: close_code::POLICY, reason: "too slow to keep up".into() }),
            },
            () = &mut expiry => {
                let frame = ServerFrame::error(ErrorCode::TokenExpired, TOKEN_EXPIRED_MESSAGE, now_millis());
                let _ = sink.send(Message::Text(frame.to_text().into())).await;
                break Some(CloseFrame { code: close_code::POLICY, reason: "token expired".into() });
            }
        }
    };
    state.hub.leave(booking_id, &connection_id);
    state.chat.left(booking_id, &user_id, &connection_id).await;
    if let Some(frame) = close {
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
    tracing::info!("direct connection closed");
}

/// Whether a read failed because a text frame was not UTF-8.
fn is_invalid_utf8(error: &axum::Error) -> bool {
    std::error::Error::source(error)
        .and_then(|e| e.downcast_ref::<tokio_tungstenite::tungstenite::Error>())
        .is_some_and(|e| matches!(e, tokio_tungstenite::tungstenite::Error::Utf8(_)))
}
