//! The real compiled Lambda binary behind the emulator, through the Lambda Invoke API that
//! `cargo lambda watch --only-lambda-apis` serves: the binary's own startup (configuration from the
//! environment, AWS SDK clients, DynamoDB at `AWS_ENDPOINT_URL`) and the Management API over HTTP.
//! cargo-lambda comes from the project's `.tools/` (`make test` and `make package` install it).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use apigw_ws_emulator::config::AuthorizerConfig;
use apigw_ws_emulator::connections::Connections;
use apigw_ws_emulator::integration::InvokeUrl;
use apigw_ws_emulator::{Emulator, EmulatorConfig};
use chat_backend::Application;
use chat_connections::ConnectionStore;
use chat_connections::store::DynamoDbConnectionStore;
use chat_connections::table::create_if_missing as ensure_connections_table;
use local_services::moto::Moto;
use local_services::{free_port, wait_for_port, watchdog};
use serde_json::json;
use support::{next_of_type, send};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

/// A child process killed when dropped, and by a watchdog if the test process dies first.
struct Process(Child);

impl Process {
    fn spawn(mut command: Command, what: &str) -> Self {
        let child =
            command.stdin(Stdio::null()).spawn().unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        watchdog::after_exit(&format!("kill {} 2>/dev/null", child.id())).expect("watchdog");
        Self(child)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The host build of the Lambda's binary (the same code `make package` zips as `bootstrap`).
fn build_lambda_binary() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "chat-proxy", "--bin", "chat-proxy"])
        .current_dir(workspace_root())
        .status()
        .expect("cargo build");
    assert!(status.success(), "building chat-proxy failed");
    // target/debug/deps/bootstrap-<hash> → target/debug/chat-proxy
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(Path::parent).expect("target dir").join("chat-proxy")
}

/// The compiled Lambda behind the emulator: `instances` copies of the binary polling one
/// `cargo lambda watch` Runtime API, as Lambda runs several execution environments of a function at once.
struct CompiledStack {
    ws_url: String,
    store: DynamoDbConnectionStore,
    _watch: Process,
    _functions: Vec<Process>,
}

async fn start_compiled(instances: usize, table: &str, aws_timeout_ms: u64) -> CompiledStack {
    let cargo_lambda = workspace_root().join(".tools/venv/bin/cargo-lambda");
    assert!(
        cargo_lambda.exists(),
        "{} is missing: `make test` (or `make package`) installs cargo-lambda into .tools/",
        cargo_lambda.display()
    );
    let lambda_binary = build_lambda_binary();

    // DynamoDB on moto, and the real backend.
    let moto = Moto::shared();
    ensure_connections_table(&support::dynamodb(), table).await.expect("table");
    let dir = tempfile::tempdir().expect("temp dir");
    let backend = Application::build(&support::backend_settings(dir.path())).await.expect("backend");
    let backend_url = format!("http://{}", backend.local_addr());
    tokio::spawn(async move {
        let _dir = dir;
        backend.run_until(std::future::pending()).await
    });

    // The emulator, invoking through the Invoke API.
    let runtime_port = free_port();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let emulator_addr = listener.local_addr().expect("addr");
    let invoke =
        InvokeUrl::new(format!("http://127.0.0.1:{runtime_port}/2015-03-31/functions/_/invocations"));
    // Lambda runs up to `instances` invocations at once here; a few more wait in cargo lambda's queue, so
    // that each invocation's 29 s are spent on its own work, not behind others.
    let mut config = EmulatorConfig::default();
    config.limits.max_concurrent_invocations = 2 * instances;
    config.authorizer = Some(AuthorizerConfig::default());
    let emulator = Arc::new(Emulator::new(config, Arc::new(Connections::default()), Arc::new(invoke)));
    tokio::spawn(emulator.serve(listener, std::future::pending()));

    // cargo lambda: the Runtime API and the Invoke API, without building anything.
    let mut watch = Command::new(&cargo_lambda);
    watch
        .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &runtime_port.to_string()])
        .current_dir(workspace_root())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let watch = Process::spawn(watch, "cargo lambda watch");
    assert!(wait_for_port(runtime_port, Duration::from_secs(30)), "cargo lambda watch did not listen");

    // The function itself, configured as Terraform configures it, pointed at the local parts.
    let functions = (0..instances)
        .map(|_| {
            let mut function = Command::new(&lambda_binary);
            function
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{runtime_port}/.rt"))
                .env("AWS_LAMBDA_FUNCTION_NAME", "_")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .env("AWS_ENDPOINT_URL", moto.endpoint())
                .env("BACKEND_URL", &backend_url)
                .env("CONNECTIONS_TABLE", table)
                .env("AWS_TIMEOUT_MS", aws_timeout_ms.to_string())
                .env("PROXY_SECRET", support::PROXY_SECRET)
                .env("MANAGEMENT_ENDPOINT", format!("http://{emulator_addr}/local"))
                .env("RUST_LOG", std::env::var("FUNCTION_LOG").unwrap_or_else(|_| "warn".into()));
            Process::spawn(function, "the Lambda binary")
        })
        .collect();
    CompiledStack {
        ws_url: format!("ws://{emulator_addr}/local"),
        store: DynamoDbConnectionStore::new(support::dynamodb(), table),
        _watch: watch,
        _functions: functions,
    }
}

