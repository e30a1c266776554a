//! The emulated API: `GET /{stage}` upgrades to a WebSocket after `$connect` has answered 2xx, and
//! `/{stage}/@connections/{id}` is the Management API (POST, GET, DELETE).
//!
//! Rules as on AWS:
//! - `$connect` runs before the upgrade completes; a non-2xx answer refuses the handshake with that
//!   status, a failure or timeout with 500; the answer's headers go into the handshake response (this is
//!   how the subprotocol is echoed).
//! - Until `$connect` has returned and the upgrade is done, the Management API answers 410 for the
//!   connection: initial state must come from the client asking, not from a push.
//! - Frames above the frame limit, and messages above the message limit, close the connection with 1009;
//!   a text frame that is not UTF-8 closes it with 1007.
//! - Idle connections and connections past the maximum duration are closed with 1001.
//! - Messages are routed by `$request.body.action` and invoked concurrently; a failed or timed-out
//!   invocation sends API Gateway's own error frame to the client.
//! - `$disconnect` follows every close, with the close code (1005 when the client sent none, 1006 when
//!   the TCP connection just died) and reason. Each is invoked on its own, concurrently: a close storm is
//!   delivered in full and never queues behind one slow call.
//! - At most [`Limits::max_concurrent_invocations`](crate::Limits) invocations run at once; the others
//!   wait for a slot (within the integration timeout when a client waits for the answer).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;

use crate::config::{AuthorizerConfig, EmulatorConfig};
use crate::connections::{ConnectionInfo, Connections, Outbound, Refusal};
use crate::events::{self, ConnectionMeta};
use crate::ids::{api_gateway_id, iso8601, now_ms};
use crate::integration::{Integration, IntegrationError, read_response};

/// Read chunk of each connection's socket (see [`upgrade`]).
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

/// The emulator: configuration, live connections and the integration it invokes.
pub struct Emulator {
    config: EmulatorConfig,
    connections: Arc<Connections>,
    integration: Arc<dyn Integration>,
    /// Execution slots: at most [`Limits::max_concurrent_invocations`] invocations run at once, as a
    /// function's concurrency is bounded on AWS.
    ///
    /// [`Limits::max_concurrent_invocations`]: crate::Limits::max_concurrent_invocations
    slots: tokio::sync::Semaphore,
}

impl Emulator {
    /// An emulator invoking `integration`, sharing `connections` with an in-process gateway if any.
    pub fn new(
        config: EmulatorConfig,
        connections: Arc<Connections>,
        integration: Arc<dyn Integration>,
    ) -> Self {
        let slots = tokio::sync::Semaphore::new(config.limits.max_concurrent_invocations.max(1));
        Self { config, connections, integration, slots }
    }

    /// The routes.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/{stage}", get(upgrade))
            .route(
                "/{stage}/@connections/{connection_id}",
                get(get_connection).post(post_to_connection).delete(delete_connection),
            )
            .fallback(|| async { forbidden() })
            .with_state(self)
    }

    /// Serves on `listener` until `shutdown` completes.
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router().into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Invokes the integration for a client that waits for the answer (`$connect`, messages): waiting for
    /// a free execution slot counts towards the integration timeout.
    async fn invoke(&self, event: Value) -> Result<Value, IntegrationError> {
        let timeout = self.config.limits.integration_timeout;
        let invocation = async {
            let _slot =
                self.slots.acquire().await.map_err(|_| IntegrationError::Failed("stopping".into()))?;
            self.integration.invoke(event).await
        };
        tokio::time::timeout(timeout, invocation).await.unwrap_or(Err(IntegrationError::Timeout))
    }

    /// Invokes `$disconnect`, which nobody waits for: it waits as long as it takes for a free execution
    /// slot (so a close storm is delivered in full, never dropped), then runs within the integration
    /// timeout like any other invocation.
    async fn invoke_disconnect(&self, event: Value) -> Result<Value, IntegrationError> {
        let _slot = self.slots.acquire().await.map_err(|_| IntegrationError::Failed("stopping".into()))?;
        tokio::time::timeout(self.config.limits.integration_timeout, self.integration.invoke(event))
            .await
            .unwrap_or(Err(IntegrationError::Timeout))
    }
}

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, axum::Json(json!({"message": "Forbidden"}))).into_response()
}

