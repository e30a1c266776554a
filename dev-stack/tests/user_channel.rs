//! The per-user channel end to end: a user connection (`?type=user`) through the emulator, the Lambda
//! proxy (in process) and the real backend, with connection records in DynamoDB on moto. Alice has a user
//! connection and chat connections in two bookings with bob.

mod support;

use chat_connections::ConnectionStore;
use chat_connections::store::DynamoDbConnectionStore;
use chat_wire::proxy::ConnectionType;
use serde_json::{Value, json};
use support::{
    Client, connect_as, connect_user, frames_within, next_matching, next_of_type, put_booking, send, start,
};

/// The frames `client` receives before the first of type `kind` (their types), and that frame, within 5 s.
async fn until_type(client: &mut Client, kind: &str) -> (Vec<Value>, Value) {
    let mut before = Vec::new();
    loop {
        let frame = next_matching(client, |_| true).await;
        if frame["type"] == kind {
            return (before, frame);
        }
        before.push(frame["type"].clone());
    }
}

#[tokio::test]
async fn a_user_connection_hears_its_bookings_reads_update_its_unread_counts_and_it_acts_by_naming_a_booking()
{
    let s = start().await;
    put_booking(&s.stack, 3, "bob", "alice").await;
    let mut inbox = connect_user(&s.stack, "alice").await;
    let store = DynamoDbConnectionStore::new(s.dynamodb.clone(), &s.table);
    for booking in [1, 3] {
        let users: Vec<_> = store
            .list(booking)
            .await
            .expect("list")
            .into_iter()
            .filter(|r| r.connection_type == ConnectionType::User)
            .collect();
        assert_eq!(users.len(), 1, "alice's user connection is recorded in booking {booking}");
        assert_eq!(users[0].user_id, "alice");
    }
    assert!(store.list(2).await.expect("list").is_empty(), "not in a booking of others");

    let mut alice1 = connect_as(&s.stack, 1, "alice").await;
    let mut bob1 = connect_as(&s.stack, 1, "bob").await;
    let mut bob3 = connect_as(&s.stack, 3, "bob").await;

    // Bob writes twice in booking 1: alice's user connection hears both, naming the booking.
    let mut ids = Vec::new();
    for n in 0..2 {
        send(&mut bob1, json!({"action": "send_message", "data": {"body": format!("b{n}"), "client_message_id": format!("b{n}")}})).await;
        let heard = next_of_type(&mut inbox, "message").await;
        assert_eq!(heard["booking_id"], 1);
        assert_eq!(heard["message"]["body"], format!("b{n}"));
        ids.push(heard["message"]["id"].clone());
        // Then her unread count of the booking, which the message raised.
        let arrival = next_of_type(&mut inbox, "unread").await;
        assert_eq!(
            (arrival["unread_count"].as_i64(), &arrival["last_read_message_id"]),
            (Some(n as i64 + 1), &json!(null))
        );
        next_matching(&mut alice1, |f| f["type"] == "message" && f["message"]["id"] == ids[n]).await;
    }

    // Bob types: alice's chat connection sees it, her user connection does not.
    send(&mut bob1, json!({"action": "typing", "data": {"is_typing": true}})).await;
    next_of_type(&mut alice1, "typing").await;

    // Alice reads the first on her chat connection: her user connection gets the new count, 1.
    send(&mut alice1, json!({"action": "read", "data": {"message_id": ids[0]}})).await;
    let (mut seen, unread) = until_type(&mut inbox, "unread").await;
    assert_eq!(
        unread,
        json!({"type": "unread", "booking_id": 1, "unread_count": 1, "last_read_message_id": ids[0], "timestamp": unread["timestamp"]})
    );
    send(&mut alice1, json!({"action": "read", "data": {"message_id": ids[1]}})).await;
    // One fan-out, in order: the receipt, then the count.
    let receipt = next_matching(&mut inbox, |_| true).await;
    assert_eq!((receipt["type"].as_str(), receipt["booking_id"].as_i64()), (Some("receipt"), Some(1)));
    let unread = next_matching(&mut inbox, |_| true).await;
    assert_eq!(unread["type"], "unread");
    assert_eq!((unread["unread_count"].as_i64(), &unread["last_read_message_id"]), (Some(0), &ids[1]));

    // Alice writes into booking 3 from her user connection by naming it: bob hears it there, and her
    // user connection gets its copy once (recorded in booking 3 too, it is not sent a second one).
    send(&mut inbox, json!({"action": "send_message", "booking_id": 3, "data": {"body": "from the inbox", "client_message_id": "u-1"}, "request_id": "u"})).await;
    let heard = next_of_type(&mut bob3, "message").await;
    assert_eq!(
        (heard["booking_id"].as_i64(), heard["message"]["body"].as_str()),
        (Some(3), Some("from the inbox"))
    );
    assert_eq!(heard["message"]["sender_id"], "alice");
    let own = next_of_type(&mut inbox, "message").await;
    assert_eq!((own["request_id"].as_str(), own["booking_id"].as_i64()), (Some("u"), Some(3)));

    // Answers name their booking; a frame naming none is refused.
    send(&mut inbox, json!({"action": "ping", "booking_id": 3, "request_id": "p"})).await;
    send(&mut inbox, json!({"action": "ping", "request_id": "nobooking"})).await;
    let mut later = frames_within(&mut inbox, 1_000).await;
    // Two frames are two invocations: their answers may come in either order, as on API Gateway.
    later.sort_by_key(|f| f["request_id"].as_str().map(str::to_owned));
    let types: Vec<&str> = later.iter().filter_map(|f| f["type"].as_str()).collect();
    assert_eq!(types, ["error", "pong"], "one copy of the message, then the two answers: {later:?}");
    assert_eq!(later[0]["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(later[0]["request_id"], "nobooking");
    assert_eq!((later[1]["booking_id"].as_i64(), later[1]["request_id"].as_str()), (Some(3), Some("p")));
    seen.extend(later.iter().map(|f| f["type"].clone()));
    assert!(!seen.contains(&json!("typing")), "typing never reaches a user connection: {seen:?}");
    assert!(!seen.contains(&json!("presence")), "nor presence: {seen:?}");

    // Closing it forgets every record.
    inbox.close(None).await.expect("close");
    support::eventually("the user connection's records to go", || async {
        let mut left = 0;
        for booking in [1, 3] {
            left += store
                .list(booking)
                .await
                .expect("list")
                .iter()
                .filter(|r| r.connection_type == ConnectionType::User)
                .count();
        }
        left == 0
    })
    .await;
}
