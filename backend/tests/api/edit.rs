//! Editing and deleting messages, on every store: only the sender, only within the edit window, new bodies
//! validated as new messages are, deletes leave a tombstone that keeps its id, and a deleted message never
//! comes back, whatever races it.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, token};

crate::on_every_store!(
    the_sender_edits_a_message_and_the_booking_receives_it,
    only_the_sender_may_edit_or_delete_a_message,
    edits_and_deletes_past_the_window_or_with_editing_off_are_refused,
    a_deleted_message_is_a_tombstone_that_keeps_its_place_in_history,
    deleting_twice_answers_the_same_tombstone,
    a_deleted_message_can_be_neither_edited_nor_reacted_to_nor_resent,
    edited_bodies_are_validated_like_new_messages,
    unknown_messages_and_messages_of_another_booking_are_not_found,
    racing_edits_and_a_delete_end_deleted,
    edits_and_deletes_reach_both_clients_on_the_direct_websocket,
);

fn edit(id: &Value, body: &str) -> Value {
    json!({"action": "edit_message", "data": {"message_id": id, "body": body}})
}

fn delete(id: &Value) -> Value {
    json!({"action": "delete_message", "data": {"message_id": id}})
}

/// The booking's history through `sync`, as `user` sees it.
async fn history(app: &TestApp, user: &str) -> Vec<Value> {
    let page = app.send(1, user, json!({"action": "sync"})).await;
    assert_eq!(page["type"], "history", "{page}");
    page["messages"].as_array().expect("messages").clone()
}

async fn the_sender_edits_a_message_and_the_booking_receives_it(app: TestApp) {
    let sent = app.post_message(1, "alice", "Is the canoe free on Saturday?").await;
    let id = sent["id"].clone();
    app.send(1, "bob", json!({"action": "react", "data": {"message_id": id, "emoji": "👍"}})).await;
    let mut frame = edit(&id, "Is the canoe free on Sunday?");
    frame["request_id"] = json!("e-1");
    let reply = app.send(1, "alice", frame).await;
    assert_eq!(reply["type"], "message_updated", "{reply}");
    assert_eq!(reply["broadcast"], true, "the booking receives the edit");
    assert!(reply.get("exclude_sender").is_none(), "the sender's copy is its acknowledgement");
    assert_eq!(reply["request_id"], "e-1");
    assert_eq!(reply["booking_id"], 1);
    let message = &reply["message"];
    assert_eq!(message["id"], id);
    assert_eq!(message["body"], "Is the canoe free on Sunday?");
    assert_eq!(message["deleted"], false);
    assert_eq!(message["created_at"], sent["created_at"], "an edit keeps the message's time");
    let edited_at = message["edited_at"].as_i64().expect("edited_at is set");
    assert!(edited_at >= sent["created_at"].as_i64().expect("created_at"));
    assert_eq!(message["reactions"], json!([{"emoji": "👍", "count": 1, "user_ids": ["bob"]}]));
    assert_eq!(sent["edited_at"], Value::Null, "a new message was never edited");

    let messages = history(&app, "bob").await;
    assert_eq!(messages, vec![message.clone()], "sync returns the message as it is now");
    let page: Value = app.history(1, Some(&token("bob")), "").await.json().await.expect("json");
    assert_eq!(page["messages"][0], *message, "so does the history route");

    let again = app.send(1, "alice", edit(&id, "Or Monday?")).await;
    assert_eq!(again["message"]["body"], "Or Monday?", "a message may be edited more than once");
    assert!(again["message"]["edited_at"].as_i64().expect("edited_at") >= edited_at);
}

async fn only_the_sender_may_edit_or_delete_a_message(app: TestApp) {
    let id = app.post_message(1, "alice", "mine").await["id"].clone();
    for frame in [edit(&id, "bob was here"), delete(&id)] {
        let reply = app.send(1, "bob", frame.clone()).await;
        assert_eq!(reply["error"]["code"], "AUTHORIZATION_ERROR", "{frame}: {reply}");
        assert_eq!(reply["broadcast"], false);
        let reply = app.send(1, "mallory", frame.clone()).await;
        assert_eq!(reply["error"]["code"], "AUTHORIZATION_ERROR", "a non-member: {reply}");
    }
    let messages = history(&app, "alice").await;
    assert_eq!((messages[0]["body"].as_str(), messages[0]["deleted"].as_bool()), (Some("mine"), Some(false)));
    assert_eq!(messages[0]["edited_at"], Value::Null);
    // Deleted, it is still not bob's to delete.
    app.send(1, "alice", delete(&id)).await;
    let reply = app.send(1, "bob", delete(&id)).await;
    assert_eq!(reply["error"]["code"], "AUTHORIZATION_ERROR", "{reply}");
}