impl CompiledStack {
    async fn connect(&self, user: &str) -> support::Client {
        let mut request = format!("{}?booking_id=1", self.ws_url).into_client_request().expect("request");
        let offer = format!("chat.v1, bearer.{}", support::token(user));
        request.headers_mut().insert("sec-websocket-protocol", offer.parse().expect("header"));
        let (client, response) =
            tokio_tungstenite::connect_async(request).await.expect("handshake through the binary");
        assert_eq!(response.headers()["sec-websocket-protocol"], "chat.v1");
        client
    }
}

#[tokio::test]
async fn the_compiled_lambda_behind_the_emulator_through_the_invoke_api_broadcasts() {
    let stack = start_compiled(1, "bootstrap-connections", 3_000).await;
    let mut alice = stack.connect("alice").await;
    let mut bob = stack.connect("bob").await;
    send(
        &mut alice,
        json!({"action": "send_message", "data": {"body": "via bootstrap", "client_message_id": "b-1"}}),
    )
    .await;
    let own = next_of_type(&mut alice, "message").await;
    let seen = next_of_type(&mut bob, "message").await;
    assert_eq!(own["message"]["body"], "via bootstrap");
    assert_eq!(own["message"], seen["message"]);
}

#[tokio::test]
async fn a_close_storm_behind_the_compiled_lambda_removes_every_record() {
    let clients: usize = std::env::var("STORM_CLIENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(200);
    let instances: usize = std::env::var("STORM_INSTANCES").ok().and_then(|n| n.parse().ok()).unwrap_or(4);
    // moto answers one call at a time, each slower as the table grows: hundreds of calls at once take it
    // seconds per call, where DynamoDB takes milliseconds. What is tested here is delivery, so the
    // function's AWS budget is raised to what moto needs.
    let stack = start_compiled(instances, "storm-connections", 14_000).await;
    let mut sockets = Vec::new();
    let started = std::time::Instant::now();
    for n in 0..clients {
        sockets.push(stack.connect(if n % 2 == 0 { "alice" } else { "bob" }).await);
    }
    eprintln!("{clients} connected in {:?}", started.elapsed());
    assert_eq!(stack.store.list(1).await.expect("list").len(), clients);
    let closing = std::time::Instant::now();
    futures_util::future::join_all(sockets.iter_mut().map(|socket| socket.close(None))).await;
    drop(sockets);
    let mut left = clients;
    for _ in 0..600 {
        left = stack.store.list(1).await.expect("list").len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("{} of {clients} records left {:?} after the close storm", left, closing.elapsed());
    assert_eq!(left, 0, "every $disconnect was delivered and removed its record");
}
