//! Sections 1, 2 and 4: AWS calls per event, per-message latency by path, fan-out width.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chat_connections::metering::AwsCalls;
use dev_stack::measure::{machine, receive};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

use crate::setup::{
    self, Adapters, broadcast, clients, fresh_table, in_process, moto_sdk, percentile, tokens,
};

/// Waits until `check` holds (an asynchronous effect, such as a `$disconnect`'s delete), up to 10 s.
async fn until(mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn describe(calls: &AwsCalls, per: u64) -> String {
    let counts = calls.snapshot();
    if counts.is_empty() {
        return "none".into();
    }
    counts
        .iter()
        .map(|(operation, n)| {
            let each = *n as f64 / per as f64;
            if each.fract() == 0.0 { format!("{each} {operation}") } else { format!("{each:.2} {operation}") }
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Section 1: the calls each event makes through the real adapters.
pub(crate) async fn aws_calls() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sdk = moto_sdk();
    let calls = AwsCalls::default();
    let adapters = Adapters::Aws { calls: calls.clone(), table: fresh_table(&sdk).await? };
    let stack = in_process(&adapters, dir.path()).await?;
    let settings = setup::backend_settings(dir.path())?;
    let tokens = tokens(&settings)?;

    println!("1. AWS calls per event, through the real adapters (DynamoDB on moto, the Management API");
    println!("   over HTTP with the AWS SDK); counted by an SDK interceptor, the same in every run.");
    let rounds = 20u64;
    calls.reset();
    let mut pair = clients(&stack.ws_url, &tokens, 2).await?;
    println!("{:>34}: {}", "connect ($connect authorizer)", describe(&calls, 2));

    calls.reset();
    setup::broadcast(&mut pair, rounds as usize, "calls").await?;
    let reads = calls.items_read() as f64 / rounds as f64;
    println!("{:>34}: {} (items read: {reads})", "message to a booking of 2", describe(&calls, rounds));

    calls.reset();
    for n in 0..rounds {
        let ping = serde_json::json!({"action": "ping", "request_id": format!("ping-{n}")});
        pair[0].send(Message::Text(ping.to_string().into())).await?;
        receive(&mut pair[0], &format!("ping-{n}")).await?;
    }
    println!("{:>34}: {}", "answer to the sender only (ping)", describe(&calls, rounds));

    calls.reset();
    let mut bob = pair.pop().context("two clients")?;
    bob.close(None).await?;
    until(|| calls.of("DeleteItem") >= 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    println!("{:>34}: {}", "disconnect", describe(&calls, 1));
    println!(
        "   No GetItem, no transaction: the $connect authorizer's context carries the booking and user.\n"
    );
    let units = dev_stack::measure::message_units(&sdk, &settings).await?;
    println!("   The backend's store on DynamoDB, in request units by AWS's billing rules (item sizes):");
    for (what, bill) in [
        ("message, client_message_id", units.keyed),
        ("message, no client_message_id", units.plain),
        ("read that moves nothing", units.receipt),
    ] {
        println!("{what:>34}: {} write, {} read units", bill.write_units, bill.read_units);
    }
    println!();
    drop(pair);
    stack.stop().await;
    Ok(())
}

fn row(path: &str, latencies: &[Duration], rate: f64, baseline: Option<f64>) -> f64 {
    let p50 = percentile(latencies, 0.5);
    let ratio = baseline.map_or_else(|| "1.00".to_owned(), |b| format!("{:.2}", p50 / b));
    println!(
        "{path:>44} {p50:>8.2} {:>8.2} {:>8.2} {:>8.2} {rate:>10.0} {ratio:>7}",
        percentile(latencies, 0.95),
        percentile(latencies, 0.99),
        percentile(latencies, 1.0),
    );
    p50
}

/// Section 2: one booking of two connections, `messages` messages one after another, through each path.
pub(crate) async fn latency_by_path(binary: &Path, messages: usize) -> anyhow::Result<()> {
    println!("2. Per-message latency by path: booking of 2 connections, {messages} messages sent one after");
    println!("   another; from send until both connections have it. Loopback: our code and moto's, not AWS.");
    println!("   ({})", machine());
    println!(
        "{:>44} {:>8} {:>8} {:>8} {:>8} {:>10} {:>7}",
        "path", "p50 ms", "p95 ms", "p99 ms", "max ms", "msgs/s", "×p50"
    );

    let dir = tempfile::tempdir()?;
    let stack = in_process(&Adapters::InMemory, dir.path()).await?;
    let tokens = tokens(&setup::backend_settings(dir.path())?)?;
    let mut pair = clients(&stack.ws_url, &tokens, 2).await?;
    let (latencies, rate) = broadcast(&mut pair, messages, "memory").await?;
    let baseline = row("in-process Lambda, records in memory", &latencies, rate, None);
    drop(pair);
    stack.stop().await;

    let dir = tempfile::tempdir()?;
    let adapters = Adapters::Aws { calls: AwsCalls::default(), table: fresh_table(&moto_sdk()).await? };
    let stack = in_process(&adapters, dir.path()).await?;
    let mut pair = clients(&stack.ws_url, &tokens, 2).await?;
    let (latencies, rate) = broadcast(&mut pair, messages, "moto").await?;
    row("in-process Lambda, moto + Management API", &latencies, rate, Some(baseline));
    drop(pair);
    stack.stop().await;

    let dir = tempfile::tempdir()?;
    match setup::compiled(&setup::Launcher::default(), binary, dir.path()).await {
        Ok(compiled) => {
            let mut pair = clients(&compiled.ws_url, &compiled.tokens, 2).await?;
            let (latencies, rate) = broadcast(&mut pair, messages, "compiled").await?;
            row("compiled bootstrap (Runtime API), moto + MgmtAPI", &latencies, rate, Some(baseline));
        }
        Err(error) => println!("{:>44} not measured: {error:#}", "compiled bootstrap"),
    }
    println!("   ×p50: the row's median over the first row's, in this run.\n");
    Ok(())
}

/// Section 4: one booking with more and more connections (records in memory).
pub(crate) async fn fanout_width(messages: usize) -> anyhow::Result<()> {
    println!(
        "4. Fan-out width: one booking, records in memory, {messages} messages per row; from send until"
    );
    println!("   every connection has the message. ({})", machine());
    println!(
        "{:>11} {:>8} {:>8} {:>8} {:>8} {:>10} {:>12}",
        "connections", "p50 ms", "p95 ms", "p99 ms", "max ms", "msgs/s", "deliveries/s"
    );
    let dir = tempfile::tempdir()?;
    let stack = in_process(&Adapters::InMemory, dir.path()).await?;
    let tokens = tokens(&setup::backend_settings(dir.path())?)?;
    let mut all = Vec::new();
    for width in [2usize, 10, 50, 200] {
        all.extend(clients(&stack.ws_url, &tokens, width - all.len()).await?);
        let (latencies, rate) = broadcast(&mut all, messages, &format!("width-{width}")).await?;
        println!(
            "{width:>11} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {rate:>10.0} {:>12.0}",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.95),
            percentile(&latencies, 0.99),
            percentile(&latencies, 1.0),
            rate * width as f64,
        );
    }
    println!();
    drop(all);
    stack.stop().await;
    Ok(())
}
