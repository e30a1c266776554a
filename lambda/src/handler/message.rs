//! `$default`: one client frame, handled as a list of steps, each in its own function: read the frame,
//! identify the sender, find the booking it acts on, check the token's expiry, ask the backend, follow a
//! renewal, deliver the answer ([`super::delivery`]). A step that ends the frame's handling says how
//! ([`Stop`]): an error frame for the sender, or nothing more to do.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use chat_connections::record::ttl_for;
use chat_connections::{ConnectionGateway, ConnectionStore, Recipient, StoreError};
use chat_wire::client::MAX_REQUEST_ID_CHARS;
use chat_wire::proxy::{MessageRequest, ProxyReply, booking_named_by};
use chat_wire::time::now_seconds;
use chat_wire::{BookingId, ErrorCode};
use serde_json::Value;

use super::{Outcome, Proxy, connected_at, response, span_field, verdict_of};
use crate::authorizer::{ConnectionContext, Scope, Verdict};
use crate::ports::{Backend, BackendError};

/// Why handling a frame stopped before its answer was delivered.
pub(super) enum Stop {
    /// The sender is told this error; the connection stays open.
    Refuse(ErrorCode, String),
    /// Nothing more to do: the connection expired and was closed, or there is nothing to send.
    Done(Outcome),
}

/// What every refusal of an unavailable dependency says.
const UNAVAILABLE: &str = "the chat service is unavailable; try again shortly";

impl Stop {
    fn unavailable() -> Self {
        Self::Refuse(ErrorCode::BackendUnavailable, UNAVAILABLE.to_owned())
    }
}

/// The connection a frame came from, and where answers to it go.
pub(super) struct Sender<'a> {
    /// The Management API endpoint.
    pub(super) endpoint: String,
    /// The connection.
    pub(super) connection_id: &'a str,
    /// Its record in the booking the frame acts on, when it has one there (else unrecorded).
    pub(super) recipient: Recipient<'a>,
    /// The frame's `request_id`, echoed in errors the proxy itself produces.
    pub(super) request_id: Option<String>,
    /// For a user connection: the booking its answers name.
    pub(super) about: Option<BookingId>,
    /// When API Gateway accepted the connection, epoch ms.
    pub(super) connected_at: i64,
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

impl<S: ConnectionStore, G: ConnectionGateway, B: Backend> Proxy<S, G, B> {
    /// `$default`: always 200 (API Gateway sends nothing back for a route's answer); what the client
    /// hears comes through the Management API.
    pub(super) async fn on_message(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection_id: &str,
    ) -> ApiGatewayProxyResponse {
        let Some(endpoint) = self.endpoint(event) else {
            tracing::error!("no management endpoint: set MANAGEMENT_ENDPOINT or AWS_REGION");
            return response(500);
        };
        let mut sender = Sender {
            endpoint,
            connection_id,
            recipient: Recipient::Unrecorded(connection_id),
            request_id: None,
            about: None,
            connected_at: connected_at(event),
        };
        let outcome = match self.handle_frame(event, &mut sender).await {
            Ok(outcome) | Err(Stop::Done(outcome)) => outcome,
            Err(Stop::Refuse(code, message)) => self.refuse(&sender, code, message).await,
        };
        span_field("outcome", tracing::field::display(outcome));
        response(200)
    }

