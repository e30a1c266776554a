//! `$connect` and `$disconnect`: a connection's record is written when API Gateway accepts it and removed
//! when it closes; the backend hears of both (presence), the first only once the record exists.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use chat_connections::{ConnectionGateway, ConnectionRecord, ConnectionStore};
use chat_wire::handshake::{CHAT_SUBPROTOCOL, offers_chat_subprotocol};
use chat_wire::proxy::{ConnectedRequest, DisconnectRequest};

use super::{Proxy, connected_at, header, response, span_field, verdict_of};
use crate::authorizer::{ConnectionContext, Scope, Verdict};
use crate::ports::Backend;

impl<S: ConnectionStore, G: ConnectionGateway, B: Backend> Proxy<S, G, B> {
    /// `$connect`: the authorizer's refusal, or the connection recorded (one `PutItem`; a user connection
    /// one `BatchWriteItem` per 25 bookings) and its booking told, echoing `chat.v1` when offered.
    pub(super) async fn on_connect(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection_id: &str,
    ) -> ApiGatewayProxyResponse {
        let identity = match verdict_of(event) {
            Some(Verdict::Accepted(identity)) => identity,
            Some(Verdict::Refused(status)) => return response(status),
            None => {
                // A deployment without the authorizer (the standalone emulator without --authorizer).
                tracing::error!("no authorizer context on $connect: the route must use the authorizer");
                return response(500);
            }
        };
        span_field("user_id", identity.user_id.as_str());
        span_field("connection_type", identity.connection_type.as_str());
        let connected_at = connected_at(event);
        if let Err(error) = self.record(&identity, connection_id, connected_at).await {
            tracing::error!(error = %error, "could not record the connection; refusing the handshake");
            return response(503);
        }
        if let Scope::Booking(booking_id) = identity.scope {
            // After the record, never before: a connection whose handshake fails leaves no one "online".
            let connected = ConnectedRequest {
                connection_id: connection_id.to_owned(),
                user_id: identity.user_id.clone(),
                connected_at,
                expires_at: identity.expires_at,
            };
            if let Err(error) = self.backend.connected(booking_id, &connected).await {
                tracing::warn!(error = %error, "backend connected failed (best effort: presence only)");
            }
        }
        span_field("outcome", "recorded");
        let mut answer = response(200);
        // A browser that offered subprotocols drops a socket whose handshake echoes none of them, so
        // `chat.v1` is echoed when offered. Nothing else ever is: echoing a `bearer.<jwt>` value would
        // send the token back in a response header, where proxies and logs keep it.
        if header(event, "sec-websocket-protocol").is_some_and(offers_chat_subprotocol) {
            answer.headers = HeaderMap::new();
            answer.headers.insert("sec-websocket-protocol", HeaderValue::from_static(CHAT_SUBPROTOCOL));
        }
        answer
    }

    /// Writes the connection's records: one in its booking, or one in each of its user's bookings (so
    /// each booking's one Query per message finds the user's connection too) and one under its user (so a
    /// booking the user joins later finds it).
    async fn record(
        &self,
        identity: &ConnectionContext,
        connection_id: &str,
        connected_at: i64,
    ) -> Result<(), chat_connections::StoreError> {
        let record = |booking_id| ConnectionRecord {
            booking_id,
            connection_id: connection_id.to_owned(),
            user_id: identity.user_id.clone(),
            connection_type: identity.connection_type,
            connected_at,
            ttl: identity.ttl(connected_at),
        };
        match &identity.scope {
            Scope::Booking(booking_id) => {
                span_field("booking_id", *booking_id);
                self.fanout.store().put(&record(*booking_id)).await
            }
            Scope::User(booking_ids) => {
                span_field("recipients", booking_ids.len());
                self.fanout.store().put_user_connection(&record(0), booking_ids).await
            }
        }
    }

    /// `$disconnect`: the records removed (best effort: their TTL backstops a failure), the backend told.
    pub(super) async fn on_disconnect(
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
        let store = self.fanout.store();
        let booking_id = match &identity.scope {
            Scope::Booking(booking_id) => *booking_id,
            Scope::User(bookings) => {
                // Every record of the connection, one per booking and the one under its user (one
                // BatchWriteItem per 25). A booking it joined since is not in the context: that record
                // lapses with the token (its TTL) or is forgotten at the first 410. A user connection
                // counts for no presence, so the backend has nothing to hear.
                if let Err(error) =
                    store.remove_user_connection(&identity.user_id, connection_id, bookings).await
                {
                    tracing::error!(error = %error, "could not remove the connection; the TTL will expire it");
                }
                span_field("outcome", "removed");
                return response(200);
            }
        };
        span_field("booking_id", booking_id);
        if let Err(error) = store.remove(booking_id, connection_id).await {
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
