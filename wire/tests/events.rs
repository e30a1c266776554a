//! The chat events' contract held in three places at once: `chat_wire::events` (what the backend
//! publishes), `docs/events.schema.json` (what an app may rely on) and `wire/fixtures/events.json` (an
//! example of every event). Every example validates against the schema and is read and written back
//! identically by [`ChatEvent`]; every event type has an example (the match below has no wildcard, so a
//! new type fails to compile here until it is named); an event made by [`ChatEvent::new`] validates too.

use std::collections::BTreeSet;

use chat_wire::ChatMessage;
use chat_wire::events::{Change, ChatEvent, EVENTS_VERSION};
use serde_json::Value;

fn read_json(path: &str) -> Value {
    let path = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&read_json("../docs/events.schema.json"))
        .expect("docs/events.schema.json is a schema")
}

fn examples() -> Vec<Value> {
    read_json("fixtures/events.json")["events"].as_array().expect("an `events` list").clone()
}

/// Every event type. No wildcard: a new one fails to compile here until it is named.
fn every_kind() -> BTreeSet<&'static str> {
    let kind = |change: &Change| match change {
        Change::MessageCreated { .. }
        | Change::MessageEdited { .. }
        | Change::MessageDeleted { .. }
        | Change::MessageRead { .. }
        | Change::BookingStatusChanged { .. }
        | Change::MemberBlocked { .. }
        | Change::MemberUnblocked { .. }
        | Change::MemberReported { .. } => change.kind(),
    };
    let message = message();
    [
        Change::MessageCreated { message: message.clone(), recipients: vec![] },
        Change::MessageEdited { message },
        Change::MessageDeleted { message_id: 1, sender_id: "a".into() },
        Change::MessageRead { user_id: "a".into(), last_read_message_id: 1 },
        Change::BookingStatusChanged {
            status: "confirmed".into(),
            previous_status: "requested".into(),
            changed_by: "a".into(),
        },
        Change::MemberBlocked { user_id: "a".into(), blocked_user_id: "b".into() },
        Change::MemberUnblocked { user_id: "a".into(), blocked_user_id: "b".into() },
        Change::MemberReported {
            report_id: "r".into(),
            reporter_id: "a".into(),
            reported_user_id: "b".into(),
            message_id: None,
            reason: chat_wire::ReportReason::Spam,
        },
    ]
    .iter()
    .map(kind)
    .collect()
}

fn message() -> ChatMessage {
    ChatMessage {
        id: 3,
        booking_id: 9,
        sender_id: "renter".into(),
        body: "hello".into(),
        client_message_id: None,
        created_at: 1_796_600_000_000,
        reactions: vec![],
        edited_at: Some(1_796_600_001_000),
        deleted: false,
        moderation: None,
        attachments: Vec::new(),
    }
}

#[test]
fn every_example_validates_and_round_trips() {
    let validator = validator();
    for example in examples() {
        let errors: Vec<String> = validator.iter_errors(&example).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{example}: {errors:?}");
        let event: ChatEvent =
            serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{example}: {e}"));
        assert_eq!(serde_json::to_value(&event).expect("serialises"), example, "written back identically");
        assert_eq!(event.version, EVENTS_VERSION);
        assert_eq!(example["type"], event.change.kind());
    }
}

#[test]
fn every_event_type_has_an_example() {
    let examples: BTreeSet<String> =
        examples().iter().map(|e| e["type"].as_str().expect("a type").to_owned()).collect();
    let kinds: BTreeSet<String> = every_kind().into_iter().map(str::to_owned).collect();
    assert_eq!(examples, kinds);
}

#[test]
fn made_events_validate_and_name_their_change() {
    let validator = validator();
    let created =
        ChatEvent::new(9, 5, Change::MessageCreated { message: message(), recipients: vec!["owner".into()] });
    assert_eq!(created.id, "9/message.created/3");
    let edited = ChatEvent::new(9, 5, Change::MessageEdited { message: message() });
    assert_eq!(
        edited.id, "9/message.edited/3.1796600001000",
        "an edit is named by its time: a message is edited more than once"
    );
    let read = ChatEvent::new(9, 5, Change::MessageRead { user_id: "owner".into(), last_read_message_id: 3 });
    assert_eq!(read.id, "9/message.read/owner.3");
    for event in [created, edited, read] {
        let value = serde_json::to_value(&event).expect("serialises");
        assert!(validator.is_valid(&value), "{value}");
    }
    let mut wrong = serde_json::to_value(ChatEvent::new(
        9,
        5,
        Change::MessageDeleted { message_id: 3, sender_id: "renter".into() },
    ))
    .expect("serialises");
    wrong["type"] = "message.created".into();
    assert!(!validator.is_valid(&wrong), "the schema tells the event types apart: {wrong}");
}
