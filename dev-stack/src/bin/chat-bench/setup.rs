//! Starting what the benchmarks measure: the backend on SQLite, DynamoDB on moto, the stack with the
//! Lambda in-process, and the compiled function behind a Lambda Runtime API.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use apigw_ws_emulator::config::AuthorizerConfig;
use apigw_ws_emulator::connections::Connections;
use apigw_ws_emulator::{Emulator, EmulatorConfig};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use chat_backend::{Application, Settings, auth};
use chat_connections::gateway::ManagementApiGateway;
use chat_connections::metering::AwsCalls;
use dev_stack::measure::{Client, connect, receive};
use dev_stack::runtime_api::RuntimeApi;
use dev_stack::{ConnectionRecords, DevStack, ManagementPath, StackOptions};
use futures_util::SinkExt;
use local_services::moto::Moto;
use tokio_tungstenite::tungstenite::Message;

/// The proxy's shared secret between the function and the backend here.
pub(crate) const PROXY_SECRET: &str = "bench-proxy-secret";

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The backend's settings: SQLite and the events' file in `dir`, the demo bookings (1: alice and bob), no rate limit in the way.
pub(crate) fn backend_settings(dir: &Path) -> anyhow::Result<Settings> {
    let env: HashMap<&str, String> = HashMap::from([
        ("APP_ENV", "local".to_owned()),
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", format!("sqlite://{}/bench.db", dir.display())),
        // As make dev does, in the run's own folder.
        ("EVENTS_FILE", format!("{}/events.jsonl", dir.display())),
        ("PROXY_SECRET", PROXY_SECRET.to_owned()),
        ("RATE_LIMIT_PER_MINUTE", "1000000".to_owned()),
        ("RATE_LIMIT_BURST", "1000000".to_owned()),
    ]);
    Ok(Settings::from_lookup(|k| env.get(k).cloned())?)
}

/// Alice's and Bob's tokens for the backend of `settings`.
pub(crate) fn tokens(settings: &Settings) -> anyhow::Result<[String; 2]> {
    let hour = Duration::from_secs(3600);
    Ok([auth::mint_token(&settings.jwt, "alice", hour)?, auth::mint_token(&settings.jwt, "bob", hour)?])
}

/// The AWS SDK's configuration for moto (started on first use, stopped when the process exits).
pub(crate) fn moto_sdk() -> SdkConfig {
    SdkConfig::builder()
        .http_client(chat_settings::aws::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(Moto::shared().endpoint())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "bench",
        )))
        .timeout_config(chat_settings::aws::timeouts(Duration::from_secs(10)))
        .build()
}

/// A fresh connections table on moto.
pub(crate) async fn fresh_table(sdk: &SdkConfig) -> anyhow::Result<String> {
    let table = format!("bench-{}-{}", std::process::id(), fastrand::u32(..));
    chat_connections::table::create_if_missing(&aws_sdk_dynamodb::Client::new(sdk), &table)
        .await
        .map_err(|e| anyhow::anyhow!("creating {table} on moto: {e}"))?;
    Ok(table)
}

/// Where connection records live and how frames reach connections, for a stack with the Lambda
/// in-process.
pub(crate) enum Adapters {
    /// Records in memory, frames straight into the emulator (`make dev`).
    InMemory,
    /// Records in a table on moto and frames over the Management API with the AWS SDK, both counted.
    Aws { calls: AwsCalls, table: String },
}

/// The stack with the Lambda in-process.
pub(crate) async fn in_process(adapters: &Adapters, dir: &Path) -> anyhow::Result<DevStack> {
    let (records, management) = match adapters {
        Adapters::InMemory => (ConnectionRecords::InMemory, ManagementPath::InProcess),
        Adapters::Aws { calls, table } => {
            let sdk = moto_sdk();
            let gateway = ManagementApiGateway::new(sdk.clone()).counting(calls);
            (
                ConnectionRecords::DynamoDb { client: calls.dynamodb_client(&sdk), table: table.clone() },
                ManagementPath::Http(Arc::new(gateway)),
            )
        }
    };
    Ok(DevStack::start(StackOptions {
        management,
        backend: backend_settings(dir)?,
        emulator_addr: "127.0.0.1:0".parse()?,
        emulator: EmulatorConfig::default(),
        records,
        max_frame_bytes: 32 * 1024,
        backend_timeout: Duration::from_secs(10),
    })
    .await?)
}

