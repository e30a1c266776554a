//! One handler for every route of the WebSocket API.
//!
//! - `$connect`: read `booking_id` and `type` from the query string and the token from the query string,
//!   `Sec-WebSocket-Protocol` (`chat.v1, bearer.<jwt>`; `chat.v1` is echoed or browsers drop the socket),
//!   `Authorization: Bearer` or `X-Api-Key`; ask the backend; on 200 record the connection with a TTL no
//!   later than the token's expiry nor two hours. 401/403/404 from the backend refuse the handshake with the
//!   same status; a backend that is down, slow or failing refuses it with 502.
//! - `$default` (and any custom route): refuse oversized, binary and non-JSON frames with an error frame;
//!   find the connection's booking and user (one consistent key lookup); forward to the backend; relay
//!   the answer to the sender or the whole booking. Backend failures become error frames; the connection
//!   stays open.
//! - `$disconnect`: remove the records (idempotent), tell the backend, best effort.
//!
//! The handler never logs tokens, secrets or message bodies.

use std::time::Instant;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use chat_connections::fanout::emf_line;
use chat_connections::gateway::management_endpoint;
use chat_connections::record::{ConnectionRecord, now_millis, now_seconds, ttl_for};
use chat_connections::{
    ConnectionGateway, ConnectionStore, Delivery, DeliveryPolicy, Fanout, PostError, Recipient,
};
use chat_wire::client::MAX_REQUEST_ID_CHARS;
use chat_wire::handshake::{CHAT_SUBPROTOCOL, find_token, offers_chat_subprotocol};
use chat_wire::proxy::{Audience, ConnectRequest, ConnectionType, DisconnectRequest, MessageRequest};
use chat_wire::{BookingId, ErrorCode, ServerFrame};
use serde_json::Value;
use tracing::Instrument;

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
    Refused(ErrorCode),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Relayed => f.write_str("relayed"),
            Self::Broadcast => f.write_str("broadcast"),
            Self::NothingToSend => f.write_str("nothing_to_send"),
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

/// Records a field on the current event span.
fn span_field(field: &'static str, value: impl tracing::Value) {
    tracing::Span::current().record(field, value);
}

impl<S: ConnectionStore, G: ConnectionGateway, B: Backend> Proxy<S, G, B> {
    /// Wires the proxy to its adapters.
    pub fn new(store: S, gateway: G, backend: B, settings: ProxySettings) -> Self {
        Self { fanout: Fanout::new(store, gateway, settings.delivery.clone()), backend, settings }
    }