/// A Management API error as the AWS SDK reads it (`x-amzn-ErrorType`).
fn management_error(status: StatusCode, error_type: &str) -> Response {
    let mut response = (status, axum::Json(json!({"message": Value::Null}))).into_response();
    if let Ok(value) = HeaderValue::from_str(error_type) {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

fn refusal(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Gone => management_error(StatusCode::GONE, "GoneException"),
        Refusal::Throttled => management_error(StatusCode::TOO_MANY_REQUESTS, "LimitExceededException"),
    }
}

/// Runs the `$connect` authorizer as API Gateway does: 401 without invoking it when an identity source is
/// missing, 401 when it fails with `Unauthorized`, 403 when its policy does not allow `$connect`, 500 when
/// it fails otherwise; else the `requestContext.authorizer` of every event of the connection: its
/// `principalId` and its context, values stringified.
async fn authorize(
    emulator: &Emulator,
    authorizer: &AuthorizerConfig,
    meta: &ConnectionMeta,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<Map<String, Value>, Response> {
    let unauthorized =
        || (StatusCode::UNAUTHORIZED, axum::Json(json!({"message": "Unauthorized"}))).into_response();
    let forbidden = || (StatusCode::FORBIDDEN, axum::Json(json!({"message": "Forbidden"}))).into_response();
    let failed = || {
        (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"message": "Internal server error"})))
            .into_response()
    };
    let present = |source: &str| {
        let non_empty = |v: Option<&str>| v.is_some_and(|v| !v.trim().is_empty());
        if let Some(name) = source.strip_prefix("route.request.header.") {
            non_empty(headers.get(name).and_then(|v| v.to_str().ok()))
        } else if let Some(name) = source.strip_prefix("route.request.querystring.") {
            non_empty(query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()))
        } else {
            true
        }
    };
    if !authorizer.identity_sources.iter().all(|source| present(source)) {
        tracing::info!(connection_id = %meta.connection_id, "an identity source is missing: 401 without the authorizer");
        return Err(unauthorized());
    }
    let event = events::authorizer(meta, &emulator.config.region, headers, query);
    let method_arn = event["methodArn"].as_str().unwrap_or_default().to_owned();
    let answer = match emulator.invoke(event).await {
        Ok(answer) => answer,
        Err(IntegrationError::Function(message)) if message == "Unauthorized" => return Err(unauthorized()),
        Err(error) => {
            tracing::warn!(connection_id = %meta.connection_id, error = %error, "the authorizer failed");
            return Err(failed());
        }
    };
    match policy_allows(&answer, &method_arn) {
        Some(true) => {}
        Some(false) => return Err(forbidden()),
        None => {
            tracing::warn!(connection_id = %meta.connection_id, "the authorizer's answer has no usable policy");
            return Err(failed());
        }
    }
    let mut context = Map::new();
    if let Some(principal) = answer.get("principalId").and_then(Value::as_str) {
        context.insert("principalId".into(), principal.into());
    }
    for (key, value) in answer.get("context").and_then(Value::as_object).into_iter().flatten() {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            // API Gateway refuses objects and arrays in an authorizer's context.
            _ => return Err(failed()),
        };
        context.insert(key.clone(), text.into());
    }
    Ok(context)
}

