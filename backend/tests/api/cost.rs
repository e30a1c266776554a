//! What a message costs in DynamoDB, in request units by AWS's billing rules (issue 27): the backend over the
//! real DynamoDB adapter on moto, every request it makes kept by a metered client and priced by item size
//! (`chat_connections::billing`: a KB a write unit, transactional items twice, 4 KB a consistent read
//! unit). The figures are pinned: a change that makes every message dearer fails here, and one that makes
//! it cheaper updates them (and docs/cost.md). `--no-capture` prints them.

use std::sync::Arc;

use chat_backend::http::{AppState, Hosting, router};
use chat_backend::store::Store;
use chat_connections::billing::Bill;
use chat_connections::metering::AwsCalls;
use serde_json::{Value, json};

use crate::helpers::{PROXY_SECRET, StoreKind, dynamodb, spawn_app};

/// A backend on `table` whose DynamoDB requests `calls` keeps: its base URL.
async fn metered_backend(app: &crate::helpers::TestApp, calls: &AwsCalls) -> String {
    let config = dynamodb().config().to_builder().interceptor(calls.clone()).build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let table = app.table.clone().expect("a DynamoDB app");
    let store: Store = Arc::new(chat_backend::store::dynamodb::DynamoDbStore::new(client, table, false));
    let state = AppState::new(&app.settings, store, None, Arc::new(chat_backend::events::NoEvents), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router(state, Hosting::Server)).await });
    base
}

async fn frame(base: &str, user: &str, frame: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/api/chat/ws/1/message"))
        .header("x-proxy-secret", PROXY_SECRET)
        .json(&json!({"connection_id": format!("conn-{user}"), "user_id": user, "message": frame}))
        .send()
        .await
        .expect("the proxy's call")
        .json()
        .await
        .expect("json")
}

/// The request units of one `frame` of `user`, after a warm-up that leaves both members' read positions.
async fn units_of(
    base: &str,
    calls: &AwsCalls,
    user: &str,
    sent: Value,
) -> (Bill, std::collections::BTreeMap<String, u64>) {
    calls.reset();
    let answer = frame(base, user, sent).await;
    assert!(answer["error"].is_null(), "{answer}");
    (calls.bill(&dynamodb()).await.expect("priced"), calls.snapshot())
}

#[tokio::test]
async fn a_message_costs_its_pinned_request_units_on_dynamodb() {
    let app = spawn_app(StoreKind::DynamoDb).await;
    let calls = AwsCalls::default();
    let base = metered_backend(&app, &calls).await;
    let first = frame(&base, "alice", json!({"action": "send_message", "data": {"body": "warm-up"}})).await;
    for user in ["alice", "bob"] {
        frame(&base, user, json!({"action": "read", "data": {"message_id": first["message"]["id"]}})).await;
    }

    let with_key =
        json!({"action": "send_message", "data": {"body": "See you at 5", "client_message_id": "c1"}});
    let (keyed, keyed_calls) = units_of(&base, &calls, "alice", with_key).await;
    let without = json!({"action": "send_message", "data": {"body": "See you at 5"}});
    let (plain, _) = units_of(&base, &calls, "alice", without).await;
    let read = json!({"action": "read", "data": {"message_id": first["message"]["id"]}});
    let (receipt, _) = units_of(&base, &calls, "bob", read).await;
    println!("a message with a client_message_id: {keyed:?} by {keyed_calls:?}");
    println!("a message without one: {plain:?}; a read that moves nothing: {receipt:?}");

    // The figures docs/cost.md prices (issue 27: 7 write and 4 read units before; its goal at most 3 writes).
    assert_eq!(
        (keyed.write_units, keyed.read_units),
        (7, 3.0),
        "rate limit 1, the three-item transaction 6; reads: the booking once (its membership read gives the \
         counter), the read positions, the unread count"
    );
    assert_eq!((plain.write_units, plain.read_units), (5, 3.0), "no idempotency key: a two-item transaction");
    assert_eq!(
        (receipt.write_units, receipt.read_units),
        (2, 3.0),
        "the rate limit and the conditional update that did not move (a refused write bills too); the booking, \
         the message, the position read back"
    );
}
