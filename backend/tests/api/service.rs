//! The service API, through which the marketplace tells the chat about bookings, on every store.

use serde_json::{Value, json};

use crate::helpers::{TestApp, token};

crate::on_every_store!(
    a_booking_is_created_read_and_updated_idempotently,
    the_service_api_refuses_a_missing_wrong_or_user_token,
    malformed_bookings_are_refused_with_a_validation_error,
    the_service_moves_a_status_through_valid_transitions_and_connections_hear_it,
    a_created_booking_is_open_to_its_members_only,
);

const SERVICE_TOKEN: &str = "test-service-token";

impl TestApp {
    pub async fn service(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, format!("{}/api/service/bookings/{path}", self.base))
            .bearer_auth(SERVICE_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("service request")
    }

    pub async fn put_booking(&self, id: i64, body: Value) -> reqwest::Response {
        self.service(reqwest::Method::PUT, &id.to_string(), Some(body)).await
    }
}

pub fn booking(owner: &str, renter: &str, title: &str) -> Value {
    json!({"owner_id": owner, "renter_id": renter, "title": title})
}

async fn a_booking_is_created_read_and_updated_idempotently(app: TestApp) {
    let created = app.put_booking(501, booking("erin", "frank", "Kayak")).await;
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await.expect("json");
    assert_eq!(
        body,
        json!({"booking_id": 501, "owner_id": "erin", "renter_id": "frank", "title": "Kayak", "status": "requested"})
    );

    let again = app.put_booking(501, booking("erin", "frank", "Kayak")).await;
    assert_eq!(again.status(), 200, "the same booking again changes nothing");
    let renamed = app.put_booking(501, booking("erin", "frank", "Kayak and paddles")).await;
    assert_eq!(renamed.status(), 200);
    let read = app.service(reqwest::Method::GET, "501", None).await;
    assert_eq!(read.status(), 200);
    let read: Value = read.json().await.expect("json");
    assert_eq!(read["title"], "Kayak and paddles");
    assert_eq!(read["status"], "requested", "a write without a status keeps it");

    let missing = app.service(reqwest::Method::GET, "9999", None).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.json::<Value>().await.expect("json")["error"]["code"], "NOT_FOUND");
}

async fn the_service_api_refuses_a_missing_wrong_or_user_token(app: TestApp) {
    let url = format!("{}/api/service/bookings/502", app.base);
    let body = booking("erin", "frank", "Kayak");
    let attempts = [
        app.client.put(&url).json(&body).send().await.expect("request"),
        app.client.put(&url).bearer_auth("wrong").json(&body).send().await.expect("request"),
        app.client.put(&url).bearer_auth(token("alice")).json(&body).send().await.expect("request"),
        app.client.get(&url).bearer_auth(token("alice")).send().await.expect("request"),
    ];
    for response in attempts {
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "AUTHENTICATION_ERROR");
    }
    assert_eq!(app.service(reqwest::Method::GET, "502", None).await.status(), 404, "nothing was created");
}

async fn malformed_bookings_are_refused_with_a_validation_error(app: TestApp) {
    for body in [
        booking("erin", "erin", "Kayak"),
        booking("", "frank", "Kayak"),
        booking("erin", "frank", ""),
        booking("erin\u{0}", "frank", "Kayak"),
        booking(&"x".repeat(129), "frank", "Kayak"),
        json!({"owner_id": "erin", "renter_id": "frank", "title": "Kayak", "status": "sold"}),
        json!({"owner_id": "erin"}),
    ] {
        let response = app.put_booking(503, body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(response.json::<Value>().await.expect("json")["error"]["code"], "VALIDATION_ERROR");
    }
    assert_eq!(app.put_booking(0, booking("erin", "frank", "Kayak")).await.status(), 400, "ids are positive");
    assert_eq!(app.service(reqwest::Method::GET, "503", None).await.status(), 404);
}

async fn the_service_moves_a_status_through_valid_transitions_and_connections_hear_it(app: TestApp) {
    assert_eq!(app.put_booking(504, booking("erin", "frank", "Kayak")).await.status(), 201);
    let mut erin = app.ws_as(504, "erin").await;
    let status = |s: &str| json!({"status": s});

    let moved = app.service(reqwest::Method::PUT, "504/status", Some(status("confirmed"))).await;
    assert_eq!(moved.status(), 200);
    assert_eq!(
        moved.json::<Value>().await.expect("json"),
        json!({"booking_id": 504, "status": "confirmed", "previous_status": "requested"})
    );
    let frame = erin.next_json().await;
    assert_eq!(frame["type"], "booking_status");
    assert_eq!(
        (frame["status"].as_str(), frame["changed_by"].as_str()),
        (Some("confirmed"), Some("service"))
    );

    let again = app.service(reqwest::Method::PUT, "504/status", Some(status("confirmed"))).await;
    assert_eq!(again.status(), 200, "idempotent");
    erin.expect_silence(200).await;

    let invalid = app.service(reqwest::Method::PUT, "504/status", Some(status("completed"))).await;
    assert_eq!(invalid.status(), 409);
    assert_eq!(invalid.json::<Value>().await.expect("json")["error"]["code"], "VALIDATION_ERROR");
    let through_put = app
        .put_booking(
            504,
            json!({"owner_id": "erin", "renter_id": "frank", "title": "Kayak", "status": "requested"}),
        )
        .await;
    assert_eq!(through_put.status(), 409, "a write cannot move a status backwards either");

    let unknown = app.service(reqwest::Method::PUT, "9999/status", Some(status("confirmed"))).await;
    assert_eq!(unknown.status(), 404);
}

async fn a_created_booking_is_open_to_its_members_only(app: TestApp) {
    assert_eq!(app.put_booking(505, booking("erin", "frank", "Kayak")).await.status(), 201);
    assert_eq!(app.connect(505, &token("erin")).await.status(), 200);
    assert_eq!(app.connect(505, &token("frank")).await.status(), 200);
    assert_eq!(app.connect(505, &token("alice")).await.status(), 403);
    let message = app.post_message(505, "frank", "is the kayak ready?").await;
    assert_eq!(message["booking_id"], 505);

    // A new renter: the old one is no longer a member.
    assert_eq!(app.put_booking(505, booking("erin", "grace", "Kayak")).await.status(), 200);
    assert_eq!(app.connect(505, &token("frank")).await.status(), 403);
    assert_eq!(app.connect(505, &token("grace")).await.status(), 200);
}
