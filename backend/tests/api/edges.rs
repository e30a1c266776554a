//! The edges of a connection, on every store: a client that reconnects resumes to exactly the server's
//! state of what it holds; only the sender's copy of a broadcast carries its `request_id`; a member the
//! marketplace removes stops receiving and can no longer read or write; a message pushes its readers'
//! unread counts to their user connections.

use serde_json::{Value, json};

use crate::helpers::{TestApp, WsClient, token};
use crate::service::booking;

crate::on_every_store!(
    a_resume_returns_every_change_to_the_messages_held_and_every_new_one,
    a_resume_after_no_change_returns_nothing_and_pages_within_the_limit,
    only_the_sender_copy_of_a_broadcast_carries_its_request_id,
    a_removed_member_is_told_and_closed_and_can_no_longer_read_or_write,
    a_message_carries_the_unread_count_of_each_other_member_for_their_user_connections,
);

/// The ids of a history frame's messages.
fn ids(history: &Value) -> Vec<i64> {
    history["messages"].as_array().expect("messages").iter().map(|m| m["id"].as_i64().expect("id")).collect()
}

fn message(history: &Value, id: i64) -> &Value {
    history["messages"].as_array().expect("messages").iter().find(|m| m["id"] == id).expect("the message")
}

async fn next_of(ws: &mut WsClient, kind: &str) -> Value {
    loop {
        let frame = ws.next_json().await;
        if frame["type"] == kind {
            return frame;
        }
    }
}

async fn a_resume_returns_every_change_to_the_messages_held_and_every_new_one(app: TestApp) {
    for n in 1..=5 {
        app.post_message(1, if n % 2 == 0 { "bob" } else { "alice" }, &format!("m{n}")).await;
    }
    // Alice's client holds the five messages as they were at `synced_at`.
    let held = app.send(1, "alice", json!({"action": "sync", "request_id": "s0"})).await;
    assert_eq!(held["type"], "history", "{held}");
    let first = ids(&held)[0];
    let since = held["synced_at"].as_i64().expect("every history says when it was read");

    // While she is away: bob edits one, deletes one, reacts to a third, reads, and writes a new one.
    let edited = app
        .send(1, "bob", json!({"action": "edit_message", "data": {"message_id": first + 1, "body": "m2!"}}))
        .await;
    assert_eq!(edited["type"], "message_updated", "{edited}");
    app.send(1, "bob", json!({"action": "delete_message", "data": {"message_id": first + 3}})).await;
    app.send(1, "bob", json!({"action": "react", "data": {"message_id": first + 4, "emoji": "👍"}})).await;
    app.send(1, "bob", json!({"action": "read", "data": {"message_id": first + 4}})).await;
    let new = app.post_message(1, "bob", "m6").await;

    let resumed = app
        .send(
            1,
            "alice",
            json!({"action": "sync", "data": {"from_message_id": first, "changed_since": since}}),
        )
        .await;
    assert_eq!(resumed["type"], "history", "{resumed}");
    assert_eq!(resumed["has_more"], false);
    // Everything alice holds is returned (the server's margin covers writes in flight and clocks): the
    // test is that the state is the server's, the changed ones included, and nothing is missing.
    assert!(ids(&resumed).contains(&new["id"].as_i64().expect("id")), "the new message: {resumed}");
    assert_eq!(message(&resumed, first + 1)["body"], "m2!", "the edit");
    assert_eq!(message(&resumed, first + 3)["deleted"], true, "the delete");
    assert_eq!(message(&resumed, first + 4)["reactions"][0]["emoji"], "👍", "the reaction");
    let bob = resumed["read_positions"].as_array().expect("positions").iter().find(|p| p["user_id"] == "bob");
    assert_eq!(bob.expect("bob's receipt")["last_read_message_id"], first + 4, "the receipt");

    // The old way, after_message_id, misses the changes to messages already held: what the issue saw.
    let after =
        app.send(1, "alice", json!({"action": "sync", "data": {"after_message_id": first + 4}})).await;
    assert_eq!(ids(&after), vec![new["id"].as_i64().expect("id")]);
}

