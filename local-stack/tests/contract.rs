//! The Lambda's HTTP backend client and its handler against the real backend: the contract between the
//! two deployables, tested where they are composed (neither depends on the other).

mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use chat_backend::Application;
use chat_connections::store::InMemoryConnectionStore;
use chat_connections::testing::RecordingGateway;
use chat_connections::{ConnectionStore, DeliveryPolicy};
use chat_proxy::backend::HttpBackend;
use chat_proxy::ports::{Backend, BackendError};
use chat_proxy::{Proxy, ProxySettings};
use chat_wire::ErrorCode;
use chat_wire::proxy::{Audience, ConnectRequest, ConnectionType, DisconnectRequest, MessageRequest};
use secrecy::SecretString;
use serde_json::{Value, json};
use support::token;

struct RunningBackend {
    url: String,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn backend() -> RunningBackend {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = Application::build(&support::backend_settings(dir.path())).await.expect("backend starts");
    let url = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    RunningBackend { url, _dir: dir, _stop: stop }
}

fn client(url: &str, secret: &str, timeout: Duration) -> HttpBackend {
    HttpBackend::new(url, SecretString::from(secret.to_owned()), timeout).expect("client")
}

fn connect_request(token: String) -> ConnectRequest {
    ConnectRequest { connection_id: "c1".into(), token, connection_type: ConnectionType::Chat }
}

fn proxy_settings() -> ProxySettings {
    ProxySettings {
        max_frame_bytes: 32 * 1024,
        delivery: DeliveryPolicy::default(),
        management_endpoint: Some("http://127.0.0.1:1/local".into()),
        region: None,
        metrics_namespace: "BookingChat".into(),
        emit_metrics: false,
    }
}

/// An API Gateway event, as the Lambda runtime would deserialise it.
fn event(
    route: &str,
    connection_id: &str,
    query: &Value,
    headers: &Value,
    body: Option<&str>,
) -> ApiGatewayWebsocketProxyRequest {
    let now = chat_connections::record::now_millis();
    serde_json::from_value(json!({
        "requestContext": {
            "routeKey": route, "eventType": if route == "$connect" { "CONNECT" } else { "MESSAGE" },
            "connectionId": connection_id, "connectedAt": now, "requestTimeEpoch": now,
            "stage": "local", "apiId": "localapi00", "requestId": "r", "domainName": "127.0.0.1"
        },
        "queryStringParameters": query,
        "headers": headers,
        "body": body,
        "isBase64Encoded": false
    }))
    .expect("an API Gateway WebSocket event")
}

fn connect_event(connection_id: &str, token: &str) -> ApiGatewayWebsocketProxyRequest {
    event(
        "$connect",
        connection_id,
        &json!({"booking_id": "1"}),
        &json!({"Sec-WebSocket-Protocol": format!("chat.v1, bearer.{token}")}),
        None,
    )
}

fn message_event(connection_id: &str, body: &str) -> ApiGatewayWebsocketProxyRequest {
    event("$default", connection_id, &Value::Null, &json!({}), Some(body))
}

#[tokio::test]
async fn the_client_speaks_the_backend_contract() {
    let running = backend().await;
    let backend = client(&running.url, support::PROXY_SECRET, Duration::from_secs(5));

    let accepted = backend.connect(1, &connect_request(token("bob"))).await.expect("accepted");
    assert_eq!((accepted.user_id.as_str(), accepted.booking_id), ("bob", 1));
    for (booking, token, status, code) in [
        (1, "garbage".to_owned(), 401, ErrorCode::AuthenticationError),
        (2, token("bob"), 403, ErrorCode::AuthorizationError),
        (404, token("bob"), 404, ErrorCode::NotFound),
    ] {
        match backend.connect(booking, &connect_request(token)).await {
            Err(BackendError::Refused { status: got, error }) => {
                assert_eq!(got, status);
                assert_eq!(error.code, code);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    let request = MessageRequest {
        connection_id: "c1".into(),
        user_id: "bob".into(),
        message: json!({"action": "send_message", "data": {"body": "hello", "client_message_id": "k1"}}),
        connection_type: ConnectionType::Chat,
    };
    let reply = backend.message(1, &request).await.expect("answer").expect("a frame");
    assert_eq!(reply.audience(), Audience::Booking);
    assert_eq!(reply.frame_type(), Some("message"));
    assert_eq!(reply.frame["message"]["body"], "hello");
    backend
        .disconnect(1, &DisconnectRequest { connection_id: "c1".into(), user_id: "bob".into() })
        .await
        .expect("disconnect");

    let wrong = client(&running.url, "not-the-secret", Duration::from_secs(5));
    match wrong.connect(1, &connect_request(token("bob"))).await {
        Err(BackendError::Refused { status: 403, .. }) => {}
        other => panic!("expected 403 for a wrong proxy secret, got {other:?}"),
    }
}

#[tokio::test]
async fn the_handler_over_the_real_backend_connects_two_users_and_broadcasts() {
    let running = backend().await;
    let store = Arc::new(InMemoryConnectionStore::default());
    let gateway = Arc::new(RecordingGateway::default());
    let proxy = Proxy::new(
        store.clone(),
        gateway.clone(),
        client(&running.url, support::PROXY_SECRET, Duration::from_secs(5)),
        proxy_settings(),
    );
    for (connection, user) in [("conn-alice", "alice"), ("conn-bob", "bob")] {
        let response = proxy.handle(connect_event(connection, &token(user))).await;
        assert_eq!(response.status_code, 200, "{user}");
        assert_eq!(response.headers["sec-websocket-protocol"], "chat.v1");
    }
    assert_eq!(
        proxy.handle(connect_event("conn-mallory", &token("mallory"))).await.status_code,
        403,
        "non-members are refused at the handshake"
    );
    assert_eq!(store.list(1).await.expect("list").len(), 2);

    proxy
        .handle(message_event("conn-alice", r#"{"action":"send_message","data":{"body":"Saturday works","client_message_id":"m1"},"request_id":"r1"}"#))
        .await;
    let to_alice = gateway.frames_to("conn-alice");
    let to_bob = gateway.frames_to("conn-bob");
    assert_eq!(to_alice.len(), 1);
    assert_eq!(to_alice[0]["message"], to_bob[0]["message"]);
    assert_eq!(to_alice[0]["message"]["sender_id"], "alice");
    assert_eq!(to_alice[0]["request_id"], "r1");

    proxy.handle(message_event("conn-bob", r#"{"action":"sync","data":{"after_message_id":0}}"#)).await;
    let history = gateway.frames_to("conn-bob").pop().expect("history");
    assert_eq!(history["type"], "history");
    assert_eq!(history["messages"][0]["body"], "Saturday works");
    assert_eq!(gateway.frames_to("conn-alice").len(), 1, "history goes to the asker only");
}
