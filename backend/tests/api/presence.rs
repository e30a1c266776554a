//! Presence: a booking's members hear when the other comes online (their first live connection) or goes
//! offline (their last one closed), and every `history` answer says who is online and when each was last
//! seen. A connection whose `$disconnect` was lost stops counting when its token expires.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{PROXY_SECRET, TestApp, WsClient, chrono_now, signed_token, token};

crate::on_every_store!(
    members_hear_each_other_come_and_go_and_a_second_tab_changes_nothing,
    the_proxy_routes_keep_presence_and_history_reports_it,
    a_connection_whose_disconnect_was_lost_stops_counting_at_its_expiry,
);

/// The next `presence` frame about `user` within `ms` milliseconds (a direct WebSocket may also hear of
/// its own arrival, which is skipped like any other member's).
async fn news_of(ws: &mut WsClient, user: &str, ms: u64) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now()).as_millis() as u64;
        let frame = ws.presence_within(left).await?;
        if frame["user_id"] == user {
            return Some(frame);
        }
    }
}

fn member<'a>(history: &'a Value, user: &str) -> &'a Value {
    history["presence"]
        .as_array()
        .expect("presence")
        .iter()
        .find(|p| p["user_id"] == user)
        .unwrap_or_else(|| panic!("{user} in {history}"))
}

async fn members_hear_each_other_come_and_go_and_a_second_tab_changes_nothing(app: TestApp) {
    let mut alice = app.ws_as(1, "alice").await;
    let mut bob = app.ws_as(1, "bob").await;
    let online = news_of(&mut alice, "bob", 5000).await.expect("bob's arrival");
    assert_eq!(
        (online["booking_id"].clone(), online["user_id"].clone(), online["online"].clone()),
        (json!(1), json!("bob"), json!(true))
    );

    bob.send_json(json!({"action": "sync", "request_id": "s"})).await;
    let history = bob.next_json().await;
    assert_eq!(history["type"], "history", "{history}");
    assert_eq!(member(&history, "alice")["online"], true);
    assert_eq!(member(&history, "bob")["online"], true);

    // A second tab of bob's: he was online already, so nobody is told; closing it leaves him online.
    let mut second = app.ws_as(1, "bob").await;
    assert!(news_of(&mut alice, "bob", 300).await.is_none(), "no news: bob was online");
    second.send_json(json!({"action": "ping"})).await;
    assert_eq!(second.next_json().await["type"], "pong");
    drop(second);
    assert!(news_of(&mut alice, "bob", 500).await.is_none(), "bob still has a tab open");

    let before = chrono_now() * 1000;
    drop(bob);
    let offline = news_of(&mut alice, "bob", 5000).await.expect("bob's departure");
    assert_eq!((offline["user_id"].clone(), offline["online"].clone()), (json!("bob"), json!(false)));
    assert!(offline["last_seen_at"].as_i64().expect("last seen") >= before);

    alice.send_json(json!({"action": "sync"})).await;
    let history = alice.next_json().await;
    assert_eq!(member(&history, "bob")["online"], false);
    assert_eq!(member(&history, "bob")["last_seen_at"], offline["last_seen_at"]);
    // Other bookings hear nothing of booking 1.
    let mut dave = app.ws_as(2, "dave").await;
    let _bob = app.ws_as(1, "bob").await;
    assert!(news_of(&mut dave, "bob", 300).await.is_none());
    assert_eq!(news_of(&mut alice, "bob", 5000).await.expect("bob is back")["online"], true);
}

async fn the_proxy_routes_keep_presence_and_history_reports_it(app: TestApp) {
    let sync = json!({"action": "sync"});
    let history = app.send(1, "alice", sync.clone()).await;
    assert_eq!(history["presence"], json!([]), "nobody has connected yet");

    assert_eq!(app.connect(1, &token("bob")).await.status(), 200);
    let history = app.send(1, "alice", sync.clone()).await;
    assert_eq!(history["presence"], json!([]), "the authorizer's check records nothing: {history}");
    // Once $connect has recorded the connection, the member is online.
    app.connected(1, "bob", chrono_now() + 3600).await;
    let history = app.send(1, "alice", sync.clone()).await;
    assert_eq!(member(&history, "bob")["online"], true, "{history}");

    assert_eq!(app.disconnect(1, "bob").await.status(), 204);
    let history = app.send(1, "alice", sync.clone()).await;
    let bob = member(&history, "bob");
    assert_eq!(bob["online"], false);
    assert!(bob["last_seen_at"].as_i64().expect("last seen") > (chrono_now() - 60) * 1000);

    // A disconnect of a connection never announced (a lost $connect) is harmless.
    let body = json!({"connection_id": "never-seen", "user_id": "bob"});
    assert_eq!(app.post_proxy(1, "disconnect", body, Some(PROXY_SECRET)).await.status(), 204);
}

async fn a_connection_whose_disconnect_was_lost_stops_counting_at_its_expiry(app: TestApp) {
    let short = signed_token(&json!({"sub": "bob", "exp": chrono_now() + 2}));
    assert_eq!(app.connect(1, &short).await.status(), 200);
    app.connected(1, "bob", chrono_now() + 2).await;
    let history = app.send(1, "alice", json!({"action": "sync"})).await;
    assert_eq!(member(&history, "bob")["online"], true);
    // No $disconnect ever comes.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let history = app.send(1, "alice", json!({"action": "sync"})).await;
    let bob = member(&history, "bob");
    assert_eq!(bob["online"], false, "not online forever: {history}");
    let last_seen = bob["last_seen_at"].as_i64().expect("when the connection lapsed");
    assert!((chrono_now() - 4) * 1000 <= last_seen && last_seen <= chrono_now() * 1000, "{last_seen}");
}

/// What only the SQL stores do themselves: DynamoDB removes a lapsed presence item by its TTL (a month
/// after it lapsed), SQL prunes them.
mod pruning {
    use super::*;

    crate::on_sql_stores!(the_presence_rows_of_lost_disconnects_are_pruned_and_their_last_seen_kept);

    async fn the_presence_rows_of_lost_disconnects_are_pruned_and_their_last_seen_kept(app: TestApp) {
        let connected = |connection: &str, user: &str, expires_at: i64| {
            json!({"connection_id": connection, "user_id": user, "connected_at": chrono_now() * 1000,
                "expires_at": expires_at})
        };
        let lapses_at = chrono_now() + 1;
        let lost = connected("lost", "bob", lapses_at);
        assert_eq!(app.post_proxy(1, "connected", lost, Some(PROXY_SECRET)).await.status(), 204);
        // No $disconnect ever comes; the token lapses.
        tokio::time::sleep(Duration::from_millis(2200)).await;
        let alice = connected("alice-1", "alice", chrono_now() + 3600);
        assert_eq!(app.post_proxy(1, "connected", alice, Some(PROXY_SECRET)).await.status(), 204);

        let records = app.store.presence_records(1).await.expect("presence");
        let users: Vec<&str> = records.connections.iter().map(|(user, _)| user.as_str()).collect();
        assert_eq!(users, ["alice"], "bob's lapsed row is gone: {records:?}");
        assert_eq!(
            records.last_seen,
            vec![("bob".to_owned(), lapses_at * 1000)],
            "and he was last seen then"
        );
        let history = app.send(1, "alice", json!({"action": "sync"})).await;
        assert_eq!(member(&history, "bob")["last_seen_at"], lapses_at * 1000);
    }
}
