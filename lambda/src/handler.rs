//! One function for every invocation of the WebSocket API: the `$connect` authorizer and every route.
//!
//! - The authorizer ([`Proxy::authorize`]): read `booking_id` and `type` from the query string and the
//!   token from the query string, `Sec-WebSocket-Protocol` (`chat.v1, bearer.<jwt>`), `Authorization:
//!   Bearer` or `X-Api-Key`; ask the backend; leave the verdict in the context ([`crate::authorizer`]).
//! - `$connect`: refuse with the verdict's status, or record the connection (one `PutItem`) with a TTL no
//!   later than the token's expiry nor two hours, echoing `chat.v1` when offered.
//! - `$default` (and any custom route): refuse oversized, binary and non-JSON frames with an error frame;
//!   take the connection's booking and user from the context (no lookup); forward to the backend; deliver
//!   the answer to its audience (one `Query` for a booking). Backend failures become error frames; the
//!   connection stays open.
//! - Token expiry: a connection whose `$connect` token has expired costs one `GetItem` per frame, to learn
//!   whether a `refresh` extended its record; if not, it is told `TOKEN_EXPIRED` and closed. A `refresh` the
//!   backend accepted extends the record (one `UpdateItem`) before its `session` answer is delivered.
//! - `$disconnect`: remove the record (one `DeleteItem`, idempotent), tell the backend, best effort.
//! - User connections (`?type=user`, no booking): the authorizer asks the backend for the user's bookings
//!   (`/api/chat/ws/user/connect`) and carries them in the context; `$connect` records the connection in
//!   each (one `BatchWriteItem` per 25), so each booking's one `Query` per message finds it. A frame names
//!   its booking (`"booking_id"` at the top level, else `VALIDATION_ERROR`) and goes to that booking's
//!   message route; the sender's copy of a broadcast goes to it directly and the booking's to everyone else,
//!   and every answer names the booking. `$disconnect` removes every record (one `BatchWriteItem` per 25).
//!   A user connection cannot be refreshed: once its token expires it is told `TOKEN_EXPIRED` and closed.
//!
//! Every event is logged as one line when it ends: route, action, connection, booking, user, outcome, status
//! and duration (the event's span carries the fields, filled in as they become known). The handler never
//! logs tokens, secrets or message bodies.

use std::time::Instant;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use chat_connections::emf::{self, Unit};
use chat_connections::fanout::{TOKEN_EXPIRED_MESSAGE, emf_line};
use chat_connections::gateway::management_endpoint;
use chat_connections::record::{ConnectionRecord, now_millis, now_seconds, ttl_for};
use chat_connections::{
    ConnectionGateway, ConnectionStore, Delivery, DeliveryPolicy, Fanout, PostError, Recipient, StoreError,
};
use chat_wire::client::MAX_REQUEST_ID_CHARS;
use chat_wire::handshake::{CHAT_SUBPROTOCOL, find_token, offers_chat_subprotocol};
use chat_wire::proxy::{
    Audience, ConnectRequest, ConnectionType, DisconnectRequest, MAX_USER_BOOKINGS, MessageRequest,
    ProxyReply, booking_named_by,
};
use chat_wire::{BookingId, ErrorCode, ServerFrame};
use serde_json::Value;
use tracing::Instrument;

use crate::authorizer::{AuthorizerRequest, AuthorizerResponse, ConnectionContext, Scope, Verdict};
use crate::config::ProxyConfig;
use crate::ports::{Backend, BackendError};

/// What the handler needs besides its adapters.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// Largest frame forwarded to the backend.
    pub max_frame_bytes: usize,
    /// Pacing and retries of PostToConnection.
    pub delivery: DeliveryPolicy,
    /// A configured Management API endpoint (else built from the event).
    pub management_endpoint: Option<String>,
    /// The region, for building the endpoint from the event.
    pub region: Option<String>,
    /// Namespace of the embedded-metric-format lines.
    pub metrics_namespace: String,
    /// Whether to print embedded-metric-format lines to stdout (on in Lambda).
    pub emit_metrics: bool,
}

