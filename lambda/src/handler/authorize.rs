//! The `$connect` authorizer: which booking (or, for a user connection, which bookings) and which user, from
//! the handshake and the backend, once per connection. Its verdict travels in the context to every later
//! event of the connection ([`crate::authorizer`]).

use std::time::Instant;

use chat_connections::emf::{self, Unit};
use chat_connections::{ConnectionGateway, ConnectionStore};
use chat_wire::BookingId;
use chat_wire::handshake::find_token;
use chat_wire::proxy::{ConnectRequest, ConnectionType, MAX_USER_BOOKINGS};
use chat_wire::time::now_millis;
use tracing::Instrument;

use super::{Proxy, Unauthorized, event_span, millis, span_field};
use crate::authorizer::{AuthorizerRequest, AuthorizerResponse, ConnectionContext, Scope, Verdict};
use crate::ports::{Backend, BackendError};

/// What the handshake asks for: the connection's type and, unless it is a user connection, its booking.
type Asked = (ConnectionType, Option<BookingId>);

impl<S: ConnectionStore, G: ConnectionGateway, B: Backend> Proxy<S, G, B> {
    /// The `$connect` authorizer: the token and the membership, through the backend, once per connection.
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
                    self.count_unauthorized(request);
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

    /// Lambda counts a refusal among the function's Errors; this metric lets an alarm tell refused tokens
    /// from real failures.
    fn count_unauthorized(&self, request: &AuthorizerRequest) {
        if self.settings.emit_metrics {
            let stage = request.request_context.stage.as_deref().unwrap_or("unknown");
            let metric = [("HandshakesUnauthorized", Unit::Count, 1.0)];
            println!("{}", emf::line(&self.settings.metrics_namespace, stage, &metric, now_millis()));
        }
    }

    /// The verdict on a handshake: what it asks for, whose token it carries, and what the backend says.
    async fn verdict(
        &self,
        request: &AuthorizerRequest,
        connection_id: &str,
    ) -> Result<Verdict, Unauthorized> {
        let (connection_type, booking_id) = match asked(request) {
            Ok(asked) => asked,
            Err(reason) => {
                span_field("reason", reason);
                return Ok(Verdict::Refused(400));
            }
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
        let (user_id, expires_at, scope) = match self.accept(booking_id, &connect).await {
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

    /// The backend's acceptance: the user, the token's expiry, and what the connection covers.
    async fn accept(
        &self,
        booking_id: Option<BookingId>,
        connect: &ConnectRequest,
    ) -> Result<(String, i64, Scope), BackendError> {
        match booking_id {
            Some(booking_id) => {
                let accepted = self.backend.connect(booking_id, connect).await?;
                if accepted.booking_id != booking_id {
                    return Err(BackendError::Contract(format!("accepted booking {}", accepted.booking_id)));
                }
                Ok((accepted.user_id, accepted.expires_at, Scope::Booking(booking_id)))
            }
            None => {
                let accepted = self.backend.connect_user(connect).await?;
                let mut bookings = accepted.booking_ids;
                // One record per booking: never more than the contract's cap, never one twice.
                bookings.truncate(MAX_USER_BOOKINGS as usize);
                let mut seen = std::collections::HashSet::new();
                bookings.retain(|b| seen.insert(*b));
                Ok((accepted.user_id, accepted.expires_at, Scope::User(bookings)))
            }
        }
    }
}

/// The connection type and booking a handshake asks for, or why it is malformed.
fn asked(request: &AuthorizerRequest) -> Result<Asked, &'static str> {
    let connection_type = match request.query("type") {
        None | Some("") => ConnectionType::Chat,
        Some(text) => ConnectionType::parse(text).ok_or("unknown connection type")?,
    };
    match (connection_type, request.query("booking_id")) {
        // A user connection covers every booking of its user: naming one is a mistake, said at once.
        (ConnectionType::User, None) => Ok((connection_type, None)),
        (ConnectionType::User, Some(_)) => Err("a user connection names no booking"),
        (_, booking) => match booking.and_then(|b| b.parse::<BookingId>().ok()).filter(|b| *b > 0) {
            Some(booking_id) => Ok((connection_type, Some(booking_id))),
            None => Err("missing or malformed booking_id"),
        },
    }
}