    async fn handle_frame<'a>(
        &self,
        event: &'a ApiGatewayWebsocketProxyRequest,
        sender: &mut Sender<'a>,
    ) -> Result<Outcome, Stop> {
        let frame = self.read_frame(event)?;
        sender.request_id = request_id_of(&frame);
        if let Some(action) = frame.get("action").and_then(Value::as_str).filter(|a| a.len() <= 32) {
            span_field("action", action);
        }
        let identity = self.identify(event, sender).await?;
        let booking_id = self.booking_of(&identity, &frame, sender).await?;
        let expires_at = self.current_expiry(&identity, booking_id, sender).await?;
        let reply = self.ask_backend(&identity, booking_id, frame, expires_at, sender).await?;
        let reply = match sender.about {
            Some(booking_id) => reply.naming_booking(booking_id),
            None => reply,
        };
        self.follow_renewal(&identity, booking_id, &reply, sender).await?;
        let stage = event.request_context.stage.as_deref().unwrap_or("unknown");
        Ok(self.deliver(booking_id, &reply, sender, stage).await)
    }

    /// The frame as JSON, if it is within the size limit, text, and JSON: checks that need no lookup.
    fn read_frame(&self, event: &ApiGatewayWebsocketProxyRequest) -> Result<Value, Stop> {
        let body = event.body.as_deref().unwrap_or_default();
        let limit = self.settings.max_frame_bytes;
        if body.len() > limit {
            let message = format!("frame is {} bytes; the limit is {limit}", body.len());
            return Err(Stop::Refuse(ErrorCode::PayloadTooLarge, message));
        }
        if event.is_base64_encoded {
            let message = "binary frames are not supported; send JSON text".to_owned();
            return Err(Stop::Refuse(ErrorCode::ValidationError, message));
        }
        serde_json::from_str(body)
            .map_err(|e| Stop::Refuse(ErrorCode::ValidationError, format!("frame is not valid JSON: {e}")))
    }

    /// Who sent the frame, from the authorizer's context (no lookup). Without one no authorizer ran: the
    /// client is told and the connection closed.
    async fn identify(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        sender: &Sender<'_>,
    ) -> Result<ConnectionContext, Stop> {
        if let Some(Verdict::Accepted(identity)) = verdict_of(event) {
            span_field("user_id", identity.user_id.as_str());
            return Ok(identity);
        }
        let message = "this connection is not authenticated; reconnect".to_owned();
        let outcome = self.refuse(sender, ErrorCode::AuthenticationError, message).await;
        if let Err(e) = self.fanout.gateway().close(&sender.endpoint, sender.connection_id).await {
            tracing::debug!(error = %e, "closing an unauthenticated connection");
        }
        Err(Stop::Done(outcome))
    }

    /// The booking the frame acts on: the connection's own, or (a user connection) the one the frame names.
    /// A user connection's answers name it too, and its records are per booking.
    async fn booking_of<'a>(
        &self,
        identity: &ConnectionContext,
        frame: &Value,
        sender: &mut Sender<'a>,
    ) -> Result<BookingId, Stop> {
        let connection_id = sender.connection_id;
        let connected_at = sender.connected_at;
        let booking_id = match &identity.scope {
            Scope::Booking(booking_id) => {
                sender.recipient =
                    Recipient::Recorded { booking_id: *booking_id, connection_id, connected_at };
                *booking_id
            }
            Scope::User(bookings) => {
                let Some(booking_id) = booking_named_by(frame) else {
                    let message =
                        "a user connection's frame names its booking: \"booking_id\": <id> beside \"action\"";
                    return Err(Stop::Refuse(ErrorCode::ValidationError, message.to_owned()));
                };
                sender.about = Some(booking_id);
                // Recorded in the booking if it was the user's at connect; a booking joined since has
                // its record only if the backend added it, and its answers come back either way.
                if bookings.contains(&booking_id) {
                    sender.recipient = Recipient::Recorded { booking_id, connection_id, connected_at };
                }
                booking_id
            }
        };
        span_field("booking_id", booking_id);
        Ok(booking_id)
    }

    /// When the connection's token expires: the `$connect` token's expiry while it is valid (no lookup),
    /// else the one a `refresh` gave its record (one `GetItem`; a user connection's record under its
    /// user). A connection with neither is expired: told and closed (a user connection's `$disconnect`
    /// forgets its records).
    async fn current_expiry(
        &self,
        identity: &ConnectionContext,
        booking_id: BookingId,
        sender: &Sender<'_>,
    ) -> Result<i64, Stop> {
        if !identity.is_expired_now(sender.connected_at) {
            return Ok(identity.expires_at);
        }
        match self.renewed_expiry(identity, booking_id, sender.connection_id).await {
            Ok(Some(expires_at)) => Ok(expires_at),
            Ok(None) => {
                self.expire_sender(identity, booking_id, sender).await;
                Err(Stop::Done(Outcome::Expired))
            }
            Err(error) => {
                tracing::error!(error = %error, "could not read the connection's renewed expiry");
                Err(Stop::unavailable())
            }
        }
    }

    /// Tells the sender its token has expired and closes it (and forgets its record; a user connection's
    /// records go at its `$disconnect`).
    async fn expire_sender(&self, identity: &ConnectionContext, booking_id: BookingId, sender: &Sender<'_>) {
        match identity.scope {
            Scope::Booking(_) => self.fanout.expire(&sender.endpoint, booking_id, sender.connection_id).await,
            Scope::User(_) => self.expire_user_connection(&sender.endpoint, sender.connection_id).await,
        }
    }

    /// The expiry a `refresh` gave a connection whose `$connect` token has expired, if it was renewed and
    /// is still valid: one `GetItem`, only for such connections.
    async fn renewed_expiry(
        &self,
        identity: &ConnectionContext,
        booking_id: BookingId,
        connection_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let now = now_seconds();
        let store = self.fanout.store();
        let record = match identity.scope {
            Scope::Booking(_) => store.find(booking_id, connection_id).await?,
            Scope::User(_) => store.find_user_connection(&identity.user_id, connection_id).await?,
        };
        Ok(record.filter(|record| !record.is_expired(now)).map(|record| record.ttl))
    }

    /// The backend's answer to the frame: a refusal becomes the sender's error frame, a failure
    /// `BACKEND_UNAVAILABLE`.
    async fn ask_backend(
        &self,
        identity: &ConnectionContext,
        booking_id: BookingId,
        frame: Value,
        expires_at: i64,
        sender: &Sender<'_>,
    ) -> Result<ProxyReply, Stop> {
        let request = MessageRequest {
            connection_id: sender.connection_id.to_owned(),
            user_id: identity.user_id.clone(),
            message: frame,
            connection_type: identity.connection_type,
            connected_at: Some(sender.connected_at),
            expires_at: Some(expires_at),
        };
        match self.backend.message(booking_id, &request).await {
            Ok(Some(reply)) => Ok(reply),
            Ok(None) => Err(Stop::Done(Outcome::NothingToSend)),
            Err(BackendError::Refused { error, .. }) => Err(Stop::Refuse(error.code, error.message)),
            Err(error) => {
                tracing::error!(error = %error, "backend failed; answering BACKEND_UNAVAILABLE");
                Err(Stop::unavailable())
            }
        }
    }

    /// After a `refresh` the backend accepted, the records must follow before the client is told: the
    /// connection's record (one `UpdateItem`), or a user connection's under its user and in each booking it
    /// knew at connect (one `UpdateItem` each; a booking it joined since follows when a fan-out finds its
    /// record expired). A connection with no record left to extend receives nothing any more: it is
    /// closed, so the client reconnects.
    async fn follow_renewal(
        &self,
        identity: &ConnectionContext,
        booking_id: BookingId,
        reply: &ProxyReply,
        sender: &Sender<'_>,
    ) -> Result<(), Stop> {
        let Some(renewed) = reply.token_expires_at else {
            return Ok(());
        };
        let ttl = ttl_for(sender.connected_at, renewed);
        let store = self.fanout.store();
        let renewal = match &identity.scope {
            Scope::Booking(_) => store.renew(booking_id, sender.connection_id, ttl).await,
            Scope::User(bookings) => {
                store.renew_user_connection(&identity.user_id, sender.connection_id, bookings, ttl).await
            }
        };
        match renewal {
            Ok(true) => Ok(()),
            Ok(false) => {
                self.expire_sender(identity, booking_id, sender).await;
                Err(Stop::Done(Outcome::Expired))
            }
            Err(error) => {
                tracing::error!(error = %error, "could not renew the connection's record");
                let message = "the session could not be renewed; try again shortly".to_owned();
                Err(Stop::Refuse(ErrorCode::BackendUnavailable, message))
            }
        }
    }
}
