//! How the DynamoDB store gives a message its id without a transaction (`store/src/dynamodb_messages.rs`):
//! retried `client_message_id`s racing other senders on two instances store one message each and ids
//! stay 1, 2, 3, ... without a gap; a retry finishes a message whose writer stopped after reserving its
//! key; a key reserved before issue 27 still finds its message; a chat purged by retention and reopened
//! never reuses an id. The first runs on every store.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{StoreKind, TestApp, dynamodb, spawn_app, spawn_app_with};

crate::on_every_store!(retries_racing_other_senders_store_each_client_message_id_once);

mod dynamodb_only {
    #[tokio::test]
    async fn ids_stay_without_gaps_under_racing_retries() {
        let app = super::spawn_app(super::StoreKind::DynamoDb).await;
        let ids = Box::pin(super::retries_racing_other_senders_store_each_client_message_id_once(app)).await;
        let expected: Vec<i64> = (1..=i64::try_from(ids.len()).expect("count")).collect();
        assert_eq!(ids, expected, "ids are 1, 2, 3, ... without a gap");
    }

    #[tokio::test]
    async fn a_retry_writes_the_message_whose_writer_stopped_after_reserving_its_key() {
        super::a_retry_writes_the_message_whose_writer_stopped_after_reserving_its_key().await;
    }

    #[tokio::test]
    async fn a_key_reserved_before_issue_27_finds_its_message() {
        super::a_key_reserved_before_issue_27_finds_its_message().await;
    }

    #[tokio::test]
    async fn a_purged_chat_reopened_never_reuses_an_id() {
        super::a_purged_chat_reopened_never_reuses_an_id().await;
    }
}

const KEYS: usize = 4;
const RETRIES: usize = 6;
const OTHERS: usize = 12;

fn send(body: &str, client_message_id: Option<&str>) -> Value {
    json!({"action": "send_message", "data": {"body": body, "client_message_id": client_message_id}})
}

/// Alice retries four messages six times each through two instances while Bob sends twelve without keys,
/// all at once: each key is one message, every retry answers it, and Bob's are all stored. Returns the
/// booking's message ids in order.
async fn retries_racing_other_senders_store_each_client_message_id_once(app: TestApp) -> Vec<i64> {
    let other = app.another_instance(&[]).await;
    let instances = [&app, &other];
    let retries = (0..KEYS * RETRIES).map(|n| async move {
        let key = format!("k{}", n % KEYS);
        let reply = instances[n % 2].send(1, "alice", send(&format!("body of {key}"), Some(&key))).await;
        assert_eq!(reply["type"], "message", "{reply}");
        (key, reply["message"]["id"].as_i64().expect("id"))
    });
    let others = (0..OTHERS).map(|n| async move {
        let reply = instances[(n + 1) % 2].send(1, "bob", send(&format!("bob {n}"), None)).await;
        assert_eq!(reply["type"], "message", "{reply}");
        reply["message"]["id"].as_i64().expect("id")
    });
    let (answered, bobs) = tokio::join!(join_all(retries), join_all(others));
    let mut per_key: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for (key, id) in answered {
        per_key.entry(key).or_default().insert(id);
    }
    assert!(
        per_key.values().all(|ids| ids.len() == 1),
        "every retry of a key answers one message: {per_key:?}"
    );
    let history =
        app.send(1, "alice", json!({"action": "sync", "data": {"after_message_id": 0, "limit": 100}})).await;
    let messages = history["messages"].as_array().expect("messages");
    let ids: Vec<i64> = messages.iter().map(|m| m["id"].as_i64().expect("id")).collect();
    assert_eq!(ids.len(), KEYS + OTHERS, "one message per key and each of Bob's: {history}");
    let keyed: BTreeSet<i64> = per_key.values().flatten().copied().collect();
    let stored: BTreeSet<i64> = ids.iter().copied().collect();
    assert!(keyed.is_subset(&stored) && bobs.iter().all(|id| stored.contains(id)), "{ids:?}");
    ids
}

/// A reservation as a writer leaves it when it stops before the message: the key, and the newest id it
/// read.
async fn reserve(table: &str, key: &str, after: i64) {
    dynamodb()
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S("BOOKING#1".into()))
        .item("sk", AttributeValue::S(format!("CMID#5#alice#{key}")))
        .item("after", AttributeValue::N(after.to_string()))
        .send()
        .await
        .expect("put the reservation");
}

async fn a_retry_writes_the_message_whose_writer_stopped_after_reserving_its_key() {
    let app = spawn_app(StoreKind::DynamoDb).await;
    let first = app.post_message(1, "bob", "before").await["id"].as_i64().expect("id");
    reserve(app.table.as_deref().expect("table"), "stopped", first).await;
    app.post_message(1, "bob", "meanwhile").await;

    let retry = app.send(1, "alice", send("after a crash", Some("stopped"))).await;
    assert_eq!(retry["message"]["id"], first + 2, "the retry stores the message: {retry}");
    let again = app.send(1, "alice", send("after a crash", Some("stopped"))).await;
    assert_eq!(again["message"]["id"], first + 2, "and the next retry finds it: {again}");
    assert_eq!(app.store.count_messages(1).await.expect("count"), 3);
}

async fn a_key_reserved_before_issue_27_finds_its_message() {
    let app = spawn_app(StoreKind::DynamoDb).await;
    let old = app.post_message(1, "alice", "sent long ago").await["id"].as_i64().expect("id");
    dynamodb()
        .put_item()
        .table_name(app.table.as_deref().expect("table"))
        .item("pk", AttributeValue::S("BOOKING#1".into()))
        .item("sk", AttributeValue::S("CMID#5#alice#legacy".into()))
        .item("message_id", AttributeValue::N(old.to_string()))
        .send()
        .await
        .expect("put the old key");
    let retry = app.send(1, "alice", send("sent long ago", Some("legacy"))).await;
    assert_eq!(retry["message"]["id"], old, "{retry}");
    assert_eq!(app.store.count_messages(1).await.expect("count"), 1);
}

async fn a_purged_chat_reopened_never_reuses_an_id() {
    let app = spawn_app_with(StoreKind::DynamoDb, &[("CHAT_RETENTION_DAYS", "30")]).await;
    app.post_message(2, "carol", "one").await;
    let newest = app.post_message(2, "dave", "two").await["id"].as_i64().expect("id");
    let (status, body) =
        app.operator(Method::PUT, "bookings/2/status", Some(json!({"status": "cancelled"}))).await;
    assert_eq!(status, 200, "{body}");
    app.ended_days_ago(2, 31).await;
    let pass = app.operator(Method::POST, "retention/run", None).await.1;
    assert_eq!(pass["messages"], 2, "{pass}");

    let (status, body) = app.operator(Method::PUT, "bookings/2/chat", Some(json!({"open": true}))).await;
    assert_eq!(status, 200, "the operator reopens the chat: {body}");
    let reply = app.send(2, "carol", send("back again", None)).await;
    assert_eq!(reply["message"]["id"], newest + 1, "{reply}");
}
