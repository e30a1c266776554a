//! The chat's events for the app (`docs/events.md`): one per change, none for what changed nothing, each
//! valid against `docs/events.schema.json`; on every store through the file publisher, and through
//! Amazon EventBridge on moto to a rule's queue, as an app would subscribe. Publishing never fails the
//! sender's answer, with EventBridge unreachable, and holds it at most its budget with EventBridge silent.

use std::time::Duration;

use aws_sdk_eventbridge::types::Target;
use local_services::moto::Moto;
use serde_json::{Value, json};

use crate::helpers::{StoreKind, spawn_app_with, token};

crate::on_every_store_kind!(every_change_is_published_once);

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/events.schema.json"))
        .expect("docs/events.schema.json");
    jsonschema::validator_for(&serde_json::from_str(&text).expect("JSON")).expect("a schema")
}

/// The events a file publisher wrote, in order.
fn written(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().map(|line| serde_json::from_str(line).expect("one JSON event per line")).collect()
}

async fn every_change_is_published_once(kind: StoreKind) {
    let dir = tempfile::tempdir().expect("temp dir");
    // In a folder that does not exist yet: the publisher makes it.
    let path = dir.path().join("events").join("events.jsonl");
    let app = spawn_app_with(kind, &[("EVENTS_FILE", path.to_str().expect("utf-8 path"))]).await;
    let send = json!({"action": "send_message", "data": {"body": "hi bob", "client_message_id": "once"}});
    let sent = app.send(1, "alice", send.clone()).await;
    let id = sent["message"]["id"].clone();
    app.send(1, "alice", send).await; // a retry: the same message, no second event
    app.send(1, "bob", json!({"action": "typing", "data": {"is_typing": true}})).await; // not an event
    app.send(1, "bob", json!({"action": "read", "data": {"message_id": id}})).await;
    app.send(1, "bob", json!({"action": "read", "data": {"message_id": id}})).await; // moved nothing
    let edited = app
        .send(1, "alice", json!({"action": "edit_message", "data": {"message_id": id, "body": "hi Bob"}}))
        .await;
    assert_eq!(edited["type"], "message_updated", "{edited}");
    app.send(1, "alice", json!({"action": "delete_message", "data": {"message_id": id}})).await;
    app.send(1, "alice", json!({"action": "delete_message", "data": {"message_id": id}})).await; // again
    assert!(app.change_status(1, &token("alice"), "active").await.status().is_success());

    let events = written(&path);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(
        kinds,
        ["message.created", "message.read", "message.edited", "message.deleted", "booking.status_changed"],
        "{events:#?}"
    );
    let schema = schema();
    for event in &events {
        let errors: Vec<String> = schema.iter_errors(event).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{event}: {errors:?}");
        assert_eq!(event["booking_id"], 1);
    }
    let created = &events[0];
    assert_eq!(created["id"], format!("1/message.created/{id}"));
    assert_eq!(created["message"]["body"], "hi bob");
    assert_eq!(created["recipients"], json!(["bob"]), "the members who did not send it");
    assert_eq!(events[1]["user_id"], "bob");
    assert_eq!(events[1]["last_read_message_id"], id);
    assert_eq!(events[2]["message"]["body"], "hi Bob");
    assert_eq!(events[3]["message_id"], id);
    assert_eq!(events[4]["status"], "active");
    assert_eq!(events[4]["previous_status"], "confirmed");
    assert_eq!(events[4]["changed_by"], "alice");
}

/// An app's subscription, as docs/events.md shows it: a rule on the bus for the chat's source, with a
/// queue as its target. Returns the queue's URL.
async fn subscribe_a_queue(bus: &str) -> (aws_sdk_sqs::Client, String) {
    let sdk = chat_settings::aws::local(&Moto::shared().endpoint(), std::time::Duration::from_secs(20));
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    events.create_event_bus().name(bus).send().await.expect("bus");
    let queue = sqs.create_queue().queue_name(format!("{bus}-app")).send().await.expect("queue");
    let queue_url = queue.queue_url().expect("queue url").to_owned();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes");
    let queue_arn = attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .expect("arn")
        .clone();
    events
        .put_rule()
        .event_bus_name(bus)
        .name("chat-to-app")
        .event_pattern(json!({"source": ["booking-chat"]}).to_string())
        .send()
        .await
        .expect("rule");
    let target = Target::builder().id("app-queue").arn(queue_arn).build().expect("target");
    events
        .put_targets()
        .event_bus_name(bus)
        .rule("chat-to-app")
        .targets(target)
        .send()
        .await
        .expect("target");
    (sqs, queue_url)
}

#[tokio::test]
async fn a_message_reaches_an_apps_queue_through_eventbridge() {
    let bus = format!("chat-events-{}", fastrand_suffix());
    let (sqs, queue_url) = subscribe_a_queue(&bus).await;
    let endpoint = Moto::shared().endpoint();
    let app =
        spawn_app_with(StoreKind::Sqlite, &[("EVENT_BUS_NAME", &bus), ("EVENTBRIDGE_ENDPOINT", &endpoint)])
            .await;
    let sent = app.post_message(1, "alice", "the keys are under the mat").await;

    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(5)
        .send()
        .await
        .expect("receive");
    let bodies: Vec<Value> = received
        .messages()
        .iter()
        .map(|m| serde_json::from_str(m.body().expect("body")).expect("an EventBridge envelope"))
        .collect();
    assert_eq!(bodies.len(), 1, "one event for one message: {bodies:#?}");
    let envelope = &bodies[0];
    assert_eq!(envelope["source"], "booking-chat");
    assert_eq!(envelope["detail-type"], "message.created");
    assert_eq!(envelope["detail"]["id"], format!("1/message.created/{}", sent["id"]));
    assert_eq!(envelope["detail"]["message"]["body"], "the keys are under the mat");
    assert!(schema().is_valid(&envelope["detail"]), "{envelope}");
}

#[tokio::test]
async fn with_eventbridge_unreachable_the_sender_still_gets_its_answer() {
    // A port nothing listens on: every attempt is refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr");
    let endpoint = format!("http://{closed}");
    let app = spawn_app_with(
        StoreKind::Sqlite,
        &[("EVENT_BUS_NAME", "nowhere"), ("EVENTBRIDGE_ENDPOINT", &endpoint)],
    )
    .await;
    let reply =
        app.send(1, "alice", json!({"action": "send_message", "data": {"body": "still delivered"}})).await;
    assert_eq!(reply["type"], "message", "{reply}");
    assert_eq!(app.store.count_messages(1).await.expect("count"), 1);
}

#[tokio::test]
async fn with_eventbridge_silent_the_sender_waits_at_most_the_publish_budget() {
    // A listener that accepts connections and never answers, with calls allowed 20 s each: without a
    // budget for the whole publication, three attempts would hold the answer for a minute.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("port");
    let endpoint = format!("http://{}", silent.local_addr().expect("addr"));
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let app = spawn_app_with(
        StoreKind::Sqlite,
        &[("EVENT_BUS_NAME", "silent"), ("EVENTBRIDGE_ENDPOINT", &endpoint), ("AWS_TIMEOUT_MS", "20000")],
    )
    .await;
    let started = std::time::Instant::now();
    let reply = app.send(1, "alice", json!({"action": "send_message", "data": {"body": "on time"}})).await;
    assert_eq!(reply["type"], "message", "{reply}");
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(10),
        "the answer waited {waited:?}: the budget is {:?}",
        chat_backend::events::PUBLISH_BUDGET
    );
    held.abort();
}

fn fastrand_suffix() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_nanos()
    )
}
