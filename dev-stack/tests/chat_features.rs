//! What chat users expect, end to end through the API Gateway emulator, the Lambda proxy (in process) and
//! the real backend: two users with two tabs each, in two bookings. Messages reach every tab of their
//! booking and no other; reading in one tab reaches the reader's other tab and the other member; presence
//! follows the last tab, per booking; edits reach everyone; the inbox counts unread messages per booking;
//! a reloaded tab gets read positions and presence with its history; `session` and `refresh` work through
//! the Lambda.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use support::{Client, connect_as, next_matching, send, start_in_memory, token};
use tokio_tungstenite::tungstenite::Message;

const SERVICE_TOKEN: &str = "e2e-service-token";

/// Every text frame that arrives within `ms` milliseconds.
async fn drain(client: &mut Client, ms: u64) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    let mut frames = Vec::new();
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, client.next()).await {
        if let Message::Text(text) = message {
            frames.push(serde_json::from_str(&text).expect("json"));
        }
    }
    frames
}

fn is_message(body: &'static str) -> impl Fn(&Value) -> bool {
    move |f: &Value| f["type"] == "message" && f["message"]["body"] == body
}

fn is_presence(user: &'static str, online: bool) -> impl Fn(&Value) -> bool {
    move |f: &Value| f["type"] == "presence" && f["user_id"] == user && f["online"] == online
}

