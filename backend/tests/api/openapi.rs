//! The OpenAPI document against the server's real answers: every operation is driven through its success
//! and its usual failures, and each answer must be one the document describes for that operation (its
//! status listed, its content type listed, a JSON body valid against the listed schema). A handler whose
//! `#[utoipa::path]` names the wrong body type, or a status it does not list, fails here.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use crate::helpers::{NOTIFY_LINK_SECRET, PROXY_SECRET, TestApp, expired_token, token};

crate::on_every_store!(every_answer_is_one_the_document_describes);

/// The generated document, and the answers checked against it.
struct Document {
    spec: Value,
    checked: Vec<String>,
}

impl Document {
    fn generated() -> Self {
        Self {
            spec: serde_json::from_str(&chat_backend::http::openapi_json()).expect("json"),
            checked: Vec::new(),
        }
    }

    /// The response object the document gives for `status` of `method template`, a `$ref` followed.
    fn response(&self, method: &Method, template: &str, status: u16) -> Option<&Value> {
        let operation = &self.spec["paths"][template][method.as_str().to_lowercase()];
        assert!(operation.is_object(), "{method} {template} is not in the document");
        let response = operation["responses"].get(status.to_string())?;
        match response.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.spec.pointer(reference.trim_start_matches('#')),
            None => Some(response),
        }
    }

    /// Checks one answer: status, content type and body. Returns the body, parsed when it is JSON.
    fn check(
        &mut self,
        method: &Method,
        template: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Value {
        let text = String::from_utf8_lossy(body);
        let what = format!("{method} {template} → {status}");
        self.checked.push(what.clone());
        let documented = self
            .response(method, template, status)
            .unwrap_or_else(|| panic!("{what} is not documented: {text}"));
        let Some(content) = documented.get("content").and_then(Value::as_object) else {
            assert!(body.is_empty(), "{what}: documented without a body, answered {text}");
            return Value::Null;
        };
        let content_type = content_type.unwrap_or_else(|| panic!("{what}: no Content-Type"));
        let media = content.get(content_type).unwrap_or_else(|| {
            panic!("{what}: {content_type} is not documented (only {:?})", content.keys().collect::<Vec<_>>())
        });
        if content_type != "application/json" {
            return Value::String(text.into_owned());
        }
        let value: Value =
            serde_json::from_slice(body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"));
        // The media type's schema, with the document's components beside it so that its `$ref`s resolve.
        let mut schema = media["schema"].clone();
        schema["components"] = self.spec["components"].clone();
        let validator =
            jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{what}: bad schema: {e}"));
        let errors: Vec<String> =
            validator.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{what}: the body breaks its schema: {errors:#?}\n{value:#}");
        value
    }

    /// Sends `request` and checks its answer.
    async fn send(&mut self, method: Method, template: &str, request: RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type = media_type(response.headers());
        let body = response.bytes().await.expect("body");
        (status, self.check(&method, template, status, content_type.as_deref(), &body))
    }
}

/// The media type of an answer's `Content-Type`, without its parameters (`; charset=...`).
fn media_type(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or_default().trim().to_owned())
}

async fn every_answer_is_one_the_document_describes(app: TestApp) {
    let mut doc = Document::generated();
    let url = |path: &str| format!("{}{path}", app.base);
    let proxy = |path: &str| app.client.post(url(path)).header("x-proxy-secret", PROXY_SECRET);
    let (alice, bob, carol) = (token("alice"), token("bob"), token("carol"));
    let too_large = json!({"connection_id": "c", "token": "x".repeat(app.settings.limits.max_body_bytes)});

    // The proxy contract.
    let connect = "/api/chat/ws/{booking_id}/connect";
    let cases = [
        (200, proxy("/api/chat/ws/1/connect").json(&json!({"connection_id": "c1", "token": alice}))),
        (
            400,
            proxy("/api/chat/ws/1/connect")
                .json(&json!({"connection_id": "c1", "token": alice, "connection_type": "user"})),
        ),
        (400, proxy("/api/chat/ws/x/connect").json(&json!({"connection_id": "c1", "token": alice}))),
        (400, proxy("/api/chat/ws/1/connect").header(CONTENT_TYPE, "application/json").body("{")),
        (401, proxy("/api/chat/ws/1/connect").json(&json!({"connection_id": "c1", "token": "not-a-jwt"}))),
        (
            401,
            proxy("/api/chat/ws/1/connect")
                .json(&json!({"connection_id": "c1", "token": expired_token("alice")})),
        ),
        (403, proxy("/api/chat/ws/1/connect").json(&json!({"connection_id": "c1", "token": carol}))),
        (
            403,
            app.client
                .post(url("/api/chat/ws/1/connect"))
                .json(&json!({"connection_id": "c1", "token": alice})),
        ),
        (404, proxy("/api/chat/ws/999/connect").json(&json!({"connection_id": "c1", "token": alice}))),
        (413, proxy("/api/chat/ws/1/connect").json(&too_large)),
        (
            415,
            proxy("/api/chat/ws/1/connect").body(json!({"connection_id": "c1", "token": alice}).to_string()),
        ),
    ];
    for (expected, request) in cases {
        assert_eq!(doc.send(Method::POST, connect, request).await.0, expected);
    }
    let connected = "/api/chat/ws/{booking_id}/connected";
    let recorded = json!({"connection_id": "c1", "user_id": "alice", "connected_at": 1, "expires_at": 2});
    let cases = [
        (204, proxy("/api/chat/ws/1/connected").json(&recorded)),
        (400, proxy("/api/chat/ws/1/connected").json(&json!({"connection_id": "c1"}))),
        (403, app.client.post(url("/api/chat/ws/1/connected")).json(&recorded)),
        (415, proxy("/api/chat/ws/1/connected").body(recorded.to_string())),
    ];
    for (expected, request) in cases {
        assert_eq!(doc.send(Method::POST, connected, request).await.0, expected);
    }
    let user_connect = chat_wire::proxy::USER_CONNECT_PATH;
    let (status, answer) = doc
        .send(
            Method::POST,
            user_connect,
            proxy(user_connect).json(&json!({"connection_id": "u1", "token": bob})),
        )
        .await;
    assert_eq!((status, answer["booking_ids"].clone()), (200, json!([1])));
    let refused = proxy(user_connect).json(&json!({"connection_id": "u1", "token": "not-a-jwt"}));
    assert_eq!(doc.send(Method::POST, user_connect, refused).await.0, 401);

    let message = "/api/chat/ws/{booking_id}/message";
    let frame = |frame: Value| json!({"connection_id": "c1", "user_id": "alice", "message": frame});
    let frames = [
        json!({"action": "send_message", "data": {"body": "hello"}, "request_id": "r1"}),
        json!({"action": "add_reaction", "data": {"message_id": 1, "emoji": "👍"}}),
        json!({"action": "mark_read", "data": {"message_id": 1}}),
        json!({"action": "typing", "data": {"is_typing": true}}),
        json!({"action": "get_history"}),
        json!({"action": "ping"}),
        json!({"action": "session"}),
        json!({"action": "no_such_action"}),
        json!("not an object"),
    ];
    for sent in frames {
        let (status, reply) =
            doc.send(Method::POST, message, proxy("/api/chat/ws/1/message").json(&frame(sent.clone()))).await;
        assert_eq!(status, 200, "{sent}");
        assert!(reply["type"].is_string(), "{sent}: {reply}");
    }
    let unsigned = app.client.post(url("/api/chat/ws/1/message")).json(&frame(json!({"action": "ping"})));
    assert_eq!(doc.send(Method::POST, message, unsigned).await.0, 403);
    let incomplete = proxy("/api/chat/ws/1/message").json(&json!({"connection_id": "c1"}));
    assert_eq!(doc.send(Method::POST, message, incomplete).await.0, 400);

    let disconnect = "/api/chat/ws/{booking_id}/disconnect";
    let closed = proxy("/api/chat/ws/1/disconnect").json(&json!({"connection_id": "c1", "user_id": "alice"}));
    assert_eq!(doc.send(Method::POST, disconnect, closed).await.0, 204);
    let unsigned = app
        .client
        .post(url("/api/chat/ws/1/disconnect"))
        .json(&json!({"connection_id": "c1", "user_id": "alice"}));
    assert_eq!(doc.send(Method::POST, disconnect, unsigned).await.0, 403);

    // The users' routes.
    let history = "/api/chat/bookings/{booking_id}/messages";
    let cases = [
        (200, app.client.get(url("/api/chat/bookings/1/messages?limit=1")).bearer_auth(&bob)),
        (400, app.client.get(url("/api/chat/bookings/1/messages?limit=lots")).bearer_auth(&bob)),
        (401, app.client.get(url("/api/chat/bookings/1/messages"))),
        (401, app.client.get(url("/api/chat/bookings/1/messages")).bearer_auth(expired_token("bob"))),
        (403, app.client.get(url("/api/chat/bookings/1/messages")).bearer_auth(&carol)),
        (404, app.client.get(url("/api/chat/bookings/999/messages")).bearer_auth(&bob)),
    ];
    for (expected, request) in cases {
        assert_eq!(doc.send(Method::GET, history, request).await.0, expected);
    }
    let inbox = "/api/chat/inbox";
    let cases = [
        (200, app.client.get(url(inbox)).bearer_auth(&bob)),
        (400, app.client.get(url("/api/chat/inbox?limit=-1")).bearer_auth(&bob)),
        (401, app.client.get(url(inbox))),
    ];
    for (expected, request) in cases {
        assert_eq!(doc.send(Method::GET, inbox, request).await.0, expected);
    }
    let status = "/api/bookings/{booking_id}/status";
    let change = |token: &str, booking: i64, to: &str| {
        app.client
            .patch(url(&format!("/api/bookings/{booking}/status")))
            .bearer_auth(token)
            .json(&json!({"status": to}))
    };
    let cases = [
        // The demo booking 1 is confirmed.
        (200, change(&alice, 1, "active")),
        (409, change(&alice, 1, "requested")),
        (400, change(&alice, 1, "sideways")),
        (401, change("not-a-jwt", 1, "completed")),
        (403, change(&bob, 1, "completed")),
        (404, change(&alice, 999, "completed")),
        (413, app.client.patch(url("/api/bookings/1/status")).bearer_auth(&alice).json(&too_large)),
        (
            415,
            app.client
                .patch(url("/api/bookings/1/status"))
                .bearer_auth(&alice)
                .body("{\"status\": \"active\"}"),
        ),
    ];
    for (expected, request) in cases {
        assert_eq!(doc.send(Method::PATCH, status, request).await.0, expected);
    }

    // The marketplace's service API.
    let service =
        |method: Method, path: &str| app.client.request(method, url(path)).bearer_auth("test-service-token");
    let booking = "/api/service/bookings/{booking_id}";
    let written = json!({"owner_id": "erin", "renter_id": "frank", "title": "A boat"});
    let cases = [
        (Method::PUT, 201, service(Method::PUT, "/api/service/bookings/77").json(&written)),
        (Method::PUT, 200, service(Method::PUT, "/api/service/bookings/77").json(&written)),
        (
            Method::PUT,
            400,
            service(Method::PUT, "/api/service/bookings/77").json(&json!({"owner_id": "erin"})),
        ),
        (Method::PUT, 401, app.client.put(url("/api/service/bookings/77")).json(&written)),
        (
            Method::PUT,
            409,
            service(Method::PUT, "/api/service/bookings/77").json(
                &json!({"owner_id": "erin", "renter_id": "frank", "title": "A boat", "status": "completed"}),
            ),
        ),
        (Method::GET, 200, service(Method::GET, "/api/service/bookings/77")),
        (Method::GET, 400, service(Method::GET, "/api/service/bookings/boat")),
        (Method::GET, 401, app.client.get(url("/api/service/bookings/77")).bearer_auth(&alice)),
        (Method::GET, 404, service(Method::GET, "/api/service/bookings/999")),
    ];
    for (method, expected, request) in cases {
        assert_eq!(doc.send(method, booking, request).await.0, expected);
    }
    let service_status = "/api/service/bookings/{booking_id}/status";
    let cases = [
        (200, service(Method::PUT, "/api/service/bookings/77/status").json(&json!({"status": "confirmed"}))),
        (400, service(Method::PUT, "/api/service/bookings/77/status").json(&json!({"status": "sideways"}))),
        (401, app.client.put(url("/api/service/bookings/77/status")).json(&json!({"status": "active"}))),
        (404, service(Method::PUT, "/api/service/bookings/999/status").json(&json!({"status": "active"}))),
        (409, service(Method::PUT, "/api/service/bookings/77/status").json(&json!({"status": "requested"}))),
    ];
    for (expected, request) in cases {
        assert_eq!(doc.send(Method::PUT, service_status, request).await.0, expected);
    }

    // The direct WebSocket: refusals before the upgrade, and the upgrade itself.
    let direct = "/chat/ws/{booking_id}";
    let not_a_handshake = app.client.get(url(&format!("/chat/ws/1?token={alice}")));
    assert_eq!(doc.send(Method::GET, direct, not_a_handshake).await.0, 400);
    let refusals = [
        (1, String::new(), 401),
        (1, format!("?token={carol}"), 403),
        (1, format!("?token={alice}&type=sideways"), 400),
        (999, format!("?token={alice}"), 404),
    ];
    for (booking, query, expected) in refusals {
        let Err(tokio_tungstenite::tungstenite::Error::Http(refusal)) = app.ws(booking, &query, &[]).await
        else {
            panic!("{booking}{query}: the handshake must be refused");
        };
        let content_type = media_type(refusal.headers());
        let body = refusal.body().clone().unwrap_or_default();
        assert_eq!(refusal.status().as_u16(), expected, "{booking}{query}");
        doc.check(&Method::GET, direct, expected, content_type.as_deref(), &body);
    }
    drop(app.ws_as(1, "alice").await);
    doc.check(&Method::GET, direct, 101, None, &[]);

    // Notification settings and the unsubscribe link.
    let settings = "/api/chat/notifications";
    let quiet = |zone: &str| json!({"email_enabled": true, "push_enabled": false, "quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": zone}});
    let cases = [
        (200, Method::GET, app.client.get(url(settings)).bearer_auth(&alice)),
        (401, Method::GET, app.client.get(url(settings))),
        (200, Method::PUT, app.client.put(url(settings)).bearer_auth(&alice).json(&quiet("Europe/Paris"))),
        (400, Method::PUT, app.client.put(url(settings)).bearer_auth(&alice).json(&quiet("Mars/Olympus"))),
        (401, Method::PUT, app.client.put(url(settings)).json(&quiet("UTC"))),
        (415, Method::PUT, app.client.put(url(settings)).bearer_auth(&alice).body("{}")),
    ];
    for (expected, method, request) in cases {
        assert_eq!(doc.send(method, settings, request).await.0, expected);
    }
    let push = "/api/chat/notifications/push";
    let browser = json!({
        "endpoint": "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "expirationTime": null,
        "keys": {"p256dh": chat_backend::store::push::LOCAL_VAPID_PUBLIC_KEY, "auth": "AAAAAAAAAAAAAAAAAAAAAA"},
    });
    let gone =
        format!("{push}?endpoint=https%3A%2F%2Fupdates.push.services.mozilla.com%2Fwpush%2Fv2%2FgAAAA");
    let cases = [
        (200, Method::GET, app.client.get(url(push)).bearer_auth(&alice)),
        (401, Method::GET, app.client.get(url(push))),
        (200, Method::POST, app.client.post(url(push)).bearer_auth(&alice).json(&browser)),
        (
            400,
            Method::POST,
            app.client.post(url(push)).bearer_auth(&alice).json(&json!({"endpoint": "https://x.example/"})),
        ),
        (401, Method::POST, app.client.post(url(push)).json(&browser)),
        (415, Method::POST, app.client.post(url(push)).bearer_auth(&alice).body("{}")),
        (200, Method::DELETE, app.client.delete(url(&gone)).bearer_auth(&alice)),
        (400, Method::DELETE, app.client.delete(url(push)).bearer_auth(&alice)),
        (401, Method::DELETE, app.client.delete(url(&gone))),
    ];
    for (expected, method, request) in cases {
        assert_eq!(doc.send(method, push, request).await.0, expected);
    }
    let mute = "/api/chat/bookings/{booking_id}/mute";
    for (expected, booking, who) in [(200, 1, &alice), (403, 1, &carol), (404, 999, &alice)] {
        let request = app
            .client
            .put(url(&format!("/api/chat/bookings/{booking}/mute")))
            .bearer_auth(who)
            .json(&json!({"muted": true}));
        assert_eq!(doc.send(Method::PUT, mute, request).await.0, expected);
    }
    let email = "/api/service/users/{user_id}/email";
    let service = |address: Value| {
        app.client
            .put(url("/api/service/users/bob/email"))
            .bearer_auth("test-service-token")
            .json(&json!({"email": address}))
    };
    for (expected, request) in [
        (200, service(json!("bob@example.com"))),
        (200, service(Value::Null)),
        (400, service(json!("bob@localhost"))),
        (401, app.client.put(url("/api/service/users/bob/email")).json(&json!({"email": null}))),
    ] {
        assert_eq!(doc.send(Method::PUT, email, request).await.0, expected);
    }
    let link = "/api/notifications/unsubscribe";
    let valid = chat_backend::store::notifications::unsubscribe::token(NOTIFY_LINK_SECRET.as_bytes(), "bob");
    let with = |token: &str| url(&format!("{link}?token={token}"));
    for (expected, method, request) in [
        (200, Method::GET, app.client.get(with(&valid))),
        (400, Method::GET, app.client.get(with("forged.token"))),
        (400, Method::GET, app.client.get(url(link))),
        (200, Method::POST, app.client.post(with(&valid)).body("List-Unsubscribe=One-Click")),
        (400, Method::POST, app.client.post(with("forged.token"))),
    ] {
        assert_eq!(doc.send(method, link, request).await.0, expected);
    }

    // Trust and safety: blocks, reports and the operator's moderation.
    let block = "/api/chat/bookings/{booking_id}/block";
    for (expected, method, request) in [
        (200, Method::PUT, app.client.put(url("/api/chat/bookings/1/block")).bearer_auth(&bob)),
        (403, Method::PUT, app.client.put(url("/api/chat/bookings/1/block")).bearer_auth(&carol)),
        (404, Method::PUT, app.client.put(url("/api/chat/bookings/999/block")).bearer_auth(&bob)),
        (401, Method::PUT, app.client.put(url("/api/chat/bookings/1/block"))),
        (200, Method::DELETE, app.client.delete(url("/api/chat/bookings/1/block")).bearer_auth(&bob)),
        (403, Method::DELETE, app.client.delete(url("/api/chat/bookings/1/block")).bearer_auth(&carol)),
    ] {
        assert_eq!(doc.send(method, block, request).await.0, expected);
    }
    let reports = "/api/chat/bookings/{booking_id}/reports";
    let report = |booking: i64, who: &str, body: Value| {
        app.client.post(url(&format!("/api/chat/bookings/{booking}/reports"))).bearer_auth(who).json(&body)
    };
    for (expected, request) in [
        (201, report(1, &bob, json!({"reason": "spam", "details": "Ads"}))),
        (400, report(1, &bob, json!({"reason": "rude"}))),
        (403, report(1, &carol, json!({"reason": "spam"}))),
        (404, report(1, &bob, json!({"reason": "spam", "message_id": 999}))),
        (404, report(999, &bob, json!({"reason": "spam"}))),
        (401, app.client.post(url("/api/chat/bookings/1/reports")).json(&json!({"reason": "spam"}))),
        (415, app.client.post(url("/api/chat/bookings/1/reports")).bearer_auth(&bob).body("{}")),
    ] {
        assert_eq!(doc.send(Method::POST, reports, request).await.0, expected);
    }
    let operator = |method: reqwest::Method, path: &str| {
        app.client.request(method, url(path)).bearer_auth("test-service-token")
    };
    let list = "/api/service/reports";
    let (_, page) = doc.send(Method::GET, list, operator(Method::GET, list)).await;
    let report_id = page["reports"][0]["report"]["id"].as_str().expect("a report").to_owned();
    for (expected, request) in [
        (200, operator(Method::GET, "/api/service/reports?status=resolved&limit=5")),
        (400, operator(Method::GET, "/api/service/reports?status=lost")),
        (401, app.client.get(url(list))),
    ] {
        assert_eq!(doc.send(Method::GET, list, request).await.0, expected);
    }
    let resolve = "/api/service/reports/{report_id}/resolve";
    let path = format!("/api/service/reports/{report_id}/resolve");
    for (expected, request) in [
        (200, operator(Method::POST, &path).json(&json!({"outcome": "dismissed", "note": "Not spam"}))),
        (400, operator(Method::POST, &path).json(&json!({"outcome": "maybe"}))),
        (
            404,
            operator(Method::POST, "/api/service/reports/none/resolve")
                .json(&json!({"outcome": "dismissed"})),
        ),
        (401, app.client.post(url(&path)).json(&json!({"outcome": "dismissed"}))),
    ] {
        assert_eq!(doc.send(Method::POST, resolve, request).await.0, expected);
    }
    let hide = "/api/service/bookings/{booking_id}/messages/{message_id}/hide";
    let hidden = app.post_message(1, "alice", "to be hidden").await["id"].clone();
    let path = format!("/api/service/bookings/1/messages/{hidden}/hide");
    for (expected, request) in [
        (200, operator(Method::POST, &path).json(&json!({"reason": "Removed by the marketplace"}))),
        (400, operator(Method::POST, &path).json(&json!({"reason": ""}))),
        (
            404,
            operator(Method::POST, "/api/service/bookings/1/messages/999/hide").json(&json!({"reason": "x"})),
        ),
        (401, app.client.post(url(&path)).json(&json!({"reason": "x"}))),
    ] {
        assert_eq!(doc.send(Method::POST, hide, request).await.0, expected);
    }
    let chat = "/api/service/bookings/{booking_id}/chat";
    for (expected, request) in [
        (
            200,
            operator(Method::PUT, "/api/service/bookings/1/chat")
                .json(&json!({"open": false, "note": "Review"})),
        ),
        (200, operator(Method::PUT, "/api/service/bookings/1/chat").json(&json!({"open": true}))),
        (400, operator(Method::PUT, "/api/service/bookings/1/chat").json(&json!({"open": "no"}))),
        (404, operator(Method::PUT, "/api/service/bookings/999/chat").json(&json!({"open": false}))),
        (401, app.client.put(url("/api/service/bookings/1/chat")).json(&json!({"open": false}))),
    ] {
        assert_eq!(doc.send(Method::PUT, chat, request).await.0, expected);
    }
    let audit = "/api/service/audit";
    for (expected, request) in [
        (200, operator(Method::GET, audit)),
        (200, operator(Method::GET, "/api/service/audit?booking_id=1&limit=2")),
        (400, operator(Method::GET, "/api/service/audit?limit=x")),
        (401, app.client.get(url(audit))),
    ] {
        assert_eq!(doc.send(Method::GET, audit, request).await.0, expected);
    }

    // Search: the member's and the operator's.
    let search = "/api/chat/search";
    for (expected, request) in [
        (200, app.client.get(url("/api/chat/search?q=hidden")).bearer_auth(&alice)),
        (200, app.client.get(url("/api/chat/search?q=hello&booking_id=1&limit=5")).bearer_auth(&bob)),
        (400, app.client.get(url("/api/chat/search?q=%3F")).bearer_auth(&alice)),
        (401, app.client.get(url("/api/chat/search?q=hello"))),
        (403, app.client.get(url("/api/chat/search?q=hello&booking_id=1")).bearer_auth(&carol)),
        (404, app.client.get(url("/api/chat/search?q=hello&booking_id=999")).bearer_auth(&alice)),
    ] {
        assert_eq!(doc.send(Method::GET, search, request).await.0, expected);
    }
    let operator_search = "/api/service/search";
    for (expected, request) in [
        (200, operator(Method::GET, "/api/service/search?q=hello&booking_id=1")),
        (200, operator(Method::GET, "/api/service/search?q=hello&user_id=alice&limit=2")),
        (400, operator(Method::GET, "/api/service/search?q=hello")),
        (401, app.client.get(url("/api/service/search?q=hello&booking_id=1"))),
        (404, operator(Method::GET, "/api/service/search?q=hello&booking_id=999")),
    ] {
        assert_eq!(doc.send(Method::GET, operator_search, request).await.0, expected);
    }

    // A user's data and retention (erasing a user without data: the cases after this need alice's).
    let export = "/api/service/users/{user_id}/export";
    for (expected, request) in [
        (200, operator(Method::GET, "/api/service/users/alice/export")),
        (400, operator(Method::GET, "/api/service/users/%01/export")),
        (400, operator(Method::GET, "/api/service/users/alice/export").header("x-operator", "two words")),
        (401, app.client.get(url("/api/service/users/alice/export"))),
    ] {
        assert_eq!(doc.send(Method::GET, export, request).await.0, expected);
    }
    let erase = "/api/service/users/{user_id}/erase";
    for (expected, request) in [
        (200, operator(Method::POST, "/api/service/users/mallory/erase?max_messages=10")),
        (400, operator(Method::POST, "/api/service/users/mallory/erase?max_messages=many")),
        (401, app.client.post(url("/api/service/users/mallory/erase"))),
    ] {
        assert_eq!(doc.send(Method::POST, erase, request).await.0, expected);
    }
    let retention = "/api/service/retention/run";
    let retaining = app.another_instance(&[("CHAT_RETENTION_DAYS", "30")]).await;
    let run = |base: &str| app.client.post(format!("{base}{retention}")).bearer_auth("test-service-token");
    for (expected, request) in
        [(200, run(&retaining.base)), (400, run(&app.base)), (401, app.client.post(url(retention)))]
    {
        assert_eq!(doc.send(Method::POST, retention, request).await.0, expected);
    }

    // Attachments, on a second instance of the same store that keeps files (on disk).
    let dir = tempfile::tempdir().expect("dir");
    let files = app.another_instance(&[("FILE_STORE", &format!("disk:{}", dir.path().display()))]).await;
    let at = |path: &str| format!("{}{path}", files.base);
    let declare = |booking: i64, who: &str, body: Value| {
        files
            .client
            .post(at(&format!("/api/chat/bookings/{booking}/attachments")))
            .bearer_auth(who)
            .json(&body)
    };
    let pdf = json!({"name": "receipt.pdf", "content_type": "application/pdf", "size": 300});
    let uploads = "/api/chat/bookings/{booking_id}/attachments";
    let (_, created) = doc.send(Method::POST, uploads, declare(1, &bob, pdf.clone())).await;
    let id = created["attachment"]["id"].as_str().expect("an attachment").to_owned();
    for (expected, request) in [
        (201, declare(1, &bob, pdf.clone())),
        (
            400,
            declare(1, &bob, json!({"name": "x.exe", "content_type": "application/x-msdownload", "size": 3})),
        ),
        (
            413,
            declare(
                1,
                &bob,
                json!({"name": "big.pdf", "content_type": "application/pdf", "size": 1u64 << 40}),
            ),
        ),
        (403, declare(1, &carol, pdf.clone())),
        (404, declare(999, &bob, pdf.clone())),
        (401, files.client.post(at("/api/chat/bookings/1/attachments")).json(&pdf)),
        (415, files.client.post(at("/api/chat/bookings/1/attachments")).bearer_auth(&bob).body("{}")),
    ] {
        assert_eq!(doc.send(Method::POST, uploads, request).await.0, expected);
    }
    let one = "/api/chat/bookings/{booking_id}/attachments/{attachment_id}";
    let link = "/api/chat/bookings/{booking_id}/attachments/{attachment_id}/url";
    let get = |path: String, who: &str| files.client.get(at(&path)).bearer_auth(who);
    for (expected, template, request) in [
        (200, one, get(format!("/api/chat/bookings/1/attachments/{id}"), &bob)),
        (404, one, get(format!("/api/chat/bookings/1/attachments/{id}"), &alice)),
        (403, one, get(format!("/api/chat/bookings/1/attachments/{id}"), &carol)),
        (401, one, files.client.get(at(&format!("/api/chat/bookings/1/attachments/{id}")))),
        (400, link, get(format!("/api/chat/bookings/1/attachments/{id}/url"), &bob)),
        (404, link, get(format!("/api/chat/bookings/1/attachments/{id}/url"), &alice)),
        (403, link, get(format!("/api/chat/bookings/1/attachments/{id}/url"), &carol)),
        (401, link, files.client.get(at(&format!("/api/chat/bookings/1/attachments/{id}/url")))),
    ] {
        assert_eq!(doc.send(Method::GET, template, request).await.0, expected, "{template}");
    }
    let processed = "/api/service/attachments/processed";
    let report = |body: Value| files.client.post(at(processed)).bearer_auth("test-service-token").json(&body);
    let ready = json!({"booking_id": 1, "attachment_id": id, "status": "ready",
        "content_type": "application/pdf", "size": 300});
    let store = &files.files.as_ref().expect("files").store;
    store
        .put(&chat_files::keys::original(1, &id), b"%PDF-1.7".to_vec(), "application/pdf")
        .await
        .expect("put");
    for (expected, request) in [
        (200, report(ready.clone())),
        (200, report(ready.clone())),
        (
            404,
            report(json!({"booking_id": 1, "attachment_id": "att_ffffffffffffffffffffffffffffffff",
            "status": "rejected", "reason": "x"})),
        ),
        (400, report(json!({"booking_id": 1, "attachment_id": id, "status": "lost"}))),
        (401, files.client.post(at(processed)).json(&ready)),
        (415, files.client.post(at(processed)).bearer_auth("test-service-token").body(ready.to_string())),
    ] {
        assert_eq!(doc.send(Method::POST, processed, request).await.0, expected);
    }
    let (status, signed) =
        doc.send(Method::GET, link, get(format!("/api/chat/bookings/1/attachments/{id}/url"), &bob)).await;
    assert_eq!((status, signed["url"].is_string()), (200, true), "{signed}");

    // Operations.
    for (path, expected) in
        [("/healthz", 200), ("/readyz", 200), ("/metrics", 200), ("/api/openapi.json", 200)]
    {
        assert_eq!(doc.send(Method::GET, path, app.client.get(url(path))).await.0, expected);
    }
    app.take_the_store_down().await;
    assert_eq!(doc.send(Method::GET, "/readyz", app.client.get(url("/readyz"))).await.0, 503);

    // Every operation of the document was driven at least once.
    let operations: Vec<String> = doc.spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().expect("path item").keys().map(move |m| format!("{} {path} →", m.to_uppercase()))
        })
        .collect();
    for operation in operations {
        assert!(doc.checked.iter().any(|c| c.starts_with(&operation)), "{operation} was never called here");
    }
}
