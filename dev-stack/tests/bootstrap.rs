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

fn build_lambda_binary() -> PathBuf {
    support::workspace_binary("chat-proxy")
}

/// `cargo lambda watch --only-lambda-apis` on a free port: the Runtime API (a function named `f` polls
/// `http://127.0.0.1:{port}/.rt/f`) and the Invoke API (`/2015-03-31/functions/f/invocations`).
fn cargo_lambda_watch() -> (Process, u16) {
    let cargo_lambda = workspace_root().join(".tools/venv/bin/cargo-lambda");
    assert!(
        cargo_lambda.exists(),
        "{} is missing: `make test` (or `make package`) installs cargo-lambda into .tools/",
        cargo_lambda.display()
    );
    let port = free_port();
    let mut watch = Command::new(&cargo_lambda);
    watch
        .args([
            "lambda",
            "watch",
            "--only-lambda-apis",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port.to_string(),
        ])
        .current_dir(workspace_root())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let watch = Process::spawn(watch, "cargo lambda watch");
    assert!(wait_for_port(port, Duration::from_secs(30)), "cargo lambda watch did not listen");
    (watch, port)
}

/// A compiled function as Lambda starts it: the Runtime API of `name`, its identity, dummy credentials,
/// and `env` (its configuration, as Terraform gives it).
fn lambda_function(binary: &Path, runtime_api: String, name: &str, env: &[(&str, String)]) -> Process {
    let mut function = Command::new(binary);
    function
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_LOG", std::env::var("FUNCTION_LOG").unwrap_or_else(|_| "warn".into()));
    for (key, value) in env {
        function.env(key, value);
    }
    Process::spawn(function, name)
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
    let lambda_binary = build_lambda_binary();
    let (watch, runtime_port) = cargo_lambda_watch();

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

    // The function itself, configured as Terraform configures it, pointed at the local parts.
    let config = [
        ("AWS_ENDPOINT_URL", moto.endpoint()),
        ("BACKEND_URL", backend_url),
        ("CONNECTIONS_TABLE", table.to_owned()),
        ("AWS_TIMEOUT_MS", aws_timeout_ms.to_string()),
        ("PROXY_SECRET", support::PROXY_SECRET.to_owned()),
        ("MANAGEMENT_ENDPOINT", format!("http://{emulator_addr}/local")),
    ];
    let functions = (0..instances)
        .map(|_| {
            lambda_function(&lambda_binary, format!("http://127.0.0.1:{runtime_port}/.rt"), "_", &config)
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

/// The backend function's answer to an HTTP API request, as API Gateway's HTTP API would pass it on.
async fn http_api(
    invoke: &str,
    method: &str,
    path: &str,
    authorization: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "authorization": authorization},
        "requestContext": {
            "accountId": "123456789012", "apiId": "httpapi", "domainName": "httpapi.example", "domainPrefix": "httpapi",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "", "timeEpoch": 0
        },
        "body": body.to_string(),
        "isBase64Encoded": false
    });
    let answer: serde_json::Value = reqwest::Client::new()
        .post(invoke)
        .json(&event)
        .send()
        .await
        .expect("Invoke API")
        .json()
        .await
        .expect("the function's answer");
    let body = answer["body"]
        .as_str()
        .map_or(serde_json::Value::Null, |b| serde_json::from_str(b).unwrap_or(serde_json::Value::Null));
    json!({"status": answer["statusCode"], "body": body})
}

