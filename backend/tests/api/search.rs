//! Full-text search of chat history (issue 26), black-box, on every store: every word must match, as a
//! word prefix, whatever the case; deleted and hidden messages are never found, edited ones by their new
//! words only; a member finds only what their bookings hold; pages follow `next` without a gap or a
//! repeat; bad queries are refused saying why; the frame answers its sender alone; the operator's
//! searches are audited without their words.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, token};
use crate::service::booking;

crate::on_every_store!(
    every_word_must_match_as_a_word_prefix_whatever_the_case,
    deleted_and_hidden_messages_are_never_found,
    an_edited_message_is_found_by_its_new_words_and_not_its_old_ones,
    a_member_searches_one_booking_or_all_theirs_and_never_another_members,
    following_next_returns_every_hit_exactly_once_newest_first,
    bad_queries_are_refused_saying_why,
    the_search_frame_answers_its_sender_alone_over_the_websocket,
    a_result_opens_in_its_context_with_two_syncs,
    the_operator_searches_a_booking_or_a_user_and_the_audit_log_keeps_no_words,
);

/// Booking 1 of the demo data: alice owns it, bob rents it. Booking 2: carol and dave.
const BOOKING: i64 = 1;

const SERVICE_TOKEN: &str = "test-service-token";

impl TestApp {
    /// A `search` frame of `user` about `booking` (through the proxy route); the reply.
    async fn search_frame(&self, booking: i64, user: &str, data: Value) -> Value {
        self.send(booking, user, json!({"action": "search", "data": data, "request_id": "q"})).await
    }

    /// `GET /api/chat/search{query}` as `user`: status and body.
    async fn search_http(&self, user: &str, query: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}/api/chat/search{query}", self.base))
            .bearer_auth(token(user))
            .send()
            .await
            .expect("search");
        (response.status().as_u16(), response.json().await.expect("json"))
    }

    /// `GET /api/service/search{query}` as the operator `support/ana`: status and body.
    async fn operator_search(&self, query: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}/api/service/search{query}", self.base))
            .bearer_auth(SERVICE_TOKEN)
            .header("x-operator", "support/ana")
            .send()
            .await
            .expect("operator search");
        (response.status().as_u16(), response.json().await.expect("json"))
    }

    /// The service API's `path` (after `/api/service/`) with the service token; the body.
    async fn service_call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .client
            .request(method, format!("{}/api/service/{path}", self.base))
            .bearer_auth(SERVICE_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("service call");
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.expect("json")
    }
}

/// The ids of a search answer's results, in order.
fn ids(answer: &Value) -> Vec<i64> {
    let results = answer["results"].as_array().unwrap_or_else(|| panic!("results: {answer}"));
    results.iter().map(|r| r["message_id"].as_i64().expect("message_id")).collect()
}

/// The ids `user` finds in `booking` for `query`, through the frame.
async fn found(app: &TestApp, user: &str, query: &str) -> Vec<i64> {
    let answer = app.search_frame(BOOKING, user, json!({"query": query})).await;
    assert_eq!(answer["type"], "search_results", "{answer}");
    ids(&answer)
}

fn id(message: &Value) -> i64 {
    message["id"].as_i64().expect("id")
}

async fn every_word_must_match_as_a_word_prefix_whatever_the_case(app: TestApp) {
    let canoe = id(&app.post_message(BOOKING, "alice", "Is the CANOE free on Saturday?").await);
    let paddles = id(&app.post_message(BOOKING, "bob", "The canoe comes with two paddles").await);
    let kayak = id(&app.post_message(BOOKING, "bob", "Or the kayak, free on Sunday").await);

    assert_eq!(found(&app, "bob", "canoe").await, [paddles, canoe], "newest first, any case");
    assert_eq!(found(&app, "bob", "Canoe FREE").await, [canoe], "every word must match");
    assert_eq!(found(&app, "alice", "free").await, [kayak, canoe]);
    assert_eq!(found(&app, "alice", "padd").await, [paddles], "a word prefix matches");
    assert_eq!(found(&app, "alice", "can sat").await, [canoe], "prefixes of every word");
    assert_eq!(found(&app, "alice", "canoe kayak").await, Vec::<i64>::new());
    assert_eq!(found(&app, "alice", "surfboard").await, Vec::<i64>::new());

    let answer = app.search_frame(BOOKING, "alice", json!({"query": "  Canoe,  free! "})).await;
    assert_eq!(answer["query"], "Canoe,  free!", "the query as searched, trimmed: {answer}");
    assert_eq!((answer["scope"].clone(), answer["booking_id"].clone()), (json!("booking"), json!(BOOKING)));
    let result = &answer["results"][0];
    assert_eq!(result["booking_id"], BOOKING);
    assert_eq!(result["sender_id"], "alice");
    assert_eq!(result["snippet"], "Is the CANOE free on Saturday?");
    assert!(result["created_at"].as_i64().is_some_and(|at| at > 0), "{result}");
    assert_eq!((answer["has_more"].clone(), answer["next"].clone()), (json!(false), Value::Null));

    // Text that would be query syntax is only words.
    for syntax in [r#"canoe* OR "x""#, "canoe NEAR(free)", "'canoe':* | !x", "canoe\\ & ("] {
        let answer = app.search_frame(BOOKING, "alice", json!({"query": syntax})).await;
        assert_eq!(answer["type"], "search_results", "{syntax}: {answer}");
    }
    assert_eq!(found(&app, "alice", "canoe* (free)").await, [canoe]);
}