impl ProxySettings {
    /// The settings a [`ProxyConfig`] describes.
    pub fn from_config(config: &ProxyConfig) -> Self {
        Self {
            max_frame_bytes: config.max_frame_bytes,
            delivery: DeliveryPolicy {
                concurrency: config.fanout_concurrency,
                attempts: config.post_attempts,
                ..DeliveryPolicy::default()
            },
            management_endpoint: config.management_endpoint.clone(),
            region: config.region.clone(),
            metrics_namespace: config.metrics_namespace.clone(),
            emit_metrics: true,
        }
    }
}

/// The proxy: API Gateway WebSocket events in, backend calls and deliveries out.
#[derive(Debug)]
pub struct Proxy<S, G, B> {
    fanout: Fanout<S, G>,
    backend: B,
    settings: ProxySettings,
}

/// How a `$default` frame ended, for the log line.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Relayed,
    Broadcast,
    NothingToSend,
    Expired,
    Refused(ErrorCode),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Relayed => f.write_str("relayed"),
            Self::Broadcast => f.write_str("broadcast"),
            Self::NothingToSend => f.write_str("nothing_to_send"),
            Self::Expired => f.write_str("token_expired"),
            Self::Refused(code) => write!(f, "refused:{}", code.as_str()),
        }
    }
}

fn response(status: u16) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status);
    response
}

fn header<'a>(event: &'a ApiGatewayWebsocketProxyRequest, name: &str) -> Option<&'a str> {
    event.headers.get(name).or_else(|| event.multi_value_headers.get(name)).and_then(|v| v.to_str().ok())
}

