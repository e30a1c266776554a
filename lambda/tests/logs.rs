//! The proxy's logs, as CloudWatch receives them (the subscriber `main.rs` installs,
//! `chat_settings::logs`): one line per WebSocket event when it ends, with its route, action, connection,
//! booking, user, outcome, status and a rounded duration, each key once; nothing else at `info` for a
//! healthy event, and never a token or a message body. What a message costs in log bytes, counted against
//! what it cost before issue 27; and the sampling of routine lines, which never drops a warning or an error.

mod support;

use std::sync::Arc;

use chat_connections::store::InMemoryConnectionStore;
use chat_connections::testing::RecordingGateway;
use chat_connections::{FanoutReport, fanout};
use chat_proxy::Proxy;
use chat_proxy::ports::BackendError;
use chat_settings::logs::{Captured, Sampler, json_subscriber};
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use support::{FakeBackend, accepted, fixture, message_event};
use tracing::level_filters::LevelFilter;

/// What the `$default` frame of a message cost before issue 27, counted by this test's earlier version on
/// the same frame: its line (the `fmt` JSON subscriber with `with_current_span`: `level`, a `span` object
/// with its `name`, every fan-out count, zeros included) ...
const BEFORE_LINE_BYTES: usize = 301;
/// ... its embedded-metric-format line (8 metrics, zeros included) ...
const BEFORE_METRICS_BYTES: usize = 624;
/// ... and Lambda's START, END and REPORT lines (`tests/fixtures/platform_lines.txt`, in the text format).
fn platform_text_bytes() -> usize {
    let path = format!("{}/tests/fixtures/platform_lines.txt", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")).len()
}

/// Installs the production subscriber, writing into `captured`, for the current thread.
fn install(captured: &Captured, sampler: Sampler) -> tracing::subscriber::DefaultGuard {
    let writer = captured.clone();
    tracing::subscriber::set_default(json_subscriber(LevelFilter::INFO, sampler, false, move || {
        writer.clone()
    }))
}

/// Each line written into `captured`, read as JSON.
fn json_lines(captured: &Captured) -> Vec<Value> {
    captured.lines().iter().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
}

/// The keys of a JSON object in the order written, duplicates included (serde_json's `Value` keeps one).
fn keys(line: &str) -> Vec<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut keys = Vec::new();
            while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                keys.push(key);
            }
            Ok(keys)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(line);
    serde::Deserializer::deserialize_map(&mut deserializer, Keys).expect("a JSON object")
}

fn proxy(
    backend: FakeBackend,
) -> Proxy<Arc<InMemoryConnectionStore>, Arc<RecordingGateway>, Arc<FakeBackend>> {
    let store = Arc::new(InMemoryConnectionStore::default());
    let gateway = Arc::new(RecordingGateway::default());
    Proxy::new(store, gateway, Arc::new(backend), support::settings())
}

const MESSAGE: &str = r#"{"action":"send_message","data":{"body":"a private body","client_message_id":"c-7f3a"},"request_id":"r1"}"#;

#[tokio::test]
async fn each_event_is_one_json_line_with_its_context_each_key_once_and_a_rounded_duration() {
    let captured = Captured::default();
    let _guard = install(&captured, Sampler::all());

    let proxy = proxy(FakeBackend::default());
    proxy.handle(accepted(fixture("connect_query_token", "secret-token"))).await;
    proxy.handle(message_event("Vx2pYdWsliACFtw=", MESSAGE)).await;
    proxy.handle(accepted(fixture("disconnect", ""))).await;

    let raw = captured.lines();
    let lines = json_lines(&captured);
    assert_eq!(lines.len(), 3, "one line per event: {raw:#?}");
    // What an operator reads off each event's line.
    let expected: [(&str, &[&str]); 3] = [
        (
            "$connect",
            &["route", "connection_id", "booking_id", "user_id", "outcome", "status", "duration_ms"],
        ),
        (
            "$default",
            &[
                "route",
                "connection_id",
                "booking_id",
                "user_id",
                "action",
                "outcome",
                "recipients",
                "delivered",
                "status",
                "duration_ms",
            ],
        ),
        (
            "$disconnect",
            &["route", "connection_id", "booking_id", "user_id", "outcome", "status", "duration_ms"],
        ),
    ];
    for ((line, text), (route, fields)) in lines.iter().zip(&raw).zip(expected) {
        assert_eq!(line["route"], route, "{text}");
        for field in fields {
            assert!(line.get(*field).is_some(), "{route}'s line has {field}: {text}");
        }
        let keys = keys(text);
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "no key twice: {text}");
        for dropped in ["level", "span", "spans", "name", "target", "timestamp", "time"] {
            assert!(line.get(dropped).is_none(), "no {dropped} on a routine line: {text}");
        }
        assert_eq!(line["msg"], "handled");
        assert_eq!(line["status"], 200);
        assert_eq!(line["booking_id"], 1);
        assert_eq!(line["user_id"], "alice");
        assert!(line["connection_id"].is_string());
        let duration = line["duration_ms"].as_f64().expect("a number");
        assert_eq!((duration * 10.0).round() / 10.0, duration, "rounded to 0.1 ms: {duration}");
        assert!(!text.contains("\\u001b"), "no colour codes");
    }
    let message = &lines[1];
    assert_eq!(message["action"], "send_message");
    assert_eq!(message["outcome"], "broadcast");
    assert!(message["recipients"].is_u64() && message["delivered"].is_u64());
    for zero in ["gone", "connecting", "expired", "failed"] {
        assert!(message.get(zero).is_none(), "a count of 0 is left out: {}", raw[1]);
    }
    let all = captured.text();
    assert!(!all.contains("secret-token") && !all.contains("a private body"), "no token, no body: {all}");
}