async fn deleted_and_hidden_messages_are_never_found(app: TestApp) {
    let kept = id(&app.post_message(BOOKING, "alice", "The blue canoe is ready").await);
    let deleted = app.post_message(BOOKING, "alice", "The red canoe has a leak").await;
    let hidden = app.post_message(BOOKING, "bob", "My red canoe is cheaper elsewhere").await;
    assert_eq!(found(&app, "bob", "canoe").await, [id(&hidden), id(&deleted), kept]);

    let reply = app
        .send(BOOKING, "alice", json!({"action": "delete_message", "data": {"message_id": deleted["id"]}}))
        .await;
    assert_eq!(reply["message"]["deleted"], true, "{reply}");
    let path = format!("bookings/{BOOKING}/messages/{}/hide", hidden["id"]);
    app.service_call(reqwest::Method::POST, &path, Some(json!({"reason": "Off-platform offer"}))).await;

    assert_eq!(found(&app, "bob", "canoe").await, [kept], "tombstones never match");
    assert_eq!(found(&app, "alice", "red").await, Vec::<i64>::new());
    let (_, over_http) = app.search_http("alice", "?q=leak").await;
    assert_eq!(ids(&over_http), Vec::<i64>::new(), "{over_http}");
    let (_, operator) = app.operator_search(&format!("?q=red&booking_id={BOOKING}")).await;
    assert_eq!(ids(&operator), Vec::<i64>::new(), "not even for the operator: {operator}");
}

async fn an_edited_message_is_found_by_its_new_words_and_not_its_old_ones(app: TestApp) {
    let sent = id(&app.post_message(BOOKING, "alice", "Pick up at the harbour at noon").await);
    let body = "Pick up at the station at ten";
    let edit = json!({"action": "edit_message", "data": {"message_id": sent, "body": body}});
    assert_eq!(app.send(BOOKING, "alice", edit).await["type"], "message_updated");
    assert_eq!(found(&app, "bob", "station").await, [sent]);
    assert_eq!(found(&app, "bob", "ten pick").await, [sent]);
    assert_eq!(found(&app, "bob", "harbour").await, Vec::<i64>::new(), "the old words are gone");
    assert_eq!(found(&app, "bob", "noon").await, Vec::<i64>::new());
}

