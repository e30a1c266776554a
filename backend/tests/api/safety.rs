//! Blocks and the chat that follows its booking (issue 23): a blocked member cannot write and is told
//! why; the operator closes and reopens a chat; an ended booking's chat turns read-only after its grace
//! period; every change reaches the booking's connections as a `chat_state` frame and `history` carries
//! the state. On every store, through the proxy route the Lambda calls, the direct WebSocket and HTTP.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{StoreKind, TestApp, spawn_app_with, token};

crate::on_every_store!(
    a_blocked_member_cannot_write_and_the_blocker_still_can_until_the_block_is_lifted,
    a_block_reaches_the_other_members_connections_and_history_carries_it,
    the_operator_closes_a_chat_and_reopens_it,
    blocks_and_closures_made_at_once_are_all_kept,
);

/// Booking 1 of the demo data: alice owns it, bob rents it; confirmed.
const BOOKING: i64 = 1;

fn send(body: &str) -> Value {
    json!({"action": "send_message", "data": {"body": body}})
}

async fn chat_state(app: &TestApp, user: &str) -> Value {
    let page: Value = app.history(BOOKING, Some(&token(user)), "").await.json().await.expect("history");
    page["chat_state"].clone()
}

async fn a_blocked_member_cannot_write_and_the_blocker_still_can_until_the_block_is_lifted(app: TestApp) {
    let first = app.post_message(BOOKING, "alice", "Is the deposit refundable?").await;
    let state = app.send(BOOKING, "bob", json!({"action": "block", "data": {}})).await;
    assert_eq!(state["type"], "chat_state", "{state}");
    assert_eq!(state["writable"], true, "a block closes nothing: {state}");
    let blocks = state["blocks"].as_array().expect("blocks");
    assert_eq!(
        (blocks.len(), &blocks[0]["user_id"], &blocks[0]["blocked_user_id"]),
        (1, &json!("bob"), &json!("alice"))
    );

    // alice is told, for every way of writing; reading stays hers.
    let refused = [
        send("hello?"),
        json!({"action": "edit_message", "data": {"message_id": first["id"], "body": "edited"}}),
        json!({"action": "delete_message", "data": {"message_id": first["id"]}}),
        json!({"action": "react", "data": {"message_id": first["id"], "emoji": "👍"}}),
        json!({"action": "typing", "data": {"is_typing": true}}),
    ];
    for frame in refused {
        let reply = app.send(BOOKING, "alice", frame.clone()).await;
        assert_eq!(reply["error"]["code"], "BLOCKED", "{frame} -> {reply}");
        assert!(reply["error"]["message"].as_str().expect("message").contains("blocked you"), "{reply}");
    }
    let read =
        app.send(BOOKING, "alice", json!({"action": "read", "data": {"message_id": first["id"]}})).await;
    assert_eq!(read["type"], "receipt", "{read}");
    // bob may still write; blocking twice changes nothing.
    app.post_message(BOOKING, "bob", "I will not rent it, sorry").await;
    let again = app.send(BOOKING, "bob", json!({"action": "block", "data": {}})).await;
    assert_eq!(again["blocks"].as_array().map(Vec::len), Some(1), "{again}");
    // Only bob can lift his block: alice's unblock lifts nothing of his.
    let theirs = app.send(BOOKING, "alice", json!({"action": "unblock", "data": {}})).await;
    assert_eq!(theirs["blocks"].as_array().map(Vec::len), Some(1), "{theirs}");
    let lifted = app
        .client
        .delete(format!("{}/api/chat/bookings/{BOOKING}/block", app.base))
        .bearer_auth(token("bob"))
        .send()
        .await
        .expect("unblock");
    assert_eq!(lifted.status(), 200);
    let lifted: Value = lifted.json().await.expect("json");
    assert_eq!(lifted["blocks"], json!([]), "{lifted}");
    app.post_message(BOOKING, "alice", "Thanks for letting me know").await;
}

