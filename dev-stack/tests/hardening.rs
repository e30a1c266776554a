//! End to end, the failures found when the stack was tried as an attacker would, each pinned by the
//! behaviour that now holds: through the emulator, the Lambda in-process and the real backend.

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use local_services::moto::Moto;
use serde_json::json;
use support::{
    connect, connect_as, handshake_status, next_of_type, raw_handshake, send, start_in_memory, start_on,
    token,
};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

#[tokio::test]
async fn sync_after_many_long_messages_is_answered_in_pages_that_fit_api_gateways_limit() {
    let (stack, _dir) = start_in_memory(&[]).await;
    let mut alice = connect_as(&stack, 1, "alice").await;
    for n in 0..35 {
        let body = format!("{n:02}{}", "é".repeat(3998));
        send(&mut alice, json!({"action": "send_message", "data": {"body": body, "client_message_id": format!("long-{n}")}})).await;
        next_of_type(&mut alice, "message").await;
    }
    let mut bob = connect_as(&stack, 1, "bob").await;
    let mut ids = Vec::new();
    let mut after = 0;
    loop {
        send(&mut bob, json!({"action": "sync", "data": {"after_message_id": after}, "request_id": "s"}))
            .await;
        let page = next_of_type(&mut bob, "history").await;
        let messages = page["messages"].as_array().expect("messages");
        ids.extend(messages.iter().map(|m| m["id"].as_i64().expect("id")));
        after = *ids.last().expect("a page has a message");
        if page["has_more"] == false {
            break;
        }
        assert!(ids.len() < 35, "has_more stops once everything arrived");
    }
    assert_eq!(ids.len(), 35, "every message, once, across pages");
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn a_lone_bearer_subprotocol_is_never_echoed_in_the_handshake() {
    let (stack, _dir) = start_in_memory(&[]).await;
    let jwt = token("alice");
    let head = raw_handshake(&stack, "?booking_id=1", &format!("bearer.{jwt}")).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(!head.contains(&jwt), "the token came back in the handshake: {head}");
    assert!(!head.to_ascii_lowercase().contains("sec-websocket-protocol"), "{head}");
    let head = raw_handshake(&stack, "?booking_id=1", &format!("chat.v1, bearer.{jwt}")).await;
    assert!(head.to_ascii_lowercase().contains("sec-websocket-protocol: chat.v1\r\n"), "{head}");
    assert!(!head.contains(&jwt));
}

#[tokio::test]
async fn invalid_utf8_in_a_text_frame_closes_with_1007() {
    let (stack, _dir) = start_in_memory(&[]).await;
    let mut alice = connect_as(&stack, 1, "alice").await;
    let frame = Frame::message(vec![b'{', 0xc3, 0x28, b'}'], OpCode::Data(Data::Text), true);
    alice.send(Message::Frame(frame)).await.expect("send");
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match alice.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await
    .expect("closed within 5 s");
    assert_eq!(close, Some(1007));
}

#[tokio::test]
async fn a_token_that_becomes_valid_later_is_refused_at_the_handshake() {
    let (stack, _dir) = start_in_memory(&[]).await;
    let now = chat_wire::time::now_seconds();
    let claims = json!({"sub": "alice", "exp": now + 7200, "nbf": now + 3600});
    let early = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(support::JWT_SECRET.as_bytes()),
    )
    .expect("sign");
    assert_eq!(handshake_status(connect(&stack, "1", Some(&early)).await), 401);
}

#[tokio::test]
async fn with_dynamodb_frozen_frames_and_handshakes_are_answered_quickly() {
    let moto = Moto::private();
    let timeout = Duration::from_millis(500);
    let s = start_on(&moto.endpoint(), timeout).await;
    let mut alice = connect_as(&s.stack, 1, "alice").await;
    send(&mut alice, json!({"action": "ping", "request_id": "before"})).await;
    assert_eq!(next_of_type(&mut alice, "pong").await["request_id"], "before");

    moto.freeze();
    let started = Instant::now();
    // A ping needs no connection record (the connection's identity travels with every event).
    send(&mut alice, json!({"action": "ping", "request_id": "still"})).await;
    assert_eq!(next_of_type(&mut alice, "pong").await["request_id"], "still");
    // A broadcast needs the booking's records: the client hears why it cannot be delivered.
    send(&mut alice, json!({"body": "anyone?", "request_id": "frozen"})).await;
    let error = next_of_type(&mut alice, "error").await;
    assert_eq!(error["error"]["code"], "BACKEND_UNAVAILABLE");
    assert_eq!(error["request_id"], "frozen");
    let handshake = connect(&s.stack, "1", Some(&token("bob"))).await;
    assert_eq!(handshake_status(handshake), 503);
    let waited = started.elapsed();
    // API Gateway would have given up after 29 s per call; the SDK's budget here is 0.5 s per call.
    assert!(waited < Duration::from_secs(10), "answered after {waited:?}");

    moto.thaw();
    send(&mut alice, json!({"action": "ping", "request_id": "after"})).await;
    assert_eq!(next_of_type(&mut alice, "pong").await["request_id"], "after");
}
