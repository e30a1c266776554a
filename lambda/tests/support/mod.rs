//! Shared by the proxy's integration tests: event fixtures, and fakes of the gateway and the backend.
// Each test crate uses a different part of this module.
#![allow(dead_code, unreachable_pub)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use chat_proxy::ProxySettings;
use chat_proxy::fanout::DeliveryPolicy;
use chat_proxy::ports::{Backend, BackendError, ConnectionGateway, ConnectionStore, PostError, StoreError};
use chat_proxy::record::{ConnectionRecord, now_millis, now_seconds};
use chat_wire::proxy::{
    ConnectRequest, ConnectResponse, ConnectionType, DisconnectRequest, MessageRequest, ProxyReply,
};
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

/// A `$default` event from `connection_id` carrying `body`.
pub fn message_event(connection_id: &str, body: &str) -> ApiGatewayWebsocketProxyRequest {
    let mut value = fixture("message", "");
    value["requestContext"]["connectionId"] = connection_id.into();
    value["body"] = body.into();
    event(value)
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

/// A connection record valid for an hour.
pub fn record(booking_id: BookingId, connection_id: &str, user_id: &str) -> ConnectionRecord {
    ConnectionRecord {
        booking_id,
        connection_id: connection_id.into(),
        user_id: user_id.into(),
        connection_type: ConnectionType::Chat,
        connected_at: now_millis(),
        ttl: now_seconds() + 3600,
    }
}

/// A gateway that records what it is asked to do; some connections can be made gone or flaky.
#[derive(Default)]
pub struct RecordingGateway {
    posts: Mutex<Vec<(String, String, Value)>>,
    closed: Mutex<Vec<String>>,
    gone: Mutex<HashSet<String>>,
    /// Connection id → how many more posts fail with a retryable error.
    flaky: Mutex<HashMap<String, u32>>,
    /// Connections whose posts always fail with a non-retryable error.
    broken: Mutex<HashSet<String>>,
    /// Frames larger than this are refused as API Gateway refuses them (413).
    max_frame_bytes: Mutex<Option<usize>>,
}

impl RecordingGateway {
    pub fn make_gone(&self, connection_id: &str) {
        self.gone.lock().expect("lock").insert(connection_id.into());
    }
    pub fn make_flaky(&self, connection_id: &str, failures: u32) {
        self.flaky.lock().expect("lock").insert(connection_id.into(), failures);
    }
    pub fn make_broken(&self, connection_id: &str) {
        self.broken.lock().expect("lock").insert(connection_id.into());
    }
    pub fn refuse_frames_over(&self, bytes: usize) {
        *self.max_frame_bytes.lock().expect("lock") = Some(bytes);
    }
    /// Frames posted to `connection_id`, in order.
    pub fn frames_to(&self, connection_id: &str) -> Vec<Value> {
        self.posts
            .lock()
            .expect("lock")
            .iter()
            .filter(|(_, c, _)| c == connection_id)
            .map(|(_, _, f)| f.clone())
            .collect()
    }
    /// Every (endpoint, connection) posted to.
    pub fn targets(&self) -> Vec<(String, String)> {
        self.posts.lock().expect("lock").iter().map(|(e, c, _)| (e.clone(), c.clone())).collect()
    }
    pub fn closed(&self) -> Vec<String> {
        self.closed.lock().expect("lock").clone()
    }
    pub fn post_count(&self) -> usize {
        self.posts.lock().expect("lock").len()
    }
}

impl ConnectionGateway for RecordingGateway {
    async fn post(&self, endpoint: &str, connection_id: &str, frame: &str) -> Result<(), PostError> {
        if self.gone.lock().expect("lock").contains(connection_id) {
            return Err(PostError::Gone);
        }
        if self.broken.lock().expect("lock").contains(connection_id) {
            return Err(PostError::Failed("403 Forbidden".into()));
        }
        if self.max_frame_bytes.lock().expect("lock").is_some_and(|max| frame.len() > max) {
            return Err(PostError::TooLarge(frame.len()));
        }
        if let Some(left) = self.flaky.lock().expect("lock").get_mut(connection_id)
            && *left > 0
        {
            *left -= 1;
            return Err(PostError::Retryable("429 LimitExceededException".into()));
        }
        let frame: Value = serde_json::from_str(frame).expect("frames are JSON");
        self.posts.lock().expect("lock").push((endpoint.into(), connection_id.into(), frame));
        Ok(())
    }

    async fn close(&self, _endpoint: &str, connection_id: &str) -> Result<(), PostError> {
        self.closed.lock().expect("lock").push(connection_id.into());
        Ok(())
    }
}

type ConnectFn = dyn Fn(BookingId, &ConnectRequest) -> Result<ConnectResponse, BackendError> + Send + Sync;
type MessageFn = dyn Fn(BookingId, &MessageRequest) -> Result<Option<ProxyReply>, BackendError> + Send + Sync;

/// A backend whose answers the test scripts, recording what it was sent.
pub struct FakeBackend {
    pub on_connect: Box<ConnectFn>,
    pub on_message: Box<MessageFn>,
    pub fail_disconnect: bool,
    pub connects: Mutex<Vec<(BookingId, ConnectRequest)>>,
    pub messages: Mutex<Vec<(BookingId, MessageRequest)>>,
    pub disconnects: Mutex<Vec<(BookingId, DisconnectRequest)>>,
}

impl Default for FakeBackend {
    /// Accepts every token as `alice` for an hour, answers every frame with a broadcast echo.
    fn default() -> Self {
        Self {
            on_connect: Box::new(|booking_id, _| {
                Ok(ConnectResponse { user_id: "alice".into(), booking_id, expires_at: now_seconds() + 3600 })
            }),
            on_message: Box::new(|booking_id, request| {
                Ok(Some(reply(
                    serde_json::json!({"type": "message", "booking_id": booking_id, "echo": request.message, "timestamp": 1}),
                    true,
                    false,
                )))
            }),
            fail_disconnect: false,
            connects: Mutex::default(),
            messages: Mutex::default(),
            disconnects: Mutex::default(),
        }
    }
}

/// A backend reply.
pub fn reply(frame: Value, broadcast: bool, exclude_sender: bool) -> ProxyReply {
    let Value::Object(frame) = frame else { panic!("frames are objects") };
    ProxyReply { broadcast, exclude_sender, frame }
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

/// A connection store that is down: every call fails, as a frozen DynamoDB does once the SDK times out.
#[derive(Default)]
pub struct DownStore;

fn down() -> StoreError {
    StoreError { operation: "anything", source: "operation timed out".into() }
}

impl ConnectionStore for DownStore {
    async fn put(&self, _record: &ConnectionRecord) -> Result<(), StoreError> {
        Err(down())
    }
    async fn find(&self, _connection_id: &str) -> Result<Option<ConnectionRecord>, StoreError> {
        Err(down())
    }
    async fn remove(&self, _booking_id: BookingId, _connection_id: &str) -> Result<(), StoreError> {
        Err(down())
    }
    async fn list(&self, _booking_id: BookingId) -> Result<Vec<ConnectionRecord>, StoreError> {
        Err(down())
    }
}

/// Shares a fake between the proxy and the test.
pub fn shared<T>(value: T) -> Arc<T> {
    Arc::new(value)
}
