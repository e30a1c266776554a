//! `chat-memory` (part of `make bench`): the resident memory of `chat-dev` (the `make dev` binary, built
//! in release) before, during and after a load: many connections over many bookings, thousands of
//! messages. Prints numbers; asserts nothing. The figure that matters is the last one: memory once the
//! load has stopped and the clients have gone should come back near where it started.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chat_backend::domain::{Booking, BookingStatus};
use chat_backend::store::sql::SqlStore;
use dev_stack::measure::{connect, status_mib};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const BOOKINGS: i64 = 100;
const CONNECTIONS_PER_BOOKING: usize = 10;
const MESSAGES_PER_BOOKING: usize = 100;
/// Rounds of load (`CHAT_MEMORY_ROUNDS` for more): in a run of seven the ends rose over the first three
/// (44.3, 46.4, 46.7 MiB) and then held at 46.7 to 46.8 MiB, so three rounds tell a leak from caches
/// warming up.
const ROUNDS: usize = 3;

fn rounds() -> anyhow::Result<usize> {
    match std::env::var("CHAT_MEMORY_ROUNDS") {
        Ok(value) => value.parse().with_context(|| format!("CHAT_MEMORY_ROUNDS={value:?} is not a number")),
        Err(_) => Ok(ROUNDS),
    }
}

fn rss_mib(pid: u32) -> Option<f64> {
    status_mib(pid, "VmRSS")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

struct Stack(Child);

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn token(user: &str) -> anyhow::Result<String> {
    Ok(chat_wire::token::mint_local(chat_backend::config::LOCAL_JWT_SECRET, user, Duration::from_secs(3600))?)
}

/// What one round of load measured.
struct Round {
    connected: f64,
    peak: f64,
    after_load: f64,
    after_close: f64,
    delivered: usize,
    expected: usize,
    duration: Duration,
}

/// Connects every client, sends every message (one sender per booking, each waiting for its own copy
/// before the next), waits for every delivery, then closes every client; samples `pid`'s memory.
async fn load(url: &str, pid: u32) -> anyhow::Result<Round> {
    let delivered = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    let mut readers = Vec::new();
    for b in 0..BOOKINGS {
        let booking_url = format!("{url}?booking_id={}", 1000 + b);
        for n in 0..CONNECTIONS_PER_BOOKING {
            let user = if n % 2 == 0 { format!("owner{b}") } else { format!("renter{b}") };
            let client = connect(&booking_url, &token(&user)?).await?;
            if n == 0 {
                senders.push(client);
            } else {
                let delivered = delivered.clone();
                readers.push(tokio::spawn(async move {
                    let mut client = client;
                    while let Some(Ok(message)) = client.next().await {
                        if matches!(&message, Message::Text(t) if t.contains("\"type\":\"message\"")) {
                            delivered.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }));
            }
        }
    }
    let connected = rss_mib(pid).unwrap_or(0.0);
    let mut peak = connected;
    let started = Instant::now();
    let sending = senders.into_iter().enumerate().map(|(b, mut client)| async move {
        for n in 0..MESSAGES_PER_BOOKING {
            let id = format!("m{b}-{n}-{}", started.elapsed().as_nanos());
            let frame = serde_json::json!({"action": "send_message", "data": {"body": format!("load {id}"), "client_message_id": id}});
            client.send(Message::Text(frame.to_string().into())).await?;
            let wanted = format!("\"client_message_id\":\"{id}\"");
            loop {
                let message = tokio::time::timeout(Duration::from_secs(30), client.next())
                    .await
                    .context("no acknowledgement within 30 s")?
                    .context("closed")??;
                if matches!(&message, Message::Text(t) if t.contains(&wanted)) {
                    break;
                }
            }
        }
        anyhow::Ok(client)
    });
    let all = futures_util::future::join_all(sending);
    tokio::pin!(all);
    let clients = loop {
        tokio::select! {
            done = &mut all => break done,
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                peak = peak.max(rss_mib(pid).unwrap_or(0.0));
            }
        }
    };
    let mut senders = clients.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let expected = BOOKINGS as usize * MESSAGES_PER_BOOKING * (CONNECTIONS_PER_BOOKING - 1);
    while delivered.load(Ordering::Relaxed) < expected && started.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let duration = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_load = rss_mib(pid).unwrap_or(0.0);
    for client in &mut senders {
        let _ = client.close(None).await;
    }
    drop(senders);
    for reader in readers {
        reader.abort();
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    Ok(Round {
        connected,
        peak,
        after_load,
        after_close: rss_mib(pid).unwrap_or(0.0),
        delivered: delivered.load(Ordering::Relaxed),
        expected,
        duration,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let chat_dev = std::env::current_exe()?.with_file_name("chat-dev");
    if !chat_dev.exists() {
        bail!("{} is missing: build it with cargo build --release -p dev-stack", chat_dev.display());
    }
    let dir = std::env::temp_dir().join(format!("chat-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let database_url = format!("sqlite://{}/chat.db", dir.display());
    let (backend_port, emulator_port) = (free_port()?, free_port()?);
    let child = Command::new(&chat_dev)
        .env("APP_ENV", "local")
        .env("BIND_ADDR", format!("127.0.0.1:{backend_port}"))
        .env("EMULATOR_BIND_ADDR", format!("127.0.0.1:{emulator_port}"))
        .env("DATABASE_URL", &database_url)
        .env("EVENTS_FILE", dir.join("events.jsonl"))
        .env("RATE_LIMIT_PER_MINUTE", "1000000")
        .env("RATE_LIMIT_BURST", "1000000")
        .env("LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting chat-dev")?;
    let pid = child.id();
    let _stack = Stack(child);
    let ready = format!("http://127.0.0.1:{backend_port}/readyz");
    let started = Instant::now();
    while !reqwest::get(&ready).await.is_ok_and(|r| r.status().is_success()) {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("chat-dev did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let store = SqlStore::connect(&database_url, 2).await?;
    for b in 0..BOOKINGS {
        store
            .insert_booking_if_absent(&Booking {
                id: 1000 + b,
                owner_id: format!("owner{b}"),
                renter_id: format!("renter{b}"),
                title: format!("booking {b}"),
                status: BookingStatus::Confirmed,
                chat: Default::default(),
            })
            .await?;
    }
    let idle = rss_mib(pid).unwrap_or(0.0);
    let url = format!("ws://127.0.0.1:{emulator_port}/local");
    let messages = BOOKINGS as usize * MESSAGES_PER_BOOKING;
    let rounds = rounds()?;
    println!(
        "chat-dev resident memory: {} connections over {BOOKINGS} bookings, {messages} messages, {rounds} \
         times (the first rounds warm caches up; ends that keep rising round after round would be a leak):",
        BOOKINGS as usize * CONNECTIONS_PER_BOOKING,
    );
    println!("  {:<36} {idle:>7.1} MiB", "started, idle");
    for round in 1..=rounds {
        let r = load(&url, pid).await?;
        println!(
            "  round {round}: {} of {} deliveries in {:.1} s",
            r.delivered,
            r.expected,
            r.duration.as_secs_f64()
        );
        println!("  {:<36} {:>7.1} MiB", "  all clients connected", r.connected);
        println!("  {:<36} {:>7.1} MiB", "  peak during the load", r.peak);
        println!("  {:<36} {:>7.1} MiB", "  load over, clients connected", r.after_load);
        println!("  {:<36} {:>7.1} MiB", "  clients gone, 10 s later", r.after_close);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
