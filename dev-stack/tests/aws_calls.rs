//! The AWS calls a message and a connection cost, counted through the real adapters (DynamoDB on moto,
//! the Management API over HTTP with the AWS SDK): the deterministic figure behind what a message costs on
//! AWS. If one of these numbers grows, a change made every message or connection more expensive.
//!
//! Presence is part of a connection's cost: a member's first connection and their last disconnect are
//! announced to the booking by the backend (one `Query` of the booking's records and a post per other
//! connection); a message costs nothing more for it.

mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use chat_connections::gateway::ManagementApiGateway;
use chat_connections::metering::AwsCalls;
use chat_connections::ports::ConnectionStore;
use chat_connections::record::ConnectionRecord;
use chat_connections::store::DynamoDbConnectionStore;
use chat_wire::proxy::ConnectionType;
use chat_wire::time::{now_millis, now_seconds};
use dev_stack::{ConnectionRecords, DevStack, ManagementPath, StackOptions};
use local_services::moto::Moto;
use serde_json::json;
use support::{connect_as, connect_user, next_matching, next_of_type, put_booking, send};

fn sdk_config() -> SdkConfig {
    SdkConfig::builder()
        .http_client(chat_settings::aws::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(Moto::shared().endpoint())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "tests",
        )))
        .timeout_config(chat_settings::aws::timeouts(Duration::from_secs(10)))
        .build()
}

/// The local stack over a fresh table of moto, every DynamoDB and Management API call counted in `calls`.
async fn counted_stack(calls: &AwsCalls, dir: &std::path::Path) -> DevStack {
    let sdk = sdk_config();
    let table = format!("calls-{}", fastrand::u64(..));
    chat_connections::table::create_if_missing(&support::dynamodb(), &table).await.expect("table");
    DevStack::start(StackOptions {
        management: ManagementPath::Http(Arc::new(ManagementApiGateway::new(sdk.clone()).counting(calls))),
        backend: support::backend_settings(dir),
        emulator_addr: "127.0.0.1:0".parse().expect("addr"),
        emulator: apigw_ws_emulator::EmulatorConfig::default(),
        records: ConnectionRecords::DynamoDb { client: calls.dynamodb_client(&sdk), table },
        max_frame_bytes: 32 * 1024,
        backend_timeout: Duration::from_secs(5),
    })
    .await
    .expect("stack")
}

