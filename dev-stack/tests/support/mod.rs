//! Starting the stack for end-to-end tests: real backend (SQLite), emulator, Lambda in-process, and
//! connection records in DynamoDB on `moto_server`.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::time::Duration;

use apigw_ws_emulator::EmulatorConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use chat_backend::Settings;
use chat_connections::table::create_if_missing as ensure_connections_table;
use dev_stack::{ConnectionRecords, DevStack, ManagementPath, StackOptions};
use futures_util::{SinkExt, StreamExt};
use local_services::moto::Moto;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

pub const JWT_SECRET: &str = "e2e-jwt-secret";

/// The host build of one of the workspace's binaries (the Lambdas' code `make package` zips as
/// `bootstrap`), built as the test run built everything: `--workspace --all-targets`, so its dependencies
/// have the features the tests' have and nothing is compiled a second time (a `-p` build resolves features
/// per package and rebuilt most of the tree: five minutes of the test run). Under `make test`, which builds
/// every target first and says so (`WORKSPACE_BUILT`), nothing is built: a cargo build run from a test
/// process there compiled much of the workspace again, minutes each time.
pub fn workspace_binary(bin: &str) -> std::path::PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf();
    BUILT.call_once(|| {
        if std::env::var_os("WORKSPACE_BUILT").is_some() {
            return;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "--workspace", "--all-targets"])
            .current_dir(&root)
            .status()
            .expect("cargo build");
        assert!(status.success(), "building the workspace's binaries failed");
    });
    // target/debug/deps/<test>-<hash> → target/debug/<bin>
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(std::path::Path::parent).expect("target dir").join(bin)
}
pub const PROXY_SECRET: &str = "e2e-proxy-secret";

pub struct Stack {
    pub stack: DevStack,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub table: String,
    _dir: tempfile::TempDir,
}

/// The tests' own DynamoDB client (creating tables, reading records): patient, since moto on a machine
/// busy with other suites can take seconds to create a table; the stacks under test keep their budgets.
pub fn dynamodb() -> aws_sdk_dynamodb::Client {
    dynamodb_at(&Moto::shared().endpoint(), Duration::from_secs(20))
}

/// A DynamoDB client of `endpoint` whose calls give up after `timeout`, as the Lambda's do.
pub fn dynamodb_at(endpoint: &str, timeout: Duration) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .http_client(chat_settings::aws::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .timeout_config(chat_settings::aws::timeouts(timeout))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

pub fn backend_settings(dir: &std::path::Path) -> Settings {
    backend_settings_with(dir, &[])
}

/// The test backend's settings, with some variables overridden.
pub fn backend_settings_with(dir: &std::path::Path, overrides: &[(&str, &str)]) -> Settings {
    let mut env: HashMap<&str, String> = HashMap::from([
        ("APP_ENV", "test".to_owned()),
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", format!("sqlite://{}/chat.db", dir.display())),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
        ("PROXY_SECRET", PROXY_SECRET.to_owned()),
        ("SEED_DEMO_DATA", "true".to_owned()),
        ("RATE_LIMIT_BURST", "1000".to_owned()),
        ("SERVICE_TOKEN", SERVICE_TOKEN.to_owned()),
        ("NOTIFY_LINK_SECRET", "e2e-unsubscribe-link-key".to_owned()),
    ]);
    for (key, value) in overrides {
        env.insert(key, (*value).to_owned());
    }
    Settings::from_lookup(|k| env.get(k).cloned()).expect("settings")
}

/// The stack with records in a fresh DynamoDB table on moto.
pub async fn start() -> Stack {
    start_on(&Moto::shared().endpoint(), chat_settings::aws::DEFAULT_TIMEOUT).await
}

/// The stack with records in a fresh table at the DynamoDB `endpoint`, whose calls give up after `timeout`.
pub async fn start_on(endpoint: &str, timeout: Duration) -> Stack {
    start_dynamodb(endpoint, timeout, &[], EmulatorConfig::default()).await
}

/// The stack with records in a fresh table on moto, some backend variables overridden and its own
/// emulated API (for example a slower upgrade).
pub async fn start_dynamodb_with(overrides: &[(&str, &str)], emulator: EmulatorConfig) -> Stack {
    start_dynamodb(&Moto::shared().endpoint(), chat_settings::aws::DEFAULT_TIMEOUT, overrides, emulator).await
}

async fn start_dynamodb(
    endpoint: &str,
    timeout: Duration,
    overrides: &[(&str, &str)],
    emulator: EmulatorConfig,
) -> Stack {
    let dir = tempfile::tempdir().expect("temp dir");
    let table = format!("e2e-connections-{}", fastrand_suffix());
    // Created with a patient client: a fresh moto takes its time over its first call.
    let patient = dynamodb_at(endpoint, Duration::from_secs(30));
    ensure_connections_table(&patient, &table).await.expect("table on moto");
    let dynamodb = dynamodb_at(endpoint, timeout);
    let records = ConnectionRecords::DynamoDb { client: dynamodb.clone(), table: table.clone() };
    let stack = start_stack(dir.path(), records, overrides, emulator).await;
    Stack { stack, dynamodb, table, _dir: dir }
}

/// The stack as `make dev` runs it: records in memory. Returns the data directory with it.
pub async fn start_in_memory(overrides: &[(&str, &str)]) -> (DevStack, tempfile::TempDir) {
    start_in_memory_with(overrides, EmulatorConfig::default()).await
}

/// [`start_in_memory`] with its own emulated API (for example a slower upgrade).
pub async fn start_in_memory_with(
    overrides: &[(&str, &str)],
    emulator: EmulatorConfig,
) -> (DevStack, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let stack = start_stack(dir.path(), ConnectionRecords::InMemory, overrides, emulator).await;
    (stack, dir)
}

async fn start_stack(
    dir: &std::path::Path,
    records: ConnectionRecords,
    overrides: &[(&str, &str)],
    emulator: EmulatorConfig,
) -> DevStack {
    start_stack_with(backend_settings_with(dir, overrides), records, emulator).await
}

/// The stack on these backend settings.
pub async fn start_stack_with(
    backend: Settings,
    records: ConnectionRecords,
    emulator: EmulatorConfig,
) -> DevStack {
    DevStack::start(StackOptions {
        management: ManagementPath::InProcess,
        backend,
        emulator_addr: "127.0.0.1:0".parse().expect("addr"),
        emulator,
        records,
        max_frame_bytes: 32 * 1024,
        backend_timeout: Duration::from_secs(5),
    })
    .await
    .expect("stack starts")
}

pub fn fastrand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos() as u64
        % 1_000_000_007
}

