//! The proxy contract the Lambda relies on: connect, message, disconnect, and every frame.

use serde_json::{Value, json};

use crate::helpers::{PROXY_SECRET, TestApp, alg_none_token, expired_token, token, token_with_secret};

crate::on_every_store!(
    connect_with_a_valid_token_returns_the_user_and_token_expiry,
    proxy_routes_refuse_a_missing_or_wrong_proxy_secret,
    connect_with_expired_forged_unsigned_or_malformed_tokens_is_401,
    connect_as_a_non_member_is_403_and_to_an_unknown_booking_is_404,
    malformed_connect_requests_are_400_with_a_validation_error,
    oversized_request_bodies_are_413_payload_too_large,
    send_message_is_broadcast_with_the_request_id_echoed,
    duplicate_client_message_id_returns_the_same_message_and_stores_one_row,
    legacy_frames_of_the_existing_frontend_are_understood,
    malformed_or_unknown_frames_get_a_validation_error_for_the_sender_only,
    message_bodies_are_validated,
    reactions_toggle_and_are_validated,
    reacting_to_a_message_of_another_booking_is_not_found,
    read_receipts_never_move_backwards,
    typing_is_relayed_to_the_others_and_never_stored,
    sync_returns_exactly_the_messages_after_the_given_id,
    sync_without_a_cursor_returns_the_latest_page_oldest_first,
    ping_is_answered_with_pong,
    frames_from_a_user_who_is_not_a_member_are_refused,
    booking_status_connections_cannot_send_chat_actions,
    disconnect_is_acknowledged_with_204,
);

async fn connect_with_a_valid_token_returns_the_user_and_token_expiry(app: TestApp) {
    let response = app.connect(1, &token("bob")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["user_id"], "bob");
    assert_eq!(body["booking_id"], 1);
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    let expires_at = body["expires_at"].as_i64().expect("expires_at");
    assert!((now + 3500..=now + 3700).contains(&expires_at), "expires_at is the token's exp");
}

async fn proxy_routes_refuse_a_missing_or_wrong_proxy_secret(app: TestApp) {
    let body = json!({"connection_id": "c", "token": token("alice")});
    for secret in [None, Some("wrong"), Some("")] {
        for route in ["connect", "message", "disconnect"] {
            let response = app.post_proxy(1, route, body.clone(), secret).await;
            assert_eq!(response.status(), 403, "{route} with {secret:?}");
            let error: Value = response.json().await.expect("json");
            assert_eq!(error["error"]["code"], "AUTHORIZATION_ERROR");
        }
    }
    // A secret that only shares a prefix with the right one is still wrong.
    let prefix = &PROXY_SECRET[..PROXY_SECRET.len() - 1];
    assert_eq!(app.post_proxy(1, "connect", body, Some(prefix)).await.status(), 403);
}

async fn connect_with_expired_forged_unsigned_or_malformed_tokens_is_401(app: TestApp) {
    for bad in [
        token_with_secret("alice", "not-the-secret"),
        alg_none_token("alice"),
        "not.a.jwt".to_owned(),
        String::new(),
    ] {
        let response = app.connect(1, &bad).await;
        assert_eq!(response.status(), 401, "token {bad:?}");
        let error: Value = response.json().await.expect("json");
        assert_eq!(error["error"]["code"], "AUTHENTICATION_ERROR");
    }
    let response = app.connect(1, &expired_token("alice")).await;
    assert_eq!(response.status(), 401);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["code"], "TOKEN_EXPIRED", "an expired token is told apart from a bad one");
    assert_eq!(error["error"]["message"], "token expired");
}

async fn connect_as_a_non_member_is_403_and_to_an_unknown_booking_is_404(app: TestApp) {
    let response = app.connect(2, &token("alice")).await;
    assert_eq!(response.status(), 403);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["code"], "AUTHORIZATION_ERROR");
    let response = app.connect(999, &token("alice")).await;
    assert_eq!(response.status(), 404);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["code"], "NOT_FOUND");
}

