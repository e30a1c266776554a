//! Read state that survives a reload: read positions in every history answer, and the inbox
//! (`GET /api/chat/inbox`): each of the user's bookings with its last message, the user's unread count and
//! the other member's read position, most recently active first.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, token};
use crate::service::booking;

crate::on_every_store!(
    the_inbox_lists_a_users_bookings_by_activity_with_unread_counts_that_reading_clears,
    history_and_sync_carry_every_members_read_position,
    the_inbox_follows_membership_changes_and_refuses_strangers,
);

impl TestApp {
    pub async fn inbox(&self, user: &str, query: &str) -> Value {
        let response = self
            .client
            .get(format!("{}/api/chat/inbox{query}", self.base))
            .bearer_auth(token(user))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "inbox of {user}");
        response.json().await.expect("json")
    }

    async fn read_up_to(&self, booking: i64, user: &str, message_id: &Value) {
        let reply =
            self.send(booking, user, json!({"action": "read", "data": {"message_id": message_id}})).await;
        assert_eq!(reply["type"], "receipt", "{reply}");
    }
}

/// Spaced out so that the bookings' activity times differ.
async fn post(app: &TestApp, booking: i64, user: &str, body: &str) -> Value {
    tokio::time::sleep(Duration::from_millis(5)).await;
    app.post_message(booking, user, body).await
}

fn booking_ids(inbox: &Value) -> Vec<i64> {
    inbox["bookings"]
        .as_array()
        .expect("bookings")
        .iter()
        .map(|b| b["booking_id"].as_i64().expect("id"))
        .collect()
}

fn entry(inbox: &Value, booking_id: i64) -> Value {
    inbox["bookings"]
        .as_array()
        .expect("bookings")
        .iter()
        .find(|b| b["booking_id"] == booking_id)
        .cloned()
        .unwrap_or_else(|| panic!("booking {booking_id} in {inbox}"))
}

async fn the_inbox_lists_a_users_bookings_by_activity_with_unread_counts_that_reading_clears(app: TestApp) {
    assert_eq!(app.put_booking(10, booking("alice", "erin", "Kayak")).await.status(), 201);
    assert_eq!(app.put_booking(11, booking("frank", "alice", "Tent")).await.status(), 201);
    let first = post(&app, 1, "bob", "one").await;
    let second = post(&app, 1, "bob", "two").await;
    post(&app, 10, "erin", "hello from erin").await;
    let own = post(&app, 11, "alice", "my own message").await;

    let inbox = app.inbox("alice", "").await;
    assert_eq!(booking_ids(&inbox), vec![11, 10, 1], "most recently active first; not carol's booking 2");
    let canoe = entry(&inbox, 1);
    assert_eq!(canoe["title"], "Canoe for the weekend");
    assert_eq!(canoe["other_user_id"], "bob");
    assert_eq!(canoe["unread_count"], 2);
    assert_eq!(canoe["last_message"]["id"], second["id"]);
    assert_eq!(canoe["last_message"]["body"], "two");
    assert_eq!(canoe["last_read_message_id"], Value::Null);
    assert_eq!(entry(&inbox, 10)["unread_count"], 1);
    assert_eq!(entry(&inbox, 11)["unread_count"], 0, "one's own messages are never unread");
    assert_eq!(entry(&inbox, 11)["last_message"]["id"], own["id"]);
    assert_eq!(entry(&app.inbox("frank", "").await, 11)["unread_count"], 1);

    app.read_up_to(1, "alice", &first["id"]).await;
    let canoe = entry(&app.inbox("alice", "").await, 1);
    assert_eq!(
        (canoe["unread_count"].clone(), canoe["last_read_message_id"].clone()),
        (json!(1), first["id"].clone())
    );
    app.read_up_to(1, "alice", &second["id"]).await;
    assert_eq!(entry(&app.inbox("alice", "").await, 1)["unread_count"], 0);
    // bob's side: alice's read position is what his messages show as seen.
    let bobs = entry(&app.inbox("bob", "").await, 1);
    assert_eq!(bobs["other_last_read_message_id"], second["id"]);
    assert_eq!(bobs["unread_count"], 0, "only his own messages");

    // A message its sender deleted is not waiting to be read.
    let deleted = post(&app, 10, "erin", "oops").await;
    assert_eq!(entry(&app.inbox("alice", "").await, 10)["unread_count"], 2);
    let tombstone = app
        .send(10, "erin", json!({"action": "delete_message", "data": {"message_id": deleted["id"]}}))
        .await;
    assert_eq!(tombstone["type"], "message_updated", "{tombstone}");
    assert_eq!(entry(&app.inbox("alice", "").await, 10)["unread_count"], 1);

    assert_eq!(booking_ids(&app.inbox("alice", "?limit=2").await), vec![10, 11]);
    assert_eq!(booking_ids(&app.inbox("nobody-at-all", "").await), Vec::<i64>::new());
}

async fn history_and_sync_carry_every_members_read_position(app: TestApp) {
    let first = app.post_message(1, "alice", "hi").await;
    let second = app.post_message(1, "alice", "there").await;
    app.read_up_to(1, "bob", &second["id"]).await;
    app.read_up_to(1, "alice", &first["id"]).await;
    let expected = json!([
        {"user_id": "alice", "last_read_message_id": first["id"]},
        {"user_id": "bob", "last_read_message_id": second["id"]},
    ]);

    let response = app.history(1, Some(&token("alice")), "").await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.expect("json");
    assert_eq!(page["read_positions"], expected, "a reloaded client shows seen at once");

    let history = app.send(1, "alice", json!({"action": "sync", "data": {"after_message_id": 0}})).await;
    assert_eq!(history["type"], "history");
    assert_eq!(history["read_positions"], expected);
}

async fn the_inbox_follows_membership_changes_and_refuses_strangers(app: TestApp) {
    assert_eq!(app.put_booking(12, booking("alice", "erin", "Kayak")).await.status(), 201);
    assert_eq!(booking_ids(&app.inbox("erin", "").await), vec![12]);
    assert_eq!(app.put_booking(12, booking("alice", "gina", "Kayak")).await.status(), 200);
    assert_eq!(booking_ids(&app.inbox("erin", "").await), Vec::<i64>::new(), "erin is no longer a member");
    assert_eq!(booking_ids(&app.inbox("gina", "").await), vec![12]);

    let response = app.client.get(format!("{}/api/chat/inbox", app.base)).send().await.expect("request");
    assert_eq!(response.status(), 401);
}