async fn a_block_reaches_the_other_members_connections_and_history_carries_it(app: TestApp) {
    let mut alice = app.ws_as(BOOKING, "alice").await;
    let blocked = app
        .client
        .put(format!("{}/api/chat/bookings/{BOOKING}/block", app.base))
        .bearer_auth(token("bob"))
        .send()
        .await
        .expect("block");
    assert_eq!(blocked.status(), 200);
    let frame = next_of_type(&mut alice, "chat_state").await;
    assert_eq!(frame["booking_id"], BOOKING, "{frame}");
    assert_eq!(frame["blocks"][0]["blocked_user_id"], "alice", "{frame}");
    // Over the direct WebSocket too, alice gets the reason.
    alice.send_json(send("still there?")).await;
    let error = next_of_type(&mut alice, "error").await;
    assert_eq!(error["error"]["code"], "BLOCKED", "{error}");
    // After a reload, history says so at once, to both.
    for user in ["alice", "bob"] {
        let state = chat_state(&app, user).await;
        assert_eq!(state["blocks"][0]["user_id"], "bob", "{user}: {state}");
        assert_eq!(state["writable"], true, "{state}");
    }
    let sync = app.send(BOOKING, "alice", json!({"action": "sync", "data": {}})).await;
    assert_eq!(sync["chat_state"]["blocks"][0]["user_id"], "bob", "{sync}");
    // A stranger cannot block in someone else's booking.
    let stranger = app
        .client
        .put(format!("{}/api/chat/bookings/{BOOKING}/block", app.base))
        .bearer_auth(token("mallory"))
        .send()
        .await
        .expect("block");
    assert_eq!(stranger.status(), 403);
}

async fn the_operator_closes_a_chat_and_reopens_it(app: TestApp) {
    let mut bob = app.ws_as(BOOKING, "bob").await;
    let note = "Closed while we look into a report";
    let closed = app
        .service(Method::PUT, &format!("{BOOKING}/chat"), Some(json!({"open": false, "note": note})))
        .await;
    assert_eq!(closed.status(), 200);
    let closed: Value = closed.json().await.expect("json");
    assert_eq!(
        (closed["changed"].clone(), closed["chat_state"]["writable"].clone()),
        (json!(true), json!(false)),
        "{closed}"
    );
    assert_eq!(closed["chat_state"]["closed"]["reason"], "moderator", "{closed}");
    assert_eq!(closed["chat_state"]["closed"]["note"], note, "{closed}");
    let frame = next_of_type(&mut bob, "chat_state").await;
    assert_eq!(
        (frame["writable"].clone(), frame["closed"]["note"].clone()),
        (json!(false), json!(note)),
        "{frame}"
    );

    for user in ["alice", "bob"] {
        let reply = app.send(BOOKING, user, send("hello")).await;
        assert_eq!(reply["error"]["code"], "CHAT_CLOSED", "{reply}");
    }
    // Reading stays open; closing again changes nothing.
    assert_eq!(chat_state(&app, "alice").await["writable"], false);
    let again = app.service(Method::PUT, &format!("{BOOKING}/chat"), Some(json!({"open": false}))).await;
    let again: Value = again.json().await.expect("json");
    assert_eq!(
        (again["changed"].clone(), again["chat_state"]["closed"]["note"].clone()),
        (json!(false), json!(note)),
        "{again}"
    );

    let reopened = app.service(Method::PUT, &format!("{BOOKING}/chat"), Some(json!({"open": true}))).await;
    let reopened: Value = reopened.json().await.expect("json");
    assert_eq!(reopened["chat_state"]["writable"], true, "{reopened}");
    let frame = next_of_type(&mut bob, "chat_state").await;
    assert_eq!((frame["writable"].clone(), frame["closed"].clone()), (json!(true), Value::Null), "{frame}");
    app.post_message(BOOKING, "alice", "Back to normal").await;

    let unknown = app.service(Method::PUT, "999/chat", Some(json!({"open": false}))).await;
    assert_eq!(unknown.status(), 404);
    let long = app
        .service(
            Method::PUT,
            &format!("{BOOKING}/chat"),
            Some(json!({"open": false, "note": "x".repeat(501)})),
        )
        .await;
    assert_eq!(long.status(), 400);
}