/// What a user connection costs: one `BatchWriteItem` per 25 of its user's bookings at connect and at
/// disconnect, no extra call per message (the booking's one `Query` finds it), one more post per message
/// of its bookings; a booking whose members have no user connection costs what it always did.
#[tokio::test]
async fn a_user_connection_costs_one_batch_write_per_connect_and_disconnect_and_one_post_per_message() {
    let calls = AwsCalls::default();
    let dir = tempfile::tempdir().expect("temp dir");
    let stack = counted_stack(&calls, dir.path()).await;
    put_booking(&stack, 3, "bob", "alice").await;

    calls.reset();
    let mut inbox = connect_user(&stack, "alice").await;
    assert_eq!(
        calls.snapshot(),
        [("BatchWriteItem".to_owned(), 1)].into(),
        "a user connection in two bookings: one BatchWriteItem, no presence"
    );

    let mut alice = connect_as(&stack, 1, "alice").await;
    let mut bob = connect_as(&stack, 1, "bob").await;
    let mut carol = connect_as(&stack, 2, "carol").await;
    let mut dave = connect_as(&stack, 2, "dave").await;
    support::eventually("the arrivals told", || async { calls.of("PostToConnection") >= 2 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Booking 2: no member has a user connection. Exactly what a message cost before user connections.
    calls.reset();
    for n in 0..10 {
        send(&mut carol, json!({"action": "send_message", "data": {"body": format!("m{n}"), "client_message_id": format!("c{n}")}})).await;
        next_matching(&mut carol, |f| f["message"]["client_message_id"] == format!("c{n}")).await;
        next_matching(&mut dave, |f| f["message"]["client_message_id"] == format!("c{n}")).await;
    }
    assert_eq!(
        calls.snapshot(),
        [("PostToConnection".to_owned(), 20), ("Query".to_owned(), 10)].into(),
        "no user connection: one Query and a post per connection"
    );
    assert_eq!(calls.items_read(), 20);

    // Booking 1: alice's user connection is one more record the same Query reads, and two more posts:
    // the message, then her new unread count (in the same fan-out: no extra Query).
    calls.reset();
    let mut last = json!(null);
    for n in 0..10 {
        send(&mut bob, json!({"action": "send_message", "data": {"body": format!("m{n}"), "client_message_id": format!("b{n}")}})).await;
        next_matching(&mut bob, |f| f["message"]["client_message_id"] == format!("b{n}")).await;
        next_matching(&mut alice, |f| f["message"]["client_message_id"] == format!("b{n}")).await;
        last = next_matching(&mut inbox, |f| f["message"]["client_message_id"] == format!("b{n}")).await;
        let unread = next_of_type(&mut inbox, "unread").await;
        assert_eq!(unread["unread_count"], n + 1, "{unread}");
    }
    assert_eq!(
        calls.snapshot(),
        [("PostToConnection".to_owned(), 40), ("Query".to_owned(), 10)].into(),
        "a user connection: no extra call per message, the message and the count posted to it"
    );
    assert_eq!(calls.items_read(), 30);

    // A read that moves: the receipt and the reader's unread count, both delivered by the Lambda in one
    // fan-out (one Query): the receipt to three connections, the count to the reader's user connection.
    calls.reset();
    send(&mut alice, json!({"action": "read", "data": {"message_id": last["message"]["id"]}})).await;
    next_of_type(&mut bob, "receipt").await;
    next_of_type(&mut inbox, "receipt").await;
    next_of_type(&mut inbox, "unread").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        calls.snapshot(),
        [("PostToConnection".to_owned(), 4), ("Query".to_owned(), 1)].into(),
        "a moved read: one Query, the receipt to three connections and the count to one"
    );

    calls.reset();
    inbox.close(None).await.expect("close");
    support::eventually("the $disconnect", || async { calls.of("BatchWriteItem") == 1 }).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        calls.snapshot(),
        [("BatchWriteItem".to_owned(), 1)].into(),
        "a disconnect: one BatchWriteItem"
    );
    drop((alice, bob, carol, dave));
    stack.stop().await;
}