async fn a_member_searches_one_booking_or_all_theirs_and_never_another_members(app: TestApp) {
    assert_eq!(app.put_booking(10, booking("alice", "erin", "Kayak")).await.status(), 201);
    let first = id(&app.post_message(BOOKING, "bob", "Lake trip: bring the map").await);
    let kayak = id(&app.post_message(10, "erin", "Lake trip tomorrow?").await);
    let strangers = app.post_message(2, "carol", "Lake trip for carol and dave").await;
    assert_eq!(strangers["booking_id"], 2);

    assert_eq!(found(&app, "alice", "lake trip").await, [first], "the frame's booking by default");
    let all = app.search_frame(BOOKING, "alice", json!({"query": "lake trip", "scope": "all"})).await;
    assert_eq!(all["scope"], "all", "{all}");
    let hits: Vec<(i64, i64)> = all["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| (r["booking_id"].as_i64().expect("booking"), r["message_id"].as_i64().expect("id")))
        .collect();
    assert_eq!(hits, [(10, kayak), (BOOKING, first)], "both of alice's bookings, never booking 2");
    let bobs = app.search_frame(BOOKING, "bob", json!({"query": "lake", "scope": "all"})).await;
    assert_eq!(ids(&bobs), [first], "bob is in booking 1 only: {bobs}");

    let (status, over_http) = app.search_http("alice", "?q=lake").await;
    assert_eq!((status, ids(&over_http)), (200, vec![kayak, first]), "{over_http}");
    let (status, one) = app.search_http("erin", "?q=lake&booking_id=10").await;
    assert_eq!((status, ids(&one)), (200, vec![kayak]), "{one}");
    let (status, refused) = app.search_http("erin", "?q=lake&booking_id=2").await;
    assert_eq!((status, refused["error"]["code"].clone()), (403, json!("AUTHORIZATION_ERROR")), "{refused}");
    let (status, _) = app.search_http("erin", "?q=lake&booking_id=999").await;
    assert_eq!(status, 404);
    let refused = app.search_frame(2, "alice", json!({"query": "lake"})).await;
    assert_eq!(refused["error"]["code"], "AUTHORIZATION_ERROR", "{refused}");
}

async fn following_next_returns_every_hit_exactly_once_newest_first(app: TestApp) {
    assert_eq!(app.put_booking(10, booking("alice", "erin", "Kayak")).await.status(), 201);
    let mut expected = BTreeSet::new();
    for i in 0..23 {
        let (booking, user) = if i % 3 == 0 { (10, "erin") } else { (BOOKING, "bob") };
        expected
            .insert((booking, id(&app.post_message(booking, user, &format!("Invoice number {i}")).await)));
        app.post_message(booking, user, &format!("Unrelated {i}")).await;
    }
    let (mut seen, mut order, mut before) = (BTreeSet::new(), Vec::new(), None::<String>);
    for page in 0.. {
        assert!(page < 10, "paging must end");
        let mut data = json!({"query": "invoice", "scope": "all", "limit": 5});
        if let Some(cursor) = &before {
            data["before"] = json!(cursor);
        }
        let answer = app.search_frame(BOOKING, "alice", data).await;
        let results = answer["results"].as_array().expect("results").clone();
        assert!(results.len() <= 5, "{answer}");
        for r in &results {
            let key = (r["booking_id"].as_i64().expect("booking"), r["message_id"].as_i64().expect("id"));
            assert!(seen.insert(key), "{key:?} seen twice");
            order.push((r["created_at"].as_i64().expect("created_at"), key.0, key.1));
        }
        assert_eq!(answer["has_more"], answer["next"].is_string(), "{answer}");
        match answer["next"].as_str() {
            Some(next) => before = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, expected, "every hit, once");
    assert!(
        order.windows(2).all(|pair| pair[0] > pair[1]),
        "newest first, ties by booking then id: {order:?}"
    );

    // The same pages over HTTP.
    let (mut over_http, mut query) = (Vec::new(), "?q=invoice&limit=7".to_owned());
    loop {
        let (status, answer) = app.search_http("alice", &query).await;
        assert_eq!(status, 200, "{answer}");
        over_http.extend(ids(&answer));
        let Some(next) = answer["next"].as_str() else { break };
        query = format!("?q=invoice&limit=7&before={next}");
    }
    assert_eq!(over_http, order.iter().map(|(_, _, id)| *id).collect::<Vec<_>>());
}

async fn bad_queries_are_refused_saying_why(app: TestApp) {
    app.post_message(BOOKING, "alice", "Hello").await;
    let long = "a".repeat(201);
    for (data, says) in [
        (json!({"query": ""}), "1 to 200 characters"),
        (json!({"query": "   "}), "1 to 200 characters"),
        (json!({"query": long}), "1 to 200 characters"),
        (json!({"query": "?! -- ***"}), "at least one letter or digit"),
        (json!({"query": "hello", "limit": 0}), "limit must be 1 to 50"),
        (json!({"query": "hello", "limit": 51}), "limit must be 1 to 50"),
        (json!({"query": "hello", "before": "not-a-cursor"}), "before must be the next"),
        (json!({"query": "hello", "scope": "everywhere"}), "invalid data for search"),
        (json!({"scope": "all"}), "invalid data for search"),
    ] {
        let reply = app.search_frame(BOOKING, "alice", data.clone()).await;
        assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "{data}: {reply}");
        let message = reply["error"]["message"].as_str().expect("message");
        assert!(message.contains(says), "{data}: {message}");
        assert_eq!(reply["request_id"], "q", "{reply}");
    }
    assert!(
        app.search_frame(BOOKING, "alice", json!({"query": "a".repeat(200)})).await["results"].is_array()
    );
    for query in ["?q=%20%20", "?q=%3F%3F", "?q=hello&limit=0", "?q=hello&before=xyz", "?booking_id=1"] {
        let (status, body) = app.search_http("alice", query).await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (400, json!("VALIDATION_ERROR")),
            "{query}: {body}"
        );
    }
    let response =
        app.client.get(format!("{}/api/chat/search?q=hello", app.base)).send().await.expect("search");
    assert_eq!(response.status(), 401, "a token is required");
}