async fn blocks_and_closures_made_at_once_are_all_kept(app: TestApp) {
    // Both members block each other and the operator closes the chat, all at once, eight times over:
    // every writer starts from the version it read and writes again when it lost, so none is lost.
    let path = format!("{BOOKING}/chat");
    let mut tasks = Vec::new();
    for round in 0..8 {
        let app_bob = app.send(BOOKING, "bob", json!({"action": "block", "data": {}}));
        let alice = app
            .client
            .put(format!("{}/api/chat/bookings/{BOOKING}/block", app.base))
            .bearer_auth(token("alice"))
            .send();
        let close =
            app.service(Method::PUT, &path, Some(json!({"open": false, "note": format!("round {round}")})));
        tasks.push(async move {
            let (_, alice, close) = tokio::join!(app_bob, alice, close);
            assert_eq!(alice.expect("block").status(), 200);
            assert_eq!(close.status(), 200);
        });
    }
    futures_util::future::join_all(tasks).await;
    let state = chat_state(&app, "alice").await;
    let mut blockers: Vec<&str> = state["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .map(|b| b["user_id"].as_str().expect("id"))
        .collect();
    blockers.sort_unstable();
    assert_eq!(blockers, ["alice", "bob"], "{state}");
    assert_eq!(state["closed"]["reason"], "moderator", "{state}");
}

#[tokio::test]
async fn an_ended_booking_turns_read_only_after_its_grace_period_and_the_operator_can_reopen_it() {
    // A week by default: a cancelled booking's members may still say goodbye.
    let app = spawn_app_with(StoreKind::Sqlite, &[]).await;
    let before = now_ms();
    let cancelled =
        app.service(Method::PUT, &format!("{BOOKING}/status"), Some(json!({"status": "cancelled"}))).await;
    assert_eq!(cancelled.status(), 200);
    let state = chat_state(&app, "bob").await;
    let read_only_at = state["read_only_at"].as_i64().expect("read_only_at");
    let week = 7 * 24 * 3600 * 1000;
    assert!((before + week..=now_ms() + week).contains(&read_only_at), "{state}");
    assert_eq!(state["writable"], true);
    app.post_message(BOOKING, "bob", "Sorry it did not work out").await;

    // With no grace at all, the chat is read-only from the status change on.
    let app = spawn_app_with(StoreKind::Sqlite, &[("CHAT_READ_ONLY_AFTER_SECONDS", "0")]).await;
    let mut alice = app.ws_as(BOOKING, "alice").await;
    for status in ["active", "completed"] {
        let moved =
            app.service(Method::PUT, &format!("{BOOKING}/status"), Some(json!({"status": status}))).await;
        assert_eq!(moved.status(), 200);
    }
    let frame = next_of_type(&mut alice, "chat_state").await;
    assert_eq!(
        (frame["writable"].clone(), frame["closed"]["reason"].clone()),
        (json!(false), json!("ended")),
        "{frame}"
    );
    let reply = app.send(BOOKING, "alice", send("one more thing")).await;
    assert_eq!(reply["error"]["code"], "CHAT_CLOSED", "{reply}");
    let history: Value = app.history(BOOKING, Some(&token("bob")), "").await.json().await.expect("history");
    assert_eq!(history["chat_state"]["closed"]["reason"], "ended", "history stays readable: {history}");

    // The operator reopens it: the grace period no longer applies.
    let reopened = app.service(Method::PUT, &format!("{BOOKING}/chat"), Some(json!({"open": true}))).await;
    let reopened: Value = reopened.json().await.expect("json");
    assert_eq!(
        (reopened["chat_state"]["writable"].clone(), reopened["chat_state"]["read_only_at"].clone()),
        (json!(true), Value::Null),
        "{reopened}"
    );
    app.post_message(BOOKING, "alice", "The deposit is on its way back").await;
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis(),
    )
    .expect("millis")
}

/// The next frame of `kind` on a direct WebSocket, skipping presence and the like.
async fn next_of_type(client: &mut crate::helpers::WsClient, kind: &str) -> Value {
    for _ in 0..20 {
        let frame = client.next_json().await;
        if frame["type"] == kind {
            return frame;
        }
    }
    panic!("no {kind} frame in 20");
}
