//! Sessions that outlive a token: `session` says when the connection's token expires and when the gateway
//! closes it; `refresh` renews the token on the open connection; an expired connection is told
//! `TOKEN_EXPIRED` and closed. Through the proxy routes (what the Lambda calls) and the direct WebSocket.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{PROXY_SECRET, TestApp, chrono_now, expired_token, signed_token, token};

crate::on_every_store!(
    session_answers_from_what_the_proxy_reports_and_a_proxy_that_reports_nothing_gets_an_error,
    refresh_through_the_proxy_renews_only_with_a_valid_token_of_the_same_member,
    the_direct_websocket_tells_token_expired_then_closes_unless_refreshed_in_time,
);

/// The Lambda's `$default` call with the connection's session facts.
async fn send_with_session(
    app: &TestApp,
    user: &str,
    message: Value,
    connected_at: i64,
    expires_at: i64,
) -> Value {
    let body = json!({"connection_id": "conn-1", "user_id": user, "message": message,
        "connected_at": connected_at, "expires_at": expires_at});
    let response = app.post_proxy(1, "message", body, Some(PROXY_SECRET)).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json reply")
}

async fn session_answers_from_what_the_proxy_reports_and_a_proxy_that_reports_nothing_gets_an_error(
    app: TestApp,
) {
    let connected_at = chrono_now() * 1000 - 60_000;
    let expires_at = chrono_now() + 600;
    let reply = send_with_session(
        &app,
        "alice",
        json!({"action": "session", "request_id": "s1"}),
        connected_at,
        expires_at,
    )
    .await;
    assert_eq!(reply["type"], "session", "{reply}");
    assert_eq!(reply["user_id"], "alice");
    assert_eq!(reply["expires_at"], expires_at * 1000, "milliseconds, like every time in a frame");
    assert_eq!(reply["closes_at"], connected_at + 2 * 3600 * 1000, "API Gateway's two hours");
    assert_eq!(reply["request_id"], "s1");
    assert!(reply.get("broadcast").is_none_or(|b| b == false), "to the sender only");
    assert!(reply.get("token_expires_at").is_none(), "asking renews nothing");

    let reply = app.send(1, "alice", json!({"action": "session"})).await;
    assert_eq!(reply["error"]["code"], "INTERNAL_ERROR", "an old proxy does not say: {reply}");
}

async fn refresh_through_the_proxy_renews_only_with_a_valid_token_of_the_same_member(app: TestApp) {
    let connected_at = chrono_now() * 1000;
    let soon = chrono_now() + 30;
    let refresh = |token: String| json!({"action": "refresh", "data": {"token": token}, "request_id": "r"});

    let longer = signed_token(&json!({"sub": "alice", "exp": chrono_now() + 3600}));
    let reply = send_with_session(&app, "alice", refresh(longer), connected_at, soon).await;
    assert_eq!(reply["type"], "session", "{reply}");
    let renewed = reply["token_expires_at"].as_i64().expect("the proxy is told to extend the record");
    assert!((chrono_now() + 3590..=chrono_now() + 3600).contains(&renewed));
    assert_eq!(reply["expires_at"], renewed * 1000);

    for (token, code) in [
        (token("bob"), "AUTHENTICATION_ERROR"),
        (expired_token("alice"), "TOKEN_EXPIRED"),
        ("not.a.jwt".to_owned(), "AUTHENTICATION_ERROR"),
        (signed_token(&json!({"sub": "mallory", "exp": chrono_now() + 3600})), "AUTHENTICATION_ERROR"),
    ] {
        let reply = send_with_session(&app, "alice", refresh(token), connected_at, soon).await;
        assert_eq!(reply["error"]["code"], code, "{reply}");
        assert!(reply.get("token_expires_at").is_none(), "a refused refresh renews nothing");
        assert_eq!(reply["request_id"], "r");
    }
    // carol's own valid token, but carol is no member of booking 1.
    let carol = signed_token(&json!({"sub": "carol", "exp": chrono_now() + 3600}));
    let reply = send_with_session(&app, "carol", refresh(carol), connected_at, soon).await;
    assert_eq!(reply["error"]["code"], "AUTHORIZATION_ERROR", "{reply}");

    let reply =
        send_with_session(&app, "alice", json!({"action": "refresh", "data": {}}), connected_at, soon).await;
    assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "a refresh without a token: {reply}");
}

async fn the_direct_websocket_tells_token_expired_then_closes_unless_refreshed_in_time(app: TestApp) {
    let short = |seconds: i64| signed_token(&json!({"sub": "alice", "exp": chrono_now() + seconds}));

    // Left alone, a connection ends with its token: an error frame that says so, then a policy close.
    let mut lapsing = app.ws(1, &format!("?token={}", short(2)), &[]).await.expect("ws connects");
    let told = lapsing.next_json().await;
    assert_eq!(told["type"], "error");
    assert_eq!(told["error"]["code"], "TOKEN_EXPIRED");
    assert_eq!(lapsing.next_close(Duration::from_secs(3)).await, Some(1008));

    // Refreshed in time, it outlives the first token and says until when.
    let mut renewed = app.ws(1, &format!("?token={}", short(2)), &[]).await.expect("ws connects");
    renewed.send_json(json!({"action": "session", "request_id": "s"})).await;
    let session = renewed.next_json().await;
    assert_eq!(session["type"], "session", "{session}");
    let first = session["expires_at"].as_i64().expect("expiry");
    renewed.send_json(json!({"action": "refresh", "data": {"token": short(60)}, "request_id": "r"})).await;
    let session = renewed.next_json().await;
    assert_eq!(session["type"], "session", "{session}");
    assert!(session["expires_at"].as_i64().expect("expiry") >= first + 50_000);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    renewed.send_json(json!({"action": "ping", "request_id": "p"})).await;
    assert_eq!(renewed.next_json().await["type"], "pong", "still open past the first token's expiry");
}
