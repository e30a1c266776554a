//! The proxy's logs, as CloudWatch receives them (the JSON format of `main.rs`): one line per WebSocket event
//! when it ends, with its route, action, connection, booking, user, outcome, status and a rounded duration;
//! nothing else at `info` for a healthy event, and never a token or a message body.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use chat_connections::store::InMemoryConnectionStore;
use chat_connections::testing::RecordingGateway;
use chat_proxy::Proxy;
use serde_json::Value;
use support::{FakeBackend, accepted, fixture, message_event};

/// Log lines written into memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().expect("lock").clone()).expect("utf-8");
        text.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
    }
}

#[tokio::test]
async fn each_event_is_one_json_line_with_its_context_and_a_rounded_duration() {
    let captured = Captured::default();
    let writer = captured.clone();
    // As lambda/src/main.rs configures it.
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let store = Arc::new(InMemoryConnectionStore::default());
    let gateway = Arc::new(RecordingGateway::default());
    let proxy = Proxy::new(store, gateway, Arc::new(FakeBackend::default()), support::settings());
    proxy.handle(accepted(fixture("connect_query_token", "secret-token"))).await;
    proxy
        .handle(message_event(
            "Vx2pYdWsliACFtw=",
            r#"{"action":"send_message","data":{"body":"a private body"},"request_id":"r1"}"#,
        ))
        .await;
    proxy.handle(accepted(fixture("disconnect", ""))).await;

    let lines = captured.lines();
    assert_eq!(lines.len(), 3, "one line per event: {lines:#?}");
    let routes: Vec<&str> = lines.iter().map(|l| l["span"]["route"].as_str().expect("route")).collect();
    assert_eq!(routes, ["$connect", "$default", "$disconnect"]);
    for line in &lines {
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "handled");
        assert_eq!(line["status"], 200);
        assert_eq!(line["span"]["booking_id"], 1);
        assert_eq!(line["span"]["user_id"], "alice");
        assert!(line["span"]["connection_id"].is_string());
        let duration = line["duration_ms"].as_f64().expect("a number");
        assert_eq!((duration * 10.0).round() / 10.0, duration, "rounded to 0.1 ms: {duration}");
        assert!(!line.to_string().contains("\\u001b"), "no colour codes");
    }
    let message = &lines[1]["span"];
    assert_eq!(message["action"], "send_message");
    assert_eq!(message["outcome"], "broadcast");
    assert!(message["recipients"].is_u64() && message["delivered"].is_u64());
    let all = serde_json::to_string(&lines).expect("json");
    assert!(!all.contains("secret-token") && !all.contains("a private body"), "no token, no body: {all}");
}
