//! The `chat-backend` binary as a developer runs it: `serve` with the local defaults, `token`, `seed`, and
//! refusing to start outside local without its secrets.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_chat-backend");

fn backend(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("APP_ENV", "local")
        .current_dir(dir);
    cmd
}

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("run chat-backend")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_ready(base: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("backend at {base} not ready within 30 s");
}

#[tokio::test]
async fn local_serve_seeds_the_demo_and_a_cli_token_reads_booking_1_but_not_booking_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut serve = backend(dir.path());
    serve
        .arg("serve")
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let server = Server(serve.spawn().expect("spawn serve"));
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    assert!(dir.path().join(".data/chat.db").exists(), "the default database is a SQLite file under .data/");

    let mut token = backend(dir.path());
    token.args(["token", "--user", "alice"]);
    let out = run(token);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let alice = String::from_utf8(out.stdout).expect("utf-8").trim().to_owned();

    let client = reqwest::Client::new();
    let own = client
        .get(format!("{base}/api/chat/bookings/1/messages"))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("get");
    assert_eq!(own.status(), 200);
    let page: Value = own.json().await.expect("json");
    assert_eq!(page["booking_id"], 1);
    let other = client
        .get(format!("{base}/api/chat/bookings/2/messages"))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("get");
    assert_eq!(other.status(), 403);

    // SIGTERM shuts the server down cleanly.
    let mut server = server;
    let status = Command::new("kill").arg("-TERM").arg(server.0.id().to_string()).status().expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.0.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn outside_local_the_backend_refuses_to_start_and_names_the_missing_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut serve = backend(dir.path());
    serve.env("APP_ENV", "production").arg("serve");
    let out = run(serve);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JWT_SECRET") && stderr.contains("PROXY_SECRET"), "{stderr}");
}

#[test]
fn token_is_refused_outside_local() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut token = backend(dir.path());
    token
        .env("APP_ENV", "staging")
        .env("JWT_SECRET", "s")
        .env("PROXY_SECRET", "p")
        .args(["token", "--user", "alice"]);
    let out = run(token);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("APP_ENV=local"));
}

#[test]
fn seed_is_idempotent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = run({
        let mut c = backend(dir.path());
        c.arg("seed");
        c
    });
    assert_eq!(String::from_utf8_lossy(&first.stdout).trim(), "seeded 2 demo booking(s)");
    let second = run({
        let mut c = backend(dir.path());
        c.arg("seed");
        c
    });
    assert_eq!(String::from_utf8_lossy(&second.stdout).trim(), "seeded 0 demo booking(s)");
}
