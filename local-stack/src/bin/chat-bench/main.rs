//! `chat-bench` (`make bench`): broadcast latency and throughput through the local stack (emulator, the
//! Lambda in-process, the real backend on SQLite, records in memory), for growing numbers of connections
//! in one booking. Prints numbers; asserts nothing. Loopback only: these measure our code, not AWS.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use apigw_ws_emulator::EmulatorConfig;
use chat_backend::{Settings, auth};
use futures_util::{SinkExt, StreamExt};
use local_stack::{ConnectionRecords, LocalStack, ManagementPath, StackOptions};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const MESSAGES: usize = 200;

type Client = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn connect(url: &str, token: &str) -> anyhow::Result<Client> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("sec-websocket-protocol", format!("chat.v1, bearer.{token}").parse()?);
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

/// Waits until `client` sees the message whose body is `body`.
async fn receive(client: &mut Client, body: &str) -> anyhow::Result<()> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), client.next())
            .await
            .context("no frame within 10 s")?
            .context("closed")??;
        if let Message::Text(text) = message
            && text.contains(body)
        {
            return Ok(());
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let env: HashMap<&str, String> = HashMap::from([
        ("APP_ENV", "local".to_owned()),
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", format!("sqlite://{}/bench.db", dir.display())),
        ("RATE_LIMIT_PER_MINUTE", "1000000".to_owned()),
        ("RATE_LIMIT_BURST", "1000000".to_owned()),
    ]);
    let settings = Settings::from_lookup(|k| env.get(k).cloned())?;
    let stack = LocalStack::start(StackOptions {
        management: ManagementPath::InProcess,
        backend: settings.clone(),
        emulator_addr: "127.0.0.1:0".parse()?,
        emulator: EmulatorConfig::default(),
        records: ConnectionRecords::InMemory,
        max_frame_bytes: 32 * 1024,
        backend_timeout: Duration::from_secs(10),
    })
    .await?;
    let url = format!("{}?booking_id=1", stack.ws_url);
    let tokens = [
        auth::mint_token(&settings.jwt, "alice", Duration::from_secs(3600))?,
        auth::mint_token(&settings.jwt, "bob", Duration::from_secs(3600))?,
    ];

    println!("Broadcast through the local stack: {MESSAGES} messages per row, sent one after another;");
    println!("latency = from send until every connection of the booking has the message.\n");
    println!(
        "{:>11} {:>9} {:>9} {:>9} {:>9} {:>12} {:>14}",
        "connections", "p50 ms", "p95 ms", "p99 ms", "max ms", "messages/s", "deliveries/s"
    );
    let mut clients: Vec<Client> = Vec::new();
    for target in [2usize, 10, 50, 200] {
        while clients.len() < target {
            clients.push(connect(&url, &tokens[clients.len() % 2]).await?);
        }
        let mut latencies = Vec::with_capacity(MESSAGES);
        let started = Instant::now();
        for n in 0..MESSAGES {
            let body = format!("bench-{target}-{n}");
            let frame = serde_json::json!({"action": "send_message", "data": {"body": body, "client_message_id": body}});
            let sent = Instant::now();
            clients[0].send(Message::Text(frame.to_string().into())).await?;
            let receivers = clients.iter_mut().map(|client| receive(client, &body));
            for result in futures_util::future::join_all(receivers).await {
                result?;
            }
            latencies.push(sent.elapsed());
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort();
        println!(
            "{:>11} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>12.0} {:>14.0}",
            target,
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.95),
            percentile(&latencies, 0.99),
            percentile(&latencies, 1.0),
            MESSAGES as f64 / elapsed,
            (MESSAGES * target) as f64 / elapsed,
        );
    }
    if let Some(rss) = peak_rss_mib() {
        println!(
            "\npeak resident memory of the whole stack (backend, emulator, Lambda, 200 clients): {rss:.1} MiB"
        );
    }
    drop(clients);
    stack.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("chat-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
