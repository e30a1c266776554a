//! Properties of client-frame parsing over arbitrary input: it never panics, every failure names what
//! was wrong, a usable `request_id` always survives for the answer, and valid frames parse to what they
//! say.

use chat_wire::client::MAX_REQUEST_ID_CHARS;
use chat_wire::{ClientAction, ClientFrame};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Arbitrary JSON, nested a few levels, with the keys frames use appearing often.
fn any_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("action".to_owned()),
        Just("data".to_owned()),
        Just("request_id".to_owned()),
        Just("body".to_owned()),
        Just("type".to_owned()),
        Just("message_id".to_owned()),
        Just("emoji".to_owned()),
        ".{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("send_message"),
            Just("react"),
            Just("read"),
            Just("typing"),
            Just("sync"),
            Just("ping"),
            Just("edit_message"),
            Just("delete_message"),
            Just("reaction")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics_and_every_failure_says_why(text in ".{0,200}") {
        if let Err(rejection) = ClientFrame::parse(&text) {
            prop_assert!(!rejection.error.to_string().is_empty());
        }
    }

    #[test]
    fn arbitrary_json_never_panics_and_keeps_a_usable_request_id(value in any_json()) {
        let usable = match value.get("request_id") {
            Some(Value::String(id)) if id.chars().count() <= MAX_REQUEST_ID_CHARS => Some(id.clone()),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
            _ => None,
        };
        let bad_request_id = matches!(value.get("request_id"), Some(v) if !v.is_null() && usable.is_none());
        match ClientFrame::parse(&value.to_string()) {
            Ok(frame) => {
                prop_assert_eq!(frame.request_id, usable);
                prop_assert!(!frame.action.name().is_empty());
            }
            Err(rejection) if value.is_object() && !bad_request_id => prop_assert_eq!(rejection.request_id, usable),
            Err(rejection) => prop_assert_eq!(rejection.request_id, None),
        }
    }

    #[test]
    fn valid_frames_parse_to_what_they_say(
        body in "\\PC{1,100}",
        new_body in "\\PC{1,100}",
        client_message_id in proptest::option::of("[!-~]{1,64}"),
        message_id in any::<i64>(),
        is_typing in any::<bool>(),
        after in proptest::option::of(any::<i64>()),
        request_id in proptest::option::of("\\PC{0,128}"),
    ) {
        let cases = [
            (json!({"action": "send_message", "data": {"body": body, "client_message_id": client_message_id}}),
             ClientAction::SendMessage { body: body.clone(), client_message_id, attachments: vec![] }),
            (json!({"body": body}), ClientAction::SendMessage { body, client_message_id: None, attachments: vec![] }),
            (json!({"action": "react", "data": {"message_id": message_id, "emoji": "👍"}}),
             ClientAction::React { message_id, emoji: "👍".into() }),
            (json!({"type": "reaction", "message_id": message_id, "emoji": "👍"}),
             ClientAction::React { message_id, emoji: "👍".into() }),
            (json!({"action": "read", "data": {"message_id": message_id}}), ClientAction::Read { message_id }),
            (json!({"action": "typing", "data": {"is_typing": is_typing}}), ClientAction::Typing { is_typing }),
            (json!({"action": "sync", "data": {"after_message_id": after}}),
             ClientAction::Sync { after_message_id: after, before_message_id: None, resume: None, limit: None }),
            (json!({"action": "ping"}), ClientAction::Ping),
            (json!({"action": "edit_message", "data": {"message_id": message_id, "body": new_body}}),
             ClientAction::EditMessage { message_id, body: new_body }),
            (json!({"action": "delete_message", "data": {"message_id": message_id}}),
             ClientAction::DeleteMessage { message_id }),
        ];
        for (mut frame, action) in cases {
            if let Some(id) = &request_id {
                frame["request_id"] = Value::String(id.clone());
            }
            let parsed = ClientFrame::parse(&frame.to_string());
            prop_assert!(parsed.is_ok(), "{} did not parse: {:?}", frame, parsed);
            let parsed = parsed.expect("checked");
            prop_assert_eq!(parsed.action, action);
            prop_assert_eq!(parsed.request_id, request_id.clone());
        }
    }
}
