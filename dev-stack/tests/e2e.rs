//! End to end on one machine: WebSocket clients → the API Gateway emulator → the Lambda proxy (in-process)
//! → the real backend (SQLite), with connection records in DynamoDB on moto_server.

mod support;

use chat_connections::ConnectionStore;
use chat_connections::record::ConnectionRecord;
use chat_connections::store::DynamoDbConnectionStore;
use chat_wire::proxy::ConnectionType;
use chat_wire::time::{now_millis, now_seconds};
use futures_util::SinkExt;
use serde_json::json;
use support::{connect, connect_as, handshake_status, next_matching, next_of_type, send, start, token};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

#[tokio::test]
async fn two_clients_broadcast_through_the_emulator_the_lambda_and_dynamodb() {
    let s = start().await;
    let mut alice = connect_as(&s.stack, 1, "alice").await;
    let mut bob = connect_as(&s.stack, 1, "bob").await;
    let store = DynamoDbConnectionStore::new(s.dynamodb.clone(), &s.table);
    assert_eq!(store.list(1).await.expect("list").len(), 2, "both connections are recorded in DynamoDB");

    send(&mut alice, json!({"action": "send_message", "data": {"body": "Saturday at 9?", "client_message_id": "a-1"}, "request_id": "r-1"})).await;
    let own = next_of_type(&mut alice, "message").await;
    let seen = next_of_type(&mut bob, "message").await;
    assert_eq!(own["message"], seen["message"]);
    assert_eq!(own["message"]["sender_id"], "alice");
    assert_eq!(own["request_id"], "r-1");
    assert!(own.get("broadcast").is_none(), "delivery flags never reach clients");

    send(&mut bob, json!({"action": "typing", "data": {"is_typing": true}})).await;
    assert_eq!(next_of_type(&mut alice, "typing").await["user_id"], "bob");
}

#[tokio::test]
async fn reconnect_then_sync_returns_exactly_the_missed_messages() {
    let s = start().await;
    let mut alice = connect_as(&s.stack, 1, "alice").await;
    let mut bob = connect_as(&s.stack, 1, "bob").await;
    send(&mut alice, json!({"body": "before the tunnel"})).await;
    let last_seen = next_of_type(&mut bob, "message").await["message"]["id"].as_i64().expect("id");
    bob.close(None).await.expect("close");
    drop(bob);

    let mut missed = Vec::new();
    for n in 0..3 {
        send(&mut alice, json!({"action": "send_message", "data": {"body": format!("missed {n}"), "client_message_id": format!("m{n}")}})).await;
        missed.push(
            next_matching(&mut alice, |f| {
                f["type"] == "message" && f["message"]["client_message_id"] == format!("m{n}")
            })
            .await["message"]["id"]
                .clone(),
        );
    }
    let mut bob = connect_as(&s.stack, 1, "bob").await;
    send(
        &mut bob,
        json!({"action": "sync", "data": {"after_message_id": last_seen}, "request_id": "resume"}),
    )
    .await;
    let history = next_of_type(&mut bob, "history").await;
    let ids: Vec<_> =
        history["messages"].as_array().expect("messages").iter().map(|m| m["id"].clone()).collect();
    assert_eq!(ids, missed, "exactly the missed messages, oldest first");
    assert_eq!(history["has_more"], false);
    assert_eq!(history["request_id"], "resume");
}

#[tokio::test]
async fn a_client_whose_tcp_connection_dies_without_a_close_frame_is_forgotten() {
    let s = start().await;
    let store = DynamoDbConnectionStore::new(s.dynamodb.clone(), &s.table);
    let alice = connect_as(&s.stack, 1, "alice").await;
    let _bob = connect_as(&s.stack, 1, "bob").await;
    assert_eq!(store.list(1).await.expect("list").len(), 2);
    drop(alice); // the TCP connection ends with no close frame
    support::eventually("the record to be removed by $disconnect (1006)", || async {
        store.list(1).await.expect("list").len() == 1
    })
    .await;
}

#[tokio::test]
async fn a_connection_whose_disconnect_was_lost_is_cleaned_up_by_the_next_broadcast() {
    let s = start().await;
    let store = DynamoDbConnectionStore::new(s.dynamodb.clone(), &s.table);
    // $disconnect is best effort: here it never came, and the record outlived its socket.
    let stale = ConnectionRecord {
        booking_id: 1,
        connection_id: "StaleConn00000=".into(),
        user_id: "bob".into(),
        connection_type: ConnectionType::Chat,
        connected_at: now_millis() - 60_000,
        ttl: now_seconds() + 3600,
    };
    store.put(&stale).await.expect("put");
    let mut alice = connect_as(&s.stack, 1, "alice").await;
    let mut bob = connect_as(&s.stack, 1, "bob").await;
    send(&mut alice, json!({"body": "anyone still there?"})).await;
    assert_eq!(next_of_type(&mut alice, "message").await["message"]["body"], "anyone still there?");
    assert_eq!(next_of_type(&mut bob, "message").await["message"]["body"], "anyone still there?");
    support::eventually("the stale record to be removed after 410 Gone", || async {
        store.list(1).await.expect("list").iter().all(|r| r.connection_id != "StaleConn00000=")
    })
    .await;
    assert_eq!(store.list(1).await.expect("list").len(), 2);
}

