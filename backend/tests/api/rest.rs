//! History over HTTP and booking status changes.

use serde_json::{Value, json};

use crate::helpers::{TestApp, expired_token, token};

crate::on_every_store!(
    members_read_history_and_others_are_refused,
    history_pages_forwards_and_backwards,
    bad_history_queries_are_400,
    the_owner_moves_a_booking_through_valid_transitions_only,
    a_status_change_reaches_the_bookings_connections,
);

async fn members_read_history_and_others_are_refused(app: TestApp) {
    app.post_message(1, "alice", "hello").await;
    let response = app.history(1, Some(&token("alice")), "").await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.expect("json");
    assert_eq!(page["booking_id"], 1);
    assert_eq!(page["messages"][0]["body"], "hello");
    assert_eq!(page["has_more"], false);

    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(app.history(2, Some(&token("alice")), "").await), 403);
    assert_eq!(status(app.history(999, Some(&token("alice")), "").await), 404);
    assert_eq!(status(app.history(1, None, "").await), 401);
    assert_eq!(status(app.history(1, Some(&expired_token("alice")), "").await), 401);
    let response = app
        .client
        .get(format!("{}/api/chat/bookings/1/messages", app.base))
        .header("authorization", "Basic YWxpY2U6cGFzcw==")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["code"], "AUTHENTICATION_ERROR");
}

async fn history_pages_forwards_and_backwards(app: TestApp) {
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(app.post_message(1, "bob", &format!("m{n}")).await["id"].as_i64().expect("id"));
    }
    let alice = token("alice");
    let ids_of = |page: &Value| -> Vec<i64> {
        page["messages"].as_array().expect("array").iter().map(|m| m["id"].as_i64().expect("id")).collect()
    };
    let latest: Value = app.history(1, Some(&alice), "?limit=2").await.json().await.expect("json");
    assert_eq!(ids_of(&latest), ids[3..].to_vec());
    assert_eq!(latest["has_more"], true);
    let older: Value = app
        .history(1, Some(&alice), &format!("?limit=2&before_message_id={}", ids[3]))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(ids_of(&older), ids[1..3].to_vec());
    let newer: Value = app
        .history(1, Some(&alice), &format!("?after_message_id={}", ids[2]))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(ids_of(&newer), ids[3..].to_vec());
    assert_eq!(newer["has_more"], false);
}

async fn bad_history_queries_are_400(app: TestApp) {
    for query in ["?limit=many", "?after_message_id=x", "?limit=-1"] {
        let response = app.history(1, Some(&token("alice")), query).await;
        assert_eq!(response.status(), 400, "{query}");
        let error: Value = response.json().await.expect("json");
        assert_eq!(error["error"]["code"], "VALIDATION_ERROR");
    }
}

async fn the_owner_moves_a_booking_through_valid_transitions_only(app: TestApp) {
    // Booking 2 starts as requested; carol owns it, dave rents it.
    let response = app.change_status(2, &token("dave"), "confirmed").await;
    assert_eq!(response.status(), 403, "the renter may not change the status");
    let response = app.change_status(2, &token("alice"), "confirmed").await;
    assert_eq!(response.status(), 403, "nor may a stranger");
    let response = app.change_status(2, &token("carol"), "completed").await;
    assert_eq!(response.status(), 409, "requested cannot jump to completed");
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(error["error"]["message"], "a booking cannot go from requested to completed");
    let response = app.change_status(2, &token("carol"), "sold").await;
    assert_eq!(response.status(), 400);
    let response = app.change_status(77, &token("carol"), "confirmed").await;
    assert_eq!(response.status(), 404);

    for (next, previous) in [("confirmed", "requested"), ("active", "confirmed"), ("completed", "active")] {
        let response = app.change_status(2, &token("carol"), next).await;
        assert_eq!(response.status(), 200, "{previous} -> {next}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body, json!({"booking_id": 2, "status": next, "previous_status": previous}));
    }
    let response = app.change_status(2, &token("carol"), "cancelled").await;
    assert_eq!(response.status(), 409, "completed is final");
    let booking = app.store.booking(2).await.expect("read").expect("exists");
    assert_eq!(booking.status.as_str(), "completed");
}

async fn a_status_change_reaches_the_bookings_connections(app: TestApp) {
    let mut watcher =
        app.ws(1, &format!("?type=booking&token={}", token("bob")), &[]).await.expect("booking connection");
    let mut chat = app.ws_as(1, "alice").await;
    let mut elsewhere = app.ws_as(2, "dave").await;
    let response = app.change_status(1, &token("alice"), "active").await;
    assert_eq!(response.status(), 200);
    for ws in [&mut watcher, &mut chat] {
        let frame = ws.next_json().await;
        assert_eq!(frame["type"], "booking_status");
        assert_eq!(frame["booking_id"], 1);
        assert_eq!(frame["status"], "active");
        assert_eq!(frame["previous_status"], "confirmed");
        assert_eq!(frame["changed_by"], "alice");
    }
    elsewhere.expect_silence(200).await;
    // A booking-status connection does not receive chat traffic.
    chat.send_json(json!({"body": "status only watchers skip this"})).await;
    assert_eq!(chat.next_json().await["type"], "message");
    watcher.expect_silence(300).await;
}
