//! The operator's duties to a user and to data minimisation (issue 26, docs/privacy.md), on every store:
//! a user's export holds everything about them and matches `docs/export.schema.json`; erasing a user in
//! the middle of a conversation leaves the other member a conversation of the same shape, told live, and
//! an export empty of their content; an interrupted erasure resumes; the retention job deletes only the
//! chats whose period is over; and every one of these is in the audit log, with who asked.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{StoreKind, TestApp, spawn_app_with};

crate::on_every_store!(
    an_export_holds_everything_about_the_user_and_matches_its_schema,
    erasing_a_user_mid_conversation_leaves_the_other_side_whole,
    an_interrupted_erasure_resumes_where_it_stopped,
);
crate::on_every_store_kind!(retention_deletes_the_chats_whose_period_is_over_and_nothing_else);

/// Booking 1 of the demo data: alice owns it, bob rents it.
const BOOKING: i64 = 1;

const SERVICE_TOKEN: &str = "test-service-token";

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/export.schema.json"))
        .expect("docs/export.schema.json");
    jsonschema::validator_for(&serde_json::from_str(&text).expect("JSON")).expect("a schema")
}

impl TestApp {
    /// `user`'s export, as `operator` (`X-Operator`), checked against the schema.
    async fn export(&self, user: &str, operator: &str) -> Value {
        let response = self
            .client
            .get(format!("{}/api/service/users/{user}/export", self.base))
            .bearer_auth(SERVICE_TOKEN)
            .header("x-operator", operator)
            .send()
            .await
            .expect("export");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        let text = response.text().await.expect("body");
        let document: Value = serde_json::from_str(&text).expect("one JSON document");
        let errors: Vec<String> =
            schema().iter_errors(&document).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "the export breaks its schema: {errors:?}\n{document:#}");
        document
    }

    async fn erase(&self, user: &str, query: &str) -> Value {
        let (status, body) = self.operator(Method::POST, &format!("users/{user}/erase{query}"), None).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn audit_actions(&self) -> Vec<(String, String, String)> {
        let (_, page) = self.operator(Method::GET, "audit", None).await;
        page["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                let field = |name: &str| e[name].as_str().unwrap_or_default().to_owned();
                (field("action"), field("actor"), field("target"))
            })
            .collect()
    }
}

