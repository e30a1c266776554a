//! The input and token bugs found when the stack was tried as an attacker would, each pinned by the
//! behaviour that now holds, on both databases.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, chrono_now, signed_token, token};

crate::on_every_store!(
    a_token_that_becomes_valid_later_is_refused_at_connect_and_on_rest_routes,
    a_body_with_nul_or_other_control_characters_is_refused_on_every_database,
    the_two_hearts_are_one_reaction,
    sync_after_many_long_messages_answers_pages_that_fit_the_message_limit,
    invalid_utf8_on_the_direct_websocket_closes_with_1007,
);

async fn a_token_that_becomes_valid_later_is_refused_at_connect_and_on_rest_routes(app: TestApp) {
    let now = chrono_now();
    for claims in [
        json!({"sub": "alice", "exp": now + 7200, "nbf": now + 3600}),
        json!({"sub": "alice", "exp": now + 7200, "iat": now + 3600}),
    ] {
        let early = signed_token(&claims);
        let response = app.connect(1, &early).await;
        assert_eq!(response.status(), 401, "{claims}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "AUTHENTICATION_ERROR");
        assert_eq!(body["error"]["message"], "token not valid yet");
        assert_eq!(app.history(1, Some(&early), "").await.status(), 401, "{claims}");
        assert_eq!(app.change_status(1, &early, "active").await.status(), 401, "{claims}");
        assert_eq!(crate::helpers::handshake_status(app.ws(1, &format!("?token={early}"), &[]).await), 401);
    }
    let valid_now =
        signed_token(&json!({"sub": "alice", "exp": now + 600, "nbf": now - 10, "iat": now - 10}));
    assert_eq!(app.connect(1, &valid_now).await.status(), 200);
}

async fn a_body_with_nul_or_other_control_characters_is_refused_on_every_database(app: TestApp) {
    for body in ["nul\u{0}inside", "escape\u{1b}[31m", "carriage\rreturn"] {
        let reply = app
            .send(1, "alice", json!({"action": "send_message", "data": {"body": body}, "request_id": "r"}))
            .await;
        assert_eq!(reply["type"], "error", "{body:?}: {reply}");
        assert_eq!(reply["error"]["code"], "VALIDATION_ERROR");
        assert!(reply["error"]["message"].as_str().expect("text").contains("control character"));
        assert_eq!(reply["request_id"], "r");
    }
    let fine = app.post_message(1, "alice", "two\nlines\twith a tab").await;
    assert_eq!(fine["body"], "two\nlines\twith a tab");
    let page: Value = app.history(1, Some(&token("alice")), "").await.json().await.expect("json");
    assert_eq!(page["messages"].as_array().expect("messages").len(), 1, "nothing refused was stored");
}

async fn the_two_hearts_are_one_reaction(app: TestApp) {
    let message = app.post_message(1, "alice", "see you at nine").await;
    let id = message["id"].clone();
    let react = |emoji: &str| json!({"action": "react", "data": {"message_id": id, "emoji": emoji}});
    let first = app.send(1, "bob", react("\u{2764}")).await;
    assert_eq!(first["added"], true, "{first}");
    assert_eq!(first["emoji"], "\u{2764}\u{fe0f}", "stored and sent in the canonical form");
    let second = app.send(1, "bob", react("\u{2764}\u{fe0f}")).await;
    assert_eq!(second["added"], false, "the other form of the same heart toggles it off: {second}");
    assert_eq!(second["reactions"], json!([]));
}

async fn sync_after_many_long_messages_answers_pages_that_fit_the_message_limit(app: TestApp) {
    let mut sent = Vec::new();
    for n in 0..35 {
        let body = format!("{n:02}{}", "x".repeat(3998));
        sent.push(app.post_message(1, "alice", &body).await["id"].as_i64().expect("id"));
    }
    // Resume from the start, page after page, as a client does after a reconnect.
    let mut received = Vec::new();
    let mut after = 0;
    for _ in 0..10 {
        let reply = app
            .send(1, "bob", json!({"action": "sync", "data": {"after_message_id": after}, "request_id": "s"}))
            .await;
        let frame_bytes = serde_json::to_vec(&reply).expect("json").len();
        assert!(frame_bytes <= 128 * 1024, "a history frame of {frame_bytes} bytes cannot be posted");
        assert_eq!(reply["type"], "history", "{}", &reply.to_string()[..200]);
        let messages = reply["messages"].as_array().expect("messages");
        assert!(!messages.is_empty());
        received.extend(messages.iter().map(|m| m["id"].as_i64().expect("id")));
        after = *received.last().expect("one");
        if reply["has_more"] == false {
            break;
        }
    }
    assert_eq!(received, sent, "every message exactly once, in order, across pages");
    // The latest page (no cursor) fits too, and says there is more before it.
    let latest = app.send(1, "bob", json!({"action": "sync"})).await;
    assert!(serde_json::to_vec(&latest).expect("json").len() <= 128 * 1024);
    assert_eq!(latest["has_more"], true);
    assert_eq!(latest["messages"].as_array().expect("messages").last().expect("one")["id"], json!(sent[34]));
}

async fn invalid_utf8_on_the_direct_websocket_closes_with_1007(app: TestApp) {
    let mut ws = app.ws_as(1, "alice").await;
    ws.send_invalid_utf8_text().await;
    assert_eq!(ws.next_close(Duration::from_secs(5)).await, Some(1007));
}