async fn edits_and_deletes_past_the_window_or_with_editing_off_are_refused(app: TestApp) {
    // Two more backends on the same store, as other Lambda instances with other settings.
    let short = app.another_instance(&[("CHAT_EDIT_WINDOW_SECONDS", "2")]).await;
    let off = app.another_instance(&[("CHAT_EDIT_WINDOW_SECONDS", "0")]).await;
    let id = app.post_message(1, "alice", "typo").await["id"].clone();
    for frame in [edit(&id, "fixed"), delete(&id)] {
        let reply = off.send(1, "alice", frame.clone()).await;
        assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "{frame}: {reply}");
        assert_eq!(reply["error"]["message"], "editing and deleting messages is turned off");
    }
    let reply = short.send(1, "alice", edit(&id, "fixed in time")).await;
    assert_eq!(reply["type"], "message_updated", "within the window: {reply}");
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    for frame in [edit(&id, "too late"), delete(&id)] {
        let reply = short.send(1, "alice", frame.clone()).await;
        assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "{frame}: {reply}");
        assert_eq!(
            reply["error"]["message"],
            "a message can only be edited or deleted within 2 seconds of sending it",
            "the error names the window"
        );
    }
    let messages = history(&app, "bob").await;
    assert_eq!(messages[0]["body"], "fixed in time");
    assert_eq!(messages[0]["deleted"], false);
    // The default window (15 minutes) still allows it.
    assert_eq!(app.send(1, "alice", delete(&id)).await["type"], "message_updated");
}

async fn a_deleted_message_is_a_tombstone_that_keeps_its_place_in_history(app: TestApp) {
    let first = app.post_message(1, "bob", "one").await;
    let second = app.post_message(1, "alice", "two").await;
    let third = app.post_message(1, "bob", "three").await;
    let id = second["id"].clone();
    app.send(1, "bob", json!({"action": "react", "data": {"message_id": id, "emoji": "🎉"}})).await;
    let reply = app
        .send(
            1,
            "alice",
            json!({"action": "delete_message", "data": {"message_id": id}, "request_id": "d-1"}),
        )
        .await;
    assert_eq!(reply["type"], "message_updated", "{reply}");
    assert_eq!(reply["broadcast"], true);
    assert_eq!(reply["request_id"], "d-1");
    let tombstone = &reply["message"];
    assert_eq!(tombstone["id"], id);
    assert_eq!(tombstone["deleted"], true);
    assert_eq!(tombstone["body"], "");
    assert_eq!(tombstone["reactions"], json!([]), "a tombstone has no reactions");
    assert_eq!(tombstone["sender_id"], "alice");
    assert_eq!(tombstone["created_at"], second["created_at"]);

    let messages = history(&app, "bob").await;
    let ids: Vec<&Value> = messages.iter().map(|m| &m["id"]).collect();
    assert_eq!(ids, vec![&first["id"], &id, &third["id"]], "no gap where the message was");
    assert_eq!(messages[1], *tombstone);
    assert_eq!(messages[0]["body"], "one");
    assert_eq!(messages[2]["body"], "three");
    let resumed =
        app.send(1, "bob", json!({"action": "sync", "data": {"after_message_id": first["id"]}})).await;
    assert_eq!(resumed["messages"][0], *tombstone, "a client resuming sees the tombstone");
    let page: Value = app.history(1, Some(&token("alice")), "").await.json().await.expect("json");
    assert_eq!(page["messages"][1], *tombstone, "so does the history route");
}

async fn deleting_twice_answers_the_same_tombstone(app: TestApp) {
    let id = app.post_message(1, "alice", "oops").await["id"].clone();
    let first = app.send(1, "alice", delete(&id)).await;
    let second = app
        .send(1, "alice", json!({"action": "delete_message", "data": {"message_id": id}, "request_id": 9}))
        .await;
    assert_eq!(second["type"], "message_updated", "{second}");
    assert_eq!(second["message"], first["message"], "the same tombstone, deleted once");
    assert_eq!(second["request_id"], "9");
    assert_eq!(second["broadcast"], true, "answered as the first, like a retried send_message");
    assert_eq!(app.store.count_messages(1).await.expect("count"), 1, "the row stays");
}

async fn a_deleted_message_can_be_neither_edited_nor_reacted_to_nor_resent(app: TestApp) {
    let send = json!({"action": "send_message", "data": {"body": "secret", "client_message_id": "c-9"}});
    let id = app.send(1, "alice", send.clone()).await["message"]["id"].clone();
    app.send(1, "alice", delete(&id)).await;
    let reply = app.send(1, "alice", edit(&id, "back to life")).await;
    assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "{reply}");
    assert_eq!(reply["error"]["message"], "the message was deleted: it can no longer be edited");
    let reply =
        app.send(1, "bob", json!({"action": "react", "data": {"message_id": id, "emoji": "👍"}})).await;
    assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "{reply}");
    assert_eq!(reply["broadcast"], false);
    let reply = app.send(1, "alice", json!({"action": "read", "data": {"message_id": id}})).await;
    assert_eq!(reply["type"], "receipt", "a tombstone still marks a read position: {reply}");
    // A late retry of the original send finds the tombstone, not the text.
    let retry = app.send(1, "alice", send).await;
    assert_eq!(retry["message"]["id"], id);
    assert_eq!(
        (retry["message"]["deleted"].as_bool(), retry["message"]["body"].as_str()),
        (Some(true), Some(""))
    );
    let messages = history(&app, "bob").await;
    assert_eq!(messages.len(), 1);
    assert_eq!((messages[0]["body"].as_str(), messages[0]["reactions"].clone()), (Some(""), json!([])));
    assert_eq!(messages[0]["deleted"], true);
}

