//! The local-only demo page and development tokens.

use serde_json::Value;

use crate::helpers::{StoreKind, spawn_app_with};

/// The widget package's folder (`STATIC_DIR`) as the repository has it: `web/demo` and the build in `web/dist`.
fn widget_package() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web")
}

#[tokio::test]
async fn local_mode_serves_the_demo_page_and_development_tokens_that_work() {
    let web = widget_package();
    let app = spawn_app_with(
        StoreKind::Sqlite,
        &[("APP_ENV", "local"), ("STATIC_DIR", web.to_str().expect("utf-8"))],
    )
    .await;
    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
    let html = page.text().await.expect("text");
    assert_eq!(
        html,
        std::fs::read_to_string(web.join("demo/index.html")).expect("web/demo/index.html"),
        "from disk"
    );
    assert!(html.contains("<booking-chat") && html.contains("dist/booking-chat.js"), "two widgets");
    let script = app.get("/demo.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"].to_str().expect("ascii").contains("javascript"));

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
async fn the_widget_build_is_served_from_disk_and_its_absence_is_explained() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("demo")).expect("demo");
    std::fs::write(dir.path().join("demo/index.html"), "<p>demo</p>").expect("page");
    let app = spawn_app_with(
        StoreKind::Sqlite,
        &[("APP_ENV", "local"), ("STATIC_DIR", dir.path().to_str().expect("utf-8"))],
    )
    .await;
    assert_eq!(app.get("/dist/booking-chat.js").await.status(), 404, "not built yet");
    let missing = app.get("/nothing-here").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.expect("text").contains("make web"), "says how to build it");

    // A build made while the backend runs is served at once: nothing is compiled in.
    std::fs::create_dir_all(dir.path().join("dist")).expect("dist");
    std::fs::write(dir.path().join("dist/booking-chat.js"), "export const built = 1;").expect("bundle");
    let bundle = app.get("/dist/booking-chat.js").await;
    assert_eq!(bundle.status(), 200);
    assert_eq!(bundle.text().await.expect("text"), "export const built = 1;");
    assert_eq!(app.get("/").await.text().await.expect("text"), "<p>demo</p>");
}

#[tokio::test]
async fn the_api_reference_is_served_from_disk_at_docs_and_a_page_not_built_says_how_to_build_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("api-docs")).expect("api-docs");
    std::fs::write(dir.path().join("api-docs/http.html"), "<p>the HTTP API</p>").expect("page");
    std::fs::write(dir.path().join("api-docs/asyncapi.yaml"), "asyncapi: 3.0.0\n").expect("document");
    std::fs::write(dir.path().join("secret.txt"), "not a page").expect("file");
    let app = spawn_app_with(
        StoreKind::Sqlite,
        &[("APP_ENV", "local"), ("STATIC_DIR", dir.path().to_str().expect("utf-8"))],
    )
    .await;

    let index = app.get("/docs").await;
    assert_eq!(index.status(), 200);
    assert!(index.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
    let index = index.text().await.expect("text");
    for link in ["/docs/http.html", "/docs/websocket.html", "/docs/asyncapi.yaml", "/api/openapi.json"] {
        assert!(index.contains(&format!("href=\"{link}\"")), "{link} is linked: {index}");
    }

    let page = app.get("/docs/http.html").await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
    assert_eq!(page.text().await.expect("text"), "<p>the HTTP API</p>", "from disk");
    let document = app.get("/docs/asyncapi.yaml").await;
    assert_eq!(document.status(), 200);
    assert_eq!(document.headers()["content-type"], "application/yaml");

    let missing = app.get("/docs/websocket.html").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.expect("text").contains("make api-docs"), "says how to build it");
    // Only the reference's own pages: nothing else of the folder, nor above it.
    for path in ["/docs/secret.txt", "/docs/..%2Fsecret.txt", "/docs/%2E%2E%2Fsecret.txt"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(!response.text().await.expect("text").contains("not a page"), "{path}");
    }

    // A page built while the backend runs is served at once.
    std::fs::write(dir.path().join("api-docs/websocket.html"), "<p>frames</p>").expect("page");
    assert_eq!(app.get("/docs/websocket.html").await.text().await.expect("text"), "<p>frames</p>");
}

#[tokio::test]
async fn outside_local_there_is_no_demo_page_and_no_token_minting() {
    let app = spawn_app_with(StoreKind::Sqlite, &[]).await;
    assert_eq!(app.get("/").await.status(), 404);
    assert_eq!(app.get("/docs").await.status(), 404);
    assert_eq!(app.get("/docs/http.html").await.status(), 404);
    assert_eq!(app.get("/dev/token?user=alice").await.status(), 404);
}
