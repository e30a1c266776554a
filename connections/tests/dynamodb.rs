//! The DynamoDB connection store against a real `moto_server` started by the tests.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use chat_connections::record::ConnectionRecord;
use chat_connections::store::DynamoDbConnectionStore;
use chat_connections::testing::{RecordingGateway, record};
use chat_connections::{ConnectionStore, DeliveryPolicy, Fanout};
use chat_wire::proxy::ConnectionType;
use chat_wire::time::now_seconds;
use local_services::moto::Moto;

fn client() -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .http_client(chat_settings::aws::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(Moto::shared().endpoint())
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .build();
    Client::from_conf(config)
}

/// A fresh table shaped like the Terraform one.
async fn table() -> (Client, String) {
    let client = client();
    let name = format!("connections-{}", fastrand::u64(..));
    chat_connections::table::create_if_missing(&client, &name).await.expect("create table");
    (client, name)
}

async fn raw_item(
    client: &Client,
    table: &str,
    pk: &str,
    sk: &str,
) -> Option<HashMap<String, AttributeValue>> {
    client
        .get_item()
        .table_name(table)
        .key("booking_id", AttributeValue::S(pk.into()))
        .key("connection_id", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get item")
        .item
}

#[tokio::test]
async fn a_connection_is_one_item_listed_by_its_booking_right_after_it_is_recorded() {
    let (client, name) = table().await;
    let store = DynamoDbConnectionStore::new(client.clone(), &name);
    let mut bob = record(7, "conn-b", "bob");
    bob.connection_type = ConnectionType::Booking;
    store.put(&bob).await.expect("put");
    assert_eq!(store.list(7).await.expect("list"), vec![bob.clone()], "a consistent read right after put");
    store.put(&record(7, "conn-a", "alice")).await.expect("put");
    store.put(&record(8, "conn-c", "carol")).await.expect("put");
    let listed: Vec<String> =
        store.list(7).await.expect("list").into_iter().map(|r| r.connection_id).collect();
    assert_eq!(listed, vec!["conn-a".to_owned(), "conn-b".to_owned()], "only the booking's own");

    // The stored item: the keys of docs/connection-records.md, TTL in epoch seconds, no token anywhere.
    let item = raw_item(&client, &name, "7", "conn-b").await.expect("booking item");
    assert_eq!(item["user_id"], AttributeValue::S("bob".into()));
    assert_eq!(item["connection_type"], AttributeValue::S("booking".into()));
    assert_eq!(item["ttl"], AttributeValue::N(bob.ttl.to_string()));
    assert!(item.keys().all(|k| !k.contains("token")));
    assert!(
        raw_item(&client, &name, "connection#conn-b", "connection#conn-b").await.is_none(),
        "no lookup item: later events carry the booking in the authorizer's context"
    );
}

#[tokio::test]
async fn an_expired_connection_is_told_closed_and_forgotten_by_the_next_fan_out_instead_of_skipped() {
    let (client, name) = table().await;
    let store = DynamoDbConnectionStore::new(client.clone(), &name);
    let mut stale = record(3, "stale", "bob");
    stale.ttl = now_seconds() - 5;
    store.put(&stale).await.expect("put");
    store.put(&record(3, "fresh", "alice")).await.expect("put");
    let listed: Vec<String> =
        store.list(3).await.expect("list").into_iter().map(|r| r.connection_id).collect();
    assert_eq!(listed, vec!["fresh".to_owned(), "stale".to_owned()], "DynamoDB has not deleted it yet");

    let fanout = Fanout::new(store, RecordingGateway::default(), DeliveryPolicy::default());
    let report = fanout.to_booking("https://x", 3, Some("message"), r#"{"type":"message"}"#, None).await;
    let report = report.expect("fan-out");
    assert_eq!((report.recipients, report.delivered, report.expired), (1, 1, 1));
    let told = fanout.gateway().frames_to("stale");
    assert_eq!(told.len(), 1, "the expired connection gets the error, not the message");
    assert_eq!(told[0]["error"]["code"], "TOKEN_EXPIRED");
    assert_eq!(fanout.gateway().closed(), vec!["stale".to_owned()]);
    assert!(raw_item(&client, &name, "3", "stale").await.is_none(), "and its record is forgotten");
}

#[tokio::test]
async fn renew_moves_a_recorded_connections_expiry_and_refuses_an_unknown_one() {
    let (client, name) = table().await;
    let store = DynamoDbConnectionStore::new(client.clone(), &name);
    let alice = record(4, "conn-a", "alice");
    store.put(&alice).await.expect("put");
    assert!(store.renew(4, "conn-a", alice.ttl + 600).await.expect("renew"));
    let found = store.find(4, "conn-a").await.expect("find").expect("recorded");
    assert_eq!(found, ConnectionRecord { ttl: alice.ttl + 600, ..alice });
    assert!(!store.renew(4, "never-connected", 1).await.expect("renew"), "nothing to renew");
    assert!(store.find(4, "never-connected").await.expect("find").is_none());
    assert!(raw_item(&client, &name, "4", "never-connected").await.is_none(), "renew creates nothing");
}

#[tokio::test]
async fn remove_deletes_the_item_and_is_idempotent() {
    let (client, name) = table().await;
    let store = DynamoDbConnectionStore::new(client.clone(), &name);
    store.put(&record(5, "gone-soon", "dave")).await.expect("put");
    store.remove(5, "gone-soon").await.expect("remove");
    store.remove(5, "gone-soon").await.expect("removing twice is fine");
    store.remove(5, "never-existed").await.expect("removing the unknown is fine");
    assert!(store.list(5).await.expect("list").is_empty());
    assert!(raw_item(&client, &name, "5", "gone-soon").await.is_none());
}

#[tokio::test]
async fn a_booking_with_more_connections_than_one_query_page_is_listed_completely() {
    let (client, name) = table().await;
    let ttl = now_seconds() + 3600;
    let mut requests = Vec::new();
    for n in 0..2500 {
        let item = HashMap::from([
            ("booking_id".to_owned(), AttributeValue::S("42".into())),
            ("connection_id".to_owned(), AttributeValue::S(format!("conn-{n:05}"))),
            ("user_id".to_owned(), AttributeValue::S(format!("user-{}", n % 2))),
            ("connection_type".to_owned(), AttributeValue::S("chat".into())),
            ("connected_at".to_owned(), AttributeValue::N("1795325400000".into())),
            ("ttl".to_owned(), AttributeValue::N(ttl.to_string())),
        ]);
        requests.push(
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().expect("put"))
                .build(),
        );
    }
    for batch in requests.chunks(25) {
        let out =
            client.batch_write_item().request_items(&name, batch.to_vec()).send().await.expect("batch write");
        assert!(out.unprocessed_items.is_none_or(|u| u.is_empty()));
    }
    let store = DynamoDbConnectionStore::new(client, &name).with_page_size(1000);
    let listed = store.list(42).await.expect("list");
    assert_eq!(listed.len(), 2500, "three pages of 1,000, 1,000 and 500");
    let mut ids: Vec<&str> = listed.iter().map(|r| r.connection_id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2500, "no record twice");
}

#[tokio::test]
async fn a_fan_out_through_dynamodb_forgets_gone_connections() {
    let (client, name) = table().await;
    let store = DynamoDbConnectionStore::new(client, &name);
    for (id, user) in [("a", "alice"), ("b", "bob"), ("c", "bob")] {
        store.put(&record(9, id, user)).await.expect("put");
    }
    let gateway = RecordingGateway::default();
    gateway.make_gone("c");
    let fanout = Fanout::new(store.clone(), gateway, DeliveryPolicy::default());
    let report = fanout
        .to_booking("http://x", 9, Some("message"), r#"{"type":"message"}"#, None)
        .await
        .expect("fan-out");
    assert_eq!((report.recipients, report.delivered, report.gone, report.failed), (3, 2, 1, 0));
    assert!(fanout.store().list(9).await.expect("list").iter().all(|r| r.connection_id != "c"));
    let left: Vec<ConnectionRecord> = fanout.store().list(9).await.expect("list");
    assert_eq!(left.len(), 2);
}

#[tokio::test]
async fn a_user_connection_is_recorded_in_each_of_its_bookings_and_under_its_user_and_forgotten_in_all() {
    let (client, name) = table().await;
    let store = DynamoDbConnectionStore::new(client, &name);
    // 30 bookings: more than one BatchWriteItem (25 requests at most) holds.
    let bookings: Vec<i64> = (100..130).collect();
    let mut connection = record(0, "user-conn", "alice");
    connection.connection_type = ConnectionType::User;
    store.put_user_connection(&connection, &bookings).await.expect("put_user_connection");
    for b in &bookings {
        let expected = ConnectionRecord { booking_id: *b, ..connection.clone() };
        assert_eq!(store.list(*b).await.expect("list"), vec![expected], "booking {b}");
    }
    assert_eq!(store.user_connections("alice").await.expect("user"), vec![connection.clone()]);
    assert!(store.user_connections("bob").await.expect("user").is_empty());
    store.put(&record(100, "chat-conn", "bob")).await.expect("put");
    store.remove_user_connection("alice", "user-conn", &bookings).await.expect("remove");
    for b in &bookings[1..] {
        assert!(store.list(*b).await.expect("list").is_empty(), "booking {b} forgets the user connection");
    }
    assert!(store.user_connections("alice").await.expect("user").is_empty(), "and so does its user");
    let left = store.list(100).await.expect("list");
    assert_eq!(left.iter().map(|r| r.connection_id.as_str()).collect::<Vec<_>>(), ["chat-conn"]);
    store.remove_user_connection("alice", "user-conn", &bookings).await.expect("removing again is no error");
    // A user with no booking yet: recorded under the user alone.
    store.put_user_connection(&connection, &[]).await.expect("no booking");
    assert_eq!(store.user_connections("alice").await.expect("user").len(), 1);
}

#[tokio::test]
async fn one_query_delivers_each_record_its_own_frames_and_the_user_frames_reach_only_their_user_connections()
{
    let (client, name) = table().await;
    let store = DynamoDbConnectionStore::new(client, &name);
    let user = |booking, id: &str, who: &str| {
        let mut r = record(booking, id, who);
        r.connection_type = ConnectionType::User;
        r
    };
    store.put(&record(5, "alice-chat", "alice")).await.expect("put");
    store.put(&user(5, "alice-user", "alice")).await.expect("put");
    store.put(&user(5, "bob-user", "bob")).await.expect("put");
    let gateway = RecordingGateway::default();
    let fanout = Fanout::new(store, gateway, DeliveryPolicy::default());
    let (message, unread) = (r#"{"type":"message"}"#, r#"{"type":"unread"}"#);
    let report = fanout
        .deliver("http://x", 5, |record| {
            let mut posts = vec![message];
            if record.connection_type == ConnectionType::User && record.user_id == "alice" {
                posts.push(unread);
            }
            posts
        })
        .await
        .expect("fan-out");
    assert_eq!((report.recipients, report.delivered), (3, 3));
    let types = |id: &str| -> Vec<String> {
        fanout
            .gateway()
            .frames_to(id)
            .iter()
            .map(|f| f["type"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(types("alice-user"), ["message", "unread"], "in order, after the message");
    assert_eq!(types("alice-chat"), ["message"], "not a user connection");
    assert_eq!(types("bob-user"), ["message"], "not another user's");
    let typing = fanout
        .to_booking("http://x", 5, Some("typing"), r#"{"type":"typing"}"#, None)
        .await
        .expect("fan-out");
    assert_eq!(typing.recipients, 1, "typing reaches the chat connection only");
}