async fn an_export_holds_everything_about_the_user_and_matches_its_schema(app: TestApp) {
    let first = app.post_message(BOOKING, "alice", "Hello Bob, the keys are under the mat").await;
    let bobs = app.post_message(BOOKING, "bob", "Thanks Alice").await;
    app.post_message(BOOKING, "alice", "Second message").await;
    let react = json!({"action": "react", "data": {"message_id": bobs["id"], "emoji": "👍"}});
    app.send(BOOKING, "alice", react).await;
    app.send(BOOKING, "alice", json!({"action": "read", "data": {"message_id": bobs["id"]}})).await;
    let delete = json!({"action": "delete_message", "data": {"message_id": first["id"]}});
    app.send(BOOKING, "alice", delete).await;
    let report =
        json!({"action": "report", "data": {"reason": "spam", "message_id": bobs["id"], "details": "Odd"}});
    app.send(BOOKING, "alice", report).await;
    let (status, _) =
        app.operator(Method::PUT, "users/alice/email", Some(json!({"email": "alice@example.com"}))).await;
    assert!(status < 300, "the marketplace sets alice's address: {status}");

    let export = app.export("alice", "support/ana").await;
    assert_eq!((export["user_id"].as_str(), export["complete"].as_bool()), (Some("alice"), Some(true)));
    assert_eq!(export["notification_settings"]["email"], "alice@example.com", "{export:#}");
    let booking =
        export["bookings"].as_array().expect("bookings").iter().find(|b| b["booking_id"] == BOOKING);
    let booking = booking.expect("booking 1 is alice's");
    assert_eq!(booking["role"], "owner");
    let bodies: Vec<&str> = booking["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["body"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(bodies, vec!["", "Second message"], "her messages only, her deleted one a tombstone");
    assert_eq!(booking["reactions"], json!([{"message_id": bobs["id"], "emoji": "👍"}]));
    assert_eq!(booking["member_state"]["last_read_message_id"], bobs["id"]);
    let reports = export["reports"].as_array().expect("reports");
    assert_eq!((reports.len(), reports[0]["details"].as_str()), (1, Some("Odd")), "{reports:?}");
    assert!(!export.to_string().contains("Thanks Alice"), "nothing bob wrote is alice's");

    // Bob's export holds no word of alice's; a stranger's is empty but whole.
    let bob = app.export("bob", "support/ana").await;
    assert!(!bob.to_string().contains("Second message"));
    let stranger = app.export("nobody", "support/ana").await;
    assert_eq!(
        (stranger["bookings"].as_array().map(Vec::len), stranger["notification_settings"].is_null()),
        (Some(0), true)
    );
    let audit = app.audit_actions().await;
    let exported = ("user.exported".to_owned(), "service:support/ana".to_owned(), "alice".to_owned());
    assert!(audit.contains(&exported), "{audit:?}");
    assert!(!serde_json::to_string(&audit).expect("json").contains("Second message"));

    // A malformed operator name or user id is refused, and records nothing.
    let bad = app
        .client
        .get(format!("{}/api/service/users/alice/export", app.base))
        .bearer_auth(SERVICE_TOKEN)
        .header("x-operator", "a b");
    assert_eq!(bad.send().await.expect("request").status(), 400);
    let unauthenticated =
        app.client.get(format!("{}/api/service/users/alice/export", app.base)).send().await.expect("request");
    assert_eq!(unauthenticated.status(), 401);
}

async fn erasing_a_user_mid_conversation_leaves_the_other_side_whole(app: TestApp) {
    let hers = app.post_message(BOOKING, "alice", "My number is in my profile").await;
    let his = app.post_message(BOOKING, "bob", "Great, see you at 5").await;
    app.post_message(BOOKING, "alice", "See you").await;
    app.send(BOOKING, "alice", json!({"action": "react", "data": {"message_id": his["id"], "emoji": "🎉"}}))
        .await;
    // Her reaction on her own message goes with its tombstone: one reaction to remove, on his.
    app.send(BOOKING, "alice", json!({"action": "react", "data": {"message_id": hers["id"], "emoji": "👍"}}))
        .await;
    let mut bob = app.ws_as(BOOKING, "bob").await;
    let mut alice = app.ws_as(BOOKING, "alice").await;

    let erasure = app.erase("alice", "").await;
    assert_eq!(
        (erasure["complete"].as_bool(), erasure["messages"].as_u64(), erasure["reactions"].as_u64()),
        (Some(true), Some(2), Some(1)),
        "{erasure}"
    );

    // Bob is told each change live: two tombstones and the reaction's removal.
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let frame = bob.next_json().await;
        match frame["type"].as_str() {
            Some("message_updated") => {
                assert_eq!(frame["message"]["moderation"]["reason"], "Deleted user", "{frame}");
                assert_eq!(frame["message"]["body"], "", "{frame}");
                seen.push(frame["message"]["id"].clone());
            }
            Some("reaction") => {
                assert_eq!(
                    (frame["user_id"].as_str(), frame["added"].as_bool()),
                    (Some("alice"), Some(false)),
                    "{frame}"
                );
                seen.push(json!("reaction"));
            }
            _ => {}
        }
    }
    assert!(seen.contains(&hers["id"]), "{seen:?}");
    // Alice's connection is told and closed.
    let closing = alice.next_json().await;
    assert_eq!(closing["error"]["code"], "REMOVED_FROM_BOOKING", "{closing}");

    // The conversation keeps its shape: three messages, hers tombstones, his intact; bob writes on.
    let history = app
        .history(BOOKING, Some(&crate::helpers::token("bob")), "")
        .await
        .json::<Value>()
        .await
        .expect("history");
    let messages = history["messages"].as_array().expect("messages");
    let shape: Vec<(&str, &str)> = messages
        .iter()
        .map(|m| (m["sender_id"].as_str().unwrap_or("?"), m["body"].as_str().unwrap_or("?")))
        .collect();
    assert_eq!(shape, vec![("alice", ""), ("bob", "Great, see you at 5"), ("alice", "")]);
    assert!(messages[1]["reactions"].as_array().is_some_and(Vec::is_empty), "her reaction is gone");
    let reply = app.post_message(BOOKING, "bob", "Take care").await;
    assert_eq!(reply["body"], "Take care");

    // Nothing of her content is left, and erasing again changes nothing.
    let export = app.export("alice", "support/ana").await;
    let booking = &export["bookings"][0];
    assert!(
        booking["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .all(|m| m["body"] == "" && m["deleted"] == true),
        "{booking}"
    );
    assert_eq!(
        (
            booking["reactions"].as_array().map(Vec::len),
            booking["member_state"]["last_read_message_id"].is_null()
        ),
        (Some(0), true)
    );
    assert!(export["notification_settings"].is_null());
    let again = app.erase("alice", "").await;
    assert_eq!(
        (again["complete"].as_bool(), again["messages"].as_u64(), again["reactions"].as_u64()),
        (Some(true), Some(0), Some(0)),
        "{again}"
    );
    let audit = app.audit_actions().await;
    let erased = audit
        .iter()
        .filter(|(action, actor, target)| action == "user.erased" && actor == "service" && target == "alice");
    assert_eq!(erased.count(), 2, "{audit:?}");
}

async fn an_interrupted_erasure_resumes_where_it_stopped(app: TestApp) {
    for i in 0..5 {
        app.post_message(BOOKING, "alice", &format!("message {i}")).await;
    }
    app.post_message(BOOKING, "bob", "and mine").await;
    let mut erased = 0;
    let mut calls = 0;
    loop {
        let call = app.erase("alice", "?max_messages=2").await;
        erased += call["messages"].as_u64().expect("messages");
        calls += 1;
        if call["complete"] == true {
            break;
        }
        assert!(calls < 10, "the erasure never completes");
    }
    assert_eq!((erased, calls), (5, 3), "two, two, then the last one and the rest");
    let history = app
        .history(BOOKING, Some(&crate::helpers::token("bob")), "")
        .await
        .json::<Value>()
        .await
        .expect("history");
    let alive: Vec<&Value> =
        history["messages"].as_array().expect("messages").iter().filter(|m| m["body"] != "").collect();
    assert_eq!(alive.len(), 1, "only bob's: {alive:?}");
    let (status, _) = app.operator(Method::POST, "users/alice/erase?max_messages=0", None).await;
    assert_eq!(status, 200, "a budget below one is read as one");
}

async fn retention_deletes_the_chats_whose_period_is_over_and_nothing_else(kind: StoreKind) {
    let off = spawn_app_with(kind, &[]).await;
    let (status, body) = off.operator(Method::POST, "retention/run", None).await;
    assert_eq!(status, 400, "retention is off without CHAT_RETENTION_DAYS: {body}");
    drop(off);

    let app = spawn_app_with(kind, &[("CHAT_RETENTION_DAYS", "30")]).await;
    // Booking 2 (carol and dave) ends; booking 1 goes on.
    app.post_message(2, "carol", "Can I bring a dog?").await;
    let sure = app.post_message(2, "dave", "Sure").await;
    app.send(2, "carol", json!({"action": "read", "data": {"message_id": sure["id"]}})).await;
    app.post_message(BOOKING, "alice", "Still here").await;
    let (status, body) =
        app.operator(Method::PUT, "bookings/2/status", Some(json!({"status": "cancelled"}))).await;
    assert_eq!(status, 200, "{body}");
    let pass = app.operator(Method::POST, "retention/run", None).await.1;
    assert_eq!(
        (pass["complete"].as_bool(), pass["bookings"].as_u64()),
        (Some(true), Some(0)),
        "ended today: not due: {pass}"
    );

    // Its end moves 31 days back, as if it had ended then.
    app.ended_days_ago(2, 31).await;
    let pass = app.operator(Method::POST, "retention/run", None).await.1;
    assert_eq!(
        (pass["complete"].as_bool(), pass["bookings"].as_u64(), pass["messages"].as_u64()),
        (Some(true), Some(1), Some(2)),
        "{pass}"
    );

    let carol = crate::helpers::token("carol");
    let history = app.history(2, Some(&carol), "").await.json::<Value>().await.expect("history");
    assert_eq!(history["messages"], json!([]), "{history}");
    let alice = crate::helpers::token("alice");
    let kept = app.history(BOOKING, Some(&alice), "").await.json::<Value>().await.expect("history");
    assert_eq!(kept["messages"].as_array().map(Vec::len), Some(1), "a booking that goes on keeps its chat");
    let again = app.operator(Method::POST, "retention/run", None).await.1;
    assert_eq!(again["bookings"], 0, "a purged chat is purged once: {again}");
    let audit = app.audit_actions().await;
    let runs: Vec<_> = audit.iter().filter(|(action, ..)| action == "retention.run").collect();
    assert_eq!(runs.len(), 1, "a pass that deleted nothing records nothing: {audit:?}");
}

/// On SQL only: on DynamoDB, 105 bookings take 40 s of moto; the listing there is the inbox's `gsi1` query
/// read to its end instead of to 500 memberships (`DynamoDbStore::membership_ids`).
mod many_bookings {
    use super::*;

    crate::on_sql_stores!(a_user_in_more_bookings_than_the_inbox_shows_is_covered_in_all);

    async fn a_user_in_more_bookings_than_the_inbox_shows_is_covered_in_all(app: TestApp) {
        // The inbox lists a member's 100 most recently active bookings; an export and an erasure cover all,
        // the oldest one included (created first, with its message before the others exist).
        for id in 100..205 {
            let booking = json!({"owner_id": "zoe", "renter_id": "yann", "title": format!("Stay {id}")});
            let (status, body) = app.operator(Method::PUT, &format!("bookings/{id}"), Some(booking)).await;
            assert_eq!(status, 201, "{body}");
            if id == 100 {
                app.post_message(100, "zoe", "In the oldest booking").await;
            }
        }
        let export = app.export("zoe", "support/ana").await;
        assert_eq!(export["bookings"].as_array().map(Vec::len), Some(105));
        assert!(export.to_string().contains("In the oldest booking"));
        let erasure = app.erase("zoe", "").await;
        assert_eq!(
            (erasure["bookings"].as_u64(), erasure["messages"].as_u64()),
            (Some(105), Some(1)),
            "{erasure}"
        );
        assert!(!app.export("zoe", "support/ana").await.to_string().contains("In the oldest booking"));
    }
}