/// Whether an authorizer's policy allows invoking `method_arn`: `None` when it has no policy at all. An
/// explicit `Deny` wins over an `Allow`; `*` in a resource matches anything.
fn policy_allows(answer: &Value, method_arn: &str) -> Option<bool> {
    let statements = answer.get("policyDocument")?.get("Statement")?.as_array()?;
    let list = |value: Option<&Value>| -> Vec<String> {
        match value {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        }
    };
    let mut allowed = false;
    for statement in statements {
        let invokes = list(statement.get("Action")).iter().any(|a| a == "execute-api:Invoke" || a == "*");
        let covers = list(statement.get("Resource")).iter().any(|r| glob_matches(r, method_arn));
        if !(invokes && covers) {
            continue;
        }
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Some(false),
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    Some(allowed)
}

/// `*` matches any run of characters.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let Some(rest) = text.strip_prefix(parts[0]) else { return false };
    let mut rest = rest;
    for (i, part) in parts.iter().enumerate().skip(1) {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Headers API Gateway manages itself and never copies from an integration's answer.
fn is_reserved(name: &HeaderName) -> bool {
    [
        header::CONNECTION,
        header::UPGRADE,
        header::SEC_WEBSOCKET_ACCEPT,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
    ]
    .contains(name)
}

async fn upgrade(
    State(emulator): State<Arc<Emulator>>,
    Path(stage): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if stage != emulator.config.stage {
        return forbidden();
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let mut meta = ConnectionMeta {
        api_id: emulator.config.api_id.clone(),
        stage: stage.clone(),
        domain_name: headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1")
            .to_owned(),
        connection_id: api_gateway_id(),
        connected_at: now_ms(),
        source_ip: peer.ip().to_string(),
        user_agent: headers.get(header::USER_AGENT).and_then(|h| h.to_str().ok()).map(str::to_owned),
        authorizer: None,
    };
    let id = meta.connection_id.clone();
    emulator.connections.begin(
        &id,
        ConnectionInfo {
            connected_at: meta.connected_at,
            last_active_at: meta.connected_at,
            source_ip: meta.source_ip.clone(),
            user_agent: meta.user_agent.clone(),
        },
    );
    if let Some(authorizer) = &emulator.config.authorizer {
        match authorize(&emulator, authorizer, &meta, &headers, &query).await {
            Ok(context) => meta.authorizer = Some(context),
            Err(status) => {
                emulator.connections.remove(&id);
                return status.into_response();
            }
        }
    }
    let answer =
        match emulator.invoke(events::connect(&meta, &headers, &query)).await.and_then(|v| read_response(&v))
        {
            Ok(answer) if (200..300).contains(&answer.status) => answer,
            Ok(answer) => {
                emulator.connections.remove(&id);
                tracing::info!(connection_id = %id, status = answer.status, "$connect refused the handshake");
                return StatusCode::from_u16(answer.status).unwrap_or(StatusCode::FORBIDDEN).into_response();
            }
            Err(error) => {
                emulator.connections.remove(&id);
                tracing::warn!(connection_id = %id, error = %error, "$connect integration failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Json(json!({"message": "Internal server error"})),
                )
                    .into_response();
            }
        };
    let limits = emulator.config.limits.clone();
    // Still connecting (posts answer 410) until the upgrade is done, as on AWS.
    if !limits.upgrade_delay.is_zero() {
        tokio::time::sleep(limits.upgrade_delay).await;
    }
    let mut response = ws
        .max_frame_size(limits.max_frame_bytes)
        .max_message_size(limits.max_message_bytes)
        // A chat connection is idle most of the time: the library's default 128 KiB read buffer per
        // connection would be most of the memory a thousand of them use. The buffer grows for a large
        // frame and only its chunk size is set here.
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(0)
        .on_upgrade(move |socket| serve_connection(emulator, socket, meta));
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(&value))
            && !is_reserved(&name)
        {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The close API Gateway answers a read error with: 1009 for a size limit, 1007 for a text frame that is
/// not UTF-8 (RFC 6455 §8.1), none when the connection just died.
fn close_for(error: &axum::Error) -> Option<(u16, &'static str)> {
    use tokio_tungstenite::tungstenite::Error;
    match std::error::Error::source(error).and_then(|e| e.downcast_ref::<Error>()) {
        Some(Error::Capacity(_)) => Some((1009, "Message too big")),
        Some(Error::Utf8(_)) => Some((1007, "Invalid UTF-8 in text frame")),
        _ => None,
    }
}

async fn serve_connection(emulator: Arc<Emulator>, socket: WebSocket, meta: ConnectionMeta) {
    let id = meta.connection_id.clone();
    let mut outbound = emulator.connections.open(&id);
    tracing::info!(connection_id = %id, "connected");
    let (mut sink, mut stream) = socket.split();
    let limits = emulator.config.limits.clone();
    let idle = tokio::time::sleep(limits.idle_timeout);
    let lifetime = tokio::time::sleep(limits.max_connection_duration);
    tokio::pin!(idle, lifetime);

    // (code, reason, whether we send the close frame)
    let (code, reason, we_close): (u16, String, bool) = loop {
        tokio::select! {
            // Frames for the client first: a client that sends without pause must not starve its own
            // answers (API Gateway delivers posts as they come, whatever the client is sending).
            biased;
            queued = outbound.recv() => {
                let sent = match queued {
                    Some(Outbound::Text(text)) => sink.send(Message::Text(text.into())).await,
                    Some(Outbound::Binary(bytes)) => sink.send(Message::Binary(bytes.into())).await,
                    Some(Outbound::Close(code, reason)) => break (code, reason, true),
                    None => break (1001, "Going away".to_owned(), true),
                };
                if sent.is_err() {
                    break (1006, "Connection was closed abnormally".to_owned(), false);
                }
                idle.as_mut().reset(tokio::time::Instant::now() + limits.idle_timeout);
                emulator.connections.touch(&id);
            }
            incoming = stream.next() => {
                let (body, is_base64) = match incoming {
                    Some(Ok(Message::Text(text))) => (text.as_str().to_owned(), false),
                    Some(Ok(Message::Binary(bytes))) => (base64::engine::general_purpose::STANDARD.encode(&bytes), true),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                        idle.as_mut().reset(tokio::time::Instant::now() + limits.idle_timeout);
                        continue;
                    }
                    Some(Ok(Message::Close(frame))) => break match frame {
                        Some(frame) => (frame.code, frame.reason.as_str().to_owned(), false),
                        None => (1005, "Client-side close frame status not set".to_owned(), false),
                    },
                    Some(Err(error)) => break match close_for(&error) {
                        Some((code, reason)) => (code, reason.to_owned(), true),
                        None => (1006, "Connection was closed abnormally".to_owned(), false),
                    },
                    None => break (1006, "Connection was closed abnormally".to_owned(), false),
                };
                idle.as_mut().reset(tokio::time::Instant::now() + limits.idle_timeout);
                emulator.connections.touch(&id);
                let route = events::select_route(if is_base64 { "" } else { &body }, &emulator.config.routes).to_owned();
                let event = events::message(&meta, &route, body, is_base64);
                // API Gateway invokes each message on its own; order between them is not guaranteed.
                let emulator = emulator.clone();
                let id = id.clone();
                tokio::spawn(async move {
                    if let Err(error) = emulator.invoke(event).await {
                        let message = match error {
                            IntegrationError::Timeout => "Endpoint request timed out",
                            IntegrationError::Function(_) | IntegrationError::Failed(_) => "Internal server error",
                        };
                        tracing::warn!(connection_id = %id, route = %route, error = %error, "integration failed");
                        let frame = json!({"message": message, "connectionId": id, "requestId": api_gateway_id()});
                        let _ = emulator.connections.send(&id, Outbound::Text(frame.to_string()));
                    }
                });
            }
            () = &mut idle => break (1001, "Going away".to_owned(), true),
            () = &mut lifetime => break (1001, "Going away".to_owned(), true),
        }
    };
    // Gone for the Management API from now on.
    emulator.connections.remove(&id);
    if we_close {
        let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.clone().into() }))).await;
    }
    let _ = sink.close().await;
    tracing::info!(connection_id = %id, code, reason = %reason, "disconnected");
    if let Err(error) = emulator.invoke_disconnect(events::disconnect(&meta, code, &reason)).await {
        tracing::warn!(connection_id = %id, error = %error, "$disconnect integration failed");
    }
}

