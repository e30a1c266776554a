//! What the benchmarks (`chat-bench`, `chat-memory`) share: a WebSocket client of the stack, a
//! process's memory and CPU time as Linux reports them in `/proc`, and what a message costs in DynamoDB
//! request units ([`message_units`], which `dev-stack/tests/aws_calls.rs` pins and `make bench` prints).

use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A client's WebSocket.
pub type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a chat connection at `url` (with its `booking_id` query) presenting `token`.
///
/// # Errors
/// When the handshake fails or is refused.
pub async fn connect(url: &str, token: &str) -> anyhow::Result<Client> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("sec-websocket-protocol", format!("chat.v1, bearer.{token}").parse()?);
    Ok(tokio_tungstenite::connect_async(request).await.with_context(|| format!("handshake with {url}"))?.0)
}

/// Waits until `client` receives a text frame containing `needle`.
///
/// # Errors
/// When nothing matching arrives within 10 s, or the connection closes.
pub async fn receive(client: &mut Client, needle: &str) -> anyhow::Result<()> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), client.next())
            .await
            .with_context(|| format!("no frame with {needle} within 10 s"))?
            .context("closed")??;
        if let Message::Text(text) = message
            && text.contains(needle)
        {
            return Ok(());
        }
    }
}

/// A field of `/proc/{pid}/status` in KiB (`VmRSS`, `VmHWM`, ...); `pid` 0 means this process.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let path = if pid == 0 { "/proc/self/status".to_owned() } else { format!("/proc/{pid}/status") };
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.strip_prefix(field).is_some_and(|rest| rest.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A field of `/proc/{pid}/status` in MiB.
pub fn status_mib(pid: u32, field: &str) -> Option<f64> {
    status_kib(pid, field).map(|kib| kib as f64 / 1024.0)
}

/// CPU time (user + system) the process `pid` has used so far.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields are counted after its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // In USER_HZ: 100 per second on Linux for x86_64 and arm64.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// The machine: cores and the load averages over 1, 5 and 15 minutes.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into());
    format!("{cores} cores, load average {load}")
}

/// DynamoDB request units by AWS's billing rules ([`chat_connections::billing`]) of a message with a
/// `client_message_id`, one without, and a `read` that moves nothing, each of a 2-member booking whose
/// members have both read (the usual state), through the backend over the real DynamoDB adapter.
#[derive(Debug, Clone, Copy)]
pub struct MessageUnits {
    /// A `send_message` with a `client_message_id`.
    pub keyed: chat_connections::billing::Bill,
    /// A `send_message` without one.
    pub plain: chat_connections::billing::Bill,
    /// A `read` of a message already read.
    pub receipt: chat_connections::billing::Bill,
}

/// Measures [`MessageUnits`]: a backend with `settings` on a fresh table of the DynamoDB `sdk` points at
/// (moto), its store's client metered, frames sent as the Lambda proxy sends them.
///
/// # Errors
/// When the table, the backend or a frame fails.
pub async fn message_units(
    sdk: &aws_config::SdkConfig,
    settings: &chat_backend::Settings,
) -> anyhow::Result<MessageUnits> {
    use secrecy::ExposeSecret;
    let calls = chat_connections::metering::AwsCalls::default();
    let table = format!("units-{}", fastrand::u64(..));
    let store = chat_backend::store::dynamodb::DynamoDbStore::new(calls.dynamodb_client(sdk), table, true);
    let store: chat_backend::store::Store = std::sync::Arc::new(store);
    store.prepare().await?;
    chat_backend::seed::demo_bookings(store.as_ref()).await?;
    let events = std::sync::Arc::new(chat_backend::events::NoEvents);
    let state = chat_backend::http::AppState::new(settings, store, None, events, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/api/chat/ws/1/message", listener.local_addr()?);
    let router = chat_backend::http::router(state, chat_backend::http::Hosting::Server);
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let secret = settings.proxy_secret.expose_secret().to_owned();
    let frame = |user: &'static str, frame: serde_json::Value| {
        let request = reqwest::Client::new().post(&base).header("x-proxy-secret", &secret).json(
            &serde_json::json!({"connection_id": format!("conn-{user}"), "user_id": user, "message": frame}),
        );
        async move {
            let answer: serde_json::Value = request.send().await?.json().await?;
            anyhow::ensure!(answer["error"].is_null(), "{answer}");
            anyhow::Ok(answer)
        }
    };
    let raw = aws_sdk_dynamodb::Client::new(sdk);
    let priced = |user, sent| {
        let (calls, raw, frame) = (&calls, &raw, &frame);
        async move {
            calls.reset();
            frame(user, sent).await?;
            anyhow::Ok(calls.bill(raw).await?)
        }
    };
    let first =
        frame("alice", serde_json::json!({"action": "send_message", "data": {"body": "warm-up"}})).await?;
    let read = serde_json::json!({"action": "read", "data": {"message_id": first["message"]["id"]}});
    frame("alice", read.clone()).await?;
    frame("bob", read.clone()).await?;
    let keyed = serde_json::json!({"action": "send_message", "data": {"body": "See you at 5", "client_message_id": "c1"}});
    let plain = serde_json::json!({"action": "send_message", "data": {"body": "See you at 5"}});
    let units = MessageUnits {
        keyed: priced("alice", keyed).await?,
        plain: priced("alice", plain).await?,
        receipt: priced("bob", read).await?,
    };
    server.abort();
    Ok(units)
}
