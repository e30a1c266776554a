//! Client frames from arbitrary bytes: parsing never panics, a parsed frame names its action, a refusal
//! says why, and a kept `request_id` is never longer than the limit (it is echoed in every answer).
#![no_main]

use chat_wire::ClientFrame;
use chat_wire::client::MAX_REQUEST_ID_CHARS;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let request_id = match ClientFrame::parse(text) {
        Ok(frame) => {
            assert!(!frame.action.name().is_empty());
            frame.request_id
        }
        Err(rejection) => {
            assert!(!rejection.error.to_string().is_empty());
            rejection.request_id
        }
    };
    if let Some(id) = request_id {
        assert!(id.chars().count() <= MAX_REQUEST_ID_CHARS || id.parse::<u64>().is_ok() || id.parse::<i64>().is_ok());
    }
    // The same frame as an already-parsed JSON value gives the same answer.
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        assert_eq!(ClientFrame::from_value(value).is_ok(), ClientFrame::parse(text).is_ok());
    }
});