async fn the_search_frame_answers_its_sender_alone_over_the_websocket(app: TestApp) {
    let sent = id(&app.post_message(BOOKING, "bob", "See you at the marina").await);
    let mut alice = app.ws_as(BOOKING, "alice").await;
    let mut bob = app.ws_as(BOOKING, "bob").await;
    alice.send_json(json!({"action": "search", "data": {"query": "MARINA"}, "request_id": "s-1"})).await;
    let answer = alice.next_json().await;
    assert_eq!(answer["type"], "search_results", "{answer}");
    assert_eq!(answer["request_id"], "s-1");
    assert_eq!(ids(&answer), [sent]);
    assert_eq!(answer["results"][0]["snippet"], "See you at the marina");
    bob.expect_silence(300).await;

    let proxied = app.search_frame(BOOKING, "alice", json!({"query": "marina"})).await;
    assert_eq!(proxied["broadcast"], false, "to the sender only: {proxied}");
}

async fn a_result_opens_in_its_context_with_two_syncs(app: TestApp) {
    for i in 0..6 {
        app.post_message(BOOKING, "alice", &format!("Before {i}")).await;
    }
    let target = id(&app.post_message(BOOKING, "bob", "The gate code changed").await);
    for i in 0..6 {
        app.post_message(BOOKING, "alice", &format!("After {i}")).await;
    }
    let hit = found(&app, "alice", "gate code").await[0];
    assert_eq!(hit, target);
    let sync = json!({"action": "sync", "data": {"before_message_id": hit + 1, "limit": 4}});
    let page = app.send(BOOKING, "alice", sync).await;
    let before: Vec<i64> = page["messages"].as_array().expect("messages").iter().map(id).collect();
    assert_eq!(before.last(), Some(&hit), "the page before ends with the result: {page}");
    let sync = json!({"action": "sync", "data": {"after_message_id": hit, "limit": 4}});
    let after = app.send(BOOKING, "alice", sync).await;
    assert_eq!(after["messages"][0]["body"], "After 0", "{after}");
}

async fn the_operator_searches_a_booking_or_a_user_and_the_audit_log_keeps_no_words(app: TestApp) {
    assert_eq!(app.put_booking(10, booking("alice", "erin", "Kayak")).await.status(), 201);
    let one = id(&app.post_message(BOOKING, "bob", "Pay me by wire transfer").await);
    let two = id(&app.post_message(10, "erin", "A wire transfer is fine").await);
    app.post_message(2, "carol", "No wire transfer please").await;

    let (status, booking_hits) =
        app.operator_search(&format!("?q=wire%20transfer&booking_id={BOOKING}")).await;
    assert_eq!((status, ids(&booking_hits)), (200, vec![one]), "{booking_hits}");
    assert_eq!(booking_hits["query"], "wire transfer");
    let (status, users) = app.operator_search("?q=wire+transfer&user_id=erin").await;
    assert_eq!((status, ids(&users)), (200, vec![two]), "{users}");
    let (status, alices) = app.operator_search("?q=transfer&user_id=alice&limit=1").await;
    assert_eq!((status, ids(&alices), alices["has_more"].clone()), (200, vec![two], json!(true)), "{alices}");

    for bad in ["?q=wire", "?q=wire&booking_id=1&user_id=bob", "?q=%21&booking_id=1", "?q=wire&user_id="] {
        let (status, body) = app.operator_search(bad).await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (400, json!("VALIDATION_ERROR")),
            "{bad}: {body}"
        );
    }
    let (status, _) = app.operator_search("?q=wire&booking_id=999").await;
    assert_eq!(status, 404);
    let response =
        app.client.get(format!("{}/api/service/search?q=wire&booking_id=1", app.base)).send().await;
    assert_eq!(response.expect("search").status(), 401, "the service credential is required");

    let audit = app.service_call(reqwest::Method::GET, "audit", None).await;
    let entries: Vec<&Value> =
        audit["entries"].as_array().expect("entries").iter().filter(|e| e["action"] == "search").collect();
    assert_eq!(entries.len(), 3, "one entry per search that ran: {audit}");
    assert_eq!(entries[0]["actor"], "service:support/ana");
    assert_eq!(entries[0]["booking_id"], BOOKING);
    assert_eq!(entries[0]["detail"], json!({"scope": "booking", "words": 2}));
    assert_eq!(
        (entries[1]["target"].clone(), entries[1]["detail"].clone()),
        (json!("erin"), json!({"scope": "user", "words": 2}))
    );
    assert_eq!(entries[2]["detail"], json!({"scope": "user", "words": 1}));
    let text = audit.to_string();
    assert!(!text.contains("wire") && !text.contains("transfer"), "never the words: {audit}");
}
