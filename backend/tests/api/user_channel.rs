//! The user connection's connect route (`POST /api/chat/ws/user/connect`): the token's user and their
//! bookings, most recently active first; and what a user connection may and may not do on the message
//! route.

use serde_json::{Value, json};

use crate::helpers::{PROXY_SECRET, TestApp, expired_token, token};
use crate::service::booking;

crate::on_every_store!(
    a_user_connection_learns_its_user_and_bookings_most_recently_active_first,
    a_user_connect_without_the_secret_or_with_a_bad_token_is_refused,
    a_user_connection_acts_on_a_booking_it_belongs_to_and_refreshes_without_presence,
);

impl TestApp {
    /// The Lambda's `$connect` call of a user connection.
    pub async fn connect_user(&self, token: &str, secret: Option<&str>) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/api/chat/ws/user/connect", self.base))
            .json(&json!({"connection_id": "user-conn", "token": token, "connection_type": "user"}));
        if let Some(secret) = secret {
            request = request.header("x-proxy-secret", secret);
        }
        request.send().await.expect("request")
    }

    async fn send_as_user_connection(&self, booking: i64, user: &str, message: Value) -> Value {
        let response = self
            .post_proxy(
                booking,
                "message",
                json!({"connection_id": "user-conn", "user_id": user, "message": message,
                    "connection_type": "user", "connected_at": 1, "expires_at": 4_000_000_000_i64}),
                Some(PROXY_SECRET),
            )
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }
}

async fn a_user_connection_learns_its_user_and_bookings_most_recently_active_first(app: TestApp) {
    assert_eq!(app.put_booking(301, booking("alice", "erin", "Tent")).await.status(), 201);
    assert_eq!(app.put_booking(302, booking("frank", "erin", "Stove")).await.status(), 201);
    app.post_message(301, "erin", "newest").await;
    let response = app.connect_user(&token("erin"), Some(PROXY_SECRET)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["user_id"], "erin");
    assert_eq!(body["booking_ids"], json!([301, 302]), "both bookings, the active one first");
    assert!(body["expires_at"].as_i64().expect("expiry") > crate::helpers::chrono_now());

    let nobody: Value = app.connect_user(&token("zoe"), Some(PROXY_SECRET)).await.json().await.expect("json");
    assert_eq!(nobody["booking_ids"], json!([]), "a user with no booking connects and covers none");
}

async fn a_user_connect_without_the_secret_or_with_a_bad_token_is_refused(app: TestApp) {
    assert_eq!(app.connect_user(&token("alice"), None).await.status(), 403);
    assert_eq!(app.connect_user(&token("alice"), Some("wrong")).await.status(), 403);
    let refused = app.connect_user("not-a-jwt", Some(PROXY_SECRET)).await;
    assert_eq!(refused.status(), 401);
    let expired = app.connect_user(&expired_token("alice"), Some(PROXY_SECRET)).await;
    assert_eq!(expired.status(), 401);
    let body: Value = expired.json().await.expect("json");
    assert_eq!(body["error"]["code"], "TOKEN_EXPIRED");
    // The booking route does not take a user connection.
    let response = app
        .post_proxy(
            1,
            "connect",
            json!({"connection_id": "c", "token": token("alice"), "connection_type": "user"}),
            Some(PROXY_SECRET),
        )
        .await;
    assert_eq!(response.status(), 400);
}

async fn a_user_connection_acts_on_a_booking_it_belongs_to_and_refreshes_without_presence(app: TestApp) {
    let sent = app
        .send_as_user_connection(
            1,
            "alice",
            json!({"action": "send_message", "booking_id": 1, "data": {"body": "from my inbox"}}),
        )
        .await;
    assert_eq!(sent["type"], "message", "{sent}");
    assert_eq!(sent["broadcast"], true);
    let stranger = app
        .send_as_user_connection(
            2,
            "alice",
            json!({"action": "send_message", "booking_id": 2, "data": {"body": "x"}}),
        )
        .await;
    assert_eq!(stranger["error"]["code"], "AUTHORIZATION_ERROR", "membership is checked on every frame");
    let refresh = app
        .send_as_user_connection(
            1,
            "alice",
            json!({"action": "refresh", "booking_id": 1, "data": {"token": token("alice")}}),
        )
        .await;
    assert_eq!(refresh["type"], "session", "{refresh}");
    assert!(refresh["token_expires_at"].as_i64().is_some(), "the proxy renews its records: {refresh}");
    let presence = app.store.presence_records(1).await.expect("presence");
    assert!(presence.connections.is_empty(), "a user connection counts for no presence: {presence:?}");
    let bob = app
        .send_as_user_connection(
            1,
            "alice",
            json!({"action": "refresh", "booking_id": 1, "data": {"token": token("bob")}}),
        )
        .await;
    assert_eq!(bob["error"]["code"], "AUTHENTICATION_ERROR", "a connection keeps its user: {bob}");
}