#[tokio::test]
async fn missing_invalid_and_non_member_tokens_are_refused_at_the_handshake() {
    let s = start().await;
    assert_eq!(handshake_status(connect(&s.stack, "1", None).await), 401);
    assert_eq!(handshake_status(connect(&s.stack, "1", Some("not-a-jwt")).await), 401);
    let forged =
        chat_wire::token::mint_local("some-other-secret", "alice", std::time::Duration::from_secs(60))
            .expect("mint");
    assert_eq!(handshake_status(connect(&s.stack, "1", Some(&forged)).await), 401);
    assert_eq!(handshake_status(connect(&s.stack, "1", Some(&token("carol"))).await), 403);
    assert_eq!(handshake_status(connect(&s.stack, "999", Some(&token("alice"))).await), 404);
    assert_eq!(handshake_status(connect(&s.stack, "one", Some(&token("alice"))).await), 400);
    let store = DynamoDbConnectionStore::new(s.dynamodb.clone(), &s.table);
    assert!(store.list(1).await.expect("list").is_empty(), "nothing recorded for refused handshakes");
}

#[tokio::test]
async fn oversized_and_non_json_frames_get_error_frames_and_the_connection_stays_usable() {
    let s = start().await;
    let mut alice = connect_as(&s.stack, 1, "alice").await;
    // 40 KB in two 20 KB frames: within API Gateway's frame and message limits, over the Lambda's 32 KB.
    let half = "x".repeat(20 * 1024);
    alice
        .send(Message::Frame(Frame::message(half.clone(), OpCode::Data(Data::Text), false)))
        .await
        .expect("first fragment");
    alice
        .send(Message::Frame(Frame::message(half, OpCode::Data(Data::Continue), true)))
        .await
        .expect("last fragment");
    assert_eq!(next_of_type(&mut alice, "error").await["error"]["code"], "PAYLOAD_TOO_LARGE");
    alice.send(Message::Text("{this is not json".into())).await.expect("send");
    assert_eq!(next_of_type(&mut alice, "error").await["error"]["code"], "VALIDATION_ERROR");
    alice.send(Message::Binary(vec![1, 2, 3].into())).await.expect("send");
    assert_eq!(next_of_type(&mut alice, "error").await["error"]["code"], "VALIDATION_ERROR");
    send(&mut alice, json!({"body": "still connected"})).await;
    assert_eq!(next_of_type(&mut alice, "message").await["message"]["body"], "still connected");
}

#[tokio::test]
async fn a_booking_status_change_is_pushed_through_the_same_fan_out() {
    let s = start().await;
    let mut bob = connect_as(&s.stack, 1, "bob").await;
    let mut watcher =
        support::connect(&s.stack, "1&type=booking", Some(&token("alice"))).await.expect("watcher");
    let response = reqwest::Client::new()
        .patch(format!("{}/api/bookings/1/status", s.stack.backend_url))
        .bearer_auth(token("alice"))
        .json(&json!({"status": "active"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(response.status(), 200);
    for client in [&mut bob, &mut watcher] {
        let frame = next_of_type(client, "booking_status").await;
        assert_eq!(
            (frame["status"].as_str(), frame["previous_status"].as_str()),
            (Some("active"), Some("confirmed"))
        );
    }
}

#[tokio::test]
async fn an_edit_and_a_delete_reach_both_members_through_the_lambda_and_history_keeps_the_tombstone() {
    let s = start().await;
    let mut alice = connect_as(&s.stack, 1, "alice").await;
    let mut bob = connect_as(&s.stack, 1, "bob").await;
    send(
        &mut alice,
        json!({"action": "send_message", "data": {"body": "Saturday at 9?", "client_message_id": "e-1"}}),
    )
    .await;
    let id = next_of_type(&mut alice, "message").await["message"]["id"].clone();
    next_of_type(&mut bob, "message").await;

    send(&mut alice, json!({"action": "edit_message", "data": {"message_id": id, "body": "Sunday at 9?"}, "request_id": "edit"})).await;
    let own = next_of_type(&mut alice, "message_updated").await;
    let seen = next_of_type(&mut bob, "message_updated").await;
    assert_eq!(own["request_id"], "edit");
    assert_eq!(own["message"], seen["message"]);
    assert_eq!(seen["message"]["body"], "Sunday at 9?");
    assert!(seen["message"]["edited_at"].as_i64().is_some());

    send(&mut bob, json!({"action": "delete_message", "data": {"message_id": id}, "request_id": "not-mine"}))
        .await;
    let refused = next_of_type(&mut bob, "error").await;
    assert_eq!(
        (refused["error"]["code"].as_str(), refused["request_id"].as_str()),
        (Some("AUTHORIZATION_ERROR"), Some("not-mine"))
    );

    send(&mut alice, json!({"action": "delete_message", "data": {"message_id": id}})).await;
    let tombstone = next_of_type(&mut bob, "message_updated").await["message"].clone();
    assert_eq!((tombstone["deleted"].as_bool(), tombstone["body"].as_str()), (Some(true), Some("")));
    send(&mut bob, json!({"action": "sync", "request_id": "h"})).await;
    let history = next_of_type(&mut bob, "history").await;
    assert_eq!(history["messages"], json!([tombstone]), "the tombstone keeps its place in history");
}