    /// Handles one event. Never panics on a malformed event: it answers 400 (or 500 for our failures).
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
        let span = tracing::info_span!("event", route = %route, connection_id = %connection_id,
            booking_id = tracing::field::Empty, user_id = tracing::field::Empty);
        async {
            let answer = match route.as_str() {
                "$connect" => self.on_connect(&event, &connection_id).await,
                "$disconnect" => self.on_disconnect(&event, &connection_id).await,
                _ => self.on_message(&event, &connection_id).await,
            };
            tracing::info!(
                status = answer.status_code,
                duration_ms = started.elapsed().as_millis() as u64,
                "event handled"
            );
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

    async fn on_connect(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection_id: &str,
    ) -> ApiGatewayProxyResponse {
        let query = &event.query_string_parameters;
        let Some(booking_id) =
            query.first("booking_id").and_then(|b| b.parse::<BookingId>().ok()).filter(|b| *b > 0)
        else {
            tracing::info!(reason = "missing or malformed booking_id", "handshake refused");
            return response(400);
        };
        span_field("booking_id", booking_id);
        let connection_type = match query.first("type") {
            None | Some("") => ConnectionType::Chat,
            Some(text) => match ConnectionType::parse(text) {
                Some(t) => t,
                None => {
                    tracing::info!(reason = "unknown connection type", "handshake refused");
                    return response(400);
                }
            },
        };
        let subprotocols = header(event, "sec-websocket-protocol");
        let Some((token, source)) = find_token(
            query.first("token"),
            subprotocols,
            header(event, "authorization"),
            header(event, "x-api-key"),
        ) else {
            tracing::info!(reason = "no token", "handshake refused");
            return response(401);
        };
        let request = ConnectRequest {
            connection_id: connection_id.to_owned(),
            token: token.to_owned(),
            connection_type,
        };
        let accepted = match self.backend.connect(booking_id, &request).await {
            Ok(accepted) => accepted,
            Err(BackendError::Refused { status, error }) => {
                tracing::info!(
                    backend_status = status,
                    code = error.code.as_str(),
                    "handshake refused by the backend"
                );
                return response(if (400..500).contains(&status) { status } else { 403 });
            }
            Err(error) => {
                tracing::error!(error = %error, "backend failed during connect; refusing the handshake");
                return response(502);
            }
        };
        span_field("user_id", accepted.user_id.as_str());
        if accepted.booking_id != booking_id {
            tracing::error!(answered = accepted.booking_id, "backend accepted another booking; refusing");
            return response(502);
        }
        let connected_at = if event.request_context.connected_at > 0 {
            event.request_context.connected_at
        } else {
            now_millis()
        };
        let ttl = ttl_for(connected_at, accepted.expires_at);
        if ttl <= now_seconds() {
            tracing::info!(reason = "token expires now", "handshake refused");
            return response(401);
        }
        let record = ConnectionRecord {
            booking_id,
            connection_id: connection_id.to_owned(),
            user_id: accepted.user_id,
            connection_type,
            connected_at,
            ttl,
        };
        if let Err(error) = self.fanout.store().put(&record).await {
            tracing::error!(error = %error, "could not record the connection; refusing the handshake");
            return response(503);
        }
        let mut answer = response(200);
        // A browser that offered subprotocols drops a socket whose handshake echoes none of them, so
        // `chat.v1` is echoed when offered. Nothing else ever is: echoing a `bearer.<jwt>` value would
        // send the token back in a response header, where proxies and logs keep it.
        if subprotocols.is_some_and(offers_chat_subprotocol) {
            answer.headers = HeaderMap::new();
            answer.headers.insert("sec-websocket-protocol", HeaderValue::from_static(CHAT_SUBPROTOCOL));
        }
        tracing::info!(token_source = ?source, connection_type = connection_type.as_str(), ttl, "connection recorded");
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
            return self.refuse(&endpoint, sender, ErrorCode::PayloadTooLarge, message, None).await;
        }
        if event.is_base64_encoded {
            let message = "binary frames are not supported; send JSON text".to_owned();
            return self.refuse(&endpoint, sender, ErrorCode::ValidationError, message, None).await;
        }
        let frame: Value = match serde_json::from_str(body) {
            Ok(value) => value,
            Err(e) => {
                let message = format!("frame is not valid JSON: {e}");
                return self.refuse(&endpoint, sender, ErrorCode::ValidationError, message, None).await;
            }
        };
        let request_id = request_id_of(&frame);

        let record = match self.fanout.store().find(connection_id).await {
            Ok(Some(record)) => record,
            Ok(None) => {
                // No record: expired, or never completed $connect. Say so and close the socket.
                let message = "this connection is not (or no longer) authenticated; reconnect".to_owned();
                let answer =
                    self.refuse(&endpoint, sender, ErrorCode::AuthenticationError, message, request_id).await;
                if let Err(e) = self.fanout.gateway().close(&endpoint, connection_id).await {
                    tracing::debug!(error = %e, "closing an unknown connection");
                }
                return answer;
            }
            Err(error) => {
                tracing::error!(error = %error, "connection lookup failed");
                let message = "the chat service is unavailable; try again shortly".to_owned();
                return self
                    .refuse(&endpoint, sender, ErrorCode::BackendUnavailable, message, request_id)
                    .await;
            }
        };
        span_field("booking_id", record.booking_id);
        span_field("user_id", record.user_id.as_str());
        let sender = Recipient::Recorded(&record);

        let request = MessageRequest {
            connection_id: connection_id.to_owned(),
            user_id: record.user_id.clone(),
            message: frame,
            connection_type: record.connection_type,
        };
        let reply = match self.backend.message(record.booking_id, &request).await {
            Ok(Some(reply)) => reply,
            Ok(None) => {
                tracing::info!(outcome = %Outcome::NothingToSend, "frame handled");
                return response(200);
            }
            Err(BackendError::Refused { error, .. }) => {
                return self.refuse(&endpoint, sender, error.code, error.message, request_id).await;
            }
            Err(error) => {
                tracing::error!(error = %error, "backend failed; answering BACKEND_UNAVAILABLE");
                let message = "the chat service is unavailable; try again shortly".to_owned();
                return self
                    .refuse(&endpoint, sender, ErrorCode::BackendUnavailable, message, request_id)
                    .await;
            }
        };
        let text = reply.frame_text();
        let except = match reply.audience() {
            Audience::Sender => {
                return self.send(&endpoint, sender, &text, Outcome::Relayed, request_id).await;
            }
            Audience::Booking => None,
            Audience::BookingExceptSender => Some(connection_id),
        };
        match self.fanout.to_booking(&endpoint, record.booking_id, reply.frame_type(), &text, except).await {
            Ok(report) => {
                tracing::info!(
                    outcome = %Outcome::Broadcast,
                    recipients = report.recipients,
                    delivered = report.delivered,
                    gone = report.gone,
                    failed = report.failed,
                    retries = report.retries,
                    fanout_ms = report.duration.as_secs_f64() * 1000.0,
                    "fan-out"
                );
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
                self.refuse(&endpoint, sender, ErrorCode::BackendUnavailable, message, request_id).await
            }
        }
    }

    /// Sends an `error` frame to the sender; the connection stays open.
    async fn refuse(
        &self,
        endpoint: &str,
        sender: Recipient<'_>,
        code: ErrorCode,
        message: String,
        request_id: Option<String>,
    ) -> ApiGatewayProxyResponse {
        let frame = ServerFrame::error(code, message, now_millis()).answering(request_id.clone());
        self.send(endpoint, sender, &frame.to_text(), Outcome::Refused(code), request_id).await
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
        tracing::info!(outcome = %outcome, delivery = ?delivery, retries, "frame handled");
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
        let code = event.request_context.disconnect_status_code;
        let reason = event.request_context.disconnect_reason.as_deref().unwrap_or_default();
        let record = match self.fanout.store().find(connection_id).await {
            Ok(record) => record,
            Err(error) => {
                tracing::error!(error = %error, "connection lookup failed during disconnect; the TTL will expire it");
                return response(200);
            }
        };
        let Some(record) = record else {
            tracing::info!(disconnect_status_code = ?code, reason, "disconnect of an unknown connection");
            return response(200);
        };
        span_field("booking_id", record.booking_id);
        span_field("user_id", record.user_id.as_str());
        if let Err(error) = self.fanout.store().remove(record.booking_id, connection_id).await {
            tracing::error!(error = %error, "could not remove the connection; the TTL will expire it");
        }
        let request =
            DisconnectRequest { connection_id: connection_id.to_owned(), user_id: record.user_id.clone() };
        if let Err(error) = self.backend.disconnect(record.booking_id, &request).await {
            tracing::warn!(error = %error, "backend disconnect failed (best effort)");
        }
        tracing::info!(disconnect_status_code = ?code, reason, "connection removed");
        response(200)
    }
}