async fn edited_bodies_are_validated_like_new_messages(app: TestApp) {
    let max = app.settings.limits.max_message_chars;
    let id = app.post_message(1, "alice", "original").await["id"].clone();
    for (body, code) in [
        ("   ".to_owned(), "VALIDATION_ERROR"),
        (String::new(), "VALIDATION_ERROR"),
        ("bell\u{7}".to_owned(), "VALIDATION_ERROR"),
        ("nul\u{0}".to_owned(), "VALIDATION_ERROR"),
        ("é".repeat(max + 1), "PAYLOAD_TOO_LARGE"),
    ] {
        let reply = app.send(1, "alice", edit(&id, &body)).await;
        assert_eq!(reply["error"]["code"], code, "{body:?}: {reply}");
    }
    for frame in [
        json!({"action": "edit_message", "data": {"message_id": id}}),
        json!({"action": "edit_message", "data": {"body": "x"}}),
        json!({"action": "delete_message", "data": {"message_id": "one"}}),
    ] {
        let reply = app.send(1, "alice", frame.clone()).await;
        assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "{frame}: {reply}");
    }
    assert_eq!(history(&app, "bob").await[0]["body"], "original", "nothing was changed");
    let reply = app.send(1, "alice", edit(&id, &"é".repeat(max))).await;
    assert_eq!(reply["type"], "message_updated", "the limit counts characters, as for new messages");
}

async fn unknown_messages_and_messages_of_another_booking_are_not_found(app: TestApp) {
    let other = app.post_message(2, "carol", "booking 2 only").await["id"].clone();
    for frame in [edit(&json!(987_654), "x"), delete(&json!(987_654)), edit(&other, "x"), delete(&other)] {
        let reply = app.send(1, "alice", frame.clone()).await;
        assert_eq!(reply["error"]["code"], "NOT_FOUND", "{frame}: {reply}");
        assert_eq!(reply["broadcast"], false);
    }
    let reply = app.send(2, "carol", edit(&other, "still mine")).await;
    assert_eq!(reply["type"], "message_updated", "{reply}");
}

async fn racing_edits_and_a_delete_end_deleted(app: TestApp) {
    let other = app.another_instance(&[]).await;
    let instances = [&app, &other];
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(app.post_message(1, "alice", &format!("m{n}")).await["id"].clone());
    }
    // Per message: four edits and one delete at once, spread over two instances.
    let races = ids.iter().map(|id| async move {
        let frames = (0..5).map(|n| if n == 2 { delete(id) } else { edit(id, &format!("edit {n}")) });
        let replies =
            join_all(frames.enumerate().map(|(n, frame)| instances[n % 2].send(1, "alice", frame))).await;
        for reply in &replies {
            let refused_as_deleted = reply["error"]["code"] == "VALIDATION_ERROR";
            assert!(reply["type"] == "message_updated" || refused_as_deleted, "{reply}");
        }
        assert_eq!(replies[2]["message"]["deleted"], true, "the delete succeeds: {}", replies[2]);
    });
    join_all(races).await;
    let messages = history(&app, "bob").await;
    assert_eq!(messages.len(), ids.len());
    for message in &messages {
        assert_eq!(message["deleted"], true, "no edit brought a message back: {message}");
        assert_eq!(message["body"], "", "{message}");
    }
    // And later edits find the tombstone.
    let reply = other.send(1, "alice", edit(&ids[0], "late")).await;
    assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "{reply}");
}

async fn edits_and_deletes_reach_both_clients_on_the_direct_websocket(app: TestApp) {
    let mut alice = app.ws_as(1, "alice").await;
    let mut bob = app.ws_as(1, "bob").await;
    alice.send_json(json!({"action": "send_message", "data": {"body": "hi bob"}})).await;
    let id = alice.next_json().await["message"]["id"].clone();
    bob.next_json().await;
    alice
        .send_json(json!({"action": "edit_message", "data": {"message_id": id, "body": "hi Bob"}, "request_id": "e"}))
        .await;
    let own = alice.next_json().await;
    let seen = bob.next_json().await;
    assert_eq!((own["type"].as_str(), own["request_id"].as_str()), (Some("message_updated"), Some("e")));
    assert_eq!(own["message"]["body"], "hi Bob");
    assert_eq!(seen["type"], "message_updated");
    assert_eq!(seen["message"], own["message"]);
    bob.send_json(json!({"action": "delete_message", "data": {"message_id": id}})).await;
    assert_eq!(bob.next_json().await["error"]["code"], "AUTHORIZATION_ERROR");
    alice.expect_silence(200).await;
    alice.send_json(json!({"action": "delete_message", "data": {"message_id": id}})).await;
    let own = alice.next_json().await;
    let seen = bob.next_json().await;
    assert_eq!(own["message"]["deleted"], true);
    assert_eq!(seen["message"], own["message"]);
}
