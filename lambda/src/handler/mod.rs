//! One function for every invocation of the WebSocket API: the `$connect` authorizer and every route.
//!
//! - The authorizer ([`Proxy::authorize`], `authorize.rs`): read `booking_id` and `type` from the query
//!   string and the token from the query string, `Sec-WebSocket-Protocol` (`chat.v1, bearer.<jwt>`),
//!   `Authorization: Bearer` or `X-Api-Key`; ask the backend; leave the verdict in the context
//!   ([`crate::authorizer`]).
//! - `$connect` (`connection.rs`): refuse with the verdict's status, or record the connection (one
//!   `PutItem`) with a TTL no later than the token's expiry nor two hours, echoing `chat.v1` when offered;
//!   then tell the backend, which announces the member's presence: presence never precedes the record.
//! - `$default` (and any custom route, `message.rs`): refuse oversized, binary and non-JSON frames with an
//!   error frame; take the connection's booking and user from the context (no lookup); forward to the
//!   backend; deliver the answer (`delivery.rs`). Backend failures become error frames; the connection stays
//!   open.
//! - Token expiry: a connection whose `$connect` token has expired costs one `GetItem` per frame, to learn
//!   whether a `refresh` extended its record; if not, it is told `TOKEN_EXPIRED` and closed. A `refresh` the
//!   backend accepted extends the record (one `UpdateItem`) before its `session` answer is delivered.
//! - `$disconnect` (`connection.rs`): remove the record (one `DeleteItem`, idempotent), tell the backend,
//!   best effort.
//! - User connections (`?type=user`, no booking): the authorizer asks the backend for the user's bookings
//!   (`/api/chat/ws/user/connect`) and carries them in the context; `$connect` records the connection in
//!   each (one `BatchWriteItem` per 25), so each booking's one `Query` per message finds it. A frame names
//!   its booking (`"booking_id"` at the top level, else `VALIDATION_ERROR`) and goes to that booking's
//!   message route, and every answer names the booking. `$disconnect` removes every record (one
//!   `BatchWriteItem` per 25). A user connection's `refresh` renews its records under its user and in the
//!   bookings it knew at connect (one `UpdateItem` each); unrenewed, once its token expires it is told
//!   `TOKEN_EXPIRED` and closed.
//!
//! Every event is logged as one line when it ends: route, action, connection, booking, user, outcome, status
//! and duration (the event's span carries the fields, filled in as they become known). The handler never
//! logs tokens, secrets or message bodies.

use std::time::Instant;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use chat_connections::gateway::management_endpoint;
use chat_connections::{ConnectionGateway, ConnectionStore, DeliveryPolicy, Fanout};
use chat_wire::ErrorCode;
use chat_wire::time::now_millis;
use serde_json::Value;
use tracing::Instrument;

use crate::authorizer::Verdict;
use crate::config::ProxyConfig;
use crate::event::{Answer, Event};
use crate::ports::Backend;

mod authorize;
mod connection;
mod delivery;
mod message;

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
            gone = tracing::field::Empty, connecting = tracing::field::Empty,
            expired = tracing::field::Empty, failed = tracing::field::Empty,
            connection_type = tracing::field::Empty, reason = tracing::field::Empty)
    };
}
pub(crate) use event_span;

/// The route of a WebSocket event: its route key, else what its event type implies.
fn route_of(event: &ApiGatewayWebsocketProxyRequest) -> String {
    event
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
        .unwrap_or_else(|| "$default".to_owned())
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
        let event = Event::from_json(&event.to_string())?;
        Ok(serde_json::to_value(self.answer(event).await?)?)
    }

    /// Handles an event read from its JSON text ([`Event::from_json`]), as the Lambda runtime hands it
    /// over: [`Proxy::invoke`] without a `serde_json::Value` in or out.
    ///
    /// # Errors
    /// [`InvocationError::Unauthorized`] (the authorizer's 401).
    pub async fn answer(&self, event: Event) -> Result<Answer, InvocationError> {
        match event {
            Event::Authorizer(request) => Ok(Answer::Authorizer(self.authorize(&request).await?)),
            Event::WebSocket(event) => Ok(Answer::WebSocket(self.handle(*event).await)),
        }
    }

    /// Handles one WebSocket event. Never panics on a malformed event: it answers 400 (or 500 for our
    /// failures).
    pub async fn handle(&self, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
        let started = Instant::now();
        let route = route_of(&event);
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

    /// The Management API endpoint: configured, else built from the event's API, region and stage.
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
}