async fn malformed_connect_requests_are_400_with_a_validation_error(app: TestApp) {
    let cases: Vec<(String, reqwest::RequestBuilder)> = vec![
        (
            "not json".into(),
            app.client
                .post(format!("{}/api/chat/ws/1/connect", app.base))
                .header("content-type", "application/json")
                .body("{not json"),
        ),
        (
            "missing token".into(),
            app.client
                .post(format!("{}/api/chat/ws/1/connect", app.base))
                .json(&json!({"connection_id": "c"})),
        ),
        (
            "token of the wrong type".into(),
            app.client
                .post(format!("{}/api/chat/ws/1/connect", app.base))
                .json(&json!({"connection_id": "c", "token": 5})),
        ),
        (
            "booking id not a number".into(),
            app.client
                .post(format!("{}/api/chat/ws/abc/connect", app.base))
                .json(&json!({"connection_id": "c", "token": "t"})),
        ),
    ];
    for (what, request) in cases {
        let response = request.header("x-proxy-secret", PROXY_SECRET).send().await.expect("request");
        assert_eq!(response.status(), 400, "{what}");
        let error: Value = response.json().await.expect("json");
        assert_eq!(error["error"]["code"], "VALIDATION_ERROR", "{what}");
    }
    let response = app
        .client
        .post(format!("{}/api/chat/ws/1/connect", app.base))
        .header("x-proxy-secret", PROXY_SECRET)
        .body(r#"{"connection_id":"c","token":"t"}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 415, "JSON without a JSON content type");
}

async fn oversized_request_bodies_are_413_payload_too_large(app: TestApp) {
    let huge = "x".repeat(app.settings.limits.max_body_bytes + 1);
    let response = app
        .post_proxy(
            1,
            "message",
            json!({"connection_id": "c", "user_id": "alice", "message": {"body": huge}}),
            Some(PROXY_SECRET),
        )
        .await;
    assert_eq!(response.status(), 413);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["code"], "PAYLOAD_TOO_LARGE");
    assert_eq!(app.store.count_messages(1).await.expect("count"), 0, "nothing stored");
}

async fn send_message_is_broadcast_with_the_request_id_echoed(app: TestApp) {
    let reply = app
        .send(1, "alice", json!({"action": "send_message", "data": {"body": "Hi Bob", "client_message_id": "c-1"}, "request_id": "r-1"}))
        .await;
    assert_eq!(reply["type"], "message");
    assert_eq!(reply["broadcast"], true);
    assert!(reply.get("exclude_sender").is_none(), "the sender gets its own message as acknowledgement");
    assert_eq!(reply["request_id"], "r-1");
    assert!(reply["timestamp"].as_i64().expect("timestamp") > 0);
    assert_eq!(reply["booking_id"], 1);
    let message = &reply["message"];
    assert_eq!(message["booking_id"], 1);
    assert_eq!(message["sender_id"], "alice");
    assert_eq!(message["body"], "Hi Bob");
    assert_eq!(message["client_message_id"], "c-1");
    assert_eq!(message["reactions"], json!([]));
    assert!(
        message["id"].as_i64().expect("id") > 0 && message["created_at"].as_i64().expect("created_at") > 0
    );
}

async fn duplicate_client_message_id_returns_the_same_message_and_stores_one_row(app: TestApp) {
    let frame = json!({"action": "send_message", "data": {"body": "once", "client_message_id": "retry-me"}});
    let first = app.send(1, "bob", frame.clone()).await;
    let second = app.send(1, "bob", frame.clone()).await;
    assert_eq!(first["message"], second["message"], "the retry returns the stored message");
    assert_eq!(app.store.count_messages(1).await.expect("count"), 1);
    // The key is per sender: alice may use the same key.
    let other = app.send(1, "alice", frame).await;
    assert_ne!(other["message"]["id"], first["message"]["id"]);
    assert_eq!(app.store.count_messages(1).await.expect("count"), 2);
    // Concurrent retries still store one row.
    let retry = json!({"action": "send_message", "data": {"body": "race", "client_message_id": "race-1"}});
    let (a, b) = tokio::join!(app.send(1, "bob", retry.clone()), app.send(1, "bob", retry));
    assert_eq!(a["message"]["id"], b["message"]["id"]);
    assert_eq!(app.store.count_messages(1).await.expect("count"), 3);
}

