//! Reports and the operator's moderation (issue 23): members report a message or the other member; the
//! operator reads the open reports with their context, resolves each once, hides a message (a tombstone
//! with a reason, delivered like a delete), and every operator action is in the audit log, which keeps
//! no message text and no report details. On every store.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, token};

crate::on_every_store!(
    members_report_by_frame_and_http_and_are_told_what_is_refused,
    the_operator_reads_reports_in_context_and_resolves_each_once,
    a_hidden_message_becomes_a_tombstone_with_its_reason_everywhere,
);

/// Booking 1 of the demo data: alice owns it, bob rents it.
const BOOKING: i64 = 1;

const SERVICE_TOKEN: &str = "test-service-token";

impl TestApp {
    pub(crate) async fn operator(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}/api/service/{path}", self.base))
            .bearer_auth(SERVICE_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("service request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn report_http(&self, user: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/api/chat/bookings/{BOOKING}/reports", self.base))
            .bearer_auth(token(user))
            .json(&body)
            .send()
            .await
            .expect("report");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json"))
    }
}

async fn members_report_by_frame_and_http_and_are_told_what_is_refused(app: TestApp) {
    let sent = app.post_message(BOOKING, "alice", "Pay me by bank transfer, it is cheaper").await;
    let report = json!({"action": "report", "request_id": "p1",
        "data": {"reason": "off_platform", "message_id": sent["id"], "details": "Wants money outside"}});
    let received = app.send(BOOKING, "bob", report).await;
    assert_eq!(received["type"], "report_received", "{received}");
    assert_eq!(received["broadcast"], false, "the reporter alone hears of it: {received}");
    assert_eq!(received["request_id"], "p1", "{received}");
    assert!(received["report_id"].as_str().is_some_and(|id| !id.is_empty()), "{received}");

    let own = json!({"action": "report", "data": {"reason": "spam", "message_id": sent["id"]}});
    let reply = app.send(BOOKING, "alice", own).await;
    assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "one's own message: {reply}");
    let unknown = json!({"action": "report", "data": {"reason": "spam", "message_id": 999}});
    assert_eq!(app.send(BOOKING, "bob", unknown).await["error"]["code"], "NOT_FOUND");
    let long = json!({"action": "report", "data": {"reason": "other", "details": "x".repeat(1001)}});
    assert_eq!(app.send(BOOKING, "bob", long).await["error"]["code"], "VALIDATION_ERROR");
    let bad = json!({"action": "report", "data": {"reason": "rude"}});
    assert_eq!(app.send(BOOKING, "bob", bad).await["error"]["code"], "VALIDATION_ERROR");

    // Blocked, a member may still report the one who blocked them; over HTTP, about the member.
    app.send(BOOKING, "alice", json!({"action": "block", "data": {}})).await;
    let (status, body) = app.report_http("bob", json!({"reason": "harassment", "details": "Threats"})).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["report_id"].is_string(), "{body}");
    let (status, _) = app.report_http("mallory", json!({"reason": "spam"})).await;
    assert_eq!(status, 403, "a stranger reports nothing");
}

