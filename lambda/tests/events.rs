//! The event fixtures developers hand to `cargo lambda invoke` (`lambda/events/*.json`, made current by
//! `scripts/lambda-event.py`): each one deserialises into the type the function reads (the crate's
//! `AuthorizerRequest` for the `$connect` authorizer, `ApiGatewayWebsocketProxyRequest` for the rest), and
//! the four together are one connection's life through `Proxy::invoke`, the function's entry point, with
//! the in-memory store, a recording gateway and a scripted backend.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use chat_connections::store::InMemoryConnectionStore;
use chat_connections::testing::RecordingGateway;
use chat_proxy::authorizer::AuthorizerRequest;
use chat_proxy::{InvocationError, Proxy};
use chat_wire::time::{now_millis, now_seconds};
use serde_json::{Value, json};
use support::FakeBackend;

/// The fixtures, and the file a new one must be added to this test under.
const FIXTURES: [&str; 4] = ["authorizer", "connect", "default-send-message", "disconnect"];

/// The connection every fixture belongs to.
const CONNECTION: &str = "Vx2pYdWsliACFtw=";

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

/// A fixture exactly as committed.
fn committed(name: &str) -> Value {
    let path = events_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

/// A fixture made current as `scripts/lambda-event.py` makes it: the connection's times are now, the
/// authorizer's context expires in an hour, `TOKEN` is `token`.
fn current(name: &str, token: &str) -> Value {
    let text = committed(name).to_string().replace("TOKEN", token);
    let mut event: Value = serde_json::from_str(&text).expect("JSON");
    let context = &mut event["requestContext"];
    context["connectedAt"] = now_millis().into();
    context["requestTimeEpoch"] = now_millis().into();
    if let Some(authorizer) = context.get_mut("authorizer") {
        authorizer["expires_at"] = (now_seconds() + 3600).to_string().into();
    }
    event
}

#[test]
fn every_fixture_in_lambda_events_is_one_this_test_knows() {
    let mut found: Vec<String> = std::fs::read_dir(events_dir())
        .expect("lambda/events")
        .filter_map(|entry| {
            let path = entry.expect("entry").path();
            (path.extension()? == "json").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    found.sort();
    assert_eq!(found, FIXTURES, "a new fixture needs its case in lambda/tests/events.rs");
}

#[test]
fn every_fixture_deserialises_into_the_type_the_function_reads() {
    for name in FIXTURES {
        let event = committed(name);
        if name == "authorizer" {
            assert!(
                chat_proxy::event::is_authorizer(&event.to_string()),
                "{name}: the proxy must take it for an authorizer event"
            );
            let request: AuthorizerRequest =
                serde_json::from_value(event).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(request.method_arn.ends_with("/local/$connect"), "{name}: {}", request.method_arn);
            assert_eq!(request.request_context.connection_id.as_deref(), Some(CONNECTION));
        } else {
            assert!(
                !chat_proxy::event::is_authorizer(&event.to_string()),
                "{name}: taken for an authorizer event"
            );
            let request: ApiGatewayWebsocketProxyRequest =
                serde_json::from_value(event).unwrap_or_else(|e| panic!("{name}: {e}"));
            let context = &request.request_context;
            assert_eq!(context.connection_id.as_deref(), Some(CONNECTION), "{name}");
            assert_eq!(context.stage.as_deref(), Some("local"), "{name}");
            let identity = context.authorizer.fields.get("user_id");
            assert_eq!(identity, Some(&json!("alice")), "{name}: the authorizer's context is passed on");
        }
    }
}

#[tokio::test]
async fn the_fixtures_in_order_are_one_connection_through_proxy_invoke() {
    let store = Arc::new(InMemoryConnectionStore::default());
    let gateway = Arc::new(RecordingGateway::default());
    let backend = Arc::new(FakeBackend::default());
    let proxy = Proxy::new(store.clone(), gateway.clone(), backend.clone(), support::settings());

    // The authorizer: the token from the subprotocol goes to the backend, alice is allowed on booking 1.
    let answer = proxy.invoke(current("authorizer", "jwt-fixture")).await.expect("allowed");
    assert_eq!(answer["principalId"], "alice");
    assert_eq!(answer["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(answer["context"]["booking_id"], 1);
    let connects = backend.connects.lock().expect("lock").clone();
    assert_eq!(connects.len(), 1);
    assert_eq!((connects[0].0, connects[0].1.token.as_str()), (1, "jwt-fixture"));

    // $connect with the context the authorizer left: recorded, chat.v1 echoed.
    let answer = proxy.invoke(current("connect", "jwt-fixture")).await.expect("an answer");
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(answer["headers"]["sec-websocket-protocol"], "chat.v1");
    let record = store.get(CONNECTION).expect("the connection is recorded");
    assert_eq!((record.booking_id, record.user_id.as_str()), (1, "alice"));

    // $default: the frame reaches the backend as sent, its reply is fanned out to the connection.
    let answer = proxy.invoke(current("default-send-message", "")).await.expect("an answer");
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let messages = backend.messages.lock().expect("lock").clone();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].1.message["action"], "send_message");
    assert_eq!(messages[0].1.message["data"]["body"], "Is the canoe still free on Saturday?");
    let frames = gateway.frames_to(CONNECTION);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["echo"]["data"]["client_message_id"], "c-7f3a");

    // $disconnect: the backend is told, the record is gone.
    let answer = proxy.invoke(current("disconnect", "")).await.expect("an answer");
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let disconnects = backend.disconnects.lock().expect("lock").clone();
    assert_eq!(disconnects.len(), 1);
    assert_eq!(disconnects[0].1.user_id, "alice");
    assert!(store.get(CONNECTION).is_none(), "the record is removed");
}

#[tokio::test]
async fn a_committed_fixture_is_stale_so_its_frame_is_refused_and_the_connection_closed() {
    // Committed, the authorizer's context expired long ago: why scripts/lambda-event.py makes them current.
    let gateway = Arc::new(RecordingGateway::default());
    let backend = Arc::new(FakeBackend::default());
    let proxy = Proxy::new(
        Arc::new(InMemoryConnectionStore::default()),
        gateway.clone(),
        backend.clone(),
        support::settings(),
    );
    let answer = proxy.invoke(committed("default-send-message")).await.expect("an answer");
    assert!(backend.messages.lock().expect("lock").is_empty(), "the backend is never asked: {answer}");
    let frames = gateway.frames_to(CONNECTION);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["error"]["code"], "TOKEN_EXPIRED", "{frames:?}");
    assert_eq!(gateway.closed(), [CONNECTION]);

    let not_an_event = proxy.invoke(json!({"hello": "world"})).await;
    assert!(matches!(not_an_event, Err(InvocationError::Unreadable(_))), "{not_an_event:?}");
}