async fn a_resume_after_no_change_returns_nothing_and_pages_within_the_limit(app: TestApp) {
    for n in 0..6 {
        app.post_message(1, "bob", &format!("m{n}")).await;
    }
    let held = app.send(1, "alice", json!({"action": "sync"})).await;
    let first = ids(&held)[0];
    // A `changed_since` far enough ago for no margin to reach: only what changed since is returned.
    let now = held["synced_at"].as_i64().expect("synced_at");
    let later = now + 10 * 60 * 1000;
    let nothing = app
        .send(
            1,
            "alice",
            json!({"action": "sync", "data": {"from_message_id": first, "changed_since": later}}),
        )
        .await;
    assert_eq!((ids(&nothing), nothing["has_more"].clone()), (Vec::<i64>::new(), json!(false)));
    // A resume over more than a page comes in pages, oldest first, each saying whether more follow.
    let page = app
        .send(
            1,
            "alice",
            json!({"action": "sync", "data": {"from_message_id": first, "changed_since": 0, "limit": 4}}),
        )
        .await;
    assert_eq!((ids(&page).len(), page["has_more"].clone()), (4, json!(true)));
    let last = *ids(&page).last().expect("a page");
    let rest = app
        .send(
            1,
            "alice",
            json!({"action": "sync", "data": {"from_message_id": last + 1, "changed_since": 0, "limit": 4}}),
        )
        .await;
    assert_eq!((ids(&rest).len(), rest["has_more"].clone()), (2, json!(false)));
    let half = app.send(1, "alice", json!({"action": "sync", "data": {"changed_since": 0}})).await;
    assert_eq!(half["error"]["code"], "VALIDATION_ERROR", "{half}");
}

async fn only_the_sender_copy_of_a_broadcast_carries_its_request_id(app: TestApp) {
    let mut alice = app.ws_as(1, "alice").await;
    let mut bob = app.ws_as(1, "bob").await;
    alice
        .send_json(json!({"action": "send_message", "data": {"body": "hi", "client_message_id": "c1"}, "request_id": 1}))
        .await;
    let own = next_of(&mut alice, "message").await;
    let other = next_of(&mut bob, "message").await;
    assert_eq!(own["request_id"], "1", "the sender's copy answers its request");
    assert!(other.get("request_id").is_none(), "bob's copy answers nothing of his: {other}");
    assert_eq!(own["message"]["id"], other["message"]["id"]);

    // Through the Lambda's route: the reply carries it for the sender, and the Lambda strips it for the
    // others (its tests check that half).
    let reply = app
        .send(1, "bob", json!({"action": "send_message", "data": {"body": "yo"}, "request_id": "r2"}))
        .await;
    assert_eq!((reply["request_id"].clone(), reply["broadcast"].clone()), (json!("r2"), json!(true)));
}

async fn a_removed_member_is_told_and_closed_and_can_no_longer_read_or_write(app: TestApp) {
    let mut bob = app.ws_as(1, "bob").await;
    let mut alice = app.ws_as(1, "alice").await;
    bob.send_json(json!({"action": "ping"})).await;
    assert_eq!(next_of(&mut bob, "pong").await["type"], "pong");

    // The marketplace gives booking 1 another renter.
    let updated = app.put_booking(1, booking("alice", "erin", "Tent")).await;
    assert_eq!(updated.status(), 200);
    let told = next_of(&mut bob, "error").await;
    assert_eq!(told["error"]["code"], "REMOVED_FROM_BOOKING", "{told}");
    assert_eq!(bob.next_close(std::time::Duration::from_secs(5)).await, Some(4403), "closed with a reason");

    // Alice stays, and hears nothing of it.
    alice.send_json(json!({"action": "ping"})).await;
    assert_eq!(next_of(&mut alice, "pong").await["type"], "pong");
    // Bob can no longer read or write, through any transport.
    let refused = app.send(1, "bob", json!({"action": "sync"})).await;
    assert_eq!(refused["error"]["code"], "AUTHORIZATION_ERROR", "{refused}");
    let refused =
        app.send(1, "bob", json!({"action": "send_message", "data": {"body": "still here?"}})).await;
    assert_eq!(refused["error"]["code"], "AUTHORIZATION_ERROR", "{refused}");
    assert_eq!(app.connect(1, &token("bob")).await.status(), 403);
    assert_eq!(app.connect(1, &token("erin")).await.status(), 200, "the new renter may connect");
}

async fn a_message_carries_the_unread_count_of_each_other_member_for_their_user_connections(app: TestApp) {
    let first = app.post_message(1, "alice", "one").await;
    app.post_message(1, "bob", "mine").await;
    let reply = app
        .send(1, "alice", json!({"action": "send_message", "data": {"body": "two"}, "request_id": "r"}))
        .await;
    let frames = reply["user_frames"].as_array().expect("user frames beside the message");
    assert_eq!(frames.len(), 1, "bob's only: {reply}");
    assert_eq!(frames[0]["user_id"], "bob");
    let unread = &frames[0]["frame"];
    assert_eq!(
        (unread["type"].clone(), unread["booking_id"].clone(), unread["unread_count"].clone()),
        (json!("unread"), json!(1), json!(2)),
        "alice's two messages, not bob's own: {unread}"
    );
    assert!(unread.get("request_id").is_none(), "not an answer to bob");

    // A read that moves the position carries the reader's own new count.
    let read = app.send(1, "bob", json!({"action": "read", "data": {"message_id": first["id"]}})).await;
    let frames = read["user_frames"].as_array().expect("user frames");
    assert_eq!(
        (frames[0]["user_id"].clone(), frames[0]["frame"]["unread_count"].clone()),
        (json!("bob"), json!(1))
    );
}
