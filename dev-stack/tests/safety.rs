//! Chat between strangers, end to end through the API Gateway emulator, the Lambda proxy (in process) and
//! the real backend (issue 23): contact details masked for both members of a requested booking; a block
//! reaches both members' tabs and refuses the blocked one's messages; the operator's closing, reopening
//! and hiding reach every tab through the backend's own pushes.

mod support;

use serde_json::{Value, json};
use support::{SERVICE_TOKEN, connect_as, next_matching, send, start_in_memory};

fn of_type(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |f: &Value| f["type"] == kind
}

#[tokio::test]
async fn masking_blocks_and_moderation_reach_every_tab_through_the_lambda() {
    let (stack, _dir) = start_in_memory(&[("SERVICE_TOKEN", SERVICE_TOKEN)]).await;
    let http = reqwest::Client::new();

    // Booking 2 is requested (carol owns it, dave rents): dave's number is hidden for both of them.
    let mut carol = connect_as(&stack, 2, "carol").await;
    let mut dave = connect_as(&stack, 2, "dave").await;
    send(&mut dave, json!({"action": "send_message", "data": {"body": "Text me on +44 20 7946 0958"}})).await;
    for tab in [&mut dave, &mut carol] {
        let message = next_matching(tab, of_type("message")).await;
        assert_eq!(message["masked"], json!(["phone"]), "{message}");
        assert!(!message.to_string().contains("7946"), "{message}");
    }

    // Booking 1 (alice owns, bob rents): bob blocks alice from his tab; both see it; alice is refused.
    let mut alice = connect_as(&stack, 1, "alice").await;
    let mut bob = connect_as(&stack, 1, "bob").await;
    send(&mut alice, json!({"action": "send_message", "data": {"body": "Pay outside the site?"}})).await;
    let sent = next_matching(&mut bob, of_type("message")).await;
    send(&mut bob, json!({"action": "block", "request_id": "b1"})).await;
    for tab in [&mut bob, &mut alice] {
        let state = next_matching(tab, of_type("chat_state")).await;
        assert_eq!(state["blocks"][0]["blocked_user_id"], "alice", "{state}");
    }
    send(&mut alice, json!({"action": "send_message", "data": {"body": "hello?"}, "request_id": "a2"})).await;
    let refused = next_matching(&mut alice, of_type("error")).await;
    assert_eq!(
        (refused["error"]["code"].clone(), refused["request_id"].clone()),
        (json!("BLOCKED"), json!("a2"))
    );
    send(
        &mut bob,
        json!({"action": "report", "data": {"reason": "off_platform", "message_id": sent["message"]["id"]}}),
    )
    .await;
    let received = next_matching(&mut bob, of_type("report_received")).await;
    assert!(received["report_id"].is_string(), "{received}");

    // The operator hides the message and closes the chat: the backend pushes both to every tab.
    let hide = http
        .post(format!("{}/api/service/bookings/1/messages/{}/hide", stack.backend_url, sent["message"]["id"]))
        .bearer_auth(SERVICE_TOKEN)
        .json(&json!({"reason": "Removed by the marketplace: off-platform payment"}))
        .send()
        .await
        .expect("hide");
    assert_eq!(hide.status(), 200);
    let close = http
        .put(format!("{}/api/service/bookings/1/chat", stack.backend_url))
        .bearer_auth(SERVICE_TOKEN)
        .json(&json!({"open": false, "note": "Under review"}))
        .send()
        .await
        .expect("close");
    assert_eq!(close.status(), 200);
    for tab in [&mut alice, &mut bob] {
        let hidden = next_matching(tab, of_type("message_updated")).await;
        assert_eq!(
            hidden["message"]["moderation"]["reason"],
            "Removed by the marketplace: off-platform payment"
        );
        let state = next_matching(tab, |f: &Value| f["type"] == "chat_state" && f["writable"] == false).await;
        assert_eq!(state["closed"]["note"], "Under review", "{state}");
    }
    send(&mut bob, json!({"action": "send_message", "data": {"body": "anyone?"}})).await;
    assert_eq!(next_matching(&mut bob, of_type("error")).await["error"]["code"], "CHAT_CLOSED");
}

/// Issue 26: the operator erases a member in the middle of a conversation, through the API Gateway path:
/// both of her tabs are told and closed, the other member's tab sees each of her messages become a
/// "Deleted user" tombstone in place, and he writes on.
#[tokio::test]
async fn erasing_a_member_mid_conversation_reaches_every_tab_through_the_lambda() {
    let (stack, _dir) = start_in_memory(&[("SERVICE_TOKEN", SERVICE_TOKEN)]).await;
    let mut alice = connect_as(&stack, 1, "alice").await;
    let mut alice_phone = connect_as(&stack, 1, "alice").await;
    let mut bob = connect_as(&stack, 1, "bob").await;
    for body in ["I'll leave the keys with the concierge", "Code 4411"] {
        send(&mut alice, json!({"action": "send_message", "data": {"body": body}})).await;
        next_matching(&mut bob, of_type("message")).await;
    }

    let erased: Value = reqwest::Client::new()
        .post(format!("{}/api/service/users/alice/erase", stack.backend_url))
        .bearer_auth(SERVICE_TOKEN)
        .send()
        .await
        .expect("erase")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (erased["complete"].as_bool(), erased["messages"].as_u64()),
        (Some(true), Some(2)),
        "{erased}"
    );
    for _ in 0..2 {
        let tombstone = next_matching(&mut bob, of_type("message_updated")).await;
        assert_eq!(tombstone["message"]["moderation"]["reason"], "Deleted user", "{tombstone}");
        assert_eq!(tombstone["message"]["body"], "", "{tombstone}");
    }
    for tab in [&mut alice, &mut alice_phone] {
        let closing = next_matching(tab, of_type("error")).await;
        assert_eq!(closing["error"]["code"], "REMOVED_FROM_BOOKING", "{closing}");
    }
    send(&mut bob, json!({"action": "send_message", "data": {"body": "Noted, thanks"}, "request_id": "b1"}))
        .await;
    let own = next_matching(&mut bob, |f: &Value| f["type"] == "message" && f["request_id"] == "b1").await;
    assert_eq!(own["message"]["body"], "Noted, thanks");
    send(&mut bob, json!({"action": "sync", "data": {}, "request_id": "h"})).await;
    let history = next_matching(&mut bob, of_type("history")).await;
    let shape: Vec<(&str, &str)> = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| (m["sender_id"].as_str().unwrap_or("?"), m["body"].as_str().unwrap_or("?")))
        .collect();
    assert_eq!(shape, vec![("alice", ""), ("alice", ""), ("bob", "Noted, thanks")]);
}