#[tokio::test]
async fn two_users_with_two_tabs_each_in_two_bookings() {
    let (stack, _dir) = start_in_memory(&[("SERVICE_TOKEN", SERVICE_TOKEN)]).await;
    let http = reqwest::Client::new();
    // A second booking between the same two people (booking 1, alice and bob, is seeded).
    let created = http
        .put(format!("{}/api/service/bookings/3", stack.backend_url))
        .bearer_auth(SERVICE_TOKEN)
        .json(&json!({"owner_id": "alice", "renter_id": "bob", "title": "Tent"}))
        .send()
        .await
        .expect("service API");
    assert_eq!(created.status(), 201);

    let mut alice_1 = connect_as(&stack, 1, "alice").await;
    let mut alice_2 = connect_as(&stack, 1, "alice").await;
    let mut alice_tent = connect_as(&stack, 3, "alice").await;
    let mut bob_1 = connect_as(&stack, 1, "bob").await;
    // bob's first tab in booking 1 makes him online there, in both of alice's tabs.
    next_matching(&mut alice_1, is_presence("bob", true)).await;
    next_matching(&mut alice_2, is_presence("bob", true)).await;
    let mut bob_2 = connect_as(&stack, 1, "bob").await;
    let mut bob_tent = connect_as(&stack, 3, "bob").await;
    next_matching(&mut alice_tent, is_presence("bob", true)).await;

    // A message reaches every tab of its booking, the sender's own as its acknowledgement, and no other.
    send(&mut bob_1, json!({"action": "send_message", "data": {"body": "Is 9 ok?", "client_message_id": "b-1"}, "request_id": "r1"})).await;
    let mut id = Value::Null;
    for tab in [&mut alice_1, &mut alice_2, &mut bob_1, &mut bob_2] {
        id = next_matching(tab, is_message("Is 9 ok?")).await["message"]["id"].clone();
    }
    for tab in [&mut alice_tent, &mut bob_tent] {
        assert!(drain(tab, 300).await.iter().all(|f| f["type"] != "message"), "not in booking 3");
    }

    // The inbox counts it as unread for alice, in booking 1 only; then bob writes in booking 3 too.
    send(&mut bob_tent, json!({"action": "send_message", "data": {"body": "Tent poles?"}})).await;
    next_matching(&mut alice_tent, is_message("Tent poles?")).await;
    let mailbox = inbox(&http, &stack.backend_url, "alice").await;
    assert_eq!(unread(&mailbox, 1), 1);
    assert_eq!(unread(&mailbox, 3), 1);
    assert_eq!(mailbox["bookings"][0]["booking_id"], 3, "most recently active first");

    // Reading in one tab: the reader's other tab and the other member hear it; the count goes to zero.
    send(&mut alice_1, json!({"action": "read", "data": {"message_id": id}})).await;
    let receipt = |f: &Value| f["type"] == "receipt" && f["user_id"] == "alice";
    for tab in [&mut alice_2, &mut bob_1, &mut bob_2] {
        assert_eq!(next_matching(tab, receipt).await["last_read_message_id"], id);
    }
    let mailbox = inbox(&http, &stack.backend_url, "alice").await;
    assert_eq!((unread(&mailbox, 1), unread(&mailbox, 3)), (0, 1));

    // An edit reaches every tab of the booking.
    send(
        &mut alice_2,
        json!({"action": "send_message", "data": {"body": "Yes, 9", "client_message_id": "a-1"}}),
    )
    .await;
    let mine = next_matching(&mut bob_1, is_message("Yes, 9")).await["message"]["id"].clone();
    send(&mut alice_2, json!({"action": "edit_message", "data": {"message_id": mine, "body": "Yes, 9:30"}}))
        .await;
    let edited = |f: &Value| f["type"] == "message_updated" && f["message"]["body"] == "Yes, 9:30";
    for tab in [&mut alice_1, &mut alice_2, &mut bob_1, &mut bob_2] {
        assert!(next_matching(tab, edited).await["message"]["edited_at"].is_i64());
    }

    // bob closes one tab of booking 1: still online there. Then the other: offline in booking 1 only.
    bob_2.close(None).await.expect("close");
    assert!(drain(&mut alice_1, 500).await.iter().all(|f| !is_presence("bob", false)(f)), "a tab is left");
    bob_1.close(None).await.expect("close");
    next_matching(&mut alice_1, is_presence("bob", false)).await;
    next_matching(&mut alice_2, is_presence("bob", false)).await;
    assert!(drain(&mut alice_tent, 500).await.iter().all(|f| f["type"] != "presence"), "booking 3 unchanged");

    // A reloaded tab: history with read positions and presence, so "seen" and "last seen" show at once.
    let mut reloaded = connect_as(&stack, 1, "alice").await;
    send(&mut reloaded, json!({"action": "sync", "request_id": "s"})).await;
    let history = next_matching(&mut reloaded, |f| f["type"] == "history").await;
    let positions = history["read_positions"].as_array().expect("positions");
    assert!(
        positions.iter().any(|p| p["user_id"] == "alice" && p["last_read_message_id"] == id),
        "{history}"
    );
    let bob =
        history["presence"].as_array().expect("presence").iter().find(|p| p["user_id"] == "bob").cloned();
    assert_eq!(bob.expect("bob")["online"], false);

    // The session, and a refresh through the Lambda.
    send(&mut reloaded, json!({"action": "session", "request_id": "q"})).await;
    let session = next_matching(&mut reloaded, |f| f["type"] == "session").await;
    assert_eq!(session["user_id"], "alice");
    send(&mut reloaded, json!({"action": "refresh", "data": {"token": token("alice")}, "request_id": "f"}))
        .await;
    let renewed = next_matching(&mut reloaded, |f| f["type"] == "session" && f["request_id"] == "f").await;
    assert!(renewed["expires_at"].as_i64() >= session["expires_at"].as_i64());
    send(&mut reloaded, json!({"action": "refresh", "data": {"token": token("bob")}, "request_id": "g"}))
        .await;
    let refused = next_matching(&mut reloaded, |f| f["type"] == "error").await;
    assert_eq!(refused["error"]["code"], "AUTHENTICATION_ERROR", "another user's token");
    drop(stack);
}

async fn inbox(http: &reqwest::Client, base: &str, user: &str) -> Value {
    let response =
        http.get(format!("{base}/api/chat/inbox")).bearer_auth(token(user)).send().await.expect("inbox");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

fn unread(inbox: &Value, booking: i64) -> i64 {
    inbox["bookings"]
        .as_array()
        .expect("bookings")
        .iter()
        .find(|b| b["booking_id"] == booking)
        .and_then(|b| b["unread_count"].as_i64())
        .unwrap_or_else(|| panic!("booking {booking} in {inbox}"))
}
