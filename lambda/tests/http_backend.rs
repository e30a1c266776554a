//! The HTTP backend client against the real backend (SQLite, port 0), and against backends that are
//! down, slow or failing. Then the whole handler over the real backend.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_backend::{Application, Settings};
use chat_proxy::Proxy;
use chat_proxy::backend::HttpBackend;
use chat_proxy::ports::{Backend, BackendError, ConnectionStore};
use chat_proxy::store::InMemoryConnectionStore;
use chat_wire::ErrorCode;
use chat_wire::proxy::{ConnectRequest, ConnectionType, DisconnectRequest, MessageRequest};
use secrecy::SecretString;
use serde_json::json;
use support::{RecordingGateway, event, fixture, message_event};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PROXY_SECRET: &str = "lambda-test-proxy-secret";
const JWT_SECRET: &str = "lambda-test-jwt-secret";

struct RunningBackend {
    url: String,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn backend() -> RunningBackend {
    let dir = tempfile::tempdir().expect("temp dir");
    let env: HashMap<&str, String> = HashMap::from([
        ("APP_ENV", "test".to_owned()),
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", format!("sqlite://{}/chat.db", dir.path().display())),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
        ("PROXY_SECRET", PROXY_SECRET.to_owned()),
        ("SEED_DEMO_DATA", "true".to_owned()),
    ]);
    let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("settings");
    let app = Application::build(&settings).await.expect("backend starts");
    let url = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    RunningBackend { url, _dir: dir, _stop: stop }
}

fn token(user: &str) -> String {
    let jwt = chat_backend::config::JwtSettings {
        secret: JWT_SECRET.to_owned().into(),
        issuer: None,
        audience: None,
        leeway: Duration::ZERO,
    };
    chat_backend::auth::mint_token(&jwt, user, Duration::from_secs(3600)).expect("mint")
}

fn client(url: &str, secret: &str, timeout: Duration) -> HttpBackend {
    HttpBackend::new(url, SecretString::from(secret.to_owned()), timeout).expect("client")
}

fn connect_request(token: String) -> ConnectRequest {
    ConnectRequest { connection_id: "c1".into(), token, connection_type: ConnectionType::Chat }
}

#[tokio::test]
async fn the_client_speaks_the_backend_contract() {
    let running = backend().await;
    let backend = client(&running.url, PROXY_SECRET, Duration::from_secs(5));

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
    assert!(reply.broadcast);
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
async fn a_backend_that_is_down_is_unavailable() {
    let port = local_services::free_port();
    let backend = client(&format!("http://127.0.0.1:{port}"), PROXY_SECRET, Duration::from_secs(2));
    assert!(matches!(
        backend.connect(1, &connect_request("t".into())).await,
        Err(BackendError::Unavailable(_))
    ));
}

#[tokio::test]
async fn a_backend_that_is_too_slow_is_unavailable_after_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // accept, read nothing, never answer
        }
    });
    let backend = client(&format!("http://127.0.0.1:{port}"), PROXY_SECRET, Duration::from_millis(300));
    let started = Instant::now();
    let result = backend.connect(1, &connect_request("t".into())).await;
    assert!(matches!(result, Err(BackendError::Unavailable(ref e)) if e.contains("timed out")), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_backend_answering_5xx_or_garbage_is_unavailable_or_outside_the_contract() {
    async fn canned(response: &'static str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buffer = vec![0; 8192];
                let _ = socket.read(&mut buffer).await;
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        format!("http://127.0.0.1:{port}")
    }
    let failing =
        canned("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
    let backend = client(&failing, PROXY_SECRET, Duration::from_secs(2));
    assert!(matches!(
        backend.connect(1, &connect_request("t".into())).await,
        Err(BackendError::Unavailable(_))
    ));
    let garbage = canned("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5\r\nconnection: close\r\n\r\n{oops").await;
    let backend = client(&garbage, PROXY_SECRET, Duration::from_secs(2));
    assert!(matches!(backend.connect(1, &connect_request("t".into())).await, Err(BackendError::Contract(_))));
}

#[tokio::test]
async fn the_handler_over_the_real_backend_connects_two_users_and_broadcasts() {
    let running = backend().await;
    let store = Arc::new(InMemoryConnectionStore::default());
    let gateway = Arc::new(RecordingGateway::default());
    let proxy = Proxy::new(
        store.clone(),
        gateway.clone(),
        client(&running.url, PROXY_SECRET, Duration::from_secs(5)),
        support::settings(),
    );
    for (connection, user) in [("conn-alice", "alice"), ("conn-bob", "bob")] {
        let mut connect = fixture("connect_subprotocol_token", &token(user));
        connect["requestContext"]["connectionId"] = connection.into();
        let response = proxy.handle(event(connect)).await;
        assert_eq!(response.status_code, 200, "{user}");
        assert_eq!(response.headers["sec-websocket-protocol"], "chat.v1");
    }
    let mut mallory = fixture("connect_query_token", &token("mallory"));
    mallory["requestContext"]["connectionId"] = "conn-mallory".into();
    assert_eq!(
        proxy.handle(event(mallory)).await.status_code,
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
