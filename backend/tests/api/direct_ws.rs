//! The direct WebSocket: same frames, same service, local delivery.

use serde_json::json;

use crate::helpers::{TestApp, handshake_status, token};

crate::on_every_store!(
    two_clients_on_the_direct_websocket_see_each_others_messages,
    the_handshake_refuses_missing_bad_and_non_member_tokens,
    a_browser_token_in_the_subprotocol_is_accepted_and_chat_v1_echoed,
    header_tokens_are_accepted_from_non_browser_clients,
    oversized_binary_and_malformed_frames_get_error_frames_and_the_socket_stays_usable,
);

async fn two_clients_on_the_direct_websocket_see_each_others_messages(app: TestApp) {
    let mut alice = app.ws_as(1, "alice").await;
    let mut bob = app.ws_as(1, "bob").await;
    alice
        .send_json(json!({"action": "send_message", "data": {"body": "hi bob", "client_message_id": "a1"}, "request_id": "r1"}))
        .await;
    let own = alice.next_json().await;
    let seen = bob.next_json().await;
    assert_eq!(own["type"], "message");
    assert_eq!(own["message"]["body"], "hi bob");
    assert_eq!(own["message"], seen["message"]);
    // Typing goes to the others only.
    bob.send_json(json!({"action": "typing", "data": {"is_typing": true}})).await;
    let typing = alice.next_json().await;
    assert_eq!(typing["type"], "typing");
    assert_eq!(typing["user_id"], "bob");
    bob.expect_silence(200).await;
    // Answers meant for the sender stay with the sender.
    bob.send_json(json!({"action": "ping", "request_id": "p"})).await;
    let pong = bob.next_json().await;
    assert_eq!((pong["type"].as_str(), pong["request_id"].as_str()), (Some("pong"), Some("p")));
    alice.expect_silence(200).await;
}

async fn the_handshake_refuses_missing_bad_and_non_member_tokens(app: TestApp) {
    assert_eq!(handshake_status(app.ws(1, "", &[]).await), 401);
    assert_eq!(handshake_status(app.ws(1, "?token=garbage", &[]).await), 401);
    assert_eq!(handshake_status(app.ws(2, &format!("?token={}", token("alice")), &[]).await), 403);
    assert_eq!(handshake_status(app.ws(9999, &format!("?token={}", token("alice")), &[]).await), 404);
    assert_eq!(
        handshake_status(app.ws(1, &format!("?type=gossip&token={}", token("alice")), &[]).await),
        400
    );
}

async fn a_browser_token_in_the_subprotocol_is_accepted_and_chat_v1_echoed(app: TestApp) {
    let offer = format!("chat.v1, bearer.{}", token("bob"));
    let mut bob = app.ws(1, "", &[("sec-websocket-protocol", &offer)]).await.expect("connects");
    assert_eq!(bob.protocol.as_deref(), Some("chat.v1"));
    bob.send_json(json!({"action": "ping"})).await;
    assert_eq!(bob.next_json().await["type"], "pong");
}

async fn header_tokens_are_accepted_from_non_browser_clients(app: TestApp) {
    let bearer = format!("Bearer {}", token("alice"));
    let mut a = app.ws(1, "", &[("authorization", &bearer)]).await.expect("bearer header");
    a.send_json(json!({"action": "ping"})).await;
    assert_eq!(a.next_json().await["type"], "pong");
    let mut b = app.ws(1, "", &[("x-api-key", &token("bob"))]).await.expect("api key header");
    b.send_json(json!({"action": "ping"})).await;
    assert_eq!(b.next_json().await["type"], "pong");
}

async fn oversized_binary_and_malformed_frames_get_error_frames_and_the_socket_stays_usable(app: TestApp) {
    let mut alice = app.ws_as(1, "alice").await;
    let limit = app.settings.limits.max_ws_frame_bytes;
    alice.send_json(json!({"body": "x".repeat(limit + 10)})).await;
    let error = alice.next_json().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["code"], "PAYLOAD_TOO_LARGE");
    alice.send_binary(vec![1, 2, 3]).await;
    assert_eq!(alice.next_json().await["error"]["code"], "VALIDATION_ERROR");
    alice.send_text("{nope".into()).await;
    assert_eq!(alice.next_json().await["error"]["code"], "VALIDATION_ERROR");
    alice.send_json(json!({"body": "still here"})).await;
    let ok = alice.next_json().await;
    assert_eq!(ok["message"]["body"], "still here");
    assert_eq!(app.store.count_messages(1).await.expect("count"), 1);
}

mod expiry {
    use std::time::Duration;

    use crate::helpers::{JWT_SECRET, StoreKind, spawn_app};

    #[tokio::test]
    async fn the_socket_is_closed_with_1008_when_the_token_expires() {
        let app = spawn_app(StoreKind::Sqlite).await;
        let settings = chat_backend::config::JwtSettings {
            secret: Some(JWT_SECRET.to_owned().into()),
            issuer: None,
            audience: None,
            leeway: Duration::ZERO,
            jwks: None,
        };
        let short = chat_backend::auth::mint_token(&settings, "bob", Duration::from_secs(2)).expect("mint");
        let mut bob = app.ws(1, &format!("?token={short}"), &[]).await.expect("connects");
        assert_eq!(bob.next_close(Duration::from_secs(6)).await, Some(1008));
    }
}