/// A child process killed when dropped.
pub(crate) struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How the compiled function is started: by itself, as Lambda starts it, or under a tool (valgrind).
#[derive(Debug, Default)]
pub(crate) struct Launcher {
    /// The tool and its arguments, before the binary (empty: the binary itself).
    pub(crate) tool: Vec<String>,
    /// Variables added to the function's environment (a tool slows the function down: longer timeouts).
    pub(crate) env: Vec<(&'static str, String)>,
}

/// The compiled function as Lambda starts it: the Runtime API's address, the function's identity, and
/// the configuration Terraform gives it, pointed at local parts.
pub(crate) fn spawn_function(
    launcher: &Launcher,
    binary: &Path,
    runtime: &RuntimeApi,
    backend_url: &str,
    table: &str,
    management_endpoint: &str,
) -> anyhow::Result<(Process, Instant)> {
    let mut command = match launcher.tool.split_first() {
        Some((tool, args)) => {
            let mut command = Command::new(tool);
            command.args(args).arg(binary);
            command
        }
        None => Command::new(binary),
    };
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "chat-proxy")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", Moto::shared().endpoint())
        .env("BACKEND_URL", backend_url)
        .env("CONNECTIONS_TABLE", table)
        .env("PROXY_SECRET", PROXY_SECRET)
        .env("MANAGEMENT_ENDPOINT", management_endpoint)
        .env("RUST_LOG", "warn")
        .envs(launcher.env.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let child = command.spawn().with_context(|| {
        format!(
            "cannot start {} (make bench builds it: cargo build --profile deploy-proxy -p chat-proxy)",
            binary.display()
        )
    })?;
    Ok((Process(child), started))
}

/// The backend alone, serving until the process ends.
pub(crate) async fn backend(dir: &Path) -> anyhow::Result<(String, Settings)> {
    let settings = backend_settings(dir)?;
    let application = Application::build(&settings).await?;
    let url = format!("http://{}", application.local_addr());
    tokio::spawn(application.run_until(std::future::pending()));
    Ok((url, settings))
}

/// The compiled function behind the emulator (through a Runtime API, one invocation at a time as one
/// Lambda execution environment runs them), records on moto, frames over the Management API.
pub(crate) struct CompiledStack {
    pub(crate) ws_url: String,
    pub(crate) tokens: [String; 2],
    pub(crate) function: Process,
    pub(crate) runtime: Arc<RuntimeApi>,
}

pub(crate) async fn compiled(
    launcher: &Launcher,
    binary: &Path,
    dir: &Path,
) -> anyhow::Result<CompiledStack> {
    let (backend_url, settings) = backend(dir).await?;
    let table = fresh_table(&moto_sdk()).await?;
    let runtime = Arc::new(RuntimeApi::start().await?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config =
        EmulatorConfig { authorizer: Some(AuthorizerConfig::default()), ..EmulatorConfig::default() };
    let emulator = Arc::new(Emulator::new(config, Arc::new(Connections::default()), runtime.clone()));
    tokio::spawn(emulator.serve(listener, std::future::pending()));
    let (function, _) =
        spawn_function(launcher, binary, &runtime, &backend_url, &table, &format!("http://{addr}/local"))?;
    Ok(CompiledStack { ws_url: format!("ws://{addr}/local"), tokens: tokens(&settings)?, function, runtime })
}

/// `count` connections to booking 1 at `ws_url`, alternating Alice and Bob.
pub(crate) async fn clients(ws_url: &str, tokens: &[String; 2], count: usize) -> anyhow::Result<Vec<Client>> {
    let url = format!("{ws_url}?booking_id=1");
    let mut clients = Vec::with_capacity(count);
    for n in 0..count {
        clients.push(connect(&url, &tokens[n % 2]).await?);
    }
    Ok(clients)
}

/// Sends `messages` messages from the first client, one after another, each timed from send until every
/// client has it. Returns the sorted latencies and the messages per second.
pub(crate) async fn broadcast(
    clients: &mut [Client],
    messages: usize,
    tag: &str,
) -> anyhow::Result<(Vec<Duration>, f64)> {
    let mut latencies = Vec::with_capacity(messages);
    let started = Instant::now();
    for n in 0..messages {
        let body = format!("bench-{tag}-{n}");
        let frame =
            serde_json::json!({"action": "send_message", "data": {"body": body, "client_message_id": body}});
        let sent = Instant::now();
        clients.first_mut().context("no client")?.send(Message::Text(frame.to_string().into())).await?;
        for result in futures_util::future::join_all(clients.iter_mut().map(|c| receive(c, &body))).await {
            result?;
        }
        latencies.push(sent.elapsed());
    }
    let rate = messages as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    Ok((latencies, rate))
}

/// The `p` quantile of sorted durations, in milliseconds.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}