/// Both Lambdas compiled, as they run in AWS: the emulator invokes the proxy function, the proxy invokes
/// the backend function through the Lambda Invoke API (`BACKEND_FUNCTION`, no URL), the backend stores
/// the chat in DynamoDB on moto and pushes status changes through the Management API. A booking is
/// created through the service API first.
#[tokio::test]
async fn both_lambdas_compiled_a_booking_from_the_service_api_two_clients_and_a_pushed_status() {
    let proxy_binary = build_lambda_binary();
    let backend_binary = support::workspace_binary("chat-backend-lambda");
    let moto = Moto::shared();
    let connections = format!("two-lambdas-connections-{}", fastrand::u32(..));
    // Created with a patient client: moto takes its time over a first table.
    let patient = support::dynamodb_at(&moto.endpoint(), Duration::from_secs(30));
    ensure_connections_table(&patient, &connections).await.expect("table");
    let (_watch, port) = cargo_lambda_watch();
    let invoke =
        |function: &str| format!("http://127.0.0.1:{port}/2015-03-31/functions/{function}/invocations");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let emulator_addr = listener.local_addr().expect("addr");
    let config =
        EmulatorConfig { authorizer: Some(AuthorizerConfig::default()), ..EmulatorConfig::default() };
    let emulator = Arc::new(Emulator::new(
        config,
        Arc::new(Connections::default()),
        Arc::new(InvokeUrl::new(invoke("chat-proxy"))),
    ));
    tokio::spawn(emulator.serve(listener, std::future::pending()));
    let management = format!("http://{emulator_addr}/local");

    let shared = [
        ("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint()),
        ("PROXY_SECRET", support::PROXY_SECRET.to_owned()),
        ("CONNECTIONS_TABLE", connections.clone()),
        ("MANAGEMENT_ENDPOINT", management),
    ];
    let mut backend_env = shared.to_vec();
    backend_env.extend([
        ("APP_ENV", "test".to_owned()),
        ("JWT_SECRET", support::JWT_SECRET.to_owned()),
        ("SERVICE_TOKEN", "service-secret".to_owned()),
        ("CHAT_STORE", "dynamodb".to_owned()),
        ("CHAT_TABLE", format!("two-lambdas-chat-{}", fastrand::u32(..))),
        ("CHAT_TABLE_CREATE", "true".to_owned()),
        ("DYNAMODB_ENDPOINT", moto.endpoint()),
        ("AWS_TIMEOUT_MS", "10000".to_owned()),
    ]);
    let mut proxy_env = shared.to_vec();
    proxy_env.extend([
        ("BACKEND_FUNCTION", "chat-backend-lambda".to_owned()),
        ("AWS_ENDPOINT_URL_LAMBDA", format!("http://127.0.0.1:{port}")),
        ("AWS_TIMEOUT_MS", "10000".to_owned()),
    ]);
    let _backend = lambda_function(
        &backend_binary,
        format!("http://127.0.0.1:{port}/.rt/chat-backend-lambda"),
        "chat-backend-lambda",
        &backend_env,
    );
    let _proxy = lambda_function(
        &proxy_binary,
        format!("http://127.0.0.1:{port}/.rt/chat-proxy"),
        "chat-proxy",
        &proxy_env,
    );
    // The same binary as the retention job's function, as Terraform deploys it: no JWT or proxy secret.
    // `cargo lambda watch` serves only functions named as the workspace's binaries: it takes the name of
    // the backend's server binary, which nothing else here runs.
    let table =
        backend_env.iter().find(|(key, _)| *key == "CHAT_TABLE").map(|(_, t)| t.clone()).expect("table");
    let mut job_env: Vec<(&str, String)> = backend_env
        .iter()
        .filter(|(key, _)| !matches!(*key, "JWT_SECRET" | "PROXY_SECRET"))
        .cloned()
        .collect();
    job_env.extend([("CHAT_JOB", "retention".to_owned()), ("CHAT_RETENTION_DAYS", "30".to_owned())]);
    let _job = lambda_function(
        &backend_binary,
        format!("http://127.0.0.1:{port}/.rt/chat-backend"),
        "chat-backend",
        &job_env,
    );

    // The marketplace creates the booking.
    let created = http_api(
        &invoke("chat-backend-lambda"),
        "PUT",
        "/api/service/bookings/4242",
        "Bearer service-secret",
        json!({"owner_id": "alice", "renter_id": "bob", "title": "Canoe", "status": "confirmed"}),
    )
    .await;
    assert_eq!(created["status"], 201, "{created}");
    let refused = http_api(
        &invoke("chat-backend-lambda"),
        "GET",
        "/api/service/bookings/4242",
        "Bearer wrong",
        json!(null),
    )
    .await;
    assert_eq!(refused["status"], 401, "{refused}");

    // Two clients chat through both functions.
    let connect = |user: &'static str| {
        let url = format!("ws://{emulator_addr}/local?booking_id=4242");
        async move {
            let mut request = url.into_client_request().expect("request");
            let offer = format!("chat.v1, bearer.{}", support::token(user));
            request.headers_mut().insert("sec-websocket-protocol", offer.parse().expect("header"));
            tokio_tungstenite::connect_async(request).await.expect("handshake through both Lambdas").0
        }
    };
    let mut alice = connect("alice").await;
    let mut bob = connect("bob").await;
    send(
        &mut alice,
        json!({"action": "send_message", "data": {"body": "two lambdas", "client_message_id": "t-1"}}),
    )
    .await;
    let own = next_of_type(&mut alice, "message").await;
    assert_eq!(next_of_type(&mut bob, "message").await["message"], own["message"]);
    assert_eq!(own["message"]["id"], 1, "the booking's first message in the DynamoDB store");

    // The marketplace moves the booking on; the backend function pushes it to both connections.
    let moved = http_api(
        &invoke("chat-backend-lambda"),
        "PUT",
        "/api/service/bookings/4242/status",
        "Bearer service-secret",
        json!({"status": "active"}),
    )
    .await;
    assert_eq!(moved["status"], 200, "{moved}");
    for client in [&mut alice, &mut bob] {
        let frame = next_of_type(client, "booking_status").await;
        assert_eq!(
            (frame["status"].as_str(), frame["changed_by"].as_str()),
            (Some("active"), Some("service"))
        );
    }

    // The booking ends; its period is made to have started 31 days ago; the scheduler's invocation of
    // the job's function deletes its chat.
    let ended = http_api(
        &invoke("chat-backend-lambda"),
        "PUT",
        "/api/service/bookings/4242/status",
        "Bearer service-secret",
        json!({"status": "completed"}),
    )
    .await;
    assert_eq!(ended["status"], 200, "{ended}");
    let started = chat_wire::time::now_millis() - 31 * 24 * 3600 * 1000;
    patient
        .update_item()
        .table_name(&table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("BOOKING#4242".into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("BOOKING".into()))
        .update_expression("SET retained_from = :from, gsi1sk = :due")
        .expression_attribute_values(":from", aws_sdk_dynamodb::types::AttributeValue::N(started.to_string()))
        .expression_attribute_values(
            ":due",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("{started:020}#{:020}", 4242)),
        )
        .send()
        .await
        .expect("the booking's period moved back");
    let pass: serde_json::Value = reqwest::Client::new()
        .post(invoke("chat-backend"))
        .json(&json!({"job": "retention"}))
        .send()
        .await
        .expect("Invoke API")
        .json()
        .await
        .expect("the job's answer");
    assert_eq!(
        (pass["complete"].as_bool(), pass["bookings"].as_u64(), pass["messages"].as_u64()),
        (Some(true), Some(1), Some(1)),
        "{pass}"
    );
    let again: serde_json::Value = reqwest::Client::new()
        .post(invoke("chat-backend"))
        .json(&json!({}))
        .send()
        .await
        .expect("Invoke API")
        .json()
        .await
        .expect("answer");
    assert_eq!(again["bookings"], 0, "{again}");
}
