//! Shared by the proxy's integration tests: event fixtures, a scripted backend, and (from
//! `chat-connections`) the fakes of the connection ports.
// Each test crate uses a different part of this module (its re-exports included).
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::sync::{Arc, Mutex};

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use chat_connections::DeliveryPolicy;
use chat_connections::store::InMemoryConnectionStore;
use chat_connections::testing::RecordingGateway;
use chat_proxy::authorizer::{AuthorizerRequest, AuthorizerResponse, ConnectionContext, Scope, Verdict};
use chat_proxy::ports::{Backend, BackendError};
use chat_proxy::{Proxy, ProxySettings};
use chat_wire::proxy::{
    Audience, ConnectRequest, ConnectResponse, ConnectedRequest, ConnectionType, DisconnectRequest,
    MessageRequest, ProxyReply, UserConnectResponse,
};
use chat_wire::time::{now_millis, now_seconds};
use chat_wire::{BookingId, ErrorBody, ErrorCode};
use serde_json::Value;

/// A fixture from `tests/fixtures`, with `TOKEN` replaced and the connection times set to now.
pub fn fixture(name: &str, token: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut value: Value = serde_json::from_str(&text.replace("TOKEN", token)).expect("fixture is JSON");
    value["requestContext"]["connectedAt"] = now_millis().into();
    value["requestContext"]["requestTimeEpoch"] = now_millis().into();
    value
}

/// Deserialises an event with the real type, as the Lambda runtime does.
pub fn event(value: Value) -> ApiGatewayWebsocketProxyRequest {
    serde_json::from_value(value).expect("a valid API Gateway WebSocket event")
}

/// The `$connect` authorizer's event for the same handshake as a `$connect` fixture.
pub fn authorizer_event(name: &str, token: &str) -> AuthorizerRequest {
    let mut value = fixture(name, token);
    value["type"] = "REQUEST".into();
    let context = &value["requestContext"];
    value["methodArn"] = format!(
        "arn:aws:execute-api:eu-west-1:123456789012:{}/{}/$connect",
        context["apiId"].as_str().expect("apiId"),
        context["stage"].as_str().expect("stage")
    )
    .into();
    let map = value.as_object_mut().expect("object");
    map.remove("isBase64Encoded");
    map.remove("body");
    assert!(chat_proxy::event::is_authorizer(&value.to_string()));
    serde_json::from_value(value).expect("an authorizer event")
}

/// The authorizer's context as API Gateway passes it on to a connection's events: its `principalId` and
/// context, values stringified.
pub fn passed_on(response: &AuthorizerResponse) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("principalId".into(), response.principal_id.clone().into());
    for (key, value) in &response.context {
        let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        map.insert(key.clone(), text.into());
    }
    Value::Object(map)
}

/// An event of a connection the authorizer accepted as `user_id` of `booking_id`, for an hour.
pub fn as_user(mut value: Value, booking_id: BookingId, user_id: &str) -> Value {
    let verdict = Verdict::Accepted(ConnectionContext {
        scope: Scope::Booking(booking_id),
        user_id: user_id.into(),
        connection_type: ConnectionType::Chat,
        expires_at: now_seconds() + 3600,
    });
    let response = AuthorizerResponse::allow("arn", user_id, verdict.to_context());
    value["requestContext"]["authorizer"] = passed_on(&response);
    value
}

/// An event of a user connection the authorizer accepted as `user_id`, covering `bookings`, until
/// `expires_at` (epoch seconds).
pub fn as_user_connection(mut value: Value, bookings: &[BookingId], user_id: &str, expires_at: i64) -> Value {
    let verdict = Verdict::Accepted(ConnectionContext {
        scope: Scope::User(bookings.to_vec()),
        user_id: user_id.into(),
        connection_type: ConnectionType::User,
        expires_at,
    });
    let response = AuthorizerResponse::allow("arn", user_id, verdict.to_context());
    value["requestContext"]["authorizer"] = passed_on(&response);
    value
}

/// A fixture event of alice's connection to booking 1, as the authorizer accepted it.
pub fn accepted(value: Value) -> ApiGatewayWebsocketProxyRequest {
    event(as_user(value, 1, "alice"))
}

/// A `$default` event from alice's `connection_id` on booking 1 carrying `body`.
pub fn message_event(connection_id: &str, body: &str) -> ApiGatewayWebsocketProxyRequest {
    message_event_as(connection_id, 1, "alice", body)
}

/// A `$default` event from `user_id`'s `connection_id` on `booking_id` carrying `body`.
pub fn message_event_as(
    connection_id: &str,
    booking_id: BookingId,
    user_id: &str,
    body: &str,
) -> ApiGatewayWebsocketProxyRequest {
    let mut value = fixture("message", "");
    value["requestContext"]["connectionId"] = connection_id.into();
    value["body"] = body.into();
    event(as_user(value, booking_id, user_id))
}

/// Settings for tests: fast retries, no EMF output.
pub fn settings() -> ProxySettings {
    ProxySettings {
        max_frame_bytes: 32 * 1024,
        delivery: DeliveryPolicy {
            concurrency: 8,
            attempts: 3,
            base_delay: std::time::Duration::from_millis(1),
            max_delay: std::time::Duration::from_millis(5),
        },
        management_endpoint: None,
        region: Some("eu-west-1".into()),
        metrics_namespace: "BookingChat".into(),
        emit_metrics: false,
    }
}

