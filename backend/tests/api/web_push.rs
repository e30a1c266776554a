//! Browsers' Web Push subscriptions through the HTTP API, on every store: what a browser's
//! `PushSubscription.toJSON()` adds, what is refused (push services the deployment does not allow, keys
//! that are not keys), renewal, the cap of ten browsers, removal, concurrent tabs, and a deployment
//! without Web Push.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chat_backend::store::push::{LOCAL_VAPID_PUBLIC_KEY, MAX_PUSH_SUBSCRIPTIONS};
use serde_json::{Value, json};

use crate::helpers::{StoreKind, TestApp, spawn_app_with, token};

crate::on_every_store!(
    a_browser_subscribes_and_the_answers_carry_its_endpoint_never_its_keys,
    endpoints_off_the_push_services_and_malformed_keys_are_refused_and_nothing_is_kept,
    the_same_browser_again_renews_its_keys_and_the_eleventh_replaces_the_oldest,
    removing_a_browser_is_idempotent_and_touches_no_other,
    eight_tabs_subscribing_at_once_are_all_kept,
);

const PUSH: &str = "/api/chat/notifications/push";

/// A browser's `PushSubscription.toJSON()`, `n` telling browsers apart.
fn browser(n: u8) -> Value {
    let mut public = [n; 65];
    public[0] = 4;
    json!({
        "endpoint": format!("https://fcm.googleapis.com/fcm/send/browser-{n}:APA91b"),
        "expirationTime": null,
        "keys": {"p256dh": URL_SAFE_NO_PAD.encode(public), "auth": URL_SAFE_NO_PAD.encode([n; 16])},
    })
}

