//! `fixtures/frames.json` is the one example of every frame that the browser client's TypeScript types are
//! checked against (`web/`). This test holds the Rust side to the same file, so the two cannot drift: every
//! server frame in it is read by [`ServerFrame`] and written back identically, every client frame is read
//! by [`ClientFrame::parse`], and every frame type and action of the Rust types has an example. A new
//! variant without an example fails to compile here (the matches have no wildcard) or fails the test.

use std::collections::BTreeSet;

use chat_wire::{ClientAction, ClientFrame, ServerFrame, ServerPayload};
use serde_json::Value;

fn fixtures() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/frames.json"))
        .expect("wire/fixtures/frames.json");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

fn frames(fixtures: &Value, side: &str) -> Vec<Value> {
    fixtures[side].as_array().unwrap_or_else(|| panic!("the fixture has a {side} list")).clone()
}

/// Every frame type the server sends. The match has no wildcard: a new variant fails to compile here
/// until it is named, and then the test asks for its example.
fn server_type(payload: &ServerPayload) -> &'static str {
    match payload {
        ServerPayload::Message { .. } => "message",
        ServerPayload::History { .. } => "history",
        ServerPayload::Reaction { .. } => "reaction",
        ServerPayload::Receipt { .. } => "receipt",
        ServerPayload::Typing { .. } => "typing",
        ServerPayload::Pong => "pong",
        ServerPayload::BookingStatus { .. } => "booking_status",
        ServerPayload::Session { .. } => "session",
        ServerPayload::Presence { .. } => "presence",
        ServerPayload::Error { .. } => "error",
        ServerPayload::MessageUpdated { .. } => "message_updated",
        ServerPayload::Unread { .. } => "unread",
        ServerPayload::Membership { .. } => "membership",
        ServerPayload::ChatState { .. } => "chat_state",
        ServerPayload::ReportReceived { .. } => "report_received",
        ServerPayload::Upload { .. } => "upload",
        ServerPayload::Attachment { .. } => "attachment",
        ServerPayload::AttachmentUrl { .. } => "attachment_url",
        ServerPayload::SearchResults { .. } => "search_results",
    }
}

const SERVER_TYPES: [&str; 19] = [
    "message",
    "history",
    "reaction",
    "receipt",
    "typing",
    "pong",
    "booking_status",
    "session",
    "error",
    "message_updated",
    "presence",
    "unread",
    "membership",
    "chat_state",
    "report_received",
    "upload",
    "attachment",
    "attachment_url",
    "search_results",
];

/// Every action a client may send; as [`server_type`], no wildcard.
fn client_action(action: &ClientAction) -> &'static str {
    match action {
        ClientAction::SendMessage { .. } => "send_message",
        ClientAction::React { .. } => "react",
        ClientAction::Read { .. } => "read",
        ClientAction::Typing { .. } => "typing",
        ClientAction::Sync { .. } => "sync",
        ClientAction::Ping => "ping",
        ClientAction::Refresh { .. } => "refresh",
        ClientAction::Session => "session",
        ClientAction::EditMessage { .. } => "edit_message",
        ClientAction::DeleteMessage { .. } => "delete_message",
        ClientAction::Block => "block",
        ClientAction::Unblock => "unblock",
        ClientAction::Report { .. } => "report",
        ClientAction::UploadAttachment { .. } => "upload_attachment",
        ClientAction::AttachmentUrl { .. } => "attachment_url",
        ClientAction::GetAttachment { .. } => "get_attachment",
        ClientAction::Search { .. } => "search",
    }
}

const CLIENT_ACTIONS: [&str; 17] = [
    "send_message",
    "react",
    "read",
    "typing",
    "sync",
    "ping",
    "refresh",
    "session",
    "edit_message",
    "delete_message",
    "block",
    "unblock",
    "report",
    "upload_attachment",
    "attachment_url",
    "get_attachment",
    "search",
];

#[test]
fn every_server_frame_of_the_fixture_is_read_and_written_back_exactly() {
    let mut seen = BTreeSet::new();
    for example in frames(&fixtures(), "server") {
        let frame: ServerFrame = serde_json::from_value(example.clone())
            .unwrap_or_else(|e| panic!("the server cannot write {example}: {e}"));
        let written: Value = serde_json::from_str(&frame.to_text()).expect("JSON");
        assert_eq!(written, example, "the Rust types write this frame differently");
        seen.insert(server_type(&frame.payload));
    }
    let all: BTreeSet<&str> = SERVER_TYPES.into_iter().collect();
    assert_eq!(seen, all, "every server frame type has an example in wire/fixtures/frames.json");
}

#[test]
fn every_client_frame_of_the_fixture_is_accepted() {
    let mut seen = BTreeSet::new();
    for example in frames(&fixtures(), "client") {
        let frame = ClientFrame::parse(&example.to_string())
            .unwrap_or_else(|e| panic!("the server refuses the client frame {example}: {e:?}"));
        seen.insert(client_action(&frame.action));
    }
    let all: BTreeSet<&str> = CLIENT_ACTIONS.into_iter().collect();
    assert_eq!(seen, all, "every client action has an example in wire/fixtures/frames.json");
}