/// The `request_id` of a client frame, echoed in errors the proxy itself produces (only one the backend
/// would accept, so an answer never grows with what a client sends).
fn request_id_of(frame: &Value) -> Option<String> {
    match frame.get("request_id") {
        Some(Value::String(id)) if id.chars().count() <= MAX_REQUEST_ID_CHARS => Some(id.clone()),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// The authorizer's verdict carried by an event, if an authorizer ran.
fn verdict_of(event: &ApiGatewayWebsocketProxyRequest) -> Option<Verdict> {
    Verdict::from_context(&event.request_context.authorizer.fields)
}

/// When API Gateway accepted the connection, epoch ms (now, if the event does not say).
fn connected_at(event: &ApiGatewayWebsocketProxyRequest) -> i64 {
    Some(event.request_context.connected_at).filter(|t| *t > 0).unwrap_or_else(now_millis)
}

/// The authorizer's refusal of a missing or invalid token. API Gateway answers 401 when the function fails
/// with exactly this message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Unauthorized")]
pub struct Unauthorized;

/// Why an invocation produced no answer.
#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    /// The authorizer refuses: the function must fail with the message `Unauthorized`.
    #[error(transparent)]
    Unauthorized(#[from] Unauthorized),
    /// The event is neither an authorizer event nor a WebSocket event.
    #[error("unreadable event: {0}")]
    Unreadable(#[from] serde_json::Error),
}

/// Records a field on the current event span.
fn span_field(field: &'static str, value: impl tracing::Value) {
    tracing::Span::current().record(field, value);
}

/// Milliseconds rounded to a tenth, for log lines.
fn millis(elapsed: std::time::Duration) -> f64 {
    (elapsed.as_secs_f64() * 10_000.0).round() / 10.0
}

/// The span of one event: the fields of its one log line, filled in as they become known.
macro_rules! event_span {
    ($route:expr, $connection_id:expr) => {
        tracing::info_span!("event", route = %$route, connection_id = %$connection_id,
            booking_id = tracing::field::Empty, user_id = tracing::field::Empty,
            action = tracing::field::Empty, outcome = tracing::field::Empty,
            recipients = tracing::field::Empty, delivered = tracing::field::Empty,
            gone = tracing::field::Empty, expired = tracing::field::Empty, failed = tracing::field::Empty,
            connection_type = tracing::field::Empty, reason = tracing::field::Empty)
    };
}

impl<S: ConnectionStore, G: ConnectionGateway, B: Backend> Proxy<S, G, B> {
    /// Wires the proxy to its adapters.
    pub fn new(store: S, gateway: G, backend: B, settings: ProxySettings) -> Self {
        Self { fanout: Fanout::new(store, gateway, settings.delivery.clone()), backend, settings }
    }

    /// Handles any invocation of the function: a `$connect` authorizer event or a WebSocket event, told
    /// apart by their shape, as one function serves both.
    ///
    /// # Errors
    /// [`InvocationError::Unauthorized`] (the authorizer's 401), or an event that is neither.
    pub async fn invoke(&self, event: Value) -> Result<Value, InvocationError> {
        if AuthorizerRequest::is_one(&event) {
            let request: AuthorizerRequest = serde_json::from_value(event)?;
            let response = self.authorize(&request).await?;
            return Ok(serde_json::to_value(response)?);
        }
        let event: ApiGatewayWebsocketProxyRequest = serde_json::from_value(event)?;
        Ok(serde_json::to_value(self.handle(event).await)?)
    }

    /// Handles one WebSocket event. Never panics on a malformed event: it answers 400 (or 500 for our
    /// failures).
    pub async fn handle(&self, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
        let started = Instant::now();
        let route = event
            .request_context
            .route_key
            .clone()
            .or_else(|| {
                event.request_context.event_type.as_deref().map(|t| match t {
                    "CONNECT" => "$connect".to_owned(),
                    "DISCONNECT" => "$disconnect".to_owned(),
                    _ => "$default".to_owned(),
                })
            })
            .unwrap_or_else(|| "$default".to_owned());
        let Some(connection_id) = event.request_context.connection_id.clone().filter(|c| !c.is_empty())
        else {
            tracing::warn!(route = %route, status = 400, "event without a connection id");
            return response(400);
        };
        // The span is attached to the future, never entered across an `.await`: invocations run
        // concurrently on the same threads, and an entered guard held over a suspension point would nest
        // every concurrent invocation's span inside the others'.
        let span = event_span!(route, connection_id);
        async {
            let answer = match route.as_str() {
                "$connect" => self.on_connect(&event, &connection_id).await,
                "$disconnect" => self.on_disconnect(&event, &connection_id).await,
                _ => self.on_message(&event, &connection_id).await,
            };
            tracing::info!(status = answer.status_code, duration_ms = millis(started.elapsed()), "handled");
            answer
        }
        .instrument(span)
        .await
    }

    fn endpoint(&self, event: &ApiGatewayWebsocketProxyRequest) -> Option<String> {
        if let Some(endpoint) = &self.settings.management_endpoint {
            return Some(endpoint.clone());
        }
        let context = &event.request_context;
        match (context.apiid.as_deref(), self.settings.region.as_deref(), context.stage.as_deref()) {
            (Some(api), Some(region), Some(stage)) => Some(management_endpoint(api, region, stage)),
            _ => None,
        }
    }

    /// The `$connect` authorizer: the token and the membership, through the backend, once per connection.
    /// Its verdict travels in the context to every later event of the connection ([`crate::authorizer`]).
    ///
    /// # Errors
    /// [`Unauthorized`] for a missing or invalid token (API Gateway answers 401).
    pub async fn authorize(&self, request: &AuthorizerRequest) -> Result<AuthorizerResponse, Unauthorized> {
        let connection_id = request.request_context.connection_id.as_deref().unwrap_or_default();
        let span = event_span!("$authorizer", connection_id);
        let started = Instant::now();
        async {
            let verdict = match self.verdict(request, connection_id).await {
                Ok(verdict) => verdict,
                Err(Unauthorized) => {
                    tracing::info!(status = 401, duration_ms = millis(started.elapsed()), "handled");
                    // Lambda counts the refusal among the function's Errors; this metric lets an alarm
                    // tell refused tokens from real failures.
                    if self.settings.emit_metrics {
                        let stage = request.request_context.stage.as_deref().unwrap_or("unknown");
                        let metric = [("HandshakesUnauthorized", Unit::Count, 1.0)];
                        println!(
                            "{}",
                            emf::line(&self.settings.metrics_namespace, stage, &metric, now_millis())
                        );
                    }
                    return Err(Unauthorized);
                }
            };
            let (principal, status) = match &verdict {
                Verdict::Accepted(identity) => (identity.user_id.clone(), 200),
                Verdict::Refused(status) => ("anonymous".to_owned(), *status),
            };
            tracing::info!(status, duration_ms = millis(started.elapsed()), "handled");
            Ok(AuthorizerResponse::allow(&request.method_arn, &principal, verdict.to_context()))
        }
        .instrument(span)
        .await
    }

    async fn verdict(
        &self,
        request: &AuthorizerRequest,
        connection_id: &str,
    ) -> Result<Verdict, Unauthorized> {
        let connection_type = match request.query("type") {
            None | Some("") => ConnectionType::Chat,
            Some(text) => match ConnectionType::parse(text) {
                Some(t) => t,
                None => {
                    span_field("reason", "unknown connection type");
                    return Ok(Verdict::Refused(400));
                }
            },
        };
        let booking_id = match (connection_type, request.query("booking_id")) {
            // A user connection covers every booking of its user: naming one is a mistake, said at once.
            (ConnectionType::User, None) => None,
            (ConnectionType::User, Some(_)) => {
                span_field("reason", "a user connection names no booking");
                return Ok(Verdict::Refused(400));
            }
            (_, booking) => match booking.and_then(|b| b.parse::<BookingId>().ok()).filter(|b| *b > 0) {
                Some(booking_id) => Some(booking_id),
                None => {
                    span_field("reason", "missing or malformed booking_id");
                    return Ok(Verdict::Refused(400));
                }
            },
        };
        if let Some(booking_id) = booking_id {
            span_field("booking_id", booking_id);
        }
        let Some((token, source)) = find_token(
            request.query("token"),
            request.header("sec-websocket-protocol"),
            request.header("authorization"),
            request.header("x-api-key"),
        ) else {
            span_field("reason", "no token");
            return Err(Unauthorized);
        };
        let connect = ConnectRequest {
            connection_id: connection_id.to_owned(),
            token: token.to_owned(),
            connection_type,
        };
        let accepted = match booking_id {
            Some(booking_id) => self.backend.connect(booking_id, &connect).await.and_then(|accepted| {
                if accepted.booking_id == booking_id {
                    Ok((accepted.user_id, accepted.expires_at, Scope::Booking(booking_id)))
                } else {
                    Err(BackendError::Contract(format!("accepted booking {}", accepted.booking_id)))
                }
            }),
            None => self.backend.connect_user(&connect).await.map(|accepted| {
                let mut bookings = accepted.booking_ids;
                // One record per booking: never more than the contract's cap, never one twice.
                bookings.truncate(MAX_USER_BOOKINGS as usize);
                let mut seen = std::collections::HashSet::new();
                bookings.retain(|b| seen.insert(*b));
                (accepted.user_id, accepted.expires_at, Scope::User(bookings))
            }),
        };
        let (user_id, expires_at, scope) = match accepted {
            Ok(accepted) => accepted,
            Err(BackendError::Refused { status: 401, error }) => {
                tracing::debug!(token_source = ?source, "token refused");
                span_field("reason", error.code.as_str());
                return Err(Unauthorized);
            }
            Err(BackendError::Refused { status, error }) => {
                span_field("reason", error.code.as_str());
                return Ok(Verdict::Refused(if (400..500).contains(&status) { status } else { 403 }));
            }
            Err(error) => {
                tracing::error!(error = %error, "backend failed during connect; refusing the handshake");
                return Ok(Verdict::Refused(502));
            }
        };
        span_field("user_id", user_id.as_str());
        let identity = ConnectionContext { scope, user_id, connection_type, expires_at };
        let connected_at = request.request_context.connected_at.filter(|t| *t > 0).unwrap_or_else(now_millis);
        if identity.is_expired_now(connected_at) {
            span_field("reason", "token expires now");
            return Err(Unauthorized);
        }
        Ok(Verdict::Accepted(identity))
    }

    async fn on_connect(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection_id: &str,
    ) -> ApiGatewayProxyResponse {
        let identity = match verdict_of(event) {
            Some(Verdict::Accepted(identity)) => identity,
            Some(Verdict::Refused(status)) => return response(status),
            None => {
                tracing::error!("no authorizer context on $connect: the route must use the authorizer");
                return response(500);
            }
        };
        span_field("user_id", identity.user_id.as_str());
        let connected_at = connected_at(event);
        let record = |booking_id| ConnectionRecord {
            booking_id,
            connection_id: connection_id.to_owned(),
            user_id: identity.user_id.clone(),
            connection_type: identity.connection_type,
            connected_at,
            ttl: identity.ttl(connected_at),
        };
        let recorded = match &identity.scope {
            Scope::Booking(booking_id) => {
                span_field("booking_id", *booking_id);
                self.fanout.store().put(&record(*booking_id)).await
            }
            // One record in each of the user's bookings, so each booking's one Query per message finds
            // the user's connection too: one BatchWriteItem per 25 bookings, once per connection.
            Scope::User(booking_ids) => {
                span_field("recipients", booking_ids.len());
                let records: Vec<ConnectionRecord> = booking_ids.iter().copied().map(record).collect();
                self.fanout.store().put_all(&records).await
            }
        };
        if let Err(error) = recorded {
            tracing::error!(error = %error, "could not record the connection; refusing the handshake");
            return response(503);
        }
        let mut answer = response(200);
        // A browser that offered subprotocols drops a socket whose handshake echoes none of them, so
        // `chat.v1` is echoed when offered. Nothing else ever is: echoing a `bearer.<jwt>` value would
        // send the token back in a response header, where proxies and logs keep it.
        if header(event, "sec-websocket-protocol").is_some_and(offers_chat_subprotocol) {
            answer.headers = HeaderMap::new();
            answer.headers.insert("sec-websocket-protocol", HeaderValue::from_static(CHAT_SUBPROTOCOL));
        }
        span_field("connection_type", identity.connection_type.as_str());
        span_field("outcome", "recorded");
        answer
    }

    async fn on_message(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection_id: &str,
    ) -> ApiGatewayProxyResponse {
        let Some(endpoint) = self.endpoint(event) else {
            tracing::error!("no management endpoint: set MANAGEMENT_ENDPOINT or AWS_REGION");
            return response(500);
        };
        let sender = Recipient::Unrecorded(connection_id);
        let body = event.body.as_deref().unwrap_or_default();
        // Checks that need no lookup come first: they cost nothing.
        if body.len() > self.settings.max_frame_bytes {
            let message =
                format!("frame is {} bytes; the limit is {}", body.len(), self.settings.max_frame_bytes);
            return self.refuse(&endpoint, sender, ErrorCode::PayloadTooLarge, message, None, None).await;
        }
        if event.is_base64_encoded {
            let message = "binary frames are not supported; send JSON text".to_owned();
            return self.refuse(&endpoint, sender, ErrorCode::ValidationError, message, None, None).await;
        }
        let frame: Value = match serde_json::from_str(body) {
            Ok(value) => value,
            Err(e) => {
                let message = format!("frame is not valid JSON: {e}");
                return self.refuse(&endpoint, sender, ErrorCode::ValidationError, message, None, None).await;
            }
        };
        let request_id = request_id_of(&frame);
        if let Some(action) = frame.get("action").and_then(Value::as_str).filter(|a| a.len() <= 32) {
            span_field("action", action);
        }

        let Some(Verdict::Accepted(identity)) = verdict_of(event) else {
            // No identity: no authorizer ran. Say so and close.
            let message = "this connection is not authenticated; reconnect".to_owned();
            let answer = self
                .refuse(&endpoint, sender, ErrorCode::AuthenticationError, message, request_id, None)
                .await;
            if let Err(e) = self.fanout.gateway().close(&endpoint, connection_id).await {
                tracing::debug!(error = %e, "closing an unauthenticated connection");
            }
            return answer;
        };
        span_field("user_id", identity.user_id.as_str());
        let connected_at = connected_at(event);
        // The booking the frame acts on: the connection's own, or (a user connection) the one the frame
        // names. A user connection's answers name it too, and its records are per booking.
        let (booking_id, about, sender) = match &identity.scope {
            Scope::Booking(booking_id) => {
                (*booking_id, None, Recipient::Recorded { booking_id: *booking_id, connection_id })
            }
            Scope::User(bookings) => {
                if identity.is_expired_now(connected_at) {
                    // A user connection cannot be refreshed (its records are one per booking): it is
                    // told and closed; its `$disconnect` forgets its records.
                    self.expire_user_connection(&endpoint, connection_id).await;
                    span_field("outcome", tracing::field::display(Outcome::Expired));
                    return response(200);
                }
                let Some(booking_id) = booking_named_by(&frame) else {
                    let message =
                        "a user connection's frame names its booking: \"booking_id\": <id> beside \"action\""
                            .to_owned();
                    return self
                        .refuse(&endpoint, sender, ErrorCode::ValidationError, message, request_id, None)
                        .await;
                };
                // Recorded in the booking if it was the user's at connect; a booking joined since has
                // no record of this connection (until it reconnects), but its answers still come back.
                let sender = if bookings.contains(&booking_id) {
                    Recipient::Recorded { booking_id, connection_id }
                } else {
                    Recipient::Unrecorded(connection_id)
                };
                (booking_id, Some(booking_id), sender)
            }
        };
        span_field("booking_id", booking_id);
        let expires_at = if identity.is_expired_now(connected_at) {
            match self.renewed_expiry(booking_id, connection_id).await {
                Ok(Some(expires_at)) => expires_at,
                Ok(None) => {
                    self.fanout.expire(&endpoint, booking_id, connection_id).await;
                    span_field("outcome", tracing::field::display(Outcome::Expired));
                    return response(200);
                }
                Err(error) => {
                    tracing::error!(error = %error, "could not read the connection's renewed expiry");
                    let message = "the chat service is unavailable; try again shortly".to_owned();
                    return self
                        .refuse(&endpoint, sender, ErrorCode::BackendUnavailable, message, request_id, about)
                        .await;
                }
            }
        } else {
            identity.expires_at
        };

        let request = MessageRequest {
            connection_id: connection_id.to_owned(),
            user_id: identity.user_id.clone(),
            message: frame,
            connection_type: identity.connection_type,
            connected_at: Some(connected_at),
            expires_at: Some(expires_at),
        };
        let reply = match self.backend.message(booking_id, &request).await {
            Ok(Some(reply)) => reply,
            Ok(None) => {
                span_field("outcome", tracing::field::display(Outcome::NothingToSend));
                return response(200);
            }
            Err(BackendError::Refused { error, .. }) => {
                return self.refuse(&endpoint, sender, error.code, error.message, request_id, about).await;
            }
            Err(error) => {
                tracing::error!(error = %error, "backend failed; answering BACKEND_UNAVAILABLE");
                let message = "the chat service is unavailable; try again shortly".to_owned();
                return self
                    .refuse(&endpoint, sender, ErrorCode::BackendUnavailable, message, request_id, about)
                    .await;
            }
        };
        let reply = match about {
            Some(booking_id) => reply.naming_booking(booking_id),
            None => reply,
        };
        if let (Some(renewed), Scope::Booking(_)) = (reply.token_expires_at, &identity.scope) {
            // A `refresh` the backend accepted: the record must follow before the client is told.
            let ttl = ttl_for(connected_at, renewed);
            match self.fanout.store().renew(booking_id, connection_id, ttl).await {
                Ok(true) => {}
                Ok(false) => {
                    // No record left to extend: the connection no longer receives anything. Close it, so
                    // the client reconnects.
                    self.fanout.expire(&endpoint, booking_id, connection_id).await;
                    span_field("outcome", tracing::field::display(Outcome::Expired));
                    return response(200);
                }
                Err(error) => {
                    tracing::error!(error = %error, "could not renew the connection's record");
                    let message = "the session could not be renewed; try again shortly".to_owned();
                    return self
                        .refuse(&endpoint, sender, ErrorCode::BackendUnavailable, message, request_id, about)
                        .await;
                }
            }
        }
        let text = reply.frame_text();
        let except = match (reply.audience(), &identity.scope) {
            (Audience::Sender, _) => {
                return self.send(&endpoint, sender, &text, Outcome::Relayed, request_id).await;
            }
            (Audience::Booking, Scope::Booking(_)) => None,
            // A user connection may have no record in the booking: its copy (its acknowledgement) goes
            // to it directly, and the booking's to everyone else, so it never gets two.
            (Audience::Booking, Scope::User(_)) => {
                let (delivery, _) = self.fanout.to_connection(&endpoint, sender, &text).await;
                if let Delivery::Failed(error) = &delivery {
                    self.tell_undelivered(&endpoint, sender, error, request_id.clone()).await;
                }
                Some(connection_id)
            }
            (Audience::BookingExceptSender, _) => Some(connection_id),
        };
        match self.fanout.to_booking(&endpoint, booking_id, reply.frame_type(), &text, except).await {
            Ok(report) => {
                span_field("outcome", tracing::field::display(Outcome::Broadcast));
                span_field("recipients", report.recipients);
                span_field("delivered", report.delivered);
                span_field("gone", report.gone);
                span_field("expired", report.expired);
                span_field("failed", report.failed);
                if self.settings.emit_metrics {
                    let stage = event.request_context.stage.as_deref().unwrap_or("unknown");
                    let line = emf_line(&report, &self.settings.metrics_namespace, stage, now_millis());
                    println!("{line}");
                }
                // The sender's copy of a broadcast is its acknowledgement: if it could not be delivered,
                // say so rather than leave the sender waiting.
                if let Some((_, error)) = report.failures.iter().find(|(id, _)| id == connection_id) {
                    self.tell_undelivered(&endpoint, sender, error, request_id).await;
                }
                response(200)
            }
            Err(error) => {
                tracing::error!(error = %error, "could not list the booking's connections");
                let message = "the chat service is unavailable; try again shortly".to_owned();
                self.refuse(&endpoint, sender, ErrorCode::BackendUnavailable, message, request_id, about)
                    .await
            }
        }
    }

    /// Tells a user connection whose token has expired (`TOKEN_EXPIRED`) and closes it. Its records, one
    /// per booking, are forgotten by its `$disconnect` (or expire with the token: their TTL is its expiry).
    async fn expire_user_connection(&self, endpoint: &str, connection_id: &str) {
        let frame = ServerFrame::error(ErrorCode::TokenExpired, TOKEN_EXPIRED_MESSAGE, now_millis());
        let (delivery, _) =
            self.fanout.to_connection(endpoint, Recipient::Unrecorded(connection_id), &frame.to_text()).await;
        if delivery != Delivery::Gone
            && let Err(error) = self.fanout.gateway().close(endpoint, connection_id).await
            && error != PostError::Gone
        {
            tracing::warn!(error = %error, "could not close an expired user connection");
        }
    }

    /// The expiry a `refresh` gave a connection whose `$connect` token has expired, if it was renewed and
    /// is still valid: one `GetItem`, only for such connections.
    async fn renewed_expiry(
        &self,
        booking_id: BookingId,
        connection_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let now = now_seconds();
        let record = self.fanout.store().find(booking_id, connection_id).await?;
        Ok(record.filter(|record| !record.is_expired(now)).map(|record| record.ttl))
    }

    /// Sends an `error` frame to the sender (naming the booking `about`, for a user connection); the
    /// connection stays open.
    async fn refuse(
        &self,
        endpoint: &str,
        sender: Recipient<'_>,
        code: ErrorCode,
        message: String,
        request_id: Option<String>,
        about: Option<BookingId>,
    ) -> ApiGatewayProxyResponse {
        let frame = ServerFrame::error(code, message, now_millis()).answering(request_id.clone());
        let text = match about {
            // A user connection's answers name their booking, errors included.
            Some(booking_id) => {
                ProxyReply::new(&frame, Audience::Sender).naming_booking(booking_id).frame_text()
            }
            None => frame.to_text(),
        };
        self.send(endpoint, sender, &text, Outcome::Refused(code), request_id).await
    }

    /// Sends a frame to the sender, retrying throttling; a recorded sender found gone is forgotten. An
    /// answer that cannot be delivered is replaced by an error frame saying why: no answer disappears.
    async fn send(
        &self,
        endpoint: &str,
        sender: Recipient<'_>,
        frame: &str,
        outcome: Outcome,
        request_id: Option<String>,
    ) -> ApiGatewayProxyResponse {
        let (delivery, retries) = self.fanout.to_connection(endpoint, sender, frame).await;
        span_field("outcome", tracing::field::display(outcome));
        if delivery != Delivery::Delivered {
            tracing::debug!(delivery = ?delivery, retries, "answer not delivered");
        }
        if let Delivery::Failed(error) = &delivery {
            self.tell_undelivered(endpoint, sender, error, request_id).await;
        }
        response(200)
    }

    /// Tells the sender that its answer could not be delivered, and why. Best effort, once: if this small
    /// frame cannot be delivered either, the failure is logged.
    async fn tell_undelivered(
        &self,
        endpoint: &str,
        sender: Recipient<'_>,
        error: &PostError,
        request_id: Option<String>,
    ) {
        let (code, message) = match error {
            PostError::TooLarge(bytes) => (
                ErrorCode::PayloadTooLarge,
                format!(
                    "the answer is {bytes} bytes, over API Gateway's 128 KB message limit, and was not \
                     delivered; ask for less (for example a smaller sync limit)"
                ),
            ),
            PostError::Gone => return,
            PostError::Retryable(_) | PostError::Failed(_) => (
                ErrorCode::InternalError,
                "the answer could not be delivered; send the frame again".to_owned(),
            ),
        };
        let frame = ServerFrame::error(code, message, now_millis()).answering(request_id);
        let (delivery, _) = self.fanout.to_connection(endpoint, sender, &frame.to_text()).await;
        if delivery != Delivery::Delivered {
            tracing::warn!(delivery = ?delivery, "could not tell the sender its answer was undelivered");
        }
    }

    async fn on_disconnect(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection_id: &str,
    ) -> ApiGatewayProxyResponse {
        let reason = event.request_context.disconnect_reason.as_deref().unwrap_or_default();
        let close = match event.request_context.disconnect_status_code {
            Some(code) => format!("{code} {reason}"),
            None => reason.to_owned(),
        };
        span_field("reason", close.trim());
        let Some(Verdict::Accepted(identity)) = verdict_of(event) else {
            span_field("outcome", "never_accepted");
            return response(200);
        };
        span_field("user_id", identity.user_id.as_str());
        let booking_id = match &identity.scope {
            Scope::Booking(booking_id) => *booking_id,
            Scope::User(bookings) => {
                // Every record of the connection, one per booking (one BatchWriteItem per 25). A user
                // connection counts for no presence, so the backend has nothing to hear.
                if let Err(error) = self.fanout.store().remove_all(bookings, connection_id).await {
                    tracing::error!(error = %error, "could not remove the connection; the TTL will expire it");
                }
                span_field("outcome", "removed");
                return response(200);
            }
        };
        span_field("booking_id", booking_id);
        if let Err(error) = self.fanout.store().remove(booking_id, connection_id).await {
            tracing::error!(error = %error, "could not remove the connection; the TTL will expire it");
        }
        let request =
            DisconnectRequest { connection_id: connection_id.to_owned(), user_id: identity.user_id };
        if let Err(error) = self.backend.disconnect(booking_id, &request).await {
            tracing::warn!(error = %error, "backend disconnect failed (best effort)");
        }
        span_field("outcome", "removed");
        response(200)
    }
}