#[tokio::test]
async fn a_message_costs_one_query_and_its_posts_and_a_connection_one_put_and_one_delete() {
    let sdk = sdk_config();
    let calls = AwsCalls::default();
    let table = format!("calls-{}", fastrand::u64(..));
    chat_connections::table::create_if_missing(&support::dynamodb(), &table).await.expect("table");
    let dir = tempfile::tempdir().expect("temp dir");
    let stack = DevStack::start(StackOptions {
        management: ManagementPath::Http(Arc::new(ManagementApiGateway::new(sdk.clone()).counting(&calls))),
        backend: support::backend_settings(dir.path()),
        emulator_addr: "127.0.0.1:0".parse().expect("addr"),
        emulator: apigw_ws_emulator::EmulatorConfig::default(),
        records: ConnectionRecords::DynamoDb { client: calls.dynamodb_client(&sdk), table: table.clone() },
        max_frame_bytes: 32 * 1024,
        backend_timeout: Duration::from_secs(5),
    })
    .await
    .expect("stack");

    // Other bookings' connections in the same table: a message's Query must not read them.
    let others = DynamoDbConnectionStore::new(support::dynamodb(), &table);
    for n in 0..100 {
        let record = ConnectionRecord {
            booking_id: 1_000 + n / 2,
            connection_id: format!("other-{n}"),
            user_id: format!("user-{n}"),
            connection_type: ConnectionType::Chat,
            connected_at: now_millis(),
            ttl: now_seconds() + 3_600,
        };
        others.put(&record).await.expect("another booking's record");
    }

    calls.reset();
    let mut alice = connect_as(&stack, 1, "alice").await;
    let mut bob = connect_as(&stack, 1, "bob").await;
    support::eventually("bob's arrival told to alice", || async { calls.of("PostToConnection") == 1 }).await;
    assert_eq!(
        calls.snapshot(),
        [("PutItem".to_owned(), 2), ("Query".to_owned(), 2), ("PostToConnection".to_owned(), 1)].into(),
        "a connection: one PutItem; announcing its member, one Query and a post to each other connection"
    );
    let arrival = next_of_type(&mut alice, "presence").await;
    assert_eq!((arrival["user_id"].as_str(), arrival["online"].as_bool()), (Some("bob"), Some(true)));

    calls.reset();
    for n in 0..10 {
        send(&mut alice, json!({"action": "send_message", "data": {"body": format!("m{n}"), "client_message_id": format!("c{n}")}})).await;
        next_matching(&mut alice, |f| f["message"]["client_message_id"] == format!("c{n}")).await;
        next_matching(&mut bob, |f| f["message"]["client_message_id"] == format!("c{n}")).await;
    }
    assert_eq!(
        calls.snapshot(),
        [("PostToConnection".to_owned(), 20), ("Query".to_owned(), 10)].into(),
        "a broadcast to two: one Query and two posts, no GetItem"
    );
    assert_eq!(calls.items_read(), 20, "each Query reads the booking's two records, not the other 100");

    calls.reset();
    for n in 0..5 {
        send(&mut alice, json!({"action": "ping", "request_id": n})).await;
        next_of_type(&mut alice, "pong").await;
    }
    assert_eq!(
        calls.snapshot(),
        [("PostToConnection".to_owned(), 5)].into(),
        "an answer to the sender: one post"
    );

    calls.reset();
    bob.close(None).await.expect("close");
    support::eventually("the $disconnect", || async { calls.of("DeleteItem") == 1 }).await;
    let departure = next_of_type(&mut alice, "presence").await;
    assert_eq!((departure["user_id"].as_str(), departure["online"].as_bool()), (Some("bob"), Some(false)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        calls.snapshot(),
        [("DeleteItem".to_owned(), 1), ("Query".to_owned(), 1), ("PostToConnection".to_owned(), 1)].into(),
        "a disconnect: one DeleteItem; announcing the member's departure, one Query and a post to alice"
    );
    drop(alice);
    stack.stop().await;
}

/// What a message costs in DynamoDB request units by AWS's billing rules (issue 27), through the backend
/// over the real adapter on moto (`dev_stack::measure::message_units`, which `make bench` prints too):
/// pinned, so a change that makes every message dearer fails here, and one that makes it cheaper updates
/// these figures, docs/cost.md and `scripts/scale-model.py`.
#[tokio::test]
async fn a_message_costs_its_pinned_request_units_on_dynamodb() {
    let dir = tempfile::tempdir().expect("temp dir");
    let units = dev_stack::measure::message_units(&sdk_config(), &support::backend_settings(dir.path()))
        .await
        .expect("measured");
    let (keyed, plain, receipt) = (units.keyed, units.plain, units.receipt);
    assert_eq!(
        (keyed.write_units, keyed.read_units),
        (3, 4.0),
        "writes: the rate limit, the key's reservation, the message (no transaction); reads: the booking (the \
         membership), the newest message (its id is the next one's floor), the read positions, the unread count"
    );
    assert_eq!((plain.write_units, plain.read_units), (2, 4.0), "no idempotency key: no reservation");
    assert_eq!(
        (receipt.write_units, receipt.read_units),
        (2, 3.0),
        "the rate limit and the conditional update that did not move (a refused write bills too); the booking, \
         the message, the position read back"
    );
}
