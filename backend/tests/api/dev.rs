//! The local-only demo page and development tokens.

use serde_json::Value;

use crate::helpers::{StoreKind, spawn_app_with};

#[tokio::test]
async fn local_mode_serves_the_demo_page_and_development_tokens_that_work() {
    let app = spawn_app_with(StoreKind::Sqlite, &[("APP_ENV", "local")]).await;
    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
    let html = page.text().await.expect("text");
    assert!(
        html.contains("new WebSocket") && html.contains("bearer."),
        "the page connects with the subprotocol token"
    );

    let response = app.get("/dev/token?user=alice").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    let token = body["token"].as_str().expect("token");
    assert_eq!(app.history(1, Some(token), "").await.status(), 200);
    assert_eq!(app.history(2, Some(token), "").await.status(), 403);

    assert_eq!(app.get("/dev/token?user=").await.status(), 400);
    assert_eq!(app.get("/dev/token").await.status(), 400);
}

#[tokio::test]
async fn outside_local_there_is_no_demo_page_and_no_token_minting() {
    let app = spawn_app_with(StoreKind::Sqlite, &[]).await;
    assert_eq!(app.get("/").await.status(), 404);
    assert_eq!(app.get("/dev/token?user=alice").await.status(), 404);
}