impl TestApp {
    async fn push_subscribe(&self, user: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{PUSH}", self.base))
            .bearer_auth(token(user))
            .json(body)
            .send()
            .await
            .expect("POST");
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    async fn push_state(&self, user: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{PUSH}", self.base))
            .bearer_auth(token(user))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }

    async fn push_remove(&self, user: &str, endpoint: &str) -> (u16, Value) {
        let response = self
            .client
            .delete(
                reqwest::Url::parse_with_params(&format!("{}{PUSH}", self.base), [("endpoint", endpoint)])
                    .expect("url"),
            )
            .bearer_auth(token(user))
            .send()
            .await
            .expect("DELETE");
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }
}

fn endpoints(state: &Value) -> Vec<&str> {
    state["subscriptions"]
        .as_array()
        .expect("list")
        .iter()
        .map(|s| s["endpoint"].as_str().expect("endpoint"))
        .collect()
}

async fn a_browser_subscribes_and_the_answers_carry_its_endpoint_never_its_keys(app: TestApp) {
    let before = app.push_state("bob").await;
    assert_eq!(before["public_key"], LOCAL_VAPID_PUBLIC_KEY);
    assert!(endpoints(&before).is_empty());

    let (status, after) = app.push_subscribe("bob", &browser(1)).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(endpoints(&after), [browser(1)["endpoint"].as_str().expect("endpoint")]);
    assert!(after["subscriptions"][0]["created_at"].as_i64().expect("time") > 0);
    assert!(!after.to_string().contains(browser(1)["keys"]["auth"].as_str().expect("auth")), "{after}");
    assert_eq!(app.push_state("bob").await, after);
    assert!(endpoints(&app.push_state("alice").await).is_empty(), "one member's browsers only");

    let settings: Value = app
        .client
        .get(format!("{}/api/chat/notifications", app.base))
        .bearer_auth(token("bob"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(settings["push_subscriptions"], 1, "{settings}");
    assert!(!settings.to_string().contains("p256dh"), "{settings}");
    let stored = app.store.notification_settings("bob").await.expect("read").settings;
    assert_eq!(
        stored.push_subscriptions[0].keys.auth,
        browser(1)["keys"]["auth"],
        "the notifier's copy has them"
    );
}

async fn endpoints_off_the_push_services_and_malformed_keys_are_refused_and_nothing_is_kept(app: TestApp) {
    let with = |field: &str, value: Value| {
        let mut body = browser(2);
        match field {
            "endpoint" => body["endpoint"] = value,
            key => body["keys"][key] = value,
        }
        body
    };
    for (body, why) in [
        (with("endpoint", json!("https://attacker.example/collect")), "push service"),
        (with("endpoint", json!("http://169.254.169.254/latest/meta-data/")), "push service"),
        (with("endpoint", json!("http://fcm.googleapis.com/fcm/send/x")), "https"),
        (with("endpoint", json!("not a url")), "not a URL"),
        (with("p256dh", json!(URL_SAFE_NO_PAD.encode([4u8; 33]))), "p256dh"),
        (with("auth", json!("!!!")), "auth"),
        (json!({"endpoint": "https://fcm.googleapis.com/x"}), "keys"),
    ] {
        let (status, answer) = app.push_subscribe("bob", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "VALIDATION_ERROR");
        assert!(answer["error"]["message"].as_str().expect("message").contains(why), "{answer}");
    }
    assert!(endpoints(&app.push_state("bob").await).is_empty());
    let anonymous =
        app.client.post(format!("{}{PUSH}", app.base)).json(&browser(2)).send().await.expect("POST");
    assert_eq!(anonymous.status(), 401);
}

async fn the_same_browser_again_renews_its_keys_and_the_eleventh_replaces_the_oldest(app: TestApp) {
    app.push_subscribe("bob", &browser(1)).await;
    let mut renewed = browser(1);
    renewed["keys"] = browser(9)["keys"].clone();
    assert_eq!(app.push_subscribe("bob", &renewed).await.0, 200);
    let stored = app.store.notification_settings("bob").await.expect("read").settings;
    assert_eq!(stored.push_subscriptions.len(), 1);
    assert_eq!(stored.push_subscriptions[0].keys.auth, browser(9)["keys"]["auth"]);

    let browsers = u8::try_from(MAX_PUSH_SUBSCRIPTIONS).expect("small") + 1;
    for n in 2..=browsers {
        assert_eq!(app.push_subscribe("bob", &browser(n)).await.0, 200);
    }
    let state = app.push_state("bob").await;
    assert_eq!(endpoints(&state).len(), MAX_PUSH_SUBSCRIPTIONS);
    assert_eq!(endpoints(&state)[0], browser(2)["endpoint"], "the oldest, browser 1, went");
    assert_eq!(endpoints(&state)[MAX_PUSH_SUBSCRIPTIONS - 1], browser(browsers)["endpoint"]);
}

async fn removing_a_browser_is_idempotent_and_touches_no_other(app: TestApp) {
    app.push_subscribe("bob", &browser(1)).await;
    app.push_subscribe("bob", &browser(2)).await;
    let gone = browser(1)["endpoint"].as_str().expect("endpoint").to_owned();
    for _ in 0..2 {
        let (status, state) = app.push_remove("bob", &gone).await;
        assert_eq!(status, 200, "{state}");
        assert_eq!(endpoints(&state), [browser(2)["endpoint"].as_str().expect("endpoint")]);
    }
    let missing = app
        .client
        .delete(format!("{}{PUSH}", app.base))
        .bearer_auth(token("bob"))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(missing.status(), 400, "no endpoint named");
}

async fn eight_tabs_subscribing_at_once_are_all_kept(app: TestApp) {
    let tabs = (1..=8).map(|n| {
        let app = &app;
        async move { app.push_subscribe("bob", &browser(n)).await.0 }
    });
    let statuses = futures_util::future::join_all(tabs).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let mut kept = endpoints(&app.push_state("bob").await).into_iter().map(str::to_owned).collect::<Vec<_>>();
    kept.sort();
    let mut all =
        (1..=8).map(|n| browser(n)["endpoint"].as_str().expect("endpoint").to_owned()).collect::<Vec<_>>();
    all.sort();
    assert_eq!(kept, all, "every tab's browser, once");
}

#[tokio::test]
async fn a_deployment_without_a_vapid_key_says_so_and_keeps_nothing() {
    let app = spawn_app_with(StoreKind::Sqlite, &[("VAPID_PUBLIC_KEY", "")]).await;
    assert_eq!(app.push_state("bob").await["public_key"], Value::Null);
    let (status, answer) = app.push_subscribe("bob", &browser(1)).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{answer}");
    assert!(endpoints(&app.push_state("bob").await).is_empty());
}
