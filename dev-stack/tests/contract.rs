//! The Lambda's HTTP backend client and its handler against the real backend: the contract between the
//! two deployables, tested where they are composed (neither depends on the other).

mod support;

use std::sync::Arc;
use std::time::Duration;

use chat_backend::Application;
use chat_connections::store::InMemoryConnectionStore;
use chat_connections::testing::RecordingGateway;
use chat_connections::{ConnectionStore, DeliveryPolicy};
use chat_proxy::backend::HttpBackend;
use chat_proxy::ports::{Backend, BackendError};
use chat_proxy::{InvocationError, Proxy, ProxySettings};
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

/// An event of connection `connection_id` as API Gateway sends it, with the authorizer's context.
fn event(route: &str, connection_id: &str, authorizer: &Value, extra: &Value) -> Value {
    let now = chat_wire::time::now_millis();
    let mut event = json!({
        "requestContext": {
            "routeKey": route, "eventType": if route == "$connect" { "CONNECT" } else { "MESSAGE" },
            "connectionId": connection_id, "connectedAt": now, "requestTimeEpoch": now,
            "stage": "local", "apiId": "localapi00", "requestId": "r", "domainName": "127.0.0.1",
            "authorizer": authorizer
        },
        "isBase64Encoded": false
    });
    for (key, value) in extra.as_object().into_iter().flatten() {
        event[key] = value.clone();
    }
    event
}

/// A handshake as API Gateway runs it, through the function's one entry point: the authorizer, then
/// `$connect` with the context it left (stringified, as API Gateway passes it on). Returns the
/// handshake's status and the context for the connection's later events.
async fn handshake<S, G, B>(proxy: &Proxy<S, G, B>, connection_id: &str, token: &str) -> (i64, Value)
where
    S: chat_connections::ConnectionStore,
    G: chat_connections::ConnectionGateway,
    B: Backend,
{
    let handshake = json!({
        "queryStringParameters": {"booking_id": "1"},
        "headers": {"Sec-WebSocket-Protocol": format!("chat.v1, bearer.{token}")}
    });
    let mut request = event("$connect", connection_id, &Value::Null, &handshake);
    request["type"] = "REQUEST".into();
    request["methodArn"] = "arn:aws:execute-api:us-east-1:123456789012:localapi00/local/$connect".into();
    let answer = match proxy.invoke(request).await {
        Ok(answer) => answer,
        Err(InvocationError::Unauthorized(_)) => return (401, Value::Null),
        Err(other) => panic!("the authorizer failed: {other}"),
    };
    let mut context = serde_json::Map::new();
    context.insert("principalId".into(), answer["principalId"].clone());
    for (key, value) in answer["context"].as_object().into_iter().flatten() {
        context.insert(key.clone(), value.as_str().map_or_else(|| value.to_string(), str::to_owned).into());
    }
    let context = Value::Object(context);
    let connected =
        proxy.invoke(event("$connect", connection_id, &context, &handshake)).await.expect("answer");
    assert!(
        connected["statusCode"] != 200 || connected["headers"]["sec-websocket-protocol"] == "chat.v1",
        "{connected}"
    );
    (connected["statusCode"].as_i64().expect("status"), context)
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
        connected_at: Some(1_700_000_000_000),
        expires_at: Some(1_700_000_600),
    };
    let reply = backend.message(1, &request).await.expect("answer").expect("a frame");
    assert_eq!(reply.audience(), Audience::Booking);
    assert_eq!(reply.frame_type(), Some("message"));
    assert_eq!(reply.frame["message"]["body"], "hello");
    assert_eq!(reply.token_expires_at, None, "only a refresh renews");

    // A refresh: the new token's expiry travels beside the `session` frame, for the proxy to extend the
    // record; the frame answers in milliseconds.
    let fresh = token("bob");
    let refresh =
        MessageRequest { message: json!({"action": "refresh", "data": {"token": fresh}}), ..request };
    let reply = backend.message(1, &refresh).await.expect("answer").expect("a frame");
    assert_eq!(reply.audience(), Audience::Sender);
    assert_eq!(reply.frame_type(), Some("session"));
    let renewed = reply.token_expires_at.expect("a renewal");
    assert_eq!(reply.frame["expires_at"], renewed * 1000);
    assert_eq!(reply.frame["closes_at"], 1_700_000_000_000_i64 + 7_200_000);
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
    let mut contexts = std::collections::HashMap::new();
    for (connection, user) in [("conn-alice", "alice"), ("conn-bob", "bob")] {
        let (status, context) = handshake(&proxy, connection, &token(user)).await;
        assert_eq!(status, 200, "{user}");
        contexts.insert(connection, context);
    }
    assert_eq!(handshake(&proxy, "conn-mallory", &token("mallory")).await.0, 403, "non-members are refused");
    assert_eq!(
        handshake(&proxy, "conn-forged", "not-a-jwt").await.0,
        401,
        "bad tokens are the authorizer's 401"
    );
    assert_eq!(store.list(1).await.expect("list").len(), 2);

    let frame = |connection: &str, body: &str| {
        event("$default", connection, &contexts[connection], &json!({"body": body}))
    };
    proxy
        .invoke(frame("conn-alice", r#"{"action":"send_message","data":{"body":"Saturday works","client_message_id":"m1"},"request_id":"r1"}"#))
        .await
        .expect("answer");
    let to_alice = gateway.frames_to("conn-alice");
    let to_bob = gateway.frames_to("conn-bob");
    assert_eq!(to_alice.len(), 1);
    assert_eq!(to_alice[0]["message"], to_bob[0]["message"]);
    assert_eq!(to_alice[0]["message"]["sender_id"], "alice");
    assert_eq!(to_alice[0]["request_id"], "r1");

    proxy
        .invoke(frame("conn-bob", r#"{"action":"sync","data":{"after_message_id":0}}"#))
        .await
        .expect("answer");
    let history = gateway.frames_to("conn-bob").pop().expect("history");
    assert_eq!(history["type"], "history");
    assert_eq!(history["messages"][0]["body"], "Saturday works");
    assert_eq!(gateway.frames_to("conn-alice").len(), 1, "history goes to the asker only");
}
