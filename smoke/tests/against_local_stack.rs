//! The `chat-smoke` binary against a local stack started on port 0: it passes against a healthy stack,
//! fails (exit 1) when its clients are refused, and says why in text or JSON.

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use apigw_ws_emulator::EmulatorConfig;
use chat_backend::Settings;
use dev_stack::{ConnectionRecords, DevStack, ManagementPath, StackOptions};
use serde_json::Value;

const JWT_SECRET: &str = "smoke-jwt-secret";

async fn stack(dir: &std::path::Path) -> DevStack {
    let env: HashMap<&str, String> = HashMap::from([
        ("APP_ENV", "test".to_owned()),
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", format!("sqlite://{}/chat.db", dir.display())),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
        ("PROXY_SECRET", "smoke-proxy-secret".to_owned()),
        ("SEED_DEMO_DATA", "true".to_owned()),
    ]);
    DevStack::start(StackOptions {
        management: ManagementPath::InProcess,
        backend: Settings::from_lookup(|k| env.get(k).cloned()).expect("settings"),
        emulator_addr: "127.0.0.1:0".parse().expect("addr"),
        emulator: EmulatorConfig::default(),
        records: ConnectionRecords::InMemory,
        max_frame_bytes: 32 * 1024,
        backend_timeout: Duration::from_secs(5),
    })
    .await
    .expect("stack")
}

fn smoke(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chat-smoke")).args(args).env_clear().output().expect("run chat-smoke")
}

#[tokio::test]
async fn the_smoke_test_passes_against_a_healthy_stack() {
    let dir = tempfile::tempdir().expect("dir");
    let stack = stack(dir.path()).await;
    let url = stack.ws_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        smoke(&["--url", &url, "--booking", "1", "--jwt-secret", JWT_SECRET, "--json"])
    })
    .await
    .expect("join");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["passed"], true);
    let checks = report["checks"].as_array().expect("checks");
    assert!(checks.len() >= 8, "{report}");
    assert!(checks.iter().all(|c| c["passed"] == true));
    assert!(checks.iter().any(|c| c["name"].as_str().is_some_and(|n| n.starts_with("session says"))));
    assert!(
        checks.iter().any(|c| c["name"].as_str().is_some_and(|n| n.contains("other client"))
            && c["millis"].as_f64().is_some())
    );
}

#[tokio::test]
async fn the_smoke_test_fails_and_says_why_when_its_clients_are_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let stack = stack(dir.path()).await;
    let url = stack.ws_url.clone();
    // carol is not a member of booking 1.
    let out = tokio::task::spawn_blocking(move || {
        smoke(&["--url", &url, "--booking", "1", "--jwt-secret", JWT_SECRET, "--user-a", "carol"])
    })
    .await
    .expect("join");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL client A connects") && text.contains("403"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("smoke: ") && l.contains("failed")), "{text}");
}

#[tokio::test]
async fn an_unreachable_api_fails_every_check_without_panicking() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let report = chat_smoke::run(&chat_smoke::SmokeOptions {
        url: format!("ws://127.0.0.1:{port}/local"),
        booking_id: 1,
        token_a: "a".into(),
        token_b: "b".into(),
        timeout: Duration::from_secs(2),
    })
    .await;
    assert!(!report.passed);
    assert!(report.checks.iter().all(|c| !c.passed), "{}", report.to_text());
}

#[test]
fn the_smoke_test_refuses_to_run_without_tokens() {
    let out = smoke(&["--url", "ws://127.0.0.1:1/local"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--token-a"));
}