/// The endpoint the fixtures' `apiId`, stage and the test region give.
pub const ENDPOINT: &str = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/dev";

pub use chat_connections::testing::record;

type ConnectFn = dyn Fn(BookingId, &ConnectRequest) -> Result<ConnectResponse, BackendError> + Send + Sync;
type UserConnectFn = dyn Fn(&ConnectRequest) -> Result<UserConnectResponse, BackendError> + Send + Sync;
type MessageFn = dyn Fn(BookingId, &MessageRequest) -> Result<Option<ProxyReply>, BackendError> + Send + Sync;

/// A backend whose answers the test scripts, recording what it was sent.
pub struct FakeBackend {
    pub on_connect: Box<ConnectFn>,
    pub on_connect_user: Box<UserConnectFn>,
    pub on_message: Box<MessageFn>,
    pub fail_disconnect: bool,
    pub connects: Mutex<Vec<(BookingId, ConnectRequest)>>,
    pub user_connects: Mutex<Vec<ConnectRequest>>,
    pub messages: Mutex<Vec<(BookingId, MessageRequest)>>,
    pub disconnects: Mutex<Vec<(BookingId, DisconnectRequest)>>,
    pub connecteds: Mutex<Vec<(BookingId, ConnectedRequest)>>,
}

impl Default for FakeBackend {
    /// Accepts every token as `alice` for an hour, answers every frame with a broadcast echo.
    fn default() -> Self {
        Self {
            on_connect: Box::new(|booking_id, _| {
                Ok(ConnectResponse { user_id: "alice".into(), booking_id, expires_at: now_seconds() + 3600 })
            }),
            on_connect_user: Box::new(|_| {
                Ok(UserConnectResponse {
                    user_id: "alice".into(),
                    expires_at: now_seconds() + 3600,
                    booking_ids: vec![1, 2],
                })
            }),
            on_message: Box::new(|booking_id, request| {
                Ok(Some(reply(
                    serde_json::json!({"type": "message", "booking_id": booking_id, "echo": request.message, "timestamp": 1}),
                    Audience::Booking,
                )))
            }),
            fail_disconnect: false,
            connects: Mutex::default(),
            user_connects: Mutex::default(),
            messages: Mutex::default(),
            disconnects: Mutex::default(),
            connecteds: Mutex::default(),
        }
    }
}

/// A backend reply.
pub fn reply(frame: Value, audience: Audience) -> ProxyReply {
    let Value::Object(frame) = frame else { panic!("frames are objects") };
    ProxyReply::from_object(frame, audience)
}

/// A 4xx refusal with the backend's error body.
pub fn refused(status: u16, code: ErrorCode) -> BackendError {
    BackendError::Refused { status, error: ErrorBody::new(code, "refused by the fake") }
}

impl Backend for FakeBackend {
    async fn connect(
        &self,
        booking_id: BookingId,
        request: &ConnectRequest,
    ) -> Result<ConnectResponse, BackendError> {
        self.connects.lock().expect("lock").push((booking_id, request.clone()));
        (self.on_connect)(booking_id, request)
    }

    async fn connected(&self, booking_id: BookingId, request: &ConnectedRequest) -> Result<(), BackendError> {
        self.connecteds.lock().expect("lock").push((booking_id, request.clone()));
        Ok(())
    }

    async fn connect_user(&self, request: &ConnectRequest) -> Result<UserConnectResponse, BackendError> {
        self.user_connects.lock().expect("lock").push(request.clone());
        (self.on_connect_user)(request)
    }

    async fn message(
        &self,
        booking_id: BookingId,
        request: &MessageRequest,
    ) -> Result<Option<ProxyReply>, BackendError> {
        self.messages.lock().expect("lock").push((booking_id, request.clone()));
        (self.on_message)(booking_id, request)
    }

    async fn disconnect(
        &self,
        booking_id: BookingId,
        request: &DisconnectRequest,
    ) -> Result<(), BackendError> {
        self.disconnects.lock().expect("lock").push((booking_id, request.clone()));
        if self.fail_disconnect { Err(BackendError::Unavailable("down".into())) } else { Ok(()) }
    }
}

/// Shares a fake between the proxy and the test.
pub fn shared<T>(value: T) -> Arc<T> {
    Arc::new(value)
}

/// The proxy under test, with the in-memory store, the recording gateway and a scripted backend.
pub type TestProxy = Proxy<Arc<InMemoryConnectionStore>, Arc<RecordingGateway>, Arc<FakeBackend>>;

/// The proxy and its fakes, for a test to drive and inspect.
pub struct Harness {
    pub proxy: TestProxy,
    pub store: Arc<InMemoryConnectionStore>,
    pub gateway: Arc<RecordingGateway>,
    pub backend: Arc<FakeBackend>,
}

/// A proxy over fresh fakes, answering with `backend`.
pub fn harness(backend: FakeBackend) -> Harness {
    let store = Arc::new(InMemoryConnectionStore::default());
    let gateway = Arc::new(RecordingGateway::default());
    let backend = Arc::new(backend);
    let proxy = Proxy::new(store.clone(), gateway.clone(), backend.clone(), settings());
    Harness { proxy, store, gateway, backend }
}