#[tokio::test]
async fn a_message_costs_at_most_half_the_log_bytes_it_did() {
    let captured = Captured::default();
    let _guard = install(&captured, Sampler::all());
    let proxy = proxy(FakeBackend::default());
    proxy.handle(accepted(fixture("connect_query_token", "secret-token"))).await;
    captured.clear();

    proxy.handle(message_event("Vx2pYdWsliACFtw=", MESSAGE)).await;

    let line_bytes = captured.text().len();
    let message = &json_lines(&captured)[0];
    // The frame's metrics line, as `record_fanout` prints it in Lambda, for the fan-out the line reports.
    let count = |field: &str| usize::try_from(message[field].as_u64().unwrap_or(0)).expect("a count");
    let report = FanoutReport {
        recipients: count("recipients"),
        delivered: count("delivered"),
        duration: std::time::Duration::from_micros(4_321),
        ..FanoutReport::default()
    };
    let metrics = fanout::emf_line(&report, "BookingChat", "prod", 1_795_325_400_123);
    let metrics_bytes = metrics.len() + 1;
    let metrics_line: Value = serde_json::from_str(&metrics).expect("json");
    assert_eq!(metrics_line["FanoutDelivered"], report.delivered, "{metrics}");
    assert!(metrics_line.get("FanoutFailed").is_none(), "a count of 0 is left out: {metrics}");
    // Lambda's JSON log format (Terraform's lambda_system_log_level = "WARN", prod) passes a line that is
    // already JSON through as written, and writes none of its INFO lines (START, END, REPORT).
    let platform_after = 0;
    let before = BEFORE_LINE_BYTES + BEFORE_METRICS_BYTES + platform_text_bytes();
    let after = line_bytes + metrics_bytes + platform_after;
    eprintln!(
        "proxy, one message: before {before} bytes (line {BEFORE_LINE_BYTES}, metrics {BEFORE_METRICS_BYTES}, \
         Lambda's {}), after {after} (line {line_bytes}, metrics {metrics_bytes}, Lambda's {platform_after})",
        platform_text_bytes()
    );
    assert!(after * 2 <= before, "{after} bytes a message is more than half of {before}");
    assert!(line_bytes * 4 <= BEFORE_LINE_BYTES * 3, "the line itself is a quarter shorter: {line_bytes}");
}

#[tokio::test]
async fn sampling_keeps_every_warning_and_its_events_line_and_one_in_n_of_the_rest() {
    let captured = Captured::default();
    let _guard = install(&captured, Sampler::seeded(10, 27));
    // Every fifth frame's backend call fails: an error line, then the frame's line.
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let backend = FakeBackend {
        on_message: Box::new(move |booking_id, request| {
            if calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 5 == 4 {
                return Err(BackendError::Unavailable("down".into()));
            }
            (FakeBackend::default().on_message)(booking_id, request)
        }),
        ..FakeBackend::default()
    };
    let proxy = proxy(backend);
    proxy.handle(accepted(fixture("connect_query_token", "secret-token"))).await;
    for _ in 0..1_000 {
        proxy.handle(message_event("Vx2pYdWsliACFtw=", MESSAGE)).await;
    }

    let lines = json_lines(&captured);
    let errors = lines.iter().filter(|l| l["level"] == "ERROR").count();
    assert_eq!(errors, 200, "every error is kept");
    for error in lines.iter().filter(|l| l["level"] == "ERROR") {
        assert_eq!(error["route"], "$default", "an error carries its event's context: {error}");
        assert_eq!(error["user_id"], "alice");
        assert_eq!(error["action"], "send_message");
    }
    let handled: Vec<&Value> = lines.iter().filter(|l| l["msg"] == "handled").collect();
    let failed = handled.iter().filter(|l| l["outcome"] == "refused:BACKEND_UNAVAILABLE").count();
    assert_eq!(failed, 200, "the line of an event that logged an error is kept");
    let routine = handled.len() - failed;
    // 801 healthy events (the connect among them) at one in 10: about 80.
    assert!((40..=130).contains(&routine), "{routine} routine lines kept of 801");
}

#[tokio::test]
async fn without_sampling_every_line_is_kept() {
    let captured = Captured::default();
    let _guard = install(&captured, Sampler::all());
    let proxy = proxy(FakeBackend::default());
    for _ in 0..50 {
        proxy.handle(message_event("Vx2pYdWsliACFtw=", MESSAGE)).await;
    }
    assert_eq!(captured.lines().len(), 50);
}
