//! Where a token comes from at the handshake, from arbitrary header and query values: never panics, and
//! a token found is never empty and always a substring of what the client sent.
#![no_main]

use chat_wire::handshake::find_token;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(4, '\n');
    let (query, protocols, authorization, api_key) = (parts.next(), parts.next(), parts.next(), parts.next());
    if let Some((token, _source)) = find_token(query, protocols, authorization, api_key) {
        assert!(!token.is_empty());
        assert!(text.contains(token));
    }
});
