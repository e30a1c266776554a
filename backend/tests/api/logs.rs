//! The backend's logs, as CloudWatch receives them from its function (the subscriber `telemetry::init`
//! installs): nothing at `info` for a healthy frame (the proxy's line is the frame's one line), one line
//! with its context for a refused one, each key once; and what a message costs in log bytes, counted against
//! what it cost before issue 27.

use chat_backend::events::metrics_line;
use chat_backend::http::Hosting;
use chat_backend::telemetry::{DEFAULT_FILTER, json_subscriber};
use chat_settings::logs::{Captured, Sampler};
use serde_json::{Value, json};
use tracing_subscriber::EnvFilter;

use crate::helpers::{StoreKind, spawn_app};

/// What a message cost before issue 27, counted on the same frame by this test's earlier version: no line
/// of the backend's own (a healthy frame logged nothing) ...
const BEFORE_LINE_BYTES: usize = 0;
/// ... the `message.created` event's metrics line (`EventsPublished` and `EventsFailed`, 0 included) ...
const BEFORE_METRICS_BYTES: usize = 257;
/// ... and Lambda's START, END and REPORT lines, in the text format (the proxy's fixture: the same lines).
fn platform_text_bytes() -> usize {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../lambda/tests/fixtures/platform_lines.txt");
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}")).len()
}

/// Installs the subscriber `telemetry::init` installs, writing into `captured`, for the current thread
/// (the test's runtime, and so the app's tasks, run on it).
fn install(captured: &Captured, hosting: Hosting) -> tracing::subscriber::DefaultGuard {
    let writer = captured.clone();
    let subscriber =
        json_subscriber(EnvFilter::new(DEFAULT_FILTER), Sampler::all(), hosting, move || writer.clone());
    tracing::subscriber::set_default(subscriber)
}

const HEALTHY: &str = "a private body";

#[tokio::test]
async fn a_healthy_frame_logs_nothing_and_a_refused_one_a_line_with_its_context() {
    let app = spawn_app(StoreKind::Sqlite).await;
    let captured = Captured::default();
    let _guard = install(&captured, Hosting::Lambda);

    app.post_message(1, "alice", HEALTHY).await;
    assert_eq!(captured.text(), "", "nothing at info for a healthy frame");

    let reply = app.send(1, "alice", json!({"action": "send_message", "data": {"body": ""}})).await;
    assert_eq!(reply["error"]["code"], "VALIDATION_ERROR", "{reply}");
    let text = captured.text();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    let line = &lines[0];
    // What an operator reads off it: what was refused, why, to whom, on which route.
    assert_eq!(line["msg"], "chat action refused", "{text}");
    assert_eq!(line["code"], "VALIDATION_ERROR");
    assert_eq!(line["action"], "send_message");
    assert_eq!(line["booking_id"], 1);
    assert_eq!(line["user_id"], "alice");
    assert_eq!(line["route"], "/api/chat/ws/{booking_id}/message");
    for dropped in ["level", "span", "spans", "name", "target", "timestamp", "time"] {
        assert!(line.get(dropped).is_none(), "no {dropped} on an info line of a function: {text}");
    }
    let keys = text.matches("\":").count();
    assert_eq!(keys, line.as_object().expect("object").len(), "each key once: {text}");
    assert!(!captured.text().contains(HEALTHY), "no message body");
}

#[tokio::test]
async fn a_long_running_servers_lines_carry_their_time() {
    let app = spawn_app(StoreKind::Sqlite).await;
    let captured = Captured::default();
    let _guard = install(&captured, Hosting::Server);
    app.send(1, "alice", json!({"action": "send_message", "data": {"body": ""}})).await;
    let line: Value = serde_json::from_str(captured.text().trim_end()).expect("one JSON line");
    assert!(line["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{line}");
}

#[tokio::test]
async fn a_message_costs_at_most_half_the_log_bytes_it_did() {
    let app = spawn_app(StoreKind::Sqlite).await;
    let captured = Captured::default();
    let _guard = install(&captured, Hosting::Lambda);
    captured.clear();

    app.post_message(1, "alice", HEALTHY).await;

    let line_bytes = captured.text().len();
    // The `message.created` event's metrics line, as the EventBridge publisher prints it.
    let metrics_bytes = metrics_line("BookingChat", "prod", true, 1_795_325_400_123).len() + 1;
    // Lambda's JSON log format at system level WARN (prod): none of its INFO lines.
    let platform_after = 0;
    let before = BEFORE_LINE_BYTES + BEFORE_METRICS_BYTES + platform_text_bytes();
    let after = line_bytes + metrics_bytes + platform_after;
    eprintln!(
        "backend, one message: before {before} bytes (lines {BEFORE_LINE_BYTES}, metrics {BEFORE_METRICS_BYTES}, \
         Lambda's {}), after {after} (lines {line_bytes}, metrics {metrics_bytes}, Lambda's {platform_after})",
        platform_text_bytes()
    );
    assert!(after * 2 <= before, "{after} bytes a message is more than half of {before}");
    assert!(metrics_bytes < BEFORE_METRICS_BYTES, "the metrics line leaves its zero out");
}