async fn legacy_frames_of_the_existing_frontend_are_understood(app: TestApp) {
    let reply = app.send(1, "alice", json!({"body": "Hello"})).await;
    assert_eq!(reply["type"], "message");
    assert_eq!(reply["message"]["body"], "Hello");
    assert_eq!(reply["message"]["client_message_id"], Value::Null);
    let id = reply["message"]["id"].clone();
    let reply = app.send(1, "bob", json!({"type": "reaction", "emoji": "👍", "message_id": id})).await;
    assert_eq!(reply["type"], "reaction");
    assert_eq!(reply["added"], true);
    // The frame may also arrive as the raw text of the WebSocket frame.
    let reply = app.send(1, "alice", Value::String(r#"{"body":"as text"}"#.into())).await;
    assert_eq!(reply["message"]["body"], "as text");
}

async fn malformed_or_unknown_frames_get_a_validation_error_for_the_sender_only(app: TestApp) {
    for frame in [
        Value::String("{not json".into()),
        json!([1, 2, 3]),
        json!({}),
        json!({"action": "launch_rockets"}),
        json!({"action": "send_message"}),
        json!({"action": "react", "data": {"message_id": "one", "emoji": "👍"}}),
        json!({"action": "typing", "data": {}}),
    ] {
        let reply = app.send(1, "alice", frame.clone()).await;
        assert_eq!(reply["type"], "error", "{frame}");
        assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "{frame}");
        assert_eq!(reply["broadcast"], false, "{frame}");
        assert!(!reply["error"]["message"].as_str().expect("message").is_empty());
    }
    let reply = app.send(1, "alice", json!({"action": "launch_rockets", "request_id": "r-7"})).await;
    assert_eq!(reply["request_id"], "r-7", "a refused frame's valid request id is echoed in the error");
    let reply = app.send(1, "alice", Value::String("{not json, \"request_id\": \"r-x\"".into())).await;
    assert_eq!(reply["request_id"], Value::Null, "a frame that is not JSON has no request id to echo");
    let reply = app
        .send(1, "alice", json!({"action": "send_message", "data": {"body": ""}, "request_id": "r-8"}))
        .await;
    assert_eq!(reply["request_id"], "r-8", "errors of a parsed frame echo its request id");
}

async fn message_bodies_are_validated(app: TestApp) {
    let max = app.settings.limits.max_message_chars;
    let reply = app.send(1, "alice", json!({"action": "send_message", "data": {"body": "   "}})).await;
    assert_eq!(reply["error"]["code"], "VALIDATION_ERROR");
    let reply =
        app.send(1, "alice", json!({"action": "send_message", "data": {"body": "é".repeat(max + 1)}})).await;
    assert_eq!(reply["error"]["code"], "PAYLOAD_TOO_LARGE");
    let reply =
        app.send(1, "alice", json!({"action": "send_message", "data": {"body": "é".repeat(max)}})).await;
    assert_eq!(reply["type"], "message", "the limit counts characters, not bytes");
    let reply = app
        .send(
            1,
            "alice",
            json!({"action": "send_message", "data": {"body": "x", "client_message_id": "has spaces"}}),
        )
        .await;
    assert_eq!(reply["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(app.store.count_messages(1).await.expect("count"), 1);
}

async fn reactions_toggle_and_are_validated(app: TestApp) {
    let id = app.post_message(1, "alice", "react to me").await["id"].clone();
    let react = |emoji: &str| json!({"action": "react", "data": {"message_id": id, "emoji": emoji}});
    let added = app.send(1, "bob", react("🎉")).await;
    assert_eq!(added["type"], "reaction");
    assert_eq!(added["broadcast"], true);
    assert_eq!(added["added"], true);
    assert_eq!(added["user_id"], "bob");
    assert_eq!(added["reactions"], json!([{"emoji": "🎉", "count": 1, "user_ids": ["bob"]}]));
    let also = app.send(1, "alice", react("🎉")).await;
    assert_eq!(also["reactions"], json!([{"emoji": "🎉", "count": 2, "user_ids": ["bob", "alice"]}]));
    let removed = app.send(1, "bob", react("🎉")).await;
    assert_eq!(removed["added"], false);
    assert_eq!(removed["reactions"], json!([{"emoji": "🎉", "count": 1, "user_ids": ["alice"]}]));
    for bad in ["x", "👍👍", "", "<b>"] {
        let reply = app.send(1, "bob", react(bad)).await;
        assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "emoji {bad:?}");
    }
    let reply =
        app.send(1, "bob", json!({"action": "react", "data": {"message_id": 987654, "emoji": "👍"}})).await;
    assert_eq!(reply["error"]["code"], "NOT_FOUND");
    // History carries the reactions.
    let page = app.send(1, "bob", json!({"action": "sync"})).await;
    assert_eq!(page["messages"][0]["reactions"], json!([{"emoji": "🎉", "count": 1, "user_ids": ["alice"]}]));
}

async fn reacting_to_a_message_of_another_booking_is_not_found(app: TestApp) {
    let other = app.post_message(2, "carol", "booking 2 only").await["id"].clone();
    let reply =
        app.send(1, "alice", json!({"action": "react", "data": {"message_id": other, "emoji": "👍"}})).await;
    assert_eq!(reply["error"]["code"], "NOT_FOUND");
    assert_eq!(reply["broadcast"], false);
    let reply = app.send(1, "alice", json!({"action": "read", "data": {"message_id": other}})).await;
    assert_eq!(reply["error"]["code"], "NOT_FOUND");
}

async fn read_receipts_never_move_backwards(app: TestApp) {
    let first = app.post_message(1, "alice", "one").await["id"].as_i64().expect("id");
    let second = app.post_message(1, "alice", "two").await["id"].as_i64().expect("id");
    let forward = app.send(1, "bob", json!({"action": "read", "data": {"message_id": second}})).await;
    assert_eq!(forward["type"], "receipt");
    assert_eq!(forward["user_id"], "bob");
    assert_eq!(forward["last_read_message_id"], second);
    assert_eq!(forward["broadcast"], true);
    let backward = app.send(1, "bob", json!({"action": "read", "data": {"message_id": first}})).await;
    assert_eq!(backward["last_read_message_id"], second, "the receipt stays at the later message");
    assert_eq!(backward["broadcast"], false, "a receipt that did not move is not broadcast");
}

async fn typing_is_relayed_to_the_others_and_never_stored(app: TestApp) {
    let reply = app.send(1, "bob", json!({"action": "typing", "data": {"is_typing": true}})).await;
    assert_eq!(reply["type"], "typing");
    assert_eq!(reply["user_id"], "bob");
    assert_eq!(reply["is_typing"], true);
    assert_eq!(reply["broadcast"], true);
    assert_eq!(reply["exclude_sender"], true);
    assert_eq!(app.store.count_messages(1).await.expect("count"), 0);
}

async fn sync_returns_exactly_the_messages_after_the_given_id(app: TestApp) {
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(app.post_message(1, "alice", &format!("m{n}")).await["id"].as_i64().expect("id"));
    }
    app.post_message(2, "carol", "elsewhere").await;
    let reply = app
        .send(1, "bob", json!({"action": "sync", "data": {"after_message_id": ids[1]}, "request_id": "s"}))
        .await;
    assert_eq!(reply["type"], "history");
    assert_eq!(reply["broadcast"], false);
    assert_eq!(reply["request_id"], "s");
    assert_eq!(reply["has_more"], false);
    let got: Vec<i64> =
        reply["messages"].as_array().expect("array").iter().map(|m| m["id"].as_i64().expect("id")).collect();
    assert_eq!(got, ids[2..].to_vec());
    let reply =
        app.send(1, "bob", json!({"action": "sync", "data": {"after_message_id": ids[0], "limit": 2}})).await;
    let got: Vec<i64> =
        reply["messages"].as_array().expect("array").iter().map(|m| m["id"].as_i64().expect("id")).collect();
    assert_eq!(got, ids[1..3].to_vec());
    assert_eq!(reply["has_more"], true);
}

async fn sync_without_a_cursor_returns_the_latest_page_oldest_first(app: TestApp) {
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(app.post_message(1, "bob", &format!("m{n}")).await["id"].as_i64().expect("id"));
    }
    let reply = app.send(1, "alice", json!({"action": "sync", "data": {"limit": 3}})).await;
    let got: Vec<i64> =
        reply["messages"].as_array().expect("array").iter().map(|m| m["id"].as_i64().expect("id")).collect();
    assert_eq!(got, ids[1..].to_vec());
    assert_eq!(reply["has_more"], true);
    let reply = app.send(1, "alice", json!({"action": "sync", "data": {"before_message_id": ids[1]}})).await;
    assert_eq!(reply["messages"].as_array().expect("array").len(), 1);
    assert_eq!(reply["has_more"], false);
    let empty = app.send(2, "dave", json!({"action": "sync"})).await;
    assert_eq!(empty["messages"], json!([]));
    assert_eq!(empty["has_more"], false);
}

