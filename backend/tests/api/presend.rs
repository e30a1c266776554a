//! The pre-send hook (issue 23): a hook on loopback that checks each request's signature and allows,
//! rejects or rewrites by what the message says; a slow or broken hook lets messages through when the
//! deployment fails open and refuses them with BACKEND_UNAVAILABLE when it fails closed. A rewrite is
//! masked like any message. SQLite: the hook sits before the store, whichever it is.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use crate::helpers::{StoreKind, spawn_app_with};

const SECRET: &str = "a hook secret of 32 bytes, at least";

/// A hook on a free port: what it was sent, and its answers.
async fn spawn_hook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/check",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let log = log.clone();
            async move {
                let signature =
                    headers.get("x-chat-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
                let timestamp: u64 = signature
                    .split(',')
                    .find_map(|part| part.strip_prefix("t="))
                    .and_then(|t| t.parse().ok())
                    .unwrap_or_default();
                if signature != chat_backend::presend::sign(SECRET.as_bytes(), timestamp, &body) {
                    return (StatusCode::UNAUTHORIZED, Json(json!({"error": "bad signature"})));
                }
                let request: Value = serde_json::from_slice(&body).expect("json");
                log.lock().expect("lock").push(request.clone());
                let text = request["body"].as_str().unwrap_or_default();
                let answer = if text.contains("slow") {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    json!({"action": "allow"})
                } else if text.contains("broken") {
                    return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({})));
                } else if text.contains("casino") {
                    json!({"action": "reject", "reason": "links to gambling are not allowed"})
                } else if text.contains("rewrite") {
                    json!({"action": "rewrite", "body": "[edited by the marketplace] call +44 20 7946 0958"})
                } else {
                    json!({"action": "allow"})
                };
                (StatusCode::OK, Json(answer))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/check", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("hook") });
    (url, seen)
}

fn send(body: &str) -> Value {
    json!({"action": "send_message", "data": {"body": body}})
}

#[tokio::test]
async fn the_hook_allows_rejects_and_rewrites_signed_requests_and_a_rewrite_is_masked() {
    let (url, seen) = spawn_hook().await;
    let hook = [("PRESEND_HOOK_URL", url.as_str()), ("PRESEND_HOOK_SECRET", SECRET)];
    let app = spawn_app_with(StoreKind::Sqlite, &hook).await;

    let reply = app.send(1, "alice", send("Is the kayak free?")).await;
    assert_eq!(reply["message"]["body"], "Is the kayak free?", "{reply}");
    let reply = app.send(1, "alice", send("best casino bonus")).await;
    assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "{reply}");
    assert_eq!(reply["error"]["message"], "message refused: links to gambling are not allowed", "{reply}");
    // Booking 2 is requested: the hook's rewrite is masked like any message.
    let reply = app.send(2, "dave", send("please rewrite")).await;
    assert_eq!(reply["masked"], json!(["phone"]), "{reply}");
    assert!(
        reply["message"]["body"].as_str().expect("body").starts_with("[edited by the marketplace]"),
        "{reply}"
    );
    // An edit is checked too, and says which message it edits.
    let id = app.post_message(1, "alice", "first words").await["id"].clone();
    let edit = json!({"action": "edit_message", "data": {"message_id": id, "body": "casino night"}});
    assert_eq!(app.send(1, "alice", edit).await["error"]["code"], "VALIDATION_ERROR");

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen[0], json!({"booking_id": 1, "sender_id": "alice", "body": "Is the kayak free?"}));
    assert_eq!(seen.last().expect("edit")["edit_of"], id, "{seen:?}");
    // Nothing refused was stored.
    let history: Value =
        app.history(1, Some(&crate::helpers::token("bob")), "").await.json().await.expect("history");
    assert!(!history.to_string().contains("casino"), "{history}");
}

#[tokio::test]
async fn a_failing_hook_lets_messages_through_when_open_and_refuses_them_when_closed() {
    let (url, _) = spawn_hook().await;
    let open = [
        ("PRESEND_HOOK_URL", url.as_str()),
        ("PRESEND_HOOK_SECRET", SECRET),
        ("PRESEND_HOOK_TIMEOUT_MS", "300"),
    ];
    let app = spawn_app_with(StoreKind::Sqlite, &open).await;
    for body in ["slow down", "broken hook"] {
        let reply = app.send(1, "alice", send(body)).await;
        assert_eq!(reply["message"]["body"], body, "fails open: {reply}");
    }
    // A hook that cannot check the signature (another secret) fails like any other.
    let wrong = [
        ("PRESEND_HOOK_URL", url.as_str()),
        ("PRESEND_HOOK_SECRET", "another secret of enough bytes"),
        ("PRESEND_HOOK_ON_FAILURE", "closed"),
    ];
    let app = spawn_app_with(StoreKind::Sqlite, &wrong).await;
    let reply = app.send(1, "alice", send("hello")).await;
    assert_eq!(reply["error"]["code"], "BACKEND_UNAVAILABLE", "{reply}");

    let closed = [
        ("PRESEND_HOOK_URL", url.as_str()),
        ("PRESEND_HOOK_SECRET", SECRET),
        ("PRESEND_HOOK_TIMEOUT_MS", "300"),
        ("PRESEND_HOOK_ON_FAILURE", "closed"),
    ];
    let app = spawn_app_with(StoreKind::Sqlite, &closed).await;
    let started = std::time::Instant::now();
    let reply = app.send(1, "alice", send("slow down")).await;
    assert_eq!(reply["error"]["code"], "BACKEND_UNAVAILABLE", "{reply}");
    assert!(started.elapsed() < Duration::from_secs(2), "the timeout holds the sender at most 300 ms more");
    assert_eq!(app.send(1, "alice", send("all fine")).await["type"], "message");
}
