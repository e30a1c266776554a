//! What the benchmarks (`chat-bench`, `chat-memory`) share: a WebSocket client of the stack, and a
//! process's memory and CPU time as Linux reports them in `/proc`.

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
