//! Liveness, readiness, metrics and the OpenAPI description.

use serde_json::Value;

use crate::helpers::TestApp;

crate::on_every_store!(
    health_and_readiness_answer_ok,
    readiness_fails_when_the_database_is_gone,
    metrics_count_requests_by_route_template_and_frames_by_action,
    the_openapi_description_lists_every_route,
);

async fn health_and_readiness_answer_ok(app: TestApp) {
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.expect("json")["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.expect("json")["status"], "ready");
}

async fn readiness_fails_when_the_database_is_gone(app: TestApp) {
    app.take_the_store_down().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready.json::<Value>().await.expect("json"),
        serde_json::json!({"status": "unavailable", "database": "unreachable"})
    );
    assert_eq!(app.get("/healthz").await.status(), 200, "liveness does not depend on the database");
}

async fn metrics_count_requests_by_route_template_and_frames_by_action(app: TestApp) {
    app.post_message(1, "alice", "counted").await;
    app.history(1, None, "").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    assert!(text.contains(r#"chat_http_requests_total{method="POST",route="/api/chat/ws/{booking_id}/message",status="200"} 1"#), "{text}");
    assert!(text.contains(r#"route="/api/chat/bookings/{booking_id}/messages",status="401"} 1"#), "{text}");
    assert!(text.contains(r#"chat_frames_total{action="send_message",outcome="ok"} 1"#), "{text}");
    assert!(text.contains("chat_messages_stored_total 1"), "{text}");
    assert!(text.contains("chat_http_request_duration_seconds_bucket"), "{text}");
}

async fn the_openapi_description_lists_every_route(app: TestApp) {
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let served = response.text().await.expect("text");
    assert_eq!(served, chat_backend::http::openapi_json(), "the server serves the generated document");
    let spec: Value = serde_json::from_str(&served).expect("json");
    assert!(spec["openapi"].as_str().expect("version").starts_with("3."));
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort();
    let mut served = vec![
        "POST /api/chat/ws/{booking_id}/connect",
        "POST /api/chat/ws/{booking_id}/connected",
        "POST /api/chat/ws/user/connect",
        "POST /api/chat/ws/{booking_id}/message",
        "POST /api/chat/ws/{booking_id}/disconnect",
        "GET /api/chat/bookings/{booking_id}/messages",
        "GET /api/chat/inbox",
        "PATCH /api/bookings/{booking_id}/status",
        "GET /chat/ws/{booking_id}",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /api/openapi.json",
        "PUT /api/service/bookings/{booking_id}",
        "GET /api/service/bookings/{booking_id}",
        "PUT /api/service/bookings/{booking_id}/status",
        "GET /api/chat/notifications",
        "PUT /api/chat/notifications",
        "GET /api/chat/notifications/push",
        "POST /api/chat/notifications/push",
        "DELETE /api/chat/notifications/push",
        "PUT /api/chat/bookings/{booking_id}/mute",
        "PUT /api/service/users/{user_id}/email",
        "GET /api/notifications/unsubscribe",
        "POST /api/notifications/unsubscribe",
        "PUT /api/chat/bookings/{booking_id}/block",
        "DELETE /api/chat/bookings/{booking_id}/block",
        "POST /api/chat/bookings/{booking_id}/reports",
        "PUT /api/service/bookings/{booking_id}/chat",
        "GET /api/service/reports",
        "POST /api/service/reports/{report_id}/resolve",
        "POST /api/service/bookings/{booking_id}/messages/{message_id}/hide",
        "GET /api/service/audit",
        "POST /api/chat/bookings/{booking_id}/attachments",
        "GET /api/chat/bookings/{booking_id}/attachments/{attachment_id}",
        "GET /api/chat/bookings/{booking_id}/attachments/{attachment_id}/url",
        "POST /api/service/attachments/processed",
        "GET /api/chat/search",
        "GET /api/service/search",
        "GET /api/service/users/{user_id}/export",
        "POST /api/service/users/{user_id}/erase",
        "POST /api/service/retention/run",
    ];
    served.sort_unstable();
    assert_eq!(documented, served);
    // Each documented route exists on the server (anything but 404/405 for a bare request).
    for entry in &documented {
        let (method, path) = entry.split_once(' ').expect("entry");
        let url = format!("{}{}", app.base, path.replace("{booking_id}", "1").replace("{user_id}", "alice"));
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let status = app.client.request(method, &url).send().await.expect("request").status().as_u16();
        assert!(status != 404 && status != 405, "{entry} answered {status}");
    }
}

/// `backend/openapi.json` is what `make openapi` writes: the document generated from the routes and types,
/// for Redocly, the API reference pages and readers of the repository.
#[test]
fn the_committed_openapi_document_is_the_generated_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let committed = std::fs::read_to_string(path).expect("backend/openapi.json");
    let generated = chat_backend::http::openapi_json();
    if committed != generated {
        let (line, (was, is)) = committed
            .lines()
            .chain(std::iter::repeat("<end of file>"))
            .zip(generated.lines().chain(std::iter::repeat("<end of file>")))
            .take(committed.lines().count().max(generated.lines().count()) + 1)
            .enumerate()
            .find(|(_, (was, is))| was != is)
            .unwrap_or((0, ("(the same lines: line endings differ)", "")));
        panic!(
            "backend/openapi.json is not the document the code generates: run `make openapi` and commit it.\n\
             First difference, line {}:\n  committed: {was}\n  generated: {is}",
            line + 1
        );
    }
}

/// The backend's startup error for `DATABASE_URL`, with its whole chain.
async fn startup_error(database_url: &str) -> String {
    let env = [
        ("APP_ENV", "test"),
        ("JWT_SECRET", "j"),
        ("PROXY_SECRET", "p"),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("DATABASE_URL", database_url),
    ];
    let settings = chat_backend::Settings::from_lookup(|k| {
        env.iter().find(|(key, _)| *key == k).map(|(_, v)| (*v).to_owned())
    })
    .expect("settings");
    let Err(error) = chat_backend::Application::build(&settings).await else {
        panic!("{database_url} must not start")
    };
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn a_sqlite_path_in_a_missing_folder_is_refused_not_created() {
    let missing = std::env::temp_dir().join(format!("no-such-folder-{}", uuid::Uuid::new_v4().simple()));
    let error = startup_error(&format!("sqlite://{}/chat.db", missing.display())).await;
    assert!(error.contains("does not exist"), "{error}");
    assert!(!missing.exists(), "nothing was created");
}

#[tokio::test]
async fn an_unreachable_postgres_fails_within_seconds_naming_the_host_not_the_password() {
    let started = std::time::Instant::now();
    let error = startup_error("postgres://chat:hunter2@127.0.0.1:1/chat").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(15), "took {:?}", started.elapsed());
    assert!(error.contains("PostgreSQL at 127.0.0.1:1/chat"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
}