pub fn token(user: &str) -> String {
    chat_wire::token::mint_local(JWT_SECRET, user, Duration::from_secs(3600)).expect("mint")
}

pub type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects as a browser does (subprotocol token), to `?booking_id=` plus `extra` query.
pub async fn connect(stack: &DevStack, booking: &str, token: Option<&str>) -> Result<Client, WsError> {
    let mut request = format!("{}?booking_id={booking}", stack.ws_url).into_client_request()?;
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("sec-websocket-protocol", format!("chat.v1, bearer.{token}").parse().expect("header"));
    }
    tokio_tungstenite::connect_async(request).await.map(|(client, _)| client)
}

pub async fn connect_as(stack: &DevStack, booking: i64, user: &str) -> Client {
    connect(stack, &booking.to_string(), Some(&token(user))).await.expect("connects")
}

/// The service API's credential in the test backend.
pub const SERVICE_TOKEN: &str = "e2e-service-token";

/// Connects a user connection of `user` (`?type=user`, no booking), as a browser does.
pub async fn connect_user(stack: &DevStack, user: &str) -> Client {
    let mut request = format!("{}?type=user", stack.ws_url).into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("chat.v1, bearer.{}", token(user)).parse().expect("header"),
    );
    tokio_tungstenite::connect_async(request).await.map(|(client, _)| client).expect("a user connection")
}

/// Creates (or updates) booking `id` through the marketplace's service API.
pub async fn put_booking(stack: &DevStack, id: i64, owner: &str, renter: &str) {
    let response = reqwest::Client::new()
        .put(format!("{}/api/service/bookings/{id}", stack.backend_url))
        .bearer_auth(SERVICE_TOKEN)
        .json(&serde_json::json!({"owner_id": owner, "renter_id": renter, "title": "Tent", "status": "confirmed"}))
        .send()
        .await
        .expect("service API");
    assert!(response.status().is_success(), "booking {id}: {}", response.status());
}

pub async fn send(client: &mut Client, frame: Value) {
    client.send(Message::Text(frame.to_string().into())).await.expect("send");
}

/// The HTTP head of the emulator's answer to a handshake offering `protocols`, read off the socket: what a
/// client library would hide when it refuses the answer.
pub async fn raw_handshake(stack: &DevStack, query: &str, protocols: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = stack.ws_url.strip_prefix("ws://").expect("ws url");
    let (host, path) = url.split_once('/').expect("host/path");
    let mut socket = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!(
        "GET /{path}{query} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {protocols}\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut byte))
            .await
            .expect("answer")
            .expect("read");
        if n == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// The next JSON text frame matching `wanted`, within 5 s.
pub async fn next_matching(client: &mut Client, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, client.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let frame: Value = serde_json::from_str(&text).expect("json");
                if wanted(&frame) {
                    return frame;
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("expected a frame, got {other:?}"),
        }
    }
}

/// Every frame `client` receives within `ms`.
pub async fn frames_within(client: &mut Client, ms: u64) -> Vec<Value> {
    let mut frames = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, client.next()).await {
        if let Message::Text(text) = message {
            frames.push(serde_json::from_str(&text).expect("json"));
        }
    }
    frames
}

pub async fn next_of_type(client: &mut Client, kind: &str) -> Value {
    next_matching(client, |f| f["type"] == kind).await
}

pub fn handshake_status(result: Result<Client, WsError>) -> u16 {
    match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected the handshake to be refused"),
    }
}

pub async fn eventually<F: std::future::Future<Output = bool>>(what: &str, check: impl Fn() -> F) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("timed out waiting for {what}");
}
