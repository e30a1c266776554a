//! The edges of a connection end to end: clients → the API Gateway emulator → the Lambda (in process) → the
//! backend, records in DynamoDB on moto. Only the sender's copy of a broadcast answers its `request_id`; a
//! client that reconnects resumes to the server's state; a member the marketplace removes is told and
//! closed, their user connection unlinked; a user connection covers a booking created after it connected.

mod support;

use chat_connections::ConnectionStore;
use chat_connections::store::DynamoDbConnectionStore;
use chat_wire::proxy::ConnectionType;
use futures_util::StreamExt;
use serde_json::{Value, json};
use support::{connect_as, connect_user, next_matching, next_of_type, put_booking, send, start};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn numbered_requests_are_answered_to_their_sender_only() {
    let s = start().await;
    let mut alice = connect_as(&s.stack, 1, "alice").await;
    let mut bob = connect_as(&s.stack, 1, "bob").await;
    // Both number their requests from 1, as the protocol allows.
    send(
        &mut alice,
        json!({"action": "send_message", "data": {"body": "a", "client_message_id": "a"}, "request_id": 1}),
    )
    .await;
    let own = next_of_type(&mut alice, "message").await;
    let other = next_of_type(&mut bob, "message").await;
    assert_eq!(own["request_id"], "1");
    assert!(other.get("request_id").is_none(), "bob's copy must not answer his request 1: {other}");
    // Typing (the booking but the sender) carries none either.
    send(&mut alice, json!({"action": "typing", "data": {"is_typing": true}, "request_id": 2})).await;
    let typing = next_of_type(&mut bob, "typing").await;
    assert!(typing.get("request_id").is_none(), "{typing}");
}

#[tokio::test]
async fn a_client_back_from_a_gap_resumes_to_the_edits_deletes_reactions_and_receipts_it_missed() {
    let s = start().await;
    let mut alice = connect_as(&s.stack, 1, "alice").await;
    let mut bob = connect_as(&s.stack, 1, "bob").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        send(&mut alice, json!({"action": "send_message", "data": {"body": format!("m{n}"), "client_message_id": format!("m{n}")}})).await;
        let heard = next_of_type(&mut bob, "message").await;
        ids.push(heard["message"]["id"].as_i64().expect("id"));
    }
    send(&mut bob, json!({"action": "sync", "request_id": "s"})).await;
    let held = next_of_type(&mut bob, "history").await;
    let since = held["synced_at"].as_i64().expect("synced_at");
    bob.close(None).await.expect("close");
    drop(bob);

    // While bob is away, alice edits, deletes and reacts; and reads.
    for frame in [
        json!({"action": "edit_message", "data": {"message_id": ids[0], "body": "m0 (edited)"}}),
        json!({"action": "delete_message", "data": {"message_id": ids[1]}}),
        json!({"action": "react", "data": {"message_id": ids[2], "emoji": "🎉"}}),
    ] {
        send(&mut alice, frame).await;
        next_matching(&mut alice, |f| f["type"] == "message_updated" || f["type"] == "reaction").await;
    }
    send(&mut alice, json!({"action": "read", "data": {"message_id": ids[2]}})).await;
    next_of_type(&mut alice, "receipt").await;

    let mut bob = connect_as(&s.stack, 1, "bob").await;
    send(&mut bob, json!({"action": "sync", "data": {"from_message_id": ids[0], "changed_since": since}, "request_id": "r"})).await;
    let resumed = next_matching(&mut bob, |f| f["type"] == "history" && f["request_id"] == "r").await;
    let message = |id: i64| -> Value {
        resumed["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .find(|m| m["id"] == id)
            .cloned()
            .expect("held")
    };
    assert_eq!(message(ids[0])["body"], "m0 (edited)");
    assert_eq!(message(ids[1])["deleted"], true);
    assert_eq!(message(ids[2])["reactions"][0]["emoji"], "🎉");
    let positions = resumed["read_positions"].as_array().expect("positions");
    assert!(positions.iter().any(|p| p["user_id"] == "alice" && p["last_read_message_id"] == ids[2]));
}

#[tokio::test]
async fn a_removed_member_is_told_and_closed_and_their_user_connection_leaves_the_booking_only() {
    let s = start().await;
    put_booking(&s.stack, 7, "alice", "bob").await;
    let mut bob = connect_as(&s.stack, 7, "bob").await;
    let mut inbox = connect_user(&s.stack, "bob").await;
    let mut alice = connect_as(&s.stack, 7, "alice").await;

    // The marketplace gives booking 7 another renter.
    put_booking(&s.stack, 7, "alice", "erin").await;
    let told = next_of_type(&mut bob, "error").await;
    assert_eq!(told["error"]["code"], "REMOVED_FROM_BOOKING", "{told}");
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match bob.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "bob's connection of the booking is closed");
    let left = next_of_type(&mut inbox, "membership").await;
    assert_eq!((left["booking_id"].as_i64(), left["member"].as_bool()), (Some(7), Some(false)));
    let store = DynamoDbConnectionStore::new(s.dynamodb.clone(), &s.table);
    assert!(
        store.list(7).await.expect("list").iter().all(|r| r.user_id != "bob"),
        "none of bob's records is left in booking 7"
    );
    // His user connection still covers his other bookings (booking 1, the demo's).
    let mut alice1 = connect_as(&s.stack, 1, "alice").await;
    send(
        &mut alice1,
        json!({"action": "send_message", "data": {"body": "still there?", "client_message_id": "s"}}),
    )
    .await;
    assert_eq!(next_of_type(&mut inbox, "message").await["booking_id"], 1);
    // And booking 7 no longer reaches him.
    send(
        &mut alice,
        json!({"action": "send_message", "data": {"body": "to erin", "client_message_id": "e"}}),
    )
    .await;
    next_of_type(&mut alice, "message").await;
    let later = support::frames_within(&mut inbox, 500).await;
    assert!(later.iter().all(|f| f["booking_id"] != 7), "{later:?}");
}

#[tokio::test]
async fn a_user_connection_covers_a_booking_created_after_it_connected() {
    let s = start().await;
    // Frank has no booking at all when his inbox connects.
    let mut inbox = connect_user(&s.stack, "frank").await;
    put_booking(&s.stack, 8, "alice", "frank").await;
    let joined = next_of_type(&mut inbox, "membership").await;
    assert_eq!((joined["booking_id"].as_i64(), joined["member"].as_bool()), (Some(8), Some(true)));
    let store = DynamoDbConnectionStore::new(s.dynamodb.clone(), &s.table);
    let records = store.list(8).await.expect("list");
    assert!(records.iter().any(|r| r.user_id == "frank" && r.connection_type == ConnectionType::User));

    let mut alice = connect_as(&s.stack, 8, "alice").await;
    send(
        &mut alice,
        json!({"action": "send_message", "data": {"body": "welcome", "client_message_id": "w"}}),
    )
    .await;
    let heard = next_of_type(&mut inbox, "message").await;
    assert_eq!((heard["booking_id"].as_i64(), heard["message"]["body"].as_str()), (Some(8), Some("welcome")));
    let unread = next_of_type(&mut inbox, "unread").await;
    assert_eq!((unread["booking_id"].as_i64(), unread["unread_count"].as_i64()), (Some(8), Some(1)));
    // And it can act on it by naming it.
    send(&mut inbox, json!({"action": "send_message", "booking_id": 8, "data": {"body": "thanks", "client_message_id": "t"}, "request_id": "t"})).await;
    let own = next_matching(&mut inbox, |f| f["request_id"] == "t").await;
    assert_eq!(own["type"], "message", "{own}");
}