async fn the_operator_reads_reports_in_context_and_resolves_each_once(app: TestApp) {
    for i in 1..=8 {
        app.post_message(BOOKING, if i % 2 == 0 { "alice" } else { "bob" }, &format!("message {i}")).await;
    }
    let reported = app.post_message(BOOKING, "alice", "Give me your card number").await;
    for i in 10..=15 {
        app.post_message(BOOKING, "bob", &format!("message {i}")).await;
    }
    let frame = json!({"action": "report", "data": {"reason": "scam", "message_id": reported["id"], "details": "Asks for my card"}});
    let first = app.send(BOOKING, "bob", frame).await["report_id"].clone();
    let (_, second) = app.report_http("alice", json!({"reason": "other"})).await;

    let (status, page) = app.operator(Method::GET, "reports", None).await;
    assert_eq!(status, 200, "{page}");
    let reports = page["reports"].as_array().expect("reports");
    assert_eq!(reports.len(), 2, "{page}");
    assert_eq!(
        (&reports[0]["report"]["id"], &reports[1]["report"]["id"]),
        (&first, &second["report_id"]),
        "oldest first"
    );
    let scam = &reports[0];
    assert_eq!(scam["report"]["reported_user_id"], "alice", "{scam}");
    assert_eq!(scam["report"]["details"], "Asks for my card", "{scam}");
    assert_eq!(scam["booking"]["owner_id"], "alice", "{scam}");
    let ids: Vec<i64> =
        scam["messages"].as_array().expect("context").iter().map(|m| m["id"].as_i64().expect("id")).collect();
    let at = reported["id"].as_i64().expect("id");
    assert_eq!(ids, ((at - 5)..=(at + 5)).collect::<Vec<_>>(), "five on each side of the reported message");
    assert_eq!(reports[1]["report"]["reported_user_id"], "bob", "about the other member: {page}");
    assert_eq!(reports[1]["messages"].as_array().map(Vec::len), Some(10), "the latest ten");

    let path = format!("reports/{}/resolve", first.as_str().expect("id"));
    let (status, done) =
        app.operator(Method::POST, &path, Some(json!({"outcome": "actioned", "note": "Hid it"}))).await;
    assert_eq!((status, done["resolved_now"].clone()), (200, json!(true)), "{done}");
    let (_, again) = app.operator(Method::POST, &path, Some(json!({"outcome": "dismissed"}))).await;
    assert_eq!(again["resolved_now"], false, "{again}");
    assert_eq!(again["report"]["resolution"]["outcome"], "actioned", "the first resolution stands: {again}");
    let (status, _) =
        app.operator(Method::POST, "reports/nope/resolve", Some(json!({"outcome": "dismissed"}))).await;
    assert_eq!(status, 404);

    let (_, open) = app.operator(Method::GET, "reports?status=open", None).await;
    assert_eq!(open["reports"].as_array().map(Vec::len), Some(1), "{open}");
    let (_, resolved) = app.operator(Method::GET, "reports?status=resolved&limit=1", None).await;
    assert_eq!(resolved["reports"][0]["report"]["id"], first, "{resolved}");
    assert_eq!(resolved["next_after"], first, "a full page names where the next begins: {resolved}");

    let (_, audit) = app.operator(Method::GET, "audit", None).await;
    let entries = audit["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "one resolution, one entry: {audit}");
    assert_eq!(
        (entries[0]["action"].clone(), entries[0]["target"].clone()),
        (json!("report.resolved"), first.clone())
    );
    assert!(!audit.to_string().contains("card"), "no report details nor message text in the log: {audit}");
    let (status, _) = app
        .client
        .get(format!("{}/api/service/audit", app.base))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("audit");
    assert_eq!(status, 401, "the service credential only");
}

async fn a_hidden_message_becomes_a_tombstone_with_its_reason_everywhere(app: TestApp) {
    let mut bob = app.ws_as(BOOKING, "bob").await;
    let sent = app.post_message(BOOKING, "alice", "Call me on my private number").await;
    let id = sent["id"].as_i64().expect("id");
    app.send(BOOKING, "bob", json!({"action": "react", "data": {"message_id": id, "emoji": "👍"}})).await;
    let path = format!("bookings/{BOOKING}/messages/{id}/hide");
    let (status, tombstone) = app
        .operator(Method::POST, &path, Some(json!({"reason": "Removed by the marketplace: contact details"})))
        .await;
    assert_eq!(status, 200, "{tombstone}");
    assert_eq!(
        (tombstone["deleted"].clone(), tombstone["body"].clone(), tombstone["reactions"].clone()),
        (json!(true), json!(""), json!([])),
        "{tombstone}"
    );
    assert_eq!(
        tombstone["moderation"]["reason"], "Removed by the marketplace: contact details",
        "{tombstone}"
    );

    let frame = loop {
        let frame = bob.next_json().await;
        if frame["type"] == "message_updated" {
            break frame;
        }
    };
    assert_eq!(frame["message"]["moderation"]["reason"], tombstone["moderation"]["reason"], "{frame}");
    let history: Value = app.history(BOOKING, Some(&token("bob")), "").await.json().await.expect("history");
    let stored = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .expect("kept");
    assert_eq!(
        (stored["deleted"].clone(), stored["moderation"]["reason"].clone()),
        (json!(true), tombstone["moderation"]["reason"].clone()),
        "{stored}"
    );
    assert!(!history.to_string().contains("private number"), "{history}");

    // Hiding again changes nothing and is not audited twice; the sender cannot edit it back.
    let (_, again) = app.operator(Method::POST, &path, Some(json!({"reason": "another reason"}))).await;
    assert_eq!(again["moderation"], tombstone["moderation"], "{again}");
    let edit = json!({"action": "edit_message", "data": {"message_id": id, "body": "back"}});
    assert_eq!(app.send(BOOKING, "alice", edit).await["error"]["code"], "VALIDATION_ERROR");
    let (status, _) = app
        .operator(
            Method::POST,
            &format!("bookings/{BOOKING}/messages/999/hide"),
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.operator(Method::POST, &path, Some(json!({"reason": " "}))).await;
    assert_eq!(status, 400);

    // Closing and reopening are audited too; the booking's log holds the three actions, in order.
    app.operator(Method::PUT, &format!("bookings/{BOOKING}/chat"), Some(json!({"open": false}))).await;
    app.operator(Method::PUT, &format!("bookings/{BOOKING}/chat"), Some(json!({"open": true}))).await;
    let (_, audit) = app.operator(Method::GET, &format!("audit?booking_id={BOOKING}"), None).await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["message.hidden", "chat.closed", "chat.reopened"], "{audit}");
    assert!(!audit.to_string().contains("private number"), "{audit}");
}