async fn ping_is_answered_with_pong(app: TestApp) {
    let reply = app.send(1, "alice", json!({"action": "ping", "request_id": "p"})).await;
    assert_eq!(reply["type"], "pong");
    assert_eq!(reply["request_id"], "p");
    assert_eq!(reply["broadcast"], false);
}

async fn frames_from_a_user_who_is_not_a_member_are_refused(app: TestApp) {
    let reply = app.send(1, "mallory", json!({"body": "let me in"})).await;
    assert_eq!(reply["error"]["code"], "AUTHORIZATION_ERROR");
    let reply = app.send(404, "alice", json!({"body": "anyone?"})).await;
    assert_eq!(reply["error"]["code"], "NOT_FOUND");
    assert_eq!(app.store.count_messages(1).await.expect("count"), 0);
}

async fn booking_status_connections_cannot_send_chat_actions(app: TestApp) {
    let response = app
        .post_proxy(
            1,
            "message",
            json!({"connection_id": "c", "user_id": "alice", "connection_type": "booking",
            "message": {"body": "hi"}}),
            Some(PROXY_SECRET),
        )
        .await;
    let reply: Value = response.json().await.expect("json");
    assert_eq!(reply["error"]["code"], "VALIDATION_ERROR");
    let response = app
        .post_proxy(
            1,
            "message",
            json!({"connection_id": "c", "user_id": "alice", "connection_type": "booking",
            "message": {"action": "ping"}}),
            Some(PROXY_SECRET),
        )
        .await;
    let reply: Value = response.json().await.expect("json");
    assert_eq!(reply["type"], "pong");
}