async fn post_to_connection(
    State(emulator): State<Arc<Emulator>>,
    Path((stage, connection_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if stage != emulator.config.stage {
        return forbidden();
    }
    if body.len() > emulator.config.limits.max_message_bytes {
        return management_error(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLargeException");
    }
    let outbound = match String::from_utf8(body.to_vec()) {
        Ok(text) => Outbound::Text(text),
        Err(e) => Outbound::Binary(e.into_bytes()),
    };
    match emulator.connections.send(&connection_id, outbound) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(r) => refusal(r),
    }
}

async fn get_connection(
    State(emulator): State<Arc<Emulator>>,
    Path((stage, connection_id)): Path<(String, String)>,
) -> Response {
    if stage != emulator.config.stage {
        return forbidden();
    }
    match emulator.connections.info(&connection_id) {
        Some(info) => {
            let mut identity = json!({"sourceIp": info.source_ip});
            if let Some(agent) = info.user_agent {
                identity["userAgent"] = agent.into();
            }
            axum::Json(json!({
                "connectedAt": iso8601(info.connected_at),
                "identity": identity,
                "lastActiveAt": iso8601(info.last_active_at),
            }))
            .into_response()
        }
        None => refusal(Refusal::Gone),
    }
}

async fn delete_connection(
    State(emulator): State<Arc<Emulator>>,
    Path((stage, connection_id)): Path<(String, String)>,
) -> Response {
    if stage != emulator.config.stage {
        return forbidden();
    }
    match emulator.connections.send(&connection_id, Outbound::Close(1000, String::new())) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => refusal(r),
    }
}