async fn disconnect_is_acknowledged_with_204(app: TestApp) {
    assert_eq!(app.disconnect(1, "alice").await.status(), 204);
    assert_eq!(app.disconnect(1, "alice").await.status(), 204, "idempotent");
}

mod rate_limit {
    use serde_json::json;

    use crate::helpers::{StoreKind, spawn_app_with};

    #[tokio::test]
    async fn a_user_over_the_rate_limit_gets_rate_limited_frames_and_others_are_unaffected() {
        let app =
            spawn_app_with(StoreKind::Sqlite, &[("RATE_LIMIT_PER_MINUTE", "3"), ("RATE_LIMIT_BURST", "3")])
                .await;
        for n in 0..3 {
            let reply = app.send(1, "alice", json!({"body": format!("burst {n}")})).await;
            assert_eq!(reply["type"], "message");
        }
        let reply = app.send(1, "alice", json!({"body": "one too many", "request_id": "r"})).await;
        assert_eq!(reply["error"]["code"], "RATE_LIMITED");
        assert_eq!(reply["broadcast"], false);
        let reply = app.send(1, "alice", json!({"action": "ping"})).await;
        assert_eq!(reply["type"], "pong", "ping is never rate limited");
        let reply = app.send(1, "bob", json!({"body": "my turn"})).await;
        assert_eq!(reply["type"], "message");
        assert_eq!(app.store.count_messages(1).await.expect("count"), 4);
    }
}
